/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_sched.c: the master's range scheduler as pure logic (lib/src/sched.h).
 *
 * Every index 0..ntasks-1 is handed out exactly once, in contiguous ranges in
 * order; the first range has first_tasks tasks; once timing is reported a
 * range takes about target_seconds; zero measured time lifts the time bound
 * (max_tasks still caps); without a time bound ranges follow guided
 * self-scheduling, ceil(remaining / (2 * nranks)); ranges never grow under
 * steady timing; stop() ends the schedule; huge counts do not overflow. */
#include "sched.h"

#include <check.h>

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* Drain a schedule, checking contiguity and order and marking every index;
 * `per_task` > 0 reports each range as taking len * per_task seconds.
 * Returns the number of ranges. */
static uint64_t drain(shoal__sched *s, uint64_t ntasks, double per_task,
                      unsigned char *seen, uint64_t *max_len)
{
    uint64_t expect = 0, ranges = 0, start = UINT64_MAX, len;
    *max_len = 0;
    while ((len = shoal__sched_next(s, &start)) != 0) {
        ck_assert_uint_eq(start, expect);
        ck_assert_uint_le(len, ntasks - start);
        if (seen)
            for (uint64_t i = start; i < start + len; i++)
                seen[i]++; /* checked once at the end: no assert per task */
        if (len > *max_len)
            *max_len = len;
        expect += len;
        ranges++;
        if (per_task > 0)
            shoal__sched_report(s, len, (double)len * per_task);
    }
    ck_assert_uint_eq(expect, ntasks);
    ck_assert_uint_eq(start, ntasks);
    /* Still nothing left afterwards. */
    ck_assert_uint_eq(shoal__sched_next(s, &start), 0);
    ck_assert_uint_eq(start, ntasks);
    return ranges;
}

/* ---- probes: single tasks spread over the work, then the rest in order ------- */

/* Drain with probes: every index exactly once (ranges may come out of
 * order), each range reported at per_task seconds per task; order[r] gets
 * the start of range r (order may be NULL), *nranges their number. */
static void drain_any(shoal__sched *s, uint64_t ntasks, double per_task, unsigned char *seen,
                      uint64_t *order, uint64_t *nranges)
{
    uint64_t start, len, total = 0, r = 0;
    while ((len = shoal__sched_next(s, &start)) != 0) {
        ck_assert_uint_lt(start, ntasks);
        ck_assert_uint_le(len, ntasks - start);
        for (uint64_t i = start; i < start + len; i++)
            seen[i]++;
        if (order)
            order[r] = start;
        r++;
        total += len;
        shoal__sched_report(s, len, (double)len * per_task);
    }
    ck_assert_uint_eq(total, ntasks);
    for (uint64_t i = 0; i < ntasks; i++)
        ck_assert_uint_eq(seen[i], 1);
    *nranges = r;
}

START_TEST(test_probes_spread)
{
    const uint64_t n = 1224;
    shoal__sched s;
    shoal__sched_init(&s, n, 2, 0.05, 0, 1);
    shoal__sched_set_probes(&s, 64, 1e-3);
    unsigned char *seen = calloc(n, 1);
    uint64_t *order = calloc(n, sizeof *order), nr;
    ck_assert_ptr_nonnull(seen);
    ck_assert_ptr_nonnull(order);
    drain_any(&s, n, 2.0, seen, order, &nr);
    /* Range 0 is task 0 (no timing yet); then 64 probes, one per 1223 / 64
     * tasks left, each inside its own slice of the index space. */
    ck_assert_uint_eq(order[0], 0);
    ck_assert_uint_eq(s.nprobes, 64);
    for (uint64_t j = 0; j < 64; j++) {
        uint64_t p = order[1 + j];
        ck_assert_uint_eq(p, s.probe[j]);
        ck_assert_uint_ge(p, 1 + j * 1223 / 64);
        ck_assert_uint_lt(p, 1 + (j + 1) * 1223 / 64 + 1);
    }
    free(seen);
    free(order);
}
END_TEST

