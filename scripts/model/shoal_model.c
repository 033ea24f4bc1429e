/* SPDX-License-Identifier: GPL-3.0-or-later */
/* shoal_model: a discrete-event model of Shoal's pool (lib/src/pool.c) at
 * any rank count, on one core.
 *
 * What it mirrors (docs/scaling.md says why each matters):
 *  - range sizing: lib/src/sched.c itself is compiled in (the guided rule
 *    bounded by target_range_seconds and max_range_tasks, first ranges of
 *    first_range_tasks = 1 task until a timing report arrives, the 64
 *    single-task probes once tasks are seen to take >= 1 ms), fed the same
 *    reports in the same order as on rank 0: a worker's finished range
 *    rides on its next request, rank 0's own range is reported when it ends
 *    and includes the time rank 0 spent serving inside it;
 *  - prefetch: a worker asks for its next range as it starts one (one
 *    request outstanding), and runs the next as soon as the range it holds
 *    ends, if the reply is there;
 *  - rank 0: answers requests one at a time in arrival order, each costing
 *    --service seconds; it runs ranges of its own too (unless
 *    --master-works 0), answering every request that has arrived before
 *    each of its ranges, after each, and between its tasks at most every
 *    POLL_INTERVAL (at task boundaries: a long task delays its answers);
 *    before its first range it answers the workers' first requests for at
 *    most HANDSHAKE_SECONDS (pool.c handshake());
 *  - waiting: MPI_Test spins for --spin seconds, then sleeps of 2 us
 *    doubling to 4 ms, each longer by --slack (the kernel's timer slack),
 *    between checks; rank 0 waits so when it has nothing of its own to run
 *    and a worker when its reply is late; a handshake waits 2 us + slack;
 *  - the end: a worker leaves on its "stop" reply; the pool returns on
 *    rank 0 (what Shoal's summary line times) when an allreduce over all
 *    ranks, 2 ceil(log2 P) latencies after the last rank leaves, is seen
 *    by rank 0's back-off.
 *  - --group G (run.group_size, a second scheduling level): ranks form
 *    groups of G consecutive ranks; rank 0 serves its own group's members
 *    as above plus the first rank of every other group, its sub-master,
 *    which asks for "weighted" ranges (the guided rule scaled by its
 *    group's size w: min(ceil(remaining w / 2 nranks), w target / mean,
 *    w max_range), at least 1; w first ranges' tasks before any timing),
 *    holds up to 2 (asking again when it holds <= 1 not fully dealt; the
 *    request carries its group's finished tasks and busy seconds) and deals
 *    its members small guided ranges cut from them (its group's ranks, the
 *    timing it sees, never crossing a big range's end), with the same
 *    protocol, service time, handshake and polls as rank 0; it always runs
 *    ranges itself. Rank 0's "stop" to a sub-master: it deals out what it
 *    holds, then stops its members. G = 0 or G >= P: the flat pool, the
 *    same output byte for byte. With tasks longer than target / w, the
 *    rule as specified gives a group of w ranks fewer than w tasks per big
 *    range (at least 1); --group-floor 1 models the alternative, at least w.
 * What it does not model: contention for the file system (a range's rows
 * cost --range-cost whatever the rank count), rank 0's memory and the MPI
 * library's per-peer costs at scale (--service is constant), start-up
 * skew, stops and failures, adaptive runs and streams.
 *
 * Task costs are drawn per task index from the seed (like bench_spin), or
 * read from a file of float64 seconds (--costs) to replay a real run.
 * Ranges of more than --exact-max tasks on workers draw their sum from the
 * normal approximation (mean and variance of the distribution) so that the
 * work is proportional to the number of ranges, not of tasks; rank 0 always
 * draws its tasks one by one (it needs their boundaries).
 *
 * Output: one JSON object (see print_json). Errors: a message on stderr and
 * exit status 2. */
#include "sched.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pool.c's constants, copied: the model must be kept in step with them. */
#define POLL_INTERVAL 20e-6
#define WAIT_SLEEP_MIN 2e-6
#define WAIT_SLEEP_MAX 4e-3
#define HANDSHAKE_SECONDS 0.1
#define PROBE_MIN_SECONDS 1e-3
/* task.c: tasks shorter than this are timed (and yield) in blocks. */
#define TIME_FINE_SECONDS 1e-6
#define TIME_BLOCK 16

/* Defaults: this machine's figures (docs/scaling.md, "Parameters").
 * service: rank 0's time per request answered while it is busy, median of
 *   5 runs of build/scripts/model/shoal_model_probe (0.35-0.99 us; `bash
 *   scripts/model/run.sh calibrate` -> docs/bench/model_calibration.jsonl);
 * latency: half an MPI ping-pong there (0.2-0.6 us, shared memory);
 * slack: nanosleep(2 us) takes 80-90 us there;
 * range cost, task cost: bench_empty at 1 rank with max_range_tasks 100,
 *   1000 and 95325 (29 us per range, 24 ns per task). */
#define DEFAULT_SERVICE 0.9e-6
#define DEFAULT_LATENCY 0.6e-6
#define DEFAULT_RANGE_COST 30e-6
#define DEFAULT_TASK_COST 24e-9
#define DEFAULT_SLACK 80e-6
#define DEFAULT_SPIN 2e-6

enum dist { D_CONSTANT, D_EXP, D_LOGNORMAL, D_PARETO, D_FILE };

typedef struct {
    uint64_t ranks, tasks, seed, max_range, exact_max, probes, record_max;
    enum dist dist;
    double mean, sigma, alpha, cap;
    double service, latency, range_cost, task_cost, target, slack, spin;
    int master_works, trace;
    uint64_t group; /* --group G: groups of G ranks with sub-masters (0: flat) */
    int group_floor; /* --group-floor: a big range's time bound is at least w tasks, not 1 */
    const char *costs_path;
} params;

/* ---- task costs ------------------------------------------------------------ */

