/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pool_sub.c: a group's sub-master (group_size; pool.h, docs/hierarchy.md).
 *
 * A sub-master is a worker toward rank 0 and a master toward its group.
 * Upward it sends REQUESTs like a worker's, for ranges of gsize shares
 * (weight()), and holds up to two of them: it asks for another as soon as
 * it holds at most one not fully dealt, with one request in flight at a
 * time. Downward it answers its members' REQUESTs with RANGEs cut from
 * what it holds, sized by the same rule over what it holds and its group's
 * timing (shoal__sched_len), never across a big range's end, and runs
 * ranges itself, serving its members between its tasks. A member whose
 * request finds nothing held waits (deferred) until a big range or rank
 * 0's "stop" arrives. Stops travel both ways: one from below or from this
 * rank goes to every member at once (one STOP each) and up with a request
 * sent at once; rank 0's STOP is relayed to every member. It asks rank 0
 * until answered "stop", gives each member its "stop" and STOP, and
 * leaves once it has rank 0's STOP. */
#include <shoal/error.h>

#include "pool_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_span(const void *a, const void *b)
{
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return (x > y) - (x < y);
}

/* Note a finished range (its own or a member's), for the group's timing and
 * for rank 0 (on_range, its timing) with the next request. Without memory
 * for it, only rank 0's progress misses it. */
static void sub_finished(shoal_pool *p, int64_t start, int64_t count, int64_t failed,
                         int64_t busy_ns)
{
    if (count <= 0)
        return;
    shoal__sched_report(&p->loc, (uint64_t)count, (double)busy_ns * 1e-9);
    if (p->up_done)
        return; /* no request will carry it */
    if (p->nspans == p->spans_cap) {
        size_t cap = p->spans_cap ? 2 * p->spans_cap : 64;
        void *n = realloc(p->spans, cap * sizeof *p->spans);
        if (!n)
            return;
        p->spans = n;
        p->spans_cap = cap;
    }
    int64_t *sp = p->spans[p->nspans++];
    sp[0] = start;
    sp[1] = count;
    sp[2] = failed;
    sp[3] = busy_ns;
}

/* Ask rank 0 for a big range: the finished spans (sorted, adjacent ones
 * merged; the first in the header, up to SPANS_MAX after it, the rest
 * next time), the group's failure and stop. */
static void sub_ask(shoal_pool *p)
{
    int64_t *m = p->up_msg;
    memset(m, 0, REQ_LEN * sizeof *m);
    size_t n = 0;
    if (p->nspans) {
        qsort(p->spans, p->nspans, sizeof *p->spans, cmp_span);
        for (size_t i = 1; i < p->nspans; i++) {
            int64_t *a = p->spans[n], *b = p->spans[i];
            if (a[0] + a[1] == b[0]) {
                a[1] += b[1];
                a[2] += b[2];
                a[3] += b[3];
            } else {
                memmove(p->spans[++n], b, sizeof *p->spans);
            }
        }
        p->nspans = n + 1;
    }
    size_t k = p->nspans < 1 + SPANS_MAX ? p->nspans : 1 + SPANS_MAX;
    if (k > 0) {
        m[0] = p->spans[0][1];
        m[1] = p->spans[0][3];
        m[5] = p->spans[0][0];
        m[6] = p->spans[0][2];
        for (size_t i = 1; i < k; i++)
            memcpy(m + REQ_LEN + (i - 1) * SPAN_LEN, p->spans[i], sizeof *p->spans);
        memmove(p->spans, p->spans + k, (p->nspans - k) * sizeof *p->spans);
        p->nspans -= k;
    }
    m[2] = p->up_flags;
    if (p->stopped) {
        m[2] |= SHOAL__REQ_STOPPED;
        m[3] = p->stop_sig;
        m[4] = shoal__pool_deadline_to_wire(p->deadline);
    }
    int len = REQ_LEN + (k > 1 ? (int)(k - 1) * SPAN_LEN : 0);
    MPI_Send(m, len, MPI_INT64_T, 0, SHOAL__TAG_REQUEST, p->comm);
    p->st.messages++;
    MPI_Irecv(p->up_buf, 2, MPI_INT64_T, 0, SHOAL__TAG_RANGE, p->comm, &p->up_req);
}

