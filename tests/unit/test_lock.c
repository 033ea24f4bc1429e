/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_lock.c: the output file's lock (lock.h): what it records, what it
 * refuses and what it takes over, that it never blocks on a special file,
 * and that two runs starting at once never see each other's lock half
 * written; the lease across hosts (a lock of another host is stale once not
 * refreshed for its lease; the holder refreshes it) and SLURM requeues;
 * looking at a lock (shoal__lock_inspect) judges it the same way and
 * changes nothing.
 * Every test runs in its own process (check forks) and directory. */
#include <shoal/error.h>
#include <shoal/log.h>

#include "lock.h"

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sidefile.h"

static char lockfile[600];

static void setup(void)
{
    sidefile_setup("shoal-lock");
    snprintf(lockfile, sizeof lockfile, "%s.lock", output);
    unsetenv("SLURM_JOB_ID");
    unsetenv("SLURM_RESTART_COUNT");
    unsetenv("SHOAL_LOCK_LEASE_SECONDS");
    shoal_log_set_level(SHOAL_LOG_QUIET);
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Files in dir other than the lock itself. */
static int strays(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | grep -v '^out.h5.lock$' | wc -l) -eq 0", dir);
    return system(cmd) != 0;
}

START_TEST(test_acquire_records_owner)
{
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    ck_assert_str_eq(path, lockfile);
    char *text = slurp(lockfile);
    ck_assert_ptr_nonnull(text);
    char want[64];
    snprintf(want, sizeof want, "\npid %ld\n", (long)getpid());
    ck_assert_msg(strncmp(text, "host ", 5) == 0 && strstr(text, want) &&
                      strstr(text, "\nstarted "),
                  "lock text: %s", text);
    ck_assert_msg(!strays(), "temporary files left beside the lock");
    shoal__lock_release(path);
    ck_assert_int_eq(access(lockfile, F_OK), -1);
}
END_TEST

START_TEST(test_live_owner_refused)
{
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    pid_t child = fork();
    if (child == 0) {
        char *p2 = NULL;
        int rc = shoal__lock_acquire(output, &p2);
        _exit(rc == SHOAL_EEXIST && strstr(reason, "in use by another run") ? 0 : 1);
    }
    int st;
    waitpid(child, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "second acquire not refused");
    shoal__lock_release(path);
}
END_TEST

/* The lock path is a symbolic link or a FIFO: refused at once (the test's
 * timeout catches a hang), the file left alone. */
static void refused_special(void)
{
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), SHOAL_EEXIST);
    ck_assert_ptr_null(path);
    ck_assert_msg(strstr(reason, "not a regular file") && strstr(reason, lockfile),
                  "message: %s", reason);
}

