/* SPDX-License-Identifier: GPL-3.0-or-later */
/* search.c: successive halving over a scan's configurations (search.h). */
#include <shoal/error.h>
#include <shoal/log.h>

#include "adapt.h"
#include "mpiutil.h"
#include "search.h"
#include "store_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the plan, from [search] ------------------------------------------------------ */

static const char *where_or(shoal_config *cfg, const char *key)
{
    const char *w = shoal_config_where(cfg, "search", key);
    return w ? w : shoal_config_source(cfg);
}

static int read_names(shoal_config *cfg, const shoal_app *app, shoal__search_plan *sp)
{
    int rc = shoal_config_get_string(cfg, "search", "method", 0, "halving", &sp->method_name);
    if (rc == 0 && !strcmp(sp->method_name, "halving"))
        sp->method = SHOAL__SEARCH_HALVING;
    else if (rc == 0 && !strcmp(sp->method_name, "async_halving"))
        sp->method = SHOAL__SEARCH_ASYNC;
    else if (rc == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] method = '%s' is not known; use "
                           "halving (synchronous rungs, the same at any rank count) or "
                           "async_halving (every rank busy, not rank-count reproducible)",
                           where_or(cfg, "method"), sp->method_name);
    if (rc == 0)
        rc = shoal_config_get_string(cfg, "search", "budget", 1, NULL, &sp->budget_name);
    if (rc < 0)
        return rc;
    size_t i = 0;
    while (i < app->nparams && strcmp(app->params[i].name, sp->budget_name))
        i++;
    if (i == app->nparams || app->params[i].type == SHOAL_STRING)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] budget = '%s' is not a numeric "
                           "parameter of %s; name the parameter that sets a task's effort "
                           "(epochs, samples, ...)", where_or(cfg, "budget"), sp->budget_name,
                           app->name);
    if (shoal_config_has(cfg, "scan", sp->budget_name))
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] budget = '%s' is also in [scan]; the "
                           "search sets it per rung: remove it from [scan]",
                           where_or(cfg, "budget"), sp->budget_name);
    sp->budget_param = i;
    sp->budget_type = app->params[i].type;
    rc = shoal_config_get_string(cfg, "search", "objective", 1, NULL, &sp->objective_name);
    if (rc < 0)
        return rc;
    size_t w = 0, k = 0;
    while (k < app->noutputs && strcmp(app->outputs[k].name, sp->objective_name)) {
        w += app->outputs[k].watch != 0;
        k++;
    }
    if (k == app->noutputs || !app->outputs[k].watch)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] objective = '%s' is not a watched "
                           "output field of %s; the search ranks configurations by a "
                           "watched field", where_or(cfg, "objective"), sp->objective_name,
                           app->name);
    sp->objective = w;
    sp->objective_field = k;
    const char *goal;
    rc = shoal_config_get_string(cfg, "search", "goal", 0, "max", &goal);
    if (rc == 0 && strcmp(goal, "max") && strcmp(goal, "min"))
        rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] goal = '%s': use max or min",
                         where_or(cfg, "goal"), goal);
    sp->maximize = rc == 0 && !strcmp(goal, "max");
    return rc;
}

/* Rungs from the budgets and eta. */
static int lay_out(shoal_config *cfg, shoal__search_plan *sp)
{
    double b = sp->min_budget;
    int n = 0;
    while (n < SHOAL__SEARCH_MAX_RUNGS) {
        double v = b < sp->max_budget ? b : sp->max_budget;
        if (sp->budget_type == SHOAL_INT64)
            v = floor(v + 0.5);
        sp->budget[n++] = v;
        if (b >= sp->max_budget * (1 - 1e-12))
            break;
        b *= sp->eta;
    }
    if (n == SHOAL__SEARCH_MAX_RUNGS && b < sp->max_budget)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] more than %d rungs from min_budget to "
                           "max_budget; raise eta or min_budget", where_or(cfg, "eta"),
                           SHOAL__SEARCH_MAX_RUNGS);
    sp->nrungs = n;
    sp->off[0] = 0;
    uint64_t keep = sp->nconfigs;
    for (int k = 0; k < n; k++) {
        sp->size[k] = keep > 0 ? keep : 1;
        sp->off[k + 1] = sp->off[k] + sp->size[k];
        keep /= (uint64_t)sp->eta;
    }
    return 0;
}

