/* SPDX-License-Identifier: GPL-3.0-or-later */
/* results.c: reading a result file from one process (serial HDF5 driver),
 * for summaries, analysis after a run and the `shoal` command. Reads are by
 * row blocks, so memory stays bounded whatever the task count. The file is
 * opened read-only and without HDF5's file locking (as inputs are), so a
 * file that a run is writing reads as well as a closed one. */
#include <shoal/error.h>
#include <shoal/results.h>

#include "failures.h"
#include "h5util.h"
#include "input_impl.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shoal_results {
    hid_t file;
    uint64_t ntasks;
    char path[4096];
};

int shoal_results_open(const char *path, shoal_results **out)
{
    *out = NULL;
    shoal__h5_quiet();
    shoal_results *r = calloc(1, sizeof *r);
    if (!r)
        return SHOAL_ENOMEM;
    snprintf(r->path, sizeof r->path, "%s", path);
    r->file = shoal__input_open_file(path);
    if (r->file < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        free(r);
        return SHOAL_ERROR(SHOAL_EHDF5, "cannot open '%s': %s", path, msg);
    }
    hid_t a = H5Aopen(r->file, "ntasks", H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &r->ntasks) < 0) {
        if (a >= 0)
            H5Aclose(a);
        H5Fclose(r->file);
        free(r);
        return SHOAL_ERROR(SHOAL_ETYPE,
                           "'%s' is not a Shoal result file (no ntasks)", path);
    }
    H5Aclose(a);
    /* A stream's file grows while it runs: its rows are the task
     * dimension's length, whatever the attribute said when last written. */
    if (H5Lexists(r->file, "stream", H5P_DEFAULT) > 0 &&
        H5Lexists(r->file, "task", H5P_DEFAULT) > 0) {
        hid_t d = H5Dopen2(r->file, "task", H5P_DEFAULT);
        hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
        hsize_t n = 0;
        if (sp >= 0 && H5Sget_simple_extent_dims(sp, &n, NULL) == 1)
            r->ntasks = n;
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
    }
    *out = r;
    return 0;
}

void shoal_results_close(shoal_results *r)
{
    if (!r)
        return;
    H5Fclose(r->file);
    free(r);
}

uint64_t shoal_results_ntasks(const shoal_results *r) { return r->ntasks; }

/* Open dataset dpath and select rows [start, start+count) of it: *d, *fs
 * (the file's selection) and *ms (memory, the same shape) to close with
 * rows_close; *nelem gets the elements selected. */
