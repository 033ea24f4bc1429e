/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check_ising2d: checks an ising2d result file against exact results for the
 * 2D Ising model (J = 1, k_B = 1, no field), so that the physics tests need
 * no Python.
 *
 *   check_ising2d FILE yang T K      <|m|> vs Yang's spontaneous magnetisation
 *   check_ising2d FILE onsager T K   <e> vs Onsager's energy per spin
 *   check_ising2d FILE exact L T K   <|m|>, <m^2>, <m^4>, <e>, <e^2> vs exact
 *                                    enumeration of the L x L torus (L <= 5)
 *   check_ising2d FILE binder_crossing L1 L2 K [TMIN TMAX]
 *                                    Tc from the Binder cumulant crossing of
 *                                    sizes L1 and L2 in a [scan] over T and L
 *   check_ising2d FILE pooled K      per scan point (a [scan] over T and L,
 *                                    L <= 5), the framework's /points: pooled
 *                                    moments and the derived susceptibility,
 *                                    specific heat and Binder cumulant vs
 *                                    exact enumeration, and the per-chain
 *                                    averages shown biased (see check_pooled)
 *   check_ising2d FILE tau MEAS K    tau_abs_m and tau_energy (per chain, MEAS
 *                                    measurements each) vs the
 *                                    autocorrelation time implied by the
 *                                    scatter of the replicates' means
 *
 * The first three read a file whose tasks are replicates of one point: the
 * estimate is the mean over tasks and its standard error sd / sqrt(R), which
 * is honest because every task is an independent chain (own random stream,
 * own start) whatever the autocorrelation time inside a task. T and L are
 * passed on the command line by the test, from the same CMake variables as
 * the --set options of the run. Every task must be done.
 *
 * A check prints estimate, standard error, exact value and the deviation in
 * standard errors, and fails (exit 1) when |deviation| > K. Exit 2: usage or
 * a file that cannot be read. */
#include "../points.h"

#include <shoal/shoal.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_poly.h>
#include <gsl/gsl_sf_ellint.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Onsager (1944): Tc = 2 / ln(1 + sqrt 2) = 2.269185314... */
static double onsager_tc(void) { return 2.0 / log(1.0 + sqrt(2.0)); }

/* Yang (1952), Phys. Rev. 85, 808: spontaneous magnetisation per spin for
 * T < Tc, M = (1 - sinh(2/T)^-4)^(1/8). */
static double yang_m(double T)
{
    double s = sinh(2.0 / T);
    return pow(1.0 - pow(s, -4.0), 0.125);
}

/* Onsager (1944), Phys. Rev. 65, 117: energy per spin in the thermodynamic
 * limit, u = -coth(2/T) [1 + (2/pi) (2 tanh^2(2/T) - 1) K(k)] with modulus
 * k = 2 sinh(2/T) / cosh^2(2/T) and K the complete elliptic integral of the
 * first kind (GSL takes the modulus k, not the parameter k^2). At Tc, k = 1
 * and K diverges while its prefactor vanishes: u(Tc) = -sqrt 2. */
static double onsager_u(double T)
{
    double b2 = 2.0 / T, c = cosh(b2), th = tanh(b2);
    double k = 2.0 * sinh(b2) / (c * c);
    if (fabs(1.0 - k) < 1e-12)
        return -M_SQRT2;
    return -(1.0 / th) * (1.0 + M_2_PI * (2.0 * th * th - 1.0) *
                                    gsl_sf_ellint_Kcomp(k, GSL_PREC_DOUBLE));
}

/* ---- reading the file ------------------------------------------------------ */

typedef struct {
    shoal_results *res;
    uint64_t n;
    const char *path;
} rfile;

/* Open the file and require every task to be done: a failed or missing task
 * is itself a failed check. */