/* Drop held big ranges that are fully dealt. */
static void sub_pop(shoal_pool *p)
{
    while (p->nbig > 0 && p->big[0][0] >= p->big[0][1]) {
        memmove(p->big[0], p->big[1], (size_t)(p->nbig - 1) * sizeof p->big[0]);
        p->nbig--;
    }
}

/* The next small range to deal (to a member or to this rank); 0: none
 * held, or the group stops. */
static uint64_t sub_take(shoal_pool *p, uint64_t *start)
{
    sub_pop(p);
    *start = 0;
    if (p->nbig == 0 || p->stopped || p->failed)
        return 0;
    uint64_t held = 0;
    for (int i = 0; i < p->nbig; i++)
        held += p->big[i][1] - p->big[i][0];
    uint64_t n = shoal__sched_len(&p->loc, held, 1);
    if (n > p->big[0][1] - p->big[0][0])
        n = p->big[0][1] - p->big[0][0]; /* never across a big range's end */
    *start = p->big[0][0];
    p->big[0][0] += n;
    sub_pop(p);
    return n;
}

/* Answer member w: a small range, or "stop" (with its STOP first) when
 * the group stops or nothing is held and rank 0 has said "stop"; else it
 * waits (deferred) for a big range. */
static void sub_hand(shoal_pool *p, int w)
{
    int i = slot(p, w);
    uint64_t start = 0, n = sub_take(p, &start);
    if (n == 0 && !p->stopped && !p->failed && !p->up_done) {
        if (!p->deferred[i]) {
            p->deferred[i] = 1;
            p->ndeferred++;
        }
        return;
    }
    if (n == 0)
        shoal__pool_tell(p, w, 0);
    MPI_Wait(&p->send_reqs[i], MPI_STATUS_IGNORE);
    int64_t *b = p->send_bufs + (size_t)i * (size_t)p->rlen;
    b[0] = (int64_t)start;
    b[1] = (int64_t)n;
    MPI_Isend(b, 2, MPI_INT64_T, w, SHOAL__TAG_RANGE, p->comm, &p->send_reqs[i]);
    p->st.messages++;
    if (n == 0)
        p->stops_sent++;
}

/* Answer the deferred members that can be answered now. */
static void sub_release(shoal_pool *p)
{
    for (int i = 1; p->ndeferred > 0 && i < p->gsize; i++) {
        if (!p->deferred[i])
            continue;
        p->deferred[i] = 0;
        p->ndeferred--;
        sub_hand(p, p->rank + i);
        if (p->deferred[i])
            return; /* nothing held: the others wait too */
    }
}

/* The group stops early: deal nothing more, drop what is held (it stays
 * unrun), tell every member at once; rank 0 hears of it with the next
 * request, sent at once (sub_progress). */
static void sub_stop(shoal_pool *p, int sig, double deadline, int tell_caller)
{
    if (p->stopped)
        return;
    p->stopped = 1;
    p->stop_sig = sig;
    p->deadline = deadline;
    p->nbig = 0;
    if (tell_caller)
        shoal__pool_notify(p);
    for (int i = 1; i < p->gsize; i++)
        shoal__pool_tell(p, p->rank + i, 1);
    sub_release(p);
}

/* Some rank of the group failed: deal nothing more; rank 0 hears of it
 * with the next request, sent at once. */
static void sub_fail(shoal_pool *p)
{
    p->failed = 1;
    p->up_flags |= SHOAL__REQ_FAILED;
    p->nbig = 0;
    sub_release(p);
}

/* One member's request (in recv_buf). */
static void sub_answer(shoal_pool *p, int src)
{
    const int64_t *r = p->recv_buf;
    if (p->inhand[slot(p, src)]++ == 0)
        p->heard++;
    sub_finished(p, r[5], r[0], r[6], r[1]);
    if (r[2] & SHOAL__REQ_FAILED)
        sub_fail(p);
    if (r[2] & SHOAL__REQ_STOPPED)
        sub_stop(p, (int)r[3], shoal__pool_deadline_from_wire(r[4]), 1);
    sub_hand(p, src);
}

