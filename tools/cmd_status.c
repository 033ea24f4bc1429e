/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_status.c: `shoal status FILE` -- how far a run got, and whether one
 * is going on.
 *
 * Facts, all read, none written:
 *   - the root attributes: app, config_source, state, started, resumed,
 *     resumed_at, finished, wall_seconds;
 *   - <FILE>.lock, judged as a run starting would judge it (lock.h): a run
 *     holding it is alive; "running" in the file with no live holder means
 *     the run was killed;
 *   - /tasks/status, /tasks/rank, /tasks/seconds, a block at a time: the
 *     counts, the per-rank tasks and busy time, and the ETA's input;
 *   - /segments (one row per launch), if the file has it: the history, and
 *     for the segment going on its start counts, which make the rate: work
 *     done since it began (task-seconds) per wall second since it began;
 *   - /ranks for a closed file.
 * The ETA is eta.c's (the one place that computes it): the finished tasks'
 * times as samples, the unfinished ones as the work left, divided by the
 * segment's rate. Without a live run, or without the start counts (a
 * resumed file from before /segments), no rate or ETA is made up. */
#include <shoal/error.h>

#include "eta.h"
#include "lock.h"
#include "tool.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK 65536
#define RANKS_SHOWN 16

typedef struct {
    uint64_t tasks;
    double busy;
} rank_use;

typedef struct {
    uint64_t count[4];    /* by status */
    double work;          /* seconds of the done and failed tasks */
    rank_use *ranks;
    size_t nranks;        /* highest rank seen + 1 */
    shoal__eta eta;
} tally;

/* ---- reading ------------------------------------------------------------------ */

static int count_rank(tally *t, int64_t rank, double seconds)
{
    if (rank < 0 || rank > 10000000)
        return 0; /* not a rank (a fill value) */
    if ((size_t)rank >= t->nranks) {
        size_t n = (size_t)rank + 1;
        rank_use *g = realloc(t->ranks, n * sizeof *g);
        if (!g)
            return SHOAL_ENOMEM;
        memset(g + t->nranks, 0, (n - t->nranks) * sizeof *g);
        t->ranks = g;
        t->nranks = n;
    }
    t->ranks[rank].tasks++;
    t->ranks[rank].busy += seconds;
    return 0;
}

static int read_tasks(const shoal_results *r, tally *t)
{
    uint64_t n = shoal_results_ntasks(r);
    int rc = shoal__eta_init(&t->eta, n);
    uint8_t *st = malloc(BLOCK);
    int64_t *rank = malloc(BLOCK * sizeof *rank);
    double *sec = malloc(BLOCK * sizeof *sec);
    if (!rc && (!st || !rank || !sec))
        rc = SHOAL_ENOMEM;
    for (uint64_t off = 0; rc == 0 && off < n; off += BLOCK) {
        uint64_t k = n - off < BLOCK ? n - off : BLOCK;
        rc = shoal_results_read_status(r, off, k, st);
        if (!rc)
            rc = shoal_results_read_column_int64(r, "tasks/rank", off, k, rank);
        if (!rc)
            rc = shoal_results_read_column_double(r, "tasks/seconds", off, k, sec);
        for (uint64_t i = 0; rc == 0 && i < k; i++) {
            t->count[st[i] < 4 ? st[i] : 0]++;
            if (st[i] == SHOAL_STATUS_DONE || st[i] == SHOAL_STATUS_FAILED) {
                double s = sec[i] >= 0 ? sec[i] : 0;
                t->work += s;
                shoal__eta_known(&t->eta, off + i, 1, s);
                rc = count_rank(t, rank[i], s);
            } else {
                shoal__eta_todo(&t->eta, off + i, 1);
            }
        }
    }
    free(st);
    free(rank);
    free(sec);
    return rc;
}

/* /segments, one row per launch (absent in files from before it). */
typedef struct {
    size_t n;
    char (*started)[33], (*finished)[33], (*state)[17], (*hosts)[1025];
    int64_t *nranks, *done_at_start, *failed_at_start, *tasks_done, *tasks_failed;
    double *work_at_start, *wall;
} segments;

static void segments_free(segments *s)
{
    free(s->started);
    free(s->finished);
    free(s->state);
    free(s->hosts);
    free(s->nranks);
    free(s->done_at_start);
    free(s->failed_at_start);
    free(s->tasks_done);
    free(s->tasks_failed);
    free(s->work_at_start);
    free(s->wall);
    memset(s, 0, sizeof *s);
}

