/* SPDX-License-Identifier: GPL-3.0-or-later */
/* digits.c: loading the digits data and splitting it (digits.h).
 *
 * The file is read with zlib's gzgets, which reads a gzip file and a plain
 * one alike. Each line is checked whole before it is stored: first its
 * field count, then each field as an unsigned decimal integer in range, so
 * a message names the first thing wrong with the line, with its number. */
#include "digits.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Longer than any valid line (65 fields of at most a few characters). */
#define LINE_MAX_CHARS 4096

/* Every 5th sample of each class goes to the test set (about 20%). */
#define TEST_EVERY 5

/* Where the digits file comes from, for the messages. */
#define DIGITS_HINT                                                                     \
    "the digits file holds one sample per line: 64 pixel values 0..16, then the label " \
    "0..9, comma-separated (python3-sklearn's sklearn/datasets/data/digits.csv.gz)"

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

void ml_data_free(ml_data *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* Make room for one more sample; 0 or -1 if out of memory. */
static int reserve(ml_data *d, size_t *cap)
{
    if (d->n < *cap)
        return 0;
    size_t ncap = *cap ? 2 * *cap : 1024;
    double *x = realloc(d->x, ncap * ML_DIGITS_NFEAT * sizeof *x);
    if (!x)
        return -1;
    d->x = x;
    int *y = realloc(d->y, ncap * sizeof *y);
    if (!y)
        return -1;
    d->y = y;
    *cap = ncap;
    return 0;
}

/* Parse one field starting at s: optional blanks, decimal digits, optional
 * blanks, then ',' or the end of the line. Sets *v and *end (the character
 * after the field: ',' or the end); 0, or -1 if it is not such a number. */
static int parse_field(const char *s, long *v, const char **end)
{
    while (*s == ' ' || *s == '\t')
        s++;
    long val = 0;
    int ndig = 0;
    for (; *s >= '0' && *s <= '9'; s++, ndig++)
        if (ndig < 9) /* more digits are out of range anyway; no overflow */
            val = 10 * val + (*s - '0');
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    if (ndig == 0 || (*s != ',' && *s != '\n' && *s != '\0'))
        return -1;
    *v = ndig > 9 ? 1000000000L : val;
    *end = s;
    return 0;
}

/* Length of field text starting at s, for quoting it in a message. */
static int field_len(const char *s)
{
    size_t len = strcspn(s, ",\r\n");
    return len > 40 ? 40 : (int)len;
}

/* Check and store one line (its number lineno) as sample d->n. The caller
 * has made room. 0, or -1 with the message in err. */
static int parse_line(const char *path, unsigned long lineno, const char *line, ml_data *d,
                      char *err, size_t errlen)
{
    int nfields = 1;
    for (const char *c = line; *c; c++)
        nfields += *c == ',';
    if (nfields != ML_DIGITS_NFEAT + 1) {
        set_err(err, errlen, "%s:%lu: %d field%s, expected %d; %s", path, lineno, nfields,
                nfields == 1 ? "" : "s", ML_DIGITS_NFEAT + 1, DIGITS_HINT);
        return -1;
    }
    double *x = d->x + d->n * ML_DIGITS_NFEAT;
    const char *s = line;
    for (int f = 0; f <= ML_DIGITS_NFEAT; f++) {
        int is_label = f == ML_DIGITS_NFEAT;
        long max = is_label ? ML_DIGITS_NCLASS - 1 : ML_DIGITS_MAXVAL;
        long v;
        const char *end;
        if (parse_field(s, &v, &end) != 0 || v > max) {
            set_err(err, errlen, "%s:%lu: field %d ('%.*s') is not %s %d..%ld; %s", path,
                    lineno, f + 1, field_len(s), s,
                    is_label ? "a label, an integer" : "a pixel value, an integer", 0, max,
                    DIGITS_HINT);
            return -1;
        }
        if (is_label)
            d->y[d->n] = (int)v;
        else /* scaled to [0, 1]: inputs of order one suit the initial weights */
            x[f] = (double)v / ML_DIGITS_MAXVAL;
        s = end + (*end == ',');
    }
    d->n++;
    return 0;
}

/* Read every line of the open file g into d; 0 or -1 with the message. */
static int read_lines(gzFile g, const char *path, ml_data *d, char *err, size_t errlen)
{
    char line[LINE_MAX_CHARS];
    size_t cap = 0;
    unsigned long lineno = 0;
    while (gzgets(g, line, sizeof line)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !gzeof(g)) {
            set_err(err, errlen, "%s:%lu: line longer than %d characters; %s", path, lineno,
                    LINE_MAX_CHARS - 2, DIGITS_HINT);
            return -1;
        }
        if (reserve(d, &cap) != 0) {
            set_err(err, errlen, "%s:%lu: out of memory storing %zu samples", path, lineno,
                    d->n + 1);
            return -1;
        }
        if (parse_line(path, lineno, line, d, err, errlen) != 0)
            return -1;
    }
    int zerr;
    const char *msg = gzerror(g, &zerr);
    if (zerr != Z_OK) {
        set_err(err, errlen, "%s: read error after line %lu: %s; the file is damaged or "
                "truncated: reinstall python3-sklearn or copy it again", path, lineno,
                zerr == Z_ERRNO ? strerror(errno) : msg);
        return -1;
    }
    if (d->n == 0) {
        set_err(err, errlen, "%s: no samples (empty file); %s", path, DIGITS_HINT);
        return -1;
    }
    return 0;
}

