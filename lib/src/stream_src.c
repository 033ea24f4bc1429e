/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stream_src.c: where a stream's items come from (see stream_src.h).
 *
 * A directory source keeps the names it knows: every matching name now in
 * the directory that was found complete (queued or already returned), in a
 * small open-addressing hash set of its own (hsearch's table is global),
 * and a FIFO of the queued names, those found but not yet taken because a
 * poll's max was reached. The FIFO points at the set's strings, so it holds
 * no more than the directory does. A name leaves the set when it leaves the
 * directory (IN_DELETE / IN_MOVED_FROM, or absent from a scan), and so a
 * file created again under that name is a new item.
 *
 * With inotify the watch is added at open, before the first poll's scan:
 * a file that arrives between the two is seen by the scan, by an event, or
 * by both (the set removes the duplicate). The events queued before the
 * first scan are read and dropped, as the scan sees their outcome. A name is
 * complete on IN_MOVED_TO (renamed into place) or IN_CLOSE_WRITE (written
 * in place and closed); in marker mode on the arrival of the data file or
 * of its marker, whichever comes second. An overflow of the kernel's queue
 * costs one full scan. Where inotify cannot be used (no instance or watch
 * left, no kernel support) or cannot see other hosts' files (the directory
 * is on a network or cluster file system: NFS, Lustre, GPFS, ...), the
 * directory is polled every second instead, which one verbose line says.
 * Polling reads the directory at most once per interval; the first poll
 * always reads it. A file is stat(2)ed as it is returned: one that vanished
 * is skipped, and so is anything but a regular file.
 *
 * A line source reads what the descriptor has into a buffer of a few
 * lines' size and cuts complete lines out of it; it reads no more while a
 * poll's max is reached, so a writer that runs ahead blocks on the full
 * pipe. End of input, as Linux (6.18 tested) behaves for a reader opened
 * with O_NONBLOCK:
 *   regular file, terminal, /dev/null  read() == 0 is the end.
 *   pipe or FIFO   read() == 0 also comes from a named pipe that no writer
 *                  has opened yet; poll(2) reports POLLHUP only once a
 *                  writer has connected (since this reader opened) and every
 *                  writer has gone, and always for an anonymous pipe whose
 *                  writer has gone. So read() == 0 is the end when POLLHUP
 *                  is set, or when some byte was ever read (then a writer
 *                  was there). A writer that connects and closes without
 *                  writing also ends it.
 * Standard input is switched to O_NONBLOCK, and back at close: the flag
 * belongs to the open file description, which a parent shell may share. */
#include <shoal/error.h>
#include <shoal/log.h>

#include "stream_src.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define FALLBACK_SECONDS 1.0              /* polling interval without inotify */
#define LINE_BUF (4 * SHOAL__SRC_TEXT)    /* bytes of a line source's buffer */
#define READS_PER_POLL 64                 /* read() calls of one poll, at most */
#define WATCH_MASK (IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | \
                    IN_DELETE_SELF | IN_MOVE_SELF)

enum { KIND_DIR, KIND_LINES };
enum { QUEUED = 1, RETURNED, SKIPPED }; /* a known name's state */

/* ---- a set of names (open addressing, linear probing) ---------------------- */

typedef struct {
    char *name;       /* NULL: empty; TOMB: removed */
    unsigned epoch;   /* the last scan that saw it */
    unsigned char state;
} slot;

static char tomb_mark;
#define TOMB (&tomb_mark)

typedef struct {
    slot *s;
    size_t cap, used, live; /* used counts tombstones too */
} nameset;

static size_t hash_name(const char *p)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return (size_t)(h ^ (h >> 32));
}

static slot *set_find(const nameset *t, const char *name)
{
    if (t->cap == 0)
        return NULL;
    for (size_t i = hash_name(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        slot *e = &t->s[i];
        if (!e->name)
            return NULL;
        if (e->name != TOMB && strcmp(e->name, name) == 0)
            return e;
    }
}

/* Grow (or clean of tombstones) to hold at least one more name. */
static int set_reserve(nameset *t)
{
    if ((t->used + 1) * 2 <= t->cap)
        return 0;
    size_t cap = 16;
    while (cap < (t->live + 1) * 4)
        cap *= 2;
    slot *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        slot *e = &t->s[i];
        if (!e->name || e->name == TOMB)
            continue;
        size_t j = hash_name(e->name) & (cap - 1);
        while (s[j].name)
            j = (j + 1) & (cap - 1);
        s[j] = *e;
    }
    free(t->s);
    t->s = s;
    t->cap = cap;
    t->used = t->live;
    return 0;
}

