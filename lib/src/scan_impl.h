/* SPDX-License-Identifier: GPL-3.0-or-later */
/* scan_impl.h (internal): what the scan's files share -- the scan object,
 * one scanned parameter (dim), and the functions that cross files.
 *
 *   scan.c          shoal_scan_create: the [scan] lines and the checks on
 *                   the whole scan; task -> point, replicate and values;
 *                   the public accessors
 *   scan_values.c   the value language of one [scan] line: lists and the
 *                   functions linspace .. normal, parsed and evaluated
 *   scan_design.c   designs: the [sampling] options, which parameters lie
 *                   on which axis, the points of random, lhs, sobol and
 *                   halton samples, and the description */
#ifndef SHOAL_SCAN_IMPL_H
#define SHOAL_SCAN_IMPL_H

#include <shoal/scan.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>

#include <stddef.h>
#include <stdint.h>

#define MAX_POINTS ((uint64_t)1 << 62) /* of points, and of tasks */
#define SAMPLING "sampling"            /* section of the scan's options */

typedef enum {
    GEN_LIST,
    GEN_LINSPACE,
    GEN_LOGSPACE,
    GEN_GEOMSPACE,
    GEN_RANGE,
    GEN_UNIFORM,
    GEN_LOGUNIFORM,
    GEN_NORMAL
} gen_kind;

typedef enum {
    DESIGN_GRID,
    DESIGN_ZIP,
    DESIGN_RANDOM,
    DESIGN_LHS,
    DESIGN_SOBOL,
    DESIGN_HALTON
} design_kind;

typedef struct {
    char *name;
    char *where;       /* "file:line" of its [scan] line */
    shoal_type type;
    gen_kind kind;
    int random;        /* drawn (uniform, loguniform, normal) */
    double a, b, c;    /* function arguments */
    uint64_t n;        /* values of a finite kind */
    double *vals;      /* GEN_LIST of numbers */
    char **strs;       /* GEN_LIST of words */
    size_t maxlen;     /* longest word */
    int ddim;          /* index among design dimensions, -1 if on an axis */
} dim;

struct shoal_scan {
    dim *dims;
    size_t ndims;
    design_kind design;
    uint64_t samples;     /* 0: no sample axis */
    uint64_t replicates;
    uint64_t points, tasks;
    size_t naxes;
    uint64_t *axis_size;  /* per axis */
    int *axis_dim;        /* dim of a list axis; -1 sample axis; -2 zip axis */
    size_t nddims;        /* design dimensions */
    uint64_t key;         /* Philox key of random draws */
    gsl_rng *rng;
    double *u;            /* nddims coordinates of the current sample */
    uint32_t *lhs;        /* nddims * samples */
    gsl_qrng *q;
    uint64_t q_next;      /* index of the point q returns next */
    char desc[256];
};

/* ---- scan_values.c ---------------------------------------------------------------- */

/* value is a whole number from 1 to 1e15 (a count: samples, replicates):
 * 0 and *out set, or -1. */
int shoal__scan_parse_count(const char *value, uint64_t *out);
/* Parse one "name = value" line of [scan] into d (name, where and type set). */
int shoal__scan_parse_dim(dim *d, const char *value);
/* Value i of a finite dimension (a list or a function with n values). */
double shoal__scan_finite_value(const dim *d, uint64_t i);
/* An integer parameter takes whole numbers only, in the role (axis or design
 * dimension) that build_axes gave it. */
int shoal__scan_check_integer(const dim *d);

/* ---- scan_design.c ---------------------------------------------------------------- */

/* key is one of the options of [sampling] (design, samples, replicates). */
int shoal__scan_is_option_key(const char *key);
/* Read one key of [sampling] into s; 1 if key is an option (*rc set on a
 * bad value, the where of the option recorded), 0 if not. */
int shoal__scan_read_option(shoal_scan *s, const char *key, const char *value, const char *where,
                            int *rc, const char **design_where, const char **samples_where,
                            const char **replicates_where);
/* Lay out the axes of s for its design and count its points. */
int shoal__scan_build_axes(shoal_scan *s, const char *design_where, const char *samples_where);
/* Key the random draws by seed; allocate the design's generator, and the
 * permutations of lhs. */
int shoal__scan_init_design(shoal_scan *s, uint64_t seed, const char *design_where);
/* Coordinates of sample j of the design into s->u. */
void shoal__scan_design_point(shoal_scan *s, uint64_t j);
/* Value of a design dimension at coordinate u in (0,1). */
double shoal__scan_design_value(const dim *d, double u);
/* Fill s->desc ("123 points: 41 x 3, 4 replicates"). */
void shoal__scan_describe(shoal_scan *s);

#endif
