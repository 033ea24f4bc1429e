/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_crossing.c: the crossing estimator of ising_tc (apps/ising_tc/
 * crossing.c) on curves whose root is known: a parabola and a line are
 * recovered exactly, the window is the fit_points temperatures nearest the
 * sign change, the steepest of several falls is taken, and every way of
 * having no crossing is named. Awkward values throughout (roots that are no
 * grid point, uneven spacing). */
#include "crossing.h"

#include <check.h>

#include <math.h>
#include <stdlib.h>

/* D(T) = c2 (T - r)(T - s): root r inside the grid, s far outside. With
 * c2 < 0 and s < r, D > 0 below r as for a Binder crossing. */
static void parabola(const double *T, double *D, size_t n, double c2, double r, double s)
{
    for (size_t i = 0; i < n; i++)
        D[i] = c2 * (T[i] - r) * (T[i] - s);
}

START_TEST(parabola_root_exact)
{
    /* Curvature like L = 32, 64 near Tc (c2 / c1 ~ 18), uneven spacing. */
    const double T[] = {2.2513, 2.2588, 2.2642, 2.2706, 2.2781, 2.2839, 2.2902};
    double D[7], fit[7];
    parabola(T, D, 7, -21.7, 2.26918, 2.26918 - 0.0557);
    crossing_window w;
    ck_assert_int_eq(crossing_window_find(T, D, 7, 5, &w), CROSSING_FOUND);
    ck_assert_uint_eq(w.hi - w.lo, 5);
    ck_assert_uint_eq(crossing_fit_terms(&w), 3);
    ck_assert_uint_eq(w.changes, 1);
    double tc = crossing_fit(T, D, &w, fit);
    ck_assert_double_eq_tol(tc, 2.26918, 1e-12);
    for (size_t i = 0; i < w.hi - w.lo; i++)
        ck_assert_double_eq_tol(fit[i], D[w.lo + i], 1e-13);
}
END_TEST

START_TEST(line_root_exact)
{
    const double T[] = {1.9, 2.05, 2.385};
    double D[3];
    for (int i = 0; i < 3; i++)
        D[i] = -0.73 * (T[i] - 2.1187);
    crossing_window w;
    ck_assert_int_eq(crossing_window_find(T, D, 3, 5, &w), CROSSING_FOUND);
    ck_assert_uint_eq(w.lo, 0);
    ck_assert_uint_eq(w.hi, 3);
    ck_assert_uint_eq(crossing_fit_terms(&w), 2);
    ck_assert_double_eq_tol(crossing_fit(T, D, &w, NULL), 2.1187, 1e-12);
    /* Two points: linear interpolation. */
    const double T2[] = {2.27, 2.2775}, D2[] = {0.0096, -0.0034};
    ck_assert_int_eq(crossing_window_find(T2, D2, 2, 5, &w), CROSSING_FOUND);
    ck_assert_double_eq_tol(crossing_fit(T2, D2, &w, NULL),
                            2.27 + 0.0075 * 0.0096 / 0.013, 1e-13);
}
END_TEST

START_TEST(window_nearest_the_change)
{
    /* 11 temperatures 0.02 apart, the change between 2.26 and 2.28 at
     * 2.2650 (a quarter of the way): fit_points 4 takes 2.24 .. 2.30. */
    double T[11], D[11];
    for (int i = 0; i < 11; i++) {
        T[i] = 2.16 + 0.02 * i;
        D[i] = -(T[i] - 2.265);
    }
    crossing_window w;
    ck_assert_int_eq(crossing_window_find(T, D, 11, 4, &w), CROSSING_FOUND);
    ck_assert_double_eq_tol(w.t_lin, 2.265, 1e-12);
    ck_assert_double_eq_tol(T[w.lo], 2.24, 1e-12);
    ck_assert_double_eq_tol(T[w.hi - 1], 2.30, 1e-12);
    ck_assert_double_eq_tol(crossing_fit(T, D, &w, NULL), 2.265, 1e-12);
    /* More points than there are: all of them. */
    ck_assert_int_eq(crossing_window_find(T, D, 11, 1000, &w), CROSSING_FOUND);
    ck_assert_uint_eq(w.lo, 0);
    ck_assert_uint_eq(w.hi, 11);
    /* fit_points below 2 still brackets the change. */
    ck_assert_int_eq(crossing_window_find(T, D, 11, 0, &w), CROSSING_FOUND);
    ck_assert_uint_eq(w.hi - w.lo, 2);
}
END_TEST