int shoal__search_read(shoal_config *cfg, const shoal_app *app, const shoal_scan *scan,
                       shoal__search_plan *sp)
{
    memset(sp, 0, sizeof *sp);
    if (!shoal_config_has_section(cfg, "search"))
        return 0;
    sp->on = 1;
    /* Where [search] is, for messages (a walk of the section would take
     * its keys as known: name one). */
    static const char *const keys[] = {"method", "budget", "objective", "min_budget",
                                       "max_budget", "eta", "goal"};
    const char *where = NULL;
    for (size_t i = 0; !where && i < sizeof keys / sizeof *keys; i++)
        where = shoal_config_where(cfg, "search", keys[i]);
    if (!where)
        where = shoal_config_source(cfg);
    if (!scan)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] needs a [scan] section: its points "
                           "are the configurations the search starts from (a grid, or "
                           "[sampling] design = random or sobol with samples = N)", where);
    if (shoal_scan_replicates(scan) != 1)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] with %llu replicates per point: a "
                           "search runs each configuration once per rung; remove "
                           "[sampling] replicates", where,
                           (unsigned long long)shoal_scan_replicates(scan));
    sp->nconfigs = shoal_scan_points(scan);
    int rc = read_names(cfg, app, sp);
    uint64_t eta = 3;
    if (rc == 0)
        rc = shoal_config_get_u64(cfg, "search", "eta", 0, 3, 2, 1000, &eta);
    sp->eta = (int)eta;
    if (rc == 0)
        rc = shoal_config_get_double(cfg, "search", "min_budget", 1, 0, 1e-300, 1e300,
                                     &sp->min_budget);
    if (rc == 0)
        rc = shoal_config_get_double(cfg, "search", "max_budget", 1, 0, 1e-300, 1e300,
                                     &sp->max_budget);
    if (rc == 0 && sp->max_budget < sp->min_budget)
        rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] max_budget = %g is below min_budget = "
                         "%g", where_or(cfg, "max_budget"), sp->max_budget, sp->min_budget);
    const shoal_param *bp = rc == 0 ? &app->params[sp->budget_param] : NULL;
    if (rc == 0 && bp->min < bp->max &&
        (sp->min_budget < bp->min || sp->max_budget > bp->max))
        rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [search] budgets %g..%g are outside %s's range "
                         "%g..%g", where, sp->min_budget, sp->max_budget, bp->name, bp->min,
                         bp->max);
    if (rc == 0)
        rc = lay_out(cfg, sp);
    return rc;
}

void shoal__search_touch(shoal_config *cfg)
{
    static const char *const keys[] = {"method", "budget", "objective", "min_budget",
                                       "max_budget", "eta", "goal"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v;
        if (shoal_config_has(cfg, "search", keys[i]))
            shoal_config_get_string(cfg, "search", keys[i], 0, NULL, &v);
    }
}

void shoal__search_describe(const shoal__search_plan *sp, char *buf, size_t n)
{
    snprintf(buf, n,
             "search.method = %s\nsearch.budget = %s %.17g..%.17g eta %d\n"
             "search.objective = %s %s\n",
             sp->method_name, sp->budget_name, sp->min_budget, sp->max_budget, sp->eta,
             sp->objective_name, sp->maximize ? "max" : "min");
}

/* ---- rank 0's state ----------------------------------------------------------------- */

static int better(const shoal__search *s, double a, int64_t pa, double b, int64_t pb);

static int rung_of(const shoal__search *s, uint64_t task)
{
    const shoal__search_plan *p = s->plan;
    if (p->method == SHOAL__SEARCH_ASYNC)
        return s->rung[task];
    int k = 0;
    while (k + 1 < p->nrungs && task >= p->off[k + 1])
        k++;
    return k;
}

/* Write task rows [start, start + n) of /search/{point,rung,budget}. */
static void write_decisions(shoal__search *s, uint64_t start, uint64_t n)
{
    if (!s->store || s->err || n == 0)
        return;
    int64_t *rung = malloc(n * sizeof *rung), *budget = malloc(n * sizeof *budget);
    double *fbudget = malloc(n * sizeof *fbudget);
    int rc = rung && budget && fbudget ? 0 : SHOAL_ENOMEM;
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        int k = s->rung[start + i];
        rung[i] = k;
        fbudget[i] = k >= 0 ? s->plan->budget[k] : NAN;
        budget[i] = k >= 0 ? (int64_t)s->plan->budget[k] : -1;
    }
    if (rc == 0)
        rc = shoal__store_search_write(s->store, start, n, s->point + start, rung,
                                       s->plan->budget_type == SHOAL_INT64 ? (void *)budget
                                                                           : (void *)fbudget);
    if (rc < 0) {
        SHOAL_ERROR(rc, "cannot write the search's decisions for tasks %llu..%llu to /search",
                    (unsigned long long)start, (unsigned long long)(start + n));
        s->err = rc;
    }
    free(rung);
    free(budget);
    free(fbudget);
}

