/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store.c: the result file's schema — the store object, the binding of every
 * per-task dataset (one function for create and open), opening and close.
 * Creating a new file is in store_create.c.
 *
 * Set-up and close are collective; everything between is independent row
 * writes into datasets allocated at creation (store_rows.c), so no metadata
 * changes while ranks are out of lockstep and a killed run leaves a readable
 * file. Collective failures are reported by rank 0 only, and every rank
 * returns the same code. /ranks/host uses fixed-length strings because
 * variable-length raw data cannot be written in parallel. */
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/version.h>

#include "failures.h"
#include "h5util.h"
#include "mpiutil.h"
#include "store_impl.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The /tasks columns: name and doc (their types: column_*_type below). */
static const struct {
    const char *name;
    const char *doc;
    const char *unit;
} columns[NCOLS] = {
    [COL_STATUS] = {"status", "0 pending, 1 done, 2 failed, 3 running when last written", NULL},
    [COL_RANK] = {"rank", "MPI rank that ran the task", NULL},
    [COL_SECONDS] = {"seconds", "wall time of the task", "s"},
    [COL_ERROR] = {"error", "code returned by a failed task, 0 otherwise", NULL},
    [COL_ATTEMPTS] = {"attempts", "times the task ran (retries included)", NULL},
};

/* HDF5's predefined type ids are run-time values, so the column types are
 * chosen here rather than in the table. */
static hid_t column_file_type(int c)
{
    return c == COL_STATUS || c == COL_ATTEMPTS ? H5T_STD_U8LE
           : c == COL_SECONDS                   ? H5T_IEEE_F32LE
                                                : H5T_STD_I32LE;
}

static hid_t column_mem_type(int c)
{
    return c == COL_STATUS || c == COL_ATTEMPTS ? H5T_NATIVE_UINT8
           : c == COL_SECONDS                   ? H5T_NATIVE_FLOAT
                                                : H5T_NATIVE_INT32;
}

/* ---- the store object ------------------------------------------------------------ */

void shoal__dset_close(shoal__dset *d)
{
    if (d->dset > 0)
        H5Dclose(d->dset);
    if (d->space > 0)
        H5Sclose(d->space);
    d->dset = d->space = 0;
}

shoal_store *shoal__store_alloc(MPI_Comm comm, const shoal_store_spec *spec)
{
    shoal_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->comm = comm;
    MPI_Comm_rank(comm, &s->rank);
    MPI_Comm_size(comm, &s->nranks);
    s->ntasks = spec->ntasks;
    s->grow_rows = spec->grow_rows;
    s->spec = *spec; /* what it points to outlives the store */
    s->nfields = spec->nfields;
    s->nparams = spec->nparams;
    s->with_points = spec->with_points;
    s->fields = spec->fields;
    snprintf(s->path, sizeof s->path, "%s", spec->path);
    s->field = calloc(spec->nfields + 1, sizeof *s->field);
    s->param = calloc(spec->nparams + 1, sizeof *s->param);
    if (!s->field || !s->param) {
        shoal__store_free(s);
        return NULL;
    }
    return s;
}

void shoal__store_free(shoal_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->field && i < s->nfields; i++) {
        shoal__dset_close(&s->field[i]);
        /* A string field's memory type is a copy, made by bind. */
        if (s->field[i].mtype > 0 && H5Tget_class(s->field[i].mtype) == H5T_STRING)
            H5Tclose(s->field[i].mtype);
    }
    for (int c = 0; c < NCOLS; c++)
        shoal__dset_close(&s->col[c]);
    for (size_t i = 0; s->param && i < s->nparams; i++) {
        shoal__dset_close(&s->param[i]);
        if (s->param[i].mtype > 0)
            H5Tclose(s->param[i].mtype); /* a copy, made by bind */
    }
    shoal__dset_close(&s->point);
    shoal__dset_close(&s->replicate);
    shoal__segments_close(s);
    shoal__store_agg_close(s);
    shoal__store_search_close(s);
    shoal__store_stream_close(s);
    shoal__store_agg_free(s);
    if (s->dxpl > 0)
        H5Pclose(s->dxpl);
    if (s->file > 0)
        H5Fclose(s->file);
    free(s->field);
    free(s->param);
    free(s);
}

/* ---- binding the schema ------------------------------------------------------------ */

/* Zero bytes for fill values of any type up to this size. */
static const unsigned char zero_fill[SHOAL_FAILURE_MSG];

