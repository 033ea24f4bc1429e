/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config.c: shoal-exec's settings from the config (exec.h): [scan] and
 * [params] become the app's parameters (types read from the values),
 * [command] the argv and workdir templates and the limits, [env] the
 * variables, [outputs] the fields. Run on every rank from the same text;
 * only rank 0 looks for the program before any task runs. */
#include "exec.h"

#include <shoal/error.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the config ---------------------------------------------------------------------- */

static int is_ident(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

/* int64 if every comma-separated item is a whole number, float64 if every
 * one is a number, else a string. */
static shoal_type list_type(const char *v)
{
    int ints = 1, nums = 1;
    const char *s = v;
    for (;;) {
        const char *comma = strchr(s, ','), *e = comma ? comma : s + strlen(s);
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        char item[64];
        size_t n = (size_t)(e - s);
        if (n == 0 || n >= sizeof item)
            return SHOAL_STRING;
        memcpy(item, s, n);
        item[n] = '\0';
        char *end;
        errno = 0;
        (void)strtoll(item, &end, 10);
        if (*end || errno)
            ints = 0;
        (void)strtod(item, &end);
        if (*end)
            nums = 0;
        if (!comma)
            break;
        s = comma + 1;
    }
    return ints ? SHOAL_INT64 : nums ? SHOAL_FLOAT64 : SHOAL_STRING;
}

/* The type of a [scan] line: range() of whole numbers is int64, the other
 * functions float64, a list by its items. */
static shoal_type scan_type(const char *v)
{
    while (isspace((unsigned char)*v))
        v++;
    static const char *const floats[] = {"linspace(", "logspace(", "geomspace(",
                                         "uniform(",  "loguniform(", "normal("};
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
        if (!strncmp(v, floats[i], strlen(floats[i])))
            return SHOAL_FLOAT64;
    if (!strncmp(v, "range(", 6)) {
        char args[256];
        snprintf(args, sizeof args, "%s", v + 6);
        char *close = strchr(args, ')');
        if (close)
            *close = '\0';
        return list_type(args) == SHOAL_INT64 ? SHOAL_INT64 : SHOAL_FLOAT64;
    }
    return list_type(v);
}

static const char *const reserved[] = {"task", "replicate", "point", "seed", "attempt", "dir"};

/* The names of [stream] params (a stream of parameter rows), as entries
 * of a list: names[i] points into buf. Returns how many. */
static size_t stream_params(shoal_config *cfg, char *buf, size_t n, const char **names,
                            size_t max, const char **where)
{
    const char *v = NULL;
    *where = shoal_config_where(cfg, "stream", "params");
    if (shoal_config_get_string(cfg, "stream", "params", 0, NULL, &v) < 0 || !v)
        return 0;
    snprintf(buf, n, "%s", v);
    size_t k = 0;
    for (char *tok = strtok(buf, ", \t"); tok && k < max; tok = strtok(NULL, ", \t"))
        names[k++] = tok;
    return k;
}

/* Parameters from [params] (constants), [scan] and [stream] params (each
 * line of the stream gives their values, as text). */
static int read_params(exec_ctx *c, shoal_config *cfg)
{
    size_t np = shoal_config_section_size(cfg, "params"), ns = shoal_config_section_size(cfg, "scan");
    static char sbuf[4096];
    const char *snames[64], *swhere = NULL;
    size_t nst = stream_params(cfg, sbuf, sizeof sbuf, snames, 64, &swhere);
    c->params = calloc(np + ns + nst + 1, sizeof *c->params);
    c->tparams = calloc(np + ns + nst + 1, sizeof *c->tparams);
    if (!c->params || !c->tparams)
        return SHOAL_ENOMEM;
    int rc = 0;
    for (size_t s = 0; s < 2; s++) {
        const char *sec = s == 0 ? "params" : "scan";
        size_t n = s == 0 ? np : ns;
        for (size_t i = 0; i < n; i++) {
            const char *key, *value, *where;
            if (shoal_config_section_entry(cfg, sec, i, &key, &value, &where) < 0)
                return SHOAL_EINTERNAL;
            const char *why = NULL;
            if (!is_ident(key))
                why = "a parameter name is letters, digits and _, not starting with a digit "
                      "(it is used as {name} in [command])";
            for (size_t k = 0; !why && k < sizeof reserved / sizeof reserved[0]; k++)
                if (!strcmp(key, reserved[k]))
                    why = "the name is a placeholder shoal-exec sets itself ({task}, "
                          "{replicate}, {point}, {seed}, {attempt}, {dir}); rename it";
            for (size_t k = 0; !why && k < c->nparams; k++)
                if (!strcmp(key, c->params[k].name))
                    why = s == 1 ? "it is also set in [params]; keep one" : "set twice";
            if (why) {
                if (!rc)
                    rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [%s] %s: %s", where, sec, key, why);
                continue;
            }
            shoal_param *p = &c->params[c->nparams];
            p->name = key;
            p->type = s == 0 ? list_type(value) : scan_type(value);
            p->dflt = s == 0 ? value : NULL;
            p->doc = s == 0 ? "from [params]" : "from [scan]";
            if (s == 0 && strchr(value, ',') && p->type != SHOAL_STRING)
                p->type = SHOAL_STRING; /* a constant is one value */
            c->tparams[c->nparams] = (tpl_param){key, p->type};
            c->nparams++;
        }
    }
    for (size_t i = 0; i < nst; i++) {
        const char *key = snames[i];
        const char *why = !is_ident(key) ? "a parameter name is letters, digits and _, not "
                                           "starting with a digit"
                                         : NULL;
        for (size_t k = 0; !why && k < sizeof reserved / sizeof reserved[0]; k++)
            if (!strcmp(key, reserved[k]))
                why = "the name is a placeholder shoal-exec sets itself; rename it";
        for (size_t k = 0; !why && k < c->nparams; k++)
            if (!strcmp(key, c->params[k].name))
                why = "it is also set in [params] or [scan]; keep one";
        if (why) {
            if (!rc)
                rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] params: %s: %s",
                                 swhere ? swhere : shoal_config_source(cfg), key, why);
            continue;
        }
        shoal_param *p = &c->params[c->nparams];
        p->name = key;
        p->type = SHOAL_STRING;
        p->dflt = NULL;
        p->doc = "from each line of the stream ([stream] params)";
        c->tparams[c->nparams] = (tpl_param){key, p->type};
        c->nparams++;
    }
    return rc;
}

