/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_rng.c: per-task generators (rng.h).
 *
 * The default Philox4x64-10 gsl_rng type keyed by shoal_rng_key(r, seed,
 * task) is exactly Random123's philox4x64() with counter {task, block, 0, 0}
 * and key {seed, 0}: gsl_rng_get gives the 32-bit halves of v[0..3], low
 * first, and a double the top 53 bits of the next two halves. Its doubles
 * have 53-bit resolution, lie in [0, 1) (uniform_pos in (0, 1)), and depend
 * only on (seed, task), not on the order tasks are keyed in. The
 * Philox4x32-10 type (the default before) is still exactly Random123's
 * philox4x32() with counter {task lo, task hi, block lo, block hi} and key
 * {seed lo, seed hi}, words out as v[0..3], doubles on the 2^-32 grid. Both
 * match the Random123 known-answer vectors, are reproducible, differ across
 * tasks and seeds, and work under GSL's distributions. Also: seed checking,
 * type lookup by name, keying of other GSL types (mt19937, ranlxd2) through
 * shoal_rng_mix, and properties of the mix itself. */
#include <shoal/error.h>
#include <shoal/rng.h>

#include <Random123/philox.h>
#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a recording error handler ---------------------------------------------------- */

static char last_msg[4096];
static int last_code;
static int nerrors;

static void record(const char *reason, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    snprintf(last_msg, sizeof last_msg, "%s", reason);
    last_code = code;
    nerrors++;
}

static void setup(void)
{
    last_msg[0] = '\0';
    last_code = 0;
    nerrors = 0;
    shoal_set_error_handler(record);
}

static void teardown(void) { shoal_set_error_handler(NULL); }

/* ---- helpers ------------------------------------------------------------------------- */

static gsl_rng *philox_keyed(uint64_t seed, uint64_t task)
{
    gsl_rng *r = gsl_rng_alloc(shoal_rng_philox4x32);
    ck_assert_ptr_nonnull(r);
    shoal_rng_key(r, seed, task);
    return r;
}

/* The reference: block `b` of (seed, task), straight from Random123. */
static philox4x32_ctr_t reference_block(uint64_t seed, uint64_t task,
                                        uint64_t b)
{
    philox4x32_ctr_t ctr = {{(uint32_t)task, (uint32_t)(task >> 32),
                             (uint32_t)b, (uint32_t)(b >> 32)}};
    philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    return philox4x32(ctr, key);
}

static gsl_rng *philox64_keyed(uint64_t seed, uint64_t task)
{
    gsl_rng *r = gsl_rng_alloc(shoal_rng_philox4x64);
    ck_assert_ptr_nonnull(r);
    shoal_rng_key(r, seed, task);
    return r;
}

/* The reference for the default: block `b` of (seed, task). */
static philox4x64_ctr_t reference_block64(uint64_t seed, uint64_t task,
                                          uint64_t b)
{
    philox4x64_ctr_t ctr = {{task, b, 0, 0}};
    philox4x64_key_t key = {{seed, 0}};
    return philox4x64(ctr, key);
}

/* Half h (0..7) of a block as gsl_rng_get returns it: low half first. */
static unsigned long half_of(philox4x64_ctr_t v, unsigned h)
{
    return (unsigned long)(uint32_t)(v.v[h / 2] >> (32 * (h % 2)));
}

/* The double made of the 64-bit word lo + 2^32 hi. */
static double double_of(uint64_t w) { return (double)(w >> 11) * 0x1p-53; }

static void draw(gsl_rng *r, unsigned long *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = gsl_rng_get(r);
}

static int same_stream(gsl_rng *a, gsl_rng *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (gsl_rng_get(a) != gsl_rng_get(b))
            return 0;
    return 1;
}

/* Number of equal outputs at equal positions over n draws: two unrelated
 * 32-bit streams agree about n / 2^32 times, so 0 or at most 1. */
static size_t agreements(gsl_rng *a, gsl_rng *b, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += gsl_rng_get(a) == gsl_rng_get(b);
    return k;
}

/* ---- philox4x64, the default, against Random123 ----------------------------------- */

