/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_mlp.c: the digits data and the perceptron of apps/ml_tune (digits.c,
 * mlp.c, cv.c): the loader on the real file and on broken ones, the split
 * and fold invariants, the gradient against finite differences,
 * determinism in the generator's stream, and an accuracy the model must
 * reach. SHOAL_DIGITS_CSV, python3-sklearn's digits.csv.gz, is found at
 * configure time (tests/unit/CMakeLists.txt). */
#include "mlp.h"

#include <shoal/rng.h>

#include <check.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The class counts of the 1797 samples, in the file as shipped. */
static const size_t class_count[ML_DIGITS_NCLASS] = {178, 182, 177, 183, 181,
                                                     182, 181, 179, 174, 180};

static ml_data digits; /* loaded by load_digits, freed by free_digits */
static char tmpdir[256];

static void load_digits(void)
{
    char err[1024];
    int rc = ml_digits_load(SHOAL_DIGITS_CSV, &digits, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
}

static void free_digits(void)
{
    ml_data_free(&digits);
}

/* A Philox generator as Shoal gives each task: keyed by (seed, task). */
static gsl_rng *task_rng(uint64_t seed, uint64_t task)
{
    gsl_rng *r = gsl_rng_alloc(shoal_rng_philox4x64);
    ck_assert_ptr_nonnull(r);
    shoal_rng_key(r, seed, task);
    return r;
}

START_TEST(loader_real_file)
{
    load_digits();
    ck_assert_uint_eq(digits.n, 1797);
    ck_assert_int_eq(digits.nfeat, 64);
    ck_assert_int_eq(digits.nclass, 10);
    size_t count[ML_DIGITS_NCLASS] = {0};
    for (size_t i = 0; i < digits.n; i++) {
        ck_assert(digits.y[i] >= 0 && digits.y[i] < 10);
        count[digits.y[i]]++;
    }
    for (int c = 0; c < 10; c++)
        ck_assert_msg(count[c] == class_count[c], "class %d: %zu samples, expected %zu", c,
                      count[c], class_count[c]);
    for (size_t q = 0; q < digits.n * 64; q++) { /* counts 0..16 scaled by 1/16 */
        double v = digits.x[q] * 16;
        ck_assert(v >= 0 && v <= 16 && v == round(v));
    }
    /* The first line starts 0,0,5,13,9,1,0,0 and is a 0. */
    ck_assert(digits.x[2] == 5.0 / 16 && digits.x[3] == 13.0 / 16 && digits.x[5] == 1.0 / 16);
    ck_assert_int_eq(digits.y[0], 0);
    free_digits();
}
END_TEST

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void tmp_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/shoal_test_mlp_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp(%s) failed", tmpdir);
}

static void tmp_teardown(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

/* A valid line: 64 pixels all equal to v, then the label. */
static void good_line(char *buf, size_t len, int v, int label)
{
    size_t at = 0;
    for (int f = 0; f < 64; f++)
        at += (size_t)snprintf(buf + at, len - at, "%d,", v);
    snprintf(buf + at, len - at, "%d\n", label);
}

/* Write tmpdir/name (gzip-compressed if gz): `good` valid lines, then the
 * text bad (if not NULL). Returns the path (static storage). */
static const char *write_file(const char *name, int gz, int good, const char *bad)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    gzFile g = gzopen(path, gz ? "wb" : "wbT"); /* T: plain, uncompressed */
    ck_assert_ptr_nonnull(g);
    char line[512];
    for (int i = 0; i < good; i++) {
        good_line(line, sizeof line, i % 17, i % 10);
        gzputs(g, line);
    }
    if (bad)
        gzputs(g, bad);
    ck_assert_int_eq(gzclose(g), Z_OK);
    return path;
}

/* Loading path fails, leaves the data empty and says each of the texts. */
static void load_fails(const char *path, const char *say1, const char *say2)
{
    ml_data d;
    char err[2048] = "";
    ck_assert_int_ne(ml_digits_load(path, &d, err, sizeof err), 0);
    ck_assert(d.n == 0 && d.x == NULL && d.y == NULL);
    ck_assert_msg(strstr(err, say1) && strstr(err, say2), "'%s' does not say '%s' and '%s'",
                  err, say1, say2);
}

