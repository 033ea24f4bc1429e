/* shoal-exec: run any program as a Shoal task (docs/commands.md).
 *
 * The app's parameters and outputs come from the config, so they are built
 * in the configure hook, on every rank from the same text: [scan] and
 * [params] make the parameters (types read from the values), [outputs]
 * the fields, [command] the argv and workdir templates, [env] the
 * variables. Each task expands the templates, makes its working
 * directory, runs the program (spawn.c), parses its values (outputs.c)
 * and records its outcome in ordinary output fields. Nothing in the pool,
 * the store or the resume logic knows it runs programs. */
#include "exec.h"

#include <shoal/error.h>
#include <shoal/log.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define TAIL_MAX 65536
#define LINE_MIN 65536
#define OUTPUT_FILE_MAX (16u << 20)

typedef struct {
    /* [command] */
    int shell;
    double timeout, kill_after;
    uint64_t tail, max_output;
    const char *output_file;
    char *program;        /* argv[0] resolved once, or NULL (per task) */
    char cwd[PATH_MAX];   /* where the run started: {dir} without a workdir */
    char *base;           /* absolute: workdirs are made under it */
    tpl argv, workdir;
    int has_workdir;
    /* [env] */
    size_t nenv;
    const char **env_names;
    tpl *env_values;
    /* parameters: [scan] and [params] */
    shoal_param *params;
    tpl_param *tparams;
    size_t nparams;
    /* [outputs] and the outcome fields */
    out_decl out;
    int f_exit, f_signal, f_wall, f_cpu, f_rss, f_out, f_err;
} exec_ctx;

/* Per rank: everything a task needs, allocated once. */
typedef struct {
    char *line;
    char *out_tail, *err_tail;
    unsigned char *seen;
    xbuf args, env, dirbuf;
    char **argv, **envp;
    size_t argv_cap, envp_cap;
    char **base_env; /* environ without the names the task sets */
    size_t nbase_env;
    size_t line_max;
} exec_ws;

static const char *const sections[] = {"command", "outputs", "params", "env", NULL};

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

