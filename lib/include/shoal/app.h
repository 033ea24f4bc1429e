/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The turnkey driver: write one task function, call shoal_main.
 *
 *   static int pi_task(shoal_task *t, void *ctx) {
 *       long n = shoal_param_long(t, "samples");
 *       gsl_rng *r = shoal_task_rng(t);
 *       ...
 *       shoal_set_int64(t, HITS, hits);
 *       return SHOAL_OK;
 *   }
 *   int main(int argc, char **argv) { return shoal_main(&app, argc, argv); }
 *
 * shoal_main initialises MPI, reads the command line and the config file
 * (rank 0 reads, all ranks parse the same text), creates the result file,
 * runs every task once over all ranks, writes each task's row, prints a
 * summary, finalises MPI and returns the process exit status:
 *   0 all tasks done, 1 some tasks failed, 2 usage or config error,
 *   3 interrupted by a signal (resumable), 4 I/O, MPI or internal error.
 * It turns GSL's abort-on-error handler off (gsl_set_error_handler_off):
 * GSL functions return error codes to the task instead. */
#ifndef SHOAL_APP_H
#define SHOAL_APP_H

#include <shoal/config.h>
#include <shoal/export.h>
#include <shoal/results.h>
#include <shoal/types.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SHOAL_EXIT_OK = 0,
    SHOAL_EXIT_TASKS_FAILED = 1,
    SHOAL_EXIT_USAGE = 2,
    SHOAL_EXIT_INTERRUPTED = 3,
    SHOAL_EXIT_ERROR = 4
};

typedef struct shoal_task shoal_task;

/* A quantity formed from a scan point's pooled means (with a [scan]): for
 * each point, fn gets mean[i] = the mean over the point's done replicates of
 * output field i (scalar fields; NaN for array fields) and a task of that
 * point, through which shoal_param_* read the point's parameters (nothing
 * else of the task may be used). The value lands in /points/derived/<name>,
 * its jackknife error over replicates in /points/derived_err/<name>. Use it
 * for nonlinear functions of averages (a susceptibility from <m^2> and <m>),
 * which are biased when formed per task and then averaged. */
typedef struct {
    const char *name;
    const char *doc;
    double (*fn)(shoal_task *t, const double *mean, void *ctx);
    const char *unit; /* "units" of /points/derived(_err)/<name>; NULL: none */
} shoal_derived;

typedef struct shoal_app shoal_app;

struct shoal_app {
    const char *name; /* app name: config section, default output <name>.h5 */
    const char *doc;  /* one line for --help */
    /* One task. Return SHOAL_OK (0), or nonzero to mark the task failed (the
     * code is stored in /tasks/error and the run goes on). */
    int (*run)(shoal_task *t, void *ctx);
    const shoal_field *outputs;
    size_t noutputs;
    const shoal_param *params;
    size_t nparams;
    void *ctx; /* passed to every hook */
    /* Optional: once per rank before its first task; *workspace is handed to
     * every task of that rank (shoal_task_workspace). Nonzero stops the run. */
    int (*worker_init)(void *ctx, void **workspace);
    /* Optional: once per rank after its last task. */
    void (*worker_finalize)(void *ctx, void *workspace);
    /* Optional: on rank 0 after the file is closed, to print a summary from
     * the results. Return 0 or a negative code. */
    int (*summary)(const shoal_results *res, void *ctx);
    /* Optional: quantities formed per scan point from pooled means. */
    const shoal_derived *derived;
    size_t nderived;
    /* Optional, for an app whose outputs or parameters come from the config
     * (a generic runner such as shoal-exec): called on every rank after the
     * config is read and the command line's --set applied, before anything
     * is checked or written. `app` is shoal_main's own copy of the app: the
     * hook may set its outputs, params, derived and ctx (memory the hook
     * owns; it must outlive shoal_main). Keys it reads through
     * shoal_config_get_* count as known. It must reach the same verdict on
     * every rank (every rank sees the same config). Return 0, or report the
     * mistake with SHOAL_ERROR (file:line from shoal_config_where) and
     * return its code: SHOAL_ECONFIG exits 2 before anything is written. */
    int (*configure)(shoal_app *app, shoal_config *cfg);
    /* Optional: NULL-terminated names of further config sections the app
     * reads in configure. Their contents are part of the run's fingerprint:
     * --resume refuses a file made with other values. */
    const char *const *sections;
    /* Optional: more text for --help (the app's own sections). */
    const char *help;
    /* Nonzero when a task acts outside its row (runs programs, writes
     * files): --dry-run then times no sample tasks, since a dry run writes
     * nothing. */
    int side_effects;
    /* Optional, rank 0 only: every finished task's watched output fields
     * (shoal_field.watch; values[i] is the i-th watched field in output
     * order, as a double; NaN for a failed task), in task-index order as
     * the tasks done from 0 onwards grow, whichever rank ran them and
     * whenever they finished; after --resume, the tasks the file had done
     * come first. status is SHOAL_STATUS_DONE or SHOAL_STATUS_FAILED.
     * Return 0 to go on, 1 to end the run at the next block boundary
     * ([run] check_every; the decision is then the same at any rank count
     * and after a resume), or a negative code to end it with an error
     * (exit 4, resumable). Keep it quick: it runs between the master's
     * scheduling duties. */
    int (*watch)(uint64_t task, int status, const double *values, void *ctx);
};