/* A size: a whole number with an optional k, M or G (powers of 1024). */
static int read_size(shoal_config *cfg, const char *key, uint64_t dflt, uint64_t max,
                     uint64_t *out)
{
    const char *v;
    int rc = shoal_config_get_string(cfg, "command", key, 0, NULL, &v);
    if (rc < 0)
        return rc;
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'G')
        mul = 1024 * 1024 * 1024, end++;
    if (end == v || *end || errno || v[0] == '-' || x > max / mul)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [command] %s = '%s' is not a size from 0 to %llu bytes; write "
                           "a whole number of bytes, optionally with k, M or G",
                           shoal_config_where(cfg, "command", key), key, v,
                           (unsigned long long)max);
    *out = (uint64_t)x * mul;
    return 0;
}

/* A program: a path (made absolute) or a name found in PATH. 0 or errno. */
static int resolve(const char *name, const char *cwd, char **out)
{
    char buf[PATH_MAX];
    struct stat st;
    if (strchr(name, '/')) {
        if (snprintf(buf, sizeof buf, "%s%s%s", name[0] == '/' ? "" : cwd,
                     name[0] == '/' ? "" : "/", name) >= (int)sizeof buf)
            return ENAMETOOLONG;
        if (stat(buf, &st) != 0)
            return errno;
        if (!S_ISREG(st.st_mode))
            return S_ISDIR(st.st_mode) ? EISDIR : EACCES;
        if (access(buf, X_OK) != 0)
            return errno;
        *out = strdup(buf);
        return *out ? 0 : ENOMEM;
    }
    const char *path = getenv("PATH");
    path = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    int found_noexec = 0;
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (snprintf(buf, sizeof buf, "%.*s/%s", (int)(n ? n : 1), n ? p : ".", name) <
                (int)sizeof buf &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(buf, X_OK) == 0) {
                *out = strdup(buf);
                return *out ? 0 : ENOMEM;
            }
            found_noexec = 1;
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return found_noexec ? EACCES : ENOENT;
}

