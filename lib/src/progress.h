/* SPDX-License-Identifier: GPL-3.0-or-later */
/* progress.h (internal): the progress reporter on rank 0.
 *
 * It sees what the pool sees (shoal_pool_config's on_range and on_tick):
 * each finished range with its failures and run time. It keeps counts and
 * the time-left estimate (eta.h) and shows them, without touching MPI or
 * the file:
 *
 *   bar   one line on stderr, drawn again in place at most 4 times a second
 *         (a terminal); log messages clear it and draw it again below them
 *   log   a plain line every `every` seconds (batch logs), and one at the
 *         end if it printed any (a short run's summary says it all)
 *   none  nothing
 *
 *   ising2d: 412/1224 tasks (33.7%), 3 failed | 2.14 tasks/s | 3m12s | ETA 4m50s
 *
 * The counts and percentage are the file's (tasks done before a resume
 * included); the rate and the time left are this run's. */
#ifndef SHOAL_PROGRESS_H
#define SHOAL_PROGRESS_H

#include "cli.h"
#include "eta.h"

#include <stdint.h>

typedef struct {
    const char *name;
    shoal__progress_mode mode; /* BAR, LOG or NONE once started */
    double every;              /* log: seconds between lines */
    double t0, next_draw;
    uint64_t ntasks;           /* tasks in the file */
    int open_ended;            /* a stream: the total is not known */
    uint64_t before_done, before_failed; /* the file's, when this run began */
    uint64_t done, failed;     /* finished by this run */
    shoal__eta eta;
    int eta_ok;
    uint64_t lines;            /* lines drawn */
} shoal__progress;

/* Start on rank 0 at shoal_now() time `now`. mode AUTO becomes BAR when
 * stderr is a terminal, or when the program runs under mpirun on the
 * launcher's node and mpirun's stderr is a terminal; else LOG. Quiet runs
 * (log level below INFO) show nothing. todo/ntodo: the ranges this run will
 * run ({start, count}); NULL: all of 0..ntasks-1. before[4]: the file's
 * counts per status when the run began (NULL: a new file). */
void shoal__progress_start(shoal__progress *p, const char *name, shoal__progress_mode mode,
                           double every, uint64_t ntasks, const uint64_t (*todo)[2],
                           size_t ntodo, const uint64_t *before, double now);
/* A resume: tasks [start, start+count) finished before, in `seconds`. */
void shoal__progress_known(shoal__progress *p, uint64_t start, uint64_t count,
                           double seconds);
/* The pool's callbacks (ctx: the shoal__progress). */
void shoal__progress_range(void *ctx, uint64_t start, uint64_t count, uint64_t failed,
                           double seconds);
void shoal__progress_tick(void *ctx, double now);
/* The run is over, with done and failed tasks in all ranks: the last line
 * (log mode), the live line ended (bar). */
void shoal__progress_end(shoal__progress *p, double now, uint64_t done, uint64_t failed);
void shoal__progress_free(shoal__progress *p);

/* One progress line into buf, from the counts and the estimate. */
void shoal__progress_format(const shoal__progress *p, double now, char *buf, size_t n);

/* log.c: the live line. Show `line` in place of the previous one; end it
 * (keep: leave it and start a new line; else erase it). */
void shoal__log_live(const char *line);
void shoal__log_live_end(int keep);

#endif
