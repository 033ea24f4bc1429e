/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_error.c: the error codes and the single error path (error.h).
 *
 * Every code of SHOAL_ERRNO_MAP has its own description and symbolic name;
 * codes outside the list get the documented fallbacks; shoal_errorf formats,
 * returns its code and reaches an installed handler with the caller's
 * __FILE__/__LINE__; shoal_set_error_handler(NULL) restores the default
 * handler, which writes "shoal: error: <reason>" on stderr. */
#include <shoal/error.h>
#include <shoal/log.h>

#include <check.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the code table, generated from the same X-macro list ------------------ */

typedef struct {
    const char *name; /* "SHOAL_EINVAL" */
    int code;
    const char *msg;
} code_row;

static const code_row codes[] = {
#define ROW(name, val, msg) {"SHOAL_" #name, (val), (msg)},
    SHOAL_ERRNO_MAP(ROW)
#undef ROW
};
static const size_t ncodes = sizeof codes / sizeof codes[0];

/* ---- a recording handler ---------------------------------------------------- */

static char rec_reason[4096];
static char rec_file[512];
static int rec_line;
static int rec_code;
static int rec_calls;

static void record(const char *reason, const char *file, int line, int code)
{
    snprintf(rec_reason, sizeof rec_reason, "%s", reason);
    snprintf(rec_file, sizeof rec_file, "%s", file ? file : "(null)");
    rec_line = line;
    rec_code = code;
    rec_calls++;
}

static void other_handler(const char *reason, const char *file, int line,
                          int code)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)code;
}

static void reset_record(void)
{
    rec_reason[0] = rec_file[0] = '\0';
    rec_line = rec_code = rec_calls = 0;
}

static void setup(void)
{
    reset_record();
    shoal_set_error_handler(NULL);
    shoal_log_set_level(SHOAL_LOG_INFO);
}

static void teardown(void) { shoal_set_error_handler(NULL); }

/* Run shoal_errorf with stderr redirected to a temp file; return what was
 * written (static buffer). */
static const char *capture_stderr_errorf(int code, const char *file, int line,
                                         const char *reason)
{
    static char out[4096];
    char path[] = "/tmp/shoal_test_error_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path); /* gone even if an assertion below fails */
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    int rc = shoal_errorf(code, file, line, "%s", reason);
    fflush(stderr);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    ck_assert_int_eq(rc, code);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    ssize_t n = read(fd, out, sizeof out - 1);
    ck_assert_int_ge(n, 0);
    out[n] = '\0';
    close(fd);
    return out;
}

/* ---- strerror / err_name ---------------------------------------------------- */

START_TEST(test_map_descriptions)
{
    ck_assert_uint_ge(ncodes, 14);
    for (size_t i = 0; i < ncodes; i++) {
        const char *s = shoal_strerror(codes[i].code);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(codes[i].code < 0, "%s = %d is not negative",
                      codes[i].name, codes[i].code);
        ck_assert_msg(codes[i].code > SHOAL_ERRNO_MIN,
                      "%s = %d is at or below SHOAL_ERRNO_MIN", codes[i].name,
                      codes[i].code);
        ck_assert_str_eq(s, codes[i].msg);
        ck_assert_msg(strstr(s, "unknown") == NULL,
                      "%s has the fallback description '%s'", codes[i].name, s);
        ck_assert_str_ne(s, "success");
        for (size_t j = 0; j < i; j++) {
            ck_assert_msg(codes[i].code != codes[j].code, "%s and %s share %d",
                          codes[i].name, codes[j].name, codes[i].code);
            ck_assert_msg(strcmp(s, shoal_strerror(codes[j].code)) != 0,
                          "%s and %s share the description '%s'", codes[i].name,
                          codes[j].name, s);
        }
    }
}
END_TEST

START_TEST(test_map_names)
{
    for (size_t i = 0; i < ncodes; i++) {
        const char *n = shoal_err_name(codes[i].code);
        ck_assert_ptr_nonnull(n);
        ck_assert_str_eq(n, codes[i].name);
        ck_assert_msg(strncmp(n, "SHOAL_E", 7) == 0, "name '%s'", n);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(n, shoal_err_name(codes[j].code));
    }
    /* A few by hand, so a broken X-macro cannot agree with itself. */
    ck_assert_str_eq(shoal_err_name(SHOAL_ECONFIG), "SHOAL_ECONFIG");
    ck_assert_str_eq(shoal_err_name(-12), "SHOAL_ENOTFOUND");
    ck_assert_str_eq(shoal_strerror(SHOAL_ENOENT), "no such file or directory");
    ck_assert_int_eq(SHOAL_EINTERNAL, -14);
}
END_TEST

