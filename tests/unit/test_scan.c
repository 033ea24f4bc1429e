/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_scan.c: parameter scans, the [scan] section and task -> values
 * (scan.h).
 *
 * Scans are built from INI text (shoal_config_parse, source "scan.ini") for
 * an app with float parameters T, h (bounded 0.001 .. 1), g (bounded
 * 0.03 .. 3), x, y, z, integer ones L (2 .. 4096), n (1 .. 100) and k
 * (unbounded), and a string one, model; a second table of 64 float
 * parameters p00 .. p63 serves the many-dimension cases.
 *
 *  - grammar: number and word lists, linspace (exact ends, n = 1),
 *    logspace (exponents), geomspace, range with 2 and 3 arguments, negative
 *    and non-integer steps (stop excluded), uniform, loguniform, normal, the
 *    options design / samples / replicates in [sampling], whitespace and
 *    comments, a --set override;
 *  - every error: SHOAL_ECONFIG, *out NULL, exactly one message that starts
 *    with the file:line of the offending [scan] line and says what is wrong;
 *  - index -> point mapping: grid order (first line slowest), replicates,
 *    zip, a 10^18-point grid decoded without overflow or memory, 2^62
 *    points, task >= tasks, options-only and missing sections, describe;
 *  - designs: lhs strata are permutations, random values inside their
 *    intervals and keyed by the seed, sobol and halton equal gsl_qrng's
 *    sequence whatever the query order, lists crossed with a design, normal
 *    draws have the right mean and sd, range() in a space-filling design
 *    gives range values only;
 *  - reproducibility: same text and seed give the same values, in any query
 *    order;
 *  - [sampling], the section of the options: mc_pi scanning its own
 *    parameter `samples`, parameters named design / samples / replicates,
 *    the error for an option still in [scan] (file:line or --set, and where
 *    it goes now), unknown keys in [sampling], [sampling] without [scan],
 *    and random draws pinned from runs made before the options moved.
 *
 * Tests named test_regression_* pin library bugs found while writing this
 * suite and since fixed; the comment above each says what went wrong.
 * Errors are captured by a recording handler. */
#include <shoal/config.h>
#include <shoal/error.h>
#include <shoal/scan.h>

#include <check.h>

#include <gsl/gsl_qrng.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* ---- a recording error handler --------------------------------------------------- */

static char last_msg[8192];  /* the last message */
static char all_msgs[65536]; /* every message, one per line */
static int last_code;
static int nerrors;

static void record(const char *reason, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    snprintf(last_msg, sizeof last_msg, "%s", reason);
    size_t used = strlen(all_msgs);
    if (used < sizeof all_msgs)
        snprintf(all_msgs + used, sizeof all_msgs - used, "%s\n", reason);
    last_code = code;
    nerrors++;
}

static void reset_errors(void)
{
    last_msg[0] = all_msgs[0] = '\0';
    last_code = 0;
    nerrors = 0;
}

static void setup(void)
{
    reset_errors();
    shoal_set_error_handler(record);
}

static void teardown(void) { shoal_set_error_handler(NULL); }

#define ASSERT_MSG_HAS(needle)                                                 \
    ck_assert_msg(strstr(last_msg, (needle)) != NULL,                          \
                  "message '%s' lacks '%s'", last_msg, (needle))

/* An assertion for hot loops: check's ck_assert_* records the location of
 * every passing assertion (a write to the parent in fork mode), which costs
 * more than a scan task; this only calls into check on failure. */
#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* A non-NULL pointer that no function returns, to see *out being cleared. */
static char sentinel_byte;
#define SENTINEL_SCAN ((shoal_scan *)(void *)&sentinel_byte)

/* ---- the app's parameters ------------------------------------------------------------ */

static const shoal_param params[] = {
    {"T", SHOAL_FLOAT64, "2.385", "temperature", 0, 0, NULL, NULL},
    {"h", SHOAL_FLOAT64, "0.01", "step, 0.001 .. 1", 1e-3, 1, NULL, NULL},
    {"g", SHOAL_FLOAT64, "0.5", "coupling, 0.03 .. 3", 0.03, 3, NULL, NULL},
    {"x", SHOAL_FLOAT64, "0", "x", 0, 0, NULL, NULL},
    {"y", SHOAL_FLOAT64, "0", "y", 0, 0, NULL, NULL},
    {"z", SHOAL_FLOAT64, "0", "z", 0, 0, NULL, NULL},
    {"L", SHOAL_INT64, "16", "lattice size, 2 .. 4096", 2, 4096, NULL, NULL},
    {"n", SHOAL_INT64, "10", "count, 1 .. 100", 1, 100, NULL, NULL},
    {"k", SHOAL_INT64, "0", "unbounded integer", 0, 0, NULL, NULL},
    {"model", SHOAL_STRING, "ising", "model name", 0, 0, NULL, NULL},
    {"algo", SHOAL_STRING, "wolff", "algorithm", 0, 0, "wolff|metropolis", NULL},
};
#define NPARAMS (sizeof params / sizeof params[0])

/* 64 unbounded float parameters p00 .. p63 (filled on first use). */
#define NBIG 64
static char big_names[NBIG][8];
static shoal_param big[NBIG];

static const shoal_param *big_params(void)
{
    for (int i = 0; i < NBIG; i++) {
        snprintf(big_names[i], sizeof big_names[i], "p%02d", i);
        big[i].name = big_names[i];
        big[i].type = SHOAL_FLOAT64;
        big[i].dflt = "0";
        big[i].doc = "many-dimension parameter";
        big[i].min = big[i].max = 0;
    }
    return big;
}

#define SEED 2385u
#define MAXV 70 /* values per task, enough for every scan here */
#define S "[scan]\n" /* line 1: the first entry is on line 2 */

/* ---- helpers ---------------------------------------------------------------------------- */

static shoal_config *parse_text(const char *text)
{
    shoal_config *cfg = NULL;
    int rc = shoal_config_parse(text, strlen(text), "scan.ini", &cfg);
    ck_assert_msg(rc == 0, "config parse of\n%s\nfailed (%d): %s", text, rc,
                  last_msg);
    ck_assert_ptr_nonnull(cfg);
    return cfg;
}

/* Build a scan that must succeed. The config is freed at once: the scan
 * must not keep pointers into it. */
static shoal_scan *scan_with(const char *text, const shoal_param *p, size_t np,
                             uint64_t seed)
{
    reset_errors();
    shoal_config *cfg = parse_text(text);
    shoal_scan *s = SENTINEL_SCAN;
    int rc = shoal_scan_create(cfg, "scan", p, np, seed, &s);
    shoal_config_free(cfg);
    ck_assert_msg(rc == 0, "scan of\n%s\nfailed (%d): %s", text, rc, last_msg);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_ne(s, SENTINEL_SCAN);
    ck_assert_msg(nerrors == 0, "messages: %s", all_msgs);
    return s;
}

static shoal_scan *scan_seed(const char *text, uint64_t seed)
{
    return scan_with(text, params, NPARAMS, seed);
}

static shoal_scan *scan_ok(const char *text) { return scan_seed(text, SEED); }

/* A scan that must fail with SHOAL_ECONFIG, *out NULL and exactly one
 * message starting with "<where>: ". */
static void fails_with(const char *text, const shoal_param *p, size_t np,
                       const char *where)
{
    reset_errors();
    shoal_config *cfg = parse_text(text);
    shoal_scan *s = SENTINEL_SCAN;
    int rc = shoal_scan_create(cfg, "scan", p, np, SEED, &s);
    shoal_config_free(cfg);
    if (rc == 0 && s != SENTINEL_SCAN)
        shoal_scan_free(s);
    ck_assert_msg(rc == SHOAL_ECONFIG, "scan of\n%s\ngave %d, not SHOAL_ECONFIG",
                  text, rc);
    ck_assert_msg(s == NULL, "scan of\n%s\nfailed but left *out set", text);
    ck_assert_msg(nerrors == 1, "scan of\n%s\ngave %d messages: %s", text,
                  nerrors, all_msgs);
    ck_assert_int_eq(last_code, SHOAL_ECONFIG);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s: ", where);
    ck_assert_msg(!strncmp(last_msg, prefix, strlen(prefix)),
                  "message '%s' for\n%s\ndoes not start with '%s'", last_msg,
                  text, prefix);
}

static void fails_at(const char *text, int line)
{
    char where[32];
    snprintf(where, sizeof where, "scan.ini:%d", line);
    fails_with(text, params, NPARAMS, where);
}

/* Table-driven error cases: text, the line the message must name, and up to
 * three substrings it must contain. */
typedef struct {
    const char *text;
    int line;
    const char *has[3];
} err_case;

static void run_err_cases(const err_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fails_at(c[i].text, c[i].line);
        for (int k = 0; k < 3 && c[i].has[k]; k++)
            ck_assert_msg(strstr(last_msg, c[i].has[k]) != NULL,
                          "message '%s' for\n%s\nlacks '%s'", last_msg,
                          c[i].text, c[i].has[k]);
    }
}
#define RUN_ERR_CASES(c) run_err_cases((c), sizeof(c) / sizeof((c)[0]))

/* Values of task t; checks rc and returns them in v. */
static void task_at(shoal_scan *s, uint64_t t, uint64_t *point,
                    uint64_t *rep, shoal_scan_value *v)
{
    REQUIRE(shoal_scan_ndims(s) <= MAXV, "%zu dimensions", shoal_scan_ndims(s));
    int rc = shoal_scan_task(s, t, point, rep, v);
    REQUIRE(rc == 0, "task %llu failed (%d): %s", (unsigned long long)t, rc,
            last_msg);
}

static double dval(shoal_scan *s, uint64_t t, size_t dim)
{
    uint64_t p, r;
    shoal_scan_value v[MAXV];
    task_at(s, t, &p, &r, v);
    return v[dim].d;
}

static int64_t lval(shoal_scan *s, uint64_t t, size_t dim)
{
    uint64_t p, r;
    shoal_scan_value v[MAXV];
    task_at(s, t, &p, &r, v);
    return v[dim].l;
}

static const char *sval(shoal_scan *s, uint64_t t, size_t dim)
{
    uint64_t p, r;
    shoal_scan_value v[MAXV];
    task_at(s, t, &p, &r, v);
    ck_assert_ptr_nonnull(v[dim].s);
    return v[dim].s;
}

/* A one-dimension scan's float values must be exactly `want`. */
static void expect_doubles(const char *text, const double *want, size_t n)
{
    shoal_scan *s = scan_ok(text);
    ck_assert_uint_eq(shoal_scan_ndims(s), 1);
    ck_assert_msg(shoal_scan_points(s) == n, "%s: %llu points, want %zu", text,
                  (unsigned long long)shoal_scan_points(s), n);
    for (size_t i = 0; i < n; i++) {
        double v = dval(s, i, 0);
        ck_assert_msg(v == want[i], "%s: value %zu is %.17g, want %.17g", text,
                      i, v, want[i]);
    }
    shoal_scan_free(s);
}

