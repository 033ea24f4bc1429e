/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_behind.c: rows written behind the computing (SHOAL_WRITE_BEHIND=1).
 *
 * A writer thread per rank copies a range's result rows into the file with
 * pwrite at their datasets' offsets (contiguous datasets, allocated at
 * creation) while the rank computes the next range. The thread calls no
 * HDF5 (the library here is not built thread-safe) and no MPI. The
 * parameter and point rows and the /tasks columns still go through HDF5
 * on the rank's own thread; the /tasks columns of a range are written only
 * once its results are in the file, at the next range's write or at the
 * drain, so a row marked done is still complete whenever the run is
 * killed. An error of the thread (a full disk, an I/O error) is returned
 * by the next call. The caller keeps two sets of row buffers and
 * alternates: the rows handed over stay untouched until the next call
 * returns. */
#include <shoal/error.h>

#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct shoal__behind {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    int quit, busy, err;           /* err: the thread's errno, 0 */
    int cols;                      /* 1: the thread writes the /tasks columns too */
    size_t nfields;
    size_t chunk;                  /* > 0: bytes per pwrite at most */
    int marks;                     /* 1: the thread writes the running marks too */
    int mark;                      /* a mark waits: */
    uint64_t mstart, mcount;
    uint8_t mvalue;
    size_t njob;
    struct { const char *p; size_t n; off_t at; } *job; /* one per field */
    haddr_t *base;                 /* per field: its data's file offset */
    uint64_t *stride;              /* per field: bytes per row */
    /* The range whose results are being written: its /tasks columns. */
    int pending;
    uint64_t pstart, pcount, cap;
    uint8_t *status, *attempts;
    int32_t *rank, *error;
    float *seconds;
};

static void *writer(void *arg)
{
    shoal__behind *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->busy && !b->mark && !b->quit)
            pthread_cond_wait(&b->cv, &b->mu);
        if (!b->busy && !b->mark)
            break;
        if (b->mark && !b->busy) {
            static uint8_t ones[65536];
            uint64_t st = b->mstart, n = b->mcount;
            memset(ones, b->mvalue, sizeof ones);
            off_t at = (off_t)(b->base[b->nfields + COL_STATUS] + st);
            pthread_mutex_unlock(&b->mu);
            int err = 0;
            while (n > 0 && !err) {
                size_t k = n < sizeof ones ? (size_t)n : sizeof ones;
                ssize_t w = pwrite(b->fd, ones, k, at);
                if (w <= 0 && !(w < 0 && errno == EINTR))
                    err = w < 0 ? errno : ENOSPC;
                if (w > 0) {
                    n -= (uint64_t)w;
                    at += w;
                }
            }
            pthread_mutex_lock(&b->mu);
            if (err && !b->err)
                b->err = err;
            b->mark = 0;
            pthread_cond_broadcast(&b->cv);
            continue;
        }
        pthread_mutex_unlock(&b->mu);
        int err = 0;
        for (size_t i = 0; i < b->njob && !err; i++) {
            const char *p = b->job[i].p;
            size_t n = b->job[i].n;
            off_t at = b->job[i].at;
            while (n > 0) {
                ssize_t w = pwrite(b->fd, p, b->chunk && n > b->chunk ? b->chunk : n, at);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    err = w < 0 ? errno : ENOSPC;
                    break;
                }
                p += w;
                n -= (size_t)w;
                at += w;
            }
        }
        pthread_mutex_lock(&b->mu);
        if (err && !b->err)
            b->err = err;
        b->busy = 0;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

