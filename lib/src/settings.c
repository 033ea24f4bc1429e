/* SPDX-License-Identifier: GPL-3.0-or-later */
/* settings.c: reading a run's settings from its config (see settings.h).
 *
 * Every rank reads the same text and so reaches the same verdict. All user
 * errors are reported (each with file:line), the first code is returned. */
#include <shoal/error.h>
#include <shoal/rng.h>

#include "choices.h"
#include "keep.h"
#include "sched.h"
#include "settings.h"
#include "stream.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>


/* ---- the [run] keys -------------------------------------------------------------- */

typedef enum { KEY_U64, KEY_DOUBLE, KEY_BOOL, KEY_STRING } key_type;

static const struct run_key {
    const char *key;
    key_type type;
    const char *dflt;     /* as shown by --help and parsed for the default;
                             NULL: required */
    uint64_t umin, umax;  /* KEY_U64 bounds */
    double dmin, dmax;    /* KEY_DOUBLE bounds */
    size_t offset;        /* of the value in shoal__settings */
    const char *doc;
} run_keys[] = {
#define AT(field) offsetof(shoal__settings, field)
    {"tasks", KEY_U64, NULL, 1, (uint64_t)1 << 62, 0, 0, AT(tasks),
     "number of tasks (required, >= 1, unless [scan] sets it)"},
    {"seed", KEY_U64, "1", 0, UINT64_MAX, 0, 0, AT(seed),
     "run seed, 1..2^63-1; with the task index it keys every random stream"},
    {"output", KEY_STRING, "<app>.h5", 0, 0, 0, 0, AT(output),
     "result file (HDF5); never replaced without --force"},
    {"rng", KEY_STRING, "philox4x64", 0, 0, 0, 0, AT(rng),
     "generator: philox4x64, philox4x32 (old default), or a GSL name (mt19937, ...)"},
    {"target_range_seconds", KEY_DOUBLE, "0.05", 0, 0, 1e-6, 3600, AT(target_range_seconds),
     "longest wanted run time of one range of tasks"},
    {"max_range_tasks", KEY_U64, "262144", 1, (uint64_t)1 << 30, 0, 0, AT(max_range_tasks),
     "most tasks in one range (also bounded by 2 MiB of rows)"},
    {"master_works", KEY_BOOL, "true", 0, 0, 0, 0, AT(master_works),
     "rank 0 runs tasks between scheduling duties"},
    {"group_size", KEY_U64, "0", 0, 65536, 0, 0, AT(group_size),
     "0: rank 0 answers every rank; G: groups of G ranks, each drawing big ranges "
     "from rank 0 through its first rank (docs/hierarchy.md)"},
    {"retries", KEY_U64, "0", 0, 254, 0, 0, AT(retries),
     "extra attempts of a failing task, same random stream (0..254)"},
    {"grace_seconds", KEY_DOUBLE, "30", 0, 0, 1, 86400, AT(grace_seconds),
     "after SIGTERM/SIGINT/SIGUSR1, time to finish running tasks"},
    {"max_crashes", KEY_U64, "2", 1, 255, 0, 0, AT(max_crashes),
     "a task that crashed its process this often is marked failed on --resume"},
    {"stop_when", KEY_STRING, "none", 0, 0, 0, 0, AT(stop_when),
     "end the run when a condition on watched fields holds, e.g. sem(pi) < 1e-4; "
     "tasks is then the most it may take (docs/adaptive.md)"},
    {"check_every", KEY_U64, "100", 1, (uint64_t)1 << 40, 0, 0, AT(check_every),
     "stop_when is checked each time this many more tasks from 0 on are finished"},
#undef AT
};
#define NRUN_KEYS (sizeof run_keys / sizeof run_keys[0])

void shoal__settings_help(FILE *out)
{
    for (size_t i = 0; i < NRUN_KEYS; i++)
        fprintf(out, "  %-22s %s%s%s\n", run_keys[i].key, run_keys[i].doc,
                run_keys[i].dflt ? "; default " : "",
                run_keys[i].dflt ? run_keys[i].dflt : "");
}

