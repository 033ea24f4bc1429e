/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_big: tasks that each store a 1 MiB float64 array (131072 values)
 * computed from the task index at almost no cost: measures how fast Shoal
 * moves results into the HDF5 file. */
#include <shoal/shoal.h>

enum { DATA, NOUTPUTS };

#define BIG_WIDTH 131072 /* doubles per task: 1 MiB */

static int big_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    double *out = shoal_out_double(t, DATA);
    if (!out)
        return 1; /* the task has already failed with a message */
    double base = (double)shoal_task_index(t) * BIG_WIDTH;
    for (int i = 0; i < BIG_WIDTH; i++)
        out[i] = base + i;
    return SHOAL_OK;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [DATA] = {.name = "data", .type = SHOAL_FLOAT64, .ndims = 1,
                  .dims = {BIG_WIDTH},
                  .doc = "task * 131072 + i for i in 0..131071"},
    };
    const shoal_app app = {
        .name = "bench_big",
        .doc = "Tasks that each store a 1 MiB float64 array computed from the "
               "task index:\nmeasures output bandwidth.",
        .run = big_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
    };
    return shoal_main(&app, argc, argv);
}
