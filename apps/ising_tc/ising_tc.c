/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ising_tc: Tc of the 2-D Ising model from the crossings of Binder cumulant
 * curves, with a bootstrap error — an analysis of an ising2d scan over T and
 * L with replicates (configs/ising_tc_analysis.ini).
 *
 * The input is the scan's result file, one task per scan point
 * ([input] group_by = point), whose rows are the point's done replicates:
 *   [input] datasets = /results/m2, /results/m4, /params/T, /params/L
 * in this order (the app reads them by position; values that cannot be
 * ising2d's fail the task with a message naming the expected line).
 *
 * A task: the pooled Binder cumulant U = 1 - <m4> / (3 <m2>^2), the means
 * over the point's replicates (not the mean of per-chain cumulants, which
 * keeps each chain's bias), and `resamples` bootstrap values of it, each
 * from R replicates drawn with replacement out of the point's R. The draws
 * come from the task's own generator, keyed by (seed, point), so every value
 * is the same at any rank count. U_err is the standard deviation of the
 * bootstrap values.
 *
 * U_boot has a fixed length, RESAMPLES_MAX, its entries from `resamples` on
 * NaN. Output shapes are declared before shoal_main reads the config; sizing
 * the field from the config would mean parsing the file and every --set here
 * a second time, a copy of the library's parser that would drift from it.
 * 4096 resamples give the standard deviation to 1.1%; the row costs 32 KiB
 * per scan point whatever `resamples` is.
 *
 * The summary (rank 0, after the file is closed) pairs the sizes, L1 < L2,
 * and finds where U_L2(T) - U_L1(T) changes sign (crossing.c: a polynomial
 * fitted near the sign change), on the full sample and on each resample
 * alike; the error is the standard deviation over the resamples. Resample b
 * of every point is an independent draw, as the points themselves are. */
#include <shoal/shoal.h>

#include "crossing.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OUT_T, OUT_L, OUT_REPLICATES, OUT_U, OUT_U_ERR, OUT_U_BOOT, NOUTPUTS };
enum { IN_M2, IN_M4, IN_T, IN_L, NINPUTS };
/* Task failure codes (stored in /tasks/error). */
enum { FAIL_EMPTY = 1, FAIL_INPUT = 2 };

#define RESAMPLES_MAX 4096
#define INPUT_LINE "[input] datasets = /results/m2, /results/m4, /params/T, /params/L"
/* Failure messages keep to SHOAL_FAILURE_MSG (128) bytes, the hint included. */
#define WANT "; want " INPUT_LINE

static const char *const input_names[NINPUTS] = {
    [IN_M2] = "/results/m2", [IN_M4] = "/results/m4",
    [IN_T] = "/params/T", [IN_L] = "/params/L"};

static double binder(double m4, double m2)
{
    return m2 > 0 ? 1.0 - m4 / (3.0 * m2 * m2) : NAN;
}

/* The point's rows must be ising2d replicates of one (T, L): a misordered
 * or wrong datasets line shows up here. Returns 0 or fails the task. */
static int check_rows(shoal_task *t, const double *const in[NINPUTS], uint64_t R)
{
    unsigned long long point = shoal_task_index(t);
    double T = in[IN_T][0], L = in[IN_L][0];
    if (!(T > 0 && T < INFINITY) || !(L >= 2 && L <= 1e9 && L == floor(L)))
        return shoal_task_fail(t, FAIL_INPUT,
                               "point %llu: T %.4g, L %.4g not a T and a size" WANT,
                               point, T, L);
    for (uint64_t j = 0; j < R; j++) {
        double m2 = in[IN_M2][j], m4 = in[IN_M4][j];
        if (in[IN_T][j] != T || in[IN_L][j] != L)
            return shoal_task_fail(t, FAIL_INPUT,
                                   "point %llu: rows differ in T or L" WANT, point);
        /* m^4 <= m^2 <= 1 for every measurement, so for the averages. */
        if (!(m2 >= 0 && m2 <= 1 && m4 >= 0 && m4 <= m2 * (1 + 1e-12)))
            return shoal_task_fail(t, FAIL_INPUT,
                                   "point %llu: m2 %.3g, m4 %.3g not 0 <= m4 <= m2 <= 1" WANT,
                                   point, m2, m4);
    }
    return 0;
}

static int tc_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    long nb = shoal_param_long(t, "resamples");
    const double *in[NINPUTS];
    uint64_t R = 0;
    for (int k = 0; k < NINPUTS; k++) {
        uint64_t cols = 0;
        in[k] = shoal_input_double(t, k, &R, &cols);
        if (!in[k]) {
            int code = shoal_task_failed(t);
            return code ? code
                        : shoal_task_fail(t, FAIL_INPUT, "cannot read input dataset %d (%s?)",
                                          k + 1, input_names[k]);
        }
        if (R > 0 && cols != 1)
            return shoal_task_fail(t, FAIL_INPUT,
                                   "dataset %d (%s?) has %llu values a row, not 1", k + 1,
                                   input_names[k], (unsigned long long)cols);
    }
    if (R == 0)
        return shoal_task_fail(t, FAIL_EMPTY, "scan point %llu has no done replicate",
                               (unsigned long long)shoal_task_index(t));
    int rc = check_rows(t, in, R);
    if (rc)
        return rc;

    const double *m2 = in[IN_M2], *m4 = in[IN_M4];
    double a = 0, b = 0;
    for (uint64_t j = 0; j < R; j++) {
        a += m4[j];
        b += m2[j];
    }
    double *boot = shoal_out_double(t, OUT_U_BOOT);
    if (!boot)
        return shoal_task_failed(t);
    gsl_rng *r = shoal_task_rng(t);
    shoal_moments spread = {0, 0, 0};
    for (long s = 0; s < nb; s++) {
        double sa = 0, sb = 0;
        for (uint64_t j = 0; j < R; j++) {
            unsigned long k = gsl_rng_uniform_int(r, (unsigned long)R);
            sa += m4[k];
            sb += m2[k];
        }
        boot[s] = binder(sa / (double)R, sb / (double)R);
        shoal_moments_add(&spread, boot[s]);
    }
    for (long s = nb; s < RESAMPLES_MAX; s++)
        boot[s] = NAN;
    shoal_set_double(t, OUT_T, in[IN_T][0]);
    shoal_set_int64(t, OUT_L, (int64_t)in[IN_L][0]);
    shoal_set_int64(t, OUT_REPLICATES, (int64_t)R);
    shoal_set_double(t, OUT_U, binder(a / (double)R, b / (double)R));
    shoal_set_double(t, OUT_U_ERR, nb > 1 ? sqrt(spread.m2 / (double)(nb - 1)) : NAN);
    return SHOAL_OK;
}

