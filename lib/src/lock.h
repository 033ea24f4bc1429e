/* lock.h (internal): one run per output file.
 *
 * Rank 0 creates "<output>.lock" with O_EXCL before touching the output and
 * removes it at the end. The file names the owner's host, pid and start
 * time. A lock left by a run that died is stale when it names this host and
 * a pid that no longer exists: it is taken over with a warning. A lock from
 * another host cannot be checked from here and is never overridden. */
#ifndef SHOAL_LOCK_H
#define SHOAL_LOCK_H

/* Take the lock of `output`; on success *lock_path (malloc'd) names it.
 * SHOAL_EEXIST with a message naming the owner if another run holds it. */
int shoal__lock_acquire(const char *output, char **lock_path);
/* Remove the lock (if we hold it) and free lock_path. NULL does nothing. */
void shoal__lock_release(char *lock_path);

#endif