static double *file_costs;
static uint64_t file_n;
static double xm_pareto, mu_dist, sd_dist; /* pareto scale; mean, sd per task */
static double max_task; /* the longest task drawn one by one */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1) from (seed, stream, i). */
static double unif(uint64_t seed, uint64_t stream, uint64_t i)
{
    uint64_t z = mix64(mix64(seed ^ mix64(stream)) ^ i);
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(uint64_t seed, uint64_t stream, uint64_t i)
{
    double u1 = unif(seed, stream, 2 * i), u2 = unif(seed, stream, 2 * i + 1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double task_cost(const params *p, uint64_t i)
{
    switch (p->dist) {
    case D_CONSTANT:
        return p->mean;
    case D_EXP:
        return -p->mean * log(unif(p->seed, 1, i));
    case D_LOGNORMAL:
        return exp(log(p->mean) - 0.5 * p->sigma * p->sigma +
                   p->sigma * gauss(p->seed, 2, i));
    case D_PARETO: {
        double x = xm_pareto * pow(unif(p->seed, 3, i), -1.0 / p->alpha);
        return x > p->cap * p->mean ? p->cap * p->mean : x;
    }
    case D_FILE:
        return file_costs[i];
    }
    return 0;
}

/* Mean and standard deviation of one task's cost (for the normal
 * approximation of long ranges' sums). */
static void dist_moments(const params *p)
{
    double m = p->mean;
    switch (p->dist) {
    case D_CONSTANT:
        mu_dist = m, sd_dist = 0;
        break;
    case D_EXP:
        mu_dist = m, sd_dist = m;
        break;
    case D_LOGNORMAL:
        mu_dist = m, sd_dist = m * sqrt(exp(p->sigma * p->sigma) - 1);
        break;
    case D_PARETO: {
        double a = p->alpha, x = xm_pareto, c = p->cap * m;
        double m1 = x + pow(x, a) * (pow(c, 1 - a) - pow(x, 1 - a)) / (1 - a);
        double m2 = fabs(a - 2) < 1e-12
                        ? x * x + 2 * x * x * log(c / x)
                        : x * x + 2 * pow(x, a) * (pow(c, 2 - a) - pow(x, 2 - a)) / (2 - a);
        mu_dist = m1;
        sd_dist = sqrt(m2 - m1 * m1 > 0 ? m2 - m1 * m1 : 0);
        break;
    }
    case D_FILE: {
        double s = 0, s2 = 0;
        for (uint64_t i = 0; i < file_n; i++)
            s += file_costs[i], s2 += file_costs[i] * file_costs[i];
        mu_dist = s / (double)file_n;
        sd_dist = sqrt(fmax(0, s2 / (double)file_n - mu_dist * mu_dist));
        break;
    }
    }
}

/* Sum of the costs of tasks [start, start + n), and (exact only) the pure
 * task time into *pure. Long ranges use the normal approximation. */
static double range_tasks(const params *p, uint64_t start, uint64_t n)
{
    if (p->dist == D_CONSTANT) {
        max_task = p->mean;
        return p->mean * (double)n;
    }
    if (n <= p->exact_max || p->dist == D_FILE) {
        double s = 0;
        for (uint64_t i = 0; i < n; i++) {
            double c = task_cost(p, start + i);
            max_task = c > max_task ? c : max_task;
            s += c;
        }
        return s;
    }
    double s = mu_dist * (double)n + sd_dist * sqrt((double)n) * gauss(p->seed, 7, start);
    return s > 0 ? s : 0;
}

/* ---- back-off ---------------------------------------------------------------- */

/* A rank starts waiting at t0 (wait_backoff: spins, then sleeps of 2 us
 * doubling to 4 ms, each + slack); what it waits for arrives at a. When
 * does it see it? */
static double next_check(const params *p, double t0, double a)
{
    if (a <= t0 + p->spin)
        return a > t0 ? a : t0;
    double t = t0 + p->spin, d = WAIT_SLEEP_MIN;
    while (d < WAIT_SLEEP_MAX) {
        t += d + p->slack;
        if (t >= a)
            return t;
        d = d * 2 > WAIT_SLEEP_MAX ? WAIT_SLEEP_MAX : d * 2;
    }
    double step = WAIT_SLEEP_MAX + p->slack;
    double k = ceil((a - t) / step);
    return t + (k > 0 ? k : 0) * step;
}

/* ---- events ------------------------------------------------------------------ */

enum { EV_REQ_ARRIVE, EV_REPLY_ARRIVE, EV_RANGE_END, EV_WORKER_SEES, EV_MASTER };

typedef struct {
    double t;
    uint64_t seq;
    int kind;
    uint32_t rank;
    uint32_t gen; /* sub-masters' steps: stale unless it is the sub-master's gen */
} event;

static event *heap;
static size_t nheap, capheap;
static uint64_t seqno;

static int before(const event *a, const event *b)
{
    if (a->t != b->t)
        return a->t < b->t;
    /* At the same instant, messages land before rank 0 looks. */
    if ((a->kind == EV_MASTER) != (b->kind == EV_MASTER))
        return b->kind == EV_MASTER;
    return a->seq < b->seq;
}

static void push_gen(double t, int kind, uint32_t rank, uint32_t gen)
{
    if (nheap == capheap) {
        capheap = capheap ? 2 * capheap : 1024;
        heap = realloc(heap, capheap * sizeof *heap);
        if (!heap) {
            fprintf(stderr, "shoal_model: out of memory (event heap)\n");
            exit(2);
        }
    }
    size_t i = nheap++;
    event e = {t, seqno++, kind, rank, gen};
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(&e, &heap[up]))
            break;
        heap[i] = heap[up];
        i = up;
    }
    heap[i] = e;
}

static void push(double t, int kind, uint32_t rank) { push_gen(t, kind, rank, 0); }

static event pop(void)
{
    event top = heap[0], last = heap[--nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= nheap)
            break;
        if (c + 1 < nheap && before(&heap[c + 1], &heap[c]))
            c++;
        if (!before(&heap[c], &last))
            break;
        heap[i] = heap[c];
        i = c;
    }
    if (nheap > 0)
        heap[i] = last;
    return top;
}

/* ---- state ------------------------------------------------------------------- */

typedef struct {
    uint64_t start, n;     /* the range in hand (n 0: none) */
    uint64_t rstart, rn;   /* the reply on its way or arrived */
    int reply_pending;     /* a request is out, its reply not yet seen */
    double reply_at;       /* when that reply arrives (HUGE_VAL: not sent yet) */
    int waiting;           /* its range ended; waiting for the reply */
    double wait_since;
    uint64_t rep_n;        /* its last finished range, for its next request */
    double rep_s;
    uint64_t q_n;          /* the report the request in flight carries */
    double q_s;
    double cur_d;          /* duration of the range in hand */
    uint64_t answers;      /* requests of its answered (handshake) */
    double first_task;     /* when it started its first range (-1: not yet) */
    double exit_at;        /* when it left (-1: not yet) */
} worker;

enum { MS_HANDSHAKE, MS_TOP, MS_RANGE, MS_RANGE_SERVE, MS_WAIT, MS_EXIT };

typedef struct {
    int state;
    double hs_start, wait_since;
    uint64_t settled;
    uint64_t stops_sent;
    /* its own range */
    uint64_t start, n, k;
    double range_t0, last_poll, poll_at, t_now;
    uint64_t block, shorts;
    double first_task, exit_at;
    double serve_seconds, task_seconds;
    uint64_t answered, ranges, tasks;
    int wake_scheduled;
    uint64_t nclients; /* ranks it answers: rank 0's members and sub-masters, or a group's members */
    /* --group: a sub-master's own (rank 0 uses the globals below) */
    uint32_t rank;
    uint64_t size;              /* ranks of its group, itself included */
    uint32_t *q;                /* its members' requests in arrival order */
    size_t qhead, qcount, qcap;
    struct { uint64_t start, n, dealt; } held[3]; /* big ranges from rank 0, in order */
    int nheld, stop_recv;       /* stop_recv: rank 0 said "stop" */
    uint64_t timed_n, acc_n;    /* timing it has seen; the report for rank 0 not sent yet */
    double timed_s, acc_s;
    int poll_pending;           /* in a range: a poll is scheduled (else its end) */
    uint32_t gen;
    double work_left;           /* in a range: task time from the cursor (k, t_now) on */
} master;

