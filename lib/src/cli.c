/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.c: the command line (see cli.h). */
#include <shoal/error.h>
#include <shoal/version.h>

#include "cli.h"
#include "input.h"
#include "stream.h"
#include "settings.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT, OPT_SET, OPT_FORCE, OPT_RESUME, OPT_CONTINUE, OPT_RETRY_FAILED,
       OPT_DRY_RUN, OPT_PROGRESS, OPT_PROGRESS_EVERY, OPT_QUIET, OPT_VERBOSE,
       OPT_HELP, OPT_VERSION, NOPTS };

static const struct {
    char shortname; /* 0: none */
    const char *longname;
    const char *arg;  /* NULL: a flag */
    const char *doc;
} options[NOPTS] = {
    [OPT_OUTPUT] = {'o', "output", "PATH",
                    "write results to PATH (same as --set run.output=PATH)"},
    [OPT_SET] = {'s', "set", "SECTION.KEY=VALUE", "override a config value; repeatable"},
    [OPT_FORCE] = {'f', "force", NULL, "replace an existing output file"},
    [OPT_RESUME] = {'r', "resume", NULL,
                    "finish the run in an existing output file: only tasks not "
                    "done run"},
    [OPT_CONTINUE] = {'c', "continue", NULL,
                      "resume the output if it exists, else start it (for job "
                      "scripts)"},
    [OPT_RETRY_FAILED] = {'R', "retry-failed", NULL,
                          "with --resume or --continue: run the failed tasks "
                          "again too"},
    [OPT_DRY_RUN] = {'n', "dry-run", NULL,
                     "show the tasks, parameters, output size and an estimated run "
                     "time; write nothing"},
    [OPT_PROGRESS] = {0, "progress", "MODE",
                      "auto (default: a live line on a terminal, else log "
                      "lines), bar, log or none"},
    [OPT_PROGRESS_EVERY] = {0, "progress-every", "SECONDS",
                            "seconds between progress log lines (default 30)"},
    [OPT_QUIET] = {'q', "quiet", NULL, "print errors only (no progress)"},
    [OPT_VERBOSE] = {'v', "verbose", NULL, "print more; twice (-vv) for debug output"},
    [OPT_HELP] = {'h', "help", NULL, "show this help and exit"},
    [OPT_VERSION] = {'V', "version", NULL, "show the version and exit"},
};

/* "float64", "int64[64]", "float64[2][3]", "string[256 bytes]". */
static void field_shape(const shoal_field *f, char *buf, size_t n)
{
    if (f->type == SHOAL_STRING) {
        snprintf(buf, n, "string[%llu bytes]", (unsigned long long)(f->ndims ? f->dims[0] : 0));
        return;
    }
    size_t len = (size_t)snprintf(buf, n, "%s", f->type == SHOAL_INT64 ? "int64" : "float64");
    for (int k = 0; k < f->ndims && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "[%llu]", (unsigned long long)f->dims[k]);
}