/* Everything that can be done without waiting: this rank's stop, rank 0's
 * STOP and RANGE, members' requests, the next request up. Returns 1 when
 * something arrived. */
static int sub_progress(shoal_pool *p)
{
    int got = 0, flag = 0, sig;
    double deadline;
    if (!p->stopped && shoal__pool_check_stop(p, &sig, &deadline)) {
        sub_stop(p, sig, deadline, 0);
        got = 1;
    }
    if (p->stop_req != MPI_REQUEST_NULL) {
        MPI_Test(&p->stop_req, &flag, MPI_STATUS_IGNORE);
        if (flag) {
            got = 1;
            if (p->stop_buf[0])
                sub_stop(p, (int)p->stop_buf[1], shoal__pool_deadline_from_wire(p->stop_buf[2]), 1);
        }
    }
    if (p->up_req != MPI_REQUEST_NULL) {
        MPI_Test(&p->up_req, &flag, MPI_STATUS_IGNORE);
        if (flag) {
            got = 1;
            if (p->up_buf[1] == 0 && p->up_buf[0] >= 0)
                p->up_done = 1;
            else if (p->up_buf[1] > 0 && !p->stopped && !p->failed && p->nbig < BIG_MAX) {
                p->big[p->nbig][0] = (uint64_t)p->up_buf[0];
                p->big[p->nbig][1] = (uint64_t)(p->up_buf[0] + p->up_buf[1]);
                p->nbig++;
            }
            if (p->ndeferred)
                sub_release(p);
        }
    }
    while (p->recv_req != MPI_REQUEST_NULL) {
        MPI_Status status;
        MPI_Test(&p->recv_req, &flag, &status);
        if (!flag)
            break;
        got = 1;
        sub_answer(p, status.MPI_SOURCE);
        if (p->stops_sent < p->nclients)
            shoal__pool_post_recv(p);
    }
    /* Ask while holding at most one range, and at once when stopping or
     * failing, until rank 0 says "stop". */
    sub_pop(p);
    if (!p->up_done && p->up_req == MPI_REQUEST_NULL &&
        (p->nbig <= 1 || p->stopped || p->failed))
        sub_ask(p);
    return got;
}

double shoal__pool_sub_yield(shoal_pool *p, double now)
{
    if (p->stops_sent >= p->nclients && p->up_done && p->stop_req == MPI_REQUEST_NULL)
        return HUGE_VAL; /* nobody to serve, and it knows how the run ends */
    double every = p->nclients > 0 ? POLL_INTERVAL : WORKER_POLL;
    double since = now - p->last_poll;
    if (since < every)
        return every - since;
    p->last_poll = now;
    sub_progress(p);
    return every;
}

/* Sleep with the back-off until something arrives. Returns seconds waited. */
static double sub_wait(shoal_pool *p)
{
    double t0 = shoal_now();
    long ns = WAIT_SLEEP_MIN_NS;
    for (int i = 0; !sub_progress(p); i++) {
        if (i < WAIT_SPINS)
            continue;
        shoal__pool_sleep(&ns);
    }
    return shoal_now() - t0;
}

/* Before its first task, answer every member's first request (as rank 0
 * does, pool.c): a sub-master busy in one long task would otherwise keep
 * its group waiting that long for its first range. Bounded by
 * SUB_HANDSHAKE_SECONDS in case a member is slow to arrive. */
#define SUB_HANDSHAKE_SECONDS 0.1
static void handshake(shoal_pool *p)
{
    double t0 = shoal_now();
    while ((p->heard < p->nclients || p->ndeferred > 0) && !p->stopped && !p->failed &&
           !(p->up_done && p->nbig == 0) && shoal_now() - t0 < SUB_HANDSHAKE_SECONDS) {
        if (sub_progress(p))
            continue;
        struct timespec ts = {0, WAIT_SLEEP_MIN_NS};
        nanosleep(&ts, NULL);
    }
    p->st.idle_seconds += shoal_now() - t0;
}

