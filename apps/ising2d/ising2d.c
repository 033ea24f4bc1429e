/* ising2d: Monte Carlo of the 2D Ising model, one Markov chain per task.
 *
 * H = -sum_<ij> s_i s_j on an L x L square lattice with periodic boundaries
 * (J = 1, k_B = 1, no field): 2 L^2 bonds, each site coupled to its right and
 * lower neighbour. A task runs one chain at temperature T: start, then
 * therm_sweeps sweeps that are thrown away, then meas_sweeps sweeps with one
 * measurement of m = M / L^2 and e = E / L^2 after each. It stores the time
 * averages and the fluctuation quantities built from them. Tasks with the same
 * parameters (replicates) are independent chains, so the scatter between
 * them gives honest error bars whatever the autocorrelation time.
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
 * on any rank count. Each rank keeps one lattice and one cluster stack in its
 * workspace, grown when a task needs a bigger L. */
#include <shoal/shoal.h>

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
    NOUTPUTS
};

/* Task failure codes (stored in /tasks/error). */
enum { FAIL_ALGORITHM = 1, FAIL_START = 2, FAIL_NOMEM = 3 };

/* Per-rank buffers, reused by every task of the rank. */
typedef struct {
    int8_t *spin;   /* L * L spins, site i = y L + x */
    int32_t *stack; /* Wolff: flipped sites whose bonds are still to try */
    size_t cap;     /* sites both arrays hold */
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
    return SHOAL_OK;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [ABS_M] = {.name = "abs_m", .type = SHOAL_FLOAT64,
                   .doc = "<|m|>, m = magnetisation per spin"},
        [M2] = {.name = "m2", .type = SHOAL_FLOAT64, .doc = "<m^2>"},
        [M4] = {.name = "m4", .type = SHOAL_FLOAT64, .doc = "<m^4>"},
        [ENERGY] = {.name = "energy", .type = SHOAL_FLOAT64,
                    .doc = "<e>, e = energy per spin"},
        [E2] = {.name = "e2", .type = SHOAL_FLOAT64, .doc = "<e^2>"},
        [SUSCEPTIBILITY] = {.name = "susceptibility", .type = SHOAL_FLOAT64,
                            .doc = "L^2 (<m^2> - <|m|>^2) / T"},
        [SPECIFIC_HEAT] = {.name = "specific_heat", .type = SHOAL_FLOAT64,
                           .doc = "L^2 (<e^2> - <e>^2) / T^2"},
        [BINDER] = {.name = "binder", .type = SHOAL_FLOAT64,
                    .doc = "1 - <m^4> / (3 <m^2>^2) (of this task's averages)"},
        [ACCEPTANCE] = {.name = "acceptance", .type = SHOAL_FLOAT64,
                        .doc = "metropolis: accepted fraction of spin flips "
                               "(NaN for wolff)"},
        [CLUSTER_SIZE] = {.name = "cluster_size", .type = SHOAL_FLOAT64,
                          .doc = "wolff: mean cluster size in spins (NaN for "
                                 "metropolis)"},
        [UPDATES] = {.name = "updates", .type = SHOAL_INT64,
                     .doc = "updates while measuring: spin-flip attempts "
                            "(metropolis) or clusters (wolff)"},
        [CLUSTERS_PER_SWEEP] = {.name = "clusters_per_sweep",
                                .type = SHOAL_INT64,
                                .doc = "wolff: clusters per measured sweep, "
                                       "fixed while thermalising (0 for "
                                       "metropolis)"},
    };
    static const shoal_param params[] = {
        {.name = "T", .type = SHOAL_FLOAT64, .dflt = "2.269185314213022",
         .doc = "temperature, > 0 (J = k_B = 1; Tc = 2 / ln(1 + sqrt 2) = "
                "2.2691853)",
         .min = 1e-6, .max = 1e6},
        /* The cap keeps L^2 in int32 and a rank's buffers at 1.25 GiB. */
        {.name = "L", .type = SHOAL_INT64, .dflt = "32",
         .doc = "linear size: L x L sites, periodic", .min = 2, .max = 16384},
        {.name = "therm_sweeps", .type = SHOAL_INT64, .dflt = "1000",
         .doc = "sweeps discarded before measuring", .min = 0, .max = 1e15},
        {.name = "meas_sweeps", .type = SHOAL_INT64, .dflt = "10000",
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
    };
    return shoal_main(&app, argc, argv);
}