static int open_done(const char *path, rfile *f)
{
    f->path = path;
    if (shoal_results_open(path, &f->res) < 0) {
        fprintf(stderr, "check_ising2d: cannot open %s\n", path);
        return 2;
    }
    f->n = shoal_results_ntasks(f->res);
    uint8_t *st = malloc(f->n ? f->n : 1);
    if (!st || shoal_results_read_status(f->res, 0, f->n, st) < 0) {
        free(st);
        fprintf(stderr, "check_ising2d: cannot read the task status\n");
        return 2;
    }
    uint64_t done = 0;
    for (uint64_t i = 0; i < f->n; i++)
        done += st[i] == SHOAL_STATUS_DONE;
    free(st);
    if (done != f->n) {
        fprintf(stderr, "check_ising2d: only %llu of %llu tasks done\n",
                (unsigned long long)done, (unsigned long long)f->n);
        return 1;
    }
    return 0;
}

/* All rows of /results/<field>; NULL after a message on failure. */
static double *read_field(const rfile *f, const char *field)
{
    double *v = malloc((f->n ? f->n : 1) * sizeof *v);
    if (!v || shoal_results_read_double(f->res, field, 0, f->n, v) < 0) {
        fprintf(stderr, "check_ising2d: cannot read %s from %s\n", field,
                f->path);
        free(v);
        return NULL;
    }
    return v;
}

/* /params/<name> of a scanned run ([scan] writes one column per scanned
 * parameter). */
static int read_param(const rfile *f, const char *name, int integer,
                      void *buf)
{
    char path[256];
    snprintf(path, sizeof path, "params/%s", name);
    int rc = integer ? shoal_results_read_column_int64(f->res, path, 0, f->n,
                                                       buf)
                     : shoal_results_read_column_double(f->res, path, 0, f->n,
                                                        buf);
    if (rc < 0) {
        fprintf(stderr,
                "check_ising2d: %s has no /%s column (was it run with a [scan] "
                "over %s?)\n",
                f->path, path, name);
        return 2;
    }
    return 0;
}

/* ---- statistics -------------------------------------------------------------- */

