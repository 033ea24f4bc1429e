/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_config.c: INI configuration, --set overrides and located errors
 * (config.h).
 *
 * Parsing of good text (sections, ';' and '#' comments, inline " ; comment",
 * whitespace, '=' inside values, CRLF), the typed getters with defaults,
 * `required`, bounds and wrong types (messages carry "source:LINE", the key,
 * the bad value and a hint), every parse error (duplicate key or section, key
 * outside a section, line without '=', NUL byte, over-long line), --set
 * overrides, the unknown key/section report (only keys nobody read, a few
 * lines then a count), shoal_config_read_file on missing, directory, empty,
 * whitespace-only, normal and oversized inputs and its refusal of FIFOs and
 * devices, and every out-of-memory path (allocations made to fail one by
 * one). Errors are captured by a recording handler.
 *
 * Tests named test_regression_* pin library bugs found while writing this
 * suite and since fixed; the comment above each says what went wrong. */
#include <shoal/config.h>
#include <shoal/error.h>
#include <shoal/scan.h>

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a recording error handler --------------------------------------------------- */

static char last_msg[8192];   /* the last message */
static char all_msgs[65536];  /* every message, one per line */
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
#define ASSERT_MSG_LACKS(needle)                                               \
    ck_assert_msg(strstr(last_msg, (needle)) == NULL,                          \
                  "message '%s' has '%s'", last_msg, (needle))
#define ASSERT_ALL_HAS(needle)                                                 \
    ck_assert_msg(strstr(all_msgs, (needle)) != NULL,                          \
                  "messages '%s' lack '%s'", all_msgs, (needle))

/* A non-NULL pointer that no function returns, to see *out being cleared. */
static char sentinel_byte;
#define SENTINEL_CFG ((shoal_config *)(void *)&sentinel_byte)
#define SENTINEL_STR (&sentinel_byte)

/* ---- parse helpers ------------------------------------------------------------------ */

static shoal_config *parse_len_ok(const char *text, size_t len,
                                  const char *source)
{
    shoal_config *cfg = SENTINEL_CFG;
    int rc = shoal_config_parse(text, len, source, &cfg);
    ck_assert_msg(rc == 0, "parse of %s failed (%d): %s", source, rc, last_msg);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_ptr_ne(cfg, SENTINEL_CFG);
    ck_assert_int_eq(nerrors, 0);
    return cfg;
}

static shoal_config *parse_ok(const char *text, const char *source)
{
    return parse_len_ok(text, strlen(text), source);
}

/* Parse text that must fail: returns the code; *out must be NULL and exactly
 * one message must have been reported. */
static int parse_len_fails(const char *text, size_t len, const char *source)
{
    shoal_config *cfg = SENTINEL_CFG;
    int rc = shoal_config_parse(text, len, source, &cfg);
    ck_assert_msg(rc != 0, "parse of %s succeeded", source);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(nerrors == 1, "%d messages: %s", nerrors, all_msgs);
    ck_assert_int_eq(last_code, rc);
    return rc;
}

static int parse_fails(const char *text, const char *source)
{
    return parse_len_fails(text, strlen(text), source);
}

/* ---- parsing good text ---------------------------------------------------------------- */

static const char good_ini[] =
    "; Shoal test configuration\n"              /* 1 */
    "# a hash comment\n"                        /* 2 */
    "\n"                                        /* 3 */
    "[run]\n"                                   /* 4 */
    "tasks   =   1000003\n"                     /* 5 */
    "seed=2385    ; inline comment\n"           /* 6 */
    "name = Monte Carlo  run   \n"              /* 7 */
    "  indented = yes\n"                        /* 8 */
    "url = http://example.org/?a=b&c=d\n"       /* 9 */
    "semi = a;b\n"                              /* 10 */
    "hash = #ff8800\n"                          /* 11 */
    "empty =\n"                                 /* 12 */
    "expr = x=y=z ; not part of it\n"           /* 13 */
    "\t; indented comment\n"                    /* 14 */
    "[mc_pi]\n"                                 /* 15 */
    "samples = 2.385e6   ; samples per task\n"  /* 16 */
    "\ttabbed\t=\ttab value\t\n"                /* 17 */
    "[empty_section]\n";                        /* 18 */

START_TEST(test_parse_good)
{
    shoal_config *cfg = parse_ok(good_ini, "good.ini");
    long l;
    uint64_t u;
    double d;
    const char *s;
    int b;

    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 1,
                                           LONG_MAX, &l), 0);
    ck_assert_int_eq(l, 1000003);
    ck_assert_int_eq(shoal_config_get_u64(cfg, "run", "seed", 1, 0, 1,
                                          UINT64_MAX, &u), 0);
    ck_assert_uint_eq(u, 2385);
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "name", 1, NULL, &s),
                     0);
    ck_assert_str_eq(s, "Monte Carlo  run");
    ck_assert_int_eq(shoal_config_get_bool(cfg, "run", "indented", 1, 0, &b), 0);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "url", 1, NULL, &s), 0);
    ck_assert_str_eq(s, "http://example.org/?a=b&c=d");
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "semi", 1, NULL, &s),
                     0);
    ck_assert_str_eq(s, "a;b");
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "hash", 1, NULL, &s),
                     0);
    ck_assert_str_eq(s, "#ff8800");
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "empty", 1, "x", &s),
                     0);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "expr", 1, NULL, &s),
                     0);
    ck_assert_str_eq(s, "x=y=z");
    ck_assert_int_eq(shoal_config_get_double(cfg, "mc_pi", "samples", 1, 0, 0,
                                             1e300, &d), 0);
    ck_assert(d == 2385000.0);
    ck_assert_int_eq(shoal_config_get_long(cfg, "mc_pi", "samples", 1, 0, 0,
                                           LONG_MAX, &l), 0);
    ck_assert_int_eq(l, 2385000);
    ck_assert_int_eq(shoal_config_get_string(cfg, "mc_pi", "tabbed", 1, NULL,
                                             &s), 0);
    ck_assert_str_eq(s, "tab value");
    ck_assert_int_eq(nerrors, 0);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_parse_where_and_has)
{
    shoal_config *cfg = parse_ok(good_ini, "good.ini");
    ck_assert_str_eq(shoal_config_where(cfg, "run", "tasks"), "good.ini:5");
    ck_assert_str_eq(shoal_config_where(cfg, "run", "seed"), "good.ini:6");
    ck_assert_str_eq(shoal_config_where(cfg, "run", "expr"), "good.ini:13");
    ck_assert_str_eq(shoal_config_where(cfg, "mc_pi", "samples"),
                     "good.ini:16");
    ck_assert_str_eq(shoal_config_where(cfg, "mc_pi", "tabbed"), "good.ini:17");
    ck_assert_ptr_null(shoal_config_where(cfg, "run", "samples"));
    ck_assert_ptr_null(shoal_config_where(cfg, "nope", "tasks"));

    ck_assert(shoal_config_has(cfg, "run", "tasks"));
    ck_assert(shoal_config_has(cfg, "mc_pi", "samples"));
    ck_assert(!shoal_config_has(cfg, "mc_pi", "tasks"));
    ck_assert(!shoal_config_has(cfg, "run", "Tasks"));
    ck_assert(shoal_config_has_section(cfg, "run"));
    ck_assert(shoal_config_has_section(cfg, "mc_pi"));
    ck_assert(shoal_config_has_section(cfg, "empty_section"));
    ck_assert(!shoal_config_has_section(cfg, "nope"));

    ck_assert_str_eq(shoal_config_text(cfg), good_ini);
    ck_assert_str_eq(shoal_config_source(cfg), "good.ini");
    ck_assert_str_eq(shoal_config_overrides(cfg), "");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_parse_crlf)
{
    static const char text[] = "; dos file\r\n"      /* 1 */
                               "[run]\r\n"           /* 2 */
                               "tasks = 7\r\n"       /* 3 */
                               "name = x y \r\n"     /* 4 */
                               "seed = 11 ; c\r\n"   /* 5 */
                               "\r\n"                /* 6 */
                               "[other]\r\n"         /* 7 */
                               "k = a=b\r\n";        /* 8 */
    shoal_config *cfg = parse_ok(text, "dos.ini");
    long l;
    const char *s;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 100,
                                           &l), 0);
    ck_assert_int_eq(l, 7);
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "name", 1, NULL, &s),
                     0);
    ck_assert_str_eq(s, "x y");
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "seed", 1, 0, 0, 100,
                                           &l), 0);
    ck_assert_int_eq(l, 11);
    ck_assert_int_eq(shoal_config_get_string(cfg, "other", "k", 1, NULL, &s),
                     0);
    ck_assert_str_eq(s, "a=b");
    ck_assert_str_eq(shoal_config_where(cfg, "other", "k"), "dos.ini:8");
    ck_assert(shoal_config_has_section(cfg, "other"));
    /* A clean check_unused: the section headers were recognised. */
    const char *const secs[] = {"run", "other", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), 0);
    ck_assert_int_eq(nerrors, 0);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_parse_no_final_newline)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 2385", "nonl.ini");
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10000,
                                           &l), 0);
    ck_assert_int_eq(l, 2385);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_parse_uses_len)
{
    /* Only the first len bytes count; the text need not be NUL-terminated
     * there. */
    static const char text[] = "[run]\ntasks = 5\nseed = 6\n";
    size_t len = strlen("[run]\ntasks = 5\n");
    shoal_config *cfg = parse_len_ok(text, len, "part.ini");
    ck_assert(shoal_config_has(cfg, "run", "tasks"));
    ck_assert(!shoal_config_has(cfg, "run", "seed"));
    ck_assert_str_eq(shoal_config_text(cfg), "[run]\ntasks = 5\n");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_parse_null_source)
{
    shoal_config *cfg = SENTINEL_CFG;
    ck_assert_int_eq(shoal_config_parse("[run]\na = 1\n", 12, NULL, &cfg), 0);
    ck_assert_ptr_nonnull(shoal_config_source(cfg));
    ck_assert_str_ne(shoal_config_source(cfg), "");
    shoal_config_free(cfg);
    shoal_config_free(NULL);
}
END_TEST

