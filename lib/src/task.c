/* SPDX-License-Identifier: GPL-3.0-or-later */
/* task.c: running an app's tasks on one rank, and the API a task sees.
 *
 * A range runs into per-rank row buffers allocated once (no malloc per task):
 * each field's rows are prefilled (0 / NaN), the task writes its own row
 * through shoal_set_*, and after the range the rows go to the store in one
 * call per dataset. The task's generator is keyed lazily, on first
 * shoal_task_rng(), so tasks that draw nothing pay nothing. */
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/rng.h>

#include "crash.h"
#include "input.h"
#include "runner.h"
#include "signals.h"
#include "stream.h"
#include "ticks.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct shoal_task {
    shoal__runner *run;
    uint64_t index;  /* task index */
    uint64_t slot;   /* row within the range buffers */
    int rng_ready;
    int attempt;     /* 1-based */
    int fail_code;   /* set by shoal_task_fail or API misuse */
    char fail_msg[SHOAL_FAILURE_MSG];
};

uint64_t shoal__row_bytes(const shoal_app *app)
{
    uint64_t b = 0;
    for (size_t i = 0; i < app->noutputs; i++)
        b += shoal_field_elem_bytes(&app->outputs[i]) * shoal_field_width(&app->outputs[i]);
    return b;
}

void shoal__runner_free(shoal__runner *r)
{
    if (r->workspace_ready && r->app->worker_finalize)
        r->app->worker_finalize(r->app->ctx, r->workspace);
    r->workspace_ready = 0;
    if (r->bufs)
        for (size_t i = 0; i < r->app->noutputs; i++)
            free(r->bufs[i]);
    free(r->bufs);
    free(r->out);
    free(r->status);
    free(r->rankcol);
    free(r->seconds);
    free(r->error);
    free(r->attempts);
    if (r->rng)
        gsl_rng_free(r->rng);
    if (r->pbufs)
        for (size_t d = 0; d < r->nscan; d++)
            free(r->pbufs[d]);
    free(r->pbufs);
    free(r->pstrlen);
    free(r->scan_param);
    free(r->vals);
    free(r->point);
    free(r->replicate);
    free(r->spaths);
    free(r->sflags);
    free(r->sstart);
    free(r->sfinish);
    free(r->params);
    memset(r, 0, sizeof *r);
}

