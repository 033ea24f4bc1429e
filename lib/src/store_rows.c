/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_rows.c: the rows of a run, written independently by each rank into
 * datasets that already exist (store.c), and the status column that says
 * which rows are complete.
 *
 * Order is the promise: a range's results, parameters and point columns are
 * written before its status, so a row marked done is complete whenever the
 * run is killed. */
#include <shoal/error.h>

#include "failures.h"
#include "h5util.h"
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

int shoal__store_write_block(const shoal__dset *d, uint64_t start, uint64_t count,
                             hid_t dxpl, const void *buf)
{
    hsize_t off[SHOAL_MAX_DIMS + 1] = {0}, cnt[SHOAL_MAX_DIMS + 1];
    off[0] = start;
    cnt[0] = count;
    for (int k = 1; k < d->ndims; k++)
        cnt[k] = d->dims[k];
    if (H5Sselect_hyperslab(d->space, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0)
        return SHOAL_EHDF5;
    hid_t mspace = H5Screate_simple(d->ndims, cnt, NULL);
    herr_t e = H5Dwrite(d->dset, d->mtype, mspace, d->space, dxpl, buf);
    H5Sclose(mspace);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

int shoal__store_read_block(const shoal__dset *d, uint64_t start, uint64_t stride,
                            uint64_t count, hid_t dxpl, void *buf)
{
    if (count == 0)
        return 0;
    hsize_t off[SHOAL_MAX_DIMS + 1] = {0}, cnt[SHOAL_MAX_DIMS + 1], str[SHOAL_MAX_DIMS + 1],
            blk[SHOAL_MAX_DIMS + 1];
    off[0] = start;
    cnt[0] = count;
    str[0] = stride > 1 ? stride : 1;
    blk[0] = 1;
    for (int k = 1; k < d->ndims; k++) {
        cnt[k] = 1;
        str[k] = 1;
        blk[k] = d->dims[k];
    }
    if (H5Sselect_hyperslab(d->space, H5S_SELECT_SET, off, str, cnt, blk) < 0)
        return SHOAL_EHDF5;
    hsize_t mdims[SHOAL_MAX_DIMS + 1];
    mdims[0] = count;
    for (int k = 1; k < d->ndims; k++)
        mdims[k] = d->dims[k];
    hid_t mspace = H5Screate_simple(d->ndims, mdims, NULL);
    herr_t e = H5Dread(d->dset, d->mtype, mspace, d->space, dxpl, buf);
    H5Sclose(mspace);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

int shoal_store_write_rows(shoal_store *s, uint64_t start, uint64_t count,
                           const shoal_store_rows *rows)
{
    if (count == 0)
        return 0;
    if (start > s->ntasks || count > s->ntasks - start)
        return SHOAL_ERROR(SHOAL_EINVAL,
                           "rows %llu..%llu outside 0..%llu",
                           (unsigned long long)start,
                           (unsigned long long)(start + count),
                           (unsigned long long)s->ntasks);
    int rc = 0;
    /* Results first: a row's status says done only once its data is there. */
    for (size_t i = 0; i < s->nfields && rc == 0; i++)
        rc = shoal__store_write_block(&s->field[i], start, count, s->dxpl,
                                      rows->fields[i]);
    for (size_t i = 0; i < s->nparams && rc == 0; i++)
        rc = shoal__store_write_block(&s->param[i], start, count, s->dxpl,
                                      rows->params[i]);
    if (s->with_points && rc == 0)
        rc = shoal__store_write_block(&s->point, start, count, s->dxpl, rows->point);
    if (s->with_points && rc == 0)
        rc = shoal__store_write_block(&s->replicate, start, count, s->dxpl,
                                      rows->replicate);
    const void *cols[NCOLS] = {rows->status, rows->rank, rows->seconds,
                               rows->error, rows->attempts};
    static const int order[NCOLS] = {COL_RANK, COL_SECONDS, COL_ERROR,
                                     COL_ATTEMPTS, COL_STATUS};
    for (int k = 0; k < NCOLS && rc == 0; k++) {
        int c = order[k];
        rc = shoal__store_write_block(&s->col[c], start, count, s->dxpl, cols[c]);
    }
    if (rc < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        /* HDF5's MPI-IO layer loses errno; the usual cause is a full disk,
         * which statvfs can tell. */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        struct statvfs fs;
        if (statvfs(dir, &fs) == 0 &&
            (unsigned long long)fs.f_bavail * fs.f_frsize < (64ull << 20))
            return SHOAL_ERROR(SHOAL_EIO,
                               "writing rows %llu..%llu of '%s' failed: the disk "
                               "is full (%llu KiB free in '%s'); free space, then "
                               "--resume finishes the run",
                               (unsigned long long)start,
                               (unsigned long long)(start + count - 1), s->path,
                               (unsigned long long)fs.f_bavail * fs.f_frsize >> 10,
                               dir);
        return SHOAL_ERROR(SHOAL_EIO,
                           "writing rows %llu..%llu of '%s' failed: %s",
                           (unsigned long long)start,
                           (unsigned long long)(start + count - 1), s->path,
                           msg[0] ? msg : "HDF5 error");
    }
    return 0;
}

int shoal_store_each_finished(shoal_store *s,
                              void (*fn)(void *ctx, uint64_t task, double seconds),
                              void *ctx)
{
    enum { BLOCK = 1 << 18 };
    uint8_t *st = malloc(BLOCK);
    float *sec = malloc(BLOCK * sizeof *sec);
    int rc = st && sec ? 0 : SHOAL_ENOMEM;
    for (uint64_t start = 0; start < s->ntasks && rc == 0; start += BLOCK) {
        uint64_t count = s->ntasks - start < BLOCK ? s->ntasks - start : BLOCK;
        if (shoal__store_read_block(&s->col[COL_STATUS], start, 1, count, s->dxpl, st) < 0 ||
            shoal__store_read_block(&s->col[COL_SECONDS], start, 1, count, s->dxpl, sec) < 0) {
            rc = SHOAL_ERROR(SHOAL_EHDF5, "reading /tasks of '%s' failed", s->path);
            break;
        }
        for (uint64_t k = 0; k < count; k++)
            if (st[k] == SHOAL_STATUS_DONE || st[k] == SHOAL_STATUS_FAILED)
                fn(ctx, start + k, sec[k]);
    }
    free(st);
    free(sec);
    return rc;
}

int shoal_store_scan_status(shoal_store *s, unsigned want, uint64_t (**ranges)[2],
                            size_t *nranges, uint64_t counts[4])
{
    return shoal_store_scan_work(s, want, ranges, nranges, counts, NULL);
}

/* The seconds of the done and failed tasks among count rows from start. */
static int add_work(shoal_store *s, uint64_t start, uint64_t count, const uint8_t *st,
                    float *sec, double *work)
{
    if (shoal__store_read_block(&s->col[COL_SECONDS], start, 1, count, s->dxpl, sec) < 0)
        return SHOAL_ERROR(SHOAL_EHDF5, "reading /tasks/seconds of '%s' failed", s->path);
    double sum = 0;
    for (uint64_t k = 0; k < count; k++)
        if (st[k] == SHOAL_STATUS_DONE || st[k] == SHOAL_STATUS_FAILED)
            sum += sec[k];
    *work += sum;
    return 0;
}

int shoal_store_scan_work(shoal_store *s, unsigned want, uint64_t (**ranges)[2],
                          size_t *nranges, uint64_t counts[4], double *work)
{
    enum { BLOCK = 1 << 20 };
    *ranges = NULL;
    *nranges = 0;
    for (int k = 0; k < 4; k++)
        counts[k] = 0;
    if (work)
        *work = 0;
    uint8_t *st = malloc(BLOCK);
    float *sec = work ? malloc(BLOCK * sizeof *sec) : NULL;
    if (!st || (work && !sec)) {
        free(st);
        free(sec);
        return SHOAL_ENOMEM;
    }
    size_t cap = 0, n = 0;
    uint64_t (*list)[2] = NULL;
    int rc = 0;
    for (uint64_t start = 0; start < s->ntasks && rc == 0; start += BLOCK) {
        uint64_t count = s->ntasks - start < BLOCK ? s->ntasks - start : BLOCK;
        hsize_t off = start, cnt = count;
        H5Sselect_hyperslab(s->col[COL_STATUS].space, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        if (H5Dread(s->col[COL_STATUS].dset, H5T_NATIVE_UINT8, ms, s->col[COL_STATUS].space,
                    s->dxpl, st) < 0)
            rc = SHOAL_ERROR(SHOAL_EHDF5, "reading /tasks/status of '%s' failed", s->path);
        H5Sclose(ms);
        if (work && rc == 0)
            rc = add_work(s, start, count, st, sec, work);
        if (want == 0 && rc == 0) {
            /* Totals only (the end of every run): a branch-free count. */
            uint64_t c[4] = {0, 0, 0, 0};
            for (uint64_t k = 0; k < count; k++)
                c[st[k] < 4 ? st[k] : SHOAL_STATUS_PENDING]++;
            for (int v = 0; v < 4; v++)
                counts[v] += c[v];
            continue;
        }
        for (uint64_t k = 0; k < count && rc == 0; k++) {
            uint8_t v = st[k] < 4 ? st[k] : SHOAL_STATUS_PENDING;
            counts[v]++;
            if (!(want & (1u << v)))
                continue;
            uint64_t idx = start + k;
            if (n > 0 && list[n - 1][0] + list[n - 1][1] == idx) {
                list[n - 1][1]++;
                continue;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                void *p = realloc(list, ncap * sizeof *list);
                if (!p) {
                    rc = SHOAL_ENOMEM;
                    break;
                }
                list = p;
                cap = ncap;
            }
            list[n][0] = idx;
            list[n][1] = 1;
            n++;
        }
    }
    free(st);
    free(sec);
    if (rc < 0) {
        free(list);
        return rc;
    }
    *ranges = list;
    *nranges = n;
    return 0;
}

int shoal_store_mark(shoal_store *s, uint64_t start, uint64_t count, uint8_t status)
{
    if (count == 0)
        return 0;
    enum { CHUNK = 65536 };
    static uint8_t buf[CHUNK];
    memset(buf, status, sizeof buf);
    for (uint64_t off = 0; off < count; off += CHUNK) {
        uint64_t n = count - off < CHUNK ? count - off : CHUNK;
        if (shoal__store_write_block(&s->col[COL_STATUS], start + off, n, s->dxpl, buf) < 0)
            return SHOAL_ERROR(SHOAL_EIO, "marking rows %llu.. of '%s' failed",
                               (unsigned long long)(start + off), s->path);
    }
    return 0;
}

int shoal_store_fail_rows(shoal_store *s, uint64_t start, uint64_t count, int32_t error)
{
    for (uint64_t k = 0; k < count; k++) {
        if (shoal__store_write_block(&s->col[COL_ERROR], start + k, 1, s->dxpl, &error) < 0)
            return SHOAL_EIO;
    }
    return shoal_store_mark(s, start, count, SHOAL_STATUS_FAILED);
}

int shoal_store_read_status(shoal_store *s, uint64_t start, uint64_t count,
                            uint8_t *buf)
{
    if (start > s->ntasks || count > s->ntasks - start)
        return SHOAL_EINVAL;
    hsize_t off = start, cnt = count;
    H5Sselect_hyperslab(s->col[COL_STATUS].space, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    herr_t e = H5Dread(s->col[COL_STATUS].dset, H5T_NATIVE_UINT8, ms,
                       s->col[COL_STATUS].space, s->dxpl, buf);
    H5Sclose(ms);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

int shoal_store_write_failures(shoal_store *s, const shoal_store_failure *log, size_t nlog)
{
    if (nlog > SHOAL_FAILURE_SLOTS)
        nlog = SHOAL_FAILURE_SLOTS;
    if (nlog <= s->nlogged)
        return 0;
    uint64_t slot = s->fail_base + (uint64_t)s->rank * SHOAL_FAILURE_SLOTS + s->nlogged;
    int rc = shoal__failures_write(s->file, s->dxpl, log + s->nlogged, nlog - s->nlogged, slot,
                                   1);
    if (rc < 0)
        return SHOAL_ERROR(SHOAL_EIO, "writing failure messages into '%s' failed", s->path);
    s->nlogged = nlog;
    return 0;
}
