/* SPDX-License-Identifier: GPL-3.0-or-later */
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
 * Across nodes the lock is a lease. It records the holder's host, pid, start
 * time, SLURM job (SLURM_JOB_ID, SLURM_RESTART_COUNT) and lease in seconds,
 * and a small thread of the holder touches its mtime (futimens) every
 * lease / 6 seconds, at most 10, until it is released. Another host cannot
 * see whether the holder's pid lives, but it can see the mtime: a lock from
 * another host not refreshed for longer than the lease it names is stale and
 * taken over with a warning. A lock that names no lease (an older Shoal,
 * which never refreshes it) is never taken over from another host. On the
 * holder's host the pid decides, as before. A lock of our own SLURM job but
 * an earlier restart (the job was requeued, perhaps onto other nodes) is
 * stale wherever it was taken. The mtime is read right after an open, which
 * on NFS revalidates the attributes (close-to-open); clocks of the nodes
 * need to agree to well within the lease.
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
#include <math.h>
#include <pthread.h>
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
#define LEASE_SECONDS 60.0    /* default lease of our lock */
#define LEASE_ENV "SHOAL_LOCK_LEASE_SECONDS"
#define REFRESH_MAX 10.0      /* seconds between refreshes, at most */

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

/* The lease of our lock: SHOAL_LOCK_LEASE_SECONDS, or LEASE_SECONDS. */
static double our_lease(void)
{
    const char *v = getenv(LEASE_ENV);
    if (!v || !v[0])
        return LEASE_SECONDS;
    char *end;
    double d = strtod(v, &end);
    if (*end != '\0' || !(d >= 0.1 && d <= 1e6)) {
        shoal_log_warn("%s='%s' is not a number of seconds from 0.1 to 1e6; "
                       "using %g", LEASE_ENV, v, LEASE_SECONDS);
        return LEASE_SECONDS;
    }
    return d;
}

/* ---- the heartbeat: the holder refreshes the lock's mtime ------------------- */

static struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop, fd;
    double interval;
} beat = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static void *heartbeat(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&beat.mu);
    while (!beat.stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        double t = (double)until.tv_sec + 1e-9 * (double)until.tv_nsec + beat.interval;
        until.tv_sec = (time_t)t;
        until.tv_nsec = (long)((t - floor(t)) * 1e9);
        while (!beat.stop &&
               pthread_cond_timedwait(&beat.cv, &beat.mu, &until) != ETIMEDOUT) {
        }
        if (!beat.stop)
            futimens(beat.fd, NULL); /* now; our own file, so allowed */
    }
    pthread_mutex_unlock(&beat.mu);
    return NULL;
}

/* Start refreshing the lock at path every interval seconds. Without the
 * thread the run goes on: only a run on another host could take the lock
 * over, once the lease has passed. */
