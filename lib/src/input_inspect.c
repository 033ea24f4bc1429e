/* SPDX-License-Identifier: GPL-3.0-or-later */
/* input_inspect.c: rank 0 looks at the input before anything is written —
 * the HDF5 file and its datasets, the files of a glob or a list, the Shoal
 * result file of group_by = point — and fills in the description that
 * input.c broadcasts.
 *
 * Every refusal is one line naming the config key's file:line, the input
 * file and, where it applies, the dataset, and says how to fix it. HDF5
 * files are opened read-only with the sec2 driver (no MPI: a file list of
 * 10^5 files costs no collective call per file). */
#include <shoal/error.h>

#include "h5util.h"
#include "input_impl.h"

#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* H5Pset_file_locking came with HDF5 1.10.7 and 1.12.1. Without it, HDF5
 * takes a shared lock on the file, and an input that another program has
 * open for writing cannot be opened (set HDF5_USE_FILE_LOCKING=FALSE). */
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) || \
    H5_VERSION_GE(1, 12, 1)
#define HAVE_FILE_LOCKING 1
#else
#define HAVE_FILE_LOCKING 0
#endif

hid_t shoal__input_open_file(const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    H5Pset_fapl_sec2(fapl);
#if HAVE_FILE_LOCKING
    H5Pset_file_locking(fapl, 0, 1);
#endif
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    /* Closing the property list would clear the error stack: keep the
     * reason the open failed for the caller's message. */
    hid_t why = f < 0 ? H5Eget_current_stack() : -1;
    H5Pclose(fapl);
    if (why >= 0)
        H5Eset_current_stack(why);
    return f;
}

int shoal__input_type_name(hid_t type, char *buf, size_t n)
{
    H5T_class_t c = H5Tget_class(type);
    size_t bits = 8 * H5Tget_size(type);
    if (c == H5T_INTEGER) {
        snprintf(buf, n, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
        return 0;
    }
    if (c == H5T_FLOAT) {
        snprintf(buf, n, "float%zu", bits);
        return 0;
    }
    snprintf(buf, n, "%s", c == H5T_STRING     ? "string"
                           : c == H5T_COMPOUND ? "compound"
                           : c == H5T_ENUM     ? "enum"
                           : c == H5T_ARRAY    ? "array"
                           : c == H5T_VLEN     ? "variable-length"
                           : c == H5T_OPAQUE   ? "opaque"
                           : c == H5T_BITFIELD ? "bitfield"
                           : c == H5T_REFERENCE ? "reference"
                                                : "unknown");
    return -1;
}

int shoal__input_probe(hid_t ds, char *tname, size_t n, int *nd, hsize_t *dims)
{
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int numeric = t >= 0 && shoal__input_type_name(t, tname, n) == 0;
    *nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (*nd > 0)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    return numeric;
}

static int64_t mtime_ns(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000000 + (int64_t)sb->st_mtim.tv_nsec;
}

/* The output's identity, when it exists (nothing to compare otherwise). */
typedef struct {
    int exists;
    dev_t dev;
    ino_t ino;
    const char *path;
} output_id;

static int is_output(const output_id *o, const struct stat *sb)
{
    return o->exists && sb->st_dev == o->dev && sb->st_ino == o->ino;
}

/* ---- one HDF5 file and its datasets ------------------------------------------------ */

/* Does every component of the path "/a/b/c" exist? (H5Lexists fails on a
 * missing intermediate group.) */
static int path_exists(hid_t f, const char *name)
{
    char buf[1024];
    size_t n = strlen(name);
    if (n >= sizeof buf || n < 2)
        return 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && name[i] != '/')
            continue;
        memcpy(buf, name, i);
        buf[i] = '\0';
        if (H5Lexists(f, buf, H5P_DEFAULT) <= 0)
            return 0;
    }
    return 1;
}

/* Open the file for inspection; stat it first. */
static int open_input(const shoal__input *in, const output_id *o, struct stat *sb, hid_t *f)
{
    *f = -1;
    char cwd[PATH_MAX] = "?";
    if (stat(in->file, sb) != 0) {
        int missing = errno == ENOENT;
        const char *why = strerror(errno);
        if (in->file[0] != '/' && !getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, "?");
        return SHOAL_ERROR(SHOAL_ENOENT, "%s: [input] file '%s' %s%s%s%s%s; check the path",
                           in->where, in->file, missing ? "does not exist" : "cannot be read: ",
                           missing ? "" : why,
                           in->file[0] == '/' ? "" : " (relative to the current directory ",
                           in->file[0] == '/' ? "" : cwd, in->file[0] == '/' ? "" : ")");
    }
    if (!S_ISREG(sb->st_mode))
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [input] file '%s' is not a regular file; "
                           "give an HDF5 file", in->where, in->file);
    if (is_output(o, sb))
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [input] file '%s' is the output file '%s' itself; write the "
                           "results elsewhere (--output)",
                           in->where, in->file, o->path);
    *f = shoal__input_open_file(in->file);
    if (*f < 0) {
        char msg[256];
        shoal__h5_message(msg, sizeof msg);
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [input] file '%s' is not an HDF5 file, or it is damaged "
                           "(%s)",
                           in->where, in->file, msg[0] ? msg : "HDF5 cannot open it");
    }
    return 0;
}

