/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store.h (internal): writing the result file, one parallel HDF5 file shared
 * by all ranks. Readers use <shoal/results.h>.
 *
 * shoal_store_create is collective: it creates every dataset at its final
 * size (task index = outer dimension, contiguous, allocated at creation),
 * writes the provenance attributes and flushes. From then on the file's
 * structure is frozen and ranks write rows of their ranges independently
 * (results first, then status), so a run killed at any point leaves a file
 * that readers open, with every row marked done being complete.
 * shoal_store_close is collective again: per-rank statistics, end attributes,
 * flush, close.
 *
 * Layout:  /results/<field> [ntasks, dims...]
 *          /params/<name> [ntasks] (scanned parameters; constants are
 *          attributes of /params), /tasks/point, /tasks/replicate (scans)
 *          /tasks/status uint8 (0 pending, 1 done, 2 failed, 3 running when
 *          last written), /tasks/rank
 *          int32, /tasks/seconds float32, /tasks/error int32
 *          /tasks/attempts uint8 (runs of the task, retries included)
 *          /ranks/{host,tasks,busy_seconds,idle_seconds,cpu_seconds,
 *          max_rss_kib} [nranks]
 *          /failures/{task,rank,error,attempts,message} [nranks * 64]: the
 *          first 64 failed tasks of each rank with their messages (task -1:
 *          unused slot); every failure is in /tasks/status and /tasks/error
 *          /input (with an [input]): see shoal_store_input
 *          /segments/{started,finished,state,nranks,hosts,nhosts,slurm_job,
 *          done_at_start,failed_at_start,work_at_start,tasks_done,
 *          tasks_failed,wall_seconds} [segments, growing]: one row per
 *          launch that worked on the file (store_segments.c)
 *          /task, /point, /rank, /failure, /segment, /<field>_dim<k>:
 *          the named dimensions, scales without values (store_dims.c);
 *          quantities carry "units" and "doc", constants are typed
 *          attributes of /params (with "<name>.units", "<name>.doc"),
 *          user text is fixed-length UTF-8 with "_Encoding"
 *          root attributes: shoal_version, app, config, config_source,
 *          overrides (the --set options, one per line), config_env
 *          (the ${NAME} variables used, NAME=value lines), seed,
 *          rng, ntasks, nranks, hosts, started; at close: finished,
 *          state ("complete", "interrupted", "error"), wall_seconds,
 *          tasks_done, tasks_failed. */
#ifndef SHOAL__STORE_H
#define SHOAL__STORE_H

#include <shoal/app.h>
#include <shoal/export.h>
#include <shoal/results.h>
#include <shoal/types.h>
#include <mpi.h>
#include <stdint.h>

typedef struct shoal_store shoal_store;

/* A per-task parameter column, /params/<name>. */
typedef struct {
    const char *name;
    shoal_type type;            /* SHOAL_INT64, SHOAL_FLOAT64 or SHOAL_STRING */
    size_t strlen;              /* SHOAL_STRING: fixed length in bytes */
    const char *unit, *doc;     /* the parameter's; NULL: no attribute */
} shoal_store_column;

/* The run's [input], as /input records it: attributes of the group (kind,
 * source, datasets, shapes, rows, rows_per_task, size, mtime_ns) and, for
 * a file list, one row per task: /input/path (fixed-length strings of
 * path_len bytes), /input/size, /input/mtime (ns since 1970). */
typedef struct {
    const char *kind;           /* "hdf5", "files" or "points" */
    const char *source;         /* the HDF5 file, the glob or the list file */
    const char *datasets;       /* "/x, /y" */
    const char *shapes;         /* "/x float64 [1000], ..." ("" for file lists) */
    uint64_t rows, rows_per_task, size;
    int64_t mtime_ns;
    uint64_t nfiles;            /* file lists: = ntasks; 0 otherwise */
    const char *const *paths;
    size_t path_len;            /* longest path + 1 */
    const uint64_t *sizes;
    const int64_t *mtimes;
} shoal_store_input;

