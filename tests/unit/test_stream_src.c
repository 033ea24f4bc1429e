/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_stream_src.c: a stream's sources (stream_src.h).
 *
 * A watched directory, each test run twice (check's loop tests): _i = 0
 * with inotify (poll_seconds 0), _i = 1 polling every 0.05 s. The files
 * there at the start come first, sorted; new ones renamed into place come
 * within 2 s (no other timing is asserted); hidden, non-matching names and
 * subdirectories never come; max is respected and the rest comes later,
 * each name once; a name removed and created again comes again; marker
 * mode; the directory removed or moved away while watched; missing paths
 * and a file given as the directory. With inotify, an overflow of the
 * kernel's event queue loses no file; without an inotify instance, the
 * directory is polled every second.
 *
 * Lines: a pipe on standard input fed in pieces (a line split between two
 * writes, CRLF, blank and comment lines, a line too long, a last line
 * without '\n', then the end; O_NONBLOCK restored at close); a full pipe
 * is not drained beyond what max allows; a regular file; a named pipe,
 * which waits for its writer before it can end. Every test runs in its own
 * process (check forks) and directory. */
#include <shoal/clock.h>
#include <shoal/error.h>
#include <shoal/log.h>

#include "stream_src.h"

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sidefile.h"

#define WAIT_SECONDS 2.0
#define MAXGOT 40000

static char in[600]; /* the watched directory, dir/in */
static shoal__src_item items[16];
static char (*got)[64]; /* base names returned so far */
static int ngot;

static void setup(void)
{
    sidefile_setup("shoal-src");
    snprintf(in, sizeof in, "%s/in", dir);
    ck_assert_int_eq(mkdir(in, 0700), 0);
    got = calloc(MAXGOT, sizeof *got);
    ck_assert_ptr_nonnull(got);
    ngot = 0;
    shoal_log_set_level(SHOAL_LOG_QUIET);
}

static void done(void)
{
    free(got);
    got = NULL;
    teardown();
}

static void nap(void)
{
    struct timespec t = {0, 10000000};
    nanosleep(&t, NULL);
}

static double seconds(int i)
{
    return i == 0 ? 0 : 0.05;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A file as a producer makes it: written under a hidden name in the same
 * directory, then renamed into place. */
static void put(const char *name, const char *text)
{
    char tmp[800], path[800];
    snprintf(tmp, sizeof tmp, "%s/.%s.part", in, name);
    snprintf(path, sizeof path, "%s/%s", in, name);
    write_file(tmp, text);
    ck_assert_int_eq(rename(tmp, path), 0);
}

static void put_in_place(const char *name)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", in, name);
    write_file(path, "x");
}

static void remove_in(const char *name)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", in, name);
    ck_assert_int_eq(unlink(path), 0);
}

/* One poll; its items' base names appended to got. */
static int poll_once(shoal__src *s, size_t max)
{
    int n = shoal__src_poll(s, shoal_now(), items, max);
    ck_assert_msg(n >= 0 && (size_t)n <= max, "poll returned %d (max %zu): %s", n, max,
                  reason);
    size_t dl = strlen(in);
    for (int k = 0; k < n; k++) {
        ck_assert_msg(strncmp(items[k].text, in, dl) == 0 && items[k].text[dl] == '/',
                      "item '%s' is not in '%s'", items[k].text, in);
        ck_assert_int_lt(ngot, MAXGOT);
        snprintf(got[ngot++], sizeof got[0], "%s", items[k].text + dl + 1);
    }
    return n;
}

/* Poll (max at a time) until `want` items in all have come or
 * WAIT_SECONDS passed. */
static void collect(shoal__src *s, size_t max, int want)
{
    double until = shoal_now() + WAIT_SECONDS;
    while (ngot < want && shoal_now() < until) {
        if (poll_once(s, max) == 0)
            nap();
    }
    ck_assert_msg(ngot >= want, "%d items of %d within %g s", ngot, want, WAIT_SECONDS);
}

/* Poll for a while (some scans): nothing new may come. */
static void quiet(shoal__src *s, double secs)
{
    int before = ngot;
    double until = shoal_now() + secs;
    while (shoal_now() < until) {
        poll_once(s, 16);
        nap();
    }
    ck_assert_msg(ngot == before, "unexpected item '%s'", got[before]);
}

