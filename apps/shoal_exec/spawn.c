/* SPDX-License-Identifier: GPL-3.0-or-later */
/* spawn.c: one program run (exec.h).
 *
 * posix_spawn (glibc: clone + exec, no copy of the rank's memory), never a
 * shell: the child gets its own process group, default signal actions, an
 * empty signal mask, stdin from /dev/null, stdout and stderr on two pipes,
 * no other descriptor of the rank (MPI's sockets and shared memory stay
 * ours), and the task's working directory.
 *
 * The rank then waits in poll() on the two pipes and a pidfd of the child
 * (a 10 ms wait4 poll where the kernel has no pidfd): it keeps the last
 * `tail` bytes of each stream, hands stdout's lines to the value parser
 * (one line buffer, so memory does not grow with the output), and counts
 * the bytes. Past the timeout or max_output the group gets SIGTERM, and
 * SIGKILL kill_after seconds later. When the program has exited, any
 * process left in its group is a failure: the group is killed and reaped
 * (the rank is a subreaper, so orphans come back to it). The pipes are
 * then drained for at most a second: a process that left the group with
 * setsid and kept the pipes cannot hold the rank. */
#include "exec.h"

#include <shoal/clock.h>
#include <shoal/error.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define DRAIN_SECONDS 1.0

void run_setup(void)
{
    /* Orphaned descendants of a program are reparented to this rank, which
     * reaps them; without it they would go to init (in a container, maybe
     * a process that never reaps). */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec by design */
#else
    (void)pid;
    return -1;
#endif
}

/* The last cap bytes of a stream. */
typedef struct {
    char *b;
    size_t cap, start, len;
} ring;

static void ring_add(ring *r, const char *s, size_t n)
{
    if (r->cap == 0)
        return;
    if (n >= r->cap) {
        memcpy(r->b, s + n - r->cap, r->cap);
        r->start = 0;
        r->len = r->cap;
        return;
    }
    size_t end = (r->start + r->len) % r->cap, first = r->cap - end < n ? r->cap - end : n;
    memcpy(r->b + end, s, first);
    memcpy(r->b, s + first, n - first);
    r->len += n;
    if (r->len > r->cap) {
        r->start = (r->start + r->len - r->cap) % r->cap;
        r->len = r->cap;
    }
}

/* In order, at the start of the buffer. */
static void ring_flatten(ring *r, char *tmp)
{
    if (r->start == 0)
        return;
    size_t first = r->cap - r->start < r->len ? r->cap - r->start : r->len;
    memcpy(tmp, r->b + r->start, first);
    memcpy(tmp + first, r->b, r->len - first);
    memcpy(r->b, tmp, r->len);
    r->start = 0;
}

/* stdout's lines, cut at line_max bytes. */
typedef struct {
    const run_spec *sp;
    char *buf;
    size_t len;
    int cut;
} lines;

static void lines_end(lines *l)
{
    if (l->cut && l->sp->on_long_line)
        l->sp->on_long_line(l->sp->arg, l->buf, l->len);
    else if (!l->cut && l->sp->on_line)
        l->sp->on_line(l->sp->arg, l->buf, l->len);
    l->len = 0;
    l->cut = 0;
}

static void lines_add(lines *l, const char *s, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(s, '\n', n);
        size_t k = nl ? (size_t)(nl - s) : n;
        size_t room = l->sp->line_max - l->len, take = k < room ? k : room;
        memcpy(l->buf + l->len, s, take);
        l->len += take;
        if (take < k)
            l->cut = 1;
        if (!nl)
            return;
        lines_end(l);
        s = nl + 1;
        n -= k + 1;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Reap what has ended in group pg; 1 if a process of it still runs. */
static int group_alive(pid_t pg)
{
    while (waitpid(-pg, NULL, WNOHANG) > 0)
        ;
    return kill(-pg, 0) == 0;
}

static int start(const run_spec *sp, int outp[2], int errp[2], pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return ENOMEM;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return ENOMEM;
    }
    int e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!e)
        e = posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    if (!e)
        e = posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    if (!e && sp->dir)
        e = posix_spawn_file_actions_addchdir_np(&fa, sp->dir);
    if (!e)
        e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    /* Default actions for what the rank handles or ignores. */
    static const int reset[] = {SIGPIPE, SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                SIGHUP,  SIGALRM, SIGCHLD, SIGTTIN, SIGTTOU, SIGTSTP,
                                SIGSEGV, SIGBUS,  SIGFPE,  SIGILL,  SIGABRT, SIGXFSZ};
    sigset_t def, none;
    sigemptyset(&def);
    sigemptyset(&none);
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        sigaddset(&def, reset[i]);
    if (!e)
        e = posix_spawnattr_setsigdefault(&at, &def);
    if (!e)
        e = posix_spawnattr_setsigmask(&at, &none);
    if (!e)
        e = posix_spawnattr_setpgroup(&at, 0);
    if (!e)
        e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                              POSIX_SPAWN_SETSIGMASK);
    if (!e)
        e = strchr(sp->argv[0], '/') ? posix_spawn(pid, sp->argv[0], &fa, &at, sp->argv, sp->envp)
                                     : posix_spawnp(pid, sp->argv[0], &fa, &at, sp->argv, sp->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return e;
}

