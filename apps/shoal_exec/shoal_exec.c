/* SPDX-License-Identifier: GPL-3.0-or-later */
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

#define LINE_MIN 65536
#define OUTPUT_FILE_MAX (16u << 20)


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
        .configure = exec_configure,
        .sections = sections,
        .help = help,
        .side_effects = 1, /* it runs programs: --dry-run times none */
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
    exec_ctx_free(&ctx);
    return status;
}
