/* app.c: shoal_main, the turnkey driver.
 *
 * --help and --version are answered before MPI_Init, without MPI.
 * Order of a run: MPI_Init; every rank parses the command line (mpirun hands
 * all ranks the same argv) but only rank 0 speaks; rank 0 reads the config
 * file and broadcasts its text; every rank parses the same text, so every
 * rank reaches the same verdict on it and errors are printed once (other
 * ranks run with a silent error handler during set-up). Then the store is
 * created collectively, the pool runs the tasks, the store is closed
 * collectively, and rank 0 prints the summary. Exit status: see app.h. */
#include <shoal/app.h>
#include <shoal/config.h>
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/pool.h>
#include <shoal/rng.h>
#include <shoal/scan.h>
#include <shoal/version.h>

#include "choices.h"
#include "crash.h"
#include "lock.h"
#include "runner.h"
#include "sched.h"

#include <gsl/gsl_errno.h>
#include "signals.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* Bytes of row buffers per rank: small enough to stay in cache while tasks
 * fill the rows and the write copies them out (bench_big at 2 ranks moves
 * 1 MiB rows at ~4 GB/s with 1-2 MiB of buffer, ~0.8 GB/s with 32 MiB). */
#define MAX_ROW_BUFFER (2u << 20)

/* ---- command line --------------------------------------------------------------- */

typedef struct {
    const char *config;   /* positional CONFIG */
    const char *output;   /* --output */
    const char **sets;    /* --set values, in order */
    int nsets;
    int force, help, version, dry_run, resume, retry_failed;
    int verbosity;        /* -q: -1, -v: +1 each */
} cli;

enum { OPT_OUTPUT, OPT_SET, OPT_FORCE, OPT_RESUME, OPT_RETRY_FAILED,
       OPT_DRY_RUN, OPT_QUIET, OPT_VERBOSE, OPT_HELP, OPT_VERSION, NOPTS };

static const struct {
    char shortname;
    const char *longname;
    const char *arg;  /* NULL: a flag */
    const char *doc;
} options[NOPTS] = {
    [OPT_OUTPUT] = {'o', "output", "PATH",
                    "write results to PATH (same as --set run.output=PATH)"},
    [OPT_SET] = {'s', "set", "SECTION.KEY=VALUE",
                 "override a config value; repeatable"},
    [OPT_FORCE] = {'f', "force", NULL, "replace an existing output file"},
    [OPT_RESUME] = {'r', "resume", NULL,
                    "finish the run in an existing output file: only tasks not "
                    "done run"},
    [OPT_RETRY_FAILED] = {'R', "retry-failed", NULL,
                          "with --resume: run again only the tasks that failed"},
    [OPT_DRY_RUN] = {'n', "dry-run", NULL,
                     "show the tasks, parameters and output size; write nothing"},
    [OPT_QUIET] = {'q', "quiet", NULL, "print errors only"},
    [OPT_VERBOSE] = {'v', "verbose", NULL, "print more; twice for debug output"},
    [OPT_HELP] = {'h', "help", NULL, "show this help and exit"},
    [OPT_VERSION] = {'V', "version", NULL, "show the version and exit"},
};

/* The [run] section, also as a table: one place for names, defaults, docs. */
static const struct {
    const char *key;
    const char *dflt;
    const char *doc;
} run_keys[] = {
    {"tasks", NULL, "number of tasks (required, >= 1, unless [scan] sets it)"},
    {"seed", "1", "run seed, 1..2^63-1; with the task index it keys every random stream"},
    {"output", "<app>.h5", "result file (HDF5); never replaced without --force"},
    {"rng", "philox4x32", "generator: philox4x32, or a GSL name (mt19937, ...)"},
    {"target_range_seconds", "0.05", "longest wanted run time of one range of tasks"},
    {"max_range_tasks", "262144", "most tasks in one range (also bounded by 2 MiB of rows)"},
    {"master_works", "true", "rank 0 runs tasks between scheduling duties"},
    {"retries", "0", "extra attempts of a failing task, same random stream (0..254)"},
    {"grace_seconds", "30", "after SIGTERM/SIGINT/SIGUSR1, time to finish running tasks"},
    {"max_crashes", "2", "a task that crashed its process this often is marked failed on --resume"},
};

static void print_help(const shoal_app *app, FILE *out)
{
    fprintf(out,
            "Usage: %s [OPTIONS] CONFIG.ini\n"
            "       mpirun -n N %s [OPTIONS] CONFIG.ini\n\n%s%s"
            "Options:\n",
            app->name, app->name, app->doc ? app->doc : "",
            app->doc ? "\n\n" : "");
    for (int i = 0; i < NOPTS; i++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "-%c, --%s%s%s", options[i].shortname,
                 options[i].longname, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(out, "  %-30s %s\n", lhs, options[i].doc);
    }
    fprintf(out, "\nConfig file, section [run]:\n");
    for (size_t i = 0; i < sizeof run_keys / sizeof run_keys[0]; i++)
        fprintf(out, "  %-22s %s%s%s\n", run_keys[i].key, run_keys[i].doc,
                run_keys[i].dflt ? "; default " : "",
                run_keys[i].dflt ? run_keys[i].dflt : "");
    if (app->nparams) {
        fprintf(out, "\nConfig file, section [%s]:\n", app->name);
        for (size_t i = 0; i < app->nparams; i++) {
            const shoal_param *p = &app->params[i];
            const char *type = p->type == SHOAL_INT64     ? "integer"
                               : p->type == SHOAL_FLOAT64 ? "number"
                                                          : "string";
            fprintf(out, "  %-22s (%s) %s%s%s%s%s%s\n", p->name, type,
                    p->doc ? p->doc : "", p->choices ? "; one of " : "",
                    p->choices ? p->choices : "", p->dflt ? "; default " : "",
                    p->dflt ? p->dflt : "", p->dflt ? "" : "; required");
        }
    }
    fprintf(out,
            "\nSection [scan] (optional) scans parameters of [%s]: one line per "
            "parameter,\n  T = linspace(1.5, 3.5, 41) | logspace(-3, 0, 10) | "
            "geomspace(a, b, n) | range(0, 100, 5)\n"
            "  | 16, 32, 64 | uniform(a, b) | loguniform(a, b) | normal(mu, sigma)\n"
            "and options design = grid|zip|random|lhs|sobol|halton, samples = N, "
            "replicates = R.\n",
            app->name);
    fprintf(out,
            "\nOutput fields (/results/<name> in the HDF5 file):\n");
    for (size_t i = 0; i < app->noutputs; i++)
        fprintf(out, "  %-22s %s%s%s\n", app->outputs[i].name,
                app->outputs[i].type == SHOAL_INT64 ? "int64" : "float64",
                app->outputs[i].doc ? ": " : "",
                app->outputs[i].doc ? app->outputs[i].doc : "");
    fprintf(out,
            "\nExit status: 0 all tasks done; 1 some tasks failed; 2 usage or "
            "config error;\n3 interrupted by a signal, resumable; 4 I/O, MPI or "
            "internal error.\n");
}

