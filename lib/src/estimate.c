/* SPDX-License-Identifier: GPL-3.0-or-later */
/* estimate.c: --dry-run's estimate of the run time (see report.h).
 *
 * A sample of tasks spread over the index space (at 1/2, 1/4, 3/4, 1/8, ...
 * of it, so that the first few already span it) runs on rank 0 in a child
 * process, which sends each task's time down a pipe; after SAMPLE_SECONDS
 * the child is killed, so that a dry run never waits long for a task that
 * takes hours: then the one bound it knows is printed. The tasks' rows stay
 * in the child's memory: nothing is written. The estimate is eta.h's work
 * over the samples' strata, spread over the ranks as if every rank were
 * busy all the time. */
#include <shoal/clock.h>
#include <shoal/error.h>

#include "eta.h"
#include "report.h"
#include "runner.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SAMPLE_SECONDS 5.0
#define SAMPLE_MAX 16

/* Sample k's task: the k-th of 1/2, 1/4, 3/4, 1/8, 3/8, 5/8, 7/8, ... */
static uint64_t sample_task(unsigned k, uint64_t ntasks)
{
    unsigned level = 1, first = 0;
    while (k >= first + (1u << (level - 1))) {
        first += 1u << (level - 1);
        level++;
    }
    double q = (2.0 * (k - first) + 1) / (double)(1u << level);
    uint64_t i = (uint64_t)(q * (double)ntasks);
    return i < ntasks ? i : ntasks - 1;
}

typedef struct {
    uint64_t task;
    double seconds;
} sample;

/* The child: run the samples, report each; never returns. */
static void child(int fd, const shoal_app *app, const shoal__settings *rs,
                  const uint64_t *tasks, unsigned n)
{
    shoal__runner r;
    if (shoal__runner_init(&r, app, NULL, 0, rs->seed, rs->rng_type, rs->params,
                           app->nparams, rs->scan, 0, 1) < 0)
        _exit(1);
    r.input = rs->input;
    for (unsigned k = 0; k < n; k++) {
        sample s = {tasks[k], shoal__runner_sample(&r, tasks[k])};
        if (write(fd, &s, sizeof s) != (ssize_t)sizeof s)
            break;
    }
    shoal__runner_free(&r);
    _exit(0);
}

/* Run the samples for at most SAMPLE_SECONDS; returns how many finished. */
static unsigned take_samples(const shoal_app *app, const shoal__settings *rs,
                             const uint64_t *tasks, unsigned n, sample *got,
                             double *waited)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 0;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], app, rs, tasks, n);
    }
    close(fds[1]);
    unsigned have = 0;
    double t0 = shoal_now();
    size_t off = 0;
    while (pid > 0 && have < n) {
        double left = SAMPLE_SECONDS - (shoal_now() - t0);
        if (left <= 0)
            break;
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int pr = poll(&pfd, 1, (int)ceil(left * 1000));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        ssize_t m = read(fds[0], (char *)&got[have] + off, sizeof *got - off);
        if (m <= 0)
            break; /* the child is gone */
        off += (size_t)m;
        if (off == sizeof *got) {
            have++;
            off = 0;
        }
    }
    *waited = shoal_now() - t0;
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    close(fds[0]);
    return have;
}

void shoal__report_estimate(const shoal_app *app, const shoal__settings *rs, int nranks,
                            FILE *out)
{
    if (app->side_effects) {
        fprintf(out, "  run time: not estimated: %s's tasks act outside the file (they run "
                     "programs), and a dry run does nothing; time a small run instead\n",
                app->name);
        return;
    }
    uint64_t tasks[SAMPLE_MAX];
    unsigned n = 0;
    for (unsigned k = 0; k < SAMPLE_MAX && n < rs->tasks; k++) {
        uint64_t t = sample_task(k, rs->tasks);
        int dup = 0;
        for (unsigned j = 0; j < n; j++)
            dup |= tasks[j] == t;
        if (!dup)
            tasks[n++] = t;
    }
    sample got[SAMPLE_MAX];
    double waited = 0;
    unsigned have = take_samples(app, rs, tasks, n, got, &waited);
    char when[32];
    if (have == 0) {
        shoal__eta_format(waited * (double)rs->tasks / nranks, when, sizeof when);
        fprintf(out, "  run time: not estimated: task %llu, timed on this rank, had not "
                     "finished after %.0f s; if tasks are like it, more than %s on %d "
                     "rank%s\n",
                (unsigned long long)tasks[0], waited, when, nranks, nranks == 1 ? "" : "s");
        return;
    }
    shoal__eta e;
    if (shoal__eta_init(&e, rs->tasks) < 0)
        return;
    shoal__eta_todo(&e, 0, rs->tasks);
    double lo = HUGE_VAL, hi = 0;
    for (unsigned k = 0; k < have; k++) {
        shoal__eta_known(&e, got[k].task, 1, got[k].seconds);
        lo = got[k].seconds < lo ? got[k].seconds : lo;
        hi = got[k].seconds > hi ? got[k].seconds : hi;
    }
    double work = shoal__eta_work_left(&e);
    shoal__eta_free(&e);
    shoal__eta_format(work / nranks, when, sizeof when);
    char each[64];
    if (have == 1)
        snprintf(each, sizeof each, "took %.3g s", lo);
    else
        snprintf(each, sizeof each, "took %.3g to %.3g s each", lo, hi);
    fprintf(out, "  run time: about %s on %d rank%s at full use (%.3g core-seconds; %u "
                 "task%s timed on this rank %s)%s\n",
            when, nranks, nranks == 1 ? "" : "s", work, have, have == 1 ? "" : "s", each,
            have < 4 ? "; rough: few tasks were timed" : "");
}
