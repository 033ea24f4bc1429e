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
#include <sys/statvfs.h>
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
    uint64_t fail_base;            /* /failures slots kept from earlier runs */
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

/* Create or replace a scalar attribute (collective). */
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
                               "it. Pass --resume to finish the run in it, "
                               "--force to replace it, or --output to write "
                               "elsewhere",
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

/* The store object for spec, its per-dataset arrays allocated (NULL on
 * failure). */
static shoal_store *store_alloc(MPI_Comm comm, const shoal_store_spec *spec)
{
    shoal_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
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
        !s->pdset || !s->pspace || !s->ptype) {
        store_free(s);
        return NULL;
    }
    return s;
}

/* Every rank's host name, HOST_LEN bytes each, on every rank. */
static char *gather_hosts(shoal_store *s)
{
    char host[HOST_LEN] = {0};
    int hlen = 0;
    char pname[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(pname, &hlen);
    memcpy(host, pname, (size_t)hlen < HOST_LEN - 1 ? (size_t)hlen : HOST_LEN - 1);
    char *all = malloc((size_t)s->nranks * HOST_LEN);
    if (!all)
        MPI_Abort(s->comm, 4); /* a few bytes per rank: cannot continue */
    MPI_Allgather(host, HOST_LEN, MPI_CHAR, all, HOST_LEN, MPI_CHAR, s->comm);
    return all;
}

/* Collective: /ranks for this run's ranks (replacing an earlier run's):
 * host names now (rank 0 writes them all), statistics at close. */
static int make_ranks(shoal_store *s, const char *hosts_all)
{
    if (H5Lexists(s->file, "ranks", H5P_DEFAULT) > 0 &&
        H5Ldelete(s->file, "ranks", H5P_DEFAULT) < 0)
        return SHOAL_EHDF5;
    hid_t g = H5Gcreate2(s->file, "ranks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return SHOAL_EHDF5;
    int bad = 0;
    hsize_t n = (hsize_t)s->nranks;
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, HOST_LEN);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    hid_t d = make_dataset(g, "host", st, 1, &n, 0);
    static const char *const stat_names[] = {"tasks", "busy_seconds", "idle_seconds",
                                             "cpu_seconds", "max_rss_kib"};
    for (int k = 0; k < 5 && d >= 0; k++) {
        hid_t ds = make_dataset(g, stat_names[k],
                                k == 0 || k == 4 ? H5T_STD_U64LE : H5T_IEEE_F64LE, 1, &n,
                                0);
        if (ds < 0)
            bad = 1;
        else
            H5Dclose(ds);
    }
    if (d < 0) {
        bad = 1;
    } else {
        if (s->rank == 0)
            bad |= H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, hosts_all) < 0;
        H5Dclose(d);
    }
    H5Tclose(st);
    H5Gclose(g);
    return bad ? SHOAL_EHDF5 : 0;
}

/* Collective: /failures with `keep` slots for earlier runs' entries followed
 * by SHOAL_FAILURE_SLOTS per rank of this run. */