const void *const shoal__store_zero_fill = zero_fill;

hid_t shoal__store_make_dataset(hid_t loc, const char *name, hid_t ftype, int ndims,
                          const hsize_t *dims, const void *fill)
{
    return shoal__store_make_dataset_grow(loc, name, ftype, ndims, dims, fill, 0);
}

/* Bytes of one chunk of an extendible dataset, at most. */
#define GROW_CHUNK_BYTES ((uint64_t)1 << 20)

hid_t shoal__store_make_dataset_grow(hid_t loc, const char *name, hid_t ftype, int ndims,
                                     const hsize_t *dims, const void *fill, uint64_t grow_rows)
{
    hsize_t max[SHOAL_MAX_DIMS + 1], chunk[SHOAL_MAX_DIMS + 1];
    int grows = grow_rows > 0 && ndims > 0;
    uint64_t row = H5Tget_size(ftype);
    for (int k = 0; k < ndims; k++) {
        max[k] = k == 0 && grows ? H5S_UNLIMITED : dims[k];
        chunk[k] = dims[k] > 0 ? dims[k] : 1;
        if (k > 0)
            row *= dims[k] > 0 ? dims[k] : 1;
    }
    if (grows) {
        uint64_t rows = GROW_CHUNK_BYTES / (row > 0 ? row : 1);
        chunk[0] = rows < 1 ? 1 : rows > grow_rows ? grow_rows : rows;
    }
    hid_t sp = ndims > 0 ? H5Screate_simple(ndims, dims, max) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (grows)
        H5Pset_chunk(dcpl, ndims, chunk);
    else
        H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    if (fill && (fill != zero_fill || H5Tget_size(ftype) <= sizeof zero_fill)) {
        /* Entries no one wrote read as the fill value (pending: 0). The
         * value is given in ftype's own layout. */
        H5Pset_fill_value(dcpl, ftype, fill);
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    } else {
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    }
    hid_t d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

hid_t shoal__store_param_type(const shoal_store_column *c, hid_t *ftype)
{
    hid_t m;
    if (c->type == SHOAL_STRING) {
        m = shoal__h5_text_type(c->strlen, H5T_STR_NULLPAD);
        *ftype = m;
    } else {
        m = H5Tcopy(c->type == SHOAL_INT64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
        *ftype = c->type == SHOAL_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
    }
    return m;
}

/* "8-byte float" and the like, for messages. */
static void type_words(hid_t t, char *buf, size_t n)
{
    H5T_class_t c = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    const char *what = c == H5T_INTEGER ? (H5Tget_sign(t) == H5T_SGN_NONE ? "unsigned integer"
                                                                           : "integer")
                       : c == H5T_FLOAT  ? "float"
                       : c == H5T_STRING ? "string"
                                         : "non-numeric type";
    snprintf(buf, n, "%zu-byte %s", size, what);
}

/* Open mode: does d's dataset have the shape and file type the run writes? */
static int check_structure(const shoal__dset *d, hid_t ftype, const char *path, char *why,
                           size_t nwhy)
{
    hsize_t dims[SHOAL_MAX_DIMS + 2] = {0};
    int nd = H5Sget_simple_extent_ndims(d->space);
    int same = nd == d->ndims;
    if (nd >= 0 && nd <= SHOAL_MAX_DIMS + 1)
        H5Sget_simple_extent_dims(d->space, dims, NULL);
    for (int k = 0; same && k < nd; k++)
        same = dims[k] == d->dims[k];
    if (!same) {
        char have[160] = "", want[160] = "";
        size_t a = 0, b = 0;
        for (int k = 0; k < nd && k <= SHOAL_MAX_DIMS; k++)
            a += (size_t)snprintf(have + a, sizeof have - a, "%s%llu", k ? " x " : "",
                                  (unsigned long long)dims[k]);
        for (int k = 0; k < d->ndims; k++)
            b += (size_t)snprintf(want + b, sizeof want - b, "%s%llu", k ? " x " : "",
                                  (unsigned long long)d->dims[k]);
        size_t n = (size_t)snprintf(why, nwhy, "dataset /%.300s has shape %s", path,
                                    nd >= 0 ? have : "(unreadable)");
        if (n < nwhy)
            snprintf(why + n, nwhy - n, ", this run writes %s", want);
        return SHOAL_ECONFIG;
    }
    hid_t t = H5Dget_type(d->dset);
    int ok = t >= 0 && H5Tequal(t, ftype) > 0;
    if (!ok && t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tget_class(ftype) == H5T_STRING) {
        /* Text of a file from before UTF-8: the same strings in ASCII. */
        hid_t ascii = H5Tcopy(ftype);
        H5Tset_cset(ascii, H5Tget_cset(t));
        ok = H5Tequal(t, ascii) > 0;
        H5Tclose(ascii);
    }
    if (!ok) {
        char have[64] = "unreadable type", want[64];
        if (t >= 0)
            type_words(t, have, sizeof have);
        type_words(ftype, want, sizeof want);
        size_t n = (size_t)snprintf(why, nwhy, "dataset /%.300s holds %s values", path, have);
        if (n < nwhy)
            snprintf(why + n, nwhy - n, ", this run writes %s", want);
    }
    if (t >= 0)
        H5Tclose(t);
    return ok ? 0 : SHOAL_ECONFIG;
}

/* Create or open one dataset `group/name` into d (d->mtype, ndims and dims
 * set by the caller); opening checks its shape and type. Returns 0, or
 * SHOAL_EHDF5 with what went wrong in why. */
int shoal__store_bind_one(shoal_store *s, shoal__bind_mode mode, const char *group,
                          const char *name, hid_t ftype, const void *fill,
                          const shoal__dset_meta *meta, shoal__dset *d, char *why,
                          size_t nwhy)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", group, name);
    if (mode == SHOAL__BIND_CREATE) {
        /* A stream's per-task datasets grow as its items arrive. */
        int grows = s->grow_rows > 0 && meta && meta->outer &&
                    !strcmp(meta->outer, SHOAL__DIM_TASK);
        d->dset = shoal__store_make_dataset_grow(s->file, path, ftype, d->ndims, d->dims, fill,
                                                 grows ? s->grow_rows : 0);
        int bad = 0;
        if (d->dset >= 0 && meta) {
            bad = shoal__attr_meta(d->dset, meta->unit, meta->doc) < 0 ||
                  (meta->text && shoal__attr_utf8(d->dset) < 0);
            if (bad)
                snprintf(why, nwhy, "cannot write the attributes of /%s", path);
            else if ((bad = shoal__dim_attach(s->file, d->dset, meta->outer, meta->field,
                                              d->ndims) < 0))
                snprintf(why, nwhy, "cannot attach the dimensions of /%s", path);
        }
        if (bad)
            return SHOAL_EHDF5;
    } else {
        d->dset = H5Lexists(s->file, group, H5P_DEFAULT) > 0 &&
                          H5Lexists(s->file, path, H5P_DEFAULT) > 0
                      ? H5Dopen2(s->file, path, H5P_DEFAULT)
                      : -1;
    }
    if (d->dset < 0) {
        snprintf(why, nwhy, mode == SHOAL__BIND_CREATE ? "cannot create /%s"
                                                       : "dataset /%s is missing",
                 path);
        return mode == SHOAL__BIND_CREATE ? SHOAL_EHDF5 : SHOAL_ECONFIG;
    }
    d->space = H5Dget_space(d->dset);
    if (d->space < 0)
        return SHOAL_EHDF5;
    if (mode == SHOAL__BIND_CREATE)
        return 0;
    int rc = check_structure(d, ftype, path, why, nwhy);
    if (rc == 0 && H5Tget_class(d->mtype) == H5T_STRING) {
        /* Rows are written in the file's own character set: HDF5 converts
         * no strings between ASCII and UTF-8. */
        hid_t t = H5Dget_type(d->dset);
        if (t < 0 || H5Tset_cset(d->mtype, H5Tget_cset(t)) < 0)
            rc = SHOAL_EHDF5;
        if (t >= 0)
            H5Tclose(t);
    }
    return rc;
}

int shoal__store_step(shoal_store *s, const char *name, int rc)
{
    if (rc == 0 && shoal__inject(name, s->rank))
        rc = SHOAL_EHDF5;
    return shoal__agree(s->comm, rc);
}

int shoal__store_bind(shoal_store *s, const shoal_store_spec *spec,
                      shoal__bind_mode mode)
{
    char why[700] = "";
    int rc = 0;
    const char *bind_step = mode == SHOAL__BIND_CREATE ? "bind" : "rebind";
    if (mode == SHOAL__BIND_CREATE) {
        static const char *const groups[] = {"results", "tasks", "params"};
        for (size_t g = 0; g < 3 && rc == 0; g++) {
            hid_t id = H5Gcreate2(s->file, groups[g], H5P_DEFAULT, H5P_DEFAULT,
                                  H5P_DEFAULT);
            if (id < 0) {
                snprintf(why, sizeof why, "cannot create group /%s", groups[g]);
                rc = SHOAL_EHDF5;
            } else {
                H5Gclose(id);
            }
            rc = shoal__store_step(s, bind_step, rc);
        }
        /* The named dimensions, before the datasets that use them. */
        int r = shoal__dim_create(s->file, SHOAL__DIM_TASK, s->ntasks, s->grow_rows > 0);
        if (r == 0 && s->with_points)
            r = shoal__dim_create(s->file, SHOAL__DIM_POINT, spec->npoints, 0);
        if (r == 0)
            r = shoal__dim_fields(s->file, spec->fields, spec->nfields);
        if (r < 0)
            snprintf(why, sizeof why, "cannot create the dimension scales");
        if (rc == 0)
            rc = shoal__store_step(s, bind_step, r);
    }
    for (size_t i = 0; i < spec->nfields && rc == 0; i++) {
        const shoal_field *f = &spec->fields[i];
        shoal__dset *d = &s->field[i];
        d->ndims = 1 + f->ndims;
        d->dims[0] = s->ntasks;
        for (int k = 0; k < f->ndims; k++)
            d->dims[k + 1] = f->dims[k];
        hid_t ft = f->type == SHOAL_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
        if (f->type == SHOAL_STRING) {
            /* One fixed-length string of dims[0] bytes per task. */
            shoal_store_column text = {f->name, SHOAL_STRING, (size_t)f->dims[0], NULL, NULL};
            d->ndims = 1;
            d->mtype = shoal__store_param_type(&text, &ft);
        } else {
            d->mtype = f->type == SHOAL_INT64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
        }
        shoal__dset_meta meta = {SHOAL__DIM_TASK, f->name, f->unit, f->doc,
                                 f->type == SHOAL_STRING};
        rc = shoal__store_step(s, bind_step,
                  shoal__store_bind_one(s, mode, "results", f->name, ft, NULL,
                           &meta, d, why, sizeof why));
    }
    for (int c = 0; c < NCOLS && rc == 0; c++) {
        shoal__dset *d = &s->col[c];
        d->ndims = 1;
        d->dims[0] = s->ntasks;
        d->mtype = column_mem_type(c);
        shoal__dset_meta meta = {SHOAL__DIM_TASK, NULL, columns[c].unit, columns[c].doc, 0};
        rc = shoal__store_step(s, bind_step,
                  shoal__store_bind_one(s, mode, "tasks", columns[c].name, column_file_type(c),
                           c == COL_STATUS ? zero_fill : NULL, &meta, d, why,
                           sizeof why));
    }
    for (size_t i = 0; i < spec->nparams && rc == 0; i++) {
        const shoal_store_column *c = &spec->params[i];
        shoal__dset *d = &s->param[i];
        d->ndims = 1;
        d->dims[0] = s->ntasks;
        hid_t ft;
        d->mtype = shoal__store_param_type(c, &ft);
        shoal__dset_meta meta = {SHOAL__DIM_TASK, NULL, c->unit, c->doc,
                                 c->type == SHOAL_STRING};
        rc = shoal__store_step(s, bind_step,
                               shoal__store_bind_one(s, mode, "params", c->name, ft, NULL,
                                                     &meta, d, why, sizeof why));
    }
    if (s->with_points && rc == 0) {
        shoal__dset *pr[2] = {&s->point, &s->replicate};
        static const char *const names[2] = {"point", "replicate"};
        static const char *const docs[2] = {"the task's scan point (row of /points)",
                                            "the task's replicate of its point"};
        for (int k = 0; k < 2 && rc == 0; k++) {
            pr[k]->ndims = 1;
            pr[k]->dims[0] = s->ntasks;
            pr[k]->mtype = H5T_NATIVE_INT64;
            shoal__dset_meta meta = {SHOAL__DIM_TASK, NULL, NULL, docs[k], 0};
            rc = shoal__store_step(s, bind_step,
                                   shoal__store_bind_one(s, mode, "tasks", names[k],
                                                         H5T_STD_I64LE, NULL, &meta, pr[k],
                                                         why, sizeof why));
        }
    }
    if (rc == 0)
        rc = shoal__store_bind_agg(s, spec, mode, why, sizeof why);
    if (rc == 0)
        rc = shoal__segments_bind(s, mode, why, sizeof why);
    if (rc == 0)
        rc = shoal__store_search_bind(s, spec, mode, why, sizeof why);
    if (rc == 0)
        rc = shoal__store_stream_bind(s, mode, why, sizeof why);
    if (rc < 0 && s->rank == 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        if (!why[0]) /* another rank failed, or an injected failure */
            snprintf(why, sizeof why, "a rank could not %s a dataset",
                     mode == SHOAL__BIND_CREATE ? "create" : "open");
        SHOAL_ERROR(rc, "%s '%s': %s%s%s",
                    mode == SHOAL__BIND_CREATE ? "cannot set up output file"
                                               : "cannot resume",
                    spec->path, why[0] ? why : "HDF5 error",
                    rc == SHOAL_ECONFIG ? "; it does not hold this run, or it is damaged; "
                                          "leaving it as it is"
                                        : msg[0] ? ": " : "",
                    rc == SHOAL_ECONFIG ? "" : msg);
    }
    return rc;
}

int shoal__store_open_file(shoal_store *s, const char *path, int create)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, s->comm, MPI_INFO_NULL);
    H5Pset_coll_metadata_write(fapl, 1);
    s->file = create ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)
                     : H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    /* A file that HDF5 cannot open is not one to resume (exit 2). */
    int rc = s->file >= 0 ? 0 : create ? SHOAL_EHDF5 : SHOAL_ECONFIG;
    if (rc == 0 && shoal__inject(create ? "create" : "open", s->rank))
        rc = SHOAL_EHDF5;
    rc = shoal__agree(s->comm, rc);
    if (rc < 0 && s->rank == 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        if (create)
            SHOAL_ERROR(rc, "cannot create output file '%s': %s", path,
                        msg[0] ? msg : "HDF5 error");
        else
            SHOAL_ERROR(rc, "cannot resume '%s': HDF5 cannot open it%s%s; it is not a "
                        "result file, or it is truncated or damaged; leaving it as it is",
                        path, msg[0] ? ": " : "", msg);
    }
    if (rc == 0) {
        s->dxpl = H5Pcreate(H5P_DATASET_XFER);
        H5Pset_dxpl_mpio(s->dxpl, H5FD_MPIO_INDEPENDENT);
    }
    return rc;
}

