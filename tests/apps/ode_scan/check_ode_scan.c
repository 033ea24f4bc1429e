/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check_ode_scan: physics checks of an ode_scan result file (serial).
 *
 *   check_ode_scan FILE chaotic exact=L k=K
 *     All tasks are replicates of one chaotic point. Mean of the exponent
 *     over the R tasks, SE = sd / sqrt(R); fails if |mean - L| > K SE.
 *
 *   check_ode_scan FILE stable sigma=S rho=P beta=B eps_abs=A eps_rel=E
 *                  dt=D t_total=T [d0=0]
 *     rho < 1: every trajectory falls into the origin, so each task's
 *     exponent is the top eigenvalue of the Jacobian there,
 *       l1 = (-(S + 1) + sqrt((S - 1)^2 + 4 S P)) / 2,
 *     up to integration error, not noise. Fails if any task misses l1 by
 *     more than its integration-error bound (below), computed from the
 *     task's own number of accepted steps.
 *
 * Exit status: 0 pass, 1 fail (or failed tasks), 2 usage or file error. */
#include <shoal/shoal.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key;
    double value;
    int required, seen;
} arg;

/* Find the arg named by argv[i] up to its '='; NULL if none. */
static arg *find_arg(const char *kv, arg *args, size_t nargs)
{
    const char *eq = strchr(kv, '=');
    for (size_t k = 0; eq && k < nargs; k++)
        if (strlen(args[k].key) == (size_t)(eq - kv) &&
            !strncmp(args[k].key, kv, (size_t)(eq - kv)))
            return &args[k];
    return NULL;
}

static int parse_args(int argc, char **argv, arg *args, size_t nargs)
{
    for (int i = 3; i < argc; i++) {
        arg *a = find_arg(argv[i], args, nargs);
        const char *text = a ? strchr(argv[i], '=') + 1 : NULL;
        char *end = NULL;
        if (a)
            a->value = strtod(text, &end);
        if (!a || end == text || *end || !isfinite(a->value)) {
            fprintf(stderr, "check_ode_scan: bad argument '%s'\n", argv[i]);
            return -1;
        }
        a->seen = 1;
    }
    for (size_t k = 0; k < nargs; k++)
        if (args[k].required && !args[k].seen) {
            fprintf(stderr, "check_ode_scan: missing %s=...\n", args[k].key);
            return -1;
        }
    return 0;
}

/* Read one float64 field and the step counts of all tasks; require every
 * task done (a failed task is a failed check, not a smaller sample). */
static int read_tasks(const char *path, double **val, int64_t **steps,
                      uint64_t *n)
{
    shoal_results *res;
    if (shoal_results_open(path, &res) < 0) {
        fprintf(stderr, "check_ode_scan: cannot open %s\n", path);
        return 2;
    }
    *n = shoal_results_ntasks(res);
    *val = malloc(*n * sizeof **val);
    *steps = malloc(*n * sizeof **steps);
    uint8_t *status = malloc(*n);
    int rc = *val && *steps && status ? 0 : 2;
    if (rc == 0 &&
        (shoal_results_read_double(res, "lyapunov", 0, *n, *val) < 0 ||
         shoal_results_read_int64(res, "steps", 0, *n, *steps) < 0 ||
         shoal_results_read_status(res, 0, *n, status) < 0)) {
        fprintf(stderr, "check_ode_scan: cannot read %s\n", path);
        rc = 2;
    }
    for (uint64_t i = 0; rc == 0 && i < *n; i++)
        if (status[i] != SHOAL_STATUS_DONE) {
            fprintf(stderr, "check_ode_scan: task %llu not done (status %u)\n",
                    (unsigned long long)i, status[i]);
            rc = 1;
        }
    free(status);
    shoal_results_close(res);
    return rc;
}

static int check_chaotic(uint64_t n, const double *l, const arg *a)
{
    const double exact = a[0].value, k = a[1].value;
    if (n < 2) {
        fprintf(stderr, "check_ode_scan: need at least 2 replicates\n");
        return 2;
    }
    double mean = 0, ss = 0;
    for (uint64_t i = 0; i < n; i++)
        mean += l[i];
    mean /= (double)n;
    for (uint64_t i = 0; i < n; i++)
        ss += (l[i] - mean) * (l[i] - mean);
    const double sd = sqrt(ss / (double)(n - 1)), se = sd / sqrt((double)n);
    const double dev = (mean - exact) / se;
    printf("lyapunov: estimate %.6f  SE %.6f (sd %.6f, R = %llu)  exact %.6f  "
           "deviation %+.2f SE  (bound %g SE)\n",
           mean, se, sd, (unsigned long long)n, exact, dev, k);
    return fabs(dev) <= k ? 0 : 1;
}

