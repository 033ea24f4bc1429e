/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ml_tune: tune a small neural network on handwritten digits.
 *
 * Each task trains the one-hidden-layer perceptron of mlp.h with the
 * task's hyperparameters (learning rate, L2 penalty, hidden units, epochs
 * as the budget) on the UCI optical recognition of handwritten digits data
 * (1,797 8x8 images, 10 classes; Debian ships it in python3-sklearn) and
 * scores it by k-fold cross-validation on the training part; with
 * test = 1 it also trains on the whole training part and scores the
 * held-out test set (every 5th image of each class, never seen in
 * cross-validation). All randomness (weights, shuffling) comes from the
 * task's own stream, so a configuration's scores are the same at any rank
 * count. A [scan] over the hyperparameters is a grid search
 * (configs/ml_tune_grid.ini); cv_acc is watched. */
#include <shoal/shoal.h>

#include "digits.h"
#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { CV_ACC, CV_SE, TEST_ACC, TEST_SE, CPU, NOUTPUTS };

#define DIGITS_DEBIAN "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The data, read on every rank by configure before anything is written. */
static ml_data data;

static int workspace(void *ctx, void **ws)
{
    *ws = ctx;
    return 0;
}

static int tune_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    const ml_data *d = shoal_task_workspace(t);
    ml_hparams hp;
    ml_hparams_default(&hp);
    hp.lr = shoal_param_double(t, "lr");
    hp.l2 = shoal_param_double(t, "l2");
    hp.hidden = (int)shoal_param_long(t, "hidden");
    hp.epochs = (int)shoal_param_long(t, "epochs");
    hp.batch = (int)shoal_param_long(t, "batch");
    hp.momentum = shoal_param_double(t, "momentum");
    int folds = (int)shoal_param_long(t, "folds");
    long test = shoal_param_long(t, "test");
    if (shoal_task_failed(t))
        return shoal_task_failed(t);
    char err[512];
    double c0 = cpu_now(), se = NAN;
    gsl_rng *r = shoal_task_rng(t);
    double acc = ml_cv_accuracy(d, &hp, folds, r, &se, err, sizeof err);
    if (isnan(acc))
        return shoal_task_fail(t, 2, "%s", err);
    shoal_set_double(t, CV_ACC, acc);
    shoal_set_double(t, CV_SE, se);
    if (test) {
        /* Its own stream after the folds': the same draws at any count. */
        acc = ml_test_accuracy(d, &hp, r, &se, err, sizeof err);
        if (isnan(acc))
            return shoal_task_fail(t, 3, "%s", err);
        shoal_set_double(t, TEST_ACC, acc);
        shoal_set_double(t, TEST_SE, se);
    }
    shoal_set_double(t, CPU, cpu_now() - c0);
    return SHOAL_OK;
}

/* Every rank reads the data the config names before anything is
 * written: a missing or damaged file is a config error (exit 2), with the
 * line that names it. */
static int configure(shoal_app *app, shoal_config *cfg)
{
    const char *path = DIGITS_DEBIAN;
    int rc = shoal_config_get_string(cfg, "ml_tune", "data", 0, DIGITS_DEBIAN, &path);
    if (rc < 0)
        return rc;
    char err[1024];
    if (ml_digits_load(path, &data, err, sizeof err) != 0) {
        const char *where = shoal_config_where(cfg, "ml_tune", "data");
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s%s[ml_tune] data: %s", where ? where : "",
                           where ? ": " : "", err);
    }
    app->ctx = &data;
    return 0;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [CV_ACC] = {.name = "cv_acc", .type = SHOAL_FLOAT64, .unit = "1", .watch = 1,
                    .doc = "k-fold cross-validated accuracy (mean over folds)"},
        [CV_SE] = {.name = "cv_se", .type = SHOAL_FLOAT64, .unit = "1",
                   .doc = "its standard error: sd of the fold accuracies / sqrt(k)"},
        [TEST_ACC] = {.name = "test_acc", .type = SHOAL_FLOAT64, .unit = "1",
                      .doc = "held-out test accuracy after training on all the "
                             "training part (test = 1; NaN otherwise)"},
        [TEST_SE] = {.name = "test_se", .type = SHOAL_FLOAT64, .unit = "1",
                     .doc = "its binomial standard error"},
        [CPU] = {.name = "cpu_seconds", .type = SHOAL_FLOAT64, .unit = "s",
                 .doc = "CPU time of the task", .reduce = SHOAL_REDUCE_SUM},
    };
    static const shoal_param params[] = {
        {.name = "data", .type = SHOAL_STRING, .dflt = DIGITS_DEBIAN,
         .doc = "the digits file (digits.csv.gz of python3-sklearn)"},
        {.name = "lr", .type = SHOAL_FLOAT64, .dflt = "0.1", .doc = "SGD step size",
         .min = 1e-6, .max = 10},
        {.name = "l2", .type = SHOAL_FLOAT64, .dflt = "1e-4", .doc = "L2 penalty on the weights",
         .min = 0, .max = 10},
        {.name = "hidden", .type = SHOAL_INT64, .dflt = "32", .doc = "hidden units",
         .min = 1, .max = 1024},
        {.name = "epochs", .type = SHOAL_INT64, .dflt = "27",
         .doc = "passes over the training data (the budget)", .min = 0, .max = 100000},
        {.name = "batch", .type = SHOAL_INT64, .dflt = "32", .doc = "minibatch size",
         .min = 1, .max = 100000},
        {.name = "momentum", .type = SHOAL_FLOAT64, .dflt = "0.9", .doc = "SGD momentum",
         .min = 0, .max = 0.999},
        {.name = "folds", .type = SHOAL_INT64, .dflt = "5", .doc = "cross-validation folds",
         .min = 2, .max = 100},
        {.name = "test", .type = SHOAL_INT64, .dflt = "0",
         .doc = "1: also score the held-out test set", .min = 0, .max = 1},
    };
    const shoal_app app = {
        .name = "ml_tune",
        .doc = "Tune a small neural network (one hidden layer, SGD) on the UCI handwritten "
               "digits:\nk-fold cross-validated accuracy per hyperparameter set.",
        .run = tune_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .worker_init = workspace,
        .configure = configure,
    };
    int status = shoal_main(&app, argc, argv);
    ml_data_free(&data);
    return status;
}
