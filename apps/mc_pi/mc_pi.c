/* mc_pi: estimate pi by Monte Carlo.
 *
 * Each task draws `samples` points uniformly in the unit square from its own
 * random stream and counts those inside the quarter circle. The combined
 * estimate 4 * sum(hits) / sum(samples) is computed from the result file in
 * task order with exact integer sums, so it is identical for any number of
 * ranks; its standard error is 4 * sqrt(p (1 - p) / N), p = hits / N.
 * The run also combines hits and samples (sums) and pi (mean over tasks)
 * into /reduce, which the analysis benchmark uses to time the combining. */
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

/* Combine all done tasks, reading the file in blocks of rows. */
static int pi_summary(const shoal_results *res, void *ctx)
{
    (void)ctx;
    enum { BLOCK = 65536 };
    uint64_t n = shoal_results_ntasks(res);
    int64_t *hits = malloc(BLOCK * sizeof *hits);
    int64_t *samples = malloc(BLOCK * sizeof *samples);
    uint8_t *status = malloc(BLOCK);
    int rc = hits && samples && status ? 0 : SHOAL_ENOMEM;
    uint64_t total_hits = 0, total_samples = 0, used = 0;
    for (uint64_t start = 0; start < n && rc == 0; start += BLOCK) {
        uint64_t count = n - start < BLOCK ? n - start : BLOCK;
        rc = shoal_results_read_int64(res, "hits", start, count, hits);
        if (rc == 0)
            rc = shoal_results_read_int64(res, "samples", start, count, samples);
        if (rc == 0)
            rc = shoal_results_read_status(res, start, count, status);
        for (uint64_t k = 0; k < count && rc == 0; k++) {
            if (status[k] != SHOAL_STATUS_DONE)
                continue;
            total_hits += (uint64_t)hits[k];
            total_samples += (uint64_t)samples[k];
            used++;
        }
    }
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
    free(hits);
    free(samples);
    free(status);
    return rc;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [HITS] = {.name = "hits", .type = SHOAL_INT64,
                  .doc = "points inside the quarter circle", .reduce = SHOAL_REDUCE_SUM},
        [SAMPLES] = {.name = "samples", .type = SHOAL_INT64,
                     .doc = "points drawn", .reduce = SHOAL_REDUCE_SUM},
        [PI] = {.name = "pi", .type = SHOAL_FLOAT64,
                .doc = "this task's estimate, 4 hits / samples", .reduce = SHOAL_REDUCE_MEAN},
    };
    static const shoal_param params[] = {
        {.name = "samples", .type = SHOAL_INT64, .dflt = "1000000",
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
