/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stream.c: [stream] — its keys, rank 0's intake of items between its
 * other duties, and the pool hooks that let them out as they arrive (see
 * stream.h for the life of a stream). */
#include <shoal/clock.h>
#include <shoal/error.h>
#include <shoal/log.h>

#include "keep.h"
#include "mpiutil.h"
#include "stream.h"
#include "stream_src.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_GROW 4096
#define DEFAULT_MAX_WAITING 10000
#define BATCH 64                 /* items taken per look at the source */
#define INTAKE_EVERY 1e-3        /* s between looks at the source, at most */
#define SENTINEL_EVERY 0.05      /* s between looks for the sentinel */
#define PAYLOAD_MAX ((size_t)64 << 10)

/* Flags of an item in a payload. */
enum { ITEM_OK = 0, ITEM_TOO_LONG = 1, ITEM_MISSING = 2 };

typedef struct {
    uint64_t index;
    uint8_t flags;
    char *text;
} item;

/* A set of strings (the paths a resumed file recorded): open addressing. */
typedef struct {
    char **slot;
    size_t cap, n;
} strset;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int set_has(const strset *set, const char *s)
{
    if (!set->cap)
        return 0;
    for (size_t i = hash_str(s) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (!set->slot[i])
            return 0;
        if (!strcmp(set->slot[i], s))
            return 1;
    }
}

static int set_add(strset *set, const char *s)
{
    if (2 * (set->n + 1) > set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 64;
        char **slot = calloc(cap, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t j = 0; j < set->cap; j++) {
            if (!set->slot[j])
                continue;
            size_t i = hash_str(set->slot[j]) & (cap - 1);
            while (slot[i])
                i = (i + 1) & (cap - 1);
            slot[i] = set->slot[j];
        }
        free(set->slot);
        set->slot = slot;
        set->cap = cap;
    }
    if (set_has(set, s))
        return 0;
    char *copy = strdup(s);
    if (!copy)
        return -1;
    size_t i = hash_str(s) & (set->cap - 1);
    while (set->slot[i])
        i = (i + 1) & (set->cap - 1);
    set->slot[i] = copy;
    set->n++;
    return 0;
}

static void set_free(strset *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slot[i]);
    free(set->slot);
    memset(set, 0, sizeof *set);
}

struct shoal__stream {
    /* configured */
    const char *watch, *lines;   /* one is set */
    char *dir, *pattern;         /* watch split */
    char *marker;                /* ready = marker SUFFIX; NULL: rename */
    double poll;                 /* 0: inotify */
    int end_eof;
    char *sentinel;
    uint64_t end_after;          /* 0: none */
    double end_time;             /* 0: none */
    uint64_t max_waiting, grow;
    char **pnames;               /* params: the names a line gives values to */
    size_t npnames;
    char *params_text;
    const char *params_where;
    const char *where;           /* of watch or lines */
    char *end_text;              /* as configured, for the fingerprint */
    /* rank 0 */
    shoal__src *src;
    shoal_store *store;
    uint64_t rows;               /* the pool run's rows */
    uint64_t arrived;            /* items taken in (indices 0..arrived-1) */
    uint64_t recorded;           /* of them, recorded before this run */
    item *q;                     /* items not gone out yet, by index */
    size_t qhead, qlen, qcap;
    strset seen;                 /* paths a resumed file had recorded */
    shoal__src_item *batch;
    double t_start, last_intake, last_sentinel, sentinel_at;
    /* rows 0..complete-1 finished; finished ranges past it, unsorted */
    uint64_t complete, written_complete;
    uint64_t (*fin)[2];
    size_t nfin, capfin;
    double last_complete;
    int ended, failed;
    char reason[128];
    char summary[256];
    /* the hooks this one wraps (progress) */
    void (*prev_tick)(void *ctx, double now);
    void (*prev_range)(void *ctx, uint64_t start, uint64_t count, uint64_t failed,
                       double seconds);
    void *prev_ctx;
};

