/* SPDX-License-Identifier: GPL-3.0-or-later */
/* eta.h (internal): how long a run has left, from measured task times.
 *
 * The one place that estimates it. The progress line on rank 0 feeds it the
 * ranges the pool sees finish; `shoal status` feeds it /tasks/status and
 * /tasks/seconds of a file. Pure arithmetic: no MPI, no HDF5, no clock.
 *
 * Tasks differ in cost, and the cost usually follows the index (a scan's
 * slowest-varying parameter: the Ising scan's L = 64 tasks come first and
 * cost 16 times the L = 16 ones). So the index space is cut into
 * SHOAL__ETA_STRATA contiguous strata, and the work left is, per stratum,
 *
 *     (tasks of the stratum still to run) x (mean measured time of its tasks)
 *
 * where any measured task counts (this run's, or on a resume the file's
 * earlier ones), and a stratum with none measured yet takes the mean of the
 * nearest measured strata. The scheduler runs probe tasks spread over the
 * index space early (sched.h), so every part of it is measured soon.
 *
 * The time left is the work left divided by the rate at which this run gets
 * work done: the measured seconds of the tasks it finished per second of
 * wall time since it started. That rate includes how many ranks work and how
 * well they are used, with no model of either. */
#ifndef SHOAL_ETA_H
#define SHOAL_ETA_H

#include <stddef.h>
#include <stdint.h>

#define SHOAL__ETA_STRATA 64

typedef struct {
    uint64_t ntasks;
    uint64_t width;        /* tasks per stratum (the last may have fewer) */
    size_t nstrata;
    uint64_t *left;        /* per stratum: tasks this run has still to run */
    uint64_t *measured;    /* per stratum: tasks with a measured time */
    double *seconds;       /* their summed time */
    uint64_t all_measured; /* over every stratum */
    double all_seconds;
    uint64_t todo;         /* tasks this run set out to run */
    uint64_t finished;     /* of which finished (done or failed) */
    double work_done;      /* their measured time */
} shoal__eta;

/* Strata over tasks 0..ntasks-1; nothing to run yet. SHOAL_ENOMEM on
 * failure. Free with shoal__eta_free (safe on a zeroed struct). */
int shoal__eta_init(shoal__eta *e, uint64_t ntasks);
void shoal__eta_free(shoal__eta *e);

/* This run will run tasks [start, start + count). */
void shoal__eta_todo(shoal__eta *e, uint64_t start, uint64_t count);
/* Tasks [start, start + count) ran before this run, taking `seconds` in all:
 * a sample of their strata's cost, not work of this run. */
void shoal__eta_known(shoal__eta *e, uint64_t start, uint64_t count, double seconds);
/* This run finished tasks [start, start + count) (done or failed) in
 * `seconds` of task time in all (spread evenly over them). */
void shoal__eta_done(shoal__eta *e, uint64_t start, uint64_t count, double seconds);

/* Task-seconds of work left; NaN while no task is measured (0 when nothing
 * is left). */
double shoal__eta_work_left(const shoal__eta *e);
/* Wall seconds left after `elapsed` wall seconds of this run; NaN while it
 * cannot say (nothing measured, or nothing finished by this run yet). */
double shoal__eta_seconds(const shoal__eta *e, double elapsed);
/* Wall seconds left when the run's rate is known only in totals: `work`
 * task-seconds finished in `elapsed` wall seconds (`shoal status` reads
 * them from a file: the seconds of the tasks finished since the segment
 * began, and the time since it began; it feeds every finished task with
 * shoal__eta_known and the unfinished ones with shoal__eta_todo). 0 when
 * nothing is left; NaN while it cannot say (nothing measured, no work or
 * time yet). */
double shoal__eta_seconds_from(const shoal__eta *e, double work, double elapsed);
/* The part of this run's work done, 0..1, by the same estimate (NaN while
 * nothing is measured). */
double shoal__eta_fraction(const shoal__eta *e);

/* A duration for people: "42s", "3m05s", "2h07m", "3d04h"; "?" for NaN or
 * negative values. */
void shoal__eta_format(double seconds, char *buf, size_t n);

#endif