/* Add a name not in the set; takes ownership of name. */
static slot *set_add(nameset *t, char *name)
{
    if (set_reserve(t) != 0)
        return NULL;
    size_t i = hash_name(name) & (t->cap - 1);
    while (t->s[i].name && t->s[i].name != TOMB)
        i = (i + 1) & (t->cap - 1);
    if (!t->s[i].name)
        t->used++;
    t->live++;
    t->s[i] = (slot){.name = name};
    return &t->s[i];
}

static void set_remove(nameset *t, slot *e)
{
    free(e->name);
    e->name = TOMB;
    t->live--;
}

static void set_free(nameset *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->s[i].name && t->s[i].name != TOMB)
            free(t->s[i].name);
    free(t->s);
    *t = (nameset){0};
}

/* ---- the source ------------------------------------------------------------- */

struct shoal__src {
    int kind;
    /* directory */
    char *dir, *pattern, *marker;
    size_t marker_len;
    dev_t dev;
    ino_t ino;
    double interval;  /* polling: seconds between scans */
    int ifd, wd;      /* inotify, or -1 */
    int scanned;      /* the first scan was made */
    int rescan;       /* the event queue overflowed */
    double next_scan; /* polling: not before */
    double next_check; /* inotify: when to stat the directory itself */
    unsigned epoch;
    nameset known;
    char **queue;     /* ring of queued names (the set's strings) */
    size_t qhead, qlen, qcap;
    /* lines */
    const char *what; /* "standard input" or the path, for messages */
    char *path;
    int fd, is_stdin, old_flags, is_fifo, seen_data, eof, discard;
    char *buf;
    size_t len;
};

static int is_marker(const shoal__src *s, const char *name, size_t len)
{
    return s->marker && len > s->marker_len &&
           memcmp(name + len - s->marker_len, s->marker, s->marker_len) == 0;
}

/* A name that may become an item: matches the pattern, is no marker. */
static int is_data(const shoal__src *s, const char *name)
{
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           !is_marker(s, name, strlen(name)) && fnmatch(s->pattern, name, FNM_PERIOD) == 0;
}

/* dir/name[suffix] into buf; -1 if it does not fit. */
static int join(const shoal__src *s, const char *name, const char *suffix, char *buf,
                size_t n)
{
    size_t dl = strlen(s->dir);
    const char *sep = dl > 0 && s->dir[dl - 1] == '/' ? "" : "/";
    int k = snprintf(buf, n, "%s%s%s%s", s->dir, sep, name, suffix ? suffix : "");
    return k >= 0 && (size_t)k < n ? 0 : -1;
}

static int regular(const char *path, struct stat *sb)
{
    return stat(path, sb) == 0 && S_ISREG(sb->st_mode);
}

/* In marker mode: is name's marker there? */
static int marked(const shoal__src *s, const char *name)
{
    char path[2 * SHOAL__SRC_TEXT];
    struct stat sb;
    return join(s, name, s->marker, path, sizeof path) == 0 && stat(path, &sb) == 0;
}

static int queue_push(shoal__src *s, char *name)
{
    if (s->qlen == s->qcap) {
        size_t cap = s->qcap ? 2 * s->qcap : 16;
        char **q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
        for (size_t i = 0; i < s->qlen; i++)
            q[i] = s->queue[(s->qhead + i) % s->qcap];
        free(s->queue);
        s->queue = q;
        s->qcap = cap;
        s->qhead = 0;
    }
    s->queue[(s->qhead + s->qlen++) % s->qcap] = name;
    return 0;
}

static void queue_drop(shoal__src *s, const char *name)
{
    for (size_t i = 0; i < s->qlen; i++) {
        if (s->queue[(s->qhead + i) % s->qcap] != name)
            continue;
        for (size_t j = i; j + 1 < s->qlen; j++)
            s->queue[(s->qhead + j) % s->qcap] = s->queue[(s->qhead + j + 1) % s->qcap];
        s->qlen--;
        return;
    }
}

/* A complete name, not known yet: queue it (or, too long to be an item's
 * text, remember it as skipped). Takes ownership of name. */
