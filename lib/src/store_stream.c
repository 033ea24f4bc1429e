/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_stream.c: a stream's file (stream.h) — per-task datasets that grow
 * as items arrive, and /stream, one row per item:
 *
 *   /stream/source    the item: a file's path, or a line (UTF-8 text of
 *                     SHOAL_STREAM_TEXT bytes)
 *   /stream/size      a file's size when it arrived (bytes; 0 for a line)
 *   /stream/mtime     its modification time (ns since 1970)
 *   /stream/arrived   when rank 0 took it in (s since 1970, UTC); 0: no item
 *   /stream/started   when its task started, and finished, on the rank
 *   /stream/finished  that ran it
 *   /stream/stored    when its row was in the file (after results and status)
 *   /stream/complete  a scalar: rows 0 .. complete-1 are all finished (done
 *                     or failed), so a reader that needs the items in their
 *                     order of arrival (the rows' order) reads up to it
 *
 * Rank 0 writes the first four as items arrive, before the task can go
 * out, so that a resumed run knows every item taken in; the rank that runs
 * a range writes its times after the range's rows. Growing is collective
 * (shoal_store_grow): the driver calls it between pool runs, when no rank
 * is writing. */
#include <shoal/error.h>

#include "h5util.h"
#include "store_impl.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

enum { S_SOURCE, S_SIZE, S_MTIME, S_ARRIVED, S_STARTED, S_FINISHED, S_STORED };

static const struct {
    const char *name, *unit, *doc;
} cols[SHOAL__STREAM_DSETS] = {
    [S_SOURCE] = {"source", NULL, "the item: its file's path, or its line"},
    [S_SIZE] = {"size", "bytes", "its file's size when it arrived (0 for a line)"},
    [S_MTIME] = {"mtime", "ns", "its file's modification time, ns since 1970 (UTC)"},
    [S_ARRIVED] = {"arrived", "s", "when the run took the item in, s since 1970 (UTC); "
                                   "0: no item"},
    [S_STARTED] = {"started", "s", "when its task started, s since 1970 (UTC)"},
    [S_FINISHED] = {"finished", "s", "when its task finished, s since 1970 (UTC)"},
    [S_STORED] = {"stored", "s", "when its row was in the file, s since 1970 (UTC)"},
};

int shoal__store_stream_bind(shoal_store *s, shoal__bind_mode mode, char *why, size_t nwhy)
{
    if (s->grow_rows == 0)
        return 0;
    int rc = 0;
    if (mode == SHOAL__BIND_CREATE) {
        hid_t g = H5Gcreate2(s->file, "stream", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) {
            snprintf(why, nwhy, "cannot create group /stream");
            rc = SHOAL_EHDF5;
        } else {
            H5Gclose(g);
        }
        rc = shoal__store_step(s, "stream", rc);
        static const uint64_t none = 0;
        hid_t d = rc == 0 ? shoal__store_make_dataset(s->file, "stream/complete", H5T_STD_U64LE,
                                                      0, NULL, &none)
                          : -1;
        int bad = rc == 0 && (d < 0 || shoal__attr_meta(d, NULL, "rows 0 .. complete-1 are "
                                                        "all finished: done or failed") < 0);
        if (d >= 0)
            H5Dclose(d);
        if (rc == 0 && bad)
            snprintf(why, nwhy, "cannot create /stream/complete");
        if (rc == 0)
            rc = shoal__store_step(s, "stream", bad ? SHOAL_EHDF5 : 0);
    }
    if (rc == 0) {
        s->stream_complete = H5Lexists(s->file, "stream/complete", H5P_DEFAULT) > 0
                                 ? H5Dopen2(s->file, "stream/complete", H5P_DEFAULT)
                                 : -1;
        /* A file from before it exists: nothing to update. */
        if (s->stream_complete < 0)
            s->stream_complete = 0;
    }
    static const double zero = 0;
    for (int c = 0; c < SHOAL__STREAM_DSETS && rc == 0; c++) {
        shoal__dset *d = &s->stream[c];
        d->ndims = 1;
        d->dims[0] = s->ntasks;
        hid_t ft;
        if (c == S_SOURCE) {
            shoal_store_column text = {"source", SHOAL_STRING, SHOAL_STREAM_TEXT, NULL, NULL};
            d->mtype = shoal__store_param_type(&text, &ft);
        } else {
            d->mtype = c == S_SIZE    ? H5T_NATIVE_UINT64
                       : c == S_MTIME ? H5T_NATIVE_INT64
                                      : H5T_NATIVE_DOUBLE;
            ft = c == S_SIZE ? H5T_STD_U64LE : c == S_MTIME ? H5T_STD_I64LE : H5T_IEEE_F64LE;
        }
        shoal__dset_meta meta = {SHOAL__DIM_TASK, NULL, cols[c].unit, cols[c].doc,
                                 c == S_SOURCE};
        rc = shoal__store_step(s, "stream",
                               shoal__store_bind_one(s, mode, "stream", cols[c].name, ft,
                                                     c == S_ARRIVED ? &zero : NULL, &meta, d,
                                                     why, nwhy));
    }
    return rc;
}

void shoal__store_stream_close(shoal_store *s)
{
    if (s->stream_complete > 0)
        H5Dclose(s->stream_complete);
    s->stream_complete = 0;
    for (int c = 0; c < SHOAL__STREAM_DSETS; c++) {
        shoal__dset_close(&s->stream[c]);
        if (c == S_SOURCE && s->stream[c].mtype > 0) {
            H5Tclose(s->stream[c].mtype); /* a copy, made by bind */
            s->stream[c].mtype = 0;
        }
    }
}

uint64_t shoal_store_ntasks(const shoal_store *s) { return s->ntasks; }

/* Collective: dataset d gets n rows. */
static int extend(shoal__dset *d, uint64_t n)
{
    if (d->dset <= 0)
        return 0;
    d->dims[0] = n;
    if (H5Dset_extent(d->dset, d->dims) < 0)
        return SHOAL_EHDF5;
    if (d->space > 0)
        H5Sclose(d->space);
    d->space = H5Dget_space(d->dset);
    return d->space < 0 ? SHOAL_EHDF5 : 0;
}

/* A growth writes the new chunks' fill values through chunk-sized buffers
 * (up to 1 MiB each) that HDF5 keeps on its free lists and that glibc then
 * serves from the heap, where small allocations made meanwhile pin them:
 * rank 0's RSS rose by about 3 MiB at a stream's second growth and stayed
 * there. Growths are few (the capacity grows by half each time), so each
 * hands that memory back: HDF5's free lists to malloc, malloc's free pages
 * to the system. */
static void release_memory(void)
{
    H5garbage_collect();
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

int shoal_store_grow(shoal_store *s, uint64_t ntasks)
{
    if (s->grow_rows == 0)
        return SHOAL_ERROR(SHOAL_EINTERNAL, "store: only a stream's file grows");
    /* Every step is collective: each is agreed before the next, so that no
     * rank goes on to the next one alone; and every rank starts from the
     * same metadata cache (shoal__store_reopen). */
    int rc = shoal__store_reopen(s);
    for (size_t i = 0; i < s->nfields && rc == 0; i++)
        rc = shoal__store_step(s, "grow", extend(&s->field[i], ntasks));
    for (int c = 0; c < NCOLS && rc == 0; c++)
        rc = shoal__store_step(s, "grow", extend(&s->col[c], ntasks));
    for (size_t i = 0; i < s->nparams && rc == 0; i++)
        rc = shoal__store_step(s, "grow", extend(&s->param[i], ntasks));
    if (s->with_points && rc == 0)
        rc = shoal__store_step(s, "grow", extend(&s->point, ntasks));
    if (s->with_points && rc == 0)
        rc = shoal__store_step(s, "grow", extend(&s->replicate, ntasks));
    for (int c = 0; c < SHOAL__STREAM_DSETS && rc == 0; c++)
        rc = shoal__store_step(s, "grow", extend(&s->stream[c], ntasks));
    if (rc == 0)
        rc = shoal__store_step(s, "grow", shoal__dim_extend(s->file, SHOAL__DIM_TASK, ntasks));
    if (rc == 0)
        rc = shoal__store_step(s, "grow",
                               shoal__attr_u64(s->file, "ntasks", ntasks) < 0 ? SHOAL_EHDF5 : 0);
    if (rc == 0)
        rc = shoal__store_step(s, "grow_flush",
                               H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0 ? SHOAL_EHDF5 : 0);
    if (rc == 0) {
        s->ntasks = ntasks;
        release_memory();
    } else if (s->rank == 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        SHOAL_ERROR(rc, "cannot resize '%s' to %llu rows: %s", s->path,
                    (unsigned long long)ntasks, msg[0] ? msg : "HDF5 error on some rank");
    }
    return rc;
}

int shoal_store_stream_arrive(shoal_store *s, uint64_t start, uint64_t n, const char *texts,
                              const uint64_t *size, const int64_t *mtime,
                              const double *arrived)
{
    if (n == 0)
        return 0;
    if (start > s->ntasks || n > s->ntasks - start)
        return SHOAL_ERROR(SHOAL_EINTERNAL, "store: items %llu..%llu beyond the file's %llu rows",
                           (unsigned long long)start, (unsigned long long)(start + n - 1),
                           (unsigned long long)s->ntasks);
    char *buf = calloc((size_t)n, SHOAL_STREAM_TEXT);
    if (!buf)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for %llu items",
                           (unsigned long long)n);
    const char *t = texts;
    for (uint64_t i = 0; i < n; i++) {
        size_t len = strlen(t);
        memcpy(buf + i * SHOAL_STREAM_TEXT, t,
               len < SHOAL_STREAM_TEXT - 1 ? len : SHOAL_STREAM_TEXT - 1);
        t += len + 1;
    }
    int rc = shoal__store_write_block(&s->stream[S_SOURCE], start, n, s->dxpl, buf);
    if (rc == 0)
        rc = shoal__store_write_block(&s->stream[S_SIZE], start, n, s->dxpl, size);
    if (rc == 0)
        rc = shoal__store_write_block(&s->stream[S_MTIME], start, n, s->dxpl, mtime);
    /* The arrival time last: a row with one has the rest. */
    if (rc == 0)
        rc = shoal__store_write_block(&s->stream[S_ARRIVED], start, n, s->dxpl, arrived);
    free(buf);
    if (rc < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        SHOAL_ERROR(rc, "cannot record items %llu..%llu in '%s': %s", (unsigned long long)start,
                    (unsigned long long)(start + n - 1), s->path, msg[0] ? msg : "HDF5 error");
    }
    return rc;
}

int shoal_store_stream_times(shoal_store *s, uint64_t start, uint64_t n,
                             const double *started, const double *finished, double stored)
{
    if (n == 0 || s->stream[S_STARTED].dset <= 0)
        return 0;
    double *st = malloc((size_t)n * sizeof *st);
    if (!st)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for %llu times", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++)
        st[i] = stored;
    int rc = shoal__store_write_block(&s->stream[S_STARTED], start, n, s->dxpl, started);
    if (rc == 0)
        rc = shoal__store_write_block(&s->stream[S_FINISHED], start, n, s->dxpl, finished);
    if (rc == 0)
        rc = shoal__store_write_block(&s->stream[S_STORED], start, n, s->dxpl, st);
    free(st);
    if (rc < 0)
        SHOAL_ERROR(rc, "cannot write the times of tasks %llu..%llu in '%s'",
                    (unsigned long long)start, (unsigned long long)(start + n - 1), s->path);
    return rc;
}

int shoal_store_stream_complete(shoal_store *s, uint64_t complete)
{
    if (s->stream_complete <= 0)
        return 0;
    if (H5Dwrite(s->stream_complete, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, s->dxpl, &complete) <
        0)
        return SHOAL_ERROR(SHOAL_EHDF5, "cannot write /stream/complete in '%s'", s->path);
    return 0;
}

enum { BLOCK = 4096 };

int shoal_store_stream_recorded(shoal_store *s, uint64_t *count,
                                void (*fn)(void *ctx, uint64_t index, const char *text),
                                void *ctx)
{
    *count = 0;
    double *arr = malloc(BLOCK * sizeof *arr);
    char *text = malloc((size_t)BLOCK * SHOAL_STREAM_TEXT);
    int rc = arr && text ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading /stream");
    uint64_t n = 0;
    int more = 1;
    for (uint64_t at = 0; rc == 0 && more && at < s->ntasks; at += BLOCK) {
        uint64_t k = s->ntasks - at < BLOCK ? s->ntasks - at : BLOCK;
        rc = shoal__store_read_block(&s->stream[S_ARRIVED], at, 1, k, s->dxpl, arr);
        uint64_t j = 0;
        while (rc == 0 && j < k && arr[j] > 0)
            j++;
        more = j == k;
        if (rc == 0 && fn && j > 0)
            rc = shoal__store_read_block(&s->stream[S_SOURCE], at, 1, j, s->dxpl, text);
        for (uint64_t i = 0; rc == 0 && fn && i < j; i++) {
            char *t = text + i * SHOAL_STREAM_TEXT;
            t[SHOAL_STREAM_TEXT - 1] = '\0';
            fn(ctx, at + i, t);
        }
        n += j;
    }
    free(arr);
    free(text);
    if (rc < 0)
        return SHOAL_ERROR(rc, "cannot read /stream of '%s'", s->path);
    *count = n;
    return 0;
}
