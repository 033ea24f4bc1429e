/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_adapt.c: stop_when's parser and its decision on the prefix of
 * finished tasks (lib/src/adapt.h), without MPI or a file.
 *
 * The decision depends only on the tasks' values in index order: fed in
 * any order of ranges (out of order, overlapping, one task at a time) it
 * is the same; it falls on a block end or the maximum; `and` binds before
 * `or`; failed tasks and non-finite values count for nothing; the hook
 * sees every task once, in order, and its stop ends the block. */
#include "adapt.h"

#include <shoal/error.h>

#include <check.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { X, K, S, NOUT };
static const shoal_field outputs[NOUT] = {
    [X] = {.name = "x", .type = SHOAL_FLOAT64, .watch = 1},
    [K] = {.name = "k", .type = SHOAL_INT64, .watch = 1},
    [S] = {.name = "s", .type = SHOAL_FLOAT64},
};
static shoal_app app = {.name = "t", .outputs = outputs, .noutputs = NOUT};

static void quiet(const char *reason, const char *file, int line, int code)
{
    (void)reason, (void)file, (void)line, (void)code;
}

static void setup(void) { shoal_set_error_handler(quiet); }

/* Values of task i: status (every 11th fails), x = a fixed pseudo-random
 * number in [0, 1), k = i % 5. */
static void values(uint64_t i, double *v)
{
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;
    v[0] = i % 11 == 10 ? SHOAL_STATUS_FAILED : SHOAL_STATUS_DONE;
    v[1] = v[0] == SHOAL_STATUS_DONE ? (double)(h >> 11) * 0x1p-53 : NAN;
    v[2] = v[0] == SHOAL_STATUS_DONE ? (double)(i % 5) : NAN;
}

/* Feed tasks [start, start + n). */
static int feed(shoal__adapt *a, uint64_t start, uint64_t n)
{
    double *v = malloc(n * 3 * sizeof *v);
    for (uint64_t k = 0; k < n; k++)
        values(start + k, v + 3 * k);
    int rc = shoal__adapt_feed(a, start, n, v);
    free(v);
    return rc;
}

static shoal__stop_expr parse_ok(const char *text)
{
    shoal__stop_expr e;
    ck_assert_int_eq(shoal__stop_parse(text, "t.ini:1", &app, &e), 0);
    return e;
}

START_TEST(parses)
{
    shoal__stop_expr e = parse_ok("sem(x) < 1e-3");
    ck_assert_uint_eq(e.n, 1);
    ck_assert_int_eq(e.c[0].stat, SHOAL__STAT_SEM);
    ck_assert_int_eq(e.c[0].op, SHOAL__OP_LT);
    ck_assert(e.c[0].value == 1e-3);
    e = parse_ok("  rsem( x )<=0.1 and count(k) >= 5 or max(x) > 3 ");
    ck_assert_uint_eq(e.n, 3);
    ck_assert_uint_eq(e.c[1].watched, 1);
    ck_assert_int_eq(e.c[1].or_before, 0);
    ck_assert_int_eq(e.c[2].or_before, 1);
    ck_assert_int_eq(e.c[0].op, SHOAL__OP_LE);
    const char *bad[] = {"", "sem(s) < 1", "sem(y) < 1", "sem(x)", "sem(x) < ",
                         "avg(x) < 1", "sem x < 1", "sem(x) < 1 and", "sem(x) < 1 xor sem(x) < 2",
                         "sem(x) < inf", "sem(x) < 1e400", "sem(x) < 1x",
                         "sem(x)<1 and sem(x)<1 and sem(x)<1 and sem(x)<1 and sem(x)<1 and "
                         "sem(x)<1 and sem(x)<1 and sem(x)<1 and sem(x)<1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        shoal__stop_expr b;
        ck_assert_msg(shoal__stop_parse(bad[i], "t.ini:1", &app, &b) == SHOAL_ECONFIG,
                      "accepted '%s'", bad[i]);
    }
}
END_TEST

/* The decision fed in order, one block at a time, against fed in ranges
 * out of order (and overlapping, and repeated). */