int shoal__runner_init(shoal__runner *r, const shoal_app *app,
                       shoal_store *store, int rank, uint64_t seed,
                       const gsl_rng_type *rng_type,
                       const shoal__param_value *params, size_t nparams,
                       shoal_scan *scan, int retries, uint64_t max_rows)
{
    memset(r, 0, sizeof *r);
    r->app = app;
    r->store = store;
    r->rank = rank;
    r->seed = seed;
    r->nparams = nparams;
    r->max_rows = max_rows;
    r->scan = scan;
    r->retries = retries;
    r->nscan = scan ? shoal_scan_ndims(scan) : 0;
    r->params = malloc((nparams + 1) * sizeof *r->params);
    if (r->params && nparams)
        memcpy(r->params, params, nparams * sizeof *params);
    size_t n = (size_t)max_rows;
    r->bufs = calloc(app->noutputs + 1, sizeof *r->bufs);
    r->status = malloc(n);
    r->rankcol = malloc(n * sizeof *r->rankcol);
    r->seconds = malloc(n * sizeof *r->seconds);
    r->error = malloc(n * sizeof *r->error);
    r->attempts = malloc(n);
    r->rng = gsl_rng_alloc(rng_type);
    int bad = !r->bufs || !r->status || !r->rankcol ||
              !r->seconds || !r->error || !r->rng || !r->params ||
              !r->attempts;
    if (!bad && scan) {
        r->scan_param = calloc(r->nscan + 1, sizeof *r->scan_param);
        r->vals = calloc(r->nscan + 1, sizeof *r->vals);
        r->pbufs = calloc(r->nscan + 1, sizeof *r->pbufs);
        r->pstrlen = calloc(r->nscan + 1, sizeof *r->pstrlen);
        r->point = malloc(n * sizeof *r->point);
        r->replicate = malloc(n * sizeof *r->replicate);
        bad = !r->scan_param || !r->vals || !r->pbufs || !r->pstrlen ||
              !r->point || !r->replicate;
        for (size_t d = 0; d < r->nscan && !bad; d++) {
            for (size_t i = 0; i < nparams; i++)
                if (!strcmp(params[i].name, shoal_scan_name(scan, d)))
                    r->scan_param[d] = i;
            size_t w = 8;
            if (shoal_scan_type(scan, d) == SHOAL_STRING) {
                w = shoal_scan_strlen(scan, d);
                w = w ? w : 1;
                r->pstrlen[d] = w;
            }
            r->pbufs[d] = calloc(n, w);
            bad = r->pbufs[d] == NULL;
        }
    }
    r->out = calloc(app->noutputs + 1, sizeof *r->out);
    bad = bad || r->out == NULL;
    for (size_t i = 0; i < app->noutputs && !bad; i++) {
        uint64_t stride = shoal_field_elem_bytes(&app->outputs[i]) *
                          shoal_field_width(&app->outputs[i]);
        r->bufs[i] = malloc(n * stride);
        bad = r->bufs[i] == NULL;
        if (!bad)
            r->out[i] = (shoal__out){(char *)r->bufs[i], stride,
                                     app->outputs[i].type};
    }
    r->nout = app->noutputs;
    if (bad) {
        shoal__runner_free(r);
        return SHOAL_ERROR(SHOAL_ENOMEM,
                           "out of memory for row buffers of %llu tasks",
                           (unsigned long long)max_rows);
    }
    for (uint64_t i = 0; i < max_rows; i++)
        r->rankcol[i] = rank;
    r->time_block = 1;
    if (app->worker_init) {
        int rc = app->worker_init(app->ctx, &r->workspace);
        if (rc != 0) {
            shoal__runner_free(r);
            return SHOAL_ERROR(rc < 0 ? rc : SHOAL_ETASK,
                               "%s: worker_init failed on rank %d (code %d)",
                               app->name, rank, rc);
        }
    }
    r->workspace_ready = 1;
    return 0;
}

/* Reset rows [first, first+count) of every field: 0 for int64 and
 * strings, NaN for float64, so a field a task leaves unset never shows
 * another task's value. */
static void prefill(shoal__runner *r, uint64_t first, uint64_t count)
{
    for (size_t i = 0; i < r->app->noutputs; i++) {
        uint64_t w = r->out[i].stride / 8, n = count * w;
        if (r->app->outputs[i].type == SHOAL_STRING) {
            memset((char *)r->bufs[i] + first * r->out[i].stride, 0,
                   (size_t)(count * r->out[i].stride));
        } else if (r->app->outputs[i].type == SHOAL_INT64) {
            memset((int64_t *)r->bufs[i] + first * w, 0, (size_t)n * 8);
        } else {
            double *d = (double *)r->bufs[i] + first * w;
            for (uint64_t k = 0; k < n; k++)
                d[k] = NAN;
        }
    }
}

static void note_failure(shoal__runner *r, const shoal_task *t, int code,
                         int attempts)
{
    r->failed++;
    if (r->nlog < SHOAL_FAILURE_SLOTS) {
        shoal_store_failure *f = &r->log[r->nlog++];
        f->task = (int64_t)t->index;
        f->error = code;
        f->attempts = attempts;
        f->rank = r->rank;
        const char *m = t->fail_msg[0] ? t->fail_msg : shoal_strerror(code);
        size_t len = strnlen(m, sizeof f->message - 1);
        memcpy(f->message, m, len);
        f->message[len] = '\0';
    }
    if (r->failures_shown < SHOAL__FAILURES_SHOWN) {
        shoal_log_warn("task %llu failed (code %d, %d attempt%s)%s%s",
                       (unsigned long long)t->index, code, attempts,
                       attempts == 1 ? "" : "s", t->fail_msg[0] ? ": " : "",
                       t->fail_msg);
    } else if (r->failures_shown == SHOAL__FAILURES_SHOWN) {
        shoal_log_warn("further task failures on this rank are not shown "
                       "(see /tasks/status and /tasks/error)");
    }
    r->failures_shown++;
}