START_TEST(test_ok)
{
    ck_assert_str_eq(shoal_strerror(SHOAL_OK), "success");
    ck_assert_str_eq(shoal_err_name(SHOAL_OK), "SHOAL_OK");
}
END_TEST

START_TEST(test_unknown_negative)
{
    static const int bad[] = {SHOAL_ERRNO_MIN, SHOAL_ERRNO_MIN - 1, -385,
                              -100000, INT_MIN + 1, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = shoal_strerror(bad[i]);
        const char *n = shoal_err_name(bad[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_ptr_nonnull(n);
        ck_assert_msg(strstr(s, "unknown") != NULL, "code %d: '%s'", bad[i], s);
        ck_assert_str_eq(n, "SHOAL_UNKNOWN");
    }
}
END_TEST

START_TEST(test_unknown_positive)
{
    /* Positive codes are task-defined: never NULL, never a library text. */
    static const int pos[] = {1, 7, 2385, INT_MAX};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        const char *s = shoal_strerror(pos[i]);
        const char *n = shoal_err_name(pos[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_ptr_nonnull(n);
        ck_assert_str_eq(s, "task-defined error");
        ck_assert_str_ne(s, "success");
        for (size_t j = 0; j < ncodes; j++) {
            ck_assert_str_ne(s, codes[j].msg);
            ck_assert_str_ne(n, codes[j].name);
        }
    }
}
END_TEST

/* ---- shoal_errorf and handlers ---------------------------------------------- */

START_TEST(test_errorf_formats_and_returns)
{
    ck_assert_ptr_null(shoal_set_error_handler(record));
    const int line = 4321;
    int rc = shoal_errorf(SHOAL_ERANGE, "some/file.c", line,
                          "value %d of '%s' is %.3f%%", -17, "tasks", 2.385);
    ck_assert_int_eq(rc, SHOAL_ERANGE);
    ck_assert_int_eq(rec_calls, 1);
    ck_assert_str_eq(rec_reason, "value -17 of 'tasks' is 2.385%");
    ck_assert_str_eq(rec_file, "some/file.c");
    ck_assert_int_eq(rec_line, line);
    ck_assert_int_eq(rec_code, SHOAL_ERANGE);
}
END_TEST

START_TEST(test_errorf_file_and_line)
{
    shoal_set_error_handler(record);
    /* Both on one line, so __LINE__ is the line of the call. */
    const int here = __LINE__; int rc = SHOAL_ERROR(SHOAL_ETYPE, "k=%s", "v");
    ck_assert_int_eq(rc, SHOAL_ETYPE);
    ck_assert_int_eq(rec_calls, 1);
    ck_assert_str_eq(rec_file, __FILE__);
    ck_assert_int_eq(rec_line, here);
    ck_assert_int_eq(rec_code, SHOAL_ETYPE);
    ck_assert_str_eq(rec_reason, "k=v");

    const int here2 = __LINE__; rc = shoal_errorf(SHOAL_EIO, __FILE__, __LINE__, "x");
    ck_assert_int_eq(rc, SHOAL_EIO);
    ck_assert_int_eq(rec_line, here2);
    ck_assert_str_eq(rec_file, __FILE__);
    ck_assert_int_eq(rec_calls, 2);
}
END_TEST

START_TEST(test_errorf_positive_code)
{
    /* A task code passes through unchanged. */
    shoal_set_error_handler(record);
    ck_assert_int_eq(shoal_errorf(37, "t.c", 3, "task %s", "failed"), 37);
    ck_assert_int_eq(rec_code, 37);
    ck_assert_str_eq(rec_reason, "task failed");
}
END_TEST

START_TEST(test_errorf_long_message)
{
    /* A reason longer than the formatting buffer is cut, not overflowed. */
    shoal_set_error_handler(record);
    size_t n = 3000;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'q', n);
    big[n] = '\0';
    int rc = shoal_errorf(SHOAL_EINVAL, "f.c", 1, "<%s>", big);
    ck_assert_int_eq(rc, SHOAL_EINVAL);
    ck_assert_int_eq(rec_calls, 1);
    size_t got = strlen(rec_reason);
    ck_assert_uint_gt(got, 1000);
    ck_assert_uint_lt(got, n);
    ck_assert_int_eq(rec_reason[0], '<');
    ck_assert_int_eq(rec_reason[got - 1], 'q');
    free(big);
}
END_TEST

START_TEST(test_error_reason_verbatim)
{
    /* shoal_error does no formatting: '%' in a reason is kept. */
    shoal_set_error_handler(record);
    shoal_error("100% of %s", "a.c", 9, SHOAL_EINTERNAL);
    ck_assert_int_eq(rec_calls, 1);
    ck_assert_str_eq(rec_reason, "100% of %s");
    ck_assert_str_eq(rec_file, "a.c");
    ck_assert_int_eq(rec_line, 9);
    ck_assert_int_eq(rec_code, SHOAL_EINTERNAL);
}
END_TEST

START_TEST(test_set_handler_returns_previous)
{
    ck_assert_ptr_null(shoal_set_error_handler(record));
    ck_assert_ptr_eq(shoal_set_error_handler(other_handler), record);
    ck_assert_ptr_eq(shoal_set_error_handler(NULL), other_handler);
    ck_assert_ptr_null(shoal_set_error_handler(NULL));
}
END_TEST

START_TEST(test_replaced_handler_not_called)
{
    shoal_set_error_handler(record);
    shoal_set_error_handler(other_handler);
    shoal_errorf(SHOAL_EIO, "f.c", 2, "gone");
    ck_assert_int_eq(rec_calls, 0);
}
END_TEST

START_TEST(test_default_restored)
{
    shoal_set_error_handler(record);
    shoal_errorf(SHOAL_EIO, "f.c", 1, "first");
    ck_assert_int_eq(rec_calls, 1);
    ck_assert_ptr_eq(shoal_set_error_handler(NULL), record);

    /* The default handler writes to stderr and does not reach `record`. */
    const char *out = capture_stderr_errorf(SHOAL_ECONFIG, "lib/x.c", 77,
                                            "cfg.ini:3: bad value 2.385");
    ck_assert_int_eq(rec_calls, 1);
    ck_assert_msg(strstr(out, "shoal: ") == out, "stderr: '%s'", out);
    ck_assert_msg(strstr(out, "error: cfg.ini:3: bad value 2.385\n") != NULL,
                  "stderr: '%s'", out);
    /* Our own source location only at debug verbosity. */
    ck_assert_msg(strstr(out, "lib/x.c") == NULL, "stderr: '%s'", out);
}
END_TEST

START_TEST(test_default_debug_location)
{
    shoal_log_set_level(SHOAL_LOG_DEBUG);
    const char *out =
        capture_stderr_errorf(SHOAL_EHDF5, "lib/y.c", 123, "write failed");
    ck_assert_msg(strstr(out, "write failed") != NULL, "stderr: '%s'", out);
    ck_assert_msg(strstr(out, "SHOAL_EHDF5") != NULL, "stderr: '%s'", out);
    ck_assert_msg(strstr(out, "lib/y.c:123") != NULL, "stderr: '%s'", out);
}
END_TEST

START_TEST(test_default_quiet_still_prints)
{
    /* Errors are printed even at the quietest level. */
    shoal_log_set_level(SHOAL_LOG_QUIET);
    const char *out = capture_stderr_errorf(SHOAL_EMPI, "z.c", 5, "lost rank");
    ck_assert_msg(strstr(out, "lost rank") != NULL, "stderr: '%s'", out);
}
END_TEST

static Suite *error_suite(void)
{
    Suite *s = suite_create("error");

    TCase *tc = tcase_create("codes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_map_descriptions);
    tcase_add_test(tc, test_map_names);
    tcase_add_test(tc, test_ok);
    tcase_add_test(tc, test_unknown_negative);
    tcase_add_test(tc, test_unknown_positive);
    suite_add_tcase(s, tc);

    tc = tcase_create("errorf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_errorf_formats_and_returns);
    tcase_add_test(tc, test_errorf_file_and_line);
    tcase_add_test(tc, test_errorf_positive_code);
    tcase_add_test(tc, test_errorf_long_message);
    tcase_add_test(tc, test_error_reason_verbatim);
    suite_add_tcase(s, tc);

    tc = tcase_create("handler");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_set_handler_returns_previous);
    tcase_add_test(tc, test_replaced_handler_not_called);
    tcase_add_test(tc, test_default_restored);
    tcase_add_test(tc, test_default_debug_location);
    tcase_add_test(tc, test_default_quiet_still_prints);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(error_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
