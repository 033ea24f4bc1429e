/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_config.c: `shoal config FILE` -- the config that made a result file,
 * ready to rerun.
 *
 * The file keeps the config text as read (root attribute `config`), the
 * --set overrides of the run that last opened it (`overrides`, one
 * "section.key=value" per line) and its source (`config_source`). Printing
 * the text alone would lose the overrides, and appending them would not
 * parse (a key set twice is an error), so they are written into the text:
 * an override of a key the text has replaces that key's line, and a new key
 * goes after the last key of its section (a new section at the end). That
 * keeps the order of entries the library would see (the text's, then the
 * overrides'), which the fingerprint depends on for [scan].
 *
 * The library's own parser says where each entry is (config_impl.h): the
 * text is parsed once as it is (the lines) and once with the overrides
 * applied (the values), so no INI parsing is done here. */
#include <shoal/config.h>
#include <shoal/error.h>

#include "config_impl.h"
#include "tool.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *start; /* in the text */
    size_t len;        /* without the newline */
    char *replace;     /* this line instead (malloc'd), or NULL */
    char *after;       /* lines added after it (malloc'd), or NULL */
} line;

/* Append "key = value\n" to *s (malloc'd, grown). */
static int append_entry(char **s, const char *key, const char *value)
{
    size_t old = *s ? strlen(*s) : 0, add = strlen(key) + strlen(value) + 5;
    char *n = realloc(*s, old + add);
    if (!n)
        return SHOAL_ENOMEM;
    snprintf(n + old, add, "%s = %s\n", key, value);
    *s = n;
    return 0;
}

/* The lines of text (its own array, *n of them). */
static line *split(const char *text, size_t *n)
{
    size_t count = 1;
    for (const char *p = text; *p; p++)
        count += *p == '\n';
    line *l = calloc(count, sizeof *l);
    if (!l)
        return NULL;
    size_t k = 0;
    for (const char *p = text; *p && k < count; k++) {
        const char *nl = strchr(p, '\n');
        l[k].start = p;
        l[k].len = nl ? (size_t)(nl - p) : strlen(p);
        p = nl ? nl + 1 : p + l[k].len;
    }
    *n = k;
    return l;
}

/* The 1-based line of an entry parsed from the text, 0 for an override. */
static int entry_line(const entry *e) { return e->line; }

/* Index in lines of the last line of section sec (its last key, or its
 * header), or -1 if the text has no such section. */
static long section_end(const shoal_config *cfg, const char *sec)
{
    const section *h = shoal__config_find_section(cfg, sec);
    if (!h)
        return -1;
    long last = h->line;
    for (size_t i = 0; i < cfg->nentries; i++)
        if (!strcmp(cfg->entries[i].section, sec) && entry_line(&cfg->entries[i]) > last)
            last = entry_line(&cfg->entries[i]);
    return last - 1;
}

/* Entry i of as_run is in a section the text lacks: if it is the first
 * such of its section, add the section to *tail with all of its new keys,
 * in the order given. 1 done, 0 out of memory. */
static int new_section_keys(const shoal_config *as_run, size_t i, char **tail)
{
    const char *sec = as_run->entries[i].section;
    for (size_t j = 0; j < i; j++)
        if (as_run->entries[j].line == 0 && !strcmp(as_run->entries[j].section, sec))
            return 1; /* written with the first */
    size_t old = *tail ? strlen(*tail) : 0, add = strlen(sec) + 4;
    char *t = realloc(*tail, old + add);
    if (!t)
        return 0;
    snprintf(t + old, add, "\n[%s]\n", sec);
    *tail = t;
    for (size_t j = i; j < as_run->nentries; j++)
        if (as_run->entries[j].line == 0 && !strcmp(as_run->entries[j].section, sec) &&
            append_entry(tail, as_run->entries[j].key, as_run->entries[j].value))
            return 0;
    return 1;
}

/* Write the overrides of `as_run` (the text with them applied) into lines,
 * by the places of `as_text`'s entries; new sections go into *tail. */
static int merge(const shoal_config *as_text, const shoal_config *as_run, line *l,
                 size_t nlines, char **tail, char *notes, size_t nnotes)
{
    size_t used = strlen(notes);
    for (size_t i = 0; i < as_run->nentries; i++) {
        const entry *e = &as_run->entries[i];
        if (e->line != 0)
            continue; /* as in the text */
        const entry *orig = shoal__config_find(as_text, e->section, e->key);
        int rc = 0;
        char note[600];
        if (orig && orig->line > 0 && (size_t)orig->line <= nlines) {
            line *at = &l[orig->line - 1];
            free(at->replace);
            at->replace = NULL;
            rc = append_entry(&at->replace, e->key, e->value);
            if (at->replace)
                at->replace[strlen(at->replace) - 1] = '\0'; /* the line's own newline */
            snprintf(note, sizeof note, "%s.%s (line %d)", e->section, e->key, orig->line);
        } else {
            long end = section_end(as_text, e->section);
            if (end >= 0 && (size_t)end < nlines) {
                rc = append_entry(&l[end].after, e->key, e->value);
            } else if (!new_section_keys(as_run, i, tail)) {
                return SHOAL_ENOMEM;
            }
            snprintf(note, sizeof note, "%s.%s (added)", e->section, e->key);
        }
        if (rc)
            return rc;
        used += (size_t)snprintf(notes + used, used < nnotes ? nnotes - used : 0, "%s%s",
                                 used ? ", " : "", note);
        if (used >= nnotes)
            used = nnotes - 1;
    }
    return 0;
}

