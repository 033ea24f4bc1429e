/* SPDX-License-Identifier: GPL-3.0-or-later */
/* input.c: the [input] section — its keys, the collective set-up that turns
 * the input into the run's task count, and what the rest of the run learns
 * of it: the fingerprint, the dry run, /input (see input.h).
 *
 * Only rank 0 touches files (input_inspect.c); it then broadcasts the
 * description in a few fixed messages (a header of numbers, the dataset
 * types, and for a file list the paths, sizes and modification times), so
 * every rank holds the same description and task i's slice is the same
 * wherever task i runs. */
#include <shoal/error.h>

#include "input_impl.h"
#include "keep.h"
#include "mpiutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- the keys ------------------------------------------------------------------- */

enum { K_FILE, K_FILES, K_LIST, K_DATASETS, K_ROWS, K_BYTES, K_GROUP_BY, NKEYS };

static const struct {
    const char *key;
    const char *doc;
} keys[NKEYS] = {
    [K_FILE] = {"file", "an HDF5 file whose datasets' rows make the tasks (relative to the "
                        "current directory)"},
    [K_FILES] = {"files", "or: a glob (sorted); one task per file"},
    [K_LIST] = {"list", "or: a text file of paths, one per line (# comments; relative to "
                        "the list's directory); one task per file"},
    [K_DATASETS] = {"datasets", "numeric datasets, 1-D or 2-D, comma-separated: /x, /y "
                                "(required with file)"},
    [K_ROWS] = {"rows_per_task", "rows of every dataset per task"},
    [K_BYTES] = {"bytes_per_task", "or: target bytes of all datasets' rows per task, as read "
                                   "(8 per value), k/M/G suffixes; default 16M"},
    [K_GROUP_BY] = {"group_by", "point: one task per scan point of a Shoal result file, "
                                "its done replicates as rows"},
};

#define DEFAULT_BYTES_PER_TASK ((uint64_t)16 << 20)

void shoal__input_help(FILE *out)
{
    fprintf(out, "Section [input] (optional): the tasks come from data (docs/analysis.md)\n");
    for (int k = 0; k < NKEYS; k++)
        fprintf(out, "  %-22s %s\n", keys[k].key, keys[k].doc);
}

/* "64M" -> 67108864: a whole number with an optional k, M or G (powers of
 * 1024). Returns 0 or -1. */