START_TEST(test_kat64_through_generator)
{
    /* Random123 kat_vectors: philox4x64 10, ctr = 0, key = 0. */
    static const uint64_t want[4] = {0x16554d9eca36314cULL, 0xdb20fe9d672d0fdcULL,
                                     0xd7e772cee186176bULL, 0x7e68b68aec7ba23bULL};
    gsl_rng *r = philox64_keyed(0, 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(gsl_rng_get(r) == (want[i] & 0xffffffffULL), "word %d lo", i);
        ck_assert_msg(gsl_rng_get(r) == want[i] >> 32, "word %d hi", i);
    }
    /* The same block as doubles: one whole word each. */
    shoal_rng_key(r, 0, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(gsl_rng_uniform(r) == double_of(want[i]), "double %d", i);
    gsl_rng_free(r);

    /* gsl_rng_alloc keys with GSL's default seed (0) and task 0. */
    r = gsl_rng_alloc(shoal_rng_philox4x64);
    ck_assert_ptr_nonnull(r);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(gsl_rng_uniform(r) == double_of(want[i]), "alloc, double %d", i);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_kat64_reference)
{
    /* The reference itself, on the other Random123 vectors. */
    philox4x64_ctr_t ctr = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
    philox4x64_key_t key = {{UINT64_MAX, UINT64_MAX}};
    philox4x64_ctr_t v = philox4x64(ctr, key);
    ck_assert(v.v[0] == 0x87b092c3013fe90bULL && v.v[1] == 0x438c3c67be8d0224ULL);
    ck_assert(v.v[2] == 0x9cc7d7c69cd777b6ULL && v.v[3] == 0xa09caebf594f0ba0ULL);

    philox4x64_ctr_t ctr2 = {{0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL,
                              0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL}};
    philox4x64_key_t key2 = {{0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL}};
    v = philox4x64(ctr2, key2);
    ck_assert(v.v[0] == 0xa528f45403e61d95ULL && v.v[1] == 0x38c72dbd566e9788ULL);
    ck_assert(v.v[2] == 0xa5a1610e72fd18b5ULL && v.v[3] == 0x57bd43b5e52b7fe6ULL);

    philox4x64_ctr_t z = reference_block64(0, 0, 0);
    ck_assert(z.v[0] == 0x16554d9eca36314cULL && z.v[3] == 0x7e68b68aec7ba23bULL);
}
END_TEST

/* Words, then doubles, of the first blocks of (seed, task) against the
 * reference. */
static void check_against_reference64(uint64_t seed, uint64_t task)
{
    enum { BLOCKS = 7 };
    gsl_rng *r = philox64_keyed(seed, task);
    for (uint64_t b = 0; b < BLOCKS; b++) {
        philox4x64_ctr_t v = reference_block64(seed, task, b);
        for (unsigned h = 0; h < 8; h++) {
            unsigned long got = gsl_rng_get(r);
            ck_assert_msg(got == half_of(v, h),
                          "seed %#llx task %#llx block %llu half %u: got %#lx, "
                          "want %#lx",
                          (unsigned long long)seed, (unsigned long long)task,
                          (unsigned long long)b, h, got, half_of(v, h));
        }
    }
    shoal_rng_key(r, seed, task);
    for (uint64_t b = 0; b < BLOCKS; b++) {
        philox4x64_ctr_t v = reference_block64(seed, task, b);
        for (int w = 0; w < 4; w++) {
            double got = gsl_rng_uniform(r);
            ck_assert_msg(got == double_of(v.v[w]),
                          "seed %#llx task %#llx block %llu double %d: got "
                          "%.17g, want %.17g",
                          (unsigned long long)seed, (unsigned long long)task,
                          (unsigned long long)b, w, got, double_of(v.v[w]));
        }
    }
    gsl_rng_free(r);
}

START_TEST(test_matches_random123_64)
{
    check_against_reference64(0x123456789abcdefULL, (UINT64_C(1) << 40) + 7);
    check_against_reference64(0, 0);
    check_against_reference64(1, 0);
    check_against_reference64(0, 1);
    check_against_reference64(2385, 0xffffffffULL);
    check_against_reference64(0xfedcba9876543210ULL, UINT64_MAX);
    check_against_reference64(UINT64_MAX, 0x100000000ULL);
    check_against_reference64((UINT64_C(1) << 63) - 1, 4294967297ULL);
}
END_TEST

START_TEST(test_mixed_get_and_double)
{
    /* After an odd number of gsl_rng_get calls a double takes the next two
     * halves, lo then hi, across a block boundary too. Halves of blocks 0
     * and 1 in stream order: */
    const uint64_t seed = 0x5eedULL, task = 2385;
    unsigned long h[16];
    for (unsigned b = 0; b < 2; b++) {
        philox4x64_ctr_t v = reference_block64(seed, task, b);
        for (unsigned k = 0; k < 8; k++)
            h[8 * b + k] = half_of(v, k);
    }
#define PAIR(i) double_of((uint64_t)h[i] | (uint64_t)h[(i) + 1] << 32)
    gsl_rng *r = philox64_keyed(seed, task);
    ck_assert_uint_eq(gsl_rng_get(r), h[0]);
    ck_assert(gsl_rng_uniform(r) == PAIR(1));     /* halves 1, 2 */
    ck_assert(gsl_rng_uniform(r) == PAIR(3));     /* halves 3, 4 */
    ck_assert(gsl_rng_uniform(r) == PAIR(5));     /* halves 5, 6 */
    ck_assert(gsl_rng_uniform(r) == PAIR(7));     /* 7 and block 1's 0 */
    ck_assert_uint_eq(gsl_rng_get(r), h[9]);      /* aligned again */
    ck_assert(gsl_rng_uniform(r) == PAIR(10));
    ck_assert(gsl_rng_uniform_pos(r) == PAIR(12));
    ck_assert_uint_eq(gsl_rng_get(r), h[14]);
    ck_assert_uint_eq(gsl_rng_get(r), h[15]);
#undef PAIR
    gsl_rng_free(r);
}
END_TEST


/* ---- doubles of the default generator -------------------------------------------- */

enum { NDRAWS = 100000 };

/* Over n doubles from r (a gsl_rng_get before every other one when
 * `mixed`, so both ways a double is made are seen): how many are off the
 * 2^-32 grid, off the 2^-52 grid and off the 2^-53 grid. */
static void grid_counts(gsl_rng *r, int n, int mixed, int *off32, int *off52,
                        int *off53)
{
    *off32 = *off52 = *off53 = 0;
    for (int i = 0; i < n; i++) {
        if (mixed && i % 2)
            gsl_rng_get(r);
        double x = gsl_rng_uniform(r);
        *off32 += x * 0x1p32 != floor(x * 0x1p32);
        *off52 += x * 0x1p52 != floor(x * 0x1p52);
        *off53 += x * 0x1p53 != floor(x * 0x1p53);
    }
}

START_TEST(test_resolution_53_bits)
{
    /* A 32-bit double is x = k / 2^32, so x * 2^32 is an integer: over 10^5
     * draws of 53-bit doubles nearly all are not (each with chance 1 -
     * 2^-21), and about half use the last bit (x * 2^52 not an integer);
     * none is finer than 2^-53. */
    int off32, off52, off53;
    for (int mixed = 0; mixed <= 1; mixed++) {
        gsl_rng *r = philox64_keyed(20261122, 2385 + (uint64_t)mixed);
        grid_counts(r, NDRAWS, mixed, &off32, &off52, &off53);
        ck_assert_msg(off32 > NDRAWS - 10, "mixed %d: %d of %d doubles off the 2^-32 grid",
                      mixed, off32, NDRAWS);
        ck_assert_msg(off52 > NDRAWS / 3, "mixed %d: last bit used in %d of %d", mixed, off52,
                      NDRAWS);
        ck_assert_int_eq(off53, 0);
        gsl_rng_free(r);
    }
    /* The check can tell: philox4x32's doubles are all on the 2^-32 grid. */
    gsl_rng *r = philox_keyed(20261122, 2385);
    grid_counts(r, NDRAWS, 0, &off32, &off52, &off53);
    ck_assert_int_eq(off32, 0);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_unit_interval)
{
    /* The largest double the construction gives is 1 - 2^-53 < 1, the
     * smallest 0. */
    ck_assert(double_of(UINT64_MAX) < 1.0);
    ck_assert(double_of(UINT64_MAX) == 1.0 - 0x1p-53);
    ck_assert(double_of((UINT64_C(1) << 11) - 1) == 0.0);
    for (int mixed = 0; mixed <= 1; mixed++) {
        gsl_rng *r = philox64_keyed(2385, 17 + (uint64_t)mixed);
        double lo = 1, hi = 0, sum = 0;
        for (int i = 0; i < NDRAWS; i++) {
            if (mixed && i % 3 == 0)
                gsl_rng_get(r);
            double u = gsl_rng_uniform(r);
            lo = u < lo ? u : lo;
            hi = u > hi ? u : hi;
            sum += u;
        }
        ck_assert_msg(lo >= 0.0 && hi < 1.0, "range [%.17g, %.17g]", lo, hi);
        ck_assert(lo < 1e-3 && hi > 1 - 1e-3);
        ck_assert(fabs(sum / NDRAWS - 0.5) < 5 * sqrt(1.0 / 12 / NDRAWS));
        gsl_rng_free(r);
    }
}
END_TEST

START_TEST(test_uniform_pos_positive)
{
    gsl_rng *r = philox64_keyed(0x123456789abcdefULL, 99);
    int outside = 0;
    double lo = 1;
    for (int i = 0; i < NDRAWS; i++) {
        if (i % 5 == 0)
            gsl_rng_get(r);
        double u = gsl_rng_uniform_pos(r);
        outside += !(u > 0.0 && u < 1.0);
        lo = u < lo ? u : lo;
    }
    ck_assert_int_eq(outside, 0);
    ck_assert(lo > 0.0 && lo < 1e-3);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_order_independent)
{
    /* Each task's first doubles (a gsl_rng_get among them), keyed on one
     * generator in task order, in reverse, interleaved with other tasks
     * half-way through a stream, and on a fresh generator per task: the
     * same numbers every way. */
    enum { NT = 6, N = 37 }; /* N odd: ends mid-word and mid-block */
    static const uint64_t tasks[NT] = {0, 1, 2385, 0xffffffffULL, 0x100000000ULL, UINT64_MAX};
    const uint64_t seed = 987654321;
    static double want[NT][N], got[NT][N];
    gsl_rng *r = gsl_rng_alloc(shoal_rng_philox4x64);
    ck_assert_ptr_nonnull(r);
#define DRAW(i) ((i) == 5 ? (double)gsl_rng_get(r) : gsl_rng_uniform(r))
    for (int t = 0; t < NT; t++) {
        shoal_rng_key(r, seed, tasks[t]);
        for (int i = 0; i < N; i++)
            want[t][i] = DRAW(i);
    }
    for (int t = NT - 1; t >= 0; t--) {
        shoal_rng_key(r, seed, tasks[t]);
        for (int i = 0; i < N; i++)
            got[t][i] = DRAW(i);
    }
    ck_assert(memcmp(want, got, sizeof want) == 0);
    /* Interleaved: start each task, key another in between, then rekey. */
    for (int t = 0; t < NT; t++) {
        shoal_rng_key(r, seed, tasks[(t + 3) % NT]);
        for (int i = 0; i < 11; i++)
            gsl_rng_uniform(r);
        shoal_rng_key(r, seed, tasks[t]);
        for (int i = 0; i < N; i++)
            got[t][i] = DRAW(i);
    }
    ck_assert(memcmp(want, got, sizeof want) == 0);
#undef DRAW
    gsl_rng_free(r);
    for (int t = 0; t < NT; t++) {
        gsl_rng *f = philox64_keyed(seed, tasks[t]);
        for (int i = 0; i < N; i++) {
            double x = i == 5 ? (double)gsl_rng_get(f) : gsl_rng_uniform(f);
            ck_assert_msg(x == want[t][i], "task %d draw %d", t, i);
        }
        gsl_rng_free(f);
    }
    /* And the streams differ between tasks. */
    for (int t = 1; t < NT; t++)
        ck_assert(memcmp(want[t], want[0], sizeof want[0]) != 0);
}
END_TEST

START_TEST(test_streams64_differ)
{
    static const uint64_t tasks[] = {0, 1, 2, 0xffffffffULL, 0x100000000ULL,
                                     (UINT64_C(1) << 40) + 7, UINT64_MAX};
    enum { NT = sizeof tasks / sizeof tasks[0] };
    for (size_t i = 0; i < NT; i++)
        for (size_t j = 0; j < i; j++) {
            gsl_rng *a = philox64_keyed(42, tasks[i]);
            gsl_rng *b = philox64_keyed(42, tasks[j]);
            ck_assert_msg(agreements(a, b, 4000) <= 1, "tasks %zu, %zu", i, j);
            gsl_rng_free(a);
            gsl_rng_free(b);
        }
    /* Seeds, and seed and task swapped. */
    gsl_rng *a = philox64_keyed(5, 8);
    gsl_rng *b = philox64_keyed(8, 5);
    ck_assert_uint_le(agreements(a, b, 4000), 1);
    shoal_rng_key(a, 0x100000000ULL, 9);
    shoal_rng_key(b, 0x100000001ULL, 9);
    ck_assert_uint_le(agreements(a, b, 4000), 1);
    /* And the two Philox types give other streams for the same key. */
    gsl_rng *c = philox_keyed(5, 8);
    shoal_rng_key(a, 5, 8);
    ck_assert_uint_le(agreements(a, c, 4000), 1);
    gsl_rng_free(a);
    gsl_rng_free(b);
    gsl_rng_free(c);
}
END_TEST

/* ---- philox4x32 (the default before 53-bit doubles) against Random123 ------------------------------------------------------ */

START_TEST(test_kat_through_generator)
{
    /* Random123 kat_vectors: philox4x32 10, ctr = 0, key = 0. */
    static const unsigned long want[4] = {0x6627e8d5UL, 0xe169c58dUL,
                                          0xbc57ac4cUL, 0x9b00dbd8UL};
    gsl_rng *r = philox_keyed(0, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(gsl_rng_get(r) == want[i], "word %d", i);
    gsl_rng_free(r);

    /* gsl_rng_alloc keys with GSL's default seed (0) and task 0. */
    r = gsl_rng_alloc(shoal_rng_philox4x32);
    ck_assert_ptr_nonnull(r);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(gsl_rng_get(r) == want[i], "alloc, word %d", i);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_kat_reference)
{
    /* The reference itself, on the other Random123 vectors. */
    philox4x32_ctr_t ctr = {{0xffffffffu, 0xffffffffu, 0xffffffffu,
                             0xffffffffu}};
    philox4x32_key_t key = {{0xffffffffu, 0xffffffffu}};
    philox4x32_ctr_t v = philox4x32(ctr, key);
    ck_assert_uint_eq(v.v[0], 0x408f276du);
    ck_assert_uint_eq(v.v[1], 0x41c83b0eu);
    ck_assert_uint_eq(v.v[2], 0xa20bc7c6u);
    ck_assert_uint_eq(v.v[3], 0x6d5451fdu);

    philox4x32_ctr_t ctr2 = {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu,
                              0x03707344u}};
    philox4x32_key_t key2 = {{0xa4093822u, 0x299f31d0u}};
    v = philox4x32(ctr2, key2);
    ck_assert_uint_eq(v.v[0], 0xd16cfe09u);
    ck_assert_uint_eq(v.v[1], 0x94fdccebu);
    ck_assert_uint_eq(v.v[2], 0x5001e420u);
    ck_assert_uint_eq(v.v[3], 0x24126ea1u);

    /* And reference_block builds the all-zero input of the first vector. */
    philox4x32_ctr_t z = reference_block(0, 0, 0);
    ck_assert_uint_eq(z.v[0], 0x6627e8d5u);
    ck_assert_uint_eq(z.v[3], 0x9b00dbd8u);
}
END_TEST

static void check_against_reference(uint64_t seed, uint64_t task)
{
    enum { BLOCKS = 7 };
    gsl_rng *r = philox_keyed(seed, task);
    for (uint64_t b = 0; b < BLOCKS; b++) {
        philox4x32_ctr_t v = reference_block(seed, task, b);
        for (int w = 0; w < 4; w++) {
            unsigned long got = gsl_rng_get(r);
            ck_assert_msg(got == (unsigned long)v.v[w],
                          "seed %#llx task %#llx block %llu word %d: got "
                          "%#lx, want %#x",
                          (unsigned long long)seed, (unsigned long long)task,
                          (unsigned long long)b, w, got, v.v[w]);
        }
    }
    gsl_rng_free(r);
}

START_TEST(test_matches_random123)
{
    check_against_reference(0x123456789abcdefULL, (UINT64_C(1) << 40) + 7);
    check_against_reference(0, 0);
    check_against_reference(1, 0);
    check_against_reference(0, 1);
    check_against_reference(2385, 0xffffffffULL);        /* task lo all ones */
    check_against_reference(0xfedcba9876543210ULL, UINT64_MAX);
    check_against_reference(UINT64_MAX, 0x100000000ULL); /* task hi only */
    check_against_reference((UINT64_C(1) << 63) - 1, 4294967297ULL);
}
END_TEST

/* Both Philox types, for the tests that hold for each (loop index _i). */
static const gsl_rng_type *philox_type(int i)
{
    return i == 0 ? shoal_rng_philox4x32 : shoal_rng_philox4x64;
}

START_TEST(test_gsl_rng_set_is_task_zero)
{
    /* gsl_rng_set(r, s) keys (s, 0). */
    gsl_rng *a = gsl_rng_alloc(philox_type(_i));
    ck_assert_ptr_nonnull(a);
    gsl_rng_set(a, 0x9e3779b97f4a7c15UL);
    gsl_rng *b = _i == 0 ? philox_keyed(0x9e3779b97f4a7c15ULL, 0)
                         : philox64_keyed(0x9e3779b97f4a7c15ULL, 0);
    ck_assert(same_stream(a, b, 1000));
    gsl_rng_free(a);
    gsl_rng_free(b);
}
END_TEST

START_TEST(test_type_properties)
{
    gsl_rng *r = _i == 0 ? philox_keyed(77, 3) : philox64_keyed(77, 3);
    ck_assert_str_eq(gsl_rng_name(r), _i == 0 ? "philox4x32" : "philox4x64");
    ck_assert_uint_eq(gsl_rng_max(r), 0xffffffffUL);
    ck_assert_uint_eq(gsl_rng_min(r), 0);
    unsigned long hi = 0;
    for (int i = 0; i < 10000; i++) {
        unsigned long x = gsl_rng_get(r);
        hi = x > hi ? x : hi;
    }
    ck_assert_uint_le(hi, 0xffffffffUL);
    ck_assert_uint_gt(hi, 0xfff00000UL); /* the top bits are used */
    gsl_rng_free(r);
}
END_TEST

/* ---- reproducibility and independence --------------------------------------------- */

START_TEST(test_reproducible)
{
    enum { N = 4099 }; /* not a multiple of 4: ends mid-block */
    static unsigned long a[N], b[N];
    gsl_rng *r = philox_keyed(20251117, 2385);
    draw(r, a, N);
    /* Re-keying restarts the stream. */
    shoal_rng_key(r, 20251117, 2385);
    draw(r, b, N);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    /* A fresh generator, and re-keying mid-block. */
    gsl_rng *s = philox_keyed(1, 1);
    gsl_rng_get(s);
    shoal_rng_key(s, 20251117, 2385);
    draw(s, b, N);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    gsl_rng_free(r);
    gsl_rng_free(s);
}
END_TEST

START_TEST(test_clone_continues)
{
    gsl_rng *r = philox_keyed(31337, 5);
    for (int i = 0; i < 7; i++)
        gsl_rng_get(r);
    gsl_rng *c = gsl_rng_clone(r);
    ck_assert_ptr_nonnull(c);
    ck_assert(same_stream(r, c, 1001));
    gsl_rng_free(r);
    gsl_rng_free(c);
}
END_TEST

START_TEST(test_tasks_differ)
{
    static const uint64_t tasks[] = {0, 1, 2, 3, 0xffffffffULL,
                                     0x100000000ULL, (UINT64_C(1) << 40) + 7,
                                     UINT64_MAX};
    enum { NT = sizeof tasks / sizeof tasks[0] };
    for (size_t i = 0; i < NT; i++)
        for (size_t j = 0; j < i; j++) {
            gsl_rng *a = philox_keyed(42, tasks[i]);
            gsl_rng *b = philox_keyed(42, tasks[j]);
            ck_assert_msg(agreements(a, b, 4000) <= 1, "tasks %llu, %llu",
                          (unsigned long long)tasks[i],
                          (unsigned long long)tasks[j]);
            gsl_rng_free(a);
            gsl_rng_free(b);
        }
}
END_TEST

START_TEST(test_seeds_differ)
{
    static const uint64_t seeds[] = {1, 2, 0x100000000ULL, 0x100000001ULL,
                                     0x123456789abcdefULL,
                                     (UINT64_C(1) << 63) - 1};
    enum { NS = sizeof seeds / sizeof seeds[0] };
    for (size_t i = 0; i < NS; i++)
        for (size_t j = 0; j < i; j++) {
            gsl_rng *a = philox_keyed(seeds[i], 9);
            gsl_rng *b = philox_keyed(seeds[j], 9);
            ck_assert_msg(agreements(a, b, 4000) <= 1, "seeds %llu, %llu",
                          (unsigned long long)seeds[i],
                          (unsigned long long)seeds[j]);
            gsl_rng_free(a);
            gsl_rng_free(b);
        }
    /* Swapping seed and task gives another stream. */
    gsl_rng *a = philox_keyed(5, 8);
    gsl_rng *b = philox_keyed(8, 5);
    ck_assert_uint_le(agreements(a, b, 4000), 1);
    gsl_rng_free(a);
    gsl_rng_free(b);
}
END_TEST

/* ---- distributions ----------------------------------------------------------------------- */

START_TEST(test_uniform_range)
{
    gsl_rng *r = philox_keyed(2385, 17);
    double lo = 1, hi = 0, sum = 0;
    const int n = 200000;
    /* Asserts outside the loops: each check call costs a pipe write. */
    for (int i = 0; i < n; i++) {
        double u = gsl_rng_uniform(r);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
    }
    ck_assert_msg(lo >= 0.0 && hi < 1.0, "range [%.17g, %.17g]", lo, hi);
    ck_assert(lo < 1e-3);
    ck_assert(hi > 1 - 1e-3);
    /* Mean 1/2, standard error sqrt(1/12/n). */
    ck_assert(fabs(sum / n - 0.5) < 5 * sqrt(1.0 / 12 / n));
    int outside = 0;
    unsigned long kmax = 0;
    for (int i = 0; i < 10000; i++) {
        double u = gsl_rng_uniform_pos(r);
        outside += !(u > 0.0 && u < 1.0);
        unsigned long k = gsl_rng_uniform_int(r, 7);
        kmax = k > kmax ? k : kmax;
    }
    ck_assert_int_eq(outside, 0);
    ck_assert_uint_eq(kmax, 6);
    gsl_rng_free(r);
}
END_TEST

/* Loop index _i: 0 philox4x32, 1 philox4x64. */
START_TEST(test_gaussian)
{
    gsl_rng *r = _i == 0 ? philox_keyed(0x5eed5eedULL, 123456789)
                         : philox64_keyed(0x5eed5eedULL, 123456789);
    const int n = 200000;
    const double sigma = 2.385;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        double x = gsl_ran_gaussian(r, sigma);
        sum += x;
        sum2 += x * x;
    }
    ck_assert(isfinite(sum) && isfinite(sum2));
    double mean = sum / n;
    double var = (sum2 - n * mean * mean) / (n - 1);
    double se_mean = sigma / sqrt((double)n);
    double se_var = sigma * sigma * sqrt(2.0 / (n - 1));
    ck_assert_msg(fabs(mean) < 5 * se_mean, "mean %g, 5 SE %g", mean,
                  5 * se_mean);
    ck_assert_msg(fabs(var - sigma * sigma) < 5 * se_var, "var %g vs %g", var,
                  sigma * sigma);
    gsl_rng_free(r);
}
END_TEST

