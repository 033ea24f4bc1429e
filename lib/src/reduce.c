/* SPDX-License-Identifier: GPL-3.0-or-later */
/* reduce.c: /reduce and /points from a completed run's rows (reduce.h).
 *
 * An accumulator ("state") holds one field's partial reduction: the number
 * of tasks folded, then per element a double / int64 (sum, min, max, a user
 * combine: the row itself), an int64 (count) or a shoal_moments (mean,
 * variance). Folding a task's row and merging two states are the only
 * operations, and both always take the earlier tasks on the left. */
#include <shoal/error.h>
#include <shoal/log.h>

#include "mpiutil.h"
#include "reduce.h"
#include "store_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of rows one read brings in: blocks and windows are sized from it
 * (and from the row size alone, so the combining tree never depends on the
 * rank count). */
#define READ_BYTES ((uint64_t)4 << 20)
#define MAX_BLOCK_ROWS ((uint64_t)65536)
/* /points rows written per call. */
#define POINT_BATCH ((uint64_t)4096)

typedef struct {
    const shoal_field *f;
    uint64_t w;        /* elements per row */
    size_t pay;        /* payload bytes */
    void *ctx;         /* the app's, for user combines */
} kind;

static kind kind_of(const shoal_field *f, void *ctx)
{
    kind k = {f, shoal_field_width(f), 0, ctx};
    k.pay = k.w * (f->reduce == SHOAL_REDUCE_MEAN || f->reduce == SHOAL_REDUCE_VAR
                       ? sizeof(shoal_moments)
                       : 8);
    return k;
}

static size_t state_bytes(const kind *k) { return 8 + k->pay; }
static uint64_t *state_n(void *st) { return st; }
static void *payload(void *st) { return (char *)st + 8; }

static void state_clear(const kind *k, void *st) { memset(st, 0, state_bytes(k)); }

/* Kinds that start from the first row they see rather than from zeros. */
static int starts_from_row(const kind *k)
{
    switch (k->f->reduce) {
    case SHOAL_REDUCE_COUNT:
    case SHOAL_REDUCE_MEAN:
    case SHOAL_REDUCE_VAR:
        return 0;
    default:
        return 1;
    }
}

static void min_max(double *p, double x, int max)
{
    if (isnan(*p))
        return;
    if (isnan(x) || (max ? x > *p : x < *p))
        *p = x;
}

/* Combine `from` (a row of the field, or a state payload for merge = 1)
 * into payload p, which already holds earlier tasks. */
static void combine(const kind *k, void *p, const void *from, int merge)
{
    const shoal_field *f = k->f;
    int ints = f->type == SHOAL_INT64;
    uint64_t w = k->w;
    switch (f->reduce) {
    case SHOAL_REDUCE_SUM:
        for (uint64_t j = 0; j < w; j++) {
            if (ints)
                ((uint64_t *)p)[j] += ((const uint64_t *)from)[j];
            else
                ((double *)p)[j] += ((const double *)from)[j];
        }
        break;
    case SHOAL_REDUCE_MIN:
    case SHOAL_REDUCE_MAX: {
        int max = f->reduce == SHOAL_REDUCE_MAX;
        for (uint64_t j = 0; j < w; j++) {
            if (ints) {
                int64_t *a = &((int64_t *)p)[j], b = ((const int64_t *)from)[j];
                if (max ? b > *a : b < *a)
                    *a = b;
            } else {
                min_max(&((double *)p)[j], ((const double *)from)[j], max);
            }
        }
        break;
    }
    case SHOAL_REDUCE_COUNT:
        for (uint64_t j = 0; j < w; j++)
            ((int64_t *)p)[j] += merge ? ((const int64_t *)from)[j]
                                 : ints ? 1
                                        : !isnan(((const double *)from)[j]);
        break;
    case SHOAL_REDUCE_MEAN:
    case SHOAL_REDUCE_VAR:
        for (uint64_t j = 0; j < w; j++) {
            shoal_moments *m = &((shoal_moments *)p)[j];
            if (merge) {
                shoal_moments_merge(m, &((const shoal_moments *)from)[j]);
            } else {
                double x = ints ? (double)((const int64_t *)from)[j] : ((const double *)from)[j];
                if (!isnan(x))
                    shoal_moments_add(m, x);
            }
        }
        break;
    case SHOAL_REDUCE_MOMENTS:
        for (uint64_t j = 0; j + 3 <= w; j += 3)
            shoal_moments_merge((shoal_moments *)((double *)p + j),
                                (const shoal_moments *)((const double *)from + j));
        break;
    case SHOAL_REDUCE_USER:
        f->combine(p, from, w, k->ctx);
        break;
    default:
        break;
    }
}