/* Poll for a while taking nothing (max 0): what comes waits in the source. */
static void hold(shoal__src *s, double secs)
{
    double until = shoal_now() + secs;
    while (shoal_now() < until) {
        ck_assert_int_eq(shoal__src_poll(s, shoal_now(), NULL, 0), 0);
        nap();
    }
}

static int count(const char *name)
{
    int c = 0;
    for (int k = 0; k < ngot; k++)
        c += strcmp(got[k], name) == 0;
    return c;
}

static shoal__src *open_dir(int i, const char *pattern, const char *marker)
{
    shoal__src *s = NULL;
    ck_assert_int_eq(shoal__src_open_dir(in, pattern, marker, seconds(i), &s), 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(shoal__src_inotify(s), i == 0);
    if (i == 0)
        ck_assert_int_ge(shoal__src_fd(s), 0);
    else
        ck_assert_int_eq(shoal__src_fd(s), -1);
    return s;
}

/* ---- directories ---------------------------------------------------------------- */

START_TEST(test_existing_sorted)
{
    put("c.h5", "ccc");
    put("a.h5", "hello");
    put("b.h5", "bb");
    put("notes.txt", "not matching");
    put_in_place(".hidden.h5");
    put_in_place(".d.h5.part");
    char sub[800];
    snprintf(sub, sizeof sub, "%s/sub.h5", in);
    ck_assert_int_eq(mkdir(sub, 0700), 0);

    shoal__src *s = open_dir(_i, "*.h5", NULL);
    ck_assert_int_eq(poll_once(s, 16), 3);
    ck_assert_str_eq(got[0], "a.h5");
    ck_assert_str_eq(got[1], "b.h5");
    ck_assert_str_eq(got[2], "c.h5");
    char path[800];
    snprintf(path, sizeof path, "%s/a.h5", in);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_str_eq(items[0].text, path);
    ck_assert_uint_eq(items[0].size, 5);
    ck_assert_int_eq(items[0].mtime_ns,
                     (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
    ck_assert_int_eq(items[0].too_long, 0);
    quiet(s, 0.3);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_new_files_appear)
{
    shoal__src *s = open_dir(_i, "*.h5", NULL);
    ck_assert_int_eq(poll_once(s, 16), 0);
    put("x.h5", "data");
    put("y.txt", "not matching");
    put_in_place(".z.h5");
    char tmp[800];
    snprintf(tmp, sizeof tmp, "%s/.w.h5.part", in);
    write_file(tmp, "still being written");
    char sub[800];
    snprintf(sub, sizeof sub, "%s/sub.h5", in);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    collect(s, 16, 1);
    ck_assert_str_eq(got[0], "x.h5");
    ck_assert_uint_eq(items[0].size, 4);
    quiet(s, 0.3);
    /* A file written in place comes once it is complete (closed, or seen
     * by a scan). */
    put_in_place("v.h5");
    collect(s, 16, 2);
    ck_assert_str_eq(got[1], "v.h5");
    quiet(s, 0.2);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_max_respected)
{
    const char *first[] = {"e.h5", "a.h5", "d.h5", "b.h5", "c.h5"};
    for (int k = 0; k < 5; k++)
        put(first[k], "x");
    shoal__src *s = open_dir(_i, "*.h5", NULL);
    ck_assert_int_eq(poll_once(s, 2), 2);
    ck_assert_str_eq(got[0], "a.h5");
    ck_assert_str_eq(got[1], "b.h5");
    /* New files while c, d, e wait: they come after them. */
    put("h.h5", "x");
    put("f.h5", "x");
    put("g.h5", "x");
    collect(s, 2, 8);
    ck_assert_str_eq(got[2], "c.h5");
    ck_assert_str_eq(got[3], "d.h5");
    ck_assert_str_eq(got[4], "e.h5");
    const char *all[] = {"a.h5", "b.h5", "c.h5", "d.h5", "e.h5", "f.h5", "g.h5", "h.h5"};
    for (int k = 0; k < 8; k++)
        ck_assert_msg(count(all[k]) == 1, "%s came %d times", all[k], count(all[k]));
    quiet(s, 0.3);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_max_zero_keeps)
{
    put("a.h5", "x");
    shoal__src *s = open_dir(_i, "*.h5", NULL);
    ck_assert_int_eq(shoal__src_poll(s, shoal_now(), NULL, 0), 0);
    collect(s, 16, 1);
    ck_assert_str_eq(got[0], "a.h5");
    shoal__src_close(s);
}
END_TEST

START_TEST(test_removed_recreated)
{
    put("a.h5", "x");
    put("b.h5", "x");
    shoal__src *s = open_dir(_i, "*.h5", NULL);
    collect(s, 16, 2);
    remove_in("a.h5");
    quiet(s, 0.3); /* the removal is seen: an event, or scans without it */
    put("a.h5", "again");
    collect(s, 16, 3);
    ck_assert_str_eq(got[2], "a.h5");
    ck_assert_uint_eq(items[0].size, 5);
    /* Removed and made again while waiting to be taken: it comes once. */
    put("c.h5", "x");
    hold(s, 0.2);
    remove_in("c.h5");
    put("c.h5", "x");
    hold(s, 0.2);
    collect(s, 16, 4);
    quiet(s, 0.3);
    ck_assert_int_eq(count("a.h5"), 2);
    ck_assert_int_eq(count("b.h5"), 1);
    ck_assert_int_eq(count("c.h5"), 1);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_marker)
{
    put("a.h5", "x");
    put("a.h5.done", "");
    put("b.h5", "x");
    put("lonely.h5.done", "");
    shoal__src *s = open_dir(_i, "*", ".done");
    ck_assert_int_eq(poll_once(s, 16), 1);
    ck_assert_str_eq(got[0], "a.h5");
    quiet(s, 0.2);
    /* The marker arrives after its file. */
    put_in_place("b.h5.done");
    collect(s, 16, 2);
    ck_assert_str_eq(got[1], "b.h5");
    /* The marker before its file. */
    put("c.h5.done", "");
    quiet(s, 0.2);
    put("c.h5", "x");
    collect(s, 16, 3);
    ck_assert_str_eq(got[2], "c.h5");
    quiet(s, 0.3);
    for (int k = 0; k < ngot; k++)
        ck_assert_msg(!strstr(got[k], ".done"), "a marker came: %s", got[k]);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_dir_removed)
{
    put("a.h5", "x");
    shoal__src *s = open_dir(_i, "*.h5", NULL);
    ck_assert_int_eq(poll_once(s, 16), 1);
    remove_in("a.h5");
    ck_assert_int_eq(rmdir(in), 0);
    int rc = 0;
    double until = shoal_now() + WAIT_SECONDS;
    while (rc == 0 && shoal_now() < until) {
        rc = shoal__src_poll(s, shoal_now(), items, 16);
        nap();
    }
    ck_assert_int_lt(rc, 0);
    ck_assert_msg(strstr(reason, in) && strstr(reason, "removed"), "message: %s", reason);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_dir_moved)
{
    shoal__src *s = open_dir(_i, "*.h5", NULL);
    ck_assert_int_eq(poll_once(s, 16), 0);
    char away[800];
    snprintf(away, sizeof away, "%s/away", dir);
    ck_assert_int_eq(rename(in, away), 0);
    int rc = 0;
    double until = shoal_now() + WAIT_SECONDS;
    while (rc == 0 && shoal_now() < until) {
        rc = shoal__src_poll(s, shoal_now(), items, 16);
        nap();
    }
    ck_assert_int_lt(rc, 0);
    ck_assert_msg(strstr(reason, in), "message: %s", reason);
    shoal__src_close(s);
}
END_TEST

/* More files between two polls than the kernel queues events for: the
 * overflow costs a scan, and every file comes once. */
START_TEST(test_overflow)
{
    int limit = 16384;
    FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    if (f) {
        if (fscanf(f, "%d", &limit) != 1)
            limit = 16384;
        fclose(f);
    }
    if (limit > 30000)
        return; /* too many files to make here */
    shoal__src *s = open_dir(0, "f*", NULL);
    ck_assert_int_eq(poll_once(s, 16), 0);
    int n = limit + 100;
    for (int k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "f%06d", k);
        put_in_place(name);
    }
    collect(s, 16, n);
    quiet(s, 0.2);
    for (int k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "f%06d", k);
        ck_assert_str_eq(got[k], name); /* one scan, sorted: each once */
    }
    shoal__src_close(s);
}
END_TEST

/* No inotify instance to be had (here: no file descriptor left): polling
 * every second, said once in verbose mode; files still come. */
START_TEST(test_inotify_unavailable)
{
    char logpath[800];
    snprintf(logpath, sizeof logpath, "%s/log", dir);
    ck_assert_ptr_nonnull(freopen(logpath, "w", stderr));
    shoal_log_set_level(SHOAL_LOG_VERBOSE);
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = open("/dev/null", O_RDONLY); /* the lowest free descriptor */
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    shoal__src *s = NULL;
    int rc = shoal__src_open_dir(in, "*.h5", NULL, 0, &s);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(shoal__src_inotify(s), 0);
    ck_assert_int_eq(shoal__src_fd(s), -1);
    fflush(stderr);
    FILE *f = fopen(logpath, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_msg(strstr(buf, in) && strstr(buf, "polling it every 1 s"), "log: %s", buf);
    ck_assert_int_eq(poll_once(s, 16), 0);
    put("a.h5", "x");
    collect(s, 16, 1);
    ck_assert_str_eq(got[0], "a.h5");
    shoal__src_close(s);
}
END_TEST

START_TEST(test_dir_errors)
{
    shoal__src *s = (shoal__src *)1;
    char missing[800];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    ck_assert_int_eq(shoal__src_open_dir(missing, "*", NULL, 0, &s), SHOAL_ENOENT);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(reason, missing), "message: %s", reason);

    reason[0] = '\0';
    char file[800];
    snprintf(file, sizeof file, "%s/plain", dir);
    write_file(file, "x");
    int rc = shoal__src_open_dir(file, "*", NULL, 0, &s);
    ck_assert_int_lt(rc, 0);
    ck_assert_msg(strstr(reason, file) && strstr(reason, "not a directory"), "message: %s",
                  reason);

    ck_assert_int_eq(shoal__src_open_dir(in, "a/*", NULL, 0, &s), SHOAL_EINVAL);
    ck_assert_int_eq(shoal__src_open_dir(in, "*", "", 0, &s), SHOAL_EINVAL);
    ck_assert_int_eq(shoal__src_open_dir(in, "*", NULL, -1, &s), SHOAL_EINVAL);
}
END_TEST

/* ---- lines ---------------------------------------------------------------------- */

static void feed(int fd, const char *text)
{
    size_t n = strlen(text);
    ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
}

static int lines(shoal__src *s, size_t max)
{
    int n = shoal__src_poll(s, shoal_now(), items, max);
    ck_assert_msg(n == SHOAL__SRC_END || (n >= 0 && (size_t)n <= max), "poll returned %d",
                  n);
    return n;
}

START_TEST(test_pipe_pieces)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(dup2(p[0], 0), 0);
    close(p[0]);
    int flags = fcntl(0, F_GETFL);
    shoal__src *s = NULL;
    ck_assert_int_eq(shoal__src_open_lines("-", &s), 0);
    ck_assert_int_eq(shoal__src_fd(s), 0);
    ck_assert_int_eq(shoal__src_inotify(s), -1);
    ck_assert_int_eq(lines(s, 16), 0);

    feed(p[1], "fir");
    ck_assert_int_eq(lines(s, 16), 0);
    feed(p[1], "st\nsec");
    ck_assert_int_eq(lines(s, 16), 1);
    ck_assert_str_eq(items[0].text, "first");
    ck_assert_int_eq(items[0].too_long, 0);
    ck_assert_uint_eq(items[0].size, 0);
    feed(p[1], "ond\r\n\n   \n\t\r\n# comment\n  # indented comment\nthird # not a comment\n");
    ck_assert_int_eq(lines(s, 16), 2);
    ck_assert_str_eq(items[0].text, "second");
    ck_assert_str_eq(items[1].text, "third # not a comment");

    /* A line too long, arriving in pieces: its start, flagged, as soon as
     * it is known too long; the rest dropped; the next line intact. */
    static char big[3 * SHOAL__SRC_TEXT + 3];
    memset(big, 'x', 3 * SHOAL__SRC_TEXT);
    big[0] = 'L';
    feed(p[1], big);
    ck_assert_int_eq(lines(s, 16), 1);
    ck_assert_int_eq(items[0].too_long, 1);
    ck_assert_uint_eq(strlen(items[0].text), SHOAL__SRC_TEXT - 1);
    ck_assert_int_eq(items[0].text[0], 'L');
    feed(p[1], big);
    ck_assert_int_eq(lines(s, 16), 0);
    feed(p[1], "xx\nafter\n");
    ck_assert_int_eq(lines(s, 16), 1);
    ck_assert_str_eq(items[0].text, "after");
    ck_assert_int_eq(items[0].too_long, 0);
    /* One in a single write, then a line. */
    strcpy(big + 3 * SHOAL__SRC_TEXT, "\n");
    feed(p[1], big);
    feed(p[1], "next\n");
    ck_assert_int_eq(lines(s, 16), 2);
    ck_assert_int_eq(items[0].too_long, 1);
    ck_assert_uint_eq(strlen(items[0].text), SHOAL__SRC_TEXT - 1);
    ck_assert_str_eq(items[1].text, "next");
    ck_assert_int_eq(items[1].too_long, 0);

    /* Exactly the longest line that fits, with CRLF. */
    memset(big, 'y', SHOAL__SRC_TEXT - 1);
    strcpy(big + SHOAL__SRC_TEXT - 1, "\r\n");
    feed(p[1], big);
    ck_assert_int_eq(lines(s, 16), 1);
    ck_assert_int_eq(items[0].too_long, 0);
    ck_assert_uint_eq(strlen(items[0].text), SHOAL__SRC_TEXT - 1);

    feed(p[1], "last");
    ck_assert_int_eq(lines(s, 16), 0);
    close(p[1]);
    ck_assert_int_eq(lines(s, 16), 1);
    ck_assert_str_eq(items[0].text, "last");
    ck_assert_int_eq(lines(s, 16), SHOAL__SRC_END);
    ck_assert_int_eq(lines(s, 16), SHOAL__SRC_END);
    shoal__src_close(s);
    ck_assert_int_eq(fcntl(0, F_GETFL), flags); /* O_NONBLOCK taken back */
}
END_TEST