/* ... within a relative tolerance. */
static void expect_near(const char *text, const double *want, size_t n,
                        double rel)
{
    shoal_scan *s = scan_ok(text);
    ck_assert_uint_eq(shoal_scan_ndims(s), 1);
    ck_assert_msg(shoal_scan_points(s) == n, "%s: %llu points, want %zu", text,
                  (unsigned long long)shoal_scan_points(s), n);
    for (size_t i = 0; i < n; i++) {
        double v = dval(s, i, 0);
        ck_assert_msg(fabs(v - want[i]) <= rel * fabs(want[i]) + 1e-300,
                      "%s: value %zu is %.17g, want %.17g", text, i, v,
                      want[i]);
    }
    shoal_scan_free(s);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The n first points of a gsl_qrng in dims dimensions, as the scan sees
 * them (kept strictly inside (0,1)). */
static double *qrng_points(const gsl_qrng_type *type, unsigned dims, size_t n)
{
    gsl_qrng *q = gsl_qrng_alloc(type, dims);
    ck_assert_ptr_nonnull(q);
    double *u = malloc(n * dims * sizeof *u);
    ck_assert_ptr_nonnull(u);
    for (size_t j = 0; j < n; j++) {
        gsl_qrng_get(q, u + j * dims);
        for (unsigned k = 0; k < dims; k++) {
            double *c = &u[j * dims + k];
            if (*c <= 0)
                *c = 0x1p-53;
            else if (*c >= 1)
                *c = 1 - 0x1p-53;
        }
    }
    gsl_qrng_free(q);
    return u;
}

static int near_rel(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-300;
}

/* ---- grammar ---------------------------------------------------------------------------- */

START_TEST(test_list_numbers)
{
    shoal_scan *s = scan_ok(S "T = 2.385, -1e-3, 7, 0.5, 1E2\n");
    ck_assert_uint_eq(shoal_scan_ndims(s), 1);
    ck_assert_str_eq(shoal_scan_name(s, 0), "T");
    ck_assert_int_eq(shoal_scan_type(s, 0), SHOAL_FLOAT64);
    ck_assert_uint_eq(shoal_scan_points(s), 5);
    ck_assert_uint_eq(shoal_scan_replicates(s), 1);
    ck_assert_uint_eq(shoal_scan_tasks(s), 5);
    const double want[] = {2.385, -1e-3, 7, 0.5, 100};
    for (size_t i = 0; i < 5; i++)
        ck_assert(dval(s, i, 0) == want[i]);
    shoal_scan_free(s);

    /* One value is a list of one. */
    const double one[] = {2.385};
    expect_doubles(S "T = 2.385\n", one, 1);
}
END_TEST

START_TEST(test_list_integers)
{
    shoal_scan *s = scan_ok(S "L = 16, 32.0, 1e3, 2, 4096\n");
    ck_assert_int_eq(shoal_scan_type(s, 0), SHOAL_INT64);
    ck_assert_uint_eq(shoal_scan_points(s), 5);
    const int64_t want[] = {16, 32, 1000, 2, 4096};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(lval(s, i, 0), want[i]);
        ck_assert(dval(s, i, 0) == (double)want[i]);
    }
    shoal_scan_free(s);

    s = scan_ok(S "k = -7, 0, 9007199254740991\n");
    ck_assert_int_eq(lval(s, 0, 0), -7);
    ck_assert_int_eq(lval(s, 1, 0), 0);
    ck_assert_int_eq(lval(s, 2, 0), INT64_C(9007199254740991));
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_list_words)
{
    shoal_scan *s = scan_ok(S "model = ising, potts ,  xy,clock-6\n");
    ck_assert_uint_eq(shoal_scan_ndims(s), 1);
    ck_assert_str_eq(shoal_scan_name(s, 0), "model");
    ck_assert_int_eq(shoal_scan_type(s, 0), SHOAL_STRING);
    ck_assert_uint_eq(shoal_scan_points(s), 4);
    ck_assert_uint_eq(shoal_scan_strlen(s, 0), strlen("clock-6"));
    ck_assert_str_eq(sval(s, 0, 0), "ising");
    ck_assert_str_eq(sval(s, 1, 0), "potts");
    ck_assert_str_eq(sval(s, 2, 0), "xy");
    ck_assert_str_eq(sval(s, 3, 0), "clock-6");
    shoal_scan_free(s);

    /* Numbers are words for a string parameter. */
    s = scan_ok(S "model = 1, 2.5\n");
    ck_assert_str_eq(sval(s, 0, 0), "1");
    ck_assert_str_eq(sval(s, 1, 0), "2.5");
    ck_assert_uint_eq(shoal_scan_strlen(s, 0), 3);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_linspace)
{
    shoal_scan *s = scan_ok(S "T = linspace(1.5, 3.5, 41)\n");
    ck_assert_uint_eq(shoal_scan_points(s), 41);
    ck_assert(dval(s, 0, 0) == 1.5);
    ck_assert(dval(s, 40, 0) == 3.5);
    for (uint64_t i = 0; i < 41; i++)
        ck_assert_double_eq_tol(dval(s, i, 0), 1.5 + 0.05 * (double)i, 1e-13);
    shoal_scan_free(s);

    /* Awkward ends are exact, increasing or decreasing. */
    s = scan_ok(S "T = linspace(0.1, 2.385, 7)\n");
    ck_assert(dval(s, 0, 0) == 0.1);
    ck_assert(dval(s, 6, 0) == 2.385);
    for (uint64_t i = 1; i < 7; i++)
        ck_assert(dval(s, i, 0) > dval(s, i - 1, 0));
    shoal_scan_free(s);
    s = scan_ok(S "T = linspace(2.385, -0.7, 3)\n");
    ck_assert(dval(s, 0, 0) == 2.385);
    ck_assert_double_eq_tol(dval(s, 1, 0), (2.385 - 0.7) / 2, 1e-14);
    ck_assert(dval(s, 2, 0) == -0.7);
    shoal_scan_free(s);

    /* n = 1: the start only; n = 2: both ends. */
    const double one[] = {2.385};
    expect_doubles(S "T = linspace(2.385, 7, 1)\n", one, 1);
    const double two[] = {2.385, 7};
    expect_doubles(S "T = linspace(2.385, 7, 2)\n", two, 2);

    /* Integer parameter: whole-number steps. */
    s = scan_ok(S "L = linspace(16, 4096, 256)\n");
    ck_assert_uint_eq(shoal_scan_points(s), 256);
    for (uint64_t i = 0; i < 256; i++)
        ck_assert_int_eq(lval(s, i, 0), 16 + 16 * (int64_t)i);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_logspace)
{
    /* Exponents of 10: logspace(-3, 0, 4) = 0.001, 0.01, 0.1, 1. */
    const double dec[] = {0.001, 0.01, 0.1, 1};
    expect_near(S "T = logspace(-3, 0, 4)\n", dec, 4, 4e-16);
    /* Ends exact, within h's bounds 0.001 .. 1. */
    shoal_scan *s = scan_ok(S "h = logspace(-3, 0, 10)\n");
    ck_assert(dval(s, 0, 0) == 0.001);
    ck_assert(dval(s, 9, 0) == 1.0);
    for (uint64_t i = 1; i < 10; i++)
        ck_assert(near_rel(dval(s, i, 0) / dval(s, i - 1, 0), pow(10, 1.0 / 3),
                           1e-13));
    shoal_scan_free(s);
    const double rev[] = {100, 10, 1, 0.1};
    expect_near(S "T = logspace(2, -1, 4)\n", rev, 4, 4e-16);
    const double one[] = {1000};
    expect_near(S "T = logspace(3, 7, 1)\n", one, 1, 4e-16);
    const double frac[] = {pow(10, 0.5), pow(10, 2.385)};
    expect_near(S "T = logspace(0.5, 2.385, 2)\n", frac, 2, 4e-16);
}
END_TEST

START_TEST(test_geomspace)
{
    const double dec[] = {0.001, 0.01, 0.1, 1};
    expect_near(S "T = geomspace(0.001, 1, 4)\n", dec, 4, 1e-14);
    double pw[11];
    for (int i = 0; i < 11; i++)
        pw[i] = ldexp(1.0, i + 1);
    expect_near(S "T = geomspace(2, 2048, 11)\n", pw, 11, 1e-14);
    const double rev[] = {1, 0.1, 0.01, 0.001};
    expect_near(S "T = geomspace(1, 0.001, 4)\n", rev, 4, 1e-14);
    const double one[] = {2.385};
    expect_near(S "T = geomspace(2.385, 7, 1)\n", one, 1, 1e-15);
    /* The stop is exact; within h's bounds. */
    shoal_scan *s = scan_ok(S "h = geomspace(0.001, 1, 5)\n");
    ck_assert(dval(s, 4, 0) == 1.0);
    ck_assert(dval(s, 0, 0) >= 0.001);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_range)
{
    const double two_args[] = {0, 1, 2, 3, 4};
    expect_doubles(S "T = range(0, 5)\n", two_args, 5);
    const double shifted[] = {-2.5, -1.5, -0.5, 0.5};
    expect_doubles(S "T = range(-2.5, 1)\n", shifted, 4);
    const double step3[] = {2, 5, 8};
    expect_doubles(S "T = range(2, 11, 3)\n", step3, 3);
    const double step3b[] = {2, 5, 8, 11};
    expect_doubles(S "T = range(2, 12, 3)\n", step3b, 4);
    /* Negative step: down to, not including, the stop. */
    const double down[] = {10, 7, 4, 1};
    expect_doubles(S "T = range(10, 0, -3)\n", down, 4);
    const double down1[] = {5, 4, 3, 2, 1};
    expect_doubles(S "T = range(5, 0, -1)\n", down1, 5);
    const double downf[] = {-1, -1.5, -2};
    expect_doubles(S "T = range(-1, -2.385, -0.5)\n", downf, 3);
    /* One value: range(7, 8). */
    const double single[] = {7};
    expect_doubles(S "T = range(7, 8)\n", single, 1);

    /* Non-integer steps: range(0, 1, 0.1) has 10 values, start + i * step. */
    double tenth[10];
    for (int i = 0; i < 10; i++)
        tenth[i] = 0 + (double)i * 0.1;
    expect_doubles(S "T = range(0, 1, 0.1)\n", tenth, 10);
    /* 1 + 3 * 0.1 rounds to 1.3000000000000003: still excluded. */
    const double r13[] = {1, 1 + 0.1, 1 + 2 * 0.1};
    expect_doubles(S "T = range(1, 1.3, 0.1)\n", r13, 3);
    double quarter[4];
    for (int i = 0; i < 4; i++)
        quarter[i] = 2.385 + (double)i * 0.25;
    expect_doubles(S "T = range(2.385, 3.385, 0.25)\n", quarter, 4);

    /* Integer parameter. */
    shoal_scan *s = scan_ok(S "L = range(16, 65, 16)\n");
    ck_assert_uint_eq(shoal_scan_points(s), 4);
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_int_eq(lval(s, i, 0), 16 * (int64_t)(i + 1));
    shoal_scan_free(s);
    s = scan_ok(S "n = range(100, 0, -33)\n");
    ck_assert_uint_eq(shoal_scan_points(s), 4);
    ck_assert_int_eq(lval(s, 0, 0), 100);
    ck_assert_int_eq(lval(s, 3, 0), 1);
    shoal_scan_free(s);
    /* The top of L's bounds is reachable: range(2, 4097) ends at 4096. */
    s = scan_ok(S "L = range(2, 4097)\n");
    ck_assert_uint_eq(shoal_scan_points(s), 4095);
    ck_assert_int_eq(lval(s, 4094, 0), 4096);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_random_functions)
{
    shoal_scan *s = scan_ok(S "x = uniform(2.385, 7)\n"
                              "h = loguniform(1e-3, 1)\n"
                              "z = normal(-1, 2.5)\n"
                              "[sampling]\nsamples = 500\n");
    ck_assert_uint_eq(shoal_scan_ndims(s), 3);
    ck_assert_uint_eq(shoal_scan_points(s), 500);
    ck_assert_uint_eq(shoal_scan_tasks(s), 500);
    int below_decade = 0, neg = 0, pos = 0;
    for (uint64_t t = 0; t < 500; t++) {
        uint64_t p, r;
        shoal_scan_value v[MAXV];
        task_at(s, t, &p, &r, v);
        ck_assert(v[0].d >= 2.385 && v[0].d <= 7);
        ck_assert(v[1].d >= 1e-3 && v[1].d <= 1);
        ck_assert(isfinite(v[2].d));
        below_decade += v[1].d < 0.01;
        neg += v[2].d < -1;
        pos += v[2].d > -1;
    }
    /* loguniform: a third of the draws lie in the first decade. */
    ck_assert_msg(below_decade > 120 && below_decade < 215, "%d of 500",
                  below_decade);
    ck_assert(neg > 200 && pos > 200);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_options)
{
    /* [sampling] before or after [scan]. */
    shoal_scan *s = scan_ok("[sampling]\nreplicates = 3\ndesign = grid\n"
                            "[scan]\nL = 16, 32\nT = 1, 2, 3, 4\n");
    ck_assert_uint_eq(shoal_scan_points(s), 8);
    ck_assert_uint_eq(shoal_scan_replicates(s), 3);
    ck_assert_uint_eq(shoal_scan_tasks(s), 24);
    ck_assert_uint_eq(shoal_scan_ndims(s), 2);
    ck_assert_str_eq(shoal_scan_name(s, 0), "L");
    ck_assert_str_eq(shoal_scan_name(s, 1), "T");
    shoal_scan_free(s);

    s = scan_ok(S "x = uniform(0, 1)\n[sampling]\nsamples = 10\nreplicates = 2\n");
    ck_assert_uint_eq(shoal_scan_points(s), 10);
    ck_assert_uint_eq(shoal_scan_tasks(s), 20);
    shoal_scan_free(s);

    /* samples = 1e2 is a whole number. */
    s = scan_ok(S "x = uniform(0, 1)\n[sampling]\nsamples = 1e2\ndesign = lhs\n");
    ck_assert_uint_eq(shoal_scan_points(s), 100);
    shoal_scan_free(s);

    const char *designs[] = {"random", "lhs", "sobol", "halton"};
    for (size_t i = 0; i < 4; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 S "T = linspace(1, 2, 3)\n[sampling]\ndesign = %s\nsamples = 7\n",
                 designs[i]);
        s = scan_ok(text);
        ck_assert_uint_eq(shoal_scan_points(s), 7);
        shoal_scan_free(s);
    }
}
END_TEST

