/* SPDX-License-Identifier: GPL-3.0-or-later */
/* adapt.c: stop_when, parsed and decided on the prefix of finished tasks
 * (adapt.h). */
#include <shoal/error.h>
#include <shoal/log.h>

#include "adapt.h"
#include "store_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stat_names[] = {"mean", "std", "sem", "rsem", "count", "min", "max"};
static const char *const op_names[] = {"<", "<=", ">", ">="};
#define NSTATS (sizeof stat_names / sizeof stat_names[0])

#define EXAMPLE "e.g. stop_when = sem(pi) < 1e-4, or rsem(x) < 0.001 and count(x) >= 1000"

size_t shoal__watched(const shoal_app *app, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < app->noutputs; i++)
        if (app->outputs[i].watch) {
            if (out)
                out[n] = i;
            n++;
        }
    return n;
}

/* ---- parsing ------------------------------------------------------------------ */

static const char *skip(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The watched fields' names, "a, b" (or "none"), for messages. */
static void watched_list(const shoal_app *app, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < app->noutputs; i++)
        if (app->outputs[i].watch && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
                                    app->outputs[i].name);
    if (!buf[0])
        snprintf(buf, n, "none: this app watches no field");
}

/* One condition at *pp: stat(field) op number. */
static int parse_cond(const char **pp, const char *where, const shoal_app *app,
                      shoal__cond *c)
{
    const char *p = skip(*pp), *w = p;
    while (isalpha((unsigned char)*p))
        p++;
    size_t len = (size_t)(p - w);
    size_t s = 0;
    while (s < NSTATS && !(strlen(stat_names[s]) == len && !strncmp(w, stat_names[s], len)))
        s++;
    if (s == NSTATS || *skip(p) != '(')
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [run] stop_when: expected a statistic (mean, std, sem, rsem, "
                           "count, min, max) and '(' at '%.40s'; %s",
                           where, w, EXAMPLE);
    c->stat = (shoal__stat)s;
    p = skip(skip(p) + 1);
    const char *f = p;
    while (*p && *p != ')' && *p != ' ' && *p != '\t')
        p++;
    size_t flen = (size_t)(p - f);
    p = skip(p);
    if (*p != ')' || flen == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [run] stop_when: expected a field name and ')' after '%s(' "
                           "at '%.40s'; %s", where, stat_names[s], f, EXAMPLE);
    size_t k = 0, wi = 0;
    while (k < app->noutputs &&
           !(strlen(app->outputs[k].name) == flen && !strncmp(app->outputs[k].name, f, flen))) {
        wi += app->outputs[k].watch != 0;
        k++;
    }
    char list[400];
    watched_list(app, list, sizeof list);
    if (k == app->noutputs)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [run] stop_when: '%.*s' is not an output field of %s "
                           "(its watched fields: %s)", where, (int)flen, f, app->name, list);
    if (!app->outputs[k].watch)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [run] stop_when: output field '%.*s' is not watched, so its "
                           "values do not reach rank 0 while the run goes (watched fields "
                           "of %s: %s)", where, (int)flen, f, app->name, list);
    c->watched = wi;
    p = skip(p + 1);
    int op = p[0] == '<' ? (p[1] == '=' ? SHOAL__OP_LE : SHOAL__OP_LT)
             : p[0] == '>' ? (p[1] == '=' ? SHOAL__OP_GE : SHOAL__OP_GT)
                           : -1;
    if (op < 0)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [run] stop_when: expected <, <=, > or >= after '%s(%.*s)' "
                           "at '%.40s'; %s", where, stat_names[s], (int)flen, f, p, EXAMPLE);
    c->op = (shoal__op)op;
    p = skip(p + (op == SHOAL__OP_LE || op == SHOAL__OP_GE ? 2 : 1));
    char *end;
    c->value = strtod(p, &end);
    if (end == p || !isfinite(c->value) || (*end && *end != ' ' && *end != '\t'))
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [run] stop_when: expected a finite number after '%s' at "
                           "'%.40s'; %s", where, op_names[op], p, EXAMPLE);
    *pp = end;
    return 0;
}