START_TEST(test_symlink_to_dev_zero)
{
    ck_assert_int_eq(symlink("/dev/zero", lockfile), 0);
    refused_special();
    struct stat st;
    ck_assert_int_eq(lstat(lockfile, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(test_symlink_to_lock)
{
    /* Even a link to a real lock file is not one. */
    char other[700];
    snprintf(other, sizeof other, "%s/elsewhere", dir);
    FILE *f = fopen(other, "w");
    fprintf(f, "host nowhere\npid 1\nstarted 2024-01-01T00:00:00Z\n");
    fclose(f);
    ck_assert_int_eq(symlink(other, lockfile), 0);
    refused_special();
}
END_TEST

START_TEST(test_fifo)
{
    ck_assert_int_eq(mkfifo(lockfile, 0644), 0);
    refused_special();
}
END_TEST

START_TEST(test_directory)
{
    ck_assert_int_eq(mkdir(lockfile, 0755), 0);
    refused_special();
}
END_TEST

/* A lock that is all zeros (or garbage) is not a Shoal lock: refused, the
 * read bounded. */
START_TEST(test_garbage_bounded)
{
    FILE *f = fopen(lockfile, "w");
    for (int i = 0; i < 1 << 20; i++)
        fputc(0, f);
    fclose(f);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), SHOAL_EEXIST);
    ck_assert_msg(strstr(reason, "not a Shoal lock file"), "message: %s", reason);
}
END_TEST

/* Two runs starting at the same moment, many times: one takes the lock, the
 * other is refused as "in use" naming the first; never "not a Shoal lock
 * file" (a lock read before it was written). */
START_TEST(test_concurrent_starters)
{
    int odd = 0, none = 0;
    for (int round = 0; round < 40; round++) {
        int go[2];
        ck_assert_int_eq(pipe(go), 0);
        pid_t kids[2];
        for (int k = 0; k < 2; k++) {
            kids[k] = fork();
            if (kids[k] == 0) {
                close(go[1]);
                char c;
                (void)!read(go[0], &c, 1); /* both start when the pipe closes */
                char *path = NULL;
                int rc = shoal__lock_acquire(output, &path);
                if (rc == 0) {
                    struct timespec ts = {0, 20000000};
                    nanosleep(&ts, NULL);
                    shoal__lock_release(path);
                    _exit(0);
                }
                _exit(strstr(reason, "not a Shoal lock file") ? 2 : 1);
            }
        }
        close(go[0]);
        close(go[1]);
        int won = 0;
        for (int k = 0; k < 2; k++) {
            int st;
            waitpid(kids[k], &st, 0);
            ck_assert(WIFEXITED(st));
            won += WEXITSTATUS(st) == 0;
            odd += WEXITSTATUS(st) == 2;
        }
        none += won == 0;
        ck_assert_int_eq(access(lockfile, F_OK), -1);
    }
    ck_assert_msg(odd == 0, "%d starters saw a lock file half written", odd);
    ck_assert_msg(none == 0, "%d rounds in which nobody got the lock", none);
    ck_assert_msg(!strays(), "temporary files left");
}
END_TEST

/* ---- across hosts: the lease ------------------------------------------------ */

/* A lock of another run on host elsewhere.example, last touched age s ago. */
static void plant(const char *extra, double age)
{
    FILE *f = fopen(lockfile, "w");
    fprintf(f, "host elsewhere.example\npid 4242\nstarted 2024-05-01T10:00:00Z\n%s",
            extra);
    fclose(f);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec t[2] = {now, now};
    t[0].tv_sec -= (time_t)age;
    t[1].tv_sec -= (time_t)age;
    ck_assert_int_eq(utimensat(AT_FDCWD, lockfile, t, 0), 0);
}

static int ours(void)
{
    char want[64];
    snprintf(want, sizeof want, "\npid %ld\n", (long)getpid());
    const char *text = slurp(lockfile);
    return text && strstr(text, want) != NULL;
}

START_TEST(test_records_lease_and_job)
{
    setenv("SLURM_JOB_ID", "777", 1);
    setenv("SLURM_RESTART_COUNT", "2", 1);
    setenv("SHOAL_LOCK_LEASE_SECONDS", "30", 1);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    const char *text = slurp(lockfile);
    ck_assert_msg(strstr(text, "\nslurm_job 777\n") &&
                      strstr(text, "\nslurm_restart 2\n") &&
                      strstr(text, "\nlease 30\n"),
                  "lock text: %s", text);
    shoal__lock_release(path);
}
END_TEST

START_TEST(test_other_host_fresh_refused)
{
    plant("slurm_job 777\nslurm_restart 0\nlease 60\n", 5);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), SHOAL_EEXIST);
    ck_assert_msg(strstr(reason, "host elsewhere.example") && strstr(reason, "pid 4242") &&
                      strstr(reason, "SLURM job 777") && strstr(reason, "60 s") &&
                      strstr(reason, "delete the lock file") && strstr(reason, lockfile),
                  "message: %s", reason);
    ck_assert(!ours());
}
END_TEST

START_TEST(test_other_host_expired_taken)
{
    plant("lease 60\n", 61);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    ck_assert(ours());
    shoal__lock_release(path);
}
END_TEST