START_TEST(test_parse_bom)
{
    /* A UTF-8 byte order mark (Windows editors) is accepted. */
    shoal_config *cfg = parse_ok("\xEF\xBB\xBF[run]\ntasks = 3\n", "bom.ini");
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l),
                     0);
    ck_assert_int_eq(l, 3);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_parse_line_at_limit)
{
    /* 65533 characters before CRLF: the longest line accepted, kept whole. */
    const size_t chars = 65533, vlen = chars - 4; /* "k = " */
    size_t len = 6 + chars + 2;
    char *text = malloc(len + 1);
    ck_assert_ptr_nonnull(text);
    memcpy(text, "[run]\nk = ", 10);
    memset(text + 10, 'y', vlen);
    memcpy(text + 10 + vlen, "\r\n", 3);
    ck_assert_uint_eq(strlen(text), len);
    shoal_config *cfg = parse_ok(text, "limit.ini");
    const char *s;
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "k", 1, NULL, &s), 0);
    ck_assert_uint_eq(strlen(s), vlen);
    shoal_config_free(cfg);
    free(text);
}
END_TEST

/* ---- typed getters --------------------------------------------------------------------- */

START_TEST(test_get_bool_forms)
{
    static const char *const yes[] = {"true", "TRUE", "True", "yes", "Yes",
                                      "YES", "on", "On", "ON", "1"};
    static const char *const no[] = {"false", "FALSE", "FaLsE", "no", "No",
                                     "NO", "off", "Off", "OFF", "0"};
    char text[1024] = "[b]\n";
    char key[32];
    for (size_t i = 0; i < 10; i++) {
        size_t n = strlen(text);
        snprintf(text + n, sizeof text - n, "y%zu = %s\nn%zu = %s\n", i, yes[i],
                 i, no[i]);
    }
    shoal_config *cfg = parse_ok(text, "bool.ini");
    for (size_t i = 0; i < 10; i++) {
        int v = -7;
        snprintf(key, sizeof key, "y%zu", i);
        ck_assert_int_eq(shoal_config_get_bool(cfg, "b", key, 1, 0, &v), 0);
        ck_assert_msg(v == 1, "'%s' -> %d", yes[i], v);
        v = -7;
        snprintf(key, sizeof key, "n%zu", i);
        ck_assert_int_eq(shoal_config_get_bool(cfg, "b", key, 1, 1, &v), 0);
        ck_assert_msg(v == 0, "'%s' -> %d", no[i], v);
    }
    ck_assert_int_eq(nerrors, 0);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_bool_bad)
{
    static const char text[] = "[b]\n"       /* 1 */
                               "a = maybe\n" /* 2 */
                               "b = 2\n"     /* 3 */
                               "c = y\n"     /* 4 */
                               "d =\n"       /* 5 */
                               "e = truee\n"; /* 6 */
    static const char *const keys[] = {"a", "b", "c", "d", "e"};
    static const char *const vals[] = {"'maybe'", "'2'", "'y'", "''", "'truee'"};
    shoal_config *cfg = parse_ok(text, "bb.ini");
    for (int i = 0; i < 5; i++) {
        int v;
        char where[32];
        ck_assert_int_eq(shoal_config_get_bool(cfg, "b", keys[i], 0, 0, &v),
                         SHOAL_ECONFIG);
        snprintf(where, sizeof where, "bb.ini:%d:", i + 2);
        ASSERT_MSG_HAS(where);
        ASSERT_MSG_HAS(vals[i]);
        ASSERT_MSG_HAS("true or false");
        ASSERT_MSG_HAS("boolean");
    }
    ck_assert_int_eq(nerrors, 5);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_defaults)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 1\n", "d.ini");
    long l = 0;
    uint64_t u = 0;
    double d = 0;
    const char *s = SENTINEL_STR;
    int b = -1;
    static const char dflt[] = "fallback";

    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "nope", 0, -2385, -10000,
                                           10000, &l), 0);
    ck_assert_int_eq(l, -2385);
    ck_assert_int_eq(shoal_config_get_u64(cfg, "run", "nope", 0,
                                          0xfedcba9876543210ULL, 0, UINT64_MAX,
                                          &u), 0);
    ck_assert_uint_eq(u, 0xfedcba9876543210ULL);
    ck_assert_int_eq(shoal_config_get_double(cfg, "run", "nope", 0, 2.385, 0, 3,
                                             &d), 0);
    ck_assert(d == 2.385);
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "nope", 0, dflt, &s),
                     0);
    ck_assert_ptr_eq(s, dflt);
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "nope", 0, NULL, &s),
                     0);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(shoal_config_get_bool(cfg, "run", "nope", 0, 1, &b), 0);
    ck_assert_int_eq(b, 1);
    /* Absent section too. */
    ck_assert_int_eq(shoal_config_get_long(cfg, "absent", "tasks", 0, 77, 0,
                                           100, &l), 0);
    ck_assert_int_eq(l, 77);
    ck_assert_int_eq(nerrors, 0);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_required_missing)
{
    shoal_config *cfg = parse_ok("[run]\nseed = 1\n[other]\ntasks = 5\n",
                                 "req.ini");
    long l;
    uint64_t u;
    double d;
    const char *s;
    int b;
    int rcs[5];
    rcs[0] = shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l);
    rcs[1] = shoal_config_get_u64(cfg, "run", "tasks", 1, 0, 0, 10, &u);
    rcs[2] = shoal_config_get_double(cfg, "run", "tasks", 1, 0, 0, 10, &d);
    rcs[3] = shoal_config_get_string(cfg, "run", "tasks", 1, NULL, &s);
    rcs[4] = shoal_config_get_bool(cfg, "run", "tasks", 1, 0, &b);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(rcs[i] == SHOAL_ECONFIG, "getter %d returned %d", i,
                      rcs[i]);
    ck_assert_int_eq(nerrors, 5);
    ck_assert_int_eq(last_code, SHOAL_ECONFIG);
    ASSERT_MSG_HAS("req.ini");
    ASSERT_MSG_HAS("'tasks'");
    ASSERT_MSG_HAS("[run]");
    ASSERT_MSG_HAS("--set run.tasks=");

    /* A required key in a missing section. */
    reset_errors();
    ck_assert_int_eq(shoal_config_get_double(cfg, "mc_pi", "radius", 1, 0, 0,
                                             1, &d), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("'radius'");
    ASSERT_MSG_HAS("[mc_pi]");
    shoal_config_free(cfg);
}
END_TEST

/* Lines of the file used by the wrong-type tests. */
static const char bad_ini[] =
    "[run]\n"                            /* 1 */
    "tasks = abc\n"                      /* 2 */
    "seed = -5\n"                        /* 3 */
    "ratio = 2.385x\n"                   /* 4 */
    "half = 1.5\n"                       /* 5 */
    "big = 1e16\n"                       /* 6 */
    "notnum = nan\n"                     /* 7 */
    "ninf = -inf\n"                      /* 8 */
    "huge = 99999999999999999999\n"      /* 9 */
    "; padding, so that line numbers reach two digits\n" /* 10 */
    "neg = -2.385e3\n"                   /* 11 */
    "mixed = 12 apples\n"                /* 12 */
    "minus = -abc\n";                    /* 13 */