static int rows_open(const shoal_results *r, const char *dpath, uint64_t start,
                     uint64_t count, hid_t *d, hid_t *fs, hid_t *ms, size_t *nelem)
{
    *d = *fs = *ms = -1;
    if (start > r->ntasks || count > r->ntasks - start)
        return SHOAL_ERROR(SHOAL_EINVAL, "rows %llu+%llu outside 0..%llu of '%s'",
                           (unsigned long long)start, (unsigned long long)count,
                           (unsigned long long)r->ntasks, r->path);
    *d = H5Lexists(r->file, dpath, H5P_DEFAULT) > 0 ? H5Dopen2(r->file, dpath, H5P_DEFAULT)
                                                     : -1;
    if (*d < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no dataset %s", r->path,
                           dpath);
    *fs = H5Dget_space(*d);
    int nd = H5Sget_simple_extent_ndims(*fs);
    hsize_t dims[8] = {0}, off[8] = {0}, cnt[8];
    if (nd < 1 || nd > 8) {
        H5Sclose(*fs);
        H5Dclose(*d);
        *d = *fs = -1;
        return SHOAL_ERROR(SHOAL_EHDF5, "%s: unexpected rank %d", dpath, nd);
    }
    H5Sget_simple_extent_dims(*fs, dims, NULL);
    if (dims[0] < start + count) {
        H5Sclose(*fs);
        H5Dclose(*d);
        *d = *fs = -1;
        return SHOAL_ERROR(SHOAL_EHDF5, "%s of '%s' has %llu rows, not the file's %llu tasks",
                           dpath, r->path, (unsigned long long)dims[0],
                           (unsigned long long)r->ntasks);
    }
    off[0] = start;
    cnt[0] = count;
    *nelem = (size_t)count;
    for (int i = 1; i < nd; i++) {
        cnt[i] = dims[i];
        *nelem *= (size_t)dims[i];
    }
    H5Sselect_hyperslab(*fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
    *ms = H5Screate_simple(nd, cnt, NULL);
    return 0;
}

static void rows_close(hid_t d, hid_t fs, hid_t ms)
{
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (d >= 0)
        H5Dclose(d);
}

static int read_rows(const shoal_results *r, const char *dpath, hid_t mtype,
                     uint64_t start, uint64_t count, void *buf)
{
    if (count == 0 && start <= r->ntasks)
        return 0;
    hid_t d, fs, ms;
    size_t nelem;
    int rc = rows_open(r, dpath, start, count, &d, &fs, &ms, &nelem);
    if (rc == 0 && H5Dread(d, mtype, ms, fs, H5P_DEFAULT, buf) < 0)
        rc = SHOAL_ERROR(SHOAL_EHDF5, "reading %s from '%s' failed", dpath, r->path);
    rows_close(d, fs, ms);
    return rc;
}

static int field_path(char *buf, size_t n, const char *field)
{
    if ((size_t)snprintf(buf, n, "results/%s", field) >= n)
        return SHOAL_ERROR(SHOAL_EINVAL, "field name too long");
    return 0;
}

int shoal_results_read_int64(const shoal_results *r, const char *field,
                             uint64_t start, uint64_t count, int64_t *buf)
{
    char p[512];
    int rc = field_path(p, sizeof p, field);
    return rc ? rc : read_rows(r, p, H5T_NATIVE_INT64, start, count, buf);
}

int shoal_results_read_double(const shoal_results *r, const char *field,
                              uint64_t start, uint64_t count, double *buf)
{
    char p[512];
    int rc = field_path(p, sizeof p, field);
    return rc ? rc : read_rows(r, p, H5T_NATIVE_DOUBLE, start, count, buf);
}

int shoal_results_read_status(const shoal_results *r, uint64_t start,
                              uint64_t count, uint8_t *buf)
{
    return read_rows(r, "tasks/status", H5T_NATIVE_UINT8, start, count, buf);
}

static int by_task(const void *a, const void *b)
{
    int64_t x = ((const shoal_store_failure *)a)->task;
    int64_t y = ((const shoal_store_failure *)b)->task;
    return (x > y) - (x < y);
}

int shoal_results_read_failures(const shoal_results *r, shoal_store_failure *out,
                                size_t max, size_t *n)
{
    *n = 0;
    if (H5Lexists(r->file, "failures", H5P_DEFAULT) <= 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no /failures", r->path);
    shoal_store_failure *all = NULL;
    size_t used = 0;
    int rc = shoal__failures_read(r->file, r->path, &all, &used);
    if (rc == 0 && used > 0) {
        qsort(all, used, sizeof *all, by_task);
        *n = used < max ? used : max;
        memcpy(out, all, *n * sizeof *all);
    }
    free(all);
    return rc;
}

int shoal_results_read_column_double(const shoal_results *r, const char *path,
                                     uint64_t start, uint64_t count, double *buf)
{
    return read_rows(r, path, H5T_NATIVE_DOUBLE, start, count, buf);
}

int shoal_results_read_column_int64(const shoal_results *r, const char *path,
                                    uint64_t start, uint64_t count, int64_t *buf)
{
    return read_rows(r, path, H5T_NATIVE_INT64, start, count, buf);
}

int shoal_results_attr_double(const shoal_results *r, const char *name,
                              double *out)
{
    hid_t a = H5Aexists(r->file, name) > 0 ? H5Aopen(r->file, name, H5P_DEFAULT)
                                            : -1;
    if (a < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no attribute %s", r->path,
                           name);
    herr_t e = H5Aread(a, H5T_NATIVE_DOUBLE, out);
    H5Aclose(a);
    return e < 0 ? SHOAL_ERROR(SHOAL_ETYPE, "attribute %s of '%s' is not a number",
                               name, r->path)
                 : 0;
}

/* String attribute `name` of loc (the root, or /params). */
static int attr_string_at(const shoal_results *r, hid_t loc, const char *what,
                          const char *name, char *buf, size_t n)
{
    if (n == 0)
        return SHOAL_EINVAL;
    buf[0] = '\0';
    hid_t a = H5Aexists(loc, name) > 0 ? H5Aopen(loc, name, H5P_DEFAULT) : -1;
    if (a < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no %s %s", r->path, what, name);
    hid_t t = H5Aget_type(a);
    int rc = 0;
    if (H5Tget_class(t) != H5T_STRING) {
        rc = SHOAL_ERROR(SHOAL_ETYPE, "attribute %s of '%s' is not a string", name,
                         r->path);
    } else if (H5Tis_variable_str(t) > 0) {
        char *v = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t)); /* Shoal writes UTF-8 */
        if (H5Aread(a, mt, &v) < 0) {
            rc = SHOAL_ERROR(SHOAL_EHDF5, "reading attribute %s of '%s' failed", name,
                             r->path);
        } else {
            snprintf(buf, n, "%s", v ? v : "");
            H5free_memory(v);
        }
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(t);
        char *tmp = calloc(sz + 1, 1);
        if (!tmp || H5Aread(a, t, tmp) < 0)
            rc = tmp ? SHOAL_EHDF5 : SHOAL_ENOMEM;
        else
            snprintf(buf, n, "%s", tmp);
        free(tmp);
    }
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}

int shoal_results_attr_string(const shoal_results *r, const char *name, char *buf,
                              size_t n)
{
    return attr_string_at(r, r->file, "attribute", name, buf, n);
}

/* Constant `name`, an attribute of /params: a number (int64 or float64,
 * files since constants were typed) or text (strings, and every constant
 * of older files). Exactly one of buf (text; numbers printed as the run
 * read them) and num is used; *is_num says which the file holds. */
static int read_constant(const shoal_results *r, const char *name, char *buf, size_t n,
                         double *num, int *is_num)
{
    hid_t g = H5Lexists(r->file, "params", H5P_DEFAULT) > 0
                  ? H5Gopen2(r->file, "params", H5P_DEFAULT)
                  : -1;
    if (g < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no /params group", r->path);
    hid_t a = H5Aexists(g, name) > 0 ? H5Aopen(g, name, H5P_DEFAULT) : -1;
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    int rc = 0;
    *is_num = c == H5T_INTEGER || c == H5T_FLOAT;
    if (a < 0) {
        rc = SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no constant parameter %s", r->path, name);
    } else if (c == H5T_INTEGER) {
        int64_t v = 0;
        rc = H5Aread(a, H5T_NATIVE_INT64, &v) < 0 ? SHOAL_EHDF5 : 0;
        if (buf)
            snprintf(buf, n, "%lld", (long long)v);
        if (num)
            *num = (double)v;
    } else if (c == H5T_FLOAT) {
        double v = 0;
        rc = H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0 ? SHOAL_EHDF5 : 0;
        if (buf)
            snprintf(buf, n, "%.17g", v);
        if (num)
            *num = v;
    } else if (buf) {
        rc = attr_string_at(r, g, "constant parameter", name, buf, n);
    }
    if (rc == SHOAL_EHDF5)
        SHOAL_ERROR(rc, "reading constant parameter %s of '%s' failed", name, r->path);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    H5Gclose(g);
    return rc;
}

int shoal_results_param_string(const shoal_results *r, const char *name, char *buf,
                               size_t n)
{
    if (n == 0)
        return SHOAL_EINVAL;
    buf[0] = '\0';
    int is_num;
    return read_constant(r, name, buf, n, NULL, &is_num);
}

int shoal_results_param_double(const shoal_results *r, const char *name, double *out)
{
    char buf[256], *end;
    int is_num = 0;
    double v = 0;
    int rc = read_constant(r, name, buf, sizeof buf, &v, &is_num);
    if (rc < 0 || is_num) {
        if (rc == 0)
            *out = v;
        return rc;
    }
    *out = strtod(buf, &end); /* a file from before typed constants */
    if (end == buf || *end)
        return SHOAL_ERROR(SHOAL_ETYPE, "constant parameter %s of '%s' is '%s', not a number",
                           name, r->path, buf);
    return 0;
}

static int read_all(const shoal_results *r, const char *path, hid_t mtype, void *buf,
                    size_t n, size_t *count)
{
    hid_t d = H5Lexists(r->file, path, H5P_DEFAULT) > 0 ? H5Dopen2(r->file, path, H5P_DEFAULT)
                                                          : -1;
    if (d < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no dataset %s", r->path, path);
    hid_t fs = H5Dget_space(d);
    hssize_t np = H5Sget_simple_extent_npoints(fs);
    H5Sclose(fs);
    int rc = 0;
    if (np < 0 || (size_t)np > n)
        rc = SHOAL_ERROR(SHOAL_ERANGE, "dataset %s of '%s' has %lld values, more than the %zu "
                         "the buffer holds", path, r->path, (long long)np, n);
    else if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        rc = SHOAL_ERROR(SHOAL_EHDF5, "reading %s from '%s' failed", path, r->path);
    H5Dclose(d);
    if (count)
        *count = rc == 0 ? (size_t)np : 0;
    return rc;
}

int shoal_results_read_all_double(const shoal_results *r, const char *path, double *buf,
                                  size_t n, size_t *count)
{
    return read_all(r, path, H5T_NATIVE_DOUBLE, buf, n, count);
}

int shoal_results_read_all_int64(const shoal_results *r, const char *path, int64_t *buf,
                                 size_t n, size_t *count)
{
    return read_all(r, path, H5T_NATIVE_INT64, buf, n, count);
}

/* ---- any column: what it is, and strings ----------------------------------- */

int shoal_results_has(const shoal_results *r, const char *path)
{
    /* Each link of the path must exist before the next is asked for. */
    char buf[1024];
    if (!path || !path[0] || strlen(path) >= sizeof buf)
        return 0;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *slash = strchr(buf, '/');; slash = strchr(slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (H5Lexists(r->file, buf, H5P_DEFAULT) <= 0)
            return 0;
        if (!slash)
            return 1;
        *slash = '/';
    }
}

int shoal_results_column_info(const shoal_results *r, const char *path,
                              shoal_results_column *info)
{
    memset(info, 0, sizeof *info);
    hid_t d = shoal_results_has(r, path) ? H5Dopen2(r->file, path, H5P_DEFAULT) : -1;
    if (d < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no dataset %s", r->path, path);
    hid_t t = H5Dget_type(d), fs = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(fs);
    hsize_t dims[8] = {0};
    int rc = 0;
    if (t < 0 || nd < 0 || nd > 8) {
        rc = SHOAL_ERROR(SHOAL_EHDF5, "%s of '%s' cannot be read", path, r->path);
    } else {
        H5T_class_t c = H5Tget_class(t);
        info->type = c == H5T_INTEGER ? SHOAL_INT64
                     : c == H5T_FLOAT ? SHOAL_FLOAT64
                     : c == H5T_STRING ? SHOAL_STRING
                                       : 0;
        info->is_unsigned = c == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE;
        info->bytes = c == H5T_STRING && H5Tis_variable_str(t) > 0 ? 0 : H5Tget_size(t);
        H5Sget_simple_extent_dims(fs, dims, NULL);
        info->rows = nd ? (uint64_t)dims[0] : 1;
        info->ndims = nd ? nd - 1 : 0;
        info->per_row = 1;
        for (int i = 1; i < nd; i++) {
            info->dims[i - 1] = (uint64_t)dims[i];
            info->per_row *= (uint64_t)dims[i];
        }
    }
    if (fs >= 0)
        H5Sclose(fs);
    if (t >= 0)
        H5Tclose(t);
    H5Dclose(d);
    return rc;
}

/* The i-th link name of group g in name order, into buf (or its length). */
static ssize_t link_name(hid_t g, size_t i, char *buf, size_t n)
{
    return H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i, buf, n,
                              H5P_DEFAULT);
}

static hid_t open_group(const shoal_results *r, const char *group)
{
    if (!shoal_results_has(r, group))
        return -1;
    H5O_info_t oi;
    if (H5Oget_info_by_name(r->file, group, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP)
        return -1;
    return H5Gopen2(r->file, group, H5P_DEFAULT);
}

int shoal_results_count(const shoal_results *r, const char *group, size_t *count)
{
    *count = 0;
    hid_t g = open_group(r, group);
    if (g < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no group /%s", r->path, group);
    H5G_info_t gi;
    int rc = H5Gget_info(g, &gi) < 0
                 ? SHOAL_ERROR(SHOAL_EHDF5, "cannot list /%s of '%s'", group, r->path)
                 : 0;
    if (rc == 0)
        *count = (size_t)gi.nlinks;
    H5Gclose(g);
    return rc;
}

int shoal_results_name(const shoal_results *r, const char *group, size_t i, char *buf,
                       size_t n)
{
    if (n == 0)
        return SHOAL_EINVAL;
    buf[0] = '\0';
    hid_t g = open_group(r, group);
    if (g < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no group /%s", r->path, group);
    ssize_t len = link_name(g, i, NULL, 0);
    int rc = 0;
    if (len < 0)
        rc = SHOAL_ERROR(SHOAL_ENOTFOUND, "/%s of '%s' has no member %zu", group, r->path, i);
    else if ((size_t)len >= n)
        rc = SHOAL_ERROR(SHOAL_ERANGE, "a name in /%s of '%s' is longer than %zu bytes",
                         group, r->path, n - 1);
    else if (link_name(g, i, buf, n) < 0)
        rc = SHOAL_ERROR(SHOAL_EHDF5, "cannot list /%s of '%s'", group, r->path);
    H5Gclose(g);
    return rc;
}

int shoal_results_read_column_uint64(const shoal_results *r, const char *path,
                                     uint64_t start, uint64_t count, uint64_t *buf)
{
    return read_rows(r, path, H5T_NATIVE_UINT64, start, count, buf);
}

/* Read the selection (ms in memory, fs in the file) of string dataset d,
 * nelem elements, into width bytes each of out. */
static int read_strings(const shoal_results *r, const char *path, hid_t d, hid_t ms,
                        hid_t fs, size_t nelem, char *out, size_t width)
{
    if (width == 0)
        return SHOAL_ERROR(SHOAL_EINVAL, "reading %s: no room for a string", path);
    hid_t ft = H5Dget_type(d);
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        if (ft >= 0)
            H5Tclose(ft);
        return SHOAL_ERROR(SHOAL_ETYPE, "%s of '%s' does not hold strings", path, r->path);
    }
    int vlen = H5Tis_variable_str(ft) > 0;
    size_t w = vlen ? sizeof(char *) : H5Tget_size(ft);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, vlen ? H5T_VARIABLE : w);
    H5Tset_cset(mt, H5Tget_cset(ft));
    if (!vlen)
        H5Tset_strpad(mt, H5T_STR_NULLPAD);
    H5Tclose(ft);
    char *tmp = nelem ? calloc(nelem, w) : NULL;
    int rc = 0;
    if (nelem && !tmp)
        rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading %s", path);
    else if (nelem && H5Dread(d, mt, ms, fs, H5P_DEFAULT, tmp) < 0)
        rc = SHOAL_ERROR(SHOAL_EHDF5, "reading %s from '%s' failed", path, r->path);
    for (size_t i = 0; rc == 0 && i < nelem; i++) {
        const char *s = vlen ? ((char **)(void *)tmp)[i] : tmp + i * w;
        size_t len = !s ? 0 : vlen ? strlen(s) : strnlen(s, w);
        if (len > width - 1)
            len = width - 1;
        if (len)
            memcpy(out + i * width, s, len);
        out[i * width + len] = '\0';
    }
    if (vlen && tmp && rc == 0)
        H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, tmp);
    free(tmp);
    H5Tclose(mt);
    return rc;
}

int shoal_results_read_column_string(const shoal_results *r, const char *path,
                                     uint64_t start, uint64_t count, char *buf, size_t width)
{
    if (count == 0 && start <= r->ntasks)
        return 0;
    hid_t d, fs, ms;
    size_t nelem;
    int rc = rows_open(r, path, start, count, &d, &fs, &ms, &nelem);
    if (rc == 0)
        rc = read_strings(r, path, d, ms, fs, nelem, buf, width);
    rows_close(d, fs, ms);
    return rc;
}

int shoal_results_read_all_string(const shoal_results *r, const char *path, char *buf,
                                  size_t width, size_t n, size_t *count)
{
    if (count)
        *count = 0;
    hid_t d = shoal_results_has(r, path) ? H5Dopen2(r->file, path, H5P_DEFAULT) : -1;
    if (d < 0)
        return SHOAL_ERROR(SHOAL_ENOTFOUND, "'%s' has no dataset %s", r->path, path);
    hid_t fs = H5Dget_space(d);
    hssize_t np = H5Sget_simple_extent_npoints(fs);
    int rc = 0;
    if (np < 0 || (size_t)np > n)
        rc = SHOAL_ERROR(SHOAL_ERANGE, "dataset %s of '%s' has %lld values, more than the %zu "
                         "the buffer holds", path, r->path, (long long)np, n);
    else
        rc = read_strings(r, path, d, fs, fs, (size_t)np, buf, width);
    H5Sclose(fs);
    H5Dclose(d);
    if (count && rc == 0)
        *count = (size_t)np;
    return rc;
}
