/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_empty: empty tasks that each store one float64, to measure Shoal's
 * per-task overhead (scheduling, timing, row buffers, HDF5 writes). */
#include <shoal/shoal.h>

enum { X, NOUTPUTS };

static int empty_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    shoal_set_double(t, X, 0.5 * (double)shoal_task_index(t));
    return SHOAL_OK;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [X] = {.name = "x", .type = SHOAL_FLOAT64, .doc = "index / 2"},
    };
    const shoal_app app = {
        .name = "bench_empty",
        .doc = "Empty tasks storing one float64 each: measures per-task "
               "overhead.",
        .run = empty_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
    };
    return shoal_main(&app, argc, argv);
}
