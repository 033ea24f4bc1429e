/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_app: the app the MPI tests drive.
 *
 * Outputs exercise every field kind (scalars of both types, a vector, a
 * matrix) and every draw path of the task's generator, so comparing files
 * across rank counts checks reproducibility for real. Parameters inject
 * failures (fail_every), misuse of the task API (misuse, misuse_every) and
 * uneven task durations (sleep_us). When the environment names
 * SHOAL_TEST_TRACE_DIR, each execution of a task appends its index to a
 * per-process file there: a side channel that lets the tests count
 * executions independently of the result file.
 *
 * Two more environment knobs, outside the config so that a --resume of the
 * same config may set them differently: SHOAL_TEST_SPIN_US makes every task
 * spin that many microseconds more (long tasks for the stop tests, a fast
 * reference run without it), and SHOAL_TEST_PID_DIR makes each rank write its
 * pid to <dir>/rank.<rank> before its first task, so that a test can signal
 * one chosen rank. SHOAL_TEST_STOP_AT=i makes task i send SIGUSR1 to its own
 * rank: a graceful stop at a known point of the run. SHOAL_TEST_HANG_FROM=i
 * makes every task from index i on sleep until the job is killed: a SIGKILL
 * test then kills a run that is surely mid-way, on any machine. */
#include <shoal/shoal.h>

#include <gsl/gsl_randist.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { U, G, K, V, M, X2, LABEL_LEN, NOUTPUTS };

static long spin_us = 0;  /* SHOAL_TEST_SPIN_US */
static long stop_at = -1; /* SHOAL_TEST_STOP_AT */
static long hang_from = -1; /* SHOAL_TEST_HANG_FROM */

static int write_pid(const char *dir)
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/rank.%d", dir, rank);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    /* Complete before it appears: the test reads it as soon as it exists. */
    return fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
}

static int trace_init(void *ctx, void **workspace)
{
    (void)ctx;
    const char *spin = getenv("SHOAL_TEST_SPIN_US");
    spin_us = spin ? atol(spin) : 0;
    const char *stop = getenv("SHOAL_TEST_STOP_AT");
    stop_at = stop && stop[0] ? atol(stop) : -1;
    const char *hang = getenv("SHOAL_TEST_HANG_FROM");
    hang_from = hang && hang[0] ? atol(hang) : -1;
    const char *pids = getenv("SHOAL_TEST_PID_DIR");
    if (pids && pids[0] && write_pid(pids) != 0)
        return -1;
    const char *dir = getenv("SHOAL_TEST_TRACE_DIR");
    *workspace = NULL;
    if (!dir || !dir[0])
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/trace.%ld", dir, (long)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    /* Line-buffered: a SIGKILLed rank must not lose executions it made. */
    setvbuf(f, NULL, _IOLBF, 0);
    *workspace = f;
    return 0;
}

static void trace_finalize(void *ctx, void *workspace)
{
    (void)ctx;
    if (workspace)
        fclose(workspace);
}

static void spin_for(double seconds)
{
    double t0 = shoal_now();
    while (shoal_now() - t0 < seconds) {
    }
}

/* Misuse of the task API, as an app with a bug would do it: the tasks with
 * index i % misuse_every == misuse_every - 1 take turns through the
 * comma-separated list `misuse` (the k-th such task, k = i / misuse_every,
 * does entry k % length). Each must fail the task with the library's
 * message; an unnoticed misuse, or one that hands back something else than
 * documented, fails it with code 99 and says so. */
