/* SPDX-License-Identifier: GPL-3.0-or-later */
/* steer.c: results that steer the run, wired into shoal_main (steer.h). */
#include <shoal/error.h>
#include <shoal/log.h>

#include "mpiutil.h"
#include "steer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void shoal__steer_init(shoal__steer *st, const shoal_app *app, const shoal__settings *rs,
                       int rank)
{
    memset(st, 0, sizeof *st);
    st->app = app;
    st->rs = rs;
    st->rank = rank;
}

void shoal__steer_free(shoal__steer *st)
{
    shoal__adapt_free(&st->adapt);
    shoal__search_free(&st->search);
}

int shoal__steer_adapting(const shoal__steer *st)
{
    return shoal__watched(st->app, NULL) > 0 && (st->rs->has_stop || st->app->watch);
}

int shoal__steer_watching(const shoal__steer *st)
{
    return shoal__steer_adapting(st) || st->rs->search.on;
}

static unsigned values_width(const shoal__steer *st)
{
    return shoal__steer_watching(st) ? (unsigned)(1 + shoal__watched(st->app, NULL)) : 0;
}

/* pool.h on_values, rank 0: the search's decisions and adapt.h's. */
static int on_values(void *arg, uint64_t start, uint64_t count, const double *values)
{
    shoal__steer *st = arg;
    int rc = 0;
    if (st->rs->search.on)
        rc = shoal__search_feed(&st->search, start, count, values);
    if (rc == 0 && shoal__steer_adapting(st))
        rc = shoal__adapt_feed(&st->adapt, start, count, values);
    return rc;
}

/* Rank 0, adapting: set up the decision; a resumed file's finished tasks
 * are folded first, and when they already decide, nothing is left to run. */
static int adapt_start(shoal__steer *st, shoal_store *store, int resume, shoal__plan *plan)
{
    const shoal__settings *rs = st->rs;
    int rc = shoal__adapt_init(&st->adapt, st->app, rs->has_stop ? &rs->stop : NULL, rs->tasks,
                               rs->check_every);
    st->adapt.can_stop = !rs->has_scan && !rs->input;
    if (rc == 0 && resume) {
        rc = shoal__adapt_catch_up(&st->adapt, store);
        /* Tasks the file finished beyond the prefix: read when reached. */
        st->adapt.store = store;
        st->adapt.todo = (const uint64_t(*)[2])plan->todo;
        st->adapt.ntodo = plan->ntodo;
    }
    if (rc == 0 && st->adapt.decided && resume) {
        shoal_log_info("%s: the file's results already end the run: %s", st->app->name,
                       st->adapt.reason);
        plan->ntodo = 0;
        plan->todo_tasks = 0;
    }
    return rc;
}

int shoal__steer_start(shoal__steer *st, shoal_store *store, int resume, shoal__plan *plan)
{
    int rc = shoal__steer_adapting(st) ? adapt_start(st, store, resume, plan) : 0;
    /* A search's state, and on --resume what the file had decided and
     * finished. */
    if (rc == 0 && st->rs->search.on)
        rc = shoal__search_init(&st->search, &st->rs->search, st->app, values_width(st), store);
    if (rc == 0 && st->rs->search.on && resume)
        rc = shoal__search_resume(&st->search, store);
    return rc;
}

void shoal__steer_pool(shoal__steer *st, shoal_pool_config *pc, shoal__runner *runner)
{
    const shoal__search_plan *sp = &st->rs->search;
    if (!shoal__steer_watching(st))
        return;
    /* No probes: they run tasks far beyond the prefix the decision waits
     * for, and a search decides its tasks as it goes. */
    pc->probes = 0;
    /* Watched values ride on the requests; rank 0 decides. */
    pc->values_width = values_width(st);
    pc->on_values = st->rank == 0 ? on_values : NULL;
    pc->values_ctx = st;
    if (sp->on) {
        /* How far tasks may go out, and each task's configuration and
         * rung as its tag. */
        pc->available = shoal__search_available;
        pc->tag = shoal__search_tag;
        pc->plan_ctx = &st->search;
        runner->search_nrungs = sp->nrungs;
        runner->budget_param = sp->budget_param;
        runner->budgets = sp->budget;
    }
}

