/* SPDX-License-Identifier: GPL-3.0-or-later */
/* range.h: the [shoal_stats] range language (range.c). */
#ifndef SHOAL_STATS_RANGE_H
#define SHOAL_STATS_RANGE_H

#include "stats.h"

#include <stddef.h>

/* One entry: a dataset's column ranges (name NULL: every dataset not named
 * elsewhere). lo = hi = NaN: auto. */
typedef struct {
    char *name; /* "/x" */
    size_t n;   /* column ranges: 1 (every column) or one per column */
    double *lo, *hi;
} range_entry;

typedef struct {
    range_entry *e;
    size_t n;
} range_spec;

/* Parse text (the range value, found at `where`); reports the first mistake
 * on the error path and returns its code. Free *r whatever the outcome. */
int range_parse(const char *text, const char *where, range_spec *r);
void range_free(range_spec *r);

/* Every named entry names one of the nd datasets (listed: their names, for
 * the message). */
int range_check_names(const range_spec *r, const stats_dset *d, size_t nd, const char *where,
                      const char *text, const char *listed);

/* Fill d->lo, d->hi and d->is_auto (d->cols entries) from the spec. */
int range_apply(const range_spec *r, stats_dset *d, const char *where, const char *text);

/* The ranges in effect as range text ("/x=0:1, /y=-2:2|0:5"), exact
 * (%.17g); when that is longer than max, "USER @ ranges HASH" (a digest of
 * every range) instead. malloc'd; NULL when out of memory. */
char *range_text(const stats_dset *d, size_t nd, const char *user, size_t max);

#endif