START_TEST(test_whitespace)
{
    const char *forms[] = {
        S "T=linspace(1.5,3.5,5)\nL=16,32\n",
        S "T   =   linspace ( 1.5 ,3.5,   5 )   \n  L =  16 ,  32  \n",
        S "\tT\t=\tlinspace(\t1.5,\t3.5,\t5\t)\t\nL\t=\t16,\t32\n",
        S "T = linspace(1.5, 3.5, 5) ; inline comment\nL = 16, 32   ;another\n",
        "; comment\n\n[scan]\r\nT = linspace(1.5, 3.5, 5)\r\nL = 16, 32\r\n",
    };
    shoal_scan *ref = scan_ok(forms[0]);
    ck_assert_uint_eq(shoal_scan_points(ref), 10);
    for (size_t f = 1; f < sizeof forms / sizeof forms[0]; f++) {
        shoal_scan *s = scan_ok(forms[f]);
        ck_assert_msg(shoal_scan_points(s) == 10, "form %zu: %llu points", f,
                      (unsigned long long)shoal_scan_points(s));
        for (uint64_t t = 0; t < 10; t++) {
            ck_assert(dval(s, t, 0) == dval(ref, t, 0));
            ck_assert_int_eq(lval(s, t, 1), lval(ref, t, 1));
        }
        shoal_scan_free(s);
    }
    shoal_scan_free(ref);

    shoal_scan *s = scan_ok(S "model =  a ,b\t, c  \n[sampling]\ndesign =  grid \n");
    ck_assert_str_eq(sval(s, 0, 0), "a");
    ck_assert_str_eq(sval(s, 1, 0), "b");
    ck_assert_str_eq(sval(s, 2, 0), "c");
    ck_assert_uint_eq(shoal_scan_strlen(s, 0), 1);
    shoal_scan_free(s);
}
END_TEST

/* A --set override replaces a [scan] line; errors then name the option. */
START_TEST(test_set_override)
{
    shoal_config *cfg = parse_text(S "T = 1, 2\n");
    ck_assert_int_eq(shoal_config_set(cfg, "scan.T=linspace(0, 1, 5)"), 0);
    ck_assert_int_eq(shoal_config_set(cfg, "sampling.replicates=2"), 0);
    shoal_scan *s = NULL;
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s), 0);
    shoal_config_free(cfg);
    ck_assert_uint_eq(shoal_scan_points(s), 5);
    ck_assert_uint_eq(shoal_scan_tasks(s), 10);
    ck_assert(dval(s, 9, 0) == 1.0);
    shoal_scan_free(s);

    cfg = parse_text(S "T = 1, 2\n");
    ck_assert_int_eq(shoal_config_set(cfg, "scan.T=linspace(0, 1, 0)"), 0);
    s = SENTINEL_SCAN;
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s),
                     SHOAL_ECONFIG);
    shoal_config_free(cfg);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(nerrors, 1);
    ASSERT_MSG_HAS("--set scan.T");
    ASSERT_MSG_HAS("n >= 1");
}
END_TEST

/* ---- errors ------------------------------------------------------------------------------ */

