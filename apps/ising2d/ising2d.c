/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ising2d: Monte Carlo of the 2D Ising model, one Markov chain per task.
 *
 * H = -sum_<ij> s_i s_j on an L x L square lattice with periodic boundaries
 * (J = 1, k_B = 1, no field): 2 L^2 bonds, each site coupled to its right and
 * lower neighbour. A task runs one chain at temperature T: start, then
 * therm_sweeps sweeps that are thrown away, then meas_sweeps sweeps with one
 * measurement of m = M / L^2 and e = E / L^2 after each. It stores the time
 * averages (raw moments <|m|>, <m^2>, <m^4>, <e>, <e^2>), the fluctuation
 * quantities built from them, and the integrated autocorrelation times of
 * |m| and e. Tasks with the same parameters (replicates) are independent
 * chains, so the scatter between them gives honest error bars whatever the
 * autocorrelation time.
 *
 * Pooling. Susceptibility, specific heat and Binder cumulant are nonlinear
 * functions of averages: formed from one chain of n measurements they are
 * biased by about -2 tau_int / n (relative; a variance from n correlated
 * values), and averaging many such chains does not remove it (at Tc, L = 64,
 * Metropolis, 2000 sweeps: mean per-chain C 1.79 +- 0.05, exact 2.19). So the
 * per-task susceptibility, specific_heat and binder are documented as
 * per-chain values, and with a [scan] the same three are declared as derived
 * quantities (/points/derived/...) formed from the moments pooled over the
 * point's replicates, whose bias is R times smaller for R replicates; the
 * framework gives them a jackknife error over replicates. tau_abs_m and
 * tau_energy show when chains are too short for the per-chain values.
 *
 * Autocorrelation time: Sokal's windowed estimator, tau = 1/2 + sum_{t=1}^{W}
 * rho(t) with the smallest window W >= 6 tau(W) (Madras & Sokal 1988), rho
 * from the autocovariance computed by FFT (zero-padded, so not circular),
 * with Wolff's correction for the bias of the subtracted mean.
 * In sweeps, with the convention Var(mean of n) = 2 tau var / n. The series
 * of |m| and e are kept in the rank's workspace, at most TAU_SERIES_MAX
 * values each: a longer chain stores means of blocks of b measurements (b a
 * power of two, doubled by averaging neighbours whenever the buffer fills),
 * and tau = b tau_b var_b / var from the block series' tau_b and variance
 * var_b, which keeps Var(mean) = 2 tau var / n (tau is then resolved to
 * about b sweeps). The estimate needs meas_sweeps >> tau itself: at L = 32,
 * Tc, Metropolis, 1000 sweeps, the mean per-chain tau_abs_m was 58 while the
 * scatter of the replicates' <|m|> implies 135. A tau_* above ~1/50 of
 * meas_sweeps means a chain too short for the per-chain fluctuation
 * quantities and for its own tau.
 *
 * What a sweep is: Metropolis, L^2 single-spin attempts at random sites (see
 * metropolis_sweep for why not typewriter order).
 * Wolff, a fixed number n_c of cluster flips, n_c = L^2 / (mean cluster
 * size) rounded, at least 1, with the mean cluster size taken over the second
 * half of the thermalisation (where each sweep flips clusters until >= L^2
 * spins have flipped); n_c = 1 when therm_sweeps = 0. It is stored as
 * clusters_per_sweep. A sweep so costs about L^2 spin flips for both
 * algorithms at every T, and therm_sweeps / meas_sweeps mean the same thing
 * across a temperature scan (counting single clusters would make a high-T
 * run, clusters of a few spins, do almost nothing). n_c must be fixed while
 * measuring: measuring whenever the flipped spins reach L^2 would measure at
 * a time that depends on the state (it stops after large clusters more
 * often), and that biases every average (by 8% in <|m|> at L = 4, Tc).
 *
 * The start: "ordered" (default) sets every spin to the same sign, drawn from
 * the task's stream; "random" draws each spin. Ordered is the default because
 * below Tc a random start under Metropolis can freeze into stripe domains that
 * wrap around the torus and live for a very long time, while an ordered start
 * relaxes within a few autocorrelation times at any T (Wolff handles both).
 *
 * All randomness comes from shoal_task_rng, so every task's chain is the same
 * on any rank count. Each rank keeps one lattice, one cluster stack and the
 * measurement series in its workspace, grown when a task needs more. */