/* Fold one task's row into st. */
static void fold(const kind *k, void *st, const void *row)
{
    if (*state_n(st) == 0 && starts_from_row(k))
        memcpy(payload(st), row, k->pay);
    else
        combine(k, payload(st), row, 0);
    (*state_n(st))++;
}

/* a = a merged with b; b holds later tasks. */
static void merge(const kind *k, void *a, const void *b)
{
    uint64_t nb = *(const uint64_t *)b;
    if (nb == 0)
        return;
    if (*state_n(a) == 0)
        memcpy(a, b, state_bytes(k));
    else {
        combine(k, payload(a), (const char *)b + 8, 1);
        *state_n(a) += nb;
    }
}

/* The value written for a state, into out (w elements of the reduced
 * type). */
static void finish_state(const kind *k, void *st, void *out)
{
    const shoal_field *f = k->f;
    uint64_t n = *state_n(st), w = k->w;
    const void *p = payload(st);
    switch (f->reduce) {
    case SHOAL_REDUCE_MEAN:
    case SHOAL_REDUCE_VAR:
        for (uint64_t j = 0; j < w; j++) {
            const shoal_moments *m = &((const shoal_moments *)p)[j];
            ((double *)out)[j] = f->reduce == SHOAL_REDUCE_MEAN ? (m->n > 0 ? m->mean : NAN)
                                 : m->n > 1                     ? m->m2 / (m->n - 1)
                                                                : NAN;
        }
        return;
    case SHOAL_REDUCE_MIN:
    case SHOAL_REDUCE_MAX:
    case SHOAL_REDUCE_USER:
        if (n == 0) { /* nothing done: no value */
            for (uint64_t j = 0; j < w; j++) {
                if (f->type == SHOAL_INT64)
                    ((int64_t *)out)[j] = 0;
                else
                    ((double *)out)[j] = NAN;
            }
            return;
        }
        break;
    default:
        break;
    }
    memcpy(out, p, w * 8); /* sums, counts and moments of nothing are 0 */
}

/* ---- /reduce ------------------------------------------------------------------- */

/* SHOAL_TEST_READ_BYTES (tests only) shrinks reads so that small runs
 * cross many blocks; every rank of a run sees the same environment. */
static uint64_t read_bytes(void)
{
    const char *e = getenv("SHOAL_TEST_READ_BYTES");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? (uint64_t)v : READ_BYTES;
}

static uint64_t rows_per_read(uint64_t row_bytes)
{
    uint64_t b = read_bytes() / (row_bytes ? row_bytes : 1);
    return b < 1 ? 1 : b > MAX_BLOCK_ROWS ? MAX_BLOCK_ROWS : b;
}

/* Fold the done rows of block [start, start + n) into st. */
static int fold_block(shoal_store *s, size_t field, const kind *k, uint64_t start, uint64_t n,
                      uint8_t *status, void *rows, void *st)
{
    int rc = shoal__store_read_block(&s->col[COL_STATUS], start, 1, n, s->dxpl, status);
    if (rc == 0)
        rc = shoal__store_read_block(&s->field[field], start, 1, n, s->dxpl, rows);
    if (rc < 0)
        return SHOAL_ERROR(rc, "cannot read /results/%s rows %llu..%llu for its reduction",
                           k->f->name, (unsigned long long)start,
                           (unsigned long long)(start + n));
    for (uint64_t i = 0; i < n; i++)
        if (status[i] == SHOAL_STATUS_DONE)
            fold(k, st, (const char *)rows + i * k->w * 8);
    return 0;
}