/* Collective: close the file and drop every handle (all ranks agreed to). */
static int close_file(shoal_store *s)
{
    hid_t file = s->file;
    s->file = 0;
    for (size_t i = 0; i < s->nfields; i++)
        shoal__dset_close(&s->field[i]);
    for (int c = 0; c < NCOLS; c++)
        shoal__dset_close(&s->col[c]);
    for (size_t i = 0; i < s->nparams; i++)
        shoal__dset_close(&s->param[i]);
    shoal__dset_close(&s->point);
    shoal__dset_close(&s->replicate);
    shoal__segments_close(s);
    shoal__store_agg_close(s);
    shoal__store_search_close(s);
    shoal__store_stream_close(s);
    if (s->dxpl > 0)
        H5Pclose(s->dxpl);
    s->dxpl = 0;
    return file > 0 && H5Fclose(file) < 0 ? SHOAL_EHDF5 : 0;
}

/* String memory types are copies that bind made. */
static void close_text_types(shoal_store *s)
{
    for (size_t i = 0; s->field && i < s->nfields; i++)
        if (s->field[i].mtype > 0 && H5Tget_class(s->field[i].mtype) == H5T_STRING) {
            H5Tclose(s->field[i].mtype);
            s->field[i].mtype = 0;
        }
    for (size_t i = 0; s->param && i < s->nparams; i++)
        if (s->param[i].mtype > 0) {
            H5Tclose(s->param[i].mtype);
            s->param[i].mtype = 0;
        }
}