START_TEST(test_probes_not_for_fast_tasks)
{
    const uint64_t n = 100000;
    shoal__sched s;
    shoal__sched_init(&s, n, 2, 0.05, 0, 1);
    shoal__sched_set_probes(&s, 64, 1e-3);
    unsigned char *seen = calloc(n, 1);
    ck_assert_ptr_nonnull(seen);
    uint64_t nr;
    drain_any(&s, n, 1e-5, seen, NULL, &nr);
    ck_assert_uint_eq(s.nprobes, 0);
    free(seen);
}
END_TEST

START_TEST(test_probes_small_runs)
{
    /* One probe per 16 tasks left at most, and none below two. */
    for (uint64_t n = 1; n < 200; n++) {
        shoal__sched s;
        shoal__sched_init(&s, n, 3, 0.05, 0, 1);
        shoal__sched_set_probes(&s, 64, 0);
        unsigned char *seen = calloc(n, 1);
        ck_assert_ptr_nonnull(seen);
        uint64_t nr;
        drain_any(&s, n, 1.0, seen, NULL, &nr);
        uint64_t left = n - 1;
        ck_assert_uint_eq(s.nprobes, left / 16 >= 2 ? left / 16 : 0);
        free(seen);
    }
}
END_TEST

START_TEST(test_probes_with_list)
{
    /* A resume's list of what is left: probes come from the listed tasks. */
    static const uint64_t list[][2] = {{5, 3}, {100, 400}, {700, 1}, {900, 100}};
    const uint64_t n = 1000;
    shoal__sched s;
    shoal__sched_init(&s, n, 2, 0.05, 0, 1);
    shoal__sched_set_list(&s, list, 4);
    shoal__sched_set_probes(&s, 64, 0);
    unsigned char *seen = calloc(n, 1);
    ck_assert_ptr_nonnull(seen);
    uint64_t start, len, total = 0;
    while ((len = shoal__sched_next(&s, &start)) != 0) {
        for (uint64_t i = start; i < start + len; i++)
            seen[i]++;
        total += len;
        shoal__sched_report(&s, len, 1.0 * (double)len);
    }
    ck_assert_uint_eq(total, 504);
    ck_assert_uint_eq(s.nprobes, 503 / 16);
    for (uint64_t i = 0; i < n; i++) {
        int listed = 0;
        for (int r = 0; r < 4; r++)
            listed |= i >= list[r][0] && i < list[r][0] + list[r][1];
        ck_assert_uint_eq(seen[i], listed);
    }
    free(seen);
}
END_TEST

START_TEST(test_probes_stop)
{
    shoal__sched s;
    shoal__sched_init(&s, 1000, 2, 0.05, 0, 1);
    shoal__sched_set_probes(&s, 8, 0);
    uint64_t start;
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 1);
    shoal__sched_report(&s, 1, 1.0);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 1); /* a probe */
    shoal__sched_stop(&s);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);
}
END_TEST

/* ---- coverage: every task exactly once --------------------------------------- */

static void check_cover(uint64_t ntasks, int nranks, double per_task,
                        uint64_t max_tasks, uint64_t first_tasks)
{
    shoal__sched s;
    shoal__sched_init(&s, ntasks, nranks, 0.05, max_tasks, first_tasks);
    unsigned char *seen = calloc(ntasks ? ntasks : 1, 1);
    ck_assert_ptr_nonnull(seen);
    uint64_t max_len;
    uint64_t ranges = drain(&s, ntasks, per_task, seen, &max_len);
    uint64_t bad = ntasks;
    for (uint64_t i = 0; i < ntasks && bad == ntasks; i++)
        if (seen[i] != 1)
            bad = i;
    ck_assert_msg(bad == ntasks, "task %llu handed out %d times (n=%llu, r=%d)",
                  (unsigned long long)bad, bad < ntasks ? seen[bad] : -1,
                  (unsigned long long)ntasks, nranks);
    if (ntasks == 0)
        ck_assert_uint_eq(ranges, 0);
    else
        ck_assert_uint_ge(ranges, 1);
    ck_assert_uint_le(max_len, max_tasks ? max_tasks : SHOAL__SCHED_MAX_TASKS);
    free(seen);
}