static int parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    while (*end == ' ')
        end++;
    unsigned shift = 0;
    if (*end) {
        const char *units = "kKmMgG";
        const char *u = strchr(units, *end);
        if (!u || end[1] != '\0')
            return -1;
        shift = 10u * (unsigned)(1 + (u - units) / 2);
    }
    if (v == 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* Split "a, /b" into dataset names "/a", "/b". */
static int parse_datasets(shoal__input *in, const char *text, const char *where)
{
    size_t n = 1;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    in->dsets = calloc(n, sizeof *in->dsets);
    if (!in->dsets)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for %zu dataset names", n);
    for (const char *p = text; p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [input] datasets = '%s' has an empty name; list "
                               "dataset paths separated by commas, e.g. /x, /y",
                               where, text);
        char *name = malloc(len + 2);
        if (!name)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for dataset names");
        snprintf(name, len + 2, "%s%.*s", *p == '/' ? "" : "/", (int)len, p);
        for (size_t i = 0; i < in->ndsets; i++)
            if (!strcmp(in->dsets[i].name, name)) {
                free(name);
                return SHOAL_ERROR(SHOAL_ECONFIG,
                                   "%s: [input] datasets lists '%s' twice; list each once",
                                   where, in->dsets[i].name);
            }
        in->dsets[in->ndsets++].name = name;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}


int shoal__input_config(shoal_config *cfg, shoal__input **out)
{
    *out = NULL;
    int stream = shoal_config_has_section(cfg, "stream");
    if (!shoal_config_has_section(cfg, "input") && !stream)
        return 0;
    shoal__input *in = calloc(1, sizeof *in);
    if (!in)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory for [input]");
    *out = in;
    const char *v[NKEYS] = {NULL};
    const char *w[NKEYS] = {NULL};
    int rc = 0;
    for (int k = 0; k < NKEYS; k++) {
        if (k == K_ROWS)
            KEEP(shoal_config_get_u64(cfg, "input", keys[k].key, 0, 0, 1, (uint64_t)1 << 62,
                                      &in->rows_per_task));
        else
            KEEP(shoal_config_get_string(cfg, "input", keys[k].key, 0, NULL, &v[k]));
        w[k] = shoal_config_where(cfg, "input", keys[k].key);
        if (v[k] && !v[k][0])
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG, "%s: [input] %s is empty; %s", w[k], keys[k].key,
                             keys[k].doc));
    }
    if (rc < 0)
        return rc;
    const char *src = shoal_config_source(cfg);
    int nsrc = (v[K_FILE] != NULL) + (v[K_FILES] != NULL) + (v[K_LIST] != NULL);
    if (stream) {
        /* The stream's items are the files; [input] only names their
         * datasets. */
        in->kind = INPUT_STREAM;
        for (int k = 0; k < NKEYS; k++)
            if (v[k] && k != K_DATASETS)
                KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                                 "%s: [input] %s cannot be given with a [stream] section, "
                                 "whose items are the tasks' files; keep only datasets in "
                                 "[input]",
                                 w[k], keys[k].key));
        if (v[K_DATASETS] && rc == 0)
            KEEP(parse_datasets(in, v[K_DATASETS], w[K_DATASETS]));
        return rc;
    }
    if (nsrc == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [input] names no input; give file = DATA.h5 (an HDF5 file), "
                           "files = GLOB or list = PATHS.txt (one task per file)",
                           w[K_DATASETS] ? w[K_DATASETS] : src);
    if (nsrc > 1) {
        int second = v[K_LIST] ? K_LIST : K_FILES;
        int first = v[K_FILE] ? K_FILE : K_FILES;
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [input] %s cannot be given with %s (at %s): the input is "
                           "one HDF5 file (file) or a list of files (files or list); keep one",
                           w[second], keys[second].key, keys[first].key, w[first]);
    }
    in->kind = v[K_FILE] ? INPUT_HDF5 : INPUT_FILES;
    int src_key = v[K_FILE] ? K_FILE : v[K_FILES] ? K_FILES : K_LIST;
    in->file = v[K_FILE];
    in->glob = v[K_FILES];
    in->list = v[K_LIST];
    in->where = w[src_key];
    in->dsets_where = w[K_DATASETS];
    in->rpt_where = w[K_ROWS];
    if (v[K_GROUP_BY]) {
        if (strcmp(v[K_GROUP_BY], "point"))
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [input] group_by = '%s' is not known; the one grouping "
                             "is group_by = point",
                             w[K_GROUP_BY], v[K_GROUP_BY]));
        else if (in->kind != INPUT_HDF5)
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [input] group_by needs file = RESULT.h5 (a Shoal result "
                             "file), not %s",
                             w[K_GROUP_BY], keys[src_key].key));
        in->kind = INPUT_POINTS;
    }
    if (in->rows_per_task && v[K_BYTES])
        KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [input] bytes_per_task cannot be given with rows_per_task "
                         "(at %s); keep one",
                         w[K_BYTES], w[K_ROWS]));
    for (int k = K_ROWS; k <= K_BYTES; k++)
        if (w[k] && in->kind != INPUT_HDF5)
            KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [input] %s does not apply to %s: %s; remove it", w[k],
                             keys[k].key,
                             in->kind == INPUT_POINTS ? "group_by = point" : keys[src_key].key,
                             in->kind == INPUT_POINTS ? "a task is one scan point"
                                                      : "a task is one file"));
    in->bytes_per_task = DEFAULT_BYTES_PER_TASK;
    if (v[K_BYTES] && parse_bytes(v[K_BYTES], &in->bytes_per_task) < 0)
        KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [input] bytes_per_task = '%s' is not a size; expected a "
                         "whole number of bytes from 1, with an optional k, M or G "
                         "(e.g. 64M)",
                         w[K_BYTES], v[K_BYTES]));
    if (v[K_DATASETS])
        KEEP(parse_datasets(in, v[K_DATASETS], w[K_DATASETS]));
    else if (in->kind != INPUT_FILES)
        KEEP(SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [input] datasets is missing: name the datasets of '%s' whose "
                         "rows the tasks read, e.g. datasets = /x, /y",
                         in->where, in->file));
    return rc;
}
#undef KEEP