static int find_long(const char *name, size_t len)
{
    for (int i = 0; i < NOPTS; i++)
        if (strlen(options[i].longname) == len &&
            !strncmp(options[i].longname, name, len))
            return i;
    return -1;
}

static int find_short(char c)
{
    for (int i = 0; i < NOPTS; i++)
        if (options[i].shortname == c)
            return i;
    return -1;
}

static int apply_option(cli *c, int opt, const char *arg)
{
    switch (opt) {
    case OPT_OUTPUT:
        c->output = arg;
        break;
    case OPT_SET:
        c->sets[c->nsets++] = arg;
        break;
    case OPT_FORCE:
        c->force = 1;
        break;
    case OPT_DRY_RUN:
        c->dry_run = 1;
        break;
    case OPT_RESUME:
        c->resume = 1;
        break;
    case OPT_RETRY_FAILED:
        c->retry_failed = 1;
        break;
    case OPT_QUIET:
        c->verbosity = -1;
        break;
    case OPT_VERBOSE:
        c->verbosity++;
        break;
    case OPT_HELP:
        c->help = 1;
        break;
    case OPT_VERSION:
        c->version = 1;
        break;
    }
    return 0;
}

/* Parse argv into c (c->sets must hold argc entries). */
static int parse_cli(int argc, char **argv, cli *c)
{
    const char *prog = argc > 0 ? argv[0] : "shoal";
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int opt = -1;
        const char *val = NULL;
        if (!only_positional && !strcmp(a, "--")) {
            only_positional = 1;
            continue;
        }
        if (!only_positional && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            opt = find_long(a + 2, len);
            if (opt < 0)
                return SHOAL_ERROR(SHOAL_EUSAGE,
                                   "unknown option '%s'; see %s --help", a,
                                   prog);
            if (eq)
                val = eq + 1;
            if (eq && !options[opt].arg)
                return SHOAL_ERROR(SHOAL_EUSAGE,
                                   "option --%s takes no value",
                                   options[opt].longname);
        } else if (!only_positional && a[0] == '-' && a[1] != '\0') {
            opt = find_short(a[1]);
            if (opt < 0)
                return SHOAL_ERROR(SHOAL_EUSAGE,
                                   "unknown option '%s'; see %s --help", a,
                                   prog);
            if (a[2] != '\0') {
                if (!options[opt].arg)
                    return SHOAL_ERROR(SHOAL_EUSAGE,
                                       "unknown option '%s'; see %s --help",
                                       a, prog);
                val = a + 2;
            }
        } else {
            if (c->config)
                return SHOAL_ERROR(SHOAL_EUSAGE,
                                   "more than one config file given ('%s' and "
                                   "'%s'); pass exactly one",
                                   c->config, a);
            c->config = a;
            continue;
        }
        if (options[opt].arg && !val) {
            if (i + 1 >= argc)
                return SHOAL_ERROR(SHOAL_EUSAGE, "option --%s needs a value (%s)",
                                   options[opt].longname, options[opt].arg);
            val = argv[++i];
        }
        apply_option(c, opt, val);
    }
    if (c->retry_failed && !c->resume)
        return SHOAL_ERROR(SHOAL_EUSAGE, "--retry-failed needs --resume (it "
                           "reruns the failed tasks of an existing file)");
    if (c->resume && c->force)
        return SHOAL_ERROR(SHOAL_EUSAGE, "--resume and --force contradict each "
                           "other: --force starts over, --resume finishes the "
                           "file; pick one");
    return 0;
}

/* ---- configuration ------------------------------------------------------------------ */

typedef struct {
    uint64_t tasks, seed, max_range_tasks, retries, max_crashes;
    const char *output, *rng;
    double target_range_seconds, grace_seconds;
    int master_works;
    const gsl_rng_type *rng_type;
    shoal__param_value *params;
    int has_scan;
    shoal_scan *scan;
} run_settings;

static int parse_default(const shoal_app *app, const shoal_param *p,
                         shoal__param_value *v)
{
    char *end;
    errno = 0;
    if (p->type == SHOAL_INT64) {
        v->l = strtol(p->dflt, &end, 10);
    } else if (p->type == SHOAL_FLOAT64) {
        v->d = strtod(p->dflt, &end);
    } else {
        v->s = p->dflt;
        return 0;
    }
    if (end == p->dflt || *end || errno)
        return SHOAL_ERROR(SHOAL_EINTERNAL,
                           "app %s: default '%s' of parameter '%s' is not a "
                           "valid value",
                           app->name, p->dflt, p->name);
    return 0;
}

