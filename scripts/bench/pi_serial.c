/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pi_serial.c - the serial reference for the mc_pi kernel benchmark.
 *
 * The same Monte Carlo work as apps/mc_pi, as a plain C loop with no
 * framework around it: one generator allocated once, keyed per task with
 * shoal_rng_key(r, seed, task) exactly as Shoal keys shoal_task_rng(), then
 * `samples` points per task drawn with gsl_rng_uniform. The streams are
 * therefore the very numbers mc_pi draws, and the estimate printed below is
 * bit-identical to mc_pi's for the same seed, task count and sample count
 * (b_kernel.sh checks this), so a rate comparison measures Shoal's overhead
 * only.
 *
 *   pi_serial pi    GEN NTASKS SAMPLES SEED
 *       prints: pi_serial mode=pi rng=GEN ntasks=N samples=S seconds=T
 *               samples_per_s=X pi=P
 *   pi_serial draws GEN NTASKS DRAWS SEED
 *       the bare generator: DRAWS gsl_rng_uniform calls per task, summed;
 *       prints: pi_serial mode=draws rng=GEN ntasks=N draws=D seconds=T
 *               ns_per_draw=X sum=S
 *
 * GEN is philox4x64 (Shoal's default), philox4x32 or a GSL generator name
 * (mt19937, ...).
 * The timer (CLOCK_MONOTONIC) covers the task loop only, like mc_pi's pool
 * wall time; allocation of the generator is outside it.
 *
 * Build (b_kernel.sh does this):
 *   gcc -O3 -DNDEBUG -std=c11 -Ilib/include -Ibuild/lib/include \
 *       -I/usr/include/hdf5/openmpi -I/usr/lib/x86_64-linux-gnu/openmpi/include \
 *       scripts/bench/pi_serial.c build/lib/libshoal.a \
 *       $(pkg-config --libs gsl hdf5-openmpi ompi-c inih) -lm -o build/bench/pi_serial
 */
#define _POSIX_C_SOURCE 200809L

#include <shoal/rng.h>

#include <gsl/gsl_rng.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_u64(const char *s, uint64_t min, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    /* Accept 1e6 style too, as Shoal's config does. */
    double d = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || d < (double)min ||
        d > 9.2e18 || d != (double)(uint64_t)d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s pi GEN NTASKS SAMPLES SEED\n"
            "       %s draws GEN NTASKS DRAWS SEED\n"
            "  GEN: philox4x64, philox4x32 or a GSL generator name (mt19937, ...)\n",
            prog, prog);
    return 2;
}

int main(int argc, char **argv)
{
    const char *prog = argc > 0 ? argv[0] : "pi_serial";
    if (argc != 6)
        return usage(prog);
    const char *mode = argv[1], *gen = argv[2];
    uint64_t ntasks, per_task, seed;
    if ((strcmp(mode, "pi") != 0 && strcmp(mode, "draws") != 0) ||
        parse_u64(argv[3], 1, &ntasks) != 0 ||
        parse_u64(argv[4], 1, &per_task) != 0 ||
        parse_u64(argv[5], 1, &seed) != 0)
        return usage(prog);

    const gsl_rng_type *type = NULL;
    if (shoal_rng_type_find(gen, &type) != 0 || shoal_rng_check_seed(seed) != 0) {
        fprintf(stderr, "%s: bad generator '%s' or seed %s\n", prog, gen, argv[5]);
        return 2;
    }
    gsl_rng *r = gsl_rng_alloc(type);
    if (!r) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }

    if (!strcmp(mode, "pi")) {
        /* The loop of mc_pi's pi_task, with total counts kept as mc_pi's
         * summary keeps them (exact integer sums). */
        uint64_t total_hits = 0;
        double t0 = now();
        for (uint64_t task = 0; task < ntasks; task++) {
            shoal_rng_key(r, seed, task);
            long n = (long)per_task, hits = 0;
            for (long i = 0; i < n; i++) {
                double x = gsl_rng_uniform(r), y = gsl_rng_uniform(r);
                hits += x * x + y * y < 1.0;
            }
            total_hits += (uint64_t)hits;
        }
        double seconds = now() - t0;
        uint64_t total = ntasks * per_task;
        double p = (double)total_hits / (double)total;
        printf("pi_serial mode=pi rng=%s ntasks=%" PRIu64 " samples=%" PRIu64
               " seconds=%.6f samples_per_s=%.1f pi=%.10f\n",
               gen, ntasks, per_task, seconds,
               seconds > 0 ? (double)total / seconds : 0.0, 4.0 * p);
    } else {
        double sum = 0.0;
        double t0 = now();
        for (uint64_t task = 0; task < ntasks; task++) {
            shoal_rng_key(r, seed, task);
            for (uint64_t i = 0; i < per_task; i++)
                sum += gsl_rng_uniform(r);
        }
        double seconds = now() - t0;
        double draws = (double)ntasks * (double)per_task;
        printf("pi_serial mode=draws rng=%s ntasks=%" PRIu64 " draws=%" PRIu64
               " seconds=%.6f ns_per_draw=%.4f sum=%.6f\n",
               gen, ntasks, per_task, seconds, 1e9 * seconds / draws, sum);
    }
    gsl_rng_free(r);
    return 0;
}