static int misuse(shoal_task *t, const char *list, uint64_t k)
{
    size_t n = 1;
    for (const char *c = list; *c; c++)
        n += *c == ',';
    const char *how = list;
    for (k %= n; k > 0; k--)
        how = strchr(how, ',') + 1;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)strcspn(how, ","), how);
    how = buf;
    if (!strcmp(how, "unknown_param")) {
        long v = shoal_param_long(t, "nope");
        if (v != 0)
            shoal_task_fail(t, 99, "unknown parameter gave %ld, not 0", v);
    } else if (!strcmp(how, "null_param")) {
        const char *name = NULL;
        long v = shoal_param_long(t, name);
        if (v != 0)
            shoal_task_fail(t, 99, "NULL parameter name gave %ld, not 0", v);
    } else if (!strcmp(how, "wrong_type")) {
        long v = shoal_param_long(t, "label");
        if (v != 0)
            shoal_task_fail(t, 99, "string parameter as long gave %ld, not 0", v);
    } else if (!strcmp(how, "wrong_type_float")) {
        long v = shoal_param_long(t, "x");
        if (v != 0)
            shoal_task_fail(t, 99, "float parameter as long gave %ld, not 0", v);
    } else if (!strcmp(how, "wrong_type_string")) {
        const char *v = shoal_param_string(t, "sleep_us");
        if (!v || v[0])
            shoal_task_fail(t, 99, "integer parameter as string gave %s", v ? v : "NULL");
    } else if (!strcmp(how, "bad_field")) {
        shoal_set_double(t, 99, 1.0);
    } else if (!strcmp(how, "negative_field")) {
        shoal_set_double(t, -1, 1.0);
    } else if (!strcmp(how, "wrong_field_type")) {
        shoal_set_int64(t, U, 1);
    } else if (!strcmp(how, "wrong_out_type")) {
        if (shoal_out_double(t, K) != NULL)
            shoal_task_fail(t, 99, "shoal_out_double on an int64 field gave a row");
    } else {
        return shoal_task_fail(t, 99, "unknown misuse '%s'", how);
    }
    if (!shoal_task_failed(t))
        return shoal_task_fail(t, 99, "misuse '%s' went unnoticed", how);
    return 0;
}

static int test_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    uint64_t i = shoal_task_index(t);
    FILE *trace = shoal_task_workspace(t);
    if (trace)
        fprintf(trace, "%llu\n", (unsigned long long)i);

    if ((long)i == stop_at)
        raise(SIGUSR1);

    /* Tasks from this index on never finish (until the job is killed): a
     * test that SIGKILLs a run knows it is killed mid-run, however slow or
     * loaded the machine. */
    if (hang_from >= 0 && (long)i >= hang_from)
        for (;;)
            sleep(1);

    /* A poison task: brings its process down, every time. */
    if ((long)i == shoal_param_long(t, "crash_at"))
        raise(SIGSEGV);

    long misuse_every = shoal_param_long(t, "misuse_every");
    if (misuse_every > 0 && i % (uint64_t)misuse_every == (uint64_t)misuse_every - 1)
        misuse(t, shoal_param_string(t, "misuse"), i / (uint64_t)misuse_every);

    long sleep_us = shoal_param_long(t, "sleep_us");
    if (sleep_us > 0)
        spin_for(1e-6 * (double)(sleep_us * (long)(i % 7)));
    if (spin_us > 0)
        spin_for(1e-6 * (double)spin_us);

    gsl_rng *r = shoal_task_rng(t);
    shoal_set_double(t, U, gsl_rng_uniform(r));
    shoal_set_double(t, G, gsl_ran_gaussian(r, 2.385));
    shoal_set_int64(t, K, (int64_t)gsl_rng_get(r));
    double *v = shoal_out_double(t, V);
    for (int k = 0; k < 3; k++)
        v[k] = gsl_rng_uniform_pos(r);
    int64_t *m = shoal_out_int64(t, M);
    for (int k = 0; k < 4; k++)
        m[k] = (int64_t)(i * 4 + (uint64_t)k);

    /* Echo the parameters the task saw, to compare with /params. */
    shoal_set_double(t, X2, 2.0 * shoal_param_double(t, "x"));
    shoal_set_int64(t, LABEL_LEN, (int64_t)strlen(shoal_param_string(t, "label")));

    /* A transient failure: only the first attempt of these tasks fails, after
     * drawing numbers, so a retry must restart the stream to match. */
    long flaky_every = shoal_param_long(t, "flaky_every");
    if (flaky_every > 0 && i % (uint64_t)flaky_every == 0 && shoal_task_attempt(t) == 1)
        return shoal_task_fail(t, 9, "transient failure at task %llu",
                               (unsigned long long)i);

    /* A failure caused by the environment (a missing input, say): fixed by
     * the user, then rerun with --resume --retry-failed. */
    const char *env = getenv("SHOAL_TEST_ENV_FAIL_EVERY");
    long env_every = env ? atol(env) : 0;
    if (env_every > 0 && i % (uint64_t)env_every == 0)
        return shoal_task_fail(t, 11, "environment not ready for task %llu",
                               (unsigned long long)i);

    long fail_every = shoal_param_long(t, "fail_every");
    if (fail_every > 0 && i % (uint64_t)fail_every == (uint64_t)fail_every - 1)
        return shoal_task_fail(t, 7, "injected failure at task %llu",
                               (unsigned long long)i);
    return SHOAL_OK;
}