/* A writer far ahead: the source reads a bounded amount, the rest stays in
 * the pipe; every line still comes once, in order. */
START_TEST(test_pipe_back_pressure)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(dup2(p[0], 0), 0);
    close(p[0]);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    int written = 0;
    for (;;) {
        char line[32];
        int n = snprintf(line, sizeof line, "line %06d\n", written);
        if (write(p[1], line, (size_t)n) != n)
            break; /* full (the pipe takes whole lines of this size) */
        written++;
    }
    int pipe_bytes = 0;
    ck_assert_int_eq(ioctl(0, FIONREAD, &pipe_bytes), 0);
    shoal__src *s = NULL;
    ck_assert_int_eq(shoal__src_open_lines("-", &s), 0);
    ck_assert_int_eq(lines(s, 1), 1);
    ck_assert_str_eq(items[0].text, "line 000000");
    int left = 0;
    ck_assert_int_eq(ioctl(0, FIONREAD, &left), 0);
    ck_assert_msg(left >= pipe_bytes - 4 * SHOAL__SRC_TEXT,
                  "%d of %d bytes read for one line", pipe_bytes - left, pipe_bytes);
    close(p[1]);
    int next = 1;
    for (;;) {
        int n = lines(s, 16);
        if (n == SHOAL__SRC_END)
            break;
        for (int k = 0; k < n; k++, next++) {
            char want[32];
            snprintf(want, sizeof want, "line %06d", next);
            ck_assert_str_eq(items[k].text, want);
        }
    }
    ck_assert_int_eq(next, written);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_regular_file)
{
    char path[800];
    snprintf(path, sizeof path, "%s/list.txt", dir);
    write_file(path, "# a list\na\n\nb\r\nc\nd");
    shoal__src *s = NULL;
    ck_assert_int_eq(shoal__src_open_lines(path, &s), 0);
    ck_assert_int_ge(shoal__src_fd(s), 0);
    ck_assert_int_eq(lines(s, 2), 2);
    ck_assert_str_eq(items[0].text, "a");
    ck_assert_str_eq(items[1].text, "b");
    ck_assert_int_eq(lines(s, 2), 2);
    ck_assert_str_eq(items[0].text, "c");
    ck_assert_str_eq(items[1].text, "d");
    ck_assert_int_eq(lines(s, 2), SHOAL__SRC_END);
    shoal__src_close(s);

    /* An empty file ends at once. */
    write_file(path, "");
    ck_assert_int_eq(shoal__src_open_lines(path, &s), 0);
    ck_assert_int_eq(lines(s, 2), SHOAL__SRC_END);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_named_pipe)
{
    char path[800];
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    shoal__src *s = NULL;
    ck_assert_int_eq(shoal__src_open_lines(path, &s), 0); /* does not block */
    /* No writer yet: nothing, and not the end. */
    ck_assert_int_eq(lines(s, 16), 0);
    nap();
    ck_assert_int_eq(lines(s, 16), 0);
    int w = open(path, O_WRONLY);
    ck_assert_int_ge(w, 0);
    ck_assert_int_eq(lines(s, 16), 0);
    feed(w, "a\nb\n");
    ck_assert_int_eq(lines(s, 16), 2);
    ck_assert_str_eq(items[0].text, "a");
    ck_assert_str_eq(items[1].text, "b");
    feed(w, "c");
    ck_assert_int_eq(lines(s, 16), 0); /* the writer is still there */
    close(w);
    ck_assert_int_eq(lines(s, 16), 1);
    ck_assert_str_eq(items[0].text, "c");
    ck_assert_int_eq(lines(s, 16), SHOAL__SRC_END);
    shoal__src_close(s);

    /* A writer that connects and goes without a word ends it too. */
    ck_assert_int_eq(shoal__src_open_lines(path, &s), 0);
    ck_assert_int_eq(lines(s, 16), 0);
    w = open(path, O_WRONLY);
    ck_assert_int_ge(w, 0);
    close(w);
    ck_assert_int_eq(lines(s, 16), SHOAL__SRC_END);
    shoal__src_close(s);
}
END_TEST

