/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_exec_template.c: shoal-exec's command templates (apps/shoal_exec/
 * template.c): word splitting, quotes, escapes, placeholders, literal
 * braces, every mistake reported with its column, shell quoting of values,
 * and numbers formatted to read back exactly. */
#include "exec.h"

#include <shoal/error.h>

#include <check.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last_error[4096];
static int errors;

static void record(const char *reason, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(last_error, sizeof last_error, "%s", reason);
    errors++;
}

static const tpl_param params[] = {{"T", SHOAL_FLOAT64}, {"L", SHOAL_INT64}, {"name", SHOAL_STRING}};

static int parse(const char *text, int words, tpl *t)
{
    last_error[0] = '\0';
    errors = 0;
    shoal_set_error_handler(record);
    int rc = tpl_parse(text, words, "c.ini:3", "argv", params, 3, t);
    shoal_set_error_handler(NULL);
    return rc;
}

/* Word w with every placeholder's value {dir} = dir (no task needed). */
static char *word_text(const tpl *t, size_t w)
{
    xbuf b = {0};
    for (size_t k = 0; k < t->words[w].nsegs; k++) {
        const tpl_seg *s = &t->segs[t->words[w].first + k];
        if (s->ph == 0)
            xbuf_add(&b, s->text, s->len);
        else if (s->ph == PH_DIR)
            xbuf_adds(&b, "<dir>");
        else if (s->ph > 0)
            xbuf_adds(&b, params[s->ph - 1].name), xbuf_adds(&b, "=");
        else
            xbuf_adds(&b, "<builtin>");
    }
    xbuf_add(&b, "", 0);
    return b.p;
}

static void expect_words(const char *text, const char *const *want, size_t n)
{
    tpl t;
    ck_assert_int_eq(parse(text, 1, &t), 0);
    ck_assert_uint_eq(t.nwords, n);
    for (size_t i = 0; i < n; i++) {
        char *w = word_text(&t, i);
        ck_assert_str_eq(w, want[i]);
        free(w);
    }
    tpl_free(&t);
}

START_TEST(words_and_quotes)
{
    const char *a[] = {"./sim", "--T", "T=", "--out", "<dir>/out.h5"};
    expect_words("  ./sim --T {T}\t--out {dir}/out.h5  ", a, 5);
    const char *b[] = {"a b", "c'd", "e\"f", "", "x y", "{lit}", "}"};
    expect_words("\"a b\" \"c'd\" 'e\"f' '' x\\ y {{lit}} }}", b, 7);
    const char *c[] = {"pre-L=-post", "name=name="};
    expect_words("pre-{L}-post {name}{name}", c, 2);
    /* A literal run never merges with the next word's. */
    const char *d[] = {"ab", "cd"};
    expect_words("ab cd", d, 2);
}
END_TEST

START_TEST(placeholders)
{
    tpl t;
    ck_assert_int_eq(parse("p {task} {replicate} {point} {seed} {attempt} {dir}", 1, &t), 0);
    ck_assert_uint_eq(t.nwords, 7);
    int want[] = {PH_TASK, PH_REPLICATE, PH_POINT, PH_SEED, PH_ATTEMPT, PH_DIR};
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(t.words[i + 1].nsegs, 1);
        ck_assert_int_eq(t.segs[t.words[i + 1].first].ph, want[i]);
    }
    ck_assert_int_eq(t.uses_dir, 1);
    tpl_free(&t);
    /* Not split into words: the whole text is one. */
    ck_assert_int_eq(parse("runs/{L} and 'q'", 0, &t), 0);
    ck_assert_uint_eq(t.nwords, 1);
    char *w = word_text(&t, 0);
    ck_assert_str_eq(w, "runs/L= and 'q'");
    free(w);
    tpl_free(&t);
}
END_TEST

static void expect_error(const char *text, const char *want)
{
    tpl t;
    ck_assert_int_eq(parse(text, 1, &t), SHOAL_ECONFIG);
    ck_assert_int_eq(errors, 1);
    ck_assert_msg(strstr(last_error, want) != NULL, "'%s' lacks '%s'", last_error, want);
    ck_assert_msg(strncmp(last_error, "c.ini:3: [command] argv", 23) == 0, "%s", last_error);
    ck_assert_ptr_null(t.words);
}

START_TEST(mistakes)
{
    expect_error("p {X}", "unknown placeholder {X}; known: {task}, {replicate}");
    expect_error("p {}", "unknown placeholder {}");
    expect_error("p {T", "'{' at column 3 is not closed");
    expect_error("p {T {L}", "'{' at column 3 is not closed");
    expect_error("p T}", "'}' at column 4 has no '{'");
    expect_error("p {{T}", "'}' at column 6 has no '{'");
    expect_error("p 'a b", "a single quote is not closed");
    expect_error("p \"a b", "a double quote is not closed");
    expect_error("", "argv is empty");
    expect_error("   \t ", "argv is empty");
}
END_TEST

START_TEST(shell_quoting)
{
    tpl t;
    ck_assert_int_eq(parse("echo {dir} | cat", 0, &t), 0);
    const char *dirs[] = {"plain", "it's", "x; rm -rf ~", "$(id)", "''"};
    const char *want[] = {"echo 'plain' | cat", "echo 'it'\\''s' | cat",
                          "echo 'x; rm -rf ~' | cat", "echo '$(id)' | cat",
                          "echo ''\\'''\\''' | cat"};
    for (int i = 0; i < 5; i++) {
        xbuf b = {0};
        tpl_values v = {NULL, params, dirs[i]};
        ck_assert_int_eq(tpl_expand_word(&t, 0, &v, 1, &b), 0);
        ck_assert_str_eq(b.p, want[i]);
        xbuf_free(&b);
        /* Unquoted (no shell): the value as it is. */
        tpl_values u = {NULL, params, dirs[i]};
        ck_assert_int_eq(tpl_expand_word(&t, 0, &u, 0, &b), 0);
        ck_assert_uint_eq(b.len, strlen("echo  | cat") + strlen(dirs[i]));
        xbuf_free(&b);
    }
    tpl_free(&t);
}
END_TEST

START_TEST(numbers_read_back)
{
    const double xs[] = {0.1, 1e-300, 3.141592653589793, 2.5e20, -0.0, DBL_MAX, DBL_MIN,
                         5e-324, 1.0 / 3.0, 123456789.125, 1e22, 0.30000000000000004};
    char buf[40];
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        fmt_double(xs[i], buf, sizeof buf);
        ck_assert_msg(strtod(buf, NULL) == xs[i] && signbit(strtod(buf, NULL)) == signbit(xs[i]),
                      "%s does not read back as %.17g", buf, xs[i]);
        ck_assert_uint_le(strlen(buf), 24);
    }
    fmt_double(0.1, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.1"); /* the shortest text, not 0.10000000000000001 */
    fmt_double(NAN, buf, sizeof buf);
    ck_assert_str_eq(buf, "nan");
    fmt_double(-INFINITY, buf, sizeof buf);
    ck_assert_str_eq(buf, "-inf");
}
END_TEST

static Suite *exec_suite(void)
{
    Suite *s = suite_create("exec_template");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, words_and_quotes);
    tcase_add_test(tc, placeholders);
    tcase_add_test(tc, mistakes);
    tcase_add_test(tc, shell_quoting);
    tcase_add_test(tc, numbers_read_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exec_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