static int add(shoal__src *s, char *name)
{
    char path[SHOAL__SRC_TEXT];
    int fits = join(s, name, NULL, path, sizeof path) == 0;
    slot *e = set_add(&s->known, name);
    if (!e || (fits && queue_push(s, name) != 0)) {
        if (e)
            set_remove(&s->known, e);
        else
            free(name);
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the names of the stream "
                           "directory '%s'", s->dir);
    }
    e->epoch = s->epoch;
    e->state = fits ? QUEUED : SKIPPED;
    if (!fits)
        shoal_log_verbose("stream directory '%s': skipping '%.64s...', whose path is "
                          "longer than %d bytes", s->dir, name, SHOAL__SRC_TEXT - 1);
    return 0;
}

static void forget(shoal__src *s, const char *name)
{
    slot *e = set_find(&s->known, name);
    if (!e)
        return;
    if (e->state == QUEUED)
        queue_drop(s, e->name);
    set_remove(&s->known, e);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int gone(const shoal__src *s, int removed)
{
    if (removed)
        return SHOAL_ERROR(SHOAL_ENOENT, "the stream directory '%s' was removed while "
                           "watched: recreate it and start again", s->dir);
    return SHOAL_ERROR(SHOAL_EIO, "the stream directory '%s' was moved away or replaced "
                       "while watched: put it back and start again", s->dir);
}

/* Read the directory: forget the names no longer there, queue the new
 * complete ones, sorted. */
static int scan(shoal__src *s)
{
    struct stat sb;
    if (stat(s->dir, &sb) != 0)
        return gone(s, errno == ENOENT);
    if (sb.st_dev != s->dev || sb.st_ino != s->ino)
        return gone(s, 0);
    DIR *d = opendir(s->dir);
    if (!d)
        return SHOAL_ERROR(errno == ENOENT ? SHOAL_ENOENT : SHOAL_EIO,
                           "cannot read the stream directory '%s': %s", s->dir,
                           strerror(errno));
    s->epoch++;
    char **fresh = NULL, **marks = NULL;
    size_t nfresh = 0, cfresh = 0, nmarks = 0, cmarks = 0;
    int rc = 0, read_errno = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            read_errno = errno;
            break;
        }
        const char *name = de->d_name;
        size_t len = strlen(name);
        char ***list = &fresh;
        size_t *n = &nfresh, *c = &cfresh, keep = len;
        if (is_marker(s, name, len)) {
            keep = len - s->marker_len;
            list = &marks, n = &nmarks, c = &cmarks;
        } else if (!is_data(s, name)) {
            continue;
        } else {
            slot *e = set_find(&s->known, name);
            if (e) {
                e->epoch = s->epoch;
                continue;
            }
        }
        if (*n == *c) {
            size_t cap = *c ? 2 * *c : 64;
            char **p = realloc(*list, cap * sizeof *p);
            if (!p) {
                rc = -1;
                break;
            }
            *list = p;
            *c = cap;
        }
        if (!((*list)[*n] = strndup(name, keep))) {
            rc = -1;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (rc == 0 && read_errno)
        rc = SHOAL_ERROR(SHOAL_EIO, "cannot read the stream directory '%s': %s", s->dir,
                         strerror(read_errno));
    else if (rc != 0)
        rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading the stream directory '%s'",
                         s->dir);
    if (rc == 0) {
        for (size_t i = 0; i < s->known.cap; i++) {
            slot *e = &s->known.s[i];
            if (e->name && e->name != TOMB && e->epoch != s->epoch)
                forget(s, e->name);
        }
        if (nfresh > 1) /* (not with NULL: undefined, even for 0 names) */
            qsort(fresh, nfresh, sizeof *fresh, cmp_names);
        if (nmarks > 1)
            qsort(marks, nmarks, sizeof *marks, cmp_names);
    }
    for (size_t i = 0; i < nfresh; i++) {
        char *name = fresh[i];
        int ready = !s->marker ||
                    (nmarks > 0 && bsearch(&name, marks, nmarks, sizeof *marks, cmp_names));
        if (rc == 0 && ready)
            rc = add(s, name);
        else
            free(name);
    }
    for (size_t i = 0; i < nmarks; i++)
        free(marks[i]);
    free(fresh);
    free(marks);
    s->scanned = 1;
    s->rescan = 0;
    return rc;
}