START_TEST(test_cover_small)
{
    static const uint64_t counts[] = {0, 1, 2, 7, 13, 1000};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (int r = 1; r <= 5; r++) {
            check_cover(counts[c], r, 0, 0, 0);           /* no timing */
            check_cover(counts[c], r, 2.385e-3, 0, 3);    /* timed */
            check_cover(counts[c], r, 0, 4, 1000000);     /* capped */
        }
}
END_TEST

START_TEST(test_cover_large)
{
    for (int r = 1; r <= 5; r++) {
        check_cover(1000003, r, 2.385e-6, 0, 17);  /* ~20965 per range */
        check_cover(1000003, r, 1.7e-4, 0, 1);     /* ~294 per range */
        check_cover(1000003, r, 0, 9973, 1000003); /* no timing, capped */
    }
}
END_TEST

START_TEST(test_zero_tasks)
{
    shoal__sched s;
    shoal__sched_init(&s, 0, 3, 0.05, 100, 10);
    uint64_t start = 99;
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);
    ck_assert_uint_eq(start, 0);
}
END_TEST

START_TEST(test_one_task)
{
    shoal__sched s;
    shoal__sched_init(&s, 1, 5, 0.05, 100, 10);
    uint64_t start = 99;
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 1);
    ck_assert_uint_eq(start, 0);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);
    ck_assert_uint_eq(start, 1);
}
END_TEST

/* ---- first range ----------------------------------------------------------------- */

START_TEST(test_first_tasks)
{
    shoal__sched s;
    uint64_t start;
    shoal__sched_init(&s, 100000, 3, 0.05, 65536, 17);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 17);
    ck_assert_uint_eq(start, 0);
    /* Until a report arrives the length stays first_tasks. */
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 17);
    ck_assert_uint_eq(start, 17);

    /* first_tasks 0 means 1. */
    shoal__sched_init(&s, 100000, 3, 0.05, 65536, 0);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 1);

    /* first_tasks never beats the guided bound: ceil(10 / 4) = 3. */
    shoal__sched_init(&s, 10, 2, 0.05, 65536, 100);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 3);
}
END_TEST

/* ---- time bound -------------------------------------------------------------------- */

START_TEST(test_time_bound)
{
    /* 100 tasks took 0.1 s, target 0.05 s: at most 50 tasks per range. */
    shoal__sched s;
    uint64_t start, len, total = 0;
    shoal__sched_init(&s, 100000, 4, 0.05, 65536, 100);
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(len, 100);
    total += len;
    shoal__sched_report(&s, 100, 0.1);
    while ((len = shoal__sched_next(&s, &start)) != 0) {
        ck_assert_uint_le(len, 50);
        ck_assert_uint_ge(len, 1);
        if (s.ntasks - start > 10000)
            ck_assert_uint_ge(len, 49); /* floor(0.05 / 0.001), give or take */
        total += len;
        shoal__sched_report(&s, len, (double)len * 0.001);
    }
    ck_assert_uint_eq(total, 100000);
}
END_TEST

START_TEST(test_time_bound_awkward)
{
    /* mean 2.385 ms, target 0.3 s -> floor(125.79) = 125 per range. */
    shoal__sched s;
    uint64_t start, len;
    shoal__sched_init(&s, 1000000, 3, 0.3, 65536, 7);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 7);
    shoal__sched_report(&s, 7, 7 * 2.385e-3);
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(len, 125);
    ck_assert_uint_eq(start, 7);
}
END_TEST

START_TEST(test_slow_tasks_give_one)
{
    /* A task slower than the target: ranges of 1. */
    shoal__sched s;
    uint64_t start;
    shoal__sched_init(&s, 1000, 2, 0.05, 65536, 5);
    shoal__sched_next(&s, &start);
    shoal__sched_report(&s, 5, 5 * 3.7);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 1);
    ck_assert_uint_eq(start, 5);
}
END_TEST