void shoal__cli_help(const shoal_app *app, const char *argv0, FILE *out)
{
    /* The program as it is called (shoal-exec), else the app's name. */
    const char *prog = argv0 && *argv0 ? strrchr(argv0, '/') : NULL;
    prog = prog ? prog + 1 : argv0 && *argv0 ? argv0 : app->name;
    fprintf(out,
            "Usage: %s [OPTIONS] CONFIG.ini\n"
            "       mpirun -n N %s [OPTIONS] CONFIG.ini\n\n%s%s"
            "Options:\n",
            prog, prog, app->doc ? app->doc : "", app->doc ? "\n\n" : "");
    for (int i = 0; i < NOPTS; i++) {
        char lhs[64];
        char shortname[8] = "    ";
        if (options[i].shortname)
            snprintf(shortname, sizeof shortname, "-%c, ", options[i].shortname);
        snprintf(lhs, sizeof lhs, "%s--%s%s%s", shortname, options[i].longname,
                 options[i].arg ? " " : "", options[i].arg ? options[i].arg : "");
        fprintf(out, "  %-30s %s\n", lhs, options[i].doc);
    }
    fprintf(out, "\nConfig file, section [run]:\n");
    shoal__settings_help(out);
    if (app->nparams) {
        fprintf(out, "\nConfig file, section [%s]:\n", app->name);
        for (size_t i = 0; i < app->nparams; i++) {
            const shoal_param *p = &app->params[i];
            const char *type = p->type == SHOAL_INT64     ? "integer"
                               : p->type == SHOAL_FLOAT64 ? "number"
                                                          : "string";
            fprintf(out, "  %-22s (%s%s%s%s) %s%s%s%s%s%s\n", p->name, type,
                    p->unit ? " [" : "", p->unit ? p->unit : "", p->unit ? "]" : "", p->doc ? p->doc : "",
                    p->choices ? "; one of " : "", p->choices ? p->choices : "",
                    p->dflt ? "; default " : "", p->dflt ? p->dflt : "",
                    p->dflt ? "" : "; required");
        }
    }
    fprintf(out,
            "\nSection [scan] (optional) scans parameters of [%s]: one line per "
            "parameter,\n  T = linspace(1.5, 3.5, 41) | logspace(-3, 0, 10) | "
            "geomspace(a, b, n) | range(0, 100, 5)\n"
            "  | 16, 32, 64 | uniform(a, b) | loguniform(a, b) | normal(mu, sigma)\n"
            "Section [sampling] (optional, with [scan]): the scan's options\n"
            "  design = grid|zip|random|lhs|sobol|halton, samples = N, replicates = R.\n",
            app->name);
    fprintf(out, "\n");
    shoal__input_help(out);
    shoal__stream_help(out);
    fprintf(out, "\nOutput fields (/results/<name> in the HDF5 file: per task, a value of "
                 "this type and shape [unit]):\n");
    for (size_t i = 0; i < app->noutputs; i++) {
        const shoal_field *f = &app->outputs[i];
        char shape[96];
        field_shape(f, shape, sizeof shape);
        fprintf(out, "  %-22s %-20s %s%s%s%s\n", f->name, shape, f->unit ? "[" : "",
                f->unit ? f->unit : "", f->unit ? "] " : "", f->doc ? f->doc : "");
    }
    if (app->nderived)
        fprintf(out, "\nDerived quantities (with a [scan]: /points/derived/<name>, one per "
                     "point):\n");
    for (size_t i = 0; i < app->nderived; i++) {
        const shoal_derived *d = &app->derived[i];
        fprintf(out, "  %-22s %-20s %s%s%s%s\n", d->name, "float64", d->unit ? "[" : "",
                d->unit ? d->unit : "", d->unit ? "] " : "", d->doc ? d->doc : "");
    }
    if (app->help)
        fprintf(out, "\n%s\n", app->help);
    fprintf(out,
            "\nExit status: 0 all tasks done; 1 some tasks failed; 2 usage or "
            "config error;\n3 interrupted by a signal, resumable; 4 I/O, MPI or "
            "internal error.\n");
}

static int find_long(const char *name, size_t len)
{
    for (int i = 0; i < NOPTS; i++)
        if (strlen(options[i].longname) == len && !strncmp(options[i].longname, name, len))
            return i;
    return -1;
}

static int find_short(char c)
{
    for (int i = 0; i < NOPTS; i++)
        if (c && options[i].shortname == c)
            return i;
    return -1;
}

static int parse_progress(shoal__cli *c, const char *arg)
{
    static const char *const modes[] = {"auto", "bar", "log", "none"};
    for (int m = 0; m < 4; m++)
        if (!strcmp(arg, modes[m])) {
            c->progress = (shoal__progress_mode)m;
            return 0;
        }
    return SHOAL_ERROR(SHOAL_EUSAGE, "--progress '%s': expected auto, bar, log or none",
                       arg);
}

static int parse_every(shoal__cli *c, const char *arg)
{
    char *end;
    double d = strtod(arg, &end);
    if (end == arg || *end != '\0' || !(d >= 0.1 && d <= 1e7))
        return SHOAL_ERROR(SHOAL_EUSAGE, "--progress-every '%s': expected a number of "
                           "seconds from 0.1 to 1e7", arg);
    c->progress_every = d;
    return 0;
}

static int apply_option(shoal__cli *c, int opt, const char *arg)
{
    switch (opt) {
    case OPT_PROGRESS: return parse_progress(c, arg);
    case OPT_PROGRESS_EVERY: return parse_every(c, arg);
    case OPT_CONTINUE: c->resume_if_exists = 1; break;
    case OPT_OUTPUT: c->output = arg; break;
    case OPT_SET: c->sets[c->nsets++] = arg; break;
    case OPT_FORCE: c->force = 1; break;
    case OPT_DRY_RUN: c->dry_run = 1; break;
    case OPT_RESUME: c->resume = 1; break;
    case OPT_RETRY_FAILED: c->retry_failed = 1; break;
    case OPT_QUIET: c->verbosity = -1; break;
    case OPT_VERBOSE: c->verbosity++; break;
    case OPT_HELP: c->help = 1; break;
    case OPT_VERSION: c->version = 1; break;
    }
    return 0;
}

/* The value of option opt: the rest of the word, or the next word. */
static int take_value(int argc, char **argv, int *i, int opt, const char *rest,
                      const char **val)
{
    if (rest && *rest) {
        *val = rest;
        return 0;
    }
    if (*i + 1 >= argc)
        return SHOAL_ERROR(SHOAL_EUSAGE, "option --%s needs a value (%s)",
                           options[opt].longname, options[opt].arg);
    *val = argv[++*i];
    return 0;
}