/* Read one [run] key by its table entry into rs. */
static int read_run_key(shoal_config *cfg, const struct run_key *k, shoal__settings *rs)
{
    void *at = (char *)rs + k->offset;
    int required = k->dflt == NULL;
    switch (k->type) {
    case KEY_U64:
        return shoal_config_get_u64(cfg, "run", k->key, required,
                                    required ? 0 : strtoull(k->dflt, NULL, 10), k->umin,
                                    k->umax, at);
    case KEY_DOUBLE:
        return shoal_config_get_double(cfg, "run", k->key, required,
                                       required ? 0 : strtod(k->dflt, NULL), k->dmin,
                                       k->dmax, at);
    case KEY_BOOL:
        return shoal_config_get_bool(cfg, "run", k->key, required,
                                     k->dflt && !strcmp(k->dflt, "true"), at);
    case KEY_STRING:
        return shoal_config_get_string(cfg, "run", k->key, required, k->dflt, at);
    }
    return SHOAL_EINTERNAL;
}

/* [run] stop_when: a condition on watched fields, for a plain sequence of
 * tasks (adapt.h). */
static int read_stop(shoal_config *cfg, const shoal_app *app, shoal__settings *rs)
{
    if (!strcmp(rs->stop_when, "none"))
        return 0;
    const char *where = shoal_config_where(cfg, "run", "stop_when");
    if (!where)
        where = shoal_config_source(cfg);
    if (rs->has_scan || shoal_config_has_section(cfg, "input"))
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [run] stop_when works on a plain sequence of tasks ([run] "
                           "tasks = the most it may take), not with a [%s] section, whose "
                           "tasks are fixed; remove one of the two",
                           where, rs->has_scan ? "scan" : "input");
    int rc = shoal__stop_parse(rs->stop_when, where, app, &rs->stop);
    rs->has_stop = rc == 0;
    return rc;
}

/* Keys whose meaning goes beyond their bounds. Returns the code of the
 * first error (reported). */
static int read_run(shoal_config *cfg, const shoal_app *app, shoal__settings *rs)
{
    int rc = 0;
    snprintf(rs->default_output, sizeof rs->default_output, "%s.h5", app->name);
    for (size_t i = 0; i < NRUN_KEYS; i++) {
        const struct run_key *k = &run_keys[i];
        if (!strcmp(k->key, "tasks")) {
            if (rs->has_scan && shoal_config_has(cfg, "run", "tasks")) {
                const char *ignored; /* marks the key as seen */
                shoal_config_get_string(cfg, "run", "tasks", 0, NULL, &ignored);
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: [run] tasks cannot be given with a [scan] section: "
                                 "the scan sets the task count (points x replicates); "
                                 "remove it, or set replicates = N in [sampling]",
                                 shoal_config_where(cfg, "run", "tasks")));
            } else if (shoal_config_has_section(cfg, "stream") &&
                       shoal_config_has(cfg, "run", "tasks")) {
                const char *ignored;
                shoal_config_get_string(cfg, "run", "tasks", 0, NULL, &ignored);
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: [run] tasks cannot be given with a [stream] section: "
                                 "each item that arrives is a task; to stop after N items, "
                                 "set end = after N in [stream]",
                                 shoal_config_where(cfg, "run", "tasks")));
            } else if (!rs->has_scan && !shoal_config_has_section(cfg, "stream") &&
                       (!shoal_config_has_section(cfg, "input") ||
                        shoal_config_has(cfg, "run", "tasks"))) {
                /* With an [input] the data sets the count; a given value
                 * must agree with it (shoal__input_setup). */
                KEEP(read_run_key(cfg, k, rs));
            }
            continue;
        }
        if (!strcmp(k->key, "output")) {
            int r = shoal_config_get_string(cfg, "run", "output", 0, rs->default_output,
                                            &rs->output);
            KEEP(r);
            if (r == 0 && rs->output[0] == '\0')
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [run] output is empty; give a file path",
                                 shoal_config_where(cfg, "run", "output")));
            /* Beside the output go <output>.lock, .part and .crashes. */
            const char *base = r == 0 ? strrchr(rs->output, '/') : NULL;
            base = base ? base + 1 : rs->output;
            if (r == 0 && (strlen(rs->output) + 16 >= PATH_MAX ||
                           strlen(base) + strlen(".crashes") > NAME_MAX)) {
                const char *where = shoal_config_where(cfg, "run", "output");
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: [run] output: the file name is too long (%zu "
                                 "characters; at most %d for the name, %d for the path, "
                                 "leaving room for the .lock and .crashes files beside it)",
                                 where ? where : shoal_config_source(cfg), strlen(base),
                                 NAME_MAX - 8, PATH_MAX - 17));
            }
            continue;
        }
        int r = read_run_key(cfg, k, rs);
        KEEP(r);
        if (!strcmp(k->key, "seed")) {
            int seed_ok = r == 0 && shoal_rng_check_seed(rs->seed) == 0;
            KEEP(seed_ok ? 0 : SHOAL_ECONFIG);
            /* [sampling] without [scan]: the scan says what is wrong. */
            if ((rs->has_scan || shoal_config_has_section(cfg, "sampling")) && seed_ok) {
                KEEP(shoal_scan_create(cfg, "scan", app->params, app->nparams, rs->seed,
                                       &rs->scan));
                if (rs->scan)
                    rs->tasks = shoal_scan_tasks(rs->scan);
            }
        } else if (!strcmp(k->key, "rng") && r == 0) {
            KEEP(shoal_rng_type_find(rs->rng, &rs->rng_type) < 0 ? SHOAL_ECONFIG : 0);
        } else if (!strcmp(k->key, "stop_when") && r == 0) {
            KEEP(read_stop(cfg, app, rs));
        }
    }
    return rc;
}