/* The variables the run used (config_env: "NAME=value" lines, "NAME" alone
 * for one that was unset) as the "NAME=value\0" block that
 * shoal_config_parse_env takes, so that the text parses as it did for the
 * run whatever this shell's environment holds. Returns NULL on no memory. */
static char *env_block(const char *env, size_t *len)
{
    size_t n = strlen(env);
    char *b = malloc(n + 1), *o = b;
    if (!b)
        return NULL;
    for (const char *v = env; *v;) {
        const char *nl = strchr(v, '\n');
        size_t l = nl ? (size_t)(nl - v) : strlen(v);
        if (memchr(v, '=', l)) { /* set: keep it; unset: leave it out */
            memcpy(o, v, l);
            o += l;
            *o++ = '\0';
        }
        v += l + (nl != NULL);
    }
    *len = (size_t)(o - b);
    return b;
}

int tool_config(const tool_args *a)
{
    shoal_results *r = NULL;
    int rc = tool_open(a->file, &r);
    if (rc)
        return rc;
    char *text = tool_attr(r, "config"), *over = tool_attr(r, "overrides");
    char *source = tool_attr(r, "config_source"), *app = tool_attr(r, "app");
    char *started = tool_attr(r, "started"), *env = tool_attr(r, "config_env");
    shoal_config *as_text = NULL, *as_run = NULL;
    line *l = NULL;
    size_t nlines = 0;
    char *tail = NULL, *block = NULL, notes[4096] = "";
    if (!text || !over || !source || !app || !started || !env) {
        rc = tool_fail(TOOL_IO, "out of memory reading the config of '%s'", a->file);
        goto done;
    }
    if (!text[0]) {
        rc = tool_fail(TOOL_USAGE, "'%s' keeps no config text (attribute 'config')",
                       a->file);
        goto done;
    }
    tool_lib_message_clear();
    size_t blen = 0;
    block = env_block(env, &blen);
    if (!block) {
        rc = tool_fail(TOOL_IO, "out of memory reading the config of '%s'", a->file);
        goto done;
    }
    if (shoal_config_parse_env(text, strlen(text), source[0] ? source : "config", block,
                               blen, &as_text) ||
        shoal_config_parse_env(text, strlen(text), source[0] ? source : "config", block,
                               blen, &as_run)) {
        rc = tool_fail(TOOL_IO, "the config kept in '%s' does not parse: %s", a->file,
                       tool_lib_message());
        goto done;
    }
    for (char *o = over, *nl; *o; o = nl ? nl + 1 : o + strlen(o)) {
        nl = strchr(o, '\n');
        if (nl)
            *nl = '\0';
        if (*o && shoal_config_set(as_run, o) != 0) {
            rc = tool_fail(TOOL_IO, "the override '%s' kept in '%s' does not apply: %s", o,
                           a->file, tool_lib_message());
            goto done;
        }
        if (!nl)
            break;
    }
    l = split(text, &nlines);
    if (!l || merge(as_text, as_run, l, nlines, &tail, notes, sizeof notes) != 0) {
        rc = tool_fail(TOOL_IO, "out of memory writing the config of '%s'", a->file);
        goto done;
    }
    printf("; shoal config %s: the config of this result file, ready to rerun\n", a->file);
    printf(";   app %s; read from %s; run started %s\n", app, source[0] ? source : "?",
           started[0] ? started : "?");
    if (notes[0])
        printf(";   --set overrides written in: %s\n", notes);
    if (env[0]) {
        printf(";   environment variables the config used, as they were (set them "
               "alike to rerun the same run):\n");
        for (char *v = env, *nl; *v; v = nl + 1) {
            nl = strchr(v, '\n');
            printf(";     %.*s\n", nl ? (int)(nl - v) : (int)strlen(v), v);
            if (!nl)
                break;
        }
    }
    printf(";   resume with: mpirun -n N %s THIS.ini --resume -o %s\n", app, a->file);
    for (size_t i = 0; i < nlines; i++) {
        if (l[i].replace)
            printf("%s\n", l[i].replace);
        else
            printf("%.*s\n", (int)l[i].len, l[i].start);
        if (l[i].after)
            fputs(l[i].after, stdout);
    }
    if (tail)
        fputs(tail, stdout);
    if (fflush(stdout) != 0)
        rc = tool_fail(TOOL_IO, "cannot write the config: standard output failed");
done:
    for (size_t i = 0; l && i < nlines; i++) {
        free(l[i].replace);
        free(l[i].after);
    }
    free(l);
    free(tail);
    free(block);
    shoal_config_free(as_text);
    shoal_config_free(as_run);
    free(text);
    free(over);
    free(source);
    free(app);
    free(started);
    free(env);
    shoal_results_close(r);
    return rc;
}
