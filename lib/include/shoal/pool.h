/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The master-worker pool: dynamic scheduling of task index ranges over MPI.
 *
 * Rank 0 is the master: it hands out contiguous ranges [start, start+count)
 * of 0..ntasks-1, sized by guided self-scheduling bounded by a target time
 * per range measured from task durations (big ranges early, small at the
 * end). Every rank, the master included, runs ranges through the caller's
 * range function. Workers keep one range in hand and one requested ahead,
 * so the round trip to the master is hidden. Waiting ranks sleep with
 * exponential back-off, so an idle rank costs next to no CPU. The master
 * serves requests between its own tasks: a range function must call
 * shoal_pool_yield() between tasks.
 *
 * With group_size, rank 0 serves sub-masters that serve groups of ranks
 * (a second level of the same protocol, for runs of very many ranks).
 *
 * A run can be stopped early (a signal, say): the caller's stop_check tells
 * the pool, which then hands out nothing more and tells every rank at once
 * (stop_notify), not at its next request, with the deadline by which ranks
 * must be gone.
 *
 * The pool knows nothing about HDF5, tasks or signals: only index ranges. */
#ifndef SHOAL_POOL_H
#define SHOAL_POOL_H

#include <shoal/clock.h>
#include <shoal/export.h>
#include <mpi.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct shoal_pool shoal_pool;

/* Run tasks [start, start+count). Call shoal_pool_yield(pool, now) after each
 * task (now = shoal_now()), or whenever the time it returned has passed.
 * Return 0, or a negative SHOAL_E* code if this rank
 * cannot go on (the pool then stops handing out work everywhere);
 * SHOAL_EINTR if it stopped early because the run is stopping (see
 * stop_check). */
typedef int shoal_range_fn(void *arg, shoal_pool *pool, uint64_t start,
                           uint64_t count);

typedef struct {
    uint64_t ntasks;             /* tasks 0..ntasks-1 */
    double target_range_seconds; /* upper bound of a range's run time (0: 0.05 s) */
    uint64_t max_range_tasks;    /* cap on a range's length (0: 262144) */
    uint64_t first_range_tasks;  /* length before any timing is known (0: 1) */
    int master_idle;             /* 1: rank 0 only schedules (default 0: it also works) */
    /* Optional, read on rank 0 only: run just these ranges {start, count}
     * (sorted, disjoint, within 0..ntasks-1), e.g. the tasks a resumed run
     * still has to do. NULL: all of 0..ntasks-1. */
    const uint64_t (*ranges)[2];
    size_t nranges;
    /* Optional, every rank: an early stop. stop_check(stop_ctx, &deadline)
     * is polled between ranges, in shoal_pool_yield() and while the master
     * waits; it returns 0, or nonzero (the signal number) once this rank has
     * been asked to stop, and then sets *deadline to the shoal_now() time by
     * which the rank must be gone (HUGE_VAL: none). The pool hands out no
     * more ranges and tells every other rank at once: on each,
     * stop_notify(stop_ctx, sig, deadline) runs (from shoal_pool_yield() or
     * between ranges) with the deadline in that rank's own shoal_now() time,
     * and should make its stop_check, and whatever the range function polls
     * between tasks, say "stop" from then on. A range function that sees the
     * stop returns SHOAL_EINTR after the task it is in; tasks not run stay
     * unrun. Every rank then returns SHOAL_EINTR. NULL stop_check: the run
     * never stops early (stop_notify may be NULL too). */
    int (*stop_check)(void *ctx, double *deadline);
    void (*stop_notify)(void *ctx, int sig, double deadline);
    void *stop_ctx;
    /* Optional, rank 0 only: watching the run. on_range(progress_ctx, start,
     * count, failed, seconds) runs on rank 0 for every finished range, its
     * own and each worker's (reported with the worker's next request): the
     * range, how many of its tasks failed (shoal_pool_count_failed) and its
     * run time. on_tick(progress_ctx, now) runs between ranges, from
     * shoal_pool_yield() and while rank 0 waits (at least every few ms of
     * waiting), so it must be cheap when it has nothing to do. */
    void (*on_range)(void *ctx, uint64_t start, uint64_t count, uint64_t failed,
                     double seconds);
    void (*on_tick)(void *ctx, double now);
    void *progress_ctx;
    /* Optional: once the first range's timing shows tasks of a millisecond
     * or more, hand out single tasks spread evenly over the work still to
     * hand out, up to this many (at most 64, and one per 16 tasks left),
     * before the rest in order, so that a cost that varies with the index is
     * measured early everywhere (for the ETA). 0: none. */
    unsigned probes;
    /* Optional: values_width doubles per task that travel to rank 0 with
     * each finished range, in the worker's next request (no extra
     * messages): the range function fills shoal_pool_values(pool) with
     * count * values_width doubles before it returns 0 (a range that
     * returns anything else sends none). on_values(values_ctx, start,
     * count, values) then runs on rank 0 for every range whose values
     * arrive, in arrival order; returning nonzero ends the hand-out: no
     * more ranges go out, ranges already handed out still run, and the
     * run ends normally (0). A range's values are at most 256 KiB: ranges
     * are capped at 32768 / values_width tasks. A worker's last range
     * sends none (no request follows it): whoever needs every task's
     * values reads the rest from where the range function stored them. */
    unsigned values_width;
    int (*on_values)(void *ctx, uint64_t start, uint64_t count, const double *values);
    void *values_ctx;
    /* Optional, rank 0 only: work decided as results come in (a search's
     * next round). available(plan_ctx) says how far tasks may go out now:
     * no task of index >= its value is handed out until a later call says
     * more (it is asked at the start and after every on_values). A worker
     * with nothing to run then waits, without a busy loop, until tasks
     * may go out or the run ends. tag(plan_ctx, start, count, tags), when
     * given, decides a 64-bit tag for each task of a range as it is handed
     * out; the tags travel with the range (at most 4096 tasks per range
     * then) and the range function reads them with shoal_pool_tags(). */
    uint64_t (*available)(void *ctx);
    void (*tag)(void *ctx, uint64_t start, uint64_t count, int64_t *tags);
    void *plan_ctx;
    /* Optional, rank 0 only, for work that arrives while the run goes (a
     * stream). end(plan_ctx), asked with available(), says where the work
     * ends: no task of index >= its value will ever go out (UINT64_MAX:
     * not known yet); once every task below it has run, the run ends.
     * poll_available = 1 also asks both at every tick (see on_tick), so
     * that tasks arriving while ranks wait go out at once: a waiting
     * worker gets them within a few ms, and a waiting rank 0 that runs
     * tasks takes them itself. */
    uint64_t (*end)(void *ctx);
    int poll_available;
    /* Optional: data that travels with each range to the rank that runs
     * it (at most payload_max bytes, rounded up to 8; the same on every
     * rank, pack on rank 0). pack(plan_ctx,
     * start, count, buf, cap, &len), on rank 0, writes the payload of the
     * first tasks of the range into buf (len bytes, at most cap) and
     * returns how many tasks it covers, 1 to count: the rest of the range
     * goes out later. The range function reads it with
     * shoal_pool_payload(). */
    size_t payload_max;
    uint64_t (*pack)(void *ctx, uint64_t start, uint64_t count, void *buf, size_t cap,
                     size_t *len);
    /* 0: flat (default), rank 0 answers every rank. G > 0: groups of G
     * consecutive ranks [kG, (k+1)G); the first rank of each group k >= 1
     * (its sub-master) draws ranges of about G shares from rank 0 and deals
     * them in small ranges to its group, which asks it instead of rank 0,
     * so that rank 0 answers about G times fewer requests. Group 0's ranks
     * ask rank 0 as without groups. Read on rank 0, which decides for every
     * rank: with size <= G, values, tags, a payload, available, end or
     * poll_available (their callbacks act per range on rank 0) the run
     * stays flat, said in one verbose line. Which rank runs which task
     * changes, nothing else. */
    unsigned group_size;
} shoal_pool_config;

