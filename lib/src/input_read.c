/* SPDX-License-Identifier: GPL-3.0-or-later */
/* input_read.c: a task's slice of the input, read on this rank when the
 * task first asks for it (shoal_input_double / shoal_input_int64), so apps
 * that never ask pay nothing.
 *
 * The input file is opened by each rank on its own, read-only with the
 * sec2 driver — no MPI, no collective per file — once per rank and kept
 * open across tasks (a file list opens each task's file instead). Rows come
 * in by one hyperslab read per dataset into a buffer allocated once per
 * rank and dataset (rows_per_task x columns values; a file list's buffers
 * grow to its largest file), so memory is bounded by the task, not by the
 * data. HDF5 converts on the read: integer datasets arrive as int64, float
 * ones as double; a task asking for the other type gets a second buffer
 * converted from the first (H5Tconvert, the same rules as the read).
 *
 * Not done: reading task i+1's rows while task i computes. The runner
 * knows its range, so a later version can read the next task's rows into a
 * second buffer from a thread (HDF5 is not thread-safe in this build, so
 * it needs a lock or a thread-safe HDF5). */
#include <shoal/error.h>

#include "h5util.h"
#include "input_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name of the file a task reads, for messages. */
static const char *task_file(const shoal__input *in, uint64_t task)
{
    return shoal__input_path(in, task) ? shoal__input_path(in, task)
           : in->kind == INPUT_STREAM     ? "(no file)"
                                          : in->file;
}

/* Fail the task with "input 'FILE': what" (the file first: failure
 * messages are cut at SHOAL_FAILURE_MSG bytes). Returns -1. */
static int fail_read(const shoal__input *in, shoal_task *t, uint64_t task, const char *fmt,
                     ...) SHOAL_PRINTF(4, 5);
static int fail_read(const shoal__input *in, shoal_task *t, uint64_t task, const char *fmt,
                     ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    shoal_task_fail(t, SHOAL_EIO, "input '%s': %s", task_file(in, task), what);
    return -1;
}

/* Room for n values of 8 bytes in *buf. */
static int reserve(void **buf, uint64_t *cap, uint64_t n)
{
    if (n <= *cap && *buf)
        return 0;
    uint64_t want = n ? n : 1;
    if (want > SIZE_MAX / 8)
        return -1;
    void *p = realloc(*buf, (size_t)want * 8);
    if (!p)
        return -1;
    *buf = p;
    *cap = want;
    return 0;
}

/* Close the open input file and its datasets. */
static void close_file(shoal__input *in)
{
    for (size_t k = 0; k < in->ndsets; k++)
        if (in->dsets[k].dset > 0) {
            H5Dclose(in->dsets[k].dset);
            in->dsets[k].dset = 0;
        }
    if (in->fid > 0)
        H5Fclose(in->fid);
    in->fid = 0;
    in->fid_task = 0;
}

/* The task's file open in in->fid, and dataset d open. */
static int open_dataset(shoal__input *in, shoal_task *t, uint64_t task, input_dset *d)
{
    char msg[160];
    if (SHOAL__INPUT_PER_FILE(in) && in->fid_task != task + 1)
        close_file(in);
    if (in->fid <= 0) {
        in->fid = shoal__input_open_file(task_file(in, task));
        if (in->fid < 0) {
            in->fid = 0;
            shoal__h5_message(msg, sizeof msg);
            return fail_read(in, t, task, "cannot open it: not an HDF5 file, or damaged (%s)",
                             msg[0] ? msg : "HDF5 error");
        }
        in->fid_task = task + 1;
    }
    if (d->dset > 0)
        return 0;
    htri_t there = H5Lexists(in->fid, d->name, H5P_DEFAULT);
    d->dset = there > 0 ? H5Dopen2(in->fid, d->name, H5P_DEFAULT) : -1;
    if (d->dset < 0) {
        d->dset = 0;
        return fail_read(in, t, task, "no dataset '%s'", d->name);
    }
    return 0;
}