/* ---- the keys ------------------------------------------------------------------- */

enum { K_WATCH, K_LINES, K_PARAMS, K_READY, K_POLL, K_END, K_MAX_WAITING, K_GROW, NKEYS };

static const struct {
    const char *key;
    const char *doc;
} keys[NKEYS] = {
    [K_WATCH] = {"watch", "DIR/PATTERN: each file that appears in DIR with a name matching "
                          "the glob PATTERN is an item (e.g. frames/*.h5)"},
    [K_LINES] = {"lines", "or: - (rank 0's standard input) or a named pipe or file: each "
                          "line is an item, a file's path"},
    [K_PARAMS] = {"params", "with lines: each line is a parameter row, values for these "
                            "parameters (comma-separated names), e.g. T=2.5 L=16"},
    [K_READY] = {"ready", "rename (default: files appear whole, renamed into place) or "
                          "marker SUFFIX (a file counts once FILE+SUFFIX exists)"},
    [K_POLL] = {"poll", "inotify (default, polling every second where it cannot work) or "
                        "SECONDS between directory scans (parallel file systems)"},
    [K_END] = {"end", "when the stream ends, any of (comma-separated): eof (end of the "
                      "lines; their default), sentinel NAME (a file NAME in DIR), after N "
                      "(items), time SECONDS (s, m or h suffix); default for watch: only "
                      "a signal"},
    [K_MAX_WAITING] = {"max_waiting", "items taken in but not started, at most (default "
                                      "10000); more wait in DIR or in the pipe"},
    [K_GROW] = {"grow", "rows the result file grows by when the items fill it (default 4096)"},
};

void shoal__stream_help(FILE *out)
{
    fprintf(out, "Section [stream] (optional): tasks that arrive while the run goes "
                 "(docs/streams.md)\n");
    for (int k = 0; k < NKEYS; k++)
        fprintf(out, "  %-22s %s\n", keys[k].key, keys[k].doc);
}

/* "90", "90s", "2m", "1.5h" -> seconds; -1 if not a duration. */
static double parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v > 0) || !isfinite(v))
        return -1;
    while (*end == ' ')
        end++;
    double unit = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60
                                                 : !strcmp(end, "h") ? 3600 : -1;
    return unit > 0 ? v * unit : -1;
}

/* One "end" condition. */
static int parse_end(shoal__stream *st, const char *cond, size_t n, const char *where)
{
    char buf[512];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, cond, n);
    buf[n] = '\0';
    char *w = buf;
    while (*w == ' ' || *w == '\t')
        w++;
    char *e = w + strlen(w);
    while (e > w && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    char *arg = strchr(w, ' ');
    if (arg) {
        *arg++ = '\0';
        while (*arg == ' ')
            arg++;
    }
    if (!strcmp(w, "eof") && !arg) {
        if (!st->lines)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] end = eof needs lines = ... (a "
                               "directory has no end of input); use sentinel NAME, after N "
                               "or time SECONDS",
                               where);
        st->end_eof = 1;
        return 0;
    }
    if (!strcmp(w, "sentinel") && arg && *arg) {
        if (!st->watch)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] end = sentinel needs watch = "
                               "DIR/PATTERN (the sentinel is a file in DIR)",
                               where);
        if (strchr(arg, '/'))
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] end = sentinel '%s': give a "
                               "file name in the watched directory, without '/'",
                               where, arg);
        free(st->sentinel);
        st->sentinel = strdup(arg);
        return st->sentinel ? 0 : SHOAL_ENOMEM;
    }
    if (!strcmp(w, "after") && arg) {
        char *end;
        unsigned long long v = strtoull(arg, &end, 10);
        if (*arg >= '0' && *arg <= '9' && !*end && v > 0) {
            st->end_after = v;
            return 0;
        }
    }
    if (!strcmp(w, "time") && arg && parse_duration(arg) > 0) {
        st->end_time = parse_duration(arg);
        return 0;
    }
    return SHOAL_ERROR(SHOAL_ECONFIG,
                       "%s: [stream] end: '%s%s%s' is not a condition; use eof, sentinel "
                       "NAME, after N (items, >= 1) or time SECONDS (e.g. 90, 2m, 1h), "
                       "comma-separated",
                       where, w, arg ? " " : "", arg ? arg : "");
}