START_TEST(test_lines_errors)
{
    char path[800];
    snprintf(path, sizeof path, "%s/missing", dir);
    shoal__src *s = (shoal__src *)1;
    ck_assert_int_eq(shoal__src_open_lines(path, &s), SHOAL_ENOENT);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(reason, path), "message: %s", reason);
    ck_assert_int_lt(shoal__src_open_lines(dir, &s), 0);
    ck_assert_msg(strstr(reason, dir), "message: %s", reason);
}
END_TEST

static Suite *stream_src_suite(void)
{
    Suite *s = suite_create("stream_src");
    TCase *tc = tcase_create("dir");
    tcase_add_checked_fixture(tc, setup, done);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_existing_sorted, 0, 2);
    tcase_add_loop_test(tc, test_new_files_appear, 0, 2);
    tcase_add_loop_test(tc, test_max_respected, 0, 2);
    tcase_add_loop_test(tc, test_max_zero_keeps, 0, 2);
    tcase_add_loop_test(tc, test_removed_recreated, 0, 2);
    tcase_add_loop_test(tc, test_marker, 0, 2);
    tcase_add_loop_test(tc, test_dir_removed, 0, 2);
    tcase_add_loop_test(tc, test_dir_moved, 0, 2);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_inotify_unavailable);
    tcase_add_test(tc, test_dir_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("lines");
    tcase_add_checked_fixture(tc, setup, done);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_pipe_pieces);
    tcase_add_test(tc, test_pipe_back_pressure);
    tcase_add_test(tc, test_regular_file);
    tcase_add_test(tc, test_named_pipe);
    tcase_add_test(tc, test_lines_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stream_src_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
