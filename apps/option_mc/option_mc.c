/* SPDX-License-Identifier: GPL-3.0-or-later */
/* option_mc: Monte Carlo prices of a European call and of an arithmetic-average
 * Asian call under geometric Brownian motion.
 *
 * Model (risk-neutral): dS = r S dt + sigma S dW, so
 *   S_t = S0 exp((r - sigma^2/2) t + sigma W_t)
 * is sampled exactly, with no time-stepping error:
 *   - European call, payoff (S_T - K)^+: S_T drawn in one step from its
 *     lognormal law (one normal per path);
 *   - Asian calls over the `steps` equally spaced dates t_i = i T / n,
 *     i = 1..n (n = steps; S0 itself is not a monitoring date): the
 *     arithmetic average A = (1/n) sum S_{t_i} and the geometric average
 *     G = (prod S_{t_i})^(1/n), from exact lognormal increments (n normals
 *     per path, drawn independently of the European leg's).
 * Prices are discounted by exp(-r T).
 *
 * The geometric-average call has a closed form (Kemna & Vorst 1990; for
 * discrete monitoring log G is normal with
 *   mean  log S0 + (r - sigma^2/2) T (n+1)/(2n),
 *   var   sigma^2 T (n+1)(2n+1)/(6 n^2)),
 * and is strongly correlated with the arithmetic one, so it serves as a
 * control variate: asian_price = mean(Y) - beta (mean(X) - E[X]) with
 * Y, X the discounted arithmetic and geometric payoffs and
 * beta = Cov(Y, X) / Var(X) estimated from the task's own paths. That costs
 * a bias of order 1/paths (about -0.079 / pairs at S0 = K = 100,
 * sigma = 0.2), far below one task's standard error of order 1/sqrt(paths),
 * but it does not average away over replicates: 200,000 tasks of 100 pairs
 * put the mean of asian_price 17.8 standard errors below a long reference.
 * So each task also stores the sufficient sums of the estimator (cv_n and
 * the sums of Y, X, XY, XX, YY over its samples), and with a [scan] the
 * derived quantity asian_price_pooled fits beta once over all the point's
 * paths; its bias is then of order 1/(all the point's paths). The summary
 * does the same for a run of replicates without a [scan]. The plain
 * estimator is output too, and the ratio of the two variances (asian_cv_vr)
 * says what the control variate bought.
 *
 * With antithetic = 1 every normal vector z is also used as -z and a
 * "sample" is the average of the two payoffs; standard errors come from the
 * spread of these independent pair averages, so they stay honest.
 *
 * All randomness comes from shoal_task_rng(t); parameters are read inside the
 * task so that scans may vary them from task to task. No per-task buffers are
 * needed: the antithetic paths are advanced side by side. */
#include <shoal/shoal.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    EURO_PRICE,
    EURO_SE,
    ASIAN_PRICE,
    ASIAN_SE,
    ASIAN_PLAIN_PRICE,
    ASIAN_PLAIN_SE,
    ASIAN_CV_BETA,
    ASIAN_CV_VR,
    GEO_PRICE,
    GEO_SE,
    GEO_EXACT,
    BS_PRICE,
    CV_N,
    CV_SUM_Y,
    CV_SUM_X,
    CV_SUM_XY,
    CV_SUM_XX,
    CV_SUM_YY,
    NOUTPUTS
};

/* Failure codes stored in /tasks/error. */
enum { FAIL_ODD_PATHS = 1 };

/* Discounted E[(e^X - K)^+] for X ~ Normal(m, s^2), s > 0: the Black-Scholes
 * shape shared by the European call (X = log S_T) and the geometric Asian
 * call (X = log G). */
static double lognormal_call(double m, double s, double K, double disc)
{
    double d2 = (m - log(K)) / s;
    return disc * (exp(m + 0.5 * s * s) * gsl_cdf_ugaussian_P(d2 + s) -
                   K * gsl_cdf_ugaussian_P(d2));
}