typedef struct {
    const char *path;           /* output file */
    int force;                  /* 1: replace an existing file */
    uint64_t ntasks;
    const shoal_field *fields;  /* output fields, in order */
    size_t nfields;
    const char *app;            /* provenance */
    const char *config_text;
    const char *config_source;
    const char *rng;
    uint64_t seed;
    const shoal_store_column *params; /* scanned parameters (may be 0) */
    size_t nparams;
    int with_points;            /* write /tasks/point and /tasks/replicate */
    const char *const *const_names;   /* constant parameters, as text */
    const char *const *const_values;
    /* Their declarations (type, unit, doc), parallel to const_names; NULL
     * (or a NULL entry): a string attribute without unit or doc. */
    const shoal_param *const *const_decls;
    size_t nconsts;
    const char *scan;           /* description of the scan, or NULL */
    const char *overrides;      /* --set lines, or NULL */
    const char *config_env;     /* "NAME=value" lines of ${NAME}s, or NULL */
    /* What makes two runs the same run: "key = value" lines (app, seed,
     * rng, ntasks, scan, constants, outputs). A resumed file must match. */
    const char *fingerprint;
    uint64_t row_bytes;         /* bytes a task adds to the file, for the
                                   free-space check at creation (0: none) */
    /* With a scan: /points has one row per point (ntasks = npoints *
     * replicates) and the app's derived quantities. */
    uint64_t npoints, replicates;
    const shoal_derived *derived;
    size_t nderived;
    int drop_failures;          /* open: forget earlier /failures entries
                                   (their tasks run again: --retry-failed) */
    const shoal_store_input *input; /* create: /input (NULL: no [input]) */
    /* A search (search.h): /search with search_rungs rungs (0: none). */
    int search_rungs;
    const char *search_method, *search_budget, *search_objective, *search_goal;
    int search_eta;
    int search_budget_int;      /* the budget parameter is int64 */
    /* A stream (stream.h): > 0 makes every per-task dataset chunked and
     * extendible (shoal_store_grow), with chunks of at most this many rows,
     * and adds /stream; on open, ntasks is the file's. 0: fixed size. */
    uint64_t grow_rows;
} shoal_store_spec;

/* One range's rows, as buffers of `count` rows each (field i: count *
 * width_i elements of its type). */
typedef struct {
    const void *const *fields;
    const uint8_t *status;
    const int32_t *rank;
    const float *seconds;
    const int32_t *error;
    const uint8_t *attempts;
    const void *const *params;  /* per column: count values (strings: count * strlen bytes) */
    const int64_t *point;       /* with_points only */
    const int64_t *replicate;
} shoal_store_rows;

typedef struct {
    uint64_t tasks;
    double busy_seconds;  /* inside task ranges */
    double idle_seconds;  /* waiting for work or for requests */
    double cpu_seconds;   /* user + system CPU time of the process */
    uint64_t max_rss_kib; /* peak resident memory of the process */
} shoal_store_rank_stats;

/* Collective. Refuses (SHOAL_EEXIST, on every rank) an existing path unless
 * spec->force; reports a missing or unwritable directory clearly, and a
 * file the free space cannot hold (SHOAL_ERANGE) before writing anything.
 * The file is built as "<path>.part" and renamed into place once every
 * dataset exists (the caller holds the output's lock, which guards both
 * names), so a crash or failure during creation leaves no half-made output,
 * and --force replaces the old file (or a symlink itself) only then. Only rank 0
 * reports collective failures. On success *out owns the open store. */
int shoal_store_create(MPI_Comm comm, const shoal_store_spec *spec,
                                 shoal_store **out);
/* Collective. Reopen an existing file to finish its run (--resume). Refuses
 * with SHOAL_ECONFIG and the list of differences if spec->fingerprint does
 * not match the file's. /ranks is rebuilt for this run's ranks and /failures
 * keeps the entries of earlier runs. */
int shoal_store_open(MPI_Comm comm, const shoal_store_spec *spec,
                               shoal_store **out);
/* Rank 0: is `want` the fingerprint `have` (whole strings, order
 * included)? Returns 0 when equal; otherwise reports, for a user, what
 * differs in the run stored in `path` (long values abbreviated) and returns
 * the number of differences. */
int shoal__fingerprint_diff(const char *path, const char *have, const char *want);

/* Any single rank, independent: read /tasks/status in blocks and list the
 * ranges {start, count} of tasks whose status bit (1 << status) is in
 * `want`; *ranges is malloc'd (NULL when none). counts[status] gets the
 * number of tasks of each status 0..3. Memory: one entry per range. */
int shoal_store_scan_status(shoal_store *s, unsigned want,
                                      uint64_t (**ranges)[2], size_t *nranges,
                                      uint64_t counts[4]);
/* The same, also summing /tasks/seconds over the done and failed tasks
 * into *work. */
int shoal_store_scan_work(shoal_store *s, unsigned want, uint64_t (**ranges)[2],
                          size_t *nranges, uint64_t counts[4], double *work);
/* Any single rank, independent: fn(ctx, task, seconds) for every task whose
 * status is done or failed, in index order, with its /tasks/seconds (a
 * resume's progress line learns the earlier tasks' costs from them). */
int shoal_store_each_finished(shoal_store *s,
                              void (*fn)(void *ctx, uint64_t task, double seconds),
                              void *ctx);
/* Rank 0, independent, after planning a resume: this segment's row of
 * /segments gets the tasks done and failed (counts per status) and their
 * seconds (work) when it began; a new file's row keeps 0, 0, 0. */
int shoal_store_segment_start(shoal_store *s, const uint64_t counts[4], double work);
/* Any rank, before shoal_store_close: the tasks this segment finished as
 * done and failed (the totals, identical on all ranks), for its row. */