int shoal__stream_config(shoal_config *cfg, shoal__stream **out)
{
    *out = NULL;
    if (!shoal_config_has_section(cfg, "stream"))
        return 0;
    shoal__stream *st = calloc(1, sizeof *st);
    if (!st)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for [stream]");
    *out = st;
    const char *v[NKEYS] = {NULL}, *w[NKEYS] = {NULL};
    int rc = 0;
    for (int k = 0; k < NKEYS; k++) {
        if (k == K_MAX_WAITING)
            KEEP(shoal_config_get_u64(cfg, "stream", keys[k].key, 0, DEFAULT_MAX_WAITING, 1,
                                      (uint64_t)1 << 30, &st->max_waiting));
        else if (k == K_GROW)
            KEEP(shoal_config_get_u64(cfg, "stream", keys[k].key, 0, DEFAULT_GROW, 16,
                                      (uint64_t)1 << 24, &st->grow));
        else
            KEEP(shoal_config_get_string(cfg, "stream", keys[k].key, 0, NULL, &v[k]));
        w[k] = shoal_config_where(cfg, "stream", keys[k].key);
        if (v[k] && !v[k][0])
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] %s is empty; %s", w[k], keys[k].key,
                             keys[k].doc));
    }
    if (rc < 0)
        return rc;
    if (!v[K_WATCH] == !v[K_LINES])
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           v[K_WATCH] ? "%s: [stream] watch and lines (at %s) cannot both be "
                                        "given; keep one"
                                      : "%s: [stream] names no source%s; give watch = "
                                        "DIR/PATTERN (files appearing in a directory) or "
                                        "lines = - (paths on standard input) or lines = PIPE",
                           v[K_WATCH] ? w[K_WATCH] : shoal_config_source(cfg),
                           v[K_WATCH] ? w[K_LINES] : "");
    st->watch = v[K_WATCH];
    st->lines = v[K_LINES];
    st->where = st->watch ? w[K_WATCH] : w[K_LINES];
    if (st->watch) {
        const char *slash = strrchr(st->watch, '/');
        st->dir = slash ? strndup(st->watch, (size_t)(slash - st->watch)) : strdup(".");
        st->pattern = strdup(slash ? slash + 1 : st->watch);
        if (!st->dir || !st->pattern)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for [stream]");
        if (!st->dir[0]) {
            free(st->dir);
            st->dir = strdup("/");
        }
        if (!st->pattern[0])
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] watch = '%s' has no file pattern "
                             "after the directory; e.g. watch = %s/*.h5",
                             w[K_WATCH], st->watch, st->dir));
    }
    for (int k = K_READY; k <= K_POLL; k++)
        if (v[k] && !st->watch)
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] %s applies to watch = DIR/PATTERN, "
                             "not to lines; remove it",
                             w[k], keys[k].key));
    if (v[K_READY] && st->watch) {
        if (!strncmp(v[K_READY], "marker", 6) && v[K_READY][6] == ' ') {
            const char *suf = v[K_READY] + 7;
            while (*suf == ' ')
                suf++;
            if (!*suf || strchr(suf, '/'))
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] ready = marker needs a suffix "
                                 "without '/', e.g. ready = marker .done",
                                 w[K_READY]));
            else if (!(st->marker = strdup(suf)))
                KEEP(SHOAL_ENOMEM);
        } else if (strcmp(v[K_READY], "rename")) {
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] ready = '%s' is not known; use "
                             "rename (files renamed into place) or marker SUFFIX",
                             w[K_READY], v[K_READY]));
        }
    }
    if (v[K_POLL] && st->watch && strcmp(v[K_POLL], "inotify")) {
        char *end;
        st->poll = strtod(v[K_POLL], &end);
        if (*end || !(st->poll >= 0.001 && st->poll <= 3600))
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] poll = '%s': use inotify or the "
                             "seconds between scans, 0.001 to 3600",
                             w[K_POLL], v[K_POLL]));
    }
    if (v[K_PARAMS] && !st->lines)
        KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] params applies to lines = ... (each "
                         "line a parameter row), not to watch; remove it",
                         w[K_PARAMS]));
    else if (v[K_PARAMS]) {
        st->params_text = strdup(v[K_PARAMS]);
        st->params_where = w[K_PARAMS];
        for (const char *p = v[K_PARAMS]; p && rc == 0;) {
            while (*p == ' ' || *p == '\t')
                p++;
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            char **grown = realloc(st->pnames, (st->npnames + 1) * sizeof *grown);
            char *name = n ? strndup(p, n) : NULL;
            if (!grown || (n && !name)) {
                free(name);
                if (grown)
                    st->pnames = grown;
                return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for [stream] params");
            }
            st->pnames = grown;
            if (!name || strpbrk(name, " =\t")) {
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] params = '%s': give the "
                                 "parameters' names, comma-separated (e.g. params = T, L)",
                                 w[K_PARAMS], v[K_PARAMS]));
                free(name);
                break;
            }
            for (size_t i = 0; i < st->npnames; i++)
                if (!strcmp(st->pnames[i], name))
                    KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] params names '%s' twice",
                                     w[K_PARAMS], name));
            st->pnames[st->npnames++] = name;
            if (st->npnames > 64) {
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [stream] params names more than 64 "
                                 "parameters", w[K_PARAMS]));
                break;
            }
            p = comma ? comma + 1 : NULL;
        }
    }
    if (v[K_END]) {
        st->end_text = strdup(v[K_END]);
        for (const char *p = v[K_END]; p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            KEEP(parse_end(st, p, n, w[K_END]));
            p = comma ? comma + 1 : NULL;
        }
    } else if (st->lines) {
        st->end_eof = 1;
    }
    return rc;
}
#undef KEEP

