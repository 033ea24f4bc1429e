/* SPDX-License-Identifier: GPL-3.0-or-later */
/* outputs.c: the [outputs] declarations and the value protocol (exec.h).
 *
 * [outputs] holds one line per field:  name = int64 | float64, optionally
 * with a shape [n] or [n,m,...], a reduction word (sum, min, max, count,
 * mean, var, moments) and, for a scalar, "watch" (its values reach rank 0
 * as tasks finish, for [run] stop_when and [search]):
 * hist = int64[10] sum,  pi = float64 mean watch.
 *
 * A program reports values as name=value tokens (arrays: comma-separated,
 * row-major) on lines that start with the prefix ("shoal:" unless [command]
 * prefix says otherwise), e.g.  shoal: energy=-1.25 hist=3,0,7. With an
 * empty prefix, a line that is exactly one name=value of a declared field
 * counts and other lines are ignored. In an output file, the prefix is
 * optional, blank lines and lines starting with # are skipped, and every
 * other line must hold name=value tokens. A value given twice: the last
 * one counts. */
#include "exec.h"

#include <shoal/error.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The outcome fields every task gets after the user's. */
static const struct {
    const char *name;
    shoal_type type;
    const char *doc;
    const char *unit;
} outcome[] = {
    {"exit_code", SHOAL_INT64, "the program's exit status; -1 if it did not exit (signal, "
                               "not started)", NULL},
    {"signal", SHOAL_INT64, "the signal that ended the program, or 0", NULL},
    {"wall_seconds", SHOAL_FLOAT64, "the program's run time, spawn to exit", "s"},
    {"cpu_seconds", SHOAL_FLOAT64, "user + system CPU time of the program and the children "
                                   "it waited for (wait4)", "s"},
    {"max_rss_kib", SHOAL_INT64, "the program's peak resident memory in KiB (wait4)", "KiB"},
    {"stdout_tail", SHOAL_STRING, "the last bytes of the program's standard output", NULL},
    {"stderr_tail", SHOAL_STRING, "the last bytes of the program's standard error", NULL},
};
#define NOUTCOME (sizeof outcome / sizeof outcome[0])

static const char *const reductions[] = {"", "sum", "min", "max", "count",
                                         "mean", "var", "moments"};

static int valid_name(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return 0;
    return 1;
}

/* "float64[2,3] mean" into f. Returns 0, or a reason. */
static const char *parse_type(const char *v, shoal_field *f)
{
    while (isspace((unsigned char)*v))
        v++;
    if (!strncmp(v, "int64", 5)) {
        f->type = SHOAL_INT64;
        v += 5;
    } else if (!strncmp(v, "float64", 7)) {
        f->type = SHOAL_FLOAT64;
        v += 7;
    } else {
        return "the type must be int64 or float64";
    }
    if (*v == '[') {
        v++;
        for (;;) {
            char *end;
            errno = 0;
            long long n = strtoll(v, &end, 10);
            if (end == v || errno || n < 1 || n > (1LL << 27))
                return "each dimension in [...] must be a whole number from 1 to 2^27";
            if (f->ndims == SHOAL_MAX_DIMS)
                return "at most 4 dimensions";
            f->dims[f->ndims++] = (uint64_t)n;
            v = end;
            while (*v == ' ')
                v++;
            if (*v == ']')
                break;
            if (*v != ',')
                return "write the shape as [n] or [n,m]";
            v++;
        }
        v++;
    }
    if (*v && !isspace((unsigned char)*v))
        return "write the type as int64, float64, int64[n] or float64[n,m]";
    /* Then, in any order: a reduction, and "watch". */
    for (;;) {
        while (isspace((unsigned char)*v))
            v++;
        if (!*v)
            break;
        size_t len = 0;
        while (v[len] && !isspace((unsigned char)v[len]))
            len++;
        if (len == 5 && !strncmp(v, "watch", 5)) {
            if (f->ndims != 0)
                return "only a scalar (int64 or float64, no shape) can be watched";
            f->watch = 1;
            v += len;
            continue;
        }
        size_t k = 1;
        while (k < sizeof reductions / sizeof reductions[0] &&
               !(strlen(reductions[k]) == len && !strncmp(v, reductions[k], len)))
            k++;
        if (k == sizeof reductions / sizeof reductions[0] || f->reduce != SHOAL_REDUCE_NONE)
            return "after the type come a reduction (sum, min, max, count, mean, var or "
                   "moments) and \"watch\", each at most once";
        f->reduce = (shoal_reduce)k;
        if (f->reduce == SHOAL_REDUCE_MOMENTS &&
            (f->type != SHOAL_FLOAT64 || f->ndims == 0 || f->dims[f->ndims - 1] != 3))
            return "moments needs float64 with a last dimension of 3 (count, mean, M2)";
        v += len;
    }
    uint64_t w = shoal_field_width(f);
    if (w > ((uint64_t)1 << 27))
        return "more than 2^27 elements (1 GiB) per task";
    return NULL;
}

