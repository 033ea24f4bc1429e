/* SPDX-License-Identifier: GPL-3.0-or-later */
/* app.c: shoal_main, the turnkey driver, as a sequence of phases over one
 * run context.
 *
 *   set_up       command line, config text (rank 0 reads, all parse),
 *                settings, the [input] (rank 0 inspects, all learn the
 *                task count) — every rank reaches the same verdict, and only
 *                rank 0 speaks (the others run with a silent error handler
 *                until the file is open)
 *   open_output  signals, the output's lock, the store (create or resume),
 *                the crash log
 *   plan         on --resume: what is left to run
 *   run          the runner on every rank under the pool
 *   finish       the file's totals, close, status and the summary
 *
 * --help and --version are answered before MPI_Init (cli.c). Every phase
 * ends in an agreement, so a failure on any rank sends every rank down the
 * same single error exit. Exit status: see app.h. */
#include <shoal/app.h>
#include <shoal/config.h>
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/pool.h>
#include <shoal/version.h>

#include "cli.h"
#include "crash.h"
#include "keeper.h"
#include "lock.h"
#include "mpiutil.h"
#include "plan.h"
#include "progress.h"
#include "reduce.h"
#include "report.h"
#include "runner.h"
#include "settings.h"
#include "signals.h"
#include "steer.h"
#include "store.h"
#include "stream.h"

#include <gsl/gsl_errno.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* Bytes of row buffers per rank: small enough to stay in cache while tasks
 * fill the rows and the write copies them out (bench_big at 2 ranks moves
 * 1 MiB rows at ~4 GB/s with 1-2 MiB of buffer, ~0.8 GB/s with 32 MiB). */
#define MAX_ROW_BUFFER (2u << 20)

typedef struct {
    const shoal_app *app;       /* &own */
    shoal_app own;              /* the app, as its configure hook left it */
    int argc;
    char **argv;
    MPI_Comm comm;
    int rank, nranks;
    shoal_error_handler *prev;  /* rank != 0: the handler before silencing */
    int silenced;
    shoal__cli cli;
    char *text;                 /* the config file's text */
    size_t len;
    char *env;                  /* rank 0's variables the config names */
    size_t envlen;
    shoal_config *cfg;
    shoal__settings rs;
    char *fingerprint;
    char *lock_path;            /* rank 0, while it holds the output's lock */
    int signals_on, crash_on;
    shoal_store *store;
    shoal__plan plan;
    shoal__runner runner;
    shoal__progress progress;   /* rank 0 */
    shoal__steer steer;         /* results that steer the run (steer.h) */
    shoal_pool_stats ps;
    int prc;                    /* the pool's verdict */
    double wall;
    uint64_t ran[2];            /* done, failed in this run (all ranks) */
    uint64_t file[4];           /* the file's tasks per status after the run */
    int status;                 /* exit status */
} run_ctx;

static void silent_handler(const char *reason, const char *file, int line, int code)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)code;
}

static int exit_for(int rc)
{
    switch (rc) {
    case SHOAL_ECONFIG:
    case SHOAL_EUSAGE:
    case SHOAL_EEXIST:
    case SHOAL_ENOENT:
    case SHOAL_ERANGE:
    case SHOAL_ENOTFOUND:
        return SHOAL_EXIT_USAGE;
    default:
        return SHOAL_EXIT_ERROR;
    }
}

/* Broadcast len bytes of buf in pieces: counts are int. */
static void bcast_bytes(char *buf, size_t len, MPI_Comm comm)
{
    for (size_t off = 0; off < len; off += (size_t)1 << 30) {
        size_t n = len - off < ((size_t)1 << 30) ? len - off : (size_t)1 << 30;
        MPI_Bcast(buf + off, (int)n, MPI_CHAR, 0, comm);
    }
}

/* Rank 0 reads the file and the environment variables it and the options
 * name (${NAME}); every rank gets (rc, text, variables): under srun each
 * rank has its own environment, and rank 0's decides for all. */