char *shoal__stream_fingerprint(const shoal__stream *st)
{
    /* The source and how items become tasks; not when it ends (a resumed
     * stream may end otherwise) nor its sizes. */
    const char *kind = st->watch ? "watch" : "lines";
    const char *src = st->watch ? st->watch : st->lines;
    const char *ready = st->marker ? "marker " : "rename";
    const char *suffix = st->marker ? st->marker : "";
    const char *params = st->params_text ? st->params_text : "";
    int n = snprintf(NULL, 0, "stream.source = %s %s\nstream.ready = %s%s\nstream.params = %s\n",
                     kind, src, ready, suffix, params);
    char *s = malloc((size_t)n + 1);
    if (s)
        snprintf(s, (size_t)n + 1,
                 "stream.source = %s %s\nstream.ready = %s%s\nstream.params = %s\n", kind, src,
                 ready, suffix, params);
    return s;
}

void shoal__stream_print(const shoal__stream *st, FILE *out)
{
    if (st->watch)
        fprintf(out, "  stream:   files matching '%s' in %s (%s; %s)\n", st->pattern, st->dir,
                st->marker ? "ready with a marker" : "renamed into place",
                st->poll > 0 ? "polled" : "inotify");
    else
        fprintf(out, "  stream:   lines of %s, each a file's path\n",
                !strcmp(st->lines, "-") ? "standard input" : st->lines);
    fprintf(out, "  ends:     %s\n", st->end_text ? st->end_text : st->end_eof ? "eof"
                                                                  : "on a signal only");
    fprintf(out, "  file:     grows by %llu rows; at most %llu items wait\n",
            (unsigned long long)st->grow, (unsigned long long)st->max_waiting);
}

