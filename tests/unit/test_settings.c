/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_settings: the driver's checks of an app's own tables
 * (shoal__settings_check_app): malformed outputs and parameters are
 * programming errors reported before any config is read, including output
 * fields whose size per task would overflow or exceed the row buffers,
 * reductions that do not fit their field, malformed derived quantities. */
#include <shoal/shoal.h>

#include "settings.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

static char reason[2048];

static void capture(const char *r, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(reason, sizeof reason, "%s", r);
}

static int noop(shoal_task *t, void *ctx)
{
    (void)t;
    (void)ctx;
    return 0;
}

static int check_app(const shoal_app *app)
{
    reason[0] = '\0';
    shoal_set_error_handler(capture);
    int rc = shoal__settings_check_app(app);
    shoal_set_error_handler(NULL);
    return rc;
}

static int check_one(const shoal_field *f)
{
    const shoal_app app = {.name = "t", .run = noop, .outputs = f, .noutputs = 1};
    return check_app(&app);
}

START_TEST(test_normal_fields)
{
    const shoal_field scalar = {.name = "pi", .type = SHOAL_FLOAT64};
    const shoal_field matrix = {.name = "m", .type = SHOAL_INT64, .ndims = 2, .dims = {300, 300}};
    ck_assert_int_eq(check_one(&scalar), 0);
    ck_assert_int_eq(check_one(&matrix), 0);
}
END_TEST

START_TEST(test_overflowing_field)
{
    /* 2^32 x 2^32 elements: the product wraps to 0 in 64 bits. */
    const shoal_field wrap = {.name = "w", .type = SHOAL_FLOAT64, .ndims = 2,
                              .dims = {(uint64_t)1 << 32, (uint64_t)1 << 32}};
    ck_assert_int_eq(check_one(&wrap), SHOAL_EINVAL);
    /* 2^31 x 2^31 x 4 elements: 2^64 exactly, also 0 after wrapping. */
    const shoal_field wrap2 = {.name = "w2", .type = SHOAL_FLOAT64, .ndims = 3,
                               .dims = {(uint64_t)1 << 31, (uint64_t)1 << 31, 4}};
    ck_assert_int_eq(check_one(&wrap2), SHOAL_EINVAL);
}
END_TEST

START_TEST(test_huge_field)
{
    /* 2^28 doubles = 2 GiB per task, and widths whose 8-byte total wraps. */
    const shoal_field big = {.name = "big", .type = SHOAL_FLOAT64, .ndims = 1,
                             .dims = {(uint64_t)1 << 28}};
    ck_assert_int_eq(check_one(&big), SHOAL_EINVAL);
    ck_assert_msg(strstr(reason, "'big' is too large"), "message: %s", reason);
    const shoal_field wrap8 = {.name = "w8", .type = SHOAL_INT64, .ndims = 1,
                               .dims = {(uint64_t)1 << 61}};
    ck_assert_int_eq(check_one(&wrap8), SHOAL_EINVAL);
}
END_TEST

static void combine(void *into, const void *from, uint64_t width, void *ctx)
{
    (void)into;
    (void)from;
    (void)width;
    (void)ctx;
}

