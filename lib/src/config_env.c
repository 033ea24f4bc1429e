/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config_env.c: environment variables in config values -- ${NAME},
 * ${NAME:-default}, and $$ for a literal '$'.
 *
 * A value is expanded once, when its entry is stored (a file line or a --set
 * option), so getters, the fingerprint and the unknown-key check all see the
 * expanded text; the config text kept for provenance keeps the references.
 * Any other '$' is left as it is ($HOME, $(cmd), $1 reach a shell command
 * untouched). The default is taken as written, up to the first '}'.
 *
 * Where values come from: the process environment, or a snapshot that rank 0
 * captured and broadcast (shoal_config_env_capture): under srun every rank
 * has its own environment (SLURM_PROCID, ...), and every rank must expand a
 * config alike. With a snapshot, a name it lacks is unset on every rank.
 *
 * The variables a config used, with their values, are kept as "NAME=value"
 * lines in the order first used (shoal_config_env), for the output's
 * config_env attribute: what a rerun must export to get the same values. */
#include <shoal/config.h>
#include <shoal/error.h>

#include "config_impl.h"

#include <stdlib.h>
#include <string.h>

static int name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

/* The value of name[0..n) from the snapshot or the environment; NULL when
 * unset. The snapshot holds "NAME=value\0" entries. */
static const char *lookup_env(const shoal_config *cfg, const char *name, size_t n)
{
    if (cfg->has_env) {
        for (const char *p = cfg->env; p < cfg->env + cfg->envlen; p += strlen(p) + 1)
            if (!strncmp(p, name, n) && p[n] == '=')
                return p + n + 1;
        return NULL;
    }
    char buf[256];
    if (n >= sizeof buf)
        return NULL; /* no such name in any real environment */
    memcpy(buf, name, n);
    buf[n] = '\0';
    return getenv(buf);
}

/* Append n bytes to a growing string (*len bytes used, *cap allocated). */
static int put(char **s, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *q = realloc(*s, ncap);
        if (!q)
            return SHOAL_ENOMEM;
        *s = q;
        *cap = ncap;
    }
    memcpy(*s + *len, p, n);
    *len += n;
    (*s)[*len] = '\0';
    return 0;
}

/* Record NAME=value in cfg->env_used unless NAME is already there. An unset
 * variable whose default was used is recorded as unset: "NAME" alone. */
static int note_used(shoal_config *cfg, const char *name, size_t n, const char *value)
{
    size_t len = strlen(cfg->env_used);
    for (const char *p = cfg->env_used; *p;) {
        const char *nl = strchr(p, '\n');
        if (!strncmp(p, name, n) && (p[n] == '=' || p[n] == '\n'))
            return 0;
        p = nl ? nl + 1 : p + strlen(p);
    }
    size_t cap = len + 1;
    char *s = cfg->env_used;
    int rc = put(&s, &len, &cap, name, n);
    if (rc == 0 && value)
        rc = put(&s, &len, &cap, "=", 1);
    if (rc == 0 && value)
        rc = put(&s, &len, &cap, value, strlen(value));
    if (rc == 0)
        rc = put(&s, &len, &cap, "\n", 1);
    cfg->env_used = s;
    return rc;
}