int run_program(const run_spec *sp, run_result *r, char *line_buf)
{
    char *ot = r->out_tail, *et = r->err_tail;
    memset(r, 0, sizeof *r);
    r->out_tail = ot;
    r->err_tail = et;
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        int e = errno;
        close_fd(&outp[0]);
        close_fd(&outp[1]);
        return SHOAL_ERROR(SHOAL_EIO, "shoal-exec: cannot make pipes for a program: %s",
                           strerror(e));
    }
    double t0 = shoal_now();
    pid_t pid = 0;
    int e = start(sp, outp, errp, &pid);
    close_fd(&outp[1]);
    close_fd(&errp[1]);
    if (e != 0) {
        close_fd(&outp[0]);
        close_fd(&errp[0]);
        r->err = e;
        r->status = -1;
        return 0;
    }
    r->started = 1;
    shoal_task_set_child_group(sp->task, (long)pid);
    int pidfd = pidfd_of(pid);

    ring rout = {ot, sp->tail, 0, 0}, rerr = {et, sp->tail, 0, 0};
    lines ln = {sp, line_buf, 0, 0};
    /* One program at a time per rank (exec.h): one read buffer. */
    static char chunk[READ_CHUNK];
    int ofd = outp[0], efd = errp[0], reaped = 0, group_left = 0;
    double deadline = sp->timeout > 0 ? t0 + sp->timeout : INFINITY;
    double kill_at = INFINITY, drain_until = INFINITY, t_end = t0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        double now = shoal_now();
        if (!reaped && now >= deadline && !r->timed_out) {
            r->timed_out = 1;
            kill(-pid, SIGTERM);
            kill_at = now + sp->kill_after;
        }
        if (now >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = INFINITY;
        }
        /* Done: the program reaped, its group gone, both pipes at EOF. */
        if (reaped && (!group_left || (group_left = group_alive(pid)) == 0) && ofd < 0 &&
            efd < 0)
            break;
        if (reaped && now >= drain_until)
            break;
        struct pollfd fds[3];
        int nf = 0, io = -1, ie = -1, ip = -1;
        if (ofd >= 0)
            io = nf, fds[nf++] = (struct pollfd){ofd, POLLIN, 0};
        if (efd >= 0)
            ie = nf, fds[nf++] = (struct pollfd){efd, POLLIN, 0};
        if (pidfd >= 0 && !reaped)
            ip = nf, fds[nf++] = (struct pollfd){pidfd, POLLIN, 0};
        double until = deadline < kill_at ? deadline : kill_at;
        until = reaped ? drain_until < kill_at ? drain_until : kill_at : until;
        double wait = until - now;
        if ((!reaped && pidfd < 0) || (reaped && group_left))
            wait = wait < 0.01 ? wait : 0.01;
        int ms = isinf(wait) ? -1 : wait <= 0 ? 0 : (int)ceil(wait * 1000);
        int n = poll(fds, (nfds_t)nf, ms);
        if (n < 0 && errno != EINTR) {
            e = errno;
            kill(-pid, SIGKILL);
            break;
        }
        for (int k = 0; n > 0 && k < 2; k++) {
            int idx = k == 0 ? io : ie, *fd = k == 0 ? &ofd : &efd;
            if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t rd = read(*fd, chunk, READ_CHUNK);
            if (rd < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (rd <= 0) {
                if (k == 0 && ln.len > 0)
                    lines_end(&ln); /* a last line without a newline */
                close_fd(fd);
                continue;
            }
            r->out_bytes += (uint64_t)rd;
            ring_add(k == 0 ? &rout : &rerr, chunk, (size_t)rd);
            if (k == 0)
                lines_add(&ln, chunk, (size_t)rd);
            if (sp->max_output && r->out_bytes > sp->max_output && !r->too_much) {
                /* Stop reading: the program gets SIGPIPE if it writes on. */
                r->too_much = 1;
                kill(-pid, SIGTERM);
                kill_at = shoal_now() + sp->kill_after;
                ln.len = 0;
                close_fd(&ofd);
                close_fd(&efd);
            }
        }
        if (reaped)
            continue;
        int ended = 0;
        if (ip >= 0) {
            ended = n > 0 && (fds[ip].revents & POLLIN);
        } else {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            ended = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                    si.si_pid == pid;
        }
        if (!ended)
            continue;
        int st = 0;
        pid_t w;
        while ((w = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR)
            ;
        reaped = 1;
        t_end = shoal_now();
        if (w == pid && WIFEXITED(st)) {
            r->exited = 1;
            r->status = WEXITSTATUS(st);
        } else if (w == pid && WIFSIGNALED(st)) {
            r->sig = WTERMSIG(st);
            r->status = -1;
        }
        drain_until = t_end + DRAIN_SECONDS;
        if ((group_left = group_alive(pid)) != 0) {
            /* Processes it started outlive it: a failure, and they go. */
            if (!r->timed_out && !r->too_much)
                r->orphans = 1;
            kill(-pid, SIGTERM);
            if (kill_at > t_end + sp->kill_after)
                kill_at = t_end + sp->kill_after;
            drain_until = kill_at + DRAIN_SECONDS;
        }
    }
    if (!reaped) { /* the rank's own poll failed */
        int st;
        while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
            ;
        t_end = shoal_now();
        r->status = -1;
    }
    if ((!reaped || group_left) && group_alive(pid)) { /* nothing of the group stays */
        kill(-pid, SIGKILL);
        while (waitpid(-pid, NULL, 0) > 0 || errno == EINTR)
            ;
    }
    shoal_task_set_child_group(sp->task, 0);
    close_fd(&ofd);
    close_fd(&efd);
    close_fd(&pidfd);
    ring_flatten(&rout, chunk);
    ring_flatten(&rerr, chunk);
    r->out_len = rout.len;
    r->err_len = rerr.len;
    r->wall = t_end - t0;
    r->cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
             (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    r->maxrss_kib = ru.ru_maxrss;
    if (e != 0 && !reaped)
        return SHOAL_ERROR(SHOAL_EIO, "shoal-exec: waiting for a program failed: %s",
                           strerror(e));
    return 0;
}
