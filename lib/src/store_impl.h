/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_impl.h (internal): what the store's files share — the store object,
 * the schema binding used by both create and open, and the row primitive.
 *
 *   store.c          the schema: every dataset bound through one function,
 *                    open, close, the store object
 *   store_create.c   a new file, built under .part and renamed into place
 *   store_rows.c     row writing and the status column
 *   store_resume.c   reopening a file: its structure and its fingerprint
 *   store_input.c    /input: what the run read ([input])
 *   store_segments.c /segments: one row per segment (launch) of the run
 *   store_dims.c     the named dimensions (dimension scales in the root)
 *   failures.c       the /failures table (shared with the reader) */
#ifndef SHOAL_STORE_IMPL_H
#define SHOAL_STORE_IMPL_H

#include "store.h"

#include <hdf5.h>

#define SHOAL__HOST_LEN 64

/* The per-task bookkeeping columns under /tasks. */
enum { COL_STATUS, COL_RANK, COL_SECONDS, COL_ERROR, COL_ATTEMPTS, NCOLS };

/* One bound dataset: its handle, its file dataspace and the memory type
 * rows are written in. */
typedef struct {
    hid_t dset, space, mtype;
    int ndims;                       /* 1 + the field's own dimensions */
    hsize_t dims[SHOAL_MAX_DIMS + 1];
} shoal__dset;

/* /reduce and /points (store_agg.c): written once, when a run completes
 * (reduce.c). Arrays are indexed like the app's outputs and derived
 * quantities; a dataset that does not exist has dset 0. */
typedef struct {
    shoal__dset *red;             /* /reduce/<field>, fields with a reduction */
    int points;                   /* 1: a scan, /points exists */
    uint64_t npoints, replicates;
    shoal__dset *p_param;         /* /points/params/<name>, scanned params */
    shoal__dset p_reps;           /* /points/replicates */
    shoal__dset *p_mean, *p_stderr; /* scalar float64 fields */
    shoal__dset *p_red;           /* /points/reduce/<field> */
    shoal__dset *p_der, *p_der_err; /* /points/derived(_err)/<name> */
    size_t nderived;
} shoal__agg;

#define SHOAL__SEARCH_DSETS 8
#define SHOAL__STREAM_DSETS 7

/* One row of /segments (store_segments.c names the columns). */
#define SHOAL__SEG_NCOLS 13
typedef struct {
    char started[32], finished[32], state[16];
    int32_t nranks, nhosts;
    char hosts[1024], slurm_job[32];
    uint64_t done_at_start, failed_at_start;
    double work_at_start;
    uint64_t tasks_done, tasks_failed;
    double wall_seconds;
} shoal__segment;

struct shoal_store {
    MPI_Comm comm;
    int rank, nranks;
    hid_t file, dxpl;
    uint64_t ntasks;
    size_t nfields, nparams;
    shoal__dset *field;             /* /results/<field> */
    shoal__dset col[NCOLS];         /* /tasks/<column> */
    shoal__dset *param;             /* /params/<name> */
    int with_points;
    shoal__dset point, replicate;   /* /tasks/point, /tasks/replicate */
    shoal__agg agg;                 /* /reduce and /points */
    double reduce_seconds;          /* computing them (rank 0's, on every rank) */
    uint64_t grow_rows;             /* > 0: per-task datasets extendible (a stream) */
    shoal__dset stream[SHOAL__STREAM_DSETS]; /* /stream (store_stream.c) */
    hid_t stream_complete;          /* /stream/complete, a scalar */
    int search_on;                  /* /search (store_search.c) */
    int search_rungs;
    shoal__dset search[SHOAL__SEARCH_DSETS];
    int search_best_set;
    int64_t search_best_point, search_best_task;
    double search_best_value;
    int has_stop;                   /* the run's results ended it (adapt.h): */
    uint64_t used;                  /* tasks 0..used-1 count; /reduce folds them */
    char stop_reason[512];
    const shoal_field *fields;      /* the spec's, for the reductions */
    uint64_t fail_base;             /* /failures slots kept from earlier runs */
    size_t nlogged;                 /* this rank's failure entries written */
    char started[32];               /* this segment's start (every rank) */
    shoal__dset seg[SHOAL__SEG_NCOLS]; /* /segments/<column> */
    uint64_t seg_rows;              /* rows when bound */
    uint64_t seg_row;               /* this segment's row, once added */
    int seg_added;                  /* 1: seg_row exists in the file */
    int seg_missing;                /* 1: a file from before /segments */
    shoal__segment seg_me;          /* rank 0: this segment's row */
    shoal__segment seg_old;         /* rank 0, seg_missing: the earlier runs' row */
    char path[4096];
    shoal_store_spec spec;          /* a stream's (grow_rows), to open it again */
};

