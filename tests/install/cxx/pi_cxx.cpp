// SPDX-License-Identifier: GPL-3.0-or-later
// pi_cxx: a Shoal app written in C++, built by tests/install (cxx/CMakeLists.txt, and mpicxx) against an
// installed Shoal (CMake find_package and mpicxx with pkg-config). Each task
// draws `samples` points in the unit square into a std::vector, counts those
// inside the quarter circle with the standard algorithms, and keeps a
// histogram of the squared radius (an int64 array field, summed over the
// run) and the moments of the per-point indicator. A task whose estimate is
// further than 0.5 from pi fails, so "0 failed" in the run's summary says
// every task computed something sensible.
#include <shoal/shoal.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

enum { HITS, PI, FRACTION, RADIUS_HIST, NOUTPUTS };
constexpr std::size_t kBins = 4; // radius^2 in [0, 2), bins of 0.5

int pi_task(shoal_task *t, void *)
{
    const long n = shoal_param_long(t, "samples");
    gsl_rng *r = shoal_task_rng(t);
    std::vector<double> r2(static_cast<std::size_t>(n));
    std::generate(r2.begin(), r2.end(), [r] {
        const double x = gsl_rng_uniform(r), y = gsl_rng_uniform(r);
        return x * x + y * y;
    });
    const auto hits = std::count_if(r2.begin(), r2.end(), [](double d) { return d < 1.0; });

    std::array<std::int64_t, kBins> hist{};
    shoal_moments inside{};
    for (double d : r2) {
        hist[std::min(kBins - 1, static_cast<std::size_t>(d / 0.5))]++;
        shoal_moments_add(&inside, d < 1.0 ? 1.0 : 0.0);
    }
    std::copy(hist.begin(), hist.end(), shoal_out_int64(t, RADIUS_HIST));

    const double pi = 4.0 * static_cast<double>(hits) / static_cast<double>(n);
    shoal_set_int64(t, HITS, hits);
    shoal_set_double(t, PI, pi);
    shoal_set_double(t, FRACTION, inside.mean);
    return std::fabs(pi - std::acos(-1.0)) < 0.5 ? SHOAL_OK : 1;
}

shoal_field field(const char *name, shoal_type type, shoal_reduce reduce, const char *doc)
{
    shoal_field f{};
    f.name = name;
    f.type = type;
    f.reduce = reduce;
    f.doc = doc;
    return f;
}

} // namespace

int main(int argc, char **argv)
{
    std::array<shoal_field, NOUTPUTS> outputs{};
    outputs[HITS] = field("hits", SHOAL_INT64, SHOAL_REDUCE_SUM, "points inside the quarter circle");
    outputs[PI] = field("pi", SHOAL_FLOAT64, SHOAL_REDUCE_MEAN, "this task's estimate");
    outputs[FRACTION] = field("fraction", SHOAL_FLOAT64, SHOAL_REDUCE_MEAN,
                              "fraction of points inside, from shoal_moments");
    outputs[RADIUS_HIST] = field("radius_hist", SHOAL_INT64, SHOAL_REDUCE_SUM,
                                 "points per bin of radius^2 (width 0.5)");
    outputs[RADIUS_HIST].ndims = 1;
    outputs[RADIUS_HIST].dims[0] = kBins;

    shoal_param samples{};
    samples.name = "samples";
    samples.type = SHOAL_INT64;
    samples.dflt = "10000";
    samples.doc = "points drawn per task";
    samples.min = 1;
    samples.max = 1e9;

    shoal_app app{};
    app.name = "pi_cxx";
    app.doc = "Estimate pi by Monte Carlo (a Shoal app in C++).";
    app.run = pi_task;
    app.outputs = outputs.data();
    app.noutputs = outputs.size();
    app.params = &samples;
    app.nparams = 1;
    return shoal_main(&app, argc, argv);
}
