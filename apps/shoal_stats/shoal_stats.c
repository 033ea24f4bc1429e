/* SPDX-License-Identifier: GPL-3.0-or-later */
/* shoal-stats: count, mean, standard deviation, min, max and a histogram of
 * every column of numeric 1-D or 2-D datasets in any HDF5 file, over all
 * ranks, into one result file (docs/analysis.md, "shoal-stats").
 *
 *   mpirun -n 4 shoal-stats stats.ini      with [input] file, datasets
 *   shoal-stats stats.ini --set shoal_stats.bins=100 --set shoal_stats.range=-5:5
 *
 * main() builds the output fields from the data's shapes before handing
 * over to shoal_main (plan.c); MPI is main's: shoal_main then leaves it
 * alone. Each task summarises its block of rows of every dataset, column by
 * column, into its /results row: (count, mean, M2), min, max, histogram,
 * below/above and NaN counts; the library combines the rows in task order
 * into /reduce/<dataset>_*, bit-identical at any rank count. The summary
 * prints a table from /reduce.
 *
 * Within a task a column is taken BLOCK values at a time: the block's
 * mean from its sum, its M2 from a second pass over the block (in cache),
 * then merged into the task's moments by the pairwise formula — as exact as
 * a two-pass computation, with no division per value. */
#include "stats.h"

#include <shoal/error.h>
#include <shoal/log.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values of one column summarised at a time (fits in L1 with its bins). */
#define BLOCK 4096
/* A 2-D block: about this many values, at least 16 rows. */
#define BLOCK_CELLS 32768

typedef struct {
    double *column; /* BLOCK values: one column of a 2-D block */
} workspace;

static int ws_init(void *ctx, void **out)
{
    (void)ctx;
    workspace *w = malloc(sizeof *w);
    if (w && !(w->column = malloc(BLOCK * sizeof *w->column))) {
        free(w);
        w = NULL;
    }
    *out = w;
    return w ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "shoal_stats: out of memory for a workspace");
}

static void ws_free(void *ctx, void *wsp)
{
    (void)ctx;
    workspace *w = wsp;
    if (w)
        free(w->column);
    free(w);
}

/* One column's outputs and histogram geometry. */
typedef struct {
    shoal_moments *mom;
    double *mn, *mx;
    int64_t *hist, *outside, *nan;
    const double *edges; /* bins + 2: the bins' edges, then +inf */
    double lo, hi, scale;
    uint64_t bins;
} column;

/* One value x of a column, in lane (s, mn, mx): min and max (NaN fails
 * both comparisons), and for a number the sum, the count and its bin, or
 * below / above the range. The bin: a first guess from the scale, then
 * moved to the bin whose edges hold x (edge[b] <= x < edge[b+1]; x = hi,
 * which reaches the sentinel edge[bins + 1] = +inf, goes to the last bin),
 * as numpy.histogram bins. */
#define ONE(x, s, mn, mx)                                                                      \
    do {                                                                                       \
        mn = x < mn ? x : mn;                                                                  \
        mx = x > mx ? x : mx;                                                                  \
        if (x >= lo && x <= hi) {                                                              \
            s += x;                                                                            \
            cnt++;                                                                             \
            double t_ = (x - lo) * scale;                                                      \
            int64_t b_ = t_ < fbins ? (int64_t)t_ : last;                                      \
            while (x < e[b_])                                                                  \
                b_--;                                                                          \
            while (x >= e[b_ + 1])                                                             \
                b_++;                                                                          \
            h[b_ - (b_ > last)]++;                                                             \
        } else if (x == x) {                                                                   \
            s += x;                                                                            \
            cnt++;                                                                             \
            below += x < lo;                                                                   \
            above += x > hi;                                                                   \
        }                                                                                      \
    } while (0)

/* Fold n values of one column into its outputs: one pass for the count,
 * sum, min, max and histogram (two lanes), then the squared deviations
 * from the block's mean (four lanes; the block is still in cache). The
 * column's fields are copied into locals: the histogram's stores could
 * otherwise alias them. */
