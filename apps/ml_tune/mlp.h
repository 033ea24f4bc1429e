/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mlp.h: a one-hidden-layer perceptron classifier, its training, and its
 * scores on the digits data: cross-validated and held-out accuracy.
 *
 * Model: nin inputs -> nhid tanh units -> nout softmax outputs,
 *   h = tanh(W1 x + b1),  p = softmax(W2 h + b2),
 * fitted by minimising the mean cross-entropy -log p[y] over the fitting
 * samples plus (l2 / 2) * (|W1|^2 + |W2|^2) (the biases are not penalised).
 * tanh rather than ReLU: the loss is smooth, so the gradient checks against
 * finite differences hold everywhere.
 *
 * Optimiser: minibatch SGD with classical (heavy-ball) momentum,
 *   v <- momentum * v - lr * g,  w <- w + v,
 * g the gradient of the objective on one minibatch (its mean cross-entropy
 * plus l2 * w). Each epoch visits the fitting samples once in a fresh random
 * order, in batches of `batch` (the last one smaller). Weights start
 * Glorot-uniform, W ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)),
 * biases at zero.
 *
 * Randomness: the initial weights and each epoch's order are drawn from the
 * gsl_rng passed in and from nothing else (no global state), so a result is
 * a deterministic function of the generator's stream. */
#ifndef ML_MLP_H
#define ML_MLP_H

#include "digits.h"

#include <gsl/gsl_rng.h>
#include <stddef.h>

#define ML_BATCH_DEFAULT 32
#define ML_MOMENTUM_DEFAULT 0.9
#define ML_HIDDEN_MAX 4096

/* Hyperparameters. ml_hparams_default fills in usable values. */
typedef struct {
    double lr;       /* SGD step size, > 0 */
    double l2;       /* L2 penalty on the weights, >= 0 */
    int hidden;      /* hidden units, 1..ML_HIDDEN_MAX */
    int epochs;      /* passes over the fitting samples (the budget), >= 0 */
    int batch;       /* minibatch size, >= 1 */
    double momentum; /* in [0, 1) */
} ml_hparams;

/* lr 0.1, l2 1e-4, 64 hidden units, 27 epochs, batch 32, momentum 0.9:
 * about 0.975 in 5-fold cross-validation, in about 0.5 s of CPU. */
void ml_hparams_default(ml_hparams *hp);

/* 0 if every field is in range, else -1 with a message naming the field. */
int ml_hparams_check(const ml_hparams *hp, char *err, size_t errlen);

/* The network. All parameters lie in p[0..np-1]: W1 (nin rows of nhid:
 * w1[i * nhid + j] joins input i to hidden unit j), b1 (nhid), W2 (nout rows
 * of nhid: w2[c * nhid + j] joins hidden unit j to output c), b2 (nout);
 * w1, b1, w2, b2 point into p.
 * h, z and dh are per-sample scratch, so a model is used by one thread. */
typedef struct {
    int nin, nhid, nout;
    size_t np;
    double *p;
    double *w1, *b1, *w2, *b2;
    double *h, *z, *dh;
} ml_mlp;

/* A network with all parameters zero; NULL if out of memory. */
ml_mlp *ml_mlp_alloc(int nin, int nhid, int nout);
void ml_mlp_free(ml_mlp *m);

/* Glorot-uniform weights, zero biases, drawn from r. */
void ml_mlp_init(ml_mlp *m, gsl_rng *r);

/* The class with the largest output for input x (nin values). */
int ml_mlp_predict(ml_mlp *m, const double *x);

/* Fraction of the samples d[idx[0..n-1]] predicted right (0 if n is 0). */
double ml_mlp_accuracy(ml_mlp *m, const ml_data *d, const size_t *idx, size_t n);

/* The objective on samples d[idx[0..n-1]]: mean cross-entropy plus
 * (l2 / 2) |W|^2. If grad is not NULL, sets grad[0..np-1] to its gradient
 * (laid out as p). d->nfeat and d->nclass must be m's nin and nout. */
double ml_mlp_loss_grad(ml_mlp *m, const ml_data *d, const size_t *idx, size_t n, double l2,
                        double *grad);

/* A model with its optimiser state, trained on a fixed set of samples;
 * training can stop after any epoch and go on later. */
typedef struct ml_trainer ml_trainer;

/* A trainer for hp's network on d[fit[0..nfit-1]] (the indices are copied),
 * its weights initialised from r. hp->epochs is not used. NULL if out of
 * memory or hp is out of range (see ml_hparams_check). */
ml_trainer *ml_trainer_alloc(const ml_data *d, const size_t *fit, size_t nfit,
                             const ml_hparams *hp, gsl_rng *r);
void ml_trainer_free(ml_trainer *t);

/* One more epoch; its order is drawn from r. */
void ml_trainer_epoch(ml_trainer *t, gsl_rng *r);

/* Epochs done so far, and the model being trained. */
int ml_trainer_epochs(const ml_trainer *t);
ml_mlp *ml_trainer_model(ml_trainer *t);

/* k-fold cross-validation on the training part of the digits split
 * (ml_split_test, ml_split_folds): k trainers, one per fold, fitted on the
 * other folds and scored on their own. They train in lockstep: first all k
 * initialisations, then epoch 1 of fold 0, 1, .., k-1, then epoch 2, ... .
 * So the stream used for E epochs is a prefix of the one for more: training
 * to 9 epochs, scoring, then going on to 27 gives the same scores as two
 * separate runs to 9 and to 27 with generators in the same state, at the
 * cost of 27 epochs instead of 36. */
typedef struct ml_cv ml_cv;

/* The k trainers, initialised from r, with no epoch done (hp->epochs is not
 * used). NULL with a message if hp or k is out of range (2 <= k <= the
 * training part's size) or out of memory. */
ml_cv *ml_cv_alloc(const ml_data *d, const ml_hparams *hp, int k, gsl_rng *r, char *err,
                   size_t errlen);
void ml_cv_free(ml_cv *cv);

/* `epochs` more epochs of every fold. */
void ml_cv_train(ml_cv *cv, int epochs, gsl_rng *r);

/* Epochs done so far (by each fold). */
int ml_cv_epochs(const ml_cv *cv);

/* The mean over folds of each fold's validation accuracy; if se is not
 * NULL, *se is its standard error, the sample standard deviation of the k
 * fold accuracies over sqrt(k). If fold_acc is not NULL, it gets the k fold
 * accuracies. */
double ml_cv_score(ml_cv *cv, double *se, double *fold_acc);

/* k-fold cross-validated accuracy after hp->epochs epochs: ml_cv_alloc,
 * ml_cv_train, ml_cv_score, ml_cv_free. NaN with a message on error. */
double ml_cv_accuracy(const ml_data *d, const ml_hparams *hp, int k, gsl_rng *r, double *se,
                      char *err, size_t errlen);

/* Trains on the whole training part (ml_split_test) for hp->epochs epochs
 * and returns the accuracy on the held-out test set; if se is not NULL,
 * *se is its binomial standard error sqrt(acc (1 - acc) / ntest). NaN with
 * a message on error. */
double ml_test_accuracy(const ml_data *d, const ml_hparams *hp, gsl_rng *r, double *se,
                        char *err, size_t errlen);

#endif