/* Put task `index`'s scanned values into the parameter table the task reads
 * and into row k of the /params and /tasks/point columns. */
static void set_scan_values(shoal__runner *r, uint64_t index, uint64_t k)
{
    uint64_t point, rep;
    shoal_scan_task(r->scan, index, &point, &rep, r->vals);
    r->point[k] = (int64_t)point;
    r->replicate[k] = (int64_t)rep;
    for (size_t d = 0; d < r->nscan; d++) {
        shoal__param_value *p = &r->params[r->scan_param[d]];
        const shoal_scan_value *v = &r->vals[d];
        switch (p->type) {
        case SHOAL_INT64:
            p->l = (long)v->l;
            ((int64_t *)r->pbufs[d])[k] = v->l;
            break;
        case SHOAL_FLOAT64:
            p->d = v->d;
            ((double *)r->pbufs[d])[k] = v->d;
            break;
        default: {
            p->s = v->s;
            char *dst = (char *)r->pbufs[d] + k * r->pstrlen[d];
            memset(dst, 0, r->pstrlen[d]);
            memcpy(dst, v->s, strnlen(v->s, r->pstrlen[d]));
            break;
        }
        }
    }
}

int shoal__runner_derive(shoal__runner *r, uint64_t task, const shoal_derived *d,
                         const double *mean, double *out)
{
    shoal_task t;
    memset(&t, 0, sizeof t);
    t.run = r;
    t.index = task;
    t.attempt = 1;
    if (r->scan)
        set_scan_values(r, task, 0); /* row 0 of buffers no longer in use */
    double v = d->fn(&t, mean, r->app->ctx);
    *out = t.fail_code ? NAN : v;
    return t.fail_code;
}

/* Run task t->index into row k, retrying as configured. The range's status,
 * error and attempts rows start as "done, 0, 1": only a task that fails or
 * retries writes them. t->fail_code and t->fail_msg are clear on entry and
 * are left clear. */
int shoal__runner_line_params(shoal__runner *r, const shoal_store_column *cols, size_t n)
{
    size_t rows = (size_t)r->max_rows;
    r->nscan = n;
    r->scan_param = calloc(n + 1, sizeof *r->scan_param);
    r->pbufs = calloc(n + 1, sizeof *r->pbufs);
    r->pstrlen = calloc(n + 1, sizeof *r->pstrlen);
    if (!r->scan_param || !r->pbufs || !r->pstrlen)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for a stream's parameters");
    for (size_t d = 0; d < n; d++) {
        for (size_t i = 0; i < r->nparams; i++)
            if (!strcmp(r->params[i].name, cols[d].name))
                r->scan_param[d] = i;
        size_t w = cols[d].type == SHOAL_STRING ? (cols[d].strlen ? cols[d].strlen : 1) : 8;
        r->pstrlen[d] = cols[d].type == SHOAL_STRING ? w : 0;
        r->pbufs[d] = calloc(rows ? rows : 1, w);
        if (!r->pbufs[d])
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for a stream's parameters");
    }
    r->line_params = 1;
    return 0;
}

/* A stream's parameter row: "T=2.5 L=16" (name=value pairs, separated by
 * blanks or commas, each parameter once) into the task's parameters and
 * row k of the /params columns. Returns 0, or -1 with why set. */
