/* SPDX-License-Identifier: GPL-3.0-or-later */
/* scan.c: a scan from the [scan] and [sampling] sections of a config
 * (grammar in shoal/scan.h), the checks on it as a whole, and task -> values.
 *
 * A scan is a list of "axes" walked like nested loops (first axis slowest),
 * then replicates. An axis is either one parameter's value list (grid), all
 * parameters together (zip), or the sample axis of a design; parameters on
 * the sample axis ("design dimensions") take a point u in (0,1)^D from the
 * design and map it through their own inverse CDF. Nothing is tabulated but
 * explicit lists and the LHS permutations, so a 10^9-point grid costs
 * nothing until tasks run.
 *
 * The parts (scan_impl.h): scan_values.c parses each [scan] line and
 * computes its values; scan_design.c reads [sampling], lays out the axes and
 * draws the design's points. This file builds the scan from those parts,
 * checks what spans parameters (choices, bounds, the count of tasks), and
 * maps a task index to its point, replicate and values. */
#include <shoal/error.h>
#include <shoal/scan.h>

#include "choices.h"
#include "scan_impl.h"

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int shoal__choice_ok(const char *choices, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = choices; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == wl && !strncmp(p, word, wl))
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static void set_value(const dim *d, double v, shoal_scan_value *out)
{
    out->d = v;
    out->l = d->type == SHOAL_INT64 ? (int64_t)llround(v) : 0;
    out->s = NULL;
}

int shoal_scan_task(shoal_scan *s, uint64_t task, uint64_t *point, uint64_t *replicate,
                    shoal_scan_value *vals)
{
    if (task >= s->tasks)
        return SHOAL_ERROR(SHOAL_EINVAL, "task %llu outside the scan's %llu tasks",
                           (unsigned long long)task, (unsigned long long)s->tasks);
    uint64_t p = task / s->replicates;
    *point = p;
    *replicate = task % s->replicates;
    uint64_t sample = 0;
    for (size_t a = s->naxes; a-- > 0;) {
        uint64_t idx = p % s->axis_size[a];
        p /= s->axis_size[a];
        int di = s->axis_dim[a];
        if (di >= 0) {
            const dim *d = &s->dims[di];
            if (d->strs) {
                vals[di].s = d->strs[idx];
                vals[di].d = NAN;
                vals[di].l = 0;
            } else {
                set_value(d, shoal__scan_finite_value(d, idx), &vals[di]);
            }
        } else {
            sample = idx;
            if (di == -2) /* zip: every finite dimension at the same index */
                for (size_t k = 0; k < s->ndims; k++) {
                    const dim *d = &s->dims[k];
                    if (d->ddim >= 0)
                        continue;
                    if (d->strs) {
                        vals[k].s = d->strs[idx];
                        vals[k].d = NAN;
                        vals[k].l = 0;
                    } else {
                        set_value(d, shoal__scan_finite_value(d, idx), &vals[k]);
                    }
                }
        }
    }
    if (s->nddims > 0) {
        shoal__scan_design_point(s, sample);
        for (size_t k = 0; k < s->ndims; k++)
            if (s->dims[k].ddim >= 0)
                set_value(&s->dims[k],
                          shoal__scan_design_value(&s->dims[k], s->u[s->dims[k].ddim]),
                          &vals[k]);
    }
    return 0;
}

void shoal_scan_free(shoal_scan *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ndims; i++) {
        dim *d = &s->dims[i];
        free(d->name);
        free(d->where);
        free(d->vals);
        if (d->strs)
            for (uint64_t k = 0; k < d->n; k++)
                free(d->strs[k]);
        free(d->strs);
    }
    free(s->dims);
    free(s->axis_size);
    free(s->axis_dim);
    free(s->u);
    free(s->lhs);
    if (s->rng)
        gsl_rng_free(s->rng);
    if (s->q)
        gsl_qrng_free(s->q);
    free(s);
}

static const shoal_param *find_param(const shoal_param *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(params[i].name, name))
            return &params[i];
    return NULL;
}

