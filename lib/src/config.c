/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config.c: the parsed config -- entries that remember where they came from
 * ("source:line", or the --set option), lookups, and the typed getters.
 *
 * Getters mark the entries they read and record what was asked, so that
 * shoal_config_check_unused() (config_check.c) can name unknown keys and
 * suggest known ones. A key counts as unknown only if nobody read it: a walk
 * of a section (shoal_config_section_entry) takes all of it, since the
 * walker judges its keys itself and may stop at its first error.
 *
 * Every error, out of memory included, is reported with what failed and
 * where. The entries are added by config_read.c (file and --set). */
#include <shoal/config.h>
#include <shoal/error.h>

#include "config_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the store -------------------------------------------------------------- */

char *shoal__config_dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Room for element n. Silent: the caller reports what it was storing. */
int shoal__config_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return SHOAL_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

entry *shoal__config_find(const shoal_config *cfg, const char *sec,
                          const char *key)
{
    for (size_t i = 0; i < cfg->nentries; i++)
        if (!strcmp(cfg->entries[i].section, sec) &&
            !strcmp(cfg->entries[i].key, key))
            return &cfg->entries[i];
    return NULL;
}

const section *shoal__config_find_section(const shoal_config *cfg,
                                          const char *name)
{
    for (size_t i = 0; i < cfg->nsections; i++)
        if (!strcmp(cfg->sections[i].name, name))
            return &cfg->sections[i];
    return NULL;
}

void shoal_config_free(shoal_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nentries; i++) {
        free(cfg->entries[i].section);
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
        free(cfg->entries[i].where);
    }
    for (size_t i = 0; i < cfg->nsections; i++)
        free(cfg->sections[i].name);
    for (size_t i = 0; i < cfg->nasked; i++) {
        free(cfg->asked[i].section);
        free(cfg->asked[i].key);
    }
    free(cfg->entries);
    free(cfg->sections);
    free(cfg->asked);
    free(cfg->text);
    free(cfg->source);
    free(cfg->overrides);
    free(cfg->env);
    free(cfg->env_used);
    free(cfg);
}

const char *shoal_config_text(const shoal_config *cfg) { return cfg->text; }
const char *shoal_config_source(const shoal_config *cfg) { return cfg->source; }
const char *shoal_config_overrides(const shoal_config *cfg)
{
    return cfg->overrides;
}

int shoal_config_has(const shoal_config *cfg, const char *sec, const char *key)
{
    return shoal__config_find(cfg, sec, key) != NULL;
}

int shoal_config_has_section(const shoal_config *cfg, const char *sec)
{
    if (shoal__config_find_section(cfg, sec))
        return 1;
    for (size_t i = 0; i < cfg->nentries; i++)
        if (!strcmp(cfg->entries[i].section, sec))
            return 1;
    return 0;
}

const char *shoal_config_where(const shoal_config *cfg, const char *sec,
                               const char *key)
{
    const entry *e = shoal__config_find(cfg, sec, key);
    return e ? e->where : NULL;
}

size_t shoal_config_section_size(const shoal_config *cfg, const char *sec)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->nentries; i++)
        n += !strcmp(cfg->entries[i].section, sec);
    return n;
}

/* A walk takes the whole section: the walker judges its keys itself and may
 * stop at the first bad one, and the keys after it are unread, not unknown
 * (check_unused called each of them an unknown key). */
int shoal_config_section_entry(shoal_config *cfg, const char *sec, size_t i,
                               const char **key, const char **value,
                               const char **where)
{
    const entry *found = NULL;
    size_t seen = 0;
    for (size_t k = 0; k < cfg->nentries; k++) {
        entry *e = &cfg->entries[k];
        if (strcmp(e->section, sec))
            continue;
        e->used = 1;
        if (seen++ == i)
            found = e;
    }
    if (!found)
        return SHOAL_ENOTFOUND;
    *key = found->key;
    *value = found->value;
    *where = found->where;
    return 0;
}

/* ---- typed getters ------------------------------------------------------------ */

/* Without memory the hint of check_unused gets shorter; the getter itself
 * does not fail, so nothing is reported. */
static void remember(shoal_config *cfg, const char *sec, const char *key)
{
    for (size_t i = 0; i < cfg->nasked; i++)
        if (!strcmp(cfg->asked[i].section, sec) &&
            !strcmp(cfg->asked[i].key, key))
            return;
    if (shoal__config_grow((void **)&cfg->asked, &cfg->capasked, cfg->nasked,
                           sizeof(asked)))
        return;
    char *s = shoal__config_dupstr(sec), *k = shoal__config_dupstr(key);
    if (!s || !k) {
        free(s);
        free(k);
        return;
    }
    cfg->asked[cfg->nasked].section = s;
    cfg->asked[cfg->nasked].key = k;
    cfg->nasked++;
}

/* Common prologue: look up, remember, handle absence. Returns 1 if the caller
 * should parse e->value, 0 if the default applies, <0 on error. */
