/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_resume.c: reopening a result file to finish its run (--resume).
 *
 * A file is resumed only if it is the same run: its fingerprint (what
 * decides which task is which and what it computes) must equal this run's,
 * and its datasets must have the shapes and types this run writes. Only
 * then is anything written: /ranks is rebuilt for this run's ranks,
 * /failures keeps earlier runs' entries, the root attributes record the
 * resume and /segments gets this segment's row (store_segments.c). */
#include <shoal/error.h>
#include <shoal/log.h>

#include "failures.h"
#include "h5util.h"
#include "mpiutil.h"
#include "store_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One "key = value" line of a fingerprint. */
typedef struct {
    const char *key, *value;
    size_t klen, vlen;
} fp_line;

/* Split a fingerprint into its lines (malloc'd array; NULL if none). */
static fp_line *fp_lines(const char *fp, size_t *n)
{
    *n = 0;
    size_t cap = 1;
    for (const char *p = fp; *p; p++)
        cap += *p == '\n';
    fp_line *v = calloc(cap, sizeof *v);
    if (!v)
        return NULL;
    for (const char *p = fp; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq && eq > p && eq[-1] == ' ' && (size_t)(eq - p) + 1 < len) {
            fp_line *l = &v[(*n)++];
            l->key = p;
            l->klen = (size_t)(eq - p) - 1;
            l->value = eq + 2 <= p + len ? eq + 2 : eq + 1;
            l->vlen = (size_t)(p + len - l->value);
        }
        p = nl ? nl + 1 : NULL;
    }
    return v;
}

static const fp_line *fp_find(const fp_line *v, size_t n, const fp_line *key)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].klen == key->klen && !memcmp(v[i].key, key->key, key->klen))
            return &v[i];
    return NULL;
}

/* A value for a message: whole when short, else the part around `at` (the
 * first place where two values differ) with its length. */
static void fp_show(const fp_line *l, size_t at, char *buf, size_t n)
{
    enum { SHOWN = 60 };
    if (!l) {
        snprintf(buf, n, "(absent)");
        return;
    }
    if (l->vlen <= SHOWN) {
        snprintf(buf, n, "%.*s", (int)l->vlen, l->value);
        return;
    }
    size_t from = at > SHOWN / 2 ? at - SHOWN / 2 : 0;
    if (from + SHOWN > l->vlen)
        from = l->vlen - SHOWN;
    snprintf(buf, n, "%s%.*s%s (%zu characters)", from ? "..." : "", SHOWN, l->value + from,
             from + SHOWN < l->vlen ? "..." : "", l->vlen);
}

/* The report, built up and passed to the error handler as one message. */
typedef struct {
    char text[1800];
    size_t len;
    int ndiff;
} fp_msg;