int ml_digits_load(const char *path, ml_data *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    errno = 0;
    gzFile g = gzopen(path, "rb");
    if (!g) {
        set_err(err, errlen, "cannot open the digits file '%s': %s; install python3-sklearn "
                "(Debian: apt-get install python3-sklearn), which ships it as "
                "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz, or give "
                "the path of a copy", path, errno ? strerror(errno) : "out of memory");
        return -1;
    }
    d->nfeat = ML_DIGITS_NFEAT;
    d->nclass = ML_DIGITS_NCLASS;
    int rc = read_lines(g, path, d, err, errlen);
    gzclose(g);
    if (rc != 0)
        ml_data_free(d);
    return rc;
}

/* 0 if every label is in 0..nclass-1: the splits index arrays by label. */
static int labels_ok(const ml_data *d)
{
    if (d->nclass < 1)
        return -1;
    for (size_t i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= d->nclass)
            return -1;
    return 0;
}

int ml_split_test(const ml_data *d, size_t **test, size_t *ntest, size_t **train, size_t *ntrain)
{
    *test = *train = NULL;
    *ntest = *ntrain = 0;
    if (labels_ok(d) != 0)
        return -1;
    size_t *seen = calloc((size_t)d->nclass, sizeof *seen); /* samples of each class so far */
    size_t *te = malloc((d->n ? d->n : 1) * sizeof *te);
    size_t *tr = malloc((d->n ? d->n : 1) * sizeof *tr);
    if (!seen || !te || !tr) {
        free(seen), free(te), free(tr);
        return -1;
    }
    for (size_t i = 0; i < d->n; i++) {
        if (seen[d->y[i]]++ % TEST_EVERY == TEST_EVERY - 1)
            te[(*ntest)++] = i;
        else
            tr[(*ntrain)++] = i;
    }
    free(seen);
    *test = te;
    *train = tr;
    return 0;
}

int ml_split_folds(const ml_data *d, const size_t *train, size_t ntrain, int k, int *fold)
{
    if (k < 2 || (size_t)k > ntrain || labels_ok(d) != 0)
        return -1;
    /* One pass per class keeps each class's order of appearance; the deal
     * goes on across classes so that the folds' sizes stay balanced too. */
    size_t deal = 0;
    for (int c = 0; c < d->nclass; c++)
        for (size_t i = 0; i < ntrain; i++)
            if (d->y[train[i]] == c)
                fold[i] = (int)(deal++ % (size_t)k);
    return 0;
}

void ml_fold_indices(const size_t *train, const int *fold, size_t ntrain, int f, size_t *fit,
                     size_t *nfit, size_t *val, size_t *nval)
{
    *nfit = *nval = 0;
    for (size_t i = 0; i < ntrain; i++) {
        if (fold[i] == f)
            val[(*nval)++] = train[i];
        else
            fit[(*nfit)++] = train[i];
    }
}
