/* SPDX-License-Identifier: GPL-3.0-or-later */
/* scan_design.c: designs -- the options of [sampling], which parameters lie
 * on which axis, the points of the random, lhs, sobol and halton designs,
 * and the one-line description of the layout.
 *
 * Design dimensions take a point u in (0,1)^D from the design and map it
 * through their own inverse CDF (design_value). Random draws (random
 * parameters, the random design, LHS jitter) come from Philox keyed by a
 * hash of the run seed, with the sample index as counter: they depend on
 * (seed, point), never on the rank or the order of tasks. sobol and halton
 * come from gsl_qrng, whose cursor makes a scan unfit for sharing between
 * threads; lhs tabulates one permutation of the samples per dimension. */
#include <shoal/error.h>
#include <shoal/rng.h>

#include "scan_impl.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LHS_ENTRIES ((uint64_t)1 << 26) /* 256 MiB of permutations */
#define SCAN_DOMAIN 0x5343414eull           /* "SCAN": key of random draws */
#define LHS_DOMAIN 0x4c4853ull              /* "LHS": key of permutations */

/* The keys of [sampling]. Before they had a section of their own they were
 * written in [scan], where they hid app parameters of the same name. */
static const char *const option_keys[] = {"design", "samples", "replicates"};
#define NOPTION_KEYS (sizeof option_keys / sizeof option_keys[0])

static const struct {
    const char *name;
    design_kind kind;
    size_t max_dims; /* 0: no limit */
} designs[] = {
    {"grid", DESIGN_GRID, 0},   {"zip", DESIGN_ZIP, 0},
    {"random", DESIGN_RANDOM, 0}, {"lhs", DESIGN_LHS, 0},
    {"sobol", DESIGN_SOBOL, 40}, {"halton", DESIGN_HALTON, 1229},
};
#define NDESIGNS (sizeof designs / sizeof designs[0])

/* ---- points of a design -------------------------------------------------------- */

/* Clamp v into the interval spanned by a and b (rounding in exp/log must
 * not step outside the bounds a user gave). */
static double clamp_ab(double v, double a, double b)
{
    double lo = a < b ? a : b, hi = a < b ? b : a;
    return v < lo ? lo : v > hi ? hi : v;
}

/* Value of a design dimension at coordinate u in (0,1). */
double shoal__scan_design_value(const dim *d, double u)
{
    switch (d->kind) {
    case GEN_LINSPACE:
    case GEN_UNIFORM:
        return clamp_ab(d->a + u * (d->b - d->a), d->a, d->b);
    case GEN_LOGSPACE:
        return clamp_ab(pow(10.0, d->a + u * (d->b - d->a)), pow(10.0, d->a),
                        pow(10.0, d->b));
    case GEN_GEOMSPACE:
    case GEN_LOGUNIFORM:
        return clamp_ab(exp(log(d->a) + u * (log(d->b) - log(d->a))), d->a, d->b);
    case GEN_RANGE: {
        uint64_t i = (uint64_t)(u * (double)d->n);
        return shoal__scan_finite_value(d, i < d->n ? i : d->n - 1);
    }
    case GEN_NORMAL:
        return d->a + d->b * gsl_cdf_ugaussian_Pinv(u);
    default:
        return NAN;
    }
}

/* Coordinates of sample j of the design into s->u. */
void shoal__scan_design_point(shoal_scan *s, uint64_t j)
{
    if (s->design == DESIGN_SOBOL || s->design == DESIGN_HALTON) {
        if (j + 1 == s->q_next)
            return; /* the current point again: replicates are adjacent */
        if (j < s->q_next) {
            gsl_qrng_init(s->q);
            s->q_next = 0;
        }
        while (s->q_next <= j) {
            gsl_qrng_get(s->q, s->u);
            s->q_next++;
        }
    } else {
        shoal_rng_key(s->rng, s->key, j);
        for (size_t k = 0; k < s->nddims; k++)
            s->u[k] = gsl_rng_uniform_pos(s->rng);
        if (s->design == DESIGN_LHS)
            for (size_t k = 0; k < s->nddims; k++)
                s->u[k] = ((double)s->lhs[k * s->samples + j] + s->u[k]) / (double)s->samples;
    }
    /* Keep every coordinate strictly inside (0,1): the normal's inverse CDF is
     * infinite at the ends. */
    for (size_t k = 0; k < s->nddims; k++) {
        if (s->u[k] <= 0)
            s->u[k] = 0x1p-53;
        else if (s->u[k] >= 1)
            s->u[k] = 1 - 0x1p-53;
    }
}

/* ---- [sampling], the axes, the generators --------------------------------------- */

static int mul_points(uint64_t *acc, uint64_t n)
{
    if (n != 0 && *acc > MAX_POINTS / n)
        return -1;
    *acc *= n;
    return 0;
}

int shoal__scan_is_option_key(const char *key)
{
    for (size_t k = 0; k < NOPTION_KEYS; k++)
        if (!strcmp(key, option_keys[k]))
            return 1;
    return 0;
}