START_TEST(test_err_functions)
{
    static const err_case cases[] = {
        {S "T = linspaec(1, 2, 3)\n", 2,
         {"unknown function 'linspaec'", "linspace", "geomspace"}},
        {S "L = 16\nT = lin(1, 2, 3)\n", 3, {"unknown function 'lin'", "range", NULL}},
        {S "T = (1, 2)\n", 2, {"unknown function", NULL, NULL}},
        {S "T = linspace(1, 2, 3\n", 2, {"expected ')'", "linspace", NULL}},
        {S "T = linspace(1, 2, 3) 4\n", 2, {"expected ')'", NULL, NULL}},
        {S "T = \n", 2, {"T has no value", NULL, NULL}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

START_TEST(test_err_arity)
{
    static const err_case cases[] = {
        {S "T = linspace(1, 2)\n", 2, {"linspace takes 3 arguments", "got 2", "start, stop, n"}},
        {S "T = linspace()\n", 2, {"linspace takes 3 arguments", "got 0", NULL}},
        {S "T = linspace(1, 2, 3, 4)\n", 2, {"takes 3 arguments", "got 4", NULL}},
        {S "T = logspace(1)\n", 2, {"logspace takes 3", "got 1", "exponent"}},
        {S "T = geomspace(1, 2)\n", 2, {"geomspace takes 3", "got 2", NULL}},
        {S "T = range(1)\n", 2, {"range takes 2 or 3 arguments", "got 1", NULL}},
        {S "T = range(1, 2, 3, 4)\n", 2, {"range takes 2 or 3", "got 4", NULL}},
        {S "x = uniform(0, 1, 2)\n[sampling]\nsamples = 4\n", 2, {"uniform takes 2", "got 3", "a, b"}},
        {S "x = loguniform(1)\n[sampling]\nsamples = 4\n", 2, {"loguniform takes 2", "got 1", NULL}},
        {S "z = normal(0)\n[sampling]\nsamples = 4\n", 2, {"normal takes 2", "got 1", "mu, sigma"}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

START_TEST(test_err_not_a_number)
{
    static const err_case cases[] = {
        {S "T = linspace(1, two, 3)\n", 2, {"argument 2 of linspace", "'two'", "not a finite number"}},
        {S "T = linspace(1, 2, )\n", 2, {"argument 3 of linspace", "not a finite number", NULL}},
        {S "T = range(, 2)\n", 2, {"argument 1 of range", NULL, NULL}},
        {S "T = linspace(1, inf, 3)\n", 2, {"'inf'", "not a finite number", NULL}},
        {S "T = linspace(nan, 1, 3)\n", 2, {"'nan'", NULL, NULL}},
        {S "T = linspace(0x10, 1, 3)\n", 2, {"'0x10'", NULL, NULL}},
        {S "T = range(0, 1e999)\n", 2, {"argument 2", "'1e999'", NULL}},
        {S "x = uniform(0, 1b)\n[sampling]\nsamples = 3\n", 2, {"argument 2 of uniform", "'1b'", NULL}},
        {S "T = 1, two, 3\n", 2, {"'two' is not a finite number", "T is a number parameter", NULL}},
        {S "L = 16, big\n", 2, {"'big' is not a finite number", "L is an integer parameter", NULL}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

START_TEST(test_err_ranges_and_counts)
{
    static const err_case cases[] = {
        {S "T = range(5, 5)\n", 2, {"range(5, 5, 1) is empty", "excluded", NULL}},
        {S "T = range(5, 2)\n", 2, {"is empty", NULL, NULL}},
        {S "T = range(0, 5, -1)\n", 2, {"range(0, 5, -1) is empty", NULL, NULL}},
        {S "T = range(2.385, 1, 0.5)\n", 2, {"is empty", NULL, NULL}},
        {S "T = range(0, 5, 0)\n", 2, {"range step must not be 0", NULL, NULL}},
        {S "T = range(0, 5, -0.0)\n", 2, {"step must not be 0", NULL, NULL}},
        {S "T = range(0, 1e300, 1)\n", 2, {"too many values", NULL, NULL}},
        {S "T = linspace(0, 1, 0)\n", 2, {"linspace needs a whole number of values n >= 1", "got 0", NULL}},
        {S "T = linspace(0, 1, -3)\n", 2, {"n >= 1", "got -3", NULL}},
        {S "T = linspace(0, 1, 2.5)\n", 2, {"whole number", "got 2.5", NULL}},
        {S "T = logspace(-3, 0, 0)\n", 2, {"logspace needs a whole number", NULL, NULL}},
        {S "T = logspace(-3, 0, 3.5)\n", 2, {"logspace needs a whole number", "3.5", NULL}},
        {S "T = geomspace(1, 2, 0)\n", 2, {"geomspace needs a whole number", NULL, NULL}},
        {S "T = geomspace(1, 2, 1.5)\n", 2, {"geomspace needs a whole number", "1.5", NULL}},
        {S "T = logspace(0.001, 1000, 4)\n", 2, {"logspace takes exponents", "geomspace(0.001, 1000, n)", NULL}},
        {S "T = logspace(-400, 0, 4)\n", 2, {"out of range", NULL, NULL}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

START_TEST(test_err_function_domains)
{
    static const err_case cases[] = {
        {S "T = geomspace(0, 1, 4)\n", 2, {"geomspace needs positive bounds", "logspace", NULL}},
        {S "T = geomspace(-1, 1, 3)\n", 2, {"positive bounds", "-1", NULL}},
        {S "T = geomspace(1, -2.385, 3)\n", 2, {"positive bounds", "-2.385", NULL}},
        {S "x = loguniform(0, 1)\n[sampling]\nsamples = 4\n", 2, {"loguniform(a, b) needs 0 < a < b", NULL, NULL}},
        {S "x = loguniform(-1, 1)\n[sampling]\nsamples = 4\n", 2, {"0 < a < b", "-1", NULL}},
        {S "x = loguniform(2, 1)\n[sampling]\nsamples = 4\n", 2, {"0 < a < b", NULL, NULL}},
        {S "x = uniform(1, 1)\n[sampling]\nsamples = 4\n", 2, {"uniform(a, b) needs a < b", NULL, NULL}},
        {S "x = uniform(2.385, 1)\n[sampling]\nsamples = 4\n", 2, {"a < b", "2.385", NULL}},
        {S "z = normal(0, 0)\n[sampling]\nsamples = 4\n", 2, {"normal(mu, sigma) needs sigma > 0", NULL, NULL}},
        {S "z = normal(0, -2.385)\n[sampling]\nsamples = 4\n", 2, {"sigma > 0", "-2.385", NULL}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

START_TEST(test_err_designs)
{
    static const err_case cases[] = {
        {S "T = 1, 2, 3\nx = 1, 2\n[sampling]\ndesign = zip\n", 3, {"design = zip needs equal lengths", "3", "2"}},
        {S "T = 1, 2\nmodel = a, b, c\n[sampling]\ndesign = zip\n", 3, {"equal lengths", NULL, NULL}},
        {S "T = 1, 2\n[sampling]\ndesign = latin\n", 4, {"design = 'latin' is unknown", "lhs", "halton"}},
        {S "T = 1, 2\n[sampling]\ndesign = LHS\n", 4, {"unknown", NULL, NULL}},
        {S "L = 16, 32\n[sampling]\ndesign = lhs\nsamples = 4\n", 4, {"design = lhs needs at least one ranged or random", NULL, NULL}},
        {S "model = a, b\n[sampling]\ndesign = sobol\nsamples = 4\n", 4, {"design = sobol needs at least one", NULL, NULL}},
        {S "[sampling]\ndesign = random\nsamples = 4\n", 3, {"design = random needs", NULL, NULL}},
        {S "T = linspace(1, 2, 3)\n[sampling]\ndesign = lhs\n", 4, {"needs 'samples = N'", NULL, NULL}},
        {S "x = uniform(0, 1)\n", 2, {"random parameters", "samples = N", NULL}},
        {S "L = 16, 32\n[sampling]\nsamples = 10\n", 4, {"samples is for random parameters", "a grid of lists has none", NULL}},
        {S "T = 1, 2\n[sampling]\ndesign = zip\nsamples = 2\n", 5, {"samples is for random", "zip has none", NULL}},
        {S "T = 1, 2, 3\nx = uniform(0, 1)\n[sampling]\ndesign = zip\nsamples = 4\n", 6, {"samples = 4", "zipped lists have 3", NULL}},
        {S "x = uniform(0, 1)\n[sampling]\nsamples = 0\n", 4, {"samples = '0' must be a whole number >= 1", NULL, NULL}},
        {S "x = uniform(0, 1)\n[sampling]\nsamples = 2.5\n", 4, {"must be a whole number", "2.5", NULL}},
        {S "[sampling]\nreplicates = -1\n", 3, {"replicates = '-1' must be a whole number >= 1", NULL, NULL}},
        {S "T = 1, 2\n[sampling]\nreplicates = many\n", 4, {"replicates = 'many'", NULL, NULL}},
        {S "x = uniform(0, 1)\ny = uniform(0, 1)\n[sampling]\ndesign = lhs\nsamples = 50000000\n", 5, {"lhs with 50000000 samples x 2 dimensions", "MiB", "sobol"}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

/* sobol takes at most 40 dimensions: 40 work and match gsl, 41 do not. */
START_TEST(test_err_sobol_41_dims)
{
    const shoal_param *bp = big_params();
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text,
                                  "[sampling]\ndesign = sobol\nsamples = 5\n[scan]\n");
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "p%02d = uniform(0, 1)\n", i);
    shoal_scan *s = scan_with(text, bp, NBIG, SEED);
    ck_assert_uint_eq(shoal_scan_ndims(s), 40);
    double *u = qrng_points(gsl_qrng_sobol, 40, 5);
    for (uint64_t t = 0; t < 5; t++)
        for (size_t d = 0; d < 40; d++)
            ck_assert(dval(s, t, d) == u[t * 40 + d]);
    free(u);
    shoal_scan_free(s);

    snprintf(text + len, sizeof text - len, "p40 = uniform(0, 1)\n");
    fails_with(text, bp, NBIG, "scan.ini:2");
    ASSERT_MSG_HAS("design = sobol supports at most 40 dimensions");
    ASSERT_MSG_HAS("41");
}
END_TEST

START_TEST(test_err_unknown_parameter)
{
    fails_at(S "T = 1, 2\ntemp = 1, 2\n", 3);
    ASSERT_MSG_HAS("'temp' is not a parameter of this app");
    ASSERT_MSG_HAS("T, h, g, x, y, z, L, n, k, model");
    ASSERT_MSG_HAS("design, samples and replicates go in [sampling]");
    /* Names are case-sensitive. */
    fails_at(S "t = 1, 2\n", 2);
    ASSERT_MSG_HAS("'t' is not a parameter");
    /* An app without parameters. */
    fails_with(S "T = 1\n", params, 0, "scan.ini:2");
    ASSERT_MSG_HAS("(none)");
}
END_TEST

START_TEST(test_err_integer_values)
{
    static const err_case cases[] = {
        {S "L = 16, 2.5\n", 2, {"'2.5' is not an integer", "L is an integer parameter", NULL}},
        {S "T = 1\nn = linspace(1, 2, 3)\n", 3, {"n is an integer parameter", "not all whole numbers", NULL}},
        {S "n = linspace(1.5, 10, 1)\n", 2, {"not all whole numbers", NULL, NULL}},
        {S "n = range(1.5, 10)\n", 2, {"not all whole numbers", NULL, NULL}},
        {S "n = range(1, 10, 0.5)\n", 2, {"not all whole numbers", NULL, NULL}},
        {S "n = logspace(0, 2, 3)\n", 2, {"not all whole numbers", NULL, NULL}},
        {S "n = uniform(1, 10)\n[sampling]\nsamples = 4\n", 2, {"n is an integer parameter", "continuously", NULL}},
        {S "n = uniform(1, 10)\n[sampling]\ndesign = random\nsamples = 4\n", 2, {"continuously", NULL, NULL}},
        {S "n = uniform(1, 10)\n[sampling]\ndesign = lhs\nsamples = 4\n", 2, {"continuously", NULL, NULL}},
        {S "n = uniform(1, 10)\n[sampling]\ndesign = sobol\nsamples = 4\n", 2, {"continuously", NULL, NULL}},
        {S "n = uniform(1, 10)\n[sampling]\ndesign = halton\nsamples = 4\n", 2, {"continuously", NULL, NULL}},
        {S "n = uniform(1, 10)\n[sampling]\ndesign = zip\nsamples = 4\n", 2, {"continuously", NULL, NULL}},
        {S "n = loguniform(1, 10)\n[sampling]\nsamples = 4\n", 2, {"continuously", NULL, NULL}},
        {S "n = normal(50, 5)\n[sampling]\nsamples = 4\n", 2, {"continuously", NULL, NULL}},
        /* linspace with whole ends is still continuous in a design. */
        {S "x = uniform(0, 1)\nn = linspace(1, 10, 10)\n[sampling]\ndesign = lhs\nsamples = 4\n", 3, {"continuously", "range(", NULL}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

START_TEST(test_err_string_function)
{
    static const err_case cases[] = {
        {S "model = linspace(1, 2, 3)\n", 2, {"model is a string parameter", "list of words", NULL}},
        {S "model = uniform(0, 1)\n[sampling]\nsamples = 3\n", 2, {"string parameter", NULL, NULL}},
        {S "model = range(0, 3)\n", 2, {"string parameter", NULL, NULL}},
        {S "model = a,,b\n", 2, {"empty value in the list (item 2)", NULL, NULL}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

START_TEST(test_err_bounds)
{
    static const err_case cases[] = {
        {S "L = 1, 16\n", 2, {"L takes values from 1 to 16", "outside its allowed range 2 .. 4096", NULL}},
        {S "L = 16, 4097\n", 2, {"4097", "2 .. 4096", NULL}},
        {S "L = range(2, 4098)\n", 2, {"from 2 to 4097", NULL, NULL}},
        {S "L = range(4096, 0, -1)\n", 2, {"from 1 to 4096", NULL, NULL}},
        {S "L = linspace(0, 4096, 5)\n", 2, {"outside its allowed range", NULL, NULL}},
        {S "n = range(0, 101, 10)\n", 2, {"n takes values from 0 to 100", "1 .. 100", NULL}},
        {S "T = 1\nh = 0.5, 2.385\n", 3, {"h takes values", "0.001 .. 1", NULL}},
        {S "h = uniform(0, 1)\n[sampling]\nsamples = 4\n", 2, {"h takes values from 0 to 1", NULL, NULL}},
        {S "h = loguniform(1e-4, 1)\n[sampling]\ndesign = lhs\nsamples = 4\n", 2, {"outside its allowed range", NULL, NULL}},
        {S "h = logspace(-4, 0, 5)\n", 2, {"outside", NULL, NULL}},
        {S "h = geomspace(0.001, 2, 5)\n", 2, {"outside", NULL, NULL}},
        {S "h = normal(0.5, 0.1)\n[sampling]\nsamples = 4\n", 2, {"outside", NULL, NULL}},
        {S "x = uniform(0, 1)\nh = linspace(0, 1, 3)\n[sampling]\ndesign = sobol\nsamples = 4\n", 3, {"h takes values from 0 to 1", NULL, NULL}},
    };
    RUN_ERR_CASES(cases);
    /* The bounds themselves are allowed. */
    shoal_scan *s = scan_ok(S "L = 2, 4096\nh = 0.001, 1\nn = range(1, 101)\n");
    ck_assert_uint_eq(shoal_scan_points(s), 400);
    shoal_scan_free(s);
    s = scan_ok(S "h = uniform(0.001, 1)\nL = range(2, 4097, 2)\n[sampling]\ndesign = lhs\nsamples = 64\n");
    for (uint64_t t = 0; t < 64; t++) {
        ck_assert(dval(s, t, 0) >= 0.001 && dval(s, t, 0) <= 1);
        ck_assert(lval(s, t, 1) >= 2 && lval(s, t, 1) <= 4096);
    }
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_err_too_many_points)
{
    /* 10^5 ^ 4 = 10^20 > 2^62: the fourth line overflows. */
    fails_at(S "T = linspace(0, 1, 100000)\nx = linspace(0, 1, 100000)\n"
               "y = linspace(0, 1, 100000)\nz = linspace(0, 1, 100000)\n", 5);
    ASSERT_MSG_HAS("more than 2^62 points");
    /* The sample axis overflows: named at the samples line. */
    fails_at(S "T = linspace(0, 1, 1000000)\nx = uniform(0, 1)\n"
               "[sampling]\nsamples = 1e15\n", 5);
    ASSERT_MSG_HAS("more than 2^62 points");
    /* 2^20 x 2^20 x 2^20 x 4 = 2^62 exactly is allowed, and decodes. */
    shoal_scan *s = scan_ok(S "T = linspace(0, 1, 1048576)\nx = linspace(0, 1, 1048576)\n"
                              "y = linspace(0, 1, 1048576)\nz = linspace(0, 2.385, 4)\n");
    ck_assert_uint_eq(shoal_scan_points(s), UINT64_C(1) << 62);
    ck_assert_uint_eq(shoal_scan_tasks(s), UINT64_C(1) << 62);
    uint64_t p, r;
    shoal_scan_value v[MAXV];
    task_at(s, (UINT64_C(1) << 62) - 1, &p, &r, v);
    ck_assert_uint_eq(p, (UINT64_C(1) << 62) - 1);
    ck_assert(v[0].d == 1 && v[1].d == 1 && v[2].d == 1 && v[3].d == 2.385);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_err_empty_item)
{
    static const err_case cases[] = {
        {S "T = 1,,2\n", 2, {"T: empty value in the list (item 2)", NULL, NULL}},
        {S "T = 1, 2,\n", 2, {"empty value in the list (item 3)", NULL, NULL}},
        {S "T = , 1\n", 2, {"(item 1)", NULL, NULL}},
        {S "L = 16, , 32\n", 2, {"(item 2)", NULL, NULL}},
        {S "T = 1\nL = 16,,32\nmodel = a\n", 3, {"L: empty value", NULL, NULL}},
    };
    RUN_ERR_CASES(cases);
}
END_TEST

/* ---- index -> point ---------------------------------------------------------------------- */

START_TEST(test_grid_order)
{
    shoal_scan *s = scan_ok(S "T = 2.385, 1, 7\nmodel = ising, potts\n"
                              "L = range(16, 80, 16)\n[sampling]\nreplicates = 2\n");
    ck_assert_uint_eq(shoal_scan_ndims(s), 3);
    ck_assert_uint_eq(shoal_scan_points(s), 24);
    ck_assert_uint_eq(shoal_scan_replicates(s), 2);
    ck_assert_uint_eq(shoal_scan_tasks(s), 48);
    const double tv[] = {2.385, 1, 7};
    const char *mv[] = {"ising", "potts"};
    for (uint64_t t = 0; t < 48; t++) {
        uint64_t p, r;
        shoal_scan_value v[MAXV];
        task_at(s, t, &p, &r, v);
        ck_assert_uint_eq(p, t / 2);
        ck_assert_uint_eq(r, t % 2);
        /* First line slowest, last fastest. */
        ck_assert(v[0].d == tv[p / 8]);
        ck_assert_str_eq(v[1].s, mv[(p / 4) % 2]);
        ck_assert_int_eq(v[2].l, 16 * (int64_t)(p % 4 + 1));
    }
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_zip_mapping)
{
    shoal_scan *s = scan_ok(S "T = 2.385, 1, 7\nmodel = a, bb, ccc\nL = range(16, 64, 16)\n"
                              "[sampling]\ndesign = zip\nreplicates = 3\n");
    ck_assert_uint_eq(shoal_scan_points(s), 3);
    ck_assert_uint_eq(shoal_scan_tasks(s), 9);
    ck_assert_uint_eq(shoal_scan_strlen(s, 1), 3);
    const double tv[] = {2.385, 1, 7};
    const char *mv[] = {"a", "bb", "ccc"};
    for (uint64_t t = 0; t < 9; t++) {
        uint64_t p, r;
        shoal_scan_value v[MAXV];
        task_at(s, t, &p, &r, v);
        ck_assert_uint_eq(p, t / 3);
        ck_assert_uint_eq(r, t % 3);
        ck_assert(v[0].d == tv[p]);
        ck_assert_str_eq(v[1].s, mv[p]);
        ck_assert_int_eq(v[2].l, 16 * (int64_t)(p + 1));
    }
    shoal_scan_free(s);

    /* zip with random parameters: one draw per zipped point. */
    s = scan_ok(S "T = 1, 2, 3\nx = uniform(2.385, 3)\n[sampling]\ndesign = zip\n");
    ck_assert_uint_eq(shoal_scan_points(s), 3);
    for (uint64_t t = 0; t < 3; t++) {
        ck_assert(dval(s, t, 0) == (double)(t + 1));
        ck_assert(dval(s, t, 1) >= 2.385 && dval(s, t, 1) <= 3);
    }
    ck_assert(dval(s, 0, 1) != dval(s, 1, 1));
    shoal_scan_free(s);
    /* ... or random ones only, with samples. */
    s = scan_ok(S "x = uniform(0, 1)\ny = normal(0, 1)\n[sampling]\ndesign = zip\nsamples = 6\n");
    ck_assert_uint_eq(shoal_scan_points(s), 6);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_huge_grid)
{
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double c0 = cpu_seconds();
    shoal_scan *s = scan_ok(S "x = linspace(0, 1, 1000000)\n"
                              "y = linspace(-2.385, 2.385, 1000000)\n"
                              "z = linspace(1, 1000000, 1000000)\n");
    double c1 = cpu_seconds();
    getrusage(RUSAGE_SELF, &ru1);
    ck_assert_msg(c1 - c0 < 0.5, "creating a 10^18-point grid took %.3f s", c1 - c0);
    ck_assert_msg(ru1.ru_maxrss - ru0.ru_maxrss < 4096,
                  "creating a 10^18-point grid grew the RSS by %ld KiB",
                  ru1.ru_maxrss - ru0.ru_maxrss);
    const uint64_t e18 = UINT64_C(1000000000000000000);
    ck_assert_uint_eq(shoal_scan_points(s), e18);
    ck_assert_uint_eq(shoal_scan_tasks(s), e18);
    ck_assert_ptr_nonnull(strstr(shoal_scan_describe(s), "1000000 x 1000000 x 1000000"));

    const uint64_t tasks[] = {0, e18 / 2, UINT64_C(123456789012345678), e18 - 1};
    for (size_t i = 0; i < 4; i++) {
        uint64_t t = tasks[i], p, r;
        shoal_scan_value v[MAXV];
        task_at(s, t, &p, &r, v);
        ck_assert_uint_eq(p, t);
        ck_assert_uint_eq(r, 0);
        uint64_t ix = t / 1000000000000u, iy = t / 1000000u % 1000000u, iz = t % 1000000u;
        ck_assert_double_eq_tol(v[0].d, (double)ix / 999999.0, 1e-15);
        ck_assert_double_eq_tol(v[1].d, -2.385 + 4.77 * (double)iy / 999999.0, 1e-14);
        ck_assert_double_eq_tol(v[2].d, 1.0 + (double)iz, 1e-9);
    }
    /* First and last exactly; the middle task is (500000, 0, 0). */
    ck_assert(dval(s, 0, 0) == 0 && dval(s, 0, 1) == -2.385 && dval(s, 0, 2) == 1);
    ck_assert(dval(s, e18 - 1, 0) == 1 && dval(s, e18 - 1, 1) == 2.385 &&
              dval(s, e18 - 1, 2) == 1000000);
    ck_assert_double_eq_tol(dval(s, e18 / 2, 0), 500000.0 / 999999.0, 1e-15);
    ck_assert(dval(s, e18 / 2, 1) == -2.385 && dval(s, e18 / 2, 2) == 1);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_task_out_of_range)
{
    shoal_scan *s = scan_ok(S "T = 1, 2\n[sampling]\nreplicates = 3\n");
    ck_assert_uint_eq(shoal_scan_tasks(s), 6);
    uint64_t p = 99, r = 99;
    shoal_scan_value v[MAXV];
    task_at(s, 5, &p, &r, v);
    ck_assert_uint_eq(p, 1);
    ck_assert_uint_eq(r, 2);
    const uint64_t bad[] = {6, 7, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        reset_errors();
        int rc = shoal_scan_task(s, bad[i], &p, &r, v);
        ck_assert_int_lt(rc, 0);
        ck_assert_int_eq(nerrors, 1);
        ck_assert_int_eq(last_code, rc);
        ASSERT_MSG_HAS("outside the scan's 6 tasks");
    }
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_options_only)
{
    shoal_scan *s = scan_ok(S "[sampling]\nreplicates = 5\n");
    ck_assert_uint_eq(shoal_scan_points(s), 1);
    ck_assert_uint_eq(shoal_scan_replicates(s), 5);
    ck_assert_uint_eq(shoal_scan_tasks(s), 5);
    ck_assert_uint_eq(shoal_scan_ndims(s), 0);
    ck_assert_str_ne(shoal_scan_describe(s), "");
    ck_assert_ptr_nonnull(strstr(shoal_scan_describe(s), "5 replicates"));
    for (uint64_t t = 0; t < 5; t++) {
        uint64_t p, r;
        shoal_scan_value v[1];
        task_at(s, t, &p, &r, v);
        ck_assert_uint_eq(p, 0);
        ck_assert_uint_eq(r, t);
    }
    shoal_scan_free(s);

    /* A missing section: one point, one task. */
    s = scan_ok("[run]\nseed = 2385\n");
    ck_assert_uint_eq(shoal_scan_points(s), 1);
    ck_assert_uint_eq(shoal_scan_tasks(s), 1);
    ck_assert_uint_eq(shoal_scan_ndims(s), 0);
    ck_assert_str_ne(shoal_scan_describe(s), "");
    shoal_scan_free(s);
    s = scan_ok(S);
    ck_assert_uint_eq(shoal_scan_tasks(s), 1);
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_describe)
{
    shoal_scan *s = scan_ok(S "T = linspace(1.5, 3.5, 41)\nL = 16, 32, 64\n[sampling]\nreplicates = 4\n");
    const char *d = shoal_scan_describe(s);
    ck_assert_ptr_nonnull(strstr(d, "41 x 3"));
    ck_assert_ptr_nonnull(strstr(d, "123 points"));
    ck_assert_ptr_nonnull(strstr(d, "4 replicates"));
    shoal_scan_free(s);
    s = scan_ok(S "x = uniform(0, 1)\nL = 16, 32\n[sampling]\ndesign = sobol\nsamples = 64\n");
    d = shoal_scan_describe(s);
    ck_assert_ptr_nonnull(strstr(d, "sobol"));
    ck_assert_ptr_nonnull(strstr(d, "128 points"));
    ck_assert_ptr_nonnull(strstr(d, "1 replicate"));
    shoal_scan_free(s);
    s = scan_ok(S "T = 1, 2\nL = 16, 32\n[sampling]\ndesign = zip\n");
    ck_assert_ptr_nonnull(strstr(shoal_scan_describe(s), "zip"));
    shoal_scan_free(s);
}
END_TEST

/* ---- designs ------------------------------------------------------------------------------- */

/* Each dimension's strata floor(u * N) over the N samples are a permutation
 * of 0 .. N-1 (u = the value of a uniform(0, 1) parameter). */
static void check_lhs_strata(shoal_scan *s, uint64_t first_task, uint64_t stride,
                             uint64_t samples, size_t dims)
{
    unsigned *seen = calloc(samples * dims, sizeof *seen);
    ck_assert_ptr_nonnull(seen);
    for (uint64_t j = 0; j < samples; j++) {
        uint64_t p, r;
        shoal_scan_value v[MAXV];
        task_at(s, first_task + j * stride, &p, &r, v);
        for (size_t d = 0; d < dims; d++) {
            REQUIRE(v[d].d > 0 && v[d].d < 1, "u = %.17g", v[d].d);
            uint64_t stratum = (uint64_t)floor(v[d].d * (double)samples);
            REQUIRE(stratum < samples, "stratum %llu", (unsigned long long)stratum);
            seen[d * samples + stratum]++;
        }
    }
    for (size_t i = 0; i < samples * dims; i++)
        REQUIRE(seen[i] == 1, "N = %llu, dimension %zu: stratum %llu hit %u times",
                (unsigned long long)samples, i / samples,
                (unsigned long long)(i % samples), seen[i]);
    free(seen);
}

START_TEST(test_lhs_permutations)
{
    const uint64_t counts[] = {1, 2, 7, 64, 1000, 2385};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        char text[256];
        snprintf(text, sizeof text,
                 S "x = uniform(0, 1)\ny = uniform(0, 1)\nz = uniform(0, 1)\n"
                   "[sampling]\ndesign = lhs\nsamples = %llu\n",
                 (unsigned long long)counts[c]);
        shoal_scan *s = scan_ok(text);
        ck_assert_uint_eq(shoal_scan_points(s), counts[c]);
        check_lhs_strata(s, 0, 1, counts[c], 3);
        shoal_scan_free(s);
    }
    /* Crossed with a list and replicated: every list value and replicate
     * sees the same Latin hypercube. */
    shoal_scan *s = scan_ok(S "L = 16, 32\nx = uniform(0, 1)\ny = uniform(0, 1)\n"
                              "[sampling]\ndesign = lhs\nsamples = 50\nreplicates = 2\n");
    ck_assert_uint_eq(shoal_scan_points(s), 100);
    ck_assert_uint_eq(shoal_scan_tasks(s), 200);
    for (uint64_t rep = 0; rep < 2; rep++)
        for (uint64_t l = 0; l < 2; l++) {
            unsigned seen[2][50] = {{0}};
            for (uint64_t j = 0; j < 50; j++) {
                uint64_t t = (l * 50 + j) * 2 + rep, p, r;
                shoal_scan_value v[MAXV];
                task_at(s, t, &p, &r, v);
                ck_assert_int_eq(v[0].l, l ? 32 : 16);
                ck_assert(v[1].d == dval(s, j * 2, 1) && v[2].d == dval(s, j * 2, 2));
                seen[0][(int)floor(v[1].d * 50)]++;
                seen[1][(int)floor(v[2].d * 50)]++;
            }
            for (int d = 0; d < 2; d++)
                for (int i = 0; i < 50; i++)
                    ck_assert_uint_eq(seen[d][i], 1);
        }
    shoal_scan_free(s);
    /* Different seeds, different hypercubes. */
    shoal_scan *a = scan_seed(S "x = uniform(0, 1)\n[sampling]\ndesign = lhs\nsamples = 100\n", 1);
    shoal_scan *b = scan_seed(S "x = uniform(0, 1)\n[sampling]\ndesign = lhs\nsamples = 100\n", 2);
    int same = 0;
    for (uint64_t t = 0; t < 100; t++)
        same += floor(dval(a, t, 0) * 100) == floor(dval(b, t, 0) * 100);
    ck_assert_int_lt(same, 20);
    shoal_scan_free(a);
    shoal_scan_free(b);
}
END_TEST

START_TEST(test_random_design)
{
    const char *text = S "x = uniform(2.385, 7)\ny = loguniform(0.001, 1)\n"
                         "T = linspace(-1, 1, 5)\nk = range(0, 10, 3)\n"
                         "h = logspace(-3, 0, 4)\n[sampling]\ndesign = random\nsamples = 500\n";
    shoal_scan *a = scan_seed(text, 2385);
    shoal_scan *b = scan_seed(text, 2385);
    shoal_scan *c = scan_seed(text, 2386);
    ck_assert_uint_eq(shoal_scan_points(a), 500);
    int off_grid = 0, differ = 0;
    for (uint64_t t = 0; t < 500; t++) {
        uint64_t p, r;
        shoal_scan_value va[MAXV], vb[MAXV], vc[MAXV];
        task_at(a, t, &p, &r, va);
        task_at(b, t, &p, &r, vb);
        task_at(c, t, &p, &r, vc);
        ck_assert(va[0].d >= 2.385 && va[0].d <= 7);
        ck_assert(va[1].d >= 0.001 && va[1].d <= 1);
        ck_assert(va[2].d >= -1 && va[2].d <= 1);
        ck_assert(va[3].l == 0 || va[3].l == 3 || va[3].l == 6 || va[3].l == 9);
        ck_assert(va[4].d >= 0.001 && va[4].d <= 1);
        /* linspace in a design is the continuous interval. */
        off_grid += fabs(va[2].d * 2 - round(va[2].d * 2)) > 1e-9;
        for (int d = 0; d < 5; d++)
            ck_assert(va[d].d == vb[d].d && va[d].l == vb[d].l);
        differ += va[0].d != vc[0].d;
    }
    ck_assert_int_gt(off_grid, 450);
    ck_assert_int_gt(differ, 490);
    shoal_scan_free(a);
    shoal_scan_free(b);
    shoal_scan_free(c);
}
END_TEST

/* sobol/halton values are gsl_qrng's points mapped through each interval,
 * the same whatever order tasks are asked in. */
static void check_qrng_design(const char *design, const gsl_qrng_type *type)
{
    char text[512];
    snprintf(text, sizeof text,
             S "x = uniform(0, 1)\nT = uniform(2.385, 7)\ny = loguniform(0.001, 1)\n"
               "z = linspace(-1, 2.385, 9)\nh = logspace(-3, 0, 4)\n"
               "[sampling]\ndesign = %s\nsamples = 64\n",
             design);
    shoal_scan *s = scan_ok(text);
    ck_assert_uint_eq(shoal_scan_points(s), 64);
    double *u = qrng_points(type, 5, 64);
    double seq[64][5];
    for (uint64_t j = 0; j < 64; j++) {
        uint64_t p, r;
        shoal_scan_value v[MAXV];
        task_at(s, j, &p, &r, v);
        const double *uj = u + j * 5;
        ck_assert_msg(v[0].d == uj[0], "%s point %llu: %.17g, gsl %.17g", design,
                      (unsigned long long)j, v[0].d, uj[0]);
        ck_assert(near_rel(v[1].d, 2.385 + uj[1] * (7 - 2.385), 1e-15));
        ck_assert(near_rel(v[2].d, exp(log(0.001) + uj[2] * (log(1) - log(0.001))), 1e-14));
        ck_assert(near_rel(v[3].d, -1 + uj[3] * (2.385 + 1), 1e-15));
        ck_assert(near_rel(v[4].d, pow(10, -3 + uj[4] * 3), 1e-14));
        for (int d = 0; d < 5; d++)
            seq[j][d] = v[d].d;
    }
    /* Out of order: 7, then 2, then 7 again, then from the end. */
    const uint64_t order[] = {7, 2, 7, 63, 0, 31, 30, 31};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        for (size_t d = 0; d < 5; d++)
            ck_assert_msg(dval(s, order[i], d) == seq[order[i]][d],
                          "%s: task %llu dim %zu differs when asked out of order",
                          design, (unsigned long long)order[i], d);
    /* Deterministic: the seed plays no part. */
    shoal_scan *other = scan_seed(text, 99);
    for (uint64_t j = 0; j < 64; j += 9)
        ck_assert(dval(other, j, 0) == seq[j][0]);
    shoal_scan_free(other);
    free(u);
    shoal_scan_free(s);
}

START_TEST(test_sobol_matches_gsl) { check_qrng_design("sobol", gsl_qrng_sobol); }
END_TEST

START_TEST(test_halton_matches_gsl) { check_qrng_design("halton", gsl_qrng_halton); }
END_TEST

START_TEST(test_lists_crossed_with_design)
{
    shoal_scan *s = scan_ok(S "L = 16, 32\nT = uniform(0, 1)\nmodel = a, b\n"
                              "[sampling]\ndesign = sobol\nsamples = 16\n");
    ck_assert_uint_eq(shoal_scan_points(s), 2 * 2 * 16);
    double *u = qrng_points(gsl_qrng_sobol, 1, 16);
    for (uint64_t t = 0; t < 64; t++) {
        uint64_t p, r;
        shoal_scan_value v[MAXV];
        task_at(s, t, &p, &r, v);
        ck_assert_int_eq(v[0].l, t < 32 ? 16 : 32);
        ck_assert(v[1].d == u[t % 16]);
        ck_assert_str_eq(v[2].s, (t / 16) % 2 ? "b" : "a");
    }
    free(u);
    shoal_scan_free(s);

    /* The same in a grid with a random parameter: 2 x samples points, the
     * same draws for each list value. */
    s = scan_ok(S "L = 16, 32\nx = uniform(0, 1)\n[sampling]\nsamples = 5\n");
    ck_assert_uint_eq(shoal_scan_points(s), 10);
    for (uint64_t j = 0; j < 5; j++)
        ck_assert(dval(s, j, 1) == dval(s, 5 + j, 1));
    shoal_scan_free(s);
}
END_TEST

START_TEST(test_normal_moments)
{
    const char *texts[] = {S "z = normal(0, 1)\n[sampling]\ndesign = random\nsamples = 20000\n",
                           S "z = normal(0, 1)\n[sampling]\nsamples = 20000\n",
                           S "z = normal(2.385, 0.5)\n[sampling]\ndesign = lhs\nsamples = 20000\n"};
    const double mu[] = {0, 0, 2.385}, sd[] = {1, 1, 0.5};
    for (size_t c = 0; c < 3; c++) {
        shoal_scan *s = scan_ok(texts[c]);
        const uint64_t n = 20000;
        double sum = 0, sum2 = 0;
        for (uint64_t t = 0; t < n; t++) {
            double v = dval(s, t, 0);
            REQUIRE(isfinite(v), "task %llu: %g", (unsigned long long)t, v);
            sum += v;
            sum2 += v * v;
        }
        double mean = sum / (double)n;
        double var = (sum2 - (double)n * mean * mean) / (double)(n - 1);
        double se_mean = sd[c] / sqrt((double)n), se_sd = sd[c] / sqrt(2.0 * (double)n);
        ck_assert_msg(fabs(mean - mu[c]) < 5 * se_mean, "case %zu: mean %g", c, mean);
        ck_assert_msg(fabs(sqrt(var) - sd[c]) < 5 * se_sd, "case %zu: sd %g", c, sqrt(var));
        shoal_scan_free(s);
    }
}
END_TEST

START_TEST(test_range_in_design)
{
    const char *designs[] = {"random", "lhs", "sobol", "halton"};
    for (size_t i = 0; i < 4; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 S "k = range(0, 10, 3)\nL = range(16, 80, 16)\nT = range(2.385, 3.385, 0.25)\n"
                   "[sampling]\ndesign = %s\nsamples = 200\n",
                 designs[i]);
        shoal_scan *s = scan_ok(text);
        ck_assert_uint_eq(shoal_scan_points(s), 200);
        int hits[3][4] = {{0}};
        for (uint64_t t = 0; t < 200; t++) {
            uint64_t p, r;
            shoal_scan_value v[MAXV];
            task_at(s, t, &p, &r, v);
            ck_assert_msg(v[0].l >= 0 && v[0].l <= 9 && v[0].l % 3 == 0, "%s: k = %lld",
                          designs[i], (long long)v[0].l);
            ck_assert(v[0].d == (double)v[0].l);
            ck_assert_msg(v[1].l >= 16 && v[1].l <= 64 && v[1].l % 16 == 0, "%s: L = %lld",
                          designs[i], (long long)v[1].l);
            int tk = -1;
            for (int q = 0; q < 4; q++)
                if (v[2].d == 2.385 + (double)q * 0.25)
                    tk = q;
            ck_assert_msg(tk >= 0, "%s: T = %.17g is not a range value", designs[i], v[2].d);
            hits[0][v[0].l / 3]++;
            hits[1][v[1].l / 16 - 1]++;
            hits[2][tk]++;
        }
        for (int d = 0; d < 3; d++)
            for (int q = 0; q < 4; q++)
                ck_assert_msg(hits[d][q] > 20, "%s: dim %d value %d hit %d times", designs[i],
                              d, q, hits[d][q]);
        shoal_scan_free(s);
    }
}
END_TEST

/* ---- reproducibility ------------------------------------------------------------------- */

static const char *const repro_texts[] = {
    S "T = 1, 2\nx = uniform(0, 1)\nz = normal(0, 1)\n[sampling]\nsamples = 40\nreplicates = 2\n",
    S "L = 16, 32\nx = uniform(0, 1)\ny = loguniform(1e-3, 1)\nT = linspace(0, 1, 3)\n"
      "[sampling]\ndesign = random\nsamples = 40\n",
    S "model = a, b\nx = uniform(0, 1)\nz = normal(0, 1)\nk = range(0, 10)\n"
      "[sampling]\ndesign = lhs\nsamples = 40\nreplicates = 3\n",
    S "x = uniform(0, 1)\ny = normal(1, 2)\n[sampling]\ndesign = sobol\nsamples = 40\nreplicates = 2\n",
    S "x = uniform(0, 1)\ny = normal(1, 2)\nL = 16, 32\n[sampling]\ndesign = halton\nsamples = 40\n",
    S "T = linspace(0, 1, 40)\nx = uniform(0, 1)\n[sampling]\ndesign = zip\n",
};

START_TEST(test_reproducible)
{
    for (size_t c = 0; c < sizeof repro_texts / sizeof repro_texts[0]; c++) {
        shoal_scan *a = scan_seed(repro_texts[c], 2385);
        shoal_scan *b = scan_seed(repro_texts[c], 2385);
        uint64_t n = shoal_scan_tasks(a);
        size_t nd = shoal_scan_ndims(a);
        ck_assert_uint_eq(shoal_scan_tasks(b), n);
        /* a forward, b backward, then b in a strided scramble. */
        shoal_scan_value *fwd = calloc(n * nd, sizeof *fwd);
        ck_assert_ptr_nonnull(fwd);
        for (uint64_t t = 0; t < n; t++) {
            uint64_t p, r;
            task_at(a, t, &p, &r, fwd + t * nd);
        }
        for (int pass = 0; pass < 2; pass++)
            for (uint64_t i = 0; i < n; i++) {
                uint64_t t = pass == 0 ? n - 1 - i : (i * 37 + 11) % n, p, r;
                shoal_scan_value v[MAXV];
                task_at(b, t, &p, &r, v);
                for (size_t d = 0; d < nd; d++) {
                    const shoal_scan_value *w = fwd + t * nd + d;
                    REQUIRE(v[d].d == w->d || (isnan(v[d].d) && isnan(w->d)),
                            "case %zu task %llu dim %zu: %.17g vs %.17g", c,
                            (unsigned long long)t, d, v[d].d, w->d);
                    REQUIRE(v[d].l == w->l, "case %zu task %llu dim %zu", c,
                            (unsigned long long)t, d);
                    REQUIRE(!v[d].s == !w->s && (!v[d].s || !strcmp(v[d].s, w->s)),
                            "case %zu task %llu dim %zu: strings differ", c,
                            (unsigned long long)t, d);
                }
            }
        free(fwd);
        shoal_scan_free(a);
        shoal_scan_free(b);
    }
}
END_TEST

/* ---- bugs ------------------------------------------------------------------------------------ */

/* Bug (lib/src/scan.c, describe(), the "= %llu points" snprintf): the axis
 * loop stops once n >= cap - 40, but the design clause " (%llu %s samples of
 * %zu dimensions)" can then take n past cap (snprintf returns the length it
 * wanted), and the next call, snprintf(b + n, cap - n, " = %llu points"),
 * gets b + n beyond desc[256] and a size that wrapped to ~2^64: it writes
 * past the end of the heap-allocated struct shoal_scan (AddressSanitizer:
 * heap-buffer-overflow at scan.c:772; in a plain build, silent heap
 * corruption). Any scan with ~55 list axes and a design reaches it, and the
 * description then lacks its point and replicate counts (what a plain build
 * sees here). Fix: write the totals first or elide the axes that do not fit
 * ("1 x 1 x ... (56 axes)"), and clamp n = min(n, cap - 1) after every
 * snprintf so no call gets a wrapped size. */
START_TEST(test_regression_describe_overflows_buffer)
{
    const shoal_param *bp = big_params();
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, S);
    for (int i = 0; i < 55; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "p%02d = 1\n", i);
    for (int i = 55; i < 64; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "p%02d = uniform(0, 1)\n", i);
    len += (size_t)snprintf(text + len, sizeof text - len,
                            "[sampling]\ndesign = halton\nsamples = 1000000000000\n");
    /* Several times, so a plain build meets the corrupted heap too. */
    for (int rep = 0; rep < 8; rep++) {
        shoal_scan *s = scan_with(text, bp, NBIG, SEED);
        ck_assert_uint_eq(shoal_scan_points(s), UINT64_C(1000000000000));
        char d[512];
        snprintf(d, sizeof d, "%s", shoal_scan_describe(s));
        shoal_scan_free(s);
        ck_assert_uint_lt(strlen(d), 256);
        ck_assert_msg(strstr(d, "1000000000000 points") && strstr(d, "1 replicate"),
                      "description lacks the totals: '%s'", d);
        void *blocks[16];
        for (int i = 0; i < 16; i++)
            blocks[i] = malloc(32 + 16 * (size_t)i);
        for (int i = 0; i < 16; i++)
            free(blocks[i]);
    }
}
END_TEST

/* Bug (lib/src/scan.c, finite_value(), case GEN_GEOMSPACE, and the bounds
 * check in shoal_scan_create): the last value of geomspace is returned
 * exactly (d->b) but the first is exp(log(a)), which is not a for most a
 * (exp(log(0.03)) = 0.029999999999999995). With g bounded 0.03 .. 3,
 * `g = geomspace(0.03, 3, 5)` is refused: "g takes values from 0.03 to 3
 * here, outside its allowed range 0.03 .. 3"; and the start printed in
 * results is not the number the user wrote. Fix: return d->a for i == 0 in
 * finite_value (as linspace gets both ends right), and clamp
 * design_value's geomspace/loguniform results into [min(a,b), max(a,b)]. */
START_TEST(test_regression_geomspace_start_not_exact)
{
    shoal_config *cfg = parse_text(S "g = geomspace(0.03, 3, 5)\n");
    shoal_scan *s = NULL;
    int rc = shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s);
    shoal_config_free(cfg);
    ck_assert_msg(rc == 0, "geomspace(0.03, 3, 5) on g in 0.03 .. 3 refused: %s", last_msg);
    ck_assert_msg(dval(s, 0, 0) == 0.03, "first value %.17g, not 0.03", dval(s, 0, 0));
    ck_assert(dval(s, 4, 0) == 3);
    shoal_scan_free(s);
    s = scan_ok(S "T = geomspace(0.001, 1, 4)\n");
    ck_assert_msg(dval(s, 0, 0) == 0.001, "first value %.17g, not 0.001", dval(s, 0, 0));
    shoal_scan_free(s);
}
END_TEST

/* Bug (lib/src/scan.c, build_axes(), "needs 'samples = N'"): for random
 * parameters in a grid without samples the error names s->dims[0].where,
 * the first [scan] line, which need not be a random parameter: with
 * "L = 16, 32" on line 2 and "x = uniform(0, 1)" on line 3 it says
 * scan.ini:2. Fix: name the first dimension with d->random set. */
START_TEST(test_regression_missing_samples_names_wrong_line)
{
    fails_at(S "L = 16, 32\nx = uniform(0, 1)\n", 3);
    ASSERT_MSG_HAS("samples");
}
END_TEST

/* Bug (lib/src/scan.c, build_axes(), zip branch "random parameters need
 * samples = N"): reported at `source` ("scan.ini") with no line, though the
 * header promises file:line for every error. Fix: name the first random
 * dimension's d->where (or the design line). */
START_TEST(test_regression_zip_missing_samples_has_no_line)
{
    fails_at(S "x = uniform(0, 1)\n[sampling]\ndesign = zip\n", 2);
    ASSERT_MSG_HAS("samples");
}
END_TEST

/* Regression (found while writing this suite, fixed in b7228b5; lib/src/scan.c,
 * build_axes(), zip "needs equal lengths" message): the arguments were
 * (d->where, first->name, n, d->name, first->where, d->n), so the first
 * list's location was printed after the second name: "scan.ini:3: ... but T
 * has 3 values and x (scan.ini:2) has 2" put x on line 2, where T is. */
START_TEST(test_regression_zip_length_message_where)
{
    fails_at(S "T = 1, 2, 3\nx = 1, 2\n[sampling]\ndesign = zip\n", 3);
    ASSERT_MSG_HAS("T (scan.ini:2) has 3");
}
END_TEST

/* Bug (lib/src/scan.c, shoal_scan_create(), "points x replicates is more
 * than 2^62 tasks"): reported at `source` with no line; read_option() does
 * not remember where replicates was set. Fix: keep replicates' `where` as
 * for samples and name it. */
START_TEST(test_regression_tasks_overflow_has_no_line)
{
    fails_at(S "T = linspace(0, 1, 1000000)\nx = linspace(0, 1, 1000000)\n"
               "y = linspace(0, 1, 1000000)\n[sampling]\nreplicates = 5\n", 6);
    ASSERT_MSG_HAS("2^62");
}
END_TEST

/* Bug (lib/src/scan.c, design_point(), sobol/halton): the cursor is reset
 * and the sequence regenerated from 0 whenever j < q_next, including
 * j == q_next - 1, the point just computed. With replicates > 1, consecutive
 * tasks are the same point, so every replicate after the first replays the
 * whole sequence up to j: O(samples^2) work for a run (task.c calls
 * shoal_scan_task for each task in order). 10^5 sobol samples x 2
 * replicates take ~5 * 10^9 gsl_qrng_get calls instead of 10^5. Fix: if
 * j + 1 == s->q_next reuse s->u (it is only clamped, idempotently), i.e.
 * reset only when j + 1 < q_next. */
START_TEST(test_regression_sobol_replicates_restart_sequence)
{
    shoal_scan *s = scan_ok(S "x = uniform(0, 1)\n[sampling]\ndesign = sobol\nsamples = 100000\n"
                              "replicates = 2\n");
    const uint64_t n = shoal_scan_tasks(s);
    double start = cpu_seconds(), budget = 3.0;
    uint64_t t;
    for (t = 0; t < n; t++) {
        uint64_t p, r;
        shoal_scan_value v[1];
        task_at(s, t, &p, &r, v);
        if ((t & 1023) == 0 && cpu_seconds() - start > budget)
            break;
    }
    double used = cpu_seconds() - start;
    shoal_scan_free(s);
    ck_assert_msg(t == n, "only %llu of %llu tasks of a 10^5-sample sobol scan with "
                  "2 replicates in %.1f s of CPU (one pass over the sequence is ~1 ms)",
                  (unsigned long long)t, (unsigned long long)n, used);
}
END_TEST

/* Bug (lib/src/scan.c, check_integer(), case GEN_RANGE): an integer range
 * is accepted when start and step are whole numbers below 2^53, but its
 * end is never checked; set_value() then converts with llround(), which
 * cannot represent values beyond int64 (x86 returns INT64_MIN), and values
 * beyond 2^53 are not exact (range(9e15, 9.1e15, 1) repeats values). A
 * list item 1e19 is refused ("not an integer"); range(0, 2e19, 5e15)
 * reaching 1.9995e19 is not, for an unbounded integer parameter. Fix: in
 * check_integer also require fabs(finite_value(d, d->n - 1)) < 2^53 (the
 * limit is_integral() applies to lists). */
START_TEST(test_regression_integer_range_beyond_int64)
{
    shoal_config *cfg = parse_text(S "k = range(0, 2e19, 5e15)\n");
    shoal_scan *s = NULL;
    int rc = shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s);
    shoal_config_free(cfg);
    if (rc == 0) {
        uint64_t last = shoal_scan_tasks(s) - 1;
        int64_t l = lval(s, last, 0);
        double d = dval(s, last, 0);
        shoal_scan_free(s);
        ck_abort_msg("k = range(0, 2e19, 5e15) accepted: task %llu has k = %lld "
                     "(value %.17g)",
                     (unsigned long long)last, (long long)l, d);
    }
    ck_assert_int_eq(rc, SHOAL_ECONFIG);
    ASSERT_MSG_HAS("scan.ini:2: ");
}
END_TEST

/* Bug (lib/src/scan.c, parse_call(), range count): the stop is excluded by
 * dropping a last value that rounding put on or past it, but not one that
 * rounding put just below it: range(0.3, 0.9, 0.3) gives 0.3, 0.6 and
 * 0.8999999999999999 (0.3 + 2 * 0.3), i.e. the stop, and
 * range(0, 2.7, 0.3) ends with 2.6999999999999997. Python (and the decimal
 * reading of the line) has 2 and 9 values. Fix: count with a
 * tolerance, e.g. drop the last value while
 * fabs(b - (a + (n-1) * c)) <= 1e-9 * fabs(c) as well as when it is on or past
 * b (equivalently n = ceil(span - 1e-9)). */
START_TEST(test_regression_range_includes_stop_after_rounding)
{
    shoal_scan *s = scan_ok(S "T = range(0.3, 0.9, 0.3)\n");
    uint64_t np = shoal_scan_points(s);
    double last = dval(s, np - 1, 0);
    shoal_scan_free(s);
    ck_assert_msg(np == 2, "range(0.3, 0.9, 0.3) has %llu values, the last %.17g",
                  (unsigned long long)np, last);
    s = scan_ok(S "T = range(0, 2.7, 0.3)\n");
    np = shoal_scan_points(s);
    last = dval(s, np - 1, 0);
    shoal_scan_free(s);
    ck_assert_msg(np == 9, "range(0, 2.7, 0.3) has %llu values, the last %.17g",
                  (unsigned long long)np, last);
}
END_TEST

/* Bug (lib/src/scan.c, parse_call(), argument loop): at most 4 arguments
 * are parsed (double args[4]) and the loop stops there, so
 * linspace(1, 2, 3, 4, 5) is reported as "got 4" and the fifth argument is
 * never looked at. Fix: keep counting commas past 4 (parse only the first 4)
 * and report the true count. */
START_TEST(test_regression_arity_count_capped_at_4)
{
    fails_at(S "T = linspace(1, 2, 3, 4, 5)\n", 2);
    ASSERT_MSG_HAS("takes 3 arguments");
    ASSERT_MSG_HAS("got 5");
}
END_TEST


START_TEST(test_string_choices)
{
    shoal_scan *scan = NULL;
    shoal_config *cfg = NULL;
    const char *text = "[scan]\nalgo = wolff, metro\n";
    ck_assert_int_eq(shoal_config_parse(text, strlen(text), "scan.ini", &cfg), 0);
    last_msg[0] = '\0';
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, 5, &scan), SHOAL_ECONFIG);
    ck_assert_ptr_null(scan);
    ck_assert_msg(strstr(last_msg, "scan.ini:2: [scan] algo: 'metro' is not one of wolff|metropolis"),
                  "message: %s", last_msg);
    shoal_config_free(cfg);
    text = "[scan]\nalgo = metropolis, wolff\n";
    ck_assert_int_eq(shoal_config_parse(text, strlen(text), "scan.ini", &cfg), 0);
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, 5, &scan), 0);
    ck_assert_uint_eq(shoal_scan_points(scan), 2);
    shoal_scan_free(scan);
    shoal_config_free(cfg);
}
END_TEST

/* ---- [sampling]: the scan's options in their own section ------------------------------- */

/* mc_pi's one parameter is called `samples`, as is the scan option. */
static const shoal_param pi_params[] = {
    {"samples", SHOAL_INT64, "1000000", "points drawn per task", 1, 1e15, NULL, NULL},
};
#define NPI (sizeof pi_params / sizeof pi_params[0])

/* In [scan] every key is a parameter of the app: mc_pi scans its own
 * `samples` like any other parameter, and the scan's options, in
 * [sampling], do not collide with it. */
START_TEST(test_mc_pi_scans_samples)
{
    shoal_scan *s = scan_with(S "samples = 1000, 10000, 100000\n", pi_params, NPI, SEED);
    ck_assert_uint_eq(shoal_scan_ndims(s), 1);
    ck_assert_str_eq(shoal_scan_name(s, 0), "samples");
    ck_assert_int_eq(shoal_scan_type(s, 0), SHOAL_INT64);
    ck_assert_uint_eq(shoal_scan_points(s), 3);
    ck_assert_uint_eq(shoal_scan_replicates(s), 1);
    ck_assert_int_eq(lval(s, 0, 0), 1000);
    ck_assert_int_eq(lval(s, 1, 0), 10000);
    ck_assert_int_eq(lval(s, 2, 0), 100000);
    shoal_scan_free(s);

    /* ... with the scan's own samples and replicates beside it. */
    s = scan_with(S "samples = range(1000, 4000, 1000)\n"
                    "[sampling]\nreplicates = 4\n",
                  pi_params, NPI, SEED);
    ck_assert_uint_eq(shoal_scan_points(s), 3);
    ck_assert_uint_eq(shoal_scan_replicates(s), 4);
    ck_assert_uint_eq(shoal_scan_tasks(s), 12);
    ck_assert_int_eq(lval(s, 0, 0), 1000);
    ck_assert_int_eq(lval(s, 4, 0), 2000);
    ck_assert_int_eq(lval(s, 11, 0), 3000);
    shoal_scan_free(s);

    s = scan_with(S "samples = range(1000, 9000, 1000)\n"
                    "[sampling]\ndesign = sobol\nsamples = 16\n",
                  pi_params, NPI, SEED);
    ck_assert_uint_eq(shoal_scan_points(s), 16);
    for (uint64_t t = 0; t < 16; t++) {
        int64_t v = lval(s, t, 0);
        ck_assert_msg(v >= 1000 && v <= 8000 && v % 1000 == 0, "task %llu: %lld",
                      (unsigned long long)t, (long long)v);
    }
    shoal_scan_free(s);
}
END_TEST

/* An app whose parameters have the names of the scan's options. */
static const shoal_param option_named_params[] = {
    {"design", SHOAL_STRING, "plain", "a design of the app's own", 0, 0, NULL, NULL},
    {"samples", SHOAL_INT64, "100", "samples of the app's own", 1, 1e9, NULL, NULL},
    {"replicates", SHOAL_INT64, "1", "replicates of the app's own", 1, 100, NULL, NULL},
    {"T", SHOAL_FLOAT64, "1", "temperature", 0, 0, NULL, NULL},
};
#define NOPTNAMED (sizeof option_named_params / sizeof option_named_params[0])

START_TEST(test_option_names_as_parameters)
{
    shoal_scan *s = scan_with(S "design = a, bb\nreplicates = 1, 2, 3\n"
                                "samples = range(10, 30, 10)\n"
                                "[sampling]\nreplicates = 2\n",
                              option_named_params, NOPTNAMED, SEED);
    ck_assert_uint_eq(shoal_scan_ndims(s), 3);
    ck_assert_str_eq(shoal_scan_name(s, 0), "design");
    ck_assert_str_eq(shoal_scan_name(s, 1), "replicates");
    ck_assert_str_eq(shoal_scan_name(s, 2), "samples");
    ck_assert_uint_eq(shoal_scan_points(s), 2 * 3 * 2);
    ck_assert_uint_eq(shoal_scan_replicates(s), 2);
    ck_assert_uint_eq(shoal_scan_tasks(s), 24);
    /* Task 23: the last point, replicate 1. */
    uint64_t p, r;
    shoal_scan_value v[MAXV];
    task_at(s, 23, &p, &r, v);
    ck_assert_uint_eq(p, 11);
    ck_assert_uint_eq(r, 1);
    ck_assert_str_eq(v[0].s, "bb");
    ck_assert_int_eq(v[1].l, 3);
    ck_assert_int_eq(v[2].l, 20);
    shoal_scan_free(s);

    /* The parameter `samples` in a design whose own samples = 8. */
    s = scan_with(S "samples = range(10, 100, 10)\nT = uniform(0, 1)\n"
                    "[sampling]\ndesign = lhs\nsamples = 8\n",
                  option_named_params, NOPTNAMED, SEED);
    ck_assert_uint_eq(shoal_scan_points(s), 8);
    ck_assert_uint_eq(shoal_scan_replicates(s), 1);
    for (uint64_t t = 0; t < 8; t++) {
        int64_t k = lval(s, t, 0);
        ck_assert_msg(k >= 10 && k <= 90 && k % 10 == 0, "samples = %lld", (long long)k);
    }
    shoal_scan_free(s);

    /* An error about such a parameter is about the parameter. */
    fails_with(S "T = 1\nreplicates = 0, 1\n", option_named_params, NOPTNAMED,
               "scan.ini:3");
    ASSERT_MSG_HAS("replicates takes values from 0 to 1");
}
END_TEST

/* The old spelling, an option in [scan] that is not a parameter of the app:
 * one error at its line that says where the line goes now. */
START_TEST(test_err_option_in_scan)
{
    fails_at(S "T = linspace(1.5, 3.5, 41)\nL = 16, 32, 64\nreplicates = 4\n", 4);
    ck_assert_str_eq(last_msg,
                     "scan.ini:4: [scan] replicates = 4: scan options now live in their own "
                     "section; move this line to [sampling] (write `[sampling]` then "
                     "`replicates = 4`)");
    fails_at(S "design = sobol\nx = uniform(0, 1)\nsamples = 64\n", 2);
    ck_assert_str_eq(last_msg,
                     "scan.ini:2: [scan] design = sobol: scan options now live in their own "
                     "section; move this line to [sampling] (write `[sampling]` then "
                     "`design = sobol`)");
    fails_at(S "x = uniform(0, 1)\nsamples = 64\n[sampling]\ndesign = sobol\n", 3);
    ASSERT_MSG_HAS("[scan] samples = 64: scan options now live in their own section");
    ASSERT_MSG_HAS("then `samples = 64`");
    /* Even a value the option would refuse: the line is misplaced first. */
    fails_at(S "T = 1, 2\nsamples = lots\n", 3);
    ASSERT_MSG_HAS("move this line to [sampling]");
    /* mc_pi: `samples` is its parameter, `replicates` is not. */
    fails_with(S "samples = 1000, 2000\nreplicates = 4\n", pi_params, NPI, "scan.ini:3");
    ASSERT_MSG_HAS("[scan] replicates = 4: scan options now live");

    /* From the command line the hint is the new --set. */
    reset_errors();
    shoal_config *cfg = parse_text(S "T = 1, 2\n");
    ck_assert_int_eq(shoal_config_set(cfg, "scan.replicates=2"), 0);
    shoal_scan *s = SENTINEL_SCAN;
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s), SHOAL_ECONFIG);
    shoal_config_free(cfg);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(nerrors, 1);
    ck_assert_str_eq(last_msg, "--set scan.replicates: [scan] replicates = 2: scan options now "
                               "live in their own section; use --set sampling.replicates=2");
}
END_TEST

START_TEST(test_err_sampling_unknown_key)
{
    fails_at(S "T = 1, 2\n[sampling]\nreplicate = 4\n", 4);
    ck_assert_str_eq(last_msg, "scan.ini:4: unknown key 'replicate' in [sampling]; known keys: "
                               "design, samples, replicates");
    /* An app parameter in [sampling]: scanned in [scan]. */
    fails_at(S "T = 1, 2\n[sampling]\nreplicates = 2\nL = 16, 32\n", 5);
    ASSERT_MSG_HAS("unknown key 'L' in [sampling]");
    ASSERT_MSG_HAS("it is a parameter of this app: scan it in [scan]");
    /* An override is located as such. */
    reset_errors();
    shoal_config *cfg = parse_text(S "T = 1, 2\n");
    ck_assert_int_eq(shoal_config_set(cfg, "sampling.sample=2"), 0);
    shoal_scan *s = SENTINEL_SCAN;
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s), SHOAL_ECONFIG);
    shoal_config_free(cfg);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(nerrors, 1);
    ASSERT_MSG_HAS("--set sampling.sample: unknown key 'sample' in [sampling]");
}
END_TEST

/* [sampling] qualifies a [scan]: alone it is an error, even if it only sets
 * replicates (that is [run] tasks); an empty [scan] is a scan of one point. */
START_TEST(test_err_sampling_without_scan)
{
    fails_at("[run]\nseed = 3\n[sampling]\nreplicates = 4\n", 4);
    ASSERT_MSG_HAS("[sampling] sets the options of a scan, but there is no [scan] section");
    ASSERT_MSG_HAS("[run] tasks = N");
    fails_at("[sampling]\ndesign = sobol\nsamples = 8\n", 2);
    ASSERT_MSG_HAS("no [scan] section");
    /* An empty [sampling] header alone: no line to name, the file. */
    fails_with("[run]\n[sampling]\n", params, NPARAMS, "scan.ini");
    ASSERT_MSG_HAS("no [scan] section");

    shoal_scan *s = scan_ok("[scan]\n[sampling]\nreplicates = 4\n");
    ck_assert_uint_eq(shoal_scan_points(s), 1);
    ck_assert_uint_eq(shoal_scan_tasks(s), 4);
    shoal_scan_free(s);
    /* Neither section: one point, as before. */
    s = scan_ok("[run]\nseed = 3\n");
    ck_assert_uint_eq(shoal_scan_tasks(s), 1);
    shoal_scan_free(s);
}
END_TEST

/* Every entry of [scan] and [sampling] is read, so the unknown-key check of
 * shoal_main (with "sampling" among its sections) has nothing to add. */
START_TEST(test_sampling_entries_marked_used)
{
    shoal_config *cfg = parse_text(S "T = 1, 2\nx = uniform(0, 1)\n"
                                     "[sampling]\nsamples = 4\nreplicates = 2\ndesign = lhs\n");
    shoal_scan *s = NULL;
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s), 0);
    const char *sections[] = {"scan", "sampling", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, sections), 0);
    ck_assert_int_eq(nerrors, 0);
    shoal_config_free(cfg);
    shoal_scan_free(s);

    /* Also after [sampling] without [scan]: one message, no unknown keys. */
    cfg = parse_text("[sampling]\ndesign = lhs\nsamples = 4\n");
    s = SENTINEL_SCAN;
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, NPARAMS, SEED, &s), SHOAL_ECONFIG);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(shoal_config_check_unused(cfg, sections), 0);
    ck_assert_int_eq(nerrors, 1);
    shoal_config_free(cfg);
}
END_TEST

/* Moving the options to [sampling] must not move a single random draw:
 * values of scans written before the change (test_app in the old spelling,
 * seed 77, pinned from its result files), now in the new spelling. */
START_TEST(test_draws_unchanged_by_new_spelling)
{
    shoal_scan *s = scan_seed(S "x = uniform(-3, 3)\nmodel = p, qq\n"
                                "[sampling]\ndesign = random\nreplicates = 3\nsamples = 25\n",
                              77);
    ck_assert_uint_eq(shoal_scan_tasks(s), 150);
    ck_assert(dval(s, 0, 0) == -1.7781690680421889);
    ck_assert(dval(s, 2, 0) == -1.7781690680421889);
    ck_assert(dval(s, 3, 0) == 1.2275301818735898);
    ck_assert(dval(s, 6, 0) == -2.8091115443967283);
    ck_assert(dval(s, 24, 0) == 0.63076344458386302);
    shoal_scan_free(s);

    s = scan_seed(S "x = normal(1, 2.385)\nk = range(0, 3)\n"
                    "[sampling]\ndesign = lhs\nreplicates = 3\nsamples = 30\n",
                  77);
    ck_assert_uint_eq(shoal_scan_tasks(s), 90);
    ck_assert(dval(s, 0, 0) == 3.7257553027623729);
    ck_assert(dval(s, 3, 0) == 1.7504401525901905);
    ck_assert(dval(s, 6, 0) == -1.6374731845037984);
    ck_assert(dval(s, 12, 0) == 3.5705586887417224);
    ck_assert_int_eq(lval(s, 0, 1), 0);
    ck_assert_int_eq(lval(s, 6, 1), 1);
    ck_assert_int_eq(lval(s, 33, 1), 2);
    shoal_scan_free(s);
}
END_TEST

static Suite *scan_suite(void)
{
    Suite *s = suite_create("scan");

    TCase *tc = tcase_create("grammar");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_list_numbers);
    tcase_add_test(tc, test_string_choices);
    tcase_add_test(tc, test_list_integers);
    tcase_add_test(tc, test_list_words);
    tcase_add_test(tc, test_linspace);
    tcase_add_test(tc, test_logspace);
    tcase_add_test(tc, test_geomspace);
    tcase_add_test(tc, test_range);
    tcase_add_test(tc, test_random_functions);
    tcase_add_test(tc, test_options);
    tcase_add_test(tc, test_whitespace);
    tcase_add_test(tc, test_set_override);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_err_functions);
    tcase_add_test(tc, test_err_arity);
    tcase_add_test(tc, test_err_not_a_number);
    tcase_add_test(tc, test_err_ranges_and_counts);
    tcase_add_test(tc, test_err_function_domains);
    tcase_add_test(tc, test_err_designs);
    tcase_add_test(tc, test_err_sobol_41_dims);
    tcase_add_test(tc, test_err_unknown_parameter);
    tcase_add_test(tc, test_err_integer_values);
    tcase_add_test(tc, test_err_string_function);
    tcase_add_test(tc, test_err_bounds);
    tcase_add_test(tc, test_err_too_many_points);
    tcase_add_test(tc, test_err_empty_item);
    tcase_add_test(tc, test_regression_zip_length_message_where);
    suite_add_tcase(s, tc);

    tc = tcase_create("mapping");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_grid_order);
    tcase_add_test(tc, test_zip_mapping);
    tcase_add_test(tc, test_huge_grid);
    tcase_add_test(tc, test_task_out_of_range);
    tcase_add_test(tc, test_options_only);
    tcase_add_test(tc, test_describe);
    suite_add_tcase(s, tc);

    tc = tcase_create("designs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lhs_permutations);
    tcase_add_test(tc, test_random_design);
    tcase_add_test(tc, test_sobol_matches_gsl);
    tcase_add_test(tc, test_halton_matches_gsl);
    tcase_add_test(tc, test_lists_crossed_with_design);
    tcase_add_test(tc, test_normal_moments);
    tcase_add_test(tc, test_range_in_design);
    tcase_add_test(tc, test_reproducible);
    suite_add_tcase(s, tc);

    tc = tcase_create("bugs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_regression_describe_overflows_buffer);
    tcase_add_test(tc, test_regression_geomspace_start_not_exact);
    tcase_add_test(tc, test_regression_missing_samples_names_wrong_line);
    tcase_add_test(tc, test_regression_zip_missing_samples_has_no_line);
    tcase_add_test(tc, test_regression_tasks_overflow_has_no_line);
    tcase_add_test(tc, test_regression_sobol_replicates_restart_sequence);
    tcase_add_test(tc, test_regression_integer_range_beyond_int64);
    tcase_add_test(tc, test_regression_range_includes_stop_after_rounding);
    tcase_add_test(tc, test_regression_arity_count_capped_at_4);
    suite_add_tcase(s, tc);

    tc = tcase_create("sampling");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mc_pi_scans_samples);
    tcase_add_test(tc, test_option_names_as_parameters);
    tcase_add_test(tc, test_err_option_in_scan);
    tcase_add_test(tc, test_err_sampling_unknown_key);
    tcase_add_test(tc, test_err_sampling_without_scan);
    tcase_add_test(tc, test_sampling_entries_marked_used);
    tcase_add_test(tc, test_draws_unchanged_by_new_spelling);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scan_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
