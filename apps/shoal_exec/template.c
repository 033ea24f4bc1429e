/* SPDX-License-Identifier: GPL-3.0-or-later */
/* template.c: [command] argv and workdir templates (exec.h). */
#include "exec.h"

#include <shoal/error.h>

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xbuf_add(xbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return SHOAL_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int xbuf_adds(xbuf *b, const char *s) { return xbuf_add(b, s, strlen(s)); }

void xbuf_free(xbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static const struct {
    const char *name;
    int ph;
} builtins[] = {
    {"task", PH_TASK},   {"replicate", PH_REPLICATE}, {"point", PH_POINT},
    {"seed", PH_SEED},   {"attempt", PH_ATTEMPT},     {"dir", PH_DIR},
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

/* The placeholder `name` (len bytes): its id, or 0 if unknown. */
static int lookup(const char *name, size_t len, const tpl_param *params, size_t nparams)
{
    for (size_t i = 0; i < NBUILTINS; i++)
        if (strlen(builtins[i].name) == len && !memcmp(builtins[i].name, name, len))
            return builtins[i].ph;
    for (size_t i = 0; i < nparams; i++)
        if (strlen(params[i].name) == len && !memcmp(params[i].name, name, len))
            return (int)i + 1;
    return 0;
}

static int unknown(const char *where, const char *key, const char *name, size_t len,
                   const tpl_param *params, size_t nparams)
{
    char known[512];
    size_t k = 0;
    known[0] = '\0';
    for (size_t i = 0; i < NBUILTINS + nparams && k < sizeof known - 40; i++) {
        const char *n = i < NBUILTINS ? builtins[i].name : params[i - NBUILTINS].name;
        k += (size_t)snprintf(known + k, sizeof known - k, "%s{%s}", i ? ", " : "", n);
    }
    return SHOAL_ERROR(SHOAL_ECONFIG,
                       "%s: [command] %s: unknown placeholder {%.*s}; known: %s (parameters "
                       "come from [scan] and [params]; write {{ and }} for literal braces)",
                       where, key, (int)(len > 64 ? 64 : len), name, known);
}

/* Segment storage grows as the parse goes. */
static int push_seg(tpl *t, size_t *cap, const char *text, size_t len, int ph)
{
    if (t->nsegs == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        tpl_seg *s = realloc(t->segs, nc * sizeof *s);
        if (!s)
            return SHOAL_ENOMEM;
        t->segs = s;
        *cap = nc;
    }
    /* Adjacent literals merge: one segment per run of text. */
    if (ph == 0 && t->nsegs > 0) {
        tpl_seg *last = &t->segs[t->nsegs - 1];
        if (last->ph == 0 && last->text + last->len == text) {
            last->len += len;
            return 0;
        }
    }
    t->segs[t->nsegs++] = (tpl_seg){text, len, ph};
    return 0;
}

int tpl_parse(const char *text, int words, const char *where, const char *key,
              const tpl_param *params, size_t nparams, tpl *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(text), segcap = 0, wcap = 0;
    /* Literal text is copied with quotes and escapes removed, so the
     * copy is never longer than the text (plus one NUL per word). */
    out->lit = malloc(2 * n + 2); /* and a NUL after each word */
    if (!out->lit)
        return SHOAL_ENOMEM;
    char *lit = out->lit;
    size_t li = 0, i = 0;
    int rc = 0;
    while (rc == 0) {
        if (words)
            while (i < n && isspace((unsigned char)text[i]))
                i++;
        if (i >= n)
            break;
        /* One word: up to an unquoted blank (or the end). */
        size_t first = out->nsegs;
        char quote = 0;
        int empty_quotes = 0;
        while (i < n && rc == 0) {
            char c = text[i];
            if (!quote && words && isspace((unsigned char)c))
                break;
            if (words && !quote && (c == '\'' || c == '"')) {
                quote = c;
                empty_quotes = 1;
                i++;
                continue;
            }
            if (words && quote && c == quote) {
                quote = 0;
                i++;
                continue;
            }
            /* Two characters that stand for one: \x, {{ and }}. */
            if (i + 1 < n && ((words && c == '\\' && quote != '\'') ||
                              (c == '{' && text[i + 1] == '{') ||
                              (c == '}' && text[i + 1] == '}'))) {
                lit[li] = text[i + 1];
                rc = push_seg(out, &segcap, lit + li, 1, 0);
                li++;
                i += 2;
                continue;
            }
            if (c == '}') {
                rc = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: [command] %s: '}' at column %zu has no '{' before it "
                                 "(write }} for a literal brace)",
                                 where, key, i + 1);
                break;
            }
            if (c == '{') {
                const char *close = memchr(text + i + 1, '}', n - i - 1);
                const char *open = memchr(text + i + 1, '{', n - i - 1);
                if (!close || (open && open < close)) {
                    rc = SHOAL_ERROR(SHOAL_ECONFIG,
                                     "%s: [command] %s: '{' at column %zu is not closed "
                                     "(write {{ for a literal brace)",
                                     where, key, i + 1);
                    break;
                }
                const char *name = text + i + 1;
                size_t len = (size_t)(close - name);
                int ph = len ? lookup(name, len, params, nparams) : 0;
                if (ph == 0) {
                    rc = unknown(where, key, name, len, params, nparams);
                    break;
                }
                if (ph == PH_DIR)
                    out->uses_dir = 1;
                rc = push_seg(out, &segcap, NULL, 0, ph);
                i = (size_t)(close - text) + 1;
                continue;
            }
            lit[li] = c;
            rc = push_seg(out, &segcap, lit + li, 1, 0);
            li++;
            i++;
        }
        if (rc == 0 && quote)
            rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [command] %s: a %s quote is not closed", where,
                             key, quote == '"' ? "double" : "single");
        if (rc != 0)
            break;
        lit[li++] = '\0'; /* the next word's text never merges with this one's */
        if (out->nsegs == first && !empty_quotes)
            continue;
        if (out->nwords == wcap) {
            size_t nc = wcap ? wcap * 2 : 8;
            tpl_word *w = realloc(out->words, nc * sizeof *w);
            if (!w) {
                rc = SHOAL_ENOMEM;
                break;
            }
            out->words = w;
            wcap = nc;
        }
        out->words[out->nwords++] = (tpl_word){first, out->nsegs - first};
    }
    if (rc == 0 && out->nwords == 0)
        rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [command] %s is empty; give the program and its "
                         "arguments, e.g. %s = ./sim --T {T} --seed {seed}",
                         where, key, key);
    if (rc != 0)
        tpl_free(out);
    return rc;
}

