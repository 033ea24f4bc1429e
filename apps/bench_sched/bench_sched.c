/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_sched: the ceiling of one scheduling-only master (rank 0), for
 * scripts/bench/b_sched.sh.
 *
 *   mpirun -n R bench_sched serve NTASKS [GROUP_SIZE]
 *   bench_sched model SERVICE_US LATENCY_US [TARGET_S MAX_TASKS]
 *
 * serve: the real pool (shoal_pool_run) with master_idle = 1 and
 * max_range_tasks = 1, so every request a worker sends is answered with a
 * range of one empty task (or, at the end, with "stop"): rank 0 does
 * nothing but answer requests. A short run first warms MPI's connections;
 * the second run is measured. Rank 0 prints one line:
 *
 *   bench_sched serve ranks=R workers=W ntasks=N requests=Q wall_s=S
 *     cpu0_s=C cpu_us_per_request=X busy_us_per_request=B requests_per_s=Y
 *     lat_p50_us=P lat_p99_us=P99 lat_mean_us=M lat_fast=F lat_n=K ok
 *
 * requests: the requests rank 0 answered, counted from outside the pool:
 * every worker sends one request per range it runs plus its first (the
 * last answer is "stop"), i.e. the sum over workers of
 * shoal_pool_stats.ranges + 1; checked against rank 0's sent messages
 * (one answer per request plus one STOP message per worker). cpu0_s: rank
 * 0's process CPU time (CLOCK_PROCESS_CPUTIME_ID, MPI's own threads
 * included) over shoal_pool_run. busy_us_per_request: rank 0's pool wall
 * time outside its waits (wall_seconds - idle_seconds) per request.
 * requests_per_s: requests / rank 0's pool wall time. lat_*: on rank 1,
 * the time from the start of one range to the start of the next; with
 * empty tasks that is one round trip: the request for the next range is
 * sent just before a range runs, and the worker then waits for its answer
 * (plus its own MPI_Send of the following request). lat_fast: the
 * fraction of those under 10 us: answered while both ends were still
 * polling, before either went to sleep (pool.c's back-off; a sleep lasts
 * at least the kernel's timer slack, 50 us by default).
 *
 * GROUP_SIZE (default 0, flat): the pool's group_size. With groups, rank 1
 * is still one of rank 0's own clients (group 0), the sub-masters answer
 * their members, and the line's root_answers (rank 0's sent messages less
 * one STOP per client) and root_answers_per_task say how much of the
 * answering rank 0 kept; requests still counts every worker's requests.
 *
 * model: no MPI. For task times of 10 us, 1 ms and 1 s and jobs of 10^6 and
 * 10^8 tasks, the ranges the library's scheduler (sched.c, called here)
 * hands out to P workers, with the master's measured service time s per
 * request; prints, per (task time, tasks), the largest rank count
 * (P workers + the master) one master keeps busy, by two rules:
 *
 *   steady: P * s <= n(P) * t, where n(P) is the length of the first range
 *           the scheduler hands out once the task time is known (P workers
 *           each finishing a range of n tasks of t seconds ask P / (n t)
 *           times a second; the master answers at most 1 / s a second);
 *   eff95:  the whole run keeps efficiency >= 0.95 in a fluid model of
 *           every range the scheduler hands out, in order: range k, of n_k
 *           tasks, takes max(s, n_k t / P) of the run (the master hands out
 *           one range per s at most; P workers take n_k t / P per range
 *           otherwise), plus one latency L for the first answer and half
 *           the first round of answers, P s / 2 (worker w gets its first
 *           range w s after the start; the P^2 s / 2 idle worker-seconds
 *           this leaves are shared out by the dynamic hand-out);
 *           efficiency = (N t / P) / run time. The guided sizes shrink
 *           towards the end of the run, so the last ranges saturate the
 *           master first: eff95 is the stricter rule.
 *
 * with the range lengths picked at those rank counts (capped=1: a rule
 * holds up to as many workers as tasks, where the search stops). The model
 * assumes s
 * does not grow with the number of workers (MPI progress over more peers
 * does, on a real cluster), no probes (the apps ask for up to 64 single
 * tasks at the start), and tasks of one length. It also prints, per
 * (task time, tasks), the efficiency at 1, 2, 3, 4, 6, 9, 13, ... workers
 * (each 1.5 times the last):
 *
 *   bench_sched curve task_s=T ntasks=N ranks=R eff=E range_tasks=n */
#include <shoal/pool.h>

#include "sched.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

