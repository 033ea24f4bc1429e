/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_agg.c: the datasets that hold what a run computes from its rows —
 * /reduce (each field's reduction over the run) and, with a scan, /points
 * (one row per scan point). They are created with the file, at their final
 * size, reading NaN (floats) or 0 until reduce.c fills them when the run
 * completes; --resume opens and checks them like every other dataset.
 *
 *   /reduce/<field>             the field's shape (a scalar field: a scalar)
 *   /points/params/<name>       [npoints] the point's scanned values
 *   /points/replicates          [npoints] int64, done replicates
 *   /points/mean/<field>        [npoints] scalar float64 fields
 *   /points/stderr/<field>      [npoints]
 *   /points/reduce/<field>      [npoints, shape...]
 *   /points/derived/<name>      [npoints] the app's derived quantities
 *   /points/derived_err/<name>  [npoints]
 * Each carries its field's "units" and "doc" and is attached to the point
 * dimension and the field's own (store_dims.c). */
#include <shoal/error.h>

#include "h5util.h"
#include "mpiutil.h"
#include "reduce.h"
#include "store_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double nan_fill = NAN;

/* The type /reduce/<f> holds: the field's own for sum, min, max and user
 * combines; int64 counts; float64 statistics. */
static shoal_type reduced_type(const shoal_field *f)
{
    switch (f->reduce) {
    case SHOAL_REDUCE_COUNT:
        return SHOAL_INT64;
    case SHOAL_REDUCE_MEAN:
    case SHOAL_REDUCE_VAR:
    case SHOAL_REDUCE_MOMENTS:
        return SHOAL_FLOAT64;
    default:
        return f->type;
    }
}

shoal_type shoal__reduced_type(const shoal_field *f) { return reduced_type(f); }

/* The unit of /reduce/<f>: the field's, except for a count (a number of
 * tasks), a variance (the unit squared, which free text cannot form) and
 * moments (a count, a mean and a sum of squares side by side). */
static const char *reduced_unit(const shoal_field *f)
{
    switch (f->reduce) {
    case SHOAL_REDUCE_COUNT:
        return "1";
    case SHOAL_REDUCE_VAR:
    case SHOAL_REDUCE_MOMENTS:
        return NULL;
    default:
        return f->unit;
    }
}

static int make_group(shoal_store *s, shoal__bind_mode mode, const char *path, char *why,
                      size_t nwhy)
{
    if (mode != SHOAL__BIND_CREATE)
        return 0;
    hid_t g = H5Gcreate2(s->file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        snprintf(why, nwhy, "cannot create group /%s", path);
        return SHOAL_EHDF5;
    }
    H5Gclose(g);
    return 0;
}

/* Bind group/name as a dataset of `type` with outer dimension `outer` (0:
 * none; else the point dimension) and then the field's dimensions (f NULL:
 * none); unit and doc are its attributes. */
static int bind(shoal_store *s, shoal__bind_mode mode, const char *group, const char *name,
                shoal_type type, uint64_t outer, const shoal_field *f, const char *unit,
                const char *doc, shoal__dset *d, char *why, size_t nwhy)
{
    shoal__dset_meta meta = {outer ? SHOAL__DIM_POINT : NULL, f ? f->name : NULL, unit, doc,
                             0};
    d->ndims = 0;
    if (outer)
        d->dims[d->ndims++] = outer;
    for (int k = 0; f && k < f->ndims; k++)
        d->dims[d->ndims++] = f->dims[k];
    d->mtype = type == SHOAL_INT64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
    hid_t ft = type == SHOAL_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
    const void *fill = type == SHOAL_INT64 ? shoal__store_zero_fill : (const void *)&nan_fill;
    return shoal__store_step(s, mode == SHOAL__BIND_CREATE ? "bind" : "rebind",
                             shoal__store_bind_one(s, mode, group, name, ft, fill, &meta, d,
                                                   why, nwhy));
}

static int any_reduce(const shoal_store_spec *spec)
{
    for (size_t i = 0; i < spec->nfields; i++)
        if (spec->fields[i].reduce != SHOAL_REDUCE_NONE)
            return 1;
    return 0;
}

int shoal__store_bind_agg(shoal_store *s, const shoal_store_spec *spec,
                          shoal__bind_mode mode, char *why, size_t nwhy)
{
    shoal__agg *a = &s->agg;
    size_t nf = spec->nfields, nd = spec->with_points ? spec->nderived : 0;
    a->red = calloc(nf + 1, sizeof *a->red);
    a->p_param = calloc(spec->nparams + 1, sizeof *a->p_param);
    a->p_mean = calloc(nf + 1, sizeof *a->p_mean);
    a->p_stderr = calloc(nf + 1, sizeof *a->p_stderr);
    a->p_red = calloc(nf + 1, sizeof *a->p_red);
    a->p_der = calloc(nd + 1, sizeof *a->p_der);
    a->p_der_err = calloc(nd + 1, sizeof *a->p_der_err);
    int rc = a->red && a->p_param && a->p_mean && a->p_stderr && a->p_red && a->p_der &&
                     a->p_der_err
                 ? 0
                 : SHOAL_ENOMEM;
    rc = shoal__agree(s->comm, rc);
    if (rc < 0)
        return rc;
    a->nderived = nd;
    int reduce = any_reduce(spec);
    if (reduce)
        rc = shoal__store_step(s, "bind", make_group(s, mode, "reduce", why, nwhy));
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const shoal_field *f = &spec->fields[i];
        if (f->reduce != SHOAL_REDUCE_NONE)
            rc = bind(s, mode, "reduce", f->name, reduced_type(f), 0, f, reduced_unit(f),
                      f->doc, &a->red[i], why, nwhy);
    }
    if (!spec->with_points || rc < 0)
        return rc;

    a->points = 1;
    a->npoints = spec->npoints;
    a->replicates = spec->replicates;
    static const char *const groups[] = {"points", "points/params", "points/mean",
                                         "points/stderr", "points/reduce", "points/derived",
                                         "points/derived_err"};
    for (size_t g = 0; g < sizeof groups / sizeof *groups && rc == 0; g++)
        if ((g != 4 || reduce) && (g < 5 || nd > 0))
            rc = shoal__store_step(s, "bind", make_group(s, mode, groups[g], why, nwhy));
    uint64_t np = spec->npoints;
    for (size_t i = 0; i < spec->nparams && rc == 0; i++) {
        const shoal_store_column *c = &spec->params[i];
        shoal__dset *d = &a->p_param[i];
        d->ndims = 1;
        d->dims[0] = np;
        hid_t ft;
        d->mtype = shoal__store_param_type(c, &ft);
        shoal__dset_meta meta = {SHOAL__DIM_POINT, NULL, c->unit, c->doc,
                                 c->type == SHOAL_STRING};
        rc = shoal__store_step(s, mode == SHOAL__BIND_CREATE ? "bind" : "rebind",
                               shoal__store_bind_one(s, mode, "points/params", c->name, ft,
                                                     NULL, &meta, d, why, nwhy));
    }
    if (rc == 0)
        rc = bind(s, mode, "points", "replicates", SHOAL_INT64, np, NULL, NULL,
                  "done replicates of the point", &a->p_reps, why, nwhy);
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const shoal_field *f = &spec->fields[i];
        if (f->type == SHOAL_FLOAT64 && f->ndims == 0) {
            char doc[600];
            snprintf(doc, sizeof doc, "mean over the point's done replicates (NaN values "
                     "left out)%s%s", f->doc ? " of: " : "", f->doc ? f->doc : "");
            rc = bind(s, mode, "points/mean", f->name, SHOAL_FLOAT64, np, NULL, f->unit, doc,
                      &a->p_mean[i], why, nwhy);
            snprintf(doc, sizeof doc, "standard error of that mean%s%s",
                     f->doc ? " of: " : "", f->doc ? f->doc : "");
            if (rc == 0)
                rc = bind(s, mode, "points/stderr", f->name, SHOAL_FLOAT64, np, NULL, f->unit,
                          doc, &a->p_stderr[i], why, nwhy);
        }
        if (rc == 0 && f->reduce != SHOAL_REDUCE_NONE)
            rc = bind(s, mode, "points/reduce", f->name, reduced_type(f), np, f,
                      reduced_unit(f), f->doc, &a->p_red[i], why, nwhy);
    }
    for (size_t k = 0; k < nd && rc == 0; k++) {
        const shoal_derived *dv = &spec->derived[k];
        rc = bind(s, mode, "points/derived", dv->name, SHOAL_FLOAT64, np, NULL, dv->unit,
                  dv->doc, &a->p_der[k], why, nwhy);
        if (rc == 0)
            rc = bind(s, mode, "points/derived_err", dv->name, SHOAL_FLOAT64, np, NULL,
                      dv->unit, "jackknife error over the point's replicates", &a->p_der_err[k],
                      why, nwhy);
    }
    return rc;
}

