/* SPDX-License-Identifier: GPL-3.0-or-later */
/* input_impl.h (internal): what the input's files share.
 *
 *   input.c          the [input] keys, the collective set-up (rank 0
 *                    inspects, every rank gets the description), the
 *                    fingerprint, the dry run and /input's description
 *   input_inspect.c  rank 0: the HDF5 file and its datasets, the glob or
 *                    the list file, the Shoal result file of group_by
 *   input_read.c     every rank: a task's rows, read lazily into buffers
 *                    allocated once per rank
 *
 * Invariants: after shoal__input_setup every rank holds the same
 * description (everything above "reading"); the reading state is each
 * rank's own. Strings named "where" belong to the config, which outlives
 * the input; everything else is owned. */
#ifndef SHOAL_INPUT_IMPL_H
#define SHOAL_INPUT_IMPL_H

#include "input.h"

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    INPUT_HDF5 = 1, /* rows of datasets of one HDF5 file */
    INPUT_FILES,    /* one task per file (glob or list) */
    INPUT_POINTS,   /* one task per scan point of a Shoal result file */
    INPUT_STREAM    /* one task per file of a stream ([stream], stream.h) */
} input_kind;

/* A kind whose every task has a file of its own. */
#define SHOAL__INPUT_PER_FILE(in) ((in)->kind == INPUT_FILES || (in)->kind == INPUT_STREAM)

/* One [input] dataset. */
typedef struct {
    char *name;           /* "/x", as configured (a leading / added) */
    /* described (HDF5 and points inputs; file lists learn per file) */
    int ndims;            /* 1 or 2 */
    uint64_t rows, cols;  /* cols: 1 for a 1-D dataset */
    int is_int;           /* integer class: read as int64, else as double */
    char type[16];        /* "float32", "int32", "uint8", ... */
    uint64_t bytes;       /* storage size in the file */
    /* reading (this rank) */
    hid_t dset;           /* open dataset, 0 if none */
    void *buf, *conv;     /* native rows; the same rows as the other type */
    uint64_t cap, conv_cap; /* elements each holds */
    uint64_t held, conv_held; /* task + 1 whose rows are in buf / conv; 0 none */
    uint64_t nrows, ncols;  /* shape of the rows held */
    int held_int;         /* file lists: buf holds int64 (else double) */
} input_dset;

struct shoal__input {
    input_kind kind;
    /* configured */
    const char *file, *glob, *list; /* one is set (file for HDF5 and points) */
    const char *where;            /* config location of that key */
    const char *dsets_where;      /* of datasets (NULL when absent) */
    const char *rpt_where;        /* of rows_per_task (NULL when absent) */
    uint64_t rows_per_task;       /* configured, 0: from bytes_per_task */
    uint64_t bytes_per_task;
    input_dset *dsets;
    size_t ndsets;
    /* described by rank 0 (identical on every rank after set-up) */
    uint64_t rows;                /* HDF5: rows of every dataset; points: tasks */
    uint64_t rpt;                 /* rows per task in effect */
    uint64_t ntasks;
    uint64_t replicates;          /* points: tasks per point */
    uint64_t size;                /* HDF5 and points: the file's bytes */
    int64_t mtime_ns;             /* its modification time, ns since 1970 */
    uint64_t nfiles;              /* file lists */
    char **paths;                 /* nfiles pointers into path_blob */
    char *path_blob;
    size_t path_max;              /* longest path + 1 */
    uint64_t *sizes;
    int64_t *mtimes;
    uint64_t hash;                /* FNV-1a of every (path, size, mtime) */
    char *names_text;             /* "/x, /y" */
    char *shapes_text;            /* "/x float64 [1000], /y int32 [1000 x 3]" */
    /* a stream: the files of the range being run (set per range) */
    uint64_t range_start, range_count;
    const char *const *range_paths;
    /* reading (this rank) */
    hid_t fid;                    /* open input file, 0 if none */
    uint64_t fid_task;            /* file lists: task + 1 whose file is open */
    int open_failed;              /* HDF5 and points: could not open (reported) */
    uint8_t *status;              /* points: the point's /tasks/status */
    uint64_t status_held;         /* task + 1 */
    uint64_t *keep;               /* points: rows of the point that are done */
    uint64_t nkeep;
};

/* Open an HDF5 file read-only with the sec2 driver (no MPI), with file
 * locking off where this HDF5 allows it (H5Pset_file_locking, 1.10.7 and
 * 1.12.1 on), so that inputs are readable while another program has them
 * open. Negative on failure (HDF5's message on its error stack). */
hid_t shoal__input_open_file(const char *path);

/* "float32", "int64", "uint8" for a numeric type; 0 for a number, -1 (and
 * "string", "compound", ...) for another class. */
int shoal__input_type_name(hid_t type, char *buf, size_t n);

/* Dataset ds's element type (its name into tname, n bytes) and shape:
 * returns 1 for a numeric type, 0 otherwise; *nd is -1 when the shape is
 * unreadable, dims gets up to H5S_MAX_RANK extents. */
int shoal__input_probe(hid_t ds, char *tname, size_t n, int *nd, hsize_t *dims);

/* Rank 0: fill in's description from the files, refusing an input that is
 * the output (output may not exist yet). Reports each error with the
 * config location and the file; returns the first code. */
int shoal__input_inspect(shoal__input *in, const char *output);

#endif
