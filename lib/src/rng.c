/* rng.c: per-task generators keyed by (seed, task).
 *
 * Philox4x32-10 from Random123 wrapped as a gsl_rng type. This follows
 * Random123's own GSL adapter (Random123/gsl_microrng.h) with one change:
 * that adapter keeps its draw counter in one 32-bit counter word and so
 * repeats after 4 * 2^32 draws, which a long Monte Carlo task can reach
 * (mc_pi with 10^10 samples draws 2 * 10^10 numbers). Here the counter is
 * (task lo, task hi, draw lo, draw hi) and the key is (seed lo, seed hi):
 * the block counter is 64-bit, so a task may draw 2^66 numbers before its
 * stream would repeat, and distinct (seed, task) pairs never share blocks.
 *
 * Stream definition (stable across releases; results files depend on it):
 * block b of task i under seed s is philox4x32_10(ctr = {i_lo, i_hi, b_lo,
 * b_hi}, key = {s_lo, s_hi}); draws come out as v[0], v[1], v[2], v[3]. */
#include <shoal/error.h>
#include <shoal/rng.h>

#include <Random123/philox.h>

#include <string.h>

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

int shoal_rng_type_find(const char *name, const gsl_rng_type **out)
{
    *out = NULL;
    if (!strcmp(name, philox_type.name)) {
        *out = &philox_type;
        return 0;
    }
    for (const gsl_rng_type **t = gsl_rng_types_setup(); *t; t++) {
        if (!strcmp((*t)->name, name)) {
            *out = *t;
            return 0;
        }
    }
    return SHOAL_ERROR(SHOAL_ENOTFOUND,
                       "unknown random number generator '%s'; use philox4x32 "
                       "(default) or a GSL generator such as mt19937, "
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