/* The per-rung table as it stands (budget, planned and finished tasks,
 * best objective and who reached it), so the file shows how the search is
 * going while it runs. */
static void write_rungs(shoal__search *s)
{
    const shoal__search_plan *p = s->plan;
    if (!s->store || s->err)
        return;
    int64_t size[SHOAL__SEARCH_MAX_RUNGS], done[SHOAL__SEARCH_MAX_RUNGS],
        bp[SHOAL__SEARCH_MAX_RUNGS];
    double bv[SHOAL__SEARCH_MAX_RUNGS];
    for (int k = 0; k < p->nrungs; k++) {
        size[k] = (int64_t)p->size[k];
        done[k] = (int64_t)s->done[k];
        bp[k] = -1;
        bv[k] = NAN;
    }
    for (uint64_t t = 0; t < s->ntasks; t++) {
        int k = s->rung[t];
        if (k >= 0 && s->fin[t] && !isnan(s->obj[t]) &&
            (bp[k] < 0 || better(s, s->obj[t], s->point[t], bv[k], bp[k]))) {
            bv[k] = s->obj[t];
            bp[k] = s->point[t];
        }
    }
    int rc = shoal__store_search_rungs(s->store, p->budget, size, done, bv, bp);
    if (rc < 0) {
        SHOAL_ERROR(rc, "cannot write the search's rungs to /search");
        s->err = rc;
    }
}

int shoal__search_init(shoal__search *s, const shoal__search_plan *plan, const shoal_app *app,
                       unsigned width, shoal_store *store)
{
    memset(s, 0, sizeof *s);
    s->plan = plan;
    s->app = app;
    s->width = width;
    s->store = store;
    s->ntasks = plan->off[plan->nrungs];
    uint64_t n = s->ntasks;
    s->obj = malloc(n * sizeof *s->obj);
    s->fin = calloc(n, 1);
    s->point = malloc(n * sizeof *s->point);
    s->rung = malloc(n);
    s->promoted = calloc(plan->nconfigs * (uint64_t)plan->nrungs, 1);
    if (!s->obj || !s->fin || !s->point || !s->rung || !s->promoted) {
        shoal__search_free(s);
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for a search of %llu tasks",
                           (unsigned long long)n);
    }
    for (uint64_t i = 0; i < n; i++) {
        s->obj[i] = NAN;
        s->point[i] = -1;
        s->rung[i] = -1;
    }
    if (plan->method == SHOAL__SEARCH_HALVING) {
        /* Rung 0 runs every configuration, in order. */
        for (uint64_t j = 0; j < plan->size[0]; j++) {
            s->point[j] = (int64_t)j;
            s->rung[j] = 0;
        }
        s->decided = 1;
        s->decided_n[0] = plan->size[0];
        write_decisions(s, 0, plan->size[0]);
    }
    return s->err;
}

void shoal__search_free(shoal__search *s)
{
    for (int k = 0; k < SHOAL__SEARCH_MAX_RUNGS; k++)
        free(s->ranking[k]);
    free(s->obj);
    free(s->fin);
    free(s->point);
    free(s->rung);
    free(s->promoted);
    memset(s, 0, sizeof *s);
}

/* a ranks before b: the better objective (NaN last), then the lower
 * configuration. */
static int better(const shoal__search *s, double a, int64_t pa, double b, int64_t pb)
{
    if (isnan(a) != isnan(b))
        return !isnan(a);
    if (!isnan(a) && a != b)
        return s->plan->maximize ? a > b : a < b;
    return pa < pb;
}

typedef struct {
    double v;
    int64_t p;
} cand;

static const shoal__search *sort_ctx;

static int cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (better(sort_ctx, a->v, a->p, b->v, b->p))
        return -1;
    return better(sort_ctx, b->v, b->p, a->v, a->p) ? 1 : 0;
}

/* The finished tasks of rung k, best first; *n gets their count. */
static cand *ranked(const shoal__search *s, int k, uint64_t *n)
{
    cand *c = malloc((s->plan->nconfigs + 1) * sizeof *c);
    *n = 0;
    if (!c)
        return NULL;
    for (uint64_t i = 0; i < s->ntasks; i++)
        if (s->fin[i] && s->rung[i] == k)
            c[(*n)++] = (cand){s->obj[i], s->point[i]};
    sort_ctx = s;
    qsort(c, *n, sizeof *c, cand_cmp);
    return c;
}

