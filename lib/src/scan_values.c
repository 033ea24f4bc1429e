/* SPDX-License-Identifier: GPL-3.0-or-later */
/* scan_values.c: the value language of one [scan] line (grammar in
 * shoal/scan.h) -- a list of numbers or words, or one of the functions of
 * the table below -- parsed into a dim, and the values it stands for.
 *
 * A function is kept as its arguments and its count of values; value i is
 * computed from i when a task needs it (shoal__scan_finite_value), so only
 * explicit lists take memory. Every error names the line (file:line) and the
 * parameter. Which values an integer parameter may take depends on its role,
 * on an axis or in a design, so that check (shoal__scan_check_integer) runs
 * once the axes are laid out. */
#include <shoal/error.h>

#include "scan_impl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The functions of the grammar, as a table. */
static const struct {
    const char *name;
    gen_kind kind;
    int min_args, max_args;
    const char *args; /* for messages */
    int random;       /* drawn, needs `samples` */
} functions[] = {
    {"linspace", GEN_LINSPACE, 3, 3, "start, stop, n", 0},
    {"logspace", GEN_LOGSPACE, 3, 3, "start exponent, stop exponent, n", 0},
    {"geomspace", GEN_GEOMSPACE, 3, 3, "start, stop, n", 0},
    {"range", GEN_RANGE, 2, 3, "start, stop[, step]", 0},
    {"uniform", GEN_UNIFORM, 2, 2, "a, b", 1},
    {"loguniform", GEN_LOGUNIFORM, 2, 2, "a, b", 1},
    {"normal", GEN_NORMAL, 2, 2, "mu, sigma", 1},
};
#define NFUNCTIONS (sizeof functions / sizeof functions[0])

/* ---- helpers ------------------------------------------------------------------ */

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Parse a whole string as a finite number. */
static int parse_num(const char *s, size_t n, double *out)
{
    char buf[128];
    trim(&s, &n);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strpbrk(buf, "xXpP")) /* no hexadecimal */
        return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int is_integral(double v) { return v == floor(v) && fabs(v) < 9007199254740992.0; }