/* Read rows [first, first + n) of d (all columns) as its native type. */
static int read_rows(shoal__input *in, shoal_task *t, uint64_t task, input_dset *d,
                     uint64_t first, uint64_t n, uint64_t cols, int ndims)
{
    hid_t fs = H5Dget_space(d->dset);
    hsize_t start[2] = {first, 0}, count[2] = {n, cols};
    hid_t ms = H5Screate_simple(ndims, count, NULL);
    herr_t e = fs < 0 || ms < 0 ? -1
               : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (e >= 0 && n > 0)
        e = H5Dread(d->dset, d->held_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, ms, fs,
                    H5P_DEFAULT, d->buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (e < 0) {
        char msg[160];
        shoal__h5_message(msg, sizeof msg);
        return fail_read(in, t, task, "cannot read rows %llu..%llu of '%s' (%s)",
                         (unsigned long long)first, (unsigned long long)(first + n),
                         d->name, msg[0] ? msg : "HDF5 error");
    }
    return 0;
}

/* A file list: the task's whole dataset, whatever its shape in this file. */
static int load_file(shoal__input *in, shoal_task *t, uint64_t task, input_dset *d)
{
    if (open_dataset(in, t, task, d) < 0)
        return -1;
    char tname[sizeof d->type] = "unreadable";
    hsize_t dims[H5S_MAX_RANK] = {0};
    int nd, numeric = shoal__input_probe(d->dset, tname, sizeof tname, &nd, dims);
    if (!numeric)
        return fail_read(in, t, task, "'%s' holds %s values, not numbers", d->name, tname);
    if (nd < 1 || nd > 2)
        return fail_read(in, t, task, "'%s' has %d dimensions, not 1 or 2", d->name,
                         nd < 0 ? 0 : nd);
    uint64_t rows = dims[0], cols = nd == 2 ? dims[1] : 1;
    if ((cols && rows > UINT64_MAX / cols) || reserve(&d->buf, &d->cap, rows * cols) < 0)
        return fail_read(in, t, task, "'%s' (%llu x %llu) does not fit in memory", d->name,
                         (unsigned long long)rows, (unsigned long long)cols);
    d->held_int = tname[0] != 'f';
    d->nrows = rows;
    d->ncols = cols;
    return read_rows(in, t, task, d, 0, rows, cols, nd);
}

/* The rows of the task's scan point whose /tasks/status is done. */
static int load_status(shoal__input *in, shoal_task *t, uint64_t task)
{
    if (in->status_held == task + 1)
        return 0;
    uint64_t r = in->replicates;
    if (!in->status) {
        in->status = malloc(r);
        in->keep = malloc(r * sizeof *in->keep);
        if (!in->status || !in->keep)
            return fail_read(in, t, task, "out of memory for %llu replicates",
                             (unsigned long long)r);
    }
    hid_t fid = in->fid;
    hid_t ds = H5Dopen2(fid, "/tasks/status", H5P_DEFAULT);
    hid_t fs = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t start = task * r, count = r;
    hid_t ms = H5Screate_simple(1, &count, NULL);
    herr_t e = fs < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (e >= 0)
        e = H5Dread(ds, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, in->status);
    H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (ds >= 0)
        H5Dclose(ds);
    if (e < 0)
        return fail_read(in, t, task, "cannot read /tasks/status of point %llu",
                         (unsigned long long)task);
    in->nkeep = 0;
    for (uint64_t j = 0; j < r; j++)
        if (in->status[j] == SHOAL_STATUS_DONE)
            in->keep[in->nkeep++] = j;
    in->status_held = task + 1;
    return 0;
}

/* Read dataset d's rows for task into d->buf. */
static int load(shoal__input *in, shoal_task *t, uint64_t task, input_dset *d)
{
    if (SHOAL__INPUT_PER_FILE(in))
        return load_file(in, t, task, d);
    if (open_dataset(in, t, task, d) < 0)
        return -1;
    d->held_int = d->is_int;
    d->ncols = d->cols;
    if (reserve(&d->buf, &d->cap, in->rpt * d->cols) < 0)
        return fail_read(in, t, task, "out of memory for %llu rows of '%s'",
                         (unsigned long long)in->rpt, d->name);
    uint64_t first = task * in->rpt;
    uint64_t n = in->rows - first < in->rpt ? in->rows - first : in->rpt;
    if (in->kind == INPUT_POINTS && load_status(in, t, task) < 0)
        return -1;
    if (read_rows(in, t, task, d, first, n, d->cols, d->ndims) < 0)
        return -1;
    d->nrows = n;
    if (in->kind == INPUT_POINTS) {
        /* Keep the done replicates, in replicate order. */
        char *b = d->buf;
        size_t row = (size_t)d->cols * 8;
        for (uint64_t j = 0; j < in->nkeep; j++)
            if (in->keep[j] != j)
                memmove(b + j * row, b + in->keep[j] * row, row);
        d->nrows = in->nkeep;
    }
    return 0;
}

const void *shoal__input_get(shoal__input *in, shoal_task *t, uint64_t task, int k,
                             shoal_type want, uint64_t *rows, uint64_t *cols)
{
    if (rows)
        *rows = 0;
    if (cols)
        *cols = 0;
    if (!in) {
        shoal_task_fail(t, SHOAL_ENOTFOUND,
                        "shoal_input_*: this run has no [input] section (docs/analysis.md)");
        return NULL;
    }
    if (in->ndsets == 0) {
        shoal_task_fail(t, SHOAL_EINVAL, "[input] names no datasets: open the task's file "
                        "(shoal_input_path) yourself, or add datasets = ...");
        return NULL;
    }
    if (k < 0 || (size_t)k >= in->ndsets) {
        shoal_task_fail(t, SHOAL_EINVAL, "input dataset %d does not exist: [input] datasets "
                        "names %zu", k, in->ndsets);
        return NULL;
    }
    input_dset *d = &in->dsets[k];
    if (d->held != task + 1) {
        d->held = d->conv_held = 0;
        if (load(in, t, task, d) < 0)
            return NULL;
        d->held = task + 1;
    }
    if (rows)
        *rows = d->nrows;
    if (cols)
        *cols = d->ncols;
    if (d->held_int == (want == SHOAL_INT64))
        return d->buf;
    /* The other type: converted once per task into the second buffer. */
    uint64_t n = d->nrows * d->ncols;
    if (d->conv_held != task + 1) {
        if (reserve(&d->conv, &d->conv_cap, n) < 0) {
            fail_read(in, t, task, "out of memory converting '%s'", d->name);
            return NULL;
        }
        memcpy(d->conv, d->buf, (size_t)n * 8);
        hid_t from = d->held_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
        hid_t to = d->held_int ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
        if (n > 0 && H5Tconvert(from, to, (size_t)n, d->conv, NULL, H5P_DEFAULT) < 0) {
            fail_read(in, t, task, "cannot convert '%s' to %s", d->name,
                      want == SHOAL_INT64 ? "int64" : "double");
            return NULL;
        }
        d->conv_held = task + 1;
    }
    return d->conv;
}

uint64_t shoal__input_offset(const shoal__input *in, uint64_t task)
{
    return !in || SHOAL__INPUT_PER_FILE(in) ? 0 : task * in->rpt;
}

const char *shoal__input_path(const shoal__input *in, uint64_t task)
{
    if (in && in->kind == INPUT_STREAM)
        return task >= in->range_start && task - in->range_start < in->range_count &&
                       in->range_paths
                   ? in->range_paths[task - in->range_start]
                   : NULL;
    return in && in->kind == INPUT_FILES && task < in->nfiles ? in->paths[task] : NULL;
}

void shoal__input_set_range(shoal__input *in, uint64_t start, uint64_t count,
                            const char *const *paths)
{
    if (!in)
        return;
    /* Task indices restart nowhere, but a file open for an earlier range's
     * task of the same index (after a resume) would be another file. */
    if (in->fid > 0 && in->kind == INPUT_STREAM)
        close_file(in);
    in->range_start = start;
    in->range_count = count;
    in->range_paths = paths;
}

int shoal__input_is_stream(const shoal__input *in)
{
    return in && in->kind == INPUT_STREAM;
}
