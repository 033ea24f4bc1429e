/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stream.h (internal): a run whose tasks arrive while it goes ([stream],
 * docs/streams.md).
 *
 * Rank 0 takes items in from a source (stream_src.h: files that appear in
 * a directory, or lines of a pipe, each a file's path) between its other
 * duties, from the pool's tick: each item gets the next task index, its row
 * of /stream is written at once (so a restart knows it), and it may go out
 * (the pool's available()). Its path travels with its range (the pool's
 * payload) to the rank that runs it; there the task reads it like a file
 * list's file. The file has room for a number of rows; when the items fill
 * it, the pool run ends (end()), every rank grows the file together, and a
 * new pool run goes on from there. At the end of the stream (end of input,
 * a sentinel file, a number of items, a time) the pool ends once every
 * item has run, and the file is cut to the items that arrived.
 *
 * Resume: items recorded but not done run again first (in index order);
 * files in the directory whose path the file has recorded are not taken in
 * again, so no item runs twice.
 *
 * Back-pressure: rank 0 takes in at most max_waiting items that have not
 * gone out; the rest waits in the directory or in the pipe. */
#ifndef SHOAL_STREAM_H
#define SHOAL_STREAM_H

#include <shoal/config.h>
#include <shoal/pool.h>

#include "store.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

typedef struct shoal__stream shoal__stream;

/* Every rank: read [stream] (NULL *out without one). Reports every
 * mistake with file:line; returns the first code. */
int shoal__stream_config(shoal_config *cfg, shoal__stream **out);
/* --help: the [stream] keys. */
void shoal__stream_help(FILE *out);
/* The fingerprint lines ("stream.* = value\n", malloc'd). */
char *shoal__stream_fingerprint(const shoal__stream *st);
/* --dry-run: what the stream is. */
void shoal__stream_print(const shoal__stream *st, FILE *out);
/* params: the parameters each line gives values to (0: lines are paths). */
size_t shoal__stream_nparams(const shoal__stream *st);
const char *shoal__stream_param(const shoal__stream *st, size_t i);
const char *shoal__stream_params_where(const shoal__stream *st);
/* Rows the file grows by (the first size of a new file too). */
uint64_t shoal__stream_grow_rows(const shoal__stream *st);

/* Collective: rank 0 opens the source (a directory that does not exist or
 * cannot be read, a pipe that cannot be opened: SHOAL_ENOENT, reported);
 * the agreed code. Before the output is touched. */
int shoal__stream_open(shoal__stream *st, MPI_Comm comm);

/* Rank 0, once the store is open: what the file has recorded (a resumed
 * run's items, their paths for de-duplication, and the texts of those in
 * todo, which run again). *recorded: items the file holds. */
int shoal__stream_start(shoal__stream *st, shoal_store *store, const uint64_t (*todo)[2],
                        size_t ntodo, uint64_t *recorded);

/* Every rank: the pool hooks of one pool run over rows [0, rows) (rank 0:
 * tick, available, end, pack; every rank: the payload size). */
void shoal__stream_pool(shoal__stream *st, shoal_pool_config *pc, uint64_t rows, int rank);

/* Rank 0, after a pool run: 1 when the stream has ended (then *arrived is
 * the task count), 0 when it goes on. */
int shoal__stream_ended(const shoal__stream *st, uint64_t *arrived);
/* Rank 0: the error that ended the stream (its source failed, items could
 * not be recorded), 0 if none. */
int shoal__stream_failed(const shoal__stream *st);
/* Rank 0: write how far the rows are finished (/stream/complete) now. */
void shoal__stream_sync(shoal__stream *st, int all_ran);
/* Rank 0: a line for the summary ("stream: 120 items, ended: sentinel"). */
const char *shoal__stream_summary(shoal__stream *st);

/* Every rank: the texts of a range from its payload. Fills paths[0..count)
 * (pointers into the payload) and flags[k] (nonzero: the item could not be
 * taken in, paths[k] says what it was). Returns 0, or -1 when the payload
 * does not hold count items. */
int shoal__stream_unpack(const void *payload, size_t len, uint64_t count, const char **paths,
                         uint8_t *flags);

void shoal__stream_free(shoal__stream *st);

#endif