/* Call a getter on bad_ini[run]key and check the message. */
static void expect_bad(int rc, int line, const char *key, const char *value,
                       const char *what)
{
    char where[64], quoted[128];
    ck_assert_msg(rc == SHOAL_ECONFIG, "%s: rc %d", key, rc);
    ck_assert_int_eq(last_code, SHOAL_ECONFIG);
    snprintf(where, sizeof where, "bad.ini:%d:", line);
    snprintf(quoted, sizeof quoted, "'%s'", value);
    ASSERT_MSG_HAS(where);
    ASSERT_MSG_HAS(key);
    ASSERT_MSG_HAS(quoted);
    ASSERT_MSG_HAS("expected");
    ASSERT_MSG_HAS("[run]");
    if (what)
        ASSERT_MSG_HAS(what);
}

START_TEST(test_get_long_wrong_type)
{
    shoal_config *cfg = parse_ok(bad_ini, "bad.ini");
    long l;
    expect_bad(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 1, 100, &l), 2,
               "tasks", "abc", "not an integer");
    ASSERT_MSG_HAS("from 1 to 100");
    expect_bad(shoal_config_get_long(cfg, "run", "ratio", 1, 0, 0, 100, &l), 4,
               "ratio", "2.385x", "not an integer");
    expect_bad(shoal_config_get_long(cfg, "run", "half", 1, 0, 0, 100, &l), 5,
               "half", "1.5", "not an integer");
    expect_bad(shoal_config_get_long(cfg, "run", "big", 1, 0, 0, LONG_MAX, &l),
               6, "big", "1e16", "out of range");
    expect_bad(shoal_config_get_long(cfg, "run", "notnum", 1, 0, 0, 100, &l), 7,
               "notnum", "nan", NULL);
    expect_bad(shoal_config_get_long(cfg, "run", "ninf", 1, 0, LONG_MIN,
                                     LONG_MAX, &l), 8, "ninf", "-inf", NULL);
    expect_bad(shoal_config_get_long(cfg, "run", "huge", 1, 0, LONG_MIN,
                                     LONG_MAX, &l), 9, "huge",
               "99999999999999999999", "out of range");
    expect_bad(shoal_config_get_long(cfg, "run", "mixed", 1, 0, 0, 100, &l), 12,
               "mixed", "12 apples", "not an integer");
    ck_assert_int_eq(nerrors, 8);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_u64_wrong_type)
{
    shoal_config *cfg = parse_ok(bad_ini, "bad.ini");
    uint64_t u;
    expect_bad(shoal_config_get_u64(cfg, "run", "tasks", 1, 0, 0, 100, &u), 2,
               "tasks", "abc", "not a whole number");
    expect_bad(shoal_config_get_u64(cfg, "run", "seed", 1, 0, 0, UINT64_MAX, &u),
               3, "seed", "-5", "negative");
    expect_bad(shoal_config_get_u64(cfg, "run", "neg", 1, 0, 0, UINT64_MAX, &u),
               11, "neg", "-2.385e3", "negative");
    expect_bad(shoal_config_get_u64(cfg, "run", "minus", 1, 0, 0, UINT64_MAX,
                                    &u), 13, "minus", "-abc", NULL);
    expect_bad(shoal_config_get_u64(cfg, "run", "half", 1, 0, 0, 100, &u), 5,
               "half", "1.5", "not a whole number");
    expect_bad(shoal_config_get_u64(cfg, "run", "big", 1, 0, 0, UINT64_MAX, &u),
               6, "big", "1e16", "out of range");
    expect_bad(shoal_config_get_u64(cfg, "run", "huge", 1, 0, 0, UINT64_MAX,
                                    &u), 9, "huge", "99999999999999999999",
               "out of range");
    expect_bad(shoal_config_get_u64(cfg, "run", "notnum", 1, 0, 0, 100, &u), 7,
               "notnum", "nan", NULL);
    ck_assert_int_eq(nerrors, 8);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_double_wrong_type)
{
    shoal_config *cfg = parse_ok(bad_ini, "bad.ini");
    double d;
    expect_bad(shoal_config_get_double(cfg, "run", "tasks", 1, 0, 0, 1, &d), 2,
               "tasks", "abc", "not a number");
    ASSERT_MSG_HAS("finite number");
    expect_bad(shoal_config_get_double(cfg, "run", "ratio", 1, 0, 0, 10, &d), 4,
               "ratio", "2.385x", "not a number");
    expect_bad(shoal_config_get_double(cfg, "run", "notnum", 1, 0, -1e300,
                                       1e300, &d), 7, "notnum", "nan",
               "not finite");
    expect_bad(shoal_config_get_double(cfg, "run", "ninf", 1, 0, -HUGE_VAL,
                                       HUGE_VAL, &d), 8, "ninf", "-inf",
               "not finite");
    expect_bad(shoal_config_get_double(cfg, "run", "mixed", 1, 0, 0, 100, &d),
               12, "mixed", "12 apples", "not a number");
    ck_assert_int_eq(nerrors, 5);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_double_not_finite_forms)
{
    static const char text[] = "[x]\n"
                               "a = NaN\n"
                               "b = inf\n"
                               "c = -Infinity\n"
                               "d = 1e999\n"
                               "e = nan(0x7)\n";
    static const char *const keys[] = {"a", "b", "c", "d", "e"};
    shoal_config *cfg = parse_ok(text, "nf.ini");
    for (int i = 0; i < 5; i++) {
        double d = 2.385;
        ck_assert_msg(shoal_config_get_double(cfg, "x", keys[i], 1, 0,
                                              -HUGE_VAL, HUGE_VAL,
                                              &d) == SHOAL_ECONFIG,
                      "key %s accepted as %g", keys[i], d);
        char where[32];
        snprintf(where, sizeof where, "nf.ini:%d:", i + 2);
        ASSERT_MSG_HAS(where);
    }
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_integer_exact_forms)
{
    static const char text[] = "[n]\n"
                               "a = 1e6\n"
                               "b = 2.385e3\n"
                               "c = -1e6\n"
                               "d = 9007199254740992\n"    /* 2^53 */
                               "e = 9.007199254740991e15\n" /* 2^53-1 */
                               "f = 9007199254740993\n"    /* 2^53 + 1 */
                               "g = 9223372036854775807\n" /* INT64_MAX */
                               "h = 18446744073709551615\n" /* UINT64_MAX */
                               "i = +42\n"
                               "j = 0.0e0\n"
                               "k = 1E3\n";
    shoal_config *cfg = parse_ok(text, "exact.ini");
    long l;
    uint64_t u;
#define LONG_IS(key, want)                                                     \
    do {                                                                       \
        ck_assert_msg(shoal_config_get_long(cfg, "n", key, 1, 0, LONG_MIN,     \
                                            LONG_MAX, &l) == 0,                \
                      "long %s: %s", key, last_msg);                           \
        ck_assert_msg(l == (want), "long %s = %ld", key, l);                   \
    } while (0)
#define U64_IS(key, want)                                                      \
    do {                                                                       \
        ck_assert_msg(shoal_config_get_u64(cfg, "n", key, 1, 0, 0, UINT64_MAX, \
                                           &u) == 0,                           \
                      "u64 %s: %s", key, last_msg);                            \
        ck_assert_msg(u == (want), "u64 %s = %llu", key,                       \
                      (unsigned long long)u);                                  \
    } while (0)
    LONG_IS("a", 1000000L);
    LONG_IS("b", 2385L);
    LONG_IS("c", -1000000L);
    LONG_IS("d", 9007199254740992L);
    LONG_IS("e", 9007199254740991L);
    LONG_IS("f", 9007199254740993L); /* integer form: exact beyond 2^53 */
    LONG_IS("g", LONG_MAX);
    LONG_IS("i", 42L);
    LONG_IS("j", 0L);
    LONG_IS("k", 1000L);
    U64_IS("a", UINT64_C(1000000));
    U64_IS("b", UINT64_C(2385));
    U64_IS("e", UINT64_C(9007199254740991));
    U64_IS("f", UINT64_C(9007199254740993));
    U64_IS("h", UINT64_MAX);
    U64_IS("k", UINT64_C(1000));
#undef LONG_IS
#undef U64_IS
    ck_assert_int_eq(nerrors, 0);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_bounds)
{
    static const char text[] = "[b]\n"
                               "lo = 3\n"       /* 2 */
                               "hi = 2385\n"    /* 3 */
                               "x = 2.385\n"    /* 4 */
                               "neg = -17\n";   /* 5 */
    shoal_config *cfg = parse_ok(text, "bounds.ini");
    long l;
    uint64_t u;
    double d;
    /* Inclusive bounds. */
    ck_assert_int_eq(shoal_config_get_long(cfg, "b", "lo", 1, 0, 3, 3, &l), 0);
    ck_assert_int_eq(l, 3);
    ck_assert_int_eq(shoal_config_get_u64(cfg, "b", "hi", 1, 0, 2385, 2385, &u),
                     0);
    ck_assert_uint_eq(u, 2385);
    ck_assert_int_eq(shoal_config_get_double(cfg, "b", "x", 1, 0, 2.385, 2.385,
                                             &d), 0);
    ck_assert(d == 2.385);
    ck_assert_int_eq(shoal_config_get_long(cfg, "b", "neg", 1, 0, -17, -1, &l),
                     0);
    ck_assert_int_eq(l, -17);
    ck_assert_int_eq(nerrors, 0);

    /* One past. */
    ck_assert_int_eq(shoal_config_get_long(cfg, "b", "lo", 1, 0, 4, 10, &l),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("bounds.ini:2:");
    ASSERT_MSG_HAS("out of range");
    ASSERT_MSG_HAS("from 4 to 10");
    ck_assert_int_eq(shoal_config_get_u64(cfg, "b", "hi", 1, 0, 0, 2384, &u),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("bounds.ini:3:");
    ASSERT_MSG_HAS("'2385'");
    ASSERT_MSG_HAS("from 0 to 2384");
    ck_assert_int_eq(shoal_config_get_double(cfg, "b", "x", 1, 0, 0, 2.38, &d),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("bounds.ini:4:");
    ASSERT_MSG_HAS("out of range");
    ASSERT_MSG_HAS("2.38");
    ck_assert_int_eq(shoal_config_get_double(cfg, "b", "x", 1, 0, 2.3851, 5,
                                             &d), SHOAL_ECONFIG);
    ck_assert_int_eq(shoal_config_get_long(cfg, "b", "neg", 1, 0, -16, 0, &l),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("bounds.ini:5:");
    ASSERT_MSG_HAS("'-17'");
    ck_assert_int_eq(nerrors, 5);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_get_string_value)
{
    shoal_config *cfg = parse_ok("[s]\nname = Shoal  2.385 ; c\n", "s.ini");
    const char *s = NULL;
    ck_assert_int_eq(shoal_config_get_string(cfg, "s", "name", 1, "d", &s), 0);
    ck_assert_str_eq(s, "Shoal  2.385");
    shoal_config_free(cfg);
}
END_TEST

/* Regression (fixed; lib/src/config.c, parse_ll, the 2^53 check): integers in exponent
 * form are meant to be rejected beyond 2^53, where doubles skip integers, but
 * the test is `fabs(d) > 2^53`: "9007199254740993e0" (2^53 + 1) is rounded by strtod
 * to exactly 2^53, passes, and is silently read as 9007199254740992.
 * Suggested fix: reject `fabs(d) >= 9007199254740992.0` in the exponent path
 * (2^53 itself can still be written in plain integer form, which is exact;
 * test_get_integer_exact_forms does not pin 2^53 in exponent form). */
START_TEST(test_regression_exponent_beyond_2p53_rounds)
{
    shoal_config *cfg = parse_ok("[n]\nx = 9007199254740993e0\n", "e.ini");
    long l = 0;
    uint64_t u = 0;
    int rc = shoal_config_get_long(cfg, "n", "x", 1, 0, 0, LONG_MAX, &l);
    ck_assert_msg(rc == SHOAL_ECONFIG,
                  "'9007199254740993e0' accepted as %ld", l);
    ASSERT_MSG_HAS("e.ini:2:");
    rc = shoal_config_get_u64(cfg, "n", "x", 1, 0, 0, UINT64_MAX, &u);
    ck_assert_msg(rc == SHOAL_ECONFIG,
                  "'9007199254740993e0' accepted as %llu",
                  (unsigned long long)u);
    shoal_config_free(cfg);
}
END_TEST

/* ---- parse errors ------------------------------------------------------------------------ */

START_TEST(test_err_duplicate_key)
{
    static const char text[] = "[run]\n"       /* 1 */
                               "tasks = 1\n"   /* 2 */
                               "seed = 3\n"    /* 3 */
                               "\n"            /* 4 */
                               "tasks = 2\n";  /* 5 */
    ck_assert_int_eq(parse_fails(text, "dup.ini"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("dup.ini:5:");
    ASSERT_MSG_HAS("line 2");
    ASSERT_MSG_HAS("'tasks'");
    ASSERT_MSG_HAS("[run]");

    /* The same key in two sections is fine. */
    reset_errors();
    shoal_config *cfg = parse_ok("[a]\nx = 1\n[b]\nx = 2\n", "two.ini");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_err_duplicate_section)
{
    static const char text[] = "[run]\n"       /* 1 */
                               "a = 1\n"       /* 2 */
                               "[mc_pi]\n"     /* 3 */
                               "b = 2\n"       /* 4 */
                               "  [run]\n"     /* 5 */
                               "c = 3\n";      /* 6 */
    ck_assert_int_eq(parse_fails(text, "dupsec.ini"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("dupsec.ini:5:");
    ASSERT_MSG_HAS("[run]");
    ASSERT_MSG_HAS("line 1");

    /* Even an empty repeated section. */
    reset_errors();
    ck_assert_int_eq(parse_fails("[x]\n[y]\n[x]\n", "e.ini"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("e.ini:3:");
}
END_TEST

START_TEST(test_err_key_outside_section)
{
    ck_assert_int_eq(parse_fails("; c\ntasks = 3\n[run]\nseed = 1\n", "ns.ini"),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("ns.ini:2:");
    ASSERT_MSG_HAS("'tasks'");
    ASSERT_MSG_HAS("section");
}
END_TEST

START_TEST(test_err_no_equals)
{
    static const char text[] = "[run]\n"            /* 1 */
                               "tasks = 3\n"        /* 2 */
                               "; fine\n"           /* 3 */
                               "just some words\n"  /* 4 */
                               "seed = 1\n";        /* 5 */
    ck_assert_int_eq(parse_fails(text, "noeq.ini"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("noeq.ini:4:");
    ASSERT_MSG_LACKS("noeq.ini:5");

    /* An unterminated section header. */
    reset_errors();
    ck_assert_int_eq(parse_fails("[run]\na = 1\n[mc_pi\nb = 2\n", "hdr.ini"),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("hdr.ini:3:");

    /* An empty key name. */
    reset_errors();
    ck_assert_int_eq(parse_fails("[run]\n = 3\n", "ek.ini"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("ek.ini:2:");
}
END_TEST

START_TEST(test_err_nul_byte)
{
    static const char text[] = "[run]\ntasks = 3\nname = a\0b\nseed = 1\n";
    ck_assert_int_eq(parse_len_fails(text, sizeof text - 1, "nul.ini"),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("nul.ini:3:");
    ASSERT_MSG_HAS("NUL");

    reset_errors();
    static const char first[] = "\0[run]\n";
    ck_assert_int_eq(parse_len_fails(first, sizeof first - 1, "nul1.ini"),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("nul1.ini:1:");

    /* Last line without a newline. */
    reset_errors();
    static const char last[] = "[run]\na = 1\nb = 2\0";
    ck_assert_int_eq(parse_len_fails(last, sizeof last - 1, "nul3.ini"),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("nul3.ini:3:");
}
END_TEST

START_TEST(test_err_long_line)
{
    const size_t vlen = 70000;
    const char *head = "[run]\nok = 1\nbig = ";
    const char *tail = "\nafter = 2\n";
    size_t len = strlen(head) + vlen + strlen(tail);
    char *text = malloc(len + 1);
    ck_assert_ptr_nonnull(text);
    strcpy(text, head);
    memset(text + strlen(head), 'x', vlen);
    strcpy(text + strlen(head) + vlen, tail);
    ck_assert_int_eq(parse_len_fails(text, len, "long.ini"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("long.ini:3:");
    ASSERT_MSG_HAS("65533");

    /* Just over: 65535 characters and LF on line 4 (65536 bytes). */
    reset_errors();
    const char *head2 = "[run]\n\n\nk = ";
    size_t vlen2 = 65535 - 4;
    len = strlen(head2) + vlen2 + 1;
    char *text2 = malloc(len + 1);
    ck_assert_ptr_nonnull(text2);
    strcpy(text2, head2);
    memset(text2 + strlen(head2), 'z', vlen2);
    text2[len - 1] = '\n';
    text2[len] = '\0';
    ck_assert_int_eq(parse_len_fails(text2, len, "long2.ini"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("long2.ini:4:");
    free(text);
    free(text2);
}
END_TEST

/* Regression (fixed; lib/src/config.c, note_section, the two trimming loops): it trims
 * blanks inside the brackets, so "[ run ]" is recorded as section "run", but
 * inih passes the untrimmed name " run " to the handler, so the entries land
 * in section " run ". Result: run.tasks reads as absent (the default is used
 * silently), and shoal_config_check_unused() passes because the recorded
 * section "run" is known and entries of the unrecorded " run " are skipped.
 * The whole section is ignored without a word. Suggested fix: trim the
 * section name in handler() the same way (so "[ run ]" means [run]), or
 * reject blanks inside brackets with a located error. */
START_TEST(test_regression_blank_inside_brackets)
{
    shoal_config *cfg = parse_ok("[ run ]\ntasks = 5\n", "blank.ini");
    long l = -1;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 0, -1, -1, 100,
                                           &l), 0);
    const char *const secs[] = {"run", NULL};
    int unused = shoal_config_check_unused(cfg, secs);
    ck_assert_msg(l == 5 || unused == SHOAL_ECONFIG,
                  "'[ run ]' with tasks = 5 read as tasks = %ld and "
                  "check_unused returned %d: the section is silently ignored",
                  l, unused);
    shoal_config_free(cfg);
}
END_TEST

/* Regression (fixed; lib/src/config.c, note_section, the '[' test): on line 1 the reader hands
 * note_section the raw bytes, including a UTF-8 byte order mark, which inih
 * itself skips. "\xEF\xBB\xBF[typo]" is then not recorded as a section: a
 * mistyped first section is never reported by check_unused (its keys are
 * skipped as "reported once per section") and a later repeat of the first
 * section is not detected. Suggested fix: in reader() (or note_section),
 * skip "\xEF\xBB\xBF" at the start of line 1 before looking for '['. */
START_TEST(test_regression_bom_unknown_first_section)
{
    shoal_config *cfg =
        parse_ok("\xEF\xBB\xBF[typo]\nx = 1\n[run]\ntasks = 3\n", "bom.ini");
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l),
                     0);
    const char *const secs[] = {"run", NULL};
    ck_assert_msg(shoal_config_check_unused(cfg, secs) == SHOAL_ECONFIG,
                  "unknown first section [typo] after a BOM not reported");
    ASSERT_ALL_HAS("[typo]");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_regression_bom_duplicate_first_section)
{
    /* Same root cause as test_regression_bom_unknown_first_section. */
    static const char text[] = "\xEF\xBB\xBF[run]\na = 1\n[run]\nb = 2\n";
    shoal_config *cfg = SENTINEL_CFG;
    int rc = shoal_config_parse(text, strlen(text), "bom2.ini", &cfg);
    if (rc == 0)
        shoal_config_free(cfg);
    ck_assert_msg(rc == SHOAL_ECONFIG,
                  "[run] repeated after a BOM'd first [run] not detected");
    ASSERT_MSG_HAS("bom2.ini:3:");
}
END_TEST

/* ---- --set overrides ---------------------------------------------------------------------- */

START_TEST(test_set_replace_and_add)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 10\nname = a\n", "set.ini");
    long l;
    const char *s;
    double d;
    ck_assert_int_eq(shoal_config_set(cfg, "run.tasks=2385"), 0);
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10000,
                                           &l), 0);
    ck_assert_int_eq(l, 2385);
    ck_assert_str_eq(shoal_config_where(cfg, "run", "tasks"), "--set run.tasks");
    /* Unchanged entries keep their place. */
    ck_assert_str_eq(shoal_config_where(cfg, "run", "name"), "set.ini:3");

    /* A new key in an existing section and in a new section. */
    ck_assert_int_eq(shoal_config_set(cfg, "run.seed=77"), 0);
    ck_assert_int_eq(shoal_config_set(cfg, "mc_pi.samples= 2.385e6"), 0);
    ck_assert(shoal_config_has(cfg, "run", "seed"));
    ck_assert(shoal_config_has_section(cfg, "mc_pi"));
    ck_assert_int_eq(shoal_config_get_double(cfg, "mc_pi", "samples", 1, 0, 0,
                                             1e9, &d), 0);
    ck_assert(d == 2385000.0);
    ck_assert_str_eq(shoal_config_where(cfg, "mc_pi", "samples"),
                     "--set mc_pi.samples");

    /* '=' inside the value, dots inside the key. */
    ck_assert_int_eq(shoal_config_set(cfg, "run.expr=a=b.c"), 0);
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "expr", 1, NULL, &s),
                     0);
    ck_assert_str_eq(s, "a=b.c");
    ck_assert_int_eq(shoal_config_set(cfg, "out.file.name=x.h5"), 0);
    ck_assert(shoal_config_has(cfg, "out", "file.name"));

    /* An override of an override. */
    ck_assert_int_eq(shoal_config_set(cfg, "run.tasks=3"), 0);
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10000,
                                           &l), 0);
    ck_assert_int_eq(l, 3);

    ck_assert_str_eq(shoal_config_overrides(cfg),
                     "run.tasks=2385\nrun.seed=77\nmc_pi.samples= 2.385e6\n"
                     "run.expr=a=b.c\nout.file.name=x.h5\nrun.tasks=3\n");
    /* The original text is untouched. */
    ck_assert_str_eq(shoal_config_text(cfg), "[run]\ntasks = 10\nname = a\n");
    ck_assert_int_eq(nerrors, 0);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_set_malformed)
{
    static const char *const bad[] = {
        "run.tasks", "tasks=3", ".x=1", "run.=1", "=1", "",
        "run tasks=1", "a=b.c", "run.ta sks=1", "[run].x=1", "run.[x]=1",
        "run\t.x=1"};
    shoal_config *cfg = parse_ok("[run]\ntasks = 10\n", "m.ini");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reset_errors();
        ck_assert_msg(shoal_config_set(cfg, bad[i]) == SHOAL_EUSAGE,
                      "'%s' accepted", bad[i]);
        ck_assert_int_eq(nerrors, 1);
        ck_assert_int_eq(last_code, SHOAL_EUSAGE);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        ASSERT_MSG_HAS(quoted);
        ASSERT_MSG_HAS("section.key=value");
    }
    /* Nothing changed. */
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 100,
                                           &l), 0);
    ck_assert_int_eq(l, 10);
    ck_assert_str_eq(shoal_config_where(cfg, "run", "tasks"), "m.ini:2");
    ck_assert_str_eq(shoal_config_overrides(cfg), "");
    ck_assert(!shoal_config_has(cfg, "run", "x"));
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_set_name_too_long)
{
    char a[400];
    memset(a, 's', 300);
    strcpy(a + 300, ".k=1");
    shoal_config *cfg = parse_ok("[run]\n", "m.ini");
    ck_assert_int_eq(shoal_config_set(cfg, a), SHOAL_EUSAGE);
    ck_assert_int_eq(nerrors, 1);
    ck_assert_str_eq(shoal_config_overrides(cfg), "");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_set_bad_value_where)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 10\n", "w.ini");
    ck_assert_int_eq(shoal_config_set(cfg, "run.tasks=12x"), 0);
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 100,
                                           &l), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("--set run.tasks");
    ASSERT_MSG_HAS("'12x'");
    ASSERT_MSG_HAS("not an integer");
    ASSERT_MSG_LACKS("w.ini");
    shoal_config_free(cfg);
}
END_TEST

/* ---- unknown keys and sections ------------------------------------------------------------ */

static const char unused_ini[] = "[run]\n"            /* 1 */
                                 "tasks = 3\n"        /* 2 */
                                 "sede = 5\n"         /* 3 */
                                 "[mc_pi]\n"          /* 4 */
                                 "samples = 9\n"      /* 5 */
                                 "[extra]\n"          /* 6 */
                                 "foo = 1\n"          /* 7 */
                                 "bar = 2\n"          /* 8 */
                                 "[empty_unknown]\n"; /* 9 */

START_TEST(test_unused_reports)
{
    shoal_config *cfg = parse_ok(unused_ini, "cu.ini");
    long l;
    uint64_t u;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l),
                     0);
    ck_assert_int_eq(shoal_config_get_u64(cfg, "run", "seed", 0, 1, 1,
                                          UINT64_MAX, &u), 0);
    ck_assert_int_eq(shoal_config_get_long(cfg, "mc_pi", "samples", 1, 0, 0, 10,
                                           &l), 0);
    const char *const secs[] = {"run", "mc_pi", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), SHOAL_ECONFIG);
    ASSERT_ALL_HAS("cu.ini:3: unknown key 'sede' in [run]");
    ASSERT_ALL_HAS("known keys: tasks, seed");
    ASSERT_ALL_HAS("cu.ini:6: unknown section [extra]");
    ASSERT_ALL_HAS("cu.ini:9: unknown section [empty_unknown]");
    ASSERT_ALL_HAS("[run], [mc_pi]");
    /* One message per unknown key, one per unknown section. */
    ck_assert_msg(nerrors == 3, "%d messages: %s", nerrors, all_msgs);
    ck_assert_int_eq(last_code, SHOAL_ECONFIG);
    ck_assert(strstr(all_msgs, "'foo'") == NULL);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_unused_none_asked)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 3\n", "na.ini");
    const char *const secs[] = {"run", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("na.ini:2:");
    ASSERT_MSG_HAS("'tasks'");
    ASSERT_MSG_HAS("(none)");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_unused_all_used)
{
    shoal_config *cfg = parse_ok(good_ini, "good.ini");
    static const char *const run_keys[] = {"tasks", "seed", "name", "indented",
                                           "url", "semi", "hash", "empty",
                                           "expr"};
    const char *s;
    for (size_t i = 0; i < sizeof run_keys / sizeof run_keys[0]; i++)
        ck_assert_int_eq(shoal_config_get_string(cfg, "run", run_keys[i], 1,
                                                 NULL, &s), 0);
    ck_assert_int_eq(shoal_config_get_string(cfg, "mc_pi", "samples", 1, NULL,
                                             &s), 0);
    ck_assert_int_eq(shoal_config_get_string(cfg, "mc_pi", "tabbed", 1, NULL,
                                             &s), 0);
    /* Asking for absent keys is fine too. */
    ck_assert_int_eq(shoal_config_get_string(cfg, "run", "absent", 0, NULL, &s),
                     0);
    const char *const secs[] = {"run", "mc_pi", "empty_section", "unused_known",
                                NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), 0);
    ck_assert_msg(nerrors == 0, "messages: %s", all_msgs);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_unused_overrides)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 3\n", "ov.ini");
    ck_assert_int_eq(shoal_config_set(cfg, "runn.tasks=4"), 0);
    ck_assert_int_eq(shoal_config_set(cfg, "run.taks=5"), 0);
    ck_assert_int_eq(shoal_config_set(cfg, "mc_pi.samples=6"), 0);
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l),
                     0);
    ck_assert_int_eq(shoal_config_get_long(cfg, "mc_pi", "samples", 1, 0, 0, 10,
                                           &l), 0);
    ck_assert_int_eq(l, 6);
    const char *const secs[] = {"run", "mc_pi", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), SHOAL_ECONFIG);
    ASSERT_ALL_HAS("--set runn.tasks: unknown section [runn]");
    ASSERT_ALL_HAS("--set run.taks: unknown key 'taks' in [run]");
    ASSERT_ALL_HAS("known keys: tasks");
    ck_assert_msg(nerrors == 2, "%d messages: %s", nerrors, all_msgs);
    shoal_config_free(cfg);
}
END_TEST