void shoal_store_segment_ran(shoal_store *s, uint64_t done, uint64_t failed);
/* hosts ("a,b,c") into dst, n bytes NUL-padded, for /segments/hosts: whole
 * when it fits with its terminating zero, else cut after a whole name with
 * ",..." added. */
void shoal__segment_hosts(char *dst, size_t n, const char *hosts);
/* Independent: read the status of rows [start, start+count). */
int shoal_store_read_status(shoal_store *s, uint64_t start,
                                      uint64_t count, uint8_t *buf);
/* Independent: set the status of rows [start, start+count) to one value
 * (SHOAL_STATUS_RUNNING before a range starts). */
int shoal_store_mark(shoal_store *s, uint64_t start, uint64_t count,
                               uint8_t status);
/* Independent: record tasks as failed with an error code (e.g. tasks that
 * crashed the worker too often). */
int shoal_store_fail_rows(shoal_store *s, uint64_t start,
                                    uint64_t count, int32_t error);

/* Independent. Writes rows [start, start+count): results, then the task
 * columns. Safe to call from any rank at any time between create and close. */
int shoal_store_write_rows(shoal_store *s, uint64_t start,
                                     uint64_t count,
                                     const shoal_store_rows *rows);
/* Independent: write this rank's failure log entries not yet in the file
 * (log[0..nlog), up to SHOAL_FAILURE_SLOTS) into its /failures slots, so
 * the messages survive a kill. Call after the rows of a range. */
int shoal_store_write_failures(shoal_store *s, const shoal_store_failure *log, size_t nlog);

/* Rank 0, independent: a search's decisions for tasks [start, start + n)
 * (budget: int64 or double as the budget parameter), all of them read
 * back, and the per-rung table (store_search.c). */
int shoal__store_search_write(shoal_store *s, uint64_t start, uint64_t n, const int64_t *point,
                              const int64_t *rung, const void *budget);
int shoal__store_search_read(shoal_store *s, int64_t *point, int64_t *rung);
int shoal__store_search_rungs(shoal_store *s, const double *budget, const int64_t *size,
                              const int64_t *done, const double *best, const int64_t *best_point);
/* Every rank, the same values, before close: the search's best. */
void shoal_store_set_search_best(shoal_store *s, int64_t point, double value, int64_t task);

/* Collective, between ranges (no rank inside a range): every per-task
 * dataset gets ntasks rows (more, or fewer: rows past it are dropped), and
 * the file is flushed, so readers see the new size. Only for a store made
 * with grow_rows. */
int shoal_store_grow(shoal_store *s, uint64_t ntasks);
/* The per-task row count now. */
uint64_t shoal_store_ntasks(const shoal_store *s);

/* /stream, one row per item of a stream (store_stream.c). Rank 0,
 * independent: the items [start, start + n) arrived: their text (NUL-
 * terminated strings, one after the other), size, mtime (ns) and arrival
 * time (seconds since 1970, UTC). */
int shoal_store_stream_arrive(shoal_store *s, uint64_t start, uint64_t n, const char *texts,
                              const uint64_t *size, const int64_t *mtime,
                              const double *arrived);
/* Any rank, independent: when the tasks [start, start + n) started and
 * finished (seconds since 1970), and when their rows were stored. */
int shoal_store_stream_times(shoal_store *s, uint64_t start, uint64_t n,
                             const double *started, const double *finished, double stored);
/* Rank 0, independent: how many items the file has recorded (rows from 0
 * on with an arrival time), and fn(ctx, index, text) for each. */
int shoal_store_stream_recorded(shoal_store *s, uint64_t *count,
                                void (*fn)(void *ctx, uint64_t index, const char *text),
                                void *ctx);
/* Rank 0, independent: rows 0 .. complete-1 are all finished. */
int shoal_store_stream_complete(shoal_store *s, uint64_t complete);
/* Bytes of an item's text in /stream/source, its NUL included. */
#define SHOAL_STREAM_TEXT 1024

/* Every rank, the same values, before the reductions: the run ended
 * after tasks 0..used-1 for `reason` (adapt.h). /reduce folds only those;
 * the close writes the root attributes tasks_used and stop_reason. */
void shoal_store_set_stop(shoal_store *s, uint64_t used, const char *reason);

/* Collective. Writes per-rank statistics, this rank's failure log (up to
 * SHOAL_FAILURE_SLOTS entries) and end attributes, and closes. done/failed
 * are the run's totals (identical on all ranks). Frees s even on failure. */
int shoal_store_close(shoal_store *s,
                                const shoal_store_rank_stats *mine,
                                uint64_t done, uint64_t failed,
                                double wall_seconds,
                                const shoal_store_failure *log, size_t nlog,
                                const char *state);

#endif