START_TEST(test_zero_time_max_cap)
{
    /* Below clock resolution: no time bound, max_tasks applies. */
    shoal__sched s;
    uint64_t start;
    shoal__sched_init(&s, 10000000, 2, 0.05, 1000, 3);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 3);
    shoal__sched_report(&s, 3, 0.0);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 1000);
    ck_assert_uint_eq(start, 3);

    /* Negative and NaN durations count as zero. */
    shoal__sched_init(&s, 10000000, 2, 0.05, 777, 3);
    shoal__sched_next(&s, &start);
    shoal__sched_report(&s, 3, -2.385);
    shoal__sched_report(&s, 3, NAN);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 777);
}
END_TEST

START_TEST(test_default_target_and_max)
{
    /* target 0 -> 0.05 s; max 0 -> SHOAL__SCHED_MAX_TASKS (262144). */
    shoal__sched s;
    uint64_t start, len;
    shoal__sched_init(&s, 100000, 1, 0.0, 0, 100);
    shoal__sched_next(&s, &start);
    shoal__sched_report(&s, 100, 0.1);
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_le(len, 50);
    ck_assert_uint_ge(len, 49);

    shoal__sched_init(&s, UINT64_C(1) << 40, 1, -1.0, 0, 1);
    shoal__sched_next(&s, &start);
    shoal__sched_report(&s, 1, 0.0);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 262144);
}
END_TEST

START_TEST(test_max_tasks_caps)
{
    shoal__sched s;
    uint64_t start, max_len;
    /* Before timing: first_tasks above the cap. */
    shoal__sched_init(&s, 1000000, 1, 0.05, 777, 1000000000);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 777);
    /* With a fast task the time bound is far above the cap. */
    shoal__sched_report(&s, 777, 777 * 1.3e-9);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 777);
    /* And over a whole run. */
    shoal__sched_init(&s, 1000003, 2, 0.05, 313, 5);
    drain(&s, 1000003, 1.3e-9, NULL, &max_len);
    ck_assert_uint_eq(max_len, 313);
}
END_TEST

/* ---- guided self-scheduling --------------------------------------------------------- */

static void check_guided(uint64_t ntasks, int nranks)
{
    /* No time bound (zero time), no cap (max_tasks huge), first_tasks huge:
     * every range is exactly ceil(remaining / (2 * nranks)). */
    shoal__sched s;
    uint64_t start, len, next = 0;
    shoal__sched_init(&s, ntasks, nranks, 0.05, UINT64_MAX, UINT64_MAX);
    int first = 1;
    while ((len = shoal__sched_next(&s, &start)) != 0) {
        uint64_t remaining = ntasks - next;
        ck_assert_uint_eq(start, next);
        ck_assert_uint_eq(len, ceil_div(remaining, 2 * (uint64_t)nranks));
        next += len;
        if (first) {
            shoal__sched_report(&s, len, 0.0);
            first = 0;
        }
    }
    ck_assert_uint_eq(next, ntasks);
}

START_TEST(test_guided_rule)
{
    for (int r = 1; r <= 5; r++) {
        check_guided(1, r);
        check_guided(7, r);
        check_guided(2385, r);
        check_guided(1000003, r);
    }
}
END_TEST

START_TEST(test_guided_nranks_nonpositive)
{
    /* nranks <= 0 counts as 1: ceil(101 / 2) = 51. */
    shoal__sched s;
    uint64_t start;
    shoal__sched_init(&s, 101, 0, 0.05, 1000, 1000);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 51);
    shoal__sched_init(&s, 101, -4, 0.05, 1000, 1000);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 51);
}
END_TEST

static void check_monotone(uint64_t ntasks, int nranks, double target,
                           double per_task, uint64_t first)
{
    shoal__sched s;
    uint64_t start, len, prev = UINT64_MAX, n = 0;
    shoal__sched_init(&s, ntasks, nranks, target, 65536, first);
    /* The first range is fixed by first_tasks; timing is steady from then on. */
    len = shoal__sched_next(&s, &start);
    shoal__sched_report(&s, len, (double)len * per_task);
    n += len;
    while ((len = shoal__sched_next(&s, &start)) != 0) {
        ck_assert_msg(len <= prev,
                      "range grew from %llu to %llu at %llu (n=%llu r=%d)",
                      (unsigned long long)prev, (unsigned long long)len,
                      (unsigned long long)start, (unsigned long long)ntasks,
                      nranks);
        prev = len;
        n += len;
        shoal__sched_report(&s, len, (double)len * per_task);
    }
    ck_assert_uint_eq(n, ntasks);
}