/* Regression: a consumer that walks a section (shoal_scan_create walks
 * [scan]) judges its keys itself and stops at its first error; the keys
 * after that were never read, and check_unused reported every one of them
 * as an unknown key ("known keys: (none)") although they were fine. */
START_TEST(test_regression_unused_after_walk_stopped)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 3\n[scan]\nx = bad(\n"
                                 "label = a, b\nsleep_us = 1, 2\n", "walk.ini");
    const char *key, *value, *where;
    ck_assert_int_eq(shoal_config_section_entry(cfg, "scan", 0, &key, &value,
                                                &where), 0);
    ck_assert_str_eq(key, "x"); /* ... bad: the walker reports it and stops */
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l),
                     0);
    const char *const secs[] = {"run", "scan", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), 0);
    ck_assert_msg(nerrors == 0, "messages: %s", all_msgs);
    shoal_config_free(cfg);
}
END_TEST

/* The same through the real walker: one error, the first, and no false
 * unknown keys after it. */
START_TEST(test_regression_unused_after_scan_error)
{
    static const shoal_param params[] = {
        {.name = "x", .type = SHOAL_FLOAT64, .dflt = "0"},
        {.name = "label", .type = SHOAL_STRING, .dflt = "a"},
        {.name = "sleep_us", .type = SHOAL_INT64, .dflt = "0"},
    };
    shoal_config *cfg = parse_ok("[run]\nseed = 5\n[scan]\n"
                                 "x = linspce(0, 1, 3)\nlabel = a, b\n"
                                 "sleep_us = 1, 2\n", "scan.ini");
    uint64_t u;
    ck_assert_int_eq(shoal_config_get_u64(cfg, "run", "seed", 0, 1, 1,
                                          UINT64_MAX, &u), 0);
    shoal_scan *scan = NULL;
    ck_assert_int_eq(shoal_scan_create(cfg, "scan", params, 3, 5, &scan),
                     SHOAL_ECONFIG);
    ck_assert_ptr_null(scan);
    ASSERT_MSG_HAS("scan.ini:4: [scan] x: unknown function 'linspce'");
    const char *const secs[] = {"run", "test", "scan", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), 0);
    ck_assert_msg(nerrors == 1, "%d messages: %s", nerrors, all_msgs);
    shoal_config_free(cfg);
}
END_TEST

