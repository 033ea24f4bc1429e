/* scan.c: the [scan] and [sampling] sections (grammar in shoal/scan.h) and
 * task -> values.
 *
 * A scan is a list of "axes" walked like nested loops (first axis slowest),
 * then replicates. An axis is either one parameter's value list (grid), all
 * parameters together (zip), or the sample axis of a design; parameters on
 * the sample axis ("design dimensions") take a point u in (0,1)^D from the
 * design and map it through their own inverse CDF. Nothing is tabulated but
 * explicit lists and the LHS permutations, so a 10^9-point grid costs
 * nothing until tasks run.
 *
 * Random draws (random parameters, the random design, LHS jitter) come from
 * Philox keyed by a hash of the run seed, with the sample index as counter:
 * they depend on (seed, point), never on the rank or the order of tasks. */
#include <shoal/error.h>
#include <shoal/rng.h>
#include <shoal/scan.h>

#include "choices.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS ((uint64_t)1 << 62)
#define MAX_LHS_ENTRIES ((uint64_t)1 << 26) /* 256 MiB of permutations */
#define SCAN_DOMAIN 0x5343414eull           /* "SCAN": key of random draws */
#define LHS_DOMAIN 0x4c4853ull              /* "LHS": key of permutations */
#define SAMPLING "sampling"                 /* section of the scan's options */

/* The keys of [sampling]. Before they had a section of their own they were
 * written in [scan], where they hid app parameters of the same name. */
static const char *const option_keys[] = {"design", "samples", "replicates"};
#define NOPTION_KEYS (sizeof option_keys / sizeof option_keys[0])

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

/* The functions of the grammar, as a table. */
static const struct {
    const char *name;
    gen_kind kind;
    int min_args, max_args;
    const char *args; /* for messages */
    int random;       /* drawn, needs `samples` */
} functions[] = {
    {"linspace", GEN_LINSPACE, 3, 3, "start, stop, n", 0},
    {"logspace", GEN_LOGSPACE, 3, 3, "start exponent, stop exponent, n", 0},
    {"geomspace", GEN_GEOMSPACE, 3, 3, "start, stop, n", 0},
    {"range", GEN_RANGE, 2, 3, "start, stop[, step]", 0},
    {"uniform", GEN_UNIFORM, 2, 2, "a, b", 1},
    {"loguniform", GEN_LOGUNIFORM, 2, 2, "a, b", 1},
    {"normal", GEN_NORMAL, 2, 2, "mu, sigma", 1},
};
#define NFUNCTIONS (sizeof functions / sizeof functions[0])

typedef enum {
    DESIGN_GRID,
    DESIGN_ZIP,
    DESIGN_RANDOM,
    DESIGN_LHS,
    DESIGN_SOBOL,
    DESIGN_HALTON
} design_kind;

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

/* ---- helpers ------------------------------------------------------------------ */

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Parse a whole string as a finite number. */
static int parse_num(const char *s, size_t n, double *out)
{
    char buf[128];
    trim(&s, &n);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strpbrk(buf, "xXpP")) /* no hexadecimal */
        return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int is_integral(double v) { return v == floor(v) && fabs(v) < 9007199254740992.0; }

static const char *type_word(shoal_type t)
{
    return t == SHOAL_INT64 ? "an integer" : t == SHOAL_FLOAT64 ? "a number" : "a string";
}

/* ---- parsing one line ------------------------------------------------------------ */

