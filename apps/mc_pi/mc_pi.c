/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mc_pi: estimate pi by Monte Carlo.
 *
 * Each task draws `samples` points uniformly in the unit square from its own
 * random stream and counts those inside the quarter circle. The run sums
 * hits and samples over its done tasks into /reduce (exact integer sums,
 * identical for any number of ranks); the combined estimate is
 * 4 * sum(hits) / sum(samples), its standard error 4 * sqrt(p (1 - p) / N),
 * p = hits / N. /reduce/pi is the mean of the tasks' own estimates.
 *
 * pi is watched: `[run] stop_when = sem(pi) < 1e-4` ends the run once the
 * standard error of the tasks' mean estimate is that small
 * (configs/mc_pi_adaptive.ini, docs/adaptive.md). */
#include <shoal/shoal.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { HITS, SAMPLES, PI, NOUTPUTS };

static int pi_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    long n = shoal_param_long(t, "samples");
    gsl_rng *r = shoal_task_rng(t);
    long hits = 0;
    for (long i = 0; i < n; i++) {
        double x = gsl_rng_uniform(r), y = gsl_rng_uniform(r);
        hits += x * x + y * y < 1.0;
    }
    shoal_set_int64(t, HITS, hits);
    shoal_set_int64(t, SAMPLES, n);
    shoal_set_double(t, PI, 4.0 * (double)hits / (double)n);
    return SHOAL_OK;
}

static void quiet(const char *reason, const char *file, int line, int code)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)code;
}

/* The combined estimate from /reduce: the run summed hits and samples over
 * its done tasks, in task order, exactly (integers). */
static int pi_summary(const shoal_results *res, void *ctx)
{
    (void)ctx;
    int64_t hits = 0, samples = 0;
    double done = 0;
    int rc = shoal_results_read_all_int64(res, "reduce/hits", &hits, 1, NULL);
    if (rc == 0)
        rc = shoal_results_read_all_int64(res, "reduce/samples", &samples, 1, NULL);
    /* A run that stop_when ended counts its used tasks only (/reduce too);
     * other runs have no tasks_used, and asking is no error. */
    shoal_error_handler *prev = shoal_set_error_handler(quiet);
    int stopped = shoal_results_attr_double(res, "tasks_used", &done) == 0;
    shoal_set_error_handler(prev);
    if (rc == 0 && !stopped)
        rc = shoal_results_attr_double(res, "tasks_done", &done);
    uint64_t total_hits = (uint64_t)hits, total_samples = (uint64_t)samples;
    uint64_t used = (uint64_t)done;
    if (rc == 0 && total_samples > 0) {
        double p = (double)total_hits / (double)total_samples;
        double est = 4.0 * p;
        double se = 4.0 * sqrt(p * (1.0 - p) / (double)total_samples);
        printf("mc_pi: pi = %.10f +- %.10f (standard error) from %llu samples "
               "in %llu tasks\n",
               est, se, (unsigned long long)total_samples,
               (unsigned long long)used);
        printf("mc_pi: error vs M_PI = %.3g (%.2f standard errors)\n",
               est - M_PI, se > 0 ? (est - M_PI) / se : 0.0);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [HITS] = {.name = "hits", .unit = "1", .type = SHOAL_INT64, .reduce = SHOAL_REDUCE_SUM,
                  .doc = "points inside the quarter circle"},
        [SAMPLES] = {.name = "samples", .unit = "1", .type = SHOAL_INT64, .reduce = SHOAL_REDUCE_SUM,
                     .doc = "points drawn"},
        [PI] = {.name = "pi", .unit = "1", .type = SHOAL_FLOAT64, .reduce = SHOAL_REDUCE_MEAN,
                .doc = "this task's estimate, 4 hits / samples",
                .watch = 1 /* for [run] stop_when = sem(pi) < ... */},
    };
    static const shoal_param params[] = {
        {.name = "samples", .unit = "1", .type = SHOAL_INT64, .dflt = "1000000",
         .doc = "points drawn per task", .min = 1, .max = 1e15},
    };
    const shoal_app app = {
        .name = "mc_pi",
        .doc = "Estimate pi by Monte Carlo: every task draws `samples` random "
               "points in the unit square\nand counts those inside the quarter "
               "circle.",
        .run = pi_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .summary = pi_summary,
    };
    return shoal_main(&app, argc, argv);
}