/* ---- seeds and type lookup ------------------------------------------------------------- */

START_TEST(test_check_seed)
{
    ck_assert_int_eq(shoal_rng_check_seed(0), SHOAL_ERANGE);
    ck_assert_int_eq(nerrors, 1);
    ck_assert_int_eq(last_code, SHOAL_ERANGE);
    ck_assert_msg(strstr(last_msg, "seed 0") != NULL, "message: %s", last_msg);

    ck_assert_int_eq(shoal_rng_check_seed(UINT64_C(1) << 63), SHOAL_ERANGE);
    ck_assert_msg(strstr(last_msg, "9223372036854775808") != NULL, "message: %s",
                  last_msg);
    ck_assert_int_eq(shoal_rng_check_seed(UINT64_MAX), SHOAL_ERANGE);
    ck_assert_int_eq(nerrors, 3);

    ck_assert_int_eq(shoal_rng_check_seed(1), 0);
    ck_assert_int_eq(shoal_rng_check_seed((UINT64_C(1) << 63) - 1), 0);
    ck_assert_int_eq(shoal_rng_check_seed(2385), 0);
    ck_assert_int_eq(shoal_rng_check_seed(0xffffffffULL + 1), 0);
    ck_assert_int_eq(nerrors, 3);
}
END_TEST

