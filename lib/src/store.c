/* store.c: the result file's schema — the store object, the binding of every
 * per-task dataset (one function for create and open), creation and close.
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The /tasks columns: name and doc (their types: column_*_type below). */
static const struct {
    const char *name;
    const char *doc;
} columns[NCOLS] = {
    [COL_STATUS] = {"status", "0 pending, 1 done, 2 failed, 3 running when last written"},
    [COL_RANK] = {"rank", "MPI rank that ran the task"},
    [COL_SECONDS] = {"seconds", "wall time of the task"},
    [COL_ERROR] = {"error", "code returned by a failed task, 0 otherwise"},
    [COL_ATTEMPTS] = {"attempts", "times the task ran (retries included)"},
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

static void dset_close(shoal__dset *d)
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
    s->nfields = spec->nfields;
    s->nparams = spec->nparams;
    s->with_points = spec->with_points;
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
    for (size_t i = 0; s->field && i < s->nfields; i++)
        dset_close(&s->field[i]);
    for (int c = 0; c < NCOLS; c++)
        dset_close(&s->col[c]);
    for (size_t i = 0; s->param && i < s->nparams; i++) {
        dset_close(&s->param[i]);
        if (s->param[i].mtype > 0)
            H5Tclose(s->param[i].mtype); /* a copy, made by bind */
    }
    dset_close(&s->point);
    dset_close(&s->replicate);
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

/* Create or open one dataset `group/name` into d (d->mtype, ndims and dims
 * set by the caller). Returns 0, or SHOAL_EHDF5 with what went wrong in why. */
static int bind_one(shoal_store *s, shoal__bind_mode mode, const char *group,
                    const char *name, hid_t ftype, int fill_zero, const char *doc,
                    shoal__dset *d, char *why, size_t nwhy)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", group, name);
    if (mode == SHOAL__BIND_CREATE) {
        d->dset = make_dataset(s->file, path, ftype, d->ndims, d->dims, fill_zero);
        if (d->dset >= 0 && doc && shoal__attr_str(d->dset, "doc", doc) < 0) {
            snprintf(why, nwhy, "cannot write the doc of /%s", path);
            return SHOAL_EHDF5;
        }
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
        return SHOAL_EHDF5;
    }
    d->space = H5Dget_space(d->dset);
    return d->space < 0 ? SHOAL_EHDF5 : 0;
}

int shoal__store_bind(shoal_store *s, const shoal_store_spec *spec,
                      shoal__bind_mode mode)
{
    char why[700] = "";
    int rc = 0;
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
        }
    }
    for (size_t i = 0; i < spec->nfields && rc == 0; i++) {
        const shoal_field *f = &spec->fields[i];
        shoal__dset *d = &s->field[i];
        d->ndims = 1 + f->ndims;
        d->dims[0] = spec->ntasks;
        for (int k = 0; k < f->ndims; k++)
            d->dims[k + 1] = f->dims[k];
        d->mtype = f->type == SHOAL_INT64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
        rc = bind_one(s, mode, "results", f->name,
                      f->type == SHOAL_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE, 0,
                      f->doc, d, why, sizeof why);
    }
    for (int c = 0; c < NCOLS && rc == 0; c++) {
        shoal__dset *d = &s->col[c];
        d->ndims = 1;
        d->dims[0] = spec->ntasks;
        d->mtype = column_mem_type(c);
        rc = bind_one(s, mode, "tasks", columns[c].name, column_file_type(c),
                      c == COL_STATUS, columns[c].doc, d, why, sizeof why);
    }
    for (size_t i = 0; i < spec->nparams && rc == 0; i++) {
        const shoal_store_column *c = &spec->params[i];
        shoal__dset *d = &s->param[i];
        d->ndims = 1;
        d->dims[0] = spec->ntasks;
        hid_t ft;
        if (c->type == SHOAL_STRING) {
            d->mtype = H5Tcopy(H5T_C_S1);
            H5Tset_size(d->mtype, c->strlen > 0 ? c->strlen : 1);
            H5Tset_strpad(d->mtype, H5T_STR_NULLPAD);
            ft = d->mtype;
        } else {
            d->mtype = H5Tcopy(c->type == SHOAL_INT64 ? H5T_NATIVE_INT64
                                                      : H5T_NATIVE_DOUBLE);
            ft = c->type == SHOAL_INT64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
        }
        rc = bind_one(s, mode, "params", c->name, ft, 0, NULL, d, why, sizeof why);
    }
    if (s->with_points && rc == 0) {
        shoal__dset *pr[2] = {&s->point, &s->replicate};
        static const char *const names[2] = {"point", "replicate"};
        for (int k = 0; k < 2 && rc == 0; k++) {
            pr[k]->ndims = 1;
            pr[k]->dims[0] = spec->ntasks;
            pr[k]->mtype = H5T_NATIVE_INT64;
            rc = bind_one(s, mode, "tasks", names[k], H5T_STD_I64LE, 0, NULL, pr[k],
                          why, sizeof why);
        }
    }
    rc = shoal__agree(s->comm, rc);
    if (rc < 0 && s->rank == 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        SHOAL_ERROR(rc, "%s '%s': %s%s%s",
                    mode == SHOAL__BIND_CREATE ? "cannot set up output file"
                                               : "cannot resume",
                    spec->path, why[0] ? why : "HDF5 error", msg[0] ? ": " : "", msg);
    }
    return rc;
}

