/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The checkers' reader of /points (see points.h). It goes through
 * shoal_results_read_column_*, whose row bound is the task count: a point
 * count never exceeds it, and reading past a dataset's own extent fails in
 * HDF5, so a /points dataset of the wrong length is an error, not garbage. */
#include "points.h"

#include <stdio.h>
#include <stdlib.h>

int points_open(const char *path, points_file *f)
{
    *f = (points_file){.path = path};
    if (shoal_results_open(path, &f->res) < 0) {
        fprintf(stderr, "checker: cannot open %s\n", path);
        return 2;
    }
    f->ntasks = shoal_results_ntasks(f->res);
    size_t n = f->ntasks ? f->ntasks : 1;
    f->task_point = malloc(n * sizeof *f->task_point);
    f->status = malloc(n);
    if (!f->task_point || !f->status) {
        fprintf(stderr, "checker: out of memory\n");
        return 2;
    }
    if (shoal_results_read_column_int64(f->res, "tasks/point", 0, f->ntasks,
                                        f->task_point) < 0) {
        fprintf(stderr, "checker: %s has no /tasks/point (run without a "
                        "[scan]?)\n", path);
        return 2;
    }
    if (shoal_results_read_status(f->res, 0, f->ntasks, f->status) < 0) {
        fprintf(stderr, "checker: cannot read /tasks/status of %s\n", path);
        return 2;
    }
    for (uint64_t i = 0; i < f->ntasks; i++)
        if (f->task_point[i] >= 0 && (uint64_t)f->task_point[i] >= f->npoints)
            f->npoints = (uint64_t)f->task_point[i] + 1;
    if (f->npoints == 0) {
        fprintf(stderr, "checker: %s has no scan points\n", path);
        return 2;
    }
    return 0;
}

void points_close(points_file *f)
{
    if (f->res)
        shoal_results_close(f->res);
    free(f->task_point);
    free(f->status);
    *f = (points_file){0};
}

uint64_t points_not_done(const points_file *f)
{
    uint64_t bad = 0;
    for (uint64_t i = 0; i < f->ntasks; i++)
        bad += f->status[i] != SHOAL_STATUS_DONE;
    if (bad)
        fprintf(stderr, "checker: %llu of %llu tasks are not done\n",
                (unsigned long long)bad, (unsigned long long)f->ntasks);
    return bad;
}

double *points_read(const points_file *f, const char *what)
{
    char path[256];
    snprintf(path, sizeof path, "points/%s", what);
    double *v = malloc(f->npoints * sizeof *v);
    if (!v || shoal_results_read_column_double(f->res, path, 0, f->npoints,
                                               v) < 0) {
        fprintf(stderr, "checker: cannot read /%s (%llu rows) from %s\n", path,
                (unsigned long long)f->npoints, f->path);
        free(v);
        return NULL;
    }
    return v;
}

double *points_read_results(const points_file *f, const char *field)
{
    double *v = malloc((f->ntasks ? f->ntasks : 1) * sizeof *v);
    if (!v || shoal_results_read_double(f->res, field, 0, f->ntasks, v) < 0) {
        fprintf(stderr, "checker: cannot read /results/%s from %s\n", field,
                f->path);
        free(v);
        return NULL;
    }
    return v;
}