/* Integration-error bound for rho < 1. After the transient the trajectory
 * sits at the origin (to ~2e-11 here) and w lies along the top eigenvector
 * r of the Jacobian J0 there; the test makes both residuals negligible.
 * Then log|w| grows at exactly l1, and only integration errors move it:
 *  - GSL's standard control accepts a step only when every component's
 *    error estimate is <= 1.1 (eps_abs + eps_rel |y_i|); rk8pd, rkck and
 *    rkf45 propagate the higher-order solution, whose error the estimate
 *    overstates. So |e| <= 1.1 sqrt(3) (eps_abs + eps_rel |y|) per step.
 *  - An error e in w shifts the final log|w| by (l.e) / (l.w) (l: left
 *    eigenvector; the l-component is carried unchanged by the flow, the
 *    rest decays), at most kappa |e| / |w| with kappa = |l||r| / |l.r|;
 *    |w| >= w_min = exp(l1 dt) (renormalised to 1, shrinking at rate l1).
 *  - An error e in x perturbs J by at most sqrt(2) |e| (dJ/dx), hence the
 *    growth rate by kappa sqrt(2) |e|, while it decays under J0:
 *    integral of |exp(J0 t)| <= kappa / |l1| + kappa / |l2| + 1 / beta
 *    (spectral projectors of the x-y block have norm kappa; z decays at
 *    beta).
 * Summed over the task's N accepted steps and divided by T = t_total:
 *   bound = N / T * 1.1 sqrt(3) kappa [eps_rel + eps_abs / w_min
 *           + sqrt(2) eps_abs (kappa / |l1| + kappa / |l2| + 1 / beta)]
 * (|x| ~ 2e-11, so eps_rel |x| is dropped). The benettin method's finite
 * separation adds d0 (0, -w1 w3, w1 w2) to dw/dt; at the origin the z
 * direction decouples and decays at beta, so w3 = O(d0) / (beta + l1) and
 * the growth rate moves by O(d0^2): kappa d0^2 / (beta + l1) is added. */
static int check_stable(uint64_t n, const double *l, const int64_t *steps,
                        const arg *a)
{
    const double sigma = a[0].value, rho = a[1].value, beta = a[2].value;
    const double eps_abs = a[3].value, eps_rel = a[4].value, dt = a[5].value;
    const double t_total = a[6].value, d0 = a[7].value;
    if (rho >= 1) {
        fprintf(stderr, "check_ode_scan: stable needs rho < 1\n");
        return 2;
    }
    const double l1 =
        (-(sigma + 1) + sqrt((sigma - 1) * (sigma - 1) + 4 * sigma * rho)) / 2;
    if (-beta > l1) {
        fprintf(stderr, "check_ode_scan: stable needs -beta < l1 = %g\n", l1);
        return 2;
    }
    /* J0's x-y block [[-sigma, sigma], [rho, -1]]: right and left
     * eigenvectors of l1. */
    const double r[2] = {sigma, l1 + sigma}, lv[2] = {rho, l1 + sigma};
    const double kappa = hypot(r[0], r[1]) * hypot(lv[0], lv[1]) /
                         fabs(r[0] * lv[0] + r[1] * lv[1]);
    const double l2 =
        (-(sigma + 1) - sqrt((sigma - 1) * (sigma - 1) + 4 * sigma * rho)) / 2;
    const double w_min = exp(l1 * dt);
    const double decay = kappa / fabs(l1) + kappa / fabs(l2) + 1 / beta;
    const double per_step =
        1.1 * sqrt(3.0) * kappa *
        (eps_rel + eps_abs / w_min + sqrt(2.0) * eps_abs * decay);
    const double d0_term = kappa * d0 * d0 / (beta + l1);

    double mean = 0, ss = 0, worst = 0, worst_dev = 0, worst_bound = 0;
    uint64_t worst_i = 0;
    for (uint64_t i = 0; i < n; i++)
        mean += l[i];
    mean /= (double)n;
    for (uint64_t i = 0; i < n; i++) {
        ss += (l[i] - mean) * (l[i] - mean);
        double bound = (double)steps[i] / t_total * per_step + d0_term;
        double ratio = fabs(l[i] - l1) / bound;
        if (i == 0 || ratio > worst) {
            worst = ratio;
            worst_i = i;
            worst_dev = l[i] - l1;
            worst_bound = bound;
        }
    }
    const double se = n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : 0;
    /* The SE only reflects the spread of start points; the criterion is
     * the integration bound. */
    printf("lyapunov: estimate %.15f  SE %.3g (R = %llu)  exact %.15f  "
           "deviation %+.3g = %+.3g SE (not the criterion: numerical "
           "check)\n",
           mean, se, (unsigned long long)n, l1, mean - l1,
           se > 0 ? (mean - l1) / se : 0.0);
    printf("integration bound: kappa %.4f, w_min %.4f; worst task %llu: "
           "deviation %+.3g, bound %.3g (%llu steps over t_total %g): "
           "%.3g of the bound\n",
           kappa, w_min, (unsigned long long)worst_i, worst_dev, worst_bound,
           (unsigned long long)steps[worst_i], t_total, worst);
    return worst <= 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: check_ode_scan FILE chaotic|stable key=value...\n");
        return 2;
    }
    arg chaotic[] = {{"exact", 0, 1, 0}, {"k", 0, 1, 0}};
    arg stable[] = {{"sigma", 0, 1, 0},   {"rho", 0, 1, 0},
                    {"beta", 0, 1, 0},    {"eps_abs", 0, 1, 0},
                    {"eps_rel", 0, 1, 0}, {"dt", 0, 1, 0},
                    {"t_total", 0, 1, 0}, {"d0", 0, 0, 0}};
    int is_chaotic = !strcmp(argv[2], "chaotic");
    if (!is_chaotic && strcmp(argv[2], "stable")) {
        fprintf(stderr, "check_ode_scan: unknown check '%s'\n", argv[2]);
        return 2;
    }
    if (is_chaotic ? parse_args(argc, argv, chaotic, 2)
                   : parse_args(argc, argv, stable, 8))
        return 2;
    double *l = NULL;
    int64_t *steps = NULL;
    uint64_t n = 0;
    int rc = read_tasks(argv[1], &l, &steps, &n);
    if (rc == 0)
        rc = is_chaotic ? check_chaotic(n, l, chaotic)
                        : check_stable(n, l, steps, stable);
    free(l);
    free(steps);
    if (rc == 1)
        printf("FAIL\n");
    return rc;
}