/* A count of [sampling] (samples, replicates): a whole number from 1 to 1e15. */
int shoal__scan_parse_count(const char *value, uint64_t *out)
{
    double v;
    if (parse_num(value, strlen(value), &v) < 0 || !is_integral(v) || v < 1 || v > 1e15)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static const char *type_word(shoal_type t)
{
    return t == SHOAL_INT64 ? "an integer" : t == SHOAL_FLOAT64 ? "a number" : "a string";
}

/* ---- parsing one line ------------------------------------------------------------ */

static int parse_call(dim *d, const char *v, size_t open, size_t len)
{
    const char *fname = v;
    size_t fl = open;
    trim(&fname, &fl);
    size_t f;
    for (f = 0; f < NFUNCTIONS; f++)
        if (strlen(functions[f].name) == fl && !strncmp(functions[f].name, fname, fl))
            break;
    if (f == NFUNCTIONS) {
        char known[256] = "";
        size_t kl = 0;
        for (size_t k = 0; k < NFUNCTIONS; k++)
            kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", k ? ", " : "",
                                   functions[k].name);
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: unknown function '%.*s'; known: %s",
                           d->where, d->name, (int)fl, fname, known);
    }
    if (v[len - 1] != ')')
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s: expected ')' at the end of %s(...)",
                           d->where, d->name, functions[f].name);
    double args[4];
    int nargs = 0;
    const char *p = v + open + 1, *end = v + len - 1;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *a = p;
        size_t al = (size_t)(stop - p);
        trim(&a, &al);
        if (al == 0 && !comma && nargs == 0)
            break; /* f() */
        if (nargs >= 4) { /* too many for any function: just count them */
            nargs++;
            if (!comma)
                break;
            p = comma + 1;
            continue;
        }
        if (parse_num(a, al, &args[nargs]) < 0) {
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: argument %d of %s, '%.*s', is not a finite number",
                               d->where, d->name, nargs + 1, functions[f].name, (int)al, a);
        }
        nargs++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (nargs < functions[f].min_args || nargs > functions[f].max_args) {
        char want[32];
        if (functions[f].min_args == functions[f].max_args)
            snprintf(want, sizeof want, "%d", functions[f].min_args);
        else
            snprintf(want, sizeof want, "%d or %d", functions[f].min_args,
                     functions[f].max_args);
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s: %s takes %s arguments (%s), got %d", d->where,
                           d->name, functions[f].name, want, functions[f].args, nargs);
    }
    d->kind = functions[f].kind;
    d->random = functions[f].random;
    d->a = args[0];
    d->b = args[1];
    d->c = nargs > 2 ? args[2] : 1.0;
    const char *fn = functions[f].name;

    switch (d->kind) {
    case GEN_LINSPACE:
    case GEN_LOGSPACE:
    case GEN_GEOMSPACE:
        if (d->c < 1 || !is_integral(d->c))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: %s needs a whole number of values n >= 1, got %g",
                               d->where, d->name, fn, d->c);
        d->n = (uint64_t)d->c;
        if (d->kind == GEN_GEOMSPACE && (d->a <= 0 || d->b <= 0))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: geomspace needs positive bounds, got %g and %g "
                               "(logspace takes exponents: logspace(-3, 0, n) is 0.001 .. 1)",
                               d->where, d->name, d->a, d->b);
        if (d->kind == GEN_LOGSPACE && (fabs(d->a) > 300 || fabs(d->b) > 300))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: logspace takes exponents of 10; %g .. %g is out "
                               "of range (did you mean geomspace(%g, %g, n)?)",
                               d->where, d->name, d->a, d->b, d->a, d->b);
        break;
    case GEN_RANGE: {
        if (nargs == 2)
            d->c = 1;
        if (d->c == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: range step must not be 0",
                               d->where, d->name);
        double span = (d->b - d->a) / d->c;
        if (!(span > 0))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: range(%g, %g, %g) is empty (the stop value is "
                               "excluded, as in Python)",
                               d->where, d->name, d->a, d->b, d->c);
        if (span > 1e15)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: range(%g, %g, %g) has too many values",
                               d->where, d->name, d->a, d->b, d->c);
        /* Stop is excluded, also when rounding puts the last value a hair
         * below it: range(0.3, 0.9, 0.3) is 0.3, 0.6 as written in decimal
         * (numpy's arange would add 0.8999999999999999). */
        uint64_t n = (uint64_t)ceil(span - 1e-9);
        if (n < 1)
            n = 1;
        d->n = n;
        break;
    }
    case GEN_UNIFORM:
        if (!(d->a < d->b))
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: uniform(a, b) needs a < b, got %g, %g",
                               d->where, d->name, d->a, d->b);
        break;
    case GEN_LOGUNIFORM:
        if (!(d->a > 0 && d->a < d->b))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: loguniform(a, b) needs 0 < a < b, got %g, %g",
                               d->where, d->name, d->a, d->b);
        break;
    case GEN_NORMAL:
        if (!(d->b > 0))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: normal(mu, sigma) needs sigma > 0, got %g",
                               d->where, d->name, d->b);
        break;
    case GEN_LIST:
        break;
    }
    return 0;
}