int out_read(shoal_config *cfg, uint64_t tail, out_decl *d)
{
    char *prefix = d->prefix; /* set by the caller */
    memset(d, 0, sizeof *d);
    d->prefix = prefix;
    size_t n = shoal_config_section_size(cfg, "outputs");
    d->fields = calloc(n + NOUTCOME, sizeof *d->fields);
    if (!d->fields)
        return SHOAL_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *key, *value, *where;
        if (shoal_config_section_entry(cfg, "outputs", i, &key, &value, &where) < 0)
            return SHOAL_EINTERNAL;
        shoal_field *f = &d->fields[d->nuser];
        const char *why = NULL;
        if (!valid_name(key))
            why = "a name is letters, digits and _, not starting with a digit";
        for (size_t k = 0; !why && k < NOUTCOME; k++)
            if (!strcmp(key, outcome[k].name))
                why = "the name is one of the outcome fields shoal-exec records for every "
                      "task (exit_code, signal, wall_seconds, cpu_seconds, max_rss_kib, "
                      "stdout_tail, stderr_tail); pick another";
        for (size_t k = 0; !why && k < d->nuser; k++)
            if (!strcmp(key, d->fields[k].name))
                why = "declared twice";
        if (!why)
            why = parse_type(value, f);
        if (why) {
            rc = rc ? rc
                    : SHOAL_ERROR(SHOAL_ECONFIG, "%s: [outputs] %s = %s: %s", where, key, value,
                                  why);
            memset(f, 0, sizeof *f);
            continue;
        }
        f->name = key;
        f->doc = "reported by the program";
        d->nuser++;
    }
    if (rc)
        return rc;
    d->nfields = d->nuser;
    for (size_t k = 0; k < NOUTCOME; k++) {
        if (outcome[k].type == SHOAL_STRING && tail == 0)
            continue;
        shoal_field *f = &d->fields[d->nfields++];
        f->name = outcome[k].name;
        f->type = outcome[k].type;
        f->doc = outcome[k].doc;
        f->unit = outcome[k].unit;
        if (f->type == SHOAL_STRING) {
            f->ndims = 1;
            f->dims[0] = tail;
        }
    }
    return 0;
}

void out_free(out_decl *d)
{
    free(d->fields);
    free(d->prefix);
    memset(d, 0, sizeof *d);
}

/* ---- values ------------------------------------------------------------------- */

static void fail(out_parse *p, const char *fmt, ...) SHOAL_PRINTF(2, 3);
static void fail(out_parse *p, const char *fmt, ...)
{
    if (p->code)
        return;
    p->code = EXEC_MALFORMED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
}

/* Field index of name (len bytes) among the user's, or -1. */
static int find(const out_decl *d, const char *name, size_t len)
{
    for (size_t i = 0; i < d->nuser; i++)
        if (strlen(d->fields[i].name) == len && !memcmp(d->fields[i].name, name, len))
            return (int)i;
    return -1;
}