/* Mean over replicates and its standard error sd / sqrt(R). */
static void mean_se(const double *x, uint64_t n, double *mean, double *se)
{
    double s = 0, ss = 0;
    for (uint64_t i = 0; i < n; i++)
        s += x[i];
    double m = s / (double)n;
    for (uint64_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *se = n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : INFINITY;
}

/* Print one comparison; 1 if |deviation| > k standard errors. */
static int report(const char *what, double est, double se, double exact,
                  double k)
{
    double dev = (est - exact) / se;
    int bad = !(fabs(dev) <= k); /* NaN fails too */
    printf("%-10s estimate %.8f  SE %.3e  exact %.8f  deviation %+.2f SE  "
           "(bound %g SE)  %s\n",
           what, est, se, exact, dev, k, bad ? "FAIL" : "ok");
    return bad;
}

/* Replicates of one point: mean and SE of a field, compared with exact. */
static int check_field(const rfile *f, const char *field, double exact,
                       double k)
{
    double *v = read_field(f, field);
    if (!v)
        return 2;
    double m, se;
    mean_se(v, f->n, &m, &se);
    free(v);
    return report(field, m, se, exact, k);
}

/* ---- exact enumeration of small tori ------------------------------------------- */

/* Exact averages on the L x L torus (L <= 5: 2^25 states) with the energy
 * of the app, E = -sum_i s_i (s_right + s_down), so that L = 2 has its
 * doubled bonds too. States are visited in Gray-code order (one spin flip per
 * step, E and M updated in O(1)) into a histogram g(E, M) of exact counts,
 * then weighted with exp(-(E - Emin) / T). */
typedef struct {
    double abs_m, m2, m4, e, e2;
} moments;

static int enumerate(int L, double T, moments *out)
{
    int N = L * L;
    int nE = 4 * N + 1, nM = 2 * N + 1;
    int64_t *g = calloc((size_t)nE * (size_t)nM, sizeof *g);
    int8_t s[25];
    int nb[25][4];
    if (!g)
        return -1;
    for (int i = 0; i < N; i++) {
        int x = i % L, y = i / L;
        nb[i][0] = y * L + (x + 1) % L;
        nb[i][1] = y * L + (x + L - 1) % L;
        nb[i][2] = ((y + 1) % L) * L + x;
        nb[i][3] = ((y + L - 1) % L) * L + x;
        s[i] = 1;
    }
    int E = -2 * N, M = N;
    uint64_t states = (uint64_t)1 << N;
    for (uint64_t k = 0;; k++) {
        g[(size_t)(E + 2 * N) * (size_t)nM + (size_t)(M + N)]++;
        if (k + 1 == states)
            break;
        int i = __builtin_ctzll(k + 1);
        int h = s[nb[i][0]] + s[nb[i][1]] + s[nb[i][2]] + s[nb[i][3]];
        E += 2 * s[i] * h;
        M -= 2 * s[i];
        s[i] = (int8_t)-s[i];
    }
    double Z = 0, am = 0, m2 = 0, m4 = 0, e = 0, e2 = 0;
    for (int a = 0; a < nE; a++)
        for (int b = 0; b < nM; b++) {
            int64_t c = g[(size_t)a * (size_t)nM + (size_t)b];
            if (!c)
                continue;
            double w = (double)c * exp(-(double)a / T); /* a = E - Emin */
            double ms = (double)(b - N) / N, es = (double)(a - 2 * N) / N;
            Z += w;
            am += w * fabs(ms);
            m2 += w * ms * ms;
            m4 += w * ms * ms * ms * ms;
            e += w * es;
            e2 += w * es * es;
        }
    free(g);
    *out = (moments){am / Z, m2 / Z, m4 / Z, e / Z, e2 / Z};
    return 0;
}

/* ---- Tc from the Binder cumulant crossing -------------------------------------- */

/* Pooled Binder cumulant of one (L, T) point from its R replicates,
 * U = 1 - <m4> / (3 <m2>^2) with <.> the mean over replicates (the ratio of
 * means, not the mean of per-task ratios, whose bias grows with shorter
 * runs), and its delete-one jackknife variance. */
static void binder_point(const double *m2, const double *m4, const int *idx,
                         int R, double *U, double *var)
{
    double A = 0, B = 0;
    for (int j = 0; j < R; j++) {
        A += m4[idx[j]];
        B += m2[idx[j]];
    }
    *U = 1.0 - (A / R) / (3.0 * (B / R) * (B / R));
    double s = 0, ss = 0;
    double *uj = malloc((size_t)R * sizeof *uj);
    for (int j = 0; j < R && uj; j++) {
        double a = (A - m4[idx[j]]) / (R - 1), b = (B - m2[idx[j]]) / (R - 1);
        uj[j] = 1.0 - a / (3.0 * b * b);
        s += uj[j];
    }
    for (int j = 0; j < R && uj; j++)
        ss += (uj[j] - s / R) * (uj[j] - s / R);
    *var = uj ? (R - 1.0) / R * ss : INFINITY;
    free(uj);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* D(T) = U_L2(T) - U_L1(T) changes sign at the crossing: > 0 below Tc (the
 * larger lattice is more ordered, U -> 2/3), < 0 above (U -> 0). Each T in
 * [tmin, tmax] run at both sizes gives one D with its variance (points are
 * independent). A polynomial in T - Tmid (a line for 2 or 3 temperatures, a
 * parabola from 4) is fitted by ordinary least squares and its root in the
 * window is the crossing. Not weighted by 1 / var: with ~16 replicates the
 * jackknife variance of a point is itself uncertain by ~35% and correlated
 * with the point's value, and weights built from it bias the fit; unit
 * weights keep the fitted coefficients linear in the data.
 * The coefficients' covariance is the sandwich C (sum var_i x_i x_i') C,
 * C = (X'X)^-1, and var T* = g' cov g / D'(T*)^2 with g = (1, x, x^2). A
 * chi^2 (with the point variances) whose probability is below 1e-4 means the
 * polynomial does not describe D over the window (too wide): that fails too
 * rather than give a biased T*. The window has to shrink as 1/L for that;
 * configs/ising_tc_test.ini has the numbers. */
static int check_crossing(const char *path, long L1, long L2, double k,
                          double tmin, double tmax)
{
    rfile f = {0};
    int rc = open_done(path, &f);
    if (rc) {
        if (f.res)
            shoal_results_close(f.res);
        return rc;
    }
    uint64_t n = f.n;
    double *T = malloc(n * sizeof *T), *Ts = malloc(n * sizeof *Ts);
    int64_t *Lv = malloc(n * sizeof *Lv);
    int *idx1 = malloc(n * sizeof *idx1), *idx2 = malloc(n * sizeof *idx2);
    double *m2 = read_field(&f, "m2"), *m4 = read_field(&f, "m4");
    double *D = malloc(n * sizeof *D), *var = malloc(n * sizeof *var),
           *Tp = malloc(n * sizeof *Tp);
    if (!T || !Ts || !Lv || !idx1 || !idx2 || !m2 || !m4 || !D || !var || !Tp)
        rc = 2;
    if (!rc)
        rc = read_param(&f, "T", 0, T);
    if (!rc)
        rc = read_param(&f, "L", 1, Lv);
    shoal_results_close(f.res);

    /* Distinct temperatures, ascending; then D at those run at both sizes. */
    size_t nt = 0, np = 0;
    if (!rc) {
        memcpy(Ts, T, n * sizeof *T);
        qsort(Ts, n, sizeof *Ts, cmp_double);
        for (uint64_t i = 0; i < n; i++)
            if (i == 0 || Ts[i] != Ts[nt - 1])
                Ts[nt++] = Ts[i];
    }
    printf("%8s %12s %10s %12s %10s\n", "T", "U_L1", "SE", "U_L2", "SE");
    for (size_t a = 0; a < nt && !rc; a++) {
        if (Ts[a] < tmin || Ts[a] > tmax)
            continue;
        int r1 = 0, r2 = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (T[i] != Ts[a])
                continue;
            if (Lv[i] == L1)
                idx1[r1++] = (int)i;
            else if (Lv[i] == L2)
                idx2[r2++] = (int)i;
        }
        if (r1 < 2 || r2 < 2)
            continue; /* a jackknife needs 2 replicates */
        double U1, v1, U2, v2;
        binder_point(m2, m4, idx1, r1, &U1, &v1);
        binder_point(m2, m4, idx2, r2, &U2, &v2);
        printf("%8.4f %12.6f %10.2e %12.6f %10.2e\n", Ts[a], U1, sqrt(v1), U2,
               sqrt(v2));
        Tp[np] = Ts[a];
        D[np] = U2 - U1;
        var[np] = v1 + v2;
        np++;
    }
    if (!rc && np < 2) {
        fprintf(stderr,
                "check_ising2d: fewer than 2 temperatures in [%g, %g] were run "
                "at both L = %ld and L = %ld with >= 2 replicates\n",
                tmin, tmax, L1, L2);
        rc = 2;
    }

    if (!rc) {
        size_t p = np >= 4 ? 3 : 2; /* coefficients */
        double mid = 0.5 * (Tp[0] + Tp[np - 1]);
        gsl_matrix *X = gsl_matrix_alloc(np, p), *C = gsl_matrix_alloc(p, p);
        gsl_vector *y = gsl_vector_alloc(np), *w = gsl_vector_alloc(np),
                   *c = gsl_vector_alloc(p);
        gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(np, p);
        double chi2 = 0;
        for (size_t i = 0; i < np; i++) {
            double x = Tp[i] - mid;
            gsl_matrix_set(X, i, 0, 1.0);
            gsl_matrix_set(X, i, 1, x);
            if (p == 3)
                gsl_matrix_set(X, i, 2, x * x);
            gsl_vector_set(y, i, D[i]);
            gsl_vector_set(w, i, 1.0);
        }
        /* Unit weights: C = (X'X)^-1; then the sandwich covariance
         * C (sum_i var_i x_i x_i') C, and chi^2 with the point variances. */
        double rss;
        gsl_multifit_wlinear(X, w, y, c, C, &rss, ws);
        double mid_m[3][3] = {{0}}, cov[3][3] = {{0}};
        for (size_t i = 0; i < np; i++) {
            double fit = 0;
            for (size_t a = 0; a < p; a++)
                fit += gsl_matrix_get(X, i, a) * gsl_vector_get(c, a);
            chi2 += (D[i] - fit) * (D[i] - fit) / var[i];
            for (size_t a = 0; a < p; a++)
                for (size_t b = 0; b < p; b++)
                    mid_m[a][b] += var[i] * gsl_matrix_get(X, i, a) *
                                   gsl_matrix_get(X, i, b);
        }
        for (size_t a = 0; a < p; a++)
            for (size_t b = 0; b < p; b++)
                for (size_t e = 0; e < p; e++)
                    for (size_t f2 = 0; f2 < p; f2++)
                        cov[a][b] += gsl_matrix_get(C, a, e) * mid_m[e][f2] *
                                     gsl_matrix_get(C, f2, b);
        double c0 = gsl_vector_get(c, 0), c1 = gsl_vector_get(c, 1),
               c2 = p == 3 ? gsl_vector_get(c, 2) : 0.0;
        /* The root in the window nearest to the straight-line root. */
        double xlin = -c0 / c1, x = xlin;
        if (p == 3) {
            double x0, x1;
            int nr = gsl_poly_solve_quadratic(c2, c1, c0, &x0, &x1);
            x = nr == 0 ? NAN
                : nr == 1 || fabs(x0 - xlin) < fabs(x1 - xlin) ? x0 : x1;
        }
        double slope = c1 + 2.0 * c2 * x;
        double gv[3] = {1.0, x, x * x}, vx = 0;
        for (size_t i = 0; i < p; i++)
            for (size_t j = 0; j < p; j++)
                vx += gv[i] * cov[i][j] * gv[j];
        double tstar = mid + x, se = sqrt(vx) / fabs(slope);
        size_t dof = np - p;
        double q = dof > 0 ? gsl_cdf_chisq_Q(chi2, (double)dof) : 1.0;
        printf("fit of U_%ld - U_%ld: %s over %zu temperatures in [%.4f, "
               "%.4f], chi2 = %.2f for %zu dof (probability %.3g)\n",
               L2, L1, p == 3 ? "parabola" : "line", np, Tp[0], Tp[np - 1],
               chi2, dof, q);
        if (!(tstar >= Tp[0] && tstar <= Tp[np - 1])) {
            fprintf(stderr, "check_ising2d: no crossing inside [%.4f, %.4f] "
                    "(T* = %g)\n", Tp[0], Tp[np - 1], tstar);
            rc = 1;
        } else {
            if (q < 1e-4) {
                fprintf(stderr, "check_ising2d: the %s does not fit D(T) over "
                        "the window; narrow it (TMIN TMAX)\n",
                        p == 3 ? "parabola" : "line");
                rc = 1;
            }
            rc |= report("Tc", tstar, se, onsager_tc(), k);
        }
        gsl_multifit_linear_free(ws);
        gsl_matrix_free(X);
        gsl_matrix_free(C);
        gsl_vector_free(y);
        gsl_vector_free(w);
        gsl_vector_free(c);
    }
    free(T);
    free(Ts);
    free(Lv);
    free(idx1);
    free(idx2);
    free(m2);
    free(m4);
    free(D);
    free(var);
    free(Tp);
    return rc;
}

/* ---- pooled values per scan point (/points) ------------------------------------- */

/* The fluctuation quantities of the app from (pooled) moments. */
static void fluct(const moments *m, int L, double T, double out[3])
{
    double N = (double)L * L;
    out[0] = N * (m->m2 - m->abs_m * m->abs_m) / T;
    out[1] = N * (m->e2 - m->e * m->e) / (T * T);
    out[2] = 1.0 - m->m4 / (3.0 * m->m2 * m->m2);
}

/* 1 (after a message) unless |a - b| <= tol |b|. */
static int same(const char *what, double a, double b, double tol)
{
    int bad = !(fabs(a - b) <= tol * fabs(b));
    if (bad)
        printf("%-10s framework %.12g  checker %.12g  (relative bound %g)  "
               "FAIL\n", what, a, b, tol);
    return bad;
}

/* A [scan] over T and L (L <= 5) of short chains with many replicates. Per
 * point, from the framework's /points:
 *  - mean/<moment> vs exact enumeration within k stderr (the moments are
 *    linear: per-chain averages are unbiased);
 *  - derived/{susceptibility, specific_heat, binder} vs exact within
 *    k derived_err: pooled over the replicates, their bias -2 tau / (n R)
 *    is negligible;
 *  - mean/{susceptibility, specific_heat}, the average of per-chain values,
 *    must be biased low by more than k stderr: otherwise the run does not
 *    resolve the per-chain bias (-2 tau / n relative) and the pooled check
 *    proves nothing; the Binder cumulant's per-chain bias is printed only.
 * The checker also recomputes each point's pooled values from /results and
 * the delete-one jackknife over its replicates, independently of the
 * framework: derived must agree to 1e-9 and derived_err to 1e-6 (relative),
 * and replicates must count the point's done tasks. */
static int check_pooled(const char *path, double k)
{
    static const char *mom_names[5] = {"abs_m", "m2", "m4", "energy", "e2"};
    static const char *fl_names[3] = {"susceptibility", "specific_heat",
                                      "binder"};
    points_file f;
    int rc = points_open(path, &f);
    if (!rc && points_not_done(&f))
        rc = 1;
    double *pT = NULL, *pL = NULL, *prep = NULL, *pmean[5] = {0},
           *pse[5] = {0}, *task[5] = {0}, *der[3] = {0}, *derr[3] = {0},
           *nmean[3] = {0}, *nse[3] = {0}, *jk = NULL;
    if (!rc && (!(pT = points_read(&f, "params/T")) ||
                !(pL = points_read(&f, "params/L")) ||
                !(prep = points_read(&f, "replicates"))))
        rc = 2;
    char name[128];
    for (int i = 0; i < 5 && !rc; i++) {
        snprintf(name, sizeof name, "mean/%s", mom_names[i]);
        pmean[i] = points_read(&f, name);
        snprintf(name, sizeof name, "stderr/%s", mom_names[i]);
        pse[i] = points_read(&f, name);
        task[i] = points_read_results(&f, mom_names[i]);
        if (!pmean[i] || !pse[i] || !task[i])
            rc = 2;
    }
    for (int i = 0; i < 3 && !rc; i++) {
        snprintf(name, sizeof name, "derived/%s", fl_names[i]);
        der[i] = points_read(&f, name);
        snprintf(name, sizeof name, "derived_err/%s", fl_names[i]);
        derr[i] = points_read(&f, name);
        snprintf(name, sizeof name, "mean/%s", fl_names[i]);
        nmean[i] = points_read(&f, name);
        snprintf(name, sizeof name, "stderr/%s", fl_names[i]);
        nse[i] = points_read(&f, name);
        if (!der[i] || !derr[i] || !nmean[i] || !nse[i])
            rc = 2;
    }
    if (!rc && !(jk = malloc(f.ntasks * 3 * sizeof *jk)))
        rc = 2;

    for (uint64_t p = 0; p < f.npoints && rc != 2; p++) {
        int L = (int)pL[p];
        double T = pT[p];
        moments ex;
        if (L < 2 || L > 5 || !(T > 0) || enumerate(L, T, &ex) < 0) {
            fprintf(stderr, "check_ising2d: point %llu: L = %g, T = %g: "
                    "need 2 <= L <= 5 and T > 0\n", (unsigned long long)p,
                    pL[p], T);
            rc = 2;
            break;
        }
        double exm[5] = {ex.abs_m, ex.m2, ex.m4, ex.e, ex.e2}, exf[3];
        fluct(&ex, L, T, exf);

        /* The checker's own pooling over the point's tasks. */
        uint64_t R = 0;
        double sum[5] = {0};
        for (uint64_t i = 0; i < f.ntasks; i++)
            if ((uint64_t)f.task_point[i] == p) {
                R++;
                for (int j = 0; j < 5; j++)
                    sum[j] += task[j][i];
            }
        printf("point %llu: L = %d, T = %.6f, %llu replicates\n",
               (unsigned long long)p, L, T, (unsigned long long)R);
        if (R < 2 || prep[p] != (double)R) {
            fprintf(stderr, "check_ising2d: point %llu: /points/replicates "
                    "%g, done tasks %llu (need >= 2)\n",
                    (unsigned long long)p, prep[p], (unsigned long long)R);
            rc = 1;
            continue;
        }
        double Rd = (double)R;
        moments pool = {sum[0] / Rd, sum[1] / Rd, sum[2] / Rd, sum[3] / Rd,
                        sum[4] / Rd};
        double mine[3], jmean[3] = {0}, jvar[3] = {0};
        fluct(&pool, L, T, mine);
        uint64_t r = 0;
        for (uint64_t i = 0; i < f.ntasks; i++) {
            if ((uint64_t)f.task_point[i] != p)
                continue;
            moments d = {(sum[0] - task[0][i]) / (Rd - 1),
                         (sum[1] - task[1][i]) / (Rd - 1),
                         (sum[2] - task[2][i]) / (Rd - 1),
                         (sum[3] - task[3][i]) / (Rd - 1),
                         (sum[4] - task[4][i]) / (Rd - 1)};
            fluct(&d, L, T, jk + 3 * r);
            for (int j = 0; j < 3; j++)
                jmean[j] += jk[3 * r + j] / Rd;
            r++;
        }
        for (uint64_t q = 0; q < R; q++)
            for (int j = 0; j < 3; j++)
                jvar[j] += (jk[3 * q + j] - jmean[j]) *
                           (jk[3 * q + j] - jmean[j]);
        for (int j = 0; j < 3; j++) {
            rc |= same(fl_names[j], der[j][p], mine[j], 1e-9);
            rc |= same("its error", derr[j][p], sqrt((Rd - 1) / Rd * jvar[j]),
                       1e-6);
        }

        for (int j = 0; j < 5; j++)
            rc |= report(mom_names[j], pmean[j][p], pse[j][p], exm[j], k);
        printf("  pooled over replicates (/points/derived):\n");
        for (int j = 0; j < 3; j++)
            rc |= report(fl_names[j], der[j][p], derr[j][p], exf[j], k);
        printf("  mean of per-chain values (/points/mean), expected biased "
               "low:\n");
        for (int j = 0; j < 3; j++) {
            double dev = (nmean[j][p] - exf[j]) / nse[j][p];
            int resolved = dev < -k;
            printf("%-10s estimate %.8f  SE %.3e  exact %.8f  deviation %+.2f "
                   "SE  %s\n",
                   fl_names[j], nmean[j][p], nse[j][p], exf[j], dev,
                   j == 2 ? "(not required)"
                   : resolved ? "(biased, as expected)"
                              : "FAIL: bias not resolved; lengthen the run");
            if (j < 2 && !resolved)
                rc |= 1;
        }
    }
    free(pT);
    free(pL);
    free(prep);
    for (int i = 0; i < 5; i++) {
        free(pmean[i]);
        free(pse[i]);
        free(task[i]);
    }
    for (int i = 0; i < 3; i++) {
        free(der[i]);
        free(derr[i]);
        free(nmean[i]);
        free(nse[i]);
    }
    free(jk);
    points_close(&f);
    return rc;
}

/* ---- the per-chain autocorrelation times ------------------------------------------ */

/* Replicates of one point with meas measurements each. For x = |m| and e:
 * independent chains make Var_R(xbar) = 2 tau_n var / meas exactly, with
 * tau_n = 1/2 + sum_t (1 - t / meas) rho(t) (= tau up to O(tau^2 / meas)),
 * so tau_scatter = meas Var_R(xbar) / (2 var), var from the pooled moments,
 * is an estimate of tau that does not involve the app's window; its relative
 * SE is sqrt(2 / (R - 1)). The mean of the per-chain tau_<x> must agree
 * within k combined SE. (Without the app's correction for the subtracted
 * mean the windowed estimate would be ~12 tau / meas low: 3.6% here.)
 * Every tau must be finite. */
static int check_tau(const rfile *f, double meas, double k)
{
    static const char *x[2] = {"abs_m", "energy"}, *x2[2] = {"m2", "e2"},
                      *tn[2] = {"tau_abs_m", "tau_energy"};
    int rc = 0;
    for (int j = 0; j < 2 && !rc; j++) {
        double *v = read_field(f, x[j]), *v2 = read_field(f, x2[j]),
               *tau = read_field(f, tn[j]);
        if (!v || !v2 || !tau) {
            rc = 2;
        } else {
            double m, se, m2, se2, tm, tse;
            mean_se(v, f->n, &m, &se);
            mean_se(v2, f->n, &m2, &se2);
            mean_se(tau, f->n, &tm, &tse);
            double R = (double)f->n, var_r = se * se * R;
            double scatter = meas * var_r / (2.0 * (m2 - m * m));
            double sse = scatter * sqrt(2.0 / (R - 1.0));
            uint64_t bad = 0;
            for (uint64_t i = 0; i < f->n; i++)
                bad += !isfinite(tau[i]);
            printf("%-10s scatter of the means gives tau = %.4f +- %.4f\n",
                   tn[j], scatter, sse);
            if (bad) {
                printf("%-10s %llu tasks have a non-finite value  FAIL\n",
                       tn[j], (unsigned long long)bad);
                rc = 1;
            }
            rc |= report(tn[j], tm, sqrt(tse * tse + sse * sse), scatter, k);
        }
        free(v);
        free(v2);
        free(tau);
    }
    return rc;
}

/* ---- main ----------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr,
            "usage: check_ising2d FILE yang T K\n"
            "       check_ising2d FILE onsager T K\n"
            "       check_ising2d FILE exact L T K        (2 <= L <= 5)\n"
            "       check_ising2d FILE binder_crossing L1 L2 K [TMIN TMAX]\n"
            "       check_ising2d FILE pooled K           ([scan] over T, L <= 5)\n"
            "       check_ising2d FILE tau MEAS K\n");
    return 2;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    if (argc < 4)
        return usage();
    const char *path = argv[1], *mode = argv[2];

    if (!strcmp(mode, "pooled") && argc == 4) {
        double k = atof(argv[3]);
        return k > 0 ? check_pooled(path, k) : usage();
    }
    if (!strcmp(mode, "binder_crossing")) {
        if (argc != 6 && argc != 8)
            return usage();
        long L1 = atol(argv[3]), L2 = atol(argv[4]);
        double k = atof(argv[5]);
        double tmin = argc == 8 ? atof(argv[6]) : -HUGE_VAL;
        double tmax = argc == 8 ? atof(argv[7]) : HUGE_VAL;
        if (L1 < 2 || L2 <= L1 || !(k > 0))
            return usage();
        return check_crossing(path, L1, L2, k, tmin, tmax);
    }

    rfile f = {0};
    int rc;
    if (!strcmp(mode, "yang") && argc == 5) {
        double T = atof(argv[3]), k = atof(argv[4]);
        if (!(T > 0 && T < onsager_tc()) || !(k > 0))
            return usage();
        if ((rc = open_done(path, &f)) == 0) {
            printf("%s: %llu replicates, T = %g: Yang's M(T)\n", path,
                   (unsigned long long)f.n, T);
            rc = check_field(&f, "abs_m", yang_m(T), k);
        }
    } else if (!strcmp(mode, "onsager") && argc == 5) {
        double T = atof(argv[3]), k = atof(argv[4]);
        if (!(T > 0) || !(k > 0))
            return usage();
        if ((rc = open_done(path, &f)) == 0) {
            printf("%s: %llu replicates, T = %g: Onsager's u(T)\n", path,
                   (unsigned long long)f.n, T);
            rc = check_field(&f, "energy", onsager_u(T), k);
        }
    } else if (!strcmp(mode, "tau") && argc == 5) {
        double meas = atof(argv[3]), k = atof(argv[4]);
        if (!(meas >= 2) || !(k > 0))
            return usage();
        if ((rc = open_done(path, &f)) == 0) {
            printf("%s: %llu replicates of %g measurements: autocorrelation "
                   "times\n", path, (unsigned long long)f.n, meas);
            rc = check_tau(&f, meas, k);
        }
    } else if (!strcmp(mode, "exact") && argc == 6) {
        int L = atoi(argv[3]);
        double T = atof(argv[4]), k = atof(argv[5]);
        moments ex;
        if (L < 2 || L > 5 || !(T > 0) || !(k > 0))
            return usage();
        if (enumerate(L, T, &ex) < 0)
            return 2;
        if ((rc = open_done(path, &f)) == 0) {
            printf("%s: %llu replicates, L = %d, T = %g: exact enumeration of "
                   "2^%d states\n",
                   path, (unsigned long long)f.n, L, T, L * L);
            const char *names[5] = {"abs_m", "m2", "m4", "energy", "e2"};
            double vals[5] = {ex.abs_m, ex.m2, ex.m4, ex.e, ex.e2};
            for (int i = 0; i < 5; i++)
                rc |= check_field(&f, names[i], vals[i], k);
        }
    } else {
        return usage();
    }
    if (f.res)
        shoal_results_close(f.res);
    return rc;
}
