/* SPDX-License-Identifier: GPL-3.0-or-later */
/* keeper.c: the process that stops a task's program when its rank dies
 * (keeper.h).
 *
 * The group running now is one int in a page shared with the keeper
 * (mapped before the fork): telling the keeper is a store, no system call,
 * so a program's start costs the rank nothing more. The keeper blocks on a
 * socket pair whose other end only the rank holds (close-on-exec, so no
 * program inherits it); end of file there means the rank is gone, and the
 * keeper reads the group then. The keeper is a fork of the rank taken
 * while the rank runs (MPI is initialised, other threads exist), so the
 * child calls only async-signal-safe functions and never MPI, and leaves at
 * once everything it inherited that is not its own: the rank's signal
 * handlers, its descriptors (MPI's sockets and shared memory, the output
 * file), its session (mpirun's and the terminal's signals to the rank's
 * group must not reach it). */
#define _DEFAULT_SOURCE /* syscall() for close_range */

#include <shoal/clock.h>

#include "keeper.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int keeper_fd = -1;
static volatile pid_t keeper_pid = 0; /* read by signal handlers */
static int *shared = NULL; /* the group running now, seen by the keeper */
static volatile sig_atomic_t active = 0;

/* Running, not just started: a keeper killed from outside (pkill -9)
 * leaves the rank to signal its program itself. */
int shoal__keeper_active(void)
{
    return active && keeper_pid > 0 && waitpid(keeper_pid, NULL, WNOHANG) == 0;
}

static void close_others(int keep)
{
#ifdef SYS_close_range
    if (keep > 0 && syscall(SYS_close_range, 0u, (unsigned)keep - 1, 0u) != 0)
        for (int fd = 0; fd < keep; fd++)
            close(fd);
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
        return;
#else
    for (int fd = 0; fd < keep; fd++)
        close(fd);
#endif
    for (int fd = keep + 1; fd < 65536; fd++)
        close(fd);
}

static void nap(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The keeper itself: async-signal-safe calls only. */
static void keeper_main(int fd, const int *group)
{
    static const int ignore[] = {SIGINT,  SIGTERM, SIGQUIT, SIGHUP,  SIGUSR1, SIGUSR2,
                                 SIGALRM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    for (size_t i = 0; i < sizeof ignore / sizeof ignore[0]; i++)
        sigaction(ignore[i], &sa, NULL);
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    close_others(fd);
    prctl(PR_SET_NAME, "shoal-keeper", 0, 0, 0);
    /* Out of the rank's session: from now on a signal to the rank's group
     * cannot reach us. Say so; the rank waits for it. */
    char c = 1;
    (void)!send(fd, &c, 1, MSG_NOSIGNAL);

    /* The rank never writes: the only way out is end of file (or an error),
     * when the rank is gone or done. */
    for (;;) {
        ssize_t n = recv(fd, &c, 1, 0);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        break;
    }
    pid_t pg = (pid_t)__atomic_load_n(group, __ATOMIC_SEQ_CST);
    if (pg > 0 && kill(-pg, SIGTERM) == 0) {
        double end = shoal_now() + SHOAL__KEEPER_KILL_AFTER;
        while (kill(-pg, 0) == 0 && shoal_now() < end)
            nap(0.05);
        kill(-pg, SIGKILL);
    }
    _exit(0);
}

static void drop(void)
{
    active = 0;
    if (keeper_fd >= 0)
        close(keeper_fd);
    keeper_fd = -1;
    if (keeper_pid > 0)
        while (waitpid(keeper_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    keeper_pid = 0;
    if (shared)
        munmap(shared, sizeof *shared);
    shared = NULL;
}

static int start(void)
{
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        shared = NULL;
        return -1;
    }
    *shared = 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        drop();
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        drop();
        return -1;
    }
    if (pid == 0)
        keeper_main(sv[1], shared);
    close(sv[1]);
    keeper_fd = sv[0];
    keeper_pid = pid;
    char ready = 0;
    ssize_t n;
    while ((n = recv(keeper_fd, &ready, 1, 0)) < 0 && errno == EINTR)
        ;
    if (n != 1) {
        drop();
        return -1;
    }
    active = 1;
    return 0;
}

int shoal__keeper_watch(pid_t pgid)
{
    if (pgid < 0)
        pgid = 0;
    if (!shared && (pgid == 0 || start() != 0))
        return pgid == 0 ? 0 : -1;
    __atomic_store_n(shared, (int)pgid, __ATOMIC_SEQ_CST);
    return 0;
}

void shoal__keeper_stop(void)
{
    if (shared) {
        __atomic_store_n(shared, 0, __ATOMIC_SEQ_CST);
        drop();
    }
}