/* Read one key of [sampling]; 1 if key is an option. */
int shoal__scan_read_option(shoal_scan *s, const char *key, const char *value, const char *where,
                            int *rc, const char **design_where, const char **samples_where,
                            const char **replicates_where)
{
    uint64_t v;
    if (!strcmp(key, "design")) {
        size_t k;
        for (k = 0; k < NDESIGNS; k++)
            if (!strcmp(value, designs[k].name))
                break;
        if (k == NDESIGNS)
            *rc = SHOAL_ERROR(SHOAL_ECONFIG,
                              "%s: [sampling] design = '%s' is unknown; use grid, zip, random, "
                              "lhs, sobol or halton",
                              where, value);
        else
            s->design = designs[k].kind;
        *design_where = where;
        return 1;
    }
    if (!strcmp(key, "samples") || !strcmp(key, "replicates")) {
        if (shoal__scan_parse_count(value, &v) < 0)
            *rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [sampling] %s = '%s' must be a whole number >= 1",
                              where, key, value);
        else if (key[0] == 's') {
            s->samples = v;
            *samples_where = where;
        } else {
            s->replicates = v;
            *replicates_where = where;
        }
        return 1;
    }
    return 0;
}

/* Where the first random parameter was given. */
static const char *first_random(const shoal_scan *s)
{
    for (size_t i = 0; i < s->ndims; i++)
        if (s->dims[i].random)
            return s->dims[i].where;
    return s->ndims ? s->dims[0].where : "";
}

int shoal__scan_build_axes(shoal_scan *s, const char *design_where, const char *samples_where)
{
    size_t nrandom = 0, nlists = 0;
    for (size_t i = 0; i < s->ndims; i++) {
        nrandom += s->dims[i].random;
        nlists += s->dims[i].kind == GEN_LIST;
    }
    int space_filling = s->design != DESIGN_GRID && s->design != DESIGN_ZIP;
    /* Which dimensions are design dimensions (on the sample axis)? */
    for (size_t i = 0; i < s->ndims; i++) {
        dim *d = &s->dims[i];
        int on_design = d->random || (space_filling && d->kind != GEN_LIST);
        d->ddim = on_design ? (int)s->nddims++ : -1;
    }
    if (space_filling && s->nddims == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [sampling] design = %s needs at least one ranged or random "
                           "parameter (linspace, logspace, geomspace, range, uniform, ...)",
                           design_where, designs[s->design].name);
    for (size_t k = 0; k < NDESIGNS; k++)
        if (designs[k].kind == s->design && designs[k].max_dims &&
            s->nddims > designs[k].max_dims)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [sampling] design = %s supports at most %zu dimensions; this "
                               "scan has %zu",
                               design_where, designs[k].name, designs[k].max_dims, s->nddims);

    if (s->design == DESIGN_ZIP) {
        uint64_t n = 0;
        const dim *first = NULL;
        for (size_t i = 0; i < s->ndims; i++) {
            const dim *d = &s->dims[i];
            if (d->random)
                continue;
            if (!first) {
                first = d;
                n = d->n;
            } else if (d->n != n) {
                return SHOAL_ERROR(SHOAL_ECONFIG,
                                   "%s: [scan] design = zip needs equal lengths, but %s (%s) "
                                   "has %llu values and %s has %llu",
                                   d->where, first->name, first->where,
                                   (unsigned long long)n, d->name, (unsigned long long)d->n);
            }
        }
        if (!first && s->samples == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] random parameters need 'samples = N' in [sampling] "
                               "(the number of points to draw)",
                               first_random(s));
        if (first && nrandom && s->samples && s->samples != n)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [sampling] samples = %llu, but zipped lists have %llu values",
                               samples_where, (unsigned long long)s->samples,
                               (unsigned long long)n);
        if (!first)
            n = s->samples;
        else if (s->samples && !nrandom)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [sampling] samples is for random parameters and designs; this "
                               "zip has none",
                               samples_where);
        s->samples = n;
        s->naxes = 1;
        s->axis_size = malloc(sizeof *s->axis_size);
        s->axis_dim = malloc(sizeof *s->axis_dim);
        if (!s->axis_size || !s->axis_dim)
            return SHOAL_ENOMEM;
        s->axis_size[0] = n;
        s->axis_dim[0] = -2;
        s->points = n;
        return 0;
    }

    int sample_axis = s->nddims > 0;
    if (sample_axis && s->samples == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [%s] %s needs 'samples = N' in [sampling] (the number of "
                           "points to draw)",
                           space_filling ? design_where : first_random(s),
                           space_filling ? SAMPLING : "scan",
                           space_filling ? "this design" : "random parameters");
    if (!sample_axis && s->samples)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [sampling] samples is for random parameters and the random, lhs, "
                           "sobol and halton designs; a grid of lists has none",
                           samples_where);
    size_t naxes = 0;
    for (size_t i = 0; i < s->ndims; i++)
        naxes += s->dims[i].ddim < 0;
    naxes += sample_axis;
    s->axis_size = malloc((naxes + 1) * sizeof *s->axis_size);
    s->axis_dim = malloc((naxes + 1) * sizeof *s->axis_dim);
    if (!s->axis_size || !s->axis_dim)
        return SHOAL_ENOMEM;
    uint64_t points = 1;
    for (size_t i = 0; i < s->ndims; i++) {
        if (s->dims[i].ddim >= 0)
            continue;
        s->axis_size[s->naxes] = s->dims[i].n;
        s->axis_dim[s->naxes++] = (int)i;
        if (mul_points(&points, s->dims[i].n) < 0)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] more than 2^62 points", s->dims[i].where);
    }
    if (sample_axis) {
        s->axis_size[s->naxes] = s->samples;
        s->axis_dim[s->naxes++] = -1;
        if (mul_points(&points, s->samples) < 0)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [sampling] more than 2^62 points",
                               samples_where);
    }
    (void)nlists;
    s->points = points;
    return 0;
}