static void summarise(const column *c, const double *v, uint64_t n)
{
    const double lo = c->lo, hi = c->hi, scale = c->scale, fbins = (double)c->bins;
    const int64_t last = (int64_t)c->bins - 1;
    const double *e = c->edges;
    int64_t *h = c->hist;
    double s0 = 0, s1 = 0, mn0 = *c->mn, mn1 = mn0, mx0 = *c->mx, mx1 = mx0;
    uint64_t cnt = 0, below = 0, above = 0, i = 0;
    for (; i + 2 <= n; i += 2) {
        double x0 = v[i], x1 = v[i + 1];
        ONE(x0, s0, mn0, mx0);
        ONE(x1, s1, mn1, mx1);
    }
    if (i < n) {
        double x0 = v[i];
        ONE(x0, s0, mn0, mx0);
    }
    *c->mn = mn1 < mn0 ? mn1 : mn0;
    *c->mx = mx1 > mx0 ? mx1 : mx0;
    *c->nan += (int64_t)(n - cnt);
    c->outside[0] += (int64_t)below;
    c->outside[1] += (int64_t)above;
    if (cnt == 0)
        return;
    double mean = (s0 + s1) / (double)cnt, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    i = 0;
    if (cnt == n) /* no NaN */
        for (; i + 4 <= n; i += 4) {
            double d0 = v[i] - mean, d1 = v[i + 1] - mean, d2 = v[i + 2] - mean,
                   d3 = v[i + 3] - mean;
            q0 += d0 * d0;
            q1 += d1 * d1;
            q2 += d2 * d2;
            q3 += d3 * d3;
        }
    for (; i < n; i++) {
        double d = v[i] - mean;
        q0 += v[i] == v[i] ? d * d : 0.0; /* an infinity makes M2 NaN, as in numpy */
    }
    shoal_moments b = {(double)cnt, mean, (q0 + q1) + (q2 + q3)};
    shoal_moments_merge(c->mom, &b);
}
#undef ONE

/* Dataset k of this task: every column over the task's rows. */
static int stats_dataset(shoal_task *t, const stats_plan *p, size_t k, workspace *w)
{
    const stats_dset *d = &p->d[k];
    uint64_t rows, cols;
    const double *x = shoal_input_double(t, (int)k, &rows, &cols);
    if (!x)
        return shoal_task_failed(t); /* failed with the reason */
    if (cols != d->cols)
        return shoal_task_fail(t, SHOAL_EIO,
                               "'%s' has %llu columns now but had %llu when shoal-stats "
                               "started: the input changed; run again",
                               d->path, (unsigned long long)cols, (unsigned long long)d->cols);
    double *mom = shoal_out_double(t, plan_field(p, k, F_MOMENTS));
    double *mn = shoal_out_double(t, plan_field(p, k, F_MIN));
    double *mx = shoal_out_double(t, plan_field(p, k, F_MAX));
    int64_t *hist = shoal_out_int64(t, plan_field(p, k, F_HIST));
    int64_t *out = shoal_out_int64(t, plan_field(p, k, F_OUTSIDE));
    int64_t *nan = shoal_out_int64(t, plan_field(p, k, F_NAN));
    double *range = shoal_out_double(t, plan_field(p, k, F_RANGE));
    if (!mom || !mn || !mx || !hist || !out || !nan || !range)
        return shoal_task_failed(t);
    uint64_t bins = p->bins;
    memset(mom, 0, cols * 3 * sizeof *mom);
    memset(hist, 0, cols * bins * sizeof *hist);
    memset(out, 0, cols * 2 * sizeof *out);
    memset(nan, 0, cols * sizeof *nan);
    for (uint64_t c = 0; c < cols; c++) {
        mn[c] = INFINITY;
        mx[c] = -INFINITY;
        range[2 * c] = d->lo[c];
        range[2 * c + 1] = d->hi[c];
    }
    uint64_t brows = cols == 1 ? BLOCK : BLOCK_CELLS / cols;
    brows = brows < 16 ? 16 : brows > BLOCK ? BLOCK : brows;
    for (uint64_t r0 = 0; r0 < rows; r0 += brows) {
        uint64_t n = rows - r0 < brows ? rows - r0 : brows;
        for (uint64_t c = 0; c < cols; c++) {
            column col = {(shoal_moments *)(mom + 3 * c), mn + c, mx + c, hist + c * bins,
                          out + 2 * c, nan + c, d->edges + c * (bins + 2), d->lo[c],
                          d->hi[c], d->scale[c], bins};
            const double *v = x + r0;
            if (cols > 1) {
                for (uint64_t i = 0; i < n; i++)
                    w->column[i] = x[(r0 + i) * cols + c];
                v = w->column;
            }
            summarise(&col, v, n);
        }
    }
    return 0;
}

static int stats_task(shoal_task *t, void *ctx)
{
    const stats_plan *p = ctx;
    workspace *w = shoal_task_workspace(t);
    for (size_t k = 0; k < p->nd; k++) {
        int rc = stats_dataset(t, p, k, w);
        if (rc != 0)
            return rc;
    }
    return SHOAL_OK;
}

/* ---- the summary ------------------------------------------------------------------ */

/* Columns of a dataset printed; the rest are in the file. */
#define SHOWN_COLUMNS 8

static int read_reduced(const shoal_results *res, const char *base, const char *suffix,
                        int ints, void *buf, size_t n)
{
    char path[1200];
    snprintf(path, sizeof path, "reduce/%s%s", base, suffix);
    return ints ? shoal_results_read_all_int64(res, path, buf, n, NULL)
                : shoal_results_read_all_double(res, path, buf, n, NULL);
}

static void print_number(double v)
{
    if (isfinite(v))
        printf(" %14.7g", v);
    else
        printf(" %14s", "-");
}