/* Running mean and co-moments (Welford), numerically safe for long runs. */
typedef struct {
    double n, mean_e, m2_e;          /* European */
    double mean_a, mean_g, caa, cgg, cag; /* arithmetic, geometric */
} moments;

static void moments_add(moments *m, double e, double a, double g)
{
    m->n += 1.0;
    double de = e - m->mean_e;
    m->mean_e += de / m->n;
    m->m2_e += de * (e - m->mean_e);
    double da = a - m->mean_a, dg = g - m->mean_g;
    m->mean_a += da / m->n;
    m->mean_g += dg / m->n;
    m->caa += da * (a - m->mean_a);
    m->cgg += dg * (g - m->mean_g);
    m->cag += da * (g - m->mean_g);
}

/* Kemna-Vorst: the discounted geometric-average call for `steps` discrete
 * dates, E[X] of the control variate. */
static double geo_asian_exact(double S0, double K, double r, double sigma,
                              double T, long steps)
{
    const double nd = (double)steps, mu = r - 0.5 * sigma * sigma;
    const double geo_mean = log(S0) + mu * T * (nd + 1.0) / (2.0 * nd);
    const double geo_sd =
        sigma * sqrt(T * (nd + 1.0) * (2.0 * nd + 1.0) / (6.0 * nd * nd));
    return lognormal_call(geo_mean, geo_sd, K, exp(-r * T));
}

/* The control-variate estimate from sums over samples (or from means of
 * per-task sums, which differ by a common factor): Y - beta (X - ex) with
 * beta fitted on all of them; beta = 0 where X has no variance. */
static double cv_estimate(double n, double sy, double sx, double sxy,
                          double sxx, double ex)
{
    double y = sy / n, x = sx / n;
    double cxx = sxx / n - x * x, cxy = sxy / n - x * y;
    double beta = cxx > 0.0 ? cxy / cxx : 0.0;
    return y - beta * (x - ex);
}