uint64_t shoal__stream_grow_rows(const shoal__stream *st) { return st->grow; }

size_t shoal__stream_nparams(const shoal__stream *st) { return st ? st->npnames : 0; }

const char *shoal__stream_param(const shoal__stream *st, size_t i) { return st->pnames[i]; }

const char *shoal__stream_params_where(const shoal__stream *st) { return st->params_where; }

int shoal__stream_open(shoal__stream *st, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int rc = 0;
    if (rank == 0) {
        rc = st->watch ? shoal__src_open_dir(st->dir, st->pattern, st->marker, st->poll,
                                             &st->src)
                       : shoal__src_open_lines(st->lines, &st->src);
        if (rc < 0)
            rc = SHOAL_ERROR(SHOAL_ENOENT, "%s: [stream] %s: the source cannot be used (see "
                             "above); nothing was written",
                             st->where, st->watch ? "watch" : "lines");
        st->batch = rc == 0 ? calloc(BATCH, sizeof *st->batch) : NULL;
        if (rc == 0 && !st->batch)
            rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the stream");
    }
    return shoal__agree(comm, rc);
}

/* ---- rank 0: the queue of items not gone out ----------------------------------- */

static int push(shoal__stream *st, uint64_t index, uint8_t flags, const char *text)
{
    if (st->qlen == st->qcap) {
        size_t cap = st->qcap ? 2 * st->qcap : 256;
        item *q = malloc(cap * sizeof *q);
        if (!q)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the stream's queue");
        for (size_t i = 0; i < st->qlen; i++)
            q[i] = st->q[(st->qhead + i) % st->qcap];
        free(st->q);
        st->q = q;
        st->qcap = cap;
        st->qhead = 0;
    }
    char *copy = strdup(text);
    if (!copy)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the stream's queue");
    st->q[(st->qhead + st->qlen) % st->qcap] = (item){index, flags, copy};
    st->qlen++;
    return 0;
}

static item *front(shoal__stream *st) { return st->qlen ? &st->q[st->qhead] : NULL; }

static void pop(shoal__stream *st)
{
    free(st->q[st->qhead].text);
    st->qhead = (st->qhead + 1) % st->qcap;
    st->qlen--;
}

/* ---- rank 0: resume -------------------------------------------------------------- */

typedef struct {
    shoal__stream *st;
    const uint64_t (*todo)[2];
    size_t ntodo, at;
    int rc;
} start_ctx;

static void recorded_item(void *arg, uint64_t index, const char *text)
{
    start_ctx *c = arg;
    shoal__stream *st = c->st;
    if (c->rc < 0)
        return;
    if (st->watch && set_add(&st->seen, text) < 0)
        c->rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the recorded items");
    while (c->at < c->ntodo && index >= c->todo[c->at][0] + c->todo[c->at][1])
        c->at++;
    if (c->at < c->ntodo && index >= c->todo[c->at][0] && c->rc == 0)
        c->rc = push(st, index, ITEM_OK, text); /* it runs again */
}

int shoal__stream_start(shoal__stream *st, shoal_store *store, const uint64_t (*todo)[2],
                        size_t ntodo, uint64_t *recorded)
{
    st->store = store;
    start_ctx c = {st, todo, ntodo, 0, 0};
    int rc = shoal_store_stream_recorded(store, recorded, recorded_item, &c);
    if (rc == 0)
        rc = c.rc;
    st->arrived = st->recorded = *recorded;
    st->complete = ntodo > 0 && todo[0][0] < *recorded ? todo[0][0] : *recorded;
    st->written_complete = UINT64_MAX;
    st->t_start = shoal_now();
    st->last_intake = -HUGE_VAL;
    st->last_sentinel = -HUGE_VAL;
    st->sentinel_at = -1;
    if (st->end_after && st->arrived >= st->end_after)
        snprintf(st->reason, sizeof st->reason, "after %llu items",
                 (unsigned long long)st->end_after),
            st->ended = 1;
    return rc;
}