/* Only false reports go: after a bad value, a real typo is still named
 * (it often explains the first error). */
START_TEST(test_unused_real_key_after_bad_value)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = abc\ntaks = 3\n", "rk.ini");
    uint64_t u;
    ck_assert_int_eq(shoal_config_get_u64(cfg, "run", "tasks", 1, 0, 1, 10, &u),
                     SHOAL_ECONFIG);
    const char *const secs[] = {"run", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), SHOAL_ECONFIG);
    ck_assert_msg(nerrors == 2, "%d messages: %s", nerrors, all_msgs);
    ASSERT_MSG_HAS("rk.ini:3: unknown key 'taks' in [run]; known keys: tasks");
    shoal_config_free(cfg);
}
END_TEST

/* 20,000 unknown keys printed 20,000 lines: now the first five, then one
 * line with the count of the rest. */
START_TEST(test_unused_many_keys_capped)
{
    enum { NKEYS = 20000 };
    size_t cap = 32 + NKEYS * 16, n = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    n += (size_t)snprintf(text + n, cap - n, "[run]\ntasks = 1\n");
    for (int i = 0; i < NKEYS; i++)
        n += (size_t)snprintf(text + n, cap - n, "k%05d = %d\n", i, i);
    shoal_config *cfg = parse_len_ok(text, n, "many.ini");
    free(text);
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l),
                     0);
    const char *const secs[] = {"run", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), SHOAL_ECONFIG);
    ck_assert_msg(nerrors == 6, "%d messages", nerrors);
    ASSERT_ALL_HAS("many.ini:3: unknown key 'k00000' in [run]; known keys: tasks");
    ASSERT_ALL_HAS("many.ini:7: unknown key 'k00004' in [run]");
    ck_assert(strstr(all_msgs, "k00005") == NULL);
    ASSERT_MSG_HAS("... and 19995 more unknown keys");
    ck_assert_int_eq(last_code, SHOAL_ECONFIG);
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_unused_many_sections_capped)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "[run]\ntasks = 1\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "[x%02d]\n", i);
    shoal_config *cfg = parse_ok(text, "secs.ini");
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l),
                     0);
    ck_assert_int_eq(shoal_config_set(cfg, "y.k=1"), 0);
    const char *const secs[] = {"run", NULL};
    ck_assert_int_eq(shoal_config_check_unused(cfg, secs), SHOAL_ECONFIG);
    ck_assert_msg(nerrors == 6, "%d messages: %s", nerrors, all_msgs);
    ASSERT_ALL_HAS("secs.ini:3: unknown section [x00]");
    ASSERT_ALL_HAS("secs.ini:7: unknown section [x04]");
    ck_assert(strstr(all_msgs, "[x05]") == NULL);
    ASSERT_MSG_HAS("... and 36 more unknown sections");
    shoal_config_free(cfg);
}
END_TEST