static int parse_call(dim *d, const char *v, size_t open, size_t len)
{
    const char *fname = v;
    size_t fl = open;
    trim(&fname, &fl);
    size_t f;
    for (f = 0; f < NFUNCTIONS; f++)
        if (strlen(functions[f].name) == fl && !strncmp(functions[f].name, fname, fl))
            break;
    if (f == NFUNCTIONS) {
        char known[256] = "";
        size_t kl = 0;
        for (size_t k = 0; k < NFUNCTIONS; k++)
            kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", k ? ", " : "",
                                   functions[k].name);
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: unknown function '%.*s'; known: %s",
                           d->where, d->name, (int)fl, fname, known);
    }
    if (v[len - 1] != ')')
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s: expected ')' at the end of %s(...)",
                           d->where, d->name, functions[f].name);
    double args[4];
    int nargs = 0;
    const char *p = v + open + 1, *end = v + len - 1;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *a = p;
        size_t al = (size_t)(stop - p);
        trim(&a, &al);
        if (al == 0 && !comma && nargs == 0)
            break; /* f() */
        if (nargs >= 4) { /* too many for any function: just count them */
            nargs++;
            if (!comma)
                break;
            p = comma + 1;
            continue;
        }
        if (parse_num(a, al, &args[nargs]) < 0) {
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: argument %d of %s, '%.*s', is not a finite number",
                               d->where, d->name, nargs + 1, functions[f].name, (int)al, a);
        }
        nargs++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (nargs < functions[f].min_args || nargs > functions[f].max_args) {
        char want[32];
        if (functions[f].min_args == functions[f].max_args)
            snprintf(want, sizeof want, "%d", functions[f].min_args);
        else
            snprintf(want, sizeof want, "%d or %d", functions[f].min_args,
                     functions[f].max_args);
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s: %s takes %s arguments (%s), got %d", d->where,
                           d->name, functions[f].name, want, functions[f].args, nargs);
    }
    d->kind = functions[f].kind;
    d->random = functions[f].random;
    d->a = args[0];
    d->b = args[1];
    d->c = nargs > 2 ? args[2] : 1.0;
    const char *fn = functions[f].name;

    switch (d->kind) {
    case GEN_LINSPACE:
    case GEN_LOGSPACE:
    case GEN_GEOMSPACE:
        if (d->c < 1 || !is_integral(d->c))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: %s needs a whole number of values n >= 1, got %g",
                               d->where, d->name, fn, d->c);
        d->n = (uint64_t)d->c;
        if (d->kind == GEN_GEOMSPACE && (d->a <= 0 || d->b <= 0))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: geomspace needs positive bounds, got %g and %g "
                               "(logspace takes exponents: logspace(-3, 0, n) is 0.001 .. 1)",
                               d->where, d->name, d->a, d->b);
        if (d->kind == GEN_LOGSPACE && (fabs(d->a) > 300 || fabs(d->b) > 300))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: logspace takes exponents of 10; %g .. %g is out "
                               "of range (did you mean geomspace(%g, %g, n)?)",
                               d->where, d->name, d->a, d->b, d->a, d->b);
        break;
    case GEN_RANGE: {
        if (nargs == 2)
            d->c = 1;
        if (d->c == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: range step must not be 0",
                               d->where, d->name);
        double span = (d->b - d->a) / d->c;
        if (!(span > 0))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: range(%g, %g, %g) is empty (the stop value is "
                               "excluded, as in Python)",
                               d->where, d->name, d->a, d->b, d->c);
        if (span > 1e15)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: range(%g, %g, %g) has too many values",
                               d->where, d->name, d->a, d->b, d->c);
        /* Stop is excluded, also when rounding puts the last value a hair
         * below it: range(0.3, 0.9, 0.3) is 0.3, 0.6 as written in decimal
         * (numpy's arange would add 0.8999999999999999). */
        uint64_t n = (uint64_t)ceil(span - 1e-9);
        if (n < 1)
            n = 1;
        d->n = n;
        break;
    }
    case GEN_UNIFORM:
        if (!(d->a < d->b))
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: uniform(a, b) needs a < b, got %g, %g",
                               d->where, d->name, d->a, d->b);
        break;
    case GEN_LOGUNIFORM:
        if (!(d->a > 0 && d->a < d->b))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: loguniform(a, b) needs 0 < a < b, got %g, %g",
                               d->where, d->name, d->a, d->b);
        break;
    case GEN_NORMAL:
        if (!(d->b > 0))
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: normal(mu, sigma) needs sigma > 0, got %g",
                               d->where, d->name, d->b);
        break;
    case GEN_LIST:
        break;
    }
    return 0;
}