/* Row k of the /params columns with no value: NaN, 0 or "". */
static void clear_line_values(shoal__runner *r, uint64_t k)
{
    for (size_t d = 0; d < r->nscan; d++) {
        shoal_type type = r->params[r->scan_param[d]].type;
        if (r->pstrlen[d])
            memset((char *)r->pbufs[d] + k * r->pstrlen[d], 0, r->pstrlen[d]);
        else if (type == SHOAL_FLOAT64)
            ((double *)r->pbufs[d])[k] = NAN;
        else
            ((int64_t *)r->pbufs[d])[k] = 0;
    }
}

static int parse_line_values(shoal__runner *r, uint64_t k, const char *line, char *why,
                             size_t nwhy)
{
    uint64_t seen = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',')
            p++;
        size_t len = (size_t)(p - tok);
        const char *eq = memchr(tok, '=', len);
        if (!eq || eq == tok) {
            snprintf(why, nwhy, "'%.*s' is not name=value", (int)(len < 80 ? len : 80), tok);
            return -1;
        }
        size_t nlen = (size_t)(eq - tok), vlen = len - nlen - 1;
        size_t d = 0;
        while (d < r->nscan && (strlen(r->params[r->scan_param[d]].name) != nlen ||
                                strncmp(r->params[r->scan_param[d]].name, tok, nlen)))
            d++;
        if (d == r->nscan) {
            snprintf(why, nwhy, "'%.*s' is not one of the parameters [stream] params names",
                     (int)(nlen < 80 ? nlen : 80), tok);
            return -1;
        }
        shoal__param_value *pv = &r->params[r->scan_param[d]];
        if (seen & ((uint64_t)1 << (d % 64))) {
            snprintf(why, nwhy, "%s is given twice", pv->name);
            return -1;
        }
        seen |= (uint64_t)1 << (d % 64);
        char val[512];
        if (vlen >= sizeof val || (r->pstrlen[d] && vlen >= r->pstrlen[d])) {
            snprintf(why, nwhy, "the value of %s is too long", pv->name);
            return -1;
        }
        memcpy(val, eq + 1, vlen);
        val[vlen] = '\0';
        char *end = NULL;
        if (pv->type == SHOAL_INT64) {
            long v = strtol(val, &end, 10);
            if (!vlen || *end) {
                snprintf(why, nwhy, "%s = '%.60s' is not a whole number", pv->name, val);
                return -1;
            }
            pv->l = v;
            ((int64_t *)r->pbufs[d])[k] = v;
        } else if (pv->type == SHOAL_FLOAT64) {
            double v = strtod(val, &end);
            if (!vlen || *end || !isfinite(v)) {
                snprintf(why, nwhy, "%s = '%.60s' is not a finite number", pv->name, val);
                return -1;
            }
            pv->d = v;
            ((double *)r->pbufs[d])[k] = v;
        } else {
            char *dst = (char *)r->pbufs[d] + k * r->pstrlen[d];
            memcpy(dst, val, vlen + 1);
            pv->s = dst;
        }
    }
    for (size_t d = 0; d < r->nscan; d++)
        if (!(seen & ((uint64_t)1 << (d % 64)))) {
            snprintf(why, nwhy, "no value for %s", r->params[r->scan_param[d]].name);
            return -1;
        }
    return 0;
}

static int set_line_values(shoal__runner *r, uint64_t k, const char *line, char *why,
                           size_t nwhy)
{
    clear_line_values(r, k);
    int rc = parse_line_values(r, k, line, why, nwhy);
    if (rc < 0)
        clear_line_values(r, k); /* a row that does not parse keeps no value */
    return rc;
}