static int lookup(shoal_config *cfg, const char *sec, const char *key,
                  int required, entry **out)
{
    remember(cfg, sec, key);
    entry *e = shoal__config_find(cfg, sec, key);
    *out = e;
    if (e) {
        e->used = 1;
        return 1;
    }
    if (required)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: missing required key '%s' in [%s]; add "
                           "'%s = ...' under [%s] or pass --set %s.%s=...",
                           cfg->source, key, sec, key, sec, sec, key);
    return 0;
}

static int bad_value(const entry *e, const char *what, const char *hint)
{
    return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [%s] %s = '%s' %s%s%s", e->where,
                       e->section, e->key, e->value, what, hint ? "; " : "",
                       hint ? hint : "");
}

/* Parse a signed integer, accepting exact integral forms like 1e6. */
static int parse_ll(const char *s, long long *out)
{
    char *endp;
    errno = 0;
    long long v = strtoll(s, &endp, 10);
    if (endp != s && *endp == '\0') {
        if (errno == ERANGE)
            return SHOAL_ERANGE;
        *out = v;
        return 0;
    }
    if (strpbrk(s, "xXpP")) /* strtod would read hexadecimal: not for us */
        return SHOAL_ETYPE;
    errno = 0;
    double d = strtod(s, &endp);
    if (endp == s || *endp != '\0' || isnan(d))
        return SHOAL_ETYPE;
    if (isinf(d) && errno == ERANGE)
        return SHOAL_ERANGE; /* a number, just too big: 1e400 */
    if (!isfinite(d) || d != floor(d))
        return SHOAL_ETYPE;
    if (fabs(d) >= 9007199254740992.0) /* 2^53: from here doubles skip integers */
        return SHOAL_ERANGE;
    *out = (long long)d;
    return 0;
}

int shoal_config_get_long(shoal_config *cfg, const char *sec, const char *key,
                          int required, long dflt, long min, long max,
                          long *out)
{
    entry *e;
    int rc = lookup(cfg, sec, key, required, &e);
    *out = dflt;
    if (rc <= 0)
        return rc;
    long long v;
    rc = parse_ll(e->value, &v);
    char hint[128];
    snprintf(hint, sizeof hint, "expected an integer from %ld to %ld", min, max);
    if (rc == SHOAL_ETYPE)
        return bad_value(e, "is not an integer", hint);
    if (rc == SHOAL_ERANGE || v < min || v > max)
        return bad_value(e, "is out of range", hint);
    *out = (long)v;
    return 0;
}

int shoal_config_get_u64(shoal_config *cfg, const char *sec, const char *key,
                         int required, uint64_t dflt, uint64_t min,
                         uint64_t max, uint64_t *out)
{
    entry *e;
    int rc = lookup(cfg, sec, key, required, &e);
    *out = dflt;
    if (rc <= 0)
        return rc;
    char hint[128];
    snprintf(hint, sizeof hint, "expected a whole number from %llu to %llu",
             (unsigned long long)min, (unsigned long long)max);
    const char *s = e->value;
    if (*s == '-') {
        long long neg;
        if (parse_ll(s, &neg) == SHOAL_ETYPE)
            return bad_value(e, "is not a whole number", hint);
        return bad_value(e, "is negative", hint);
    }
    char *endp;
    errno = 0;
    unsigned long long v = strtoull(s, &endp, 10);
    if (endp == s || *endp != '\0') {
        long long ll;
        rc = parse_ll(s, &ll);
        if (rc == SHOAL_ETYPE)
            return bad_value(e, "is not a whole number", hint);
        if (rc == SHOAL_ERANGE)
            return bad_value(e, "is out of range", hint);
        v = (unsigned long long)ll;
    } else if (errno == ERANGE) {
        return bad_value(e, "is out of range", hint);
    }
    if (v < min || v > max)
        return bad_value(e, "is out of range", hint);
    *out = (uint64_t)v;
    return 0;
}

int shoal_config_get_double(shoal_config *cfg, const char *sec,
                            const char *key, int required, double dflt,
                            double min, double max, double *out)
{
    entry *e;
    int rc = lookup(cfg, sec, key, required, &e);
    *out = dflt;
    if (rc <= 0)
        return rc;
    char hint[128];
    snprintf(hint, sizeof hint, "expected a finite number from %g to %g", min,
             max);
    char *endp;
    errno = 0;
    double v = strtod(e->value, &endp);
    if (endp == e->value || *endp != '\0')
        return bad_value(e, "is not a number", hint);
    if (!isfinite(v))
        return bad_value(e, "is not finite", hint);
    if (errno == ERANGE || v < min || v > max)
        return bad_value(e, "is out of range", hint);
    *out = v;
    return 0;
}

int shoal_config_get_string(shoal_config *cfg, const char *sec,
                            const char *key, int required, const char *dflt,
                            const char **out)
{
    entry *e;
    int rc = lookup(cfg, sec, key, required, &e);
    *out = dflt;
    if (rc <= 0)
        return rc;
    *out = e->value;
    return 0;
}

int shoal_config_get_bool(shoal_config *cfg, const char *sec, const char *key,
                          int required, int dflt, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    entry *e;
    int rc = lookup(cfg, sec, key, required, &e);
    *out = dflt;
    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(e->value, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(e->value, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return bad_value(e, "is not a boolean", "use true or false");
}
