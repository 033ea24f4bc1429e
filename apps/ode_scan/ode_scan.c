/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ode_scan: the largest Lyapunov exponent and time averages of the Lorenz
 * system, one parameter point per task, for scans over (sigma, rho, beta).
 *
 *   dx/dt = sigma (y - x),  dy/dt = x (rho - z) - y,  dz/dt = x y - beta z.
 *
 * Each task draws a start point uniformly in a box around the attractor and
 * a direction uniformly on the sphere from its own random stream (so
 * replicates are independent and results do not depend on the rank count),
 * integrates for t_transient (discarded: the point settles on the attractor
 * and the separation vector aligns with the most expanding direction), then
 * for t_total, renormalising the separation every dt (Benettin et al. 1980):
 *   lyapunov = sum_k log(|w_k| / |w_{k-1}|) / t_total.
 *
 * The separation is integrated as w = (x2 - x) / d0 beside the reference
 * trajectory x. Since the Lorenz field f is quadratic,
 *   f(x + d0 w) - f(x) = d0 [J(x) w + d0 (0, -w1 w3, w1 w2)]
 * holds exactly, so method = benettin (second trajectory at distance d0)
 * integrates the true second trajectory without the cancellation of x2 - x
 * (|w| = 1 after each renormalisation, so the relative tolerance controls w
 * whatever d0 is), and method = tangent (variational equation) is the same
 * system with the d0 term dropped.
 *
 * Integration: GSL odeiv2 with an adaptive explicit Runge-Kutta stepper
 * (rk8pd, rkck or rkf45) and the y_new error control (per component
 * eps_abs + eps_rel |y_i|). The drivers are allocated once per rank in
 * worker_init; per task only their tolerances, step size and parameters are
 * reset, so a task's result does not depend on the tasks run before it on the
 * same rank. The step loop is gsl_odeiv2_driver_apply's loop run here on the
 * driver's own evolve/control/step objects, because the time averages and
 * max_z need every accepted step, which driver_apply hides. */
#include <shoal/shoal.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    LYAPUNOV,
    MEAN_X,
    MEAN_Y,
    MEAN_Z,
    MEAN_Z2,
    MAX_Z,
    RENORMS,
    STEPS,
    NOUTPUTS
};

/* Codes of failed tasks (stored in /tasks/error). */
enum {
    ODE_EPARAM = 10,      /* parameter values that bounds cannot express */
    ODE_EINTEGRATE = 11,  /* the stepper failed */
    ODE_ESTEPS = 12,      /* more than max_steps */
    ODE_ESEPARATION = 13  /* separation vanished or overflowed */
};

/* State: reference trajectory (x, y, z), then the scaled separation w. */
enum { DIM = 6 };

/* First step size tried by each task; the controller adapts it at once. */
#define H_START 1e-3

/* The parameters the system function reads; filled by each task. */
typedef struct {
    double sigma, rho, beta;
    double d0; /* 0 for the tangent method */
} lorenz_params;

static const struct {
    const char *name;
    const gsl_odeiv2_step_type *const *type;
} steppers[] = {
    {"rk8pd", &gsl_odeiv2_step_rk8pd},
    {"rkck", &gsl_odeiv2_step_rkck},
    {"rkf45", &gsl_odeiv2_step_rkf45},
};
enum { NSTEPPERS = sizeof steppers / sizeof steppers[0] };

/* Per-rank workspace. The drivers keep a pointer to sys, and sys.params
 * points to p, so the workspace is allocated once and never moves. */
typedef struct {
    lorenz_params p;
    gsl_odeiv2_system sys;
    gsl_odeiv2_driver *drv[NSTEPPERS];
} workspace;