static int read_settings(shoal_config *cfg, const shoal_app *app,
                         run_settings *rs)
{
    int rc = 0, r;
#define KEEP(call) \
    do {           \
        r = (call);\
        if (r < 0 && rc == 0) \
            rc = r;\
    } while (0)
    rs->has_scan = shoal_config_has_section(cfg, "scan");
    if (rs->has_scan && shoal_config_has(cfg, "run", "tasks")) {
        const char *ignored;
        shoal_config_get_string(cfg, "run", "tasks", 0, NULL, &ignored);
        KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [run] tasks cannot be given with a [scan] section: "
                         "the scan sets the task count (points x replicates); "
                         "remove it, or set replicates = N in [scan]",
                         shoal_config_where(cfg, "run", "tasks")));
    } else if (!rs->has_scan) {
        KEEP(shoal_config_get_u64(cfg, "run", "tasks", 1, 0, 1,
                                  (uint64_t)1 << 62, &rs->tasks));
    }
    KEEP(shoal_config_get_u64(cfg, "run", "seed", 0, 1, 0, UINT64_MAX,
                              &rs->seed));
    int seed_ok = r == 0 && shoal_rng_check_seed(rs->seed) == 0;
    if (!seed_ok && rc == 0)
        rc = SHOAL_ECONFIG;
    if (rs->has_scan && seed_ok) {
        KEEP(shoal_scan_create(cfg, "scan", app->params, app->nparams, rs->seed,
                               &rs->scan));
        if (rs->scan)
            rs->tasks = shoal_scan_tasks(rs->scan);
    }
    static char default_output[300];
    snprintf(default_output, sizeof default_output, "%s.h5", app->name);
    KEEP(shoal_config_get_string(cfg, "run", "output", 0, default_output,
                                 &rs->output));
    if (r == 0 && rs->output[0] == '\0' && rc == 0)
        rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [run] output is empty; give a file "
                         "path", shoal_config_where(cfg, "run", "output"));
    KEEP(shoal_config_get_string(cfg, "run", "rng", 0, "philox4x32", &rs->rng));
    if (r == 0 && shoal_rng_type_find(rs->rng, &rs->rng_type) < 0 && rc == 0)
        rc = SHOAL_ECONFIG;
    KEEP(shoal_config_get_double(cfg, "run", "target_range_seconds", 0, 0.05,
                                 1e-6, 3600, &rs->target_range_seconds));
    KEEP(shoal_config_get_u64(cfg, "run", "max_range_tasks", 0, SHOAL__SCHED_MAX_TASKS, 1,
                              (uint64_t)1 << 30, &rs->max_range_tasks));
    KEEP(shoal_config_get_bool(cfg, "run", "master_works", 0, 1,
                               &rs->master_works));
    KEEP(shoal_config_get_u64(cfg, "run", "retries", 0, 0, 0, 254,
                              &rs->retries));
    KEEP(shoal_config_get_double(cfg, "run", "grace_seconds", 0, 30, 1, 86400,
                                 &rs->grace_seconds));
    KEEP(shoal_config_get_u64(cfg, "run", "max_crashes", 0, 2, 1, 255,
                              &rs->max_crashes));

    rs->params = calloc(app->nparams + 1, sizeof *rs->params);
    if (!rs->params)
        return SHOAL_ENOMEM;
    for (size_t i = 0; i < app->nparams; i++) {
        const shoal_param *p = &app->params[i];
        shoal__param_value *v = &rs->params[i];
        v->name = p->name;
        v->type = p->type;
        int scanned = 0;
        for (size_t d = 0; rs->scan && d < shoal_scan_ndims(rs->scan); d++)
            scanned |= !strcmp(shoal_scan_name(rs->scan, d), p->name);
        if (scanned) {
            /* Its value comes from the scan, task by task. */
            if (shoal_config_has(cfg, app->name, p->name)) {
                const char *ignored;
                shoal_config_get_string(cfg, app->name, p->name, 0, NULL,
                                        &ignored);
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: %s is set both here and in [scan]; keep one",
                                 shoal_config_where(cfg, app->name, p->name),
                                 p->name));
            }
            v->s = "";
            continue;
        }
        int required = p->dflt == NULL;
        if (!required && !shoal_config_has(cfg, app->name, p->name)) {
            KEEP(parse_default(app, p, v));
        }
        int bounded = p->min < p->max;
        if (p->type == SHOAL_INT64)
            KEEP(shoal_config_get_long(
                cfg, app->name, p->name, required, v->l,
                bounded ? (long)ceil(p->min) : LONG_MIN,
                bounded && p->max < 9.2e18 ? (long)floor(p->max) : LONG_MAX,
                &v->l));
        else if (p->type == SHOAL_FLOAT64)
            KEEP(shoal_config_get_double(cfg, app->name, p->name, required,
                                         v->d, bounded ? p->min : -HUGE_VAL,
                                         bounded ? p->max : HUGE_VAL, &v->d));
        else {
            KEEP(shoal_config_get_string(cfg, app->name, p->name, required,
                                         v->s ? v->s : "", &v->s));
            if (r == 0 && p->choices && !shoal__choice_ok(p->choices, v->s))
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: [%s] %s = '%s' is not one of %s",
                                 shoal_config_where(cfg, app->name, p->name)
                                     ? shoal_config_where(cfg, app->name, p->name)
                                     : shoal_config_source(cfg),
                                 app->name, p->name, v->s, p->choices));
        }
    }
#undef KEEP
    const char *sections[] = {"run", app->name, "scan", NULL};
    r = shoal_config_check_unused(cfg, sections);
    if (r < 0 && rc == 0)
        rc = r;
    return rc;
}

