/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_eta.c: the time-left estimate (lib/src/eta.h) as pure arithmetic.
 *
 * Uniform tasks give work left = tasks left x their time; strata keep the
 * estimate right when cost follows the index (the Ising scan's big lattices
 * first) where a count-based estimate is off by a factor of three; an
 * unmeasured stratum takes its nearest measured neighbours' mean; earlier runs' tasks count as
 * cost samples but not as this run's work; ranges that straddle strata or
 * the end are clipped; the time left from a rate known only in totals (a
 * file's segment); the formatting of durations. */
#include "eta.h"

#include <check.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_uniform)
{
    shoal__eta e;
    ck_assert_int_eq(shoal__eta_init(&e, 1000), 0);
    shoal__eta_todo(&e, 0, 1000);
    ck_assert(isnan(shoal__eta_work_left(&e)));
    ck_assert(isnan(shoal__eta_seconds(&e, 1.0)));
    shoal__eta_done(&e, 0, 100, 200.0); /* 2 s per task */
    ck_assert_double_eq_tol(shoal__eta_work_left(&e), 900 * 2.0, 1e-9);
    /* 200 task-seconds in 100 wall seconds: two ranks' worth. */
    ck_assert_double_eq_tol(shoal__eta_seconds(&e, 100.0), 900.0, 1e-9);
    ck_assert_double_eq_tol(shoal__eta_fraction(&e), 0.1, 1e-12);
    shoal__eta_done(&e, 100, 900, 1800.0);
    ck_assert_double_eq(shoal__eta_work_left(&e), 0.0);
    ck_assert_double_eq(shoal__eta_seconds(&e, 1000.0), 0.0);
    shoal__eta_free(&e);
}
END_TEST

/* Cost 16 for the first third, 4 for the second, 1 for the last (L = 64,
 * 32, 16 in the Ising scan). After one probe per stratum and the first
 * third, the strata know the rest costs 5 per 2 tasks; a count-based
 * estimate would say 16. */
static double cost(uint64_t i, uint64_t n) { return i < n / 3 ? 16 : i < 2 * n / 3 ? 4 : 1; }

START_TEST(test_cost_follows_index)
{
    const uint64_t n = 1224;
    shoal__eta e;
    ck_assert_int_eq(shoal__eta_init(&e, n), 0);
    shoal__eta_todo(&e, 0, n);
    unsigned char *done = calloc(n, 1);
    ck_assert_ptr_nonnull(done);
    for (size_t k = 0; k < e.nstrata; k++) { /* probes: the middle of each stratum */
        uint64_t i = k * e.width + e.width / 2;
        if (i >= n)
            continue;
        shoal__eta_done(&e, i, 1, cost(i, n));
        done[i] = 1;
    }
    double exact = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (i < n / 3 && !done[i]) {
            shoal__eta_done(&e, i, 1, cost(i, n));
            done[i] = 1;
        }
        if (!done[i])
            exact += cost(i, n);
    }
    double est = shoal__eta_work_left(&e);
    /* Strata that straddle a cost step are off by at most a step's worth. */
    ck_assert_double_le(fabs(est - exact), 0.1 * exact);
    double by_count = (double)(n - n / 3) * (e.work_done / (double)e.finished);
    ck_assert_double_gt(by_count, 2.5 * exact);
    free(done);
    shoal__eta_free(&e);
}
END_TEST

START_TEST(test_unmeasured_stratum_takes_nearest)
{
    shoal__eta e;
    ck_assert_int_eq(shoal__eta_init(&e, 640), 0); /* 64 strata of 10 */
    ck_assert_uint_eq(e.width, 10);
    shoal__eta_todo(&e, 0, 640);
    shoal__eta_done(&e, 0, 10, 10.0);   /* stratum 0: 1 s per task */
    shoal__eta_done(&e, 30, 1, 3.0);    /* stratum 3: 3 s (a probe) */
    shoal__eta_done(&e, 630, 1, 5.0);   /* stratum 63: 5 s (a probe) */
    /* Each unmeasured stratum takes its nearest measured one: stratum 1
     * takes 0 (1 s), 2 and 4..32 take 3 (3 s), 34..62 take 63 (5 s), and
     * 33, as near 3 as 63, their average (4 s). Stratum 0 is done. */
    double want = 10 * 1.0 + 10 * 3.0 + 9 * 3.0 + 29 * 10 * 3.0 + 10 * 4.0 +
                  29 * 10 * 5.0 + 9 * 5.0;
    ck_assert_double_eq_tol(shoal__eta_work_left(&e), want, 1e-9);
    shoal__eta_free(&e);
}
END_TEST

START_TEST(test_known_is_sample_not_work)
{
    shoal__eta e;
    ck_assert_int_eq(shoal__eta_init(&e, 200), 0);
    /* A resume: 0..99 done before at 3 s each, 100..199 to run. */
    shoal__eta_known(&e, 0, 100, 300.0);
    shoal__eta_todo(&e, 100, 100);
    ck_assert_uint_eq(e.todo, 100);
    ck_assert_double_eq_tol(shoal__eta_work_left(&e), 300.0, 1e-9);
    ck_assert(isnan(shoal__eta_seconds(&e, 10.0))); /* no rate of its own yet */
    ck_assert_double_eq(shoal__eta_fraction(&e), 0.0);
    shoal__eta_done(&e, 100, 50, 100.0); /* this run: 2 s each */
    ck_assert_uint_eq(e.finished, 50);
    ck_assert_double_eq_tol(e.work_done, 100.0, 1e-12);
    /* Strata of 4 tasks: 148..151 is measured (2 s), and the unmeasured
     * strata after it take that, their nearest: 50 tasks x 2 s. */
    double want = 100.0;
    ck_assert_double_eq_tol(shoal__eta_work_left(&e), want, 1e-9);
    ck_assert_double_eq_tol(shoal__eta_seconds(&e, 50.0), want * 50.0 / 100.0, 1e-9);
    shoal__eta_free(&e);
}
END_TEST

