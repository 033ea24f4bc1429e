/* lock.c: the output file's lock (see lock.h).
 *
 * Taking it: the lock's text is written complete to a temporary file beside
 * it and link(2)ed into place, which fails with EEXIST if a lock (or
 * anything else, a symbolic link included) is there: a concurrent starter
 * never reads a lock half written. On a file system without hard links it
 * falls back to an O_EXCL create and write, and a reader that finds a young
 * lock it cannot parse looks again a few times before calling it foreign.
 *
 * Reading another run's lock: opened without following a symbolic link and
 * without blocking (a FIFO), checked to be a regular file, and at most
 * LOCK_MAX bytes read (/dev/zero behind a link would never end). Anything
 * but a regular file is refused.
 *
 * The path of the lock this process holds is also kept in a static buffer,
 * with the holder's pid, so that shoal__lock_drop() can remove it from a
 * signal handler (unlink(2) is async-signal-safe; malloc'd memory and the
 * caller's variables are out of reach there). */
#include <shoal/error.h>
#include <shoal/log.h>

#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_MAX 4096         /* bytes of a lock file read, at most */
#define TRIES 40              /* rounds of create / judge / take over */
#define YOUNG_SECONDS 5       /* an unparsable lock this young may be in writing */
#define RETRY_NS 50000000L    /* wait before looking at it again */

static char held_path[4200];
static volatile sig_atomic_t held = 0;
static volatile pid_t held_pid = 0; /* a forked child holds nothing */

void shoal__lock_drop(void)
{
    if (held && held_pid == getpid()) {
        held = 0;
        unlink(held_path);
    }
}

/* Note the lock just taken, for shoal__lock_drop(). */
static void hold(const char *path)
{
    static int at_exit = 0;
    if (strlen(path) >= sizeof held_path)
        return; /* too long to keep: only shoal__lock_release removes it */
    memcpy(held_path, path, strlen(path) + 1);
    held_pid = getpid();
    held = 1;
    if (!at_exit)
        at_exit = atexit(shoal__lock_drop) == 0; /* exit() without release */
}

static void local_host(char *host, size_t n)
{
    snprintf(host, n, "unknown");
    if (gethostname(host, n - 1) != 0)
        snprintf(host, n, "unknown");
    host[n - 1] = '\0';
}

/* Our lock's text; its length. */
static int lock_text(char *buf, size_t n)
{
    char host[256], when[32];
    local_host(host, sizeof host);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return snprintf(buf, n, "host %s\npid %ld\nstarted %s\n", host,
                    (long)getpid(), when);
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* File systems without hard links: create and write in place. */
static int create_in_place(const char *path, const char *text, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    int ok = write_all(fd, text, n) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(path);
        return EIO;
    }
    return 0;
}

/* Create the lock with our identity, complete; 0, or errno (EEXIST: some
 * file is there). */
static int create_lock(const char *path)
{
    char text[512];
    int n = lock_text(text, sizeof text);
    if (n <= 0 || (size_t)n >= sizeof text)
        return EINVAL;
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    if (!tmp)
        return ENOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", 8);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return err;
    }
    int ok = fchmod(fd, 0644) == 0 && write_all(fd, text, (size_t)n) == 0;
    ok = close(fd) == 0 && ok;
    int err = !ok ? EIO : link(tmp, path) == 0 ? 0 : errno;
    unlink(tmp);
    free(tmp);
    if (err == EPERM || err == EOPNOTSUPP || err == ENOSYS || err == EXDEV)
        err = create_in_place(path, text, (size_t)n); /* no hard links here */
    return err;
}

typedef struct {
    char host[256];
    long pid;
    char started[64];
    time_t mtime;     /* of the lock file */
    dev_t dev;        /* which file it was */
    ino_t ino;
} owner;

enum lock_state {
    LOCK_OWNED,   /* a Shoal lock: *o says whose */
    LOCK_GONE,    /* no file any more */
    LOCK_SPECIAL, /* not a regular file */
    LOCK_FOREIGN, /* a regular file, but not a Shoal lock */
    LOCK_ERROR    /* cannot be read: errno in *err */
};