static void msg_add(fp_msg *m, const char *fmt, ...) SHOAL_PRINTF(2, 3);
static void msg_add(fp_msg *m, const char *fmt, ...)
{
    if (m->len >= sizeof m->text - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->text + m->len, sizeof m->text - m->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->len = m->len + (size_t)n < sizeof m->text ? m->len + (size_t)n : sizeof m->text - 1;
}

enum { LISTED = 12 }; /* differences named one by one */

static void fp_report(fp_msg *m, const fp_line *key, const fp_line *have, const fp_line *want)
{
    if (m->ndiff++ >= LISTED)
        return;
    size_t at = 0;
    if (have && want)
        while (at < have->vlen && at < want->vlen && have->value[at] == want->value[at])
            at++;
    char a[200], b[200];
    fp_show(have, at, a, sizeof a);
    fp_show(want, at, b, sizeof b);
    msg_add(m, "\n  %.*s: %s vs. %s", (int)key->klen, key->key, a, b);
}

/* "scan.a, scan.b" for the order report. */
static void list_scan_keys(fp_msg *m, const fp_line *v, size_t n)
{
    int first = 1;
    for (size_t i = 0; v && i < n; i++)
        if (!strncmp(v[i].key, "scan.", 5)) {
            msg_add(m, "%s%.*s", first ? "" : ", ", (int)v[i].klen - 5, v[i].key + 5);
            first = 0;
        }
}

int shoal__fingerprint_diff(const char *path, const char *have, const char *want)
{
    if (!strcmp(have, want))
        return 0;
    size_t nh, nw;
    fp_line *h = fp_lines(have, &nh), *w = fp_lines(want, &nw);
    fp_msg m = {.len = 0, .ndiff = 0};
    msg_add(&m, "cannot resume '%s': it holds a different run (file vs. this config):", path);
    for (size_t i = 0; h && w && i < nw; i++) {
        const fp_line *o = fp_find(h, nh, &w[i]);
        if (!o || o->vlen != w[i].vlen || memcmp(o->value, w[i].value, o->vlen))
            fp_report(&m, &w[i], o, &w[i]);
    }
    for (size_t i = 0; h && w && i < nh; i++)
        if (!fp_find(w, nw, &h[i]))
            fp_report(&m, &h[i], &h[i], NULL);
    if (m.ndiff > LISTED)
        msg_add(&m, "\n  ... and %d more differences", m.ndiff - LISTED);
    if (m.ndiff == 0) {
        /* Same lines in another order: for [scan], another task order. */
        m.len = 0;
        msg_add(&m, "cannot resume '%s': it holds a different run: the same settings in "
                "another order (the order of the [scan] lines decides which task is which "
                "point); the file scans ", path);
        list_scan_keys(&m, h, nh);
        msg_add(&m, ", this config ");
        list_scan_keys(&m, w, nw);
        m.ndiff = 1;
    }
    SHOAL_ERROR(SHOAL_ECONFIG, "%s", m.text);
    free(h);
    free(w);
    return m.ndiff;
}

/* Rank 0: is spec->path a file we can resume? Reports why not. */
static int precheck(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return SHOAL_ERROR(SHOAL_ENOENT,
                           "nothing to resume: '%s' does not exist; run without "
                           "--resume to start",
                           path);
    if (!S_ISREG(sb.st_mode) || access(path, R_OK | W_OK) != 0)
        return SHOAL_ERROR(SHOAL_EIO, "cannot resume '%s': not a readable and writable file",
                           path);
    if (sb.st_size == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "cannot resume '%s': it is empty (0 bytes), not a result "
                           "file; leaving it as it is. Run without --resume and with "
                           "--force to replace it",
                           path);
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_hdf5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_hdf5 = H5Fis_hdf5(path);
#endif
    if (is_hdf5 <= 0)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "cannot resume '%s': it is not an HDF5 file, or it is "
                           "truncated or damaged (%lld bytes); leaving it as it is",
                           path, (long long)sb.st_size);
    return 0;
}