/* Validate the app's own tables: a programming error, not a user's. */
static int check_app(const shoal_app *app)
{
    if (!app || !app->name || !app->name[0] || !app->run)
        return SHOAL_ERROR(SHOAL_EINVAL, "shoal_main: app needs a name and a "
                           "run function");
    for (size_t i = 0; i < app->noutputs; i++) {
        const shoal_field *f = &app->outputs[i];
        if (!f->name || !f->name[0] || strchr(f->name, '/') ||
            (f->type != SHOAL_INT64 && f->type != SHOAL_FLOAT64) ||
            f->ndims < 0 || f->ndims > SHOAL_MAX_DIMS ||
            shoal_field_width(f) == 0)
            return SHOAL_ERROR(SHOAL_EINVAL,
                               "app %s: output field %zu is malformed (name, "
                               "type int64/float64, 0..%d dims, none empty)",
                               app->name, i, SHOAL_MAX_DIMS);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(app->outputs[j].name, f->name))
                return SHOAL_ERROR(SHOAL_EINVAL,
                                   "app %s: output field '%s' declared twice",
                                   app->name, f->name);
    }
    for (size_t i = 0; i < app->nparams; i++)
        if (!app->params[i].name || !app->params[i].name[0])
            return SHOAL_ERROR(SHOAL_EINVAL, "app %s: parameter %zu has no name",
                               app->name, i);
    return 0;
}

/* ---- the run ------------------------------------------------------------------------- */

static void silent_handler(const char *reason, const char *file, int line,
                           int code)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)code;
}

/* The rank the MPI launcher gave this process, read from its environment
 * before MPI_Init (Open MPI, PMIx, PMI, SLURM's srun); 0 when there is
 * none, as for a command typed at a shell. */
static int launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK",
                                       "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

/* --help and --version need no MPI, so they are answered before MPI_Init:
 * they then work where MPI cannot start (a login node without a launcher)
 * and return at once. Under a launcher only its rank 0 prints. Returns the
 * exit status, or -1 when the command line asks for anything else (or is
 * wrong: the run reports that after MPI_Init, from rank 0 alone). */
static int answer_without_mpi(const shoal_app *app, int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.sets = calloc((size_t)argc + 1, sizeof *c.sets);
    if (!c.sets)
        return -1;
    shoal_error_handler *prev = shoal_set_error_handler(silent_handler);
    int rc = check_app(app);
    if (rc == 0)
        rc = parse_cli(argc, argv, &c);
    shoal_set_error_handler(prev);
    free(c.sets);
    if (rc != 0 || !(c.help || c.version))
        return -1;
    if (launcher_rank() == 0) {
        if (c.help)
            print_help(app, stdout);
        else
            printf("%s (shoal %s)\n", app->name, SHOAL_VERSION_STRING);
        fflush(stdout);
    }
    return SHOAL_EXIT_OK;
}

/* Rank 0 reads the file; every rank gets (rc, text). */
static int share_config_text(MPI_Comm comm, int rank, const char *path,
                             char **text, size_t *len)
{
    int64_t hdr[2] = {0, 0}; /* rc, length */
    *text = NULL;
    *len = 0;
    if (rank == 0) {
        if (!path)
            hdr[0] = SHOAL_ERROR(SHOAL_EUSAGE,
                                 "no config file given; usage: PROGRAM "
                                 "[OPTIONS] CONFIG.ini (see --help)");
        else
            hdr[0] = shoal_config_read_file(path, text, len);
        hdr[1] = (int64_t)*len;
    }
    MPI_Bcast(hdr, 2, MPI_INT64_T, 0, comm);
    if (hdr[0] < 0)
        return (int)hdr[0];
    if (rank != 0) {
        *len = (size_t)hdr[1];
        *text = malloc(*len + 1);
        if (!*text)
            MPI_Abort(comm, SHOAL_EXIT_ERROR); /* ranks would diverge */
    }
    /* Broadcast in pieces: counts are int. */
    for (size_t off = 0; off < *len; off += (size_t)1 << 30) {
        size_t n = *len - off < ((size_t)1 << 30) ? *len - off : (size_t)1 << 30;
        MPI_Bcast(*text + off, (int)n, MPI_CHAR, 0, comm);
    }
    (*text)[*len] = '\0';
    return 0;
}

static int agree_min(MPI_Comm comm, int rc)
{
    int worst;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm);
    return worst;
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

/* Append printf output to a growing string; *buf stays NULL after a
 * failed allocation (the caller reports it). */
static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    SHOAL_PRINTF(4, 5);
static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    if (!*buf && *cap)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (*buf && *len + (size_t)n < *cap) {
            *len += (size_t)n;
            return;
        }
        size_t ncap = (*cap ? *cap * 2 : 1024) + (size_t)n;
        char *nb = realloc(*buf, ncap);
        if (!nb) {
            free(*buf);
            *buf = NULL;
            *cap = 1;
            return;
        }
        if (!*buf)
            nb[0] = '\0';
        *buf = nb;
        *cap = ncap;
    }
}

/* What makes a file "the same run" for --resume: readable "key = value"
 * lines, so a refusal can list exactly what differs. */
static char *make_fingerprint(const shoal_app *app, shoal_config *cfg,
                              const run_settings *rs,
                              const shoal_store_column *cols, size_t nscan,
                              const char *const *cnames,
                              const char *const *cvalues, size_t nconsts)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    (void)cols;
    (void)nscan;
    appendf(&b, &len, &cap, "app = %s\n", app->name);
    appendf(&b, &len, &cap, "ntasks = %llu\n", (unsigned long long)rs->tasks);
    appendf(&b, &len, &cap, "seed = %llu\n", (unsigned long long)rs->seed);
    appendf(&b, &len, &cap, "rng = %s\n", rs->rng);
    size_t n = shoal_config_section_size(cfg, "scan");
    for (size_t i = 0; i < n; i++) {
        const char *key, *value, *where;
        if (shoal_config_section_entry(cfg, "scan", i, &key, &value, &where) == 0)
            appendf(&b, &len, &cap, "scan.%s = %s\n", key, value);
    }
    for (size_t i = 0; i < nconsts; i++)
        appendf(&b, &len, &cap, "param.%s = %s\n", cnames[i], cvalues[i]);
    for (size_t i = 0; i < app->noutputs; i++) {
        const shoal_field *f = &app->outputs[i];
        appendf(&b, &len, &cap, "output.%s = %s", f->name,
                f->type == SHOAL_INT64 ? "int64" : "float64");
        for (int d = 0; d < f->ndims; d++)
            appendf(&b, &len, &cap, "%s%llu", d ? "," : "[",
                    (unsigned long long)f->dims[d]);
        appendf(&b, &len, &cap, "%s\n", f->ndims ? "]" : "");
    }
    return b;
}

