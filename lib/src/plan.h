/* SPDX-License-Identifier: GPL-3.0-or-later */
/* plan.h (internal): what a resumed run has left to do.
 *
 * Rank 0 reads the file's /tasks/status and the crash log beside it: tasks
 * that crashed their process max_crashes times are marked failed (poison
 * tasks, never run again); the rest of the tasks not done — and, with
 * --retry-failed, the failed ones — become the list of ranges the pool
 * hands out. */
#ifndef SHOAL_PLAN_H
#define SHOAL_PLAN_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t (*todo)[2];     /* ranges {start, count} to run (malloc'd) */
    size_t ntodo;
    uint64_t todo_tasks;     /* tasks in them */
    uint64_t before[4];      /* the file's counts per status before the run */
    double work_before;      /* seconds of the tasks done or failed before it */
    shoal_store_failure poison[SHOAL_FAILURE_SLOTS]; /* for /failures */
    size_t npoison;
} shoal__plan;

/* Rank 0, after the store is open: fill plan (zeroed by the caller) and
 * record the file's state at the start in this segment's row of /segments.
 * Returns 0 or a negative code (reported). */
int shoal__plan_resume(shoal_store *store, const char *output, int retry_failed,
                       uint64_t max_crashes, shoal__plan *plan);
void shoal__plan_free(shoal__plan *plan);

#endif