/* Wall-clock seconds since 1970, for a stream's per-task times. */
static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void run_task(shoal__runner *r, shoal_task *t, uint64_t k)
{
    const shoal_app *app = r->app;
    t->slot = k;
    if (r->scan && r->tags && r->search_nrungs > 0) {
        /* A search task: its configuration and its rung's budget. */
        int64_t tag = r->tags[k];
        int rung = (int)(tag % r->search_nrungs);
        shoal__param_value *b = &r->params[r->budget_param];
        if (b->type == SHOAL_INT64)
            b->l = (long)r->budgets[rung];
        else
            b->d = r->budgets[rung];
        set_scan_values(r, (uint64_t)(tag / r->search_nrungs), k);
    } else if (r->scan) {
        set_scan_values(r, t->index, k);
    }
    int rc, attempt = 0;
    if (r->sstart)
        r->sstart[k] = wall_now();
    if (r->sflags && r->sflags[k]) {
        /* A stream's item that could not be taken in: it fails as it is. */
        attempt = 1;
        rc = shoal_task_fail(t, SHOAL_EINVAL, "stream item %s: '%.200s%s'",
                             r->sflags[k] == 1 ? "longer than the 1023 bytes a path may have"
                                               : "lost on the way (internal error)",
                             r->spaths[k], strlen(r->spaths[k]) > 200 ? "..." : "");
        goto failed;
    }
    if (r->line_params) {
        char why[160];
        if (set_line_values(r, k, r->spaths[k], why, sizeof why) < 0) {
            attempt = 1;
            rc = shoal_task_fail(t, SHOAL_EINVAL, "stream line '%.200s%s': %s", r->spaths[k],
                                 strlen(r->spaths[k]) > 200 ? "..." : "", why);
            goto failed;
        }
    }
    /* A failing task runs again, up to `retries` times, from the same
     * stream and a cleared row: a deterministic failure fails again, a
     * transient one recovers with the result it would have had. */
    for (;;) {
        t->rng_ready = 0;
        t->attempt = ++attempt;
        shoal__crash_task(t->index);
        rc = app->run(t, app->ctx);
        shoal__signals_child_group(0);
        if ((rc == 0 && t->fail_code == 0) || attempt > r->retries)
            break;
        t->fail_code = 0;
        t->fail_msg[0] = '\0';
        prefill(r, k, 1);
    }
failed:
    if (r->sfinish)
        r->sfinish[k] = wall_now();
    if (attempt != 1)
        r->attempts[k] = (uint8_t)(attempt < 255 ? attempt : 255);
    if (rc != 0 || t->fail_code != 0) {
        shoal__crash_task(UINT64_MAX);
        int code = t->fail_code ? t->fail_code : rc;
        r->status[k] = SHOAL_STATUS_FAILED;
        r->error[k] = code;
        note_failure(r, t, code, attempt);
        t->fail_code = 0;
        t->fail_msg[0] = '\0';
    }
}

double shoal__runner_sample(shoal__runner *r, uint64_t index)
{
    shoal_task t;
    memset(&t, 0, sizeof t);
    t.run = r;
    t.index = index;
    prefill(r, 0, 1);
    r->status[0] = SHOAL_STATUS_DONE;
    r->error[0] = 0;
    r->attempts[0] = 1;
    double t0 = shoal_now();
    run_task(r, &t, 0);
    double dt = shoal_now() - t0;
    shoal__crash_task(UINT64_MAX);
    return dt;
}

/* The range's values for rank 0 (pool.h): per task its status, then each
 * watched field as a double (NaN for a failed task), in output order. */
static void put_values(const shoal__runner *r, double *v, uint64_t count)
{
    const shoal_app *app = r->app;
    for (uint64_t k = 0; k < count; k++) {
        double *row = v++;
        *row = r->status[k];
        for (size_t i = 0; i < app->noutputs; i++) {
            if (!app->outputs[i].watch)
                continue;
            double x = app->outputs[i].type == SHOAL_INT64
                           ? (double)((const int64_t *)r->bufs[i])[k]
                           : ((const double *)r->bufs[i])[k];
            *v++ = r->status[k] == SHOAL_STATUS_DONE ? x : NAN;
        }
    }
}