#include <shoal/shoal.h>

#include <gsl/gsl_fft_halfcomplex.h>
#include <gsl/gsl_fft_real.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    ABS_M,
    M2,
    M4,
    ENERGY,
    E2,
    SUSCEPTIBILITY,
    SPECIFIC_HEAT,
    BINDER,
    ACCEPTANCE,
    CLUSTER_SIZE,
    UPDATES,
    CLUSTERS_PER_SWEEP,
    TAU_ABS_M,
    TAU_ENERGY,
    NOUTPUTS
};

/* Measurements of each series kept for the autocorrelation time (a power of
 * two; 64 Ki doubles, plus an FFT buffer of twice that). */
#define TAU_SERIES_MAX ((size_t)1 << 16)
/* Sokal's window: the smallest W with W >= TAU_WINDOW_C tau(W). */
#define TAU_WINDOW_C 6.0

/* Task failure codes (stored in /tasks/error). */
enum { FAIL_ALGORITHM = 1, FAIL_START = 2, FAIL_NOMEM = 3 };

/* Per-rank buffers, reused by every task of the rank. */
typedef struct {
    int8_t *spin;   /* L * L spins, site i = y L + x */
    int32_t *stack; /* Wolff: flipped sites whose bonds are still to try */
    size_t cap;     /* sites both arrays hold */
    double *ser_m;  /* series of |m| (block means) */
    double *ser_e;  /* series of e (block means) */
    size_t ser_cap; /* values each series holds */
    double *fft;    /* autocovariance by FFT: fft_cap doubles */
    size_t fft_cap;
} workspace;

static int ws_init(void *ctx, void **out)
{
    (void)ctx;
    *out = calloc(1, sizeof(workspace));
    return *out ? 0 : SHOAL_ENOMEM;
}

static void ws_finalize(void *ctx, void *p)
{
    (void)ctx;
    workspace *w = p;
    if (!w)
        return;
    free(w->spin);
    free(w->stack);
    free(w->ser_m);
    free(w->ser_e);
    free(w->fft);
    free(w);
}

/* Grow both arrays to n sites; cap only grows when both succeeded. */
static int ws_reserve(workspace *w, size_t n)
{
    if (n <= w->cap)
        return 0;
    int8_t *s = realloc(w->spin, n);
    if (!s)
        return -1;
    w->spin = s;
    int32_t *st = realloc(w->stack, n * sizeof *st);
    if (!st)
        return -1;
    w->stack = st;
    w->cap = n;
    return 0;
}

/* Grow the series buffers to nser values each and the FFT buffer to nfft;
 * the caps only grow when all succeeded. */
static int ws_reserve_series(workspace *w, size_t nser, size_t nfft)
{
    if (nser > w->ser_cap) {
        double *a = realloc(w->ser_m, nser * sizeof *a);
        if (!a)
            return -1;
        w->ser_m = a;
        double *b = realloc(w->ser_e, nser * sizeof *b);
        if (!b)
            return -1;
        w->ser_e = b;
        w->ser_cap = nser;
    }
    if (nfft > w->fft_cap) {
        double *f = realloc(w->fft, nfft * sizeof *f);
        if (!f)
            return -1;
        w->fft = f;
        w->fft_cap = nfft;
    }
    return 0;
}

/* ---- integrated autocorrelation time --------------------------------------- */

/* A measurement series kept as means of blocks of `block` measurements, at
 * most cap (even) of them; the measurements since the last full block wait
 * in partial. */
typedef struct {
    double *x;
    size_t count, cap;
    uint64_t block, npartial;
    double partial;
} series;