/* A file arrived complete under name (renamed into place, closed). */
static int arrived(shoal__src *s, const char *name)
{
    size_t len = strlen(name);
    struct stat sb;
    char path[2 * SHOAL__SRC_TEXT];
    char *data;
    if (is_marker(s, name, len)) {
        data = strndup(name, len - s->marker_len);
        if (!data)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the names of the stream "
                               "directory '%s'", s->dir);
        /* Its data file, if that is there already. */
        if (!is_data(s, data) || set_find(&s->known, data) ||
            join(s, data, NULL, path, sizeof path) != 0 || !regular(path, &sb)) {
            free(data);
            return 0;
        }
        return add(s, data);
    }
    if (!is_data(s, name) || set_find(&s->known, name) || (s->marker && !marked(s, name)))
        return 0;
    if (!(data = strdup(name)))
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the names of the stream "
                           "directory '%s'", s->dir);
    return add(s, data);
}

/* Read the pending events; drop: only look for the directory's own fate. */
static int read_events(shoal__src *s, int drop)
{
    _Alignas(struct inotify_event) char buf[16384];
    for (;;) {
        ssize_t n = read(s->ifd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return SHOAL_ERROR(SHOAL_EIO, "cannot read the events of the stream directory "
                               "'%s': %s", s->dir, n < 0 ? strerror(errno) : "end of file");
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                s->rescan = 1;
                continue;
            }
            if (ev->mask & (IN_DELETE_SELF | IN_IGNORED | IN_UNMOUNT))
                return gone(s, 1);
            if (ev->mask & IN_MOVE_SELF)
                return gone(s, 0);
            if (drop || ev->len == 0)
                continue;
            if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                forget(s, ev->name);
            } else if (!(ev->mask & IN_ISDIR)) {
                int rc = arrived(s, ev->name);
                if (rc != 0)
                    return rc;
            }
        }
    }
}

/* f_type of file systems where inotify does not see other hosts' changes. */
static const char *network_fs(const char *dir)
{
    static const struct {
        unsigned long magic;
        const char *name;
    } fs[] = {
        {0x6969, "NFS"},           {0x517B, "SMB"},          {0xFF534D42, "CIFS"},
        {0xFE534D42, "SMB2"},      {0x0BD00BD0, "Lustre"},   {0x47504653, "GPFS"},
        {0x19830326, "BeeGFS"},    {0x00C36400, "Ceph"},     {0x01021997, "9p"},
        {0x5346414F, "AFS"},       {0x7461636F, "OCFS2"},    {0x01161970, "GFS2"},
        {0xAAD7AAEA, "PanFS"},
    };
    struct statfs f;
    if (statfs(dir, &f) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        if ((unsigned long)(unsigned int)f.f_type == fs[i].magic)
            return fs[i].name;
    return NULL;
}

static void start_inotify(shoal__src *s)
{
    const char *net = network_fs(s->dir);
    if (net) {
        shoal_log_verbose("stream directory '%s' is on %s, where inotify misses files "
                          "written on other hosts: polling it every %g s", s->dir, net,
                          FALLBACK_SECONDS);
        return;
    }
    s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->ifd >= 0) {
        s->wd = inotify_add_watch(s->ifd, s->dir, WATCH_MASK | IN_ONLYDIR);
        if (s->wd >= 0)
            return;
    }
    int e = errno;
    if (s->ifd >= 0)
        close(s->ifd);
    s->ifd = -1;
    shoal_log_verbose("cannot watch the stream directory '%s' with inotify (%s%s): "
                      "polling it every %g s", s->dir, strerror(e),
                      e == ENOSPC || e == EMFILE ? "; see /proc/sys/fs/inotify" : "",
                      FALLBACK_SECONDS);
}