/* ---- shoal_config_read_file ---------------------------------------------------------------- */

/* One scratch directory per test case, made and removed by an unchecked
 * fixture (in the runner process), so that it is removed even when a test
 * fails: check skips a checked teardown after a failure. File names are
 * distinct across the tests. */
static char tmpdir[PATH_MAX];

static void dir_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/shoal_test_config_XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp(%s): %s", tmpdir,
                  strerror(errno));
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *fb)
{
    (void)sb;
    (void)flag;
    (void)fb;
    return remove(path);
}

static void dir_teardown(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

static const char *tmp_path(const char *name)
{
    static char paths[8][PATH_MAX];
    static int next;
    char *p = paths[next++ % 8];
    size_t nd = strlen(tmpdir), nn = strlen(name);
    ck_assert_uint_lt(nd + 1 + nn, PATH_MAX);
    memcpy(p, tmpdir, nd);
    p[nd] = '/';
    memcpy(p + nd + 1, name, nn + 1);
    return p;
}

static const char *write_file(const char *name, const char *data, size_t len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* read_file that must fail: returns the code; *text NULL, *len 0. */
static int read_fails(const char *path)
{
    char *text = SENTINEL_STR;
    size_t len = 2385;
    int rc = shoal_config_read_file(path, &text, &len);
    ck_assert_msg(rc != 0, "read of %s succeeded", path);
    ck_assert_ptr_null(text);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(nerrors, 1);
    ck_assert_int_eq(last_code, rc);
    ASSERT_MSG_HAS(path);
    return rc;
}

START_TEST(test_read_missing)
{
    ck_assert_int_eq(read_fails(tmp_path("missing.ini")), SHOAL_ENOENT);
    reset_errors();
    ck_assert_int_eq(read_fails(tmp_path("no/such/dir.ini")), SHOAL_ENOENT);
}
END_TEST

START_TEST(test_read_directory)
{
    const char *dir = tmp_path("adir.ini");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(read_fails(dir), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("directory");
}
END_TEST

START_TEST(test_read_empty)
{
    ck_assert_int_eq(read_fails(write_file("empty.ini", "", 0)), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("empty");
    reset_errors();
    static const char ws[] = " \t\r\n\n  \r\n\t";
    ck_assert_int_eq(read_fails(write_file("ws.ini", ws, sizeof ws - 1)),
                     SHOAL_ECONFIG);
    ASSERT_MSG_HAS("empty");
}
END_TEST

START_TEST(test_read_normal)
{
    static const char data[] = "; test\n[run]\ntasks = 2385\nseed = 17\n";
    const char *path = write_file("normal.ini", data, sizeof data - 1);
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(shoal_config_read_file(path, &text, &len), 0);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, sizeof data - 1);
    ck_assert_int_eq(text[len], '\0');
    ck_assert_str_eq(text, data);

    shoal_config *cfg = parse_len_ok(text, len, path);
    long l;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10000,
                                           &l), 0);
    ck_assert_int_eq(l, 2385);
    char where[PATH_MAX + 16];
    snprintf(where, sizeof where, "%s:3", path);
    ck_assert_str_eq(shoal_config_where(cfg, "run", "tasks"), where);
    ck_assert_str_eq(shoal_config_source(cfg), path);
    shoal_config_free(cfg);
    free(text);
}
END_TEST

START_TEST(test_read_binary_then_parse)
{
    /* read_file returns bytes as they are; the parser rejects the NUL. */
    static const char data[] = "[run]\ntasks = 1\x00\x01\x02\n";
    const char *path = write_file("bin.ini", data, sizeof data - 1);
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(shoal_config_read_file(path, &text, &len), 0);
    ck_assert_uint_eq(len, sizeof data - 1);
    ck_assert_int_eq(memcmp(text, data, len), 0);
    ck_assert_int_eq(parse_len_fails(text, len, path), SHOAL_ECONFIG);
    ASSERT_MSG_HAS(":2:");
    free(text);
}
END_TEST

START_TEST(test_read_over_limit_sparse)
{
    /* Over 64 MiB by stat: refused before reading (sparse file, no disk). */
    const char *path = tmp_path("huge.ini");
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)(64u << 20) + 1), 0);
    close(fd);
    ck_assert_int_eq(read_fails(path), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("64 MiB");
}
END_TEST