/* ---- set-up --------------------------------------------------------------------- */

/* Broadcast n bytes from rank 0 in pieces (counts are int). */
static void bcast_bytes(void *buf, size_t n, MPI_Comm comm)
{
    for (size_t off = 0; off < n; off += (size_t)1 << 30) {
        size_t k = n - off < ((size_t)1 << 30) ? n - off : (size_t)1 << 30;
        MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, 0, comm);
    }
}

enum { HDR_ROWS, HDR_RPT, HDR_NTASKS, HDR_REPS, HDR_SIZE, HDR_MTIME, HDR_NFILES,
       HDR_BLOB, HDR_PATH_MAX, HDR_HASH, NHDR };
enum { D_NDIMS, D_ROWS, D_COLS, D_INT, D_BYTES, ND };

/* Every rank gets rank 0's description. Non-root ranks that run out of
 * memory cannot agree any more (the others are in the next broadcast): the
 * job stops. */
static void share(shoal__input *in, int rank, MPI_Comm comm)
{
    size_t nh = NHDR + ND * in->ndsets;
    uint64_t *h = calloc(nh, sizeof *h);
    char *types = calloc(in->ndsets + 1, 16);
    if (!h || !types)
        shoal__abort(comm, "out of memory sharing the input's description");
    uint64_t blob = 0;
    if (rank == 0) {
        for (uint64_t i = 0; i < in->nfiles; i++)
            blob += strlen(in->paths[i]) + 1;
        uint64_t head[NHDR] = {in->rows, in->rpt, in->ntasks, in->replicates, in->size,
                               (uint64_t)in->mtime_ns, in->nfiles, blob, in->path_max,
                               in->hash};
        memcpy(h, head, sizeof head);
        for (size_t k = 0; k < in->ndsets; k++) {
            const input_dset *d = &in->dsets[k];
            uint64_t *e = h + NHDR + ND * k;
            e[D_NDIMS] = (uint64_t)d->ndims;
            e[D_ROWS] = d->rows;
            e[D_COLS] = d->cols;
            e[D_INT] = (uint64_t)d->is_int;
            e[D_BYTES] = d->bytes;
            memcpy(types + 16 * k, d->type, 16);
        }
    }
    MPI_Bcast(h, (int)nh, MPI_UINT64_T, 0, comm);
    MPI_Bcast(types, (int)(16 * in->ndsets), MPI_CHAR, 0, comm);
    if (rank != 0) {
        in->rows = h[HDR_ROWS];
        in->rpt = h[HDR_RPT];
        in->ntasks = h[HDR_NTASKS];
        in->replicates = h[HDR_REPS];
        in->size = h[HDR_SIZE];
        in->mtime_ns = (int64_t)h[HDR_MTIME];
        in->nfiles = h[HDR_NFILES];
        in->path_max = (size_t)h[HDR_PATH_MAX];
        in->hash = h[HDR_HASH];
        blob = h[HDR_BLOB];
        for (size_t k = 0; k < in->ndsets; k++) {
            input_dset *d = &in->dsets[k];
            const uint64_t *e = h + NHDR + ND * k;
            d->ndims = (int)e[D_NDIMS];
            d->rows = e[D_ROWS];
            d->cols = e[D_COLS];
            d->is_int = (int)e[D_INT];
            d->bytes = e[D_BYTES];
            memcpy(d->type, types + 16 * k, 16);
            d->type[15] = '\0';
        }
        if (in->nfiles) {
            in->path_blob = malloc(blob);
            in->paths = malloc(in->nfiles * sizeof *in->paths);
            in->sizes = malloc(in->nfiles * sizeof *in->sizes);
            in->mtimes = malloc(in->nfiles * sizeof *in->mtimes);
            if (!in->path_blob || !in->paths || !in->sizes || !in->mtimes)
                shoal__abort(comm, "out of memory for the input's file list");
        }
    }
    free(h);
    free(types);
    if (in->nfiles == 0)
        return;
    bcast_bytes(in->path_blob, blob, comm);
    bcast_bytes(in->sizes, in->nfiles * sizeof *in->sizes, comm);
    bcast_bytes(in->mtimes, in->nfiles * sizeof *in->mtimes, comm);
    if (rank != 0) {
        char *p = in->path_blob;
        for (uint64_t i = 0; i < in->nfiles; i++) {
            in->paths[i] = p;
            p += strlen(p) + 1;
        }
    }
}