typedef struct {
    uint64_t start, n;
    uint32_t rank;
} rec;

static params P;
static shoal__sched S;
static worker *W;
static master M;
static uint32_t *fifo; /* requests in arrival order: worker ids */
static double *fifo_at;
static size_t fhead, fcount, fcap;
static rec *recs;
static uint64_t nrecs;
static int recs_ok = 1;
static double pure_total; /* exact sum of task costs of ranges handed out (or approximated) */
static uint64_t worker_ranges, requests;
static double sub_pure, sub_serve_max; /* --group: over the sub-masters */
static uint64_t sub_ranges, sub_answered;

static void record(uint64_t start, uint64_t n, uint32_t rank)
{
    if (P.trace)
        printf("range %llu %llu rank %u\n", (unsigned long long)start,
               (unsigned long long)n, rank);
    if (!recs_ok)
        return;
    if (nrecs >= P.record_max) {
        recs_ok = 0;
        return;
    }
    recs[nrecs++] = (rec){start, n, rank};
}

static void fifo_push(uint32_t w, double at)
{
    size_t i = (fhead + fcount) % fcap;
    fifo[i] = w;
    fifo_at[i] = at;
    fcount++;
}

static uint32_t fifo_pop(void)
{
    uint32_t w = fifo[fhead];
    fhead = (fhead + 1) % fcap;
    fcount--;
    return w;
}

static uint64_t nworkers(void) { return P.ranks - 1; }

/* --group: G ranks a group (0: flat, also when G >= P); group k is ranks
 * [kG, min((k+1)G, P)), rank kG (k >= 1) its sub-master. */
static uint64_t G, ngroups;
static master *SUB; /* SUB[k], k = 1 .. ngroups - 1 */

static int is_sub(uint64_t r) { return G && r && r % G == 0; }

static uint64_t group_size(uint64_t k)
{
    uint64_t end = (k + 1) * G < P.ranks ? (k + 1) * G : P.ranks;
    return end - k * G;
}

/* Who answers rank r's requests: 0 (rank 0) or its group k. */
static uint64_t server_of(uint64_t r) { return !G || is_sub(r) ? 0 : r / G; }

/* ---- rank 0 ------------------------------------------------------------------ */

/* A sub-master's "weighted" range, weight w = its group's ranks: the
 * guided rule scaled by w, min(ceil(remaining w / 2 nranks),
 * w target / mean, w max_tasks), at least 1, and w first_tasks before any
 * timing. sched.c hands out exactly that many (its own bounds set to it
 * for the call), probes (single tasks) and the end of the work included. */
static uint64_t sched_next_weighted(shoal__sched *s, uint64_t w, uint64_t *start)
{
    if (w <= 1 || s->stopped || s->handed >= s->ntasks)
        return shoal__sched_next(s, start);
    uint64_t remaining = s->ntasks - s->handed, div = 2 * (uint64_t)s->nranks;
    uint64_t n = remaining / div * w + ((remaining % div) * w + div - 1) / div;
    uint64_t cap = s->max_tasks * w, by_time;
    if (s->timed_tasks == 0) {
        by_time = s->first_tasks * w;
    } else if (s->timed_seconds <= 0) {
        by_time = cap;
    } else {
        double t = floor((double)w * s->target_seconds /
                         (s->timed_seconds / (double)s->timed_tasks) + 1e-6);
        /* As specified: at least 1. --group-floor 1: at least w, one task
         * per rank of the group, as the flat rule gives each rank >= 1. */
        double fl = P.group_floor ? (double)w : 1;
        by_time = t >= (double)cap ? cap : t < fl ? (uint64_t)fl : (uint64_t)t;
    }
    n = n < by_time ? n : by_time;
    n = n < cap ? n : cap;
    n = n < 1 ? 1 : n;
    /* With nranks 1 the guided term, ceil(remaining / 2), is >= n (w <= nranks). */
    int nr = s->nranks;
    uint64_t mt = s->max_tasks, ft = s->first_tasks;
    double tg = s->target_seconds;
    s->nranks = 1;
    s->max_tasks = s->first_tasks = n;
    s->target_seconds = 1e300;
    uint64_t got = shoal__sched_next(s, start);
    s->nranks = nr;
    s->max_tasks = mt;
    s->first_tasks = ft;
    s->target_seconds = tg;
    return got;
}

static uint64_t big_ranges; /* ranges rank 0 handed to sub-masters */

/* Answer the oldest request at time t (pool.c answer() + hand()); the reply
 * leaves at t + service. Returns the time rank 0 is done with it. */
static double answer(double t)
{
    uint32_t w = fifo_pop();
    worker *x = &W[w];
    shoal__sched_report(&S, x->q_n, x->q_s);
    x->q_n = 0;
    x->q_s = 0;
    x->answers++;
    uint64_t start = 0, n;
    if (is_sub(w)) {
        n = sched_next_weighted(&S, group_size(w / G), &start);
        big_ranges += n > 0;
        if (P.trace)
            printf("big %llu %llu rank %u at %.9g\n", (unsigned long long)start,
                   (unsigned long long)n, w, t);
    } else {
        n = shoal__sched_next(&S, &start);
    }
    double done = t + P.service;
    x->rstart = start;
    x->rn = n;
    x->reply_at = done + P.latency;
    if (n == 0)
        M.stops_sent++;
    else if (!is_sub(w))
        record(start, n, w);
    M.serve_seconds += P.service;
    M.answered++;
    push(x->reply_at, EV_REPLY_ARRIVE, w);
    return done;
}

static void master_at(double t)
{
    push(t, EV_MASTER, 0);
    M.wake_scheduled = 1;
}

/* Rank 0 walks its own range from task k at time t to the next task
 * boundary where it serves (task.c's yield), or to the range's end. */
static void master_walk(double t)
{
    while (M.k < M.n) {
        uint64_t k0 = M.k, end = M.n - M.k > M.block ? M.k + M.block : M.n;
        double dt = 0;
        for (; M.k < end; M.k++) {
            double c = task_cost(&P, M.start + M.k);
            max_task = c > max_task ? c : max_task;
            M.task_seconds += c;
            dt += c + P.task_cost;
        }
        t += dt;
        uint64_t nb = M.k - k0;
        if (nb == 1) {
            M.shorts = dt < TIME_FINE_SECONDS ? M.shorts + 1 : 0;
            if (M.shorts >= TIME_BLOCK)
                M.block = TIME_BLOCK;
        } else if (dt >= TIME_FINE_SECONDS * (double)nb) {
            M.block = 1;
            M.shorts = 0;
        }
        if (t >= M.poll_at) {
            if (P.ranks == 1 || M.stops_sent >= M.nclients) {
                M.poll_at = HUGE_VAL;
            } else if (t - M.last_poll < POLL_INTERVAL) {
                M.poll_at = t + (POLL_INTERVAL - (t - M.last_poll));
            } else {
                M.last_poll = t;
                M.poll_at = t + POLL_INTERVAL;
                M.state = MS_RANGE_SERVE;
                master_at(t);
                return;
            }
        }
    }
    /* The range ends: its rows are written, its time reported. */
    t += P.range_cost;
    shoal__sched_report(&S, M.n, t - M.range_t0);
    M.ranges++;
    M.tasks += M.n;
    M.n = 0;
    M.state = MS_TOP;
    master_at(t);
}

