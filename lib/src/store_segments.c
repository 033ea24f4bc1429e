/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_segments.c: /segments, the run's history — one row per segment (a
 * launch that worked on the file: the first run and each resume), in order,
 * as 1-D chunked datasets of unlimited size that readers take as columns.
 *
 * Life of a row, all of it safe against a kill at any moment:
 *   bind    (collective) a new file gets the datasets with no rows; a file
 *           being resumed has them checked (present, 1-D, extendible, the
 *           types below) before anything is written; a file from before
 *           /segments is accepted, its root attributes kept for a row that
 *           stands for its earlier runs
 *   begin   (collective) H5Dset_extent adds this segment's row (and, for an
 *           old file, the earlier runs' row first, with the file's counts
 *           as their totals); rank 0 writes its start: started, state
 *           "running", nranks, hosts, nhosts, slurm_job
 *   start   (rank 0, independent) after the resume plan: the *_at_start
 *           counts
 *   end     (rank 0, independent, in shoal_store_close) finished, state,
 *           tasks_done, tasks_failed, wall_seconds
 * Between these the file's metadata does not change: rows are raw data in
 * chunks allocated (and zero-filled) by the collective extent, written
 * without the chunk cache. A killed segment's row keeps state "running" and
 * an empty `finished`. The column table is the one place that names them.
 * The columns share the extendible dimension /segment (store_dims.c),
 * grown with them by begin. */
#include <shoal/error.h>
#include <shoal/results.h>

#include "h5util.h"
#include "mpiutil.h"
#include "store_impl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { SEG_STR, SEG_I32, SEG_U64, SEG_F64 } seg_kind;

/* Which columns a write covers. */
enum { AT_BEGIN = 1, AT_START = 2, AT_END = 4 };

static const struct {
    const char *name;
    seg_kind kind;
    size_t len;    /* SEG_STR: fixed length in bytes */
    size_t offset; /* in shoal__segment */
    int when;      /* AT_*: the write that fills it */
    const char *doc;
    const char *unit;
} cols[SHOAL__SEG_NCOLS] = {
#define COL(n, k, l, w, d) {#n, k, l, offsetof(shoal__segment, n), w, d, NULL}
    COL(started, SEG_STR, 32, AT_BEGIN, "when the segment began (ISO 8601, UTC)"),
    COL(finished, SEG_STR, 32, AT_END, "when it closed the file; empty if it never did"),
    COL(state, SEG_STR, 16, AT_BEGIN | AT_END,
        "running (until closed), complete, interrupted, incomplete or error"),
    COL(nranks, SEG_I32, 0, AT_BEGIN, "MPI ranks"),
    COL(hosts, SEG_STR, 1024, AT_BEGIN, "unique host names, comma-separated"),
    COL(nhosts, SEG_I32, 0, AT_BEGIN, "unique hosts"),
    COL(slurm_job, SEG_STR, 32, AT_BEGIN, "SLURM job id (_array task id); empty outside SLURM"),
    COL(done_at_start, SEG_U64, 0, AT_START, "tasks done when the segment began"),
    COL(failed_at_start, SEG_U64, 0, AT_START, "tasks failed when the segment began"),
    {"work_at_start", SEG_F64, 0, offsetof(shoal__segment, work_at_start), AT_START,
     "sum of /tasks/seconds of the tasks done or failed when it began", "s"},
    COL(tasks_done, SEG_U64, 0, AT_END, "tasks the segment finished as done"),
    COL(tasks_failed, SEG_U64, 0, AT_END, "tasks the segment finished as failed"),
    {"wall_seconds", SEG_F64, 0, offsetof(shoal__segment, wall_seconds), AT_END,
     "the segment's run time", "s"},
#undef COL
};

enum { CHUNK_ROWS = 8 };

/* Zero bytes: the fill value of every column (the longest is hosts). */
static const unsigned char zeros[sizeof ((shoal__segment *)0)->hosts];

/* The column's file type (a copy for strings: close it with H5Tclose). */
static hid_t col_type(int c)
{
    switch (cols[c].kind) {
    case SEG_STR: {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, cols[c].len);
        H5Tset_strpad(t, H5T_STR_NULLPAD);
        return t;
    }
    case SEG_I32:
        return H5T_STD_I32LE;
    case SEG_U64:
        return H5T_STD_U64LE;
    default:
        return H5T_IEEE_F64LE;
    }
}

static hid_t col_mem_type(int c)
{
    switch (cols[c].kind) {
    case SEG_STR:
        return col_type(c);
    case SEG_I32:
        return H5T_NATIVE_INT32;
    case SEG_U64:
        return H5T_NATIVE_UINT64;
    default:
        return H5T_NATIVE_DOUBLE;
    }
}