static int read_segments(const shoal_results *r, segments *s)
{
    shoal_results_column c;
    if (!shoal_results_has(r, "segments") ||
        shoal_results_column_info(r, "segments/started", &c) != 0 || c.rows == 0) {
        tool_lib_message_clear();
        return 0;
    }
    /* Room for rows a resume may be adding while we read. */
    size_t n = (size_t)c.rows + 4;
    s->started = calloc(n, sizeof *s->started);
    s->finished = calloc(n, sizeof *s->finished);
    s->state = calloc(n, sizeof *s->state);
    s->hosts = calloc(n, sizeof *s->hosts);
    s->nranks = calloc(n, sizeof(int64_t));
    s->done_at_start = calloc(n, sizeof(int64_t));
    s->failed_at_start = calloc(n, sizeof(int64_t));
    s->tasks_done = calloc(n, sizeof(int64_t));
    s->tasks_failed = calloc(n, sizeof(int64_t));
    s->work_at_start = calloc(n, sizeof(double));
    s->wall = calloc(n, sizeof(double));
    if (!s->started || !s->finished || !s->state || !s->hosts || !s->nranks ||
        !s->done_at_start || !s->failed_at_start || !s->tasks_done || !s->tasks_failed ||
        !s->work_at_start || !s->wall)
        return SHOAL_ENOMEM;
    /* A file being extended by a resume right now may show one more row in
     * one column than another: read each at the shortest length. */
    size_t got = n, k;
    int rc = shoal_results_read_all_string(r, "segments/started", s->started[0], 33, n, &k);
    got = k < got ? k : got;
#define STR(col, len)                                                                      \
    if (!rc)                                                                               \
        rc = shoal_results_read_all_string(r, "segments/" #col, s->col[0], len, n, &k),    \
        got = k < got ? k : got;
#define NUM(col, field, fn)                                                                \
    if (!rc)                                                                               \
        rc = fn(r, "segments/" #col, s->field, n, &k), got = k < got ? k : got;
    STR(finished, 33)
    STR(state, 17)
    STR(hosts, 1025)
    NUM(nranks, nranks, shoal_results_read_all_int64)
    NUM(done_at_start, done_at_start, shoal_results_read_all_int64)
    NUM(failed_at_start, failed_at_start, shoal_results_read_all_int64)
    NUM(tasks_done, tasks_done, shoal_results_read_all_int64)
    NUM(tasks_failed, tasks_failed, shoal_results_read_all_int64)
    NUM(work_at_start, work_at_start, shoal_results_read_all_double)
    NUM(wall_seconds, wall, shoal_results_read_all_double)
#undef STR
#undef NUM
    s->n = rc ? 0 : got;
    return rc;
}

/* ---- printing ----------------------------------------------------------------- */

/* "YYYY-MM-DDTHH:MM:SSZ" as seconds since the epoch; NaN if it is not one. */
static double iso_seconds(const char *s)
{
    int y, mo, d, h, mi, se;
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &se) != 6 || mo < 1 ||
        mo > 12)
        return NAN;
    /* Days from 1970-01-01 in the proleptic Gregorian calendar. */
    int ya = mo <= 2 ? y - 1 : y;
    int era = (ya >= 0 ? ya : ya - 399) / 400;
    int yoe = ya - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + se;
}

/* A duration: eta.c's format, with centiseconds under 10 s. */
static void duration(double s, char *buf, size_t n)
{
    if (s >= 0 && s < 9.995)
        snprintf(buf, n, "%.2fs", s);
    else
        shoal__eta_format(s, buf, n);
}

static void print_state(const char *file, const char *state, const shoal__lock_info *lk,
                        int live, const segments *sg)
{
    char job[96] = "";
    if (lk->job[0])
        snprintf(job, sizeof job, ", SLURM job %s", lk->job);
    if (lk->state == SHOAL__LOCK_ALIVE)
        printf("state:     running (pid %ld on %s%s)\n", lk->pid, lk->host, job);
    else if (lk->state == SHOAL__LOCK_LEASED)
        printf("state:     running (pid %ld on host %s%s; its lock was refreshed %.0f s "
               "ago)\n", lk->pid, lk->host, job, lk->age > 0 ? lk->age : 0);
    else if (lk->state == SHOAL__LOCK_UNCHECKABLE)
        printf("state:     running, by its lock (pid %ld on host %s%s; an older Shoal's "
               "lock, which cannot be checked from here)\n", lk->pid, lk->host, job);
    else if (!strcmp(state, "running"))
        printf("state:     running according to the file, but no run holds its lock: "
               "killed? resume with --resume\n");
    else if (!strcmp(state, "interrupted"))
        printf("state:     interrupted (resumable: rerun with --resume)\n");
    else if (!strcmp(state, "incomplete"))
        printf("state:     incomplete (some tasks did not run: rerun with --resume)\n");
    else
        printf("state:     %s\n", state[0] ? state : "unknown (no state attribute)");
    if (live && strcmp(state, "running") && state[0])
        printf("           (the file still says '%s': the run is starting)\n", state);
    if (lk->state == SHOAL__LOCK_STALE)
        printf("           a stale lock '%s.lock' of pid %ld on %s is left; the next run "
               "takes it over\n", file, lk->pid, lk->host);
    else if (lk->state == SHOAL__LOCK_OTHER)
        printf("           '%s.lock' is there but is not a Shoal lock: no run can start "
               "until it is removed\n", file);
    if (!live && sg->n && !strcmp(sg->state[sg->n - 1], "running"))
        printf("           segment %zu ended without closing the file (killed?): resume "
               "with --resume\n", sg->n - 1);
}

