/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_config_env.c: environment variables in config values (config.h,
 * lib/src/config_env.c).
 *
 * ${NAME} and ${NAME:-default} in file values and --set values, $$ for a
 * literal '$', every other '$' kept as written ($HOME, $(cmd), a '$' at the
 * end), the unset-variable and malformed-reference errors (file:line, the
 * name, the fix), comments left alone, the snapshot a parse may take
 * instead of the process environment (what every rank of a run uses), the
 * capture that builds it, and the record of variables used (the output's
 * config_env attribute). The out-of-memory paths are in test_config.c,
 * whose link wraps malloc. Variables are named SHOAL_TCE_* and set by the
 * test itself. */
#include <shoal/config.h>
#include <shoal/error.h>

#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last_msg[4096];
static int nerrors;

static void record(const char *reason, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(last_msg, sizeof last_msg, "%s", reason);
    nerrors++;
}

static void setup(void)
{
    last_msg[0] = '\0';
    nerrors = 0;
    shoal_set_error_handler(record);
    setenv("SHOAL_TCE_ID", "7", 1);
    setenv("SHOAL_TCE_WORDS", "two words; $x {y}", 1);
    setenv("SHOAL_TCE_EMPTY", "", 1);
    unsetenv("SHOAL_TCE_UNSET");
}

static void teardown(void) { shoal_set_error_handler(NULL); }

#define ASSERT_MSG_HAS(needle)                                                 \
    ck_assert_msg(strstr(last_msg, (needle)) != NULL,                          \
                  "message '%s' lacks '%s'", last_msg, (needle))

static shoal_config *parse_ok(const char *text)
{
    shoal_config *cfg = NULL;
    int rc = shoal_config_parse(text, strlen(text), "env.ini", &cfg);
    ck_assert_msg(rc == 0, "parse failed (%d): %s", rc, last_msg);
    ck_assert_int_eq(nerrors, 0);
    return cfg;
}

static void parse_fails(const char *text)
{
    shoal_config *cfg = (shoal_config *)1;
    int rc = shoal_config_parse(text, strlen(text), "env.ini", &cfg);
    ck_assert_int_eq(rc, SHOAL_ECONFIG);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(nerrors, 1);
}

static const char *get(shoal_config *cfg, const char *sec, const char *key)
{
    const char *v = NULL;
    ck_assert_int_eq(shoal_config_get_string(cfg, sec, key, 1, NULL, &v), 0);
    return v;
}

START_TEST(test_expand_values)
{
    shoal_config *cfg = parse_ok("[run]\n"
                                 "output = out_${SHOAL_TCE_ID}.h5\n"
                                 "seed = 100${SHOAL_TCE_ID}${SHOAL_TCE_ID}\n"
                                 "[params]\n"
                                 "words = <${SHOAL_TCE_WORDS}>\n"
                                 "empty = [${SHOAL_TCE_EMPTY}]\n"
                                 "where = ${SHOAL_TCE_ID}\n");
    ck_assert_str_eq(get(cfg, "run", "output"), "out_7.h5");
    long seed;
    ck_assert_int_eq(shoal_config_get_long(cfg, "run", "seed", 1, 0, 0, 100000, &seed), 0);
    ck_assert_int_eq(seed, 10077);
    /* A value's text is inserted as it is: no second expansion. */
    ck_assert_str_eq(get(cfg, "params", "words"), "<two words; $x {y}>");
    ck_assert_str_eq(get(cfg, "params", "empty"), "[]");
    /* Messages still name the line. */
    ck_assert_str_eq(shoal_config_where(cfg, "params", "where"), "env.ini:7");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_defaults)
{
    shoal_config *cfg = parse_ok("[p]\n"
                                 "a = ${SHOAL_TCE_UNSET:-fallback 1.5}\n"
                                 "b = ${SHOAL_TCE_EMPTY:-used when empty}\n"
                                 "c = ${SHOAL_TCE_ID:-not used}\n"
                                 "d = x${SHOAL_TCE_UNSET:-}y\n"
                                 "e = ${SHOAL_TCE_UNSET:-a$b{c}d\n");
    ck_assert_str_eq(get(cfg, "p", "a"), "fallback 1.5");
    ck_assert_str_eq(get(cfg, "p", "b"), "used when empty");
    ck_assert_str_eq(get(cfg, "p", "c"), "7");
    ck_assert_str_eq(get(cfg, "p", "d"), "xy");
    /* The default runs to the first '}', taken as written. */
    ck_assert_str_eq(get(cfg, "p", "e"), "a$b{cd");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_dollars_kept)
{
    shoal_config *cfg = parse_ok("[command]\n"
                                 "argv = echo $$ $${SHOAL_TCE_UNSET} $HOME $(id -u) $1 {task} end$\n"
                                 "twice = $$$$\n"
                                 "[p]\n"
                                 "; ${SHOAL_TCE_UNSET} in a comment\n"
                                 "# ${SHOAL_TCE_UNSET} too\n"
                                 "k = 1\n");
    ck_assert_str_eq(get(cfg, "command", "argv"),
                     "echo $ ${SHOAL_TCE_UNSET} $HOME $(id -u) $1 {task} end$");
    ck_assert_str_eq(get(cfg, "command", "twice"), "$$");
    ck_assert_str_eq(shoal_config_env(cfg), "");
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_err_unset)
{
    parse_fails("[run]\ntasks = 4\noutput = out_${SHOAL_TCE_UNSET}.h5\n");
    ASSERT_MSG_HAS("env.ini:3: [run] output: environment variable SHOAL_TCE_UNSET is not set");
    ASSERT_MSG_HAS("export SHOAL_TCE_UNSET or write ${SHOAL_TCE_UNSET:-default}");
}
END_TEST