int shoal__stop_parse(const char *text, const char *where, const shoal_app *app,
                      shoal__stop_expr *e)
{
    memset(e, 0, sizeof *e);
    const char *p = skip(text);
    if (!*p)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [run] stop_when is empty; %s", where, EXAMPLE);
    for (;;) {
        if (e->n == SHOAL__STOP_MAX_CONDS)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [run] stop_when: more than %d conditions",
                               where, SHOAL__STOP_MAX_CONDS);
        int rc = parse_cond(&p, where, app, &e->c[e->n]);
        if (rc < 0)
            return rc;
        e->n++;
        p = skip(p);
        if (!*p)
            return 0;
        int is_and = !strncmp(p, "and", 3) && (!p[3] || p[3] == ' ' || p[3] == '\t');
        int is_or = !strncmp(p, "or", 2) && (!p[2] || p[2] == ' ' || p[2] == '\t');
        if (!is_and && !is_or)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [run] stop_when: expected 'and', 'or' or the end at "
                               "'%.40s'; %s", where, p, EXAMPLE);
        if (e->n < SHOAL__STOP_MAX_CONDS)
            e->c[e->n].or_before = is_or;
        p += is_and ? 3 : 2;
        if (!*skip(p))
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [run] stop_when: a condition must follow "
                               "'%s'; %s", where, is_and ? "and" : "or", EXAMPLE);
    }
}

/* ---- deciding ------------------------------------------------------------------ */

int shoal__adapt_init(shoal__adapt *a, const shoal_app *app, const shoal__stop_expr *expr,
                      uint64_t ntasks, uint64_t block)
{
    memset(a, 0, sizeof *a);
    a->app = app;
    a->ntasks = ntasks;
    a->block = block ? block : SHOAL__CHECK_EVERY_DEFAULT;
    a->can_stop = 1;
    if (expr) {
        a->expr = *expr;
        a->has_expr = 1;
    }
    a->nw = shoal__watched(app, NULL);
    if (a->nw == 0)
        return 0;
    a->widx = malloc(a->nw * sizeof *a->widx);
    a->st = calloc(a->nw, sizeof *a->st);
    if (!a->widx || !a->st) {
        shoal__adapt_free(a);
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the watched fields");
    }
    shoal__watched(app, a->widx);
    for (size_t j = 0; j < a->nw; j++)
        a->st[j].min = a->st[j].max = NAN;
    return 0;
}

void shoal__adapt_free(shoal__adapt *a)
{
    for (size_t i = 0; i < a->npend; i++)
        free(a->pend[i].v);
    free(a->pend);
    free(a->widx);
    free(a->st);
    a->pend = NULL;
    a->widx = NULL;
    a->st = NULL;
    a->npend = a->cap = 0;
}

int shoal__adapt_active(const shoal__adapt *a)
{
    return a->nw > 0 && (a->has_expr || a->app->watch);
}

unsigned shoal__adapt_width(const shoal__adapt *a) { return (unsigned)(1 + a->nw); }

static double stat_value(const shoal__wstat *w, shoal__stat s)
{
    double n = w->m.n, var = n > 1 ? w->m.m2 / (n - 1) : NAN;
    switch (s) {
    case SHOAL__STAT_MEAN:
        return n > 0 ? w->m.mean : NAN;
    case SHOAL__STAT_STD:
        return sqrt(var);
    case SHOAL__STAT_SEM:
        return sqrt(var / n);
    case SHOAL__STAT_RSEM:
        return sqrt(var / n) / fabs(w->m.mean);
    case SHOAL__STAT_COUNT:
        return n;
    case SHOAL__STAT_MIN:
        return w->min;
    case SHOAL__STAT_MAX:
        return w->max;
    }
    return NAN;
}

/* NaN (too few values) never holds. */
static int holds(const shoal__adapt *a, const shoal__cond *c)
{
    double v = stat_value(&a->st[c->watched], c->stat);
    switch (c->op) {
    case SHOAL__OP_LT:
        return v < c->value;
    case SHOAL__OP_LE:
        return v <= c->value;
    case SHOAL__OP_GT:
        return v > c->value;
    case SHOAL__OP_GE:
        return v >= c->value;
    }
    return 0;
}

/* `and` binds first: an `or` of groups of `and`s. */
static int expr_holds(const shoal__adapt *a)
{
    int any = 0, group = 1;
    for (size_t i = 0; i < a->expr.n; i++) {
        if (i > 0 && a->expr.c[i].or_before) {
            any |= group;
            group = 1;
        }
        group &= holds(a, &a->expr.c[i]);
    }
    return a->expr.n > 0 && (any | group);
}

