/* lock.c: the output file's lock (see lock.h).
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
#include <time.h>
#include <unistd.h>

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

/* Write our identity into a new lock file; 0, or errno. */
static int create_lock(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return errno;
    char host[256] = "unknown", when[32];
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char buf[512];
    int n = snprintf(buf, sizeof buf, "host %s\npid %ld\nstarted %s\n", host,
                     (long)getpid(), when);
    int ok = n > 0 && write(fd, buf, (size_t)n) == n;
    close(fd);
    if (!ok) {
        unlink(path);
        return EIO;
    }
    return 0;
}

typedef struct {
    char host[256];
    long pid;
    char started[64];
} owner;

static int read_lock(const char *path, owner *o)
{
    memset(o, 0, sizeof *o);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "host ", 5))
            sscanf(line + 5, "%255s", o->host);
        else if (!strncmp(line, "pid ", 4))
            o->pid = strtol(line + 4, NULL, 10);
        else if (!strncmp(line, "started ", 8))
            sscanf(line + 8, "%63s", o->started);
    }
    fclose(f);
    return o->pid > 0 ? 0 : -1;
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

int shoal__lock_acquire(const char *output, char **lock_path)
{
    *lock_path = NULL;
    size_t n = strlen(output) + 6;
    char *path = malloc(n);
    if (!path)
        return SHOAL_ENOMEM;
    snprintf(path, n, "%s.lock", output);
    for (int tries = 0; tries < 2; tries++) {
        int err = create_lock(path);
        if (err == 0) {
            *lock_path = path;
            hold(path);
            return 0;
        }
        if (err != EEXIST) {
            /* Usually the output's directory: say so in the output's terms. */
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", output);
            char *slash = strrchr(dir, '/');
            if (slash)
                *slash = '\0';
            else
                snprintf(dir, sizeof dir, ".");
            int rc;
            if (err == ENOENT)
                rc = SHOAL_ERROR(SHOAL_ENOENT,
                                 "cannot create output '%s': directory '%s' does "
                                 "not exist; create it first (mkdir -p '%s')",
                                 output, dir, dir);
            else if (err == EACCES || err == EROFS || err == EPERM)
                rc = SHOAL_ERROR(SHOAL_EIO,
                                 "cannot create output '%s': directory '%s' is not "
                                 "writable (%s)",
                                 output, dir, strerror(err));
            else
                rc = SHOAL_ERROR(SHOAL_EIO, "cannot create lock file '%s': %s",
                                 path, strerror(err));
            free(path);
            return rc;
        }
        owner o;
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        int readable = read_lock(path, &o) == 0;
        int stale = readable && !strcmp(o.host, host) && o.pid != getpid() &&
                    !alive(o.pid);
        if (!stale) {
            int rc;
            if (readable)
                rc = SHOAL_ERROR(SHOAL_EEXIST,
                                 "output '%s' is in use by another run (pid %ld "
                                 "on host %s, started %s; lock file '%s'); wait "
                                 "for it to end, or if that run is gone, delete "
                                 "the lock file",
                                 output, o.pid, o.host, o.started, path);
            else
                rc = SHOAL_ERROR(SHOAL_EEXIST,
                                 "output '%s' is locked by '%s', which is not a "
                                 "Shoal lock file; delete it if no run uses the "
                                 "output",
                                 output, path);
            free(path);
            return rc;
        }
        shoal_log_warn("removing stale lock '%s' of pid %ld on %s (started %s), "
                       "which no longer runs",
                       path, o.pid, o.host, o.started);
        unlink(path);
    }
    int rc = SHOAL_ERROR(SHOAL_EEXIST, "cannot take the lock '%s'", path);
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