/* Parameters from [params] (constants) and [scan]. */
static int read_params(exec_ctx *c, shoal_config *cfg)
{
    size_t np = shoal_config_section_size(cfg, "params"), ns = shoal_config_section_size(cfg, "scan");
    c->params = calloc(np + ns + 1, sizeof *c->params);
    c->tparams = calloc(np + ns + 1, sizeof *c->tparams);
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

/* A relative path with no ".." component (a workdir, an output file). */
static int stays_under(const char *path)
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

static void ctx_free(exec_ctx *c)
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

static int configure(shoal_app *app, shoal_config *cfg)
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

/* ---- per rank ------------------------------------------------------------------------- */

static int ws_init(void *ctx, void **workspace)
{
    exec_ctx *c = ctx;
    exec_ws *w = calloc(1, sizeof *w);
    if (!w)
        return SHOAL_ENOMEM;
    *workspace = w;
    /* A value line holds an array field's values: about 25 bytes each. */
    w->line_max = LINE_MIN;
    for (size_t i = 0; i < c->out.nuser; i++) {
        uint64_t need = 32 * shoal_field_width(&c->out.fields[i]) + 256;
        if (need > w->line_max)
            w->line_max = need;
    }
    w->line = malloc(w->line_max);
    w->out_tail = malloc(c->tail + 1);
    w->err_tail = malloc(c->tail + 1);
    w->seen = calloc(c->out.nuser + 1, 1);
    size_t ne = 0;
    while (environ && environ[ne])
        ne++;
    w->base_env = calloc(ne + 1, sizeof *w->base_env);
    if (!w->line || !w->out_tail || !w->err_tail || !w->seen || !w->base_env)
        return SHOAL_ENOMEM;
    /* The environment, less what each task sets. */
    for (size_t i = 0; i < ne; i++) {
        const char *e = environ[i];
        int drop = !strncmp(e, "SHOAL_TASK=", 11) || !strncmp(e, "SHOAL_SEED=", 11) ||
                   !strncmp(e, "SHOAL_ATTEMPT=", 14) || !strncmp(e, "SHOAL_DIR=", 10);
        for (size_t k = 0; !drop && k < c->nenv; k++) {
            size_t n = strlen(c->env_names[k]);
            drop = !strncmp(e, c->env_names[k], n) && e[n] == '=';
        }
        if (!drop)
            w->base_env[w->nbase_env++] = environ[i];
    }
    run_setup();
    return 0;
}

static void ws_free(void *ctx, void *workspace)
{
    (void)ctx;
    exec_ws *w = workspace;
    if (!w)
        return;
    free(w->line);
    free(w->out_tail);
    free(w->err_tail);
    free(w->seen);
    free(w->base_env);
    free(w->argv);
    free(w->envp);
    xbuf_free(&w->args);
    xbuf_free(&w->env);
    xbuf_free(&w->dirbuf);
    free(w);
}

/* ---- one task ------------------------------------------------------------------------ */

/* Pointers to n NUL-separated strings of b into *v (NULL-terminated). */
static int pointers(const xbuf *b, size_t n, char ***v, size_t *cap, size_t extra_at,
                    char **extra, size_t nextra)
{
    if (*cap < n + nextra + 1) {
        char **p = realloc(*v, (n + nextra + 1) * sizeof *p);
        if (!p)
            return SHOAL_ENOMEM;
        *v = p;
        *cap = n + nextra + 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < extra_at && i < nextra; i++)
        (*v)[k++] = extra[i];
    for (size_t off = 0, i = 0; i < n; i++) {
        (*v)[k++] = b->p + off;
        off += strlen(b->p + off) + 1;
    }
    (*v)[k] = NULL;
    return 0;
}

/* mkdir -p of path (absolute). 0 or errno. */
static int make_dirs(char *path)
{
    for (char *s = path + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char keep = *s;
            *s = '\0';
            int e = mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : errno;
            *s = keep;
            if (e)
                return e;
            if (!keep)
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

/* The end of the program's stderr, on one line, into at most n bytes. */
static void stderr_end(const exec_ws *w, size_t len, char *out, size_t n)
{
    const char *s = w->err_tail;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    size_t take = len < n - 1 ? len : n - 1, start = len - take;
    for (size_t i = 0; i < take; i++) {
        unsigned char ch = (unsigned char)s[start + i];
        out[i] = ch == '\n' ? '|' : ch < 32 || ch == 127 ? ' ' : (char)ch;
    }
    out[take] = '\0';
}

typedef struct {
    out_parse *p;
    shoal_task *t;
} line_ctx;

static void on_line(void *arg, const char *line, size_t len)
{
    line_ctx *l = arg;
    out_line(l->p, line, len, 0);
}

static void on_long_line(void *arg, const char *start, size_t len)
{
    line_ctx *l = arg;
    const char *pre = l->p->d->prefix;
    size_t plen = strlen(pre);
    if (plen && len >= plen && !memcmp(start, pre, plen) && !l->p->code) {
        l->p->code = EXEC_MALFORMED;
        snprintf(l->p->msg, sizeof l->p->msg, "a value line longer than %zu bytes", len);
    }
}

/* Values from the output file in the task's directory. */
static void read_output_file(const exec_ctx *c, const char *dir, out_parse *p)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, c->output_file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        p->code = EXEC_MISSING;
        snprintf(p->msg, sizeof p->msg, "no output file '%s': %s", c->output_file,
                 strerror(errno));
        return;
    }
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (off_t)OUTPUT_FILE_MAX)
        text = malloc((size_t)st.st_size + 1);
    ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
    close(fd);
    if (got < 0) {
        free(text);
        p->code = EXEC_MALFORMED;
        snprintf(p->msg, sizeof p->msg, "output file '%s' is not a readable file of at most "
                 "16 MiB", c->output_file);
        return;
    }
    for (char *s = text, *end = text + got; s < end;) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        out_line(p, s, (size_t)(e - s), 1);
        s = e + 1;
    }
    free(text);
}