static void master_step(double t)
{
    M.wake_scheduled = 0;
    switch (M.state) {
    case MS_HANDSHAKE:
        if (M.settled >= M.nclients || M.stops_sent >= M.nclients ||
            t - M.hs_start >= HANDSHAKE_SECONDS) {
            M.state = MS_TOP;
            M.last_poll = t;
            master_at(t);
            return;
        }
        if (fcount > 0) {
            uint32_t w = fifo[fhead];
            uint64_t stops = M.stops_sent;
            double done = answer(t);
            /* Settled: its first answer, or a stop. */
            if (W[w].answers == 1 || M.stops_sent > stops)
                M.settled++;
            master_at(done);
        } else {
            master_at(t + WAIT_SLEEP_MIN + P.slack);
        }
        return;
    case MS_TOP:
        if (P.ranks > 1 && M.stops_sent < M.nclients && fcount > 0) {
            master_at(answer(t));
            return;
        }
        if (P.master_works) {
            uint64_t start = 0, n = shoal__sched_next(&S, &start);
            if (n > 0) {
                record(start, n, 0);
                if (M.first_task < 0)
                    M.first_task = t;
                M.start = start;
                M.n = n;
                M.k = 0;
                M.range_t0 = t;
                M.poll_at = 0;
                M.state = MS_RANGE;
                master_walk(t);
                return;
            }
        }
        if (M.stops_sent >= M.nclients) {
            M.state = MS_EXIT;
            M.exit_at = t;
            return;
        }
        M.state = MS_WAIT;
        M.wait_since = t;
        if (fcount > 0) /* cannot happen: served above */
            master_at(next_check(&P, t, fifo_at[fhead]));
        return;
    case MS_RANGE_SERVE:
        if (M.stops_sent < M.nclients && fcount > 0) {
            master_at(answer(t));
            return;
        }
        M.state = MS_RANGE;
        master_walk(t);
        return;
    case MS_WAIT: {
        /* Woken with a request: answer it, then the loop's top. */
        double done = answer(t);
        M.state = MS_TOP;
        master_at(done);
        return;
    }
    default:
        return;
    }
}

/* ---- sub-masters (--group) --------------------------------------------------- */

/* A sub-master (rank kG, k >= 1) is rank 0's client for big "weighted"
 * ranges and, to its group's members, a master like rank 0: it deals them
 * small guided ranges cut from the big ranges it holds, runs ranges itself
 * and serves between its tasks. Its polls inside a range are scheduled
 * only when a message it can act on has arrived (the polls that find
 * nothing change nothing but the time of the last poll), so that the model
 * costs events per range, not per POLL_INTERVAL, at 10^4 sub-masters. */

static void worker_send(uint32_t w, double t);

static void sub_at(master *s, double t)
{
    push_gen(t, EV_MASTER, s->rank, s->gen);
    s->wake_scheduled = 1;
}

/* It can answer a member: it holds tasks not dealt, or rank 0 said stop. */
static int sub_can_answer(const master *s) { return s->nheld > 0 || s->stop_recv; }

/* It asks rank 0 when it holds <= 1 big range not fully dealt and no
 * request is on its way; the request carries its group's finished tasks
 * and busy seconds since the last one. */
static void sub_maybe_ask(master *s, double t)
{
    worker *c = &W[s->rank];
    if (s->stop_recv || c->reply_pending || s->nheld > 1)
        return;
    c->rep_n = s->acc_n;
    c->rep_s = s->acc_s;
    s->acc_n = 0;
    s->acc_s = 0;
    worker_send(s->rank, t);
}

/* At each of its checks it takes rank 0's reply if it has arrived. */
static void sub_absorb(master *s, double t)
{
    worker *c = &W[s->rank];
    if (c->reply_pending && c->reply_at <= t) {
        c->reply_pending = 0;
        if (c->rn == 0) {
            s->stop_recv = 1;
        } else {
            s->held[s->nheld].start = c->rstart;
            s->held[s->nheld].n = c->rn;
            s->held[s->nheld].dealt = 0;
            s->nheld++;
        }
    }
    sub_maybe_ask(s, t);
}

static void sub_report(master *s, uint64_t n, double sec)
{
    s->timed_n += n;
    s->timed_s += sec;
    s->acc_n += n;
    s->acc_s += sec;
}

/* The next small range: sched.c's guided rule over the tasks it holds,
 * with its group's ranks and the timing it has seen (single tasks until a
 * report), never crossing the end of the big range it is cut from. */
static uint64_t sub_deal(master *s, uint64_t *start)
{
    if (s->nheld == 0)
        return 0;
    uint64_t remaining = 0;
    for (int i = 0; i < s->nheld; i++)
        remaining += s->held[i].n - s->held[i].dealt;
    uint64_t div = 2 * s->size, n = remaining / div + (remaining % div != 0), by_time;
    if (s->timed_n == 0) {
        by_time = 1;
    } else if (s->timed_s <= 0) {
        by_time = P.max_range;
    } else {
        double x = floor(P.target / (s->timed_s / (double)s->timed_n) + 1e-6);
        by_time = x >= (double)P.max_range ? P.max_range : x < 1 ? 1 : (uint64_t)x;
    }
    uint64_t rest = s->held[0].n - s->held[0].dealt;
    n = n < by_time ? n : by_time;
    n = n < P.max_range ? n : P.max_range;
    n = n < rest ? n : rest;
    n = n < 1 ? 1 : n;
    *start = s->held[0].start + s->held[0].dealt;
    s->held[0].dealt += n;
    if (s->held[0].dealt == s->held[0].n) {
        for (int i = 1; i < s->nheld; i++)
            s->held[i - 1] = s->held[i];
        s->nheld--;
    }
    return n;
}

/* Answer its oldest member request at t, as rank 0 does. */
static double sub_answer(master *s, double t)
{
    uint32_t w = s->q[s->qhead];
    s->qhead = (s->qhead + 1) % s->qcap;
    s->qcount--;
    worker *x = &W[w];
    sub_report(s, x->q_n, x->q_s);
    x->q_n = 0;
    x->q_s = 0;
    x->answers++;
    uint64_t start = 0, n = sub_deal(s, &start);
    double done = t + P.service;
    x->rstart = start;
    x->rn = n;
    x->reply_at = done + P.latency;
    if (n == 0)
        s->stops_sent++;
    else
        record(start, n, w);
    s->serve_seconds += P.service;
    s->answered++;
    push(x->reply_at, EV_REPLY_ARRIVE, w);
    sub_maybe_ask(s, done);
    return done;
}