int shoal__store_reopen(shoal_store *s)
{
    if (s->grow_rows == 0)
        return SHOAL_ERROR(SHOAL_EINTERNAL, "store: only a stream's file is opened again");
    uint64_t seg_rows = s->seg_rows;
    int seg_missing = s->seg_missing;
    close_text_types(s);
    int rc = shoal__agree(s->comm, close_file(s));
    shoal__store_agg_free(s); /* bind makes them again */
    if (rc == 0)
        rc = shoal__store_open_file(s, s->path, 0);
    if (rc == 0)
        rc = shoal__store_bind(s, &s->spec, SHOAL__BIND_OPEN);
    s->seg_rows = seg_rows;
    s->seg_missing = seg_missing;
    return rc;
}

/* ---- close ------------------------------------------------------------------------- */

static int write_rank_stat(shoal_store *s, const char *name, hid_t mtype, const void *v)
{
    char path[64];
    snprintf(path, sizeof path, "ranks/%s", name);
    hid_t d = H5Dopen2(s->file, path, H5P_DEFAULT);
    if (d < 0)
        return SHOAL_EHDF5;
    hid_t fs = H5Dget_space(d);
    hsize_t off = (hsize_t)s->rank, one = 1;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &one, NULL);
    hid_t ms = H5Screate_simple(1, &one, NULL);
    herr_t e = H5Dwrite(d, mtype, ms, fs, s->dxpl, v);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