/* ---- rank 0: intake ------------------------------------------------------------- */

static void end_stream(shoal__stream *st, const char *fmt, ...) SHOAL_PRINTF(2, 3);
static void end_stream(shoal__stream *st, const char *fmt, ...)
{
    if (st->ended)
        return;
    st->ended = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->reason, sizeof st->reason, fmt, ap);
    va_end(ap);
    shoal_log_verbose("stream: ended (%s) after %llu items", st->reason,
                      (unsigned long long)st->arrived);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Is the sentinel there? Looked for at most every SENTINEL_EVERY s. */
static void look_for_sentinel(shoal__stream *st, double now)
{
    if (!st->sentinel || st->sentinel_at >= 0 || now - st->last_sentinel < SENTINEL_EVERY)
        return;
    st->last_sentinel = now;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", st->dir, st->sentinel);
    struct stat sb;
    if (stat(path, &sb) == 0)
        st->sentinel_at = now;
}

static void intake(shoal__stream *st, double now)
{
    if (st->ended || !st->src || now - st->last_intake < INTAKE_EVERY)
        return;
    st->last_intake = now;
    if (st->end_time > 0 && now - st->t_start >= st->end_time) {
        end_stream(st, "time %g s", st->end_time);
        return;
    }
    look_for_sentinel(st, now);
    uint64_t room = st->rows > st->arrived ? st->rows - st->arrived : 0;
    uint64_t lim = BATCH;
    if (lim > room)
        lim = room;
    if (st->qlen >= st->max_waiting)
        lim = 0;
    else if (lim > st->max_waiting - st->qlen)
        lim = st->max_waiting - st->qlen;
    if (st->end_after && lim > st->end_after - st->arrived)
        lim = st->end_after - st->arrived;
    if (lim == 0)
        return; /* full, or enough waiting: the rest waits at the source */
    int n = shoal__src_poll(st->src, now, st->batch, (size_t)lim);
    if (n == SHOAL__SRC_END) {
        if (st->end_eof)
            end_stream(st, "end of input");
        else
            end_stream(st, "end of input of %s", st->lines);
        return;
    }
    if (n < 0) {
        st->failed = n;
        end_stream(st, "the source failed");
        return;
    }
    /* Take them in: the next indices, recorded at once. */
    char *texts = NULL;
    uint64_t *size = NULL;
    int64_t *mtime = NULL;
    double *arrived = NULL;
    if (n > 0) {
        texts = malloc((size_t)n * SHOAL_STREAM_TEXT);
        size = malloc((size_t)n * sizeof *size);
        mtime = malloc((size_t)n * sizeof *mtime);
        arrived = malloc((size_t)n * sizeof *arrived);
    }
    int rc = n > 0 && (!texts || !size || !mtime || !arrived)
                 ? SHOAL_ERROR(SHOAL_ENOMEM, "out of memory taking items in")
                 : 0;
    size_t used = 0;
    uint64_t first = st->arrived, k = 0;
    double t = wall_now();
    for (int i = 0; i < n && rc == 0; i++) {
        shoal__src_item *it = &st->batch[i];
        if (st->seen.n && set_has(&st->seen, it->text))
            continue; /* a resumed file had it */
        const char *base = strrchr(it->text, '/');
        if (st->sentinel && !strcmp(base ? base + 1 : it->text, st->sentinel))
            continue;
        size_t len = strlen(it->text);
        uint8_t flags = it->too_long || len >= SHOAL_STREAM_TEXT ? ITEM_TOO_LONG : ITEM_OK;
        if (len >= SHOAL_STREAM_TEXT)
            len = SHOAL_STREAM_TEXT - 1;
        memcpy(texts + used, it->text, len);
        texts[used + len] = '\0';
        rc = push(st, first + k, flags, texts + used);
        used += len + 1;
        size[k] = it->size;
        mtime[k] = it->mtime_ns;
        arrived[k] = t;
        k++;
    }
    if (rc == 0 && k > 0)
        rc = shoal_store_stream_arrive(st->store, first, k, texts, size, mtime, arrived);
    free(texts);
    free(size);
    free(mtime);
    free(arrived);
    if (rc < 0) {
        st->failed = rc;
        end_stream(st, "items could not be recorded");
        return;
    }
    st->arrived += k;
    if (st->end_after && st->arrived >= st->end_after)
        end_stream(st, "after %llu items", (unsigned long long)st->end_after);
    /* The sentinel ends the stream once the files that came before it
     * are in: a look at the source after it appeared, found nothing more,
     * with room to take more. */
    else if (st->sentinel_at >= 0 && n == 0 &&
             now - st->sentinel_at > (st->poll > 0 ? 1.5 * st->poll : 0.01))
        end_stream(st, "sentinel %s", st->sentinel);
}