START_TEST(test_type_find)
{
    const gsl_rng_type *t = NULL;
    ck_assert_int_eq(shoal_rng_type_find("philox4x64", &t), 0);
    ck_assert_ptr_eq(t, shoal_rng_philox4x64);
    t = NULL;
    ck_assert_int_eq(shoal_rng_type_find("philox4x32", &t), 0);
    ck_assert_ptr_eq(t, shoal_rng_philox4x32);
    t = NULL;
    ck_assert_int_eq(shoal_rng_type_find("mt19937", &t), 0);
    ck_assert_ptr_eq(t, gsl_rng_mt19937);
    t = NULL;
    ck_assert_int_eq(shoal_rng_type_find("ranlxd2", &t), 0);
    ck_assert_ptr_eq(t, gsl_rng_ranlxd2);
    ck_assert_int_eq(nerrors, 0);
}
END_TEST

START_TEST(test_type_find_unknown)
{
    static const char *const bad[] = {"nope", "", "MT19937", "philox4x32 ",
                                      "philox", "philox4x64x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const gsl_rng_type *t = shoal_rng_philox4x32;
        last_msg[0] = '\0';
        ck_assert_int_eq(shoal_rng_type_find(bad[i], &t), SHOAL_ENOTFOUND);
        ck_assert_ptr_null(t);
        ck_assert_int_eq(last_code, SHOAL_ENOTFOUND);
        ck_assert_msg(strstr(last_msg, "philox4x64") != NULL, "message: %s",
                      last_msg);
        ck_assert_msg(strstr(last_msg, "philox4x32") != NULL, "message: %s",
                      last_msg);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        ck_assert_msg(strstr(last_msg, quoted) != NULL, "message: %s",
                      last_msg);
    }
    ck_assert_int_eq(nerrors, 6);
}
END_TEST