int shoal__scan_init_design(shoal_scan *s, uint64_t seed, const char *design_where)
{
    s->key = shoal_rng_mix(seed, SCAN_DOMAIN);
    if (s->nddims == 0)
        return 0;
    s->u = calloc(s->nddims, sizeof *s->u);
    s->rng = gsl_rng_alloc(shoal_rng_philox4x32);
    if (!s->u || !s->rng)
        return SHOAL_ENOMEM;
    if (s->design == DESIGN_SOBOL || s->design == DESIGN_HALTON) {
        s->q = gsl_qrng_alloc(s->design == DESIGN_SOBOL ? gsl_qrng_sobol : gsl_qrng_halton,
                              (unsigned)s->nddims);
        if (!s->q)
            return SHOAL_ENOMEM;
    }
    if (s->design == DESIGN_LHS) {
        if (s->samples > UINT32_MAX || s->samples * s->nddims > MAX_LHS_ENTRIES)
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [sampling] lhs with %llu samples x %zu dimensions needs %llu "
                               "MiB for its permutations (limit %llu MiB); use sobol, halton or "
                               "random for designs this large",
                               design_where, (unsigned long long)s->samples, s->nddims,
                               (unsigned long long)(s->samples * s->nddims * 4 >> 20),
                               (unsigned long long)(MAX_LHS_ENTRIES * 4 >> 20));
        s->lhs = malloc(s->samples * s->nddims * sizeof *s->lhs);
        if (!s->lhs)
            return SHOAL_ENOMEM;
        uint64_t lhs_key = shoal_rng_mix(seed, LHS_DOMAIN);
        for (size_t k = 0; k < s->nddims; k++) {
            uint32_t *perm = s->lhs + k * s->samples;
            for (uint64_t j = 0; j < s->samples; j++)
                perm[j] = (uint32_t)j;
            shoal_rng_key(s->rng, lhs_key, k);
            gsl_ran_shuffle(s->rng, perm, s->samples, sizeof *perm);
        }
    }
    return 0;
}

/* ---- description ---------------------------------------------------------------- */

/* Append to s->desc; keeps the position inside the buffer. */
static void desc_add(shoal_scan *s, size_t *n, const char *fmt, ...) SHOAL_PRINTF(3, 4);
static void desc_add(shoal_scan *s, size_t *n, const char *fmt, ...)
{
    if (*n >= sizeof s->desc - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->desc + *n, sizeof s->desc - *n, fmt, ap);
    va_end(ap);
    if (k > 0)
        *n = *n + (size_t)k < sizeof s->desc - 1 ? *n + (size_t)k : sizeof s->desc - 1;
}

void shoal__scan_describe(shoal_scan *s)
{
    size_t n = 0;
    if (s->ndims == 0) {
        desc_add(s, &n, "1 point");
    } else if (s->design == DESIGN_ZIP) {
        desc_add(s, &n, "zip of %zu parameters, %llu points", s->ndims,
                 (unsigned long long)s->points);
    } else {
        /* Totals first, so a long list of axes cannot push them out. */
        desc_add(s, &n, "%llu points: ", (unsigned long long)s->points);
        if (s->naxes <= 8) {
            for (size_t a = 0; a < s->naxes; a++)
                desc_add(s, &n, "%s%llu", a ? " x " : "",
                         (unsigned long long)s->axis_size[a]);
        } else {
            desc_add(s, &n, "%zu axes", s->naxes);
        }
        if (s->nddims)
            desc_add(s, &n, " (%llu %s samples of %zu dimension%s)",
                     (unsigned long long)s->samples, designs[s->design].name, s->nddims,
                     s->nddims == 1 ? "" : "s");
    }
    desc_add(s, &n, ", %llu replicate%s", (unsigned long long)s->replicates,
             s->replicates == 1 ? "" : "s");
}