/* ---- the summary: crossings of every pair of sizes ------------------------------------ */

/* What the summary reads of the analysis file: the usable points (done, U a
 * number) and their first nb bootstrap values. */
typedef struct {
    size_t n;          /* usable points */
    size_t nb;         /* resamples */
    double *T, *U;     /* [n] */
    int64_t *L;        /* [n] */
    double *boot;      /* [n x nb] */
    int64_t *sizes;    /* distinct L, ascending */
    double *temps;     /* distinct T, ascending */
    size_t nsizes, ntemps;
    int64_t *grid;     /* [nsizes x ntemps]: point at (L, T), or -1 */
} tc_points;

static void points_free(tc_points *p)
{
    free(p->T);
    free(p->U);
    free(p->L);
    free(p->boot);
    free(p->sizes);
    free(p->temps);
    free(p->grid);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t find_double(const double *v, size_t n, double x)
{
    const double *at = bsearch(&x, v, n, sizeof *v, cmp_double);
    return (size_t)(at - v);
}

static size_t find_int64(const int64_t *v, size_t n, int64_t x)
{
    const int64_t *at = bsearch(&x, v, n, sizeof *v, cmp_int64);
    return (size_t)(at - v);
}

/* Rows of U_boot read at a time: 2 MiB. */
#define BOOT_BLOCK 64

/* Reads the file into p. Returns 0 or a negative code (reported). */
static int points_read(const shoal_results *res, tc_points *p)
{
    uint64_t ntasks = shoal_results_ntasks(res);
    double nb = 0;
    int rc = shoal_results_param_double(res, "resamples", &nb);
    if (rc < 0)
        return rc;
    p->nb = (size_t)nb;
    uint8_t *status = malloc(ntasks);
    double *block = malloc((size_t)BOOT_BLOCK * RESAMPLES_MAX * sizeof *block);
    p->T = malloc(ntasks * sizeof *p->T);
    p->U = malloc(ntasks * sizeof *p->U);
    p->L = malloc(ntasks * sizeof *p->L);
    p->boot = malloc(ntasks * p->nb * sizeof *p->boot);
    if (!status || !block || !p->T || !p->U || !p->L || !p->boot)
        rc = SHOAL_ERROR(SHOAL_ENOMEM, "no memory for %llu points",
                         (unsigned long long)ntasks);
    if (rc == 0)
        rc = shoal_results_read_status(res, 0, ntasks, status);
    if (rc == 0)
        rc = shoal_results_read_double(res, "T", 0, ntasks, p->T);
    if (rc == 0)
        rc = shoal_results_read_int64(res, "L", 0, ntasks, p->L);
    if (rc == 0)
        rc = shoal_results_read_double(res, "U", 0, ntasks, p->U);
    /* Keep the usable points, compacted, with their bootstrap values. */
    size_t n = 0;
    for (uint64_t s = 0; s < ntasks && rc == 0; s += BOOT_BLOCK) {
        uint64_t count = ntasks - s < BOOT_BLOCK ? ntasks - s : BOOT_BLOCK;
        rc = shoal_results_read_double(res, "U_boot", s, count, block);
        for (uint64_t i = s; i < s + count && rc == 0; i++) {
            if (status[i] != SHOAL_STATUS_DONE || !isfinite(p->U[i]))
                continue;
            p->T[n] = p->T[i];
            p->L[n] = p->L[i];
            p->U[n] = p->U[i];
            memcpy(p->boot + n * p->nb, block + (i - s) * RESAMPLES_MAX,
                   p->nb * sizeof *block);
            n++;
        }
    }
    p->n = n;
    free(status);
    free(block);
    if (rc < 0)
        return rc;

    /* The distinct sizes and temperatures, and which point is at each. */
    p->sizes = malloc((n ? n : 1) * sizeof *p->sizes);
    p->temps = malloc((n ? n : 1) * sizeof *p->temps);
    if (!p->sizes || !p->temps)
        return SHOAL_ERROR(SHOAL_ENOMEM, "no memory for %zu points", n);
    memcpy(p->sizes, p->L, n * sizeof *p->L);
    memcpy(p->temps, p->T, n * sizeof *p->T);
    qsort(p->sizes, n, sizeof *p->sizes, cmp_int64);
    qsort(p->temps, n, sizeof *p->temps, cmp_double);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || p->sizes[i] != p->sizes[p->nsizes - 1])
            p->sizes[p->nsizes++] = p->sizes[i];
        if (i == 0 || p->temps[i] != p->temps[p->ntemps - 1])
            p->temps[p->ntemps++] = p->temps[i];
    }
    size_t cells = p->nsizes * p->ntemps;
    p->grid = malloc((cells > 0 ? cells : 1) * sizeof *p->grid);
    if (!p->grid)
        return SHOAL_ERROR(SHOAL_ENOMEM, "no memory for %zu x %zu points", p->nsizes,
                           p->ntemps);
    for (size_t i = 0; i < cells; i++)
        p->grid[i] = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t *g = &p->grid[find_int64(p->sizes, p->nsizes, p->L[i]) * p->ntemps +
                              find_double(p->temps, p->ntemps, p->T[i])];
        if (*g >= 0)
            return SHOAL_ERROR(SHOAL_EINVAL,
                               "two scan points have L = %lld, T = %.17g (the scan "
                               "varied another parameter): analyse one value of it at "
                               "a time",
                               (long long)p->L[i], p->T[i]);
        *g = (int64_t)i;
    }
    return 0;
}

