/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config_read.c: where a config's entries come from -- a file, the INI text
 * in it (parsed by inih), and --set overrides.
 *
 * Debian's inih calls the handler without a line number, so we parse through
 * ini_parse_stream with our own line reader: it counts lines, records section
 * headers (inih reports only key=value pairs), and rejects lines too long for
 * inih's buffer instead of letting them be split silently. Every entry keeps
 * "source:line" for messages, an override "--set section.key". Values are
 * stored with ${NAME} references expanded (config_env.c).
 *
 * Only regular files are read: opening a FIFO blocks until a writer comes,
 * which hung the whole job (rank 0 in open, the other ranks in MPI_Bcast). */
#include <shoal/config.h>
#include <shoal/error.h>

#include "config_impl.h"

#include <ini.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_LINE 65536       /* longest line accepted, bytes */
#define CONFIG_MAX_FILE (64u << 20) /* largest file accepted */

/* ---- entries ---------------------------------------------------------------- */

/* Append sec.key = value, noted as coming from where (line 0: an override). */
static int add_entry(shoal_config *cfg, const char *sec, const char *key,
                     const char *value, const char *where, int line)
{
    if (shoal__config_grow((void **)&cfg->entries, &cfg->capentries,
                           cfg->nentries, sizeof(entry)))
        return SHOAL_ERROR(SHOAL_ENOMEM,
                           "%s: out of memory growing the table of keys to "
                           "store '%s' in [%s]",
                           where, key, sec);
    entry *e = &cfg->entries[cfg->nentries];
    e->section = shoal__config_dupstr(sec);
    e->key = shoal__config_dupstr(key);
    e->value = shoal__config_dupstr(value);
    e->where = shoal__config_dupstr(where);
    e->line = line;
    e->used = 0;
    if (!e->section || !e->key || !e->value || !e->where) {
        free(e->section);
        free(e->key);
        free(e->value);
        free(e->where);
        return SHOAL_ERROR(SHOAL_ENOMEM,
                           "%s: out of memory storing key '%s' in [%s]", where,
                           key, sec);
    }
    cfg->nentries++;
    return 0;
}

/* ---- parsing ---------------------------------------------------------------- */

typedef struct {
    shoal_config *cfg;
    const char *p, *end;
    int line;     /* number of the line last handed to inih */
    int failed;   /* code of the error already reported, 0 if none */
    int too_long; /* line number of an over-long line, 0 if none */
} reader_state;

/* inih keeps section names to 49 bytes and would cut longer ones silently. */
#define CONFIG_MAX_SECTION 49

static void note_section(reader_state *st, const char *line, size_t len)
{
    if (st->failed)
        return; /* the parse fails anyway; store nothing more */
    size_t i = 0;
    /* inih skips a UTF-8 byte order mark at the start; so must we. */
    if (st->line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i] != '[')
        return;
    size_t start = ++i;
    while (i < len && line[i] != ']' && line[i] != '\n')
        i++;
    if (i >= len || line[i] != ']')
        return; /* inih reports the syntax error */
    size_t end = i;
    while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        end--;
    while (start < end && (line[start] == ' ' || line[start] == '\t'))
        start++;
    shoal_config *cfg = st->cfg;
    if (end - start > CONFIG_MAX_SECTION) {
        st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s:%d: section name longer than %d "
                                 "characters; shorten it",
                                 cfg->source, st->line, CONFIG_MAX_SECTION);
        return;
    }
    char name[CONFIG_MAX_SECTION + 1];
    size_t n = end - start;
    memcpy(name, line + start, n);
    name[n] = '\0';
    const section *prev = shoal__config_find_section(cfg, name);
    if (prev) {
        st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s:%d: section [%s] appears again (first at "
                                 "line %d); merge the two into one section",
                                 cfg->source, st->line, name, prev->line);
        return;
    }
    char *copy = NULL;
    if (shoal__config_grow((void **)&cfg->sections, &cfg->capsections,
                           cfg->nsections, sizeof(section)) ||
        !(copy = shoal__config_dupstr(name))) {
        st->failed = SHOAL_ERROR(SHOAL_ENOMEM,
                                 "%s:%d: out of memory storing section [%s]",
                                 cfg->source, st->line, name);
        return;
    }
    cfg->sections[cfg->nsections].name = copy;
    cfg->sections[cfg->nsections].line = st->line;
    cfg->nsections++;
}

