/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check_option_mc: physics checks of an option_mc result file.
 *
 *   check_option_mc FILE MODE k S0 K r sigma T steps [REF]
 *
 * The run must be R >= 2 replicates of one parameter point (the same values
 * as given here). Every estimate is the mean of the R task estimates and its
 * standard error SE = sd / sqrt(R) comes from their spread, which does not
 * depend on the app's own error formulas; those (euro_se, geo_asian_se,
 * asian_se) are checked separately against the same spread. A check fails
 * when |estimate - exact| > k SE.
 *
 * The exact values are computed here independently of the app: the
 * discounted call on a lognormal, E[(e^X - K)^+] with X ~ N(m, s^2), by
 * numerical quadrature over the normal density (not by the Black-Scholes
 * formula the app uses), and for the geometric Asian the variance of log G
 * as the explicit double sum sigma^2 / n^2 sum_ij min(t_i, t_j) over the
 * dates t_i = i T / n (not the app's closed-form sums). The app's own
 * bs_price and geo_asian_exact columns must agree with them to 1e-8
 * (relative): this also catches CHECK_ARGS that differ from the run's.
 *
 * Modes:
 *   euro   European MC price vs Black-Scholes.
 *   geo    geometric Asian MC price vs Kemna-Vorst (discrete dates).
 *   asian  arithmetic Asian: geo_exact <= asian <= bs within k SE, and the
 *          control-variate estimate agrees with the plain one.
 *   ref    arithmetic Asian vs a published reference value REF.
 *
 *   check_option_mc FILE pooled k S0 r sigma T steps K1=REF1 [K2=REF2 ...]
 *
 * A [scan] over the strike K with many replicates per point, read through
 * the framework's /points (see check_pooled): the pooled control-variate
 * price /points/derived/asian_price_pooled vs the reference for the point's
 * K within k jackknife errors.
 * Exit status: 0 pass, 1 a check failed, 2 usage or unreadable file. */
#include "../points.h"

#include <shoal/shoal.h>

#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double S0, K, r, sigma, T;
    long steps;
} point;

/* ---- exact values ---------------------------------------------------------- */

typedef struct {
    double m, s, K;
} lognormal;

static double call_integrand(double z, void *p)
{
    const lognormal *L = p;
    /* One exponent per term: exp(m + s z) alone overflows far out in the
     * tail, where the density has long underflowed (inf * 0 = NaN). */
    return (exp(L->m + L->s * z - 0.5 * z * z) - L->K * exp(-0.5 * z * z)) /
           sqrt(2.0 * M_PI);
}

/* disc * E[(e^X - K)^+], X ~ N(m, s^2), integrating over z = (X - m) / s from
 * the exercise boundary upwards. */
static double call_by_quadrature(double m, double s, double K, double disc)
{
    lognormal L = {m, s, K};
    gsl_function F = {call_integrand, &L};
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    double res = NAN, err = 0.0;
    if (!w)
        return NAN;
    gsl_set_error_handler_off();
    int st = gsl_integration_qagiu(&F, (log(K) - m) / s, 0.0, 1e-12, 1000, w,
                                   &res, &err);
    gsl_integration_workspace_free(w);
    return st == GSL_SUCCESS ? disc * res : NAN;
}

static double black_scholes(const point *p)
{
    return call_by_quadrature(log(p->S0) + (p->r - 0.5 * p->sigma * p->sigma) * p->T,
                              p->sigma * sqrt(p->T), p->K, exp(-p->r * p->T));
}

/* log G = log S0 + (1/n) sum_i [(r - sigma^2/2) t_i + sigma W(t_i)]: normal,
 * with Cov(W(t_i), W(t_j)) = min(t_i, t_j). */
static double kemna_vorst(const point *p)
{
    const long n = p->steps;
    const double dt = p->T / (double)n;
    double sum_t = 0.0, sum_min = 0.0;
    for (long i = 1; i <= n; i++) {
        sum_t += (double)i * dt;
        for (long j = 1; j <= n; j++)
            sum_min += (double)(i < j ? i : j) * dt;
    }
    const double nd = (double)n;
    const double m = log(p->S0) + (p->r - 0.5 * p->sigma * p->sigma) * sum_t / nd;
    const double s = p->sigma * sqrt(sum_min) / nd;
    return call_by_quadrature(m, s, p->K, exp(-p->r * p->T));
}