int shoal__src_open_dir(const char *dir, const char *pattern, const char *marker,
                        double poll_seconds, shoal__src **out)
{
    *out = NULL;
    if (!dir || !dir[0])
        return SHOAL_ERROR(SHOAL_EINVAL, "the stream directory is empty: give a path");
    if (!pattern || !pattern[0] || strchr(pattern, '/'))
        return SHOAL_ERROR(SHOAL_EINVAL, "the pattern '%s' of the stream directory '%s' "
                           "must be a non-empty glob of names, without '/'",
                           pattern ? pattern : "", dir);
    if (marker && (!marker[0] || strchr(marker, '/')))
        return SHOAL_ERROR(SHOAL_EINVAL, "the marker suffix '%s' of the stream directory "
                           "'%s' must be a non-empty name suffix, without '/'", marker, dir);
    if (!(poll_seconds >= 0 && poll_seconds <= 1e6))
        return SHOAL_ERROR(SHOAL_EINVAL, "the polling interval %g s of the stream "
                           "directory '%s' must be 0 (inotify) to 1e6", poll_seconds, dir);
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return SHOAL_ERROR(errno == ENOENT || errno == ENOTDIR ? SHOAL_ENOENT : SHOAL_EIO,
                           "cannot use the stream directory '%s': %s; create it or fix "
                           "the path", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return SHOAL_ERROR(SHOAL_EIO, "the stream directory '%s' is not a directory: "
                           "give the directory the files arrive in", dir);
    if (access(dir, R_OK | X_OK) != 0)
        return SHOAL_ERROR(SHOAL_EIO, "cannot list the stream directory '%s': %s; give "
                           "this user read and search permission on it", dir,
                           strerror(errno));
    shoal__src *s = calloc(1, sizeof *s);
    if (!s)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory opening the stream directory '%s'",
                           dir);
    s->kind = KIND_DIR;
    s->ifd = s->wd = s->fd = -1;
    s->dev = sb.st_dev;
    s->ino = sb.st_ino;
    s->dir = strdup(dir);
    s->pattern = strdup(pattern);
    s->marker = marker ? strdup(marker) : NULL;
    if (!s->dir || !s->pattern || (marker && !s->marker)) {
        shoal__src_close(s);
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory opening the stream directory '%s'",
                           dir);
    }
    s->marker_len = marker ? strlen(marker) : 0;
    s->interval = poll_seconds;
    if (poll_seconds == 0) {
        start_inotify(s);
        if (s->ifd < 0)
            s->interval = FALLBACK_SECONDS;
    }
    *out = s;
    return 0;
}

static int poll_dir(shoal__src *s, double now, shoal__src_item *items, size_t max)
{
    int rc = 0;
    if (s->ifd >= 0) {
        rc = read_events(s, !s->scanned);
        if (rc == 0 && (!s->scanned || s->rescan))
            rc = scan(s);
        /* inotify reports the directory's removal only once nothing holds
         * a file in it open (another program may): look at it once a
         * second too. */
        if (rc == 0 && now >= s->next_check) {
            struct stat sb;
            s->next_check = now + 1.0;
            if (stat(s->dir, &sb) != 0)
                rc = gone(s, errno == ENOENT);
            else if (sb.st_dev != s->dev || sb.st_ino != s->ino)
                rc = gone(s, 0);
        }
    } else if (!s->scanned || now >= s->next_scan) {
        rc = scan(s);
        s->next_scan = now + s->interval;
    }
    if (rc != 0)
        return rc;
    size_t n = 0;
    while (n < max && s->qlen > 0) {
        char *name = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        set_find(&s->known, name)->state = RETURNED;
        shoal__src_item *it = &items[n];
        struct stat sb;
        if (join(s, name, NULL, it->text, sizeof it->text) != 0 || !regular(it->text, &sb))
            continue; /* gone, or not a file */
        it->size = (uint64_t)sb.st_size;
        it->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        it->too_long = 0;
        n++;
    }
    return (int)n;
}

/* ---- lines -------------------------------------------------------------------- */