static int reduce_field(shoal_store *s, size_t field, const kind *k)
{
    /* A run its results ended counts tasks 0..used-1 only (adapt.h). */
    uint64_t B = rows_per_read(k->w * 8), nt = s->has_stop ? s->used : s->ntasks;
    uint64_t nblocks = (nt + B - 1) / B;
    size_t sb = state_bytes(k);
    int rank = s->rank, nranks = s->nranks, rc = 0;
    uint8_t *status = malloc(B);
    void *rows = malloc(B * k->w * 8), *mine = malloc(sb), *total = NULL, *all = NULL;
    if (rank == 0) {
        total = calloc(1, sb);
        all = malloc(sb * (size_t)nranks);
    }
    if (!status || !rows || !mine || (rank == 0 && (!total || !all)))
        rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reducing /results/%s", k->f->name);
    int ready = shoal__agree(s->comm, rc);
    /* Round r: rank i folds block r * nranks + i; rank 0 merges the round's
     * partials in block order. Every rank takes part in every round, even
     * after a failure of its own (agreed on after the rounds): the loop
     * depends only on what every rank agreed on. */
    for (uint64_t base = 0; ready == 0 && base < nblocks; base += (uint64_t)nranks) {
        uint64_t b = base + (uint64_t)rank;
        state_clear(k, mine);
        int lrc = 0;
        if (b < nblocks) {
            uint64_t n = B < nt - b * B ? B : nt - b * B;
            lrc = fold_block(s, field, k, b * B, n, status, rows, mine);
            if (lrc == 0 && shoal__inject("reduce", rank))
                lrc = SHOAL_ERROR(SHOAL_EHDF5, "injected failure reducing /results/%s",
                                  k->f->name);
        }
        if (lrc < 0) {
            state_clear(k, mine);
            rc = lrc; /* agreed after the rounds */
        }
        MPI_Gather(mine, (int)sb, MPI_BYTE, all, (int)sb, MPI_BYTE, 0, s->comm);
        if (rank == 0)
            for (int i = 0; i < nranks; i++)
                merge(k, total, (char *)all + (size_t)i * sb);
    }
    rc = shoal__agree(s->comm, rc);
    if (rc == 0 && rank == 0) {
        finish_state(k, total, rows); /* rows holds at least one row */
        const shoal__dset *d = &s->agg.red[field];
        if (H5Dwrite(d->dset, d->mtype, H5S_ALL, H5S_ALL, s->dxpl, rows) < 0)
            rc = SHOAL_ERROR(SHOAL_EHDF5, "cannot write /reduce/%s", k->f->name);
    }
    free(status);
    free(rows);
    free(mine);
    free(total);
    free(all);
    return shoal__agree(s->comm, rc);
}

/* ---- /points ------------------------------------------------------------------- */

/* Rows of the rank's points held in memory: [lo, hi) of the status column
 * and of every field a point needs. */
typedef struct {
    shoal_store *s;
    const shoal_app *app;
    shoal__runner *runner;
    size_t nf;
    int *need;          /* per field: read it */
    kind *kinds;        /* per field with a reduction */
    uint64_t cap, lo, hi, end;
    uint8_t *status;
    char **rows;        /* per field needed: cap rows */
    /* per point */
    shoal_moments *mom; /* per field (scalar float64) */
    double *sum;        /* per field (scalars) */
    double *mean, *loo; /* per field: pooled and leave-one-out means */
    void **st;          /* per field with a reduction: its state */
    shoal_moments *jack; /* per derived */
    /* output batch */
    uint64_t first, count;
    int64_t *o_reps;
    double **o_mean, **o_stderr, **o_der, **o_err;
    char **o_red;
    char **o_param;
} pts;

static int is_scalar(const shoal_field *f) { return f->ndims == 0; }

static int win_load(pts *c, uint64_t row)
{
    shoal_store *s = c->s;
    uint64_t n = c->cap < c->end - row ? c->cap : c->end - row;
    int rc = shoal__store_read_block(&s->col[COL_STATUS], row, 1, n, s->dxpl, c->status);
    for (size_t i = 0; i < c->nf && rc == 0; i++)
        if (c->need[i])
            rc = shoal__store_read_block(&s->field[i], row, 1, n, s->dxpl, c->rows[i]);
    if (rc < 0)
        return SHOAL_ERROR(rc, "cannot read rows %llu..%llu of '%s' for /points",
                           (unsigned long long)row, (unsigned long long)(row + n), s->path);
    c->lo = row;
    c->hi = row + n;
    return 0;
}