static double onsager_tc(void) { return 2.0 / log(1.0 + sqrt(2.0)); }

/* Workspace of one pair: the common temperatures, the full sample's D, one
 * resample's D, the fitted values and each temperature's spread over the
 * resamples. */
typedef struct {
    double *T, *D, *Db, *fit;
    size_t *p1, *p2; /* the points of L1 and L2 at T[i] */
    shoal_moments *var;
} pair_ws;

/* One line of the table for sizes a < b (indices into p->sizes). */
static void crossing_row(const tc_points *p, size_t a, size_t b, size_t fit_points,
                         pair_ws *w)
{
    long long L1 = (long long)p->sizes[a], L2 = (long long)p->sizes[b];
    size_t m = 0;
    for (size_t j = 0; j < p->ntemps; j++) {
        int64_t i1 = p->grid[a * p->ntemps + j], i2 = p->grid[b * p->ntemps + j];
        if (i1 < 0 || i2 < 0)
            continue;
        w->T[m] = p->temps[j];
        w->p1[m] = (size_t)i1;
        w->p2[m] = (size_t)i2;
        w->D[m] = p->U[i2] - p->U[i1];
        m++;
    }
    printf("ising_tc: %5lld %5lld  ", L1, L2);
    crossing_window win;
    crossing_kind kind = crossing_window_find(w->T, w->D, m, fit_points, &win);
    if (kind != CROSSING_FOUND) {
        if (kind == CROSSING_TOO_FEW)
            printf("no crossing: %zu temperature%s run at both sizes, 2 needed\n", m,
                   m == 1 ? "" : "s");
        else
            printf("no crossing in [%.4f, %.4f]: %s\n", w->T[0], w->T[m - 1],
                   kind == CROSSING_ABOVE  ? "U_L2 > U_L1 at every T (Tc above the range?)"
                   : kind == CROSSING_BELOW ? "U_L2 <= U_L1 at every T (Tc below the range?)"
                                            : "U_L2 - U_L1 changes sign only from - to +, "
                                              "which a Binder crossing does not");
        return;
    }
    double tc = crossing_fit(w->T, w->D, &win, w->fit);
    shoal_moments spread = {0, 0, 0};
    size_t lost = 0, np = win.hi - win.lo;
    for (size_t i = 0; i < np; i++)
        w->var[i] = (shoal_moments){0, 0, 0};
    for (size_t s = 0; s < p->nb; s++) {
        for (size_t i = win.lo; i < win.hi; i++) {
            w->Db[i] = p->boot[w->p2[i] * p->nb + s] - p->boot[w->p1[i] * p->nb + s];
            shoal_moments_add(&w->var[i - win.lo], w->Db[i]);
        }
        double tb = crossing_fit(w->T, w->Db, &win, NULL);
        if (isfinite(tb))
            shoal_moments_add(&spread, tb);
        else
            lost++;
    }
    double err = spread.n > 1 ? sqrt(spread.m2 / (spread.n - 1)) : NAN;
    /* chi^2 of the full-sample fit with the bootstrap variances of D. */
    double chi2 = 0;
    for (size_t i = 0; i < np; i++)
        chi2 += (w->D[win.lo + i] - w->fit[i]) * (w->D[win.lo + i] - w->fit[i]) /
                (w->var[i].n > 1 ? w->var[i].m2 / (w->var[i].n - 1) : NAN);
    size_t terms = crossing_fit_terms(&win), dof = np - terms;
    if (isfinite(tc))
        printf("%10.6f %9.6f %+12.2f", tc, err,
               err > 0 ? (tc - onsager_tc()) / err : NAN);
    else
        printf("%10s %9s %12s", "none", "-", "-");
    printf("   %s over %zu T in [%.4f, %.4f]", terms == 3 ? "parabola" : "line", np,
           w->T[win.lo], w->T[win.hi - 1]);
    if (dof > 0 && isfinite(chi2))
        printf(", chi2 %.1f / %zu (p = %.2g)", chi2, dof,
               gsl_cdf_chisq_Q(chi2, (double)dof));
    printf("\n");
    if (!isfinite(tc))
        printf("ising_tc:              the fitted polynomial has no real root: set "
               "[ising_tc] fit_points lower\n");
    if (win.changes > 1)
        printf("ising_tc:              U_L2 - U_L1 falls through 0 %zu times (noise); "
               "the steepest fall is used\n", win.changes);
    if (lost)
        printf("ising_tc:              %zu of %zu resamples had no real root and are left "
               "out of the error\n", lost, p->nb);
    if (dof > 0 && isfinite(chi2) && gsl_cdf_chisq_Q(chi2, (double)dof) < 1e-3)
        printf("ising_tc:              the %s does not describe U_L2 - U_L1 over the "
               "window (p < 0.001): set [ising_tc] fit_points lower\n",
               terms == 3 ? "parabola" : "line");
}