/* fgets over the in-memory text, one line per call, counting lines. */
static char *reader(char *str, int num, void *stream)
{
    reader_state *st = stream;
    if (st->p >= st->end)
        return NULL;
    const char *nl = memchr(st->p, '\n', (size_t)(st->end - st->p));
    size_t len = nl ? (size_t)(nl - st->p) + 1 : (size_t)(st->end - st->p);
    st->line++;
    if (len > (size_t)num - 1) {
        if (!st->too_long)
            st->too_long = st->line;
        str[0] = '\n';
        str[1] = '\0';
    } else {
        memcpy(str, st->p, len);
        str[len] = '\0';
        /* A NUL byte inside a line would hide the rest of it from inih. */
        if (memchr(str, '\0', len) != NULL && !st->failed)
            st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                     "%s:%d: line contains a NUL byte; is "
                                     "this a text file?",
                                     st->cfg->source, st->line);
        note_section(st, str, len);
    }
    st->p += len;
    return str;
}

/* inih keeps blanks inside brackets ("[ run ]" gives " run "); trim them,
 * as note_section does, so both agree on the name. */
static void trim_section(const char *sec, char *out, size_t n)
{
    while (*sec == ' ' || *sec == '\t')
        sec++;
    size_t len = strlen(sec);
    while (len > 0 && (sec[len - 1] == ' ' || sec[len - 1] == '\t'))
        len--;
    if (len >= n)
        len = n - 1;
    memcpy(out, sec, len);
    out[len] = '\0';
}

static int handler(void *user, const char *raw_sec, const char *key,
                   const char *value)
{
    reader_state *st = user;
    shoal_config *cfg = st->cfg;
    if (st->failed)
        return 1; /* first error already reported; let inih finish quietly */
    char sec[CONFIG_MAX_SECTION + 2];
    trim_section(raw_sec, sec, sizeof sec);
    if (!sec[0]) {
        st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s:%d: '%s' is outside any section; put it "
                                 "under a [section] header such as [run]",
                                 cfg->source, st->line, key);
        return 1;
    }
    if (!key[0]) {
        st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s:%d: empty key name before '='; write "
                                 "'key = value'",
                                 cfg->source, st->line);
        return 1;
    }
    const entry *prev = shoal__config_find(cfg, sec, key);
    if (prev) {
        st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s:%d: key '%s' in [%s] is set twice (first "
                                 "at line %d); keep one of them",
                                 cfg->source, st->line, key, sec, prev->line);
        return 1;
    }
    char where[1024];
    snprintf(where, sizeof where, "%s:%d", cfg->source, st->line);
    char *expanded;
    st->failed = shoal__config_expand(cfg, sec, key, value, where, &expanded);
    if (!st->failed)
        st->failed = add_entry(cfg, sec, key, expanded, where, st->line);
    free(expanded);
    return 1;
}

int shoal_config_parse(const char *text, size_t len, const char *source,
                       shoal_config **out)
{
    return shoal_config_parse_env(text, len, source, NULL, 0, out);
}