/* ---- other GSL types ----------------------------------------------------------------- */

static void check_gsl_type(const gsl_rng_type *type)
{
    enum { N = 1000 };
    static unsigned long a[N], b[N];
    gsl_rng *r = gsl_rng_alloc(type);
    gsl_rng *s = gsl_rng_alloc(type);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(s);

    /* Reproducible. */
    shoal_rng_key(r, 0x123456789abcdefULL, (UINT64_C(1) << 40) + 7);
    draw(r, a, N);
    gsl_rng_get(s);
    shoal_rng_key(s, 0x123456789abcdefULL, (UINT64_C(1) << 40) + 7);
    draw(s, b, N);
    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "%s not reproducible",
                  type->name);

    /* Task- and seed-dependent. */
    static const uint64_t tasks[] = {0, 1, 2, 1000003, UINT64_MAX};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < i; j++) {
            shoal_rng_key(r, 2385, tasks[i]);
            shoal_rng_key(s, 2385, tasks[j]);
            ck_assert_msg(agreements(r, s, 200) <= 1, "%s: tasks %zu, %zu",
                          type->name, i, j);
        }
    shoal_rng_key(r, 2385, 7);
    shoal_rng_key(s, 2386, 7);
    ck_assert_msg(agreements(r, s, 200) <= 1, "%s: seeds", type->name);

    /* Never GSL's "seed 0" default stream. */
    gsl_rng_set(s, 0);
    shoal_rng_key(r, 1, 0);
    ck_assert_msg(agreements(r, s, 200) <= 1, "%s: default seed", type->name);

    gsl_rng_free(r);
    gsl_rng_free(s);
}