START_TEST(test_err_malformed)
{
    static const struct {
        const char *value;
        const char *at;
    } bad[] = {
        {"${", "character 1"},
        {"ab${}", "character 3"},
        {"${1X}", "character 1"},
        {"x ${SHOAL_TCE_ID", "character 3"},
        {"${SHOAL_TCE_ID:=3}", "character 1"},
        {"${SHOAL_TCE_ID-3}", "character 1"},
        {"${SHOAL_TCE_ID:-3", "character 1"},
        {"${SHOAL TCE}", "character 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[p]\nok = 1\nk = %s\n", bad[i].value);
        last_msg[0] = '\0';
        nerrors = 0;
        parse_fails(text);
        ASSERT_MSG_HAS("env.ini:3: [p] k:");
        ASSERT_MSG_HAS(bad[i].at);
        ASSERT_MSG_HAS("does not start ${NAME} or ${NAME:-default}; write $$ for a literal '$'");
    }
}
END_TEST

START_TEST(test_set_expands)
{
    shoal_config *cfg = parse_ok("[run]\nseed = 1\n");
    ck_assert_int_eq(shoal_config_set(cfg, "run.seed=${SHOAL_TCE_ID}1"), 0);   /* replaces */
    ck_assert_int_eq(shoal_config_set(cfg, "run.output=r$${SHOAL_TCE_ID}"), 0); /* adds */
    ck_assert_str_eq(get(cfg, "run", "seed"), "71");
    ck_assert_str_eq(get(cfg, "run", "output"), "r${SHOAL_TCE_ID}");
    /* The override is recorded as given. */
    ck_assert_str_eq(shoal_config_overrides(cfg),
                     "run.seed=${SHOAL_TCE_ID}1\nrun.output=r$${SHOAL_TCE_ID}\n");
    ck_assert_int_eq(shoal_config_set(cfg, "run.seed=${SHOAL_TCE_UNSET}"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("--set run.seed: [run] seed: environment variable SHOAL_TCE_UNSET is not set");
    ck_assert_str_eq(get(cfg, "run", "seed"), "71"); /* unchanged */
    shoal_config_free(cfg);
}
END_TEST

START_TEST(test_env_used)
{
    shoal_config *cfg = parse_ok("[p]\n"
                                 "a = ${SHOAL_TCE_ID}/${SHOAL_TCE_UNSET:-d}\n"
                                 "b = ${SHOAL_TCE_ID}${SHOAL_TCE_EMPTY:-e}\n");
    ck_assert_int_eq(shoal_config_set(cfg, "p.c=${SHOAL_TCE_WORDS}"), 0);
    ck_assert_str_eq(shoal_config_env(cfg), "SHOAL_TCE_ID=7\n"
                                            "SHOAL_TCE_UNSET\n"
                                            "SHOAL_TCE_EMPTY=\n"
                                            "SHOAL_TCE_WORDS=two words; $x {y}\n");
    shoal_config_free(cfg);
}
END_TEST

/* Every rank parses with rank 0's variables: the snapshot decides, not the
 * process environment. */
START_TEST(test_snapshot)
{
    static const char block[] = "SHOAL_TCE_ID=42\0SHOAL_TCE_OTHER=x=y\0";
    static const char text[] = "[p]\na = ${SHOAL_TCE_ID}\nb = ${SHOAL_TCE_OTHER}\n"
                               "c = ${SHOAL_TCE_WORDS:-not in the snapshot}\n";
    shoal_config *cfg = NULL;
    ck_assert_int_eq(shoal_config_parse_env(text, strlen(text), "env.ini", block,
                                            sizeof block - 1, &cfg),
                     0);
    ck_assert_str_eq(get(cfg, "p", "a"), "42");
    ck_assert_str_eq(get(cfg, "p", "b"), "x=y");
    ck_assert_str_eq(get(cfg, "p", "c"), "not in the snapshot");
    /* --set after the parse uses the snapshot too. */
    ck_assert_int_eq(shoal_config_set(cfg, "p.d=${SHOAL_TCE_WORDS}"), SHOAL_ECONFIG);
    ASSERT_MSG_HAS("SHOAL_TCE_WORDS is not set");
    ck_assert_int_eq(shoal_config_set(cfg, "p.d=${SHOAL_TCE_ID}"), 0);
    ck_assert_str_eq(get(cfg, "p", "d"), "42");
    shoal_config_free(cfg);
    /* An empty snapshot: nothing is set. */
    cfg = (shoal_config *)1;
    nerrors = 0;
    ck_assert_int_eq(shoal_config_parse_env(text, strlen(text), "env.ini", "", 0, &cfg),
                     SHOAL_ECONFIG);
    ck_assert_ptr_null(cfg);
    ASSERT_MSG_HAS("env.ini:2: [p] a: environment variable SHOAL_TCE_ID is not set");
}
END_TEST

START_TEST(test_capture)
{
    static const char text[] = "[p]\na = ${SHOAL_TCE_ID} ${SHOAL_TCE_ID:-x}\n"
                               "b = ${SHOAL_TCE_UNSET:-y} ${SHOAL_TCE_EMPTY}\n"
                               "c = $SHOAL_TCE_WORDS ${ ${9}\n";
    const char *extra[] = {"p.d=${SHOAL_TCE_WORDS}", NULL, "out_${SHOAL_TCE_ID}.h5"};
    char *block = NULL;
    size_t len = 0;
    ck_assert_int_eq(shoal_config_env_capture(text, strlen(text), extra, 3, &block, &len), 0);
    static const char want[] =
        "SHOAL_TCE_ID=7\0SHOAL_TCE_EMPTY=\0SHOAL_TCE_WORDS=two words; $x {y}\0";
    ck_assert_uint_eq(len, sizeof want - 1);
    ck_assert_int_eq(memcmp(block, want, len), 0);
    /* The block parses the text alike in a process without the variables. */
    unsetenv("SHOAL_TCE_ID");
    shoal_config *cfg = NULL;
    static const char t2[] = "[p]\na = ${SHOAL_TCE_ID}\n";
    ck_assert_int_eq(shoal_config_parse_env(t2, strlen(t2), "env.ini", block, len, &cfg), 0);
    ck_assert_str_eq(get(cfg, "p", "a"), "7");
    shoal_config_free(cfg);
    free(block);
    /* Nothing named: an empty block. */
    ck_assert_int_eq(shoal_config_env_capture("[p]\n", 4, NULL, 0, &block, &len), 0);
    ck_assert_uint_eq(len, 0);
    free(block);
}
END_TEST

static Suite *config_env_suite(void)
{
    Suite *s = suite_create("config_env");
    TCase *tc = tcase_create("expand");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_expand_values);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_dollars_kept);
    tcase_add_test(tc, test_err_unset);
    tcase_add_test(tc, test_err_malformed);
    tcase_add_test(tc, test_set_expands);
    tcase_add_test(tc, test_env_used);
    tcase_add_test(tc, test_snapshot);
    tcase_add_test(tc, test_capture);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_env_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