/* halving: rung k's configurations, the best of the complete rung k-1. */
static int promote(shoal__search *s, int k)
{
    const shoal__search_plan *p = s->plan;
    uint64_t n;
    if (shoal__inject("search_promote", 0))
        return SHOAL_ERROR(SHOAL_EINTERNAL, "%s: the search could not decide rung %d "
                           "(injected failure); the file is valid: --resume goes on",
                           s->app->name, k);
    cand *c = ranked(s, k - 1, &n);
    if (!c)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory ranking rung %d", k - 1);
    for (uint64_t j = 0; j < p->size[k]; j++) {
        uint64_t t = p->off[k] + j;
        s->point[t] = c[j < n ? j : n - 1].p;
        s->rung[t] = (int8_t)k;
    }
    free(c);
    s->decided_n[k] = p->size[k];
    write_decisions(s, p->off[k], p->size[k]);
    shoal_log_verbose("%s: search rung %d (%s = %g): %llu configurations from rung %d",
                      s->app->name, k, p->budget_name, p->budget[k],
                      (unsigned long long)p->size[k], k - 1);
    return 0;
}

int shoal__search_feed(shoal__search *s, uint64_t start, uint64_t count, const double *values)
{
    const shoal__search_plan *p = s->plan;
    for (uint64_t k = 0; k < count; k++) {
        uint64_t t = start + k;
        if (t >= s->ntasks || s->fin[t] || s->rung[t] < 0)
            continue;
        const double *v = values + k * s->width;
        s->fin[t] = 1;
        s->obj[t] = (int)v[0] == SHOAL_STATUS_DONE ? v[1 + p->objective] : NAN;
        s->done[s->rung[t]]++;
        s->stale[s->rung[t]] = 1;
    }
    int before = s->decided;
    if (p->method == SHOAL__SEARCH_HALVING)
        while (s->decided < p->nrungs && s->done[s->decided - 1] == p->size[s->decided - 1]) {
            int rc = promote(s, s->decided);
            if (rc < 0)
                return rc;
            s->decided++;
        }
    /* The table after a rung is decided (halving), or after every batch
     * of results (async, whose rungs fill all the time). */
    if (s->decided != before || p->method == SHOAL__SEARCH_ASYNC)
        write_rungs(s);
    return s->err;
}

/* async: the configuration to promote into rung k (k >= 1) now, or -1:
 * the best not yet promoted among the best floor(done / eta) of rung k-1. */
static int64_t promotable(shoal__search *s, int k)
{
    const shoal__search_plan *p = s->plan;
    if (s->decided_n[k] >= p->size[k])
        return -1;
    /* The ranking of rung k-1, kept until a result of it arrives: handing
     * out asks here once per rung and task, results come less often. */
    if (!s->ranking[k - 1] || s->stale[k - 1]) {
        free(s->ranking[k - 1]);
        s->ranking[k - 1] = ranked(s, k - 1, &s->nranked[k - 1]);
        s->stale[k - 1] = 0;
    }
    const cand *c = s->ranking[k - 1];
    uint64_t n = c ? s->nranked[k - 1] : 0;
    int64_t pick = -1;
    for (uint64_t j = 0; j < n / (uint64_t)p->eta && pick < 0; j++)
        if (!s->promoted[(uint64_t)c[j].p * (uint64_t)p->nrungs + (uint64_t)k])
            pick = c[j].p;
    return pick;
}

/* async: decide task `t` (the next in order): a promotion, else a new
 * configuration; 0 when nothing can be decided now. */
static int decide_async(shoal__search *s, uint64_t t)
{
    const shoal__search_plan *p = s->plan;
    for (int k = p->nrungs - 1; k >= 1; k--) {
        int64_t c = promotable(s, k);
        if (c >= 0) {
            s->promoted[(uint64_t)c * (uint64_t)p->nrungs + (uint64_t)k] = 1;
            s->point[t] = c;
            s->rung[t] = (int8_t)k;
            s->decided_n[k]++;
            return 1;
        }
    }
    if (s->next_new < p->size[0]) {
        s->point[t] = (int64_t)s->next_new++;
        s->rung[t] = 0;
        s->decided_n[0]++;
        return 1;
    }
    return 0;
}

