/* SPDX-License-Identifier: GPL-3.0-or-later */
/* adapt.h (internal): runs that end when their results say so.
 *
 *   [run]
 *   tasks = 100000                  the most tasks the run may take
 *   stop_when = sem(pi) < 1e-4      or: rsem(price) < 1e-3 and count(price) >= 1000
 *   check_every = 100               the block size of the decision
 *
 * A condition is stat(field) op number, with stat one of mean, std, sem
 * (standard error of the mean), rsem (sem / |mean|), count, min, max over
 * the done tasks' finite values of a watched output field, op one of < <=
 * > >=; conditions join with `and` (binding first) and `or`.
 *
 * Reproducibility is the promise. Rank 0 folds the watched values of the
 * tasks in task-index order, as the prefix of finished tasks 0..P-1 grows
 * (values arriving out of order wait in a list), and evaluates the
 * condition (and asks the app's watch hook) only when P reaches a multiple
 * of check_every or the maximum. The first block end where it holds is the
 * decision: the tasks used are 0..used-1, the same at any rank count,
 * schedule or resume, because the values and their order are. Tasks
 * beyond `used` that had already been handed out still run and stay in the
 * file, outside the used prefix (root attribute tasks_used).
 *
 * Values reach rank 0 with the workers' requests (pool.h: values_width)
 * while the run goes, so that the hand-out stops early; the ones that
 * never travel (a worker's last range, the tasks a resumed file had done)
 * are read from the file, which holds every finished row. */
#ifndef SHOAL_ADAPT_H
#define SHOAL_ADAPT_H

#include <shoal/app.h>

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define SHOAL__STOP_MAX_CONDS 8
#define SHOAL__CHECK_EVERY_DEFAULT 100

typedef enum {
    SHOAL__STAT_MEAN,
    SHOAL__STAT_STD,
    SHOAL__STAT_SEM,
    SHOAL__STAT_RSEM,
    SHOAL__STAT_COUNT,
    SHOAL__STAT_MIN,
    SHOAL__STAT_MAX
} shoal__stat;

typedef enum { SHOAL__OP_LT, SHOAL__OP_LE, SHOAL__OP_GT, SHOAL__OP_GE } shoal__op;

typedef struct {
    shoal__stat stat;
    size_t watched;   /* index among the app's watched fields */
    shoal__op op;
    double value;
    int or_before;    /* 1: `or` joins it to the conditions before */
} shoal__cond;

typedef struct {
    shoal__cond c[SHOAL__STOP_MAX_CONDS];
    size_t n;
} shoal__stop_expr;

/* Parse a stop_when text for app (where: "file:line" for messages).
 * Reports the first mistake with SHOAL_ERROR and returns SHOAL_ECONFIG. */
int shoal__stop_parse(const char *text, const char *where, const shoal_app *app,
                      shoal__stop_expr *e);

/* The number of watched output fields of app and, in out (room for
 * noutputs), their output indices in order. */
size_t shoal__watched(const shoal_app *app, size_t *out);

/* Running statistics of one watched field over the folded tasks. */
typedef struct {
    shoal_moments m;
    double min, max;
} shoal__wstat;

typedef struct {
    uint64_t start, count;
    double *v;
} shoal__chunk;

typedef struct {
    const shoal_app *app;
    size_t nw;                 /* watched fields */
    size_t *widx;              /* their output indices */
    int has_expr;
    shoal__stop_expr expr;
    uint64_t ntasks, block;
    uint64_t prefix;           /* tasks 0..prefix-1 folded */
    shoal__wstat *st;
    shoal__chunk *pend;        /* arrived beyond the prefix, sorted by start */
    size_t npend, cap;
    int can_stop;              /* 0 (a [scan] or [input]): the hook only watches */
    int hook_stop;             /* the hook asked to stop (at the block end) */
    uint64_t hook_task;        /* the task after which it asked */
    int hook_told;             /* !can_stop: the warning was given */
    /* A resumed run: the tasks it hands out (sorted {start, count}); the
     * others the file had finished, and they are folded from it when the
     * prefix reaches them. store NULL: every value comes through feed. */
    shoal_store *store;
    const uint64_t (*todo)[2];
    size_t ntodo;
    int decided;
    uint64_t used;             /* with decided: tasks 0..used-1 count */
    int met;                   /* 1: stopped by the condition or the hook;
                                  0: the maximum was reached */
    char reason[512];
} shoal__adapt;

/* Set up for a run of at most ntasks tasks decided every `block` tasks;
 * expr NULL: no condition (the app's watch hook alone). Returns 0 or
 * SHOAL_ENOMEM. */
int shoal__adapt_init(shoal__adapt *a, const shoal_app *app, const shoal__stop_expr *expr,
                      uint64_t ntasks, uint64_t block);
void shoal__adapt_free(shoal__adapt *a);

/* 1 when the run watches at all: watched fields and a condition or a hook. */
int shoal__adapt_active(const shoal__adapt *a);

/* Doubles per task in the values: the status, then each watched field. */
unsigned shoal__adapt_width(const shoal__adapt *a);

/* pool.h on_values: the values of tasks start..start+count-1. Returns 1
 * once decided, 0 to go on, a negative code when the hook failed or memory
 * ran out (reported). */
int shoal__adapt_feed(void *a, uint64_t start, uint64_t count, const double *values);

/* Rank 0, independent: fold what the file has finished from the prefix on,
 * up to the first task not finished (or the decision), with the waiting
 * values that then join the prefix. */
int shoal__adapt_catch_up(shoal__adapt *a, shoal_store *s);

/* The condition's statistics now, "sem(pi) = 9.7e-05, count(pi) = 1200". */
void shoal__adapt_describe(const shoal__adapt *a, char *buf, size_t n);

#endif
