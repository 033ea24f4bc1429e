/* lock.h (internal): one run per output file.
 *
 * Rank 0 creates "<output>.lock" with O_EXCL before touching the output and
 * removes it at the end. The file names the owner's host, pid and start
 * time. A lock left by a run that died is stale when it names this host and
 * a pid that no longer exists: it is taken over with a warning. A lock from
 * another host cannot be checked from here and is never overridden.
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

#endif