int shoal__runner_range(void *arg, shoal_pool *pool, uint64_t start,
                        uint64_t count)
{
    shoal__runner *r = arg;
    shoal_task t;
    memset(&t, 0, sizeof t);
    t.run = r;
    int stopped = 0;
    r->tags = shoal_pool_tags(pool);
    size_t plen = 0;
    const void *payload = shoal_pool_payload(pool, &plen);
    if (payload) {
        /* A stream: each task's file travelled with the range. */
        if (!r->spaths) {
            r->spaths = calloc((size_t)r->max_rows, sizeof *r->spaths);
            r->sflags = calloc((size_t)r->max_rows, 1);
            r->sstart = calloc((size_t)r->max_rows, sizeof *r->sstart);
            r->sfinish = calloc((size_t)r->max_rows, sizeof *r->sfinish);
            if (!r->spaths || !r->sflags || !r->sstart || !r->sfinish)
                return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for a stream's range");
        }
        if (count > r->max_rows ||
            shoal__stream_unpack(payload, plen, count, r->spaths, r->sflags) < 0)
            return SHOAL_ERROR(SHOAL_EINTERNAL, "a stream's range %llu..%llu came without "
                               "its items", (unsigned long long)start,
                               (unsigned long long)(start + count - 1));
        shoal__input_set_range(r->input, start, count, r->line_params ? NULL : r->spaths);
    }
    /* The file shows which tasks are in flight: if this process dies, a
     * resumed run knows they were running (and reruns them). */
    int mrc = shoal_store_mark(r->store, start, count, SHOAL_STATUS_RUNNING);
    if (mrc < 0)
        return mrc;
    prefill(r, 0, count);
    memset(r->status, SHOAL_STATUS_DONE, (size_t)count);
    memset(r->error, 0, (size_t)count * sizeof *r->error);
    memset(r->attempts, 1, (size_t)count);
    const uint64_t failed_before = r->failed;
    /* Per-task times in counter ticks (ticks.h), converted to seconds at
     * the end of the range from its clock_gettime duration. Tasks are
     * timed one by one, except that while they take under
     * SHOAL__TIME_FINE_SECONDS each (where reading the counter would cost
     * a good part of the task) they are timed in blocks of
     * SHOAL__TIME_BLOCK and each gets its block's mean; a block whose mean
     * is longer goes back to timing one by one. */
    const double wall0 = shoal_now();
    const uint64_t tick0 = shoal__ticks();
    const uint64_t fine_ticks =
        (uint64_t)(SHOAL__TIME_FINE_SECONDS * r->ticks_per_second);
    uint64_t before = tick0;
    uint64_t poll_at = 0; /* tick at which the pool wants to serve again */
    uint64_t block = r->time_block, shorts = r->time_shorts;
    for (uint64_t k = 0; k < count;) {
        const uint64_t k0 = k;
        uint64_t end = count - k > block ? k + block : count;
        for (; k < end; k++) {
            t.index = start + k;
            run_task(r, &t, k);
            if (shoal__stop_requested() && k + 1 < count) {
                /* Stop: keep the rows done so far; the rest stay pending. */
                count = end = k + 1;
                stopped = 1;
            }
        }
        const uint64_t after = shoal__ticks();
        const uint64_t dt = after > before ? after - before : 0;
        const uint64_t n = k - k0;
        if (n == 1) {
            r->seconds[k0] = (float)(int64_t)dt;
            /* Blocks only after a full block's worth of short tasks in a
             * row: one quick task among long ones keeps its own time. */
            shorts = dt < fine_ticks ? shorts + 1 : 0;
            if (shorts >= SHOAL__TIME_BLOCK)
                block = SHOAL__TIME_BLOCK;
        } else {
            const float mean = (float)(int64_t)dt / (float)n;
            for (uint64_t j = k0; j < k; j++)
                r->seconds[j] = mean;
            if (dt >= fine_ticks * n) {
                block = 1;
                shorts = 0;
            }
        }
        before = after;
        /* Between tasks the crash handler blames no task (the task
         * index is set before each task, cleared here, per block). */
        shoal__crash_task(UINT64_MAX);
        if (after >= poll_at) {
            double wait = shoal_pool_yield(pool, shoal_now());
            poll_at = wait >= 1.0 ? UINT64_MAX
                                  : after + (uint64_t)(wait * r->ticks_per_second);
            /* A stop from another rank arrives in the yield: stop before
             * the next task, not after it. */
            if (shoal__stop_requested() && k < count) {
                count = k;
                stopped = 1;
            }
        }
    }
    r->time_block = block;
    r->time_shorts = shorts;
    r->done += count - (r->failed - failed_before);
    shoal_pool_count_failed(pool, r->failed - failed_before);
    const double wall = shoal_now() - wall0;
    const uint64_t ticks = before > tick0 ? before - tick0 : 0;
    const float scale = ticks > 0 ? (float)(wall / (double)ticks) : 0.0f;
    for (uint64_t k = 0; k < count; k++)
        r->seconds[k] *= scale;
    /* The rate the next range's deadlines use; a short range measures it
     * coarsely, so only the first calibration comes from one. */
    if (ticks > 0 && wall > 0 &&
        (wall >= 1e-3 || r->ticks_per_second == 0.0))
        r->ticks_per_second = (double)ticks / wall;
    double *vals = shoal_pool_values(pool);
    if (vals && !stopped)
        put_values(r, vals, count);
    const shoal_store_rows rows = {(const void *const *)r->bufs, r->status,
                                   r->rankcol, r->seconds, r->error,
                                   r->attempts,
                                   (const void *const *)r->pbufs, r->point,
                                   r->replicate};
    /* A stream's files are not kept open between ranges: each task has its
     * own, and an open one would keep its directory alive. */
    if (payload)
        shoal__input_set_range(r->input, 0, 0, NULL);
    int rc = shoal_store_write_rows(r->store, start, count, &rows);
    if (rc == 0 && payload)
        rc = shoal_store_stream_times(r->store, start, count, r->sstart, r->sfinish,
                                      wall_now());
    if (rc == 0)
        rc = shoal_store_write_failures(r->store, r->log, r->nlog);
    return rc < 0 ? rc : stopped ? SHOAL_EINTR : 0;
}

