/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading the per-scan-point aggregation of a result file (/points, written
 * at the end of a run with a [scan]) for the app checkers, through the
 * public reader. The point count is one more than the largest /tasks/point;
 * every /points dataset has that many rows. */
#ifndef SHOAL_TESTS_APPS_POINTS_H
#define SHOAL_TESTS_APPS_POINTS_H

#include <shoal/shoal.h>
#include <stdint.h>

typedef struct {
    shoal_results *res;
    const char *path;
    uint64_t ntasks;
    uint64_t npoints;
    int64_t *task_point; /* /tasks/point of every task */
    uint8_t *status;     /* /tasks/status of every task */
} points_file;

/* Open path and read the task table; 0, or 2 after a message (usage-level
 * failure: no file, no [scan]). Close with points_close (also after a
 * failure). */
int points_open(const char *path, points_file *f);
void points_close(points_file *f);

/* Number of tasks that are not done; a message for each kind. */
uint64_t points_not_done(const points_file *f);

/* All npoints rows of /points/<what> (e.g. "mean/m2", "params/T",
 * "derived/binder") as doubles, malloc'd; NULL after a message. */
double *points_read(const points_file *f, const char *what);

/* All ntasks rows of /results/<field>, malloc'd; NULL after a message. */
double *points_read_results(const points_file *f, const char *field);

#endif