/* Read the lock at path without following a link or blocking. */
static enum lock_state read_lock(const char *path, owner *o, int *err)
{
    memset(o, 0, sizeof *o);
    *err = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return errno == ENOENT ? LOCK_GONE
               : errno == ELOOP ? LOCK_SPECIAL /* a symbolic link */
                                : LOCK_ERROR;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return LOCK_SPECIAL;
    }
    o->mtime = st.st_mtime;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    char buf[LOCK_MAX + 1];
    size_t n = 0;
    while (n < LOCK_MAX) {
        ssize_t r = read(fd, buf + n, LOCK_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    for (char *line = buf, *end; line && *line; line = end) {
        end = strchr(line, '\n');
        if (end)
            *end++ = '\0';
        if (!strncmp(line, "host ", 5))
            sscanf(line + 5, "%255s", o->host);
        else if (!strncmp(line, "pid ", 4))
            o->pid = strtol(line + 4, NULL, 10);
        else if (!strncmp(line, "started ", 8))
            sscanf(line + 8, "%63s", o->started);
    }
    return o->pid > 0 && o->host[0] ? LOCK_OWNED : LOCK_FOREIGN;
}

/* Is pid a live process? A zombie is not: it has exited and only waits to
 * be reaped (which can take a while for orphaned MPI ranks). */
static int alive(long pid)
{
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1; /* no /proc: trust kill() */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close = strrchr(buf, ')'); /* "pid (comm) S ..." */
    return !(close && close[1] == ' ' && close[2] == 'Z');
}

/* The lock could not be created for another reason than EEXIST: usually the
 * output's directory, so say it in the output's terms. */
static int create_error(const char *output, const char *path, int err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", output);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (err == ENOENT)
        return SHOAL_ERROR(SHOAL_ENOENT,
                           "cannot create output '%s': directory '%s' does "
                           "not exist; create it first (mkdir -p '%s')",
                           output, dir, dir);
    if (err == EACCES || err == EROFS || err == EPERM)
        return SHOAL_ERROR(SHOAL_EIO,
                           "cannot create output '%s': directory '%s' is not "
                           "writable (%s)",
                           output, dir, strerror(err));
    return SHOAL_ERROR(SHOAL_EIO, "cannot create lock file '%s': %s", path,
                       strerror(err));
}

static void pause_briefly(void)
{
    struct timespec ts = {0, RETRY_NS};
    nanosleep(&ts, NULL);
}

/* One attempt's verdict on an existing lock. */
enum verdict { V_RETRY, V_STALE, V_REFUSE };

static enum verdict judge(const char *output, const char *path, int attempt,
                          owner *o, int *rc)
{
    int err;
    enum lock_state s = read_lock(path, o, &err);
    switch (s) {
    case LOCK_GONE:
        return V_RETRY; /* its run just ended: try again */
    case LOCK_SPECIAL:
        *rc = SHOAL_ERROR(SHOAL_EEXIST,
                          "output '%s' is locked by '%s', which is not a "
                          "regular file (a symbolic link, FIFO, device or "
                          "directory) and so not a Shoal lock file; remove it "
                          "if no run uses the output",
                          output, path);
        return V_REFUSE;
    case LOCK_ERROR:
        *rc = SHOAL_ERROR(SHOAL_EEXIST,
                          "output '%s' is locked by '%s', which cannot be read "
                          "(%s); remove it if no run uses the output",
                          output, path, strerror(err));
        return V_REFUSE;
    case LOCK_FOREIGN:
        if (attempt < TRIES - 1 && time(NULL) - o->mtime < YOUNG_SECONDS) {
            pause_briefly(); /* perhaps still being written (no hard links) */
            return V_RETRY;
        }
        *rc = SHOAL_ERROR(SHOAL_EEXIST,
                          "output '%s' is locked by '%s', which is not a "
                          "Shoal lock file; delete it if no run uses the output",
                          output, path);
        return V_REFUSE;
    case LOCK_OWNED:
        break;
    }
    char host[256];
    local_host(host, sizeof host);
    if (!strcmp(o->host, host) && o->pid != getpid() && !alive(o->pid)) {
        shoal_log_warn("removing stale lock '%s' of pid %ld on %s (started %s), "
                       "which no longer runs",
                       path, o->pid, o->host, o->started);
        return V_STALE;
    }
    *rc = SHOAL_ERROR(SHOAL_EEXIST,
                      "output '%s' is in use by another run (pid %ld on host "
                      "%s, started %s; lock file '%s'); wait for it to end, or "
                      "if that run is gone, delete the lock file",
                      output, o->pid, o->host, o->started, path);
    return V_REFUSE;
}

/* Remove the stale lock judged, unless another run replaced it meanwhile. */
static void remove_stale(const char *path, const owner *o)
{
    struct stat st;
    if (lstat(path, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino)
        unlink(path);
}

int shoal__lock_acquire(const char *output, char **lock_path)
{
    *lock_path = NULL;
    size_t n = strlen(output) + 6;
    char *path = malloc(n);
    if (!path)
        return SHOAL_ENOMEM;
    snprintf(path, n, "%s.lock", output);
    for (int attempt = 0; attempt < TRIES; attempt++) {
        int err = create_lock(path);
        if (err == 0) {
            *lock_path = path;
            hold(path);
            return 0;
        }
        if (err != EEXIST) {
            int rc = create_error(output, path, err);
            free(path);
            return rc;
        }
        owner o;
        int rc = 0;
        enum verdict v = judge(output, path, attempt, &o, &rc);
        if (v == V_REFUSE) {
            free(path);
            return rc;
        }
        if (v == V_STALE)
            remove_stale(path, &o);
    }
    int rc = SHOAL_ERROR(SHOAL_EEXIST,
                         "cannot take the lock '%s': other runs keep taking it",
                         path);
    free(path);
    return rc;
}

void shoal__lock_release(char *lock_path)
{
    if (!lock_path)
        return;
    held = 0;
    unlink(lock_path);
    free(lock_path);
}