/* After a graceful stop: what is left and the exact command to go on. */
static void report_interrupted(const char *name, int sig, const uint64_t file[4],
                               uint64_t ntasks, const char *output, int argc,
                               char **argv, int nranks)
{
    const char *sname = sig == SIGTERM ? "SIGTERM"
                        : sig == SIGINT ? "SIGINT"
                        : sig == SIGUSR1 ? "SIGUSR1"
                                         : "a signal";
    shoal_log_error("%s: interrupted by %s: %llu of %llu tasks done, %llu "
                    "failed, %llu left; '%s' is valid and holds every row "
                    "written",
                    name, sname, (unsigned long long)file[SHOAL_STATUS_DONE],
                    (unsigned long long)ntasks,
                    (unsigned long long)file[SHOAL_STATUS_FAILED],
                    (unsigned long long)(file[SHOAL_STATUS_PENDING] +
                                         file[SHOAL_STATUS_RUNNING]),
                    output);
    /* The same command with --resume, without --force (which would start
     * over) and without an earlier --resume. */
    char cmd[8192];
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "mpirun -n %d", nranks);
    for (int i = 0; i < argc && n < sizeof cmd - 16; i++) {
        if (i > 0 && (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f") ||
                      !strcmp(argv[i], "--resume") || !strcmp(argv[i], "-r") ||
                      !strcmp(argv[i], "--retry-failed")))
            continue;
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " %s", argv[i]);
    }
    if (n < sizeof cmd - 16)
        snprintf(cmd + n, sizeof cmd - n, " --resume");
    shoal_log_error("%s: to finish the run: %s", name, cmd);
}

/* Resume, rank 0: tasks the crash log names max_crashes times or more and
 * that are not done are marked failed (status 2, error SHOAL_ECRASH) rather
 * than run again. Up to SHOAL_FAILURE_SLOTS of them are returned in out for
 * the failure log. */
static int fail_poison_tasks(shoal_store *store, const char *output,
                             uint64_t max_crashes, shoal_store_failure *out,
                             size_t *nout)
{
    uint64_t *tasks;
    uint32_t *counts;
    size_t n;
    *nout = 0;
    int rc = shoal__crash_read(output, &tasks, &counts, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t st;
        if (counts[i] < max_crashes ||
            shoal_store_read_status(store, tasks[i], 1, &st) < 0 ||
            st == SHOAL_STATUS_DONE || st == SHOAL_STATUS_FAILED)
            continue;
        rc = shoal_store_fail_rows(store, tasks[i], 1, SHOAL_ECRASH);
        shoal_log_warn("task %llu crashed its process %u times: marked failed, "
                       "not run again",
                       (unsigned long long)tasks[i], counts[i]);
        if (*nout < SHOAL_FAILURE_SLOTS) {
            shoal_store_failure *f = &out[(*nout)++];
            memset(f, 0, sizeof *f);
            f->task = (int64_t)tasks[i];
            f->error = SHOAL_ECRASH;
            f->attempts = (int32_t)counts[i];
            snprintf(f->message, sizeof f->message,
                     "crashed its process %u times; not run again", counts[i]);
        }
    }
    free(tasks);
    free(counts);
    return rc;
}