/* A scan option left in [scan] by a config written before [sampling]
 * existed (and not a parameter of this app): say where it goes now. */
static int moved_option(const char *key, const char *value, const char *where)
{
    if (!strncmp(where, "--set ", 6))
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s = %s: scan options now live in their own "
                           "section; use --set %s.%s=%s",
                           where, key, value, SAMPLING, key, value);
    return SHOAL_ERROR(SHOAL_ECONFIG,
                       "%s: [scan] %s = %s: scan options now live in their own section; "
                       "move this line to [%s] (write `[%s]` then `%s = %s`)",
                       where, key, value, SAMPLING, SAMPLING, key, value);
}

/* [sampling] only qualifies a [scan]; alone it is a mistake (options meant
 * for a scan that is missing, or replicates meant as [run] tasks). */
static int sampling_without_scan(shoal_config *cfg, const char *section)
{
    const char *where = shoal_config_source(cfg), *key, *value, *w;
    /* Read them all, so that no "unknown key" follows this message. */
    size_t n = shoal_config_section_size(cfg, SAMPLING);
    for (size_t i = n; i-- > 0;)
        if (shoal_config_section_entry(cfg, SAMPLING, i, &key, &value, &w) == 0)
            where = w;
    return SHOAL_ERROR(SHOAL_ECONFIG,
                       "%s: [%s] sets the options of a scan, but there is no [%s] section; "
                       "add [%s] with the parameters to scan (an empty [%s] runs one point "
                       "`replicates` times), or remove [%s] and set [run] tasks = N",
                       where, SAMPLING, section, section, section, SAMPLING);
}