void shoal__store_agg_close(shoal_store *s)
{
    shoal__agg *a = &s->agg;
    for (size_t i = 0; i < s->nfields; i++) {
        if (a->red)
            shoal__dset_close(&a->red[i]);
        if (a->p_mean)
            shoal__dset_close(&a->p_mean[i]);
        if (a->p_stderr)
            shoal__dset_close(&a->p_stderr[i]);
        if (a->p_red)
            shoal__dset_close(&a->p_red[i]);
    }
    for (size_t i = 0; a->p_param && i < s->nparams; i++)
        shoal__dset_close(&a->p_param[i]);
    shoal__dset_close(&a->p_reps);
    for (size_t k = 0; k < a->nderived; k++) {
        shoal__dset_close(&a->p_der[k]);
        shoal__dset_close(&a->p_der_err[k]);
    }
}

void shoal__store_agg_free(shoal_store *s)
{
    shoal__agg *a = &s->agg;
    for (size_t i = 0; a->p_param && i < s->nparams; i++)
        if (a->p_param[i].mtype > 0)
            H5Tclose(a->p_param[i].mtype); /* a copy */
    free(a->red);
    free(a->p_param);
    free(a->p_mean);
    free(a->p_stderr);
    free(a->p_red);
    free(a->p_der);
    free(a->p_der_err);
    memset(a, 0, sizeof *a);
}
