/* SPDX-License-Identifier: GPL-3.0-or-later */
/* spawn_baseline.c: the least one rank must do per shoal-exec task, serially.
 *
 *   spawn_baseline N PROGRAM [ARG...]
 *
 * N times: two pipes (close-on-exec), posix_spawn of PROGRAM with stdin from
 * /dev/null and stdout/stderr on the pipes, both pipes read to EOF (poll),
 * waitpid. Any run that does not exit 0 is an error. No file, no MPI, no
 * scheduling: shoal-exec's per-task overhead is its time per task beyond
 * this. Prints one line:
 *
 *   spawn_baseline n=N seconds=S s_per_task=X self_cpu_per_task=C
 *                  child_cpu_per_task=K ok
 *
 * (on one line; C: this process's CPU seconds per run, the whole program
 * included; K: the runs' own CPU seconds per run).
 *
 * Used by scripts/bench/b_exec.sh (compiled there with cc -O2). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_of(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static void die(const char *what, int e)
{
    fprintf(stderr, "spawn_baseline: %s: %s\n", what, strerror(e));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spawn_baseline N PROGRAM [ARG...]\n");
        return 2;
    }
    char *end;
    long long n = strtoll(argv[1], &end, 10);
    if (*end || n < 1) {
        fprintf(stderr, "spawn_baseline: N must be a whole number >= 1, not '%s'\n", argv[1]);
        return 2;
    }
    char **args = argv + 2;
    static char buf[65536];
    double t0 = now();
    for (long long i = 0; i < n; i++) {
        int outp[2], errp[2];
        if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
            die("pipe2", errno);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        int e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (!e)
            e = posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
        if (!e)
            e = posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
        pid_t pid;
        if (!e)
            e = posix_spawn(&pid, args[0], &fa, NULL, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (e)
            die(args[0], e);
        close(outp[1]);
        close(errp[1]);
        struct pollfd fds[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
        int open_fds = 2;
        while (open_fds > 0) {
            if (poll(fds, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                die("poll", errno);
            }
            for (int k = 0; k < 2; k++) {
                if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                ssize_t r = read(fds[k].fd, buf, sizeof buf);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0) {
                    close(fds[k].fd);
                    fds[k].fd = -1;
                    open_fds--;
                }
            }
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR)
                die("waitpid", errno);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "spawn_baseline: run %lld of %s did not exit 0 (status %#x)\n", i + 1,
                    args[0], st);
            return 1;
        }
    }
    double s = now() - t0;
    printf("spawn_baseline n=%lld seconds=%.6f s_per_task=%.9f self_cpu_per_task=%.9f "
           "child_cpu_per_task=%.9f ok\n",
           n, s, s / (double)n, cpu_of(RUSAGE_SELF) / (double)n,
           cpu_of(RUSAGE_CHILDREN) / (double)n);
    return 0;
}
