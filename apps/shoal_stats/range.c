/* SPDX-License-Identifier: GPL-3.0-or-later */
/* range.c: the [shoal_stats] range language, and the text that records the
 * ranges a run used.
 *
 *   range = auto                 every column: its own smallest and largest
 *                                finite value (a first pass over the data)
 *   range = -5:5                 every column of every dataset
 *   range = /x=0:1, /y=auto      per dataset (names as in [input] datasets,
 *                                the leading / optional); a dataset not
 *                                named takes the entry without a name, if
 *                                any, else auto
 *   range = /y=0:1|auto|-3:3     per column of a 2-D dataset
 *
 * LO < HI, both finite. Bins follow numpy.histogram: edges are
 * numpy.linspace(LO, HI, bins + 1); bin i holds edge[i] <= x < edge[i+1],
 * the last bin also x == HI; values outside [LO, HI] are counted below or
 * above, NaN apart.
 *
 * Every mistake is one line naming the config location and the entry. */
#include "range.h"

#include <shoal/error.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HINT "expected auto, LO:HI (e.g. -5:5), or per dataset /x=0:1, /y=auto (LO:HI|LO:HI per column)"

/* Trimmed copy of s[0, n). */
static char *trimmed(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* A finite number filling all of s. */
static int number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == s || *end || !isfinite(v) || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/* One column spec "auto" or "LO:HI" into lo, hi (NaN, NaN: auto). */
static int colspec(const char *spec, const char *where, const char *text, double *lo,
                   double *hi)
{
    char *s = trimmed(spec, strlen(spec));
    if (!s)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
    int rc = 0;
    const char *colon = s[0] ? strchr(s + 1, ':') : NULL; /* not a leading sign's */
    if (!strcmp(s, "auto")) {
        *lo = *hi = NAN;
    } else if (!colon) {
        rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [shoal_stats] range = '%s': '%s' is not auto or LO:HI; " HINT,
                         where, text, s);
    } else {
        char *a = trimmed(s, (size_t)(colon - s)), *b = trimmed(colon + 1, strlen(colon + 1));
        if (!a || !b)
            rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
        else if (number(a, lo) < 0 || number(b, hi) < 0)
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [shoal_stats] range = '%s': '%s' is not LO:HI with two "
                             "finite numbers; " HINT,
                             where, text, s);
        else if (*lo > *hi)
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [shoal_stats] range = '%s': '%s' has LO > HI; the "
                             "histogram range is LO:HI with LO < HI (here %s:%s)",
                             where, text, s, b, a);
        else if (*lo == *hi)
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [shoal_stats] range = '%s': '%s' is empty (LO = HI); "
                             "give LO < HI, or auto",
                             where, text, s);
        else if (!isfinite(*hi - *lo))
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [shoal_stats] range = '%s': '%s' is wider than the "
                             "largest double; narrow it",
                             where, text, s);
        free(a);
        free(b);
    }
    free(s);
    return rc;
}

/* "/x" for "x" or "/x". */
static char *slashed(const char *name)
{
    size_t n = strlen(name);
    char *s = malloc(n + 2);
    if (s)
        snprintf(s, n + 2, "%s%s", name[0] == '/' ? "" : "/", name);
    return s;
}

static int entry(range_spec *r, const char *item, const char *where, const char *text)
{
    range_entry *e = &r->e[r->n];
    memset(e, 0, sizeof *e);
    const char *eq = strrchr(item, '='); /* a spec has no '=' */
    const char *spec = eq ? eq + 1 : item;
    if (eq) {
        char *name = trimmed(item, (size_t)(eq - item));
        if (!name)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
        if (!name[0]) {
            free(name);
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [shoal_stats] range = '%s': '%s' names no dataset "
                               "before '='; " HINT,
                               where, text, item);
        }
        e->name = slashed(name);
        free(name);
        if (!e->name)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
    }
    size_t n = 1;
    for (const char *c = spec; *c; c++)
        n += *c == '|';
    if (!e->name && n > 1)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [shoal_stats] range = '%s': per-column ranges (|) need a "
                           "dataset name, as in /y=0:1|0:2",
                           where, text);
    e->lo = malloc(n * sizeof *e->lo);
    e->hi = malloc(n * sizeof *e->hi);
    r->n++; /* owned by r from here */
    if (!e->lo || !e->hi)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
    for (const char *p = spec; p; e->n++) {
        const char *bar = strchr(p, '|');
        char *one = trimmed(p, bar ? (size_t)(bar - p) : strlen(p));
        int rc = one ? colspec(one, where, text, &e->lo[e->n], &e->hi[e->n])
                     : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
        free(one);
        if (rc < 0)
            return rc;
        p = bar ? bar + 1 : NULL;
    }
    for (size_t i = 0; i + 1 < r->n; i++) {
        const range_entry *o = &r->e[i];
        if ((!o->name && !e->name) || (o->name && e->name && !strcmp(o->name, e->name)))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [shoal_stats] range = '%s' gives %s twice; keep one",
                               where, text,
                               e->name ? e->name : "the range of every dataset (LO:HI or auto)");
    }
    return 0;
}