/* ---- reading the file ---------------------------------------------------------- */

typedef struct {
    uint64_t n;
    double *euro, *euro_se, *asian, *asian_se, *plain, *vr, *geo, *geo_se,
        *geo_exact, *bs;
} columns;

static void columns_free(columns *c)
{
    free(c->euro);
    free(c->euro_se);
    free(c->asian);
    free(c->asian_se);
    free(c->plain);
    free(c->vr);
    free(c->geo);
    free(c->geo_se);
    free(c->geo_exact);
    free(c->bs);
}

static int read_col(const shoal_results *res, const char *name, uint64_t n,
                    double **out)
{
    *out = malloc(n * sizeof **out);
    if (!*out) {
        fprintf(stderr, "check_option_mc: out of memory\n");
        return -1;
    }
    if (shoal_results_read_double(res, name, 0, n, *out) != 0) {
        fprintf(stderr, "check_option_mc: cannot read /results/%s\n", name);
        return -1;
    }
    return 0;
}

/* All columns of a file whose tasks must all be done (small test files:
 * read whole). */
static int read_file(const char *path, columns *c)
{
    shoal_results *res = NULL;
    memset(c, 0, sizeof *c);
    if (shoal_results_open(path, &res) != 0) {
        fprintf(stderr, "check_option_mc: cannot open %s\n", path);
        return -1;
    }
    uint64_t n = shoal_results_ntasks(res);
    c->n = n;
    uint8_t *status = malloc(n ? n : 1);
    int rc = status ? 0 : -1;
    if (rc == 0 && shoal_results_read_status(res, 0, n, status) != 0)
        rc = -1;
    for (uint64_t i = 0; rc == 0 && i < n; i++)
        if (status[i] != SHOAL_STATUS_DONE) {
            fprintf(stderr, "check_option_mc: task %llu is not done\n",
                    (unsigned long long)i);
            rc = -1;
        }
    free(status);
    if (rc == 0 && n < 2) {
        fprintf(stderr, "check_option_mc: need >= 2 tasks, file has %llu\n",
                (unsigned long long)n);
        rc = -1;
    }
    struct {
        const char *name;
        double **dst;
    } cols[] = {
        {"euro_price", &c->euro},      {"euro_se", &c->euro_se},
        {"asian_price", &c->asian},    {"asian_se", &c->asian_se},
        {"asian_plain_price", &c->plain}, {"asian_cv_vr", &c->vr},
        {"geo_asian_price", &c->geo},  {"geo_asian_se", &c->geo_se},
        {"geo_asian_exact", &c->geo_exact}, {"bs_price", &c->bs},
    };
    for (size_t i = 0; rc == 0 && i < sizeof cols / sizeof cols[0]; i++)
        rc = read_col(res, cols[i].name, n, cols[i].dst);
    shoal_results_close(res);
    return rc;
}

/* ---- statistics ------------------------------------------------------------------ */

typedef struct {
    double mean, sd, se; /* se = sd / sqrt(R) */
} summary;

static summary summarize(const double *x, uint64_t n)
{
    double mean = 0.0, m2 = 0.0;
    for (uint64_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        mean += d / (double)(i + 1);
        m2 += d * (x[i] - mean);
    }
    summary s = {mean, sqrt(m2 / (double)(n - 1)), 0.0};
    s.se = s.sd / sqrt((double)n);
    return s;
}

static int failures;

/* |est - exact| <= k se; prints the line the brief asks for. */
static void check_value(const char *what, summary s, double exact, double k)
{
    double dev = (s.mean - exact) / s.se;
    int ok = fabs(dev) <= k;
    printf("%-34s estimate %.7f  SE %.2e  exact %.7f  deviation %+.2f SE  "
           "(bound %g)  %s\n",
           what, s.mean, s.se, exact, dev, k, ok ? "ok" : "FAIL");
    failures += !ok;
}