int shoal_config_parse_env(const char *text, size_t len, const char *source,
                           const char *env, size_t envlen, shoal_config **out)
{
    *out = NULL;
    if (!source)
        source = "<config>";
    shoal_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return SHOAL_ERROR(SHOAL_ENOMEM, "%s: out of memory for the config",
                           source);
    cfg->text = len < SIZE_MAX ? malloc(len + 1) : NULL;
    cfg->source = shoal__config_dupstr(source);
    cfg->overrides = shoal__config_dupstr("");
    if (!cfg->text || !cfg->source || !cfg->overrides ||
        shoal__config_take_env(cfg, env, envlen)) {
        shoal_config_free(cfg);
        return SHOAL_ERROR(SHOAL_ENOMEM,
                           "%s: out of memory copying the config (%zu bytes)",
                           source, len);
    }
    memcpy(cfg->text, text, len);
    cfg->text[len] = '\0';

    /* inih's knobs are process-wide globals in Debian's build. */
    ini_max_line = CONFIG_MAX_LINE;
    ini_allow_multiline = 0;
    ini_stop_on_first_error = 0;

    reader_state st = {cfg, cfg->text, cfg->text + len, 0, 0, 0};
    int rc = ini_parse_stream(reader, &st, handler, &st);
    if (st.failed) {
        shoal_config_free(cfg);
        return st.failed;
    }
    if (st.too_long) {
        SHOAL_ERROR(SHOAL_ECONFIG,
                    "%s:%d: line longer than %d characters; split the value "
                    "or check that this is the right file",
                    cfg->source, st.too_long, CONFIG_MAX_LINE - 3);
        shoal_config_free(cfg);
        return SHOAL_ECONFIG;
    }
    if (rc > 0) {
        SHOAL_ERROR(SHOAL_ECONFIG,
                    "%s:%d: cannot parse this line; expected '[section]', "
                    "'key = value' or a comment starting with ';' or '#'",
                    cfg->source, rc);
        shoal_config_free(cfg);
        return SHOAL_ECONFIG;
    }
    if (rc < 0) {
        shoal_config_free(cfg);
        return SHOAL_ERROR(SHOAL_ENOMEM,
                           "%s: out of memory in the INI parser (inih)", source);
    }
    *out = cfg;
    return 0;
}

/* ---- the file -------------------------------------------------------------- */

/* What a path is, for the refusal of anything but a regular file. */
static const struct {
    mode_t type;
    const char *what;
} file_kinds[] = {
    {S_IFIFO, "a FIFO (named pipe)"},
    {S_IFCHR, "a character device"},
    {S_IFBLK, "a block device"},
    {S_IFSOCK, "a socket"},
};

static int not_regular(const char *path, mode_t mode)
{
    if (S_ISDIR(mode))
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "config file '%s' is a directory; give the path of "
                           "an .ini file",
                           path);
    const char *what = "a special file";
    for (size_t i = 0; i < sizeof file_kinds / sizeof file_kinds[0]; i++)
        if ((mode & S_IFMT) == file_kinds[i].type)
            what = file_kinds[i].what;
    return SHOAL_ERROR(SHOAL_ECONFIG,
                       "config file '%s' is %s, not a regular file; save the "
                       "config as a regular .ini file and give its path",
                       path, what);
}

/* read() until n bytes or end of file; -1 on a read error (errno set). */
static ssize_t read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int shoal_config_read_file(const char *path, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO opens at once, writer or not, and is refused
     * below instead of blocking here. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return SHOAL_ERROR(errno == ENOENT ? SHOAL_ENOENT : SHOAL_EIO,
                           "cannot read config file '%s': %s", path,
                           strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return SHOAL_ERROR(SHOAL_EIO, "cannot read config file '%s': %s", path,
                           strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return not_regular(path, sb.st_mode);
    }
    if ((unsigned long long)sb.st_size > CONFIG_MAX_FILE) {
        close(fd);
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "config file '%s' is %lld bytes, over the %u MiB "
                           "limit; is this the right file?",
                           path, (long long)sb.st_size, CONFIG_MAX_FILE >> 20);
    }
    size_t size = (size_t)sb.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return SHOAL_ERROR(SHOAL_ENOMEM,
                           "out of memory reading config file '%s' (%zu bytes)",
                           path, size);
    }
    /* The size fstat gave, and one byte more to see that the file did not
     * grow meanwhile: the limit holds without growing the buffer. */
    ssize_t n = read_full(fd, buf, size), more = 0;
    if (n == (ssize_t)size) {
        char probe;
        more = read_full(fd, &probe, 1);
    }
    int e = errno;
    close(fd);
    if (n < 0 || more < 0) {
        free(buf);
        return SHOAL_ERROR(SHOAL_EIO, "error reading config file '%s': %s",
                           path, strerror(e));
    }
    if (more > 0) {
        free(buf);
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "config file '%s' grew while it was read; run "
                           "again once it is written",
                           path);
    }
    buf[n] = '\0';
    if (n == 0 || strspn(buf, " \t\r\n") == (size_t)n) {
        free(buf);
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "config file '%s' is empty; it needs at least a "
                           "[run] section with 'tasks = N'",
                           path);
    }
    *text = buf;
    *len = (size_t)n;
    return 0;
}