int shoal_store_behind_on(shoal_store *s)
{
    if (s->behind)
        return 1;
    const char *e = getenv("SHOAL_WRITE_BEHIND");
    if (!e || strcmp(e, "1") || s->grow_rows > 0 || s->nfields == 0)
        return 0;
    shoal__behind *b = calloc(1, sizeof *b);
    if (!b)
        return 0;
    b->job = calloc(s->nfields + NCOLS, sizeof *b->job);
    b->base = calloc(s->nfields + NCOLS, sizeof *b->base);
    b->stride = calloc(s->nfields + NCOLS, sizeof *b->stride);
    int ok = b->job && b->base && b->stride;
    for (size_t i = 0; i < s->nfields && ok; i++) {
        /* Only rows whose bytes in memory are their bytes in the file. */
        hid_t ft = H5Dget_type(s->field[i].dset);
        ok = ft >= 0 && H5Tequal(ft, s->field[i].mtype) > 0;
        if (ft >= 0)
            H5Tclose(ft);
        b->base[i] = H5Dget_offset(s->field[i].dset);
        ok = ok && b->base[i] != HADDR_UNDEF;
        b->stride[i] = H5Tget_size(s->field[i].mtype);
        for (int k = 1; k < s->field[i].ndims; k++)
            b->stride[i] *= s->field[i].dims[k];
    }
    /* The /tasks columns too (SHOAL_WB_COLS=1): then this rank's thread
     * alone writes rows into the file, results before status. */
    const char *ec = getenv("SHOAL_WB_COLS");
    b->cols = ec && !strcmp(ec, "1");
    for (int c = 0; c < NCOLS && ok && b->cols; c++) {
        hid_t ft = H5Dget_type(s->col[c].dset);
        ok = ft >= 0 && H5Tequal(ft, s->col[c].mtype) > 0;
        if (ft >= 0)
            H5Tclose(ft);
        b->base[s->nfields + c] = H5Dget_offset(s->col[c].dset);
        ok = ok && b->base[s->nfields + c] != HADDR_UNDEF;
        b->stride[s->nfields + c] = H5Tget_size(s->col[c].mtype);
    }
    b->nfields = s->nfields;
    const char *em = getenv("SHOAL_WB_MARK");
    b->marks = b->cols && em && !strcmp(em, "1");
    const char *ek = getenv("SHOAL_WB_CHUNK");
    b->chunk = ek ? (size_t)strtoull(ek, NULL, 10) : 0;
    b->fd = ok ? open(s->path, O_WRONLY | O_CLOEXEC) : -1;
    ok = ok && b->fd >= 0;
    if (ok) {
        pthread_mutex_init(&b->mu, NULL);
        pthread_cond_init(&b->cv, NULL);
        ok = pthread_create(&b->thread, NULL, writer, b) == 0;
        if (!ok) {
            pthread_mutex_destroy(&b->mu);
            pthread_cond_destroy(&b->cv);
        }
    }
    if (!ok) {
        if (b->fd >= 0)
            close(b->fd);
        free(b->job);
        free(b->base);
        free(b->stride);
        free(b);
        return 0;
    }
    s->behind = b;
    return 1;
}

/* Wait for the thread; then the pending range's /tasks columns. */
static int settle(shoal_store *s)
{
    shoal__behind *b = s->behind;
    pthread_mutex_lock(&b->mu);
    while (b->busy || b->mark)
        pthread_cond_wait(&b->cv, &b->mu);
    int err = b->err;
    pthread_mutex_unlock(&b->mu);
    if (!b->pending)
        return err ? SHOAL_ERROR(SHOAL_EIO, "writing rows of '%s' failed: %s", s->path,
                                 strerror(err))
                   : 0;
    b->pending = 0;
    if (err)
        return SHOAL_ERROR(SHOAL_EIO, "writing rows %llu..%llu of '%s' failed: %s%s",
                           (unsigned long long)b->pstart,
                           (unsigned long long)(b->pstart + b->pcount - 1), s->path,
                           strerror(err),
                           err == ENOSPC ? "; free space, then --resume finishes the run"
                                         : "");
    if (b->cols)
        return 0;
    const void *cols[NCOLS] = {b->status, b->rank, b->seconds, b->error, b->attempts};
    static const int order[NCOLS] = {COL_RANK, COL_SECONDS, COL_ERROR, COL_ATTEMPTS,
                                     COL_STATUS};
    int rc = 0;
    for (int k = 0; k < NCOLS && rc == 0; k++)
        rc = shoal__store_write_block(&s->col[order[k]], b->pstart, b->pcount, s->dxpl,
                                      cols[order[k]]);
    return rc < 0 ? SHOAL_ERROR(SHOAL_EIO, "writing the /tasks columns of rows %llu..%llu "
                                "of '%s' failed", (unsigned long long)b->pstart,
                                (unsigned long long)(b->pstart + b->pcount - 1), s->path)
                  : 0;
}