/* Each dataset: present, a dataset, numeric, 1-D or 2-D, not empty, with
 * as many rows as the first. want_rows: the rows they must have (0: any). */
static int inspect_datasets(shoal__input *in, hid_t f, uint64_t want_rows)
{
    for (size_t k = 0; k < in->ndsets; k++) {
        input_dset *d = &in->dsets[k];
        const char *w = in->dsets_where;
        if (!path_exists(f, d->name))
            return SHOAL_ERROR(SHOAL_ENOTFOUND,
                               "%s: [input] datasets: '%s' has no dataset '%s'; list the "
                               "datasets it has with h5ls -r '%s'",
                               w, in->file, d->name, in->file);
        hid_t ds = H5Dopen2(f, d->name, H5P_DEFAULT);
        if (ds < 0)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [input] datasets: '%s' in '%s' is not a dataset (a group?)",
                               w, d->name, in->file);
        char tname[sizeof d->type] = "unreadable";
        hsize_t dims[H5S_MAX_RANK] = {0};
        int nd, numeric = shoal__input_probe(ds, tname, sizeof tname, &nd, dims);
        d->bytes = H5Dget_storage_size(ds);
        H5Dclose(ds);
        if (!numeric)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [input] datasets: '%s' in '%s' holds %s values, not "
                               "numbers; only integer and float datasets can be read",
                               w, d->name, in->file, tname);
        if (nd < 1 || nd > 2)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [input] datasets: '%s' in '%s' has %d dimensions; it "
                               "must be 1-D (rows) or 2-D (rows x columns)",
                               w, d->name, in->file, nd < 0 ? 0 : nd);
        memcpy(d->type, tname, sizeof d->type);
        d->is_int = tname[0] != 'f';
        d->ndims = nd;
        d->rows = dims[0];
        d->cols = nd == 2 ? dims[1] : 1;
        if (d->rows == 0 || d->cols == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [input] datasets: '%s' in '%s' has no %s; an empty "
                               "dataset makes no tasks",
                               w, d->name, in->file, d->rows == 0 ? "rows" : "columns");
        uint64_t want = want_rows ? want_rows : in->dsets[0].rows;
        if (d->rows != want)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [input] datasets: '%s' in '%s' has %llu rows but %s has "
                               "%llu; every dataset needs the same number of rows (dim 0)",
                               w, d->name, in->file, (unsigned long long)d->rows,
                               want_rows ? "/tasks/status" : in->dsets[0].name,
                               (unsigned long long)want);
    }
    return 0;
}

static int inspect_hdf5(shoal__input *in, const output_id *o)
{
    struct stat sb;
    hid_t f;
    int rc = open_input(in, o, &sb, &f);
    if (rc == 0)
        rc = inspect_datasets(in, f, 0);
    if (f >= 0)
        H5Fclose(f);
    if (rc < 0)
        return rc;
    in->size = (uint64_t)sb.st_size;
    in->mtime_ns = mtime_ns(&sb);
    in->rows = in->dsets[0].rows;
    if (in->rows_per_task > in->rows)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [input] rows_per_task = %llu is more than the %llu rows of "
                           "the datasets in '%s'; use at most %llu (one task)",
                           in->rpt_where, (unsigned long long)in->rows_per_task,
                           (unsigned long long)in->rows, in->file,
                           (unsigned long long)in->rows);
    in->rpt = in->rows_per_task;
    if (in->rpt == 0) {
        uint64_t row_bytes = 0;
        for (size_t k = 0; k < in->ndsets; k++)
            row_bytes += 8 * in->dsets[k].cols;
        in->rpt = in->bytes_per_task / row_bytes;
        in->rpt = in->rpt < 1 ? 1 : in->rpt > in->rows ? in->rows : in->rpt;
    }
    in->ntasks = in->rows / in->rpt + (in->rows % in->rpt != 0);
    return 0;
}

/* ---- a Shoal result file, by scan point ---------------------------------------------- */

/* The replicate count a scan's result file records (an attribute of
 * /points); 0 when it has none. */