/* Its range from the cursor (task k done at t_now, last poll last_poll):
 * the first poll (a task boundary >= POLL_INTERVAL after the last poll,
 * while members are left to stop) at or after a. 1: found, its place in
 * *k_out, *t_out; 0: none before the range ends, *lp_out the last poll's
 * time. Constant tasks of >= 1 us (timed one by one) in O(1). */
static int sub_walk(const master *s, double a, uint64_t *k_out, double *t_out, double *lp_out,
                    uint64_t *blk_out, uint64_t *sh_out)
{
    uint64_t k = s->k, block = s->block, shorts = s->shorts;
    double t = s->t_now, lp = s->last_poll, dt1 = P.mean + P.task_cost;
    int polls = s->stops_sent < s->nclients;
    *lp_out = lp;
    *blk_out = block;
    *sh_out = shorts;
    if (P.dist == D_CONSTANT && dt1 >= TIME_FINE_SECONDS && block == 1) {
        uint64_t rem = s->n - k;
        *sh_out = 0;
        if (!polls || rem == 0)
            return 0;
        double j1d = ceil((lp + POLL_INTERVAL - t) / dt1);
        uint64_t j1 = j1d < 1 ? 1 : (uint64_t)j1d;
        while (t + (double)j1 * dt1 - lp < POLL_INTERVAL)
            j1++;
        while (j1 > 1 && t + (double)(j1 - 1) * dt1 - lp >= POLL_INTERVAL)
            j1--;
        uint64_t m = (uint64_t)ceil(POLL_INTERVAL / dt1);
        m = m < 1 ? 1 : m;
        while ((double)m * dt1 < POLL_INTERVAL)
            m++;
        while (m > 1 && (double)(m - 1) * dt1 >= POLL_INTERVAL)
            m--;
        if (j1 > rem)
            return 0;
        uint64_t jl = j1 + (rem - j1) / m * m; /* the last poll of the range */
        uint64_t j = j1;
        if (a == HUGE_VAL || t + (double)jl * dt1 < a) {
            *lp_out = t + (double)jl * dt1;
            return 0;
        }
        if (t + (double)j * dt1 < a) {
            double steps = ceil((a - (t + (double)j * dt1)) / ((double)m * dt1));
            j += (uint64_t)steps * m;
            if (j > jl)
                j = jl;
            while (t + (double)j * dt1 < a)
                j += m; /* cannot pass jl: t + jl dt1 >= a */
            while (j >= j1 + m && t + (double)(j - m) * dt1 >= a)
                j -= m;
        }
        *k_out = k + j;
        *t_out = t + (double)j * dt1;
        return 1;
    }
    while (k < s->n) {
        uint64_t end = s->n - k > block ? k + block : s->n, nb = end - k;
        double dt = 0;
        for (; k < end; k++)
            dt += task_cost(&P, s->start + k) + P.task_cost;
        t += dt;
        if (nb == 1) {
            shorts = dt < TIME_FINE_SECONDS ? shorts + 1 : 0;
            if (shorts >= TIME_BLOCK)
                block = TIME_BLOCK;
        } else if (dt >= TIME_FINE_SECONDS * (double)nb) {
            block = 1;
            shorts = 0;
        }
        if (polls && t - lp >= POLL_INTERVAL) {
            if (t >= a) {
                *k_out = k;
                *t_out = t;
                *blk_out = block;
                *sh_out = shorts;
                return 1;
            }
            lp = t;
        }
    }
    *lp_out = lp;
    *blk_out = block;
    *sh_out = shorts;
    return 0;
}

/* A message for sub-master s arrived at a (a member's request, or rank 0's
 * reply): wake it if it waits, or schedule its next poll if it runs a range. */
static void sub_msg(master *s, double a, int is_reply)
{
    if (!is_reply && !sub_can_answer(s))
        return; /* nothing to answer with yet: rank 0's reply will wake it */
    if (s->state == MS_WAIT) {
        if (!s->wake_scheduled)
            sub_at(s, next_check(&P, s->wait_since, a));
    } else if (s->state == MS_RANGE && !s->poll_pending) {
        uint64_t k = 0, blk, sh;
        double tp = 0, lp;
        if (sub_walk(s, a, &k, &tp, &lp, &blk, &sh)) {
            s->work_left -= tp - s->t_now;
            s->k = k;
            s->t_now = tp;
            s->block = blk;
            s->shorts = sh;
            s->poll_pending = 1;
            s->gen++; /* the range's end, scheduled, is no longer next */
            sub_at(s, tp);
        }
    }
}

static void sub_range_start(master *s, double t)
{
    uint64_t start = 0, n = sub_deal(s, &start);
    sub_maybe_ask(s, t);
    record(start, n, s->rank);
    if (s->first_task < 0)
        s->first_task = t;
    double pure = 0;
    if (P.dist == D_CONSTANT) {
        pure = P.mean * (double)n;
        max_task = P.mean;
    } else {
        for (uint64_t i = 0; i < n; i++) {
            double c = task_cost(&P, start + i);
            max_task = c > max_task ? c : max_task;
            pure += c;
        }
    }
    s->task_seconds += pure;
    s->start = start;
    s->n = n;
    s->k = 0;
    s->range_t0 = t;
    s->t_now = t;
    s->work_left = pure + P.task_cost * (double)n;
    s->state = MS_RANGE;
    s->poll_pending = 0;
    s->gen++;
    sub_at(s, t + s->work_left + P.range_cost);
}

static void sub_step(master *s, double t)
{
    s->wake_scheduled = 0;
    switch (s->state) {
    case MS_HANDSHAKE:
        sub_absorb(s, t);
        if (s->settled >= s->nclients || s->stops_sent >= s->nclients ||
            t - s->hs_start >= HANDSHAKE_SECONDS) {
            s->state = MS_TOP;
            s->last_poll = t;
            sub_at(s, t);
        } else if (s->qcount > 0 && sub_can_answer(s)) {
            uint32_t w = s->q[s->qhead];
            uint64_t stops = s->stops_sent;
            double done = sub_answer(s, t);
            if (W[w].answers == 1 || s->stops_sent > stops)
                s->settled++;
            sub_at(s, done);
        } else {
            sub_at(s, t + WAIT_SLEEP_MIN + P.slack);
        }
        return;
    case MS_WAIT:
    case MS_TOP:
        s->state = MS_TOP;
        sub_absorb(s, t);
        if (s->stops_sent < s->nclients && s->qcount > 0 && sub_can_answer(s)) {
            sub_at(s, sub_answer(s, t));
        } else if (s->nheld > 0) {
            sub_range_start(s, t);
        } else if (s->stop_recv && s->stops_sent >= s->nclients) {
            s->state = MS_EXIT;
            s->exit_at = t;
        } else {
            s->state = MS_WAIT; /* for rank 0's reply, or the members' last requests */
            s->wait_since = t;
        }
        return;
    case MS_RANGE:
        if (!s->poll_pending) {
            /* The range ends (its rows written); its time is reported. */
            uint64_t k = 0, blk, sh;
            double tp = 0, lp;
            sub_walk(s, HUGE_VAL, &k, &tp, &lp, &blk, &sh);
            s->last_poll = lp;
            s->block = blk;
            s->shorts = sh;
            sub_report(s, s->n, t - s->range_t0);
            s->ranges++;
            s->tasks += s->n;
            s->n = 0;
            s->state = MS_TOP;
            sub_at(s, t);
            return;
        }
        s->last_poll = t;
        s->state = MS_RANGE_SERVE;
        /* fall through */
    case MS_RANGE_SERVE:
        sub_absorb(s, t);
        if (s->stops_sent < s->nclients && s->qcount > 0 && sub_can_answer(s)) {
            sub_at(s, sub_answer(s, t));
            return;
        }
        s->t_now = t;
        s->state = MS_RANGE;
        s->poll_pending = 0;
        sub_at(s, t + s->work_left + P.range_cost);
        return;
    default:
        return;
    }
}

