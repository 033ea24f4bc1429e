/* SPDX-License-Identifier: GPL-3.0-or-later */
/* shoal-exec: any program as a Shoal task (docs/commands.md).
 *
 *   template.c  the [command] argv and workdir templates: words, quotes,
 *               {placeholders}, expansion for one task
 *   outputs.c   the [outputs] declarations and the value protocol
 *               (name=value lines on stdout, or a file in the workdir)
 *   spawn.c     one program run: posix_spawn in its own process group,
 *               bounded capture of stdout and stderr, timeout, wait4
 *   config.c    the config ([command], [outputs], [params], [env], [scan])
 *   shoal_exec.c  the task function, main
 *
 * Every piece is per rank and single-threaded: one program runs at a time
 * on a rank, and memory is bounded by the config (tails, one line). */
#ifndef SHOAL_EXEC_H
#define SHOAL_EXEC_H

#include <shoal/app.h>
#include <shoal/config.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- failure codes in /tasks/error (docs/commands.md) ---------------------- */
/* 1..255: the program's own non-zero exit status.
 * 256 + s: the program was killed by signal s. */
enum {
    EXEC_SIGNALLED = 256,
    EXEC_TIMEOUT = 1001,   /* ran past [command] timeout; killed */
    EXEC_NOSTART = 1002,   /* could not be started (not found, not executable) */
    EXEC_MISSING = 1003,   /* a declared output got no value */
    EXEC_MALFORMED = 1004, /* a value line or value that does not parse */
    EXEC_TOO_MUCH = 1005,  /* wrote more than [command] max_output; killed */
    EXEC_ORPHANS = 1006,   /* exited, leaving processes of its group running */
    EXEC_WORKDIR = 1007    /* its working directory could not be made */
};

/* ---- growing text ------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
} xbuf;

int xbuf_add(xbuf *b, const char *s, size_t n);
int xbuf_adds(xbuf *b, const char *s);
void xbuf_free(xbuf *b);

/* ---- templates --------------------------------------------------------------- */

/* Placeholders Shoal sets; any other {name} is a parameter. */
enum { PH_TASK = -1, PH_REPLICATE = -2, PH_POINT = -3, PH_SEED = -4, PH_ATTEMPT = -5,
       PH_DIR = -6 };

typedef struct {
    const char *text; /* literal bytes (into the template's own copy) */
    size_t len;
    int ph;           /* 0: literal; < 0: PH_*; > 0: parameter index + 1 */
} tpl_seg;

typedef struct {
    size_t first, nsegs; /* segments of one word */
} tpl_word;

typedef struct {
    char *lit;       /* literal text of every segment */
    tpl_seg *segs;
    size_t nsegs;
    tpl_word *words;
    size_t nwords;
    int uses_dir;    /* some {dir} */
} tpl;

/* A parameter a template may name. */
typedef struct {
    const char *name;
    shoal_type type;
} tpl_param;

/* Parse `text` (from `where`, for messages). words: split at blanks, with
 * '...' and "..." grouping and \ escaping one character (shell-like; no
 * other expansion); otherwise the whole text is one word. {{ and }} are
 * literal braces. Errors are reported (SHOAL_ECONFIG). */
int tpl_parse(const char *text, int words, const char *where, const char *key,
              const tpl_param *params, size_t nparams, tpl *out);
void tpl_free(tpl *t);

/* The values of one task, for expansion. */
typedef struct {
    shoal_task *task;
    const tpl_param *params;
    const char *dir; /* the task's working directory (absolute) */
} tpl_values;

/* Expand word w of t into b (appended). quote: single-quote every value for
 * /bin/sh. Returns 0 or SHOAL_ENOMEM. */
int tpl_expand_word(const tpl *t, size_t w, const tpl_values *v, int quote, xbuf *b);

/* A double as the shortest text that reads back as the same double. */
void fmt_double(double x, char *buf, size_t n);

/* ---- outputs ------------------------------------------------------------------ */

typedef struct {
    shoal_field *fields; /* user outputs, then the outcome fields */
    size_t nuser, nfields;
    char *names;         /* the fields' names */
    char *prefix;        /* value lines start with it ("" : bare name=value) */
} out_decl;

/* Read [outputs] (every key a declared field); then the outcome fields,
 * with stdout_tail and stderr_tail of `tail` bytes unless tail is 0. */
int out_read(shoal_config *cfg, uint64_t tail, out_decl *d);
void out_free(out_decl *d);

/* One task's value parsing. */
typedef struct {
    const out_decl *d;
    shoal_task *task;
    unsigned char *seen; /* per user field */
    int code;            /* first error: EXEC_MALFORMED, or 0 */
    char msg[160];
} out_parse;

/* One line (no newline). from_file: the prefix is optional and any other
 * non-blank, non-# line is malformed. */
void out_line(out_parse *p, const char *line, size_t len, int from_file);
/* After the program: names of fields with no value; 0 if all have one. */
int out_missing(out_parse *p, char *msg, size_t n);

/* ---- one program run ------------------------------------------------------------ */

typedef struct {
    char **argv;          /* argv[0] is a path or a name to look up in PATH */
    char **envp;
    const char *dir;      /* working directory, or NULL */
    double timeout;       /* seconds; 0: none */
    double kill_after;    /* seconds from SIGTERM to SIGKILL */
    uint64_t max_output;  /* bytes of stdout + stderr; 0: no limit */
    size_t tail;          /* bytes kept of each stream */
    shoal_task *task;     /* for shoal_task_set_child_group */
    /* Called with each complete stdout line (and a last partial one). */
    void (*on_line)(void *arg, const char *line, size_t len);
    void *arg;
    size_t line_max;      /* longer lines are passed cut, with cut = 1 */
    void (*on_long_line)(void *arg, const char *start, size_t len);
} run_spec;

typedef struct {
    int started;          /* 0: spawn failed (err says why) */
    int err;              /* errno of a failed spawn */
    int exited, status;   /* exited normally with status */
    int sig;              /* killed by signal */
    int timed_out, too_much, orphans;
    double wall, cpu;
    long maxrss_kib;
    uint64_t out_bytes;   /* stdout + stderr read */
    /* Tails: the last `tail` bytes of each stream, in order. */
    char *out_tail, *err_tail;
    size_t out_len, err_len;
} run_result;

/* Per rank, once: makes this process a subreaper, so that processes a
 * program leaves behind come back to it and are reaped. */
void run_setup(void);
/* Run one program to completion (or its kill). r->out_tail and err_tail
 * must hold spec->tail bytes each. Returns 0, or SHOAL_ENOMEM / SHOAL_EIO
 * for a failure of the rank itself (pipes, memory). */
int run_program(const run_spec *spec, run_result *r, char *line_buf);

/* Bytes kept of each stream per task, at most ([command] tail). */
#define TAIL_MAX 65536

/* ---- the run's settings (config.c) ---------------------------------------------- */

typedef struct exec_ctx {
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

/* The configure hook (shoal_app.configure): [scan] and [params] into
 * parameters, [command], [env] and [outputs]; app->ctx is an exec_ctx. */
int exec_configure(shoal_app *app, shoal_config *cfg);
void exec_ctx_free(exec_ctx *c);
/* A relative path with no ".." component (a workdir, an output file). */
int stays_under(const char *path);

#endif