static int share_config_text(run_ctx *r)
{
    int64_t hdr[3] = {0, 0, 0}; /* rc, length, variables' length */
    if (r->rank == 0) {
        if (!r->cli.config)
            hdr[0] = SHOAL_ERROR(SHOAL_EUSAGE, "no config file given; usage: PROGRAM "
                                 "[OPTIONS] CONFIG.ini (see --help)");
        else
            hdr[0] = shoal_config_read_file(r->cli.config, &r->text, &r->len);
        /* The --set values and --output name variables too. */
        const char **opts = hdr[0] == 0 ? malloc(((size_t)r->cli.nsets + 1) * sizeof *opts) : NULL;
        if (hdr[0] == 0 && !opts)
            hdr[0] = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading the options");
        if (opts) {
            for (int i = 0; i < r->cli.nsets; i++)
                opts[i] = r->cli.sets[i];
            opts[r->cli.nsets] = r->cli.output;
            hdr[0] = shoal_config_env_capture(r->text, r->len, opts, (size_t)r->cli.nsets + 1,
                                              &r->env, &r->envlen);
        }
        free(opts);
        hdr[1] = (int64_t)r->len;
        hdr[2] = (int64_t)r->envlen;
    }
    MPI_Bcast(hdr, 3, MPI_INT64_T, 0, r->comm);
    if (hdr[0] < 0)
        return (int)hdr[0];
    if (r->rank != 0) {
        r->len = (size_t)hdr[1];
        r->envlen = (size_t)hdr[2];
        r->text = malloc(r->len + 1);
        r->env = malloc(r->envlen + 1);
        if (!r->text || !r->env)
            shoal__abort(r->comm, "out of memory for the config text");
    }
    bcast_bytes(r->text, r->len, r->comm);
    bcast_bytes(r->env, r->envlen, r->comm);
    r->text[r->len] = '\0';
    return 0;
}

/* Command line, config and settings. Returns the agreed code; 1 when the
 * command line only asked for --help or --version. */
static int set_up(run_ctx *r)
{
    int rc = shoal__settings_check_app(r->app);
    if (rc == 0)
        rc = shoal__cli_parse(r->argc, r->argv, &r->cli);
    if (rc == 0 && (r->cli.help || r->cli.version)) {
        if (r->rank == 0) {
            if (r->cli.help)
                shoal__cli_help(r->app, r->argc > 0 ? r->argv[0] : NULL, stdout);
            else
                printf("%s (shoal %s)\n", r->app->name, SHOAL_VERSION_STRING);
        }
        return 1; /* identical on every rank: same argv */
    }
    if (rc == 0)
        shoal_log_set_level(r->cli.verbosity < 0    ? SHOAL_LOG_QUIET
                            : r->cli.verbosity == 0 ? SHOAL_LOG_INFO
                            : r->cli.verbosity == 1 ? SHOAL_LOG_VERBOSE
                                                    : SHOAL_LOG_DEBUG);
    if (rc == 0)
        rc = share_config_text(r);
    if (rc == 0)
        rc = shoal_config_parse_env(r->text, r->len, r->cli.config, r->env, r->envlen,
                                    &r->cfg);
    for (int i = 0; rc == 0 && i < r->cli.nsets; i++)
        rc = shoal_config_set(r->cfg, r->cli.sets[i]);
    if (rc == 0 && r->cli.output) {
        char buf[4200];
        snprintf(buf, sizeof buf, "run.output=%s", r->cli.output);
        rc = shoal_config_set(r->cfg, buf);
    }
    /* An app whose outputs or parameters come from the config. */
    if (rc == 0 && r->own.configure) {
        rc = r->own.configure(&r->own, r->cfg);
        if (rc == 0)
            rc = shoal__settings_check_app(r->app);
    }
    if (rc == 0)
        rc = shoal__settings_read(r->cfg, r->app, &r->rs);
    rc = shoal__agree(r->comm, rc);
    /* [input]: rank 0 inspects the data, every rank learns the task count. */
    if (rc == 0 && r->rs.input)
        rc = shoal__input_setup(r->rs.input, r->comm, r->cfg, r->rs.output, &r->rs.tasks);
    return rc;
}