START_TEST(loader_errors)
{
    char path[512], where[600], line[512];
    snprintf(path, sizeof path, "%s/missing.csv.gz", tmpdir);
    load_fails(path, path, "No such file or directory");
    load_fails(path, "install python3-sklearn", "digits.csv.gz");

    /* A bad number on line 3, field 5, compressed or not. */
    good_line(line, sizeof line, 1, 2);
    memcpy(line + 8, "x", 1); /* "1,1,1,1,x,..." */
    for (int gz = 0; gz <= 1; gz++) {
        const char *p = write_file(gz ? "num.csv.gz" : "num.csv", gz, 2, line);
        snprintf(where, sizeof where, "%s:3:", p);
        load_fails(p, where, "field 5 ('x') is not a pixel value, an integer 0..16");
    }
    /* Out of range: a pixel of 17, a label of 10. */
    good_line(line, sizeof line, 17, 3);
    const char *p = write_file("pix.csv", 0, 0, line);
    snprintf(where, sizeof where, "%s:1: field 1 ('17')", p);
    load_fails(p, where, "is not a pixel value, an integer 0..16");
    good_line(line, sizeof line, 0, 10);
    p = write_file("label.csv", 0, 4, line);
    snprintf(where, sizeof where, "%s:5:", p);
    load_fails(p, where, "field 65 ('10') is not a label, an integer 0..9");

    /* Wrong field counts: 64 (label missing), 66, an empty line. */
    good_line(line, sizeof line, 1, 1);
    *strrchr(line, ',') = '\0';
    p = write_file("short.csv", 0, 1, line);
    snprintf(where, sizeof where, "%s:2: 64 fields, expected 65", p);
    load_fails(p, where, "64 pixel values 0..16, then the label");
    good_line(line, sizeof line, 1, 1);
    memmove(line + 2, line, strlen(line) + 1);
    memcpy(line, "7,", 2);
    p = write_file("long.csv", 1, 3, line);
    snprintf(where, sizeof where, "%s:4: 66 fields", p);
    load_fails(p, where, "expected 65");
    p = write_file("blank.csv", 0, 2, "\n");
    snprintf(where, sizeof where, "%s:3: 1 field,", p);
    load_fails(p, where, "expected 65");
    load_fails(write_file("empty.csv.gz", 1, 0, NULL), "no samples", "empty");

    /* Blanks around the numbers and CRLF line ends are fine. */
    good_line(line, sizeof line, 16, 9);
    strcpy(line + strlen(line) - 1, " \r\n");
    ml_data d;
    char err[1024];
    ck_assert_int_eq(ml_digits_load(write_file("crlf.csv", 0, 3, line), &d, err, sizeof err), 0);
    ck_assert(d.n == 4 && d.y[3] == 9 && d.x[3 * 64] == 1.0 && d.x[64] == 1.0 / 16);
    ml_data_free(&d);
}
END_TEST

START_TEST(split_partition)
{
    load_digits();
    size_t *test, *train, ntest, ntrain;
    ck_assert_int_eq(ml_split_test(&digits, &test, &ntest, &train, &ntrain), 0);
    ck_assert_uint_eq(ntest + ntrain, digits.n);
    /* Every sample exactly once, both lists ascending. */
    char *seen = calloc(digits.n, 1), *is_test = calloc(digits.n, 1);
    for (size_t i = 0; i < ntest; i++) {
        seen[test[i]]++, is_test[test[i]] = 1;
        ck_assert(i == 0 || test[i] > test[i - 1]);
    }
    for (size_t i = 0; i < ntrain; i++)
        seen[train[i]]++, ck_assert(i == 0 || train[i] > train[i - 1]);
    for (size_t i = 0; i < digits.n; i++)
        ck_assert_int_eq(seen[i], 1);
    /* Stratified: within each class, in order of appearance, the 5th,
     * 10th, ... sample is held out and no other: floor(count / 5). */
    size_t per_class[ML_DIGITS_NCLASS] = {0};
    for (size_t i = 0; i < digits.n; i++) {
        size_t nth = ++per_class[digits.y[i]];
        ck_assert_msg(is_test[i] == (nth % 5 == 0), "sample %zu, #%zu of class %d", i, nth,
                      digits.y[i]);
    }
    size_t held = 0;
    for (int c = 0; c < 10; c++)
        held += class_count[c] / 5;
    ck_assert_uint_eq(ntest, held);
    ck_assert_uint_eq(ntest, 355);
    free(is_test);
    free(seen);
    free(test);
    free(train);
    free_digits();
}
END_TEST