/* The first failed tasks (by index) with their messages, from the file. */
static void print_failures(const char *name, const char *path, uint64_t failed)
{
    enum { SHOWN = 5 };
    shoal_results *res = NULL;
    shoal_store_failure f[SHOWN];
    size_t n = 0;
    if (shoal_results_open(path, &res) == 0 &&
        shoal_results_read_failures(res, f, SHOWN, &n) == 0) {
        printf("%s: %llu task%s failed; first:\n", name,
               (unsigned long long)failed, failed == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
            printf("  task %lld: error %d after %d attempt%s: %s\n",
                   (long long)f[i].task, f[i].error, f[i].attempts,
                   f[i].attempts == 1 ? "" : "s", f[i].message);
        printf("  (all: /tasks/status == 2 in the file; messages in /failures)\n");
    }
    shoal_results_close(res);
}

/* --dry-run: what a run would do, on stdout; nothing is written. */
static void dry_run(const shoal_app *app, const cli *c, run_settings *rs,
                    const shoal_store_column *cols, size_t nscan,
                    const char *const *cnames, const char *const *cvalues,
                    size_t nconsts, int nranks)
{
    uint64_t row = shoal__row_bytes(app) + 13 + (rs->has_scan ? 16 : 0);
    for (size_t d = 0; d < nscan; d++)
        row += cols[d].type == SHOAL_STRING ? cols[d].strlen : 8;
    double bytes = (double)rs->tasks * (double)row + 65536.0 + 64.0 * nranks;
    const char *unit = "bytes";
    double shown = bytes;
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    for (int u = 0; u < 5 && shown >= 1024; u++) {
        shown /= 1024;
        unit = units[u];
    }
    printf("%s: dry run of %s: nothing is written\n", app->name, c->config);
    if (rs->scan)
        printf("  scan:     %s\n", shoal_scan_describe(rs->scan));
    printf("  tasks:    %llu\n", (unsigned long long)rs->tasks);
    printf("  output:   %s, about %.1f %s%s\n", rs->output, shown, unit,
           access(rs->output, F_OK) == 0
               ? (c->force ? " (exists: --force would replace it)"
                           : " (exists: a run would refuse without --force)")
               : "");
    for (size_t i = 0; i < nconsts; i++)
        printf("  constant: %s = %s\n", cnames[i], cvalues[i]);
    if (!rs->scan || nscan == 0)
        return;
    uint64_t shown_rows = rs->tasks < 10 ? rs->tasks : 10;
    printf("  first %llu of %llu tasks:\n    %8s %8s %9s", (unsigned long long)shown_rows,
           (unsigned long long)rs->tasks, "task", "point", "replicate");
    for (size_t d = 0; d < nscan; d++)
        printf(" %14s", cols[d].name);
    printf("\n");
    shoal_scan_value *vals = calloc(nscan, sizeof *vals);
    for (uint64_t t = 0; vals && t < shown_rows; t++) {
        uint64_t point, rep;
        shoal_scan_task(rs->scan, t, &point, &rep, vals);
        printf("    %8llu %8llu %9llu", (unsigned long long)t,
               (unsigned long long)point, (unsigned long long)rep);
        for (size_t d = 0; d < nscan; d++) {
            if (cols[d].type == SHOAL_STRING)
                printf(" %14s", vals[d].s);
            else if (cols[d].type == SHOAL_INT64)
                printf(" %14lld", (long long)vals[d].l);
            else
                printf(" %14.6g", vals[d].d);
        }
        printf("\n");
    }
    free(vals);
}

int shoal_main(const shoal_app *app, int argc, char **argv)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int early = answer_without_mpi(app, argc, argv);
        if (early >= 0)
            return early;
        MPI_Init(&argc, &argv);
    }
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    shoal_log_set_rank(rank, nranks);

    /* GSL's default error handler calls abort(); a task must get error
     * codes from GSL instead, and the run must go on. */
    gsl_set_error_handler_off();

    int status = SHOAL_EXIT_OK;
    cli c;
    memset(&c, 0, sizeof c);
    c.sets = calloc((size_t)argc + 1, sizeof *c.sets);
    shoal_config *cfg = NULL;
    char *text = NULL;
    size_t len = 0;
    run_settings rs;
    memset(&rs, 0, sizeof rs);
    shoal_store *store = NULL;
    shoal__runner runner;
    memset(&runner, 0, sizeof runner);
    char abs_output[PATH_MAX];
    shoal_store_column *cols = NULL;
    const char **const_names = NULL, **const_values = NULL;
    char *const_text = NULL;
    int signals_on = 0, crash_on = 0;
    shoal_store_failure poison[SHOAL_FAILURE_SLOTS];
    size_t npoison = 0;
    char *fingerprint = NULL;
    char *lock_path = NULL; /* rank 0, while it holds the output's lock */

    /* Set-up errors are identical on every rank: only rank 0 prints them. */
    shoal_error_handler *prev = NULL;
    if (rank != 0)
        prev = shoal_set_error_handler(silent_handler);

    int rc = c.sets ? check_app(app) : SHOAL_ENOMEM;
    if (rc == 0)
        rc = parse_cli(argc, argv, &c);
    if (rc == 0 && (c.help || c.version)) {
        if (rank == 0) {
            if (c.help)
                print_help(app, stdout);
            else
                printf("%s (shoal %s)\n", app->name, SHOAL_VERSION_STRING);
        }
        goto done;
    }
    if (rc == 0)
        shoal_log_set_level(c.verbosity < 0   ? SHOAL_LOG_QUIET
                            : c.verbosity == 0 ? SHOAL_LOG_INFO
                            : c.verbosity == 1 ? SHOAL_LOG_VERBOSE
                                               : SHOAL_LOG_DEBUG);
    if (rc == 0)
        rc = share_config_text(comm, rank, c.config, &text, &len);
    if (rc == 0)
        rc = shoal_config_parse(text, len, c.config, &cfg);
    for (int i = 0; rc == 0 && i < c.nsets; i++)
        rc = shoal_config_set(cfg, c.sets[i]);
    if (rc == 0 && c.output) {
        char buf[4200];
        snprintf(buf, sizeof buf, "run.output=%s", c.output);
        rc = shoal_config_set(cfg, buf);
    }
    if (rc == 0)
        rc = read_settings(cfg, app, &rs);
    rc = agree_min(comm, rc);
    if (rc < 0) {
        status = exit_for(rc);
        goto done;
    }

    /* The scan's columns and the constant parameters, for the store. */
    size_t nscan = rs.scan ? shoal_scan_ndims(rs.scan) : 0;
    cols = calloc(nscan + 1, sizeof *cols);
    const_names = calloc(app->nparams + 1, sizeof *const_names);
    const_values = calloc(app->nparams + 1, sizeof *const_values);
    const_text = calloc(app->nparams + 1, 32);
    if (!cols || !const_names || !const_values || !const_text) {
        rc = SHOAL_ENOMEM;
        MPI_Abort(comm, SHOAL_EXIT_ERROR); /* ranks would diverge */
    }
    for (size_t d = 0; d < nscan; d++) {
        cols[d].name = shoal_scan_name(rs.scan, d);
        cols[d].type = shoal_scan_type(rs.scan, d);
        cols[d].strlen = shoal_scan_strlen(rs.scan, d);
    }
    size_t nconsts = 0;
    for (size_t i = 0; i < app->nparams; i++) {
        int scanned = 0;
        for (size_t d = 0; d < nscan; d++)
            scanned |= !strcmp(cols[d].name, app->params[i].name);
        if (scanned)
            continue;
        const shoal__param_value *v = &rs.params[i];
        char *t = const_text + 32 * i;
        const_names[nconsts] = v->name;
        if (v->type == SHOAL_INT64)
            snprintf(t, 32, "%ld", v->l);
        else if (v->type == SHOAL_FLOAT64)
            snprintf(t, 32, "%.17g", v->d);
        const_values[nconsts++] = v->type == SHOAL_STRING ? v->s : t;
    }

    if (c.dry_run) {
        if (rank == 0)
            dry_run(app, &c, &rs, cols, nscan, const_names, const_values,
                    nconsts, nranks);
        goto done;
    }

    /* From here a signal stops the run gracefully (signals.h). */
    shoal__signals_install(rs.grace_seconds);
    signals_on = 1;

    shoal_store_spec spec = {
        .path = rs.output,
        .force = c.force,
        .ntasks = rs.tasks,
        .fields = app->outputs,
        .nfields = app->noutputs,
        .app = app->name,
        .config_text = text,
        .config_source = c.config,
        .rng = rs.rng,
        .seed = rs.seed,
        .params = cols,
        .nparams = nscan,
        .with_points = rs.has_scan,
        .const_names = const_names,
        .const_values = const_values,
        .nconsts = nconsts,
        .scan = rs.scan ? shoal_scan_describe(rs.scan) : NULL,
        .overrides = shoal_config_overrides(cfg),
    };
    /* One run per output file: rank 0 takes the lock first. */
    int lrc = 0;
    if (rank == 0)
        lrc = shoal__lock_acquire(rs.output, &lock_path);
    rc = agree_min(comm, lrc);
    if (rc < 0) {
        status = exit_for(rc);
        goto done;
    }

    fingerprint = make_fingerprint(app, cfg, &rs, cols, nscan, const_names,
                                   const_values, nconsts);
    spec.fingerprint = fingerprint ? fingerprint : "";
    spec.drop_failures = c.retry_failed;
    if (c.resume)
        rc = shoal_store_open(comm, &spec, &store);
    else
        rc = shoal_store_create(comm, &spec, &store);
    if (rc < 0) {
        status = exit_for(rc);
        goto done;
    }
    if (rank != 0)
        shoal_set_error_handler(prev);
    prev = NULL;
    /* From here a crashing task is recorded in <output>.crashes. */
    rc = agree_min(comm, shoal__crash_install(rs.output));
    if (rc < 0) {
        shoal_store_rank_stats none = {0, 0, 0, 0, 0};
        shoal_store_close(store, &none, 0, 0, 0, NULL, 0, "error");
        store = NULL;
        status = SHOAL_EXIT_ERROR;
        goto done;
    }
    crash_on = 1;

    /* What to run: everything, or (resume) what the file says is left. */
    uint64_t (*todo)[2] = NULL;
    size_t ntodo = 0;
    uint64_t before[4] = {0, 0, 0, 0}, todo_tasks = rs.tasks;
    if (c.resume) {
        int src = 0;
        if (rank == 0) {
            unsigned want = c.retry_failed ? 1u << SHOAL_STATUS_FAILED
                                           : (1u << SHOAL_STATUS_PENDING) |
                                                 (1u << SHOAL_STATUS_RUNNING);
            src = fail_poison_tasks(store, rs.output, rs.max_crashes, poison,
                                    &npoison);
            if (src == 0)
                src = shoal_store_scan_status(store, want, &todo, &ntodo, before);
            todo_tasks = 0;
            for (size_t i = 0; i < ntodo; i++)
                todo_tasks += todo[i][1];
            if (src == 0)
                shoal_log_info("%s: resuming '%s': %llu done, %llu failed, %llu "
                               "interrupted while running, %llu pending; running "
                               "%llu task%s",
                               app->name, rs.output,
                               (unsigned long long)before[SHOAL_STATUS_DONE],
                               (unsigned long long)before[SHOAL_STATUS_FAILED],
                               (unsigned long long)before[SHOAL_STATUS_RUNNING],
                               (unsigned long long)before[SHOAL_STATUS_PENDING],
                               (unsigned long long)todo_tasks,
                               todo_tasks == 1 ? "" : "s");
        }
        src = agree_min(comm, src);
        MPI_Bcast(&todo_tasks, 1, MPI_UINT64_T, 0, comm);
        if (src < 0) {
            shoal_store_rank_stats none = {0, 0, 0, 0, 0};
            shoal_store_close(store, &none, 0, 0, 0, NULL, 0, "error");
            store = NULL;
            status = SHOAL_EXIT_ERROR;
            free(todo);
            goto done;
        }
    }

    uint64_t row_bytes = shoal__row_bytes(app) + 14 + (rs.has_scan ? 16 : 0);
    for (size_t d = 0; d < nscan; d++)
        row_bytes += cols[d].type == SHOAL_STRING ? cols[d].strlen : 8;
    uint64_t max_rows = rs.max_range_tasks;
    if (max_rows * row_bytes > MAX_ROW_BUFFER)
        max_rows = MAX_ROW_BUFFER / row_bytes ? MAX_ROW_BUFFER / row_bytes : 1;
    rc = shoal__runner_init(&runner, app, store, rank, rs.seed, rs.rng_type,
                            rs.params, app->nparams, rs.scan, (int)rs.retries,
                            max_rows);
    rc = agree_min(comm, rc);
    if (rc < 0) {
        shoal_store_rank_stats none = {0, 0, 0, 0, 0};
        shoal_store_close(store, &none, 0, 0, 0, NULL, 0, "error");
        store = NULL;
        status = SHOAL_EXIT_ERROR;
        free(todo);
        goto done;
    }

    /* Rank 0 reports the tasks it just failed for crashing, in /failures. */
    for (size_t i = 0; i < npoison && runner.nlog < SHOAL_FAILURE_SLOTS; i++)
        runner.log[runner.nlog++] = poison[i];

    shoal_pool_config pc = {
        .ntasks = rs.tasks,
        .target_range_seconds = rs.target_range_seconds,
        .max_range_tasks = max_rows,
        .first_range_tasks = 1,
        .master_idle = !rs.master_works,
        .ranges = (const uint64_t(*)[2])todo,
        .nranges = ntodo,
        .stop_check = shoal__signals_stop_check,
        .stop_notify = shoal__signals_stop_notify,
    };
    if (c.resume && rank == 0 && ntodo == 0)
        pc.ntasks = 0; /* nothing left */
    shoal_pool_stats ps;
    double t0 = MPI_Wtime();
    int prc = shoal_pool_run(comm, &pc, shoal__runner_range, &runner, &ps);
    double wall = MPI_Wtime() - t0;
    free(todo);
    uint64_t counts[2] = {runner.done, runner.failed}, run_totals[2];
    MPI_Allreduce(counts, run_totals, 2, MPI_UINT64_T, MPI_SUM, comm);

    /* The file's own totals: the truth after resumes and interruptions. */
    uint64_t file[4] = {0, 0, 0, 0};
    int frc = 0;
    if (rank == 0) {
        uint64_t (*none)[2] = NULL;
        size_t nnone = 0;
        frc = shoal_store_scan_status(store, 0, &none, &nnone, file);
        free(none);
    }
    MPI_Bcast(file, 4, MPI_UINT64_T, 0, comm);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    shoal_store_rank_stats mine = {
        ps.tasks, ps.busy_seconds, ps.idle_seconds,
        (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
            (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec,
        (uint64_t)ru.ru_maxrss};
    int interrupted = prc == SHOAL_EINTR;
    uint64_t left = file[SHOAL_STATUS_PENDING] + file[SHOAL_STATUS_RUNNING];
    rc = shoal_store_close(store, &mine, file[SHOAL_STATUS_DONE],
                           file[SHOAL_STATUS_FAILED], wall, runner.log, runner.nlog,
                           prc == 0 && left == 0 ? "complete"
                           : interrupted         ? "interrupted"
                           : prc == 0            ? "incomplete"
                                                 : "error");
    store = NULL;
    shoal__runner_free(&runner);
    if (frc < 0 && rc == 0)
        rc = frc;

    if (interrupted && rc == 0) {
        status = SHOAL_EXIT_INTERRUPTED;
        int sig = shoal__stop_requested();
        if (rank == 0)
            report_interrupted(app->name, sig, file, rs.tasks, rs.output, argc,
                               argv, nranks);
        goto done;
    }
    if (prc < 0 || rc < 0) {
        status = SHOAL_EXIT_ERROR;
        if (rank == 0)
            shoal_log_error("run did not complete: %llu of %llu tasks done; "
                            "see the messages above; the file can be resumed "
                            "with --resume once the cause is fixed",
                            (unsigned long long)file[SHOAL_STATUS_DONE],
                            (unsigned long long)rs.tasks);
        goto done;
    }
    if (left > 0) {
        /* Every listed task was handed out and none failed to write: tasks
         * left now mean someone else wrote to the file. */
        status = SHOAL_EXIT_ERROR;
        if (rank == 0)
            shoal_log_error("%llu tasks are still not done after the run; was "
                            "another process writing to '%s'? Run again with "
                            "--resume to finish them",
                            (unsigned long long)left, rs.output);
        goto done;
    }
    if (file[SHOAL_STATUS_FAILED] > 0)
        status = SHOAL_EXIT_TASKS_FAILED;
    if (rank == 0) {
        if (!realpath(rs.output, abs_output))
            snprintf(abs_output, sizeof abs_output, "%s", rs.output);
        if (shoal_log_get_level() >= SHOAL_LOG_INFO) {
            uint64_t ran = run_totals[0] + run_totals[1];
            printf("%s: %llu tasks (%llu done, %llu failed) on %d rank%s in "
                   "%.3f s (%.0f tasks/s)\n",
                   app->name, (unsigned long long)ran,
                   (unsigned long long)run_totals[0],
                   (unsigned long long)run_totals[1], nranks,
                   nranks == 1 ? "" : "s", wall,
                   wall > 0 ? (double)ran / wall : 0.0);
            if (c.resume || file[SHOAL_STATUS_DONE] != run_totals[0] || left)
                printf("%s: the file now has %llu of %llu tasks done, %llu "
                       "failed, %llu left\n",
                       app->name, (unsigned long long)file[SHOAL_STATUS_DONE],
                       (unsigned long long)rs.tasks,
                       (unsigned long long)file[SHOAL_STATUS_FAILED],
                       (unsigned long long)left);
            printf("%s: results in %s\n", app->name, abs_output);
            if (file[SHOAL_STATUS_FAILED] > 0)
                print_failures(app->name, rs.output, file[SHOAL_STATUS_FAILED]);
            fflush(stdout);
        }
        if (app->summary) {
            shoal_results *res = NULL;
            int src = shoal_results_open(rs.output, &res);
            if (src == 0)
                src = app->summary(res, app->ctx);
            shoal_results_close(res);
            if (src < 0 && status == SHOAL_EXIT_OK)
                status = SHOAL_EXIT_ERROR;
        }
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, comm);

done:
    if (crash_on)
        shoal__crash_restore();
    shoal__lock_release(lock_path);
    if (signals_on)
        shoal__signals_restore();
    if (prev || rank != 0)
        shoal_set_error_handler(prev);
    shoal__runner_free(&runner);
    shoal_scan_free(rs.scan);
    free(cols);
    free(const_names);
    free(const_values);
    free(const_text);
    free(fingerprint);
    free(rs.params);
    shoal_config_free(cfg);
    free(text);
    free(c.sets);
    if (rc < 0 && status == SHOAL_EXIT_OK)
        status = exit_for(rc);
    fflush(stdout);
    MPI_Comm_free(&comm);
    if (!initialized)
        MPI_Finalize();
    return status;
}
