/* SPDX-License-Identifier: GPL-3.0-or-later */
/* reduce.h (internal): what a completed run computes from its rows — each
 * field's reduction over the run (/reduce) and, with a scan, the per-point
 * aggregates (/points). See store_agg.c for the layout.
 *
 * Determinism is the promise: every value is combined in task-index order
 * over a tree whose shape depends only on the task count and the field's
 * row size, never on the rank count or on which rank ran or combines what,
 * so /reduce and /points are bit-identical at any rank count and after any
 * number of kills and resumes.
 *
 *   /reduce   fixed blocks of B tasks (B from the row size alone); each
 *             block folded in order by one rank, the block partials merged
 *             in block order on rank 0. Reading is spread over the ranks;
 *             rank 0 merges one partial per block.
 *   /points   each point is computed whole by one rank (points are dealt in
 *             contiguous chunks), in replicate order; each rank writes its
 *             own points' rows. */
#ifndef SHOAL_REDUCE_H
#define SHOAL_REDUCE_H

#include "runner.h"
#include "store.h"

/* Collective: fill /reduce and /points of s from the file's done rows.
 * runner evaluates the app's derived quantities (a task view per point).
 * Returns the agreed code; rank 0 reports failures. */
int shoal__reduce_run(shoal_store *s, const shoal_app *app, shoal__runner *runner);

/* The element type /reduce/<field> holds (store_agg.c). */
shoal_type shoal__reduced_type(const shoal_field *f);

#endif
