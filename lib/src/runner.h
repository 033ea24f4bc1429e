/* SPDX-License-Identifier: GPL-3.0-or-later */
/* runner.h (internal): runs ranges of an app's tasks on one rank and writes
 * their rows. It is the shoal_range_fn that shoal_main hands to the pool. */
#ifndef SHOAL_RUNNER_H
#define SHOAL_RUNNER_H

#include <shoal/app.h>
#include <shoal/pool.h>
#include <shoal/scan.h>
#include "store.h"

typedef struct {
    const char *name;
    shoal_type type;
    long l;
    double d;
    const char *s; /* owned by the config */
} shoal__param_value;

#define SHOAL__FAILURES_SHOWN 3 /* failures logged on stderr per rank */
/* Tasks shorter than this are timed in blocks of SHOAL__TIME_BLOCK (their
 * /tasks/seconds is the block's mean): a clock reading costs ~10 ns. */
#define SHOAL__TIME_FINE_SECONDS 1e-6
#define SHOAL__TIME_BLOCK 16

/* Where a task's output field goes: row k of the field is at
 * base + k * stride. */
typedef struct {
    char *base;
    uint64_t stride;
    shoal_type type;
} shoal__out;

typedef struct shoal__input shoal__input;

typedef struct {
    const shoal_app *app;
    shoal_store *store;
    shoal__input *input;       /* the run's [input] (not owned), or NULL */
    int rank;
    uint64_t seed;
    gsl_rng *rng;
    void *workspace;
    int workspace_ready;
    shoal__param_value *params; /* this rank's copy: scanned ones change per task */
    size_t nparams;
    shoal_scan *scan;          /* NULL: no [scan] section */
    size_t nscan;              /* scanned parameters */
    size_t *scan_param;        /* params index of scan dimension d */
    shoal_scan_value *vals;
    void **pbufs;              /* per scan dimension: max_rows values */
    size_t *pstrlen;           /* string dimensions: bytes per value */
    int64_t *point, *replicate;
    uint8_t *attempts;
    int retries;               /* extra attempts of a failing task */
    shoal_store_failure log[SHOAL_FAILURE_SLOTS]; /* first failures */
    size_t nlog;
    uint64_t max_rows;   /* rows the buffers hold */
    void **bufs;         /* per output field: max_rows rows (for the store) */
    shoal__out *out;     /* per output field: its rows, stride and type */
    size_t nout;
    uint8_t *status;
    int32_t *rankcol;
    float *seconds;
    int32_t *error;
    double ticks_per_second; /* ticks.h counter rate, measured per range */
    uint64_t time_block;     /* tasks per clock reading: 1 or SHOAL__TIME_BLOCK */
    uint64_t time_shorts;    /* tasks in a row timed under the fine threshold */
    uint64_t done, failed;
    int failures_shown;
    /* A search (search.h): each task's tag, configuration * nrungs + rung,
     * picks its scan point and its budget. Set after init; 0: none. */
    int search_nrungs;
    size_t budget_param;             /* index in params */
    const double *budgets;           /* per rung (the plan's) */
    const int64_t *tags;             /* the range's, from the pool */
    /* A stream (stream.h): per task of the range, its file (in the pool's
     * payload), whether it could be taken in (0) or not, and its start
     * and finish times (s since 1970). NULL without a stream. */
    const char **spaths;
    uint8_t *sflags;
    double *sstart, *sfinish;
    int line_params;           /* 1: each item is a parameter row (nscan names) */
} shoal__runner;

/* A stream whose lines are parameter rows: cols[0..n) (the /params
 * columns) get their values from each task's line. Call after init.
 * Returns 0 or SHOAL_ENOMEM. */
int shoal__runner_line_params(shoal__runner *r, const shoal_store_column *cols, size_t n);

/* Allocate buffers for ranges of up to max_rows tasks and call the app's
 * worker_init. On failure everything taken is released. */
int shoal__runner_init(shoal__runner *r, const shoal_app *app,
                       shoal_store *store, int rank, uint64_t seed,
                       const gsl_rng_type *rng_type,
                       const shoal__param_value *params, size_t nparams,
                       shoal_scan *scan, int retries, uint64_t max_rows);
/* Call worker_finalize and release everything; safe on a zeroed runner. */
void shoal__runner_free(shoal__runner *r);
/* shoal_range_fn: run tasks [start, start+count), write their rows. */
int shoal__runner_range(void *arg, shoal_pool *pool, uint64_t start,
                        uint64_t count);

/* Run task `index` into row 0 of the buffers and discard it (--dry-run's
 * time estimate): nothing is written. Returns the task's wall time. */
double shoal__runner_sample(shoal__runner *r, uint64_t index);

/* Evaluate derived quantity d for the scan point of task `task` from the
 * means given (reduce.c): the task view sees that task's parameters.
 * *out is NaN when d fails (its code is returned). */
int shoal__runner_derive(shoal__runner *r, uint64_t task, const shoal_derived *d,
                         const double *mean, double *out);

/* Bytes of one task's row over all output fields. */
uint64_t shoal__row_bytes(const shoal_app *app);

#endif