/* Signals, the lock, the store and the crash log. */
static int open_output(run_ctx *r)
{
    /* A stream's source first: one that cannot be used stops the run
     * before anything is written. */
    if (r->rs.stream) {
        int src = shoal__stream_open(r->rs.stream, r->comm);
        if (src < 0)
            return src;
    }
    /* From here a signal stops the run gracefully (signals.h). */
    shoal__signals_install(r->rs.grace_seconds);
    r->signals_on = 1;

    /* One run per output file: rank 0 takes the lock first. */
    int rc = r->rank == 0 ? shoal__lock_acquire(r->rs.output, &r->lock_path) : 0;
    rc = shoal__agree(r->comm, rc);
    if (rc < 0)
        return rc;
    /* --continue: resume what is there (under the lock, so no other run
     * creates it meanwhile), else start. Anything at the path counts: a
     * file that is not this run's is refused by the resume's checks. */
    if (r->cli.resume_if_exists) {
        struct stat sb;
        int exists = r->rank == 0 && lstat(r->rs.output, &sb) == 0;
        MPI_Bcast(&exists, 1, MPI_INT, 0, r->comm);
        r->cli.resume = exists;
        if (r->rank == 0)
            shoal_log_verbose("--continue: '%s' %s", r->rs.output,
                              exists ? "exists: resuming it" : "does not exist: starting it");
    }

    r->fingerprint = shoal__settings_fingerprint(r->app, r->cfg, &r->rs);
    shoal_store_input input;
    if (r->rs.input)
        shoal__input_describe(r->rs.input, &input);
    shoal_store_spec spec = {
        .path = r->rs.output,
        .force = r->cli.force,
        .ntasks = r->rs.tasks,
        .fields = r->app->outputs,
        .nfields = r->app->noutputs,
        .app = r->app->name,
        .config_text = r->text,
        .config_source = r->cli.config,
        .rng = r->rs.rng,
        .seed = r->rs.seed,
        .params = r->rs.cols,
        .nparams = r->rs.nscan,
        .with_points = r->rs.has_scan && !r->rs.search.on,
        .const_names = r->rs.const_names,
        .const_values = r->rs.const_values,
        .const_decls = r->rs.const_decls,
        .nconsts = r->rs.nconsts,
        .scan = r->rs.scan ? shoal_scan_describe(r->rs.scan) : NULL,
        .overrides = shoal_config_overrides(r->cfg),
        .config_env = shoal_config_env(r->cfg),
        .fingerprint = r->fingerprint ? r->fingerprint : "",
        .row_bytes = shoal__settings_row_bytes(r->app, &r->rs),
        .npoints = r->rs.scan ? shoal_scan_points(r->rs.scan) : 0,
        .replicates = r->rs.scan ? shoal_scan_replicates(r->rs.scan) : 0,
        .derived = r->app->derived,
        .nderived = r->app->nderived,
        .drop_failures = r->cli.retry_failed,
        .input = r->rs.input ? &input : NULL,
        .search_rungs = r->rs.search.on ? r->rs.search.nrungs : 0,
        .search_method = r->rs.search.method_name,
        .search_budget = r->rs.search.budget_name,
        .search_objective = r->rs.search.objective_name,
        .search_goal = r->rs.search.maximize ? "max" : "min",
        .search_eta = r->rs.search.eta,
        .search_budget_int = r->rs.search.budget_type == SHOAL_INT64,
        .grow_rows = r->rs.stream ? shoal__stream_grow_rows(r->rs.stream) : 0,
    };
    rc = r->cli.resume ? shoal_store_open(r->comm, &spec, &r->store)
                       : shoal_store_create(r->comm, &spec, &r->store);
    if (rc < 0)
        return rc;
    /* A new run starts a new crash log: an old one beside the output (left
     * by the run --force replaced) would quarantine tasks that never
     * crashed in this run. */
    if (!r->cli.resume && r->rank == 0)
        shoal__crash_forget(r->rs.output);
    /* Run-time errors differ between ranks: every rank speaks from here. */
    if (r->silenced)
        shoal_set_error_handler(r->prev);
    r->silenced = 0;
    /* From here a crashing task is recorded in <output>.crashes. */
    rc = shoal__agree(r->comm, shoal__crash_install(r->rs.output));
    r->crash_on = rc == 0;
    return rc;
}