void shoal__segments_close(shoal_store *s)
{
    for (int c = 0; c < SHOAL__SEG_NCOLS; c++) {
        shoal__dset *d = &s->seg[c];
        shoal__dset_close(d);
        if (d->mtype > 0 && cols[c].kind == SEG_STR)
            H5Tclose(d->mtype);
        d->mtype = 0;
    }
}

/* Collective: the group and its datasets, no rows yet. */
static int create_all(shoal_store *s, char *why, size_t nwhy)
{
    hid_t g = H5Gcreate2(s->file, "segments", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        snprintf(why, nwhy, "cannot create group /segments");
        return SHOAL_EHDF5;
    }
    /* A dimension left without its columns (they were removed) goes. */
    int rc = shoal__dim_delete(s->file, SHOAL__DIM_SEGMENT);
    if (rc == 0)
        rc = shoal__dim_create(s->file, SHOAL__DIM_SEGMENT, 0, 1);
    if (rc < 0)
        snprintf(why, nwhy, "cannot create the dimension /%s", SHOAL__DIM_SEGMENT);
    hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = CHUNK_ROWS;
    hid_t sp = H5Screate_simple(1, &zero, &unlimited);
    for (int c = 0; c < SHOAL__SEG_NCOLS && rc == 0; c++) {
        hid_t ft = col_type(c);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, 1, &chunk);
        /* Chunks exist (zero-filled) once an extent includes them, so rank
         * 0's writes of a row's values change no metadata. */
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
        H5Pset_fill_value(dcpl, ft, zeros);
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
        hid_t d = H5Dcreate2(g, cols[c].name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (d < 0 || shoal__attr_meta(d, cols[c].unit, cols[c].doc) < 0 ||
            shoal__dim_attach(s->file, d, SHOAL__DIM_SEGMENT, NULL, 1) < 0) {
            snprintf(why, nwhy, "cannot create /segments/%s", cols[c].name);
            rc = SHOAL_EHDF5;
        }
        if (d >= 0)
            H5Dclose(d);
        H5Pclose(dcpl);
        if (cols[c].kind == SEG_STR)
            H5Tclose(ft);
    }
    H5Sclose(sp);
    H5Gclose(g);
    return rc;
}

/* Collective: open every column into s->seg, checking what resuming needs;
 * *rows gets the longest column's length (a kill between two extents may
 * leave them unequal: the next begin evens them out). */
static int open_all(shoal_store *s, uint64_t *rows, char *why, size_t nwhy)
{
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    /* No chunk cache: a row is on disk when its write returns. */
    H5Pset_chunk_cache(dapl, 0, 0, 1.0);
    int rc = 0;
    *rows = 0;
    for (int c = 0; c < SHOAL__SEG_NCOLS && rc == 0; c++) {
        shoal__dset *d = &s->seg[c];
        char path[64];
        snprintf(path, sizeof path, "segments/%s", cols[c].name);
        d->dset = H5Lexists(s->file, path, H5P_DEFAULT) > 0
                      ? H5Dopen2(s->file, path, dapl)
                      : -1;
        if (d->dset < 0) {
            snprintf(why, nwhy, "dataset /%s is missing", path);
            rc = SHOAL_ECONFIG;
            break;
        }
        d->mtype = col_mem_type(c);
        d->ndims = 1;
        hid_t sp = H5Dget_space(d->dset), t = H5Dget_type(d->dset), ft = col_type(c);
        hsize_t n = 0, max = 0;
        int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
                 H5Sget_simple_extent_dims(sp, &n, &max) == 1 && max == H5S_UNLIMITED &&
                 t >= 0 && H5Tequal(t, ft) > 0;
        if (!ok) {
            snprintf(why, nwhy,
                     "dataset /%s is not a growing 1-D column of %s (its type or "
                     "shape was changed)",
                     path, cols[c].kind == SEG_STR ? "fixed-length strings"
                           : cols[c].kind == SEG_I32 ? "32-bit integers"
                           : cols[c].kind == SEG_U64 ? "64-bit unsigned integers"
                                                     : "64-bit floats");
            rc = SHOAL_ECONFIG;
        }
        if (n > *rows)
            *rows = n;
        if (cols[c].kind == SEG_STR)
            H5Tclose(ft);
        if (t >= 0)
            H5Tclose(t);
        if (sp >= 0)
            H5Sclose(sp);
    }
    H5Pclose(dapl);
    return rc;
}

/* Copy text into a fixed-length field of n bytes (NUL-padded). */
static void put(char *dst, size_t n, const char *text)
{
    memset(dst, 0, n);
    if (text)
        memcpy(dst, text, strnlen(text, n));
}