/* Now, in seconds since the epoch. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_rate(const tally *t, const segments *sg, double resumed, const char *since)
{
    double now = now_seconds();
    uint64_t fin = t->count[SHOAL_STATUS_DONE] + t->count[SHOAL_STATUS_FAILED];
    double done0 = NAN, work0 = NAN, start = NAN;
    if (sg->n && !strcmp(sg->state[sg->n - 1], "running")) {
        size_t k = sg->n - 1;
        done0 = (double)(sg->done_at_start[k] + sg->failed_at_start[k]);
        work0 = sg->work_at_start[k];
        start = iso_seconds(sg->started[k]);
    } else if (!sg->n && resumed == 0) {
        done0 = 0; /* the first run: it started from nothing */
        work0 = 0;
        start = iso_seconds(since);
    }
    char a[32], b[32];
    if (isnan(done0) || isnan(start)) {
        printf("rate:      unknown (the file keeps no counts from when this segment began: "
               "it has no /segments)\n");
        return;
    }
    double elapsed = now - start, work = t->work - work0;
    if (!(elapsed > 0) || fin < done0 + 1) {
        printf("rate:      unknown yet (no task finished in this segment)\n");
        return;
    }
    printf("rate:      %.3g tasks/s, %.3g task-seconds per second (this segment, %s)\n",
           ((double)fin - done0) / elapsed, work / elapsed,
           (shoal__eta_format(elapsed, a, sizeof a), a));
    double left = shoal__eta_seconds_from(&t->eta, work, elapsed);
    duration(left, b, sizeof b);
    if (isnan(left))
        printf("ETA:       unknown yet\n");
    else if (left == 0)
        printf("ETA:       0s (no task is left to run; the run is finishing)\n");
    else
        printf("ETA:       %s (from the measured times of the finished tasks)\n", b);
}