START_TEST(test_reductions)
{
    const shoal_field mom = {.name = "m", .type = SHOAL_FLOAT64, .ndims = 2, .dims = {4, 3},
                             .reduce = SHOAL_REDUCE_MOMENTS};
    ck_assert_int_eq(check_one(&mom), 0);
    /* Moments need (count, mean, M2) in the last dimension, as floats. */
    const shoal_field mom2 = {.name = "m2", .type = SHOAL_FLOAT64, .ndims = 1, .dims = {2},
                              .reduce = SHOAL_REDUCE_MOMENTS};
    ck_assert_int_eq(check_one(&mom2), SHOAL_EINVAL);
    ck_assert_msg(strstr(reason, "last dimension of 3"), "message: %s", reason);
    const shoal_field momi = {.name = "mi", .type = SHOAL_INT64, .ndims = 1, .dims = {3},
                              .reduce = SHOAL_REDUCE_MOMENTS};
    ck_assert_int_eq(check_one(&momi), SHOAL_EINVAL);
    const shoal_field scalar = {.name = "s", .type = SHOAL_FLOAT64,
                                .reduce = SHOAL_REDUCE_MOMENTS};
    ck_assert_int_eq(check_one(&scalar), SHOAL_EINVAL);
    /* A combine function with USER and only with USER. */
    const shoal_field user = {.name = "u", .type = SHOAL_FLOAT64,
                              .reduce = SHOAL_REDUCE_USER, .combine = combine};
    ck_assert_int_eq(check_one(&user), 0);
    const shoal_field nofn = {.name = "u", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_USER};
    ck_assert_int_eq(check_one(&nofn), SHOAL_EINVAL);
    const shoal_field stray = {.name = "u", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_SUM,
                               .combine = combine};
    ck_assert_int_eq(check_one(&stray), SHOAL_EINVAL);
    ck_assert_msg(strstr(reason, "SHOAL_REDUCE_USER"), "message: %s", reason);
    const shoal_field unknown = {.name = "k", .type = SHOAL_FLOAT64, .reduce = 99};
    ck_assert_int_eq(check_one(&unknown), SHOAL_EINVAL);
}
END_TEST

static double derive(shoal_task *t, const double *mean, void *ctx)
{
    (void)t;
    (void)ctx;
    return mean[0];
}

static int check_derived(const shoal_derived *d, size_t n)
{
    const shoal_field f = {.name = "x", .type = SHOAL_FLOAT64};
    const shoal_app app = {.name = "t", .run = noop, .outputs = &f, .noutputs = 1,
                           .derived = d, .nderived = n};
    return check_app(&app);
}

START_TEST(test_derived)
{
    const shoal_derived good[] = {{.name = "a", .fn = derive}, {.name = "b", .fn = derive}};
    ck_assert_int_eq(check_derived(good, 2), 0);
    const shoal_derived twice[] = {{.name = "a", .fn = derive}, {.name = "a", .fn = derive}};
    ck_assert_int_eq(check_derived(twice, 2), SHOAL_EINVAL);
    ck_assert_msg(strstr(reason, "'a' declared twice"), "message: %s", reason);
    const shoal_derived nofn[] = {{.name = "a"}};
    ck_assert_int_eq(check_derived(nofn, 1), SHOAL_EINVAL);
    const shoal_derived slash[] = {{.name = "a/b", .fn = derive}};
    ck_assert_int_eq(check_derived(slash, 1), SHOAL_EINVAL);
}
END_TEST

/* shoal_moments: Welford updates and pairwise merges agree with the
 * two-pass formulas, and merging with an empty side is exact. */
START_TEST(test_moments)
{
    double x[7] = {1.5, -2, 3.25, 1e3, 0.125, 7, -0.5};
    shoal_moments all = {0, 0, 0}, a = {0, 0, 0}, b = {0, 0, 0}, none = {0, 0, 0};
    double mean = 0, m2 = 0;
    for (int i = 0; i < 7; i++) {
        shoal_moments_add(&all, x[i]);
        shoal_moments_add(i < 3 ? &a : &b, x[i]);
        mean += x[i] / 7;
    }
    for (int i = 0; i < 7; i++)
        m2 += (x[i] - mean) * (x[i] - mean);
    shoal_moments c = a;
    shoal_moments_merge(&c, &b);
    ck_assert(c.n == 7 && all.n == 7);
    ck_assert_double_eq_tol(c.mean, mean, 1e-12);
    ck_assert_double_eq_tol(all.mean, mean, 1e-12);
    ck_assert_double_eq_tol(c.m2, m2, 1e-9);
    ck_assert_double_eq_tol(all.m2, m2, 1e-9);
    shoal_moments d = none;
    shoal_moments_merge(&d, &a);
    ck_assert(d.n == a.n && d.mean == a.mean && d.m2 == a.m2);
    shoal_moments_merge(&d, &none);
    ck_assert(d.n == a.n && d.mean == a.mean && d.m2 == a.m2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("check_app");
    tcase_add_test(tc, test_normal_fields);
    tcase_add_test(tc, test_overflowing_field);
    tcase_add_test(tc, test_huge_field);
    tcase_add_test(tc, test_reductions);
    tcase_add_test(tc, test_derived);
    tcase_add_test(tc, test_moments);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