/* Append printf output to a malloc'd string; on failure *s becomes NULL
 * and stays so. */
static void add(char **s, size_t *len, const char *fmt, ...) SHOAL_PRINTF(3, 4);
static void add(char **s, size_t *len, const char *fmt, ...)
{
    if (!*s)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *grown = n < 0 ? NULL : realloc(*s, *len + (size_t)n + 1);
    if (!grown) {
        free(*s);
        *s = NULL;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(grown + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *s = grown;
    *len += (size_t)n;
}

/* The datasets as text, with and without their shapes and types. */
static int describe_datasets(shoal__input *in)
{
    size_t a = 0, b = 0;
    in->names_text = calloc(1, 1);
    in->shapes_text = calloc(1, 1);
    for (size_t k = 0; k < in->ndsets; k++) {
        const input_dset *d = &in->dsets[k];
        add(&in->names_text, &a, "%s%s", k ? ", " : "", d->name);
        if (SHOAL__INPUT_PER_FILE(in))
            continue;
        add(&in->shapes_text, &b, "%s%s %s [%llu", k ? ", " : "", d->name, d->type,
            (unsigned long long)d->rows);
        if (d->ndims == 2)
            add(&in->shapes_text, &b, " x %llu", (unsigned long long)d->cols);
        add(&in->shapes_text, &b, "]");
    }
    if (!in->names_text || !in->shapes_text)
        return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory describing the input");
    return 0;
}

int shoal__input_setup(shoal__input *in, MPI_Comm comm, shoal_config *cfg,
                       const char *output, uint64_t *tasks)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int rc = 0;
    if (in->kind == INPUT_STREAM)
        return shoal__agree(comm, describe_datasets(in)); /* the stream sets the tasks */
    if (rank == 0) {
        rc = shoal__input_inspect(in, output);
        if (rc == 0 && *tasks != 0 && *tasks != in->ntasks)
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [run] tasks = %llu, but the input makes %llu tasks; remove "
                             "[run] tasks (the input sets the task count) or set it to %llu",
                             shoal_config_where(cfg, "run", "tasks"),
                             (unsigned long long)*tasks, (unsigned long long)in->ntasks,
                             (unsigned long long)in->ntasks);
    }
    rc = shoal__agree(comm, rc);
    if (rc < 0)
        return rc;
    share(in, rank, comm);
    rc = shoal__agree(comm, describe_datasets(in));
    if (rc == 0)
        *tasks = in->ntasks;
    return rc;
}

/* ---- what the run learns of it --------------------------------------------------- */

static const char *kind_name(input_kind k)
{
    return k == INPUT_HDF5 ? "hdf5" : k == INPUT_FILES ? "files" : k == INPUT_STREAM ? "stream" : "points";
}