int shoal__pool_sub_run(shoal_pool *p, const shoal_pool_config *cfg, shoal_range_fn *fn,
                        void *arg)
{
    int rc = 0, g = p->gsize;
    p->send_reqs = malloc((size_t)g * sizeof *p->send_reqs);
    p->send_bufs = malloc((size_t)g * (size_t)p->rlen * sizeof *p->send_bufs);
    p->stop_reqs = malloc((size_t)g * sizeof *p->stop_reqs);
    p->stop_bufs = malloc((size_t)g * sizeof *p->stop_bufs);
    p->deferred = calloc((size_t)g, 1);
    p->inhand = calloc((size_t)g, sizeof *p->inhand); /* requests heard per member */
    p->up_msg = calloc(REQ_LEN + SPAN_LEN * SPANS_MAX, sizeof *p->up_msg);
    if (!p->send_reqs || !p->send_bufs || !p->stop_reqs || !p->stop_bufs || !p->deferred ||
        !p->inhand || !p->up_msg) {
        /* Without these it can answer neither its group nor rank 0. */
        SHOAL_ERROR(SHOAL_ENOMEM, "sub-master: out of memory for a group of %d ranks", g);
        MPI_Abort(p->comm, 4);
    }
    for (int i = 0; i < g; i++) {
        p->send_reqs[i] = p->stop_reqs[i] = MPI_REQUEST_NULL;
        p->stop_bufs[i][0] = -1; /* not sent */
    }
    shoal__sched_init(&p->loc, 0, g, cfg->target_range_seconds, p->vcap,
                      cfg->first_range_tasks);
    MPI_Irecv(p->stop_buf, STOP_LEN, MPI_INT64_T, 0, SHOAL__TAG_STOP, p->comm, &p->stop_req);
    if (p->nclients > 0)
        shoal__pool_post_recv(p);
    p->last_poll = shoal_now();
    handshake(p);

    for (;;) {
        sub_progress(p);
        uint64_t start, n = 0;
        if (rc == 0)
            n = sub_take(p, &start);
        if (n > 0) {
            double t0 = shoal_now();
            int frc = fn(arg, p, start, n);
            double t1 = shoal_now();
            p->st.busy_seconds += t1 - t0;
            p->st.tasks += n;
            p->st.ranges++;
            sub_finished(p, (int64_t)start, (int64_t)n, (int64_t)p->range_failed,
                         (int64_t)((t1 - t0) * 1e9));
            p->range_failed = 0;
            if (frc == SHOAL_EINTR) {
                int sig;
                double deadline;
                if (!p->stopped && shoal__pool_check_stop(p, &sig, &deadline))
                    sub_stop(p, sig, deadline, 0);
                sub_stop(p, 0, HUGE_VAL, 0); /* if stop_check did not say */
            } else if (frc < 0) {
                rc = frc;
                sub_fail(p);
            }
            continue;
        }
        if (p->stops_sent >= p->nclients && p->up_done && p->up_req == MPI_REQUEST_NULL)
            break;
        p->st.idle_seconds += sub_wait(p);
    }
    /* Rank 0's one STOP message: with its last range or before it. */
    if (p->stop_req != MPI_REQUEST_NULL) {
        p->st.idle_seconds += shoal__pool_wait_backoff(p, &p->stop_req, MPI_STATUS_IGNORE);
        if (p->stop_buf[0] && !p->stopped) {
            p->stopped = 1;
            p->stop_sig = (int)p->stop_buf[1];
            p->deadline = shoal__pool_deadline_from_wire(p->stop_buf[2]);
            shoal__pool_notify(p);
        }
    }
    if (p->recv_req != MPI_REQUEST_NULL) {
        /* Not reached while every member asks until told "stop". */
        MPI_Cancel(&p->recv_req);
        MPI_Wait(&p->recv_req, MPI_STATUS_IGNORE);
    }
    MPI_Waitall(g, p->send_reqs, MPI_STATUSES_IGNORE);
    MPI_Waitall(g, p->stop_reqs, MPI_STATUSES_IGNORE);
    free(p->send_reqs);
    free(p->send_bufs);
    free(p->stop_reqs);
    free(p->stop_bufs);
    free(p->deferred);
    free(p->inhand);
    free(p->up_msg);
    free(p->spans);
    if (rc == 0 && p->failed)
        rc = SHOAL_EINTERNAL; /* a member failed; it reported why */
    if (rc == 0 && p->stopped)
        rc = SHOAL_EINTR;
    return rc;
}
