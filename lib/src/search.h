/* SPDX-License-Identifier: GPL-3.0-or-later */
/* search.h (internal): tasks generated from results — successive halving
 * over the configurations of a [scan].
 *
 *   [scan]                        the configurations: a grid, or
 *   lr = loguniform(0.01, 0.5)    [sampling] design = random | sobol | lhs
 *   ...                           with samples = N
 *   [search]
 *   method = halving              or async_halving
 *   budget = epochs               an int64 or float64 parameter of the app
 *   min_budget = 3
 *   max_budget = 81
 *   eta = 3                       keep the best 1 / eta of each rung
 *   objective = cv_acc            a watched output field
 *   goal = max                    or min
 *
 * Rungs k = 0..R run budgets min_budget * eta^k (the last one max_budget);
 * rung 0 runs every configuration, rung k the best floor(n / eta^k) of rung
 * k-1 (at least 1). The task count is known up front, sum of the rungs;
 * which configuration a task of rung k >= 1 runs is decided from results.
 *
 * halving (synchronous): rung k's tasks go out once rung k-1 is complete,
 * and rung k's configurations are the best of rung k-1 by the objective
 * (failed or NaN last, ties to the lower configuration): a function of
 * the results alone, so the same at any rank count and after --resume.
 * Task i of rung k is slot i - offset(k) of that ranking.
 *
 * async_halving: no rung waits for the one before; whenever a task is
 * handed out it takes the best configuration of some rung k that is among
 * the best 1 / eta of rung k's finished results and not yet promoted (the
 * highest such rung first), else a new configuration at rung 0. Every rank
 * stays busy; the configurations promoted depend on the order results
 * arrive in, so it is not the same at another rank count. Each decision is
 * written to /search when it is made, so --resume goes on from them.
 *
 * Rank 0 keeps the state; /search in the result file shows it:
 *   /search/point, /search/rung, /search/budget [ntasks]   each task's
 *       configuration (the scan point whose parameters it ran), rung and
 *       budget (-1 until decided)
 *   /search/rung_{budget,size,done,best,best_point} [R + 1]  rewritten as
 *       rungs are decided (async: as results come), so they show the best
 *       so far
 *   attributes: method, eta, objective, goal, budget_param, and at the end
 *   best_point, best_value, best_task (store_search.c). */
#ifndef SHOAL_SEARCH_H
#define SHOAL_SEARCH_H

#include <shoal/app.h>
#include <shoal/config.h>
#include <shoal/scan.h>

#include "store.h"

#include <stdint.h>

#define SHOAL__SEARCH_MAX_RUNGS 32

typedef enum { SHOAL__SEARCH_HALVING, SHOAL__SEARCH_ASYNC } shoal__search_method;

/* What every rank knows from the config. */
typedef struct {
    int on;                       /* a [search] section */
    shoal__search_method method;
    const char *method_name, *budget_name, *objective_name;
    size_t budget_param;          /* index in app->params */
    shoal_type budget_type;
    double min_budget, max_budget;
    int eta;
    size_t objective;             /* index among the watched fields */
    size_t objective_field;       /* index in app->outputs */
    int maximize;
    uint64_t nconfigs;            /* the scan's points */
    int nrungs;
    uint64_t size[SHOAL__SEARCH_MAX_RUNGS];
    uint64_t off[SHOAL__SEARCH_MAX_RUNGS + 1]; /* off[nrungs] = the task count */
    double budget[SHOAL__SEARCH_MAX_RUNGS];
} shoal__search_plan;

/* Read [search] (every rank the same verdict): reports mistakes with the
 * file and line (exit 2). scan must be the run's, with one replicate. No
 * [search] section: sp->on = 0. */
int shoal__search_read(shoal_config *cfg, const shoal_app *app, const shoal_scan *scan,
                       shoal__search_plan *sp);

/* Mark [search]'s keys as read without checking them: when the [scan] is
 * wrong, its error is the one to show, not "unknown key" for each. */
void shoal__search_touch(shoal_config *cfg);

/* The fingerprint lines of the plan ("search.method = halving\n..."),
 * appended by the caller. */
void shoal__search_describe(const shoal__search_plan *sp, char *buf, size_t n);

/* Rank 0's state. */
typedef struct {
    const shoal__search_plan *plan;
    const shoal_app *app;
    unsigned width;               /* doubles per task in the values */
    shoal_store *store;           /* where decisions are written (NULL: not) */
    uint64_t ntasks;
    double *obj;                  /* per task: the objective, NaN if failed */
    uint8_t *fin;                 /* per task: 1 once finished */
    int64_t *point;               /* per task: its configuration, -1 undecided */
    int8_t *rung;                 /* per task: its rung, -1 undecided */
    uint64_t done[SHOAL__SEARCH_MAX_RUNGS];    /* finished tasks per rung */
    uint64_t decided_n[SHOAL__SEARCH_MAX_RUNGS]; /* tasks decided per rung */
    uint8_t *promoted;            /* async: per (configuration, rung) */
    void *ranking[SHOAL__SEARCH_MAX_RUNGS]; /* async: each rung's finished
                                               tasks, best first, kept until
                                               a result of the rung arrives */
    uint64_t nranked[SHOAL__SEARCH_MAX_RUNGS];
    uint8_t stale[SHOAL__SEARCH_MAX_RUNGS];
    int decided;                  /* halving: rungs 0..decided-1 decided */
    uint64_t handed;              /* async: tasks decided so far, in order */
    uint64_t next_new;            /* async: next configuration for rung 0 */
    int err;                      /* a write of /search failed (reported) */
} shoal__search;

int shoal__search_init(shoal__search *s, const shoal__search_plan *plan, const shoal_app *app,
                       unsigned width, shoal_store *store);
void shoal__search_free(shoal__search *s);

/* Rank 0, the pool's hooks (pool.h): finished tasks' values, how far tasks
 * may go out, and each handed-out task's tag (configuration * nrungs +
 * rung). */
int shoal__search_feed(shoal__search *s, uint64_t start, uint64_t count, const double *values);
uint64_t shoal__search_available(void *s);
void shoal__search_tag(void *s, uint64_t start, uint64_t count, int64_t *tags);

/* Rank 0, independent, on --resume: the decisions and results the file
 * holds (async: the decisions in /search, read back). */
int shoal__search_resume(shoal__search *s, shoal_store *st);
/* Rank 0, independent, at the end: the results the file holds that did
 * not travel (each worker's last range). */
int shoal__search_catch_up(shoal__search *s, shoal_store *st);

/* Rank 0, at the end: the per-rung table as it ends. */
int shoal__search_finish(shoal__search *s);

/* Rank 0, at the end: the best configuration of the highest rung that has
 * results (its task, value). Returns -1 when none has. */
int64_t shoal__search_best(const shoal__search *s, uint64_t *task, double *value);

#endif
