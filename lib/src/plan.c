/* SPDX-License-Identifier: GPL-3.0-or-later */
/* plan.c: the resume plan (see plan.h). */
#include <shoal/error.h>
#include <shoal/log.h>

#include "crash.h"
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tasks the crash log names max_crashes times or more and that are not done
 * are marked failed (status 2, error SHOAL_ECRASH) rather than run again. */
static int fail_poison_tasks(shoal_store *store, const char *output, uint64_t max_crashes,
                             shoal__plan *plan)
{
    uint64_t *tasks;
    uint32_t *counts;
    size_t n;
    int rc = shoal__crash_read(output, &tasks, &counts, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t st;
        if (counts[i] < max_crashes || shoal_store_read_status(store, tasks[i], 1, &st) < 0 ||
            st == SHOAL_STATUS_DONE || st == SHOAL_STATUS_FAILED)
            continue;
        rc = shoal_store_fail_rows(store, tasks[i], 1, SHOAL_ECRASH);
        shoal_log_warn("task %llu crashed its process %u times: marked failed, "
                       "not run again",
                       (unsigned long long)tasks[i], counts[i]);
        if (plan->npoison < SHOAL_FAILURE_SLOTS) {
            shoal_store_failure *f = &plan->poison[plan->npoison++];
            memset(f, 0, sizeof *f);
            f->task = (int64_t)tasks[i];
            f->error = SHOAL_ECRASH;
            f->attempts = (int32_t)counts[i];
            snprintf(f->message, sizeof f->message,
                     "crashed its process %u times; not run again", counts[i]);
        }
    }
    free(tasks);
    free(counts);
    return rc;
}

int shoal__plan_resume(shoal_store *store, const char *output, int retry_failed,
                       uint64_t max_crashes, shoal__plan *plan)
{
    /* Every task not done runs; with --retry-failed the failed ones too, so
     * the run ends complete whatever state the file was left in. */
    unsigned want = (1u << SHOAL_STATUS_PENDING) | (1u << SHOAL_STATUS_RUNNING) |
                    (retry_failed ? 1u << SHOAL_STATUS_FAILED : 0);
    int rc = fail_poison_tasks(store, output, max_crashes, plan);
    if (rc == 0)
        rc = shoal_store_scan_work(store, want, &plan->todo, &plan->ntodo, plan->before,
                                   &plan->work_before);
    if (rc == 0)
        rc = shoal_store_segment_start(store, plan->before, plan->work_before);
    plan->todo_tasks = 0;
    for (size_t i = 0; i < plan->ntodo; i++)
        plan->todo_tasks += plan->todo[i][1];
    return rc;
}

void shoal__plan_free(shoal__plan *plan)
{
    free(plan->todo);
    plan->todo = NULL;
    plan->ntodo = 0;
}