static int make_failures(shoal_store *s, uint64_t keep)
{
    if (H5Lexists(s->file, "failures", H5P_DEFAULT) > 0 &&
        H5Ldelete(s->file, "failures", H5P_DEFAULT) < 0)
        return SHOAL_EHDF5;
    s->fail_base = keep;
    hid_t g = H5Gcreate2(s->file, "failures", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return SHOAL_EHDF5;
    hsize_t n = keep + (hsize_t)s->nranks * SHOAL_FAILURE_SLOTS;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, SHOAL_FAILURE_MSG);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    hid_t d[5];
    d[0] = make_dataset_fill(g, "task", H5T_STD_I64LE, n, -1);
    d[1] = make_dataset_fill(g, "rank", H5T_STD_I32LE, n, -1);
    d[2] = make_dataset_fill(g, "error", H5T_STD_I32LE, n, 0);
    d[3] = make_dataset_fill(g, "attempts", H5T_STD_I32LE, n, 0);
    d[4] = make_dataset(g, "message", mt, 1, &n, 1);
    int bad = 0;
    for (int k = 0; k < 5; k++) {
        bad |= d[k] < 0;
        if (d[k] >= 0)
            H5Dclose(d[k]);
    }
    H5Tclose(mt);
    H5Gclose(g);
    return bad ? SHOAL_EHDF5 : 0;
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
    shoal_store *s = store_alloc(comm, spec);
    int rc = s ? 0 : SHOAL_ENOMEM;
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

    char *hosts_all = gather_hosts(s);
    if (!bad)
        bad = make_ranks(s, hosts_all) < 0;
    if (!bad)
        bad = make_failures(s, 0) < 0;
    if (!bad)
        bad = write_provenance(s, spec, hosts_all) < 0;
    if (!bad)
        bad = attr_str(s->file, "fingerprint", spec->fingerprint) < 0 ||
              attr_str(s->file, "state", "running") < 0 ||
              attr_u64(s->file, "resumed", 0) < 0;
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
        /* HDF5's MPI-IO layer loses errno; the usual cause is a full disk,
         * which statvfs can tell. */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        struct statvfs fs;
        if (statvfs(dir, &fs) == 0 &&
            (unsigned long long)fs.f_bavail * fs.f_frsize < (64ull << 20))
            return SHOAL_ERROR(SHOAL_EIO,
                               "writing rows %llu..%llu of '%s' failed: the disk "
                               "is full (%llu KiB free in '%s'); free space, then "
                               "--resume finishes the run",
                               (unsigned long long)start,
                               (unsigned long long)(start + count - 1), s->path,
                               (unsigned long long)fs.f_bavail * fs.f_frsize >> 10,
                               dir);
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

/* Write n failure entries into /failures starting at slot `off`. With
 * active = 0 this rank opens the datasets like the others but writes an
 * empty selection, so every rank touches the same metadata. */
static int write_failures_at(shoal_store *s, const shoal_store_failure *log,
                             size_t n, uint64_t off, int active)
{
    if (n == 0)
        return 0;
    int64_t *task = malloc(n * sizeof *task);
    int32_t *rank = malloc(n * sizeof *rank), *err = malloc(n * sizeof *err),
            *att = malloc(n * sizeof *att);
    char *msg = malloc(n * SHOAL_FAILURE_MSG);
    int bad = !task || !rank || !err || !att || !msg;
    for (size_t i = 0; i < n && !bad; i++) {
        task[i] = log[i].task;
        rank[i] = log[i].rank;
        err[i] = log[i].error;
        att[i] = log[i].attempts;
        memcpy(msg + i * SHOAL_FAILURE_MSG, log[i].message, SHOAL_FAILURE_MSG);
        msg[i * SHOAL_FAILURE_MSG + SHOAL_FAILURE_MSG - 1] = '\0';
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
    for (size_t c = 0; c < sizeof cols / sizeof cols[0] && !bad; c++) {
        hid_t d = H5Dopen2(s->file, cols[c].name, H5P_DEFAULT);
        if (d < 0) {
            bad = 1;
            continue;
        }
        hid_t fs = H5Dget_space(d);
        hsize_t o = off, cnt = n;
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &o, NULL, &cnt, NULL);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        if (!active) {
            H5Sselect_none(fs);
            H5Sselect_none(ms);
        }
        bad |= H5Dwrite(d, cols[c].type, ms, fs, s->dxpl, cols[c].buf) < 0;
        H5Sclose(ms);
        H5Sclose(fs);
        H5Dclose(d);
    }
    H5Tclose(mt);
    free(task);
    free(rank);
    free(err);
    free(att);
    free(msg);
    return bad ? SHOAL_EHDF5 : 0;
}

/* This rank's failure log into its own slots of /failures. */
static int write_failures(shoal_store *s, const shoal_store_failure *log,
                          size_t nlog)
{
    if (nlog > SHOAL_FAILURE_SLOTS)
        nlog = SHOAL_FAILURE_SLOTS;
    return write_failures_at(s, log, nlog,
                             s->fail_base + (uint64_t)s->rank * SHOAL_FAILURE_SLOTS, 1);
}

/* On resume, every rank: the used entries of the file's /failures
 * (malloc'd). All ranks read, so their metadata caches stay alike before
 * the collective rebuild of the group. */
static int64_t read_old_failures(shoal_store *s, shoal_store_failure **out)
{
    *out = NULL;
    hid_t d = H5Dopen2(s->file, "failures/task", H5P_DEFAULT);
    if (d < 0)
        return 0;
    hid_t fs = H5Dget_space(d);
    hssize_t total = H5Sget_simple_extent_npoints(fs);
    H5Sclose(fs);
    H5Dclose(d);
    if (total <= 0)
        return 0;
    size_t n = (size_t)total;
    int64_t *task = malloc(n * sizeof *task);
    int32_t *rank = malloc(n * sizeof *rank), *err = malloc(n * sizeof *err),
            *att = malloc(n * sizeof *att);
    char *msg = malloc(n * SHOAL_FAILURE_MSG);
    shoal_store_failure *f = calloc(n, sizeof *f);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, SHOAL_FAILURE_MSG);
    const struct {
        const char *name;
        hid_t type;
        void *buf;
    } cols[] = {{"failures/task", H5T_NATIVE_INT64, task},
                {"failures/rank", H5T_NATIVE_INT32, rank},
                {"failures/error", H5T_NATIVE_INT32, err},
                {"failures/attempts", H5T_NATIVE_INT32, att},
                {"failures/message", mt, msg}};
    int bad = !task || !rank || !err || !att || !msg || !f;
    for (size_t c = 0; c < 5 && !bad; c++) {
        hid_t ds = H5Dopen2(s->file, cols[c].name, H5P_DEFAULT);
        bad = ds < 0 || H5Dread(ds, cols[c].type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                cols[c].buf) < 0;
        if (ds >= 0)
            H5Dclose(ds);
    }
    H5Tclose(mt);
    int64_t used = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        if (task[i] < 0)
            continue;
        f[used].task = task[i];
        f[used].rank = rank[i];
        f[used].error = err[i];
        f[used].attempts = att[i];
        memcpy(f[used].message, msg + i * SHOAL_FAILURE_MSG, SHOAL_FAILURE_MSG);
        f[used].message[SHOAL_FAILURE_MSG - 1] = '\0';
        used++;
    }
    free(task);
    free(rank);
    free(err);
    free(att);
    free(msg);
    if (bad || used == 0) {
        free(f);
        return 0;
    }
    *out = f;
    return used;
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
    bad |= write_rank_stat(s, "ranks/cpu_seconds", H5T_NATIVE_DOUBLE,
                           &mine->cpu_seconds);
    bad |= write_rank_stat(s, "ranks/max_rss_kib", H5T_NATIVE_UINT64,
                           &mine->max_rss_kib);
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

