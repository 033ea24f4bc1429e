/* SPDX-License-Identifier: GPL-3.0-or-later */
/* steer.h (internal): results that steer the run, as shoal_main wires
 * them — watched values travelling to rank 0, the end a stop_when or the
 * app's watch hook decides (adapt.h), and a search's tasks (search.h).
 *
 * The same object on every rank; rank 0 alone holds the decision and the
 * search state. Call order: init (every rank), start (rank 0, after the
 * plan), pool (every rank, filling the pool's config and the runner),
 * pool_done (after the pool), then decide and search_end (collective, in
 * the run's finish), free. */
#ifndef SHOAL_STEER_H
#define SHOAL_STEER_H

#include <shoal/app.h>
#include <shoal/pool.h>

#include "adapt.h"
#include "plan.h"
#include "runner.h"
#include "search.h"
#include "settings.h"
#include "store.h"

#include <mpi.h>

typedef struct {
    const shoal_app *app;
    const shoal__settings *rs;
    int rank;
    shoal__adapt adapt;         /* rank 0, while adapting: where the run ends */
    shoal__search search;       /* rank 0, with a [search] */
    int stop_set;               /* the results ended the run (every rank): */
    uint64_t stop_used;         /* after tasks 0..stop_used-1, */
    char stop_reason[512];      /* for this reason */
    char search_line[1024];     /* rank 0: the search's winner, for the summary */
} shoal__steer;

void shoal__steer_init(shoal__steer *st, const shoal_app *app, const shoal__settings *rs,
                       int rank);
void shoal__steer_free(shoal__steer *st);

/* The results may end the run (watched fields with a stop_when or the
 * app's watch hook); watched values travel at all (that, or a search). */
int shoal__steer_adapting(const shoal__steer *st);
int shoal__steer_watching(const shoal__steer *st);

/* Rank 0, after planning: set up the decision and the search; on
 * --resume fold what the file holds first. When the file's results
 * already decide, plan's list is emptied (nothing is left to run). */
int shoal__steer_start(shoal__steer *st, shoal_store *store, int resume, shoal__plan *plan);

/* Every rank: the pool's values, hand-out limit and tags, no probes when
 * steering, and the runner's search fields. */
void shoal__steer_pool(shoal__steer *st, shoal_pool_config *pc, shoal__runner *runner);
/* After the pool: the plan's list goes; what is left is read from the file. */
void shoal__steer_pool_done(shoal__steer *st);

/* Collective, after a run that was not stopped, while adapting: rank 0
 * folds the tasks whose values did not travel and every rank learns the
 * decision. Returns 1 when the results ended the run (the store and st
 * know where), 0 when they did not, or the agreed error. */
int shoal__steer_decide(shoal__steer *st, MPI_Comm comm, shoal_store *store);

/* Collective, after a complete search: the per-rung table, the winner
 * (st->search_line on rank 0; the attributes at close on every rank). */
int shoal__steer_search_end(shoal__steer *st, MPI_Comm comm, shoal_store *store);

#endif
