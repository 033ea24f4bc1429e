/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_keeper.c: a task's program does not outlive its rank (keeper.h).
 *
 * Each test plays a rank in a forked process: it starts a "program" (a
 * child in its own process group that sleeps), tells the keeper its group,
 * and is then killed outright or ends normally. The test process is a
 * subreaper, so the orphaned program comes back to it and its end (and the
 * signal that ended it) can be read with waitpid. */
#include <shoal/clock.h>

#include "keeper.h"
#include "signals.h"

#include <check.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* A program: its own process group; `stubborn` ignores SIGTERM. It is
 * returned once its signal actions are set, so that a SIGTERM cannot find
 * it still running the suite's handlers. */
static pid_t program(int stubborn)
{
    int ready[2];
    if (pipe(ready) != 0)
        return -1;
    pid_t c = fork();
    if (c == 0) {
        close(ready[0]);
        setpgid(0, 0);
        /* Default actions, as a program gets (check's handlers are not). */
        signal(SIGTERM, stubborn ? SIG_IGN : SIG_DFL);
        /* Not the suite's output, and gone in 30 s whatever happens: a
         * program the keeper failed to stop must not hold the test up. */
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++)
            dup2(null, fd);
        signal(SIGALRM, SIG_DFL);
        alarm(30);
        close(ready[1]);
        for (;;)
            pause();
    }
    close(ready[1]);
    char b;
    (void)!read(ready[0], &b, 1); /* end of file: the child is set up */
    close(ready[0]);
    setpgid(c, c);
    return c;
}

/* A rank: starts a program, tells the keeper, reports the program's pid on
 * `out`, then waits to be killed (end = 0) or ends normally (end = 1:
 * group 0, keeper stopped, exit 0 with the program left running). */
static pid_t rank(int stubborn, int end, pid_t *prog)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t r = fork();
    if (r == 0) {
        /* Its own group, as mpirun's ranks have: a signal to the group
         * must not reach the keeper. */
        setpgid(0, 0);
        close(p[0]);
        pid_t c = program(stubborn);
        int ok = shoal__keeper_watch(c) == 0 && shoal__keeper_active();
        pid_t msg = ok ? c : -1;
        (void)!write(p[1], &msg, sizeof msg);
        if (!end)
            for (;;)
                pause();
        shoal__keeper_watch(0);
        shoal__keeper_stop();
        /* The keeper is reaped: only the program is left as a child. */
        _exit(shoal__keeper_active() == 0 && waitpid(-1, NULL, WNOHANG) == 0 ? 0 : 7);
    }
    close(p[1]);
    ck_assert_int_eq((int)read(p[0], prog, sizeof *prog), (int)sizeof *prog);
    close(p[0]);
    ck_assert_msg(*prog > 0, "the rank has no keeper");
    return r;
}

/* How the program ended within `wait` seconds: its signal, 0 if it runs. */
static int ended_by(pid_t c, double wait, double *when)
{
    double t0 = shoal_now();
    while (shoal_now() - t0 < wait) {
        int st;
        if (waitpid(c, &st, WNOHANG) == c) {
            *when = shoal_now() - t0;
            return WIFSIGNALED(st) ? WTERMSIG(st) : -1;
        }
        nap(0.01);
    }
    return 0;
}

static void setup(void) { ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0); }

/* A rank with a program, then `sig` to the rank (to its whole process
 * group if `group`): how the program ended within `wait` s (ended_by). */
static int after_rank_dies(int stubborn, int sig, int group, double wait, double *when)
{
    setup();
    pid_t c, r = rank(stubborn, 0, &c);
    kill(group ? -r : r, sig);
    int st;
    waitpid(r, &st, 0);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == sig, "the rank did not die of %d", sig);
    return ended_by(c, wait, when);
}

START_TEST(test_rank_killed)
{
    double when = 0;
    ck_assert_int_eq(after_rank_dies(0, SIGKILL, 1, 3, &when), SIGTERM);
}
END_TEST

/* An assert() failing (SIGABRT: AddressSanitizer leaves it alone). */
START_TEST(test_rank_crashes)
{
    double when = 0;
    ck_assert_int_eq(after_rank_dies(0, SIGABRT, 0, 3, &when), SIGTERM);
}
END_TEST

START_TEST(test_stubborn_program_killed)
{
    double when = 0;
    ck_assert_int_eq(after_rank_dies(1, SIGKILL, 0, SHOAL__KEEPER_KILL_AFTER + 5, &when), SIGKILL);
    ck_assert_msg(when > SHOAL__KEEPER_KILL_AFTER - 0.5, "SIGKILL after %.2f s", when);
}
END_TEST

START_TEST(test_normal_end_kills_nothing)
{
    setup();
    pid_t c, r = rank(0, 1, &c);
    int st;
    waitpid(r, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the keeper was not reaped");
    double when = 0;
    ck_assert_int_eq(ended_by(c, 1, &when), 0); /* still running */
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
}
END_TEST

START_TEST(test_no_group_no_keeper)
{
    ck_assert_int_eq(shoal__keeper_watch(0), 0);
    ck_assert_int_eq(shoal__keeper_active(), 0);
    shoal__keeper_stop();
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1); /* no child at all */
}
END_TEST

/* The pid of this process's child other than `c` (the keeper). */
static pid_t other_child(pid_t c)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *p = buf, *end; *p; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v > 0 && v != (long)c)
            return (pid_t)v;
    }
    return -1;
}

START_TEST(test_keeper_killed_rank_signals_itself)
{
    setup();
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t r = fork();
    if (r == 0) {
        close(p[0]);
        pid_t c = program(0);
        shoal__signals_child_group(c); /* as a task does: starts the keeper */
        int ok = shoal__keeper_active();
        pid_t k = other_child(c);
        ok = ok && k > 0 && kill(k, SIGKILL) == 0;
        for (int i = 0; ok && i < 200 && shoal__keeper_active(); i++)
            nap(0.01);
        ok = ok && !shoal__keeper_active();
        pid_t msg = ok ? c : -1;
        (void)!write(p[1], &msg, sizeof msg);
        shoal__signals_kill_child(); /* what a hard stop or a crash does */
        _exit(0);
    }
    close(p[1]);
    pid_t c = 0;
    ck_assert_int_eq((int)read(p[0], &c, sizeof c), (int)sizeof c);
    close(p[0]);
    ck_assert_msg(c > 0, "the keeper did not start, or was not seen gone");
    waitpid(r, NULL, 0);
    double when = 0;
    ck_assert_int_eq(ended_by(c, 3, &when), SIGTERM);
}
END_TEST

static Suite *keeper_suite(void)
{
    Suite *s = suite_create("keeper");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_rank_killed);
    tcase_add_test(tc, test_rank_crashes);
    tcase_add_test(tc, test_stubborn_program_killed);
    tcase_add_test(tc, test_normal_end_kills_nothing);
    tcase_add_test(tc, test_no_group_no_keeper);
    tcase_add_test(tc, test_keeper_killed_rank_signals_itself);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(keeper_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