int shoal__src_open_lines(const char *path, shoal__src **out)
{
    *out = NULL;
    if (!path || !path[0])
        return SHOAL_ERROR(SHOAL_EINVAL, "the stream's input is empty: give a path, or "
                           "'-' for standard input");
    shoal__src *s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(LINE_BUF)) || !(s->path = strdup(path))) {
        if (s)
            free(s->buf);
        free(s);
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory opening the stream's input '%s'",
                           path);
    }
    s->kind = KIND_LINES;
    s->ifd = s->wd = -1;
    s->is_stdin = strcmp(path, "-") == 0;
    s->what = s->is_stdin ? "standard input" : s->path;
    if (s->is_stdin) {
        s->fd = 0;
        s->old_flags = fcntl(0, F_GETFL);
        if (s->old_flags < 0 || fcntl(0, F_SETFL, s->old_flags | O_NONBLOCK) != 0) {
            int e = errno;
            s->old_flags = -1;
            shoal__src_close(s);
            return SHOAL_ERROR(SHOAL_ENOENT, "cannot read the stream's lines from standard "
                               "input: %s", strerror(e));
        }
    } else {
        s->old_flags = -1;
        s->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (s->fd < 0) {
            int e = errno;
            shoal__src_close(s);
            return SHOAL_ERROR(SHOAL_ENOENT, "cannot open the stream's input '%s': %s; "
                               "give a named pipe or a file of lines", path, strerror(e));
        }
    }
    struct stat sb;
    if (fstat(s->fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        shoal__src_close(s);
        return SHOAL_ERROR(SHOAL_EINVAL, "the stream's input '%s' is a directory: give a "
                           "named pipe or a file of lines", path);
    }
    s->is_fifo = fstat(s->fd, &sb) == 0 && S_ISFIFO(sb.st_mode);
    *out = s;
    return 0;
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* One line of len bytes (no '\n'): an item unless blank or a comment.
 * Blank and comment are judged on its first SHOAL__SRC_TEXT - 1 bytes. */
static void emit(const char *p, size_t len, shoal__src_item *items, size_t *n)
{
    if (len > 0 && p[len - 1] == '\r')
        len--;
    size_t keep = len < SHOAL__SRC_TEXT - 1 ? len : SHOAL__SRC_TEXT - 1;
    size_t i = 0;
    while (i < keep && blank(p[i]))
        i++;
    if (i == keep || p[i] == '#')
        return;
    shoal__src_item *it = &items[(*n)++];
    memcpy(it->text, p, keep);
    it->text[keep] = '\0';
    it->size = 0;
    it->mtime_ns = 0;
    it->too_long = len > keep;
}

/* Cut the complete lines out of the buffer, up to max items in all. */
static void cut_lines(shoal__src *s, shoal__src_item *items, size_t max, size_t *n)
{
    size_t pos = 0;
    while (*n < max && pos < s->len) {
        char *p = s->buf + pos;
        size_t avail = s->len - pos;
        char *nl = memchr(p, '\n', avail);
        if (nl) {
            if (!s->discard)
                emit(p, (size_t)(nl - p), items, n);
            s->discard = 0;
            pos += (size_t)(nl - p) + 1;
        } else if (s->discard) {
            pos = s->len; /* more of a line too long */
        } else if (avail > SHOAL__SRC_TEXT) {
            emit(p, avail, items, n); /* too long: its start, the rest dropped */
            s->discard = 1;
            pos = s->len;
        } else if (s->eof) {
            emit(p, avail, items, n); /* the last line, without '\n' */
            pos = s->len;
        } else {
            break;
        }
    }
    memmove(s->buf, s->buf + pos, s->len - pos);
    s->len -= pos;
}

/* read() returned 0: is that the end? (see the top of the file) */
static int at_end(const shoal__src *s)
{
    if (!s->is_fifo || s->seen_data)
        return 1;
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

static int poll_lines(shoal__src *s, shoal__src_item *items, size_t max)
{
    size_t n = 0;
    cut_lines(s, items, max, &n);
    for (int reads = 0; n < max && !s->eof && reads < READS_PER_POLL; reads++) {
        ssize_t r = read(s->fd, s->buf + s->len, LINE_BUF - s->len);
        if (r > 0) {
            s->len += (size_t)r;
            s->seen_data = 1;
        } else if (r == 0) {
            if (!at_end(s))
                break;
            s->eof = 1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            return SHOAL_ERROR(SHOAL_EIO, "cannot read the stream's input '%s': %s",
                               s->what, strerror(errno));
        }
        cut_lines(s, items, max, &n);
    }
    if (n == 0 && s->eof && s->len == 0)
        return SHOAL__SRC_END;
    return (int)n;
}

/* ---- common ------------------------------------------------------------------- */

int shoal__src_poll(shoal__src *s, double now, shoal__src_item *items, size_t max)
{
    if (max > (size_t)1 << 30)
        max = (size_t)1 << 30; /* the count must fit the int returned */
    return s->kind == KIND_DIR ? poll_dir(s, now, items, max) : poll_lines(s, items, max);
}

int shoal__src_fd(const shoal__src *s)
{
    return s->kind == KIND_DIR ? s->ifd : s->fd;
}

int shoal__src_inotify(const shoal__src *s)
{
    return s->kind == KIND_DIR ? s->ifd >= 0 : -1;
}

void shoal__src_close(shoal__src *s)
{
    if (!s)
        return;
    if (s->ifd >= 0)
        close(s->ifd);
    set_free(&s->known);
    free(s->queue);
    free(s->dir);
    free(s->pattern);
    free(s->marker);
    if (s->kind == KIND_LINES) {
        if (s->is_stdin && s->old_flags >= 0)
            fcntl(0, F_SETFL, s->old_flags);
        else if (!s->is_stdin && s->fd >= 0)
            close(s->fd);
    }
    free(s->buf);
    free(s->path);
    free(s);
}