/* lower <= upper within k se: fails only if lower - upper > k se. */
static void check_order(const char *what, double lower, double upper, double se,
                        double k)
{
    double gap = (upper - lower) / se;
    int ok = gap >= -k;
    printf("%-34s %.7f <= %.7f  gap %+.2e = %+.1f SE  (bound >= -%g)  %s\n", what,
           lower, upper, upper - lower, gap, k, ok ? "ok" : "FAIL");
    failures += !ok;
}

/* The app's per-task standard errors against the spread of the task
 * estimates: ratio sd / rms(se) should be 1. The sample sd of R normal
 * estimates has relative standard deviation 1 / sqrt(2 (R - 1)); the task
 * estimates are means of >= 1000 samples, normal enough for that. */
static void check_se(const char *what, const double *x, const double *se,
                     uint64_t n, double k)
{
    summary s = summarize(x, n);
    double ms = 0.0;
    for (uint64_t i = 0; i < n; i++)
        ms += se[i] * se[i] / (double)n;
    double ratio = s.sd / sqrt(ms);
    double tol = k / sqrt(2.0 * (double)(n - 1));
    int ok = fabs(ratio - 1.0) <= tol;
    printf("%-34s sd of tasks %.3e / rms %s %.3e = %.3f  (bound 1 +- %.3f)  %s\n",
           what, s.sd, what, sqrt(ms), ratio, tol, ok ? "ok" : "FAIL");
    failures += !ok;
}

/* Every task's closed-form column equals the checker's value. */
static void check_column(const char *what, const double *col, uint64_t n,
                         double exact)
{
    double worst = 0.0;
    for (uint64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(col[i] - exact) / fabs(exact));
    int ok = worst <= 1e-8 && isfinite(exact);
    printf("%-34s app %.10f  checker %.10f  rel. diff %.1e  (bound 1e-8)  %s\n",
           what, col[0], exact, worst, ok ? "ok" : "FAIL");
    failures += !ok;
}

static int usage(void)
{
    fprintf(stderr, "usage: check_option_mc FILE euro|geo|asian|ref k S0 K r "
                    "sigma T steps [REF]\n"
                    "       check_option_mc FILE pooled k S0 r sigma T steps "
                    "K1=REF1 [K2=REF2 ...]\n");
    return 2;
}

/* ---- pooled over a point's replicates (/points) ---------------------------------- */

/* Y - beta (X - ex) from sums (or means of sums) over samples. */
static double cv_from_sums(const double s[5], double ex)
{
    double y = s[1] / s[0], x = s[2] / s[0];
    double cxx = s[4] / s[0] - x * x, cxy = s[3] / s[0] - x * y;
    return y - (cxx > 0.0 ? cxy / cxx : 0.0) * (x - ex);
}

/* 1 (after a message) unless |a - b| <= tol |b|. */
static int same(const char *what, double a, double b, double tol)
{
    int bad = !(fabs(a - b) <= tol * fabs(b));
    printf("%-34s framework %.12g  checker %.12g  (relative bound %g)  %s\n",
           what, a, b, tol, bad ? "FAIL" : "ok");
    return bad;
}

/* Per point of a [scan] over K (the other parameters as given):
 *  - /points/derived/asian_price_pooled vs the point's reference within
 *    k derived_err (beta fitted once: bias O(1 / all the point's pairs));
 *  - /points/mean/asian_plain_price vs the same reference within k stderr
 *    (plain MC is unbiased per task: checks the reference and the run);
 *  - /points/mean/asian_price, the mean of per-task control-variate prices,
 *    must miss it by more than k stderr: each task's own beta costs
 *    O(1 / its pairs), of either sign (low at K = 100, high at K = 110 with
 *    10 pairs), and if the run does not resolve that, the pooled check
 *    proves nothing.
 * The checker also pools the point's /results sums itself, with E[X] by its
 * own quadrature, and takes the delete-one jackknife over the replicates:
 * derived must agree to 1e-8 and derived_err to 1e-6 (relative), and
 * /points/replicates must count the point's done tasks. */