/* ---- serve ----------------------------------------------------------------- */

#define FAST_SECONDS 10e-6 /* a round trip without a sleep at either end */

typedef struct {
    double *starts; /* rank 1: when each range began */
    uint64_t n, cap;
    volatile double sink;
} serve_ctx;

static int empty_range(void *arg, shoal_pool *pool, uint64_t start, uint64_t count)
{
    serve_ctx *c = arg;
    double now = shoal_now();
    if (c->n < c->cap)
        c->starts[c->n++] = now;
    for (uint64_t i = 0; i < count; i++) {
        c->sink = 0.5 * (double)(start + i); /* the empty task */
        shoal_pool_yield(pool, now);
    }
    return 0;
}

static double cpu_now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of sorted v[0..n) (nearest rank). */
static double quantile(const double *v, uint64_t n, double q)
{
    if (n == 0)
        return NAN;
    uint64_t i = (uint64_t)ceil(q * (double)n);
    return v[i > 0 ? i - 1 : 0];
}

static int serve(uint64_t ntasks, unsigned group)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) {
        if (rank == 0)
            fprintf(stderr, "bench_sched serve: needs at least 2 ranks (a master and a worker)\n");
        return 2;
    }
    serve_ctx c = {0};
    if (rank == 1) {
        c.cap = ntasks;
        c.starts = malloc((size_t)ntasks * sizeof *c.starts);
        if (!c.starts) {
            fprintf(stderr, "bench_sched serve: out of memory\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    shoal_pool_config cfg = {
        .ntasks = ntasks / 10 > 1000 ? 1000 : ntasks / 10 + 1,
        .max_range_tasks = 1, /* every answer: one task */
        .first_range_tasks = 1,
        .master_idle = 1, /* rank 0 only answers */
        .group_size = group, /* > 0: sub-masters answer their groups */
    };
    shoal_pool_stats st;
    uint64_t cap = c.cap;
    c.cap = 0; /* the warm-up run records nothing */
    if (shoal_pool_run(MPI_COMM_WORLD, &cfg, empty_range, &c, &st) != 0)
        return 1;
    c.cap = cap;
    cfg.ntasks = ntasks;

    MPI_Barrier(MPI_COMM_WORLD);
    double cpu0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, empty_range, &c, &st);
    double cpu = cpu_now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    if (rc != 0)
        return 1;

    /* Requests answered: each worker's ranges, plus its first request. */
    unsigned long long mine = rank > 0 ? (unsigned long long)st.ranges + 1 : 0, requests = 0;
    unsigned long long tasks = rank > 0 ? (unsigned long long)st.tasks : 0, all_tasks = 0;
    MPI_Reduce(&mine, &requests, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&tasks, &all_tasks, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);

    /* Rank 1's round trips: from one range's start to the next's. */
    double lat[5] = {NAN, NAN, NAN, 0, NAN};
    if (rank == 1) {
        uint64_t k = c.n > 1 ? c.n - 1 : 0;
        for (uint64_t i = 0; i < k; i++)
            c.starts[i] = c.starts[i + 1] - c.starts[i];
        qsort(c.starts, (size_t)k, sizeof *c.starts, cmp_double);
        double sum = 0, fast = 0;
        for (uint64_t i = 0; i < k; i++) {
            sum += c.starts[i];
            fast += c.starts[i] < FAST_SECONDS;
        }
        lat[0] = quantile(c.starts, k, 0.5);
        lat[1] = quantile(c.starts, k, 0.99);
        lat[2] = k ? sum / (double)k : NAN;
        lat[3] = (double)k;
        lat[4] = k ? fast / (double)k : NAN;
        MPI_Send(lat, 5, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD);
    } else if (rank == 0) {
        MPI_Recv(lat, 5, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    free(c.starts);
    if (rank != 0)
        return 0;

    /* Rank 0's clients: every worker, or with groups group 0's ranks and
     * one sub-master per further group; each gets one STOP message. */
    int nworkers = size - 1;
    int grouped = group > 0 && (unsigned)size > group;
    int clients = grouped ? (int)group - 1 + (size - 1) / (int)group : nworkers;
    unsigned long long answers = (unsigned long long)st.messages - (unsigned long long)clients;
    /* With groups the sub-masters answer their members' requests, so
     * rank 0's answers are fewer than the workers' requests. */
    if ((grouped ? answers >= requests : answers != requests) || all_tasks != ntasks ||
        st.tasks != 0) {
        fprintf(stderr,
                "bench_sched serve: counts disagree: %llu requests from the workers, %llu "
                "answers from rank 0, %llu of %llu tasks run by the workers, %llu by rank 0\n",
                requests, answers, all_tasks, (unsigned long long)ntasks,
                (unsigned long long)st.tasks);
        return 1;
    }
    printf("bench_sched serve ranks=%d workers=%d ntasks=%llu requests=%llu wall_s=%.6f "
           "cpu0_s=%.6f cpu_us_per_request=%.4f busy_us_per_request=%.4f "
           "requests_per_s=%.1f lat_p50_us=%.3f lat_p99_us=%.3f lat_mean_us=%.3f "
           "lat_fast=%.4f lat_n=%.0f group=%u root_answers=%llu root_answers_per_task=%.4f ok\n",
           size, nworkers, (unsigned long long)ntasks, requests, st.wall_seconds, cpu,
           1e6 * cpu / (double)requests,
           1e6 * (st.wall_seconds - st.idle_seconds) / (double)requests,
           (double)requests / st.wall_seconds, 1e6 * lat[0], 1e6 * lat[1], 1e6 * lat[2],
           lat[4], lat[3], group, answers, (double)answers / (double)ntasks);
    return 0;
}

/* ---- model ----------------------------------------------------------------- */

typedef struct {
    double eff;           /* (N t / P) / run time */
    uint64_t first_timed; /* the first range's length once t is known */
    uint64_t ranges;      /* ranges handed out */
    double saturated;     /* fraction of the tasks in ranges with n t / P < s */
} walk_result;

/* A schedule of N tasks for P workers after the master's first answers:
 * min(P, N) ranges of first_range_tasks = 1 task, handed out before any
 * timing is known (every worker asks at the start), advanced in one step
 * and then reported as taking t each. Returns how many went out. */
static uint64_t first_answers(shoal__sched *sc, uint64_t N, uint64_t P, double t, double target,
                              uint64_t max_tasks)
{
    shoal__sched_init(sc, N, (int)P, target, max_tasks, 1);
    uint64_t m = P < N ? P : N;
    sc->next += m;
    sc->handed += m;
    shoal__sched_report(sc, m, (double)m * t);
    return m;
}

/* Every range the scheduler hands out to P workers for N tasks of t
 * seconds, in order, timed by the fluid model (see the header): the first
 * answers (first_answers), then every range, reported as handed out (the
 * tasks all take t, so when the reports arrive does not change the mean).
 * Runs of equal ranges bound by time or by max_tasks are advanced in one
 * step: the scheduler hands out the same length until the guided term falls
 * below it. */
static walk_result walk(uint64_t N, uint64_t P, double t, double s, double L,
                        double target, uint64_t max_tasks)
{
    walk_result w = {0};
    shoal__sched sc;
    double per = t / (double)P;
    uint64_t start, n, m = first_answers(&sc, N, P, t, target, max_tasks);
    double run = L + 0.5 * (double)m * s + (double)m * fmax(s, per);
    double sat = s > per ? (double)m : 0;
    w.ranges = m;
    while ((n = shoal__sched_next(&sc, &start)) > 0) {
        if (!w.first_timed)
            w.first_timed = n;
        uint64_t k = 1;
        uint64_t rem = sc.ntasks - sc.handed; /* after this range */
        uint64_t div = 2 * P;
        if (rem >= n && (rem / div + (rem % div != 0)) >= n) {
            /* The guided term stays >= n while rem >= div * (n - 1) + 1. */
            uint64_t floor_rem = div * (n - 1) + 1;
            uint64_t more = rem >= floor_rem ? (rem - floor_rem) / n + 1 : 0;
            if (more * n > rem)
                more = rem / n;
            sc.next += more * n;
            sc.handed += more * n;
            k += more;
        }
        shoal__sched_report(&sc, k * n, (double)(k * n) * t);
        run += (double)k * fmax(s, (double)n * per);
        sat += s > (double)n * per ? (double)(k * n) : 0;
        w.ranges += k;
    }
    w.eff = ((double)N * per) / run;
    w.saturated = sat / (double)N;
    return w;
}

/* The length of the first timed range at P workers. */
static uint64_t steady_range(uint64_t N, uint64_t P, double t, double target, uint64_t max_tasks)
{
    shoal__sched sc;
    uint64_t start;
    first_answers(&sc, N, P, t, target, max_tasks);
    return shoal__sched_next(&sc, &start);
}

#define P_MAX ((uint64_t)1 << 30)

static int steady_ok(uint64_t N, uint64_t P, double t, double s, double target,
                     uint64_t max_tasks)
{
    uint64_t n = steady_range(N, P, t, target, max_tasks);
    return n > 0 && (double)P * s <= (double)n * t;
}

/* The largest P in [1, min(P_MAX, N)] for which ok(P) holds, ok being true up to
 * some P and false beyond (0: not even P = 1). */
#define LARGEST(ok)                                                    \
    do {                                                               \
        uint64_t lo = 0, hi = P_MAX < N ? P_MAX : N;                   \
        if (ok(hi))                                                    \
            lo = hi;                                                   \
        while (hi - lo > 1) {                                          \
            uint64_t mid = lo + (hi - lo) / 2;                         \
            if (ok(mid))                                               \
                lo = mid;                                              \
            else                                                       \
                hi = mid;                                              \
        }                                                              \
        best = lo;                                                     \
    } while (0)

static int model(double s, double L, double target, uint64_t max_tasks)
{
    static const double times[] = {10e-6, 1e-3, 1.0};
    static const uint64_t jobs[] = {1000000, 100000000};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++)
        for (size_t j = 0; j < sizeof jobs / sizeof *jobs; j++) {
            double t = times[i];
            uint64_t N = jobs[j], best;
#define OK_STEADY(P) steady_ok(N, (P), t, s, target, max_tasks)
#define OK_EFF(P) (walk(N, (P), t, s, L, target, max_tasks).eff >= 0.95)
            LARGEST(OK_STEADY);
            uint64_t p_steady = best;
            LARGEST(OK_EFF);
            uint64_t p_eff = best;
            uint64_t n_steady = p_steady ? steady_range(N, p_steady, t, target, max_tasks) : 0;
            walk_result w = p_eff ? walk(N, p_eff, t, s, L, target, max_tasks) : (walk_result){0};
            walk_result ws = p_steady ? walk(N, p_steady, t, s, L, target, max_tasks)
                                      : (walk_result){0};
            printf("bench_sched model task_s=%g ntasks=%llu service_us=%.4f latency_us=%.4f "
                   "max_ranks_steady=%llu range_tasks_steady=%llu eff_at_steady=%.4f capped=%d "
                   "max_ranks_eff95=%llu range_tasks_eff95=%llu ranges_eff95=%llu "
                   "saturated_fraction_eff95=%.6f ok\n",
                   t, (unsigned long long)N, 1e6 * s, 1e6 * L,
                   (unsigned long long)(p_steady + 1), (unsigned long long)n_steady, ws.eff,
                   p_steady + 1 >= N || p_eff + 1 >= N,
                   (unsigned long long)(p_eff + 1), (unsigned long long)w.first_timed,
                   (unsigned long long)w.ranges, w.saturated);
            /* The efficiency against the rank count, for a plot. */
            for (uint64_t P = 1; P < N && P <= P_MAX; P += P < 2 ? 1 : P / 2) {
                walk_result c = walk(N, P, t, s, L, target, max_tasks);
                printf("bench_sched curve task_s=%g ntasks=%llu ranks=%llu eff=%.5f "
                       "range_tasks=%llu\n",
                       t, (unsigned long long)N, (unsigned long long)(P + 1), c.eff,
                       (unsigned long long)c.first_timed);
            }
        }
    return 0;
}

/* ---- main ------------------------------------------------------------------ */

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0))
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < 1)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: mpirun -n R bench_sched serve NTASKS [GROUP_SIZE]\n"
                    "       bench_sched model SERVICE_US LATENCY_US [TARGET_S MAX_TASKS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "model") == 0) {
        double s, L, target = 0.05;
        uint64_t max_tasks = SHOAL__SCHED_MAX_TASKS;
        if ((argc != 4 && argc != 6) || parse_double(argv[2], &s) || parse_double(argv[3], &L) ||
            (argc == 6 && (parse_double(argv[4], &target) || parse_u64(argv[5], &max_tasks))))
            return usage();
        return model(s * 1e-6, L * 1e-6, target, max_tasks);
    }
    uint64_t ntasks;
    uint64_t group = 0;
    if ((argc != 3 && argc != 4) || strcmp(argv[1], "serve") != 0 || parse_u64(argv[2], &ntasks) ||
        (argc == 4 && strcmp(argv[3], "0") != 0 && (parse_u64(argv[3], &group) || group > 65536)))
        return usage();
    MPI_Init(&argc, &argv);
    int rc = serve(ntasks, (unsigned)group);
    if (rc == 1)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
    return rc;
}
