/* SPDX-License-Identifier: GPL-3.0-or-later */
/* h5util.c: HDF5 error translation and attributes. HDF5 prints its whole
 * error stack by default; we switch that off and report the innermost
 * description. Attributes are variable-length UTF-8 strings or scalars, which
 * h5py reads as str and numbers; a quantity carries "units" and "doc". */
#include <shoal/error.h>

#include "h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void shoal__h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct {
    char *buf;
    size_t n;
} walk_ctx;

static herr_t walk_cb(unsigned pos, const H5E_error2_t *e, void *data)
{
    walk_ctx *w = data;
    if (pos == 0 && e->desc)
        snprintf(w->buf, w->n, "%s", e->desc);
    return 0;
}

void shoal__h5_message(char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    walk_ctx w = {buf, n};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
}

/* ---- attributes -------------------------------------------------------------- */

static int attr_write(hid_t loc, const char *name, hid_t type, const void *v)
{
    if (H5Aexists(loc, name) > 0 && H5Adelete(loc, name) < 0)
        return SHOAL_EHDF5;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, type, v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

int shoal__attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const char *v = value ? value : "";
    int rc = attr_write(loc, name, t, &v);
    H5Tclose(t);
    return rc;
}

int shoal__attr_u64(hid_t loc, const char *name, uint64_t v)
{
    return attr_write(loc, name, H5T_NATIVE_UINT64, &v);
}

int shoal__attr_double(hid_t loc, const char *name, double v)
{
    return attr_write(loc, name, H5T_NATIVE_DOUBLE, &v);
}

int shoal__attr_i64(hid_t loc, const char *name, int64_t v)
{
    return attr_write(loc, name, H5T_NATIVE_INT64, &v);
}

int shoal__attr_meta(hid_t d, const char *unit, const char *doc)
{
    int rc = 0;
    if (unit)
        rc = shoal__attr_str(d, "units", unit);
    if (rc == 0 && doc)
        rc = shoal__attr_str(d, "doc", doc);
    return rc;
}

hid_t shoal__h5_text_type(size_t len, H5T_str_t pad)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len > 0 ? len : 1);
    H5Tset_strpad(t, pad);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

int shoal__attr_utf8(hid_t d) { return shoal__attr_str(d, "_Encoding", "utf-8"); }

char *shoal__attr_read_str(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *v = NULL, *copy = NULL;
    if (a >= 0 && H5Aread(a, t, &v) >= 0 && v) {
        copy = malloc(strlen(v) + 1);
        if (copy)
            strcpy(copy, v);
        H5free_memory(v);
    }
    H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return copy;
}

void shoal__iso_time(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