START_TEST(steepest_of_several_falls)
{
    /* Noise near U = 0 at high T makes a small fall at 2.6; the real one
     * is at 2.3. */
    const double T[] = {2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7};
    const double D[] = {0.01, 0.12, 0.05, -0.20, -0.003, 0.004, -0.002};
    crossing_window w;
    ck_assert_int_eq(crossing_window_find(T, D, 7, 2, &w), CROSSING_FOUND);
    ck_assert_uint_eq(w.changes, 2);
    ck_assert_uint_eq(w.lo, 2);
    ck_assert_double_eq_tol(w.t_lin, 2.3 + 0.1 * 0.05 / 0.25, 1e-12);
}
END_TEST

START_TEST(no_crossing_named)
{
    const double T[] = {2.0, 2.1, 2.2};
    const double above[] = {0.02, 0.01, 0.003}, below[] = {-0.01, -0.05, 0.0};
    const double upward[] = {-0.01, 0.02, 0.03};
    crossing_window w;
    ck_assert_int_eq(crossing_window_find(T, above, 3, 5, &w), CROSSING_ABOVE);
    ck_assert_int_eq(crossing_window_find(T, below, 3, 5, &w), CROSSING_BELOW);
    ck_assert_int_eq(crossing_window_find(T, upward, 3, 5, &w), CROSSING_UPWARD);
    ck_assert_int_eq(crossing_window_find(T, above, 1, 5, &w), CROSSING_TOO_FEW);
    ck_assert_int_eq(crossing_window_find(T, above, 0, 5, &w), CROSSING_TOO_FEW);
    /* A zero right after a positive value is a crossing at that T. */
    const double touch[] = {0.02, 0.0, -0.01};
    ck_assert_int_eq(crossing_window_find(T, touch, 3, 2, &w), CROSSING_FOUND);
    ck_assert_double_eq_tol(crossing_fit(T, touch, &w, NULL), 2.1, 1e-13);
}
END_TEST

START_TEST(no_real_root_is_nan)
{
    /* The full sample's window, a resample whose parabola misses zero:
     * NaN, which the summary leaves out and counts. */
    const double T[] = {2.255, 2.2625, 2.27, 2.2775, 2.285};
    const double D[] = {0.0074, 0.0022, 0.0096, -0.0034, -0.025};
    double Db[5], Dnan[5] = {0.0074, NAN, 0.0096, -0.0034, -0.025};
    crossing_window w;
    ck_assert_int_eq(crossing_window_find(T, D, 5, 5, &w), CROSSING_FOUND);
    parabola(T, Db, 5, 40.0, 0, 0); /* 40 T^2 > 0 everywhere */
    for (int i = 0; i < 5; i++)
        Db[i] += 1.0;
    ck_assert(isnan(crossing_fit(T, Db, &w, NULL)));
    ck_assert(isnan(crossing_fit(T, Dnan, &w, NULL)));
}
END_TEST

static Suite *crossing_suite(void)
{
    Suite *s = suite_create("crossing");
    TCase *tc = tcase_create("crossing");
    tcase_add_test(tc, parabola_root_exact);
    tcase_add_test(tc, line_root_exact);
    tcase_add_test(tc, window_nearest_the_change);
    tcase_add_test(tc, steepest_of_several_falls);
    tcase_add_test(tc, no_crossing_named);
    tcase_add_test(tc, no_real_root_is_nan);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crossing_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
