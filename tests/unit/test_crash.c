/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_crash.c: the crash log (crash.h). A crashing task is recorded in
 * "<output>.crashes" and read back; a log path planted as a symbolic link
 * is never followed (its target stays untouched) and one that is a FIFO or
 * a huge file never blocks the reader. Crashes happen in forked children;
 * every test runs in its own process (check forks) and directory. */
#include <shoal/error.h>
#include <shoal/log.h>

#include "crash.h"

#include <check.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sidefile.h"

static char logfile[600], victim[600];

static void setup(void)
{
    sidefile_setup("shoal-crash");
    snprintf(logfile, sizeof logfile, "%s.crashes", output);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    shoal_log_set_level(SHOAL_LOG_QUIET);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* A child that installs the handlers and crashes in task `task`. */
static void crash_in_task(uint64_t task)
{
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        if (shoal__crash_install(output) != 0)
            _exit(1);
        shoal__crash_task(task);
        raise(SIGSEGV);
        _exit(2);
    }
    int st;
    waitpid(child, &st, 0);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
                  "the child did not die of SIGSEGV (status %d)", st);
}

START_TEST(test_crash_recorded_and_read)
{
    crash_in_task(5);
    crash_in_task(9);
    crash_in_task(5);
    ck_assert_str_eq(slurp(logfile), "task 5 signal 11\ntask 9 signal 11\ntask 5 signal 11\n");
    uint64_t *tasks;
    uint32_t *counts;
    size_t n;
    ck_assert_int_eq(shoal__crash_read(output, &tasks, &counts, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert(tasks[0] == 5 && counts[0] == 2 && tasks[1] == 9 && counts[1] == 1);
    free(tasks);
    free(counts);
}
END_TEST

START_TEST(test_no_log_no_crashes)
{
    uint64_t *tasks;
    uint32_t *counts;
    size_t n = 7;
    ck_assert_int_eq(shoal__crash_read(output, &tasks, &counts, &n), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* A planted link: the crash writes nothing through it. */
START_TEST(test_symlinked_log_not_followed)
{
    write_file(victim, "keep\n");
    ck_assert_int_eq(symlink(victim, logfile), 0);
    crash_in_task(5);
    ck_assert_str_eq(slurp(victim), "keep\n");
}
END_TEST

/* Reading: a link is refused, not read through. */
START_TEST(test_read_symlink_refused)
{
    write_file(victim, "task 3 signal 11\ntask 3 signal 11\n");
    ck_assert_int_eq(symlink(victim, logfile), 0);
    uint64_t *tasks = NULL;
    uint32_t *counts = NULL;
    size_t n = 0;
    ck_assert_int_lt(shoal__crash_read(output, &tasks, &counts, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(strstr(reason, "not a regular file") && strstr(reason, logfile),
                  "message: %s", reason);
}
END_TEST

/* A FIFO neither blocks the reader (the test's timeout catches a hang) nor
 * the crash handler. */
START_TEST(test_fifo_never_blocks)
{
    ck_assert_int_eq(mkfifo(logfile, 0644), 0);
    uint64_t *tasks = NULL;
    uint32_t *counts = NULL;
    size_t n = 0;
    ck_assert_int_lt(shoal__crash_read(output, &tasks, &counts, &n), 0);
    ck_assert_msg(strstr(reason, "not a regular file"), "message: %s", reason);
    crash_in_task(4);
}
END_TEST

/* A huge log (sparse, 64 GiB of zeros) is read only so far. */
START_TEST(test_read_bounded)
{
    int fd = open(logfile, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    const char *rec = "task 12 signal 11\n";
    ck_assert_int_eq(write(fd, rec, strlen(rec)), (ssize_t)strlen(rec));
    ck_assert_int_eq(ftruncate(fd, (off_t)64 << 30), 0);
    close(fd);
    uint64_t *tasks = NULL;
    uint32_t *counts = NULL;
    size_t n = 0;
    ck_assert_int_eq(shoal__crash_read(output, &tasks, &counts, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert(tasks[0] == 12 && counts[0] == 1);
    free(tasks);
    free(counts);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_crash_recorded_and_read);
    tcase_add_test(tc, test_no_log_no_crashes);
    tcase_add_test(tc, test_symlinked_log_not_followed);
    tcase_add_test(tc, test_read_symlink_refused);
    tcase_add_test(tc, test_fifo_never_blocks);
    tcase_add_test(tc, test_read_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crash_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