START_TEST(test_monotone_steady)
{
    for (int r = 1; r <= 5; r++) {
        check_monotone(1000003, r, 0.05, 2.385e-4, 1);   /* bound 209 */
        check_monotone(1000003, r, 0.05, 2.385e-8, 1);   /* cap 65536 */
        check_monotone(5000, r, 0.3, 1.1e-5, 1);         /* guided dominates */
        check_monotone(7, r, 0.05, 2.385e-4, 1);
    }
}
END_TEST

/* Regression (fixed; lib/src/sched.c, shoal__sched_next, `floor(target / mean)`): under steady
 * timing whose target/mean ratio is a whole number (for example
 * every task takes 1 ms, target 0.05 s: ratio 50), the running mean
 * timed_seconds / timed_tasks carries rounding noise, floor() of a ratio of
 * 49.99999999999999 or 50.00000000000001 flips between 49 and 50, and range
 * lengths go back up (about 1700 increases over 10^6 tasks on 4 ranks).
 * Harmless for balance but breaks "ranges never grow under steady timing".
 * Suggested fix: floor with a small tolerance, e.g.
 * `double t = floor(s->target_seconds / mean + 1e-6);`. */
START_TEST(test_regression_monotone_exact_ratio)
{
    check_monotone(1000000, 4, 0.05, 0.001, 100);
}
END_TEST

/* ---- stop and report -------------------------------------------------------------- */

START_TEST(test_stop)
{
    shoal__sched s;
    uint64_t start;
    shoal__sched_init(&s, 1000, 2, 0.05, 100, 10);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 10);
    shoal__sched_stop(&s);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);
    ck_assert_uint_eq(start, 10);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);
    /* Reports after stop are harmless. */
    shoal__sched_report(&s, 10, 0.01);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);

    /* Stop before anything was handed out. */
    shoal__sched_init(&s, 1000, 2, 0.05, 100, 10);
    shoal__sched_stop(&s);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);
    ck_assert_uint_eq(start, 0);
}
END_TEST

START_TEST(test_report_zero_ignored)
{
    shoal__sched s;
    uint64_t start;
    shoal__sched_init(&s, 100000, 2, 0.05, 65536, 23);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 23);
    shoal__sched_report(&s, 0, 5.0);
    shoal__sched_report(&s, 0, 0.0);
    ck_assert_uint_eq(s.timed_tasks, 0);
    ck_assert(s.timed_seconds == 0.0);
    /* Still no timing: first_tasks again. */
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 23);
    /* A real report then counts, and a later report(0, x) does not change the
     * mean: 100 tasks in 0.1 s -> 50 per range. */
    shoal__sched_report(&s, 100, 0.1);
    shoal__sched_report(&s, 0, 1000.0);
    uint64_t len = shoal__sched_next(&s, &start);
    ck_assert_uint_le(len, 50);
    ck_assert_uint_ge(len, 49);
}
END_TEST

/* ---- huge counts -------------------------------------------------------------------- */

START_TEST(test_huge_guided)
{
    const uint64_t n = UINT64_C(1) << 62;
    shoal__sched s;
    uint64_t start, len, next = 0, ranges = 0;
    shoal__sched_init(&s, n, 5, 0.05, UINT64_MAX, UINT64_MAX);
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(len, ceil_div(n, 10));
    ck_assert_uint_lt(len, n);
    next = len;
    shoal__sched_report(&s, len, 0.0);
    while ((len = shoal__sched_next(&s, &start)) != 0) {
        ck_assert_uint_eq(start, next);
        ck_assert_uint_ge(len, 1);
        ck_assert_uint_le(len, n - next);
        ck_assert_uint_eq(len, ceil_div(n - next, 10));
        next += len;
        ck_assert_uint_lt(++ranges, 100000);
    }
    ck_assert_uint_eq(next, n);
}
END_TEST