/* The value text v (vlen bytes) of field i into the task's row. */
static void set_value(out_parse *p, int i, const char *v, size_t vlen)
{
    const shoal_field *f = &p->d->fields[i];
    uint64_t w = shoal_field_width(f), k = 0;
    int64_t *ip = f->type == SHOAL_INT64 ? shoal_out_int64(p->task, i) : NULL;
    double *dp = f->type == SHOAL_FLOAT64 ? shoal_out_double(p->task, i) : NULL;
    if (!ip && !dp)
        return;
    char num[64];
    const char *s = v, *end = v + vlen;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *e = comma ? comma : end;
        size_t n = (size_t)(e - s);
        if (k == w) {
            fail(p, "output '%s' has more than %llu value%s", f->name, (unsigned long long)w,
                 w == 1 ? "" : "s");
            return;
        }
        if (n == 0 || n >= sizeof num) {
            fail(p, "output '%s': value %llu is %s", f->name, (unsigned long long)k + 1,
                 n ? "too long" : "empty");
            return;
        }
        memcpy(num, s, n);
        num[n] = '\0';
        char *stop;
        errno = 0;
        if (ip) {
            long long x = strtoll(num, &stop, 10);
            if (*stop || errno) {
                fail(p, "output '%s' (int64): '%.40s' is not a whole number in range", f->name,
                     num);
                return;
            }
            ip[k] = (int64_t)x;
        } else {
            double x = strtod(num, &stop);
            if (*stop) {
                fail(p, "output '%s' (float64): '%.40s' is not a number", f->name, num);
                return;
            }
            dp[k] = x;
        }
        k++;
        if (!comma)
            break;
        s = comma + 1;
    }
    if (k != w) {
        fail(p, "output '%s' needs %llu values, got %llu", f->name, (unsigned long long)w,
             (unsigned long long)k);
        return;
    }
    p->seen[i] = 1;
}

/* name=value tokens separated by blanks. */
static void tokens(out_parse *p, const char *s, const char *end)
{
    for (;;) {
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        if (s >= end)
            return;
        const char *t = s;
        while (s < end && *s != ' ' && *s != '\t')
            s++;
        const char *eq = memchr(t, '=', (size_t)(s - t));
        if (!eq) {
            fail(p, "expected name=value, got '%.*s'", (int)((s - t) > 40 ? 40 : (s - t)), t);
            return;
        }
        int i = find(p->d, t, (size_t)(eq - t));
        if (i < 0) {
            fail(p, "'%.*s' is not an output declared in [outputs]",
                 (int)((eq - t) > 40 ? 40 : (eq - t)), t);
            return;
        }
        set_value(p, i, eq + 1, (size_t)(s - eq - 1));
        if (p->code)
            return;
    }
}

void out_line(out_parse *p, const char *line, size_t len, int from_file)
{
    if (p->code)
        return;
    const char *end = line + len;
    while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *pre = p->d->prefix;
    size_t plen = strlen(pre);
    if (plen && (size_t)(end - line) >= plen && !memcmp(line, pre, plen)) {
        tokens(p, line + plen, end);
        return;
    }
    if (from_file) {
        const char *s = line;
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        if (s < end && *s != '#')
            tokens(p, s, end);
        return;
    }
    if (plen)
        return; /* an ordinary line of output */
    /* No prefix: exactly one name=value of a declared field. */
    const char *eq = memchr(line, '=', (size_t)(end - line));
    if (!eq || memchr(line, ' ', (size_t)(end - line)) || memchr(line, '\t', (size_t)(end - line)))
        return;
    int i = find(p->d, line, (size_t)(eq - line));
    if (i >= 0)
        set_value(p, i, eq + 1, (size_t)(end - eq - 1));
}

int out_missing(out_parse *p, char *msg, size_t n)
{
    size_t k = 0, count = 0;
    for (size_t i = 0; i < p->d->nuser; i++)
        if (!p->seen[i])
            count++;
    if (count == 0)
        return 0;
    k += (size_t)snprintf(msg, n, "no value for output%s", count == 1 ? "" : "s");
    for (size_t i = 0, j = 0; i < p->d->nuser && k < n; i++)
        if (!p->seen[i])
            k += (size_t)snprintf(msg + k, n - k, "%s'%s'", j++ ? ", " : " ",
                                  p->d->fields[i].name);
    return (int)count;
}