static void series_push(series *s, double v)
{
    s->partial += v;
    if (++s->npartial < s->block)
        return;
    if (s->count == s->cap) {
        /* Full: pairs of blocks become blocks of twice the size. The
         * partial now holds half a new block and keeps filling. */
        for (size_t i = 0; i < s->cap / 2; i++)
            s->x[i] = 0.5 * (s->x[2 * i] + s->x[2 * i + 1]);
        s->count = s->cap / 2;
        s->block *= 2;
        return;
    }
    s->x[s->count++] = s->partial / (double)s->block;
    s->partial = 0;
    s->npartial = 0;
}

/* Sokal's windowed integrated autocorrelation time of the series, in units
 * of measurements: var is the variance (1/n) of the raw measurements, buf
 * holds nfft doubles, nfft a power of two >= 2 count. NaN when the
 * measurements did not vary or fewer than 2 blocks were kept. When the
 * window does not close before count / 2 (a chain far too short for its
 * tau), the estimate at that window is returned: then it is of the order of
 * the chain length / 12 or more, and only a lower bound. */
static double series_tau(const series *s, double var, double *buf, size_t nfft)
{
    size_t n = s->count;
    if (!(var > 0) || n < 2)
        return NAN;
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += s->x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        buf[i] = s->x[i] - mean;
    memset(buf + n, 0, (nfft - n) * sizeof *buf);
    /* |FFT|^2, back: buf[t] = sum_i y_i y_{i+t} (zero padding to >= 2n
     * keeps the wrap-around out). Half-complex order: real parts in
     * 0..nfft/2, imaginary parts of k in nfft - k. */
    gsl_fft_real_radix2_transform(buf, 1, nfft);
    buf[0] *= buf[0];
    buf[nfft / 2] *= buf[nfft / 2];
    for (size_t k = 1; k < nfft / 2; k++) {
        double re = buf[k], im = buf[nfft - k];
        buf[k] = re * re + im * im;
        buf[nfft - k] = 0;
    }
    gsl_fft_halfcomplex_radix2_inverse(buf, 1, nfft);
    double c0 = buf[0] / (double)n;
    if (!(c0 > 0))
        return NAN;
    double tau = 0.5;
    size_t W = 0;
    while (++W < n / 2) {
        tau += buf[W] / (double)(n - W) / c0;
        if ((double)W >= TAU_WINDOW_C * tau)
            break;
    }
    if (W == n / 2)
        W--; /* the window did not close */
    /* Subtracting the series' own mean lowers every autocovariance by about
     * Var(mean) = 2 tau c0 / n, so the sum over the window by (2 W + 1)
     * times that: -12 tau / n relative. Add it back (U. Wolff, Comput.
     * Phys. Commun. 156 (2004) 143, eq. 49). */
    double d = 2.0 * tau * c0 / (double)n;
    tau = (2.0 * tau * c0 + (2.0 * (double)W + 1.0) * d) / (2.0 * (c0 + d));
    /* Blocks of b of the N measurements: Var(mean) = 2 tau_b c0 / (N / b)
     * must equal 2 tau var / N, so tau = b tau_b c0 / var (tau_b when
     * b = 1). */
    return s->block == 1 ? tau : (double)s->block * tau * c0 / var;
}

/* E = -sum_i s_i (s_right(i) + s_down(i)), recomputed from scratch: O(L^2),
 * cheaper than a sweep, and it cannot drift. */
static int64_t lattice_energy(const int8_t *s, int L)
{
    int64_t E = 0;
    for (int y = 0; y < L; y++) {
        const int8_t *row = s + (size_t)y * (size_t)L;
        const int8_t *down = s + (size_t)((y + 1) % L) * (size_t)L;
        int64_t acc = 0;
        for (int x = 0; x < L - 1; x++)
            acc += row[x] * (row[x + 1] + down[x]);
        acc += row[L - 1] * (row[0] + down[L - 1]);
        E -= acc;
    }
    return E;
}

/* The four neighbours of site i (right, left, down, up) on the torus. For
 * L = 2 right and left (down and up) coincide: two bonds, as in the energy. */
static inline void neighbours(int32_t i, int L, int32_t N, int32_t nb[4])
{
    int32_t x = i % L;
    nb[0] = x == L - 1 ? i - (L - 1) : i + 1;
    nb[1] = x == 0 ? i + (L - 1) : i - 1;
    nb[2] = i + L >= N ? i + L - N : i + L;
    nb[3] = i < L ? i + N - L : i - L;
}