START_TEST(test_clipping_and_small)
{
    shoal__eta e;
    ck_assert_int_eq(shoal__eta_init(&e, 5), 0); /* fewer tasks than strata */
    ck_assert_uint_eq(e.nstrata, 5);
    ck_assert_uint_eq(e.width, 1);
    shoal__eta_todo(&e, 3, 10); /* clipped at the end */
    ck_assert_uint_eq(e.todo, 2);
    shoal__eta_done(&e, 0, 2, 1.0); /* not to run: counts as a sample only */
    ck_assert_uint_eq(e.finished, 0);
    shoal__eta_done(&e, 3, 2, 4.0);
    ck_assert_uint_eq(e.finished, 2);
    ck_assert_double_eq(shoal__eta_work_left(&e), 0.0);
    shoal__eta_free(&e);

    ck_assert_int_eq(shoal__eta_init(&e, 1000), 0); /* a range over strata */
    shoal__eta_todo(&e, 0, 1000);
    shoal__eta_done(&e, 10, 100, 100.0);
    uint64_t left = 0;
    for (size_t k = 0; k < e.nstrata; k++)
        left += e.left[k];
    ck_assert_uint_eq(left, 900);
    ck_assert_uint_eq(e.all_measured, 100);
    shoal__eta_free(&e);

    memset(&e, 0, sizeof e); /* free on a zeroed struct */
    shoal__eta_free(&e);
}
END_TEST

/* What `shoal status` knows of a file: every finished task's time (fed as
 * known), the unfinished tasks, and in totals the work done since the
 * segment began and the time since. Cost 3.25 s for tasks 0..499, 0.75 s
 * for 500..999; 300 of the first half finished, 120 of them by this segment
 * (390 task-seconds) in 97.5 wall seconds: 4 task-seconds per second. */
START_TEST(test_seconds_from_totals)
{
    shoal__eta e;
    ck_assert_int_eq(shoal__eta_init(&e, 1000), 0);
    shoal__eta_todo(&e, 300, 700);
    ck_assert(isnan(shoal__eta_seconds_from(&e, 390.0, 97.5))); /* nothing measured */
    shoal__eta_known(&e, 0, 300, 300 * 3.25);
    shoal__eta_known(&e, 500, 8, 8 * 0.75); /* a probe of the cheap half */
    /* Left: 200 x 3.25 + 500 x 0.75 (the probe's stratum says 0.75; the
     * others of the second half have no sample and take the mean). */
    double left = shoal__eta_work_left(&e);
    ck_assert(left > 200 * 3.25 + 8 * 0.75 && left < 200 * 3.25 + 500 * 3.25);
    ck_assert_double_eq_tol(shoal__eta_seconds_from(&e, 390.0, 97.5), left / 4.0, 1e-9);
    ck_assert(isnan(shoal__eta_seconds_from(&e, 0.0, 97.5)));  /* no work yet */
    ck_assert(isnan(shoal__eta_seconds_from(&e, 390.0, 0.0))); /* no time yet */
    ck_assert(isnan(shoal__eta_seconds_from(&e, NAN, 97.5)));
    shoal__eta_free(&e);
    /* Nothing left: 0 whatever the rate. */
    ck_assert_int_eq(shoal__eta_init(&e, 10), 0);
    shoal__eta_known(&e, 0, 10, 23.85);
    ck_assert_double_eq(shoal__eta_seconds_from(&e, 0.0, 0.0), 0.0);
    shoal__eta_free(&e);
}
END_TEST

START_TEST(test_format)
{
    char b[32];
    shoal__eta_format(0.4, b, sizeof b);
    ck_assert_str_eq(b, "0s");
    shoal__eta_format(42, b, sizeof b);
    ck_assert_str_eq(b, "42s");
    shoal__eta_format(185, b, sizeof b);
    ck_assert_str_eq(b, "3m05s");
    shoal__eta_format(2 * 3600 + 7 * 60 + 10, b, sizeof b);
    ck_assert_str_eq(b, "2h07m");
    shoal__eta_format(3 * 86400 + 4 * 3600, b, sizeof b);
    ck_assert_str_eq(b, "3d04h");
    shoal__eta_format(NAN, b, sizeof b);
    ck_assert_str_eq(b, "?");
    shoal__eta_format(-1, b, sizeof b);
    ck_assert_str_eq(b, "?");
}
END_TEST

static Suite *eta_suite(void)
{
    Suite *s = suite_create("eta");
    TCase *tc = tcase_create("estimate");
    tcase_add_test(tc, test_uniform);
    tcase_add_test(tc, test_cost_follows_index);
    tcase_add_test(tc, test_unmeasured_stratum_takes_nearest);
    tcase_add_test(tc, test_known_is_sample_not_work);
    tcase_add_test(tc, test_clipping_and_small);
    tcase_add_test(tc, test_seconds_from_totals);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(eta_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