static double value_at(const pts *c, size_t i, uint64_t off)
{
    const shoal_field *f = &c->app->outputs[i];
    return f->type == SHOAL_INT64 ? (double)((const int64_t *)c->rows[i])[off]
                                  : ((const double *)c->rows[i])[off];
}

/* Pass over the done rows of [a, b): pass 1 folds everything; pass 2 the
 * jackknife of the derived quantities (n done rows, pooled sums known). */
static int point_pass(pts *c, uint64_t a, uint64_t b, int pass, uint64_t *n, uint64_t task0)
{
    const shoal_app *app = c->app;
    for (uint64_t row = a; row < b; row++) {
        if (row < c->lo || row >= c->hi) {
            int rc = win_load(c, row);
            if (rc < 0)
                return rc;
        }
        uint64_t off = row - c->lo;
        if (c->status[off] != SHOAL_STATUS_DONE)
            continue;
        if (pass == 1) {
            (*n)++;
            for (size_t i = 0; i < c->nf; i++) {
                const shoal_field *f = &app->outputs[i];
                if (is_scalar(f) && c->need[i]) {
                    double x = value_at(c, i, off);
                    c->sum[i] += x;
                    if (f->type == SHOAL_FLOAT64 && !isnan(x)) /* NaN: unset */
                        shoal_moments_add(&c->mom[i], x);
                }
                if (f->reduce != SHOAL_REDUCE_NONE)
                    fold(&c->kinds[i], c->st[i], c->rows[i] + off * c->kinds[i].w * 8);
            }
        } else {
            double m = (double)(*n - 1);
            for (size_t i = 0; i < c->nf; i++)
                c->loo[i] = is_scalar(&app->outputs[i]) && c->need[i]
                                ? (c->sum[i] - value_at(c, i, off)) / m
                                : NAN;
            for (size_t d = 0; d < app->nderived; d++) {
                double v;
                shoal__runner_derive(c->runner, task0, &app->derived[d], c->loo, &v);
                shoal_moments_add(&c->jack[d], v);
            }
        }
    }
    return 0;
}

static int do_point(pts *c, uint64_t p)
{
    const shoal_app *app = c->app;
    uint64_t R = c->s->agg.replicates, a = p * R, b = a + R, n = 0, k = p - c->first;
    for (size_t i = 0; i < c->nf; i++) {
        c->sum[i] = 0;
        memset(&c->mom[i], 0, sizeof c->mom[i]);
        if (app->outputs[i].reduce != SHOAL_REDUCE_NONE)
            state_clear(&c->kinds[i], c->st[i]);
    }
    int rc = point_pass(c, a, b, 1, &n, a);
    if (rc < 0)
        return rc;
    c->o_reps[k] = (int64_t)n;
    for (size_t i = 0; i < c->nf; i++) {
        const shoal_field *f = &app->outputs[i];
        if (c->o_mean[i]) {
            double m = c->mom[i].n;
            c->o_mean[i][k] = m > 0 ? c->mom[i].mean : NAN;
            c->o_stderr[i][k] = m > 1 ? sqrt(c->mom[i].m2 / (m - 1) / m) : NAN;
        }
        if (f->reduce != SHOAL_REDUCE_NONE)
            finish_state(&c->kinds[i], c->st[i], c->o_red[i] + k * c->kinds[i].w * 8);
        c->mean[i] = is_scalar(f) && c->need[i] && n > 0 ? c->sum[i] / (double)n : NAN;
    }
    for (size_t d = 0; d < app->nderived; d++) {
        double v = NAN;
        if (n > 0)
            shoal__runner_derive(c->runner, a, &app->derived[d], c->mean, &v);
        c->o_der[d][k] = v;
        c->o_err[d][k] = NAN;
        memset(&c->jack[d], 0, sizeof c->jack[d]);
    }
    if (app->nderived > 0 && n > 1) {
        rc = point_pass(c, a, b, 2, &n, a);
        for (size_t d = 0; d < app->nderived && rc == 0; d++)
            c->o_err[d][k] = sqrt((double)(n - 1) / (double)n * c->jack[d].m2);
    }
    return rc;
}