/* Regression (fixed; lib/src/config.c, shoal_config_read_file, the read loop): for a
 * regular file the buffer is st_size + 1 bytes; after the whole file is read
 * the loop grows the buffer once more before it sees EOF, and the growth
 * check `cap > CONFIG_MAX_FILE` fires for a file of exactly 64 MiB (cap is
 * 64 MiB + 1), although the stat check (`st_size > 64 MiB`) let it through:
 * the file is refused as "over the 64 MiB limit". Suggested fix: limit on
 * the data, not the buffer: error only when n > CONFIG_MAX_FILE (e.g. read
 * up to CONFIG_MAX_FILE + 1 bytes and refuse if that many arrived), and
 * stop growing at EOF. */
START_TEST(test_regression_read_exactly_limit)
{
    const char *path = tmp_path("limit.ini");
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "[run]\n", 6), 6);
    ck_assert_int_eq(ftruncate(fd, (off_t)(64u << 20)), 0);
    close(fd);
    char *text = NULL;
    size_t len = 0;
    int rc = shoal_config_read_file(path, &text, &len);
    ck_assert_msg(rc == 0,
                  "a file of exactly 64 MiB (not over the limit) was "
                  "refused: %s", last_msg);
    ck_assert_uint_eq(len, 64u << 20);
    free(text);
}
END_TEST

/* ---- not a regular file ------------------------------------------------------------------ */

/* A FIFO with no writer: fopen() blocked until one came, so the run hung
 * (rank 0 in the read, every other rank in MPI_Bcast). It must be refused
 * at once, saying what the path is and what to do. */
START_TEST(test_read_fifo_refused)
{
    const char *path = tmp_path("fifo.ini");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(read_fails(path), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("is a FIFO");
    ASSERT_MSG_HAS("not a regular file");
    ASSERT_MSG_HAS("save the config as a regular .ini file");
}
END_TEST

/* A child that writes text into the FIFO at path. It never returns. */
static pid_t fifo_writer(const char *path, const char *text)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0)
        return pid;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, SIG_DFL); /* not check's handler: it kills the group */
    alarm(20);                /* never outlive a broken test */
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        _exit(2);
    ssize_t w = write(fd, text, strlen(text));
    close(fd);
    _exit(w < 0 ? 3 : 0);
}

/* Reap the writer, holding a read end open meanwhile so that its open()
 * returns however late it comes. */
static void fifo_reap(const char *path, pid_t pid)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (fd >= 0)
        close(fd);
}

/* With a writer (process substitution, `cat x | app /dev/fd/0`) the data
 * would arrive, but only rank 0 could ever read it, once: refused as well,
 * and the writer is not left blocked. */