int shoal__behind_rows(shoal_store *s, uint64_t start, uint64_t count,
                       const shoal_store_rows *rows)
{
    shoal__behind *b = s->behind;
    int rc = settle(s);
    for (size_t i = 0; i < s->nparams && rc == 0; i++)
        rc = shoal__store_write_block(&s->param[i], start, count, s->dxpl, rows->params[i]);
    if (s->with_points && rc == 0)
        rc = shoal__store_write_block(&s->point, start, count, s->dxpl, rows->point);
    if (s->with_points && rc == 0)
        rc = shoal__store_write_block(&s->replicate, start, count, s->dxpl, rows->replicate);
    if (rc < 0)
        return rc;
    if (count > b->cap) {
        free(b->status);
        free(b->attempts);
        free(b->rank);
        free(b->error);
        free(b->seconds);
        b->status = malloc(count);
        b->attempts = malloc(count);
        b->rank = malloc(count * sizeof *b->rank);
        b->error = malloc(count * sizeof *b->error);
        b->seconds = malloc(count * sizeof *b->seconds);
        b->cap = count;
        if (!b->status || !b->attempts || !b->rank || !b->error || !b->seconds) {
            b->cap = 0;
            return SHOAL_ENOMEM;
        }
    }
    memcpy(b->status, rows->status, count);
    memcpy(b->attempts, rows->attempts, count);
    memcpy(b->rank, rows->rank, count * sizeof *b->rank);
    memcpy(b->error, rows->error, count * sizeof *b->error);
    memcpy(b->seconds, rows->seconds, count * sizeof *b->seconds);
    b->pending = 1;
    b->pstart = start;
    b->pcount = count;
    pthread_mutex_lock(&b->mu);
    b->njob = s->nfields + (b->cols ? NCOLS : 0);
    const void *cols[NCOLS] = {b->status, b->rank, b->seconds, b->error, b->attempts};
    static const int order[NCOLS] = {COL_RANK, COL_SECONDS, COL_ERROR, COL_ATTEMPTS,
                                     COL_STATUS};
    for (size_t i = 0; i < b->njob; i++) {
        size_t f = i < s->nfields ? i : s->nfields + (size_t)order[i - s->nfields];
        b->job[i].p = i < s->nfields ? rows->fields[i] : cols[order[i - s->nfields]];
        b->job[i].n = (size_t)(count * b->stride[f]);
        b->job[i].at = (off_t)(b->base[f] + start * b->stride[f]);
    }
    b->busy = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

int shoal__behind_mark(shoal_store *s, uint64_t start, uint64_t count, uint8_t value)
{
    shoal__behind *b = s->behind;
    if (!b || !b->marks)
        return 1;
    pthread_mutex_lock(&b->mu);
    while (b->mark)
        pthread_cond_wait(&b->cv, &b->mu);
    b->mark = 1;
    b->mstart = start;
    b->mcount = count;
    b->mvalue = value;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

int shoal_store_drain(shoal_store *s)
{
    return s && s->behind ? settle(s) : 0;
}

void shoal__behind_stop(shoal_store *s)
{
    shoal__behind *b = s->behind;
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    while (b->busy || b->mark)
        pthread_cond_wait(&b->cv, &b->mu);
    b->quit = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    close(b->fd);
    free(b->job);
    free(b->base);
    free(b->stride);
    free(b->status);
    free(b->attempts);
    free(b->rank);
    free(b->error);
    free(b->seconds);
    free(b);
    s->behind = NULL;
}
