/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config_impl.h (internal): what the config's files share -- the parsed
 * store (entries, section headers, the keys getters asked for) and its
 * lookups.
 *
 *   config.c        the store: lookups, provenance, section walks, the typed
 *                   getters, free
 *   config_read.c   where entries come from: a config file (regular files
 *                   only), INI text through inih, --set overrides
 *   config_check.c  keys nobody read and sections nobody knows
 *   config_env.c    ${NAME} in values: expansion, the snapshot of rank 0's
 *                   environment, the variables used
 *
 * Invariants: entries and sections are owned arrays of owned strings; a
 * failed parse frees everything it allocated. */
#ifndef SHOAL_CONFIG_IMPL_H
#define SHOAL_CONFIG_IMPL_H

#include <shoal/config.h>

#include <stddef.h>

typedef struct {
    char *section;
    char *key;
    char *value;
    char *where; /* "file:line" or "--set section.key" */
    int line;    /* 0 for overrides */
    int used;
} entry;

typedef struct {
    char *name;
    int line;
} section;

typedef struct {
    char *section;
    char *key;
} asked;

struct shoal_config {
    char *text;
    char *source;
    char *overrides; /* "section.key=value" lines, for provenance */
    entry *entries;
    size_t nentries, capentries;
    section *sections;
    size_t nsections, capsections;
    asked *asked;
    size_t nasked, capasked;
    char *env;       /* snapshot: "NAME=value\0" entries (has_env) */
    size_t envlen;
    int has_env;     /* 0: values come from the process environment */
    char *env_used;  /* "NAME=value\n" lines of the variables used */
};

/* A copy of s (malloc'd), NULL without memory. */
char *shoal__config_dupstr(const char *s);
/* Room for element n of *arr (elements of elem bytes, *cap of them),
 * doubling it; SHOAL_ENOMEM, silent, if there is no memory. */
int shoal__config_grow(void **arr, size_t *cap, size_t n, size_t elem);
/* The entry sec.key, or NULL. */
entry *shoal__config_find(const shoal_config *cfg, const char *sec,
                          const char *key);
/* The header [name] of the file, or NULL (overrides add no headers). */
const section *shoal__config_find_section(const shoal_config *cfg,
                                          const char *name);

/* value with ${NAME}, ${NAME:-default} and $$ expanded, in *out
 * (malloc'd); where/sec/key name the entry in messages. SHOAL_ECONFIG for an
 * unset variable without a default or a malformed reference. */
int shoal__config_expand(shoal_config *cfg, const char *sec, const char *key,
                         const char *value, const char *where, char **out);
/* Start cfg's record of variables used and keep a copy of the snapshot env
 * (NULL: the process environment). SHOAL_ENOMEM, silent, without memory. */
int shoal__config_take_env(shoal_config *cfg, const char *env, size_t envlen);

#endif