typedef struct {
    uint64_t tasks;        /* tasks this rank ran */
    uint64_t ranges;       /* ranges this rank ran */
    double busy_seconds;   /* time inside the range function */
    double idle_seconds;   /* time waiting for a range or for requests */
    double wall_seconds;   /* time inside shoal_pool_run */
    uint64_t messages;     /* MPI messages sent by this rank */
} shoal_pool_stats;

/* Collective over comm. Runs until every task has been handed out and every
 * rank has finished its ranges. Returns 0 on every rank, or on every rank the
 * same negative code if some rank's range function failed (that rank has
 * reported why), or SHOAL_EINTR everywhere after an early stop. stats may be
 * NULL. */
SHOAL_API int shoal_pool_run(MPI_Comm comm, const shoal_pool_config *cfg,
                             shoal_range_fn *fn, void *arg,
                             shoal_pool_stats *stats);

/* Let the master serve requests, and a worker receive a stop (see
 * stop_check); cheap (a compare) when the last call was less than ~20 us
 * (master) or 10 ms (worker) ago. Returns the seconds the caller may run
 * before it needs to call again: HUGE_VAL on a single rank, once every
 * worker has left and on a worker that has been told how the run ends, so
 * a range function may skip the calls until that much time has passed. */
SHOAL_API double shoal_pool_yield(shoal_pool *pool, double now);

/* The buffer a range function fills with its tasks' values (values_width
 * doubles per task, task by task) when the config asks for values; NULL
 * otherwise. */
SHOAL_API double *shoal_pool_values(shoal_pool *pool);

/* The tags of the range being run (one per task), when the config has a
 * tag function; NULL otherwise. */
SHOAL_API const int64_t *shoal_pool_tags(const shoal_pool *pool);

/* The payload of the range being run and its length in bytes, when the
 * config has a pack function; NULL (and *len 0) otherwise. */
SHOAL_API const void *shoal_pool_payload(const shoal_pool *pool, size_t *len);

/* Count n tasks of the range being run as failed (for on_range). */
SHOAL_API void shoal_pool_count_failed(shoal_pool *pool, uint64_t n);

#ifdef __cplusplus
}
#endif

#endif