/* --resume: rank 0 works out what is left; every rank learns how much. */
static int plan(run_ctx *r)
{
    shoal__steer_init(&r->steer, r->app, &r->rs, r->rank);
    if (!r->cli.resume) {
        int rc = r->rank == 0 ? shoal__steer_start(&r->steer, r->store, 0, &r->plan) : 0;
        return shoal__agree(r->comm, rc);
    }
    int rc = 0;
    if (r->rank == 0) {
        shoal__plan *p = &r->plan;
        rc = shoal__plan_resume(r->store, r->rs.output, r->cli.retry_failed,
                                r->rs.max_crashes, p);
        if (rc == 0)
            shoal_log_info("%s: resuming '%s': %llu done, %llu failed, %llu "
                           "interrupted while running, %llu pending; running "
                           "%llu task%s",
                           r->app->name, r->rs.output,
                           (unsigned long long)p->before[SHOAL_STATUS_DONE],
                           (unsigned long long)p->before[SHOAL_STATUS_FAILED],
                           (unsigned long long)p->before[SHOAL_STATUS_RUNNING],
                           (unsigned long long)p->before[SHOAL_STATUS_PENDING],
                           (unsigned long long)p->todo_tasks, p->todo_tasks == 1 ? "" : "s");
        if (rc == 0)
            rc = shoal__steer_start(&r->steer, r->store, 1, &r->plan);
    }
    rc = shoal__agree(r->comm, rc);
    MPI_Bcast(&r->plan.todo_tasks, 1, MPI_UINT64_T, 0, r->comm);
    return rc;
}

/* A task that a resumed file had finished: a sample of its stratum's cost
 * for the progress line's ETA. */
static void known_task(void *ctx, uint64_t task, double seconds)
{
    shoal__progress_known(ctx, task, 1, seconds);
}

static void add_stats(shoal_pool_stats *sum, const shoal_pool_stats *s)
{
    sum->tasks += s->tasks;
    sum->ranges += s->ranges;
    sum->busy_seconds += s->busy_seconds;
    sum->idle_seconds += s->idle_seconds;
    sum->wall_seconds += s->wall_seconds;
    sum->messages += s->messages;
}

/* A stream (stream.h): pool runs over the rows the file has, growing it
 * between them, until the stream ends or the run stops; then the file is
 * cut to the items that arrived. Sets r->prc. */