/* One Metropolis sweep: N attempts, each at a site drawn uniformly. w[k] =
 * exp(-4 k beta) is the acceptance of a flip costing dE = 4 k; flips with
 * dE <= 0 are always made. Random sites rather than typewriter order: with
 * dE <= 0 flips forced, a typewriter sweep is not ergodic on small tori. At
 * L = 2 it can cycle through dE = 0 states for ever without a draw, and at
 * L = 3, T = 2.5 it gave <|m|> 0.0013 (6 SE) above exact enumeration from an
 * ordered start. A random site makes every single flip possible at every
 * step, so the chain is irreducible (and aperiodic) on every lattice. *M is
 * kept up to date; returns the accepted flips. */
static int64_t metropolis_sweep(int8_t *s, int L, int32_t N, const double w[3],
                                gsl_rng *r, int64_t *M)
{
    int64_t accepted = 0;
    for (int32_t k = 0; k < N; k++) {
        int32_t i = (int32_t)gsl_rng_uniform_int(r, (unsigned long)N), nb[4];
        neighbours(i, L, N, nb);
        /* s_i h_i in {-4, -2, 0, 2, 4}; the flip costs dE = 2 s_i h_i. */
        int sh = s[i] * (s[nb[0]] + s[nb[1]] + s[nb[2]] + s[nb[3]]);
        if (sh <= 0 || gsl_rng_uniform(r) < w[sh / 2]) {
            s[i] = (int8_t)-s[i];
            *M += 2 * s[i];
            accepted++;
        }
    }
    return accepted;
}

/* One Wolff cluster: seed a random site, grow through aligned neighbours with
 * probability padd = 1 - exp(-2 beta) per bond, flipping each site as it joins
 * (so it is never added twice and the stack never holds more than N sites).
 * Returns the cluster size. */
static int64_t wolff_cluster(int8_t *s, int L, int32_t N, double padd,
                             int32_t *stack, gsl_rng *r, int64_t *M)
{
    int32_t seed = (int32_t)gsl_rng_uniform_int(r, (unsigned long)N);
    int8_t old = s[seed];
    s[seed] = (int8_t)-old;
    stack[0] = seed;
    int32_t top = 1;
    int64_t size = 1;
    while (top > 0) {
        int32_t i = stack[--top], nb[4];
        neighbours(i, L, N, nb);
        for (int k = 0; k < 4; k++) {
            int32_t j = nb[k];
            if (s[j] == old && gsl_rng_uniform(r) < padd) {
                s[j] = (int8_t)-old;
                stack[top++] = j;
                size++;
            }
        }
    }
    *M -= 2 * old * size;
    return size;
}

typedef struct {
    int8_t *s;
    int32_t *stack;
    int L;
    int32_t N;
    int wolff;
    double w[3];  /* Metropolis acceptance table */
    double padd;  /* Wolff bond probability */
    gsl_rng *r;
    int64_t M;    /* current total magnetisation */
    int64_t work; /* accepted flips (Metropolis) or cluster sizes (Wolff) */
    int64_t updates; /* attempts (Metropolis) or clusters (Wolff) */
} chain;

/* One sweep. Wolff: ncl clusters, or with ncl = 0 (thermalisation only)
 * clusters until at least N spins have flipped. */
static void sweep(chain *c, int64_t ncl)
{
    if (!c->wolff) {
        c->work += metropolis_sweep(c->s, c->L, c->N, c->w, c->r, &c->M);
        c->updates += c->N;
        return;
    }
    int64_t flipped = 0;
    for (int64_t k = 0; ncl ? k < ncl : flipped < c->N; k++) {
        flipped += wolff_cluster(c->s, c->L, c->N, c->padd, c->stack, c->r,
                                 &c->M);
        c->updates++;
    }
    c->work += flipped;
}

