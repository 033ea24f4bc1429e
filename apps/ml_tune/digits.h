/* SPDX-License-Identifier: GPL-3.0-or-later */
/* digits.h: the UCI optical recognition of handwritten digits data (8x8
 * images, 64 pixel counts 0..16, classes 0..9), and its fixed splits into a
 * held-out test set and stratified cross-validation folds.
 *
 * The file is the one Debian ships in python3-sklearn,
 * /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz: 1797
 * lines of 65 comma-separated integers, the 64 pixels row by row and then
 * the label. The UCI originals (optdigits.tra, optdigits.tes) have the same
 * layout and load as well, compressed or not. */
#ifndef ML_DIGITS_H
#define ML_DIGITS_H

#include <stddef.h>

#define ML_DIGITS_NFEAT 64
#define ML_DIGITS_NCLASS 10
#define ML_DIGITS_MAXVAL 16

/* A classification data set: n samples of nfeat features each, row-major
 * (sample i's features are x[i * nfeat .. i * nfeat + nfeat - 1]), and
 * labels y[i] in 0..nclass-1. The model code takes any nfeat and nclass
 * (the unit tests build tiny sets by hand); the loader gives 64 and 10. */
typedef struct {
    size_t n;
    int nfeat;
    int nclass;
    double *x; /* features; the loader scales pixels to [0, 1] (count / 16) */
    int *y;
} ml_data;

/* Read the digits file at path (gzip-compressed or plain text) into d.
 * Returns 0, or -1 with d left empty and a message in err (what went wrong,
 * the path and line, how to fix it) for a file that cannot be opened or
 * read, a line with other than 65 fields, a field that is not an integer in
 * range (pixels 0..16, labels 0..9) or a file with no samples. */
int ml_digits_load(const char *path, ml_data *d, char *err, size_t errlen);

/* Free what d holds and leave it empty; d itself is the caller's. */
void ml_data_free(ml_data *d);

/* The held-out test set: within each class, taking samples in order of
 * appearance, every 5th (the 5th, 10th, ...) goes to the test set, the rest
 * to the training part: about 20% of each class is held out, the same
 * samples every time. Sets *test and *train to malloc'ed arrays of sample
 * indices in ascending order, of *ntest and *ntrain entries (ntest + ntrain
 * = d->n); the caller frees them. Returns 0, or -1 if out of memory (then
 * nothing to free). */
int ml_split_test(const ml_data *d, size_t **test, size_t *ntest, size_t **train, size_t *ntrain);

/* Cross-validation folds over the training part train[0..ntrain-1] (indices
 * into d): fold[i] in 0..k-1 is the fold of sample train[i]. Stratified
 * round-robin: the samples are dealt to folds 0, 1, .., k-1, 0, 1, ... class
 * by class (class 0's samples in order of appearance, then class 1's, and
 * so on, the deal continuing across classes), so every fold has each class
 * in proportion (within one sample) and fold sizes differ by at most one.
 * Needs 2 <= k <= ntrain; returns 0, or -1 if k is out of range or out of
 * memory. */
int ml_split_folds(const ml_data *d, const size_t *train, size_t ntrain, int k, int *fold);

/* Fold f of a split: val gets the train[i] with fold[i] == f, fit the other
 * train[i], both in the order of train; each must have room for ntrain
 * entries. Sets *nfit and *nval. */
void ml_fold_indices(const size_t *train, const int *fold, size_t ntrain, int f, size_t *fit,
                     size_t *nfit, size_t *val, size_t *nval);

#endif