static int lorenz_rhs(double t, const double u[], double f[], void *params)
{
    (void)t;
    const lorenz_params *p = params;
    const double x = u[0], y = u[1], z = u[2];
    const double a = u[3], b = u[4], c = u[5];
    f[0] = p->sigma * (y - x);
    f[1] = x * (p->rho - z) - y;
    f[2] = x * y - p->beta * z;
    /* J(x) w, plus the exact second-order term of the finite separation. */
    f[3] = p->sigma * (b - a);
    f[4] = (p->rho - z) * a - b - x * c - p->d0 * a * c;
    f[5] = y * a + x * b - p->beta * c + p->d0 * a * b;
    return GSL_SUCCESS;
}

/* (dx, dy, dz)/dt at state u: the end slopes of the Hermite quadrature. */
static void xyz_rates(const lorenz_params *p, const double u[], double r[3])
{
    r[0] = p->sigma * (u[1] - u[0]);
    r[1] = u[0] * (p->rho - u[2]) - u[1];
    r[2] = u[0] * u[1] - p->beta * u[2];
}

/* Accumulators of the averaging phase. */
typedef struct {
    int on; /* 0 during the transient */
    double sum_log, int_x, int_y, int_z, int_z2, max_z;
    long renorms, steps;
} phase_stats;

/* Maximum over s in [0, 1] of the cubic Hermite interpolant of z on one
 * step (values z0, z1, derivatives m0 > 0 >= m1 times the step h): the root
 * of its derivative, a quadratic with p'(0) = h m0 > 0 >= p'(1) = h m1,
 * found by bisection (once per maximum of z, so cost does not matter). */
static double hermite_max(double z0, double z1, double hm0, double hm1)
{
    const double A = 6 * z0 + 3 * hm0 - 6 * z1 + 3 * hm1;
    const double B = -6 * z0 - 4 * hm0 + 6 * z1 - 2 * hm1;
    const double C = hm0;
    double lo = 0.0, hi = 1.0;
    for (int i = 0; i < 60; i++) {
        double mid = 0.5 * (lo + hi);
        if ((A * mid + B) * mid + C > 0)
            lo = mid;
        else
            hi = mid;
    }
    const double s = 0.5 * (lo + hi), s2 = s * s, s3 = s2 * s;
    return (2 * s3 - 3 * s2 + 1) * z0 + (s3 - 2 * s2 + s) * hm0 +
           (-2 * s3 + 3 * s2) * z1 + (s3 - s2) * hm1;
}

/* Fold one accepted step [y0 -> y1] of length h into the time integrals:
 * trapezoid plus the Hermite end correction h^2 (g0' - g1') / 12, exact for
 * cubics, so the quadrature error (h^5) is far below the integration error. */
static void accumulate_step(phase_stats *s, double h, const double y0[],
                            const double r0[3], const double y1[],
                            const double r1[3])
{
    const double h2 = h * h / 12.0;
    s->int_x += 0.5 * h * (y0[0] + y1[0]) + h2 * (r0[0] - r1[0]);
    s->int_y += 0.5 * h * (y0[1] + y1[1]) + h2 * (r0[1] - r1[1]);
    s->int_z += 0.5 * h * (y0[2] + y1[2]) + h2 * (r0[2] - r1[2]);
    s->int_z2 += 0.5 * h * (y0[2] * y0[2] + y1[2] * y1[2]) +
                 h2 * 2.0 * (y0[2] * r0[2] - y1[2] * r1[2]);
    if (y1[2] > s->max_z)
        s->max_z = y1[2];
    if (r0[2] > 0 && r1[2] <= 0) {
        double zm = hermite_max(y0[2], y1[2], h * r0[2], h * r1[2]);
        if (zm > s->max_z)
            s->max_z = zm;
    }
}

/* Integrate for `duration`, renormalising w to unit length every dt (the
 * last interval may be shorter). With s->on, accumulate log |w|, the time
 * integrals and max z. Fails once steps_before + s->steps > max_steps. */