static int option_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    const double S0 = shoal_param_double(t, "S0");
    const double K = shoal_param_double(t, "K");
    const double r = shoal_param_double(t, "r");
    const double sigma = shoal_param_double(t, "sigma");
    const double T = shoal_param_double(t, "T");
    const long paths = shoal_param_long(t, "paths");
    const long n = shoal_param_long(t, "steps");
    const int anti = shoal_param_long(t, "antithetic") != 0;
    if (anti && paths % 2)
        return shoal_task_fail(t, FAIL_ODD_PATHS,
                               "paths = %ld must be even with antithetic = 1 "
                               "(paths are made in pairs z, -z)",
                               paths);

    const double disc = exp(-r * T);
    const double mu = r - 0.5 * sigma * sigma; /* drift of log S */
    const double nd = (double)n;

    /* Closed forms: Black-Scholes, and Kemna-Vorst for discrete monitoring. */
    const double bs = lognormal_call(log(S0) + mu * T, sigma * sqrt(T), K, disc);
    const double geo_exact = geo_asian_exact(S0, K, r, sigma, T, n);

    /* Per monitoring step: log-increment mu dt + sigma sqrt(dt) z. The
     * antithetic path's factor exp(mu dt - v z) is exp(2 mu dt) / exp(mu dt +
     * v z): one exp per step serves both paths. The geometric average only
     * needs sum_i W_i, W_i = z_1 + ... + z_i (in units of sqrt(dt)). */
    const double dt = T / nd, v = sigma * sqrt(dt), g_dt = exp(mu * dt);
    const double g2_dt = g_dt * g_dt;
    const double euro_m = mu * T, euro_s = sigma * sqrt(T);
    const double geo_drift = mu * dt * (nd + 1.0) / 2.0; /* mean of i mu dt */

    gsl_rng *rng = shoal_task_rng(t);
    const long nsamples = anti ? paths / 2 : paths;
    moments m = {0};
    for (long p = 0; p < nsamples; p++) {
        /* European: S_T exactly, in one step. */
        double z = gsl_ran_gaussian_ziggurat(rng, 1.0);
        double e = fmax(S0 * exp(euro_m + euro_s * z) - K, 0.0);
        if (anti)
            e = 0.5 * (e + fmax(S0 * exp(euro_m - euro_s * z) - K, 0.0));

        /* Asian: the path (and its mirror) over the n monitoring dates. */
        double s1 = S0, s2 = S0, sum1 = 0.0, sum2 = 0.0, w = 0.0, sumw = 0.0;
        for (long i = 0; i < n; i++) {
            double zi = gsl_ran_gaussian_ziggurat(rng, 1.0);
            double f = g_dt * exp(v * zi);
            s1 *= f;
            sum1 += s1;
            if (anti) {
                s2 *= g2_dt / f;
                sum2 += s2;
            }
            w += zi;
            sumw += w;
        }
        double a = fmax(sum1 / nd - K, 0.0);
        double g = fmax(S0 * exp(geo_drift + v * sumw / nd) - K, 0.0);
        if (anti) {
            a = 0.5 * (a + fmax(sum2 / nd - K, 0.0));
            g = 0.5 * (g + fmax(S0 * exp(geo_drift - v * sumw / nd) - K, 0.0));
        }
        moments_add(&m, e, a, g);
    }

    /* Variances of one sample (undiscounted), then discounted estimates. */
    const double ns = m.n;
    const double var_e = m.m2_e / (ns - 1.0);
    const double var_a = m.caa / (ns - 1.0);
    const double var_g = m.cgg / (ns - 1.0);
    /* Control variate: regress Y on X. Where X never pays (deep out of the
     * money) there is nothing to regress on: beta = 0, the plain estimator. */
    const double beta = m.cgg > 0.0 ? m.cag / m.cgg : 0.0;
    /* Residual variance of Y - beta X; one more degree of freedom is spent
     * on beta. Clamped at 0 against rounding when Y = X (steps = 1). */
    const double res = fmax(m.caa - beta * m.cag, 0.0) / (ns - 2.0);
    const double asian_cv = disc * m.mean_a - beta * (disc * m.mean_g - geo_exact);

    shoal_set_double(t, EURO_PRICE, disc * m.mean_e);
    shoal_set_double(t, EURO_SE, disc * sqrt(var_e / ns));
    shoal_set_double(t, ASIAN_PRICE, asian_cv);
    shoal_set_double(t, ASIAN_SE, disc * sqrt(res / ns));
    shoal_set_double(t, ASIAN_PLAIN_PRICE, disc * m.mean_a);
    shoal_set_double(t, ASIAN_PLAIN_SE, disc * sqrt(var_a / ns));
    shoal_set_double(t, ASIAN_CV_BETA, beta);
    /* var_a / res: 1 when nothing pays; huge (1e15, rounding) or +inf when
     * Y = X exactly, as with steps = 1. */
    shoal_set_double(t, ASIAN_CV_VR,
                     var_a == 0.0 ? 1.0 : res > 0.0 ? var_a / res : INFINITY);
    shoal_set_double(t, GEO_PRICE, disc * m.mean_g);
    shoal_set_double(t, GEO_SE, disc * sqrt(var_g / ns));
    shoal_set_double(t, GEO_EXACT, geo_exact);
    shoal_set_double(t, BS_PRICE, bs);
    /* Sufficient sums of Y = disc a, X = disc g from the running moments:
     * sum Y = n mean, sum XY = cov + n mean_x mean_y, ... */
    const double ya = disc * m.mean_a, xg = disc * m.mean_g, d2 = disc * disc;
    shoal_set_double(t, CV_N, ns);
    shoal_set_double(t, CV_SUM_Y, ns * ya);
    shoal_set_double(t, CV_SUM_X, ns * xg);
    shoal_set_double(t, CV_SUM_XY, d2 * m.cag + ns * ya * xg);
    shoal_set_double(t, CV_SUM_XX, d2 * m.cgg + ns * xg * xg);
    shoal_set_double(t, CV_SUM_YY, d2 * m.caa + ns * ya * ya);
    return SHOAL_OK;
}