/* ---- rank 0: the pool hooks --------------------------------------------------- */

/* How far the rows are finished from 0 on, written when it moved (at most
 * every COMPLETE_EVERY s, and at the end). */
#define COMPLETE_EVERY 0.02
static void write_complete(shoal__stream *st, double now, int force)
{
    if (st->complete == st->written_complete || !st->store ||
        (!force && now - st->last_complete < COMPLETE_EVERY))
        return;
    st->last_complete = now;
    if (shoal_store_stream_complete(st->store, st->complete) == 0)
        st->written_complete = st->complete;
}

static void finished_range(shoal__stream *st, uint64_t start, uint64_t count)
{
    if (start + count <= st->complete || count == 0)
        return;
    if (st->nfin == st->capfin) {
        size_t cap = st->capfin ? 2 * st->capfin : 64;
        uint64_t(*f)[2] = realloc(st->fin, cap * sizeof *f);
        if (!f)
            return; /* the mark only lags */
        st->fin = f;
        st->capfin = cap;
    }
    st->fin[st->nfin][0] = start;
    st->fin[st->nfin++][1] = count;
    /* Advance over every range that now starts at or before the mark. */
    for (int moved = 1; moved;) {
        moved = 0;
        for (size_t i = 0; i < st->nfin; i++) {
            if (st->fin[i][0] <= st->complete) {
                uint64_t end = st->fin[i][0] + st->fin[i][1];
                if (end > st->complete)
                    st->complete = end;
                st->fin[i][0] = st->fin[--st->nfin][0];
                st->fin[i][1] = st->fin[st->nfin][1];
                moved = 1;
                break;
            }
        }
    }
}

void shoal__stream_sync(shoal__stream *st, int all_ran)
{
    /* A worker's last range of a pool run is not reported (no request
     * follows it): after a run that ended normally every item taken in
     * has run; after a stop, the file says how far. */
    if (all_ran) {
        uint64_t n = st->arrived < st->rows ? st->arrived : st->rows;
        if (n > st->complete)
            st->complete = n;
    } else if (st->store) {
        uint8_t buf[4096];
        uint64_t n = st->arrived < st->rows ? st->arrived : st->rows;
        int more = 1;
        while (more && st->complete < n) {
            uint64_t k = n - st->complete < sizeof buf ? n - st->complete : sizeof buf;
            if (shoal_store_read_status(st->store, st->complete, k, buf) < 0)
                break;
            uint64_t j = 0;
            while (j < k && (buf[j] == SHOAL_STATUS_DONE || buf[j] == SHOAL_STATUS_FAILED))
                j++;
            st->complete += j;
            more = j == k;
        }
    }
    st->nfin = 0;
    write_complete(st, shoal_now(), 1);
}

static void hook_tick(void *ctx, double now)
{
    shoal__stream *st = ctx;
    intake(st, now);
    write_complete(st, now, 0);
    if (st->prev_tick)
        st->prev_tick(st->prev_ctx, now);
}

