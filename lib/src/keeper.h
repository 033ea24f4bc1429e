/* SPDX-License-Identifier: GPL-3.0-or-later */
/* keeper.h: no task's program outlives its rank.
 *
 * A rank that starts programs (shoal_task_set_child_group) gets a keeper:
 * a small process forked from it, in a session of its own, that holds one
 * end of a socket pair with the rank and sees (in a shared page) the
 * process group of the program running now. When the rank ends in any way (a SIGKILL, mpirun's
 * abort a second after SIGTERM, the OOM killer, a crash, a hard stop) the
 * pipe reaches end of file; if a program was running, the keeper sends its
 * group SIGTERM, then SIGKILL SHOAL__KEEPER_KILL_AFTER seconds later if
 * anything of it is left, and exits. A run that ends normally closes the
 * pipe with no program running: the keeper exits at once and is reaped. */
#ifndef SHOAL_KEEPER_H
#define SHOAL_KEEPER_H

#include <sys/types.h>

#define SHOAL__KEEPER_KILL_AFTER 5.0

/* The process group running now (0: none): one store once the keeper
 * runs. The first nonzero group starts the keeper; if it cannot start
 * (fork fails), -1 and the rank goes on without one (its own hard stops
 * and crashes still signal the group). Normal context only, one thread. */
int shoal__keeper_watch(pid_t pgid);
/* 1 while a keeper watches this rank (started and still running; one
 * found dead is reaped). Async-signal-safe. */
int shoal__keeper_active(void);
/* End the keeper (it exits: no program runs) and reap it. */
void shoal__keeper_stop(void);

#endif