/* ---- the task API ------------------------------------------------------------ */

uint64_t shoal_task_index(const shoal_task *t) { return t->index; }

int shoal_task_attempt(const shoal_task *t) { return t->attempt; }

int shoal_task_failed(const shoal_task *t) { return t->fail_code; }

gsl_rng *shoal_task_rng(shoal_task *t)
{
    if (!t->rng_ready) {
        shoal_rng_key(t->run->rng, t->run->seed, t->index);
        t->rng_ready = 1;
    }
    return t->run->rng;
}

void *shoal_task_workspace(const shoal_task *t) { return t->run->workspace; }

uint64_t shoal_task_seed(const shoal_task *t)
{
    uint64_t s = shoal_rng_mix(t->run->seed, t->index) >> 1;
    return s ? s : 1;
}

uint64_t shoal_task_point(const shoal_task *t)
{
    return t->run->scan ? (uint64_t)t->run->point[t->slot] : t->index;
}

uint64_t shoal_task_replicate(const shoal_task *t)
{
    return t->run->scan ? (uint64_t)t->run->replicate[t->slot] : 0;
}

void shoal_task_set_child_group(shoal_task *t, long pgid)
{
    (void)t;
    shoal__signals_child_group(pgid > 0 ? (pid_t)pgid : 0);
}