START_TEST(test_huge_timed)
{
    const uint64_t n = UINT64_C(1) << 62;
    shoal__sched s;
    uint64_t start, len;

    /* Default cap. */
    shoal__sched_init(&s, n, 3, 0.05, 0, 0);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 1);
    shoal__sched_report(&s, 1, 2.385e-9);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), SHOAL__SCHED_MAX_TASKS);

    /* No cap: the time bound decides, far below remaining, no overflow. */
    shoal__sched_init(&s, n, 3, 0.05, UINT64_MAX, 1);
    shoal__sched_next(&s, &start);
    shoal__sched_report(&s, UINT64_C(1) << 40, 2.385);
    len = shoal__sched_next(&s, &start);
    /* 0.05 / (2.385 / 2^40) = 23050558234.30; allow a relative 1e-6 for a
     * rounding tolerance in the time bound. */
    ck_assert_uint_ge(len, UINT64_C(23050558234) - 23050);
    ck_assert_uint_le(len, UINT64_C(23050558234) + 23050);

    /* A mean so small that target/mean is beyond 2^64 (or infinite). */
    shoal__sched_init(&s, n, 3, 0.05, UINT64_MAX, 1);
    shoal__sched_next(&s, &start);
    shoal__sched_report(&s, n, 1e-300);
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(len, ceil_div(n - 1, 6));

    /* nranks at INT_MAX: 2 * nranks is computed in 64 bits. */
    shoal__sched_init(&s, n, INT_MAX, 0.05, UINT64_MAX, UINT64_MAX);
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(len, ceil_div(n, 2 * (uint64_t)INT_MAX));

    /* The largest count of all. */
    shoal__sched_init(&s, UINT64_MAX, 1, 0.05, UINT64_MAX, UINT64_MAX);
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(len, ceil_div(UINT64_MAX, 2));
    len = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(start, ceil_div(UINT64_MAX, 2));
    ck_assert_uint_le(len, UINT64_MAX - start);
}
END_TEST

/* ---- work that arrives: limit, end, unget ---------------------------------------- */

/* Tasks arrive a few at a time (the limit moves), the end comes below the
 * task count, and every task below it goes out exactly once, in order; a
 * burst that just arrived is shared (guided over what may go out). */
START_TEST(test_arrivals_end)
{
    shoal__sched s;
    uint64_t start, n, next = 0;
    shoal__sched_init(&s, 1000, 2, 0.05, 1000, 1);
    shoal__sched_report(&s, 10, 1e-5); /* fast tasks: time allows 1000 */
    shoal__sched_set_limit(&s, 0);
    ck_assert_int_eq(shoal__sched_ready(&s), 0);
    ck_assert_uint_eq(shoal__sched_next(&s, &start), 0);
    ck_assert_int_eq(shoal__sched_exhausted(&s), 0);
    shoal__sched_set_limit(&s, 3);
    ck_assert_int_eq(shoal__sched_ready(&s), 1);
    n = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(start, 0);
    ck_assert_uint_le(n, 3);
    next = n;
    while ((n = shoal__sched_next(&s, &start)) > 0) {
        ck_assert_uint_eq(start, next);
        next += n;
    }
    ck_assert_uint_eq(next, 3);
    /* A burst of 400: the first range takes a share, not all of it. */
    shoal__sched_set_limit(&s, 403);
    n = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(start, 3);
    ck_assert_uint_le(n, 100); /* 400 / (2 * 2) */
    next = 3 + n;
    /* Give two back: they go out next. */
    shoal__sched_unget(&s, 2);
    next -= 2;
    n = shoal__sched_next(&s, &start);
    ck_assert_uint_eq(start, next);
    next += n;
    /* The end: 450, below the 1000; the limit follows it down. */
    shoal__sched_set_end(&s, 450);
    shoal__sched_set_limit(&s, 10000);
    while ((n = shoal__sched_next(&s, &start)) > 0) {
        ck_assert_uint_eq(start, next);
        next += n;
    }
    ck_assert_uint_eq(next, 450);
    ck_assert_int_eq(shoal__sched_exhausted(&s), 1);
    ck_assert_int_eq(shoal__sched_ready(&s), 0);
}
END_TEST