/* ---- the app's parameters --------------------------------------------------------- */

static int parse_default(const shoal_app *app, const shoal_param *p, shoal__param_value *v)
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

static int is_scanned(const shoal__settings *rs, const char *name)
{
    for (size_t d = 0; rs->scan && d < shoal_scan_ndims(rs->scan); d++)
        if (!strcmp(shoal_scan_name(rs->scan, d), name))
            return 1;
    /* A stream's parameter rows set these task by task, like a scan. */
    for (size_t d = 0; d < shoal__stream_nparams(rs->stream); d++)
        if (!strcmp(shoal__stream_param(rs->stream, d), name))
            return 1;
    return 0;
}

/* Bytes of a string parameter's value in a stream's parameter row. */
#define STREAM_TEXT_PARAM 256

static int read_params(shoal_config *cfg, const shoal_app *app, shoal__settings *rs)
{
    int rc = 0;
    rs->params = calloc(app->nparams + 1, sizeof *rs->params);
    if (!rs->params)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for %zu parameters", app->nparams);
    for (size_t i = 0; i < app->nparams; i++) {
        const shoal_param *p = &app->params[i];
        shoal__param_value *v = &rs->params[i];
        v->name = p->name;
        v->type = p->type;
        if (is_scanned(rs, p->name)) {
            /* Its value comes from the scan, task by task. */
            if (shoal_config_has(cfg, app->name, p->name)) {
                const char *ignored;
                shoal_config_get_string(cfg, app->name, p->name, 0, NULL, &ignored);
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: %s is set both here and in [scan]; keep one",
                                 shoal_config_where(cfg, app->name, p->name), p->name));
            }
            v->s = "";
            continue;
        }
        int required = p->dflt == NULL;
        if (!required && !shoal_config_has(cfg, app->name, p->name))
            KEEP(parse_default(app, p, v));
        int bounded = p->min < p->max;
        if (p->type == SHOAL_INT64) {
            KEEP(shoal_config_get_long(cfg, app->name, p->name, required, v->l,
                                       bounded ? (long)ceil(p->min) : LONG_MIN,
                                       bounded && p->max < 9.2e18 ? (long)floor(p->max)
                                                                  : LONG_MAX,
                                       &v->l));
        } else if (p->type == SHOAL_FLOAT64) {
            KEEP(shoal_config_get_double(cfg, app->name, p->name, required, v->d,
                                         bounded ? p->min : -HUGE_VAL,
                                         bounded ? p->max : HUGE_VAL, &v->d));
        } else {
            int r = shoal_config_get_string(cfg, app->name, p->name, required,
                                            v->s ? v->s : "", &v->s);
            KEEP(r);
            if (r == 0 && p->choices && !shoal__choice_ok(p->choices, v->s)) {
                const char *where = shoal_config_where(cfg, app->name, p->name);
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [%s] %s = '%s' is not one of %s",
                                 where ? where : shoal_config_source(cfg), app->name,
                                 p->name, v->s, p->choices));
            }
        }
    }
    return rc;
}