static int run_stream(run_ctx *r, const shoal_pool_config *base)
{
    shoal__stream *st = r->rs.stream;
    uint64_t rows = shoal_store_ntasks(r->store), recorded = 0;
    uint64_t (*list)[2] = NULL;
    size_t nlist = 0;
    int rc = 0;
    if (r->rank == 0) {
        rc = shoal__stream_start(st, r->store, (const uint64_t(*)[2])r->plan.todo,
                                 r->plan.ntodo, &recorded);
        /* Items recorded and not done run first, then the rows to come. */
        list = rc == 0 ? malloc((r->plan.ntodo + 1) * sizeof *list) : NULL;
        if (rc == 0 && !list)
            rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory planning the stream");
        for (size_t i = 0; rc == 0 && i < r->plan.ntodo; i++) {
            uint64_t a = r->plan.todo[i][0], b = a + r->plan.todo[i][1];
            if (b > recorded)
                b = recorded;
            if (a < b) {
                list[nlist][0] = a;
                list[nlist++][1] = b - a;
            }
        }
        if (rc == 0 && recorded < rows) {
            list[nlist][0] = recorded;
            list[nlist++][1] = rows - recorded;
        }
    }
    rc = shoal__agree(r->comm, rc);
    if (rc < 0) {
        free(list);
        r->prc = rc;
        return 0;
    }
    uint64_t arrived = recorded;
    for (;;) {
        shoal_pool_config pc = *base;
        pc.ntasks = rows;
        pc.ranges = (const uint64_t(*)[2])list;
        pc.nranges = nlist;
        shoal__stream_pool(st, &pc, rows, r->rank);
        shoal_pool_stats ps;
        r->prc = shoal_pool_run(r->comm, &pc, shoal__runner_range, &r->runner, &ps);
        add_stats(&r->ps, &ps);
        /* Rank 0 says what comes next. */
        int64_t v[3] = {0, 0, 0}; /* ended, arrived, failed */
        if (r->rank == 0) {
            shoal__stream_sync(st, r->prc == 0);
            v[0] = shoal__stream_ended(st, &arrived);
            v[1] = (int64_t)arrived;
            v[2] = shoal__stream_failed(st);
        }
        MPI_Bcast(v, 3, MPI_INT64_T, 0, r->comm);
        arrived = (uint64_t)v[1];
        if (r->prc != 0 || v[2] < 0 || v[0]) {
            if (r->prc == 0 && v[2] < 0)
                r->prc = (int)v[2];
            break;
        }
        /* The items filled the file: it grows, by half again at least. */
        uint64_t grow = shoal__stream_grow_rows(st);
        uint64_t more = rows / 2 > grow ? rows / 2 : grow;
        int grc = shoal_store_grow(r->store, rows + more);
        if (grc < 0) {
            r->prc = grc;
            break;
        }
        free(list);
        list = NULL;
        nlist = 0;
        if (r->rank == 0) {
            list = malloc(sizeof *list);
            if (!list)
                shoal__abort(r->comm, "out of memory planning the stream");
            list[0][0] = rows;
            list[0][1] = more;
            nlist = 1;
        }
        rows += more;
    }
    free(list);
    /* The file keeps the items that arrived, no empty rows: a resumed run
     * goes on from them. */
    if ((r->prc == 0 || r->prc == SHOAL_EINTR) && arrived != rows) {
        int grc = shoal_store_grow(r->store, arrived);
        if (grc < 0)
            r->prc = grc;
    }
    r->rs.tasks = arrived;
    return 0;
}

/* Every rank runs ranges under the pool. Returns the agreed set-up code;
 * the pool's own verdict goes to r->prc. */
