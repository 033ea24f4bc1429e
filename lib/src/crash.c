/* SPDX-License-Identifier: GPL-3.0-or-later */
/* crash.c: the crash log (see crash.h). The handler touches only a file
 * descriptor, a preformatted buffer and async-signal-safe calls.
 *
 * The log sits beside the output, where anyone with write access to the
 * directory could plant something: it is opened without following a
 * symbolic link and without blocking (a FIFO), written or read only if it
 * is a regular file, and read only up to CRASH_LOG_MAX bytes. */
#include <shoal/error.h>
#include <shoal/log.h>

#include "crash.h"
#include "lock.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_FLAGS (O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
#define CRASH_LOG_MAX (16L << 20) /* about 800,000 records */

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NCRASH (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction saved[NCRASH];
static int installed = 0;
static char log_path[4200]; /* opened only by a crash: no file otherwise */
volatile uint64_t shoal__crash_current = UINT64_MAX;
static char altstack[1 << 16]; /* the handler must run even on stack overflow */

/* Decimal digits of v into p (backwards from the end); returns the start. */
static char *put_u64(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static void on_crash(int sig)
{
    uint64_t t = shoal__crash_current;
    int log_fd = t != UINT64_MAX
                     ? open(log_path, O_WRONLY | O_APPEND | O_CREAT | LOG_FLAGS, 0644)
                     : -1;
    struct stat st;
    if (log_fd >= 0 && (fstat(log_fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(log_fd); /* not ours to write to */
        log_fd = -1;
    }
    if (log_fd >= 0) {
        char buf[64], *end = buf + sizeof buf;
        *--end = '\n';
        end = put_u64(end, (uint64_t)sig);
        memcpy(end -= 8, " signal ", 8);
        end = put_u64(end, t);
        memcpy(end -= 5, "task ", 5);
        (void)!write(log_fd, end, (size_t)(buf + sizeof buf - end));
        close(log_fd);
    }
    /* This process is going down: its lock (rank 0) and a task's program
     * must not outlive it. */
    shoal__signals_kill_child();
    shoal__lock_drop();
    /* SA_RESETHAND restored the default action: die of the same signal. */
    raise(sig);
}

int shoal__crash_install(const char *output)
{
    if ((size_t)snprintf(log_path, sizeof log_path, "%s.crashes", output) >=
        sizeof log_path)
        return SHOAL_ERROR(SHOAL_EINVAL, "output path too long");
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
    for (size_t i = 0; i < NCRASH; i++)
        sigaction(crash_signals[i], &sa, &saved[i]);
    installed = 1;
    return 0;
}

void shoal__crash_restore(void)
{
    if (!installed)
        return;
    for (size_t i = 0; i < NCRASH; i++)
        sigaction(crash_signals[i], &saved[i], NULL);
    installed = 0;
    shoal__crash_current = UINT64_MAX;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int shoal__crash_read(const char *output, uint64_t **tasks, uint32_t **counts,
                      size_t *n)
{
    *tasks = NULL;
    *counts = NULL;
    *n = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s.crashes", output);
    int fd = open(path, O_RDONLY | LOG_FLAGS);
    if (fd < 0 && errno == ENOENT)
        return 0; /* no crash so far */
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int rc = fd < 0 && errno != ELOOP
                     ? SHOAL_ERROR(SHOAL_EIO, "cannot read the crash log '%s': %s",
                                   path, strerror(errno))
                     : SHOAL_ERROR(SHOAL_EIO,
                                   "the crash log '%s' is not a regular file (a "
                                   "symbolic link, FIFO, device or directory), "
                                   "so Shoal did not write it; remove it and run "
                                   "again",
                                   path);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return SHOAL_ENOMEM;
    }
    size_t cap = 0, len = 0;
    uint64_t *all = NULL;
    char line[128];
    while (fgets(line, sizeof line, f)) {
        if (ftell(f) > CRASH_LOG_MAX) {
            shoal_log_warn("crash log '%s' is longer than %ld MiB: only its "
                           "start is read",
                           path, CRASH_LOG_MAX >> 20);
            break;
        }
        unsigned long long t;
        if (sscanf(line, "task %llu", &t) != 1)
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(all, ncap * sizeof *p);
            if (!p) {
                free(all);
                fclose(f);
                return SHOAL_ENOMEM;
            }
            all = p;
            cap = ncap;
        }
        all[len++] = t;
    }
    fclose(f);
    if (len == 0) {
        free(all);
        return 0;
    }
    qsort(all, len, sizeof *all, by_value);
    uint32_t *c = calloc(len, sizeof *c);
    if (!c) {
        free(all);
        return SHOAL_ENOMEM;
    }
    size_t u = 0;
    for (size_t i = 0; i < len; i++) {
        if (u > 0 && all[u - 1] == all[i]) {
            c[u - 1]++;
            continue;
        }
        all[u] = all[i];
        c[u++] = 1;
    }
    *tasks = all;
    *counts = c;
    *n = u;
    return 0;
}

void shoal__crash_forget(const char *output)
{
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s.crashes", output) < sizeof path)
        unlink(path); /* a symlink is removed itself, never followed */
}