/* The end with a list (a resumed stream): listed tasks at or past it never
 * go out, and the schedule is over once those below it did. */
START_TEST(test_end_with_list)
{
    static const uint64_t list[3][2] = {{2, 3}, {10, 5}, {20, 100}};
    shoal__sched s;
    uint64_t start, n, ran = 0;
    shoal__sched_init(&s, 0, 1, 0.05, 4, 4);
    shoal__sched_set_list(&s, list, 3);
    shoal__sched_set_limit(&s, 22);
    while ((n = shoal__sched_next(&s, &start)) > 0) {
        ck_assert_uint_lt(start + n - 1, 22);
        ran += n;
    }
    ck_assert_uint_eq(ran, 3 + 5 + 2);
    ck_assert_int_eq(shoal__sched_exhausted(&s), 0);
    shoal__sched_set_end(&s, 25);
    shoal__sched_set_limit(&s, 1000); /* capped by the end */
    while ((n = shoal__sched_next(&s, &start)) > 0)
        ran += n;
    ck_assert_uint_eq(ran, 3 + 5 + 5);
    ck_assert_int_eq(shoal__sched_exhausted(&s), 1);
}
END_TEST


/* ---- weighted ranges (a sub-master's share, sched_next_w) ------------------ */

/* Without a time bound, a weighted range is exactly ceil(remaining * w /
 * (2 * nranks)) (capped by remaining), w = 1 is next(), and draining with
 * mixed weights covers every index once, in order. */
START_TEST(test_weighted_guided)
{
    const uint64_t ws[] = {1, 2, 3, 7, 64};
    for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
        for (int r = 1; r <= 9; r += 4) {
            shoal__sched s;
            uint64_t start, len, next = 0, ntasks = 1000003;
            shoal__sched_init(&s, ntasks, r, 0.05, UINT64_MAX, UINT64_MAX);
            while ((len = shoal__sched_next_w(&s, ws[k], &start)) != 0) {
                uint64_t remaining = ntasks - next;
                uint64_t want = ceil_div(remaining * ws[k], 2 * (uint64_t)r);
                if (want > remaining)
                    want = remaining;
                ck_assert_uint_eq(start, next);
                ck_assert_uint_eq(len, want);
                next += len;
            }
            ck_assert_uint_eq(next, ntasks);
        }
    }
    shoal__sched a, b;
    uint64_t sa, sb, la, lb;
    shoal__sched_init(&a, 2385, 3, 0.05, 77, 5);
    shoal__sched_init(&b, 2385, 3, 0.05, 77, 5);
    do {
        la = shoal__sched_next(&a, &sa);
        lb = shoal__sched_next_w(&b, 1, &sb);
        ck_assert_uint_eq(la, lb);
        ck_assert_uint_eq(sa, sb);
        shoal__sched_report(&a, la, (double)la * 1.3e-3);
        shoal__sched_report(&b, lb, (double)lb * 1.3e-3);
    } while (la);
}
END_TEST

/* The caps scale with w: first_tasks, target / mean and max_tasks. */
START_TEST(test_weighted_caps)
{
    shoal__sched s;
    uint64_t start;
    shoal__sched_init(&s, 1000000, 4, 0.05, 1000, 3);
    ck_assert_uint_eq(shoal__sched_next_w(&s, 5, &start), 15); /* 5 * first */
    shoal__sched_report(&s, 15, 15 * 2.5e-3);                 /* 20 per 0.05 s */
    ck_assert_uint_eq(shoal__sched_next_w(&s, 5, &start), 100);
    ck_assert_uint_eq(shoal__sched_next_w(&s, 1, &start), 20);
    shoal__sched_report(&s, 1000, 0); /* mean now far below target: cap */
    shoal__sched_init(&s, 1000000, 4, 0.05, 1000, 3);
    shoal__sched_report(&s, 10, 0);   /* no time bound: max_tasks */
    ck_assert_uint_eq(shoal__sched_next_w(&s, 7, &start), 7000);
    ck_assert_uint_eq(shoal__sched_next_w(&s, 1, &start), 1000);
    /* len: 0 for nothing, never beyond what remains, at least 1. */
    ck_assert_uint_eq(shoal__sched_len(&s, 0, 3), 0);
    ck_assert_uint_eq(shoal__sched_len(&s, 2, 64), 2);
    ck_assert_uint_eq(shoal__sched_len(&s, 1, 1), 1);
    /* Huge counts and weights do not overflow. */
    shoal__sched_init(&s, (uint64_t)1 << 62, 3, 0.05, (uint64_t)1 << 40, (uint64_t)1 << 40);
    ck_assert_uint_eq(shoal__sched_next_w(&s, 65536, &start), (uint64_t)1 << 56);
}
END_TEST