static int run_phase(shoal_task *t, gsl_odeiv2_driver *d, double y[DIM],
                     double duration, double dt, long max_steps,
                     long steps_before, phase_stats *s)
{
    const lorenz_params *p = d->sys->params;
    double tc = 0.0, r0[3], r1[3], y0[3];
    xyz_rates(p, y, r0);
    if (s->on)
        s->max_z = y[2];
    for (long k = 1; tc < duration; k++) {
        double t1 = (double)k * dt;
        /* No sliver of an interval from rounding k dt just below the end. */
        if (t1 > duration || duration - t1 < 1e-9 * dt)
            t1 = duration;
        while (tc < t1) {
            const double tprev = tc;
            memcpy(y0, y, sizeof y0);
            int st = gsl_odeiv2_evolve_apply(d->e, d->c, d->s, d->sys, &tc, t1,
                                             &d->h, y);
            if (st != GSL_SUCCESS)
                return shoal_task_fail(t, ODE_EINTEGRATE,
                                       "%s failed at t = %g (h = %g): %s",
                                       gsl_odeiv2_step_name(d->s), tprev, d->h,
                                       gsl_strerror(st));
            if (++s->steps > max_steps - steps_before)
                return shoal_task_fail(t, ODE_ESTEPS,
                                       "more than max_steps = %ld steps; "
                                       "loosen the tolerances or raise "
                                       "max_steps",
                                       max_steps);
            xyz_rates(p, y, r1);
            if (s->on)
                accumulate_step(s, tc - tprev, y0, r0, y, r1);
            memcpy(r0, r1, sizeof r0);
        }
        const double nrm = sqrt(y[3] * y[3] + y[4] * y[4] + y[5] * y[5]);
        if (!(nrm > 0) || !isfinite(nrm))
            return shoal_task_fail(t, ODE_ESEPARATION,
                                   "separation norm %g at t = %g; shorten dt",
                                   nrm, tc);
        if (s->on) {
            s->sum_log += log(nrm);
            s->renorms++;
        }
        for (int i = 3; i < DIM; i++)
            y[i] /= nrm;
        /* y jumped: let the stepper start afresh (keeps the step size). */
        gsl_odeiv2_driver_reset(d);
    }
    return SHOAL_OK;
}

static int ode_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    workspace *ws = shoal_task_workspace(t);
    lorenz_params *p = &ws->p;
    p->sigma = shoal_param_double(t, "sigma");
    p->rho = shoal_param_double(t, "rho");
    p->beta = shoal_param_double(t, "beta");
    const char *method = shoal_param_string(t, "method");
    const char *stepper = shoal_param_string(t, "stepper");
    const double eps_abs = shoal_param_double(t, "eps_abs");
    const double eps_rel = shoal_param_double(t, "eps_rel");
    const double d0 = shoal_param_double(t, "d0");
    const double dt = shoal_param_double(t, "dt");
    const double t_transient = shoal_param_double(t, "t_transient");
    const double t_total = shoal_param_double(t, "t_total");
    const double box = shoal_param_double(t, "box");
    const long max_steps = shoal_param_long(t, "max_steps");

    if (!strcmp(method, "tangent"))
        p->d0 = 0.0;
    else if (!strcmp(method, "benettin"))
        p->d0 = d0;
    else
        return shoal_task_fail(t, ODE_EPARAM,
                               "method = '%s'; expected tangent or benettin",
                               method);
    int k = 0;
    while (k < NSTEPPERS && strcmp(stepper, steppers[k].name))
        k++;
    if (k == NSTEPPERS)
        return shoal_task_fail(t, ODE_EPARAM,
                               "stepper = '%s'; expected rk8pd, rkck or rkf45",
                               stepper);
    if (dt > t_total)
        return shoal_task_fail(t, ODE_EPARAM,
                               "dt = %g exceeds t_total = %g: no "
                               "renormalisation would be averaged",
                               dt, t_total);

    gsl_odeiv2_driver *d = ws->drv[k];
    if (gsl_odeiv2_control_init(d->c, eps_abs, eps_rel, 1.0, 0.0) ||
        gsl_odeiv2_driver_reset_hstart(d, H_START))
        return shoal_task_fail(t, ODE_EPARAM, "cannot set the tolerances");

    gsl_rng *r = shoal_task_rng(t);
    double y[DIM];
    y[0] = gsl_ran_flat(r, -box, box);
    y[1] = gsl_ran_flat(r, -box, box);
    y[2] = gsl_ran_flat(r, p->rho - box, p->rho + box);
    gsl_ran_dir_3d(r, &y[3], &y[4], &y[5]);

    phase_stats tr = {.on = 0}, av = {.on = 1};
    int rc = run_phase(t, d, y, t_transient, dt, max_steps, 0, &tr);
    if (rc)
        return rc;
    rc = run_phase(t, d, y, t_total, dt, max_steps, tr.steps, &av);
    if (rc)
        return rc;

    shoal_set_double(t, LYAPUNOV, av.sum_log / t_total);
    shoal_set_double(t, MEAN_X, av.int_x / t_total);
    shoal_set_double(t, MEAN_Y, av.int_y / t_total);
    shoal_set_double(t, MEAN_Z, av.int_z / t_total);
    shoal_set_double(t, MEAN_Z2, av.int_z2 / t_total);
    shoal_set_double(t, MAX_Z, av.max_z);
    shoal_set_int64(t, RENORMS, av.renorms);
    shoal_set_int64(t, STEPS, av.steps);
    return SHOAL_OK;
}