void shoal__adapt_describe(const shoal__adapt *a, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->expr.n && len < n; i++) {
        const shoal__cond *c = &a->expr.c[i];
        len += (size_t)snprintf(buf + len, n - len, "%s%s(%s) = %.6g", i ? ", " : "",
                                stat_names[c->stat],
                                a->app->outputs[a->widx[c->watched]].name,
                                stat_value(&a->st[c->watched], c->stat));
    }
}

/* At a block end (or the maximum): decide. */
static void check(shoal__adapt *a)
{
    int expr = a->has_expr && expr_holds(a);
    if (!expr && !a->hook_stop && a->prefix < a->ntasks)
        return;
    a->decided = 1;
    a->used = a->prefix;
    a->met = expr || a->hook_stop;
    char stats[300];
    shoal__adapt_describe(a, stats, sizeof stats);
    if (expr)
        snprintf(a->reason, sizeof a->reason, "stop_when met after %llu tasks: %s",
                 (unsigned long long)a->used, stats);
    else if (a->hook_stop)
        snprintf(a->reason, sizeof a->reason,
                 "the app's watch hook asked to stop at task %llu; the block ends after "
                 "%llu tasks", (unsigned long long)a->hook_task, (unsigned long long)a->used);
    else
        snprintf(a->reason, sizeof a->reason, "the maximum of %llu tasks was reached%s%s",
                 (unsigned long long)a->ntasks, a->has_expr ? "; stop_when not met: " : "",
                 a->has_expr ? stats : "");
}

/* Fold task prefix (its values v: status, then the watched fields). */
static int fold(shoal__adapt *a, const double *v)
{
    uint64_t task = a->prefix++;
    int status = (int)v[0];
    if (status == SHOAL_STATUS_DONE)
        for (size_t j = 0; j < a->nw; j++) {
            double x = v[1 + j];
            shoal__wstat *w = &a->st[j];
            if (!isfinite(x))
                continue;
            shoal_moments_add(&w->m, x);
            w->min = w->m.n == 1 || x < w->min ? x : w->min;
            w->max = w->m.n == 1 || x > w->max ? x : w->max;
        }
    /* The hook sees every task of the used prefix, also after it asked
     * to stop (the block goes on to its end). */
    if (a->app->watch) {
        int h = a->app->watch(task, status, v + 1, a->app->ctx);
        if (h < 0)
            return SHOAL_ERROR(h, "%s: the watch hook failed (code %d) at task %llu",
                               a->app->name, h, (unsigned long long)task);
        if (h > 0 && !a->can_stop && !a->hook_told) {
            a->hook_told = 1;
            shoal_log_warn("%s: the watch hook asked to stop at task %llu, but a run with a "
                           "[scan] or [input] has a fixed set of tasks: it goes on",
                           a->app->name, (unsigned long long)task);
        } else if (h > 0 && a->can_stop && !a->hook_stop) {
            a->hook_stop = 1;
            a->hook_task = task;
        }
    }
    if (a->prefix % a->block == 0 || a->prefix == a->ntasks)
        check(a);
    return 0;
}