START_TEST(split_folds)
{
    load_digits();
    size_t *test, *train, ntest, ntrain;
    ck_assert_int_eq(ml_split_test(&digits, &test, &ntest, &train, &ntrain), 0);
    int *fold = malloc(ntrain * sizeof *fold);
    ck_assert_int_ne(ml_split_folds(&digits, train, ntrain, 1, fold), 0);
    ck_assert_int_ne(ml_split_folds(&digits, train, ntrain, (int)ntrain + 1, fold), 0);
    size_t *fit = malloc(ntrain * sizeof *fit), *val = malloc(ntrain * sizeof *val);
    for (int k = 2; k <= 7; k++) {
        ck_assert_int_eq(ml_split_folds(&digits, train, ntrain, k, fold), 0);
        size_t size[7] = {0}, cls[7][ML_DIGITS_NCLASS] = {{0}};
        for (size_t i = 0; i < ntrain; i++) {
            ck_assert(fold[i] >= 0 && fold[i] < k);
            size[fold[i]]++;
            cls[fold[i]][digits.y[train[i]]]++;
        }
        /* Balanced: sizes, and each class's share, differ by at most one. */
        for (int f = 1; f < k; f++) {
            ck_assert(labs((long)size[f] - (long)size[0]) <= 1);
            for (int c = 0; c < 10; c++)
                ck_assert(labs((long)cls[f][c] - (long)cls[0][c]) <= 1);
        }
        /* The folds' validation sets are disjoint and cover the training
         * part; each fit set is the rest. */
        char *hit = calloc(digits.n, 1), *in_val = calloc(digits.n, 1);
        char *is_train = calloc(digits.n, 1);
        for (size_t i = 0; i < ntrain; i++)
            is_train[train[i]] = 1;
        for (int f = 0; f < k; f++) {
            size_t nfit, nval;
            ml_fold_indices(train, fold, ntrain, f, fit, &nfit, val, &nval);
            ck_assert_uint_eq(nval, size[f]);
            ck_assert_uint_eq(nfit + nval, ntrain);
            memset(in_val, 0, digits.n);
            for (size_t i = 0; i < nval; i++)
                hit[val[i]]++, in_val[val[i]] = 1;
            for (size_t i = 0; i < nfit; i++)
                ck_assert(!in_val[fit[i]] && is_train[fit[i]]);
        }
        free(in_val);
        free(is_train);
        for (size_t i = 0; i < ntest; i++)
            ck_assert_int_eq(hit[test[i]], 0);
        for (size_t i = 0; i < ntrain; i++)
            ck_assert_int_eq(hit[train[i]], 1);
        free(hit);
    }
    free(fit);
    free(val);
    free(fold);
    free(test);
    free(train);
    free_digits();
}
END_TEST

/* A tiny random problem: n samples of nin features in [-1, 1], labels
 * 0..nout-1 cycling, so every class is present. */
static void tiny_data(ml_data *d, size_t n, int nin, int nout, gsl_rng *r)
{
    d->n = n, d->nfeat = nin, d->nclass = nout;
    d->x = malloc(n * (size_t)nin * sizeof *d->x);
    d->y = malloc(n * sizeof *d->y);
    for (size_t q = 0; q < n * (size_t)nin; q++)
        d->x[q] = 2 * gsl_rng_uniform(r) - 1;
    for (size_t i = 0; i < n; i++)
        d->y[i] = (int)(i % (size_t)nout);
}