/* ---- workers ----------------------------------------------------------------- */

static void worker_send(uint32_t w, double t)
{
    requests++;
    W[w].q_n = W[w].rep_n; /* the range it finished goes with the request */
    W[w].q_s = W[w].rep_s;
    W[w].rep_n = 0;
    W[w].rep_s = 0;
    W[w].reply_pending = 1;
    W[w].reply_at = HUGE_VAL;
    push(t + P.latency, EV_REQ_ARRIVE, w);
}

/* Worker w sees its reply at time t: runs the range (asking for the next
 * first), or leaves on "stop". */
static void worker_sees(uint32_t w, double t)
{
    worker *x = &W[w];
    x->waiting = 0;
    x->reply_pending = 0;
    if (x->rn == 0) {
        x->exit_at = t;
        x->n = 0;
        return;
    }
    x->start = x->rstart;
    x->n = x->rn;
    if (x->first_task < 0)
        x->first_task = t;
    worker_send(w, t);
    double pure = range_tasks(&P, x->start, x->n);
    double d = pure + P.task_cost * (double)x->n + P.range_cost;
    x->cur_d = d;
    worker_ranges++;
    push(t + d, EV_RANGE_END, w);
    pure_total += pure;
}

/* ---- the run ----------------------------------------------------------------- */

typedef struct {
    double makespan, pure, first_task_last, first_task_mean, last_exit;
    uint64_t ranges, runs, answered;
} result;