typedef enum { SHOAL__BIND_CREATE, SHOAL__BIND_OPEN } shoal__bind_mode;

/* The store object for spec with its arrays allocated; NULL when out of
 * memory. Its file is not open yet. */
shoal_store *shoal__store_alloc(MPI_Comm comm, const shoal_store_spec *spec);
/* Close whatever is open and free s; NULL does nothing. */
void shoal__store_free(shoal_store *s);

/* Collective: open path for the run (create = 1: a new file, truncating one
 * there; 0: read-write). Every rank gets the same verdict; rank 0 says why
 * it failed. Also sets up s->dxpl. */
int shoal__store_open_file(shoal_store *s, const char *path, int create);

/* What a new dataset carries besides its values: the scales of its
 * dimensions and its attributes. */
typedef struct {
    const char *outer;  /* scale of its first dimension (SHOAL__DIM_TASK...);
                           NULL: it has no outer dimension */
    const char *field;  /* the output field whose extra dimensions follow
                           (their scales <field>_dim<k>); NULL: none */
    const char *unit, *doc; /* "units" and "doc"; NULL: none */
    int text;           /* 1: UTF-8 text (a string type from
                           shoal__store_param_type): "_Encoding" */
} shoal__dset_meta;

/* Collective: create or open one dataset `group/name` into d (d->mtype,
 * ndims and dims set by the caller; ndims 1 less than the field's for
 * per-run values: 0 is a scalar). fill: the value unwritten entries read as,
 * in ftype's layout (NULL: none). Creating attaches its dimension scales
 * and writes meta's attributes; opening checks its shape and type (a
 * string's character set may be the ASCII of older files: a string d->mtype
 * then takes the file's). Returns 0, or a code with what went wrong in why. */
int shoal__store_bind_one(shoal_store *s, shoal__bind_mode mode, const char *group,
                          const char *name, hid_t ftype, const void *fill,
                          const shoal__dset_meta *meta, shoal__dset *d, char *why,
                          size_t nwhy);
void shoal__dset_close(shoal__dset *d);
/* A /params column's memory type (a copy, for H5Tclose) and, in *ftype,
 * its file type (the same for strings: fixed-length UTF-8). */
hid_t shoal__store_param_type(const shoal_store_column *c, hid_t *ftype);
extern const void *const shoal__store_zero_fill;

/* Collective: bind /search when spec->search_rungs > 0 (store_search.c);
 * close its handles. */
int shoal__store_search_bind(shoal_store *s, const shoal_store_spec *spec,
                             shoal__bind_mode mode, char *why, size_t nwhy);
void shoal__store_search_close(shoal_store *s);
/* Collective, at close: the best configuration's attributes, if set. */
int shoal__store_search_end(shoal_store *s);

/* Collective: close the file and open it again, every dataset bound as
 * before, so that every rank's metadata cache starts from the same, empty
 * state. A stream's ranks write rows of chunked datasets, each loading the
 * chunk index nodes of its own rows: their caches differ, and a collective
 * metadata operation (growing, attributes) could then read an entry on one
 * rank and not on another, which hangs. Only for a store with grow_rows. */
int shoal__store_reopen(shoal_store *s);

/* Collective: bind /stream when s->grow_rows > 0 (store_stream.c); close
 * its handles. */
int shoal__store_stream_bind(shoal_store *s, shoal__bind_mode mode, char *why, size_t nwhy);
void shoal__store_stream_close(shoal_store *s);

/* Collective: bind /reduce and /points (store_agg.c); called by
 * shoal__store_bind. Close the handles / free the arrays. */
int shoal__store_bind_agg(shoal_store *s, const shoal_store_spec *spec,
                          shoal__bind_mode mode, char *why, size_t nwhy);
void shoal__store_agg_close(shoal_store *s);
void shoal__store_agg_free(shoal_store *s);

/* Collective: create (with their doc attributes) or open every per-task
 * dataset of spec's schema — /results, /tasks, /params and the point
 * columns — into s. Open checks that each exists with the shape and type
 * the run writes. On failure, rank 0 has reported which dataset and why;
 * every rank returns the same code only after shoal__agree. */
int shoal__store_bind(shoal_store *s, const shoal_store_spec *spec,
                      shoal__bind_mode mode);