static int run(run_ctx *r)
{
    uint64_t row_bytes = shoal__settings_row_bytes(r->app, &r->rs);
    uint64_t max_rows = r->rs.max_range_tasks;
    if (max_rows > MAX_ROW_BUFFER / row_bytes)
        max_rows = MAX_ROW_BUFFER / row_bytes ? MAX_ROW_BUFFER / row_bytes : 1;
    int rc = shoal__runner_init(&r->runner, r->app, r->store, r->rank, r->rs.seed,
                                r->rs.rng_type, r->rs.params, r->app->nparams, r->rs.scan,
                                (int)r->rs.retries, max_rows);
    rc = shoal__agree(r->comm, rc);
    if (rc < 0)
        return rc;
    r->runner.input = r->rs.input; /* tasks read their slices from it */
    if (r->rs.stream && shoal__stream_nparams(r->rs.stream) > 0)
        rc = shoal__agree(r->comm, shoal__runner_line_params(&r->runner, r->rs.cols,
                                                              r->rs.nscan));
    if (rc < 0)
        return rc;

    /* Rank 0 reports the tasks it just failed for crashing, in /failures. */
    for (size_t i = 0; i < r->plan.npoison && r->runner.nlog < SHOAL_FAILURE_SLOTS; i++)
        r->runner.log[r->runner.nlog++] = r->plan.poison[i];

    shoal_pool_config pc = {
        .ntasks = r->rs.tasks,
        .target_range_seconds = r->rs.target_range_seconds,
        .max_range_tasks = max_rows,
        .first_range_tasks = 1,
        .master_idle = !r->rs.master_works,
        .ranges = (const uint64_t(*)[2])r->plan.todo,
        .nranges = r->plan.ntodo,
        /* A signal on any rank stops every rank (signals.h). */
        .stop_check = shoal__signals_stop_check,
        .stop_notify = shoal__signals_stop_notify,
        /* Progress on rank 0, its ETA helped by early probes. */
        .on_range = shoal__progress_range,
        .on_tick = shoal__progress_tick,
        .progress_ctx = &r->progress,
        .probes = SHOAL__ETA_STRATA,
        /* Sub-masters (docs/hierarchy.md); the pool stays flat where the
         * steering below needs rank 0 range by range. */
        .group_size = (unsigned)r->rs.group_size,
    };
    /* Watched values, a decided end, a search's tasks (steer.h). */
    shoal__steer_pool(&r->steer, &pc, &r->runner);
    if (r->cli.resume && r->rank == 0 && r->plan.ntodo == 0)
        pc.ntasks = 0; /* nothing left */
    if (r->rank == 0) {
        /* The file's counts when the run began, less what it runs again. */
        uint64_t before[4];
        memcpy(before, r->plan.before, sizeof before);
        if (r->cli.retry_failed)
            before[SHOAL_STATUS_FAILED] = 0;
        shoal__progress_start(&r->progress, r->app->name, r->cli.progress,
                              r->cli.progress_every, r->rs.tasks,
                              r->cli.resume ? (const uint64_t(*)[2])r->plan.todo : NULL,
                              r->plan.ntodo, r->cli.resume ? before : NULL, shoal_now());
        if (r->rs.stream) {
            r->progress.open_ended = 1;
            r->progress.eta_ok = 0;
        }
        /* Only a better first estimate: a read error here stops nothing. */
        if (r->cli.resume && r->progress.mode != SHOAL__PROGRESS_NONE &&
            shoal_store_each_finished(r->store, known_task, &r->progress) < 0)
            shoal_log_verbose("progress: the earlier tasks' times could not be read; the "
                              "time left is estimated from this run's tasks only");
    }
    double t0 = MPI_Wtime();
    if (r->rs.stream)
        rc = run_stream(r, &pc);
    else
        r->prc = shoal_pool_run(r->comm, &pc, shoal__runner_range, &r->runner, &r->ps);
    r->wall = MPI_Wtime() - t0;
    /* Each rank's share of the scheduling (-vv): with group_size, rank
     * 0's messages fall by about the group size (docs/hierarchy.md). */
    shoal_log_debug("pool: %llu tasks in %llu ranges, %llu messages sent, busy %.3f s, "
                    "idle %.3f s of %.3f s",
                    (unsigned long long)r->ps.tasks, (unsigned long long)r->ps.ranges,
                    (unsigned long long)r->ps.messages, r->ps.busy_seconds,
                    r->ps.idle_seconds, r->ps.wall_seconds);
    if (rc < 0)
        return rc;
    shoal__steer_pool_done(&r->steer); /* the list goes; the end reads the file */
    shoal__plan_free(&r->plan);
    uint64_t counts[2] = {r->runner.done, r->runner.failed};
    MPI_Allreduce(counts, r->ran, 2, MPI_UINT64_T, MPI_SUM, r->comm);
    /* The last line has the exact counts: a worker's last range reaches
     * rank 0 with no request after it. */
    if (r->rank == 0)
        shoal__progress_end(&r->progress, shoal_now(), r->ran[0], r->ran[1]);
    return 0;
}

