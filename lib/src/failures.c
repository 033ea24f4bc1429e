/* SPDX-License-Identifier: GPL-3.0-or-later */
/* failures.c: the /failures table (see failures.h). Each column is described
 * once, by its place in shoal_store_failure; writing gathers the structs into
 * column buffers, reading scatters them back. */
#include <shoal/error.h>

#include "failures.h"
#include "h5util.h"
#include "store_impl.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_I64, KIND_I32, KIND_MSG };

static const struct {
    const char *name;   /* dataset under /failures */
    int kind;
    size_t offset;      /* in shoal_store_failure */
    long long fill;     /* value of an unused slot (numbers) */
    const char *doc;
} columns[] = {
    {"task", KIND_I64, offsetof(shoal_store_failure, task), -1,
     "the failed task's index; -1: an unused slot"},
    {"rank", KIND_I32, offsetof(shoal_store_failure, rank), -1, "MPI rank that ran it"},
    {"error", KIND_I32, offsetof(shoal_store_failure, error), 0, "the code it returned"},
    {"attempts", KIND_I32, offsetof(shoal_store_failure, attempts), 0,
     "times it ran (retries included)"},
    {"message", KIND_MSG, offsetof(shoal_store_failure, message), 0, "what went wrong"},
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

static size_t kind_size(int kind)
{
    return kind == KIND_I64 ? 8 : kind == KIND_I32 ? 4 : SHOAL_FAILURE_MSG;
}

/* The memory type of a column (the caller closes it); also the file type
 * of the message column (UTF-8 text; files from before hold ASCII, which
 * reading takes from the file). */
static hid_t mem_type(int kind)
{
    if (kind == KIND_I64)
        return H5Tcopy(H5T_NATIVE_INT64);
    if (kind == KIND_I32)
        return H5Tcopy(H5T_NATIVE_INT32);
    return shoal__h5_text_type(SHOAL_FAILURE_MSG, H5T_STR_NULLTERM);
}

int shoal__failures_create(hid_t file, uint64_t n)
{
    /* Remade by each segment (its slots depend on the ranks), with its
     * dimension: the group goes first, so no reference to it is left. */
    if (H5Lexists(file, "failures", H5P_DEFAULT) > 0 &&
        H5Ldelete(file, "failures", H5P_DEFAULT) < 0)
        return SHOAL_EHDF5;
    if (shoal__dim_delete(file, SHOAL__DIM_FAILURE) < 0 ||
        shoal__dim_create(file, SHOAL__DIM_FAILURE, n, 0) < 0)
        return SHOAL_EHDF5;
    hid_t g = H5Gcreate2(file, "failures", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return SHOAL_EHDF5;
    int bad = 0;
    hsize_t dim = n;
    for (size_t c = 0; c < NCOLUMNS && !bad; c++) {
        int kind = columns[c].kind;
        hid_t ft = kind == KIND_I64   ? H5Tcopy(H5T_STD_I64LE)
                   : kind == KIND_I32 ? H5Tcopy(H5T_STD_I32LE)
                                      : mem_type(kind);
        hid_t sp = H5Screate_simple(1, &dim, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
        if (kind == KIND_MSG) {
            static const char empty[SHOAL_FAILURE_MSG];
            H5Pset_fill_value(dcpl, ft, empty);
        } else {
            H5Pset_fill_value(dcpl, H5T_NATIVE_LLONG, &columns[c].fill);
        }
        hid_t d = H5Dcreate2(g, columns[c].name, ft, sp, H5P_DEFAULT, dcpl,
                             H5P_DEFAULT);
        bad = d < 0;
        if (d >= 0) {
            bad = shoal__dim_attach(file, d, SHOAL__DIM_FAILURE, NULL, 1) < 0 ||
                  shoal__attr_str(d, "doc", columns[c].doc) < 0 ||
                  (kind == KIND_MSG && shoal__attr_utf8(d) < 0);
            H5Dclose(d);
        }
        H5Pclose(dcpl);
        H5Sclose(sp);
        H5Tclose(ft);
    }
    H5Gclose(g);
    return bad ? SHOAL_EHDF5 : 0;
}

int shoal__failures_write(hid_t file, hid_t dxpl, const shoal_store_failure *log,
                          size_t n, uint64_t off, int active)
{
    if (n == 0)
        return 0;
    int bad = 0;
    for (size_t c = 0; c < NCOLUMNS && !bad; c++) {
        size_t w = kind_size(columns[c].kind);
        char *buf = malloc(n * w);
        if (!buf)
            return SHOAL_ENOMEM;
        for (size_t i = 0; i < n; i++)
            memcpy(buf + i * w, (const char *)&log[i] + columns[c].offset, w);
        if (columns[c].kind == KIND_MSG)
            for (size_t i = 0; i < n; i++)
                buf[i * w + w - 1] = '\0';
        char path[64];
        snprintf(path, sizeof path, "failures/%s", columns[c].name);
        hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
        if (d < 0) {
            free(buf);
            return SHOAL_EHDF5;
        }
        hid_t fs = H5Dget_space(d);
        hsize_t o = off, cnt = n;
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &o, NULL, &cnt, NULL);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        if (!active) {
            H5Sselect_none(fs);
            H5Sselect_none(ms);
        }
        hid_t mt = mem_type(columns[c].kind);
        bad = H5Dwrite(d, mt, ms, fs, dxpl, buf) < 0;
        H5Tclose(mt);
        H5Sclose(ms);
        H5Sclose(fs);
        H5Dclose(d);
        free(buf);
    }
    return bad ? SHOAL_EHDF5 : 0;
}

int shoal__failures_read(hid_t file, const char *path, shoal_store_failure **out,
                         size_t *n)
{
    *out = NULL;
    *n = 0;
    if (H5Lexists(file, "failures", H5P_DEFAULT) <= 0 ||
        H5Lexists(file, "failures/task", H5P_DEFAULT) <= 0)
        return 0;
    hid_t d = H5Dopen2(file, "failures/task", H5P_DEFAULT);
    if (d < 0)
        return SHOAL_ERROR(SHOAL_EHDF5, "cannot open /failures/task of '%s'", path);
    hid_t fs = H5Dget_space(d);
    hssize_t total = H5Sget_simple_extent_npoints(fs);
    H5Sclose(fs);
    H5Dclose(d);
    if (total <= 0)
        return 0;
    size_t slots = (size_t)total;
    shoal_store_failure *all = calloc(slots, sizeof *all);
    if (!all)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading %zu failure "
                           "entries of '%s'", slots, path);
    int rc = 0;
    for (size_t c = 0; c < NCOLUMNS && rc == 0; c++) {
        size_t w = kind_size(columns[c].kind);
        char *buf = malloc(slots * w);
        char dpath[64];
        snprintf(dpath, sizeof dpath, "failures/%s", columns[c].name);
        hid_t ds = buf ? H5Dopen2(file, dpath, H5P_DEFAULT) : -1;
        hid_t mt = mem_type(columns[c].kind);
        if (ds >= 0 && columns[c].kind == KIND_MSG) {
            hid_t ft = H5Dget_type(ds); /* ASCII in files from before UTF-8 */
            if (ft >= 0) {
                H5Tset_cset(mt, H5Tget_cset(ft));
                H5Tclose(ft);
            }
        }
        if (!buf)
            rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading /%s of '%s'",
                             dpath, path);
        else if (ds < 0 || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            rc = SHOAL_ERROR(SHOAL_EHDF5, "reading /%s of '%s' failed", dpath, path);
        for (size_t i = 0; i < slots && rc == 0; i++)
            memcpy((char *)&all[i] + columns[c].offset, buf + i * w, w);
        H5Tclose(mt);
        if (ds >= 0)
            H5Dclose(ds);
        free(buf);
    }
    size_t used = 0;
    for (size_t i = 0; i < slots && rc == 0; i++) {
        if (all[i].task < 0)
            continue;
        all[i].message[SHOAL_FAILURE_MSG - 1] = '\0';
        all[used++] = all[i];
    }
    if (rc < 0 || used == 0) {
        free(all);
        return rc;
    }
    *out = all;
    *n = used;
    return 0;
}
