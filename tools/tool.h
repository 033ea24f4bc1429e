/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tool.h: what the `shoal` command's subcommands share.
 *
 *   shoal.c        main: the command table, options, help, exit codes
 *   open.c         opening a result file read-only, and saying clearly what
 *                  is wrong with one that is not (missing, a directory, not
 *                  HDF5, truncated, not a Shoal file); messages, attributes
 *   columns.c      per-task columns: which there are, read by row blocks,
 *                  each value as text
 *   cmd_status.c   `shoal status`: state, counts, rate and ETA, ranks, segments
 *   cmd_failures.c `shoal failures`: the failed tasks
 *   cmd_config.c   `shoal config`: the config that made the file
 *   cmd_export.c   `shoal export`: per-task columns as CSV or TSV
 *
 * Nothing here writes to the result file or its lock, and nothing needs MPI:
 * the library's reader (shoal/results.h) opens the file with the serial
 * driver and without HDF5's file locking, so a file a run is writing reads
 * too. Messages are one line on stderr, "shoal: what, where, how to fix". */
#ifndef SHOAL_TOOL_H
#define SHOAL_TOOL_H

#include <shoal/results.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit status of every subcommand (README, docs/commands.md). */
enum {
    TOOL_OK = 0,     /* done */
    TOOL_USAGE = 2,  /* bad command line, or FILE missing / not a Shoal file */
    TOOL_IO = 4      /* the file could not be read (damaged, truncated, I/O) */
};

/* One option of a subcommand: its table drives both parsing and help. */
typedef struct {
    const char *name;  /* long name, without "--" */
    const char *arg;   /* metavariable, NULL for a flag */
    const char *doc;
} tool_option;

/* A parsed command line: the file and each option's value (NULL: not
 * given; a flag given reads "1"), indexed as the command's option table. */
#define TOOL_MAX_OPTIONS 8
typedef struct {
    const char *file;
    const char *opt[TOOL_MAX_OPTIONS];
} tool_args;

/* A message on stderr ("shoal: ...", one line); returns code. */
int tool_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message the library reported (for wrapping in our own), "" if
 * none since the last tool_lib_message_clear. */
const char *tool_lib_message(void);
void tool_lib_message_clear(void);
/* Route the library's messages into tool_lib_message instead of stderr. */
void tool_capture_lib_messages(void);

/* Open path as a Shoal result file, read-only: TOOL_OK and *r, or a message
 * saying what is wrong and TOOL_USAGE / TOOL_IO. */
int tool_open(const char *path, shoal_results **r);
/* A library read failed: say so (with the library's message), TOOL_IO. */
int tool_read_failed(const char *path, const char *what);

/* A string root attribute, "" when absent (malloc'd; NULL out of memory). */
char *tool_attr(const shoal_results *r, const char *name);
/* A number as people read it: up to 10 significant digits. */
void tool_number(double v, char *buf, size_t n);

/* The per-task parameter columns of a file: /params/<name>, then
 * tasks/point and tasks/replicate where they exist. */
typedef struct {
    char name[128];    /* as shown: the parameter's name, or point / replicate */
    char path[160];    /* params/T, tasks/point */
    shoal_results_column info;
} tool_column;

/* The per-task columns of a group (/params, /results, /tasks) with a row
 * per task, in name order, into *cols (malloc'd, *n of them; none: NULL
 * and 0). Datasets of another length, and subgroups, are left out. */
int tool_task_columns(const shoal_results *r, const char *group, tool_column **cols,
                      size_t *n);

/* Rows of one column read as a block: whichever buffer fits its type. */
typedef struct {
    const tool_column *col;
    double *d;         /* floats */
    int64_t *i;        /* signed integers, and unsigned up to 32 bits */
    uint64_t *u;       /* unsigned 64-bit integers */
    char *s;           /* strings, width bytes each */
    size_t width;
    uint64_t cap;      /* rows the buffer holds */
} tool_block;

/* Read rows [start, start+count) of c into b (buffers grown as needed;
 * b zeroed before the first call). 0, or the library's code. */
int tool_block_read(const shoal_results *r, tool_block *b, const tool_column *c,
                    uint64_t start, uint64_t count);
/* Element elem of row `row` (counted in the block) as text: exact (every
 * digit a float needs to read back the same; NaN, Inf, -Inf) or for
 * people (10 digits). Returns buf, or the string itself for a string. */
const char *tool_block_text(const tool_block *b, uint64_t row, uint64_t elem, int exact,
                            char *buf, size_t n);
void tool_block_free(tool_block *b);

/* Subcommands: argv[0] is the subcommand's name; return the exit status. */
int tool_status(const tool_args *a);
int tool_failures(const tool_args *a);
int tool_config(const tool_args *a);
int tool_export(const tool_args *a);

#endif