static int check_pooled(const char *path, double k, point base, int nref,
                        char **refs)
{
    static const char *sums[5] = {"cv_n", "cv_sum_y", "cv_sum_x", "cv_sum_xy",
                                  "cv_sum_xx"};
    points_file f;
    int rc = points_open(path, &f);
    if (!rc && points_not_done(&f))
        rc = 1;
    double *pK = NULL, *prep = NULL, *der = NULL, *derr = NULL, *cvm = NULL,
           *cvse = NULL, *plm = NULL, *plse = NULL, *task[5] = {0}, *jk = NULL;
    if (!rc && (!(pK = points_read(&f, "params/K")) ||
                !(prep = points_read(&f, "replicates")) ||
                !(der = points_read(&f, "derived/asian_price_pooled")) ||
                !(derr = points_read(&f, "derived_err/asian_price_pooled")) ||
                !(cvm = points_read(&f, "mean/asian_price")) ||
                !(cvse = points_read(&f, "stderr/asian_price")) ||
                !(plm = points_read(&f, "mean/asian_plain_price")) ||
                !(plse = points_read(&f, "stderr/asian_plain_price"))))
        rc = 2;
    for (int j = 0; j < 5 && !rc; j++)
        if (!(task[j] = points_read_results(&f, sums[j])))
            rc = 2;
    if (!rc && !(jk = malloc(f.ntasks * sizeof *jk)))
        rc = 2;
    for (uint64_t p = 0; p < f.npoints && rc != 2; p++) {
        /* The reference given for this K. */
        double ref = NAN;
        for (int i = 0; i < nref; i++) {
            char *end;
            double K = strtod(refs[i], &end);
            if (*end == '=' && K == pK[p])
                ref = atof(end + 1);
        }
        point pt = base;
        pt.K = pK[p];
        double kv = kemna_vorst(&pt);
        if (!isfinite(ref) || !isfinite(kv)) {
            fprintf(stderr, "check_option_mc: point %llu: no reference given "
                    "for K = %g\n", (unsigned long long)p, pK[p]);
            rc = 2;
            break;
        }
        uint64_t R = 0;
        double s[5] = {0};
        for (uint64_t i = 0; i < f.ntasks; i++)
            if ((uint64_t)f.task_point[i] == p) {
                R++;
                for (int j = 0; j < 5; j++)
                    s[j] += task[j][i];
            }
        printf("point %llu: K = %g, %llu replicates, reference %.7f\n",
               (unsigned long long)p, pK[p], (unsigned long long)R, ref);
        if (R < 2 || prep[p] != (double)R) {
            fprintf(stderr, "check_option_mc: point %llu: /points/replicates "
                    "%g, done tasks %llu (need >= 2)\n",
                    (unsigned long long)p, prep[p], (unsigned long long)R);
            failures++;
            continue;
        }
        double jm = 0, jv = 0, Rd = (double)R;
        uint64_t r = 0;
        for (uint64_t i = 0; i < f.ntasks; i++) {
            if ((uint64_t)f.task_point[i] != p)
                continue;
            double d[5];
            for (int j = 0; j < 5; j++)
                d[j] = s[j] - task[j][i];
            jk[r] = cv_from_sums(d, kv);
            jm += jk[r++] / Rd;
        }
        for (uint64_t q = 0; q < R; q++)
            jv += (jk[q] - jm) * (jk[q] - jm);
        failures += same("asian_price_pooled", der[p], cv_from_sums(s, kv),
                         1e-8);
        failures += same("its jackknife error", derr[p],
                         sqrt((Rd - 1.0) / Rd * jv), 1e-6);
        summary pooled = {der[p], NAN, derr[p]};
        check_value("pooled control variate vs ref", pooled, ref, k);
        summary plain = {plm[p], NAN, plse[p]};
        check_value("plain MC vs ref", plain, ref, k);
        double dev = (cvm[p] - ref) / cvse[p];
        int resolved = fabs(dev) > k;
        printf("%-34s estimate %.7f  SE %.2e  deviation %+.2f SE  %s\n",
               "mean of per-task control variate", cvm[p], cvse[p], dev,
               resolved ? "(biased, as expected)"
                        : "FAIL: bias not resolved; more replicates");
        failures += !resolved;
    }
    free(pK);
    free(prep);
    free(der);
    free(derr);
    free(cvm);
    free(cvse);
    free(plm);
    free(plse);
    for (int j = 0; j < 5; j++)
        free(task[j]);
    free(jk);
    points_close(&f);
    if (rc == 2)
        return 2;
    printf("check_option_mc pooled: %s\n", rc || failures ? "FAILED" : "passed");
    return rc || failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 10 && !strcmp(argv[2], "pooled")) {
        const double k = atof(argv[3]);
        point p = {atof(argv[4]), NAN, atof(argv[5]), atof(argv[6]),
                   atof(argv[7]), atol(argv[8])};
        if (!(k > 0) || p.steps < 1)
            return usage();
        return check_pooled(argv[1], k, p, argc - 9, argv + 9);
    }
    if (argc < 10)
        return usage();
    const char *path = argv[1], *mode = argv[2];
    const double k = atof(argv[3]);
    point p = {atof(argv[4]), atof(argv[5]), atof(argv[6]), atof(argv[7]),
               atof(argv[8]), atol(argv[9])};
    if (!(k > 0) || p.steps < 1 || (!strcmp(mode, "ref") && argc != 11))
        return usage();

    columns c;
    if (read_file(path, &c) != 0) {
        columns_free(&c);
        return 2;
    }
    const uint64_t R = c.n;
    printf("check_option_mc %s: %llu replicates; S0=%g K=%g r=%g sigma=%g T=%g "
           "steps=%ld\n",
           mode, (unsigned long long)R, p.S0, p.K, p.r, p.sigma, p.T, p.steps);
    const double bs = black_scholes(&p);
    const double kv = kemna_vorst(&p);

    if (!strcmp(mode, "euro")) {
        check_column("bs_price column", c.bs, R, bs);
        check_value("European vs Black-Scholes", summarize(c.euro, R), bs, k);
        check_se("euro_se", c.euro, c.euro_se, R, k);
    } else if (!strcmp(mode, "geo")) {
        check_column("geo_asian_exact column", c.geo_exact, R, kv);
        check_value("geometric Asian vs Kemna-Vorst", summarize(c.geo, R), kv, k);
        check_se("geo_asian_se", c.geo, c.geo_se, R, k);
    } else if (!strcmp(mode, "asian")) {
        check_column("bs_price column", c.bs, R, bs);
        check_column("geo_asian_exact column", c.geo_exact, R, kv);
        summary a = summarize(c.asian, R);
        check_order("geo (exact) <= arithmetic", kv, a.mean, a.se, k);
        check_order("arithmetic <= European (exact)", a.mean, bs, a.se, k);
        /* Same paths, two estimators: their per-task difference has its own
         * spread; it must average to 0 (the control variate adds no bias
         * beyond O(1/paths)). */
        double *d = malloc(R * sizeof *d);
        if (!d) {
            columns_free(&c);
            return 2;
        }
        for (uint64_t i = 0; i < R; i++)
            d[i] = c.plain[i] - c.asian[i];
        check_value("plain - control variate", summarize(d, R), 0.0, k);
        free(d);
        check_se("asian_se", c.asian, c.asian_se, R, k);
        summary vr = summarize(c.vr, R);
        summary plain = summarize(c.plain, R);
        printf("%-34s %.1fx from the task spreads, %.1fx mean of asian_cv_vr\n",
               "control variate variance reduction",
               (plain.sd * plain.sd) / (a.sd * a.sd), vr.mean);
    } else if (!strcmp(mode, "ref")) {
        check_column("bs_price column", c.bs, R, bs);
        check_column("geo_asian_exact column", c.geo_exact, R, kv);
        check_value("arithmetic Asian vs reference", summarize(c.asian, R),
                    atof(argv[10]), k);
        check_se("asian_se", c.asian, c.asian_se, R, k);
    } else {
        columns_free(&c);
        return usage();
    }
    columns_free(&c);
    printf("check_option_mc %s: %s\n", mode, failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