static int parse_list(dim *d, const char *v, size_t len)
{
    uint64_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += v[i] == ',';
    d->kind = GEN_LIST;
    d->n = n;
    if (d->type == SHOAL_STRING)
        d->strs = calloc(n, sizeof *d->strs);
    else
        d->vals = calloc(n, sizeof *d->vals);
    if (!d->strs && !d->vals)
        return SHOAL_ENOMEM;
    const char *p = v, *end = v + len;
    for (uint64_t k = 0; k < n; k++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *a = p;
        size_t al = (size_t)(stop - p);
        trim(&a, &al);
        if (al == 0)
            return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s: empty value in the list (item %llu)",
                               d->where, d->name, (unsigned long long)k + 1);
        if (d->type == SHOAL_STRING) {
            d->strs[k] = dup_range(a, al);
            if (!d->strs[k])
                return SHOAL_ENOMEM;
            if (al > d->maxlen)
                d->maxlen = al;
        } else if (parse_num(a, al, &d->vals[k]) < 0) {
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: '%.*s' is not a finite number; %s is %s parameter",
                               d->where, d->name, (int)al, a, d->name, type_word(d->type));
        } else if (d->type == SHOAL_INT64 && !is_integral(d->vals[k])) {
            return SHOAL_ERROR(SHOAL_ECONFIG,
                               "%s: [scan] %s: '%.*s' is not an integer; %s is an integer parameter",
                               d->where, d->name, (int)al, a, d->name);
        }
        p = stop + 1;
    }
    return 0;
}

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

/* Parse one "name = value" line of [scan] into d. */
static int parse_dim(dim *d, const char *value)
{
    size_t len = strlen(value);
    trim(&value, &len);
    if (len == 0)
        return SHOAL_ERROR(SHOAL_ECONFIG, "%s: [scan] %s has no value", d->where, d->name);
    const char *open = memchr(value, '(', len);
    int rc = open ? parse_call(d, value, (size_t)(open - value), len) : parse_list(d, value, len);
    if (rc < 0)
        return rc;
    if (d->type == SHOAL_STRING && d->kind != GEN_LIST)
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s is a string parameter: give a list of words, "
                           "e.g. %s = a, b, c",
                           d->where, d->name, d->name);
    return 0;
}

/* ---- values ------------------------------------------------------------------------- */

/* Value i of a finite dimension (not a list). */
static double finite_value(const dim *d, uint64_t i)
{
    double t = d->n > 1 ? (double)i / (double)(d->n - 1) : 0.0;
    if (i == 0 && d->kind != GEN_LIST && d->kind != GEN_LOGSPACE)
        return d->a; /* exactly the start, not exp(log(a)) */
    switch (d->kind) {
    case GEN_LINSPACE:
        return i + 1 == d->n && d->n > 1 ? d->b : d->a + (d->b - d->a) * t;
    case GEN_LOGSPACE:
        return pow(10.0, i + 1 == d->n && d->n > 1 ? d->b : d->a + (d->b - d->a) * t);
    case GEN_GEOMSPACE:
        return i + 1 == d->n && d->n > 1 ? d->b : exp(log(d->a) + (log(d->b) - log(d->a)) * t);
    case GEN_RANGE:
        return d->a + (double)i * d->c;
    case GEN_LIST:
        return d->vals[i];
    default:
        return NAN;
    }
}

/* Clamp v into the interval spanned by a and b (rounding in exp/log must
 * not step outside the bounds a user gave). */
static double clamp_ab(double v, double a, double b)
{
    double lo = a < b ? a : b, hi = a < b ? b : a;
    return v < lo ? lo : v > hi ? hi : v;
}

/* Value of a design dimension at coordinate u in (0,1). */
static double design_value(const dim *d, double u)
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
        return finite_value(d, i < d->n ? i : d->n - 1);
    }
    case GEN_NORMAL:
        return d->a + d->b * gsl_cdf_ugaussian_Pinv(u);
    default:
        return NAN;
    }
}

static void set_value(const dim *d, double v, shoal_scan_value *out)
{
    out->d = v;
    out->l = d->type == SHOAL_INT64 ? (int64_t)llround(v) : 0;
    out->s = NULL;
}

/* Coordinates of sample j of the design into s->u. */
static void design_point(shoal_scan *s, uint64_t j)
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
                set_value(d, finite_value(d, idx), &vals[di]);
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
                        set_value(d, finite_value(d, idx), &vals[k]);
                    }
                }
        }
    }
    if (s->nddims > 0) {
        design_point(s, sample);
        for (size_t k = 0; k < s->ndims; k++)
            if (s->dims[k].ddim >= 0)
                set_value(&s->dims[k], design_value(&s->dims[k], s->u[s->dims[k].ddim]), &vals[k]);
    }
    return 0;
}

