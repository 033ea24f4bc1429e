/* Reading a result file from one process, without MPI: summaries, analysis
 * after a run, and tools. Reads go by row blocks, so memory stays bounded
 * whatever the task count. The file's layout is described in the README
 * ("The result file"); the writer side is internal to the library.
 *
 * /tasks/status values: */
#ifndef SHOAL_RESULTS_H
#define SHOAL_RESULTS_H

#include <shoal/export.h>
#include <stddef.h>
#include <stdint.h>

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
/* A constant parameter (stored as text, an attribute of /params): as text,
 * or parsed as a number (SHOAL_ETYPE if it is not one). */
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

#endif
