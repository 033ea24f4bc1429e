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
 * Exit status: 0 pass, 1 a check failed, 2 usage or unreadable file. */
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
                    "sigma T steps [REF]\n");
    return 2;
}

int main(int argc, char **argv)
{
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