/* Weighted ranges never cross a listed range's end, and probes still go
 * out one task at a time; every listed index goes out once. */
START_TEST(test_weighted_list_probes)
{
    static const uint64_t list[][2] = {{5, 3}, {100, 2385}, {5000, 1}, {6000, 997}};
    shoal__sched s;
    shoal__sched_init(&s, 7000, 3, 0.05, 1000, 1);
    shoal__sched_set_list(&s, list, 4);
    shoal__sched_set_probes(&s, 8, 1e-3);
    unsigned char seen[7000] = {0};
    uint64_t start, len, total = 0, singles = 0;
    int first = 1;
    while ((len = shoal__sched_next_w(&s, 4, &start)) != 0) {
        size_t k = 0;
        while (k < 4 && start >= list[k][0] + list[k][1])
            k++;
        ck_assert(k < 4 && start >= list[k][0]);
        ck_assert_uint_le(start + len, list[k][0] + list[k][1]);
        for (uint64_t i = start; i < start + len; i++)
            seen[i]++;
        total += len;
        singles += len == 1;
        if (first) /* slow tasks: the probes follow */
            shoal__sched_report(&s, len, (double)len * 2e-3);
        first = 0;
    }
    ck_assert_uint_eq(total, 3 + 2385 + 1 + 997);
    ck_assert_uint_ge(singles, 8);
    for (size_t k = 0; k < 4; k++)
        for (uint64_t i = list[k][0]; i < list[k][0] + list[k][1]; i++)
            ck_assert_uint_eq(seen[i], 1);
}
END_TEST

static Suite *sched_suite(void)
{
    Suite *s = suite_create("sched");

    TCase *tc = tcase_create("cover");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cover_small);
    tcase_add_test(tc, test_cover_large);
    tcase_add_test(tc, test_zero_tasks);
    tcase_add_test(tc, test_one_task);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_first_tasks);
    tcase_add_test(tc, test_time_bound);
    tcase_add_test(tc, test_time_bound_awkward);
    tcase_add_test(tc, test_slow_tasks_give_one);
    tcase_add_test(tc, test_zero_time_max_cap);
    tcase_add_test(tc, test_default_target_and_max);
    tcase_add_test(tc, test_max_tasks_caps);
    suite_add_tcase(s, tc);

    tc = tcase_create("guided");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_guided_rule);
    tcase_add_test(tc, test_guided_nranks_nonpositive);
    tcase_add_test(tc, test_monotone_steady);
    tcase_add_test(tc, test_regression_monotone_exact_ratio);
    suite_add_tcase(s, tc);

    tc = tcase_create("control");
    tcase_add_test(tc, test_stop);
    tcase_add_test(tc, test_report_zero_ignored);
    tcase_add_test(tc, test_arrivals_end);
    tcase_add_test(tc, test_end_with_list);
    suite_add_tcase(s, tc);

    tc = tcase_create("probes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_probes_spread);
    tcase_add_test(tc, test_probes_not_for_fast_tasks);
    tcase_add_test(tc, test_probes_small_runs);
    tcase_add_test(tc, test_probes_with_list);
    tcase_add_test(tc, test_probes_stop);
    suite_add_tcase(s, tc);

    tc = tcase_create("weighted");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_weighted_guided);
    tcase_add_test(tc, test_weighted_caps);
    tcase_add_test(tc, test_weighted_list_probes);
    suite_add_tcase(s, tc);

    tc = tcase_create("huge");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_huge_guided);
    tcase_add_test(tc, test_huge_timed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sched_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