static int ising_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    double T = shoal_param_double(t, "T");
    int L = (int)shoal_param_long(t, "L");
    long therm = shoal_param_long(t, "therm_sweeps");
    long meas = shoal_param_long(t, "meas_sweeps");
    const char *alg = shoal_param_string(t, "algorithm");
    const char *start = shoal_param_string(t, "start");

    chain c = {.L = L, .N = (int32_t)L * L};
    if (!strcmp(alg, "wolff"))
        c.wolff = 1;
    else if (strcmp(alg, "metropolis"))
        return shoal_task_fail(t, FAIL_ALGORITHM,
                               "algorithm = '%s': expected wolff or metropolis",
                               alg);
    int ordered = !strcmp(start, "ordered");
    if (!ordered && strcmp(start, "random"))
        return shoal_task_fail(t, FAIL_START,
                               "start = '%s': expected ordered or random", start);

    workspace *ws = shoal_task_workspace(t);
    if (ws_reserve(ws, (size_t)c.N))
        return shoal_task_fail(t, FAIL_NOMEM, "no memory for a %d x %d lattice",
                               L, L);
    /* Series of min(meas, TAU_SERIES_MAX) values (the cap is even, as
     * series_push needs), FFT over a power of two >= twice that. */
    size_t nser = (uint64_t)meas < TAU_SERIES_MAX ? (size_t)meas : TAU_SERIES_MAX;
    size_t nfft = 2;
    while (nfft < 2 * nser)
        nfft *= 2;
    if (ws_reserve_series(ws, nser, nfft))
        return shoal_task_fail(t, FAIL_NOMEM,
                               "no memory for %zu measurements", nser);
    c.s = ws->spin;
    c.stack = ws->stack;
    c.r = shoal_task_rng(t);

    double beta = 1.0 / T;
    c.w[0] = 1.0;
    c.w[1] = exp(-4.0 * beta);
    c.w[2] = exp(-8.0 * beta);
    c.padd = -expm1(-2.0 * beta);

    if (ordered) {
        int8_t s0 = gsl_rng_uniform(c.r) < 0.5 ? 1 : -1;
        memset(c.s, s0, (size_t)c.N); /* int8_t -1 is the byte 0xff */
        c.M = (int64_t)s0 * c.N;
    } else {
        c.M = 0;
        for (int32_t i = 0; i < c.N; i++) {
            c.s[i] = gsl_rng_uniform(c.r) < 0.5 ? 1 : -1;
            c.M += c.s[i];
        }
    }

    /* Thermalise; Wolff counts its clusters over the second half to fix n_c. */
    for (long k = 0; k < therm; k++) {
        if (k == therm / 2)
            c.work = c.updates = 0;
        sweep(&c, 0);
    }
    int64_t ncl = 1;
    if (c.wolff && therm > 0) {
        /* N / mean cluster size (here c.work / c.updates), rounded. */
        ncl = llround((double)c.N * (double)c.updates / (double)c.work);
        if (ncl < 1)
            ncl = 1;
    }

    c.work = c.updates = 0;
    double sum_am = 0, sum_m2 = 0, sum_m4 = 0, sum_e = 0, sum_e2 = 0;
    series sm = {.x = ws->ser_m, .cap = nser, .block = 1};
    series se = {.x = ws->ser_e, .cap = nser, .block = 1};
    shoal_moments vm = {0}, ve = {0}; /* variances of |m| and e */
    for (long k = 0; k < meas; k++) {
        sweep(&c, ncl);
        double m = (double)c.M / c.N;
        double e = (double)lattice_energy(c.s, L) / c.N;
        double mm = m * m;
        sum_am += fabs(m);
        sum_m2 += mm;
        sum_m4 += mm * mm;
        sum_e += e;
        sum_e2 += e * e;
        series_push(&sm, fabs(m));
        series_push(&se, e);
        shoal_moments_add(&vm, fabs(m));
        shoal_moments_add(&ve, e);
    }

    double n = (double)meas, N = (double)c.N;
    double am = sum_am / n, m2 = sum_m2 / n, m4 = sum_m4 / n;
    double e = sum_e / n, e2 = sum_e2 / n;
    shoal_set_double(t, ABS_M, am);
    shoal_set_double(t, M2, m2);
    shoal_set_double(t, M4, m4);
    shoal_set_double(t, ENERGY, e);
    shoal_set_double(t, E2, e2);
    shoal_set_double(t, SUSCEPTIBILITY, N * (m2 - am * am) / T);
    shoal_set_double(t, SPECIFIC_HEAT, N * (e2 - e * e) / (T * T));
    /* m2 = 0 only when every measurement had M = 0 (tiny L at high T). */
    shoal_set_double(t, BINDER, m2 > 0 ? 1.0 - m4 / (3.0 * m2 * m2) : NAN);
    if (c.wolff)
        shoal_set_double(t, CLUSTER_SIZE, (double)c.work / (double)c.updates);
    else
        shoal_set_double(t, ACCEPTANCE, (double)c.work / (double)c.updates);
    shoal_set_int64(t, UPDATES, c.updates);
    shoal_set_int64(t, CLUSTERS_PER_SWEEP, c.wolff ? ncl : 0);
    shoal_set_double(t, TAU_ABS_M,
                     series_tau(&sm, vm.m2 / vm.n, ws->fft, nfft));
    shoal_set_double(t, TAU_ENERGY,
                     series_tau(&se, ve.m2 / ve.n, ws->fft, nfft));
    return SHOAL_OK;
}