static void print_ranks(const shoal_results *r, const tally *t, int all, int closed)
{
    shoal_results_column c;
    size_t n = 0;
    char (*host)[65] = NULL;
    double *busy = NULL, *idle = NULL, *cpu = NULL;
    int64_t *tasks = NULL, *rss = NULL;
    if (closed && shoal_results_column_info(r, "ranks/host", &c) == 0 && c.rows > 0) {
        n = (size_t)c.rows;
        host = calloc(n, sizeof *host);
        busy = calloc(n, sizeof *busy);
        idle = calloc(n, sizeof *idle);
        cpu = calloc(n, sizeof *cpu);
        tasks = calloc(n, sizeof *tasks);
        rss = calloc(n, sizeof *rss);
        if (!host || !busy || !idle || !cpu || !tasks || !rss ||
            shoal_results_read_all_string(r, "ranks/host", host[0], 65, n, NULL) ||
            shoal_results_read_all_double(r, "ranks/busy_seconds", busy, n, NULL) ||
            shoal_results_read_all_double(r, "ranks/idle_seconds", idle, n, NULL) ||
            shoal_results_read_all_double(r, "ranks/cpu_seconds", cpu, n, NULL) ||
            shoal_results_read_all_int64(r, "ranks/tasks", tasks, n, NULL) ||
            shoal_results_read_all_int64(r, "ranks/max_rss_kib", rss, n, NULL))
            n = 0; /* fall back to /tasks */
    }
    tool_lib_message_clear();
    char a[32], b[32], d[32];
    if (n) {
        printf("ranks:     %zu in the last segment (/ranks)\n", n);
        printf("  %5s  %-20s %8s %9s %9s %9s %9s\n", "rank", "host", "tasks", "busy", "idle",
               "cpu", "max_rss");
        for (size_t i = 0; i < n && (all || i < RANKS_SHOWN); i++) {
            duration(busy[i], a, sizeof a);
            duration(idle[i], b, sizeof b);
            duration(cpu[i], d, sizeof d);
            printf("  %5zu  %-20.20s %8" PRId64 " %9s %9s %9s %6.0f MiB\n", i, host[i], tasks[i],
                   a, b, d, (double)rss[i] / 1024.0);
        }
    } else if (t->nranks) {
        printf("ranks:     tasks finished and their busy time, by the rank that ran them "
               "(/tasks)\n");
        printf("  %5s %8s %9s\n", "rank", "tasks", "busy");
        for (size_t i = 0; i < t->nranks && (all || i < RANKS_SHOWN); i++) {
            duration(t->ranks[i].busy, a, sizeof a);
            printf("  %5zu %8" PRIu64 " %9s\n", i, t->ranks[i].tasks, a);
        }
    }
    size_t shown = n ? n : t->nranks;
    if (shown > RANKS_SHOWN && !all)
        printf("  ... %zu more ranks (--ranks lists them all)\n", shown - RANKS_SHOWN);
    if (t->nranks > 1) {
        double lo = INFINITY, hi = 0, sum = 0;
        for (size_t i = 0; i < t->nranks; i++) {
            lo = t->ranks[i].busy < lo ? t->ranks[i].busy : lo;
            hi = t->ranks[i].busy > hi ? t->ranks[i].busy : hi;
            sum += t->ranks[i].busy;
        }
        duration(lo, a, sizeof a);
        duration(sum / (double)t->nranks, b, sizeof b);
        duration(hi, d, sizeof d);
        printf("  busy per rank (/tasks): min %s, mean %s, max %s\n", a, b, d);
    }
    free(host);
    free(busy);
    free(idle);
    free(cpu);
    free(tasks);
    free(rss);
}

static void print_segments(const segments *sg, const tally *t, int live)
{
    if (!sg->n)
        return;
    printf("segments:  %zu (the first run, then each resume)\n", sg->n);
    printf("  %3s  %-20s  %-20s  %-11s %5s  %-20s %8s %8s %9s\n", "#", "started", "finished",
           "state", "ranks", "hosts", "done", "failed", "wall");
    for (size_t i = 0; i < sg->n; i++) {
        int unclosed = !strcmp(sg->state[i], "running");
        int open = unclosed && i + 1 == sg->n;
        const char *state = open && !live ? "killed?" : unclosed && !open ? "killed" : sg->state[i];
        char w[32], dn[24], fl[24];
        if (unclosed && !open) {
            /* Ended without closing the file: what it did shows in the
             * next segment's start counts. */
            snprintf(w, sizeof w, "-");
            snprintf(dn, sizeof dn, "%" PRId64, sg->done_at_start[i + 1] - sg->done_at_start[i]);
            snprintf(fl, sizeof fl, "%" PRId64,
                     sg->failed_at_start[i + 1] - sg->failed_at_start[i]);
        } else if (open && live) {
            duration((double)time(NULL) - iso_seconds(sg->started[i]), w, sizeof w);
            snprintf(dn, sizeof dn, "%" PRId64,
                     (int64_t)t->count[SHOAL_STATUS_DONE] - sg->done_at_start[i]);
            snprintf(fl, sizeof fl, "%" PRId64,
                     (int64_t)t->count[SHOAL_STATUS_FAILED] - sg->failed_at_start[i]);
        } else if (open) {
            snprintf(w, sizeof w, "-");
            snprintf(dn, sizeof dn, "-");
            snprintf(fl, sizeof fl, "-");
        } else {
            duration(sg->wall[i], w, sizeof w);
            snprintf(dn, sizeof dn, "%" PRId64, sg->tasks_done[i]);
            snprintf(fl, sizeof fl, "%" PRId64, sg->tasks_failed[i]);
        }
        printf("  %3zu  %-20s  %-20s  %-11s %5" PRId64 "  %-20.20s %8s %8s %9s\n", i,
               sg->started[i], sg->finished[i][0] ? sg->finished[i] : "-",
               state, sg->nranks[i], sg->hosts[i], dn, fl, w);
    }
}

