/* config.c: INI files (inih) + --set overrides, with located errors.
 *
 * Debian's inih calls the handler without a line number, so we parse through
 * ini_parse_stream with our own line reader: it counts lines, records section
 * headers (inih reports only key=value pairs), and rejects lines too long for
 * inih's buffer instead of letting them be split silently. Every entry keeps
 * "source:line" for messages. Getters record what was asked, so that
 * shoal_config_check_unused() can name unknown keys and suggest known ones.
 * A key counts as unknown only if nobody read it: a walk of a section
 * (shoal_config_section_entry) takes all of it, since the walker judges its
 * keys itself and may stop at its first error.
 *
 * Only regular files are read: opening a FIFO blocks until a writer comes,
 * which hung the whole job (rank 0 in open, the other ranks in MPI_Bcast).
 *
 * Every error, out of memory included, is reported with what failed and
 * where. Invariants: entries and sections are owned arrays of owned strings;
 * a failed parse frees everything it allocated. */
#include <shoal/config.h>
#include <shoal/error.h>

#include <ini.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_LINE 65536       /* longest line accepted, bytes */
#define CONFIG_MAX_FILE (64u << 20) /* largest file accepted */
#define CONFIG_MAX_UNKNOWN 5        /* unknown keys (sections) named one by one */

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
};

/* ---- small helpers ---------------------------------------------------------- */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Room for element n. Silent: the caller reports what it was storing. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
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

static entry *find(const shoal_config *cfg, const char *sec, const char *key)
{
    for (size_t i = 0; i < cfg->nentries; i++)
        if (!strcmp(cfg->entries[i].section, sec) &&
            !strcmp(cfg->entries[i].key, key))
            return &cfg->entries[i];
    return NULL;
}

static const section *find_section(const shoal_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsections; i++)
        if (!strcmp(cfg->sections[i].name, name))
            return &cfg->sections[i];
    return NULL;
}

static int add_entry(shoal_config *cfg, const char *sec, const char *key,
                     const char *value, const char *where, int line)
{
    if (grow((void **)&cfg->entries, &cfg->capentries, cfg->nentries,
             sizeof(entry)))
        return SHOAL_ERROR(SHOAL_ENOMEM,
                           "%s: out of memory growing the table of keys to "
                           "store '%s' in [%s]",
                           where, key, sec);
    entry *e = &cfg->entries[cfg->nentries];
    e->section = dupstr(sec);
    e->key = dupstr(key);
    e->value = dupstr(value);
    e->where = dupstr(where);
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
    const section *prev = find_section(cfg, name);
    if (prev) {
        st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s:%d: section [%s] appears again (first at "
                                 "line %d); merge the two into one section",
                                 cfg->source, st->line, name, prev->line);
        return;
    }
    char *copy = NULL;
    if (grow((void **)&cfg->sections, &cfg->capsections, cfg->nsections,
             sizeof(section)) ||
        !(copy = dupstr(name))) {
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
    const entry *prev = find(cfg, sec, key);
    if (prev) {
        st->failed = SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s:%d: key '%s' in [%s] is set twice (first "
                                 "at line %d); keep one of them",
                                 cfg->source, st->line, key, sec, prev->line);
        return 1;
    }
    char where[1024];
    snprintf(where, sizeof where, "%s:%d", cfg->source, st->line);
    st->failed = add_entry(cfg, sec, key, value, where, st->line);
    return 1;
}

int shoal_config_parse(const char *text, size_t len, const char *source,
                       shoal_config **out)
{
    *out = NULL;
    if (!source)
        source = "<config>";
    shoal_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return SHOAL_ERROR(SHOAL_ENOMEM, "%s: out of memory for the config",
                           source);
    cfg->text = len < SIZE_MAX ? malloc(len + 1) : NULL;
    cfg->source = dupstr(source);
    cfg->overrides = dupstr("");
    if (!cfg->text || !cfg->source || !cfg->overrides) {
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
    free(cfg);
}

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

    entry *e = find(cfg, sec, key);
    if (e) {
        char *v = dupstr(value), *w = dupstr(where);
        if (!v || !w) {
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
        int rc = add_entry(cfg, sec, key, value, where, 0);
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

const char *shoal_config_text(const shoal_config *cfg) { return cfg->text; }
const char *shoal_config_source(const shoal_config *cfg) { return cfg->source; }
const char *shoal_config_overrides(const shoal_config *cfg)
{
    return cfg->overrides;
}

int shoal_config_has(const shoal_config *cfg, const char *sec, const char *key)
{
    return find(cfg, sec, key) != NULL;
}

int shoal_config_has_section(const shoal_config *cfg, const char *sec)
{
    if (find_section(cfg, sec))
        return 1;
    for (size_t i = 0; i < cfg->nentries; i++)
        if (!strcmp(cfg->entries[i].section, sec))
            return 1;
    return 0;
}

const char *shoal_config_where(const shoal_config *cfg, const char *sec,
                               const char *key)
{
    const entry *e = find(cfg, sec, key);
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
    if (grow((void **)&cfg->asked, &cfg->capasked, cfg->nasked, sizeof(asked)))
        return;
    char *s = dupstr(sec), *k = dupstr(key);
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
    entry *e = find(cfg, sec, key);
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

/* ---- unknown keys and sections ------------------------------------------------- */

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
            !find_section(cfg, e->section) && unknown(&nsecs))
            SHOAL_ERROR(SHOAL_ECONFIG, "%s: unknown section [%s]; known "
                        "sections: %s", e->where, e->section, joined);
    }
    report_more(cfg, nsecs, "sections");
    return nkeys || nsecs ? SHOAL_ECONFIG : 0;
}
