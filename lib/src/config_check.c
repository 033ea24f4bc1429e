/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config_check.c: once the program has read its config, the keys nobody
 * read (typos: named with the keys that were asked for in their section)
 * and the sections it does not know, from headers and from overrides. The
 * first CONFIG_MAX_UNKNOWN of each kind are named one by one, the rest
 * counted in one line. */
#include <shoal/config.h>
#include <shoal/error.h>

#include "config_impl.h"

#include <stdio.h>
#include <string.h>

#define CONFIG_MAX_UNKNOWN 5        /* unknown keys (sections) named one by one */

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

/* One unknown key or section: named while there are few, counted after. */
static int unknown(size_t *count)
{
    return ++*count <= CONFIG_MAX_UNKNOWN;
}

static void report_more(const shoal_config *cfg, size_t count, const char *what)
{
    if (count > CONFIG_MAX_UNKNOWN)
        SHOAL_ERROR(SHOAL_ECONFIG, "... and %zu more unknown %s in %s; is it "
                    "the config of this program?",
                    count - CONFIG_MAX_UNKNOWN, what, cfg->source);
}

int shoal_config_check_unused(const shoal_config *cfg,
                              const char *const *sections)
{
    size_t nkeys = 0, nsecs = 0;
    for (size_t i = 0; i < cfg->nentries; i++) {
        const entry *e = &cfg->entries[i];
        if (e->used)
            continue;
        if (!in_list(e->section, sections)) {
            /* Reported once per section, below. */
            continue;
        }
        if (!unknown(&nkeys))
            continue;
        char known[1024] = "";
        size_t len = 0;
        for (size_t j = 0; j < cfg->nasked && len < sizeof known - 64; j++) {
            if (strcmp(cfg->asked[j].section, e->section))
                continue;
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s",
                                    len ? ", " : "", cfg->asked[j].key);
        }
        SHOAL_ERROR(SHOAL_ECONFIG, "%s: unknown key '%s' in [%s]; known keys: %s",
                    e->where, e->key, e->section, len ? known : "(none)");
    }
    report_more(cfg, nkeys, "keys");
    /* Unknown sections: from headers (even empty ones) and from overrides. */
    char joined[512] = "";
    size_t jl = 0;
    for (const char *const *s = sections; *s && jl < sizeof joined - 64; s++)
        jl += (size_t)snprintf(joined + jl, sizeof joined - jl, "%s[%s]",
                               jl ? ", " : "", *s);
    for (size_t i = 0; i < cfg->nsections; i++) {
        if (in_list(cfg->sections[i].name, sections) || !unknown(&nsecs))
            continue;
        SHOAL_ERROR(SHOAL_ECONFIG,
                    "%s:%d: unknown section [%s]; known sections: %s",
                    cfg->source, cfg->sections[i].line, cfg->sections[i].name,
                    joined);
    }
    for (size_t i = 0; i < cfg->nentries; i++) {
        const entry *e = &cfg->entries[i];
        if (e->line == 0 && !in_list(e->section, sections) &&
            !shoal__config_find_section(cfg, e->section) && unknown(&nsecs))
            SHOAL_ERROR(SHOAL_ECONFIG, "%s: unknown section [%s]; known "
                        "sections: %s", e->where, e->section, joined);
    }
    report_more(cfg, nsecs, "sections");
    return nkeys || nsecs ? SHOAL_ECONFIG : 0;
}
