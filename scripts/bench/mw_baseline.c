/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mw_baseline.c - hand-written MPI master-worker dispatch baseline.
 *
 * The reference against which Shoal's per-task overhead is compared: the
 * simplest dynamic scheduler one would write by hand.
 *
 *   mpicc -O2 -Wall -Wextra -Werror -o mw_baseline mw_baseline.c
 *   mpirun -n 3 ./mw_baseline NTASKS [BATCH]
 *
 * Rank 0 is a dedicated master; ranks 1..n-1 are workers. A worker sends a
 * request (MPI_Send), the master receives it (MPI_Recv from MPI_ANY_SOURCE)
 * and replies (MPI_Send) with {start, count}: the next BATCH task indices,
 * or count == 0 meaning "stop". Each task is empty work: the worker adds
 * i * 0.5 to a running sum and stores it in a per-worker result slot.
 *
 * The time is measured with MPI_Wtime from a barrier before dispatch to the
 * moment every worker has been told to stop (so all work is done). The sums
 * are reduced to rank 0 and checked against the closed form.
 *
 * Output (rank 0, one line):
 *   mw_baseline ntasks=N ranks=R batch=B seconds=S tasks_per_s=X checksum=C ok
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <mpi.h>

enum { TAG_REQUEST = 1, TAG_REPLY = 2 };

/* Per-worker result slots, written once per task. Global and read back at
 * the end so the compiler cannot drop the stores or the arithmetic. */
#define NSLOTS 1024
static double slots[NSLOTS];

static int parse_ll(const char *s, long long min, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min)
        return -1;
    *out = v;
    return 0;
}

static void run_master(long long ntasks, long long batch, int nworkers)
{
    long long next = 0;
    int active = nworkers;
    int request;
    long long reply[2];
    MPI_Status st;

    while (active > 0) {
        MPI_Recv(&request, 1, MPI_INT, MPI_ANY_SOURCE, TAG_REQUEST,
                 MPI_COMM_WORLD, &st);
        long long count = ntasks - next;
        if (count > batch)
            count = batch;
        reply[0] = next;
        reply[1] = count;
        next += count;
        if (count == 0)
            active--;
        MPI_Send(reply, 2, MPI_LONG_LONG, st.MPI_SOURCE, TAG_REPLY,
                 MPI_COMM_WORLD);
    }
}

static double run_worker(void)
{
    double sink = 0.0;
    int request = 0;
    long long reply[2];

    for (;;) {
        MPI_Send(&request, 1, MPI_INT, 0, TAG_REQUEST, MPI_COMM_WORLD);
        MPI_Recv(reply, 2, MPI_LONG_LONG, 0, TAG_REPLY, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        const long long start = reply[0], count = reply[1];
        if (count == 0)
            break;
        for (long long i = start; i < start + count; i++) {
            sink += (double)i * 0.5;
            slots[i & (NSLOTS - 1)] = sink;
        }
    }
    return sink;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);

    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    long long ntasks = 0, batch = 1;
    if (argc < 2 || argc > 3 || parse_ll(argv[1], 0, &ntasks) != 0 ||
        (argc == 3 && parse_ll(argv[2], 1, &batch) != 0)) {
        if (rank == 0)
            fprintf(stderr, "usage: %s NTASKS [BATCH]\n"
                            "  NTASKS >= 0, BATCH >= 1 (default 1)\n",
                    argc > 0 ? argv[0] : "mw_baseline");
        MPI_Finalize();
        return 2;
    }
    if (size < 2) {
        if (rank == 0)
            fprintf(stderr, "mw_baseline: needs at least 2 MPI ranks "
                            "(1 master + workers), got %d; "
                            "run e.g. mpirun -n 2 %s %lld\n",
                    size, argv[0], ntasks);
        MPI_Finalize();
        return 2;
    }

    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();

    double sink = 0.0;
    if (rank == 0)
        run_master(ntasks, batch, size - 1);
    else
        sink = run_worker();

    /* The master has handed out every "stop" only after each worker came
     * back for more, i.e. after all work is done. */
    const double seconds = MPI_Wtime() - t0;

    double slot_sum = 0.0;
    for (int k = 0; k < NSLOTS; k++)
        slot_sum += slots[k];
    double local[2] = {sink, slot_sum}, total[2] = {0.0, 0.0};
    MPI_Reduce(local, total, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);

    if (rank == 0) {
        /* sum_{i<N} i/2 = N(N-1)/4; exact in double for N below ~1e8. */
        const double expected = 0.25 * (double)ntasks * (double)(ntasks - 1);
        const int ok = ntasks < 2 || total[0] == expected;
        printf("mw_baseline ntasks=%lld ranks=%d batch=%lld seconds=%.6f "
               "tasks_per_s=%.0f checksum=%.17g slots=%.6g %s\n",
               ntasks, size, batch, seconds,
               seconds > 0.0 ? (double)ntasks / seconds : 0.0, total[0],
               total[1], ok ? "ok" : "MISMATCH");
        fflush(stdout);
        MPI_Finalize();
        return ok ? 0 : 1;
    }

    MPI_Finalize();
    return 0;
}