static int exec_task(shoal_task *t, void *ctx)
{
    exec_ctx *c = ctx;
    exec_ws *w = shoal_task_workspace(t);
    tpl_values v = {t, c->tparams, c->cwd};
    char msg[SHOAL_FAILURE_MSG];
    int rc;

    shoal_set_int64(t, c->f_exit, -1);
    /* The working directory. */
    if (c->has_workdir) {
        w->dirbuf.len = 0;
        rc = xbuf_adds(&w->dirbuf, c->base);
        if (rc == 0)
            rc = xbuf_add(&w->dirbuf, "/", 1);
        size_t rel = w->dirbuf.len;
        if (rc == 0)
            rc = tpl_expand_word(&c->workdir, 0, &v, 0, &w->dirbuf);
        if (rc < 0)
            return shoal_task_fail(t, SHOAL_ENOMEM, "out of memory for the working directory");
        if (!stays_under(w->dirbuf.p + rel) || !w->dirbuf.p[rel])
            return shoal_task_fail(t, EXEC_WORKDIR, "working directory '%.60s' leaves the "
                                   "base directory", w->dirbuf.p + rel);
        int e = make_dirs(w->dirbuf.p);
        if (e)
            return shoal_task_fail(t, EXEC_WORKDIR, "cannot make working directory '%.60s': %s",
                                   w->dirbuf.p + rel, strerror(e));
        v.dir = w->dirbuf.p;
    }
    /* argv: the words, or /bin/sh -c and the quoted line. */
    w->args.len = 0;
    rc = 0;
    size_t nargs = 0;
    for (size_t i = 0; rc == 0 && i < c->argv.nwords; i++) {
        rc = tpl_expand_word(&c->argv, i, &v, c->shell, &w->args);
        if (rc == 0)
            rc = xbuf_add(&w->args, "\0", 1);
        nargs++;
    }
    char *sh[2] = {"/bin/sh", "-c"};
    if (rc == 0)
        rc = pointers(&w->args, nargs, &w->argv, &w->argv_cap, c->shell ? 2 : 0, sh,
                      c->shell ? 2 : 0);
    if (rc == 0 && !c->shell && c->program)
        w->argv[0] = c->program;
    /* The environment: the rank's, the task's SHOAL_* and [env]. */
    w->env.len = 0;
    char num[4][96];
    snprintf(num[0], sizeof num[0], "SHOAL_TASK=%llu", (unsigned long long)shoal_task_index(t));
    snprintf(num[1], sizeof num[1], "SHOAL_SEED=%llu", (unsigned long long)shoal_task_seed(t));
    snprintf(num[2], sizeof num[2], "SHOAL_ATTEMPT=%d", shoal_task_attempt(t));
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = xbuf_add(&w->env, num[i], strlen(num[i]) + 1);
    if (rc == 0)
        rc = xbuf_adds(&w->env, "SHOAL_DIR=");
    if (rc == 0)
        rc = xbuf_add(&w->env, v.dir, strlen(v.dir) + 1);
    for (size_t i = 0; rc == 0 && i < c->nenv; i++) {
        rc = xbuf_adds(&w->env, c->env_names[i]);
        if (rc == 0)
            rc = xbuf_add(&w->env, "=", 1);
        if (rc == 0 && c->env_values[i].nwords)
            rc = tpl_expand_word(&c->env_values[i], 0, &v, 0, &w->env);
        if (rc == 0)
            rc = xbuf_add(&w->env, "\0", 1);
    }
    if (rc == 0)
        rc = pointers(&w->env, 4 + c->nenv, &w->envp, &w->envp_cap, w->nbase_env, w->base_env,
                      w->nbase_env);
    if (rc < 0)
        return shoal_task_fail(t, SHOAL_ENOMEM, "out of memory for the command line");
    if (shoal_task_failed(t))
        return shoal_task_failed(t); /* a parameter could not be read */

    /* An output file left by an earlier attempt or run must not pass for
     * this run's. */
    if (c->output_file) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", v.dir, c->output_file);
        if (unlink(path) != 0 && errno != ENOENT)
            return shoal_task_fail(t, EXEC_WORKDIR, "cannot remove the old output file "
                                   "'%.60s': %s", c->output_file, strerror(errno));
    }

    /* Run it. */
    memset(w->seen, 0, c->out.nuser + 1);
    out_parse p = {&c->out, t, w->seen, 0, ""};
    line_ctx lc = {&p, t};
    run_spec spec = {
        .argv = w->argv,
        .envp = w->envp,
        .dir = c->has_workdir ? v.dir : NULL,
        .timeout = c->timeout,
        .kill_after = c->kill_after,
        .max_output = c->max_output,
        .tail = c->tail,
        .task = t,
        .on_line = on_line,
        .arg = &lc,
        .line_max = w->line_max,
        .on_long_line = on_long_line,
    };
    run_result r = {.out_tail = w->out_tail, .err_tail = w->err_tail};
    rc = run_program(&spec, &r, w->line);
    if (rc < 0)
        return rc; /* the rank's own trouble: reported */

    shoal_set_int64(t, c->f_exit, r.exited ? r.status : -1);
    shoal_set_int64(t, c->f_signal, r.sig);
    shoal_set_double(t, c->f_wall, r.wall);
    shoal_set_double(t, c->f_cpu, r.cpu);
    shoal_set_int64(t, c->f_rss, r.maxrss_kib);
    if (c->f_out >= 0) {
        memcpy(shoal_out_string(t, c->f_out), w->out_tail, r.out_len);
        memcpy(shoal_out_string(t, c->f_err), w->err_tail, r.err_len);
    }
    if (!r.started)
        return shoal_task_fail(t, EXEC_NOSTART, "cannot start '%.70s': %s", w->argv[0],
                               strerror(r.err));

    /* What went wrong, most telling first, with the end of stderr. */
    char what[96];
    int code = 0;
    what[0] = '\0';
    if (r.timed_out) {
        code = EXEC_TIMEOUT;
        snprintf(what, sizeof what, "timed out after %g s (killed)", c->timeout);
    } else if (r.too_much) {
        code = EXEC_TOO_MUCH;
        snprintf(what, sizeof what, "wrote more than %llu bytes of output (killed)",
                 (unsigned long long)c->max_output);
    } else if (r.sig) {
        code = EXEC_SIGNALLED + r.sig;
        snprintf(what, sizeof what, "killed by signal %d (%s)", r.sig, strsignal(r.sig));
    } else if (r.exited && r.status != 0) {
        code = r.status;
        snprintf(what, sizeof what, "exit status %d", r.status);
    } else if (r.orphans) {
        code = EXEC_ORPHANS;
        snprintf(what, sizeof what, "exited leaving processes of its group running (killed)");
    }
    if (code) {
        char tail[SHOAL_FAILURE_MSG];
        size_t room = sizeof msg - strlen(what) - 3;
        stderr_end(w, r.err_len, tail, room < sizeof tail ? room : sizeof tail);
        /* The message holds SHOAL_FAILURE_MSG bytes: what, then the tail. */
        return shoal_task_fail(t, code, "%s%s%s", what, tail[0] ? ": " : "", tail);
    }
    if (c->output_file && !p.code)
        read_output_file(c, v.dir, &p);
    if (p.code)
        return shoal_task_fail(t, p.code, "%s", p.msg);
    if (out_missing(&p, msg, sizeof msg))
        return shoal_task_fail(t, EXEC_MISSING, "%s", msg);
    return SHOAL_OK;
}

