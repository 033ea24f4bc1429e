/* SPDX-License-Identifier: GPL-3.0-or-later */
/* signals.c: the stop flag and its handlers (see signals.h). The handlers
 * only touch sig_atomic_t flags and call async-signal-safe functions
 * (clock_gettime, alarm, write, unlink, _exit).
 *
 * A rank stops for its own signal or because the pool told it of another
 * rank's (shoal__signals_stop_notify). Only its own signals count for "a
 * second signal": being told first and then signalled (mpirun forwarding a
 * signal that another rank had seen first) is a first signal. Its grace
 * alarm rings at the earliest of its own grace period and the deadline it
 * was told. */
#include <shoal/clock.h>

#include "keeper.h"
#include "lock.h"
#include "signals.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t shoal__stop_sig = 0;
/* This rank's first own signal: CLOCK_MONOTONIC time, valid once signalled. */
static volatile sig_atomic_t signalled = 0;
static volatile sig_atomic_t first_sec = 0, first_nsec = 0;
static double told_deadline = HUGE_VAL; /* normal context only */
static unsigned grace = 30;

static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};
#define NSTOP (sizeof stop_signals / sizeof stop_signals[0])
static struct sigaction saved[NSTOP], saved_alarm;
static int installed = 0;

static void say(const char *msg) { (void)!write(2, msg, strlen(msg)); }

/* A task's program's process group: no program outlives a hard stop. */
static volatile sig_atomic_t child_group = 0;

void shoal__signals_child_group(pid_t pgid)
{
    child_group = (sig_atomic_t)pgid;
    shoal__keeper_watch(pgid);
}

/* With a keeper, this rank's exit is what stops the program (keeper.h): it
 * sends SIGTERM once, and SIGKILL if the program ignores it. */
void shoal__signals_kill_child(void)
{
    if (child_group > 0 && !shoal__keeper_active())
        kill(-(pid_t)child_group, SIGTERM);
}

/* Stop at once: the file stays valid (no metadata changes during a run);
 * the output's lock goes with us, so the rerun is neither refused nor
 * warned about a stale lock. */
static void hard_stop(const char *msg)
{
    shoal__signals_kill_child();
    shoal__lock_drop();
    say(msg);
    _exit(3);
}

static void on_stop(int sig)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!signalled) {
        first_sec = (sig_atomic_t)ts.tv_sec;
        first_nsec = (sig_atomic_t)ts.tv_nsec;
        signalled = 1;
        if (shoal__stop_sig == 0)
            shoal__stop_sig = sig;
        /* Keep an earlier alarm (a deadline this rank was told). */
        unsigned left = alarm(grace);
        if (left != 0 && left < grace)
            alarm(left);
        return;
    }
    /* A repeat within a second is the same request delivered twice. */
    long ms = ((long)ts.tv_sec - (long)first_sec) * 1000 +
              ((long)ts.tv_nsec - (long)first_nsec) / 1000000;
    if (ms > 1000) {
        hard_stop("shoal: second signal: stopping now; the file stays valid "
                  "and the run can be resumed with --resume\n");
    }
}

static void on_alarm(int sig)
{
    (void)sig;
    if (shoal__stop_sig == 0)
        return;
    hard_stop("shoal: grace period over: stopping now; rows of unfinished "
              "ranges are not written, the file stays valid and the run can be "
              "resumed with --resume\n");
}

void shoal__signals_install(double grace_seconds)
{
    grace = grace_seconds < 1 ? 1 : (unsigned)(grace_seconds + 0.5);
    shoal__stop_sig = 0;
    signalled = 0;
    told_deadline = HUGE_VAL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    /* Each handler holds off the others: a second signal in the first
     * one's opening lines, before the time of the first is noted, would
     * otherwise look like a late second signal and stop at once. */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSTOP; i++)
        sigaddset(&sa.sa_mask, stop_signals[i]);
    sigaddset(&sa.sa_mask, SIGALRM);
    sa.sa_flags = SA_RESTART; /* file writes in progress just go on */
    sa.sa_handler = on_stop;
    for (size_t i = 0; i < NSTOP; i++)
        sigaction(stop_signals[i], &sa, &saved[i]);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, &saved_alarm);
    installed = 1;
}

void shoal__signals_restore(void)
{
    if (!installed)
        return;
    alarm(0);
    for (size_t i = 0; i < NSTOP; i++)
        sigaction(stop_signals[i], &saved[i], NULL);
    sigaction(SIGALRM, &saved_alarm, NULL);
    installed = 0;
}

int shoal__signals_stop_check(void *ctx, double *deadline)
{
    (void)ctx;
    int sig = shoal__stop_sig;
    if (!sig || !deadline)
        return sig;
    double d = told_deadline;
    if (signalled) {
        double own = (double)first_sec + 1e-9 * (double)first_nsec + grace;
        d = own < d ? own : d;
    }
    *deadline = d;
    return sig;
}

void shoal__signals_stop_notify(void *ctx, int sig, double deadline)
{
    (void)ctx;
    /* The handlers must not run between reading the alarm and setting it. */
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < NSTOP; i++)
        sigaddset(&block, stop_signals[i]);
    sigaddset(&block, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (shoal__stop_sig == 0)
        shoal__stop_sig = sig ? sig : -1; /* -1: stopped, signal unknown */
    if (installed && deadline < told_deadline) {
        told_deadline = deadline;
        double left = deadline - shoal_now();
        struct itimerval cur;
        getitimer(ITIMER_REAL, &cur);
        double armed = (double)cur.it_value.tv_sec +
                       1e-6 * (double)cur.it_value.tv_usec;
        if (armed == 0 || armed > left) {
            if (left < 1e-3)
                left = 1e-3; /* already past: ring at once */
            struct itimerval it;
            memset(&it, 0, sizeof it);
            it.it_value.tv_sec = (time_t)left;
            it.it_value.tv_usec = (suseconds_t)((left - floor(left)) * 1e6);
            setitimer(ITIMER_REAL, &it, NULL);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