START_TEST(test_other_host_short_lease)
{
    plant("lease 2\n", 3);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    shoal__lock_release(path);
}
END_TEST

/* An older Shoal never refreshes its lock: no lease, never taken over. */
START_TEST(test_other_host_no_lease_refused)
{
    plant("", 600);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), SHOAL_EEXIST);
    ck_assert_msg(strstr(reason, "elsewhere.example") && strstr(reason, "no lease"),
                  "message: %s", reason);
}
END_TEST

/* Our own SLURM job, requeued (onto another node): its old lock is stale
 * however fresh. The same job without a requeue is another run of ours. */
START_TEST(test_requeued_job_taken)
{
    plant("slurm_job 777\nslurm_restart 0\nlease 60\n", 1);
    setenv("SLURM_JOB_ID", "777", 1);
    setenv("SLURM_RESTART_COUNT", "1", 1);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    ck_assert(ours());
    shoal__lock_release(path);
}
END_TEST

START_TEST(test_same_job_not_requeued_refused)
{
    plant("slurm_job 777\nslurm_restart 1\nlease 60\n", 1);
    setenv("SLURM_JOB_ID", "777", 1);
    setenv("SLURM_RESTART_COUNT", "1", 1);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), SHOAL_EEXIST);
    setenv("SLURM_JOB_ID", "778", 1);
    ck_assert_int_eq(shoal__lock_acquire(output, &path), SHOAL_EEXIST);
}
END_TEST

/* The holder keeps its lock's mtime fresh (lease 0.6 s: every 0.1 s), and
 * stops when it releases it. */
START_TEST(test_heartbeat)
{
    setenv("SHOAL_LOCK_LEASE_SECONDS", "0.6", 1);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    struct timespec old = {0, 0};
    struct timespec t[2] = {old, old};
    ck_assert_int_eq(utimensat(AT_FDCWD, lockfile, t, 0), 0);
    struct timespec ts = {0, 400000000};
    nanosleep(&ts, NULL);
    struct stat st;
    ck_assert_int_eq(stat(lockfile, &st), 0);
    ck_assert_msg(time(NULL) - st.st_mtime < 3, "lock not refreshed: mtime %ld s old",
                  (long)(time(NULL) - st.st_mtime));
    shoal__lock_release(path);
    ck_assert_int_eq(access(lockfile, F_OK), -1);
    /* And again: the heartbeat starts anew with the next lock. */
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    ck_assert_int_eq(utimensat(AT_FDCWD, lockfile, t, 0), 0);
    nanosleep(&ts, NULL);
    ck_assert_int_eq(stat(lockfile, &st), 0);
    ck_assert(time(NULL) - st.st_mtime < 3);
    shoal__lock_release(path);
}
END_TEST

/* shoal__lock_drop (for signal handlers) removes the lock held. */
START_TEST(test_drop)
{
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    shoal__lock_drop();
    ck_assert_int_eq(access(lockfile, F_OK), -1);
    shoal__lock_drop(); /* nothing held: nothing happens */
    shoal__lock_release(path);
}
END_TEST

/* ---- looking without taking: shoal__lock_inspect ----------------------------- */

/* The lock's bytes and mtime, to see that a look changed nothing. */
static void fingerprint(char *buf, size_t n)
{
    struct stat st;
    const char *text = slurp(lockfile);
    ck_assert_int_eq(lstat(lockfile, &st), 0);
    snprintf(buf, n, "%ld.%09ld %s", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
             text ? text : "");
}

static shoal__lock_state look(void)
{
    char before[8300], after[8300];
    fingerprint(before, sizeof before);
    shoal__lock_info info;
    ck_assert_int_eq(shoal__lock_inspect(output, &info), 0);
    fingerprint(after, sizeof after);
    ck_assert_str_eq(before, after);
    return info.state;
}