/* The watch hook (SHOAL_TEST_WATCH): checks that tasks come in index
 * order, each once, with values that agree with their status (u in [0, 1)
 * when done, NaN when failed), and stops or fails where told. */
static int watch_hook(uint64_t task, int status, const double *values, void *ctx)
{
    (void)ctx;
    static uint64_t next = 0;
    const char *how = getenv("SHOAL_TEST_WATCH");
    long at = how ? atol(strchr(how, ':') ? strchr(how, ':') + 1 : "-1") : -1;
    if (task != next) {
        fprintf(stderr, "test_app: watch hook got task %llu, expected %llu\n",
                (unsigned long long)task, (unsigned long long)next);
        return -1;
    }
    next++;
    int ok = status == SHOAL_STATUS_DONE ? values[0] >= 0 && values[0] < 1
                                         : status == SHOAL_STATUS_FAILED && isnan(values[0]);
    if (!ok) {
        fprintf(stderr, "test_app: watch hook: task %llu status %d u %g\n",
                (unsigned long long)task, status, values[0]);
        return -1;
    }
    if ((long)task == at)
        return !strncmp(how, "fail", 4) ? -5 : 1;
    return 0;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        /* u, g and k are watched: for [run] stop_when (adapt_cases.sh);
         * watching costs nothing without a stop_when or the hook. */
        [U] = {.name = "u", .unit = "1", .type = SHOAL_FLOAT64, .doc = "uniform draw",
               .watch = 1},
        [G] = {.name = "g", .unit = "1", .type = SHOAL_FLOAT64, .doc = "gaussian, sigma 2.385",
               .watch = 1},
        [K] = {.name = "k", .type = SHOAL_INT64, .doc = "raw 32-bit draw", .watch = 1},
        [V] = {.name = "v", .unit = "1", .type = SHOAL_FLOAT64, .ndims = 1, .dims = {3},
               .doc = "three uniforms in (0,1)"},
        [M] = {.name = "m", .unit = "1", .type = SHOAL_INT64, .ndims = 2, .dims = {2, 2},
               .doc = "4 i + k"},
        [X2] = {.name = "x2", .unit = "m", .type = SHOAL_FLOAT64, .doc = "2 x, as the task saw x"},
        [LABEL_LEN] = {.name = "label_len", .type = SHOAL_INT64,
                       .doc = "length of label, as the task saw it"},
    };
    static const shoal_param params[] = {
        {.name = "fail_every", .type = SHOAL_INT64, .dflt = "0",
         .doc = "fail tasks with index % n == n - 1 (0: none)", .min = 0,
         .max = 1e9},
        {.name = "sleep_us", .type = SHOAL_INT64, .dflt = "0",
         .doc = "busy time of task i: (i % 7) * sleep_us", .min = 0, .max = 1e7},
        {.name = "crash_at", .type = SHOAL_INT64, .dflt = "-1",
         .doc = "task that crashes its process with SIGSEGV (-1: none)", .min = -1,
         .max = 1e15},
        {.name = "flaky_every", .type = SHOAL_INT64, .dflt = "0",
         .doc = "first attempt of tasks with index % n == 0 fails (0: none)",
         .min = 0, .max = 1e9},
        {.name = "x", .unit = "m", .type = SHOAL_FLOAT64, .dflt = "0", .doc = "echoed as x2"},
        {.name = "label", .type = SHOAL_STRING, .dflt = "none",
         .doc = "its length is echoed as label_len"},
        {.name = "misuse", .type = SHOAL_STRING, .dflt = "none",
         .doc = "task API misuses, comma-separated, taken in turn by the "
                "misuse_every tasks: unknown_param, "
                "null_param, wrong_type, wrong_type_float, wrong_type_string, bad_field, "
                "negative_field, wrong_field_type, wrong_out_type"},
        {.name = "misuse_every", .type = SHOAL_INT64, .dflt = "0",
         .doc = "tasks with index % n == n - 1 misuse the API (0: none)",
         .min = 0, .max = 1e9},
    };
    const shoal_app app = {
        .name = "test_app",
        .doc = "Test app for Shoal's MPI tests.",
        .run = test_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .worker_init = trace_init,
        .worker_finalize = trace_finalize,
        /* SHOAL_TEST_WATCH=stop:N or fail:N: the watch hook asks to stop,
         * or fails, at task N; unset: no hook. */
        .watch = getenv("SHOAL_TEST_WATCH") ? watch_hook : NULL,
    };
    return shoal_main(&app, argc, argv);
}