/* ---- resume ------------------------------------------------------------------------ */

/* Read a variable-length string attribute (collective reads are fine). */
static char *attr_read_str(hid_t loc, const char *name)
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

/* Value of "key = value" line `key` in a fingerprint, into buf. */
static int fp_value(const char *fp, const char *key, char *buf, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = fp; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > kl + 3 && !strncmp(p, key, kl) && !strncmp(p + kl, " = ", 3)) {
            size_t vl = len - kl - 3 < n - 1 ? len - kl - 3 : n - 1;
            memcpy(buf, p + kl + 3, vl);
            buf[vl] = '\0';
            return 1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Rank 0: report every key whose value differs; returns the count. */
static int fp_diff(const char *path, const char *have, const char *want)
{
    int ndiff = 0;
    const char *both[2] = {want, have};
    for (int pass = 0; pass < 2; pass++) {
        for (const char *p = both[pass]; p && *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            const char *eq = memchr(p, '=', len);
            if (eq && eq > p) {
                char key[256], a[1024] = "", b[1024] = "";
                size_t kl = (size_t)(eq - p - 1) < sizeof key - 1 ? (size_t)(eq - p - 1)
                                                                  : sizeof key - 1;
                memcpy(key, p, kl);
                key[kl] = '\0';
                int in_have = fp_value(have, key, a, sizeof a);
                int in_want = fp_value(want, key, b, sizeof b);
                /* Each differing key once: from `want`, or from `have` if
                 * only there. */
                if ((pass == 0 || !in_want) && (!in_have || !in_want || strcmp(a, b))) {
                    if (ndiff == 0)
                        shoal_log_error("cannot resume '%s': it holds a different run "
                                        "(file vs. this config):",
                                        path);
                    shoal_log_error("  %s: %s vs. %s", key, in_have ? a : "(absent)",
                                    in_want ? b : "(absent)");
                    ndiff++;
                }
            }
            p = nl ? nl + 1 : NULL;
        }
    }
    return ndiff;
}

static hid_t open_dset(shoal_store *s, const char *path, hid_t *space)
{
    hid_t d = H5Dopen2(s->file, path, H5P_DEFAULT);
    *space = d >= 0 ? H5Dget_space(d) : -1;
    return d;
}

int shoal_store_open(MPI_Comm comm, const shoal_store_spec *spec, shoal_store **out)
{
    *out = NULL;
    shoal__h5_quiet();
    shoal_store *s = store_alloc(comm, spec);
    int rc = s ? 0 : SHOAL_ENOMEM;
    int mine = rc;
    if (rc == 0 && s->rank == 0) {
        struct stat sb;
        if (stat(spec->path, &sb) != 0)
            mine = SHOAL_ERROR(SHOAL_ENOENT,
                               "nothing to resume: '%s' does not exist; run without "
                               "--resume to start",
                               spec->path);
        else if (!S_ISREG(sb.st_mode) || access(spec->path, R_OK | W_OK) != 0)
            mine = SHOAL_ERROR(SHOAL_EIO, "cannot resume '%s': not a writable file",
                               spec->path);
    }
    rc = agree(comm, mine);
    if (rc < 0)
        goto fail;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    H5Pset_coll_metadata_write(fapl, 1);
    s->file = H5Fopen(spec->path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (s->file < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        if (s->rank == 0)
            SHOAL_ERROR(SHOAL_EHDF5, "cannot resume '%s': not an HDF5 file Shoal can "
                        "open (%s)", spec->path, msg);
        rc = SHOAL_EHDF5;
        goto fail;
    }
    char *fp = attr_read_str(s->file, "fingerprint");
    mine = 0;
    if (s->rank == 0) {
        if (!fp)
            mine = SHOAL_ERROR(SHOAL_ECONFIG,
                               "cannot resume '%s': it has no fingerprint (not made "
                               "by this version of Shoal)",
                               spec->path);
        else if (fp_diff(spec->path, fp, spec->fingerprint) > 0)
            mine = SHOAL_ECONFIG;
    }
    free(fp);
    rc = agree(comm, mine);
    if (rc < 0)
        goto fail;

    int bad = 0;
    char path[600];
    for (size_t i = 0; i < spec->nfields && !bad; i++) {
        const shoal_field *f = &spec->fields[i];
        s->fndims[i] = 1 + f->ndims;
        s->fdims[i][0] = spec->ntasks;
        for (int d = 0; d < f->ndims; d++)
            s->fdims[i][d + 1] = f->dims[d];
        s->ftype[i] = field_mem_type(f->type);
        snprintf(path, sizeof path, "results/%s", f->name);
        s->fdset[i] = open_dset(s, path, &s->fspace[i]);
        bad = s->fdset[i] < 0;
    }
    for (int c = 0; c < NCOLS && !bad; c++) {
        snprintf(path, sizeof path, "tasks/%s", columns[c].name);
        s->cdset[c] = open_dset(s, path, &s->cspace[c]);
        bad = s->cdset[c] < 0;
    }
    for (size_t i = 0; i < spec->nparams && !bad; i++) {
        const shoal_store_column *c = &spec->params[i];
        snprintf(path, sizeof path, "params/%s", c->name);
        s->pdset[i] = open_dset(s, path, &s->pspace[i]);
        bad = s->pdset[i] < 0;
        if (c->type == SHOAL_STRING) {
            s->ptype[i] = H5Tcopy(H5T_C_S1);
            H5Tset_size(s->ptype[i], c->strlen > 0 ? c->strlen : 1);
            H5Tset_strpad(s->ptype[i], H5T_STR_NULLPAD);
        } else {
            s->ptype[i] = H5Tcopy(c->type == SHOAL_INT64 ? H5T_NATIVE_INT64
                                                         : H5T_NATIVE_DOUBLE);
        }
    }
    if (!bad && s->with_points) {
        s->point_dset = open_dset(s, "tasks/point", &s->point_space);
        s->rep_dset = open_dset(s, "tasks/replicate", &s->rep_space);
        bad = s->point_dset < 0 || s->rep_dset < 0;
    }
    if (bad) {
        if (s->rank == 0)
            SHOAL_ERROR(SHOAL_EHDF5, "cannot resume '%s': dataset %s is missing", spec->path,
                        path);
        rc = agree(comm, SHOAL_EHDF5);
        goto fail;
    }

    /* Earlier failure entries, read by rank 0 and written back by it into the
     * first slots of the rebuilt /failures. */
    shoal_store_failure *old = NULL;
    int64_t nold = spec->drop_failures ? 0 : read_old_failures(s, &old), nmin = 0;
    MPI_Allreduce(&nold, &nmin, 1, MPI_INT64_T, MPI_MIN, comm);
    if (nmin != nold)
        MPI_Abort(comm, 4); /* ranks read the same file differently */
    char *hosts_all = gather_hosts(s);
    bad = make_ranks(s, hosts_all) < 0;
    if (!bad)
        bad = make_failures(s, (uint64_t)(nold > 0 ? nold : 0)) < 0;
    s->dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(s->dxpl, H5FD_MPIO_INDEPENDENT);
    if (!bad && nold > 0) {
        bad = write_failures_at(s, old, (size_t)nold, 0, s->rank == 0) < 0;
    }
    free(old);
    /* Attributes of this run (collective, identical on every rank). */
    uint64_t resumed = 0;
    if (!bad) {
        hid_t a = H5Aexists(s->file, "resumed") > 0 ? H5Aopen(s->file, "resumed", H5P_DEFAULT)
                                                    : -1;
        if (a >= 0) {
            H5Aread(a, H5T_NATIVE_UINT64, &resumed);
            H5Aclose(a);
        }
        char started[32];
        if (s->rank == 0)
            iso_time(started, sizeof started);
        MPI_Bcast(started, sizeof started, MPI_CHAR, 0, comm);
        bad |= attr_u64(s->file, "resumed", resumed + 1) < 0;
        bad |= attr_str(s->file, "resumed_at", started) < 0;
        bad |= attr_u64(s->file, "nranks", (uint64_t)s->nranks) < 0;
        bad |= attr_str(s->file, "state", "running") < 0;
        bad |= attr_str(s->file, "overrides", spec->overrides ? spec->overrides : "") < 0;
    }
    free(hosts_all);
    if (!bad)
        bad = H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0;
    rc = agree(comm, bad ? SHOAL_EHDF5 : 0);
    if (rc < 0) {
        if (s->rank == 0)
            SHOAL_ERROR(rc, "cannot reopen '%s' for resuming", spec->path);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    store_free(s);
    return rc;
}

int shoal_store_scan_status(shoal_store *s, unsigned want, uint64_t (**ranges)[2],
                            size_t *nranges, uint64_t counts[4])
{
    enum { BLOCK = 1 << 20 };
    *ranges = NULL;
    *nranges = 0;
    for (int k = 0; k < 4; k++)
        counts[k] = 0;
    uint8_t *st = malloc(BLOCK);
    if (!st)
        return SHOAL_ENOMEM;
    size_t cap = 0, n = 0;
    uint64_t (*list)[2] = NULL;
    int rc = 0;
    hsize_t dim = s->ntasks;
    for (uint64_t start = 0; start < s->ntasks && rc == 0; start += BLOCK) {
        uint64_t count = s->ntasks - start < BLOCK ? s->ntasks - start : BLOCK;
        hsize_t off = start, cnt = count;
        H5Sselect_hyperslab(s->cspace[COL_STATUS], H5S_SELECT_SET, &off, NULL, &cnt, NULL);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        if (H5Dread(s->cdset[COL_STATUS], H5T_NATIVE_UINT8, ms, s->cspace[COL_STATUS],
                    s->dxpl, st) < 0)
            rc = SHOAL_ERROR(SHOAL_EHDF5, "reading /tasks/status of '%s' failed", s->path);
        H5Sclose(ms);
        if (want == 0 && rc == 0) {
            /* Totals only (the end of every run): a branch-free count. */
            uint64_t c[4] = {0, 0, 0, 0};
            for (uint64_t k = 0; k < count; k++)
                c[st[k] < 4 ? st[k] : SHOAL_STATUS_PENDING]++;
            for (int v = 0; v < 4; v++)
                counts[v] += c[v];
            continue;
        }
        for (uint64_t k = 0; k < count && rc == 0; k++) {
            uint8_t v = st[k] < 4 ? st[k] : SHOAL_STATUS_PENDING;
            counts[v]++;
            if (!(want & (1u << v)))
                continue;
            uint64_t idx = start + k;
            if (n > 0 && list[n - 1][0] + list[n - 1][1] == idx) {
                list[n - 1][1]++;
                continue;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                void *p = realloc(list, ncap * sizeof *list);
                if (!p) {
                    rc = SHOAL_ENOMEM;
                    break;
                }
                list = p;
                cap = ncap;
            }
            list[n][0] = idx;
            list[n][1] = 1;
            n++;
        }
    }
    (void)dim;
    free(st);
    if (rc < 0) {
        free(list);
        return rc;
    }
    *ranges = list;
    *nranges = n;
    return 0;
}

int shoal_store_mark(shoal_store *s, uint64_t start, uint64_t count, uint8_t status)
{
    if (count == 0)
        return 0;
    enum { CHUNK = 65536 };
    static uint8_t buf[CHUNK];
    memset(buf, status, sizeof buf);
    hsize_t dim = s->ntasks;
    for (uint64_t off = 0; off < count; off += CHUNK) {
        uint64_t n = count - off < CHUNK ? count - off : CHUNK;
        if (write_block(s->cdset[COL_STATUS], s->cspace[COL_STATUS], H5T_NATIVE_UINT8, 1,
                        &dim, start + off, n, s->dxpl, buf) < 0)
            return SHOAL_ERROR(SHOAL_EIO, "marking rows %llu.. of '%s' failed",
                               (unsigned long long)(start + off), s->path);
    }
    return 0;
}

int shoal_store_fail_rows(shoal_store *s, uint64_t start, uint64_t count, int32_t error)
{
    hsize_t dim = s->ntasks;
    for (uint64_t k = 0; k < count; k++) {
        if (write_block(s->cdset[COL_ERROR], s->cspace[COL_ERROR], H5T_NATIVE_INT32, 1, &dim,
                        start + k, 1, s->dxpl, &error) < 0)
            return SHOAL_EIO;
    }
    return shoal_store_mark(s, start, count, SHOAL_STATUS_FAILED);
}

int shoal_store_read_status(shoal_store *s, uint64_t start, uint64_t count,
                            uint8_t *buf)
{
    if (start > s->ntasks || count > s->ntasks - start)
        return SHOAL_EINVAL;
    hsize_t off = start, cnt = count;
    H5Sselect_hyperslab(s->cspace[COL_STATUS], H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    herr_t e = H5Dread(s->cdset[COL_STATUS], H5T_NATIVE_UINT8, ms,
                       s->cspace[COL_STATUS], s->dxpl, buf);
    H5Sclose(ms);
    return e < 0 ? SHOAL_EHDF5 : 0;
}