START_TEST(order_free)
{
    shoal__stop_expr e = parse_ok("sem(x) < 0.02");
    shoal__adapt in, out;
    ck_assert_int_eq(shoal__adapt_init(&in, &app, &e, 100000, 37), 0);
    ck_assert_int_eq(shoal__adapt_init(&out, &app, &e, 100000, 37), 0);
    for (uint64_t s = 0; !in.decided; s++)
        ck_assert_int_ge(feed(&in, s, 1), 0);
    /* sem of uniforms, 0.2887 / sqrt(n) < 0.02: n > 208 done tasks */
    ck_assert(in.used % 37 == 0 && in.used > 208 && in.used < 300);
    ck_assert_int_eq(in.met, 1);
    /* Ranges of 10 in the order 3, 1, 0 (overlapping 5..14), 2, ... */
    uint64_t order[] = {30, 10, 5, 0, 20, 60, 50, 40, 90, 70, 80};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        ck_assert_int_ge(feed(&out, order[i], 10), 0);
    for (uint64_t s = 100; !out.decided; s += 13)
        ck_assert_int_ge(feed(&out, s, 13), 0);
    ck_assert_uint_eq(out.used, in.used);
    ck_assert_str_eq(out.reason, in.reason);
    ck_assert(strstr(in.reason, "stop_when met after") != NULL);
    shoal__adapt_free(&in);
    shoal__adapt_free(&out);
}
END_TEST

START_TEST(maximum_and_precedence)
{
    /* Never holds (count(k) of done tasks < 1e9): decided at the maximum,
     * which need not be a block end. */
    shoal__stop_expr e = parse_ok("count(k) > 1e9");
    shoal__adapt a;
    ck_assert_int_eq(shoal__adapt_init(&a, &app, &e, 250, 100), 0);
    ck_assert_int_eq(feed(&a, 0, 250), 1);
    ck_assert_uint_eq(a.used, 250);
    ck_assert_int_eq(a.met, 0);
    ck_assert(strstr(a.reason, "maximum of 250 tasks") != NULL);
    shoal__adapt_free(&a);
    /* false and false or true: holds at the first block end; true or
     * false and false would too; false or true and false does not. */
    const char *texts[] = {"min(k) > 1 and max(k) > 1 or count(k) >= 1",
                           "count(k) >= 1 or min(k) > 1 and max(k) > 1",
                           "min(k) > 1 or count(k) >= 1 and max(k) > 99"};
    uint64_t want[] = {10, 10, 40};
    for (int i = 0; i < 3; i++) {
        e = parse_ok(texts[i]);
        ck_assert_int_eq(shoal__adapt_init(&a, &app, &e, 40, 10), 0);
        feed(&a, 0, 40);
        ck_assert_msg(a.used == want[i], "%s: used %llu", texts[i], (unsigned long long)a.used);
        shoal__adapt_free(&a);
    }
    /* Failed tasks count for nothing: 0..20 holds 20 done (10 failed). */
    e = parse_ok("count(k) >= 20");
    ck_assert_int_eq(shoal__adapt_init(&a, &app, &e, 1000, 1), 0);
    feed(&a, 0, 100);
    ck_assert_uint_eq(a.used, 21);
    shoal__adapt_free(&a);
}
END_TEST

static uint64_t hook_next;
static int hook_bad;
static int hook(uint64_t task, int status, const double *v, void *ctx)
{
    (void)ctx;
    double want[3];
    values(task, want);
    hook_bad |= task != hook_next++ || status != (int)want[0] ||
                !(v[0] == want[1] || (isnan(v[0]) && isnan(want[1])));
    return task == 123 ? 1 : 0;
}

START_TEST(hook_stops_at_block_end)
{
    shoal_app h = app;
    h.watch = hook;
    hook_next = 0;
    hook_bad = 0;
    shoal__adapt a;
    ck_assert_int_eq(shoal__adapt_init(&a, &h, NULL, 100000, 50), 0);
    ck_assert(shoal__adapt_active(&a));
    ck_assert_uint_eq(shoal__adapt_width(&a), 3);
    feed(&a, 100, 100); /* waits for 0..99 */
    ck_assert_uint_eq(hook_next, 0);
    feed(&a, 0, 100);
    ck_assert_int_eq(a.decided, 1);
    ck_assert_uint_eq(a.used, 150);
    ck_assert_uint_eq(hook_next, 150); /* the block's tasks after 123 too */
    ck_assert_int_eq(hook_bad, 0);
    shoal__adapt_free(&a);
    /* With a [scan] or [input] the hook only watches. */
    hook_next = 0;
    ck_assert_int_eq(shoal__adapt_init(&a, &h, NULL, 300, 50), 0);
    a.can_stop = 0;
    feed(&a, 0, 300);
    ck_assert_uint_eq(a.used, 300);
    ck_assert_int_eq(a.met, 0);
    shoal__adapt_free(&a);
}
END_TEST

static Suite *adapt_suite(void)
{
    Suite *s = suite_create("adapt");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, parses);
    tcase_add_test(tc, order_free);
    tcase_add_test(tc, maximum_and_precedence);
    tcase_add_test(tc, hook_stops_at_block_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(adapt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