uint64_t shoal__search_available(void *arg)
{
    shoal__search *s = arg;
    const shoal__search_plan *p = s->plan;
    if (p->method == SHOAL__SEARCH_HALVING)
        return p->off[s->decided];
    /* async: decide as many tasks as can be decided now, in index order
     * (a resumed file's decisions stay as they were). */
    uint64_t from = s->handed;
    while (s->handed < s->ntasks &&
           (s->point[s->handed] >= 0 || decide_async(s, s->handed)))
        s->handed++;
    write_decisions(s, from, s->handed - from);
    return s->handed;
}

void shoal__search_tag(void *arg, uint64_t start, uint64_t count, int64_t *tags)
{
    shoal__search *s = arg;
    for (uint64_t k = 0; k < count; k++) {
        uint64_t t = start + k;
        tags[k] = s->point[t] * s->plan->nrungs + rung_of(s, t);
    }
}

int shoal__search_finish(shoal__search *s)
{
    write_rungs(s);
    return s->err;
}

int64_t shoal__search_best(const shoal__search *s, uint64_t *task, double *value)
{
    for (int k = s->plan->nrungs - 1; k >= 0; k--) {
        int64_t best = -1;
        for (uint64_t t = 0; t < s->ntasks; t++)
            if (s->fin[t] && s->rung[t] == k && !isnan(s->obj[t]) &&
                (best < 0 || better(s, s->obj[t], s->point[t], *value, best))) {
                best = s->point[t];
                *value = s->obj[t];
                *task = t;
            }
        if (best >= 0)
            return best;
    }
    return -1;
}

/* ---- --resume ------------------------------------------------------------------------ */

/* Feed the tasks the file has finished that the state has not, rung by
 * rung, so halving decides each rung from the complete one before. */
int shoal__search_catch_up(shoal__search *s, shoal_store *st)
{
    const shoal__search_plan *p = s->plan;
    uint64_t n = s->ntasks;
    uint8_t *status = malloc(n);
    double *raw = malloc(n * sizeof *raw);
    double v[2 + 64];
    int rc = status && raw ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory");
    if (rc == 0)
        rc = shoal__store_read_block(&st->col[COL_STATUS], 0, 1, n, st->dxpl, status);
    if (rc == 0)
        rc = shoal__store_read_block(&st->field[p->objective_field], 0, 1, n, st->dxpl, raw);
    if (rc < 0 && rc != SHOAL_ENOMEM)
        rc = SHOAL_ERROR(rc, "cannot read the search's results from the file");
    int is_int = st->fields[p->objective_field].type == SHOAL_INT64;
    for (int k = 0; rc == 0 && k < p->nrungs; k++)
        for (uint64_t t = 0; rc == 0 && t < n; t++) {
            if (s->fin[t] || s->rung[t] != k ||
                (status[t] != SHOAL_STATUS_DONE && status[t] != SHOAL_STATUS_FAILED))
                continue;
            double x = raw[t];
            if (is_int) {
                int64_t i64;
                memcpy(&i64, &raw[t], sizeof i64);
                x = (double)i64;
            }
            for (unsigned j = 0; j < s->width && j < sizeof v / sizeof v[0]; j++)
                v[j] = NAN;
            v[0] = status[t];
            v[1 + p->objective] = x;
            rc = shoal__search_feed(s, t, 1, v);
        }
    free(status);
    free(raw);
    return rc;
}

int shoal__search_resume(shoal__search *s, shoal_store *st)
{
    const shoal__search_plan *p = s->plan;
    uint64_t n = s->ntasks;
    int rc = 0;
    if (p->method == SHOAL__SEARCH_ASYNC) {
        /* The decisions made before: each task's configuration and rung. */
        int64_t *rung = malloc(n * sizeof *rung);
        rc = rung ? shoal__store_search_read(st, s->point, rung)
                  : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory");
        if (rc < 0 && rc != SHOAL_ENOMEM)
            rc = SHOAL_ERROR(rc, "cannot read the search's decisions from the file");
        for (uint64_t t = 0; rc == 0 && t < n; t++) {
            s->rung[t] = (int8_t)(s->point[t] >= 0 ? rung[t] : -1);
            if (s->point[t] < 0)
                continue;
            s->decided_n[s->rung[t]]++;
            s->promoted[(uint64_t)s->point[t] * (uint64_t)p->nrungs + (uint64_t)rung[t]] = 1;
            if (rung[t] == 0 && (uint64_t)s->point[t] + 1 > s->next_new)
                s->next_new = (uint64_t)s->point[t] + 1;
        }
        free(rung);
    }
    return rc == 0 ? shoal__search_catch_up(s, st) : rc;
}