/* The file's totals, close, the exit status and the summary. */
static int finish(run_ctx *r)
{
    /* The file's own totals: the truth after resumes and interruptions. */
    int frc = 0;
    if (r->rank == 0) {
        uint64_t (*none)[2] = NULL;
        size_t nnone = 0;
        frc = shoal_store_scan_status(r->store, 0, &none, &nnone, r->file);
        free(none);
    }
    MPI_Bcast(r->file, 4, MPI_UINT64_T, 0, r->comm);
    frc = shoal__agree(r->comm, frc);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    shoal_store_rank_stats mine = {
        r->ps.tasks, r->ps.busy_seconds, r->ps.idle_seconds,
        (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
            (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec,
        (uint64_t)ru.ru_maxrss};
    int interrupted = r->prc == SHOAL_EINTR;
    uint64_t left = r->file[SHOAL_STATUS_PENDING] + r->file[SHOAL_STATUS_RUNNING];
    /* Watching: where the results ended the run. Tasks beyond it may be
     * left pending: they are not part of the run. */
    if (frc == 0 && r->prc == 0 && shoal__steer_adapting(&r->steer)) {
        int used_set = shoal__steer_decide(&r->steer, r->comm, r->store);
        if (used_set < 0)
            r->prc = used_set;
        else if (used_set > 0)
            left = 0;
    }
    /* A complete run (every task done or failed) gets its reductions and
     * per-point aggregates; until then they read NaN. */
    if (frc == 0 && r->prc == 0 && left == 0 && r->rs.search.on) {
        int src = shoal__steer_search_end(&r->steer, r->comm, r->store);
        if (src < 0)
            r->prc = src;
    }
    int rrc = frc == 0 && r->prc == 0 && left == 0
                  ? shoal__reduce_run(r->store, r->app, &r->runner)
                  : 0;
    if (rrc < 0)
        r->prc = rrc;
    shoal_store_segment_ran(r->store, r->ran[0], r->ran[1]);
    int rc = shoal_store_close(r->store, &mine, r->file[SHOAL_STATUS_DONE],
                               r->file[SHOAL_STATUS_FAILED], r->wall, r->runner.log,
                               r->runner.nlog,
                               r->prc == 0 && left == 0 ? "complete"
                               : interrupted            ? "interrupted"
                               : r->prc == 0            ? "incomplete"
                                                        : "error");
    r->store = NULL;
    shoal__runner_free(&r->runner);
    if (frc < 0 && rc == 0)
        rc = frc;
    const char *name = r->app->name;

    if (interrupted && rc == 0) {
        if (r->rank == 0)
            shoal__report_interrupted(name, shoal__stop_requested(), r->file, r->rs.tasks,
                                      r->rs.output, r->argc, r->argv, r->nranks);
        return SHOAL_EXIT_INTERRUPTED;
    }
    if (r->prc < 0 || rc < 0) {
        if (r->rank == 0)
            shoal_log_error("run did not complete: %llu of %llu tasks done; "
                            "see the messages above; the file can be resumed "
                            "with --resume once the cause is fixed",
                            (unsigned long long)r->file[SHOAL_STATUS_DONE],
                            (unsigned long long)r->rs.tasks);
        return SHOAL_EXIT_ERROR;
    }
    if (left > 0) {
        /* Every listed task was handed out and none failed to write: tasks
         * left now mean someone else wrote to the file. */
        if (r->rank == 0)
            shoal_log_error("%llu tasks are still not done after the run; was "
                            "another process writing to '%s'? Run again with "
                            "--resume to finish them",
                            (unsigned long long)left, r->rs.output);
        return SHOAL_EXIT_ERROR;
    }
    int status = r->file[SHOAL_STATUS_FAILED] > 0 ? SHOAL_EXIT_TASKS_FAILED : SHOAL_EXIT_OK;
    if (r->rank == 0) {
        if (shoal_log_get_level() >= SHOAL_LOG_INFO)
            shoal__report_summary(name, r->ran[0], r->ran[1], r->nranks, r->wall, r->file,
                                  r->rs.tasks, r->cli.resume, r->rs.output,
                                  r->steer.stop_used,
                                  r->steer.stop_set ? r->steer.stop_reason : NULL);
        if (r->steer.search_line[0] && shoal_log_get_level() >= SHOAL_LOG_INFO)
            printf("%s: %s\n", name, r->steer.search_line);
        if (r->rs.stream && shoal_log_get_level() >= SHOAL_LOG_INFO)
            printf("%s: %s\n", name, shoal__stream_summary(r->rs.stream));
        if (r->app->summary && shoal_log_get_level() >= SHOAL_LOG_INFO) {
            shoal_results *res = NULL;
            int src = shoal_results_open(r->rs.output, &res);
            if (src == 0)
                src = r->app->summary(res, r->app->ctx);
            shoal_results_close(res);
            if (src < 0 && status == SHOAL_EXIT_OK)
                status = SHOAL_EXIT_ERROR;
        }
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, r->comm);
    return status;
}

/* Release everything the run holds; an open store is closed as "error". */
static void clean_up(run_ctx *r)
{
    if (r->store) {
        shoal_store_rank_stats none = {0, 0, 0, 0, 0};
        shoal_store_close(r->store, &none, 0, 0, 0, NULL, 0, "error");
        r->store = NULL;
    }
    if (r->crash_on)
        shoal__crash_restore();
    shoal__lock_release(r->lock_path);
    r->lock_path = NULL;
    if (r->signals_on)
        shoal__signals_restore();
    shoal__keeper_stop();
    if (r->silenced)
        shoal_set_error_handler(r->prev);
    shoal__runner_free(&r->runner);
    shoal__progress_free(&r->progress);
    shoal__steer_free(&r->steer);
    shoal__plan_free(&r->plan);
    shoal__settings_free(&r->rs);
    free(r->fingerprint);
    shoal_config_free(r->cfg);
    free(r->text);
    free(r->env);
    shoal__cli_free(&r->cli);
}

int shoal_main(const shoal_app *app, int argc, char **argv)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int early = shoal__cli_answer_early(app, argc, argv);
        if (early >= 0)
            return early;
        MPI_Init(&argc, &argv);
    }
    /* GSL's default error handler calls abort(); a task must get error
     * codes from GSL instead, and the run must go on. */
    gsl_set_error_handler_off();

    run_ctx r;
    memset(&r, 0, sizeof r);
    r.own = *app;
    r.app = &r.own;
    r.argc = argc;
    r.argv = argv;
    MPI_Comm_dup(MPI_COMM_WORLD, &r.comm);
    MPI_Comm_rank(r.comm, &r.rank);
    MPI_Comm_size(r.comm, &r.nranks);
    shoal_log_set_rank(r.rank, r.nranks);
    /* Set-up errors are identical on every rank: only rank 0 prints them. */
    if (r.rank != 0) {
        r.prev = shoal_set_error_handler(silent_handler);
        r.silenced = 1;
    }

    int rc = set_up(&r);
    if (rc == 0 && r.cli.dry_run) {
        rc = r.rank == 0 ? shoal__report_dry_run(r.app, &r.cli, &r.rs, r.cfg, r.nranks) : 0;
        rc = shoal__agree(r.comm, rc);
    } else if (rc == 0) {
        rc = open_output(&r);
        if (rc == 0)
            rc = plan(&r);
        if (rc == 0)
            rc = run(&r);
        if (rc == 0)
            r.status = finish(&r);
    }
    if (rc < 0)
        r.status = exit_for(rc);
    clean_up(&r);
    fflush(stdout);
    MPI_Comm_free(&r.comm);
    if (!initialized)
        MPI_Finalize();
    return r.status;
}