/* The scanned columns and the constants as text, for the store. */
static int describe_for_store(const shoal_app *app, shoal__settings *rs)
{
    size_t nline = shoal__stream_nparams(rs->stream);
    rs->nscan = rs->scan ? shoal_scan_ndims(rs->scan) : nline;
    rs->cols = calloc(rs->nscan + 1, sizeof *rs->cols);
    rs->const_names = calloc(app->nparams + 1, sizeof *rs->const_names);
    rs->const_values = calloc(app->nparams + 1, sizeof *rs->const_values);
    rs->const_decls = calloc(app->nparams + 1, sizeof *rs->const_decls);
    rs->const_text = calloc(app->nparams + 1, 32);
    if (!rs->cols || !rs->const_names || !rs->const_values || !rs->const_decls ||
        !rs->const_text)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory describing %zu parameters",
                           app->nparams);
    for (size_t d = 0; d < rs->nscan; d++) {
        if (rs->scan) {
            rs->cols[d].name = shoal_scan_name(rs->scan, d);
            rs->cols[d].type = shoal_scan_type(rs->scan, d);
            rs->cols[d].strlen = shoal_scan_strlen(rs->scan, d);
        } else {
            rs->cols[d].name = shoal__stream_param(rs->stream, d);
            for (size_t i = 0; i < app->nparams; i++)
                if (!strcmp(app->params[i].name, rs->cols[d].name))
                    rs->cols[d].type = app->params[i].type;
            rs->cols[d].strlen = rs->cols[d].type == SHOAL_STRING ? STREAM_TEXT_PARAM : 0;
        }
        for (size_t i = 0; i < app->nparams; i++)
            if (!strcmp(app->params[i].name, rs->cols[d].name)) {
                rs->cols[d].unit = app->params[i].unit;
                rs->cols[d].doc = app->params[i].doc;
            }
    }
    for (size_t i = 0; i < app->nparams; i++) {
        if (is_scanned(rs, app->params[i].name))
            continue;
        const shoal__param_value *v = &rs->params[i];
        char *t = rs->const_text + 32 * i;
        rs->const_names[rs->nconsts] = v->name;
        rs->const_decls[rs->nconsts] = &app->params[i];
        if (v->type == SHOAL_INT64)
            snprintf(t, 32, "%ld", v->l);
        else if (v->type == SHOAL_FLOAT64)
            snprintf(t, 32, "%.17g", v->d);
        rs->const_values[rs->nconsts++] = v->type == SHOAL_STRING ? v->s : t;
    }
    return 0;
}