static int cmp_rec(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static result simulate(void)
{
    result r;
    memset(&r, 0, sizeof r);
    uint64_t nr = P.ranks;
    W = calloc(nr, sizeof *W);
    fcap = nr;
    fifo = malloc(fcap * sizeof *fifo);
    fifo_at = malloc(fcap * sizeof *fifo_at);
    recs = malloc((size_t)P.record_max * sizeof *recs);
    if (!W || !fifo || !fifo_at || !recs) {
        fprintf(stderr, "shoal_model: out of memory for %llu ranks\n", (unsigned long long)nr);
        exit(2);
    }
    int works = P.master_works || nr == 1;
    P.master_works = works;
    shoal__sched_init(&S, P.tasks, (int)(nworkers() + (uint64_t)works), P.target,
                      P.max_range, 1);
    if (P.probes)
        shoal__sched_set_probes(&S, (unsigned)P.probes, PROBE_MIN_SECONDS);
    memset(&M, 0, sizeof M);
    M.first_task = -1;
    M.exit_at = -1;
    M.block = 1;
    M.nclients = G ? group_size(0) - 1 + (ngroups - 1) : nworkers();
    for (uint64_t w = 1; w < nr; w++) {
        W[w].first_task = -1;
        W[w].exit_at = -1;
        W[w].waiting = 1; /* for its first range, since 0 */
        W[w].wait_since = 0;
        worker_send((uint32_t)w, 0);
    }
    M.last_poll = 0;
    if (nr > 1 && works) {
        M.state = MS_HANDSHAKE;
        M.hs_start = 0;
    } else {
        M.state = MS_TOP;
    }
    master_at(0);
    if (G) {
        SUB = calloc(ngroups, sizeof *SUB);
        if (!SUB) {
            fprintf(stderr, "shoal_model: out of memory for %llu groups\n",
                    (unsigned long long)ngroups);
            exit(2);
        }
        for (uint64_t k = 1; k < ngroups; k++) {
            master *s = &SUB[k];
            s->rank = (uint32_t)(k * G);
            s->size = group_size(k);
            s->nclients = s->size - 1;
            s->qcap = s->nclients ? s->nclients : 1;
            s->q = malloc(s->qcap * sizeof *s->q);
            if (!s->q) {
                fprintf(stderr, "shoal_model: out of memory (groups)\n");
                exit(2);
            }
            s->first_task = -1;
            s->exit_at = -1;
            s->block = 1;
            s->state = s->nclients ? MS_HANDSHAKE : MS_TOP;
            sub_at(s, 0);
        }
    }

    while (nheap > 0) {
        event e = pop();
        worker *x = &W[e.rank];
        switch (e.kind) {
        case EV_REQ_ARRIVE: {
            uint64_t k = server_of(e.rank);
            if (k) {
                master *s = &SUB[k];
                s->q[(s->qhead + s->qcount) % s->qcap] = e.rank;
                s->qcount++;
                sub_msg(s, e.t, 0);
                break;
            }
            fifo_push(e.rank, e.t);
            if (M.state == MS_WAIT && !M.wake_scheduled)
                master_at(next_check(&P, M.wait_since, e.t));
            break;
        }
        case EV_REPLY_ARRIVE:
            if (is_sub(e.rank))
                sub_msg(&SUB[e.rank / G], e.t, 1);
            else if (x->waiting)
                push(next_check(&P, x->wait_since, e.t), EV_WORKER_SEES, e.rank);
            break;
        case EV_RANGE_END: {
            x->rep_n = x->n; /* reported with its next request */
            x->rep_s = x->cur_d;
            x->n = 0;
            if (x->reply_at <= e.t) {
                worker_sees(e.rank, e.t);
            } else {
                x->waiting = 1;
                x->wait_since = e.t;
            }
            break;
        }
        case EV_WORKER_SEES:
            worker_sees(e.rank, e.t);
            break;
        case EV_MASTER:
            if (e.rank == 0)
                master_step(e.t);
            else if (e.gen == SUB[e.rank / G].gen)
                sub_step(&SUB[e.rank / G], e.t);
            break;
        }
    }
    if (M.exit_at < 0 || M.stops_sent != M.nclients) {
        fprintf(stderr, "shoal_model: internal error: the run did not end (%llu of %llu "
                "workers stopped)\n", (unsigned long long)M.stops_sent,
                (unsigned long long)M.nclients);
        exit(3);
    }
    for (uint64_t k = 1; k < ngroups; k++) {
        const master *s = &SUB[k];
        if (s->exit_at < 0 || s->stops_sent != s->nclients || s->nheld) {
            fprintf(stderr, "shoal_model: internal error: sub-master %u did not end (%llu of "
                    "%llu members stopped, %d ranges held)\n", s->rank,
                    (unsigned long long)s->stops_sent, (unsigned long long)s->nclients,
                    s->nheld);
            exit(3);
        }
    }
    /* Time to first task: over the workers (rank 0 alone: rank 0); rank 0's
     * own is reported apart (near saturation it serves before it works). */
    double last = M.exit_at, ft_last = nr == 1 ? M.first_task : 0, ft_sum = nr == 1 ? ft_last : 0;
    uint64_t nft = nr == 1;
    for (uint64_t k = 1; k < ngroups; k++) {
        const master *s = &SUB[k];
        last = s->exit_at > last ? s->exit_at : last;
        if (s->first_task >= 0) {
            ft_last = s->first_task > ft_last ? s->first_task : ft_last;
            ft_sum += s->first_task;
            nft++;
        }
        sub_pure += s->task_seconds;
        sub_ranges += s->ranges;
        sub_answered += s->answered;
        if (s->serve_seconds > sub_serve_max)
            sub_serve_max = s->serve_seconds;
    }
    for (uint64_t w = 1; w < nr; w++) {
        if (is_sub(w))
            continue;
        if (W[w].exit_at > last)
            last = W[w].exit_at;
        if (W[w].first_task >= 0) {
            if (W[w].first_task > ft_last)
                ft_last = W[w].first_task;
            ft_sum += W[w].first_task;
            nft++;
        }
    }
    double allreduce = nr > 1 ? 2 * ceil(log2((double)nr)) * P.latency : 0;
    r.makespan = nr > 1 ? next_check(&P, M.exit_at, last + allreduce) : M.exit_at;
    r.last_exit = last;
    r.pure = pure_total + M.task_seconds + sub_pure;
    r.first_task_last = ft_last;
    r.first_task_mean = nft ? ft_sum / (double)nft : 0;
    r.ranges = worker_ranges + M.ranges + sub_ranges;
    r.answered = M.answered + sub_answered;
    if (recs_ok) {
        qsort(recs, (size_t)nrecs, sizeof *recs, cmp_rec);
        uint64_t runs = 0;
        for (uint64_t i = 0; i < nrecs; i++)
            if (i == 0 || recs[i].rank != recs[i - 1].rank ||
                recs[i].start != recs[i - 1].start + recs[i - 1].n)
                runs++;
        r.runs = runs;
    }
    return r;
}

/* ---- the command line ------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: shoal_model --ranks P --tasks N [options]\n"
        "  --ranks P          ranks, rank 0 included (>= 1)\n"
        "  --tasks N          tasks (>= 1)\n"
        "  --dist D           constant (default), exp, lognormal, pareto, file\n"
        "  --mean S           mean task time, s (default 1e-3; constant may be 0)\n"
        "  --sigma X          lognormal: sigma of log (default 1)\n"
        "  --alpha A          pareto: tail index > 1 (default 1.5)\n"
        "  --cap C            pareto: costs capped at C x mean (default 100, >= 1)\n"
        "  --costs FILE       dist file: N float64 seconds (native byte order)\n"
        "  --seed K           seed of the drawn costs (default 1)\n"
        "  --service S        rank 0 CPU per request answered, s (default %g)\n"
        "  --latency L        one-way message latency, s (default %g)\n"
        "  --range-cost W     time a rank spends per range outside tasks, s (default %g)\n"
        "  --task-cost C      time per task outside the task itself, s (default %g)\n"
        "  --target T         target_range_seconds (default 0.05)\n"
        "  --max-range M      max_range_tasks after the 2 MiB row cap (default 262144)\n"
        "  --master-works B   1 (default): rank 0 runs ranges too; 0: it only schedules\n"
        "                     (sub-masters always run ranges)\n"
        "  --group G          groups of G consecutive ranks, each but rank 0's served by\n"
        "                     its first rank (a sub-master) with ranges taken in bulk\n"
        "                     from rank 0 (run.group_size; default 0: flat)\n"
        "  --group-floor B    0 (default, as specified): a big range's time bound,\n"
        "                     w target / mean, is at least 1 task; 1: at least w tasks\n"
        "  --probes K         single-task probes once tasks take >= 1 ms (default 64)\n"
        "  --slack S          extra time of every sleep (timer slack), s (default %g)\n"
        "  --spin S           MPI_Test spinning before the first sleep, s (default %g)\n"
        "  --exact-max K      workers' ranges longer than K tasks: normal approximation\n"
        "                     of their sum (default 4096)\n"
        "  --record-max K     ranges kept to count runs of one rank (default 4000000)\n"
        "  --trace            print every range handed out\n",
        DEFAULT_SERVICE, DEFAULT_LATENCY, DEFAULT_RANGE_COST, DEFAULT_TASK_COST,
        DEFAULT_SLACK, DEFAULT_SPIN);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "shoal_model: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(shoal_model --help for the options)\n");
    va_end(ap);
    exit(2);
}

static double num(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        die("%s: '%s' is not a number", opt, s);
    if (v < lo || v > hi)
        die("%s: %s is out of range [%g, %g]", opt, s, lo, hi);
    return v;
}

static uint64_t count(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+')
        die("%s: '%s' is not a whole number", opt, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        /* 1e5 and the like */
        double d = num(opt, s, (double)lo, (double)hi);
        if (d != floor(d))
            die("%s: '%s' is not a whole number", opt, s);
        return (uint64_t)d;
    }
    if (v < lo || v > hi)
        die("%s: %s is out of range [%llu, %llu]", opt, s, (unsigned long long)lo,
            (unsigned long long)hi);
    return (uint64_t)v;
}

