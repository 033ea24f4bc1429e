/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.h (internal): the command line every app shares.
 *
 * Options follow getopt_long's conventions: long options with `--name
 * value` or `--name=value`, short options bundled (`-vv`, `-qf`) with a
 * value in the same word or the next (`-oout.h5`, `-o out.h5`), `--` ends
 * the options. One table drives parsing and --help. --help and --version
 * are answered before MPI_Init, so they work where MPI cannot start. */
#ifndef SHOAL_CLI_H
#define SHOAL_CLI_H

#include <shoal/app.h>

#include <stdio.h>

typedef enum {
    SHOAL__PROGRESS_AUTO = 0, /* a bar on a terminal, else log lines */
    SHOAL__PROGRESS_BAR,
    SHOAL__PROGRESS_LOG,
    SHOAL__PROGRESS_NONE
} shoal__progress_mode;

#define SHOAL__PROGRESS_EVERY 30.0 /* default seconds between log lines */

typedef struct {
    const char *config;   /* positional CONFIG */
    const char *output;   /* --output */
    const char **sets;    /* --set values, in order (malloc'd) */
    int nsets;
    int force, help, version, dry_run, resume, retry_failed;
    int resume_if_exists; /* --continue: resume when the output exists */
    int verbosity;        /* -q: -1, -v: +1 each */
    shoal__progress_mode progress; /* --progress */
    double progress_every;  /* --progress-every: seconds between log lines */
} shoal__cli;

/* Parse argv into c (zeroed by the caller); reports the first error. Free
 * with shoal__cli_free whatever the outcome. */
int shoal__cli_parse(int argc, char **argv, shoal__cli *c);
void shoal__cli_free(shoal__cli *c);

/* The whole --help text of an app. */
void shoal__cli_help(const shoal_app *app, const char *argv0, FILE *out);

/* Before MPI_Init: answer --help or --version (under a launcher only its
 * rank 0 prints) and return the exit status, or -1 when the command line
 * asks for anything else or is wrong (reported after MPI_Init). */
int shoal__cli_answer_early(const shoal_app *app, int argc, char **argv);

/* Is arg one of the options that a resume command must drop (--force,
 * --resume, --continue, --retry-failed in any spelling)? */
int shoal__cli_drop_on_resume(const char *arg);

#endif