/* A file from before /segments: its root attributes as a row for its
 * earlier run(s) (every rank reads them; rank 0 writes the row). Its totals
 * are filled in by begin. */
static void legacy_row(shoal_store *s)
{
    shoal__segment *r = &s->seg_old;
    memset(r, 0, sizeof *r);
    static const struct {
        const char *attr;
        size_t off, len;
    } text[] = {
        {"started", offsetof(shoal__segment, started), sizeof r->started},
        {"finished", offsetof(shoal__segment, finished), sizeof r->finished},
        {"state", offsetof(shoal__segment, state), sizeof r->state},
        {"hosts", offsetof(shoal__segment, hosts), sizeof r->hosts},
    };
    for (size_t k = 0; k < sizeof text / sizeof text[0]; k++) {
        char *v = shoal__attr_read_str(s->file, text[k].attr);
        put((char *)r + text[k].off, text[k].len, v);
        free(v);
    }
    if (!r->state[0])
        put(r->state, sizeof r->state, "running");
    if (r->hosts[0])
        r->nhosts = 1;
    for (const char *p = r->hosts; *p; p++)
        r->nhosts += *p == ',';
    uint64_t nranks = 0;
    double wall = 0;
    if (H5Aexists(s->file, "nranks") > 0) {
        hid_t a = H5Aopen(s->file, "nranks", H5P_DEFAULT);
        if (a >= 0 && H5Aread(a, H5T_NATIVE_UINT64, &nranks) >= 0)
            r->nranks = (int32_t)nranks;
        if (a >= 0)
            H5Aclose(a);
    }
    if (H5Aexists(s->file, "wall_seconds") > 0) {
        hid_t a = H5Aopen(s->file, "wall_seconds", H5P_DEFAULT);
        if (a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &wall) >= 0)
            r->wall_seconds = wall;
        if (a >= 0)
            H5Aclose(a);
    }
}

int shoal__segments_bind(shoal_store *s, shoal__bind_mode mode, char *why, size_t nwhy)
{
    int rc = 0;
    s->seg_rows = 0;
    s->seg_missing = 0;
    if (mode == SHOAL__BIND_CREATE) {
        rc = shoal__store_step(s, "bind", create_all(s, why, nwhy));
    } else if (H5Lexists(s->file, "segments", H5P_DEFAULT) <= 0) {
        /* Made before /segments: begin creates it. */
        s->seg_missing = 1;
        /* Every rank reads the attributes, though rank 0 alone writes the
         * row: reading variable-length strings loads the file's global
         * heap, and parallel HDF5 places the collective attribute writes
         * that follow (units, _Encoding, DIMENSION_LIST...) in the heap
         * collections a rank has loaded. Ranks that loaded different ones
         * would write to different places and hang. */
        legacy_row(s);
        return 0;
    }
    if (rc == 0)
        rc = shoal__store_step(s, mode == SHOAL__BIND_CREATE ? "bind" : "rebind",
                               open_all(s, &s->seg_rows, why, nwhy));
    return rc;
}

/* Rank 0: write the columns of row that `when` covers from v. */
static int write_row(shoal_store *s, uint64_t row, const shoal__segment *v, int when)
{
    int rc = 0;
    hsize_t off = row, one = 1;
    hid_t ms = H5Screate_simple(1, &one, NULL);
    for (int c = 0; c < SHOAL__SEG_NCOLS && rc == 0; c++) {
        if (!(cols[c].when & when))
            continue;
        const shoal__dset *d = &s->seg[c];
        hid_t fs = H5Dget_space(d->dset);
        if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &one, NULL) < 0 ||
            H5Dwrite(d->dset, d->mtype, ms, fs, s->dxpl, (const char *)v + cols[c].offset) < 0)
            rc = SHOAL_ERROR(SHOAL_EHDF5, "writing row %llu of /segments/%s in '%s' failed",
                             (unsigned long long)row, cols[c].name, s->path);
        if (fs >= 0)
            H5Sclose(fs);
    }
    H5Sclose(ms);
    return rc;
}

void shoal__segment_hosts(char *dst, size_t n, const char *hosts)
{
    size_t len = strlen(hosts);
    memset(dst, 0, n);
    if (len < n || n < 5) {
        memcpy(dst, hosts, len < n ? len : n);
        return;
    }
    /* Whole names only, then ",..." and the terminating zero. */
    size_t keep = n - 5;
    while (keep > 0 && hosts[keep] != ',')
        keep--;
    memcpy(dst, hosts, keep);
    memcpy(dst + keep, keep ? ",..." : "...", keep ? 4 : 3);
}

