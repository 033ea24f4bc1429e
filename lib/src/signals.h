/* SPDX-License-Identifier: GPL-3.0-or-later */
/* signals.h (internal): graceful stop on SIGTERM, SIGINT and SIGUSR1.
 *
 * The first signal sets a flag that the pool and the runner poll between
 * tasks: no new work is handed out, in-flight tasks finish, their rows are
 * written and the file is closed collectively (exit status 3). If that takes
 * longer than the grace period, or a second signal arrives more than a
 * second after the first (a repeat within a second is the same request
 * delivered twice, as SLURM does to mpirun and to each rank), the process
 * stops at once with _exit(3): the file stays valid, since no metadata
 * changes during a run, and the run is resumable.
 *
 * The pool passes a stop on to every rank (shoal__signals_stop_notify), with
 * the signalled rank's deadline: every rank stops after its current task and
 * its alarm rings at that same deadline. */
#ifndef SHOAL_SIGNALS_H
#define SHOAL_SIGNALS_H

/* Install the handlers; grace_seconds > 0. */
void shoal__signals_install(double grace_seconds);
/* Restore the handlers that were there before. */
void shoal__signals_restore(void);
/* The signal that asked us to stop, or 0. Polled after every task, so
 * inline: a load, not a call. */
#include <signal.h>
extern volatile sig_atomic_t shoal__stop_sig;
static inline int shoal__stop_requested(void) { return shoal__stop_sig; }
/* The pool's stop_check and stop_notify (shoal_pool_config; ctx unused).
 * stop_check: the signal, or 0; *deadline is when this rank's grace alarm
 * rings, in shoal_now() time. stop_notify: another rank stopped for signal
 * sig (0: unknown) and the run must be over by deadline: from now on this
 * rank stops too (shoal__stop_requested() is nonzero) and its grace alarm
 * rings by that deadline. */
int shoal__signals_stop_check(void *ctx, double *deadline);
/* The process group a task runs (0: none; normal context): a stop at once
 * (grace over, second signal) and a crash of this rank send it SIGTERM
 * first (shoal_task_set_child_group), through the rank's keeper when it has
 * one (keeper.h), which also covers a rank killed outright.
 * shoal__signals_kill_child is async-signal-safe. */
#include <sys/types.h>
void shoal__signals_child_group(pid_t pgid);
void shoal__signals_kill_child(void);
void shoal__signals_stop_notify(void *ctx, int sig, double deadline);

#endif
