/* SPDX-License-Identifier: GPL-3.0-or-later */
/* input_app: the app the [input] tests drive (tests/mpi/input_cases.sh).
 *
 * Each task reads its slice of the first `datasets` input datasets through
 * both accessors (the one of the dataset's own type and the converted one)
 * and records per-dataset partials — rows, columns, sum, min, max as
 * doubles, and the sum of the int64 view — with its first row's offset and
 * the length of its file-list path, so the tests can check every task
 * against numpy and check that the tasks cover every row once. A task
 * whose accessor returns NULL returns with the framework's failure. */
#include <shoal/shoal.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NDS 3

enum { OFFSET, PATH_LEN, ROWS, COLS = ROWS + NDS, SUM = COLS + NDS, MIN = SUM + NDS,
       MAX = MIN + NDS, ISUM = MAX + NDS, NOUTPUTS = ISUM + NDS };

static int input_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    long nds = shoal_param_long(t, "datasets");
    const char *path = shoal_input_path(t);
    shoal_set_int64(t, OFFSET, (int64_t)shoal_input_offset(t));
    shoal_set_int64(t, PATH_LEN, path ? (int64_t)strlen(path) : -1);
    for (int k = 0; k < nds && k < NDS; k++) {
        uint64_t rows = 0, cols = 0, irows = 0, icols = 0;
        /* Both orders of the two accessors: each must stay valid. */
        const double *d = NULL;
        const int64_t *v = NULL;
        if (shoal_task_index(t) % 2) {
            v = shoal_input_int64(t, k, &irows, &icols);
            d = shoal_input_double(t, k, &rows, &cols);
        } else {
            d = shoal_input_double(t, k, &rows, &cols);
            v = shoal_input_int64(t, k, &irows, &icols);
        }
        if (!d || !v)
            return shoal_task_failed(t);
        if (rows != irows || cols != icols)
            return shoal_task_fail(t, 99, "dataset %d: %llu x %llu as double, %llu x %llu "
                                   "as int64", k, (unsigned long long)rows,
                                   (unsigned long long)cols, (unsigned long long)irows,
                                   (unsigned long long)icols);
        double sum = 0, lo = INFINITY, hi = -INFINITY;
        int64_t isum = 0;
        for (uint64_t i = 0; i < rows * cols; i++) {
            sum += d[i];
            lo = d[i] < lo ? d[i] : lo;
            hi = d[i] > hi ? d[i] : hi;
            isum += v[i];
        }
        shoal_set_int64(t, ROWS + k, (int64_t)rows);
        shoal_set_int64(t, COLS + k, (int64_t)cols);
        shoal_set_double(t, SUM + k, sum);
        shoal_set_double(t, MIN + k, lo);
        shoal_set_double(t, MAX + k, hi);
        shoal_set_int64(t, ISUM + k, isum);
    }
    /* API misuse: a dataset the input does not have fails the task. */
    long bad = shoal_param_long(t, "bad_index");
    if (bad >= 0) {
        if (shoal_input_double(t, (int)bad, NULL, NULL) != NULL)
            return shoal_task_fail(t, 99, "dataset %ld gave rows", bad);
        return shoal_task_failed(t) ? shoal_task_failed(t)
                                    : shoal_task_fail(t, 99, "dataset %ld: no failure", bad);
    }
    return SHOAL_OK;
}

int main(int argc, char **argv)
{
    static shoal_field outputs[NOUTPUTS] = {
        [OFFSET] = {"offset", SHOAL_INT64},
        [PATH_LEN] = {"path_len", SHOAL_INT64},
    };
    static char names[NOUTPUTS][16];
    static const char *const what[] = {"rows", "cols", "sum", "min", "max", "isum"};
    for (int g = 0; g < 6; g++)
        for (int k = 0; k < NDS; k++) {
            int i = ROWS + g * NDS + k;
            snprintf(names[i], sizeof names[i], "%s%d", what[g], k);
            outputs[i].name = names[i];
            outputs[i].type = g == 0 || g == 1 || g == 5 ? SHOAL_INT64 : SHOAL_FLOAT64;
        }
    static const shoal_param params[] = {
        {.name = "datasets", .type = SHOAL_INT64, .dflt = "1", .min = 0, .max = NDS,
         .doc = "input datasets each task reads (0: none)"},
        {.name = "bad_index", .type = SHOAL_INT64, .dflt = "-1", .min = -1e9, .max = 1e9,
         .doc = "if >= 0: ask for this dataset too (the task must fail)"},
    };
    const shoal_app app = {.name = "input_app", .run = input_task, .outputs = outputs,
                           .noutputs = NOUTPUTS, .params = params, .nparams = 2};
    return shoal_main(&app, argc, argv);
}