int shoal__settings_read(shoal_config *cfg, const shoal_app *app, shoal__settings *rs)
{
    rs->has_scan = shoal_config_has_section(cfg, "scan");
    int rc = read_run(cfg, app, rs);
    /* [stream] first: its parameter rows set some parameters. */
    int r = shoal__stream_config(cfg, &rs->stream);
    if (r == SHOAL_ENOMEM)
        return r;
    KEEP(r);
    for (size_t d = 0; d < shoal__stream_nparams(rs->stream); d++) {
        const char *name = shoal__stream_param(rs->stream, d);
        size_t i = 0;
        while (i < app->nparams && strcmp(app->params[i].name, name))
            i++;
        if (i == app->nparams)
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] params: '%s' is not a parameter of "
                             "%s (see --help for its parameters)",
                             shoal__stream_params_where(rs->stream), name, app->name));
    }
    r = read_params(cfg, app, rs);
    if (r == SHOAL_ENOMEM)
        return r;
    KEEP(r);
    r = shoal__input_config(cfg, &rs->input);
    if (r == SHOAL_ENOMEM)
        return r;
    KEEP(r);
    if (rs->stream) {
        rs->tasks = shoal__stream_grow_rows(rs->stream);
        if (shoal__stream_nparams(rs->stream) > 0 && shoal_config_has_section(cfg, "input"))
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [input] cannot be given when [stream] lines are parameter "
                             "rows (params = ...): the tasks read no files; remove one",
                             shoal__stream_params_where(rs->stream)));
        static const char *const alone[] = {"scan", "search"};
        for (size_t i = 0; i < 2; i++)
            if (shoal_config_has_section(cfg, alone[i]))
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: [stream] cannot be combined with [%s] (not supported "
                                 "yet): each item that arrives is one task; remove one of the "
                                 "two",
                                 shoal_config_source(cfg), alone[i]));
        if (rs->has_stop)
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [run] stop_when cannot be combined with [stream] (not "
                             "supported yet); end the stream with end = ... in [stream]",
                             shoal_config_where(cfg, "run", "stop_when")));
    }
    if (rs->input && rs->has_scan) {
        const char *where = shoal_config_where(cfg, "input", "file");
        where = where ? where : shoal_config_where(cfg, "input", "files");
        where = where ? where : shoal_config_where(cfg, "input", "list");
        KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [input] cannot be combined with [scan] (not supported yet): "
                         "the input sets the tasks; run the scan, then read its result "
                         "file with [input] group_by = point",
                         where ? where : shoal_config_source(cfg)));
    }
    /* [search]: the scan's points are its configurations; the task
     * count is the rungs'. */
    if (shoal_config_has_section(cfg, "search") && rs->has_scan && !rs->scan)
        shoal__search_touch(cfg); /* the scan's error says what is wrong */
    if (shoal_config_has_section(cfg, "search") && (rs->scan || !rs->has_scan)) {
        r = shoal__search_read(cfg, app, rs->scan, &rs->search);
        KEEP(r);
        if (r == 0 && rs->search.on)
            rs->tasks = rs->search.off[rs->search.nrungs];
    }
    size_t nextra = 0;
    while (app->sections && app->sections[nextra])
        nextra++;
    const char **sections = calloc(nextra + 8, sizeof *sections);
    if (!sections)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory checking the config");
    const char *ours[] = {"run", app->name, "scan", "sampling", "input", "search", "stream"};
    memcpy(sections, ours, sizeof ours);
    for (size_t i = 0; i < nextra; i++)
        sections[7 + i] = app->sections[i];
    KEEP(shoal_config_check_unused(cfg, sections));
    free(sections);
    if (rc == 0)
        rc = describe_for_store(app, rs);
    return rc;
}
#undef KEEP

void shoal__settings_free(shoal__settings *rs)
{
    shoal__input_free(rs->input);
    shoal__stream_free(rs->stream);
    shoal_scan_free(rs->scan);
    free(rs->cols);
    free(rs->const_names);
    free(rs->const_values);
    free(rs->const_decls);
    free(rs->const_text);
    free(rs->params);
    memset(rs, 0, sizeof *rs);
}