/* Fold tasks start.. of values v (count of them) from the prefix on. */
static int fold_run(shoal__adapt *a, uint64_t start, uint64_t count, const double *v)
{
    unsigned w = shoal__adapt_width(a);
    for (uint64_t k = a->prefix - start; k < count && !a->decided; k++) {
        int rc = fold(a, v + k * w);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int file_fold(shoal__adapt *a);

/* 1 when task i is one this run hands out (a resumed run's list), so its
 * values will come; 0 when the file had finished it before. */
static int in_todo(const shoal__adapt *a, uint64_t i)
{
    size_t lo = 0, hi = a->ntodo;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->todo[mid][0] + a->todo[mid][1] <= i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->ntodo && a->todo[lo][0] <= i;
}

/* Fold the waiting chunks that the prefix has reached, and the stretches
 * a resumed file had finished before this run. */
static int drain(shoal__adapt *a)
{
    while (!a->decided && a->prefix < a->ntasks) {
        if (a->npend > 0 && a->pend[0].start <= a->prefix) {
            shoal__chunk c = a->pend[0];
            memmove(a->pend, a->pend + 1, (a->npend - 1) * sizeof *a->pend);
            a->npend--;
            int rc = c.start + c.count > a->prefix ? fold_run(a, c.start, c.count, c.v) : 0;
            free(c.v);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!a->store || in_todo(a, a->prefix))
            return 0;
        uint64_t before = a->prefix;
        int rc = file_fold(a);
        if (rc < 0 || a->prefix == before)
            return rc;
    }
    return 0;
}

int shoal__adapt_feed(void *arg, uint64_t start, uint64_t count, const double *values)
{
    shoal__adapt *a = arg;
    if (a->decided || count == 0 || start + count <= a->prefix)
        return a->decided;
    if (start <= a->prefix) {
        int rc = fold_run(a, start, count, values);
        if (rc == 0)
            rc = drain(a);
        return rc < 0 ? rc : a->decided;
    }
    /* Beyond the prefix: keep a copy, in order of start. */
    if (a->npend == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        shoal__chunk *p = realloc(a->pend, cap * sizeof *p);
        if (!p)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory keeping watched values");
        a->pend = p;
        a->cap = cap;
    }
    size_t bytes = (size_t)count * shoal__adapt_width(a) * sizeof(double);
    double *v = malloc(bytes);
    if (!v)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory keeping watched values");
    memcpy(v, values, bytes);
    size_t i = a->npend;
    while (i > 0 && a->pend[i - 1].start > start) {
        a->pend[i] = a->pend[i - 1];
        i--;
    }
    a->pend[i] = (shoal__chunk){start, count, v};
    a->npend++;
    return 0;
}

/* ---- from the file ---------------------------------------------------------------- */

#define CATCH_UP_ROWS 4096

/* Fold the finished tasks of the file from the prefix on, up to the first
 * task not finished or CATCH_UP_ROWS of them (or the decision). Rows whose
 * status says finished are complete: results go to the file before the
 * status. */
static int file_fold(shoal__adapt *a)
{
    shoal_store *s = a->store;
    unsigned w = shoal__adapt_width(a);
    uint64_t start = a->prefix;
    uint64_t n = a->ntasks - start < CATCH_UP_ROWS ? a->ntasks - start : CATCH_UP_ROWS;
    uint8_t *status = malloc(CATCH_UP_ROWS);
    double *raw = malloc(CATCH_UP_ROWS * sizeof *raw);
    double *v = malloc((size_t)CATCH_UP_ROWS * w * sizeof *v);
    int rc = 0;
    if (!status || !raw || !v)
        rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading the watched fields");
    if (rc == 0)
        rc = shoal__store_read_block(&s->col[COL_STATUS], start, 1, n, s->dxpl, status);
    uint64_t m = 0; /* finished tasks from start on */
    while (rc == 0 && m < n &&
           (status[m] == SHOAL_STATUS_DONE || status[m] == SHOAL_STATUS_FAILED))
        m++;
    for (uint64_t k = 0; k < m; k++)
        v[k * w] = status[k];
    for (size_t j = 0; rc == 0 && m > 0 && j < a->nw; j++) {
        const shoal_field *f = &a->app->outputs[a->widx[j]];
        rc = shoal__store_read_block(&s->field[a->widx[j]], start, 1, m, s->dxpl, raw);
        for (uint64_t k = 0; rc == 0 && k < m; k++) {
            double x;
            if (f->type == SHOAL_INT64) {
                int64_t i64;
                memcpy(&i64, &raw[k], sizeof i64);
                x = (double)i64;
            } else {
                x = raw[k];
            }
            v[k * w + 1 + j] = status[k] == SHOAL_STATUS_DONE ? x : NAN;
        }
    }
    if (rc < 0 && rc != SHOAL_ENOMEM)
        rc = SHOAL_ERROR(rc, "cannot read the watched fields of tasks %llu..%llu",
                         (unsigned long long)start, (unsigned long long)(start + n));
    if (rc == 0 && m > 0)
        rc = fold_run(a, start, m, v);
    free(status);
    free(raw);
    free(v);
    return rc;
}

int shoal__adapt_catch_up(shoal__adapt *a, shoal_store *s)
{
    shoal_store *keep = a->store;
    a->store = s;
    int rc = 0;
    while (rc == 0 && !a->decided && a->prefix < a->ntasks) {
        uint64_t before = a->prefix;
        rc = file_fold(a);
        if (rc == 0)
            rc = drain(a);
        if (a->prefix == before)
            break; /* a task not finished: the prefix ends here */
    }
    a->store = keep;
    return rc;
}