START_TEST(gradient_check)
{
    gsl_rng *r = task_rng(7, 0);
    ml_data d;
    tiny_data(&d, 6, 3, 4, r);
    d.x[1] = 0; /* a zero input: the sparse paths skip it */
    size_t idx[6] = {0, 1, 2, 3, 4, 5};
    ml_mlp *m = ml_mlp_alloc(3, 5, 4);
    ck_assert_ptr_nonnull(m);
    ml_mlp_init(m, r);
    for (size_t q = 0; q < m->np; q++) /* nonzero biases too, weights of order one */
        m->p[q] = 3 * m->p[q] + 0.3 * (2 * gsl_rng_uniform(r) - 1);
    const double l2 = 0.1, eps = 1e-5;
    double *g = malloc(m->np * sizeof *g);
    double loss = ml_mlp_loss_grad(m, &d, idx, 6, l2, g);
    ck_assert(loss == ml_mlp_loss_grad(m, &d, idx, 6, l2, NULL));
    ck_assert(loss > 0 && isfinite(loss));
    /* Central differences: error O(eps^2) plus rounding O(1e-16 / eps). */
    for (size_t q = 0; q < m->np; q++) {
        double keep = m->p[q];
        m->p[q] = keep + eps;
        double up = ml_mlp_loss_grad(m, &d, idx, 6, l2, NULL);
        m->p[q] = keep - eps;
        double down = ml_mlp_loss_grad(m, &d, idx, 6, l2, NULL);
        m->p[q] = keep;
        double fd = (up - down) / (2 * eps);
        ck_assert_msg(fabs(g[q] - fd) <= 1e-8 * fmax(1, fabs(fd)),
                      "parameter %zu: gradient %.12g, finite difference %.12g", q, g[q], fd);
    }
    /* The L2 term: the bias gradients are the same without it, every
     * weight's changes by l2 * w. */
    double *g0 = malloc(m->np * sizeof *g0);
    ml_mlp_loss_grad(m, &d, idx, 6, 0, g0);
    for (size_t q = 0; q < m->np; q++) {
        int bias = (m->p + q >= m->b1 && m->p + q < m->w2) || m->p + q >= m->b2;
        ck_assert(fabs(g[q] - g0[q] - (bias ? 0 : l2 * m->p[q])) < 1e-12);
    }
    free(g0);
    free(g);
    ml_mlp_free(m);
    ml_data_free(&d);
    gsl_rng_free(r);
}
END_TEST

/* A quick config for the checks that train. */
static ml_hparams quick(int hidden, int epochs)
{
    ml_hparams hp;
    ml_hparams_default(&hp);
    hp.hidden = hidden;
    hp.epochs = epochs;
    return hp;
}

START_TEST(determinism)
{
    load_digits();
    ml_hparams hp = quick(8, 1);
    char err[512];
    /* The same stream gives the same score to the last bit, per fold. */
    double a[2], se[2], folds[2][4];
    for (int run = 0; run < 2; run++) {
        gsl_rng *r = task_rng(11, 3);
        ml_cv *cv = ml_cv_alloc(&digits, &hp, 4, r, err, sizeof err);
        ck_assert_msg(cv != NULL, "%s", err);
        ml_cv_train(cv, 2, r);
        ck_assert_int_eq(ml_cv_epochs(cv), 2);
        a[run] = ml_cv_score(cv, &se[run], folds[run]);
        ml_cv_free(cv);
        gsl_rng_free(r);
    }
    ck_assert(a[0] == a[1] && se[0] == se[1] && memcmp(folds[0], folds[1], sizeof folds[0]) == 0);
    /* Resuming: 1 epoch, a score, 1 more is the same as 2 at once, and the
     * one-call form agrees. */
    gsl_rng *r = task_rng(11, 3);
    ml_cv *cv = ml_cv_alloc(&digits, &hp, 4, r, err, sizeof err);
    ml_cv_train(cv, 1, r);
    double se1, a1 = ml_cv_score(cv, &se1, NULL);
    ml_cv_train(cv, 1, r);
    ck_assert(ml_cv_score(cv, NULL, NULL) == a[0]);
    ml_cv_free(cv);
    gsl_rng_free(r);
    r = task_rng(11, 3);
    double se_one;
    ck_assert(ml_cv_accuracy(&digits, &hp, 4, r, &se_one, err, sizeof err) == a1);
    ck_assert(se_one == se1);
    gsl_rng_free(r);
    /* Another stream (another task, or another seed) gives another model. */
    size_t fit[200];
    for (size_t i = 0; i < 200; i++)
        fit[i] = i;
    ml_mlp *m[3];
    ml_trainer *t[3];
    const uint64_t keys[3][2] = {{5, 0}, {5, 0}, {5, 1}};
    for (int i = 0; i < 3; i++) {
        r = task_rng(keys[i][0], keys[i][1]);
        t[i] = ml_trainer_alloc(&digits, fit, 200, &hp, r);
        ck_assert_ptr_nonnull(t[i]);
        ml_trainer_epoch(t[i], r);
        ck_assert_int_eq(ml_trainer_epochs(t[i]), 1);
        m[i] = ml_trainer_model(t[i]);
        gsl_rng_free(r);
    }
    ck_assert(memcmp(m[0]->p, m[1]->p, m[0]->np * sizeof *m[0]->p) == 0);
    size_t differ = 0;
    for (size_t q = 0; q < m[0]->np; q++)
        differ += m[0]->p[q] != m[2]->p[q];
    ck_assert_uint_eq(differ, m[0]->np);
    for (int i = 0; i < 3; i++)
        ml_trainer_free(t[i]);
    free_digits();
}
END_TEST