static int print_dataset(const shoal_results *res, const stats_plan *p, const stats_dset *d)
{
    uint64_t cols = d->cols, shown = cols < SHOWN_COLUMNS ? cols : SHOWN_COLUMNS;
    double *mom = malloc(cols * 3 * sizeof *mom), *mn = malloc(cols * sizeof *mn);
    double *mx = malloc(cols * sizeof *mx);
    int64_t *nan = malloc(cols * sizeof *nan), *out = malloc(cols * 2 * sizeof *out);
    int rc = mom && mn && mx && nan && out ? 0 : SHOAL_ENOMEM;
    if (rc == 0)
        rc = read_reduced(res, d->base, "_moments", 0, mom, cols * 3);
    if (rc == 0)
        rc = read_reduced(res, d->base, "_min", 0, mn, cols);
    if (rc == 0)
        rc = read_reduced(res, d->base, "_max", 0, mx, cols);
    if (rc == 0)
        rc = read_reduced(res, d->base, "_nan", 1, nan, cols);
    if (rc == 0)
        rc = read_reduced(res, d->base, "_outside", 1, out, cols * 2);
    for (uint64_t c = 0; rc == 0 && c < shown; c++) {
        char name[1100];
        if (d->ndims == 2)
            snprintf(name, sizeof name, "%s[%llu]", d->path, (unsigned long long)c);
        else
            snprintf(name, sizeof name, "%s", d->path);
        double n = mom[3 * c], m2 = mom[3 * c + 2];
        printf("%s: %-14s %12.0f %8lld", "shoal_stats", name, n, (long long)nan[c]);
        print_number(n > 0 ? mom[3 * c + 1] : NAN);
        print_number(n > 1 ? sqrt(m2 / (n - 1)) : NAN);
        print_number(n > 0 ? mn[c] : NAN);
        print_number(n > 0 ? mx[c] : NAN);
        printf(" %10lld\n", (long long)(out[2 * c] + out[2 * c + 1]));
    }
    if (rc == 0 && cols > shown)
        printf("shoal_stats: %s: %llu more columns in /reduce/%s_*\n", d->path,
               (unsigned long long)(cols - shown), d->base);
    (void)p;
    free(mom);
    free(mn);
    free(mx);
    free(nan);
    free(out);
    return rc == SHOAL_ENOMEM ? SHOAL_ERROR(rc, "shoal_stats: out of memory for the summary")
                              : rc;
}

static int stats_summary(const shoal_results *res, void *ctx)
{
    const stats_plan *p = ctx;
    double failed = 0;
    if (shoal_results_attr_double(res, "tasks_failed", &failed) == 0 && failed > 0)
        printf("shoal_stats: %.0f tasks failed: the statistics cover the rows of the "
               "tasks done only\n", failed);
    printf("shoal_stats: %-14s %12s %8s %14s %14s %14s %14s %10s\n", "dataset", "count", "NaN",
           "mean", "std", "min", "max", "outside");
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < p->nd; k++)
        rc = print_dataset(res, p, &p->d[k]);
    if (rc == 0)
        printf("shoal_stats: std is the sample standard deviation (n - 1); histograms, "
               "ranges and (count, mean, M2) in /reduce\n");
    return rc;
}

int main(int argc, char **argv)
{
    stats_plan plan;
    memset(&plan, 0, sizeof plan);
    shoal_app app = {
        .name = "shoal_stats",
        .doc = "Count, mean, standard deviation, min, max and a histogram of every column of "
               "numeric 1-D\nor 2-D datasets of an HDF5 file ([input] file, datasets), "
               "into /reduce/<dataset>_moments,\n_min, _max, _hist, _outside, _nan and _range "
               "(a dataset /a/b is named a_b).",
        .run = stats_task,
        .params = stats_params,
        .nparams = stats_nparams,
        .ctx = &plan,
        .worker_init = ws_init,
        .worker_finalize = ws_free,
        .summary = stats_summary,
    };
    /* --help and --version work without MPI: shoal_main answers them. */
    if (plan_wants_help(argc, argv))
        return shoal_main(&app, argc, argv);
    MPI_Init(&argc, &argv);
    int rank, status;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int rc = plan_build(&plan, argc, argv, MPI_COMM_WORLD);
    if (rc == 0) {
        app.outputs = plan.fields;
        app.noutputs = plan.nfields;
        status = shoal_main(&app, plan.argc, plan.argv);
    } else if (rc == PLAN_DEFER) {
        /* shoal_main, with --dry-run, says what is wrong and writes
         * nothing. Should it find nothing wrong, our own reason stands. */
        status = shoal_main(&app, plan.argc, plan.argv);
        if (status == SHOAL_EXIT_OK) {
            if (rank == 0)
                shoal_log_error("shoal_stats: %s", plan.defer_why);
            status = SHOAL_EXIT_USAGE;
        }
    } else {
        status = plan_exit_status(rc);
    }
    plan_free(&plan);
    MPI_Finalize();
    return status;
}