START_TEST(test_mt19937_keyed)
{
    check_gsl_type(gsl_rng_mt19937);
}
END_TEST

START_TEST(test_ranlxd2_keyed)
{
    check_gsl_type(gsl_rng_ranlxd2);
}
END_TEST

START_TEST(test_mt19937_key_is_mix)
{
    /* For non-Philox types the key is gsl_rng_set(mix(seed, task)). */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng *s = gsl_rng_alloc(gsl_rng_mt19937);
    shoal_rng_key(r, 99, 12345);
    unsigned long ul = (unsigned long)shoal_rng_mix(99, 12345);
    if ((ul & 0xffffffffUL) == 0)
        ul |= 1;
    gsl_rng_set(s, ul);
    ck_assert(same_stream(r, s, 500));
    gsl_rng_free(r);
    gsl_rng_free(s);
}
END_TEST

/* ---- the mix -------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(test_mix_nonzero_asymmetric)
{
    enum { K = 1000 };
    uint64_t *all = malloc(sizeof(uint64_t) * K * K);
    ck_assert_ptr_nonnull(all);
    size_t n = 0, zeros = 0, symmetric = 0;
    for (uint64_t s = 0; s < K; s++)
        for (uint64_t t = 0; t < K; t++) {
            uint64_t m = shoal_rng_mix(s, t);
            zeros += m == 0;
            symmetric += s != t && m == shoal_rng_mix(t, s);
            all[n++] = m;
        }
    ck_assert_uint_eq(zeros, 0);
    ck_assert_uint_eq(symmetric, 0);
    /* No collisions among a million inputs (chance ~3e-8 for a good hash). */
    qsort(all, n, sizeof all[0], cmp_u64);
    size_t collisions = 0;
    for (size_t i = 1; i < n; i++)
        collisions += all[i] == all[i - 1];
    ck_assert_uint_eq(collisions, 0);
    free(all);

    /* Awkward words. */
    static const uint64_t w[] = {UINT64_MAX, UINT64_C(1) << 63,
                                 0x9E3779B97F4A7C15ULL, 0xffffffffULL,
                                 0x100000000ULL, 0x123456789abcdefULL};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 6; j++) {
            ck_assert(shoal_rng_mix(w[i], w[j]) != 0);
            ck_assert(shoal_rng_mix(w[i], w[j]) == shoal_rng_mix(w[i], w[j]));
            if (i != j)
                ck_assert(shoal_rng_mix(w[i], w[j]) !=
                          shoal_rng_mix(w[j], w[i]));
        }
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");

    TCase *tc = tcase_create("philox4x64");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_kat64_through_generator);
    tcase_add_test(tc, test_kat64_reference);
    tcase_add_test(tc, test_matches_random123_64);
    tcase_add_test(tc, test_mixed_get_and_double);
    suite_add_tcase(s, tc);

    tc = tcase_create("doubles");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_resolution_53_bits);
    tcase_add_test(tc, test_unit_interval);
    tcase_add_test(tc, test_uniform_pos_positive);
    tcase_add_test(tc, test_order_independent);
    tcase_add_test(tc, test_streams64_differ);
    suite_add_tcase(s, tc);

    tc = tcase_create("philox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_kat_through_generator);
    tcase_add_test(tc, test_kat_reference);
    tcase_add_test(tc, test_matches_random123);
    tcase_add_loop_test(tc, test_gsl_rng_set_is_task_zero, 0, 2);
    tcase_add_loop_test(tc, test_type_properties, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("streams");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reproducible);
    tcase_add_test(tc, test_clone_continues);
    tcase_add_test(tc, test_tasks_differ);
    tcase_add_test(tc, test_seeds_differ);
    suite_add_tcase(s, tc);

    tc = tcase_create("distributions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_uniform_range);
    tcase_add_loop_test(tc, test_gaussian, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("seeds_and_types");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_check_seed);
    tcase_add_test(tc, test_type_find);
    tcase_add_test(tc, test_type_find_unknown);
    suite_add_tcase(s, tc);

    tc = tcase_create("gsl_types");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mt19937_keyed);
    tcase_add_test(tc, test_ranlxd2_keyed);
    tcase_add_test(tc, test_mt19937_key_is_mix);
    tcase_add_test(tc, test_mix_nonzero_asymmetric);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rng_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