int shoal_store_open(MPI_Comm comm, const shoal_store_spec *spec, shoal_store **out)
{
    *out = NULL;
    shoal__h5_quiet();
    shoal_store *s = shoal__store_alloc(comm, spec);
    int mine = s ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the store");
    if (s && s->rank == 0)
        mine = precheck(spec->path);
    int rc = shoal__agree(comm, mine);
    if (rc == 0)
        rc = shoal__store_open_file(s, spec->path, 0);
    if (rc < 0)
        goto fail;

    /* Nothing is written before the file is known to be this run's. */
    char *fp = shoal__attr_read_str(s->file, "fingerprint");
    mine = 0;
    if (s->rank == 0) {
        if (!fp)
            mine = SHOAL_ERROR(SHOAL_ECONFIG,
                               "cannot resume '%s': it has no fingerprint (not made "
                               "by this version of Shoal)",
                               spec->path);
        else if (shoal__fingerprint_diff(spec->path, fp, spec->fingerprint) > 0)
            mine = SHOAL_ECONFIG;
    }
    free(fp);
    rc = shoal__agree(comm, mine);
    /* A stream's file has as many rows as items had arrived. */
    if (rc == 0 && spec->grow_rows > 0) {
        hid_t d = H5Dopen2(s->file, SHOAL__DIM_TASK, H5P_DEFAULT);
        hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
        hsize_t n = 0, max = 0;
        mine = sp >= 0 && H5Sget_simple_extent_dims(sp, &n, &max) == 1 && max == H5S_UNLIMITED
                   ? 0
                   : SHOAL_ECONFIG;
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
        if (mine < 0 && s->rank == 0)
            SHOAL_ERROR(SHOAL_ECONFIG, "cannot resume '%s': it has no extendible task "
                        "dimension (not a stream's file); leaving it as it is", spec->path);
        s->ntasks = n;
        rc = shoal__agree(comm, mine);
    }
    if (rc == 0)
        rc = shoal__store_bind(s, spec, SHOAL__BIND_OPEN);
    if (rc < 0)
        goto fail;

    /* Earlier failure entries: every rank reads them (so metadata caches
     * stay alike before the collective rebuild of the group); rank 0 writes
     * them back into the first slots. */
    shoal_store_failure *old = NULL;
    size_t nold = 0;
    if (!spec->drop_failures)
        rc = shoal__failures_read(s->file, spec->path, &old, &nold);
    rc = shoal__store_step(s, "read_failures", rc);
    uint64_t counts[2] = {nold, ~(uint64_t)nold}, range[2] = {0, 0};
    MPI_Allreduce(counts, range, 2, MPI_UINT64_T, MPI_MIN, comm);
    if (rc == 0 && range[0] != ~range[1])
        shoal__abort(comm, "ranks read different /failures from the same file");
    char *hosts_all = rc == 0 ? shoal__store_gather_hosts(s) : NULL;
    if (rc == 0)
        rc = shoal__store_step(s, "ranks", shoal__store_make_ranks(s, hosts_all));
    if (rc == 0) {
        s->fail_base = nold;
        rc = shoal__store_step(s, "failures",
                  shoal__failures_create(s->file,
                                         nold + (uint64_t)s->nranks * SHOAL_FAILURE_SLOTS));
    }
    if (rc == 0 && nold > 0)
        rc = shoal__store_step(s, "old_failures",
                  shoal__failures_write(s->file, s->dxpl, old, nold, 0, s->rank == 0));
    free(old);
    /* Attributes of this run (collective, identical on every rank). */
    if (rc == 0) {
        uint64_t resumed = 0;
        hid_t a = H5Aexists(s->file, "resumed") > 0 ? H5Aopen(s->file, "resumed", H5P_DEFAULT)
                                                    : -1;
        if (a >= 0) {
            H5Aread(a, H5T_NATIVE_UINT64, &resumed);
            H5Aclose(a);
        }
        char *started = s->started;
        if (s->rank == 0)
            shoal__iso_time(started, sizeof s->started);
        MPI_Bcast(started, sizeof s->started, MPI_CHAR, 0, comm);
        MPI_Bcast(&resumed, 1, MPI_UINT64_T, 0, comm);
        int bad = 0;
        bad |= shoal__attr_u64(s->file, "resumed", resumed + 1) < 0;
        bad |= shoal__attr_str(s->file, "resumed_at", started) < 0;
        bad |= shoal__attr_u64(s->file, "nranks", (uint64_t)s->nranks) < 0;
        bad |= shoal__attr_str(s->file, "state", "running") < 0;
        bad |= shoal__attr_str(s->file, "overrides", spec->overrides ? spec->overrides : "") < 0;
        bad |= shoal__attr_str(s->file, "config_env", spec->config_env ? spec->config_env : "") < 0;
        rc = shoal__store_step(s, "attributes", bad ? SHOAL_EHDF5 : 0);
    }
    if (rc == 0)
        rc = shoal__store_step(s, "segments", shoal__segments_begin(s, hosts_all));
    free(hosts_all);
    if (rc == 0)
        rc = shoal__store_step(s, "flush", H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0 ? SHOAL_EHDF5 : 0);
    if (rc < 0) {
        if (s->rank == 0)
            SHOAL_ERROR(rc, "cannot reopen '%s' for resuming; the rows in it are kept, "
                        "and --resume can be tried again once the cause is fixed",
                        spec->path);
        /* A row already added says this segment ended at once. */
        char now[32];
        shoal__iso_time(now, sizeof now);
        shoal__segments_end(s, now, "error", 0);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    shoal__store_free(s);
    return rc;
}