char *shoal__input_fingerprint(const shoal__input *in)
{
    char *s = calloc(1, 1);
    size_t len = 0;
    add(&s, &len, "input.kind = %s\n", kind_name(in->kind));
    if (in->kind == INPUT_STREAM) {
        add(&s, &len, "input.datasets = %s\n", in->names_text ? in->names_text : "");
        return s;
    }
    if (in->kind == INPUT_FILES) {
        add(&s, &len, "input.%s = %s\n", in->glob ? "files" : "list",
            in->glob ? in->glob : in->list);
        add(&s, &len, "input.datasets = %s\n", in->names_text ? in->names_text : "");
        /* The files themselves: their number and a hash of every path,
         * size and modification time. */
        add(&s, &len, "input.count = %llu\ninput.hash = %016llx\n",
            (unsigned long long)in->nfiles, (unsigned long long)in->hash);
        return s;
    }
    add(&s, &len, "input.file = %s\n", in->file);
    add(&s, &len, "input.datasets = %s\n", in->shapes_text ? in->shapes_text : "");
    if (in->kind == INPUT_HDF5)
        add(&s, &len, "input.rows_per_task = %llu\n", (unsigned long long)in->rpt);
    add(&s, &len, "input.size = %llu\ninput.mtime = %lld.%09lld\n",
        (unsigned long long)in->size, (long long)(in->mtime_ns / 1000000000),
        (long long)(in->mtime_ns % 1000000000));
    return s;
}

void shoal__input_print(const shoal__input *in, FILE *out)
{
    switch (in->kind) {
    case INPUT_HDF5:
        fprintf(out, "  input:    HDF5 file %s (%llu bytes): %llu rows, %llu per task\n",
                in->file, (unsigned long long)in->size, (unsigned long long)in->rows,
                (unsigned long long)in->rpt);
        fprintf(out, "  datasets: %s\n", in->shapes_text);
        break;
    case INPUT_POINTS:
        fprintf(out,
                "  input:    scan points of %s (%llu bytes): %llu points x %llu "
                "replicates (%llu rows; each task reads its point's done replicates)\n",
                in->file, (unsigned long long)in->size, (unsigned long long)in->ntasks,
                (unsigned long long)in->replicates, (unsigned long long)in->rows);
        fprintf(out, "  datasets: %s\n", in->shapes_text);
        break;
    case INPUT_STREAM:
        fprintf(out, "  input:    one file per item of the stream\n");
        fprintf(out, "  datasets: %s\n",
                in->ndsets ? in->names_text : "(none: tasks open their files themselves)");
        break;
    case INPUT_FILES:
        fprintf(out, "  input:    %llu file%s from %s%s (first %s, last %s), one per task\n",
                (unsigned long long)in->nfiles, in->nfiles == 1 ? "" : "s",
                in->glob ? "" : "the list ", in->glob ? in->glob : in->list, in->paths[0],
                in->paths[in->nfiles - 1]);
        fprintf(out, "  datasets: %s\n",
                in->ndsets ? in->names_text : "(none: tasks open their files themselves)");
        break;
    }
}

void shoal__input_describe(const shoal__input *in, shoal_store_input *d)
{
    memset(d, 0, sizeof *d);
    d->kind = kind_name(in->kind);
    d->source = in->file ? in->file : in->glob ? in->glob : in->list ? in->list : "[stream]";
    d->datasets = in->names_text;
    d->shapes = in->shapes_text;
    d->rows = in->rows;
    d->rows_per_task = in->kind == INPUT_HDF5 ? in->rpt : 0;
    d->size = in->size;
    d->mtime_ns = in->mtime_ns;
    d->nfiles = in->nfiles;
    d->paths = (const char *const *)in->paths;
    d->path_len = in->path_max;
    d->sizes = in->sizes;
    d->mtimes = in->mtimes;
}

void shoal__input_free(shoal__input *in)
{
    if (!in)
        return;
    for (size_t k = 0; k < in->ndsets; k++) {
        input_dset *d = &in->dsets[k];
        if (d->dset > 0)
            H5Dclose(d->dset);
        free(d->name);
        free(d->buf);
        free(d->conv);
    }
    if (in->fid > 0)
        H5Fclose(in->fid);
    free(in->dsets);
    free(in->paths);
    free(in->path_blob);
    free(in->sizes);
    free(in->mtimes);
    free(in->names_text);
    free(in->shapes_text);
    free(in->status);
    free(in->keep);
    free(in);
}
