/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_reduce: an app whose outputs use every kind of reduction, and a
 * derived quantity per scan point, for the /reduce and /points tests
 * (tests/mpi/reduce_cases.sh). Values come from the task's generator, so
 * they depend only on (seed, task); some tasks leave x unset (NaN), and
 * with SHOAL_TEST_REDUCE_FAIL_EVERY=n tasks with index % n == 3 fail (an
 * environment variable, so that a resume may change it). */
#include <shoal/shoal.h>

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { X, XV, XS, XMIN, XMAX, XCOUNT, N, HIST, MOM, IMAX, AFFINE, Y, NOUTPUTS };

#define NBINS 10

/* Affine maps t -> a t + b composed in task order: (a1, b1) then (a2, b2)
 * is (a1 a2, a2 b1 + b2). Associative, not commutative: a wrong order shows. */
static void compose(void *into, const void *from, uint64_t width, void *ctx)
{
    (void)width;
    (void)ctx;
    double *p = into;
    const double *q = from;
    double a = p[0] * q[0], b = q[0] * p[1] + q[1];
    p[0] = a;
    p[1] = b;
}

static void spin(long us)
{
    if (us <= 0)
        return;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
}

static int task(shoal_task *t, void *ctx)
{
    (void)ctx;
    uint64_t i = shoal_task_index(t);
    gsl_rng *r = shoal_task_rng(t);
    double mu = shoal_param_double(t, "mu");
    spin((long)(i % 5) * shoal_param_long(t, "sleep_us"));
    const char *fe = getenv("SHOAL_TEST_REDUCE_FAIL_EVERY");
    long fail_every = fe ? atol(fe) : 0;
    if (fail_every > 0 && i % (uint64_t)fail_every == 3)
        return shoal_task_fail(t, 5, "injected failure at task %llu", (unsigned long long)i);

    double u = gsl_rng_uniform(r);
    if (i % 13 != 5) /* some tasks leave x unset: NaN */
        shoal_set_double(t, X, mu + u);
    shoal_set_double(t, XV, mu + u);
    shoal_set_double(t, XS, 1e3 * u + mu);
    shoal_set_double(t, XMIN, 1e3 * u + mu);
    shoal_set_double(t, XMAX, 1e3 * u + mu);
    shoal_set_double(t, XCOUNT, i % 7 == 2 ? NAN : u);
    shoal_set_int64(t, N, (int64_t)i);
    int64_t *h = shoal_out_int64(t, HIST);
    double *m = shoal_out_double(t, MOM);
    shoal_moments g = {0, 0, 0}, e = {0, 0, 0};
    for (int k = 0; k < 50; k++) {
        double v = gsl_rng_uniform(r);
        h[(int)(v * NBINS)]++;
        shoal_moments_add(&g, mu + gsl_ran_gaussian_ziggurat(r, 2.0));
        shoal_moments_add(&e, gsl_ran_exponential(r, 1.5));
    }
    m[0] = g.n, m[1] = g.mean, m[2] = g.m2;
    m[3] = e.n, m[4] = e.mean, m[5] = e.m2;
    shoal_set_int64(t, IMAX, (int64_t)gsl_rng_get(r));
    double *aff = shoal_out_double(t, AFFINE);
    aff[0] = 0.9 + 0.2 * gsl_rng_uniform(r);
    aff[1] = gsl_rng_uniform(r) - 0.5;
    /* y: mean mu, second moment mu^2 + 1/12, for the derived quantity. */
    shoal_set_double(t, Y, mu + gsl_rng_uniform(r) - 0.5);
    return SHOAL_OK;
}

/* Per point: var_y = <y^2> - <y>^2 from pooled means... of y alone here:
 * (<y> - mu)^2 is biased per task, not once pooled. */
static double offset2(shoal_task *t, const double *mean, void *ctx)
{
    (void)ctx;
    double d = mean[Y] - shoal_param_double(t, "mu");
    return d * d;
}

static double ratio(shoal_task *t, const double *mean, void *ctx)
{
    (void)ctx;
    (void)t;
    return mean[XS] / mean[XV];
}

/* Reads back what a summary hook can: a constant parameter and /reduce. */
static int summary(const shoal_results *res, void *ctx)
{
    (void)ctx;
    double mu = NAN;
    int64_t n = -1;
    int rc = shoal_results_param_double(res, "mu", &mu);
    if (rc == 0)
        rc = shoal_results_read_all_int64(res, "reduce/n", &n, 1, NULL);
    if (rc == 0)
        printf("test_reduce: summary: mu = %.17g, reduce/n = %lld\n", mu, (long long)n);
    return rc;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [X] = {.name = "x", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_MEAN,
               .doc = "mu + u, unset (NaN) in every 13th task"},
        [XV] = {.name = "xv", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_VAR},
        [XS] = {.name = "xs", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_SUM},
        [XMIN] = {.name = "xmin", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_MIN},
        [XMAX] = {.name = "xmax", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_MAX},
        [XCOUNT] = {.name = "xcount", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_COUNT},
        [N] = {.name = "n", .type = SHOAL_INT64, .reduce = SHOAL_REDUCE_SUM},
        [HIST] = {.name = "hist", .type = SHOAL_INT64, .ndims = 1, .dims = {NBINS},
                  .reduce = SHOAL_REDUCE_SUM, .doc = "histogram of 50 uniforms"},
        [MOM] = {.name = "mom", .type = SHOAL_FLOAT64, .ndims = 2, .dims = {2, 3},
                 .reduce = SHOAL_REDUCE_MOMENTS,
                 .doc = "(n, mean, M2) of 50 normals and of 50 exponentials"},
        [IMAX] = {.name = "imax", .type = SHOAL_INT64, .reduce = SHOAL_REDUCE_MAX},
        [AFFINE] = {.name = "affine", .type = SHOAL_FLOAT64, .ndims = 1, .dims = {2},
                    .reduce = SHOAL_REDUCE_USER, .combine = compose},
        [Y] = {.name = "y", .type = SHOAL_FLOAT64, .doc = "mu + u - 1/2"},
    };
    static const shoal_param params[] = {
        {.name = "mu", .type = SHOAL_FLOAT64, .dflt = "0", .doc = "offset"},
        {.name = "sleep_us", .type = SHOAL_INT64, .dflt = "0",
         .doc = "busy time of task i: (i % 5) * sleep_us", .min = 0, .max = 1e7},
    };
    static const shoal_derived derived[] = {
        {.name = "offset2", .doc = "(<y> - mu)^2 from the pooled mean", .fn = offset2},
        {.name = "ratio", .doc = "<xs> / <xv>", .fn = ratio},
    };
    const shoal_app app = {
        .name = "test_reduce",
        .doc = "Test app for Shoal's reductions and per-point aggregates.",
        .run = task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .summary = summary,
        .derived = derived,
        .nderived = sizeof derived / sizeof derived[0],
    };
    return shoal_main(&app, argc, argv);
}