int stays_under(const char *path)
{
    if (path[0] == '/')
        return 0;
    for (const char *s = path; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        if (!e)
            break;
        s = e + 1;
    }
    return 1;
}

static int read_command(exec_ctx *c, shoal_config *cfg, int rank)
{
    const char *argv_text, *workdir, *base, *prefix;
    int rc = shoal_config_get_string(cfg, "command", "argv", 1, NULL, &argv_text);
    if (rc == 0)
        rc = shoal_config_get_bool(cfg, "command", "shell", 0, 0, &c->shell);
    if (rc == 0)
        rc = shoal_config_get_string(cfg, "command", "workdir", 0, NULL, &workdir);
    if (rc == 0)
        rc = shoal_config_get_string(cfg, "command", "base", 0, ".", &base);
    if (rc == 0)
        rc = shoal_config_get_string(cfg, "command", "prefix", 0, "shoal:", &prefix);
    if (rc == 0)
        rc = shoal_config_get_string(cfg, "command", "output_file", 0, NULL, &c->output_file);
    if (rc == 0)
        rc = shoal_config_get_double(cfg, "command", "timeout", 0, 0, -HUGE_VAL, HUGE_VAL,
                                     &c->timeout);
    if (rc == 0 && shoal_config_has(cfg, "command", "timeout") && !(c->timeout > 0))
        rc = SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [command] timeout = %g: give a positive number of seconds, or "
                         "leave the key out for no limit",
                         shoal_config_where(cfg, "command", "timeout"), c->timeout);
    if (rc == 0)
        rc = shoal_config_get_double(cfg, "command", "kill_after", 0, 5, 0.001, 3600,
                                     &c->kill_after);
    if (rc == 0)
        rc = read_size(cfg, "tail", 2048, TAIL_MAX, &c->tail);
    if (rc == 0)
        rc = read_size(cfg, "max_output", (uint64_t)256 << 20, (uint64_t)1 << 50,
                       &c->max_output);
    if (rc < 0)
        return rc;
    c->out.prefix = strdup(prefix);
    if (!c->out.prefix)
        return SHOAL_ENOMEM;
    const char *aw = shoal_config_where(cfg, "command", "argv");
    rc = tpl_parse(argv_text, !c->shell, aw, "argv", c->tparams, c->nparams, &c->argv);
    if (rc < 0)
        return rc;
    if (c->output_file && (!*c->output_file || !stays_under(c->output_file)))
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [command] output_file = '%s': give a file name relative to "
                           "the task's working directory, without '..'",
                           shoal_config_where(cfg, "command", "output_file"), c->output_file);
    if (workdir) {
        const char *ww = shoal_config_where(cfg, "command", "workdir");
        rc = tpl_parse(workdir, 0, ww, "workdir", c->tparams, c->nparams, &c->workdir);
        if (rc < 0)
            return rc;
        c->has_workdir = 1;
        if (c->workdir.uses_dir)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [command] workdir cannot use {dir}: {dir} is "
                               "the working directory itself", ww);
        /* Its literal text alone must not leave the base. */
        if (!stays_under(workdir))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [command] workdir = '%s' leaves its base directory; give "
                               "a path relative to [command] base (now '%s') without '..'",
                               ww, workdir, base);
    }
    if (!getcwd(c->cwd, sizeof c->cwd))
        return SHOAL_ERROR(SHOAL_EIO, "shoal-exec: cannot read the current directory: %s",
                           strerror(errno));
    size_t bl = strlen(c->cwd) + strlen(base) + 2;
    if (!(c->base = malloc(bl)))
        return SHOAL_ENOMEM;
    while (base[0] == '.' && base[1] == '/')
        base += 2;
    if (!strcmp(base, "."))
        base = "";
    snprintf(c->base, bl, "%s%s%s", base[0] == '/' ? "" : c->cwd,
             base[0] == '/' || !base[0] ? "" : "/", base);
    /* The program, unless a placeholder names it: found now, so that a
     * typo is one line before any task runs. Rank 0 judges; the others
     * look it up for themselves and a task fails if they cannot. */
    const tpl_word *w0 = &c->argv.words[0];
    int literal = 1;
    for (size_t k = 0; k < w0->nsegs; k++)
        literal &= c->argv.segs[w0->first + k].ph == 0;
    char name[PATH_MAX];
    name[0] = '\0';
    if (c->shell) {
        snprintf(name, sizeof name, "/bin/sh");
    } else if (literal) {
        size_t n = 0;
        for (size_t k = 0; k < w0->nsegs && n + 1 < sizeof name; k++) {
            const tpl_seg *s = &c->argv.segs[w0->first + k];
            size_t m = s->len < sizeof name - 1 - n ? s->len : sizeof name - 1 - n;
            memcpy(name + n, s->text, m);
            n += m;
        }
        name[n] = '\0';
    }
    if (name[0]) {
        int e = resolve(name, c->cwd, &c->program);
        if (e == ENOMEM)
            return SHOAL_ENOMEM;
        if (e != 0 && rank == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [command] argv: the program '%s' %s", aw, name,
                               e == ENOENT && !strchr(name, '/')
                                   ? "is not in PATH; give its path (./prog) or install it"
                               : e == ENOENT ? "does not exist"
                               : e == EISDIR ? "is a directory"
                               : e == EACCES ? "is not executable (chmod +x, or run it "
                                               "through its interpreter: python3 script.py)"
                                             : strerror(e));
    }
    return 0;
}

