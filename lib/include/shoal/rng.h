/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Per-task random number generators.
 *
 * Every task gets its own GSL generator keyed by (run seed, task index), so
 * a task draws the same numbers whichever rank runs it and in whatever order:
 * results never depend on the rank count. The default type is Philox4x64-10
 * (Random123), a counter-based generator: keying it is setting two words, and
 * streams of different keys are independent. Its doubles (gsl_rng_uniform)
 * have 53 random bits; gsl_rng_get still gives 32-bit words. Philox4x32-10,
 * the default before, is kept by name for files written with it: its doubles
 * have 32 bits (a 2^-32 grid). Any GSL generator can be chosen instead (by
 * name, as in GSL_RNG_TYPE); it is then seeded with a 64-bit hash of (seed,
 * task) folded to the generator's seed width, so distinct tasks can share a
 * stream with small probability (mt19937 takes 32 bits): Philox has no such
 * risk and is recommended. */
#ifndef SHOAL_RNG_H
#define SHOAL_RNG_H

#include <shoal/export.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Philox4x64-10 as a gsl_rng type, "philox4x64", the default: block b of
 * (seed, task) is philox4x64(ctr = {task, b, 0, 0}, key = {seed, 0}), read
 * as 32-bit words, low half of each 64-bit output first. gsl_rng_get returns
 * the next word (gsl_rng_max is 2^32 - 1); gsl_rng_uniform takes the next
 * two, lo and hi, and returns the top 53 bits of hi * 2^32 + lo over 2^53:
 * a multiple of 2^-53 in [0, 1), never 1 (gsl_rng_uniform_pos never 0).
 * Up to 2^64 * 4 doubles per key. gsl_rng_set on it keys it with (seed, 0);
 * use shoal_rng_key for (seed, task). */
SHOAL_API extern const gsl_rng_type *shoal_rng_philox4x64;

/* Philox4x32-10, "philox4x32", the default until doubles became 53-bit and
 * unchanged since: block b is philox4x32(ctr = {task lo, task hi, b lo, b
 * hi}, key = {seed lo, seed hi}), words v[0]..v[3]; a double is one word
 * over 2^32. Up to 2^64 * 4 draws per key. Use it to reproduce or resume a
 * file written with it; Shoal's random scan designs draw from it. */
SHOAL_API extern const gsl_rng_type *shoal_rng_philox4x32;

/* Find a generator type by name: "philox4x64", "philox4x32" or any name in
 * gsl_rng_types_setup() ("mt19937", "ranlxd2", ...). SHOAL_ENOTFOUND with a
 * message listing a few valid names otherwise. */
SHOAL_API int shoal_rng_type_find(const char *name, const gsl_rng_type **out);

/* Seeds must be in 1..2^63-1: GSL treats 0 as "use the default seed" for
 * several generators, which would silently alias two runs. */
SHOAL_API int shoal_rng_check_seed(uint64_t seed);

/* Key r for (seed, task): for the two Philox types, exactly (key = seed,
 * counter = task) as above, the stream at its start; for other types,
 * gsl_rng_set with a nonzero 64-bit mix of both. */
SHOAL_API void shoal_rng_key(gsl_rng *r, uint64_t seed, uint64_t task);

/* The 64-bit mixing function used for non-Philox types (splitmix64-based). */
SHOAL_API uint64_t shoal_rng_mix(uint64_t seed, uint64_t task);

#ifdef __cplusplus
}
#endif

#endif