START_TEST(accuracy)
{
    load_digits();
    /* 32 hidden units, 4 epochs: about 0.95 in CV, well above chance
     * (0.1) and above 0.9 for any stream; the held-out set agrees. */
    ml_hparams hp = quick(32, 4);
    char err[512];
    gsl_rng *r = task_rng(2024, 17);
    double se, acc = ml_cv_accuracy(&digits, &hp, 5, r, &se, err, sizeof err);
    ck_assert_msg(acc >= 0.9, "5-fold CV accuracy %.4f +- %.4f", acc, se);
    ck_assert(se > 0 && se < 0.05);
    double tse, tacc = ml_test_accuracy(&digits, &hp, r, &tse, err, sizeof err);
    ck_assert_msg(tacc >= 0.9, "test accuracy %.4f +- %.4f", tacc, tse);
    ck_assert(fabs(tse - sqrt(tacc * (1 - tacc) / 355)) < 1e-15);
    /* No training at all: about chance. */
    hp.epochs = 0;
    ck_assert(ml_cv_accuracy(&digits, &hp, 5, r, NULL, err, sizeof err) < 0.5);
    gsl_rng_free(r);
    free_digits();
}
END_TEST

/* The call fails with NaN and a message containing say. */
static void cv_fails(const ml_hparams *hp, int k, const char *say)
{
    char err[512] = "";
    gsl_rng *r = task_rng(1, 1);
    ck_assert(isnan(ml_cv_accuracy(&digits, hp, k, r, NULL, err, sizeof err)));
    ck_assert_msg(strstr(err, say) != NULL, "'%s' does not say '%s'", err, say);
    if (k == 5) {
        err[0] = '\0';
        ck_assert(isnan(ml_test_accuracy(&digits, hp, r, NULL, err, sizeof err)));
        ck_assert_msg(strstr(err, say) != NULL, "'%s' does not say '%s'", err, say);
    }
    gsl_rng_free(r);
}

START_TEST(bad_hparams)
{
    load_digits();
    ml_hparams hp = quick(4, 1);
    ck_assert_int_eq(ml_hparams_check(&hp, NULL, 0), 0);
    cv_fails(&hp, 1, "k = 1: cross-validation needs 2..1442 folds");
    cv_fails(&hp, 1443, "k = 1443");
    hp.lr = 0;
    cv_fails(&hp, 5, "lr = 0: the learning rate must be");
    hp = quick(4, 1), hp.l2 = NAN;
    cv_fails(&hp, 5, "l2 = nan");
    hp = quick(0, 1);
    cv_fails(&hp, 5, "hidden = 0");
    hp = quick(4, -1);
    cv_fails(&hp, 5, "epochs = -1");
    hp = quick(4, 1), hp.batch = 0;
    cv_fails(&hp, 5, "batch = 0");
    hp = quick(4, 1), hp.momentum = 1;
    cv_fails(&hp, 5, "momentum = 1");
    free_digits();
}
END_TEST

static Suite *mlp_suite(void)
{
    Suite *s = suite_create("mlp");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, loader_real_file);
    tcase_add_test(tc, split_partition);
    tcase_add_test(tc, split_folds);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, loader_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_set_timeout(tc, 60); /* slower under the sanitizers */
    tcase_add_test(tc, gradient_check);
    tcase_add_test(tc, determinism);
    tcase_add_test(tc, accuracy);
    tcase_add_test(tc, bad_hparams);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mlp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
