/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lock.h (internal): one run per output file.
 *
 * Rank 0 creates "<output>.lock" before touching the output and removes it
 * at the end. The file names the owner's host, pid, start time, SLURM job
 * (if any) and lease, one "key value" per line:
 *
 *     host node17
 *     pid 48213
 *     started 2024-05-01T10:00:00Z
 *     slurm_job 123456          (only under SLURM)
 *     slurm_restart 0
 *     lease 60
 *
 * While the run goes on, the owner refreshes the file's mtime every lease / 6
 * seconds (at most 10). A lock is stale, and taken over with a warning, when
 * it names this host and a pid that no longer runs; when it names another
 * host and was not refreshed for longer than its lease (that node or run is
 * gone); or when it is our own SLURM job's from before a requeue. Otherwise
 * the run is refused (exit 2) with a message naming the owner and what to
 * do. A lock from another host that names no lease (an older Shoal) is
 * never taken over. The lease is 60 s; SHOAL_LOCK_LEASE_SECONDS (0.1 to 1e6)
 * sets another for the locks this process takes, e.g. for tests.
 * Rank 0 removes its lock on every exit it sees: the normal end, the hard
 * stops of signals.c and a crash (crash.c); only SIGKILL leaves it. */
#ifndef SHOAL_LOCK_H
#define SHOAL_LOCK_H

/* Take the lock of `output`; on success *lock_path (malloc'd) names it.
 * SHOAL_EEXIST with a message naming the owner if another run holds it. */
int shoal__lock_acquire(const char *output, char **lock_path);
/* Remove the lock (if we hold it) and free lock_path. NULL does nothing. */
void shoal__lock_release(char *lock_path);
/* Remove the lock this process holds, if any; async-signal-safe, for the
 * exits that skip shoal__lock_release: _exit(3) after a second signal or
 * the grace period, a crash, exit() on the way. The run is over for this
 * process; the lock must not make the rerun wait or warn. */
void shoal__lock_drop(void);

/* What a look at a lock found, judged as shoal__lock_acquire judges it. */
typedef enum {
    SHOAL__LOCK_NONE,        /* no lock: no run holds the output */
    SHOAL__LOCK_ALIVE,       /* a run on this host whose pid runs */
    SHOAL__LOCK_LEASED,      /* a run on another host, refreshed within its lease */
    SHOAL__LOCK_UNCHECKABLE, /* a run on another host whose lock names no lease */
    SHOAL__LOCK_STALE,       /* its run is gone: a new run would take it over */
    SHOAL__LOCK_OTHER        /* something that is not a Shoal lock, or unreadable */
} shoal__lock_state;

typedef struct {
    shoal__lock_state state;
    char host[256];    /* the holder's (states ALIVE to STALE) */
    long pid;
    char started[64];
    char job[64];      /* SLURM job, "" if none */
    double lease;      /* seconds; 0 if the lock names none */
    double age;        /* seconds since it was last refreshed */
} shoal__lock_info;

/* Look at the lock of `output` without taking, touching or removing it (for
 * `shoal status`). 0 (the verdict in *info), or SHOAL_ENOMEM. */
int shoal__lock_inspect(const char *output, shoal__lock_info *info);

#endif