int range_parse(const char *text, const char *where, range_spec *r)
{
    memset(r, 0, sizeof *r);
    size_t n = 1;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    r->e = calloc(n, sizeof *r->e);
    if (!r->e)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
    for (const char *p = text; p;) {
        const char *comma = strchr(p, ',');
        char *item = trimmed(p, comma ? (size_t)(comma - p) : strlen(p));
        int rc = item ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading [shoal_stats] range");
        if (rc == 0 && !item[0])
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [shoal_stats] range = '%s' has an empty entry; " HINT, where,
                             text);
        if (rc == 0)
            rc = entry(r, item, where, text);
        free(item);
        if (rc < 0)
            return rc;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

void range_free(range_spec *r)
{
    for (size_t i = 0; r->e && i < r->n; i++) {
        free(r->e[i].name);
        free(r->e[i].lo);
        free(r->e[i].hi);
    }
    free(r->e);
    memset(r, 0, sizeof *r);
}

int range_check_names(const range_spec *r, const stats_dset *d, size_t nd, const char *where,
                      const char *text, const char *listed)
{
    for (size_t i = 0; i < r->n; i++) {
        if (!r->e[i].name)
            continue;
        size_t k = 0;
        while (k < nd && strcmp(d[k].path, r->e[i].name))
            k++;
        if (k == nd)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [shoal_stats] range = '%s' names '%s', which [input] "
                               "datasets does not list (%s)",
                               where, text, r->e[i].name, listed);
    }
    return 0;
}

int range_apply(const range_spec *r, stats_dset *d, const char *where, const char *text)
{
    const range_entry *mine = NULL, *all = NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (!r->e[i].name)
            all = &r->e[i];
        else if (!strcmp(r->e[i].name, d->path))
            mine = &r->e[i];
    }
    const range_entry *e = mine ? mine : all;
    if (e && e->n != 1 && e->n != d->cols)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [shoal_stats] range = '%s' gives %zu column ranges for %s, "
                           "which has %llu column%s; give one range for all its columns or "
                           "one per column",
                           where, text, e->n, d->path, (unsigned long long)d->cols,
                           d->cols == 1 ? "" : "s");
    for (uint64_t c = 0; c < d->cols; c++) {
        size_t j = e && e->n > 1 ? (size_t)c : 0;
        d->lo[c] = e ? e->lo[j] : NAN;
        d->hi[c] = e ? e->hi[j] : NAN;
        d->is_auto[c] = isnan(d->lo[c]);
    }
    return 0;
}

/* Append printf output to a malloc'd string; *s becomes NULL on failure. */
static void add(char **s, size_t *len, const char *fmt, ...) SHOAL_PRINTF(3, 4);
static void add(char **s, size_t *len, const char *fmt, ...)
{
    if (!*s)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *grown = n < 0 ? NULL : realloc(*s, *len + (size_t)n + 1);
    if (!grown) {
        free(*s);
        *s = NULL;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(grown + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *s = grown;
    *len += (size_t)n;
}

char *range_text(const stats_dset *d, size_t nd, const char *user, size_t max)
{
    char *s = calloc(1, 1);
    size_t len = 0;
    uint64_t hash = 14695981039346656037ull; /* FNV-1a over every (lo, hi) */
    for (size_t k = 0; k < nd; k++) {
        int same = 1;
        for (uint64_t c = 1; c < d[k].cols; c++)
            same &= d[k].lo[c] == d[k].lo[0] && d[k].hi[c] == d[k].hi[0];
        add(&s, &len, "%s%s=", k ? ", " : "", d[k].path);
        for (uint64_t c = 0; c < (same ? 1 : d[k].cols); c++)
            add(&s, &len, "%s%.17g:%.17g", c ? "|" : "", d[k].lo[c], d[k].hi[c]);
        for (uint64_t c = 0; c < d[k].cols; c++) {
            double v[2] = {d[k].lo[c], d[k].hi[c]};
            const unsigned char *b = (const unsigned char *)v;
            for (size_t i = 0; i < sizeof v; i++)
                hash = (hash ^ b[i]) * 1099511628211ull;
        }
    }
    if (s && len <= max)
        return s;
    /* Too long for one --set value: the user's text and a digest of the
     * ranges; the ranges themselves are in /reduce/<dataset>_range. */
    free(s);
    s = calloc(1, 1);
    len = 0;
    add(&s, &len, "%s @ ranges %016llx", user, (unsigned long long)hash);
    return s;
}