int shoal__settings_check_app(const shoal_app *app)
{
    if (!app || !app->name || !app->name[0] || !app->run)
        return SHOAL_ERROR(SHOAL_EINVAL, "shoal_main: app needs a name and a "
                           "run function");
    for (size_t i = 0; i < app->noutputs; i++) {
        const shoal_field *f = &app->outputs[i];
        if (!f->name || !f->name[0] || strchr(f->name, '/') ||
            (f->type != SHOAL_INT64 && f->type != SHOAL_FLOAT64 && f->type != SHOAL_STRING) ||
            f->ndims < 0 || f->ndims > SHOAL_MAX_DIMS || shoal_field_width(f) == 0)
            return SHOAL_ERROR(SHOAL_EINVAL,
                               "app %s: output field %zu is malformed (name, "
                               "type int64/float64/string, 0..%d dims, none empty)",
                               app->name, i, SHOAL_MAX_DIMS);
        if (f->type == SHOAL_STRING && (f->ndims != 1 || f->reduce != SHOAL_REDUCE_NONE))
            return SHOAL_ERROR(SHOAL_EINVAL,
                               "app %s: string output field '%s' needs ndims 1 (dims[0]: "
                               "bytes per task) and no reduction", app->name, f->name);
        /* The row buffers hold width * 8 bytes per task: no overflow, and
         * no row beyond 1 GiB (a buffer per rank, rows per write). */
        uint64_t width = 1;
        int over = 0;
        for (int d = 0; d < f->ndims; d++)
            over |= __builtin_mul_overflow(width, f->dims[d], &width);
        if (over || width > ((uint64_t)1 << 30) / shoal_field_elem_bytes(f))
            return SHOAL_ERROR(SHOAL_EINVAL,
                               "app %s: output field '%s' is too large: more than 1 GiB "
                               "per task",
                               app->name, f->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(app->outputs[j].name, f->name))
                return SHOAL_ERROR(SHOAL_EINVAL, "app %s: output field '%s' declared twice",
                                   app->name, f->name);
        if ((unsigned)f->reduce > SHOAL_REDUCE_USER)
            return SHOAL_ERROR(SHOAL_EINVAL, "app %s: output field '%s' has an unknown "
                               "reduction %d", app->name, f->name, (int)f->reduce);
        if (f->reduce == SHOAL_REDUCE_MOMENTS &&
            (f->type != SHOAL_FLOAT64 || f->ndims == 0 || f->dims[f->ndims - 1] != 3))
            return SHOAL_ERROR(SHOAL_EINVAL, "app %s: output field '%s' reduces as moments, "
                               "so it must be float64 with a last dimension of 3 "
                               "(count, mean, M2)", app->name, f->name);
        if (f->watch && (f->ndims != 0 || f->type == SHOAL_STRING))
            return SHOAL_ERROR(SHOAL_EINVAL, "app %s: output field '%s' is watched, so it "
                               "must be a scalar int64 or float64", app->name, f->name);
        if ((f->reduce == SHOAL_REDUCE_USER) != (f->combine != NULL))
            return SHOAL_ERROR(SHOAL_EINVAL, "app %s: output field '%s': a combine function "
                               "goes with SHOAL_REDUCE_USER, and only with it",
                               app->name, f->name);
    }
    for (size_t k = 0; k < app->nderived; k++) {
        const shoal_derived *d = &app->derived[k];
        if (!d->name || !d->name[0] || strchr(d->name, '/') || !d->fn)
            return SHOAL_ERROR(SHOAL_EINVAL, "app %s: derived quantity %zu needs a name "
                               "(no '/') and a function", app->name, k);
        for (size_t j = 0; j < k; j++)
            if (!strcmp(app->derived[j].name, d->name))
                return SHOAL_ERROR(SHOAL_EINVAL, "app %s: derived quantity '%s' declared "
                                   "twice", app->name, d->name);
    }
    for (size_t i = 0; i < app->nparams; i++)
        if (!app->params[i].name || !app->params[i].name[0])
            return SHOAL_ERROR(SHOAL_EINVAL, "app %s: parameter %zu has no name", app->name,
                               i);
    return 0;
}

/* ---- sizes and the fingerprint ---------------------------------------------------- */

uint64_t shoal__settings_row_bytes(const shoal_app *app, const shoal__settings *rs)
{
    /* /tasks: status 1, rank 4, seconds 4, error 4, attempts 1; with a scan
     * point 8 and replicate 8. */
    uint64_t b = shoal__row_bytes(app) + 14 + (rs->has_scan ? 16 : 0);
    for (size_t d = 0; d < rs->nscan; d++)
        b += rs->cols[d].type == SHOAL_STRING ? rs->cols[d].strlen : 8;
    return b;
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

/* A [scan] value with the spaces that carry no meaning removed: those
 * around commas and parentheses ("linspace(1, 2, 3)" and
 * "linspace(1,2,3)" are the same list). Spaces inside a value ("a b") are
 * kept: they are part of a string. */
static void append_scan_value(char **b, size_t *len, size_t *cap, const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (ch == ' ' || ch == '\t') {
            size_t j = i;
            while (j < n && (v[j] == ' ' || v[j] == '\t'))
                j++;
            int after_sep = *len > 0 && *b && strchr(",()", (*b)[*len - 1]);
            int before_sep = j < n && strchr(",()", v[j]);
            if (!after_sep && !before_sep && j < n)
                appendf(b, len, cap, " ");
            i = j - 1;
            continue;
        }
        appendf(b, len, cap, "%c", ch);
    }
}

