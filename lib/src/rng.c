/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rng.c: per-task generators keyed by (seed, task).
 *
 * Two counter-based generators from Random123 wrapped as gsl_rng types,
 * after Random123's own GSL adapter (Random123/gsl_microrng.h) with one
 * change: that adapter keeps its draw counter in one 32-bit counter word and
 * so repeats after 4 * 2^32 draws, which a long Monte Carlo task can reach
 * (mc_pi with 10^10 samples draws 2 * 10^10 numbers). Here the counter holds
 * the task and a 64-bit block number and the key holds the seed: a task may
 * draw 2^66 numbers before its stream would repeat, and distinct (seed,
 * task) pairs never share blocks.
 *
 * philox4x64 (the default) gives 53-bit doubles. philox4x32, the default
 * until then, made each double from one 32-bit word, a 2^-32 grid: a test
 * u < p with p below 2^-32 passed with probability 2^-32, not p, and every
 * distribution built on gsl_rng_uniform inherited the grid. (GSL's ziggurat
 * normals take their 24-bit layer position from a gsl_rng_get word, which
 * stays 32-bit; only their wedge and tail draws gain.) Two philox4x32 words
 * per double would have cost mc_pi about half its speed; one Philox4x64-10
 * block costs about what a Philox4x32-10 block does and gives four 64-bit
 * words. philox4x32 is kept, unchanged, so that files written with it can
 * be reproduced and resumed (their rng attribute and fingerprint name it),
 * and it still draws the random scan designs (scan_design.c).
 *
 * Stream definitions (stable across releases; results files depend on
 * them). They changed once: the default went from philox4x32 to philox4x64
 * for 53-bit doubles; philox4x32 itself did not change.
 *
 *   philox4x64: block b of task i under seed s is philox4x64_10(ctr = {i, b,
 *   0, 0}, key = {s, 0}). The stream is a sequence of 32-bit words, each
 *   block giving v[0] low half, v[0] high half, v[1] low, ..., v[3] high.
 *   gsl_rng_get returns the next word; a double takes the next two words
 *   lo, hi and is ((hi * 2^32 + lo) >> 11) / 2^53, in [0, 1 - 2^-53]. Drawn
 *   only as doubles, the stream is therefore one 64-bit word per double,
 *   v[0] to v[3] in turn; a gsl_rng_get in between shifts it by half a word.
 *
 *   philox4x32: block b of task i under seed s is philox4x32_10(ctr = {i_lo,
 *   i_hi, b_lo, b_hi}, key = {s_lo, s_hi}); words come out as v[0], v[1],
 *   v[2], v[3]; a double is one word / 2^32. */
#include <shoal/error.h>
#include <shoal/rng.h>

#include <Random123/philox.h>

#include <string.h>

/* ---- philox4x64: the default ------------------------------------------------------ */

typedef struct {
    philox4x64_ctr_t ctr; /* {task, block, 0, 0} */
    philox4x64_key_t key; /* {seed, 0} */
    philox4x64_ctr_t out; /* current block */
    unsigned used;        /* 32-bit halves of `out` already returned (8: none left) */
} philox64_state;

/* Out of line: the draw functions stay small and the block, which is
 * needed once every four doubles, is computed in one place. */
static void philox64_next_block(philox64_state *st) __attribute__((noinline));
static void philox64_next_block(philox64_state *st)
{
    st->out = philox4x64(st->ctr, st->key);
    ++st->ctr.v[1];
    st->used = 0;
}

static unsigned long philox64_get(void *vstate)
{
    philox64_state *st = vstate;
    if (__builtin_expect(st->used == 8, 0))
        philox64_next_block(st);
    unsigned h = st->used++;
    return (uint32_t)(st->out.v[h >> 1] >> (32 * (h & 1)));
}

/* A double off the fast path: the block is used up, or a gsl_rng_get left
 * the stream in the middle of a 64-bit word. */
static double philox64_get_double_slow(philox64_state *st) __attribute__((noinline));
static double philox64_get_double_slow(philox64_state *st)
{
    uint64_t w;
    if (st->used == 8) {
        philox64_next_block(st);
        w = st->out.v[0];
        st->used = 2;
    } else {
        uint64_t lo = philox64_get(st);
        w = lo | (uint64_t)philox64_get(st) << 32;
    }
    return (double)(w >> 11) * 0x1p-53;
}

static double philox64_get_double(void *vstate)
{
    philox64_state *st = vstate;
    unsigned h = st->used;
    /* h & 9 is 0 for h = 0, 2, 4, 6: at a whole word of the current block,
     * whose two halves make the double. One test keeps this path short. */
    if (__builtin_expect(h & 9, 0))
        return philox64_get_double_slow(st);
    st->used = h + 2;
    return (double)(st->out.v[h >> 1] >> 11) * 0x1p-53;
}

