/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stats.h: what shoal-stats' files share — the plan of one run.
 *
 * shoal-stats' output fields depend on the data (columns, bins), so main()
 * builds them before it hands over to shoal_main:
 *
 *   plan.c   the command line and config as shoal_main will see them, the
 *            [shoal_stats] range language, the datasets' shapes (rank 0
 *            looks, every rank learns), the field table, and for range =
 *            auto the first pass over the data (each rank a share of the
 *            rows; MPI_Allreduce MIN/MAX, exact and order-independent)
 *   shoal_stats.c  main, the task (one block of rows of every dataset:
 *            moments, min, max, histogram, outside counts, NaN counts) and
 *            the summary table
 *
 * The plan is built identically on every rank (same config text, same
 * broadcast shapes, same reduced ranges) and is read-only once shoal_main
 * runs: tasks share it. */
#ifndef SHOAL_STATS_H
#define SHOAL_STATS_H

#include <shoal/shoal.h>

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

/* The fields of one dataset, in this order from its first field. */
enum { F_MOMENTS, F_MIN, F_MAX, F_HIST, F_OUTSIDE, F_NAN, F_RANGE, NFIELDS_PER_DSET };

typedef struct {
    char *path;         /* "/group/x", as [input] datasets names it */
    char *base;         /* "group_x": its fields are base + "_moments", ... */
    int ndims;          /* 1 or 2 */
    uint64_t rows, cols; /* cols: 1 for a 1-D dataset */
    char type[16];      /* "float64", "int32", ... */
    double *lo, *hi;    /* [cols] histogram range of each column */
    unsigned char *is_auto; /* [cols] the range comes from the data */
    double *edges;      /* [cols * (bins + 2)] bin edges, numpy.linspace(lo, hi,
                           bins + 1), and +inf */
    double *scale;      /* [cols] bins / (hi - lo): the first guess of a bin */
    size_t first_field; /* index of base_moments in the field table */
} stats_dset;

typedef struct {
    stats_dset *d;
    size_t nd;
    uint64_t bins;
    shoal_field *fields; /* nd * NFIELDS_PER_DSET */
    char **names;        /* owned field names */
    size_t nfields;
    char *output;        /* the result file shoal_main will write */
    char *file;          /* [input] file */
    int dry_run;
    /* What main hands to shoal_main: argv with, where it matters, the
     * resolved range as one more --set (before any "--"). */
    char **argv;
    int argc;
    char *range_set;     /* "shoal_stats.range=..." (NULL: none added) */
    int default_size;    /* [input] sets no task size: add shoal-stats' own */
    char *defer_why;     /* plan_build: why the plan could not be made */
} stats_plan;

/* plan_build's verdicts besides 0 (ready) and a negative code (reported on
 * rank 0; exit status from exit_status). */
#define PLAN_HELP 1  /* --help or --version: let shoal_main answer, before MPI_Init */
#define PLAN_DEFER 2 /* the command line, config or input is wrong in a way
                        shoal_main reports in its standard words: run it
                        with --dry-run so it does, writing nothing */

/* Before MPI_Init: does the command line ask for --help or --version? */
int plan_wants_help(int argc, char **argv);

/* Collective over comm: build the plan from the command line. Returns 0,
 * PLAN_DEFER (plan->argv then holds the command line with --dry-run added)
 * or a negative code, reported on rank 0 only and agreed by every rank. */
int plan_build(stats_plan *plan, int argc, char **argv, MPI_Comm comm);
void plan_free(stats_plan *plan);

/* The exit status for a negative code of plan_build. */
int plan_exit_status(int rc);

/* Field index of dataset k's field f. */
static inline int plan_field(const stats_plan *p, size_t k, int f)
{
    return (int)(p->d[k].first_field + (size_t)f);
}

/* The [shoal_stats] parameters, shared by main's app table and --help. */
extern const shoal_param stats_params[];
extern const size_t stats_nparams;

#endif