static uint64_t replicates_of(hid_t f)
{
    uint64_t reps = 0;
    hid_t g = path_exists(f, "/points") ? H5Gopen2(f, "/points", H5P_DEFAULT) : -1;
    hid_t a = g >= 0 && H5Aexists(g, "replicates") > 0 ? H5Aopen(g, "replicates", H5P_DEFAULT)
                                                       : -1;
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &reps) < 0)
        reps = 0;
    if (a >= 0)
        H5Aclose(a);
    if (g >= 0)
        H5Gclose(g);
    return reps;
}

static int inspect_points(shoal__input *in, const output_id *o)
{
    struct stat sb;
    hid_t f;
    int rc = open_input(in, o, &sb, &f);
    if (rc < 0)
        return rc;
    uint64_t ntasks = 0;
    hid_t st = -1, sp = -1;
    int shoal_file = H5Aexists(f, "fingerprint") > 0 && H5Aexists(f, "ntasks") > 0 &&
                     path_exists(f, "/tasks/status");
    if (shoal_file) {
        hid_t a = H5Aopen(f, "ntasks", H5P_DEFAULT);
        shoal_file = a >= 0 && H5Aread(a, H5T_NATIVE_UINT64, &ntasks) >= 0;
        if (a >= 0)
            H5Aclose(a);
        st = H5Dopen2(f, "/tasks/status", H5P_DEFAULT);
        sp = st >= 0 ? H5Dget_space(st) : -1;
        hsize_t n = 0;
        shoal_file = shoal_file && sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
                     H5Sget_simple_extent_dims(sp, &n, NULL) == 1 && n == ntasks && n > 0;
    }
    if (!shoal_file) {
        rc = SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [input] group_by = point: '%s' is not a Shoal result file (no "
                         "fingerprint, ntasks and /tasks/status); remove group_by to read "
                         "its datasets by rows",
                         in->where, in->file);
    }
    uint64_t reps = rc == 0 ? replicates_of(f) : 0;
    if (rc == 0 && (!path_exists(f, "/tasks/point") || reps == 0 || ntasks % reps != 0))
        rc = SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [input] group_by = point: the result file '%s' was not made "
                         "by a [scan] (no /tasks/point, or no replicate count in /points' "
                         "attributes); remove group_by to read its datasets by rows",
                         in->where, in->file);
    if (rc == 0)
        rc = inspect_datasets(in, f, ntasks);
    if (sp >= 0)
        H5Sclose(sp);
    if (st >= 0)
        H5Dclose(st);
    H5Fclose(f);
    if (rc < 0)
        return rc;
    in->size = (uint64_t)sb.st_size;
    in->mtime_ns = mtime_ns(&sb);
    in->rows = ntasks;
    in->replicates = reps;
    in->rpt = reps;
    in->ntasks = ntasks / reps;
    return 0;
}

/* ---- a list of files ------------------------------------------------------------------ */

typedef struct {
    char **v;
    size_t n, cap;
} strv;

/* Append the path a + b + c. */
static int strv_add(strv *s, const char *a, const char *b, const char *c)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the input's file list");
        s->v = v;
        s->cap = cap;
    }
    size_t len = strlen(a) + strlen(b) + strlen(c) + 1;
    s->v[s->n] = malloc(len);
    if (!s->v[s->n])
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for the input's file list");
    snprintf(s->v[s->n++], len, "%s%s%s", a, b, c);
    return 0;
}

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static int from_glob(const shoal__input *in, strv *out)
{
    glob_t g;
    int r = glob(in->glob, 0, NULL, &g);
    if (r == GLOB_NOMATCH)
        return SHOAL_ERROR(SHOAL_ENOENT,
                           "%s: [input] files = '%s' matches no file (relative to the "
                           "current directory); check the pattern",
                           in->where, in->glob);
    if (r != 0)
        return SHOAL_ERROR(r == GLOB_NOSPACE ? SHOAL_ENOMEM : SHOAL_ECONFIG,
                           "%s: [input] files = '%s': cannot read the directories it names",
                           in->where, in->glob);
    int rc = 0;
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
        rc = strv_add(out, g.gl_pathv[i], "", "");
    globfree(&g);
    return rc;
}

/* Paths of the list file, relative ones taken from its directory. lines
 * gets each path's line number. */
