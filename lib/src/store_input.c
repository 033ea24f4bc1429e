/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_input.c: /input in a new result file — what the run read, so the
 * file says where its tasks' data came from (see shoal_store_input).
 *
 * Collective like the rest of creation: every rank creates the group, its
 * attributes and, for a file list, the per-task datasets, with identical
 * values; rank 0 alone writes the rows (independent writes, in blocks, so
 * 10^5 paths cost a few calls). A file list's rows are per task: they share
 * the task dimension. A resumed file keeps its /input: the fingerprint
 * already says the input is unchanged. */
#include <shoal/error.h>

#include "h5util.h"
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

enum { BLOCK = 4096 }; /* rows per write */

/* Rank 0: the file list's rows of the three datasets. */
static int write_files(const shoal_store_input *in, hid_t dxpl, const shoal__dset d[3])
{
    char *buf = malloc((size_t)BLOCK * (in->path_len > 8 ? in->path_len : 8));
    if (!buf)
        return SHOAL_ENOMEM;
    int rc = 0;
    for (uint64_t at = 0; at < in->nfiles && rc == 0; at += BLOCK) {
        uint64_t n = in->nfiles - at < BLOCK ? in->nfiles - at : BLOCK;
        memset(buf, 0, (size_t)n * in->path_len);
        for (uint64_t i = 0; i < n; i++) {
            const char *p = in->paths[at + i];
            memcpy(buf + i * in->path_len, p, strnlen(p, in->path_len - 1));
        }
        rc = shoal__store_write_block(&d[0], at, n, dxpl, buf);
        if (rc == 0)
            rc = shoal__store_write_block(&d[1], at, n, dxpl, in->sizes + at);
        if (rc == 0)
            rc = shoal__store_write_block(&d[2], at, n, dxpl, in->mtimes + at);
    }
    free(buf);
    return rc;
}

int shoal__store_input_create(shoal_store *s, const shoal_store_input *in)
{
    if (!in)
        return 0;
    hid_t g = H5Gcreate2(s->file, "input", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return SHOAL_EHDF5;
    int bad = 0;
    bad |= shoal__attr_str(g, "kind", in->kind) < 0;
    bad |= shoal__attr_str(g, in->nfiles ? "source" : "file", in->source) < 0;
    bad |= shoal__attr_str(g, "datasets", in->datasets) < 0;
    if (!in->nfiles) {
        bad |= shoal__attr_str(g, "shapes", in->shapes) < 0;
        bad |= shoal__attr_u64(g, "rows", in->rows) < 0;
        bad |= shoal__attr_u64(g, "rows_per_task", in->rows_per_task) < 0;
        bad |= shoal__attr_u64(g, "size", in->size) < 0;
        bad |= shoal__attr_u64(g, "mtime_ns", (uint64_t)in->mtime_ns) < 0;
    } else {
        bad |= shoal__attr_u64(g, "count", in->nfiles) < 0;
    }
    if (bad || !in->nfiles) {
        H5Gclose(g);
        return bad ? SHOAL_EHDF5 : 0;
    }
    /* A file list: one row per task. */
    static const char *const names[3] = {"path", "size", "mtime"};
    static const char *const docs[3] = {"the task's input file", "its size in bytes",
                                        "its modification time, ns since 1970 (UTC)"};
    static const char *const units[3] = {NULL, "bytes", "ns"};
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, in->path_len ? in->path_len : 1);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    const hid_t ftypes[3] = {st, H5T_STD_U64LE, H5T_STD_I64LE};
    const hid_t mtypes[3] = {st, H5T_NATIVE_UINT64, H5T_NATIVE_INT64};
    shoal__dset d[3];
    memset(d, 0, sizeof d);
    for (int k = 0; k < 3; k++) {
        d[k].ndims = 1;
        d[k].dims[0] = in->nfiles;
        d[k].mtype = mtypes[k];
        d[k].dset = shoal__store_make_dataset(g, names[k], ftypes[k], 1, d[k].dims, 0);
        d[k].space = d[k].dset >= 0 ? H5Dget_space(d[k].dset) : -1;
        bad |= d[k].dset < 0 || d[k].space < 0 ||
               shoal__attr_meta(d[k].dset, units[k], docs[k]) < 0 ||
               shoal__dim_attach(s->file, d[k].dset, SHOAL__DIM_TASK, NULL, 1) < 0;
    }
    int rc = bad ? SHOAL_EHDF5 : 0;
    if (rc == 0 && s->rank == 0)
        rc = write_files(in, s->dxpl, d);
    for (int k = 0; k < 3; k++) {
        if (d[k].space >= 0)
            H5Sclose(d[k].space);
        if (d[k].dset >= 0)
            H5Dclose(d[k].dset);
    }
    H5Tclose(st);
    H5Gclose(g);
    return rc;
}
