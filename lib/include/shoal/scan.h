/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Parameter scans: the [scan] and [sampling] sections of a config, task
 * index -> values.
 *
 * [scan] has one line per scanned app parameter, and nothing else:
 *
 *   T = linspace(1.5, 3.5, 41)    n values from a to b, ends included
 *   h = logspace(-3, 0, 10)       10^a .. 10^b, n values
 *   g = geomspace(0.001, 1, 10)   a .. b geometrically, a, b > 0
 *   k = range(0, 100, 5)          start, start+step, ... < stop
 *   L = 16, 32, 64                explicit values (numbers or words)
 *   x = uniform(0, 1)             random draws: `samples` of them
 *   y = loguniform(1e-3, 1)       a, b > 0
 *   z = normal(0, 2.5)            sigma > 0
 *
 * [sampling] (optional) holds the scan's options, so that they never collide
 * with parameter names (mc_pi scans its own parameter `samples`):
 *
 *   design = grid                 grid | zip | random | lhs | sobol | halton
 *   samples = 100                 points of random draws / of the design
 *   replicates = 4                runs of every point, each its own stream
 *
 * Any other key in [sampling] is an error. So is [sampling] without [scan]
 * (an empty [scan] with replicates = N runs one point N times). A line
 * design, samples or replicates in [scan] that is not a parameter of the
 * app is the old spelling: an error that says to move it to [sampling].
 *
 * Designs. grid (the default): the cartesian product of every value list,
 * first line varying slowest; random parameters add one axis of `samples`
 * draws. zip: all parameters advance together, all of the same length.
 * random, lhs, sobol, halton: `samples` points of a design over every ranged
 * or random parameter (ranges as intervals: linspace and logspace as
 * continuous uniform and log-uniform, range() as its discrete values),
 * crossed with the explicit lists. lhs is a Latin hypercube (one point per
 * stratum per dimension, permutations by gsl_ran_shuffle); sobol and halton
 * come from gsl_qrng (at most 40 and 1229 dimensions).
 *
 * Task t is point t / replicates, replicate t % replicates. Values are
 * computed on demand from the index (mixed radix for grids), so memory does
 * not grow with the number of points, except for lhs (4 bytes per sample and
 * dimension). Random draws are keyed by (seed, point), never by rank.
 *
 * A scan object is not thread-safe (sobol/halton keep a cursor); use one per
 * rank. */
#ifndef SHOAL_SCAN_H
#define SHOAL_SCAN_H

#include <shoal/config.h>
#include <shoal/export.h>
#include <shoal/types.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct shoal_scan shoal_scan;

/* One parameter's value for a task; the member matching its type is set. */
typedef struct {
    int64_t l;
    double d;
    const char *s; /* owned by the scan */
} shoal_scan_value;

/* Build the scan described by `section` of cfg (usually "scan"), with the
 * options of section [sampling], for an app with these parameters. Every
 * error names file:line and returns SHOAL_ECONFIG. A missing section gives
 * a scan of one point and no dimensions, or an error if [sampling] exists.
 * Reads (marks used) every entry of both sections. */
SHOAL_API int shoal_scan_create(shoal_config *cfg, const char *section,
                                const shoal_param *params, size_t nparams,
                                uint64_t seed, shoal_scan **out);
SHOAL_API void shoal_scan_free(shoal_scan *s);

SHOAL_API uint64_t shoal_scan_points(const shoal_scan *s);
SHOAL_API uint64_t shoal_scan_replicates(const shoal_scan *s);
/* points * replicates (checked against overflow at creation). */
SHOAL_API uint64_t shoal_scan_tasks(const shoal_scan *s);
/* Scanned parameters, in the order of the [scan] section. */
SHOAL_API size_t shoal_scan_ndims(const shoal_scan *s);
SHOAL_API const char *shoal_scan_name(const shoal_scan *s, size_t dim);
SHOAL_API shoal_type shoal_scan_type(const shoal_scan *s, size_t dim);
/* Longest string value of a string dimension (for fixed-length storage). */
SHOAL_API size_t shoal_scan_strlen(const shoal_scan *s, size_t dim);
/* Human-readable description: "41 x 3 grid, 4 replicates". */
SHOAL_API const char *shoal_scan_describe(const shoal_scan *s);

/* Values of task `task` (< shoal_scan_tasks): vals[d] for every dimension,
 * and its point and replicate. */
SHOAL_API int shoal_scan_task(shoal_scan *s, uint64_t task, uint64_t *point,
                              uint64_t *replicate, shoal_scan_value *vals);

#ifdef __cplusplus
}
#endif

#endif