static void heartbeat_start(const char *path, double lease)
{
    if (beat.running)
        return; /* one lock per process: the first keeps its heartbeat */
    beat.fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    beat.interval = lease / 6 < REFRESH_MAX ? lease / 6 : REFRESH_MAX;
    beat.stop = 0;
    pthread_condattr_t ca;
    int ok = beat.fd >= 0 && pthread_condattr_init(&ca) == 0;
    if (ok) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        ok = pthread_cond_init(&beat.cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (ok) {
        /* The thread takes no signal: the stop and crash handlers must run
         * on the thread that runs the tasks. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        ok = pthread_create(&beat.thread, NULL, heartbeat, NULL) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!ok)
            pthread_cond_destroy(&beat.cv);
    }
    beat.running = ok;
    if (!ok) {
        shoal_log_warn("cannot refresh the lock '%s' while the run goes on: a "
                       "run on another host may take it over after %g s",
                       path, lease);
        if (beat.fd >= 0)
            close(beat.fd);
        beat.fd = -1;
    }
}

static void heartbeat_stop(void)
{
    if (!beat.running)
        return;
    pthread_mutex_lock(&beat.mu);
    beat.stop = 1;
    pthread_cond_signal(&beat.cv);
    pthread_mutex_unlock(&beat.mu);
    pthread_join(beat.thread, NULL);
    pthread_cond_destroy(&beat.cv);
    close(beat.fd);
    beat.fd = -1;
    beat.running = 0;
}

/* Note the lock just taken, for shoal__lock_drop(), and keep it fresh. */
static void hold(const char *path, double lease)
{
    static int at_exit = 0;
    heartbeat_start(path, lease);
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

/* The SLURM job we run in ("" outside SLURM) and how often it was requeued. */
static const char *slurm_job(void)
{
    const char *j = getenv("SLURM_JOB_ID");
    return j && strlen(j) < 64 && !strpbrk(j, " \t\n") ? j : "";
}

static long slurm_restart(void)
{
    const char *r = getenv("SLURM_RESTART_COUNT");
    return r ? strtol(r, NULL, 10) : 0;
}

/* Our lock's text; its length. */
static int lock_text(char *buf, size_t n, double lease)
{
    char host[256], when[32];
    local_host(host, sizeof host);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int len = snprintf(buf, n, "host %s\npid %ld\nstarted %s\n", host,
                       (long)getpid(), when);
    if (len > 0 && (size_t)len < n && slurm_job()[0])
        len += snprintf(buf + len, n - (size_t)len,
                        "slurm_job %s\nslurm_restart %ld\n", slurm_job(),
                        slurm_restart());
    if (len > 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len, "lease %g\n", lease);
    return len;
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
static int create_lock(const char *path, double lease)
{
    char text[768];
    int n = lock_text(text, sizeof text, lease);
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
    char job[64];     /* SLURM job, "" if none */
    long restart;     /* its SLURM_RESTART_COUNT */
    double lease;     /* seconds; 0: none named (never refreshed) */
    double age;       /* seconds since the lock's mtime */
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
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    o->age = (double)(now.tv_sec - st.st_mtim.tv_sec) +
             1e-9 * (double)(now.tv_nsec - st.st_mtim.tv_nsec);
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
        else if (!strncmp(line, "slurm_job ", 10))
            sscanf(line + 10, "%63s", o->job);
        else if (!strncmp(line, "slurm_restart ", 14))
            o->restart = strtol(line + 14, NULL, 10);
        else if (!strncmp(line, "lease ", 6))
            o->lease = strtod(line + 6, NULL);
    }
    if (!(o->lease > 0 && o->lease < HUGE_VAL))
        o->lease = 0;
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

/* Whether a Shoal lock's holder still runs, judged from here: the one
 * judgement behind taking a lock over (judge) and reporting on it
 * (shoal__lock_inspect). */
enum holder {
    HOLDER_REQUEUED,   /* our own SLURM job's, from before a requeue */
    HOLDER_DEAD,       /* this host, and its pid no longer runs */
    HOLDER_ALIVE,      /* this host, and its pid runs (or is us) */
    HOLDER_EXPIRED,    /* another host, not refreshed for longer than its lease */
    HOLDER_LEASED,     /* another host, refreshed within its lease */
    HOLDER_UNCHECKABLE /* another host, and the lock names no lease */
};

static enum holder assess(const owner *o)
{
    char host[256];
    local_host(host, sizeof host);
    if (o->job[0] && !strcmp(o->job, slurm_job()) && o->restart != slurm_restart())
        return HOLDER_REQUEUED;
    if (!strcmp(o->host, host))
        return o->pid != getpid() && !alive(o->pid) ? HOLDER_DEAD : HOLDER_ALIVE;
    if (o->lease > 0)
        return o->age > o->lease ? HOLDER_EXPIRED : HOLDER_LEASED;
    return HOLDER_UNCHECKABLE;
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
        if (attempt < TRIES - 1 && o->age < YOUNG_SECONDS) {
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
    char job[96] = "";
    if (o->job[0])
        snprintf(job, sizeof job, ", SLURM job %s", o->job);
    switch (assess(o)) {
    case HOLDER_REQUEUED:
        shoal_log_warn("taking over the lock '%s' of pid %ld on %s (started "
                       "%s): it is this SLURM job's (%s) before it was "
                       "requeued (restart %ld, now %ld)",
                       path, o->pid, o->host, o->started, o->job, o->restart,
                       slurm_restart());
        return V_STALE;
    case HOLDER_DEAD:
        shoal_log_warn("removing stale lock '%s' of pid %ld on %s (started "
                       "%s), which no longer runs",
                       path, o->pid, o->host, o->started);
        return V_STALE;
    case HOLDER_ALIVE:
        *rc = SHOAL_ERROR(SHOAL_EEXIST,
                          "output '%s' is in use by another run (pid %ld on "
                          "host %s, started %s%s; lock file '%s'); wait for it "
                          "to end, or if that run is gone, delete the lock file",
                          output, o->pid, o->host, o->started, job, path);
        return V_REFUSE;
    case HOLDER_EXPIRED:
        shoal_log_warn("taking over the lock '%s' of pid %ld on host %s "
                       "(started %s%s): not refreshed for %.0f s, longer than "
                       "its lease of %g s, so that run is gone",
                       path, o->pid, o->host, o->started, job, o->age, o->lease);
        return V_STALE;
    case HOLDER_LEASED:
        *rc = SHOAL_ERROR(SHOAL_EEXIST,
                          "output '%s' is in use by a run on host %s (pid %ld, "
                          "started %s%s; lock file '%s', refreshed %.0f s ago); "
                          "wait for it to end. If that run is gone (its node "
                          "failed), the lock goes stale %g s after its last "
                          "refresh and a new run takes it over; or delete the "
                          "lock file if you are sure no run uses the output",
                          output, o->host, o->pid, o->started, job, path,
                          o->age > 0 ? o->age : 0, o->lease);
        return V_REFUSE;
    case HOLDER_UNCHECKABLE:
        break;
    }
    *rc = SHOAL_ERROR(SHOAL_EEXIST,
                      "output '%s' is in use by a run on host %s (pid %ld, "
                      "started %s%s; lock file '%s'), which cannot be "
                      "checked from here (the lock names no lease: an older "
                      "Shoal wrote it); wait for it to end, or if that run "
                      "is gone, delete the lock file",
                      output, o->host, o->pid, o->started, job, path);
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
    double lease = our_lease();
    for (int attempt = 0; attempt < TRIES; attempt++) {
        int err = create_lock(path, lease);
        if (err == 0) {
            *lock_path = path;
            hold(path, lease);
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
    heartbeat_stop();
    held = 0;
    unlink(lock_path);
    free(lock_path);
}

int shoal__lock_inspect(const char *output, shoal__lock_info *info)
{
    memset(info, 0, sizeof *info);
    size_t n = strlen(output) + 6;
    char *path = malloc(n);
    if (!path)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory looking at the lock of '%s'",
                           output);
    snprintf(path, n, "%s.lock", output);
    owner o;
    int err;
    enum lock_state s = read_lock(path, &o, &err);
    free(path);
    info->age = o.age;
    switch (s) {
    case LOCK_GONE:
        info->state = SHOAL__LOCK_NONE;
        return 0;
    case LOCK_SPECIAL:
    case LOCK_FOREIGN:
    case LOCK_ERROR:
        info->state = SHOAL__LOCK_OTHER;
        return 0;
    case LOCK_OWNED:
        break;
    }
    snprintf(info->host, sizeof info->host, "%s", o.host);
    snprintf(info->started, sizeof info->started, "%s", o.started);
    snprintf(info->job, sizeof info->job, "%s", o.job);
    info->pid = o.pid;
    info->lease = o.lease;
    switch (assess(&o)) {
    case HOLDER_ALIVE:
        info->state = SHOAL__LOCK_ALIVE;
        break;
    case HOLDER_LEASED:
        info->state = SHOAL__LOCK_LEASED;
        break;
    case HOLDER_UNCHECKABLE:
        info->state = SHOAL__LOCK_UNCHECKABLE;
        break;
    default:
        info->state = SHOAL__LOCK_STALE;
        break;
    }
    return 0;
}