static int tc_summary(const shoal_results *res, void *ctx)
{
    (void)ctx;
    tc_points p = {0};
    double fit_points = 0;
    int rc = shoal_results_param_double(res, "fit_points", &fit_points);
    if (rc == 0)
        rc = points_read(res, &p);
    pair_ws w = {0};
    if (rc == 0) {
        size_t m = p.ntemps ? p.ntemps : 1;
        w.T = malloc(m * sizeof *w.T);
        w.D = malloc(m * sizeof *w.D);
        w.Db = malloc(m * sizeof *w.Db);
        w.fit = malloc(m * sizeof *w.fit);
        w.p1 = malloc(m * sizeof *w.p1);
        w.p2 = malloc(m * sizeof *w.p2);
        w.var = malloc(m * sizeof *w.var);
        if (!w.T || !w.D || !w.Db || !w.fit || !w.p1 || !w.p2 || !w.var)
            rc = SHOAL_ERROR(SHOAL_ENOMEM, "no memory for %zu temperatures", m);
    }
    if (rc == 0) {
        printf("ising_tc: Binder cumulant crossings of %zu sizes at %zu temperatures; "
               "error: standard deviation over %zu bootstrap resamples\n",
               p.nsizes, p.ntemps, p.nb);
        if (p.nsizes < 2)
            printf("ising_tc: fewer than 2 lattice sizes among the done points: no "
                   "crossing to find\n");
        else
            printf("ising_tc: %5s %5s  %10s %9s %12s   %s\n", "L1", "L2", "Tc", "error",
                   "(Tc-Ons)/err", "fit of U_L2 - U_L1");
        for (size_t a = 0; a < p.nsizes; a++)
            for (size_t b = a + 1; b < p.nsizes; b++)
                crossing_row(&p, a, b, (size_t)fit_points, &w);
        printf("ising_tc: Onsager's Tc = 2 / ln(1 + sqrt 2) = %.7f; two finite sizes "
               "cross slightly below it (32 and 64: ~1.5e-4, configs/ising_tc_test.ini)\n",
               onsager_tc());
    }
    free(w.T);
    free(w.D);
    free(w.Db);
    free(w.fit);
    free(w.p1);
    free(w.p2);
    free(w.var);
    points_free(&p);
    return rc;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [OUT_T] = {.name = "T", .unit = "J/k_B", .type = SHOAL_FLOAT64, .doc = "the point's temperature"},
        [OUT_L] = {.name = "L", .unit = "1", .type = SHOAL_INT64, .doc = "the point's lattice size"},
        [OUT_REPLICATES] = {.name = "replicates", .unit = "1", .type = SHOAL_INT64,
                            .doc = "done replicates of the point in the scan"},
        [OUT_U] = {.name = "U", .unit = "1", .type = SHOAL_FLOAT64,
                   .doc = "Binder cumulant 1 - <m4> / (3 <m2>^2), means over the "
                          "replicates"},
        [OUT_U_ERR] = {.name = "U_err", .unit = "1", .type = SHOAL_FLOAT64,
                       .doc = "standard deviation of U_boot (NaN for 1 resample)"},
        [OUT_U_BOOT] = {.name = "U_boot", .unit = "1", .type = SHOAL_FLOAT64, .ndims = 1,
                        .dims = {RESAMPLES_MAX},
                        .doc = "U of each bootstrap resample of the replicates; "
                               "entries from [ising_tc] resamples on are NaN"},
    };
    static const shoal_param params[] = {
        {.name = "resamples", .unit = "1", .type = SHOAL_INT64, .dflt = "1000",
         .doc = "bootstrap resamples per point (U_boot holds at most 4096)", .min = 1,
         .max = RESAMPLES_MAX},
        {.name = "fit_points", .unit = "1", .type = SHOAL_INT64, .dflt = "5",
         .doc = "temperatures nearest the sign change fitted (a parabola from 4, a "
                "line below); shrink the window as 1/L",
         .min = 2, .max = 1e6},
    };
    const shoal_app app = {
        .name = "ising_tc",
        .doc = "Tc of the 2D Ising model from the crossings of Binder cumulants, with "
               "a bootstrap error:\nanalyses an ising2d scan over T and L "
               "(" INPUT_LINE ", group_by = point).",
        .run = tc_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .summary = tc_summary,
    };
    return shoal_main(&app, argc, argv);
}