static void ode_finalize(void *ctx, void *workspace_)
{
    (void)ctx;
    workspace *ws = workspace_;
    if (!ws)
        return;
    for (int k = 0; k < NSTEPPERS; k++)
        if (ws->drv[k])
            gsl_odeiv2_driver_free(ws->drv[k]);
    free(ws);
}

static int ode_init(void *ctx, void **out)
{
    /* GSL's default error handler aborts; a task must fail instead, so GSL
     * reports errors through return values, which are all checked. */
    gsl_set_error_handler_off();
    workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return SHOAL_ENOMEM;
    ws->sys = (gsl_odeiv2_system){.function = lorenz_rhs, .jacobian = NULL,
                                  .dimension = DIM, .params = &ws->p};
    for (int k = 0; k < NSTEPPERS; k++) {
        ws->drv[k] = gsl_odeiv2_driver_alloc_y_new(&ws->sys, *steppers[k].type,
                                                   H_START, 1e-10, 1e-10);
        if (!ws->drv[k]) {
            ode_finalize(ctx, ws);
            return SHOAL_ENOMEM;
        }
    }
    *out = ws;
    return 0;
}

/* Mean and standard error of the exponent over all done tasks: meaningful
 * for replicates of one point; a scan is analysed per point from the file. */
static int ode_summary(const shoal_results *res, void *ctx)
{
    (void)ctx;
    enum { BLOCK = 65536 };
    uint64_t n = shoal_results_ntasks(res);
    double *lyap = malloc(BLOCK * sizeof *lyap);
    uint8_t *status = malloc(BLOCK);
    int rc = lyap && status ? 0 : SHOAL_ENOMEM;
    double sum = 0, sum2 = 0;
    uint64_t used = 0;
    for (uint64_t start = 0; start < n && rc == 0; start += BLOCK) {
        uint64_t count = n - start < BLOCK ? n - start : BLOCK;
        rc = shoal_results_read_double(res, "lyapunov", start, count, lyap);
        if (rc == 0)
            rc = shoal_results_read_status(res, start, count, status);
        for (uint64_t k = 0; k < count && rc == 0; k++) {
            if (status[k] != SHOAL_STATUS_DONE)
                continue;
            sum += lyap[k];
            sum2 += lyap[k] * lyap[k];
            used++;
        }
    }
    if (rc == 0 && used > 0) {
        double mean = sum / (double)used;
        double var = used > 1 ? (sum2 - (double)used * mean * mean) /
                                    (double)(used - 1)
                              : 0.0;
        printf("ode_scan: largest Lyapunov exponent over %llu done tasks: "
               "mean %.6f +- %.6f (standard error; meaningful when all tasks "
               "are replicates of one point)\n",
               (unsigned long long)used, mean,
               var > 0 ? sqrt(var / (double)used) : 0.0);
    }
    free(lyap);
    free(status);
    return rc;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [LYAPUNOV] = {.name = "lyapunov", .unit = "1", .type = SHOAL_FLOAT64,
                      .doc = "largest Lyapunov exponent, sum of log growth "
                             "factors / t_total"},
        [MEAN_X] = {.name = "mean_x", .unit = "1", .type = SHOAL_FLOAT64,
                    .doc = "time average of x over t_total"},
        [MEAN_Y] = {.name = "mean_y", .unit = "1", .type = SHOAL_FLOAT64,
                    .doc = "time average of y over t_total"},
        [MEAN_Z] = {.name = "mean_z", .unit = "1", .type = SHOAL_FLOAT64,
                    .doc = "time average of z over t_total"},
        [MEAN_Z2] = {.name = "mean_z2", .unit = "1", .type = SHOAL_FLOAT64,
                     .doc = "time average of z^2 over t_total"},
        [MAX_Z] = {.name = "max_z", .unit = "1", .type = SHOAL_FLOAT64,
                   .doc = "largest z over t_total (Hermite-interpolated "
                          "between steps)"},
        [RENORMS] = {.name = "renormalisations", .unit = "1", .type = SHOAL_INT64,
                     .doc = "renormalisations averaged, ceil(t_total / dt)"},
        [STEPS] = {.name = "steps", .unit = "1", .type = SHOAL_INT64,
                   .doc = "accepted integration steps over t_total"},
    };
    static const shoal_param params[] = {
        {.name = "sigma", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "10",
         .doc = "Prandtl number sigma", .min = 1e-6, .max = 1e4},
        {.name = "rho", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "28",
         .doc = "Rayleigh number rho", .min = 0, .max = 1e4},
        {.name = "beta", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "2.6666666666666665",
         .doc = "geometric factor beta (8/3)", .min = 1e-6, .max = 1e4},
        {.name = "method", .type = SHOAL_STRING, .dflt = "tangent",
         .doc = "tangent (variational equation) or benettin (second "
                "trajectory at distance d0)"},
        {.name = "d0", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "1e-8",
         .doc = "benettin: separation after each renormalisation",
         .min = 1e-15, .max = 1e-2},
        {.name = "dt", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "1",
         .doc = "time between renormalisations", .min = 1e-3, .max = 10},
        {.name = "t_transient", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "50",
         .doc = "time integrated and discarded before averaging",
         .min = 0, .max = 1e8},
        {.name = "t_total", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "1000",
         .doc = "averaging time", .min = 1e-3, .max = 1e8},
        {.name = "stepper", .type = SHOAL_STRING, .dflt = "rk8pd",
         .doc = "GSL odeiv2 stepper: rk8pd, rkck or rkf45"},
        {.name = "eps_abs", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "1e-10",
         .doc = "absolute error tolerance per step", .min = 1e-20,
         .max = 1e-2},
        {.name = "eps_rel", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "1e-10",
         .doc = "relative error tolerance per step", .min = 0, .max = 1e-2},
        {.name = "box", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "20",
         .doc = "start point uniform in |x|, |y| <= box, |z - rho| <= box",
         .min = 1e-3, .max = 1e4},
        {.name = "max_steps", .unit = "1", .type = SHOAL_INT64, .dflt = "1000000000",
         .doc = "a task with more accepted steps fails", .min = 1,
         .max = 1e15},
    };
    const shoal_app app = {
        .name = "ode_scan",
        .doc = "Lorenz system: largest Lyapunov exponent (tangent or "
               "two-trajectory renormalisation)\nand time averages, "
               "integrated with GSL odeiv2, from a random start per task.",
        .run = ode_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .worker_init = ode_init,
        .worker_finalize = ode_finalize,
        .summary = ode_summary,
    };
    return shoal_main(&app, argc, argv);
}