/* The point's pooled control-variate price: mean[] holds the means over its
 * replicates of the per-task sums, E[X] is recomputed from its parameters. */
static double pooled_asian(shoal_task *t, const double *mean, void *ctx)
{
    (void)ctx;
    double ex = geo_asian_exact(
        shoal_param_double(t, "S0"), shoal_param_double(t, "K"),
        shoal_param_double(t, "r"), shoal_param_double(t, "sigma"),
        shoal_param_double(t, "T"), shoal_param_long(t, "steps"));
    return cv_estimate(mean[CV_N], mean[CV_SUM_Y], mean[CV_SUM_X],
                       mean[CV_SUM_XY], mean[CV_SUM_XX], ex);
}

/* ---- summary (rank 0, after the run) --------------------------------------- */

/* Mean and spread of one column over tasks (Welford). */
typedef struct {
    double n, mean, m2;
} stat;

static void stat_add(stat *s, double x)
{
    s->n += 1.0;
    double d = x - s->mean;
    s->mean += d / s->n;
    s->m2 += d * (x - s->mean);
}

/* Standard error of the mean of the task estimates. */
static double stat_se(const stat *s)
{
    return s->n > 1.0 ? sqrt(s->m2 / (s->n - 1.0) / s->n) : NAN;
}

static void print_vs(const char *what, const stat *s, double exact)
{
    double se = stat_se(s);
    printf("option_mc: %-16s %.6f +- %.6f", what, s->mean, se);
    if (isfinite(exact))
        printf("  (exact %.6f, %+.2f SE)", exact,
               se > 0 ? (s->mean - exact) / se : 0.0);
    printf("\n");
}

/* If every done task priced the same option (identical closed forms, as with
 * a config of replicates), average the task estimates; SE from their spread.
 * The arithmetic Asian is instead priced from the pooled sums, beta fitted
 * once over all paths (the mean of the per-task asian_price keeps each
 * task's O(1/paths) bias); its SE is that of the pooled residual
 * Y - beta X over the independent samples. For a parameter scan, averaging
 * over points would mean nothing: then only the variance reduction of the
 * control variate is summarised (per-point values are in /points). */