/* ---- main ------------------------------------------------------------------------------- */

static const char help[] =
    "Section [command]:\n"
    "  argv        the program and its arguments, a template: ./sim --T {T} --seed {seed}\n"
    "              placeholders: any [scan] or [params] name, {task}, {replicate},\n"
    "              {point}, {seed}, {attempt}, {dir}; {{ and }} are literal braces\n"
    "  shell       false: argv is split into words (quotes group, values stay one\n"
    "              argument); true: run by /bin/sh -c, each value single-quoted\n"
    "  workdir     per-task working directory under base, a template: runs/{task}\n"
    "  base        directory the workdirs go under; default .\n"
    "  timeout     seconds a run may take (default: no limit); then SIGTERM to its\n"
    "              process group, and SIGKILL kill_after seconds later (default 5)\n"
    "  prefix      start of value lines on stdout; default shoal:  (empty: bare name=value)\n"
    "  output_file a file in the workdir with name=value lines, read after the program\n"
    "  tail        bytes kept of stdout and of stderr per task (0..64k); default 2048\n"
    "  max_output  bytes of output after which the program is killed; default 256M\n"
    "Section [outputs]: name = int64 | float64 [shape] [reduction], e.g. hist = int64[10] sum\n"
    "Section [params]: constants (name = value), for the templates\n"
    "Section [env]: NAME = value (a template) added to the program's environment\n"
    "Failure codes (/tasks/error): 1-255 exit status; 256+N signal N; 1001 timeout;\n"
    "  1002 cannot start; 1003 a value missing; 1004 a value malformed; 1005 too much\n"
    "  output; 1006 left processes running; 1007 working directory. See docs/commands.md.";

int main(int argc, char **argv)
{
    static exec_ctx ctx;
    /* --help lists the outcome fields every run has. */
    static shoal_field outcome[7];
    out_decl none;
    memset(&none, 0, sizeof none);
    shoal_app app = {
        .name = "shoal_exec",
        .doc = "Run any program as the task: each task runs [command] argv with its\n"
               "parameters filled in, and stores the values the program prints\n"
               "([outputs]) with its exit status, times, memory and output tails.",
        .run = exec_task,
        .ctx = &ctx,
        .worker_init = ws_init,
        .worker_finalize = ws_free,
        .configure = configure,
        .sections = sections,
        .help = help,
    };
    /* The outcome fields, for --help. */
    shoal_config *empty = NULL;
    if (shoal_config_parse("", 0, "(none)", &empty) == 0 && out_read(empty, 2048, &none) == 0) {
        for (size_t i = 0; i < none.nfields && i < 7; i++)
            outcome[i] = none.fields[i];
        app.outputs = outcome;
        app.noutputs = none.nfields < 7 ? none.nfields : 7;
    }
    int status = shoal_main(&app, argc, argv);
    out_free(&none);
    shoal_config_free(empty);
    ctx_free(&ctx);
    return status;
}
