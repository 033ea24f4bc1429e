/* SPDX-License-Identifier: GPL-3.0-or-later */
/* shoal_model_probe: the machine's figures that scripts/model/shoal_model
 * takes as parameters, measured with the real pool (lib/src/pool.c).
 *
 *   mpirun -n 2 build/scripts/model/shoal_model_probe [RANGES]
 *
 *  - service (service_s): rank 0 runs ranges of one empty task too (the
 *    default), so it never sleeps; the one worker runs ranges of one empty
 *    task; no file. Rank 0's wall time in the pool, less its own ranges at
 *    what one costs alone (the same pool on MPI_COMM_SELF, RANGES ranges),
 *    divided by the requests it answered: the time one request costs rank 0
 *    when it is busy.
 *  - idle_cpu_per_request_s: rank 0 only schedules (master_idle), the
 *    worker runs RANGES (default 200000) empty one-task ranges: rank 0's
 *    CPU time per request, its spinning and waking from back-off sleeps
 *    included (cpu_fraction: its share of a core), and round_trip_s, the
 *    worker's wall time per range.
 *  - latency: half the round trip of a 64-byte MPI_Send/MPI_Recv
 *    ping-pong between ranks 0 and 1 (10^5 round trips).
 *  - slack: the mean extra time of nanosleep(2 us) over 2 us (2000 calls):
 *    what the back-off's shortest sleep really takes.
 * Prints one JSON line from rank 0. */
#include <shoal/pool.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int empty_range(void *arg, shoal_pool *pool, uint64_t start, uint64_t count)
{
    (void)start;
    (*(uint64_t *)arg) += count;
    shoal_pool_yield(pool, shoal_now());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    uint64_t nranges = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    if (size != 2 || nranges < 1) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -n 2 shoal_model_probe [RANGES >= 1]\n");
        MPI_Finalize();
        return 2;
    }

    /* nanosleep(2 us): what it really takes. */
    double slack = 0;
    if (rank == 0) {
        const int n = 2000;
        double t0 = shoal_now();
        for (int i = 0; i < n; i++) {
            struct timespec ts = {0, 2000};
            nanosleep(&ts, NULL);
        }
        slack = (shoal_now() - t0) / n - 2e-6;
    }

    /* Ping-pong: one-way latency. */
    MPI_Barrier(MPI_COMM_WORLD);
    const int npp = 100000;
    char buf[64] = {0};
    double p0 = MPI_Wtime();
    for (int i = 0; i < npp; i++) {
        if (rank == 0) {
            MPI_Send(buf, 64, MPI_CHAR, 1, 7, MPI_COMM_WORLD);
            MPI_Recv(buf, 64, MPI_CHAR, 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, 64, MPI_CHAR, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, 64, MPI_CHAR, 0, 7, MPI_COMM_WORLD);
        }
    }
    double latency = (MPI_Wtime() - p0) / (2.0 * npp);

    /* Rank 0 alone: what one empty one-task range costs it. */
    uint64_t done = 0;
    double alone = 0;
    shoal_pool_config one = {.ntasks = nranges, .max_range_tasks = 1, .first_range_tasks = 1};
    shoal_pool_stats st1;
    if (rank == 0) {
        double a0 = shoal_now();
        shoal_pool_run(MPI_COMM_SELF, &one, empty_range, &done, &st1);
        alone = (shoal_now() - a0) / (double)st1.ranges;
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* Both rank 0 and the worker run one-task ranges: rank 0 is busy. */
    shoal_pool_stats stb;
    int rcb = shoal_pool_run(MPI_COMM_WORLD, &one, empty_range, &done, &stb);
    uint64_t wr = rank == 1 ? stb.ranges : 0, wall_r = 0;
    MPI_Reduce(&wr, &wall_r, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    double service = 0;
    if (rank == 0)
        service = (stb.wall_seconds - alone * (double)stb.ranges) / (double)(wall_r + 1);
    MPI_Barrier(MPI_COMM_WORLD);

    /* The pool: ranges of one empty task, rank 0 only scheduling. */
    shoal_pool_config cfg = {
        .ntasks = nranges,
        .max_range_tasks = 1,
        .first_range_tasks = 1,
        .master_idle = 1,
    };
    shoal_pool_stats st;
    MPI_Barrier(MPI_COMM_WORLD);
    double c0 = cpu_now();
    int rc = shoal_pool_run(MPI_COMM_WORLD, &cfg, empty_range, &done, &st);
    double cpu = cpu_now() - c0;
    uint64_t ranges = rank == 1 ? st.ranges : 0, all = 0;
    MPI_Reduce(&ranges, &all, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    double wworker = rank == 1 ? st.wall_seconds : 0, wall = 0;
    MPI_Reduce(&wworker, &wall, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        /* Requests: one per range and the last ("stop"). */
        double requests = (double)all + 1;
        printf("{\"service_s\": %.4g, \"own_range_s\": %.4g, \"busy_master_ranges\": %llu, "
               "\"busy_worker_ranges\": %llu, \"idle_cpu_per_request_s\": %.4g, "
               "\"cpu_fraction\": %.3f, \"round_trip_s\": %.4g, \"latency_s\": %.4g, "
               "\"slack_s\": %.4g, \"ranges\": %llu}\n",
               service, alone, (unsigned long long)stb.ranges, (unsigned long long)wall_r,
               cpu / requests, cpu / st.wall_seconds, wall / (double)all, latency, slack,
               (unsigned long long)all);
    }
    MPI_Finalize();
    return rc == 0 && rcb == 0 ? 0 : 1;
}