int shoal_scan_create(shoal_config *cfg, const char *section, const shoal_param *params,
                      size_t nparams, uint64_t seed, shoal_scan **out)
{
    *out = NULL;
    shoal_scan *s = calloc(1, sizeof *s);
    if (!s)
        return SHOAL_ENOMEM;
    s->replicates = 1;
    s->design = DESIGN_GRID;
    size_t nentries = shoal_config_section_size(cfg, section);
    s->dims = calloc(nentries + 1, sizeof *s->dims);
    if (!s->dims) {
        shoal_scan_free(s);
        return SHOAL_ENOMEM;
    }
    const char *source = shoal_config_source(cfg);
    const char *design_where = source, *samples_where = source,
               *replicates_where = source;
    int rc = 0;
    if (!shoal_config_has_section(cfg, section) && shoal_config_has_section(cfg, SAMPLING))
        rc = sampling_without_scan(cfg, section);
    /* [scan]: every key is a parameter of the app. */
    for (size_t i = 0; i < nentries && rc == 0; i++) {
        const char *key, *value, *where;
        shoal_config_section_entry(cfg, section, i, &key, &value, &where);
        const shoal_param *p = find_param(params, nparams, key);
        if (!p && shoal__scan_is_option_key(key)) {
            rc = moved_option(key, value, where);
            break;
        }
        if (!p) {
            char known[512] = "";
            size_t kl = 0;
            for (size_t k = 0; k < nparams && kl < sizeof known - 64; k++)
                kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", k ? ", " : "",
                                       params[k].name);
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [scan] '%s' is not a parameter of this app; its parameters: "
                             "%s (the scan's options design, samples and replicates go in "
                             "[sampling])",
                             where, key, kl ? known : "(none)");
            break;
        }
        dim *d = &s->dims[s->ndims++];
        d->name = malloc(strlen(key) + 1);
        d->where = malloc(strlen(where) + 1);
        if (!d->name || !d->where) {
            rc = SHOAL_ENOMEM;
            break;
        }
        strcpy(d->name, key);
        strcpy(d->where, where);
        d->type = p->type;
        rc = shoal__scan_parse_dim(d, value);
    }
    /* [sampling]: the scan's options, and nothing else. */
    size_t noptions = shoal_config_section_size(cfg, SAMPLING);
    for (size_t i = 0; i < noptions && rc == 0; i++) {
        const char *key, *value, *where;
        shoal_config_section_entry(cfg, SAMPLING, i, &key, &value, &where);
        if (shoal__scan_read_option(s, key, value, where, &rc, &design_where, &samples_where,
                        &replicates_where))
            continue;
        rc = SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: unknown key '%s' in [sampling]; known keys: design, samples, "
                         "replicates%s",
                         where, key,
                         find_param(params, nparams, key)
                             ? " (it is a parameter of this app: scan it in [scan])"
                             : "");
    }
    if (rc == 0)
        rc = shoal__scan_build_axes(s, design_where, samples_where);
    for (size_t i = 0; i < s->ndims && rc == 0; i++)
        rc = shoal__scan_check_integer(&s->dims[i]);
    /* Words of a string parameter with a fixed set of choices. */
    for (size_t i = 0; i < s->ndims && rc == 0; i++) {
        const dim *d = &s->dims[i];
        const shoal_param *p = find_param(params, nparams, d->name);
        for (uint64_t k = 0; d->strs && p->choices && k < d->n && rc == 0; k++)
            if (!shoal__choice_ok(p->choices, d->strs[k]))
                rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: '%s' is not one of %s",
                                 d->where, d->name, d->strs[k], p->choices);
    }
    /* Bounds of the app's parameters, on every value a finite axis takes and
     * on the ends of design intervals. */
    for (size_t i = 0; i < s->ndims && rc == 0; i++) {
        const dim *d = &s->dims[i];
        const shoal_param *p = find_param(params, nparams, d->name);
        if (d->type == SHOAL_STRING || !(p->min < p->max))
            continue;
        double lo = INFINITY, hi = -INFINITY;
        if (d->random) {
            if (d->kind == GEN_NORMAL) {
                lo = -INFINITY;
                hi = INFINITY;
            } else {
                lo = d->a;
                hi = d->b;
            }
        } else {
            uint64_t n = d->n;
            double first = d->kind == GEN_LIST ? d->vals[0] : shoal__scan_finite_value(d, 0);
            double last = d->kind == GEN_LIST ? d->vals[n - 1] : shoal__scan_finite_value(d, n - 1);
            lo = fmin(first, last);
            hi = fmax(first, last);
            if (d->kind == GEN_LIST)
                for (uint64_t k = 0; k < n; k++) {
                    lo = fmin(lo, d->vals[k]);
                    hi = fmax(hi, d->vals[k]);
                }
        }
        if (lo < p->min || hi > p->max)
            rc = SHOAL_ERROR(SHOAL_ECONFIG,
                             "%s: [scan] %s takes values from %g to %g here, outside its allowed "
                             "range %g .. %g",
                             d->where, d->name, lo, hi, p->min, p->max);
    }
    if (rc == 0 && s->points > MAX_POINTS / s->replicates)
        rc = SHOAL_ERROR(SHOAL_ECONFIG,
                         "%s: [sampling] %llu points x %llu replicates is more than 2^62 tasks",
                         replicates_where, (unsigned long long)s->points,
                         (unsigned long long)s->replicates);
    if (rc == 0) {
        s->tasks = s->points * s->replicates;
        rc = shoal__scan_init_design(s, seed, design_where);
    }
    if (rc < 0) {
        shoal_scan_free(s);
        return rc;
    }
    if (s->ndims == 0)
        s->points = 1, s->tasks = s->replicates;
    shoal__scan_describe(s);
    *out = s;
    return 0;
}

uint64_t shoal_scan_points(const shoal_scan *s) { return s->points; }
uint64_t shoal_scan_replicates(const shoal_scan *s) { return s->replicates; }
uint64_t shoal_scan_tasks(const shoal_scan *s) { return s->tasks; }
size_t shoal_scan_ndims(const shoal_scan *s) { return s->ndims; }
const char *shoal_scan_name(const shoal_scan *s, size_t d) { return s->dims[d].name; }
shoal_type shoal_scan_type(const shoal_scan *s, size_t d) { return s->dims[d].type; }
size_t shoal_scan_strlen(const shoal_scan *s, size_t d) { return s->dims[d].maxlen; }
const char *shoal_scan_describe(const shoal_scan *s) { return s->desc; }