/* ---- --set overrides -------------------------------------------------------- */

static int valid_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '=' || s[i] == '[' || s[i] == ']' || s[i] == ' ' ||
            s[i] == '\t')
            return 0;
    return 1;
}

int shoal_config_set(shoal_config *cfg, const char *a)
{
    const char *eq = strchr(a, '=');
    const char *dot = strchr(a, '.');
    if (!eq || !dot || dot > eq || !valid_name(a, (size_t)(dot - a)) ||
        !valid_name(dot + 1, (size_t)(eq - dot - 1)))
        return SHOAL_ERROR(SHOAL_EUSAGE,
                           "--set '%s': expected section.key=value, e.g. "
                           "--set run.tasks=1000",
                           a);
    char sec[256], key[256];
    size_t ns = (size_t)(dot - a), nk = (size_t)(eq - dot - 1);
    if (ns >= sizeof sec || nk >= sizeof key)
        return SHOAL_ERROR(SHOAL_EUSAGE, "--set '%s': name too long", a);
    memcpy(sec, a, ns);
    sec[ns] = '\0';
    memcpy(key, dot + 1, nk);
    key[nk] = '\0';
    const char *vstart = eq + 1;
    while (*vstart == ' ' || *vstart == '\t')
        vstart++;
    /* Strip trailing blanks too, as the file parser does. */
    char value[4096];
    size_t vlen = strlen(vstart);
    while (vlen > 0 && (vstart[vlen - 1] == ' ' || vstart[vlen - 1] == '\t'))
        vlen--;
    if (vlen >= sizeof value)
        return SHOAL_ERROR(SHOAL_EUSAGE, "--set %.*s: value too long",
                           (int)ns + (int)nk + 1, a);
    memcpy(value, vstart, vlen);
    value[vlen] = '\0';
    char where[600];
    snprintf(where, sizeof where, "--set %s.%s", sec, key);
    char *v = NULL;
    int rc = shoal__config_expand(cfg, sec, key, value, where, &v);
    if (rc)
        return rc;

    entry *e = shoal__config_find(cfg, sec, key);
    if (e) {
        char *w = shoal__config_dupstr(where);
        if (!w) {
            free(v);
            free(w);
            return SHOAL_ERROR(SHOAL_ENOMEM, "%s: out of memory storing the "
                               "value", where);
        }
        free(e->value);
        free(e->where);
        e->value = v;
        e->where = w;
        e->line = 0;
    } else {
        rc = add_entry(cfg, sec, key, v, where, 0);
        free(v);
        if (rc)
            return rc;
    }
    size_t old = strlen(cfg->overrides), add = strlen(a);
    char *o = realloc(cfg->overrides, old + add + 2);
    if (!o)
        return SHOAL_ERROR(SHOAL_ENOMEM, "%s: out of memory recording the "
                           "override", where);
    memcpy(o + old, a, add);
    o[old + add] = '\n';
    o[old + add + 1] = '\0';
    cfg->overrides = o;
    return 0;
}