static void parse(int argc, char **argv)
{
    P = (params){.dist = D_CONSTANT, .mean = 1e-3, .sigma = 1, .alpha = 1.5, .cap = 100,
                 .seed = 1, .service = DEFAULT_SERVICE, .latency = DEFAULT_LATENCY,
                 .range_cost = DEFAULT_RANGE_COST, .task_cost = DEFAULT_TASK_COST,
                 .target = 0.05, .max_range = SHOAL__SCHED_MAX_TASKS, .master_works = 1,
                 .probes = 64, .slack = DEFAULT_SLACK, .spin = DEFAULT_SPIN,
                 .exact_max = 4096, .record_max = 4000000};
    int have_ranks = 0, have_tasks = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(o, "--trace")) {
            P.trace = 1;
            continue;
        }
        if (strncmp(o, "--", 2) != 0)
            die("unexpected argument '%s'", o);
        if (i + 1 >= argc)
            die("%s needs a value", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--ranks"))
            P.ranks = count(o, v, 1, 100000000), have_ranks = 1;
        else if (!strcmp(o, "--tasks"))
            P.tasks = count(o, v, 1, (uint64_t)1 << 62), have_tasks = 1;
        else if (!strcmp(o, "--dist")) {
            if (!strcmp(v, "constant")) P.dist = D_CONSTANT;
            else if (!strcmp(v, "exp")) P.dist = D_EXP;
            else if (!strcmp(v, "lognormal")) P.dist = D_LOGNORMAL;
            else if (!strcmp(v, "pareto")) P.dist = D_PARETO;
            else if (!strcmp(v, "file")) P.dist = D_FILE;
            else die("--dist: '%s': expected constant, exp, lognormal, pareto or file", v);
        } else if (!strcmp(o, "--mean"))
            P.mean = num(o, v, 0, 1e7);
        else if (!strcmp(o, "--sigma"))
            P.sigma = num(o, v, 0, 10);
        else if (!strcmp(o, "--alpha"))
            P.alpha = num(o, v, 1.0001, 100);
        else if (!strcmp(o, "--cap"))
            P.cap = num(o, v, 1, 1e9);
        else if (!strcmp(o, "--costs"))
            P.costs_path = v;
        else if (!strcmp(o, "--seed"))
            P.seed = count(o, v, 0, UINT64_MAX);
        else if (!strcmp(o, "--service"))
            P.service = num(o, v, 0, 1);
        else if (!strcmp(o, "--latency"))
            P.latency = num(o, v, 0, 1);
        else if (!strcmp(o, "--range-cost"))
            P.range_cost = num(o, v, 0, 100);
        else if (!strcmp(o, "--task-cost"))
            P.task_cost = num(o, v, 0, 100);
        else if (!strcmp(o, "--target"))
            P.target = num(o, v, 1e-6, 3600);
        else if (!strcmp(o, "--max-range"))
            P.max_range = count(o, v, 1, (uint64_t)1 << 30);
        else if (!strcmp(o, "--group"))
            P.group = count(o, v, 0, 100000000);
        else if (!strcmp(o, "--group-floor"))
            P.group_floor = (int)count(o, v, 0, 1);
        else if (!strcmp(o, "--master-works"))
            P.master_works = (int)count(o, v, 0, 1);
        else if (!strcmp(o, "--probes"))
            P.probes = count(o, v, 0, SHOAL__SCHED_MAX_PROBES);
        else if (!strcmp(o, "--slack"))
            P.slack = num(o, v, 0, 1);
        else if (!strcmp(o, "--spin"))
            P.spin = num(o, v, 0, 1);
        else if (!strcmp(o, "--exact-max"))
            P.exact_max = count(o, v, 1, (uint64_t)1 << 40);
        else if (!strcmp(o, "--record-max"))
            P.record_max = count(o, v, 1, (uint64_t)1 << 30);
        else
            die("unknown option '%s'", o);
    }
    if (!have_ranks || !have_tasks)
        die("--ranks and --tasks are required");
    if (P.dist != D_CONSTANT && P.dist != D_FILE && !(P.mean > 0))
        die("--mean must be > 0 for a random distribution");
    if ((P.dist == D_FILE) != (P.costs_path != NULL))
        die("--dist file and --costs FILE go together");
    if (P.dist == D_PARETO)
        xm_pareto = P.mean * (P.alpha - 1) / P.alpha;
    if (P.dist == D_FILE) {
        FILE *f = fopen(P.costs_path, "rb");
        if (!f)
            die("--costs: cannot open '%s': %s", P.costs_path, strerror(errno));
        file_costs = malloc((size_t)P.tasks * sizeof *file_costs);
        if (!file_costs)
            die("--costs: out of memory for %llu tasks", (unsigned long long)P.tasks);
        file_n = fread(file_costs, sizeof *file_costs, (size_t)P.tasks, f);
        fclose(f);
        if (file_n != P.tasks)
            die("--costs: '%s' holds %llu float64 costs, fewer than --tasks %llu", P.costs_path,
                (unsigned long long)file_n, (unsigned long long)P.tasks);
        for (uint64_t i = 0; i < file_n; i++)
            if (!(file_costs[i] >= 0) || !isfinite(file_costs[i]))
                die("--costs: '%s' has a negative or non-finite cost", P.costs_path);
    }
    dist_moments(&P);
    /* G = 0 or G >= P: one group, the flat pool. */
    G = P.group > 0 && P.group < P.ranks ? P.group : 0;
    ngroups = G ? (P.ranks + G - 1) / G : 1;
}

int main(int argc, char **argv)
{
    parse(argc, argv);
    result r = simulate();
    double ideal = r.pure / (double)P.ranks;
    printf("{\"ranks\": %llu, \"tasks\": %llu, \"mean_task_s\": %.6g, \"service_s\": %.4g, "
           "\"latency_s\": %.4g, \"range_cost_s\": %.4g, \"task_cost_s\": %.4g, "
           "\"master_works\": %d, \"makespan_s\": %.9g, \"task_seconds\": %.9g, "
           "\"efficiency\": %.6f, \"ideal_s\": %.9g, \"tasks_per_s\": %.6g, "
           "\"first_task_last_s\": %.6g, \"first_task_mean_s\": %.6g, \"master_first_task_s\": %.6g, "
           "\"master_serve_frac\": %.6f, \"master_task_frac\": %.6f, "
           "\"requests\": %llu, \"ranges\": %llu, \"master_ranges\": %llu, "
           "\"runs\": %lld, \"max_task_s\": %.6g, \"bound_efficiency\": %.6f",
           (unsigned long long)P.ranks, (unsigned long long)P.tasks, mu_dist, P.service,
           P.latency, P.range_cost, P.task_cost, P.master_works, r.makespan, r.pure,
           r.makespan > 0 ? r.pure / ((double)P.ranks * r.makespan) : 1.0, ideal,
           r.makespan > 0 ? (double)P.tasks / r.makespan : 0.0, r.first_task_last,
           r.first_task_mean, M.first_task, r.makespan > 0 ? M.serve_seconds / r.makespan : 0.0,
           r.makespan > 0 ? M.task_seconds / r.makespan : 0.0,
           (unsigned long long)r.answered, (unsigned long long)r.ranges,
           (unsigned long long)M.ranges, recs_ok ? (long long)r.runs : -1LL, max_task,
           r.pure > 0 ? r.pure / ((double)P.ranks * (ideal > max_task ? ideal : max_task)) : 1.0);
    if (G)
        printf(", \"group\": %llu, \"groups\": %llu, \"root_requests\": %llu, "
               "\"big_ranges\": %llu, \"sub_requests\": %llu, \"sub_serve_frac_max\": %.6f, "
               "\"sub_ranges\": %llu",
               (unsigned long long)G, (unsigned long long)ngroups,
               (unsigned long long)M.answered, (unsigned long long)big_ranges,
               (unsigned long long)sub_answered,
               r.makespan > 0 ? sub_serve_max / r.makespan : 0.0, (unsigned long long)sub_ranges);
    printf("}\n");
    free(W);
    free(fifo);
    free(fifo_at);
    free(recs);
    free(heap);
    free(file_costs);
    for (uint64_t k = 1; G && k < ngroups; k++)
        free(SUB[k].q);
    free(SUB);
    return 0;
}
