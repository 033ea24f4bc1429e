/* SPDX-License-Identifier: GPL-3.0-or-later */
/* crash.h (internal): which task brought a process down.
 *
 * A task that segfaults or aborts kills its rank, and with it the run; MPI
 * offers no way around that. So that one bad parameter point cannot block a
 * scan forever, each rank installs handlers for SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL and SIGABRT that append "task <index> signal <n>" to
 * "<output>.crashes" (one write(2), async-signal-safe), remove the output's
 * lock if this process holds it (lock.h), and re-raise the signal. A resumed run counts the records per task and marks a task that
 * crashed max_crashes times as failed instead of running it again. */
#ifndef SHOAL_CRASH_H
#define SHOAL_CRASH_H

#include <stddef.h>
#include <stdint.h>

/* Install the handlers; the log "<output>.crashes" is created by the first
 * crash (open(2) is async-signal-safe), so a run without one leaves none. */
int shoal__crash_install(const char *output);
/* Restore the handlers and close the log. */
void shoal__crash_restore(void);
/* The task this rank is running (UINT64_MAX: none). Set around every task,
 * so inline: a store, not a call. */
extern volatile uint64_t shoal__crash_current;
static inline void shoal__crash_task(uint64_t task)
{
    shoal__crash_current = task;
}

/* Read the crash log of `output`: *tasks (malloc'd, sorted) with *counts. */
int shoal__crash_read(const char *output, uint64_t **tasks, uint32_t **counts,
                      size_t *n);

/* Remove the crash log of `output` (a new run starts a new one). */
void shoal__crash_forget(const char *output);

#endif