/* Collective: create (with no rows) or open and check /segments; on open,
 * a file without it is accepted (s->seg_missing). Agreed; why says what is
 * wrong. Called by shoal__store_bind. */
int shoal__segments_bind(shoal_store *s, shoal__bind_mode mode, char *why, size_t nwhy);
/* Collective, after s->started is set: add this segment's row (creating
 * /segments, with a row for the earlier runs, in a file without it); rank 0
 * writes its start values and reports a failure. Returns this rank's code:
 * the caller agrees. */
int shoal__segments_begin(shoal_store *s, const char *hosts_all);
/* Rank 0 (others return 0): the row's end values, before the close. */
int shoal__segments_end(shoal_store *s, const char *finished, const char *state,
                        double wall_seconds);
void shoal__segments_close(shoal_store *s);

/* Unique host names of hosts_all (SHOAL__HOST_LEN bytes per rank) in rank
 * order, comma-separated, malloc'd (NULL: out of memory); *nhosts: how
 * many. */
char *shoal__store_unique_hosts(const shoal_store *s, const char *hosts_all, int *nhosts);

/* Collective: /ranks for this run's ranks (replacing an earlier run's), the
 * host names written by rank 0. */
int shoal__store_make_ranks(shoal_store *s, const char *hosts_all);
/* Collective: every rank's host name, SHOAL__HOST_LEN bytes each, malloc'd. */
char *shoal__store_gather_hosts(shoal_store *s);

/* After a collective call: this rank's result (or a failure injected at
 * step `name`), agreed by every rank, so that no rank goes on to the next
 * collective call alone. */
int shoal__store_step(shoal_store *s, const char *name, int rc);

/* Collective: a contiguous dataset allocated at creation (ndims 0: a
 * scalar); fill: what its unwritten entries read as, in ftype's layout
 * (NULL: undefined). */
hid_t shoal__store_make_dataset(hid_t loc, const char *name, hid_t ftype, int ndims,
                                const hsize_t *dims, const void *fill);
/* The same, but chunked (at most grow_rows rows and 1 MiB per chunk) and
 * extendible along its first dimension when grow_rows > 0. */
hid_t shoal__store_make_dataset_grow(hid_t loc, const char *name, hid_t ftype, int ndims,
                                     const hsize_t *dims, const void *fill, uint64_t grow_rows);

/* The per-rank statistics under /ranks, in the order of
 * shoal_store_rank_stats. */
#define SHOAL__NRANK_STATS 5
extern const char *const shoal__rank_stats[SHOAL__NRANK_STATS];

/* Collective: /input for spec->input (nothing when NULL); rank 0 writes a
 * file list's rows. */
int shoal__store_input_create(shoal_store *s, const shoal_store_input *in);

/* Independent: write / read rows [start, start + count) of one dataset
 * (read: every stride-th row from start, count of them; stride 1 or 0 for
 * consecutive rows). */
int shoal__store_write_block(const shoal__dset *d, uint64_t start, uint64_t count,
                             hid_t dxpl, const void *buf);
int shoal__store_read_block(const shoal__dset *d, uint64_t start, uint64_t stride,
                            uint64_t count, hid_t dxpl, void *buf);

/* ---- dimension scales (store_dims.c); every call collective ---- */
#define SHOAL__DIM_TASK "task"
#define SHOAL__DIM_POINT "point"
#define SHOAL__DIM_RANK "rank"
#define SHOAL__DIM_FAILURE "failure"
#define SHOAL__DIM_SEGMENT "segment"
#define SHOAL__DIM_NAME 320 /* room for "<field>_dim<k>" */

/* Create the scale /name of length len, holding no values (grows: chunked
 * and extendible). Returns 0 or SHOAL_EHDF5. */
int shoal__dim_create(hid_t file, const char *name, uint64_t len, int grows);
/* 1 if /name exists and is a dimension scale. */
int shoal__dim_exists(hid_t file, const char *name);
/* Remove /name if it exists (the datasets attached to it go first). */
int shoal__dim_delete(hid_t file, const char *name);
/* Set the length of the extendible scale /name, if the file has it. */
int shoal__dim_extend(hid_t file, const char *name, uint64_t len);
/* Attach d's ndims dimensions: the first to `outer` (NULL: none), the
 * others to field's <field>_dim1, _dim2, ... */
int shoal__dim_attach(hid_t file, hid_t d, const char *outer, const char *field, int ndims);
/* The scales of every extra dimension of the fields (not of strings). */
int shoal__dim_fields(hid_t file, const shoal_field *fields, size_t n);
void shoal__dim_field_name(char *buf, size_t n, const char *field, int k);

#endif