int shoal__cli_parse(int argc, char **argv, shoal__cli *c)
{
    const char *prog = argc > 0 ? argv[0] : "shoal";
    c->sets = calloc((size_t)argc + 1, sizeof *c->sets);
    if (!c->sets)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading the command line");
    c->progress_every = SHOAL__PROGRESS_EVERY;
    int only_positional = 0, rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (!only_positional && !strcmp(a, "--")) {
            only_positional = 1;
        } else if (!only_positional && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            int opt = find_long(a + 2, len);
            const char *val = NULL;
            if (opt < 0)
                rc = SHOAL_ERROR(SHOAL_EUSAGE, "unknown option '%s'; see %s --help", a, prog);
            else if (eq && !options[opt].arg)
                rc = SHOAL_ERROR(SHOAL_EUSAGE, "option --%s takes no value",
                                 options[opt].longname);
            else if (options[opt].arg)
                rc = take_value(argc, argv, &i, opt, eq ? eq + 1 : NULL, &val);
            if (rc == 0)
                rc = apply_option(c, opt, val);
        } else if (!only_positional && a[0] == '-' && a[1] != '\0') {
            /* A bundle of short options; one that takes a value ends it. */
            for (const char *p = a + 1; *p && rc == 0; p++) {
                int opt = find_short(*p);
                const char *val = NULL;
                if (opt < 0) {
                    rc = SHOAL_ERROR(SHOAL_EUSAGE,
                                     "unknown option '-%c'%s%s%s; see %s --help", *p,
                                     p > a + 1 ? " in '" : "", p > a + 1 ? a : "",
                                     p > a + 1 ? "'" : "", prog);
                    break;
                }
                if (options[opt].arg) {
                    rc = take_value(argc, argv, &i, opt, p + 1, &val);
                    if (rc == 0)
                        rc = apply_option(c, opt, val);
                    break;
                }
                rc = apply_option(c, opt, NULL);
            }
        } else if (c->config) {
            rc = SHOAL_ERROR(SHOAL_EUSAGE,
                             "more than one config file given ('%s' and '%s'); pass "
                             "exactly one",
                             c->config, a);
        } else {
            c->config = a;
        }
    }
    if (rc == 0 && c->retry_failed && !c->resume && !c->resume_if_exists)
        rc = SHOAL_ERROR(SHOAL_EUSAGE, "--retry-failed needs --resume or --continue (it "
                         "reruns the failed tasks of an existing file)");
    if (rc == 0 && (c->resume || c->resume_if_exists) && c->force)
        rc = SHOAL_ERROR(SHOAL_EUSAGE, "--%s and --force contradict each "
                         "other: --force starts over, --%s finishes the "
                         "file; pick one", c->resume ? "resume" : "continue",
                         c->resume ? "resume" : "continue");
    if (rc == 0 && c->resume && c->resume_if_exists)
        rc = SHOAL_ERROR(SHOAL_EUSAGE, "--resume and --continue together: --resume "
                         "needs the output to exist, --continue starts it when it "
                         "does not; pick one");
    return rc;
}

void shoal__cli_free(shoal__cli *c)
{
    free(c->sets);
    c->sets = NULL;
}

int shoal__cli_drop_on_resume(const char *arg)
{
    if (!strcmp(arg, "--force") || !strcmp(arg, "--resume") || !strcmp(arg, "--continue") ||
        !strcmp(arg, "--retry-failed"))
        return 1;
    /* A bundle of flags only, containing one of f, r, R. */
    if (arg[0] != '-' || arg[1] == '-' || arg[1] == '\0')
        return 0;
    int drop = 0;
    for (const char *p = arg + 1; *p; p++) {
        int opt = find_short(*p);
        if (opt < 0 || options[opt].arg)
            return 0;
        drop |= opt == OPT_FORCE || opt == OPT_RESUME || opt == OPT_CONTINUE ||
                opt == OPT_RETRY_FAILED;
    }
    return drop;
}

static void silent(const char *reason, const char *file, int line, int code)
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
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

int shoal__cli_answer_early(const shoal_app *app, int argc, char **argv)
{
    shoal__cli c;
    memset(&c, 0, sizeof c);
    shoal_error_handler *prev = shoal_set_error_handler(silent);
    int rc = shoal__settings_check_app(app);
    if (rc == 0)
        rc = shoal__cli_parse(argc, argv, &c);
    shoal_set_error_handler(prev);
    shoal__cli_free(&c);
    if (rc != 0 || !(c.help || c.version))
        return -1;
    if (launcher_rank() == 0) {
        if (c.help)
            shoal__cli_help(app, argc > 0 ? argv[0] : NULL, stdout);
        else
            printf("%s (shoal %s)\n", app->name, SHOAL_VERSION_STRING);
        fflush(stdout);
    }
    return SHOAL_EXIT_OK;
}
