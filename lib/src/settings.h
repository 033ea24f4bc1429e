/* SPDX-License-Identifier: GPL-3.0-or-later */
/* settings.h (internal): what one run is — the [run] keys, the app's
 * parameters, the scan — read from a parsed config, and the fingerprint that
 * says when two runs are the same run.
 *
 * The [run] keys live in one table (name, type, default, bounds, doc) that
 * drives both reading and --help. */
#ifndef SHOAL_SETTINGS_H
#define SHOAL_SETTINGS_H

#include <shoal/app.h>
#include <shoal/config.h>
#include <shoal/scan.h>

#include "adapt.h"
#include "search.h"
#include "input.h"
#include "runner.h"
#include "store.h"

#include <gsl/gsl_rng.h>
#include <stdio.h>

typedef struct {
    /* [run] */
    uint64_t tasks, seed, max_range_tasks, retries, max_crashes;
    uint64_t group_size;         /* not in the fingerprint: it changes no result */
    const char *output, *rng;    /* owned by the config (or default_output) */
    double target_range_seconds, grace_seconds;
    int master_works;
    /* stop_when: "none" (the default) or a condition (adapt.h) */
    const char *stop_when;
    uint64_t check_every;
    int has_stop;
    shoal__stop_expr stop;
    /* [search]: search.on = 0 without one */
    shoal__search_plan search;
    const gsl_rng_type *rng_type;
    char default_output[300];
    /* the app's parameters (scanned ones are filled task by task) */
    shoal__param_value *params;
    /* [input]: NULL without one; then tasks is 0 until shoal__input_setup
     * unless [run] tasks gives it */
    shoal__input *input;
    /* [stream] (stream.h): NULL without one; then tasks is the file's
     * first size */
    struct shoal__stream *stream;
    /* [scan] */
    int has_scan;
    shoal_scan *scan;
    /* for the store: the scanned columns and the constants as text */
    shoal_store_column *cols;
    size_t nscan;
    const char **const_names, **const_values;
    const shoal_param **const_decls; /* the app's declaration of each */
    char *const_text;
    size_t nconsts;
} shoal__settings;

/* Validate the app's own tables: a programming error, not a user's. */
int shoal__settings_check_app(const shoal_app *app);

/* Read everything from cfg into rs (zeroed by the caller). Reports every
 * user error it finds with file:line; returns the first code. Free rs with
 * shoal__settings_free whatever the outcome. */
int shoal__settings_read(shoal_config *cfg, const shoal_app *app, shoal__settings *rs);
void shoal__settings_free(shoal__settings *rs);

/* --help: the [run] keys with their docs and defaults. */
void shoal__settings_help(FILE *out);

/* Bytes one task adds to the result file: its output fields, its scanned
 * parameters, the /tasks columns. The run sizes its buffers from it and
 * --dry-run its estimate of the file. */
uint64_t shoal__settings_row_bytes(const shoal_app *app, const shoal__settings *rs);

/* What makes a file "the same run" for --resume, as readable "key = value"
 * lines (malloc'd; NULL when out of memory). */
char *shoal__settings_fingerprint(const shoal_app *app, shoal_config *cfg,
                                  const shoal__settings *rs);

#endif