SHOAL_API int shoal_main(const shoal_app *app, int argc, char **argv);

/* ---- inside a task -------------------------------------------------------- */

/* Index of this task in 0..ntasks-1. */
SHOAL_API uint64_t shoal_task_index(const shoal_task *t);
/* 1 on a task's first run, 2 on its first retry, ... ([run] retries). */
SHOAL_API int shoal_task_attempt(const shoal_task *t);
/* This task's own generator, keyed by (seed, task index); owned by the
 * framework, valid during the task. */
SHOAL_API gsl_rng *shoal_task_rng(shoal_task *t);
/* A 63-bit seed (1..2^63-1) for this task, for a generator outside Shoal
 * (another program's own): a mix of the run seed and the task index, so the
 * same at any rank count and on every attempt. */
SHOAL_API uint64_t shoal_task_seed(const shoal_task *t);
/* With a [scan]: this task's point and replicate (task = point * replicates
 * + replicate). Without one: the task index and 0. */
SHOAL_API uint64_t shoal_task_point(const shoal_task *t);
SHOAL_API uint64_t shoal_task_replicate(const shoal_task *t);
/* A process group this task started (its leader's pid; 0: none, set again
 * when the program has ended). If the rank must stop at once (the grace
 * period after a signal is over, a second signal) or dies (SIGKILL, a
 * crash), the group gets SIGTERM and, 5 s later, SIGKILL if anything of it
 * is left, so that no program outlives the run: the first group a rank
 * sets starts a small keeper process (`shoal-keeper`) that does it after
 * the rank is gone. The keeper is a fork of the rank at that moment: it
 * shares the rank's memory copy-on-write, so a rank with a large heap then
 * may hold up to that much more as it changes its pages (shoal-exec's
 * ranks: under 1 MB of the keeper's own). */
SHOAL_API void shoal_task_set_child_group(shoal_task *t, long pgid);
/* The workspace returned by worker_init on this rank (NULL without one). */
SHOAL_API void *shoal_task_workspace(const shoal_task *t);

/* Parameter values. Asking for an unknown name (or NULL) or the wrong type
 * fails the task with a message and returns 0 / NaN / "". */
SHOAL_API long shoal_param_long(shoal_task *t, const char *name);
SHOAL_API double shoal_param_double(shoal_task *t, const char *name);
SHOAL_API const char *shoal_param_string(shoal_task *t, const char *name);

/* Set output field `field` (its index in app->outputs) of this task's row.
 * A field left unset holds 0 (int64), NaN (float64) or "" (string). */
SHOAL_API void shoal_set_int64(shoal_task *t, int field, int64_t v);
SHOAL_API void shoal_set_double(shoal_task *t, int field, double v);
/* Pointer to this task's row of an array field (shoal_field_width elements);
 * NULL (and the task fails) on a bad index or type. */
SHOAL_API int64_t *shoal_out_int64(shoal_task *t, int field);
SHOAL_API double *shoal_out_double(shoal_task *t, int field);
/* A string field's row: dims[0] bytes, zeroed for each task; a shorter
 * text ends with a NUL, one of dims[0] bytes has none. NULL (and the task
 * fails) on a bad index or type. */
SHOAL_API char *shoal_out_string(shoal_task *t, int field);

/* ---- the task's input ([input] section, docs/analysis.md) ---------------- */

/* The rows of input dataset k (0-based, in the order of [input] datasets)
 * that belong to this task, row-major, as doubles or as int64. Integer
 * datasets are read as int64 and float ones as double; the other type is
 * converted with HDF5's rules (floats to integers truncate toward zero and
 * clamp; integers beyond 2^53 lose precision as doubles). *rows gets the
 * row count, *cols the elements per row (1 for a 1-D dataset); either may
 * be NULL. The rows are read when the task first asks for them. The memory
 * is the framework's, valid until the task ends (both types at once) and
 * reused by the next task. NULL, with *rows = *cols = 0 and the task failed
 * with a message naming the file, when the run has no such input or it
 * could not be read (a file list's missing or damaged file). */
SHOAL_API const double *shoal_input_double(shoal_task *t, int k, uint64_t *rows,
                                           uint64_t *cols);
SHOAL_API const int64_t *shoal_input_int64(shoal_task *t, int k, uint64_t *rows,
                                           uint64_t *cols);
/* Index, in the input datasets, of this task's first row: task * rows per
 * task; with group_by = point the point's first task index; 0 for a file
 * list (each file's rows start at 0) and without an input. */
SHOAL_API uint64_t shoal_input_offset(const shoal_task *t);
/* A file-list input: this task's file (relative paths as the run opens
 * them). NULL for other inputs. */
SHOAL_API const char *shoal_input_path(const shoal_task *t);

/* The code this task has failed with so far (shoal_task_fail, or a bad
 * shoal_param_* / output call), 0 if none. */
SHOAL_API int shoal_task_failed(const shoal_task *t);

/* Mark the task failed with a code and a message (logged at verbose level);
 * returns code, so `return shoal_task_fail(t, 7, "diverged at step %d", s);`.
 * code must be nonzero. */
SHOAL_API int shoal_task_fail(shoal_task *t, int code, const char *fmt, ...)
    SHOAL_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif

#endif