/* This segment's SLURM job: SLURM_JOB_ID, with _SLURM_ARRAY_TASK_ID in an
 * array; "" outside SLURM. */
static void slurm_job(char *buf, size_t n)
{
    const char *job = getenv("SLURM_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
    if (!job || !job[0])
        snprintf(buf, n, "%s", "");
    else if (task && task[0])
        snprintf(buf, n, "%.15s_%.15s", job, task);
    else
        snprintf(buf, n, "%.31s", job);
}

int shoal__segments_begin(shoal_store *s, const char *hosts_all)
{
    char why[200] = "";
    int rc = 0;
    if (s->seg_missing) {
        rc = create_all(s, why, sizeof why);
        rc = shoal__agree(s->comm, rc);
        if (rc == 0)
            rc = shoal__agree(s->comm, open_all(s, &s->seg_rows, why, sizeof why));
    }
    /* The earlier runs' row of an old file, then this segment's. */
    uint64_t rows = s->seg_rows + (uint64_t)s->seg_missing + 1;
    for (int c = 0; c < SHOAL__SEG_NCOLS && rc == 0; c++) {
        hsize_t n = rows;
        if (H5Dset_extent(s->seg[c].dset, &n) < 0) {
            snprintf(why, sizeof why, "cannot add a row to /segments/%s", cols[c].name);
            rc = SHOAL_EHDF5;
        }
    }
    /* Its dimension grows with it (a file from before the dimensions has
     * none); a kill between the two leaves a longer column, which netCDF
     * readers take as an unlimited dimension's length. */
    if (rc == 0 && shoal__dim_extend(s->file, SHOAL__DIM_SEGMENT, rows) < 0) {
        snprintf(why, sizeof why, "cannot grow the dimension /%s", SHOAL__DIM_SEGMENT);
        rc = SHOAL_EHDF5;
    }
    rc = shoal__agree(s->comm, rc);
    if (rc == 0) {
        s->seg_row = rows - 1;
        s->seg_added = 1;
    }
    if (rc == 0 && s->rank == 0) {
        shoal__segment *me = &s->seg_me;
        memset(me, 0, sizeof *me);
        put(me->started, sizeof me->started, s->started);
        put(me->state, sizeof me->state, "running");
        me->nranks = s->nranks;
        int nhosts = 0;
        char *uniq = shoal__store_unique_hosts(s, hosts_all, &nhosts);
        if (!uniq)
            rc = SHOAL_ENOMEM;
        else
            shoal__segment_hosts(me->hosts, sizeof me->hosts, uniq);
        free(uniq);
        me->nhosts = nhosts;
        slurm_job(me->slurm_job, sizeof me->slurm_job);
        if (rc == 0 && s->seg_missing) {
            /* What an old file holds was done by its earlier runs. */
            uint64_t(*none)[2] = NULL, counts[4];
            size_t nnone = 0;
            rc = shoal_store_scan_status(s, 0, &none, &nnone, counts);
            free(none);
            s->seg_old.tasks_done = counts[SHOAL_STATUS_DONE];
            s->seg_old.tasks_failed = counts[SHOAL_STATUS_FAILED];
        }
        if (rc == 0 && s->seg_missing)
            rc = write_row(s, s->seg_row - 1, &s->seg_old, AT_BEGIN | AT_START | AT_END);
        if (rc == 0)
            rc = write_row(s, s->seg_row, me, AT_BEGIN | AT_START | AT_END);
    }
    if (rc < 0 && s->rank == 0 && why[0])
        SHOAL_ERROR(rc, "cannot record this run in /segments of '%s': %s", s->path, why);
    return rc;
}

int shoal_store_segment_start(shoal_store *s, const uint64_t counts[4], double work)
{
    if (!s->seg_added)
        return 0;
    shoal__segment *me = &s->seg_me;
    me->done_at_start = counts[SHOAL_STATUS_DONE];
    me->failed_at_start = counts[SHOAL_STATUS_FAILED];
    me->work_at_start = work;
    return write_row(s, s->seg_row, me, AT_START);
}

void shoal_store_segment_ran(shoal_store *s, uint64_t done, uint64_t failed)
{
    s->seg_me.tasks_done = done;
    s->seg_me.tasks_failed = failed;
}

int shoal__segments_end(shoal_store *s, const char *finished, const char *state,
                        double wall_seconds)
{
    if (!s->seg_added || s->rank != 0)
        return 0;
    shoal__segment *me = &s->seg_me;
    put(me->finished, sizeof me->finished, finished);
    put(me->state, sizeof me->state, state);
    me->wall_seconds = wall_seconds;
    return write_row(s, s->seg_row, me, AT_END);
}