void shoal__steer_pool_done(shoal__steer *st)
{
    st->adapt.store = NULL;
    st->adapt.todo = NULL;
    st->adapt.ntodo = 0;
}

int shoal__steer_decide(shoal__steer *st, MPI_Comm comm, shoal_store *store)
{
    int rc = 0;
    struct {
        uint64_t used, set;
        char reason[512];
    } d;
    memset(&d, 0, sizeof d);
    if (st->rank == 0) {
        rc = shoal__adapt_catch_up(&st->adapt, store);
        if (rc == 0 && !st->adapt.decided)
            rc = SHOAL_ERROR(SHOAL_EINTERNAL, "%s: the run ended, but only the first %llu of "
                             "%llu tasks are finished; run again with --resume",
                             st->app->name, (unsigned long long)st->adapt.prefix,
                             (unsigned long long)st->rs->tasks);
        if (rc == 0 && (st->rs->has_stop || st->adapt.met)) {
            d.set = 1;
            d.used = st->adapt.used;
            snprintf(d.reason, sizeof d.reason, "%s", st->adapt.reason);
        }
    }
    rc = shoal__agree(comm, rc);
    if (rc < 0)
        return rc;
    MPI_Bcast(&d, (int)sizeof d, MPI_BYTE, 0, comm);
    if (!d.set)
        return 0;
    shoal_store_set_stop(store, d.used, d.reason);
    st->stop_set = 1;
    st->stop_used = d.used;
    memcpy(st->stop_reason, d.reason, sizeof st->stop_reason);
    return 1;
}

/* Rank 0: the search's winner, for the summary: "best cv_acc = 0.98 at
 * configuration 10 (lr = 0.1, ...), epochs = 81, task 39". */
static void describe_best(shoal__steer *st, int64_t point, uint64_t task, double value)
{
    const shoal__search_plan *p = &st->rs->search;
    shoal_scan *scan = st->rs->scan;
    char *line = st->search_line;
    size_t nd = shoal_scan_ndims(scan), len = 0, n = sizeof st->search_line;
    shoal_scan_value *v = calloc(nd + 1, sizeof *v);
    uint64_t pt, rep;
    len += (size_t)snprintf(line, n, "search: best %s = %.6g at configuration %lld (",
                            p->objective_name, value, (long long)point);
    if (v && shoal_scan_task(scan, (uint64_t)point, &pt, &rep, v) == 0)
        for (size_t d = 0; d < nd && len < n; d++) {
            shoal_type t = shoal_scan_type(scan, d);
            const char *name = shoal_scan_name(scan, d), *sep = d ? ", " : "";
            if (t == SHOAL_INT64)
                len += (size_t)snprintf(line + len, n - len, "%s%s = %lld", sep, name,
                                        (long long)v[d].l);
            else if (t == SHOAL_FLOAT64)
                len += (size_t)snprintf(line + len, n - len, "%s%s = %.6g", sep, name, v[d].d);
            else
                len += (size_t)snprintf(line + len, n - len, "%s%s = %s", sep, name, v[d].s);
        }
    int rung = st->search.rung[task] >= 0 ? st->search.rung[task] : 0;
    if (len < n)
        snprintf(line + len, n - len, "), %s = %g, task %llu", p->budget_name, p->budget[rung],
                 (unsigned long long)task);
    free(v);
}

int shoal__steer_search_end(shoal__steer *st, MPI_Comm comm, shoal_store *store)
{
    struct {
        int64_t point, task;
        double value;
    } best = {-1, -1, NAN};
    int rc = 0;
    if (st->rank == 0) {
        shoal__search *s = &st->search;
        rc = shoal__search_catch_up(s, store);
        uint64_t task = 0;
        double value = NAN;
        int64_t point = rc == 0 ? shoal__search_best(s, &task, &value) : -1;
        best.point = point;
        best.task = point >= 0 ? (int64_t)task : -1;
        best.value = value;
        if (rc == 0)
            rc = shoal__search_finish(s);
        if (rc == 0 && point >= 0)
            describe_best(st, point, task, value);
    }
    rc = shoal__agree(comm, rc);
    MPI_Bcast(&best, (int)sizeof best, MPI_BYTE, 0, comm);
    if (rc == 0 && best.point >= 0)
        shoal_store_set_search_best(store, best.point, best.value, best.task);
    return rc;
}
