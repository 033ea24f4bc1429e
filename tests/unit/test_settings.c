/* test_settings: the driver's checks of an app's own tables
 * (shoal__settings_check_app): malformed outputs and parameters are
 * programming errors reported before any config is read, including output
 * fields whose size per task would overflow or exceed the row buffers. */
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

static int check_one(const shoal_field *f)
{
    const shoal_app app = {.name = "t", .run = noop, .outputs = f, .noutputs = 1};
    reason[0] = '\0';
    shoal_set_error_handler(capture);
    int rc = shoal__settings_check_app(&app);
    shoal_set_error_handler(NULL);
    return rc;
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

int main(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("check_app");
    tcase_add_test(tc, test_normal_fields);
    tcase_add_test(tc, test_overflowing_field);
    tcase_add_test(tc, test_huge_field);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