/* Write the batch's rows of every /points dataset. */
static int flush_batch(pts *c)
{
    shoal_store *s = c->s;
    shoal__agg *g = &s->agg;
    uint64_t f0 = c->first, n = c->count, R = g->replicates;
    if (n == 0)
        return 0;
    int rc = shoal__store_write_block(&g->p_reps, f0, n, s->dxpl, c->o_reps);
    for (size_t i = 0; i < s->nparams && rc == 0; i++) {
        rc = shoal__store_read_block(&s->param[i], f0 * R, R, n, s->dxpl, c->o_param[i]);
        if (rc == 0)
            rc = shoal__store_write_block(&g->p_param[i], f0, n, s->dxpl, c->o_param[i]);
    }
    for (size_t i = 0; i < c->nf && rc == 0; i++) {
        if (c->o_mean[i])
            rc = shoal__store_write_block(&g->p_mean[i], f0, n, s->dxpl, c->o_mean[i]);
        if (c->o_mean[i] && rc == 0)
            rc = shoal__store_write_block(&g->p_stderr[i], f0, n, s->dxpl, c->o_stderr[i]);
        if (c->o_red[i] && rc == 0)
            rc = shoal__store_write_block(&g->p_red[i], f0, n, s->dxpl, c->o_red[i]);
    }
    for (size_t d = 0; d < g->nderived && rc == 0; d++) {
        rc = shoal__store_write_block(&g->p_der[d], f0, n, s->dxpl, c->o_der[d]);
        if (rc == 0)
            rc = shoal__store_write_block(&g->p_der_err[d], f0, n, s->dxpl, c->o_err[d]);
    }
    if (rc < 0)
        return SHOAL_ERROR(rc, "cannot write /points rows %llu..%llu of '%s'",
                           (unsigned long long)f0, (unsigned long long)(f0 + n), s->path);
    c->first += n;
    c->count = 0;
    return 0;
}

static void pts_free(pts *c)
{
    size_t nf = c->nf;
    for (size_t i = 0; i < nf; i++) {
        if (c->rows)
            free(c->rows[i]);
        if (c->st)
            free(c->st[i]);
        if (c->o_mean) {
            free(c->o_mean[i]);
            free(c->o_stderr[i]);
            free(c->o_red[i]);
        }
    }
    for (size_t d = 0; c->o_der && d < c->app->nderived; d++) {
        free(c->o_der[d]);
        free(c->o_err[d]);
    }
    for (size_t i = 0; c->o_param && i < c->s->nparams; i++)
        free(c->o_param[i]);
    free(c->need);
    free(c->kinds);
    free(c->status);
    free(c->rows);
    free(c->mom);
    free(c->sum);
    free(c->mean);
    free(c->loo);
    free(c->st);
    free(c->jack);
    free(c->o_reps);
    free(c->o_mean);
    free(c->o_stderr);
    free(c->o_der);
    free(c->o_err);
    free(c->o_red);
    free(c->o_param);
}

#define ALLOC(p, n) ((p) = calloc((n) + 1, sizeof *(p))) == NULL

