/* SPDX-License-Identifier: GPL-3.0-or-later */
/* input.h (internal): the [input] section — an HDF5 file's datasets, a list
 * of files, or a Shoal result file's scan points — as the run's task list.
 *
 * The life of an input:
 *   shoal__input_config   every rank, from the parsed config (inside
 *                         shoal__settings_read, so that its keys count as
 *                         known): the keys, checked without touching a file
 *   shoal__input_setup    collective: rank 0 inspects the files (HDF5 opened
 *                         read-only with the sec2 driver), then broadcasts a
 *                         compact description; every rank reaches the same
 *                         verdict, and the run's task count follows
 *   shoal__input_get      during tasks, per rank and independent: the
 *                         task's rows, read lazily into per-rank buffers
 *   shoal__input_free     every rank
 *
 * The pool sees only index ranges; task i's slice is a pure function of i
 * and the description, so results do not depend on the rank count. */
#ifndef SHOAL_INPUT_H
#define SHOAL_INPUT_H

#include <shoal/app.h>
#include <shoal/config.h>

#include "store.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

typedef struct shoal__input shoal__input;

/* Read [input] from cfg. *out is NULL when the config has no [input]
 * section; otherwise a new input (free it with shoal__input_free whatever
 * the outcome). Reports every mistake with file:line; returns the first
 * code. */
int shoal__input_config(shoal_config *cfg, shoal__input **out);

/* Collective. Rank 0 inspects the input (files, datasets, shapes, the file
 * list) and refuses one that is the output itself; every rank then holds
 * the same description. *tasks is the [run] tasks value, 0 when not given:
 * a given value that differs from the input's task count is an error;
 * otherwise *tasks becomes that count. Returns the agreed code; only rank
 * 0 reports. */
int shoal__input_setup(shoal__input *in, MPI_Comm comm, shoal_config *cfg,
                       const char *output, uint64_t *tasks);

/* The input's "input.* = value" fingerprint lines (malloc'd, each ending
 * in a newline); NULL when out of memory. */
char *shoal__input_fingerprint(const shoal__input *in);
/* --dry-run: what the input is, on out. */
void shoal__input_print(const shoal__input *in, FILE *out);
/* The description the store writes into /input; valid while in lives. */
void shoal__input_describe(const shoal__input *in, shoal_store_input *d);

/* Task `task`'s rows of dataset k as `want` (SHOAL_FLOAT64 or SHOAL_INT64),
 * read on first use into this rank's buffers. NULL, with t failed and a
 * message naming the file, when there is no such dataset or it cannot be
 * read. in may be NULL (the run has no input). */
const void *shoal__input_get(shoal__input *in, shoal_task *t, uint64_t task, int k,
                             shoal_type want, uint64_t *rows, uint64_t *cols);
/* The index of the task's first row in the input datasets (0 for a file
 * list, where each file's rows start at 0; 0 without an input). */
uint64_t shoal__input_offset(const shoal__input *in, uint64_t task);
/* A file list: the task's file; NULL for other inputs. */
const char *shoal__input_path(const shoal__input *in, uint64_t task);

/* A stream: the files of tasks [start, start + count), valid until the
 * next call (the runner's, per range). */
void shoal__input_set_range(shoal__input *in, uint64_t start, uint64_t count,
                            const char *const *paths);
/* 1 for a stream's input. */
int shoal__input_is_stream(const shoal__input *in);

/* Close this rank's open input file and free everything; NULL does nothing. */
void shoal__input_free(shoal__input *in);

/* --help: the [input] keys. */
void shoal__input_help(FILE *out);

#endif
