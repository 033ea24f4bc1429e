/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Output field and parameter declarations shared by the store, the scan and
 * apps. */
#ifndef SHOAL_TYPES_H
#define SHOAL_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SHOAL_INT64 = 1,   /* int64_t */
    SHOAL_FLOAT64 = 2, /* double */
    SHOAL_STRING = 3   /* a string: parameters, and output fields of text
                          (ndims 1, dims[0] bytes per task) */
} shoal_type;

#define SHOAL_MAX_DIMS 4

/* How an output field combines across tasks into /reduce/<name> (and, with a
 * [scan], per point into /points/reduce/<name>). Element by element, over
 * the done tasks, always in task-index order: the result is bit-identical at
 * any rank count and after any number of resumes (docs/analysis.md). */
typedef enum {
    SHOAL_REDUCE_NONE = 0,
    SHOAL_REDUCE_SUM,     /* sum (a histogram is the SUM of an int64 array
                             field); int64 sums wrap modulo 2^64 */
    SHOAL_REDUCE_MIN,     /* smallest; NaN if any value is NaN */
    SHOAL_REDUCE_MAX,     /* largest; NaN if any value is NaN */
    SHOAL_REDUCE_COUNT,   /* int64: tasks whose value is a number (not NaN) */
    SHOAL_REDUCE_MEAN,    /* float64: mean of the tasks' values (NaN skipped) */
    SHOAL_REDUCE_VAR,     /* float64: sample variance of the tasks' values
                             (NaN skipped), merged by the pairwise formula */
    SHOAL_REDUCE_MOMENTS, /* float64 field whose last dimension is 3: each
                             task stores (count, mean, M2) of its own data
                             (shoal_moments); merged by the pairwise formula
                             into the same triple */
    SHOAL_REDUCE_USER     /* the field's combine function */
} shoal_reduce;

/* A user combine: into = into (+) from, both rows of the field (width
 * elements of its type); into holds the earlier tasks. Called in task-index
 * order over a tree that depends only on the task count, so it must be
 * associative for the result not to depend on that tree; it need not be
 * commutative. */
typedef void (*shoal_combine_fn)(void *into, const void *from, uint64_t width, void *ctx);

/* One output field: /results/<name> of shape [ntasks, dims...]. A scalar has
 * ndims 0. Use designated initialisers: { "pi", SHOAL_FLOAT64 }. A text
 * field is { "log", SHOAL_STRING, 1, {256} }: /results/log of shape [ntasks],
 * each a fixed-length string of 256 bytes (NUL-padded), no reduction. */
typedef struct {
    const char *name;
    shoal_type type;
    int ndims;                     /* 0..SHOAL_MAX_DIMS */
    uint64_t dims[SHOAL_MAX_DIMS]; /* extent of each extra dimension */
    const char *doc;               /* stored as the dataset's "doc" attribute */
    shoal_reduce reduce;           /* SHOAL_REDUCE_NONE: no /reduce entry */
    shoal_combine_fn combine;      /* SHOAL_REDUCE_USER only; gets app->ctx */
    const char *unit;              /* stored as the "units" attribute of every
                                      dataset of the field (free text, CF /
                                      UDUNITS style: "s", "m s-1", "1");
                                      NULL: none */
    int watch;                     /* nonzero: each finished task's value
                                      travels to rank 0 with the worker's
                                      next request, for [run] stop_when and
                                      the app's watch hook (scalar int64 or
                                      float64 fields only; docs/adaptive.md) */
} shoal_field;

/* Count, mean and sum of squared deviations of a sample, updated one value
 * at a time (Welford) and merged pairwise (Chan et al.): the per-task
 * partial of a SHOAL_REDUCE_MOMENTS field. */
typedef struct {
    double n, mean, m2;
} shoal_moments;

static inline void shoal_moments_add(shoal_moments *m, double x)
{
    m->n += 1;
    double d = x - m->mean;
    m->mean += d / m->n;
    m->m2 += d * (x - m->mean);
}

/* a = a merged with b (a holds the earlier data). */
static inline void shoal_moments_merge(shoal_moments *a, const shoal_moments *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    double n = a->n + b->n, d = b->mean - a->mean;
    a->mean += d * (b->n / n);
    a->m2 += b->m2 + d * d * (a->n * b->n / n);
    a->n = n;
}

/* Bytes of one element of a field: 8, or 1 for a string field. */
static inline uint64_t shoal_field_elem_bytes(const shoal_field *f)
{
    return f->type == SHOAL_STRING ? 1 : 8;
}

/* Number of elements of one task's row of a field (1 for a scalar). */
static inline uint64_t shoal_field_width(const shoal_field *f)
{
    uint64_t w = 1;
    for (int d = 0; d < f->ndims; d++)
        w *= f->dims[d];
    return w;
}

/* One app parameter, read from the app's config section. */
typedef struct {
    const char *name;
    shoal_type type;  /* SHOAL_INT64, SHOAL_FLOAT64 or SHOAL_STRING */
    const char *dflt; /* default value as text; NULL: the key is required */
    const char *doc;  /* one line for --help, stored as "doc" beside the value */
    double min, max;  /* inclusive bounds, enforced when min < max */
    const char *choices; /* strings: allowed values "a|b|c" (NULL: any) */
    const char *unit;    /* "units" of /params/<name> (or "<name>.units" of
                            /params for a constant); NULL: none */
} shoal_param;

#ifdef __cplusplus
}
#endif

#endif
