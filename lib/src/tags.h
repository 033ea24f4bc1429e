/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tags.h (internal): every MPI tag Shoal uses, in one place. */
#ifndef SHOAL_TAGS_H
#define SHOAL_TAGS_H

enum shoal__tag {
    /* worker -> master: int64[8] {done, busy_ns, flags, sig, deadline_ns,
     * start, failed, nvalues}: the range it finished (done tasks from
     * start, failed of them, in busy_ns), done 0 for none; then, with
     * values_width w, nvalues * w doubles (the range's values, 0 or done
     * tasks' worth). From a group's sub-master to rank 0 (no values then),
     * further finished spans may follow the header: int64[4] {start,
     * count, failed, busy_ns} each, at most 32 (pool_impl.h). A member
     * of a group sends to its sub-master, which answers like rank 0. */
    SHOAL__TAG_REQUEST = 7101,
    /* master -> worker: int64[2] {start, count}; count 0 = stop */
    SHOAL__TAG_RANGE = 7102,
    /* master -> worker, exactly one per worker and run: int64[3] {stopped,
     * sig, deadline_ns}; sent as soon as the run stops early (stopped 1),
     * else just before the worker's last RANGE (stopped 0) */
    SHOAL__TAG_STOP = 7103
};

/* Flags in a request. */
enum {
    SHOAL__REQ_FAILED = 1,  /* this rank cannot go on: stop, run failed */
    SHOAL__REQ_STOPPED = 2  /* this rank was asked to stop: stop, resumable */
};

/* deadline_ns: CLOCK_REALTIME nanoseconds, 0 for none. Wall time, not the
 * monotonic clock, so that ranks on different nodes agree on it. */

#endif
