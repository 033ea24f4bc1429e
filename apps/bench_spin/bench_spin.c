/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_spin: tasks that busy-spin on the CPU for a drawn duration, to
 * measure load balance (heavy-tailed costs) and what waiting ranks cost.
 *
 * Each task draws its cost from its own random stream (so the list of costs
 * depends only on the seed, not on the rank count) and then spins until its
 * thread has used that much CPU time (CLOCK_THREAD_CPUTIME_ID). Spinning on
 * CPU time rather than on the wall clock makes a task's work the same
 * whether or not its rank shares a core (mpirun --oversubscribe): the total
 * CPU work of a run is the sum of the costs whatever the rank count.
 *
 * dist = pareto: cost = min(X, cap * mean), X ~ Pareto(tail index alpha,
 *        scale mean * (alpha - 1) / alpha), so the untruncated mean is
 *        `mean_ms` (the truncated mean is a little lower: ~0.96 mean for
 *        alpha 1.5, cap 100).
 * dist = constant: every task costs mean_ms. */
#include <shoal/shoal.h>

#include <gsl/gsl_randist.h>
#include <string.h>
#include <time.h>

enum { COST, SPUN_CPU, SPUN_WALL, NOUTPUTS };

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int spin_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    const char *dist = shoal_param_string(t, "dist");
    double mean = 1e-3 * shoal_param_double(t, "mean_ms");
    double cost;
    if (strcmp(dist, "constant") == 0) {
        cost = mean;
    } else if (strcmp(dist, "pareto") == 0) {
        double alpha = shoal_param_double(t, "alpha");
        double cap = shoal_param_double(t, "cap") * mean;
        cost = gsl_ran_pareto(shoal_task_rng(t), alpha, mean * (alpha - 1) / alpha);
        if (cost > cap)
            cost = cap;
    } else {
        return shoal_task_fail(t, 1, "dist = '%s': expected pareto or constant",
                               dist);
    }
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    double w0 = clock_s(CLOCK_MONOTONIC);
    double c = c0;
    volatile double sink = 0.0;
    while (c - c0 < cost) {
        /* A little arithmetic between clock reads (each is a system call). */
        for (int i = 0; i < 200; i++)
            sink = sink * 0.5 + 1.0;
        c = clock_s(CLOCK_THREAD_CPUTIME_ID);
    }
    shoal_set_double(t, COST, cost);
    shoal_set_double(t, SPUN_CPU, c - c0);
    shoal_set_double(t, SPUN_WALL, clock_s(CLOCK_MONOTONIC) - w0);
    return SHOAL_OK;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [COST] = {.name = "cost", .type = SHOAL_FLOAT64,
                  .doc = "drawn cost, seconds of CPU time"},
        [SPUN_CPU] = {.name = "spun_cpu", .type = SHOAL_FLOAT64,
                      .doc = "CPU time the task's thread actually spun, s"},
        [SPUN_WALL] = {.name = "spun_wall", .type = SHOAL_FLOAT64,
                       .doc = "wall time the spin took, s (more than spun_cpu "
                              "when the rank shared its core)"},
    };
    static const shoal_param params[] = {
        {.name = "dist", .type = SHOAL_STRING, .dflt = "pareto",
         .doc = "pareto (heavy-tailed, truncated) or constant"},
        {.name = "mean_ms", .type = SHOAL_FLOAT64, .dflt = "1.0",
         .doc = "mean cost in ms (pareto: before truncation)", .min = 0,
         .max = 1e7},
        {.name = "alpha", .type = SHOAL_FLOAT64, .dflt = "1.5",
         .doc = "pareto tail index (> 1; smaller: heavier tail)", .min = 1.01,
         .max = 100},
        {.name = "cap", .type = SHOAL_FLOAT64, .dflt = "100",
         .doc = "pareto: costs truncated at cap * mean", .min = 1, .max = 1e6},
    };
    const shoal_app app = {
        .name = "bench_spin",
        .doc = "Tasks that busy-spin for a drawn amount of CPU time "
               "(heavy-tailed or constant):\nmeasures load balance and the "
               "CPU cost of waiting ranks.",
        .run = spin_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
    };
    return shoal_main(&app, argc, argv);
}