int tool_status(const tool_args *a)
{
    shoal_results *r = NULL;
    int rc = tool_open(a->file, &r);
    if (rc)
        return rc;
    tally t = {0};
    segments sg = {0};
    shoal__lock_info lk;
    char *app = tool_attr(r, "app"), *src = tool_attr(r, "config_source");
    char *state = tool_attr(r, "state"), *started = tool_attr(r, "started");
    char *resumed_at = tool_attr(r, "resumed_at"), *finished = tool_attr(r, "finished");
    char *over = tool_attr(r, "overrides"), *version = tool_attr(r, "shoal_version");
    char *stop = tool_attr(r, "stop_reason"); /* a run its results ended */
    double resumed = 0, wall = NAN;
    int lib = !app || !src || !state || !started || !resumed_at || !finished || !over ||
                      !version || !stop
                  ? SHOAL_ENOMEM
                  : 0;
    if (!lib)
        lib = shoal__lock_inspect(a->file, &lk);
    if (!lib)
        lib = read_tasks(r, &t);
    if (!lib)
        lib = read_segments(r, &sg);
    if (lib) {
        rc = lib == SHOAL_ENOMEM ? tool_fail(TOOL_IO, "out of memory reading '%s'", a->file)
                                 : tool_read_failed(a->file, "the task columns");
        goto done;
    }
    shoal_results_attr_double(r, "resumed", &resumed);
    shoal_results_attr_double(r, "wall_seconds", &wall);
    tool_lib_message_clear();
    int live = lk.state == SHOAL__LOCK_ALIVE || lk.state == SHOAL__LOCK_LEASED ||
               lk.state == SHOAL__LOCK_UNCHECKABLE;
    uint64_t n = shoal_results_ntasks(r);
    uint64_t fin = t.count[SHOAL_STATUS_DONE] + t.count[SHOAL_STATUS_FAILED];
    printf("file:      %s\n", a->file);
    printf("app:       %s (Shoal %s)\n", app[0] ? app : "?", version[0] ? version : "?");
    printf("config:    %s", src[0] ? src : "?");
    for (char *o = over, *nl; *o; o = nl + 1) {
        nl = strchr(o, '\n');
        printf(" --set %.*s", nl ? (int)(nl - o) : (int)strlen(o), o);
        if (!nl)
            break;
    }
    printf("\n");
    print_state(a->file, state, &lk, live, &sg);
    printf("tasks:     %" PRIu64 ": %" PRIu64 " done, %" PRIu64 " failed, %" PRIu64
           " running, %" PRIu64 " pending (%.1f%% finished)\n",
           n, t.count[SHOAL_STATUS_DONE], t.count[SHOAL_STATUS_FAILED],
           t.count[SHOAL_STATUS_RUNNING], t.count[SHOAL_STATUS_PENDING],
           n ? 100.0 * (double)fin / (double)n : 100.0);
    if (t.count[SHOAL_STATUS_FAILED])
        printf("           'shoal failures %s' lists the failed tasks\n", a->file);
    double used = NAN;
    if (stop[0] && shoal_results_attr_double(r, "tasks_used", &used) == 0)
        printf("stopped:   %s; the results are tasks 0..%.0f (tasks_used), the rest were "
               "not needed\n", stop, used - 1);
    tool_lib_message_clear();
    const char *since = resumed > 0 && resumed_at[0] ? resumed_at : started;
    if (sg.n)
        since = sg.started[sg.n - 1];
    char d[32];
    printf("started:   %s", started[0] ? started : "?");
    if (resumed > 0)
        printf(" (resumed %.0f time%s, last %s)", resumed, resumed == 1 ? "" : "s", since);
    printf("\n");
    if (live) {
        /* Whole seconds: the start is kept to the second. */
        shoal__eta_format((double)time(NULL) - iso_seconds(since), d, sizeof d);
        printf("wall:      %s so far in this segment\n", d);
        print_rate(&t, &sg, resumed, since);
    } else if (!strcmp(state, "running")) {
        printf("wall:      unknown (the run never closed the file)\n");
    } else if (!isnan(wall)) {
        duration(wall, d, sizeof d);
        printf("wall:      %s (the last segment), finished %s\n", d,
               finished[0] ? finished : "?");
    }
    print_ranks(r, &t, a->opt[0] != NULL, !live && strcmp(state, "running"));
    print_segments(&sg, &t, live);
    if (fflush(stdout) != 0)
        rc = tool_fail(TOOL_IO, "cannot write the status: standard output failed");
done:
    free(t.ranks);
    shoal__eta_free(&t.eta);
    segments_free(&sg);
    free(app);
    free(src);
    free(state);
    free(started);
    free(resumed_at);
    free(finished);
    free(over);
    free(version);
    free(stop);
    shoal_results_close(r);
    return rc;
}
