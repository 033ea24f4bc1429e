/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pool.c: the master-worker loop over index ranges.
 *
 * Protocol (tags in tags.h): a worker sends REQUEST {tasks done, busy ns,
 * flags} and gets RANGE {start, count}; count 0 means stop. A worker always
 * has exactly one request outstanding while it runs a range (prefetch), so it
 * rarely waits; after the stop reply it has none, and leaves. The master
 * counts stop replies: when every worker has had one and its own work is
 * done, the loop ends, followed by one MPI_Allreduce so every rank returns
 * the same status.
 *
 * The master runs ranges too (unless master_idle) and serves requests from
 * shoal_pool_yield() between its tasks, at most every POLL_INTERVAL seconds.
 * Waiting uses MPI_Test followed by nanosleep with exponential back-off, so
 * an idle rank sleeps instead of spinning on a core another rank needs.
 *
 * An early stop (the caller's stop_check, e.g. a signal) on any rank ends
 * the handing out: a worker that sees it runs no further range and says so,
 * with its signal and deadline, in its next request; the master then answers
 * every request with "stop" and tells every worker at once with a STOP
 * message, which a worker receives in shoal_pool_yield() between its tasks,
 * so that it stops after the task it is in rather than after its range and
 * the one it prefetched. Every worker gets exactly one STOP message per run
 * (stopped 0 with its last range when the run ends normally), so none stays
 * unreceived. The deadline travels as wall-clock time (tags.h) and is
 * converted to and from each rank's monotonic clock. Every rank returns
 * SHOAL_EINTR.
 *
 * Groups (group_size): rank 0 decides at the start of each run whether
 * they are used and broadcasts it. Then rank 0 answers group 0's ranks
 * and one sub-master per further group, whose ranges it sizes for the
 * group (sched.h, next_w); a sub-master (pool_sub.c) answers its group
 * with the same messages, so a worker only needs to know whom to ask.
 * A sub-master's REQUEST may carry more finished spans after its header
 * (tags.h). The state and shared helpers are in pool_impl.h. */
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/pool.h>

#include "pool_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>



/* Rank 0: does rank w ask it (group 0's ranks and the sub-masters)? */
static int is_client(const shoal_pool *p, int w) { return !p->G || w < p->G || w % p->G == 0; }

/* Rank 0: how many ranks client w stands for (its group's size). */
static uint64_t weight(const shoal_pool *p, int w)
{
    if (!p->G || w < p->G)
        return 1;
    return (uint64_t)(p->size - w < p->G ? p->size - w : p->G);
}

/* ---- the deadline on the wire ------------------------------------------------ */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A shoal_now() deadline as CLOCK_REALTIME nanoseconds (0: none). */
int64_t shoal__pool_deadline_to_wire(double deadline)
{
    if (!(deadline < HUGE_VAL))
        return 0;
    double wall = wall_now() + (deadline - shoal_now());
    return wall > 0 ? (int64_t)(wall * 1e9) : 1;
}

double shoal__pool_deadline_from_wire(int64_t ns)
{
    if (ns <= 0)
        return HUGE_VAL;
    return shoal_now() + ((double)ns * 1e-9 - wall_now());
}

/* ---- watching (rank 0) --------------------------------------------------------- */

static void seen_range(shoal_pool *p, uint64_t start, uint64_t count, uint64_t failed,
                       double seconds)
{
    if (p->cfg->on_range && count > 0)
        p->cfg->on_range(p->cfg->progress_ctx, start, count, failed, seconds);
}

static void release(shoal_pool *p);
static void refresh_limit(shoal_pool *p);
static void send_wait(shoal_pool *p, int w);

static void tick(shoal_pool *p, double now)
{
    if (p->cfg->on_tick)
        p->cfg->on_tick(p->cfg->progress_ctx, now);
    if (p->cfg->poll_available && !p->finished && !p->failed && !p->stopped) {
        refresh_limit(p);
        if (p->ndeferred)
            release(p); /* tasks that arrived go to the waiting workers */
        /* Workers that waited long: "wait", and ask again. */
        for (int w = 1; p->ndeferred > 0 && w < p->size; w++)
            if (p->deferred[w] && now - p->deferred_at[w] > DEFER_MAX_SECONDS) {
                p->deferred[w] = 0;
                p->ndeferred--;
                send_wait(p, w);
            }
    }
}

void shoal_pool_count_failed(shoal_pool *p, uint64_t n) { p->range_failed += n; }

double *shoal_pool_values(shoal_pool *p) { return p->vals; }

const int64_t *shoal_pool_tags(const shoal_pool *p) { return p->curtags; }

const void *shoal_pool_payload(const shoal_pool *p, size_t *len)
{
    if (len)
        *len = p->curpay ? p->curpay_len : 0;
    return p->curpay;
}

/* Rank 0: how far tasks may go out now (cfg->available), and where the
 * work ends (cfg->end). */
static void refresh_limit(shoal_pool *p)
{
    if (p->cfg->end)
        shoal__sched_set_end(&p->sched, p->cfg->end(p->cfg->plan_ctx));
    if (p->cfg->available)
        shoal__sched_set_limit(&p->sched, p->cfg->available(p->cfg->plan_ctx));
}

/* Rank 0: pack the payload of range [start, start + *n) into words (a
 * length word, then the bytes); the tasks it does not cover go back to
 * the schedule. Returns the words used. */
static int pack_range(shoal_pool *p, uint64_t start, uint64_t *n, int64_t *words)
{
    size_t len = 0, cap = (size_t)(p->pwords - 1) * sizeof(int64_t);
    uint64_t got = p->cfg->pack ? p->cfg->pack(p->cfg->plan_ctx, start, *n, words + 1, cap, &len)
                                : *n;
    if (got < 1)
        got = 1;
    if (got < *n)
        shoal__sched_unget(&p->sched, *n - got);
    *n = got;
    words[0] = (int64_t)(len < cap ? len : cap);
    return 1 + (int)((words[0] + 7) / 8);
}

/* Rank 0: a finished range's values. on_values may end the hand-out (> 0)
 * or fail the run (< 0). */
static void deliver(shoal_pool *p, uint64_t start, uint64_t count, const double *v)
{
    if (!p->cfg->on_values || count == 0 || p->finished || p->failed)
        return;
    int rc = p->cfg->on_values(p->cfg->values_ctx, start, count, v);
    if (rc > 0)
        p->finished = 1;
    else if (rc < 0)
        p->failed = 1;
    if (rc != 0)
        shoal__sched_stop(&p->sched);
    else
        refresh_limit(p);
}

/* ---- stopping early ----------------------------------------------------------- */

/* Ask the caller's stop_check: nonzero once this rank must stop. */
int shoal__pool_check_stop(shoal_pool *p, int *sig, double *deadline)
{
    *sig = 0;
    *deadline = HUGE_VAL;
    if (!p->cfg->stop_check)
        return 0;
    *sig = p->cfg->stop_check(p->cfg->stop_ctx, deadline);
    return *sig != 0;
}

void shoal__pool_notify(shoal_pool *p)
{
    if (p->cfg->stop_notify)
        p->cfg->stop_notify(p->cfg->stop_ctx, p->stop_sig, p->deadline);
}

/* Master: send worker w its one STOP message, unless it had it. */
void shoal__pool_tell(shoal_pool *p, int w, int stopped)
{
    int i = slot(p, w);
    if (p->stop_bufs[i][0] >= 0)
        return;
    p->stop_bufs[i][0] = stopped;
    p->stop_bufs[i][1] = stopped ? p->stop_sig : 0;
    p->stop_bufs[i][2] = stopped ? shoal__pool_deadline_to_wire(p->deadline) : 0;
    MPI_Isend(p->stop_bufs[i], STOP_LEN, MPI_INT64_T, w, SHOAL__TAG_STOP,
              p->comm, &p->stop_reqs[i]);
    p->st.messages++;
}

/* Master: the run stops early. Hand out nothing more, tell every worker
 * still at work, and this rank's caller when the stop came from a worker. */
static void master_stop(shoal_pool *p, int sig, double deadline, int from_worker)
{
    if (p->stopped)
        return;
    p->stopped = 1;
    p->stop_sig = sig;
    p->deadline = deadline;
    shoal__sched_stop(&p->sched);
    if (from_worker)
        shoal__pool_notify(p);
    if (p->stop_reqs)
        for (int w = 1; w < p->size; w++)
            if (is_client(p, w))
                shoal__pool_tell(p, w, 1);
    if (p->deferred)
        release(p); /* the deferred workers' answer is "stop" now */
}

/* Master: has this rank been asked to stop? */
static void master_check(shoal_pool *p)
{
    int sig;
    double deadline;
    if (!p->stopped && shoal__pool_check_stop(p, &sig, &deadline))
        master_stop(p, sig, deadline, 0);
}

/* Worker: the STOP message, if it has come. */
static void worker_poll(shoal_pool *p)
{
    if (p->stop_req == MPI_REQUEST_NULL)
        return;
    int flag = 0;
    MPI_Test(&p->stop_req, &flag, MPI_STATUS_IGNORE);
    if (!flag || !p->stop_buf[0] || p->stopped)
        return;
    p->stopped = 1;
    p->stop_sig = (int)p->stop_buf[1];
    p->deadline = shoal__pool_deadline_from_wire(p->stop_buf[2]);
    shoal__pool_notify(p);
}

/* Worker: has this rank been asked to stop, by its caller or the master? */
static int worker_stopped(shoal_pool *p)
{
    int sig;
    double deadline;
    if (!p->stopped && shoal__pool_check_stop(p, &sig, &deadline)) {
        p->stopped = 1;
        p->stop_sig = sig;
        p->deadline = deadline;
    }
    if (!p->stopped)
        worker_poll(p);
    return p->stopped;
}

/* Sleep *ns, then double it for the next sleep, up to WAIT_SLEEP_MAX_NS:
 * the back-off of every wait in the pool. */
void shoal__pool_sleep(long *ns)
{
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    if (*ns < WAIT_SLEEP_MAX_NS)
        *ns = *ns * 2 > WAIT_SLEEP_MAX_NS ? WAIT_SLEEP_MAX_NS : *ns * 2;
}

/* Wait for r to complete without burning a core; st may be
 * MPI_STATUS_IGNORE. On the master, a stop is looked for at every wake-up,
 * so that workers hear of it even while the master has nothing to do.
 * Returns seconds waited. */
double shoal__pool_wait_backoff(shoal_pool *p, MPI_Request *r, MPI_Status *st)
{
    int flag = 0;
    double t0 = shoal_now();
    long ns = WAIT_SLEEP_MIN_NS;
    for (int i = 0; i < WAIT_SPINS; i++) {
        MPI_Test(r, &flag, st);
        if (flag)
            return shoal_now() - t0;
    }
    for (;;) {
        shoal__pool_sleep(&ns);
        MPI_Test(r, &flag, st);
        if (flag)
            break;
        if (p && p->is_master && p->stop_reqs)
            master_check(p);
        if (p && p->is_master)
            tick(p, shoal_now());
    }
    return shoal_now() - t0;
}

/* Master with nothing of its own to run: wait like wait_backoff for a
 * worker's request, but with work that arrives while the run goes
 * (poll_available), also return (*asked = 0) once tasks may go out and
 * this rank runs tasks, or once the work has ended and no worker is left
 * to ask. */
static double wait_idle(shoal_pool *p, MPI_Status *st, int *asked)
{
    int nworkers = p->nclients;
    *asked = 1;
    if (!p->cfg->poll_available && nworkers > 0)
        return shoal__pool_wait_backoff(p, &p->recv_req, st);
    double t0 = shoal_now();
    long ns = WAIT_SLEEP_MIN_NS;
    for (int i = 0;; i++) {
        int flag = 0;
        if (p->stops_sent < nworkers) {
            MPI_Test(&p->recv_req, &flag, st);
            if (flag)
                break;
        }
        master_check(p);
        tick(p, shoal_now());
        if ((p->works && shoal__sched_ready(&p->sched)) ||
            (nworkers == 0 && shoal__sched_exhausted(&p->sched)) ||
            (nworkers > 0 && p->stops_sent >= nworkers)) { /* released, and the last told */
            *asked = 0;
            break;
        }
        if (i < WAIT_SPINS)
            continue;
        shoal__pool_sleep(&ns);
    }
    return shoal_now() - t0;
}

/* ---- master ---------------------------------------------------------------- */

void shoal__pool_post_recv(shoal_pool *p)
{
    MPI_Irecv(p->recv_buf, p->recv_len, MPI_INT64_T, MPI_ANY_SOURCE, SHOAL__TAG_REQUEST,
              p->comm, &p->recv_req);
}

/* Send worker w its next range: its tasks, or "stop" (count 0) when
 * nothing is left ever. When tasks exist but may not go out yet
 * (cfg->available), a worker that still holds a range is told "wait"
 * ({-1, 0}: run what you have, then ask again with its values), and one
 * that holds none waits here, deferred, until tasks may go out: it has
 * sent every value it had, so nothing it owes can be what they wait for. */
static void hand(shoal_pool *p, int w)
{
    uint64_t start = 0;
    uint64_t n = shoal__sched_next_w(&p->sched, weight(p, w), &start);
    int wait = n == 0 && !shoal__sched_exhausted(&p->sched);
    if (wait && p->inhand[w] == 0) {
        if (!p->deferred[w]) {
            p->deferred[w] = 1;
            p->deferred_at[w] = shoal_now();
            p->ndeferred++;
        }
        return;
    }
    if (n == 0 && !wait)
        shoal__pool_tell(p, w, 0); /* its last range: the STOP is due now */
    MPI_Wait(&p->send_reqs[w], MPI_STATUS_IGNORE);
    int64_t *b = p->send_bufs + (size_t)w * (size_t)p->rlen;
    b[0] = wait ? -1 : (int64_t)start;
    b[1] = (int64_t)n;
    int len = 2;
    if (n > 0 && p->pwords)
        len = p->poff + pack_range(p, start, &n, b + p->poff);
    b[1] = (int64_t)n;
    if (n > 0 && p->tcap) {
        p->cfg->tag(p->cfg->plan_ctx, start, n, b + 2);
        if (!p->pwords)
            len += (int)n;
    }
    MPI_Isend(b, len, MPI_INT64_T, w, SHOAL__TAG_RANGE, p->comm, &p->send_reqs[w]);
    p->st.messages++;
    if (n > 0)
        p->inhand[w]++;
    else if (!wait)
        p->stops_sent++;
}

/* Tell worker w, which holds no range, to ask again ({-1, 0}). */
static void send_wait(shoal_pool *p, int w)
{
    MPI_Wait(&p->send_reqs[w], MPI_STATUS_IGNORE);
    int64_t *b = p->send_bufs + (size_t)w * (size_t)p->rlen;
    b[0] = -1;
    b[1] = 0;
    MPI_Isend(b, 2, MPI_INT64_T, w, SHOAL__TAG_RANGE, p->comm, &p->send_reqs[w]);
    p->st.messages++;
}

/* Answer the deferred workers whose tasks may go out now (or who are told
 * to stop). */
static void release(shoal_pool *p)
{
    for (int w = 1; p->ndeferred > 0 && w < p->size; w++) {
        if (!p->deferred[w])
            continue;
        p->deferred[w] = 0;
        p->ndeferred--;
        double since = p->deferred_at[w];
        hand(p, w);
        if (p->deferred[w]) {
            p->deferred_at[w] = since; /* still the same request */
            return; /* nothing may go out yet: the others wait too */
        }
    }
}

/* Answer one request from worker src (recv_buf holds it). After a stop,
 * the answer is "stop", also when the stop reached this rank only now. */
static void answer(shoal_pool *p, const MPI_Status *status)
{
    int src = status->MPI_SOURCE;
    master_check(p);
    shoal__sched_report(&p->sched, (uint64_t)p->recv_buf[0],
                        (double)p->recv_buf[1] * 1e-9);
    seen_range(p, (uint64_t)p->recv_buf[5], (uint64_t)p->recv_buf[0],
               (uint64_t)p->recv_buf[6], (double)p->recv_buf[1] * 1e-9);
    if (p->G && src >= p->G) {
        /* A sub-master's further finished spans (no values with groups). */
        int words = 0;
        MPI_Get_count(status, MPI_INT64_T, &words);
        for (int k = 0; REQ_LEN + (k + 1) * SPAN_LEN <= words && k < SPANS_MAX; k++) {
            const int64_t *sp = p->recv_buf + REQ_LEN + k * SPAN_LEN;
            shoal__sched_report(&p->sched, (uint64_t)sp[1], (double)sp[3] * 1e-9);
            seen_range(p, (uint64_t)sp[0], (uint64_t)sp[1], (uint64_t)sp[2],
                       (double)sp[3] * 1e-9);
        }
    }
    uint64_t nv = (uint64_t)p->recv_buf[7];
    if (nv > 0 && nv <= p->vcap && p->vw > 0) {
        memcpy(p->rvals, p->recv_buf + REQ_LEN, (size_t)(nv * p->vw) * sizeof(double));
        deliver(p, (uint64_t)p->recv_buf[5], nv, p->rvals);
    }
    if (p->recv_buf[2] & SHOAL__REQ_FAILED) {
        p->failed = 1;
        shoal__sched_stop(&p->sched);
    }
    if (p->recv_buf[2] & SHOAL__REQ_STOPPED)
        master_stop(p, (int)p->recv_buf[3],
                    shoal__pool_deadline_from_wire(p->recv_buf[4]), 1);
    if (p->recv_buf[0] > 0 && p->inhand[src] > 0)
        p->inhand[src]--; /* it finished a range */
    hand(p, src);
    release(p);
}

/* Serve every request that has arrived; never blocks. */
static void serve(shoal_pool *p)
{
    master_check(p); /* tell the workers even if none asks */
    for (;;) {
        int flag = 0;
        MPI_Status status;
        MPI_Test(&p->recv_req, &flag, &status);
        if (!flag)
            return;
        answer(p, &status);
        if (p->stops_sent < p->nclients)
            shoal__pool_post_recv(p);
        else
            return; /* every worker has left: no receive stays posted */
    }
}

double shoal_pool_yield(shoal_pool *p, double now)
{
    if (p->is_sub)
        return shoal__pool_sub_yield(p, now);
    if (!p->is_master) {
        if (p->stop_req == MPI_REQUEST_NULL || p->stopped)
            return HUGE_VAL; /* it knows how the run ends */
        double since = now - p->last_poll;
        if (since < WORKER_POLL)
            return WORKER_POLL - since;
        p->last_poll = now;
        worker_stopped(p);
        return p->stopped ? HUGE_VAL : WORKER_POLL;
    }
    if (p->nclients == 0 || p->stops_sent >= p->nclients)
        return HUGE_VAL; /* nobody to serve, now or later */
    double since = now - p->last_poll;
    if (since < POLL_INTERVAL)
        return POLL_INTERVAL - since;
    p->last_poll = now;
    serve(p);
    tick(p, now);
    return POLL_INTERVAL;
}

/* Before the master starts a task of its own, answer every worker's first
 * request: a master busy in one long task would otherwise keep the workers
 * waiting for their first work for that long. Only the first: answering the
 * prefetch too would hand a small run's every task to the workers. Bounded
 * by HANDSHAKE_SECONDS in case a worker is slow to arrive. */
#define HANDSHAKE_SECONDS 0.1
static void handshake(shoal_pool *p, int nworkers)
{
    int *answers = calloc((size_t)p->size, sizeof *answers);
    if (!answers)
        return; /* only an optimisation */
    int settled = 0;
    double t0 = shoal_now();
    while (settled < nworkers && p->stops_sent < nworkers &&
           shoal_now() - t0 < HANDSHAKE_SECONDS) {
        int flag = 0;
        MPI_Status status;
        MPI_Test(&p->recv_req, &flag, &status);
        if (!flag) {
            struct timespec ts = {0, WAIT_SLEEP_MIN_NS};
            nanosleep(&ts, NULL);
            continue;
        }
        int src = status.MPI_SOURCE;
        int stops_before = p->stops_sent;
        answer(p, &status);
        /* Settled: a range in hand, or stopped. */
        if (++answers[src] == 1 || p->stops_sent > stops_before)
            settled++;
        if (p->stops_sent < nworkers)
            shoal__pool_post_recv(p);
    }
    p->st.idle_seconds += shoal_now() - t0;
    free(answers);
}

static int run_master(shoal_pool *p, const shoal_pool_config *cfg,
                      shoal_range_fn *fn, void *arg)
{
    int nworkers = p->nclients;
    int works = !cfg->master_idle || p->size == 1;
    p->works = works;
    int rc = 0;
    /* Every rank but an idle rank 0 runs tasks, sub-masters' groups too. */
    shoal__sched_init(&p->sched, cfg->ntasks, p->size - 1 + works,
                      cfg->target_range_seconds, p->vcap, cfg->first_range_tasks);
    if (cfg->ranges)
        shoal__sched_set_list(&p->sched, cfg->ranges, cfg->nranges);
    if (cfg->probes)
        shoal__sched_set_probes(&p->sched, cfg->probes, PROBE_MIN_SECONDS);
    refresh_limit(p);
    if (nworkers > 0) {
        p->send_reqs = malloc((size_t)p->size * sizeof *p->send_reqs);
        p->send_bufs = malloc((size_t)p->size * (size_t)p->rlen * sizeof *p->send_bufs);
        p->stop_reqs = malloc((size_t)p->size * sizeof *p->stop_reqs);
        p->stop_bufs = malloc((size_t)p->size * sizeof *p->stop_bufs);
        p->inhand = calloc((size_t)p->size, sizeof *p->inhand);
        p->deferred = calloc((size_t)p->size, 1);
        p->deferred_at = calloc((size_t)p->size, sizeof *p->deferred_at);
        if (!p->send_reqs || !p->send_bufs || !p->stop_reqs || !p->stop_bufs || !p->inhand ||
            !p->deferred || !p->deferred_at) {
            /* Without these the master cannot answer anyone: the run
             * cannot continue on any rank. */
            SHOAL_ERROR(SHOAL_ENOMEM, "master: out of memory for %d workers", nworkers);
            MPI_Abort(p->comm, 4);
        }
        for (int i = 0; i < p->size; i++) {
            p->send_reqs[i] = p->stop_reqs[i] = MPI_REQUEST_NULL;
            p->stop_bufs[i][0] = -1; /* not sent */
        }
        shoal__pool_post_recv(p);
        if (works)
            handshake(p, nworkers);
    }
    p->last_poll = shoal_now();

    for (;;) {
        uint64_t start, n = 0;
        /* A stop here (or one a worker reported) ends the handing out. */
        master_check(p);
        /* Answer waiting workers before starting a range of our own. */
        if (nworkers > 0 && p->stops_sent < nworkers)
            serve(p);
        if (works && rc == 0)
            n = shoal__sched_next(&p->sched, &start);
        if (n > 0) {
            if (p->pwords) {
                pack_range(p, start, &n, p->rbuf + p->poff);
                p->curpay = p->rbuf + p->poff + 1;
                p->curpay_len = (size_t)p->rbuf[p->poff];
            }
            if (p->tcap) {
                cfg->tag(cfg->plan_ctx, start, n, p->rbuf);
                p->curtags = p->rbuf;
            }
            double t0 = shoal_now();
            int frc = fn(arg, p, start, n);
            double t1 = shoal_now();
            p->st.busy_seconds += t1 - t0;
            p->st.tasks += n;
            p->st.ranges++;
            shoal__sched_report(&p->sched, n, t1 - t0);
            seen_range(p, start, n, p->range_failed, t1 - t0);
            p->range_failed = 0;
            if (frc == 0 && p->vw)
                deliver(p, start, n, p->vals);
            tick(p, t1);
            if (frc == SHOAL_EINTR) {
                master_check(p);
                master_stop(p, 0, HUGE_VAL, 0); /* if stop_check did not say */
            } else if (frc < 0) {
                rc = frc;
                shoal__sched_stop(&p->sched);
            }
            if (p->deferred)
                release(p); /* its values may have let tasks go out */
            if (nworkers > 0 && p->stops_sent < nworkers)
                serve(p);
            continue;
        }
        if (nworkers == 0 && rc == 0 && !shoal__sched_exhausted(&p->sched) &&
            !cfg->poll_available) {
            /* Alone, with tasks that may not go out yet: nothing can come
             * that would let them. */
            rc = SHOAL_ERROR(SHOAL_EINTERNAL, "pool: tasks remain, none may go out, and no "
                             "rank is running any (available() did not advance)");
            shoal__sched_stop(&p->sched);
        }
        if (p->stops_sent >= nworkers && (nworkers > 0 || rc != 0 || !cfg->poll_available ||
                                          shoal__sched_exhausted(&p->sched)))
            break;
        /* Nothing of our own to run: sleep until a worker asks (or,
         * with work arriving, until some may go out to this rank). */
        MPI_Status status;
        int asked = 1;
        p->st.idle_seconds += wait_idle(p, &status, &asked);
        if (!asked)
            continue;
        answer(p, &status);
        if (p->stops_sent < nworkers)
            shoal__pool_post_recv(p);
    }
    if (p->recv_req != MPI_REQUEST_NULL) {
        /* Not reached while every client asks until told "stop"; a receive
         * left posted would outlive its buffer. */
        MPI_Cancel(&p->recv_req);
        MPI_Wait(&p->recv_req, MPI_STATUS_IGNORE);
    }
    if (nworkers > 0) {
        MPI_Waitall(p->size, p->send_reqs, MPI_STATUSES_IGNORE);
        MPI_Waitall(p->size, p->stop_reqs, MPI_STATUSES_IGNORE);
        free(p->send_reqs);
        free(p->send_bufs);
        free(p->stop_reqs);
        free(p->stop_bufs);
        free(p->inhand);
        free(p->deferred);
        free(p->deferred_at);
    }
    if (rc == 0 && p->failed)
        rc = SHOAL_EINTERNAL; /* a worker (or on_values) failed; it reported why */
    if (rc == 0 && p->stopped)
        rc = SHOAL_EINTR;
    return rc;
}

/* ---- worker ---------------------------------------------------------------- */

static int run_worker(shoal_pool *p, shoal_range_fn *fn, void *arg)
{
    int64_t *req = p->recv_buf; /* this rank's REQUEST: header, then values */
    int64_t *cur = p->rbuf, *next = p->rbuf + p->rlen;
    MPI_Request r;
    int rc = 0;

    int boss = p->boss; /* rank 0, or the group's sub-master: the same protocol */
    MPI_Irecv(p->stop_buf, STOP_LEN, MPI_INT64_T, boss, SHOAL__TAG_STOP, p->comm,
              &p->stop_req);
    MPI_Send(req, REQ_LEN, MPI_INT64_T, boss, SHOAL__TAG_REQUEST, p->comm);
    p->st.messages++;
    MPI_Irecv(cur, p->rlen, MPI_INT64_T, boss, SHOAL__TAG_RANGE, p->comm, &r);
    p->st.idle_seconds += shoal__pool_wait_backoff(p, &r, MPI_STATUS_IGNORE);

    while (cur[1] > 0 || cur[0] < 0) {
        if (cur[0] < 0) {
            /* "Wait": tasks exist that may not go out yet. Ask again, with
             * the values of the range just run; the master answers once
             * tasks may go out. A stop this rank was asked for goes with
             * the request. */
            if (rc == 0 && worker_stopped(p))
                rc = SHOAL_EINTR;
            if (p->stopped && !(req[2] & SHOAL__REQ_STOPPED)) {
                req[2] |= SHOAL__REQ_STOPPED;
                req[3] = p->stop_sig;
                req[4] = shoal__pool_deadline_to_wire(p->deadline);
            }
            MPI_Send(req, REQ_LEN + (int)(req[7] * p->vw), MPI_INT64_T, boss,
                     SHOAL__TAG_REQUEST, p->comm);
            p->st.messages++;
            req[0] = req[1] = req[6] = req[7] = 0;
            MPI_Irecv(cur, p->rlen, MPI_INT64_T, boss, SHOAL__TAG_RANGE, p->comm, &r);
            p->st.idle_seconds += shoal__pool_wait_backoff(p, &r, MPI_STATUS_IGNORE);
            continue;
        }
        /* Ask for the next range before running this one: the answer
         * travels while we work. */
        MPI_Send(req, REQ_LEN + (int)(req[7] * p->vw), MPI_INT64_T, boss, SHOAL__TAG_REQUEST,
                 p->comm);
        p->st.messages++;
        MPI_Irecv(next, p->rlen, MPI_INT64_T, boss, SHOAL__TAG_RANGE, p->comm, &r);
        req[0] = req[1] = req[6] = req[7] = 0;
        if (rc == 0 && worker_stopped(p))
            rc = SHOAL_EINTR; /* leave this range pending */
        if (rc == 0) {
            p->curtags = p->tcap ? cur + 2 : NULL;
            p->curpay = p->pwords ? cur + p->poff + 1 : NULL;
            p->curpay_len = p->pwords ? (size_t)cur[p->poff] : 0;
            double t0 = shoal_now();
            int frc = fn(arg, p, (uint64_t)cur[0], (uint64_t)cur[1]);
            double t1 = shoal_now();
            p->st.busy_seconds += t1 - t0;
            p->st.tasks += (uint64_t)cur[1];
            p->st.ranges++;
            req[0] = cur[1];
            req[1] = (int64_t)((t1 - t0) * 1e9);
            req[5] = cur[0];
            req[6] = (int64_t)p->range_failed;
            p->range_failed = 0;
            if (frc == 0 && p->vw) {
                req[7] = cur[1];
                memcpy(req + REQ_LEN, p->vals, (size_t)cur[1] * p->vw * sizeof(double));
            }
            if (frc == SHOAL_EINTR && !worker_stopped(p))
                p->stopped = 1; /* stopped without stop_check: no signal known */
            if (frc < 0) {
                rc = frc;
                if (frc != SHOAL_EINTR)
                    req[2] |= SHOAL__REQ_FAILED;
            }
        }
        if (p->stopped && !(req[2] & SHOAL__REQ_STOPPED)) {
            req[2] |= SHOAL__REQ_STOPPED;
            req[3] = p->stop_sig;
            req[4] = shoal__pool_deadline_to_wire(p->deadline);
        }
        p->st.idle_seconds += shoal__pool_wait_backoff(p, &r, MPI_STATUS_IGNORE);
        int64_t *t = cur;
        cur = next;
        next = t;
    }
    /* The master's one STOP message: with the last range or before it. */
    p->st.idle_seconds += shoal__pool_wait_backoff(p, &p->stop_req, MPI_STATUS_IGNORE);
    if (p->stop_buf[0] && !p->stopped) {
        p->stopped = 1;
        p->stop_sig = (int)p->stop_buf[1];
        p->deadline = shoal__pool_deadline_from_wire(p->stop_buf[2]);
        shoal__pool_notify(p);
    }
    return rc;
}

/* ---- groups or flat --------------------------------------------------------------- */

/* Rank 0: the group size this run uses (0: flat), said in one verbose
 * line when a configured one is not used. */
static unsigned groups_decide(const shoal_pool_config *cfg, int size)
{
    unsigned g = cfg->group_size;
    if (g == 0)
        return 0;
    const char *why = NULL;
    if ((unsigned)size <= g)
        why = "all ranks fit in one group";
    else if (cfg->values_width || cfg->on_values || cfg->tag || cfg->payload_max ||
             cfg->pack || cfg->available || cfg->end || cfg->poll_available)
        why = "this run's ranges report values or carry tags or data, or its work is "
              "decided as it goes (stop_when, [search] or a stream), which rank 0 handles "
              "range by range";
    if (why) {
        shoal_log_verbose("pool: group_size %u not used (%s): every rank asks rank 0", g, why);
        return 0;
    }
    return g;
}

int shoal_pool_run(MPI_Comm comm, const shoal_pool_config *cfg,
                   shoal_range_fn *fn, void *arg, shoal_pool_stats *stats)
{
    shoal_pool p;
    memset(&p, 0, sizeof p);
    p.comm = comm;
    MPI_Comm_rank(comm, &p.rank);
    MPI_Comm_size(comm, &p.size);
    p.is_master = p.rank == 0;
    p.cfg = cfg;
    p.recv_req = MPI_REQUEST_NULL;
    p.stop_req = MPI_REQUEST_NULL;
    p.deadline = HUGE_VAL;
    p.up_req = MPI_REQUEST_NULL;

    /* Groups or flat: rank 0 decides (some of what decides is its own
     * config) and every rank learns it here, on every path. */
    unsigned g = p.rank == 0 ? groups_decide(cfg, p.size) : 0;
    MPI_Request bcast;
    MPI_Ibcast(&g, 1, MPI_UNSIGNED, 0, comm, &bcast);
    shoal__pool_wait_backoff(NULL, &bcast, MPI_STATUS_IGNORE);
    p.G = (int)g;
    if (!p.G) {
        p.nclients = p.is_master ? p.size - 1 : 0;
    } else if (p.is_master) {
        p.nclients = (p.G - 1) + (p.size - 1) / p.G; /* group 0, then a sub-master each */
    } else if (p.rank % p.G == 0) {
        p.is_sub = 1;
        p.gsize = p.size - p.rank < p.G ? p.size - p.rank : p.G;
        p.nclients = p.gsize - 1;
    } else {
        p.boss = p.rank / p.G * p.G;
    }

    /* Values ride on requests: every rank sizes them alike. */
    p.vw = cfg->values_width;
    p.vcap = cfg->max_range_tasks ? cfg->max_range_tasks : SHOAL__SCHED_MAX_TASKS;
    if (p.vw) {
        uint64_t most = VALUES_MAX_BYTES / (sizeof(double) * p.vw);
        p.vcap = most < 1 ? 1 : p.vcap < most ? p.vcap : most;
    }
    if (cfg->tag) {
        p.tcap = p.vcap < TAGS_MAX_TASKS ? p.vcap : TAGS_MAX_TASKS;
        p.vcap = p.tcap;
    }
    if (cfg->payload_max > 0) /* every rank sizes the messages alike */
        p.pwords = 1 + (int)((cfg->payload_max + 7) / 8);
    p.poff = 2 + (int)p.tcap;
    p.rlen = p.poff + p.pwords;
    p.recv_len = REQ_LEN + (int)(p.vw ? p.vcap * p.vw : 0);
    if (p.G && p.is_master)
        p.recv_len = REQ_LEN + SPAN_LEN * SPANS_MAX; /* a sub-master's spans */
    p.recv_buf = calloc((size_t)p.recv_len, sizeof *p.recv_buf);
    p.rbuf = calloc(2 * (size_t)p.rlen, sizeof *p.rbuf);
    if (p.vw) {
        p.vals = calloc((size_t)(p.vcap * p.vw), sizeof *p.vals);
        p.rvals = p.is_master ? calloc((size_t)(p.vcap * p.vw), sizeof *p.rvals) : NULL;
    }
    if (!p.recv_buf || !p.rbuf || (p.vw && (!p.vals || (p.is_master && !p.rvals)))) {
        /* Without them this rank cannot take part: nobody can go on. */
        SHOAL_ERROR(SHOAL_ENOMEM, "pool: out of memory for %llu values per range",
                    (unsigned long long)(p.vcap * p.vw));
        MPI_Abort(comm, 4);
    }

    double t0 = shoal_now();
    int rc = p.is_master ? run_master(&p, cfg, fn, arg)
             : p.is_sub  ? shoal__pool_sub_run(&p, cfg, fn, arg)
                         : run_worker(&p, fn, arg);
    p.st.wall_seconds = shoal_now() - t0;
    free(p.recv_buf);
    free(p.rbuf);
    free(p.vals);
    free(p.rvals);

    /* Agree: a failure anywhere beats a stop anywhere. Ranks that finish
     * early wait here for the last tasks elsewhere: wait with the back-off,
     * not in a blocking collective that polls a core for as long. */
    int mine[2] = {rc < 0 && rc != SHOAL_EINTR, rc == SHOAL_EINTR}, any[2];
    MPI_Request done;
    MPI_Iallreduce(mine, any, 2, MPI_INT, MPI_MAX, comm, &done);
    p.st.idle_seconds += shoal__pool_wait_backoff(NULL, &done, MPI_STATUS_IGNORE);
    p.st.wall_seconds = shoal_now() - t0;
    if (stats)
        *stats = p.st;
    if (rc < 0 && rc != SHOAL_EINTR)
        return rc;
    if (any[0])
        return SHOAL_EINTERNAL;
    return any[1] ? SHOAL_EINTR : 0;
}
