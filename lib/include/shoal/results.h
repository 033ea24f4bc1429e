/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading a result file from one process, without MPI: summaries, analysis
 * after a run, and tools. Reads go by row blocks, so memory stays bounded
 * whatever the task count. The file's layout is described in the README
 * ("The result file"); the writer side is internal to the library.
 *
 * The file is opened read-only with the serial (sec2) driver and without
 * HDF5's file locking, so a file that a run is writing can be read (rows
 * marked done are complete; see the README) and a reader never blocks a
 * run. Nothing here writes to the file. MPI need not be initialised.
 *
 * /tasks/status values: */
#ifndef SHOAL_RESULTS_H
#define SHOAL_RESULTS_H

#include <shoal/export.h>
#include <shoal/types.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SHOAL_STATUS_PENDING = 0,
    SHOAL_STATUS_DONE = 1,
    SHOAL_STATUS_FAILED = 2,
    SHOAL_STATUS_RUNNING = 3 /* in a range that had started when the file was
                                last written: the run died or was stopped */
};

#define SHOAL_FAILURE_SLOTS 64   /* failures kept with messages, per rank */
#define SHOAL_FAILURE_MSG 128    /* bytes of a message, NUL included */

typedef struct {
    int64_t task;
    int32_t error;
    int32_t attempts;
    char message[SHOAL_FAILURE_MSG];
    int32_t rank;
} shoal_store_failure;

typedef struct shoal_results shoal_results;

/* Open a result file: 0 and *out (close with shoal_results_close), or
 * SHOAL_EHDF5 (not an HDF5 file HDF5 can open; the message says why) or
 * SHOAL_ETYPE (an HDF5 file, but not a Shoal result file). */
SHOAL_API int shoal_results_open(const char *path, shoal_results **out);
SHOAL_API void shoal_results_close(shoal_results *r);
SHOAL_API uint64_t shoal_results_ntasks(const shoal_results *r);
/* Read rows [start, start+count) of /results/<field> (converted to the
 * requested type by HDF5) or of the status column. */
SHOAL_API int shoal_results_read_int64(const shoal_results *r, const char *field,
                                       uint64_t start, uint64_t count,
                                       int64_t *buf);
SHOAL_API int shoal_results_read_double(const shoal_results *r,
                                        const char *field, uint64_t start,
                                        uint64_t count, double *buf);
SHOAL_API int shoal_results_read_status(const shoal_results *r, uint64_t start,
                                        uint64_t count, uint8_t *buf);
/* Rows [start, start+count) of any per-task dataset by path, e.g.
 * "params/T", "tasks/point", "tasks/seconds", "results/pi". */
SHOAL_API int shoal_results_read_column_double(const shoal_results *r,
                                               const char *path, uint64_t start,
                                               uint64_t count, double *buf);
SHOAL_API int shoal_results_read_column_int64(const shoal_results *r,
                                              const char *path, uint64_t start,
                                              uint64_t count, int64_t *buf);
/* A numeric or string root attribute (seed, ntasks, app, state, ...):
 * numbers as double, strings copied into buf (NUL-terminated, cut to n). */
SHOAL_API int shoal_results_attr_double(const shoal_results *r,
                                        const char *name, double *out);
SHOAL_API int shoal_results_attr_string(const shoal_results *r,
                                        const char *name, char *buf, size_t n);
/* A constant parameter (an attribute of /params, of the parameter's type:
 * int64, float64 or a string; files from before typed constants hold text):
 * as text (numbers printed in full), or as a number (SHOAL_ETYPE for text
 * that is not one). */
SHOAL_API int shoal_results_param_string(const shoal_results *r, const char *name,
                                         char *buf, size_t n);
SHOAL_API int shoal_results_param_double(const shoal_results *r, const char *name,
                                         double *out);
/* The whole of a dataset that is not per task, by path: "reduce/hits",
 * "points/mean/abs_m", "points/params/T". n: the buffer's capacity in
 * elements (SHOAL_ERANGE if the dataset holds more); *count (may be NULL)
 * gets the number read. Values read NaN / 0 until the run completes. */
SHOAL_API int shoal_results_read_all_double(const shoal_results *r, const char *path,
                                            double *buf, size_t n, size_t *count);
SHOAL_API int shoal_results_read_all_int64(const shoal_results *r, const char *path,
                                           int64_t *buf, size_t n, size_t *count);
/* Up to max entries of /failures, lowest task index first; *n gets the
 * number returned. */
SHOAL_API int shoal_results_read_failures(const shoal_results *r,
                                          shoal_store_failure *out, size_t max,
                                          size_t *n);


/* Any dataset, for readers that take whatever columns a file has (the
 * `shoal` command's export). */
typedef struct {
    int type;          /* SHOAL_INT64 (any integer), SHOAL_FLOAT64 (any
                          float), SHOAL_STRING; 0 for another kind */
    int is_unsigned;   /* an unsigned integer type */
    size_t bytes;      /* bytes of one element in the file; for a string
                          its fixed length, 0 if variable-length */
    uint64_t rows;     /* extent of the first dimension (1 for a scalar) */
    int ndims;         /* dimensions after the first: a row's shape */
    uint64_t dims[7];
    uint64_t per_row;  /* elements in a row: the product of dims, or 1 */
} shoal_results_column;

/* Is there an object (dataset or group) at path? 1 yes, 0 no. */
SHOAL_API int shoal_results_has(const shoal_results *r, const char *path);
/* The type and shape of the dataset at path; SHOAL_ENOTFOUND without one. */
SHOAL_API int shoal_results_column_info(const shoal_results *r, const char *path,
                                        shoal_results_column *info);
/* Members of a group ("params", "results", "segments"), in name order: how
 * many (*count; SHOAL_ENOTFOUND without the group), and the name of the
 * i-th (copied into buf, n bytes; SHOAL_ERANGE if it does not fit). */
SHOAL_API int shoal_results_count(const shoal_results *r, const char *group,
                                  size_t *count);
SHOAL_API int shoal_results_name(const shoal_results *r, const char *group, size_t i,
                                 char *buf, size_t n);
/* Rows [start, start+count) of a per-task integer column, unsigned (a
 * negative value reads as its two's complement). */
SHOAL_API int shoal_results_read_column_uint64(const shoal_results *r,
                                               const char *path, uint64_t start,
                                               uint64_t count, uint64_t *buf);
/* Rows [start, start+count) of a per-task string column (fixed or variable
 * length): each element into `width` bytes of buf, in row order, cut to
 * width - 1 bytes and NUL-terminated. SHOAL_ETYPE if it is not strings. */
SHOAL_API int shoal_results_read_column_string(const shoal_results *r,
                                               const char *path, uint64_t start,
                                               uint64_t count, char *buf,
                                               size_t width);
/* The whole of a string dataset that is not per task ("ranks/host",
 * "segments/state"), as above; n: buf's capacity in elements. */
SHOAL_API int shoal_results_read_all_string(const shoal_results *r, const char *path,
                                            char *buf, size_t width, size_t n,
                                            size_t *count);

#ifdef __cplusplus
}
#endif

#endif
