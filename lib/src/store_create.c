/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_create.c: a new result file — checked before anything is written
 * (an existing output, the directory, the free space), built under
 * "<output>.part" with every dataset, /ranks, /failures, the provenance
 * attributes and row 0 of /segments, then renamed into place. Every
 * collective step is followed by an agreement (shoal__store_step), so a
 * failure on any rank sends every rank down the same path, and every
 * failure removes the .part. */
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

const char *const shoal__rank_stats[SHOAL__NRANK_STATS] = {
    "tasks", "busy_seconds", "idle_seconds", "cpu_seconds", "max_rss_kib"};
static const char *const rank_stat_units[SHOAL__NRANK_STATS] = {NULL, "s", "s", "s",
                                                                       "KiB"};

int shoal__store_make_ranks(shoal_store *s, const char *hosts_all)
{
    /* This run's ranks replace an earlier segment's, and so does their
     * dimension (the group goes first, so no reference to it is left). */
    if (H5Lexists(s->file, "ranks", H5P_DEFAULT) > 0 &&
        H5Ldelete(s->file, "ranks", H5P_DEFAULT) < 0)
        return SHOAL_EHDF5;
    if (shoal__dim_delete(s->file, SHOAL__DIM_RANK) < 0 ||
        shoal__dim_create(s->file, SHOAL__DIM_RANK, (uint64_t)s->nranks, 0) < 0)
        return SHOAL_EHDF5;
    hid_t g = H5Gcreate2(s->file, "ranks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return SHOAL_EHDF5;
    int bad = 0;
    hsize_t n = (hsize_t)s->nranks;
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, SHOAL__HOST_LEN);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    hid_t d = shoal__store_make_dataset(g, "host", st, 1, &n, NULL);
    if (d >= 0)
        bad |= shoal__dim_attach(s->file, d, SHOAL__DIM_RANK, NULL, 1) < 0;
    for (size_t k = 0; k < SHOAL__NRANK_STATS && d >= 0; k++) {
        int whole = k == 0 || k == SHOAL__NRANK_STATS - 1;
        hid_t ds = shoal__store_make_dataset(g, shoal__rank_stats[k], whole ? H5T_STD_U64LE : H5T_IEEE_F64LE,
                                1, &n, NULL);
        if (ds < 0) {
            bad = 1;
        } else {
            bad |= shoal__attr_meta(ds, rank_stat_units[k], NULL) < 0 ||
                   shoal__dim_attach(s->file, ds, SHOAL__DIM_RANK, NULL, 1) < 0;
            H5Dclose(ds);
        }
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

char *shoal__store_unique_hosts(const shoal_store *s, const char *hosts_all, int *nhosts)
{
    size_t cap = (size_t)s->nranks * (SHOAL__HOST_LEN + 1) + 1;
    char *uniq = calloc(cap, 1);
    if (!uniq)
        return NULL;
    size_t len = 0;
    *nhosts = 0;
    for (int r = 0; r < s->nranks; r++) {
        const char *h = hosts_all + (size_t)r * SHOAL__HOST_LEN;
        int seen = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = !strncmp(h, hosts_all + (size_t)q * SHOAL__HOST_LEN, SHOAL__HOST_LEN);
        if (!seen) {
            len += (size_t)snprintf(uniq + len, cap - len, "%s%.*s", len ? "," : "",
                                    SHOAL__HOST_LEN, h);
            ++*nhosts;
        }
    }
    return uniq;
}

/* Collective: constant i as an attribute of /params (g), of its declared
 * type: int64, float64 or a UTF-8 string (text parsed back: the settings
 * print integers whole and floats with 17 digits, so nothing is lost), with
 * its unit and doc as "<name>.units" and "<name>.doc". */
static int write_constant(hid_t g, const shoal_store_spec *spec, size_t i)
{
    const shoal_param *p = spec->const_decls ? spec->const_decls[i] : NULL;
    const char *name = spec->const_names[i], *text = spec->const_values[i];
    char *end = NULL;
    int rc;
    if (p && p->type == SHOAL_INT64) {
        long long v = strtoll(text, &end, 10);
        rc = *end ? SHOAL_EINVAL : shoal__attr_i64(g, name, (int64_t)v);
    } else if (p && p->type == SHOAL_FLOAT64) {
        double v = strtod(text, &end);
        rc = *end ? SHOAL_EINVAL : shoal__attr_double(g, name, v);
    } else {
        rc = shoal__attr_str(g, name, text);
    }
    char key[300];
    if (rc == 0 && p && p->unit) {
        snprintf(key, sizeof key, "%s.units", name);
        rc = shoal__attr_str(g, key, p->unit);
    }
    if (rc == 0 && p && p->doc) {
        snprintf(key, sizeof key, "%s.doc", name);
        rc = shoal__attr_str(g, key, p->doc);
    }
    return rc;
}

/* Collective: the root attributes of a new file and /params' constants.
 * Every rank passes identical values. */
static int write_provenance(shoal_store *s, const shoal_store_spec *spec,
                            const char *hosts_all)
{
    char *started = s->started;
    if (s->rank == 0)
        shoal__iso_time(started, sizeof s->started);
    MPI_Bcast(started, sizeof s->started, MPI_CHAR, 0, s->comm);
    int nhosts;
    char *uniq = shoal__store_unique_hosts(s, hosts_all, &nhosts);
    if (!uniq)
        return SHOAL_ENOMEM;
    hid_t f = s->file;
    int bad = 0;
    bad |= shoal__attr_str(f, "shoal_version", SHOAL_VERSION_STRING) < 0;
    bad |= shoal__attr_str(f, "app", spec->app) < 0;
    bad |= shoal__attr_str(f, "config", spec->config_text) < 0;
    bad |= shoal__attr_str(f, "config_source", spec->config_source) < 0;
    bad |= shoal__attr_str(f, "overrides", spec->overrides ? spec->overrides : "") < 0;
    bad |= shoal__attr_str(f, "config_env", spec->config_env ? spec->config_env : "") < 0;
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
        bad = write_constant(g, spec, i) < 0;
    if (!bad && spec->scan)
        bad = shoal__attr_str(g, "scan", spec->scan) < 0;
    if (g >= 0)
        H5Gclose(g);
    if (!bad && spec->with_points) {
        /* Numbers for readers (group_by = point): the scan's shape. */
        hid_t p = H5Gopen2(f, "points", H5P_DEFAULT);
        bad = p < 0 || shoal__attr_u64(p, "npoints", spec->npoints) < 0 ||
              shoal__attr_u64(p, "replicates", spec->replicates) < 0;
        if (p >= 0)
            H5Gclose(p);
    }
    return bad ? SHOAL_EHDF5 : 0;
}

/* ---- create ---------------------------------------------------------------------- */

/* Rank 0: can we create spec->path, and hold it? Reports why not. */
static int precheck(const shoal_store_spec *spec)
{
    struct stat sb;
    if (lstat(spec->path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode) || (stat(spec->path, &sb) == 0 && S_ISDIR(sb.st_mode)))
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
    /* The whole file must fit: every row is allocated now and written later. */
    struct statvfs fs;
    double need = (double)spec->ntasks * (double)spec->row_bytes + 1048576.0;
    if (spec->row_bytes && statvfs(dir, &fs) == 0) {
        double avail = (double)fs.f_bavail * (double)fs.f_frsize;
        if (need > avail)
            return SHOAL_ERROR(SHOAL_ERANGE,
                               "cannot create output '%s': %llu tasks of %llu bytes "
                               "need about %.3g GB, but '%s' has %.3g GB free; free "
                               "space, write elsewhere (--output), or run fewer tasks",
                               spec->path, (unsigned long long)spec->ntasks,
                               (unsigned long long)spec->row_bytes, need / 1e9, dir,
                               avail / 1e9);
    }
    return 0;
}

int shoal_store_create(MPI_Comm comm, const shoal_store_spec *spec, shoal_store **out)
{
    *out = NULL;
    shoal__h5_quiet();
    shoal_store *s = shoal__store_alloc(comm, spec);
    int mine = s ? 0 : SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the store");
    if (s && s->rank == 0)
        mine = precheck(spec);
    int rc = shoal__agree(comm, mine);
    if (rc < 0) {
        shoal__store_free(s);
        return rc;
    }
    /* Built under a temporary name; the lock guards it like the output. */
    char part[4200];
    snprintf(part, sizeof part, "%s.part", spec->path);
    int made = 0;
    made = 1; /* from here the temporary file may exist */
    rc = shoal__store_open_file(s, part, 1);
    if (rc == 0)
        rc = shoal__store_bind(s, spec, SHOAL__BIND_CREATE);
    char *hosts_all = NULL;
    if (rc == 0) {
        hosts_all = shoal__store_gather_hosts(s);
        rc = shoal__store_step(s, "ranks", shoal__store_make_ranks(s, hosts_all));
    }
    if (rc == 0)
        rc = shoal__store_step(s, "failures",
                  shoal__failures_create(s->file, (uint64_t)s->nranks * SHOAL_FAILURE_SLOTS));
    if (rc == 0)
        rc = shoal__store_step(s, "provenance", write_provenance(s, spec, hosts_all));
    if (rc == 0)
        rc = shoal__store_step(s, "input", shoal__store_input_create(s, spec->input));
    if (rc == 0)
        rc = shoal__store_step(s, "segments", shoal__segments_begin(s, hosts_all));
    free(hosts_all);
    if (rc == 0)
        rc = shoal__store_step(s, "flush", H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0 ? SHOAL_EHDF5 : 0);
    if (rc < 0 && s->rank == 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        SHOAL_ERROR(rc, "cannot set up output file '%s': %s", spec->path,
                    msg[0] ? msg : "HDF5 error (or a failure on another rank)");
    }
    /* Complete: rename into place (replacing an old file or a symlink
     * itself, never its target). The open file goes on under its new name;
     * closing and reopening instead would lose the free space HDF5 keeps for
     * the attributes written at close. */
    if (rc == 0) {
        int r = 0;
        if (s->rank == 0 && (shoal__inject("rename", 0) || rename(part, spec->path) != 0))
            r = SHOAL_ERROR(SHOAL_EIO, "cannot move the new file '%s' into place as '%s': %s",
                            part, spec->path, strerror(errno));
        rc = shoal__agree(s->comm, r); /* the last step: nothing can fail after it */
        made = rc < 0;
    }
    if (rc < 0) {
        int rank = s->rank;
        shoal__store_free(s); /* closes the file on every rank */
        if (made && rank == 0)
            unlink(part);
        return rc;
    }
    *out = s;
    return 0;
}