void shoal_store_set_stop(shoal_store *s, uint64_t used, const char *reason)
{
    s->has_stop = 1;
    s->used = used < s->ntasks ? used : s->ntasks;
    snprintf(s->stop_reason, sizeof s->stop_reason, "%s", reason);
}

int shoal_store_close(shoal_store *s, const shoal_store_rank_stats *mine, uint64_t done,
                      uint64_t failed, double wall_seconds, const shoal_store_failure *log,
                      size_t nlog, const char *state)
{
    if (!s)
        return 0;
    /* A stream's ranks come with different metadata caches: start the
     * collective writes below from the same, empty one. */
    int bad = s->grow_rows > 0 && s->file > 0 && shoal__store_reopen(s) < 0;
    bad |= shoal_store_write_failures(s, log, nlog) < 0;
    bad |= write_rank_stat(s, shoal__rank_stats[0], H5T_NATIVE_UINT64, &mine->tasks) < 0;
    bad |= write_rank_stat(s, shoal__rank_stats[1], H5T_NATIVE_DOUBLE, &mine->busy_seconds) < 0;
    bad |= write_rank_stat(s, shoal__rank_stats[2], H5T_NATIVE_DOUBLE, &mine->idle_seconds) < 0;
    bad |= write_rank_stat(s, shoal__rank_stats[3], H5T_NATIVE_DOUBLE, &mine->cpu_seconds) < 0;
    bad |= write_rank_stat(s, shoal__rank_stats[4], H5T_NATIVE_UINT64, &mine->max_rss_kib) < 0;
    char finished[32];
    if (s->rank == 0)
        shoal__iso_time(finished, sizeof finished);
    MPI_Bcast(finished, sizeof finished, MPI_CHAR, 0, s->comm);
    MPI_Bcast(&wall_seconds, 1, MPI_DOUBLE, 0, s->comm);
    bad |= shoal__segments_end(s, finished, state ? state : "complete", wall_seconds) < 0;
    bad |= shoal__attr_str(s->file, "finished", finished) < 0;
    bad |= shoal__attr_str(s->file, "state", state ? state : "complete") < 0;
    bad |= shoal__attr_double(s->file, "wall_seconds", wall_seconds) < 0;
    bad |= shoal__attr_u64(s->file, "tasks_done", done) < 0;
    bad |= shoal__attr_u64(s->file, "tasks_failed", failed) < 0;
    /* A stream's file grew: its rows now (while it runs, the task
     * dimension's length says it). */
    if (s->grow_rows > 0)
        bad |= shoal__attr_u64(s->file, "ntasks", s->ntasks) < 0;
    if (s->reduce_seconds > 0)
        bad |= shoal__attr_double(s->file, "reduce_seconds", s->reduce_seconds) < 0;
    bad |= shoal__store_search_end(s) < 0;
    if (s->has_stop) {
        bad |= shoal__attr_u64(s->file, "tasks_used", s->used) < 0;
        bad |= shoal__attr_str(s->file, "stop_reason", s->stop_reason) < 0;
    }
    /* Every dataset handle goes before the file, so H5Fclose really closes. */
    bad |= close_file(s) < 0;
    int rc = shoal__agree(s->comm, bad ? SHOAL_EHDF5 : 0);
    if (rc < 0 && s->rank == 0)
        SHOAL_ERROR(rc, "closing output file '%s' failed", s->path);
    shoal__store_free(s);
    return rc;
}
