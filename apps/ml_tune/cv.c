/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cv.c: the perceptron's scores on the digits split (mlp.h): k-fold
 * cross-validated accuracy on the training part, trained in lockstep so a
 * budget can be extended, and accuracy on the held-out test set. */
#include "mlp.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct ml_cv {
    const ml_data *d;
    int k;
    int epochs;
    ml_trainer **tr; /* tr[f] fits every fold but f */
    size_t **val;    /* val[f]: fold f's samples, scored by tr[f] */
    size_t *nval;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void ml_cv_free(ml_cv *cv)
{
    if (!cv)
        return;
    for (int f = 0; f < cv->k; f++) {
        if (cv->tr)
            ml_trainer_free(cv->tr[f]);
        if (cv->val)
            free(cv->val[f]);
    }
    free(cv->tr);
    free(cv->val);
    free(cv->nval);
    free(cv);
}

/* The fold arrays of cv (k set), zeroed; 0 or -1 if out of memory. */
static int cv_arrays(ml_cv *cv)
{
    size_t k = (size_t)cv->k;
    cv->tr = calloc(k, sizeof *cv->tr);
    cv->val = calloc(k, sizeof *cv->val);
    cv->nval = calloc(k, sizeof *cv->nval);
    return cv->tr && cv->val && cv->nval ? 0 : -1;
}

/* Fold f's trainer, fitted on train minus fold f, and its validation set,
 * with fit as scratch (ntrain entries). 0 or -1 if out of memory. */
static int cv_fold(ml_cv *cv, const ml_hparams *hp, const size_t *train, const int *fold,
                   size_t ntrain, int f, size_t *fit, gsl_rng *r)
{
    cv->val[f] = malloc(ntrain * sizeof *cv->val[f]);
    if (!cv->val[f])
        return -1;
    size_t nfit;
    ml_fold_indices(train, fold, ntrain, f, fit, &nfit, cv->val[f], &cv->nval[f]);
    cv->tr[f] = ml_trainer_alloc(cv->d, fit, nfit, hp, r);
    return cv->tr[f] ? 0 : -1;
}

/* Split d, deal the folds and set up every fold's trainer in fold order:
 * all k initialisations come first in r's stream. 0, or -1 if k is out of
 * range (message set) or out of memory. */
static int cv_setup(ml_cv *cv, const ml_hparams *hp, gsl_rng *r, char *err, size_t errlen)
{
    size_t *test, *train, ntest, ntrain;
    if (ml_split_test(cv->d, &test, &ntest, &train, &ntrain) != 0) {
        set_err(err, errlen, "out of memory splitting %zu samples", cv->d->n);
        return -1;
    }
    int rc = -1;
    int *fold = malloc((ntrain ? ntrain : 1) * sizeof *fold);
    size_t *fit = malloc((ntrain ? ntrain : 1) * sizeof *fit);
    if (!fold || !fit)
        set_err(err, errlen, "out of memory splitting %zu samples", cv->d->n);
    else if (cv->k < 2 || (size_t)cv->k > ntrain)
        set_err(err, errlen, "k = %d: cross-validation needs 2..%zu folds (the training "
                "part's size)", cv->k, ntrain);
    else if (ml_split_folds(cv->d, train, ntrain, cv->k, fold) != 0 || cv_arrays(cv) != 0)
        set_err(err, errlen, "out of memory dealing %d folds", cv->k);
    else {
        rc = 0;
        for (int f = 0; f < cv->k && rc == 0; f++)
            rc = cv_fold(cv, hp, train, fold, ntrain, f, fit, r);
        if (rc != 0)
            set_err(err, errlen, "out of memory setting up %d folds", cv->k);
    }
    free(fold);
    free(fit);
    free(test);
    free(train);
    return rc;
}

ml_cv *ml_cv_alloc(const ml_data *d, const ml_hparams *hp, int k, gsl_rng *r, char *err,
                   size_t errlen)
{
    if (ml_hparams_check(hp, err, errlen) != 0)
        return NULL;
    ml_cv *cv = calloc(1, sizeof *cv);
    if (!cv) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    cv->d = d;
    cv->k = k;
    if (cv_setup(cv, hp, r, err, errlen) != 0) {
        ml_cv_free(cv); /* copes with fold arrays missing or partly filled */
        return NULL;
    }
    return cv;
}

void ml_cv_train(ml_cv *cv, int epochs, gsl_rng *r)
{
    /* Epoch by epoch across the folds, not fold by fold: the stream for E
     * epochs is then a prefix of the stream for more (mlp.h). */
    for (int e = 0; e < epochs; e++) {
        for (int f = 0; f < cv->k; f++)
            ml_trainer_epoch(cv->tr[f], r);
        cv->epochs++;
    }
}

int ml_cv_epochs(const ml_cv *cv)
{
    return cv->epochs;
}

double ml_cv_score(ml_cv *cv, double *se, double *fold_acc)
{
    double sum = 0, sumsq = 0;
    for (int f = 0; f < cv->k; f++) {
        double a = ml_mlp_accuracy(ml_trainer_model(cv->tr[f]), cv->d, cv->val[f], cv->nval[f]);
        if (fold_acc)
            fold_acc[f] = a;
        sum += a;
        sumsq += a * a;
    }
    double mean = sum / cv->k;
    if (se) {
        /* Sample variance from the two sums: k is small and accuracies lie
         * in [0, 1], so the cancellation is harmless; clamp its rounding. */
        double var = (sumsq - cv->k * mean * mean) / (cv->k - 1);
        *se = sqrt(fmax(var, 0) / cv->k);
    }
    return mean;
}

double ml_cv_accuracy(const ml_data *d, const ml_hparams *hp, int k, gsl_rng *r, double *se,
                      char *err, size_t errlen)
{
    ml_cv *cv = ml_cv_alloc(d, hp, k, r, err, errlen);
    if (!cv)
        return NAN;
    ml_cv_train(cv, hp->epochs, r);
    double acc = ml_cv_score(cv, se, NULL);
    ml_cv_free(cv);
    return acc;
}

double ml_test_accuracy(const ml_data *d, const ml_hparams *hp, gsl_rng *r, double *se,
                        char *err, size_t errlen)
{
    if (ml_hparams_check(hp, err, errlen) != 0)
        return NAN;
    size_t *test, *train, ntest, ntrain;
    if (ml_split_test(d, &test, &ntest, &train, &ntrain) != 0) {
        set_err(err, errlen, "out of memory splitting %zu samples", d->n);
        return NAN;
    }
    double acc = NAN;
    ml_trainer *t = ntest ? ml_trainer_alloc(d, train, ntrain, hp, r) : NULL;
    if (!ntest)
        set_err(err, errlen, "no test samples: %zu samples are too few to hold out every "
                "5th of a class", d->n);
    else if (!t)
        set_err(err, errlen, "out of memory for a network of %d hidden units", hp->hidden);
    else {
        for (int e = 0; e < hp->epochs; e++)
            ml_trainer_epoch(t, r);
        acc = ml_mlp_accuracy(ml_trainer_model(t), d, test, ntest);
        if (se)
            *se = sqrt(acc * (1 - acc) / (double)ntest);
    }
    ml_trainer_free(t);
    free(test);
    free(train);
    return acc;
}
