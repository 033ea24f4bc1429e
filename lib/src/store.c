/* store.c: the parallel HDF5 result file (layout in shoal/store.h).
 *
 * Set-up and close are collective; everything between is independent row
 * writes into datasets allocated at creation, so no metadata changes while
 * ranks are out of lockstep and a killed run leaves a readable file.
 * Collective failures are reported by rank 0 only, and every rank returns
 * the same code. Attributes are variable-length UTF-8 strings or scalars
 * (h5py reads them as str / numbers); /ranks/host uses fixed-length strings
 * because variable-length raw data cannot be written in parallel. */
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/store.h>
#include <shoal/version.h>

#include "h5util.h"

#include <errno.h>
#include <hdf5.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOST_LEN 64

enum { COL_STATUS, COL_RANK, COL_SECONDS, COL_ERROR, COL_ATTEMPTS, NCOLS };

struct shoal_store {
    MPI_Comm comm;
    int rank, nranks;
    hid_t file, dxpl;
    uint64_t ntasks;
    size_t nfields;
    hid_t *fdset;   /* /results/<field> */
    hid_t *fspace;  /* their file dataspaces */
    hid_t *ftype;   /* memory types */
    int *fndims;    /* 1 + field ndims */
    hsize_t (*fdims)[SHOAL_MAX_DIMS + 1];
    hid_t cdset[NCOLS], cspace[NCOLS];
    size_t nparams;
    hid_t *pdset, *pspace, *ptype; /* /params/<name> */
    int with_points;
    hid_t point_dset, point_space, rep_dset, rep_space;
    char path[4096];
};

static const struct {
    const char *name;
    const char *doc;
} columns[NCOLS] = {
    [COL_STATUS] = {"status", "0 pending, 1 done, 2 failed"},
    [COL_RANK] = {"rank", "MPI rank that ran the task"},
    [COL_SECONDS] = {"seconds", "wall time of the task"},
    [COL_ERROR] = {"error", "code returned by a failed task, 0 otherwise"},
    [COL_ATTEMPTS] = {"attempts", "times the task ran (retries included)"},
};

static hid_t column_type(int c)
{
    switch (c) {
    case COL_STATUS:
    case COL_ATTEMPTS:
        return H5T_NATIVE_UINT8;
    case COL_SECONDS:
        return H5T_NATIVE_FLOAT;
    default:
        return H5T_NATIVE_INT32;
    }
}

static hid_t field_mem_type(shoal_type t)
{
    return t == SHOAL_INT64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
}

static hid_t field_file_type(shoal_type t)
{
    return t == SHOAL_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
}

/* ---- attributes ---------------------------------------------------------------- */

static int attr_write(hid_t loc, const char *name, hid_t type, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, type, v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return e < 0 ? SHOAL_EHDF5 : 0;
}

static int attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const char *v = value ? value : "";
    int rc = attr_write(loc, name, t, &v);
    H5Tclose(t);
    return rc;
}

static int attr_u64(hid_t loc, const char *name, uint64_t v)
{
    return attr_write(loc, name, H5T_NATIVE_UINT64, &v);
}

static int attr_double(hid_t loc, const char *name, double v)
{
    return attr_write(loc, name, H5T_NATIVE_DOUBLE, &v);
}