/* ---- building ------------------------------------------------------------------------ */

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

/* Integer parameters take integral values only: check what a dimension can
 * produce in its role. */
static int check_integer(const dim *d)
{
    if (d->type != SHOAL_INT64)
        return 0;
    if (d->ddim >= 0) {
        if (d->kind == GEN_RANGE && is_integral(d->a) && is_integral(d->c) &&
            is_integral(d->a + (double)(d->n - 1) * d->c))
            return 0;
        return SHOAL_ERROR(SHOAL_ECONFIG,
                           "%s: [scan] %s is an integer parameter, but this design samples it "
                           "continuously; use range(start, stop, step) with whole numbers",
                           d->where, d->name);
    }
    switch (d->kind) {
    case GEN_LIST:
        return 0;
    case GEN_RANGE:
        if (is_integral(d->a) && is_integral(d->c) &&
            is_integral(d->a + (double)(d->n - 1) * d->c))
            return 0;
        break;
    case GEN_LINSPACE:
        if (is_integral(d->a) && is_integral(d->b) &&
            (d->n == 1 || is_integral((d->b - d->a) / (double)(d->n - 1))))
            return 0;
        break;
    default:
        break;
    }
    return SHOAL_ERROR(SHOAL_ECONFIG,
                       "%s: [scan] %s is an integer parameter, but its values are not all "
                       "whole numbers; use a list or range() with whole numbers",
                       d->where, d->name);
}

static int mul_points(uint64_t *acc, uint64_t n)
{
    if (n != 0 && *acc > MAX_POINTS / n)
        return -1;
    *acc *= n;
    return 0;
}

static const shoal_param *find_param(const shoal_param *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(params[i].name, name))
            return &params[i];
    return NULL;
}

static int is_option_key(const char *key)
{
    for (size_t k = 0; k < NOPTION_KEYS; k++)
        if (!strcmp(key, option_keys[k]))
            return 1;
    return 0;
}

/* Read one key of [sampling]; 1 if key is an option. */
static int read_option(shoal_scan *s, const char *key, const char *value, const char *where,
                       int *rc, const char **design_where, const char **samples_where,
                       const char **replicates_where)
{
    double v;
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
        if (parse_num(value, strlen(value), &v) < 0 || !is_integral(v) || v < 1 || v > 1e15)
            *rc = SHOAL_ERROR(SHOAL_ECONFIG, "%s: [sampling] %s = '%s' must be a whole number >= 1",
                              where, key, value);
        else if (key[0] == 's') {
            s->samples = (uint64_t)v;
            *samples_where = where;
        } else {
            s->replicates = (uint64_t)v;
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

static int build_axes(shoal_scan *s, const char *design_where, const char *samples_where)
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

static int init_design(shoal_scan *s, uint64_t seed, const char *design_where)
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

static void describe(shoal_scan *s)
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
        if (!p && is_option_key(key)) {
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
        rc = parse_dim(d, value);
    }
    /* [sampling]: the scan's options, and nothing else. */
    size_t noptions = shoal_config_section_size(cfg, SAMPLING);
    for (size_t i = 0; i < noptions && rc == 0; i++) {
        const char *key, *value, *where;
        shoal_config_section_entry(cfg, SAMPLING, i, &key, &value, &where);
        if (read_option(s, key, value, where, &rc, &design_where, &samples_where,
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
        rc = build_axes(s, design_where, samples_where);
    for (size_t i = 0; i < s->ndims && rc == 0; i++)
        rc = check_integer(&s->dims[i]);
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
            double first = d->kind == GEN_LIST ? d->vals[0] : finite_value(d, 0);
            double last = d->kind == GEN_LIST ? d->vals[n - 1] : finite_value(d, n - 1);
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
        rc = init_design(s, seed, design_where);
    }
    if (rc < 0) {
        shoal_scan_free(s);
        return rc;
    }
    if (s->ndims == 0)
        s->points = 1, s->tasks = s->replicates;
    describe(s);
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
