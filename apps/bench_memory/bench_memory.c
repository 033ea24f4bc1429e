/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_memory: empty tasks over a two-parameter scan grid, each storing one
 * float64. Measures how Shoal's memory and throughput scale with the task
 * count (scripts/bench/b_memory.sh) while exercising the scan machinery:
 * every task's (a, b) comes from the [scan] grid and lands in /params. */
#include <shoal/shoal.h>

enum { X, NOUTPUTS };

static int memory_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    shoal_set_double(t, X,
                     shoal_param_double(t, "a") * shoal_param_double(t, "b"));
    return SHOAL_OK;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [X] = {.name = "x", .type = SHOAL_FLOAT64, .doc = "a * b"},
    };
    static const shoal_param params[] = {
        {.name = "a", .type = SHOAL_FLOAT64, .dflt = "0",
         .doc = "first grid parameter (scanned)"},
        {.name = "b", .type = SHOAL_FLOAT64, .dflt = "0",
         .doc = "second grid parameter (scanned)"},
    };
    const shoal_app app = {
        .name = "bench_memory",
        .doc = "Empty tasks over a two-parameter scan grid, storing a * b: "
               "measures memory and\nthroughput against the task count.",
        .run = memory_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
    };
    return shoal_main(&app, argc, argv);
}