/* ---- pooled quantities (per scan point) ------------------------------------ */

/* mean[] holds the point's pooled raw moments; T and L are the point's. The
 * same formulas as the per-chain outputs, applied once to moments averaged
 * over all the point's replicates. */
static double pooled_susceptibility(shoal_task *t, const double *mean,
                                    void *ctx)
{
    (void)ctx;
    double N = (double)shoal_param_long(t, "L");
    N *= N;
    return N * (mean[M2] - mean[ABS_M] * mean[ABS_M]) /
           shoal_param_double(t, "T");
}

static double pooled_specific_heat(shoal_task *t, const double *mean,
                                   void *ctx)
{
    (void)ctx;
    double N = (double)shoal_param_long(t, "L"), T = shoal_param_double(t, "T");
    N *= N;
    return N * (mean[E2] - mean[ENERGY] * mean[ENERGY]) / (T * T);
}

static double pooled_binder(shoal_task *t, const double *mean, void *ctx)
{
    (void)t;
    (void)ctx;
    return mean[M2] > 0 ? 1.0 - mean[M4] / (3.0 * mean[M2] * mean[M2]) : NAN;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [ABS_M] = {.name = "abs_m", .unit = "1", .type = SHOAL_FLOAT64,
                   .doc = "<|m|>, m = magnetisation per spin"},
        [M2] = {.name = "m2", .unit = "1", .type = SHOAL_FLOAT64, .doc = "<m^2>"},
        [M4] = {.name = "m4", .unit = "1", .type = SHOAL_FLOAT64, .doc = "<m^4>"},
        [ENERGY] = {.name = "energy", .unit = "J", .type = SHOAL_FLOAT64,
                    .doc = "<e>, e = energy per spin"},
        [E2] = {.name = "e2", .unit = "J2", .type = SHOAL_FLOAT64, .doc = "<e^2>"},
        [SUSCEPTIBILITY] = {.name = "susceptibility", .unit = "k_B/J", .type = SHOAL_FLOAT64,
                            .doc = "L^2 (<m^2> - <|m|>^2) / T of this chain "
                                   "(relative bias ~ -2 tau_abs_m / meas_sweeps; "
                                   "pooled: /points/derived)"},
        [SPECIFIC_HEAT] = {.name = "specific_heat", .unit = "k_B", .type = SHOAL_FLOAT64,
                           .doc = "L^2 (<e^2> - <e>^2) / T^2 of this chain "
                                  "(relative bias ~ -2 tau_energy / meas_sweeps; "
                                  "pooled: /points/derived)"},
        [BINDER] = {.name = "binder", .unit = "1", .type = SHOAL_FLOAT64,
                    .doc = "1 - <m^4> / (3 <m^2>^2) of this chain (biased for "
                           "short chains; pooled: /points/derived)"},
        [ACCEPTANCE] = {.name = "acceptance", .unit = "1", .type = SHOAL_FLOAT64,
                        .doc = "metropolis: accepted fraction of spin flips "
                               "(NaN for wolff)"},
        [CLUSTER_SIZE] = {.name = "cluster_size", .unit = "1", .type = SHOAL_FLOAT64,
                          .doc = "wolff: mean cluster size in spins (NaN for "
                                 "metropolis)"},
        [UPDATES] = {.name = "updates", .unit = "1", .type = SHOAL_INT64,
                     .doc = "updates while measuring: spin-flip attempts "
                            "(metropolis) or clusters (wolff)"},
        [CLUSTERS_PER_SWEEP] = {.name = "clusters_per_sweep", .unit = "sweep-1",
                                .type = SHOAL_INT64,
                                .doc = "wolff: clusters per measured sweep, "
                                       "fixed while thermalising (0 for "
                                       "metropolis)"},
        [TAU_ABS_M] = {.name = "tau_abs_m", .unit = "sweeps", .type = SHOAL_FLOAT64,
                       .doc = "integrated autocorrelation time of |m| in "
                              "sweeps (Sokal window W >= 6 tau; NaN if |m| "
                              "never changed or meas_sweeps = 1)"},
        [TAU_ENERGY] = {.name = "tau_energy", .unit = "sweeps", .type = SHOAL_FLOAT64,
                        .doc = "integrated autocorrelation time of e in sweeps "
                               "(Sokal window W >= 6 tau; NaN if e never "
                               "changed or meas_sweeps = 1)"},
    };
    /* With a [scan]: the fluctuation quantities from the moments pooled over
     * each point's replicates (see the design note). */
    static const shoal_derived derived[] = {
        {.name = "susceptibility", .unit = "k_B/J",
         .doc = "L^2 (<m^2> - <|m|>^2) / T from the point's pooled moments",
         .fn = pooled_susceptibility},
        {.name = "specific_heat", .unit = "k_B",
         .doc = "L^2 (<e^2> - <e>^2) / T^2 from the point's pooled moments",
         .fn = pooled_specific_heat},
        {.name = "binder", .unit = "1",
         .doc = "1 - <m^4> / (3 <m^2>^2) from the point's pooled moments",
         .fn = pooled_binder},
    };
    static const shoal_param params[] = {
        {.name = "T", .unit = "J/k_B", .type = SHOAL_FLOAT64, .dflt = "2.269185314213022",
         .doc = "temperature, > 0 (J = k_B = 1; Tc = 2 / ln(1 + sqrt 2) = "
                "2.2691853)",
         .min = 1e-6, .max = 1e6},
        /* The cap keeps L^2 in int32 and a rank's buffers at 1.25 GiB. */
        {.name = "L", .unit = "1", .type = SHOAL_INT64, .dflt = "32",
         .doc = "linear size: L x L sites, periodic", .min = 2, .max = 16384},
        {.name = "therm_sweeps", .unit = "sweeps", .type = SHOAL_INT64, .dflt = "1000",
         .doc = "sweeps discarded before measuring", .min = 0, .max = 1e15},
        {.name = "meas_sweeps", .unit = "sweeps", .type = SHOAL_INT64, .dflt = "10000",
         .doc = "sweeps measured, one measurement after each", .min = 1,
         .max = 1e15},
        {.name = "algorithm", .type = SHOAL_STRING, .dflt = "wolff",
         .doc = "wolff (a sweep: the clusters that flip ~L^2 spins) or "
                "metropolis (a sweep: L^2 attempts at random sites)",
         .choices = "wolff|metropolis"},
        {.name = "start", .type = SHOAL_STRING, .dflt = "ordered",
         .doc = "ordered (all spins one sign, drawn) or random",
         .choices = "ordered|random"},
    };
    const shoal_app app = {
        .name = "ising2d",
        .doc = "2D Ising model on an L x L periodic square lattice (J = 1, no "
               "field) by Wolff\nor Metropolis Monte Carlo: every task is one "
               "independent chain at temperature T.",
        .run = ising_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .worker_init = ws_init,
        .worker_finalize = ws_finalize,
        .derived = derived,
        .nderived = sizeof derived / sizeof derived[0],
    };
    return shoal_main(&app, argc, argv);
}
