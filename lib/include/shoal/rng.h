/* Per-task random number generators.
 *
 * Every task gets its own GSL generator keyed by (run seed, task index), so
 * a task draws the same numbers whichever rank runs it and in whatever order:
 * results never depend on the rank count. The default type is Philox4x32-10
 * (Random123), a counter-based generator: keying it is setting two words, and
 * streams of different keys are independent. Any GSL generator can be chosen
 * instead (by name, as in GSL_RNG_TYPE); it is then seeded with a 64-bit hash
 * of (seed, task) folded to the generator's seed width, so distinct tasks can
 * share a stream with small probability (mt19937 takes 32 bits): Philox has
 * no such risk and is recommended. */
#ifndef SHOAL_RNG_H
#define SHOAL_RNG_H

#include <shoal/export.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>

/* Philox4x32-10 as a gsl_rng type: up to 2^64 * 4 draws per key. gsl_rng_set
 * on it keys it with (seed, 0); use shoal_rng_key for (seed, task). */
SHOAL_API extern const gsl_rng_type *shoal_rng_philox4x32;

/* Find a generator type by name: "philox4x32" or any name in
 * gsl_rng_types_setup() ("mt19937", "ranlxd2", ...). SHOAL_ENOTFOUND with a
 * message listing a few valid names otherwise. */
SHOAL_API int shoal_rng_type_find(const char *name, const gsl_rng_type **out);

/* Seeds must be in 1..2^63-1: GSL treats 0 as "use the default seed" for
 * several generators, which would silently alias two runs. */
SHOAL_API int shoal_rng_check_seed(uint64_t seed);

/* Key r for (seed, task): for Philox, exactly (key=seed, counter=task); for
 * other types, gsl_rng_set with a nonzero 64-bit mix of both. */
SHOAL_API void shoal_rng_key(gsl_rng *r, uint64_t seed, uint64_t task);

/* The 64-bit mixing function used for non-Philox types (splitmix64-based). */
SHOAL_API uint64_t shoal_rng_mix(uint64_t seed, uint64_t task);

#endif