static void iso_time(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- create ---------------------------------------------------------------------- */

/* Rank 0: can we create spec->path? Reports why not. */
static int precheck(const shoal_store_spec *spec)
{
    struct stat sb;
    if (stat(spec->path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return SHOAL_ERROR(SHOAL_EEXIST,
                               "output '%s' is a directory; give a file path "
                               "such as %s/%s.h5",
                               spec->path, spec->path,
                               spec->app ? spec->app : "results");
        if (!spec->force)
            return SHOAL_ERROR(SHOAL_EEXIST,
                               "output file '%s' already exists; not touching "
                               "it. Pass --force to replace it, or --output "
                               "to write elsewhere",
                               spec->path);
        if (access(spec->path, W_OK) != 0)
            return SHOAL_ERROR(SHOAL_EIO,
                               "output file '%s' exists and is not writable: %s",
                               spec->path, strerror(errno));
        return 0;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", spec->path);
    const char *dir = dirname(tmp);
    if (stat(dir, &sb) != 0)
        return SHOAL_ERROR(SHOAL_ENOENT,
                           "cannot create output '%s': directory '%s' does not "
                           "exist; create it first (mkdir -p '%s')",
                           spec->path, dir, dir);
    if (!S_ISDIR(sb.st_mode))
        return SHOAL_ERROR(SHOAL_ENOENT,
                           "cannot create output '%s': '%s' is not a directory",
                           spec->path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return SHOAL_ERROR(SHOAL_EIO,
                           "cannot create output '%s': directory '%s' is not "
                           "writable",
                           spec->path, dir);
    return 0;
}

/* All ranks: agree on rc (the most negative wins). */
static int agree(MPI_Comm comm, int rc)
{
    int worst;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm);
    return worst;
}

/* Zero bytes for fill values of any type up to this size. */
static const unsigned char zero_fill[SHOAL_FAILURE_MSG];

static hid_t make_dataset(hid_t loc, const char *name, hid_t ftype, int ndims,
                          const hsize_t *dims, int fill_zero)
{
    hid_t sp = H5Screate_simple(ndims, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    if (fill_zero && H5Tget_size(ftype) <= sizeof zero_fill) {
        /* Pending must read as 0 even where no one wrote. */
        H5Pset_fill_value(dcpl, ftype, zero_fill);
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    } else {
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    }
    hid_t d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

/* A small 1-d integer dataset whose unwritten entries read as `fill`. */
static hid_t make_dataset_fill(hid_t loc, const char *name, hid_t ftype,
                               hsize_t n, long long fill)
{
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_value(dcpl, H5T_NATIVE_LLONG, &fill);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    hid_t d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

static void store_free(shoal_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfields; i++) {
        if (s->fdset && s->fdset[i] > 0)
            H5Dclose(s->fdset[i]);
        if (s->fspace && s->fspace[i] > 0)
            H5Sclose(s->fspace[i]);
    }
    for (int c = 0; c < NCOLS; c++) {
        if (s->cdset[c] > 0)
            H5Dclose(s->cdset[c]);
        if (s->cspace[c] > 0)
            H5Sclose(s->cspace[c]);
    }
    for (size_t i = 0; i < s->nparams; i++) {
        if (s->pdset && s->pdset[i] > 0)
            H5Dclose(s->pdset[i]);
        if (s->pspace && s->pspace[i] > 0)
            H5Sclose(s->pspace[i]);
        if (s->ptype && s->ptype[i] > 0)
            H5Tclose(s->ptype[i]);
    }
    free(s->pdset);
    free(s->pspace);
    free(s->ptype);
    if (s->point_dset > 0)
        H5Dclose(s->point_dset);
    if (s->point_space > 0)
        H5Sclose(s->point_space);
    if (s->rep_dset > 0)
        H5Dclose(s->rep_dset);
    if (s->rep_space > 0)
        H5Sclose(s->rep_space);
    if (s->dxpl > 0)
        H5Pclose(s->dxpl);
    if (s->file > 0)
        H5Fclose(s->file);
    free(s->fdset);
    free(s->fspace);
    free(s->ftype);
    free(s->fndims);
    free(s->fdims);
    free(s);
}

static int write_provenance(shoal_store *s, const shoal_store_spec *spec,
                            const char *hosts_all)
{
    /* Every rank passes identical values: attribute writes are collective. */
    char started[32];
    if (s->rank == 0)
        iso_time(started, sizeof started);
    MPI_Bcast(started, sizeof started, MPI_CHAR, 0, s->comm);

    /* Unique host names, in rank order, comma-separated. */
    size_t cap = (size_t)s->nranks * (HOST_LEN + 1) + 1;
    char *uniq = calloc(cap, 1);
    if (!uniq)
        return SHOAL_ENOMEM;
    size_t len = 0;
    for (int r = 0; r < s->nranks; r++) {
        const char *h = hosts_all + (size_t)r * HOST_LEN;
        int seen = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = !strncmp(h, hosts_all + (size_t)q * HOST_LEN, HOST_LEN);
        if (!seen)
            len += (size_t)snprintf(uniq + len, cap - len, "%s%.*s",
                                    len ? "," : "", HOST_LEN, h);
    }
    int rc = 0;
    rc |= attr_str(s->file, "shoal_version", SHOAL_VERSION_STRING);
    rc |= attr_str(s->file, "app", spec->app);
    rc |= attr_str(s->file, "config", spec->config_text);
    rc |= attr_str(s->file, "config_source", spec->config_source);
    rc |= attr_str(s->file, "overrides", spec->overrides ? spec->overrides : "");
    rc |= attr_u64(s->file, "seed", spec->seed);
    rc |= attr_str(s->file, "rng", spec->rng);
    rc |= attr_u64(s->file, "ntasks", spec->ntasks);
    rc |= attr_u64(s->file, "nranks", (uint64_t)s->nranks);
    rc |= attr_str(s->file, "hosts", uniq);
    rc |= attr_str(s->file, "started", started);
    free(uniq);
    return rc ? SHOAL_EHDF5 : 0;
}

int shoal_store_create(MPI_Comm comm, const shoal_store_spec *spec,
                       shoal_store **out)
{
    *out = NULL;
    shoal__h5_quiet();
    shoal_store *s = calloc(1, sizeof *s);
    int rc = s ? 0 : SHOAL_ENOMEM;
    if (s) {
        s->comm = comm;
        MPI_Comm_rank(comm, &s->rank);
        MPI_Comm_size(comm, &s->nranks);
        s->ntasks = spec->ntasks;
        s->nfields = spec->nfields;
        snprintf(s->path, sizeof s->path, "%s", spec->path);
        s->fdset = calloc(spec->nfields + 1, sizeof *s->fdset);
        s->fspace = calloc(spec->nfields + 1, sizeof *s->fspace);
        s->ftype = calloc(spec->nfields + 1, sizeof *s->ftype);
        s->fndims = calloc(spec->nfields + 1, sizeof *s->fndims);
        s->fdims = calloc(spec->nfields + 1, sizeof *s->fdims);
        s->nparams = spec->nparams;
        s->with_points = spec->with_points;
        s->pdset = calloc(spec->nparams + 1, sizeof *s->pdset);
        s->pspace = calloc(spec->nparams + 1, sizeof *s->pspace);
        s->ptype = calloc(spec->nparams + 1, sizeof *s->ptype);
        if (!s->fdset || !s->fspace || !s->ftype || !s->fndims || !s->fdims ||
            !s->pdset || !s->pspace || !s->ptype)
            rc = SHOAL_ENOMEM;
    }
    int mine = rc;
    if (s && rc == 0 && s->rank == 0)
        mine = precheck(spec);
    rc = agree(comm, mine);
    if (rc < 0)
        goto fail;

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    H5Pset_coll_metadata_write(fapl, 1);
    s->file = H5Fcreate(spec->path, spec->force ? H5F_ACC_TRUNC : H5F_ACC_EXCL,
                        H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (s->file < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        if (s->rank == 0)
            SHOAL_ERROR(SHOAL_EHDF5, "cannot create output file '%s': %s",
                        spec->path, msg);
        rc = SHOAL_EHDF5;
        goto fail;
    }

    hid_t g_res = H5Gcreate2(s->file, "results", H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
    hid_t g_tasks = H5Gcreate2(s->file, "tasks", H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT);
    hid_t g_ranks = H5Gcreate2(s->file, "ranks", H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT);
    int bad = g_res < 0 || g_tasks < 0 || g_ranks < 0;

    for (size_t i = 0; i < spec->nfields && !bad; i++) {
        const shoal_field *f = &spec->fields[i];
        s->fndims[i] = 1 + f->ndims;
        s->fdims[i][0] = spec->ntasks;
        for (int d = 0; d < f->ndims; d++)
            s->fdims[i][d + 1] = f->dims[d];
        s->ftype[i] = field_mem_type(f->type);
        s->fdset[i] = make_dataset(g_res, f->name, field_file_type(f->type),
                                   s->fndims[i], s->fdims[i], 0);
        bad = s->fdset[i] < 0;
        if (!bad) {
            s->fspace[i] = H5Dget_space(s->fdset[i]);
            if (f->doc)
                bad = attr_str(s->fdset[i], "doc", f->doc) < 0;
        }
    }
    for (int c = 0; c < NCOLS && !bad; c++) {
        hsize_t n = spec->ntasks;
        hid_t ft = c == COL_STATUS || c == COL_ATTEMPTS ? H5T_STD_U8LE
                   : c == COL_SECONDS                   ? H5T_IEEE_F32LE
                                                        : H5T_STD_I32LE;
        s->cdset[c] = make_dataset(g_tasks, columns[c].name, ft, 1, &n,
                                   c == COL_STATUS);
        bad = s->cdset[c] < 0;
        if (!bad) {
            s->cspace[c] = H5Dget_space(s->cdset[c]);
            bad = attr_str(s->cdset[c], "doc", columns[c].doc) < 0;
        }
    }

    /* /params: a column per scanned parameter, constants as attributes. */
    hid_t g_par = bad ? -1
                      : H5Gcreate2(s->file, "params", H5P_DEFAULT, H5P_DEFAULT,
                                   H5P_DEFAULT);
    bad = bad || g_par < 0;
    for (size_t i = 0; i < spec->nparams && !bad; i++) {
        const shoal_store_column *c = &spec->params[i];
        hsize_t n = spec->ntasks;
        hid_t ft;
        if (c->type == SHOAL_STRING) {
            ft = H5Tcopy(H5T_C_S1);
            H5Tset_size(ft, c->strlen > 0 ? c->strlen : 1);
            H5Tset_strpad(ft, H5T_STR_NULLPAD);
            s->ptype[i] = ft;
        } else {
            ft = c->type == SHOAL_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
            s->ptype[i] = H5Tcopy(c->type == SHOAL_INT64 ? H5T_NATIVE_INT64
                                                         : H5T_NATIVE_DOUBLE);
        }
        s->pdset[i] = make_dataset(g_par, c->name, ft, 1, &n, 0);
        bad = s->pdset[i] < 0;
        if (!bad)
            s->pspace[i] = H5Dget_space(s->pdset[i]);
    }
    for (size_t i = 0; i < spec->nconsts && !bad; i++)
        bad = attr_str(g_par, spec->const_names[i], spec->const_values[i]) < 0;
    if (!bad && spec->scan)
        bad = attr_str(g_par, "scan", spec->scan) < 0;
    if (g_par >= 0)
        H5Gclose(g_par);
    if (!bad && spec->with_points) {
        hsize_t n = spec->ntasks;
        s->point_dset = make_dataset(g_tasks, "point", H5T_STD_I64LE, 1, &n, 0);
        s->rep_dset = make_dataset(g_tasks, "replicate", H5T_STD_I64LE, 1, &n, 0);
        bad = s->point_dset < 0 || s->rep_dset < 0;
        if (!bad) {
            s->point_space = H5Dget_space(s->point_dset);
            s->rep_space = H5Dget_space(s->rep_dset);
        }
    }

    /* /ranks: host names now (rank 0 writes them all), statistics at close. */
    char host[HOST_LEN] = {0};
    int hlen = 0;
    char pname[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(pname, &hlen);
    memcpy(host, pname, (size_t)hlen < HOST_LEN - 1 ? (size_t)hlen : HOST_LEN - 1);
    char *hosts_all = malloc((size_t)s->nranks * HOST_LEN);
    if (!hosts_all)
        MPI_Abort(comm, 4); /* a few bytes per rank: cannot continue */
    MPI_Allgather(host, HOST_LEN, MPI_CHAR, hosts_all, HOST_LEN, MPI_CHAR, comm);
    if (!bad) {
        hsize_t n = (hsize_t)s->nranks;
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, HOST_LEN);
        H5Tset_strpad(st, H5T_STR_NULLPAD);
        hid_t d = make_dataset(g_ranks, "host", st, 1, &n, 0);
        static const char *const stat_names[] = {"tasks", "busy_seconds",
                                                 "idle_seconds"};
        for (int k = 0; k < 3 && d >= 0; k++) {
            hid_t ds = make_dataset(g_ranks, stat_names[k],
                                    k == 0 ? H5T_STD_U64LE : H5T_IEEE_F64LE, 1,
                                    &n, 0);
            if (ds < 0)
                bad = 1;
            else
                H5Dclose(ds);
        }
        if (d < 0) {
            bad = 1;
        } else {
            if (s->rank == 0)
                bad = H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                               hosts_all) < 0;
            H5Dclose(d);
        }
        H5Tclose(st);
    }
    /* /failures: the first failures of each rank, with messages. */
    if (!bad) {
        hid_t g = H5Gcreate2(s->file, "failures", H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
        hsize_t n = (hsize_t)s->nranks * SHOAL_FAILURE_SLOTS;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, SHOAL_FAILURE_MSG);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        hid_t d[5];
        d[0] = make_dataset_fill(g, "task", H5T_STD_I64LE, n, -1);
        d[1] = make_dataset_fill(g, "rank", H5T_STD_I32LE, n, -1);
        d[2] = make_dataset_fill(g, "error", H5T_STD_I32LE, n, 0);
        d[3] = make_dataset_fill(g, "attempts", H5T_STD_I32LE, n, 0);
        d[4] = make_dataset(g, "message", mt, 1, &n, 1);
        for (int k = 0; k < 5; k++) {
            bad |= d[k] < 0;
            if (d[k] >= 0)
                H5Dclose(d[k]);
        }
        H5Tclose(mt);
        if (g >= 0)
            H5Gclose(g);
        bad |= g < 0;
    }
    if (!bad)
        bad = write_provenance(s, spec, hosts_all) < 0;
    free(hosts_all);
    if (g_res >= 0)
        H5Gclose(g_res);
    if (g_tasks >= 0)
        H5Gclose(g_tasks);
    if (g_ranks >= 0)
        H5Gclose(g_ranks);

    s->dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(s->dxpl, H5FD_MPIO_INDEPENDENT);
    if (!bad)
        bad = H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0;
    rc = agree(comm, bad ? SHOAL_EHDF5 : 0);
    if (rc < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        if (s->rank == 0)
            SHOAL_ERROR(rc, "cannot set up output file '%s': %s", spec->path,
                        msg[0] ? msg : "HDF5 error");
        goto fail;
    }
    *out = s;
    return 0;

fail:
    store_free(s);
    return rc;
}

/* ---- rows ------------------------------------------------------------------------- */

static int write_block(hid_t dset, hid_t fspace, hid_t mtype, int ndims,
                       const hsize_t *dims, uint64_t start, uint64_t count,
                       hid_t dxpl, const void *buf)
{
    hsize_t off[SHOAL_MAX_DIMS + 1] = {0}, cnt[SHOAL_MAX_DIMS + 1];
    off[0] = start;
    cnt[0] = count;
    for (int d = 1; d < ndims; d++)
        cnt[d] = dims[d];
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0)
        return SHOAL_EHDF5;
    hid_t mspace = H5Screate_simple(ndims, cnt, NULL);
    herr_t e = H5Dwrite(dset, mtype, mspace, fspace, dxpl, buf);
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
        rc = write_block(s->fdset[i], s->fspace[i], s->ftype[i], s->fndims[i],
                         s->fdims[i], start, count, s->dxpl, rows->fields[i]);
    hsize_t dim1 = s->ntasks;
    for (size_t i = 0; i < s->nparams && rc == 0; i++)
        rc = write_block(s->pdset[i], s->pspace[i], s->ptype[i], 1, &dim1, start,
                         count, s->dxpl, rows->params[i]);
    if (s->with_points && rc == 0)
        rc = write_block(s->point_dset, s->point_space, H5T_NATIVE_INT64, 1, &dim1,
                         start, count, s->dxpl, rows->point);
    if (s->with_points && rc == 0)
        rc = write_block(s->rep_dset, s->rep_space, H5T_NATIVE_INT64, 1, &dim1,
                         start, count, s->dxpl, rows->replicate);
    const void *cols[NCOLS] = {rows->status, rows->rank, rows->seconds,
                               rows->error, rows->attempts};
    static const int order[NCOLS] = {COL_RANK, COL_SECONDS, COL_ERROR,
                                     COL_ATTEMPTS, COL_STATUS};
    for (int k = 0; k < NCOLS && rc == 0; k++) {
        int c = order[k];
        hsize_t dim = s->ntasks;
        rc = write_block(s->cdset[c], s->cspace[c], column_type(c), 1, &dim,
                         start, count, s->dxpl, cols[c]);
    }
    if (rc < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        return SHOAL_ERROR(SHOAL_EIO,
                           "writing rows %llu..%llu of '%s' failed: %s",
                           (unsigned long long)start,
                           (unsigned long long)(start + count - 1), s->path,
                           msg[0] ? msg : "HDF5 error");
    }
    return 0;
}

/* ---- close ------------------------------------------------------------------------- */

static int write_rank_stat(shoal_store *s, const char *name, hid_t mtype,
                           const void *v)
{
    hid_t d = H5Dopen2(s->file, name, H5P_DEFAULT);
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

/* Write this rank's failure log into its slots of /failures. */
static int write_failures(shoal_store *s, const shoal_store_failure *log,
                          size_t nlog)
{
    if (nlog == 0)
        return 0;
    if (nlog > SHOAL_FAILURE_SLOTS)
        nlog = SHOAL_FAILURE_SLOTS;
    int64_t task[SHOAL_FAILURE_SLOTS];
    int32_t rank[SHOAL_FAILURE_SLOTS], err[SHOAL_FAILURE_SLOTS],
        att[SHOAL_FAILURE_SLOTS];
    static char msg[SHOAL_FAILURE_SLOTS][SHOAL_FAILURE_MSG];
    for (size_t i = 0; i < nlog; i++) {
        task[i] = log[i].task;
        rank[i] = s->rank;
        err[i] = log[i].error;
        att[i] = log[i].attempts;
        memcpy(msg[i], log[i].message, SHOAL_FAILURE_MSG);
        msg[i][SHOAL_FAILURE_MSG - 1] = '\0';
    }
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, SHOAL_FAILURE_MSG);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    const struct {
        const char *name;
        hid_t type;
        const void *buf;
    } cols[] = {{"failures/task", H5T_NATIVE_INT64, task},
                {"failures/rank", H5T_NATIVE_INT32, rank},
                {"failures/error", H5T_NATIVE_INT32, err},
                {"failures/attempts", H5T_NATIVE_INT32, att},
                {"failures/message", mt, msg}};
    int bad = 0;
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
        hid_t d = H5Dopen2(s->file, cols[c].name, H5P_DEFAULT);
        if (d < 0) {
            bad = 1;
            continue;
        }
        hid_t fs = H5Dget_space(d);
        hsize_t off = (hsize_t)s->rank * SHOAL_FAILURE_SLOTS, cnt = nlog;
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        bad |= H5Dwrite(d, cols[c].type, ms, fs, s->dxpl, cols[c].buf) < 0;
        H5Sclose(ms);
        H5Sclose(fs);
        H5Dclose(d);
    }
    H5Tclose(mt);
    return bad ? SHOAL_EHDF5 : 0;
}

int shoal_store_close(shoal_store *s, const shoal_store_rank_stats *mine,
                      uint64_t done, uint64_t failed, double wall_seconds,
                      const shoal_store_failure *log, size_t nlog,
                      const char *state)
{
    int bad = write_failures(s, log, nlog) < 0;
    bad |= write_rank_stat(s, "ranks/tasks", H5T_NATIVE_UINT64, &mine->tasks);
    bad |= write_rank_stat(s, "ranks/busy_seconds", H5T_NATIVE_DOUBLE,
                           &mine->busy_seconds);
    bad |= write_rank_stat(s, "ranks/idle_seconds", H5T_NATIVE_DOUBLE,
                           &mine->idle_seconds);
    char finished[32];
    if (s->rank == 0)
        iso_time(finished, sizeof finished);
    MPI_Bcast(finished, sizeof finished, MPI_CHAR, 0, s->comm);
    MPI_Bcast(&wall_seconds, 1, MPI_DOUBLE, 0, s->comm);
    bad |= attr_str(s->file, "finished", finished);
    bad |= attr_str(s->file, "state", state ? state : "complete");
    bad |= attr_double(s->file, "wall_seconds", wall_seconds);
    bad |= attr_u64(s->file, "tasks_done", done);
    bad |= attr_u64(s->file, "tasks_failed", failed);
    for (size_t i = 0; i < s->nfields; i++) {
        H5Sclose(s->fspace[i]);
        H5Dclose(s->fdset[i]);
        s->fspace[i] = s->fdset[i] = 0;
    }
    for (int c = 0; c < NCOLS; c++) {
        H5Sclose(s->cspace[c]);
        H5Dclose(s->cdset[c]);
        s->cspace[c] = s->cdset[c] = 0;
    }
    for (size_t i = 0; i < s->nparams; i++) {
        H5Sclose(s->pspace[i]);
        H5Dclose(s->pdset[i]);
        H5Tclose(s->ptype[i]);
        s->pspace[i] = s->pdset[i] = s->ptype[i] = 0;
    }
    if (s->with_points) {
        H5Sclose(s->point_space);
        H5Dclose(s->point_dset);
        H5Sclose(s->rep_space);
        H5Dclose(s->rep_dset);
        s->point_space = s->point_dset = s->rep_space = s->rep_dset = 0;
    }
    H5Pclose(s->dxpl);
    s->dxpl = 0;
    if (H5Fclose(s->file) < 0)
        bad = 1;
    s->file = 0;
    int rc = agree(s->comm, bad ? SHOAL_EHDF5 : 0);
    if (rc < 0 && s->rank == 0)
        SHOAL_ERROR(rc, "closing output file '%s' failed", s->path);
    store_free(s);
    return rc;
}