static int read_env(exec_ctx *c, shoal_config *cfg)
{
    size_t n = shoal_config_section_size(cfg, "env");
    c->env_names = calloc(n + 1, sizeof *c->env_names);
    c->env_values = calloc(n + 1, sizeof *c->env_values);
    if (!c->env_names || !c->env_values)
        return SHOAL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *key, *value, *where;
        if (shoal_config_section_entry(cfg, "env", i, &key, &value, &where) < 0)
            return SHOAL_EINTERNAL;
        if (!is_ident(key) || !strncmp(key, "SHOAL_", 6))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [env] %s: a variable name is letters, digits and _, not "
                               "starting with a digit, and not SHOAL_ (shoal-exec sets those)",
                               where, key);
        char label[80];
        snprintf(label, sizeof label, "env %s", key);
        /* An empty value is a value: the variable set to "". */
        int rc = value[0] ? tpl_parse(value, 0, where, label, c->tparams, c->nparams,
                                      &c->env_values[i])
                          : 0;
        if (rc < 0)
            return rc;
        c->env_names[i] = key;
        c->nenv++;
    }
    return 0;
}

void exec_ctx_free(exec_ctx *c)
{
    tpl_free(&c->argv);
    tpl_free(&c->workdir);
    for (size_t i = 0; c->env_values && i < c->nenv; i++)
        tpl_free(&c->env_values[i]);
    free(c->env_values);
    free(c->env_names);
    free(c->params);
    free(c->tparams);
    free(c->program);
    free(c->base);
    out_free(&c->out);
    memset(c, 0, sizeof *c);
}

static int field_index(const exec_ctx *c, const char *name)
{
    for (size_t i = c->out.nuser; i < c->out.nfields; i++)
        if (!strcmp(c->out.fields[i].name, name))
            return (int)i;
    return -1;
}

int exec_configure(shoal_app *app, shoal_config *cfg)
{
    exec_ctx *c = app->ctx;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int rc = read_params(c, cfg);
    if (rc == 0)
        rc = read_command(c, cfg, rank);
    if (rc == 0)
        rc = read_env(c, cfg);
    if (rc == 0)
        rc = out_read(cfg, c->tail, &c->out);
    if (rc == SHOAL_ENOMEM)
        return SHOAL_ERROR(rc, "shoal-exec: out of memory reading the config");
    if (rc < 0)
        return rc;
    c->f_exit = field_index(c, "exit_code");
    c->f_signal = field_index(c, "signal");
    c->f_wall = field_index(c, "wall_seconds");
    c->f_cpu = field_index(c, "cpu_seconds");
    c->f_rss = field_index(c, "max_rss_kib");
    c->f_out = field_index(c, "stdout_tail");
    c->f_err = field_index(c, "stderr_tail");
    app->params = c->params;
    app->nparams = c->nparams;
    app->outputs = c->out.fields;
    app->noutputs = c->out.nfields;
    return 0;
}