int shoal__config_expand(shoal_config *cfg, const char *sec, const char *key,
                         const char *value, const char *where, char **out)
{
    *out = NULL;
    char *s = NULL;
    size_t len = 0, cap = 0;
    int rc = put(&s, &len, &cap, "", 0);
    for (const char *p = value; rc == 0 && *p;) {
        const char *dollar = strchr(p, '$');
        if (!dollar) {
            rc = put(&s, &len, &cap, p, strlen(p));
            break;
        }
        rc = put(&s, &len, &cap, p, (size_t)(dollar - p));
        if (rc == 0 && dollar[1] == '$') {
            rc = put(&s, &len, &cap, "$", 1);
            p = dollar + 2;
            continue;
        }
        if (rc == 0 && dollar[1] != '{') {
            rc = put(&s, &len, &cap, "$", 1);
            p = dollar + 1;
            continue;
        }
        if (rc)
            break;
        /* ${NAME} or ${NAME:-default} */
        const char *name = dollar + 2, *q = name;
        while (name_start(*q) || (q > name && name_char(*q)))
            q++;
        size_t n = (size_t)(q - name);
        const char *dflt = NULL, *close = NULL;
        if (n > 0 && *q == '}')
            close = q;
        else if (n > 0 && q[0] == ':' && q[1] == '-' && (close = strchr(q + 2, '}')))
            dflt = q + 2;
        if (!close) {
            free(s);
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [%s] %s: '${' at character %zu does not start ${NAME} "
                               "or ${NAME:-default}; write $$ for a literal '$'",
                               where, sec, key, (size_t)(dollar - value) + 1);
        }
        const char *v = lookup_env(cfg, name, n);
        if (dflt && (!v || !*v)) {
            rc = note_used(cfg, name, n, v);
            if (rc == 0)
                rc = put(&s, &len, &cap, dflt, (size_t)(close - dflt));
        } else if (v) {
            rc = note_used(cfg, name, n, v);
            if (rc == 0)
                rc = put(&s, &len, &cap, v, strlen(v));
        } else {
            free(s);
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [%s] %s: environment variable %.*s is not set; export "
                               "%.*s or write ${%.*s:-default}",
                               where, sec, key, (int)n, name, (int)n, name, (int)n, name);
        }
        p = close + 1;
    }
    if (rc) {
        free(s);
        return SHOAL_ERROR(SHOAL_ENOMEM, "%s: out of memory expanding [%s] %s", where, sec,
                           key);
    }
    *out = s;
    return 0;
}

int shoal__config_take_env(shoal_config *cfg, const char *env, size_t envlen)
{
    cfg->env_used = shoal__config_dupstr("");
    if (!cfg->env_used)
        return SHOAL_ENOMEM;
    if (!env)
        return 0;
    cfg->env = malloc(envlen + 1);
    if (!cfg->env)
        return SHOAL_ENOMEM;
    memcpy(cfg->env, env, envlen);
    cfg->env[envlen] = '\0'; /* a last entry without its NUL still ends */
    cfg->envlen = envlen;
    cfg->has_env = 1;
    return 0;
}

const char *shoal_config_env(const shoal_config *cfg) { return cfg->env_used; }

/* Every ${NAME in text[0..len) that names a variable set here, once, as
 * "NAME=value\0" appended to the block. */
static int capture_from(const char *text, size_t len, char **block, size_t *blen,
                        size_t *bcap)
{
    for (size_t i = 0; i + 2 < len; i++) {
        if (text[i] != '$' || text[i + 1] != '{' || !name_start(text[i + 2]))
            continue;
        size_t n = 0;
        while (i + 2 + n < len && name_char(text[i + 2 + n]))
            n++;
        const char *name = text + i + 2;
        int seen = 0;
        for (const char *p = *block; p < *block + *blen && !seen; p += strlen(p) + 1)
            seen = !strncmp(p, name, n) && p[n] == '=';
        char buf[256];
        const char *v = NULL;
        if (!seen && n < sizeof buf) {
            memcpy(buf, name, n);
            buf[n] = '\0';
            v = getenv(buf);
        }
        if (v && (put(block, blen, bcap, name, n) || put(block, blen, bcap, "=", 1) ||
                  put(block, blen, bcap, v, strlen(v) + 1)))
            return SHOAL_ENOMEM;
        i += 1 + n;
    }
    return 0;
}

int shoal_config_env_capture(const char *text, size_t len, const char *const *extra,
                             size_t nextra, char **block, size_t *blen)
{
    *block = NULL;
    *blen = 0;
    char *b = NULL;
    size_t used = 0, cap = 0;
    int rc = put(&b, &used, &cap, "", 0);
    if (rc == 0)
        rc = capture_from(text, len, &b, &used, &cap);
    for (size_t i = 0; rc == 0 && i < nextra; i++)
        if (extra[i])
            rc = capture_from(extra[i], strlen(extra[i]), &b, &used, &cap);
    if (rc) {
        free(b);
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory capturing the environment variables "
                           "the config names");
    }
    *block = b;
    *blen = used;
    return 0;
}