static void philox64_reset(philox64_state *st, uint64_t seed, uint64_t task)
{
    st->key.v[0] = seed;
    st->key.v[1] = 0;
    st->ctr.v[0] = task;
    st->ctr.v[1] = 0;
    st->ctr.v[2] = 0;
    st->ctr.v[3] = 0;
    st->used = 8;
}

static void philox64_set(void *vstate, unsigned long s)
{
    philox64_reset(vstate, (uint64_t)s, 0);
}

static const gsl_rng_type philox64_type = {
    "philox4x64",       /* name */
    0xffffffffUL,       /* max: gsl_rng_get gives 32-bit words */
    0,                  /* min */
    sizeof(philox64_state),
    &philox64_set,
    &philox64_get,
    &philox64_get_double,
};

const gsl_rng_type *shoal_rng_philox4x64 = &philox64_type;

/* ---- philox4x32: the default before 53-bit doubles, unchanged --------------------- */

typedef struct {
    philox4x32_ctr_t ctr; /* {task lo, task hi, block lo, block hi} */
    philox4x32_key_t key; /* {seed lo, seed hi} */
    philox4x32_ctr_t out; /* current block */
    unsigned used;        /* words of `out` already returned (4: none left) */
} philox_state;

static inline void philox_next_block(philox_state *st)
{
    st->out = philox4x32(st->ctr, st->key);
    if (++st->ctr.v[2] == 0)
        ++st->ctr.v[3];
    st->used = 0;
}

static unsigned long philox_get(void *vstate)
{
    philox_state *st = vstate;
    if (st->used == 4)
        philox_next_block(st);
    return st->out.v[st->used++];
}

static double philox_get_double(void *vstate)
{
    return (double)philox_get(vstate) / 4294967296.0;
}

static void philox_reset(philox_state *st, uint64_t seed, uint64_t task)
{
    st->key.v[0] = (uint32_t)seed;
    st->key.v[1] = (uint32_t)(seed >> 32);
    st->ctr.v[0] = (uint32_t)task;
    st->ctr.v[1] = (uint32_t)(task >> 32);
    st->ctr.v[2] = 0;
    st->ctr.v[3] = 0;
    st->used = 4;
}

static void philox_set(void *vstate, unsigned long s)
{
    philox_reset(vstate, (uint64_t)s, 0);
}

static const gsl_rng_type philox_type = {
    "philox4x32",       /* name */
    0xffffffffUL,       /* max */
    0,                  /* min */
    sizeof(philox_state),
    &philox_set,
    &philox_get,
    &philox_get_double,
};

const gsl_rng_type *shoal_rng_philox4x32 = &philox_type;

/* ---- lookup and keying ------------------------------------------------------------ */

static const gsl_rng_type *const own_types[] = {&philox64_type, &philox_type};

int shoal_rng_type_find(const char *name, const gsl_rng_type **out)
{
    *out = NULL;
    for (size_t i = 0; i < sizeof own_types / sizeof own_types[0]; i++) {
        if (!strcmp(name, own_types[i]->name)) {
            *out = own_types[i];
            return 0;
        }
    }
    for (const gsl_rng_type **t = gsl_rng_types_setup(); *t; t++) {
        if (!strcmp((*t)->name, name)) {
            *out = *t;
            return 0;
        }
    }
    return SHOAL_ERROR(SHOAL_ENOTFOUND,
                       "unknown random number generator '%s'; use philox4x64 "
                       "(default), philox4x32 (the default before 53-bit "
                       "doubles) or a GSL generator such as mt19937, "
                       "ranlxd2, taus2",
                       name);
}

int shoal_rng_check_seed(uint64_t seed)
{
    if (seed == 0 || seed > (uint64_t)INT64_MAX)
        return SHOAL_ERROR(SHOAL_ERANGE,
                           "seed %llu is not allowed: use 1 to 2^63-1 (GSL "
                           "treats seed 0 as its default seed, so two runs "
                           "could silently share streams)",
                           (unsigned long long)seed);
    return 0;
}

uint64_t shoal_rng_mix(uint64_t seed, uint64_t task)
{
    /* splitmix64 finaliser over a combination of both words; never 0. */
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + task;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    z += task * 0xD1B54A32D192ED03ull;
    z = (z ^ (z >> 29)) * 0xBF58476D1CE4E5B9ull;
    z ^= z >> 32;
    return z ? z : 0x9E3779B97F4A7C15ull;
}

void shoal_rng_key(gsl_rng *r, uint64_t seed, uint64_t task)
{
    if (r->type == &philox64_type) {
        philox64_reset(r->state, seed, task);
        return;
    }
    if (r->type == &philox_type) {
        philox_reset(r->state, seed, task);
        return;
    }
    /* GSL folds the seed to its own width; keep the low bits nonzero so the
     * "0 means default" rule never applies. */
    uint64_t s = shoal_rng_mix(seed, task);
    unsigned long ul = (unsigned long)s;
    if ((ul & 0xffffffffUL) == 0)
        ul |= 1;
    gsl_rng_set(r, ul);
}
