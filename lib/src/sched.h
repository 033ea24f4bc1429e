/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sched.h (internal): range scheduling as pure logic, no MPI.
 *
 * The master's scheduler hands out contiguous ranges of 0..ntasks-1. The
 * length of the next range is
 *
 *     min( ceil(remaining / (2 * nranks)),         guided self-scheduling
 *          target_seconds / mean task seconds,    bounded time per range
 *          max_tasks )                            bounded buffers
 *
 * and at least 1; before any timing is known it is first_tasks. Big ranges
 * early keep per-task overhead near zero; short ones at the end balance the
 * last tasks across ranks. Timing comes from the reports of finished ranges.
 *
 * The work is 0..ntasks-1, or (resume) a sorted list of disjoint index
 * ranges; "remaining" then counts the tasks of the list not handed out, and
 * no range handed out crosses the end of a listed one.
 *
 * With groups (pool.c), rank 0 hands a sub-master ranges of w shares of
 * the rule (next_w), and the sub-master deals them in ranges of one share
 * sized by the same rule over what it holds (len).
 *
 * Probes (optional): when the first timing report shows tasks of at least
 * min_seconds, the next ranges are single tasks spread evenly over the
 * tasks not yet handed out (at quantiles (k + 1/2) / K of them), so that a
 * cost varying with the index is measured everywhere early (eta.h); then
 * the rest goes out in order as before, skipping the probed tasks. Every
 * task is still handed out exactly once. */
#ifndef SHOAL_SCHED_H
#define SHOAL_SCHED_H

#include <stddef.h>
#include <stdint.h>

/* Default max_tasks. Each range costs its rank some 70 us outside the tasks
 * (status marks, one HDF5 write per column): at 2 ranks of empty tasks,
 * ranges of 4096 / 16384 / 65536 / 95000 tasks gave 6.3 / 9.3 / 12.3 /
 * 12.8e7 tasks/s. The 2 MiB bound on a rank's row buffers (app.c) caps it
 * further for wide rows. */
#define SHOAL__SCHED_MAX_TASKS 262144
#define SHOAL__SCHED_MAX_PROBES 64
#define SHOAL__SCHED_PROBE_EVERY 16 /* at most one probe per this many tasks */

typedef struct {
    uint64_t ntasks;        /* tasks to hand out in all */
    uint64_t handed;        /* tasks handed out so far */
    uint64_t next;          /* first index not handed out in the current list range */
    const uint64_t (*list)[2]; /* NULL, or {start, count} ranges */
    size_t nlist, cur;      /* the list and the range being handed out */
    int nranks;             /* ranks that run tasks */
    double target_seconds;  /* wanted run time of one range */
    uint64_t max_tasks;
    uint64_t first_tasks;   /* length while no timing is known */
    uint64_t timed_tasks;   /* tasks reported so far */
    double timed_seconds;   /* their total run time */
    int stopped;            /* no more ranges will be handed out */
    uint64_t limit;         /* no index from here on goes out yet (UINT64_MAX: none) */
    uint64_t end;           /* no index from here on ever goes out (UINT64_MAX: none) */
    unsigned probes_wanted; /* 0: no probes */
    int probes_decided;     /* the first timing came and was looked at */
    double probe_min_seconds;
    uint64_t probe[SHOAL__SCHED_MAX_PROBES]; /* sorted task indices */
    unsigned nprobes, probes_handed, probe_skip; /* probe_skip: first not passed */
} shoal__sched;

void shoal__sched_init(shoal__sched *s, uint64_t ntasks, int nranks,
                       double target_seconds, uint64_t max_tasks,
                       uint64_t first_tasks);
/* Hand out only these ranges (sorted, disjoint, {start, count}); the list
 * must outlive s. Call after init. */
void shoal__sched_set_list(shoal__sched *s, const uint64_t (*list)[2],
                           size_t n);
/* Probe with up to `probes` single tasks (at most SHOAL__SCHED_MAX_PROBES)
 * once the mean task time is known to be at least min_seconds. Call after
 * init and set_list, before the first next. */
void shoal__sched_set_probes(shoal__sched *s, unsigned probes, double min_seconds);
/* Next range; returns its length (0: nothing left) and sets *start. */
uint64_t shoal__sched_next(shoal__sched *s, uint64_t *start);
/* Next range for a rank that stands for w ranks (a group's sub-master,
 * pool.c): the rule above with w shares, min(ceil(remaining * w / (2 *
 * nranks)), w * target / mean, w * max_tasks), at least 1. Probes still go
 * out one task at a time and no range crosses a listed range's end.
 * next(s, start) is next_w(s, 1, start). */
uint64_t shoal__sched_next_w(shoal__sched *s, uint64_t w, uint64_t *start);
/* The rule alone: the length of a range for w shares of `remaining` tasks
 * under s's rank count, timing and caps (1..remaining; 0 when remaining
 * is 0). A sub-master sizes the small ranges it deals with it, over the
 * tasks it holds, using a scheduler of its own for the group's timing. */
uint64_t shoal__sched_len(const shoal__sched *s, uint64_t remaining, uint64_t w);
/* Account a finished range of `tasks` tasks that took `seconds`. */
void shoal__sched_report(shoal__sched *s, uint64_t tasks, double seconds);
/* Stop handing out ranges (a rank failed or the run is interrupted). */
void shoal__sched_stop(shoal__sched *s);
/* Hand out no index >= limit for now (tasks decided later, e.g. a search's
 * next round); next() then returns 0 without the schedule being over. */
void shoal__sched_set_limit(shoal__sched *s, uint64_t limit);
/* No task of index >= end will ever be handed out (the work ends there);
 * it also becomes the limit when that is beyond it. Tasks below the limit
 * must not have gone out beyond end. */
void shoal__sched_set_end(shoal__sched *s, uint64_t end);
/* Give back the last k tasks of the range next() just returned (k smaller
 * than its length): they go out again next. */
void shoal__sched_unget(shoal__sched *s, uint64_t k);
/* 1 when next() would return a range now. */
int shoal__sched_ready(shoal__sched *s);
/* 1 when nothing is left to hand out, ever (all handed out, or stopped). */
int shoal__sched_exhausted(const shoal__sched *s);

#endif