START_TEST(test_inspect_none_and_ours)
{
    shoal__lock_info info;
    ck_assert_int_eq(shoal__lock_inspect(output, &info), 0);
    ck_assert_int_eq(info.state, SHOAL__LOCK_NONE);
    char *path = NULL;
    ck_assert_int_eq(shoal__lock_acquire(output, &path), 0);
    ck_assert_int_eq(shoal__lock_inspect(output, &info), 0);
    ck_assert_int_eq(info.state, SHOAL__LOCK_ALIVE);
    ck_assert_int_eq(info.pid, (long)getpid());
    ck_assert(info.lease > 0 && info.age >= 0 && info.age < 5);
    shoal__lock_release(path);
}
END_TEST

/* A lock of this host whose pid is gone: stale, and left in place. */
START_TEST(test_inspect_dead_local)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0); /* a pid that no longer runs */
    FILE *f = fopen(lockfile, "w");
    fprintf(f, "host %s\npid %ld\nstarted 2024-05-01T10:00:00Z\nlease 60\n", host,
            (long)child);
    fclose(f);
    ck_assert_int_eq(look(), SHOAL__LOCK_STALE);
    ck_assert_int_eq(access(lockfile, F_OK), 0);
}
END_TEST

START_TEST(test_inspect_other_hosts)
{
    plant("slurm_job 777\nlease 60\n", 5);
    ck_assert_int_eq(look(), SHOAL__LOCK_LEASED);
    shoal__lock_info info;
    shoal__lock_inspect(output, &info);
    ck_assert_str_eq(info.host, "elsewhere.example");
    ck_assert_str_eq(info.job, "777");
    ck_assert_int_eq(info.pid, 4242);
    ck_assert(info.age >= 4.5 && info.age < 60);
    plant("lease 60\n", 61);
    ck_assert_int_eq(look(), SHOAL__LOCK_STALE);
    plant("", 600);
    ck_assert_int_eq(look(), SHOAL__LOCK_UNCHECKABLE);
}
END_TEST

START_TEST(test_inspect_not_a_lock)
{
    ck_assert_int_eq(mkfifo(lockfile, 0644), 0);
    shoal__lock_info info;
    ck_assert_int_eq(shoal__lock_inspect(output, &info), 0); /* never blocks */
    ck_assert_int_eq(info.state, SHOAL__LOCK_OTHER);
    unlink(lockfile);
    FILE *f = fopen(lockfile, "w");
    fputs("not a lock\n", f);
    fclose(f);
    ck_assert_int_eq(look(), SHOAL__LOCK_OTHER);
}
END_TEST

static Suite *lock_suite(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("local");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_acquire_records_owner);
    tcase_add_test(tc, test_live_owner_refused);
    tcase_add_test(tc, test_symlink_to_dev_zero);
    tcase_add_test(tc, test_symlink_to_lock);
    tcase_add_test(tc, test_fifo);
    tcase_add_test(tc, test_directory);
    tcase_add_test(tc, test_garbage_bounded);
    tcase_add_test(tc, test_concurrent_starters);
    tcase_add_test(tc, test_drop);
    suite_add_tcase(s, tc);

    tc = tcase_create("lease");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_records_lease_and_job);
    tcase_add_test(tc, test_other_host_fresh_refused);
    tcase_add_test(tc, test_other_host_expired_taken);
    tcase_add_test(tc, test_other_host_short_lease);
    tcase_add_test(tc, test_other_host_no_lease_refused);
    tcase_add_test(tc, test_requeued_job_taken);
    tcase_add_test(tc, test_same_job_not_requeued_refused);
    tcase_add_test(tc, test_heartbeat);
    suite_add_tcase(s, tc);

    tc = tcase_create("inspect");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_inspect_none_and_ours);
    tcase_add_test(tc, test_inspect_dead_local);
    tcase_add_test(tc, test_inspect_other_hosts);
    tcase_add_test(tc, test_inspect_not_a_lock);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lock_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
