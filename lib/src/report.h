/* SPDX-License-Identifier: GPL-3.0-or-later */
/* report.h (internal): what rank 0 tells the user — the dry run, the
 * summary, the failures, an interruption and how to go on. Nothing here
 * touches MPI. */
#ifndef SHOAL_REPORT_H
#define SHOAL_REPORT_H

#include "cli.h"
#include "settings.h"

#include <stdint.h>
#include <stdio.h>

/* --dry-run: what a run would do, on stdout; nothing is written. With
 * --resume, what a resume of the existing file would run, or why it would
 * be refused (then the code it would fail with). */
int shoal__report_dry_run(const shoal_app *app, const shoal__cli *c,
                          const shoal__settings *rs, shoal_config *cfg, int nranks);

/* --dry-run on rank 0: the run time, estimated from a few tasks run in a
 * child process for at most a few seconds (estimate.c), or why not. */
void shoal__report_estimate(const shoal_app *app, const shoal__settings *rs, int nranks,
                            FILE *out);

/* After a graceful stop: what is left and the exact command to go on
 * (file[] counts tasks per status). */
void shoal__report_interrupted(const char *name, int sig, const uint64_t file[4],
                               uint64_t ntasks, const char *output, int argc, char **argv,
                               int nranks);

/* The end of a finished run on stdout: tasks run (ran_done, ran_failed in
 * this run), the file's totals when they differ, where the results are, and
 * the first failures. */
void shoal__report_summary(const char *name, uint64_t ran_done, uint64_t ran_failed,
                           int nranks, double wall, const uint64_t file[4],
                           uint64_t ntasks, int resumed, const char *output,
                           uint64_t used, const char *stop_reason);

#endif