void tpl_free(tpl *t)
{
    free(t->lit);
    free(t->segs);
    free(t->words);
    memset(t, 0, sizeof *t);
}

void fmt_double(double x, char *buf, size_t n)
{
    if (isnan(x)) {
        snprintf(buf, n, "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, n, x > 0 ? "inf" : "-inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* A value for /bin/sh: in single quotes, each ' as '\''. */
static int add_quoted(xbuf *b, const char *s)
{
    int rc = xbuf_add(b, "'", 1);
    for (const char *q; rc == 0 && (q = strchr(s, '\'')); s = q + 1) {
        rc = xbuf_add(b, s, (size_t)(q - s));
        if (rc == 0)
            rc = xbuf_add(b, "'\\''", 4);
    }
    if (rc == 0)
        rc = xbuf_adds(b, s);
    return rc == 0 ? xbuf_add(b, "'", 1) : rc;
}

int tpl_expand_word(const tpl *t, size_t w, const tpl_values *v, int quote, xbuf *b)
{
    const tpl_word *word = &t->words[w];
    int rc = xbuf_add(b, "", 0); /* an empty word is still a word */
    for (size_t k = 0; k < word->nsegs && rc == 0; k++) {
        const tpl_seg *s = &t->segs[word->first + k];
        if (s->ph == 0) {
            rc = xbuf_add(b, s->text, s->len);
            continue;
        }
        char num[40];
        const char *val = num;
        switch (s->ph) {
        case PH_TASK:
        case PH_REPLICATE:
        case PH_POINT:
        case PH_SEED:
            snprintf(num, sizeof num, "%" PRIu64,
                     s->ph == PH_TASK        ? shoal_task_index(v->task)
                     : s->ph == PH_REPLICATE ? shoal_task_replicate(v->task)
                     : s->ph == PH_POINT     ? shoal_task_point(v->task)
                                             : shoal_task_seed(v->task));
            break;
        case PH_ATTEMPT:
            snprintf(num, sizeof num, "%d", shoal_task_attempt(v->task));
            break;
        case PH_DIR:
            val = v->dir;
            break;
        default: {
            const tpl_param *p = &v->params[s->ph - 1];
            if (p->type == SHOAL_INT64)
                snprintf(num, sizeof num, "%ld", shoal_param_long(v->task, p->name));
            else if (p->type == SHOAL_FLOAT64)
                fmt_double(shoal_param_double(v->task, p->name), num, sizeof num);
            else
                val = shoal_param_string(v->task, p->name);
        }
        }
        rc = quote ? add_quoted(b, val) : xbuf_adds(b, val);
    }
    return rc;
}