int shoal_task_fail(shoal_task *t, int code, const char *fmt, ...)
{
    if (code == 0)
        code = SHOAL_ETASK;
    if (t->fail_code == 0) {
        t->fail_code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->fail_msg, sizeof t->fail_msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

static const shoal__param_value *param(shoal_task *t, const char *name)
{
    if (!name) {
        shoal_task_fail(t, SHOAL_EINVAL, "parameter name is NULL");
        return NULL;
    }
    for (size_t i = 0; i < t->run->nparams; i++)
        if (!strcmp(t->run->params[i].name, name))
            return &t->run->params[i];
    shoal_task_fail(t, SHOAL_ENOTFOUND, "unknown parameter '%s'", name);
    return NULL;
}

long shoal_param_long(shoal_task *t, const char *name)
{
    const shoal__param_value *p = param(t, name);
    if (!p)
        return 0;
    if (p->type != SHOAL_INT64) {
        shoal_task_fail(t, SHOAL_ETYPE, "parameter '%s' is not an integer", name);
        return 0;
    }
    return p->l;
}

double shoal_param_double(shoal_task *t, const char *name)
{
    const shoal__param_value *p = param(t, name);
    if (!p)
        return NAN;
    if (p->type == SHOAL_INT64)
        return (double)p->l;
    if (p->type != SHOAL_FLOAT64) {
        shoal_task_fail(t, SHOAL_ETYPE, "parameter '%s' is not a number", name);
        return NAN;
    }
    return p->d;
}

const char *shoal_param_string(shoal_task *t, const char *name)
{
    const shoal__param_value *p = param(t, name);
    if (!p)
        return "";
    if (p->type != SHOAL_STRING) {
        shoal_task_fail(t, SHOAL_ETYPE, "parameter '%s' is not a string", name);
        return "";
    }
    return p->s;
}

/* The task's slice of the [input] (input_read.c). */
const double *shoal_input_double(shoal_task *t, int k, uint64_t *rows, uint64_t *cols)
{
    return shoal__input_get(t->run->input, t, t->index, k, SHOAL_FLOAT64, rows, cols);
}

const int64_t *shoal_input_int64(shoal_task *t, int k, uint64_t *rows, uint64_t *cols)
{
    return shoal__input_get(t->run->input, t, t->index, k, SHOAL_INT64, rows, cols);
}

uint64_t shoal_input_offset(const shoal_task *t)
{
    return shoal__input_offset(t->run->input, t->index);
}

const char *shoal_input_path(const shoal_task *t)
{
    return shoal__input_path(t->run->input, t->index);
}

/* The task API's checks fail here: a field that does not exist, or one of
 * the other type. Records the failure; returns NULL. */
static void *out_row_fail(shoal_task *t, int field, shoal_type type)
{
    const shoal_app *app = t->run->app;
    if (field < 0 || (size_t)field >= app->noutputs) {
        shoal_task_fail(t, SHOAL_EINVAL, "output field %d does not exist", field);
        return NULL;
    }
    shoal_task_fail(t, SHOAL_ETYPE, "output field '%s' is not %s",
                    app->outputs[field].name,
                    type == SHOAL_INT64     ? "int64"
                    : type == SHOAL_FLOAT64 ? "float64"
                                            : "a string");
    return NULL;
}

/* Row of `field` for the task, or NULL (and the task failed) when the field
 * does not exist or has another type. Called for every output of every task:
 * one compact table lookup. */
static inline void *out_row(shoal_task *t, int field, shoal_type type)
{
    const shoal__runner *r = t->run;
    if ((unsigned)field < r->nout && r->out[field].type == type)
        return r->out[field].base + t->slot * r->out[field].stride;
    return out_row_fail(t, field, type);
}

void shoal_set_int64(shoal_task *t, int field, int64_t v)
{
    int64_t *p = out_row(t, field, SHOAL_INT64);
    if (p)
        *p = v;
}

void shoal_set_double(shoal_task *t, int field, double v)
{
    double *p = out_row(t, field, SHOAL_FLOAT64);
    if (p)
        *p = v;
}

int64_t *shoal_out_int64(shoal_task *t, int field)
{
    return out_row(t, field, SHOAL_INT64);
}

double *shoal_out_double(shoal_task *t, int field)
{
    return out_row(t, field, SHOAL_FLOAT64);
}

char *shoal_out_string(shoal_task *t, int field)
{
    return out_row(t, field, SHOAL_STRING);
}
