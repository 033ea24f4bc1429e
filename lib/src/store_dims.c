/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_dims.c: the result file's named dimensions — HDF5 dimension scales
 * in the netCDF-4 style, so that netCDF readers (xarray with h5netcdf, ncdump)
 * see named, shared dimensions in every group.
 *
 * Each dimension is a 1-D uint8 dataset in the root group (a netCDF reader
 * looks a dimension up in the variable's group and its ancestors, so the
 * root serves every group), marked as a scale whose NAME says "a netCDF
 * dimension but not a netCDF variable": it holds no values. It is allocated
 * with the file like every dataset but never written (fill time never), so
 * its bytes stay holes in the file. Datasets are attached to their scales
 * once, when they are created; nothing is written per row.
 *
 *   /task       [ntasks]      /results, /params, /tasks, /input's rows
 *   /point      [npoints]     /points (a scan)
 *   /<f>_dim<k> [dims[k-1]]   the k-th extra dimension of output field f,
 *                             shared by /results/<f>, /reduce/<f>, /points/<g>/<f>
 *   /rank       [nranks]      /ranks (remade, with it, by each segment)
 *   /failure    [slots]       /failures (likewise)
 *   /segment    [segments]    /segments, extendible: grown with its columns
 *
 * Every call here changes metadata: collective, identical on every rank.
 * A file made before the scales has none; nothing requires them. */
#include <shoal/error.h>

#include "store_impl.h"

#include <hdf5_hl.h>
#include <stdio.h>
#include <string.h>

/* What netCDF-4 writes as the NAME of a dimension without values (readers
 * check this prefix), followed by the length. */
#define NOT_A_VARIABLE "This is a netCDF dimension but not a netCDF variable."

enum { GROW_CHUNK = 64 };

int shoal__dim_create(hid_t file, const char *name, uint64_t len, int grows)
{
    hsize_t n = len, max = grows ? H5S_UNLIMITED : len, chunk = GROW_CHUNK;
    hid_t sp = H5Screate_simple(1, &n, &max);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (grows)
        H5Pset_chunk(dcpl, 1, &chunk);
    else
        H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER); /* never written: holes */
    hid_t d = H5Dcreate2(file, name, H5T_STD_U8LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (d < 0)
        return SHOAL_EHDF5;
    char label[sizeof NOT_A_VARIABLE + 24];
    snprintf(label, sizeof label, "%s%10llu", NOT_A_VARIABLE, (unsigned long long)len);
    herr_t e = H5DSset_scale(d, label);
    H5Dclose(d);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

int shoal__dim_exists(hid_t file, const char *name)
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return 0;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0)
        return 0;
    int yes = H5DSis_scale(d) > 0;
    H5Dclose(d);
    return yes;
}

int shoal__dim_delete(hid_t file, const char *name)
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return 0;
    return H5Ldelete(file, name, H5P_DEFAULT) < 0 ? SHOAL_EHDF5 : 0;
}

int shoal__dim_extend(hid_t file, const char *name, uint64_t len)
{
    if (!shoal__dim_exists(file, name))
        return 0;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    hsize_t n = len;
    herr_t e = d < 0 ? -1 : H5Dset_extent(d, &n);
    if (d >= 0)
        H5Dclose(d);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

static int attach_one(hid_t file, hid_t d, unsigned idx, const char *name)
{
    hid_t sc = H5Dopen2(file, name, H5P_DEFAULT);
    herr_t e = sc < 0 ? -1 : H5DSattach_scale(d, sc, idx);
    if (sc >= 0)
        H5Dclose(sc);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

void shoal__dim_field_name(char *buf, size_t n, const char *field, int k)
{
    snprintf(buf, n, "%s_dim%d", field, k);
}

int shoal__dim_attach(hid_t file, hid_t d, const char *outer, const char *field, int ndims)
{
    int rc = 0;
    unsigned idx = 0;
    if (outer && ndims > 0)
        rc = attach_one(file, d, idx++, outer);
    for (int k = 1; rc == 0 && field && (int)idx < ndims; k++) {
        char name[SHOAL__DIM_NAME];
        shoal__dim_field_name(name, sizeof name, field, k);
        rc = attach_one(file, d, idx++, name);
    }
    return rc;
}

int shoal__dim_fields(hid_t file, const shoal_field *fields, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const shoal_field *f = &fields[i];
        if (f->type == SHOAL_STRING)
            continue; /* one string per task: only the task dimension */
        for (int k = 1; k <= f->ndims && rc == 0; k++) {
            char name[SHOAL__DIM_NAME];
            shoal__dim_field_name(name, sizeof name, f->name, k);
            rc = shoal__dim_create(file, name, f->dims[k - 1], 0);
        }
    }
    return rc;
}