START_TEST(test_read_fifo_with_writer_refused)
{
    const char *path = tmp_path("fifow.ini");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    pid_t pid = fifo_writer(path, "[run]\ntasks = 3\n");
    ck_assert_int_eq(read_fails(path), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("is a FIFO");
    fifo_reap(path, pid);
}
END_TEST

START_TEST(test_read_device_refused)
{
    ck_assert_int_eq(read_fails("/dev/null"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("'/dev/null' is a character device");
    ASSERT_MSG_HAS("not a regular file");
}
END_TEST

/* ---- out of memory ------------------------------------------------------------------------- */

/* tests/CMakeLists.txt links this suite with --wrap=malloc,calloc,realloc,
 * so the allocations of this file and of the static library come here.
 * While armed, allocation number fail_at (from 0) fails; failed_one tells
 * whether the code got that far. Library calls only run armed. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);

static long fail_at = -1; /* -1: disarmed */
static long nallocs;
static int failed_one;

static int fail_now(void)
{
    if (fail_at < 0 || nallocs++ != fail_at)
        return 0;
    failed_one = 1;
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n)
{
    return fail_now() ? NULL : __real_calloc(k, n);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

static void arm(long k)
{
    nallocs = 0;
    failed_one = 0;
    fail_at = k;
}

static void disarm(void) { fail_at = -1; }

/* Runs op(k) for k = 0, 1, ... until it no longer reaches allocation k.
 * Each failed allocation must give SHOAL_ENOMEM with a message that says
 * what ran out of memory; none may be swallowed or turned into another
 * error. Returns the number of allocations op makes. */
static long each_allocation_fails(int (*op)(long k), const char *what)
{
    for (long k = 0;; k++) {
        reset_errors();
        int rc = op(k);
        if (!failed_one) {
            ck_assert_msg(rc == 0, "%s without a failure: %d %s", what, rc,
                          last_msg);
            return k;
        }
        ck_assert_msg(rc == SHOAL_ENOMEM,
                      "%s, allocation %ld failing: %d (%s), want SHOAL_ENOMEM",
                      what, k, rc, last_msg);
        ck_assert_msg(nerrors == 1 && last_code == SHOAL_ENOMEM,
                      "%s, allocation %ld failing: %d messages: '%s'", what, k,
                      nerrors, all_msgs);
        ck_assert_msg(strstr(last_msg, "out of memory") != NULL,
                      "%s, allocation %ld failing: message '%s'", what, k,
                      last_msg);
    }
}

/* Over 16 sections and entries, so that the tables grow. */
static char nomem_ini[4096];

static void make_nomem_ini(void)
{
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(nomem_ini + n, sizeof nomem_ini - n,
                              "[s%d]\na = %d\nb = x\n", i, i);
}

static int op_parse(long k)
{
    shoal_config *cfg = SENTINEL_CFG;
    arm(k);
    int rc = shoal_config_parse(nomem_ini, strlen(nomem_ini), "oom.ini", &cfg);
    disarm();
    ck_assert_ptr_ne(cfg, SENTINEL_CFG);
    ck_assert(rc == 0 ? cfg != NULL : cfg == NULL);
    shoal_config_free(cfg);
    return rc;
}

START_TEST(test_nomem_parse)
{
    make_nomem_ini();
    ck_assert_int_gt(each_allocation_fails(op_parse, "parse"), 40);
}
END_TEST

static int op_set(long k)
{
    shoal_config *cfg = parse_ok(nomem_ini, "oom.ini");
    arm(k);
    int rc = shoal_config_set(cfg, "s1.a=5"); /* replaces */
    if (rc == 0)
        rc = shoal_config_set(cfg, "s1.c=6"); /* adds */
    for (int i = 0; rc == 0 && i < 20; i++) {
        char a[32];
        snprintf(a, sizeof a, "new.k%d=%d", i, i); /* grows the table */
        rc = shoal_config_set(cfg, a);
    }
    disarm();
    shoal_config_free(cfg);
    return rc;
}

START_TEST(test_nomem_set)
{
    make_nomem_ini();
    ck_assert_int_gt(each_allocation_fails(op_set, "set"), 4);
}
END_TEST

/* ${NAME} references: the expansion, the record of variables used, the
 * snapshot's copy, the capture (test_config_env.c has the rest). */
static int op_env(long k)
{
    static const char text[] = "[p]\na = ${SHOAL_TC_OOM}/${SHOAL_TC_OOM_UNSET:-d}\n"
                               "b = x${SHOAL_TC_OOM}y$$z\n";
    static const char block[] = "SHOAL_TC_OOM=2.385\0";
    const char *extra[] = {"p.c=${SHOAL_TC_OOM}"};
    shoal_config *cfg = NULL;
    char *captured = NULL;
    size_t n = 0;
    setenv("SHOAL_TC_OOM", "2.385", 1);
    arm(k);
    int rc = shoal_config_parse_env(text, strlen(text), "oom.ini", block, sizeof block - 1,
                                    &cfg);
    if (rc == 0)
        rc = shoal_config_set(cfg, "p.c=${SHOAL_TC_OOM}");
    if (rc == 0)
        rc = shoal_config_env_capture(text, strlen(text), extra, 1, &captured, &n);
    disarm();
    shoal_config_free(cfg);
    free(captured);
    return rc;
}

START_TEST(test_nomem_env)
{
    ck_assert_int_gt(each_allocation_fails(op_env, "env"), 10);
}
END_TEST

static const char *nomem_path;

static int op_read(long k)
{
    char *text = SENTINEL_STR;
    size_t len = 5;
    arm(k);
    int rc = shoal_config_read_file(nomem_path, &text, &len);
    disarm();
    if (rc != 0) {
        ck_assert_ptr_null(text);
        ck_assert_uint_eq(len, 0);
    }
    free(text == SENTINEL_STR ? NULL : text);
    return rc;
}

START_TEST(test_nomem_read_file)
{
    make_nomem_ini();
    nomem_path = write_file("oom.ini", nomem_ini, strlen(nomem_ini));
    ck_assert_int_ge(each_allocation_fails(op_read, "read_file"), 1);
}
END_TEST

/* The getters allocate only to remember what was asked (the hint of the
 * unknown-key report): without memory the hint is shorter, the values are
 * still right and nothing fails. */
START_TEST(test_nomem_getters_still_work)
{
    shoal_config *cfg = parse_ok("[run]\ntasks = 7\nx = 2.5\n", "g.ini");
    for (long k = 0; k < 8; k++) {
        reset_errors();
        long l = 0;
        double d = 0;
        arm(k);
        int rc = shoal_config_get_long(cfg, "run", "tasks", 1, 0, 0, 10, &l);
        int rd = shoal_config_get_double(cfg, "run", "x", 1, 0, 0, 10, &d);
        disarm();
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(rd, 0);
        ck_assert_int_eq(l, 7);
        ck_assert(d == 2.5);
        ck_assert_int_eq(nerrors, 0);
    }
    shoal_config_free(cfg);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");

    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_parse_good);
    tcase_add_test(tc, test_parse_where_and_has);
    tcase_add_test(tc, test_parse_crlf);
    tcase_add_test(tc, test_parse_no_final_newline);
    tcase_add_test(tc, test_parse_uses_len);
    tcase_add_test(tc, test_parse_null_source);
    tcase_add_test(tc, test_parse_bom);
    tcase_add_test(tc, test_parse_line_at_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("getters");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_get_bool_forms);
    tcase_add_test(tc, test_get_bool_bad);
    tcase_add_test(tc, test_get_defaults);
    tcase_add_test(tc, test_get_required_missing);
    tcase_add_test(tc, test_get_long_wrong_type);
    tcase_add_test(tc, test_get_u64_wrong_type);
    tcase_add_test(tc, test_get_double_wrong_type);
    tcase_add_test(tc, test_get_double_not_finite_forms);
    tcase_add_test(tc, test_get_integer_exact_forms);
    tcase_add_test(tc, test_get_bounds);
    tcase_add_test(tc, test_get_string_value);
    tcase_add_test(tc, test_regression_exponent_beyond_2p53_rounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse_errors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_err_duplicate_key);
    tcase_add_test(tc, test_err_duplicate_section);
    tcase_add_test(tc, test_err_key_outside_section);
    tcase_add_test(tc, test_err_no_equals);
    tcase_add_test(tc, test_err_nul_byte);
    tcase_add_test(tc, test_err_long_line);
    tcase_add_test(tc, test_regression_blank_inside_brackets);
    tcase_add_test(tc, test_regression_bom_unknown_first_section);
    tcase_add_test(tc, test_regression_bom_duplicate_first_section);
    suite_add_tcase(s, tc);

    tc = tcase_create("overrides");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_set_replace_and_add);
    tcase_add_test(tc, test_set_malformed);
    tcase_add_test(tc, test_set_name_too_long);
    tcase_add_test(tc, test_set_bad_value_where);
    suite_add_tcase(s, tc);

    tc = tcase_create("unused");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* Parsing 20,000 keys takes seconds under ASan (duplicate check). */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_unused_reports);
    tcase_add_test(tc, test_unused_none_asked);
    tcase_add_test(tc, test_unused_all_used);
    tcase_add_test(tc, test_unused_overrides);
    tcase_add_test(tc, test_regression_unused_after_walk_stopped);
    tcase_add_test(tc, test_regression_unused_after_scan_error);
    tcase_add_test(tc, test_unused_real_key_after_bad_value);
    tcase_add_test(tc, test_unused_many_keys_capped);
    tcase_add_test(tc, test_unused_many_sections_capped);
    suite_add_tcase(s, tc);

    tc = tcase_create("read_file");
    tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_read_directory);
    tcase_add_test(tc, test_read_empty);
    tcase_add_test(tc, test_read_normal);
    tcase_add_test(tc, test_read_binary_then_parse);
    tcase_add_test(tc, test_read_over_limit_sparse);
    tcase_add_test(tc, test_regression_read_exactly_limit);
    suite_add_tcase(s, tc);

    /* Check's default timeout: a read that blocks fails, it does not hang. */
    tc = tcase_create("not_regular");
    tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_read_fifo_refused);
    tcase_add_test(tc, test_read_fifo_with_writer_refused);
    tcase_add_test(tc, test_read_device_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("out_of_memory");
    tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_nomem_parse);
    tcase_add_test(tc, test_nomem_set);
    tcase_add_test(tc, test_nomem_env);
    tcase_add_test(tc, test_nomem_read_file);
    tcase_add_test(tc, test_nomem_getters_still_work);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