static int from_list(const shoal__input *in, strv *out, size_t **lines)
{
    FILE *fp = fopen(in->list, "r");
    if (!fp)
        return SHOAL_ERROR(SHOAL_ENOENT, "%s: [input] list file '%s' cannot be read: %s",
                           in->where, in->list, strerror(errno));
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", in->list);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", dirname(tmp));
    size_t dirlen = strcmp(dir, ".") ? strlen(dir) : 0;
    char *line = NULL;
    size_t cap = 0, lcap = 0, lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, fp) >= 0) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strlen(p);
        while (len && strchr(" \t\r\n", p[len - 1]))
            p[--len] = '\0';
        if (len == 0 || p[0] == '#')
            continue;
        if (out->n == lcap) {
            lcap = lcap ? 2 * lcap : 64;
            size_t *grown = realloc(*lines, lcap * sizeof *grown);
            if (!grown) {
                rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading '%s'", in->list);
                break;
            }
            *lines = grown;
        }
        (*lines)[out->n] = lineno;
        int relative = p[0] != '/' && dirlen;
        rc = strv_add(out, relative ? dir : "", relative ? "/" : "", p);
    }
    free(line);
    if (rc == 0 && ferror(fp))
        rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [input] list file '%s': read error", in->where,
                         in->list);
    fclose(fp);
    if (rc == 0 && out->n == 0)
        rc = SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [input] list file '%s' lists no files (blank lines and # "
                         "comments only); put one path per line",
                         in->where, in->list);
    return rc;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static int inspect_files(shoal__input *in, const output_id *o)
{
    strv s = {NULL, 0, 0};
    size_t *lines = NULL;
    int rc = in->glob ? from_glob(in, &s) : from_list(in, &s, &lines);
    size_t blob = 0;
    for (size_t i = 0; i < s.n; i++)
        blob += strlen(s.v[i]) + 1;
    if (rc == 0) {
        in->path_blob = malloc(blob ? blob : 1);
        in->paths = malloc((s.n + 1) * sizeof *in->paths);
        in->sizes = malloc((s.n + 1) * sizeof *in->sizes);
        in->mtimes = malloc((s.n + 1) * sizeof *in->mtimes);
        if (!in->path_blob || !in->paths || !in->sizes || !in->mtimes)
            rc = SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for %zu input files", s.n);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    char *at = in->path_blob;
    for (size_t i = 0; i < s.n && rc == 0; i++) {
        struct stat sb;
        char where[PATH_MAX + 64];
        if (lines)
            snprintf(where, sizeof where, "%s:%zu", in->list, lines[i]);
        else
            snprintf(where, sizeof where, "%s", in->where);
        int st = stat(s.v[i], &sb);
        if (st != 0 || !S_ISREG(sb.st_mode)) {
            const char *what = st != 0 && errno == ENOENT ? "does not exist"
                               : st != 0                  ? "cannot be read"
                               : S_ISDIR(sb.st_mode)      ? "is a directory"
                                                          : "is not a regular file";
            rc = SHOAL_ERROR(SHOAL_ENOENT, "%s: input file '%s' %s%s%s%s; fix %s", where,
                             s.v[i], what, lines ? " ([input] list at " : "",
                             lines ? in->where : "", lines ? ")" : "",
                             lines ? "the path or remove the line" : "the pattern");
            break;
        }
        if (is_output(o, &sb)) {
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: input file '%s' is the output file '%s' itself; write the "
                             "results elsewhere (--output)",
                             where, s.v[i], o->path);
            break;
        }
        size_t len = strlen(s.v[i]) + 1;
        memcpy(at, s.v[i], len);
        in->paths[i] = at;
        at += len;
        in->path_max = len > in->path_max ? len : in->path_max;
        in->sizes[i] = (uint64_t)sb.st_size;
        in->mtimes[i] = mtime_ns(&sb);
        h = fnv(h, s.v[i], len);
        h = fnv(h, &in->sizes[i], sizeof in->sizes[i]);
        h = fnv(h, &in->mtimes[i], sizeof in->mtimes[i]);
    }
    if (rc == 0) {
        in->nfiles = s.n;
        in->ntasks = s.n;
        in->hash = h;
    }
    free(lines);
    strv_free(&s);
    return rc;
}

int shoal__input_inspect(shoal__input *in, const char *output)
{
    shoal__h5_quiet();
    output_id o = {0, 0, 0, output};
    struct stat sb;
    if (output && stat(output, &sb) == 0) {
        o.exists = 1;
        o.dev = sb.st_dev;
        o.ino = sb.st_ino;
    }
    switch (in->kind) {
    case INPUT_HDF5:
        return inspect_hdf5(in, &o);
    case INPUT_POINTS:
        return inspect_points(in, &o);
    case INPUT_FILES:
        return inspect_files(in, &o);
    case INPUT_STREAM:
        return 0; /* the stream checks its source (stream.c) */
    }
    return SHOAL_ERROR(SHOAL_EINTERNAL, "input of unknown kind %d", (int)in->kind);
}