static int option_summary(const shoal_results *res, void *ctx)
{
    (void)ctx;
    enum { BLOCK = 4096, NCOL = 12 };
    static const char *cols[NCOL] = {
        "euro_price", "asian_price", "geo_asian_price", "bs_price",
        "geo_asian_exact", "asian_cv_vr", "cv_n", "cv_sum_y", "cv_sum_x",
        "cv_sum_xy", "cv_sum_xx", "cv_sum_yy"};
    uint64_t ntasks = shoal_results_ntasks(res);
    double *buf = malloc(sizeof(double) * BLOCK * NCOL);
    uint8_t *status = malloc(BLOCK);
    int rc = buf && status ? 0 : SHOAL_ENOMEM;
    stat euro = {0}, asian = {0}, geo = {0}, vr = {0};
    double bs = NAN, geo_exact = NAN, sums[6] = {0};
    int one_point = 1;
    for (uint64_t start = 0; start < ntasks && rc == 0; start += BLOCK) {
        uint64_t count = ntasks - start < BLOCK ? ntasks - start : BLOCK;
        for (int c = 0; c < NCOL && rc == 0; c++)
            rc = shoal_results_read_double(res, cols[c], start, count,
                                           buf + (size_t)c * BLOCK);
        if (rc == 0)
            rc = shoal_results_read_status(res, start, count, status);
        for (uint64_t k = 0; k < count && rc == 0; k++) {
            if (status[k] != SHOAL_STATUS_DONE)
                continue;
            const double *row[NCOL];
            for (int c = 0; c < NCOL; c++)
                row[c] = buf + (size_t)c * BLOCK + k;
            if (euro.n == 0) {
                bs = *row[3];
                geo_exact = *row[4];
            } else if (*row[3] != bs || *row[4] != geo_exact) {
                one_point = 0;
            }
            stat_add(&euro, *row[0]);
            stat_add(&asian, *row[1]);
            stat_add(&geo, *row[2]);
            if (isfinite(*row[5]))
                stat_add(&vr, *row[5]);
            for (int c = 0; c < 6; c++)
                sums[c] += *row[6 + c];
        }
    }
    if (rc == 0 && euro.n > 0) {
        if (one_point && euro.n > 1) {
            printf("option_mc: one option in %.0f tasks; mean +- standard error "
                   "of the task estimates:\n", euro.n);
            print_vs("European call", &euro, bs);
            print_vs("geometric Asian", &geo, geo_exact);
            /* Pooled: sums[] = n, Y, X, XY, XX, YY over all samples. */
            double n = sums[0], y = sums[1] / n, x = sums[2] / n;
            double cxx = sums[4] / n - x * x, cxy = sums[3] / n - x * y;
            double cyy = sums[5] / n - y * y;
            double beta = cxx > 0.0 ? cxy / cxx : 0.0;
            double resid = fmax(cyy - beta * cxy, 0.0) * n / (n - 2.0);
            printf("option_mc: %-16s %.6f +- %.6f  (beta %.4f fitted once on "
                   "%.0f samples; per-task beta: %.6f)\n",
                   "arithmetic Asian",
                   cv_estimate(n, sums[1], sums[2], sums[3], sums[4],
                               geo_exact),
                   sqrt(resid / n), beta, n, asian.mean);
        } else {
            printf("option_mc: %.0f tasks done (several parameter points; see "
                   "/points)\n", euro.n);
        }
        if (vr.n > 0)
            printf("option_mc: control variate: mean variance reduction %.3gx "
                   "for the arithmetic Asian\n", vr.mean);
    }
    free(buf);
    free(status);
    return rc;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [EURO_PRICE] = {.name = "euro_price", .unit = "USD", .type = SHOAL_FLOAT64,
                        .doc = "European call, MC estimate"},
        [EURO_SE] = {.name = "euro_se", .unit = "USD", .type = SHOAL_FLOAT64,
                     .doc = "standard error of euro_price from this task's paths"},
        [ASIAN_PRICE] = {.name = "asian_price", .unit = "USD", .type = SHOAL_FLOAT64,
                         .doc = "arithmetic-average Asian call, MC with the "
                                "geometric Asian as control variate, beta "
                                "fitted on this task's paths (bias O(1/paths), "
                                "which replicates do not average away; pooled: "
                                "/points/derived/asian_price_pooled)"},
        [ASIAN_SE] = {.name = "asian_se", .unit = "USD", .type = SHOAL_FLOAT64,
                      .doc = "standard error of asian_price"},
        [ASIAN_PLAIN_PRICE] = {.name = "asian_plain_price", .unit = "USD", .type = SHOAL_FLOAT64,
                               .doc = "arithmetic Asian call, plain MC (no "
                                      "control variate)"},
        [ASIAN_PLAIN_SE] = {.name = "asian_plain_se", .unit = "USD", .type = SHOAL_FLOAT64,
                            .doc = "standard error of asian_plain_price"},
        [ASIAN_CV_BETA] = {.name = "asian_cv_beta", .unit = "1", .type = SHOAL_FLOAT64,
                           .doc = "control-variate coefficient Cov(arith, geo) "
                                  "/ Var(geo) fitted on this task's paths"},
        [ASIAN_CV_VR] = {.name = "asian_cv_vr", .unit = "1", .type = SHOAL_FLOAT64,
                         .doc = "variance reduction (asian_plain_se / "
                                "asian_se)^2 from the control variate"},
        [GEO_PRICE] = {.name = "geo_asian_price", .unit = "USD", .type = SHOAL_FLOAT64,
                       .doc = "geometric-average Asian call, plain MC"},
        [GEO_SE] = {.name = "geo_asian_se", .unit = "USD", .type = SHOAL_FLOAT64,
                    .doc = "standard error of geo_asian_price"},
        [GEO_EXACT] = {.name = "geo_asian_exact", .unit = "USD", .type = SHOAL_FLOAT64,
                       .doc = "geometric Asian call, Kemna-Vorst closed form "
                              "for the same discrete dates"},
        [BS_PRICE] = {.name = "bs_price", .unit = "USD", .type = SHOAL_FLOAT64,
                      .doc = "European call, Black-Scholes formula"},
        /* The control variate's sufficient sums over this task's samples (a
         * sample: one path, or a z, -z pair averaged), Y = discounted
         * arithmetic payoff, X = discounted geometric payoff. */
        [CV_N] = {.name = "cv_n", .unit = "1", .type = SHOAL_FLOAT64,
                  .doc = "samples of the control-variate sums (paths, or "
                         "pairs with antithetic = 1)"},
        [CV_SUM_Y] = {.name = "cv_sum_y", .unit = "USD", .type = SHOAL_FLOAT64,
                      .doc = "sum of Y, the discounted arithmetic payoff"},
        [CV_SUM_X] = {.name = "cv_sum_x", .unit = "USD", .type = SHOAL_FLOAT64,
                      .doc = "sum of X, the discounted geometric payoff"},
        [CV_SUM_XY] = {.name = "cv_sum_xy", .unit = "USD2", .type = SHOAL_FLOAT64,
                       .doc = "sum of X Y"},
        [CV_SUM_XX] = {.name = "cv_sum_xx", .unit = "USD2", .type = SHOAL_FLOAT64,
                       .doc = "sum of X^2"},
        [CV_SUM_YY] = {.name = "cv_sum_yy", .unit = "USD2", .type = SHOAL_FLOAT64,
                       .doc = "sum of Y^2"},
    };
    /* With a [scan]: beta fitted once over each point's pooled sums. */
    static const shoal_derived derived[] = {
        {.name = "asian_price_pooled", .unit = "USD",
         .doc = "arithmetic Asian call, control variate with beta fitted "
                "once on all the point's paths: Y - beta (X - E[X])",
         .fn = pooled_asian},
    };
    static const shoal_param params[] = {
        {.name = "S0", .unit = "USD", .type = SHOAL_FLOAT64, .dflt = "100",
         .doc = "spot price at time 0", .min = 1e-8, .max = 1e12},
        {.name = "K", .unit = "USD", .type = SHOAL_FLOAT64, .dflt = "100",
         .doc = "strike", .min = 1e-8, .max = 1e12},
        {.name = "r", .unit = "year-1", .type = SHOAL_FLOAT64, .dflt = "0.05",
         .doc = "risk-free rate, continuously compounded, per year",
         .min = -0.5, .max = 1},
        {.name = "sigma", .unit = "year-1/2", .type = SHOAL_FLOAT64, .dflt = "0.2",
         .doc = "volatility, per sqrt(year)", .min = 1e-4, .max = 3},
        {.name = "T", .unit = "year", .type = SHOAL_FLOAT64, .dflt = "1",
         .doc = "maturity in years", .min = 1e-6, .max = 50},
        {.name = "paths", .unit = "1", .type = SHOAL_INT64, .dflt = "100000",
         .doc = "paths per task (even when antithetic = 1)", .min = 8,
         .max = 1e13},
        {.name = "steps", .unit = "1", .type = SHOAL_INT64, .dflt = "12",
         .doc = "Asian monitoring dates i T / steps, i = 1..steps", .min = 1,
         .max = 1e7},
        {.name = "antithetic", .unit = "1", .type = SHOAL_INT64, .dflt = "1",
         .doc = "1: pair every path with its mirror (-z); 0: independent paths",
         .min = 0, .max = 1},
    };
    const shoal_app app = {
        .name = "option_mc",
        .doc = "Monte Carlo prices of a European call and an arithmetic-average "
               "Asian call under\ngeometric Brownian motion (the geometric Asian, "
               "exact by Kemna-Vorst, is the control variate).",
        .run = option_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .summary = option_summary,
        .derived = derived,
        .nderived = sizeof derived / sizeof derived[0],
    };
    return shoal_main(&app, argc, argv);
}