static int pts_alloc(pts *c)
{
    const shoal_app *app = c->app;
    shoal_store *s = c->s;
    size_t nf = c->nf, nd = app->nderived;
    if (ALLOC(c->need, nf) || ALLOC(c->kinds, nf) || ALLOC(c->rows, nf) ||
        ALLOC(c->mom, nf) || ALLOC(c->sum, nf) || ALLOC(c->mean, nf) || ALLOC(c->loo, nf) ||
        ALLOC(c->st, nf) || ALLOC(c->jack, nd) || ALLOC(c->o_reps, POINT_BATCH) ||
        ALLOC(c->o_mean, nf) || ALLOC(c->o_stderr, nf) || ALLOC(c->o_der, nd) ||
        ALLOC(c->o_err, nd) || ALLOC(c->o_red, nf) || ALLOC(c->o_param, s->nparams))
        return SHOAL_ENOMEM;
    uint64_t row_bytes = 1;
    for (size_t i = 0; i < nf; i++) {
        const shoal_field *f = &app->outputs[i];
        int mean = f->type == SHOAL_FLOAT64 && is_scalar(f);
        c->need[i] = mean || f->reduce != SHOAL_REDUCE_NONE || (nd > 0 && is_scalar(f));
        if (c->need[i])
            row_bytes += shoal_field_width(f) * 8;
        if (mean && (!(c->o_mean[i] = malloc(POINT_BATCH * 8)) ||
                     !(c->o_stderr[i] = malloc(POINT_BATCH * 8))))
            return SHOAL_ENOMEM;
        if (f->reduce != SHOAL_REDUCE_NONE) {
            c->kinds[i] = kind_of(f, app->ctx);
            if (!(c->st[i] = malloc(state_bytes(&c->kinds[i]))) ||
                !(c->o_red[i] = malloc(POINT_BATCH * c->kinds[i].w * 8)))
                return SHOAL_ENOMEM;
        }
    }
    c->cap = rows_per_read(row_bytes);
    if (!(c->status = malloc(c->cap)))
        return SHOAL_ENOMEM;
    for (size_t i = 0; i < nf; i++)
        if (c->need[i] && !(c->rows[i] = malloc(c->cap * shoal_field_width(&app->outputs[i]) * 8)))
            return SHOAL_ENOMEM;
    for (size_t d = 0; d < nd; d++)
        if (!(c->o_der[d] = malloc(POINT_BATCH * 8)) || !(c->o_err[d] = malloc(POINT_BATCH * 8)))
            return SHOAL_ENOMEM;
    for (size_t i = 0; i < s->nparams; i++) {
        size_t sz = H5Tget_size(s->param[i].mtype);
        if (!(c->o_param[i] = malloc(POINT_BATCH * (sz ? sz : 1))))
            return SHOAL_ENOMEM;
    }
    return 0;
}

static int reduce_points(shoal_store *s, const shoal_app *app, shoal__runner *runner)
{
    pts c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.app = app;
    c.runner = runner;
    c.nf = app->noutputs;
    uint64_t np = s->agg.npoints, R = s->agg.replicates;
    /* Contiguous chunks of points, one per rank. */
    uint64_t p0 = np * (uint64_t)s->rank / (uint64_t)s->nranks;
    uint64_t p1 = np * (uint64_t)(s->rank + 1) / (uint64_t)s->nranks;
    int rc = pts_alloc(&c);
    if (rc < 0)
        rc = SHOAL_ERROR(rc, "out of memory computing /points");
    rc = shoal__agree(s->comm, rc);
    c.end = p1 * R;
    c.first = p0;
    for (uint64_t p = p0; rc == 0 && p < p1; p++) {
        rc = do_point(&c, p);
        if (rc == 0 && shoal__inject("points", s->rank))
            rc = SHOAL_ERROR(SHOAL_EHDF5, "injected failure computing point %llu",
                             (unsigned long long)p);
        if (rc == 0 && ++c.count == POINT_BATCH)
            rc = flush_batch(&c);
    }
    if (rc == 0)
        rc = flush_batch(&c);
    pts_free(&c);
    return shoal__agree(s->comm, rc);
}

int shoal__reduce_run(shoal_store *s, const shoal_app *app, shoal__runner *runner)
{
    int any = s->agg.points;
    for (size_t i = 0; i < s->nfields; i++)
        any |= s->fields[i].reduce != SHOAL_REDUCE_NONE;
    if (!any)
        return 0;
    double t0 = MPI_Wtime();
    /* Every rank's rows are in the file: they are written with independent
     * MPI-IO, which keeps no cache of its own, and the pool has ended (as
     * for the status scan before this). No flush: an fsync of the whole
     * file would cost more than the reductions. */
    int rc = 0;
    MPI_Barrier(s->comm);
    for (size_t i = 0; i < s->nfields && rc == 0; i++)
        if (s->fields[i].reduce != SHOAL_REDUCE_NONE) {
            kind k = kind_of(&s->fields[i], app->ctx);
            rc = reduce_field(s, i, &k);
        }
    if (rc == 0 && s->agg.points)
        rc = reduce_points(s, app, runner);
    double dt = MPI_Wtime() - t0;
    MPI_Bcast(&dt, 1, MPI_DOUBLE, 0, s->comm);
    s->reduce_seconds = dt; /* an attribute at close: the same on every rank */
    if (rc == 0 && s->rank == 0)
        shoal_log_verbose("%s: /reduce and /points computed in %.3f s", app->name, dt);
    return rc;
}