/* ---- /ranks and provenance ----------------------------------------------------------- */

char *shoal__store_gather_hosts(shoal_store *s)
{
    char host[SHOAL__HOST_LEN] = {0};
    int hlen = 0;
    char pname[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(pname, &hlen);
    memcpy(host, pname,
           (size_t)hlen < SHOAL__HOST_LEN - 1 ? (size_t)hlen : SHOAL__HOST_LEN - 1);
    char *all = malloc((size_t)s->nranks * SHOAL__HOST_LEN);
    if (!all)
        shoal__abort(s->comm, "out of memory for the ranks' host names");
    MPI_Allgather(host, SHOAL__HOST_LEN, MPI_CHAR, all, SHOAL__HOST_LEN, MPI_CHAR,
                  s->comm);
    return all;
}

static const char *const rank_stats[] = {"tasks", "busy_seconds", "idle_seconds",
                                         "cpu_seconds", "max_rss_kib"};
#define NRANK_STATS (sizeof rank_stats / sizeof rank_stats[0])

int shoal__store_make_ranks(shoal_store *s, const char *hosts_all)
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
    H5Tset_size(st, SHOAL__HOST_LEN);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    hid_t d = make_dataset(g, "host", st, 1, &n, 0);
    for (size_t k = 0; k < NRANK_STATS && d >= 0; k++) {
        int whole = k == 0 || k == NRANK_STATS - 1;
        hid_t ds = make_dataset(g, rank_stats[k], whole ? H5T_STD_U64LE : H5T_IEEE_F64LE,
                                1, &n, 0);
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

/* Unique host names in rank order, comma-separated (malloc'd). */
static char *unique_hosts(const shoal_store *s, const char *hosts_all)
{
    size_t cap = (size_t)s->nranks * (SHOAL__HOST_LEN + 1) + 1;
    char *uniq = calloc(cap, 1);
    if (!uniq)
        return NULL;
    size_t len = 0;
    for (int r = 0; r < s->nranks; r++) {
        const char *h = hosts_all + (size_t)r * SHOAL__HOST_LEN;
        int seen = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = !strncmp(h, hosts_all + (size_t)q * SHOAL__HOST_LEN, SHOAL__HOST_LEN);
        if (!seen)
            len += (size_t)snprintf(uniq + len, cap - len, "%s%.*s", len ? "," : "",
                                    SHOAL__HOST_LEN, h);
    }
    return uniq;
}

/* Collective: the root attributes of a new file and /params' constants.
 * Every rank passes identical values. */
static int write_provenance(shoal_store *s, const shoal_store_spec *spec,
                            const char *hosts_all)
{
    char started[32];
    if (s->rank == 0)
        shoal__iso_time(started, sizeof started);
    MPI_Bcast(started, sizeof started, MPI_CHAR, 0, s->comm);
    char *uniq = unique_hosts(s, hosts_all);
    if (!uniq)
        return SHOAL_ENOMEM;
    hid_t f = s->file;
    int bad = 0;
    bad |= shoal__attr_str(f, "shoal_version", SHOAL_VERSION_STRING) < 0;
    bad |= shoal__attr_str(f, "app", spec->app) < 0;
    bad |= shoal__attr_str(f, "config", spec->config_text) < 0;
    bad |= shoal__attr_str(f, "config_source", spec->config_source) < 0;
    bad |= shoal__attr_str(f, "overrides", spec->overrides ? spec->overrides : "") < 0;
    bad |= shoal__attr_u64(f, "seed", spec->seed) < 0;
    bad |= shoal__attr_str(f, "rng", spec->rng) < 0;
    bad |= shoal__attr_u64(f, "ntasks", spec->ntasks) < 0;
    bad |= shoal__attr_u64(f, "nranks", (uint64_t)s->nranks) < 0;
    bad |= shoal__attr_str(f, "hosts", uniq) < 0;
    bad |= shoal__attr_str(f, "started", started) < 0;
    bad |= shoal__attr_str(f, "fingerprint", spec->fingerprint) < 0;
    bad |= shoal__attr_str(f, "state", "running") < 0;
    bad |= shoal__attr_u64(f, "resumed", 0) < 0;
    free(uniq);
    hid_t g = H5Gopen2(f, "params", H5P_DEFAULT);
    bad |= g < 0;
    for (size_t i = 0; i < spec->nconsts && !bad; i++)
        bad = shoal__attr_str(g, spec->const_names[i], spec->const_values[i]) < 0;
    if (!bad && spec->scan)
        bad = shoal__attr_str(g, "scan", spec->scan) < 0;
    if (g >= 0)
        H5Gclose(g);
    return bad ? SHOAL_EHDF5 : 0;
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
                               spec->path, spec->path, spec->app ? spec->app : "results");
        if (!spec->force)
            return SHOAL_ERROR(SHOAL_EEXIST,
                               "output file '%s' already exists; not touching "
                               "it. Pass --resume to finish the run in it, "
                               "--force to replace it, or --output to write "
                               "elsewhere",
                               spec->path);
        if (access(spec->path, W_OK) != 0)
            return SHOAL_ERROR(SHOAL_EIO, "output file '%s' exists and is not writable: %s",
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
        return SHOAL_ERROR(SHOAL_ENOENT, "cannot create output '%s': '%s' is not a directory",
                           spec->path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return SHOAL_ERROR(SHOAL_EIO,
                           "cannot create output '%s': directory '%s' is not "
                           "writable",
                           spec->path, dir);
    return 0;
}

int shoal__store_open_file(shoal_store *s, const shoal_store_spec *spec, int create)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, s->comm, MPI_INFO_NULL);
    H5Pset_coll_metadata_write(fapl, 1);
    s->file = create ? H5Fcreate(spec->path, spec->force ? H5F_ACC_TRUNC : H5F_ACC_EXCL,
                                 H5P_DEFAULT, fapl)
                     : H5Fopen(spec->path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    int rc = shoal__agree(s->comm, s->file < 0 ? SHOAL_EHDF5 : 0);
    if (rc < 0 && s->rank == 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        if (create)
            SHOAL_ERROR(rc, "cannot create output file '%s': %s", spec->path,
                        msg[0] ? msg : "HDF5 error");
        else
            SHOAL_ERROR(rc, "cannot resume '%s': not an HDF5 file Shoal can open%s%s%s",
                        spec->path, msg[0] ? " (" : "", msg, msg[0] ? ")" : "");
    }
    if (rc == 0) {
        s->dxpl = H5Pcreate(H5P_DATASET_XFER);
        H5Pset_dxpl_mpio(s->dxpl, H5FD_MPIO_INDEPENDENT);
    }
    return rc;
}

int shoal_store_create(MPI_Comm comm, const shoal_store_spec *spec, shoal_store **out)
{
    *out = NULL;
    shoal__h5_quiet();
    shoal_store *s = shoal__store_alloc(comm, spec);
    int mine = s ? 0 : SHOAL_ENOMEM;
    if (s && s->rank == 0)
        mine = precheck(spec);
    int rc = shoal__agree(comm, mine);
    if (rc == 0)
        rc = shoal__store_open_file(s, spec, 1);
    if (rc == 0)
        rc = shoal__store_bind(s, spec, SHOAL__BIND_CREATE);
    if (rc == 0) {
        char *hosts_all = shoal__store_gather_hosts(s);
        int bad = shoal__store_make_ranks(s, hosts_all) < 0;
        if (!bad)
            bad = shoal__failures_create(s->file, (uint64_t)s->nranks * SHOAL_FAILURE_SLOTS) < 0;
        if (!bad)
            bad = write_provenance(s, spec, hosts_all) < 0;
        free(hosts_all);
        if (!bad)
            bad = H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0;
        rc = shoal__agree(comm, bad ? SHOAL_EHDF5 : 0);
        if (rc < 0 && s->rank == 0) {
            char msg[256];
            shoal__h5_message(msg, sizeof msg);
            SHOAL_ERROR(rc, "cannot set up output file '%s': %s", spec->path,
                        msg[0] ? msg : "HDF5 error");
        }
    }
    if (rc < 0) {
        shoal__store_free(s);
        return rc;
    }
    *out = s;
    return 0;
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

int shoal_store_close(shoal_store *s, const shoal_store_rank_stats *mine, uint64_t done,
                      uint64_t failed, double wall_seconds, const shoal_store_failure *log,
                      size_t nlog, const char *state)
{
    if (!s)
        return 0;
    if (nlog > SHOAL_FAILURE_SLOTS)
        nlog = SHOAL_FAILURE_SLOTS;
    int bad = shoal__failures_write(s->file, s->dxpl, log, nlog,
                                    s->fail_base + (uint64_t)s->rank * SHOAL_FAILURE_SLOTS,
                                    1) < 0;
    bad |= write_rank_stat(s, rank_stats[0], H5T_NATIVE_UINT64, &mine->tasks) < 0;
    bad |= write_rank_stat(s, rank_stats[1], H5T_NATIVE_DOUBLE, &mine->busy_seconds) < 0;
    bad |= write_rank_stat(s, rank_stats[2], H5T_NATIVE_DOUBLE, &mine->idle_seconds) < 0;
    bad |= write_rank_stat(s, rank_stats[3], H5T_NATIVE_DOUBLE, &mine->cpu_seconds) < 0;
    bad |= write_rank_stat(s, rank_stats[4], H5T_NATIVE_UINT64, &mine->max_rss_kib) < 0;
    char finished[32];
    if (s->rank == 0)
        shoal__iso_time(finished, sizeof finished);
    MPI_Bcast(finished, sizeof finished, MPI_CHAR, 0, s->comm);
    MPI_Bcast(&wall_seconds, 1, MPI_DOUBLE, 0, s->comm);
    bad |= shoal__attr_str(s->file, "finished", finished) < 0;
    bad |= shoal__attr_str(s->file, "state", state ? state : "complete") < 0;
    bad |= shoal__attr_double(s->file, "wall_seconds", wall_seconds) < 0;
    bad |= shoal__attr_u64(s->file, "tasks_done", done) < 0;
    bad |= shoal__attr_u64(s->file, "tasks_failed", failed) < 0;
    /* Every dataset handle goes before the file, so H5Fclose really closes. */
    hid_t file = s->file;
    s->file = 0;
    for (size_t i = 0; i < s->nfields; i++)
        dset_close(&s->field[i]);
    for (int c = 0; c < NCOLS; c++)
        dset_close(&s->col[c]);
    for (size_t i = 0; i < s->nparams; i++)
        dset_close(&s->param[i]);
    dset_close(&s->point);
    dset_close(&s->replicate);
    H5Pclose(s->dxpl);
    s->dxpl = 0;
    if (H5Fclose(file) < 0)
        bad = 1;
    int rc = shoal__agree(s->comm, bad ? SHOAL_EHDF5 : 0);
    if (rc < 0 && s->rank == 0)
        SHOAL_ERROR(rc, "closing output file '%s' failed", s->path);
    shoal__store_free(s);
    return rc;
}