static int parse_list(dim *d, const char *v, size_t len)
{
    uint64_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += v[i] == ',';
    d->kind = GEN_LIST;
    d->n = n;
    if (d->type == SHOAL_STRING)
        d->strs = calloc(n, sizeof *d->strs);
    else
        d->vals = calloc(n, sizeof *d->vals);
    if (!d->strs && !d->vals)
        return SHOAL_ENOMEM;
    const char *p = v, *end = v + len;
    for (uint64_t k = 0; k < n; k++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *a = p;
        size_t al = (size_t)(stop - p);
        trim(&a, &al);
        if (al == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: empty value in the list (item %llu)",
                               d->where, d->name, (unsigned long long)k + 1);
        if (d->type == SHOAL_STRING) {
            d->strs[k] = dup_range(a, al);
            if (!d->strs[k])
                return SHOAL_ENOMEM;
            if (al > d->maxlen)
                d->maxlen = al;
        } else if (parse_num(a, al, &d->vals[k]) < 0) {
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: '%.*s' is not a finite number; %s is %s parameter",
                               d->where, d->name, (int)al, a, d->name, type_word(d->type));
        } else if (d->type == SHOAL_INT64 && !is_integral(d->vals[k])) {
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: '%.*s' is not an integer; %s is an integer parameter",
                               d->where, d->name, (int)al, a, d->name);
        }
        p = stop + 1;
    }
    return 0;
}

/* Parse one "name = value" line of [scan] into d. */
int shoal__scan_parse_dim(dim *d, const char *value)
{
    size_t len = strlen(value);
    trim(&value, &len);
    if (len == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s has no value", d->where, d->name);
    const char *open = memchr(value, '(', len);
    int rc = open ? parse_call(d, value, (size_t)(open - value), len) : parse_list(d, value, len);
    if (rc < 0)
        return rc;
    if (d->type == SHOAL_STRING && d->kind != GEN_LIST)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s is a string parameter: give a list of words, "
                           "e.g. %s = a, b, c",
                           d->where, d->name, d->name);
    return 0;
}

/* ---- values ------------------------------------------------------------------------- */

/* Value i of a finite dimension (not a list). */
double shoal__scan_finite_value(const dim *d, uint64_t i)
{
    double t = d->n > 1 ? (double)i / (double)(d->n - 1) : 0.0;
    if (i == 0 && d->kind != GEN_LIST && d->kind != GEN_LOGSPACE)
        return d->a; /* exactly the start, not exp(log(a)) */
    switch (d->kind) {
    case GEN_LINSPACE:
        return i + 1 == d->n && d->n > 1 ? d->b : d->a + (d->b - d->a) * t;
    case GEN_LOGSPACE:
        return pow(10.0, i + 1 == d->n && d->n > 1 ? d->b : d->a + (d->b - d->a) * t);
    case GEN_GEOMSPACE:
        return i + 1 == d->n && d->n > 1 ? d->b : exp(log(d->a) + (log(d->b) - log(d->a)) * t);
    case GEN_RANGE:
        return d->a + (double)i * d->c;
    case GEN_LIST:
        return d->vals[i];
    default:
        return NAN;
    }
}

/* Integer parameters take integral values only: check what a dimension can
 * produce in its role. */
int shoal__scan_check_integer(const dim *d)
{
    if (d->type != SHOAL_INT64)
        return 0;
    if (d->ddim >= 0) {
        if (d->kind == GEN_RANGE && is_integral(d->a) && is_integral(d->c) &&
            is_integral(d->a + (double)(d->n - 1) * d->c))
            return 0;
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s is an integer parameter, but this design samples it "
                           "continuously; use range(start, stop, step) with whole numbers",
                           d->where, d->name);
    }
    switch (d->kind) {
    case GEN_LIST:
        return 0;
    case GEN_RANGE:
        if (is_integral(d->a) && is_integral(d->c) &&
            is_integral(d->a + (double)(d->n - 1) * d->c))
            return 0;
        break;
    case GEN_LINSPACE:
        if (is_integral(d->a) && is_integral(d->b) &&
            (d->n == 1 || is_integral((d->b - d->a) / (double)(d->n - 1))))
            return 0;
        break;
    default:
        break;
    }
    return SHOAL_ERROR(SHOAL_ECONFIG,
                       "%s: [scan] %s is an integer parameter, but its values are not all "
                       "whole numbers; use a list or range() with whole numbers",
                       d->where, d->name);
}