char *shoal__settings_fingerprint(const shoal_app *app, shoal_config *cfg,
                                  const shoal__settings *rs)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    appendf(&b, &len, &cap, "app = %s\n", app->name);
    /* A stream's file grows: its size is not the run's. */
    if (rs->stream) {
        char *st = shoal__stream_fingerprint(rs->stream);
        appendf(&b, &len, &cap, "%s", st ? st : "stream = (out of memory)\n");
        free(st);
    } else {
        appendf(&b, &len, &cap, "ntasks = %llu\n", (unsigned long long)rs->tasks);
    }
    appendf(&b, &len, &cap, "seed = %llu\n", (unsigned long long)rs->seed);
    /* The generator by its own name, whatever the spelling that found it. */
    appendf(&b, &len, &cap, "rng = %s\n", rs->rng_type ? rs->rng_type->name : rs->rng);
    /* The scan: each parameter's values in [scan] order (the order decides
     * which task is which point), and the resolved design, samples and
     * replicates, so defaults and the spelling of [sampling] do not matter. */
    if (rs->scan)
        appendf(&b, &len, &cap, "scan = %s\n", shoal_scan_describe(rs->scan));
    size_t n = shoal_config_section_size(cfg, "scan");
    for (size_t i = 0; i < n; i++) {
        const char *key, *value, *where;
        if (shoal_config_section_entry(cfg, "scan", i, &key, &value, &where) == 0) {
            appendf(&b, &len, &cap, "scan.%s = ", key);
            append_scan_value(&b, &len, &cap, value);
            appendf(&b, &len, &cap, "\n");
        }
    }
    for (size_t i = 0; i < rs->nconsts; i++)
        appendf(&b, &len, &cap, "param.%s = %s\n", rs->const_names[i], rs->const_values[i]);
    if (rs->input) {
        /* The input: its files, datasets, shapes, sizes and times. */
        char *in = shoal__input_fingerprint(rs->input);
        if (in)
            appendf(&b, &len, &cap, "%s", in);
        else
            appendf(&b, &len, &cap, "input = (out of memory)\n");
        free(in);
    }
    for (size_t i = 0; i < app->noutputs; i++) {
        const shoal_field *f = &app->outputs[i];
        appendf(&b, &len, &cap, "output.%s = %s", f->name,
                f->type == SHOAL_INT64     ? "int64"
                : f->type == SHOAL_FLOAT64 ? "float64"
                                           : "string");
        for (int d = 0; d < f->ndims; d++)
            appendf(&b, &len, &cap, "%s%llu", d ? "," : "[", (unsigned long long)f->dims[d]);
        appendf(&b, &len, &cap, "%s", f->ndims ? "]" : "");
        static const char *const kinds[] = {"", "sum", "min", "max", "count",
                                            "mean", "var", "moments", "user"};
        appendf(&b, &len, &cap, "%s%s\n", f->reduce ? " reduce " : "", kinds[f->reduce]);
    }
    /* The app's own sections (a runner's command, say), entry by entry. */
    for (size_t k = 0; app->sections && app->sections[k]; k++) {
        size_t ne = shoal_config_section_size(cfg, app->sections[k]);
        for (size_t i = 0; i < ne; i++) {
            const char *key, *value, *where;
            if (shoal_config_section_entry(cfg, app->sections[k], i, &key, &value, &where) == 0)
                appendf(&b, &len, &cap, "%s.%s = %s\n", app->sections[k], key, value);
        }
    }
    if (rs->search.on) {
        char sb[600];
        shoal__search_describe(&rs->search, sb, sizeof sb);
        appendf(&b, &len, &cap, "%s", sb);
    }
    /* Where the run ends, when its results decide. */
    if (rs->has_stop)
        appendf(&b, &len, &cap, "stop_when = %s\ncheck_every = %llu\n", rs->stop_when,
                (unsigned long long)rs->check_every);
    for (size_t k = 0; rs->has_scan && k < app->nderived; k++)
        appendf(&b, &len, &cap, "%s%s%s", k ? ", " : "derived = ", app->derived[k].name,
                k + 1 == app->nderived ? "\n" : "");
    return b;
}