static void hook_range(void *ctx, uint64_t start, uint64_t count, uint64_t failed,
                       double seconds)
{
    shoal__stream *st = ctx;
    finished_range(st, start, count);
    if (st->prev_range)
        st->prev_range(st->prev_ctx, start, count, failed, seconds);
}

static uint64_t hook_available(void *ctx) { return ((shoal__stream *)ctx)->arrived; }

static uint64_t hook_end(void *ctx)
{
    shoal__stream *st = ctx;
    if (st->ended)
        return st->arrived < st->rows ? st->arrived : st->rows;
    return st->arrived >= st->rows ? st->rows : UINT64_MAX;
}

static uint64_t hook_pack(void *ctx, uint64_t start, uint64_t count, void *buf, size_t cap,
                          size_t *len)
{
    shoal__stream *st = ctx;
    char *out = buf;
    size_t used = 0;
    uint64_t k = 0;
    for (; k < count; k++) {
        item *f = front(st);
        while (f && f->index < start + k) { /* never: every item goes out once */
            pop(st);
            f = front(st);
        }
        const char *text = f && f->index == start + k ? f->text : "";
        uint8_t flags = f && f->index == start + k ? f->flags : ITEM_MISSING;
        size_t n = strlen(text);
        if (used + 2 + n > cap)
            break;
        out[used] = (char)flags;
        memcpy(out + used + 1, text, n + 1);
        used += 2 + n;
        if (f && f->index == start + k)
            pop(st);
    }
    *len = used;
    return k;
}

void shoal__stream_pool(shoal__stream *st, shoal_pool_config *pc, uint64_t rows, int rank)
{
    pc->payload_max = PAYLOAD_MAX;
    pc->probes = 0; /* spread over rows that have no items yet: no */
    if (rank != 0)
        return;
    st->rows = rows;
    st->prev_tick = pc->on_tick;
    st->prev_range = pc->on_range;
    st->prev_ctx = pc->progress_ctx;
    pc->on_tick = hook_tick;
    pc->on_range = hook_range;
    pc->progress_ctx = st;
    pc->available = hook_available;
    pc->end = hook_end;
    pc->poll_available = 1;
    pc->pack = hook_pack;
    pc->plan_ctx = st;
}

int shoal__stream_ended(const shoal__stream *st, uint64_t *arrived)
{
    *arrived = st->arrived;
    return st->ended;
}

int shoal__stream_failed(const shoal__stream *st) { return st->failed; }

const char *shoal__stream_summary(shoal__stream *st)
{
    snprintf(st->summary, sizeof st->summary, "stream: %llu items (%llu taken in by this run)%s%s",
             (unsigned long long)st->arrived, (unsigned long long)(st->arrived - st->recorded),
             st->ended ? ", ended: " : ", not ended", st->ended ? st->reason : "");
    return st->summary;
}

/* ---- every rank ---------------------------------------------------------------- */

int shoal__stream_unpack(const void *payload, size_t len, uint64_t count, const char **paths,
                         uint8_t *flags)
{
    const char *p = payload, *end = p ? p + len : NULL;
    for (uint64_t k = 0; k < count; k++) {
        if (!p || p + 2 > end)
            return -1;
        flags[k] = (uint8_t)p[0];
        paths[k] = p + 1;
        const char *nul = memchr(p + 1, '\0', (size_t)(end - p - 1));
        if (!nul)
            return -1;
        p = nul + 1;
    }
    return 0;
}

void shoal__stream_free(shoal__stream *st)
{
    if (!st)
        return;
    if (st->src)
        shoal__src_close(st->src);
    while (st->qlen)
        pop(st);
    free(st->q);
    free(st->fin);
    set_free(&st->seen);
    free(st->batch);
    free(st->dir);
    free(st->pattern);
    free(st->marker);
    free(st->sentinel);
    free(st->end_text);
    for (size_t i = 0; i < st->npnames; i++)
        free(st->pnames[i]);
    free(st->pnames);
    free(st->params_text);
    free(st);
}
