/* SPDX-License-Identifier: GPL-3.0-or-later */
/* peaks: find and measure the peaks of a detector frame, one frame per task.
 *
 * The frame comes from the task's input (shoal_input_double on dataset 0:
 * rows x cols pixels, row-major); its name for messages from
 * shoal_input_path. With a file list ([input] files = a glob of *.h5 files,
 * datasets = /image) each task is one file.
 *
 * Per frame:
 *  1. Background and noise, robust to the peaks: the median of all pixels,
 *     and 1.4826 x the median absolute deviation from it (the sd for
 *     Gaussian noise).
 *  2. Candidates: local maxima of the 3x3 neighbourhood above background +
 *     threshold x noise (ties on a plateau give one candidate), the
 *     brightest 2 x MAX_PEAKS kept.
 *  3. Deblending, brightest first, on a residual image (the frame less the
 *     peaks measured so far): a candidate that no longer passes the
 *     threshold once the brighter peaks are subtracted sat on one of them
 *     (a noise bump on its flank) and is dropped; the others are measured
 *     (4) and their Gaussian subtracted. A second pass adds each peak back,
 *     measures it again with its neighbours now subtracted, and subtracts
 *     the new fit: close pairs no longer pull each other's centres.
 *  4. Measurement: a least-squares fit (GSL multifit_nlinear, Levenberg-
 *     Marquardt) of
 *       B + A exp(-((x - x0)^2 + (y - y0)^2) / (2 s^2))
 *     over the (2 window + 1)^2 box around the peak (pixels off the frame
 *     left out), with parameters A, x0, y0, s, B. A fit that shrinks to
 *     s < 0.5 px has found a one-pixel spike (a hot pixel, a cosmic, a noise
 *     spike), which is dropped and counted in `spikes`. If the fit fails
 *     otherwise, does not converge, or gives A <= 0, s > window or a centre
 *     more than 2 px from its candidate pixel, the peak is measured instead
 *     by its intensity-weighted centroid over the 5x5 pixels around it
 *     (sigma from their second moments, amplitude from the peak pixel), and
 *     `fitted` says so.
 *  5. Peaks whose centres lie closer than min_separation are merged (the
 *     brighter kept); the brightest MAX_PEAKS are stored, brightest first.
 *
 * Coordinates: pixel (row i, column j) has its centre at x = j, y = i; x is
 * the column coordinate, y the row coordinate, both in pixels. Amplitude is
 * the peak's height above the background, in the frame's units.
 * apps/peaks/produce_frames.py makes frames with this convention, and
 * apps/peaks/check_peaks.py compares a result file with its truth.
 *
 * A frame smaller than 8 x 8 (a 1-D dataset reads as a single column), or
 * with values that are not finite, fails its task with a message naming the
 * file. The buffers live in the rank's workspace and grow to the largest
 * frame; the fit workspace is made for the first task's window. */
#include <shoal/shoal.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PEAKS 16
#define MAX_CAND (2 * MAX_PEAKS)
#define MIN_SIDE 8
#define MAX_WINDOW 15
#define MAX_SHIFT 2.0   /* px: a fit centre further from its pixel wandered off */
#define MIN_SIGMA 0.5   /* px: a narrower fit is a one-pixel spike, not a peak */
#define MAD_TO_SD 1.4826

enum { NPEAKS, X, Y, AMPLITUDE, SIGMA, FITTED, BACKGROUND, NOISE, CANDIDATES, SPIKES, NOUTPUTS };

/* Codes of failed tasks (stored in /tasks/error). */
enum {
    PEAKS_ESHAPE = 10,  /* smaller than MIN_SIDE x MIN_SIDE */
    PEAKS_EVALUES = 11, /* a value that is not finite */
    PEAKS_ENOMEM = 12
};

enum { NPAR = 5 }; /* A, x0, y0, s, B */

/* One measured peak. */
typedef struct {
    double a, x, y, s, b;
    int ci, cj; /* its candidate pixel */
    int fitted;
} peak;

/* The box a fit sees: values of the residual image (plus the peak itself),
 * with a mask for pixels off the frame. */
typedef struct {
    int w;           /* window */
    int i0, j0;      /* pixel of the box's centre */
    double *val;     /* (2w+1)^2 */
    unsigned char *in;
} fit_box;

typedef struct {
    size_t cap;      /* pixels the buffers hold */
    double *resid;   /* residual image */
    double *scratch; /* for the medians */
    int window;      /* of fit, box; 0: none yet */
    gsl_multifit_nlinear_workspace *fit;
    gsl_vector *p0;
    fit_box box;
} workspace;

/* ---- the model ------------------------------------------------------------ */

static int gauss_f(const gsl_vector *p, void *data, gsl_vector *f)
{
    const fit_box *b = data;
    const double a = gsl_vector_get(p, 0), x0 = gsl_vector_get(p, 1),
                 y0 = gsl_vector_get(p, 2), s = gsl_vector_get(p, 3),
                 bg = gsl_vector_get(p, 4);
    const double k = -0.5 / (s * s);
    const int side = 2 * b->w + 1;
    for (int u = 0; u < side; u++) {
        const double dy = (double)(b->i0 - b->w + u) - y0;
        for (int v = 0; v < side; v++) {
            const int n = u * side + v;
            if (!b->in[n]) {
                gsl_vector_set(f, (size_t)n, 0.0);
                continue;
            }
            const double dx = (double)(b->j0 - b->w + v) - x0;
            gsl_vector_set(f, (size_t)n, a * exp(k * (dx * dx + dy * dy)) + bg - b->val[n]);
        }
    }
    return GSL_SUCCESS;
}

static int gauss_df(const gsl_vector *p, void *data, gsl_matrix *J)
{
    const fit_box *b = data;
    const double a = gsl_vector_get(p, 0), x0 = gsl_vector_get(p, 1),
                 y0 = gsl_vector_get(p, 2), s = gsl_vector_get(p, 3);
    const double s2 = s * s, k = -0.5 / s2;
    const int side = 2 * b->w + 1;
    for (int u = 0; u < side; u++) {
        const double dy = (double)(b->i0 - b->w + u) - y0;
        for (int v = 0; v < side; v++) {
            const size_t n = (size_t)(u * side + v);
            double *row = gsl_matrix_ptr(J, n, 0);
            if (!b->in[n]) {
                memset(row, 0, NPAR * sizeof *row);
                continue;
            }
            const double dx = (double)(b->j0 - b->w + v) - x0;
            const double r2 = dx * dx + dy * dy, e = exp(k * r2), ae = a * e / s2;
            row[0] = e;
            row[1] = ae * dx;
            row[2] = ae * dy;
            row[3] = ae * r2 / s;
            row[4] = 1.0;
        }
    }
    return GSL_SUCCESS;
}

/* ---- the steps ------------------------------------------------------------ */

/* Background (median) and noise (1.4826 x MAD) of n values; scratch holds n. */
static void robust_level(const double *img, size_t n, double *scratch, double *bg,
                         double *noise)
{
    memcpy(scratch, img, n * sizeof *img);
    const double med = gsl_stats_median(scratch, 1, n);
    for (size_t i = 0; i < n; i++)
        scratch[i] = fabs(img[i] - med);
    *bg = med;
    *noise = MAD_TO_SD * gsl_stats_median(scratch, 1, n);
}

/* Local maxima of the 3x3 neighbourhood above level, the brightest first,
 * at most MAX_CAND in cand (as pixel indices). A pixel must exceed its
 * neighbours before it in memory order and equal or exceed those after, so
 * a plateau gives one maximum. Returns how many there were in all. */
static int find_candidates(const double *img, int rows, int cols, double level,
                           int *cand, int *ncand)
{
    int n = 0, all = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            const double v = img[(size_t)i * cols + j];
            if (!(v > level))
                continue;
            int is_max = 1;
            for (int di = -1; di <= 1 && is_max; di++)
                for (int dj = -1; dj <= 1; dj++) {
                    const int ii = i + di, jj = j + dj;
                    if ((di == 0 && dj == 0) || ii < 0 || ii >= rows || jj < 0 || jj >= cols)
                        continue;
                    const double u = img[(size_t)ii * cols + jj];
                    const int before = di < 0 || (di == 0 && dj < 0);
                    if (before ? u >= v : u > v) {
                        is_max = 0;
                        break;
                    }
                }
            if (!is_max)
                continue;
            all++;
            /* Insert into the list sorted by value, brightest first. */
            int k;
            if (n < MAX_CAND) {
                k = n++;
            } else {
                if (!(v > img[cand[MAX_CAND - 1]]))
                    continue;
                k = MAX_CAND - 1; /* the dimmest makes way */
            }
            while (k > 0 && img[cand[k - 1]] < v) {
                cand[k] = cand[k - 1];
                k--;
            }
            cand[k] = i * cols + j;
        }
    *ncand = n;
    return all;
}

/* Subtract (sign -1) or add back (+1) peak p's Gaussian to the residual,
 * out to 4 sigma (at least the window). */
static void apply_peak(double *resid, int rows, int cols, const peak *p, int window,
                       double sign)
{
    const int r = (int)fmax(ceil(4.0 * p->s), (double)window);
    const int i0 = (int)lround(p->y), j0 = (int)lround(p->x);
    const double k = -0.5 / (p->s * p->s);
    for (int i = i0 - r > 0 ? i0 - r : 0; i <= i0 + r && i < rows; i++) {
        const double dy = i - p->y;
        for (int j = j0 - r > 0 ? j0 - r : 0; j <= j0 + r && j < cols; j++) {
            const double dx = j - p->x;
            resid[(size_t)i * cols + j] += sign * p->a * exp(k * (dx * dx + dy * dy));
        }
    }
}

/* Intensity-weighted centroid over the 5x5 pixels around (ci, cj), weights
 * the values above bg; sigma from the second moments. */
static void centroid(const double *resid, int rows, int cols, int ci, int cj, double bg,
                     int window, peak *p)
{
    double sw = 0, sx = 0, sy = 0, sxx = 0;
    for (int i = ci - 2; i <= ci + 2; i++)
        for (int j = cj - 2; j <= cj + 2; j++) {
            if (i < 0 || i >= rows || j < 0 || j >= cols)
                continue;
            const double w = resid[(size_t)i * cols + j] - bg;
            if (w <= 0)
                continue;
            sw += w;
            sx += w * j;
            sy += w * i;
            sxx += w * ((double)j * j + (double)i * i);
        }
    p->a = resid[(size_t)ci * cols + cj] - bg;
    p->b = bg;
    p->fitted = 0;
    if (!(sw > 0)) {
        p->x = cj, p->y = ci, p->s = 1.0;
        return;
    }
    p->x = sx / sw;
    p->y = sy / sw;
    const double var = 0.5 * (sxx / sw - p->x * p->x - p->y * p->y);
    p->s = var > MIN_SIGMA * MIN_SIGMA ? sqrt(var) : MIN_SIGMA;
    if (p->s > window)
        p->s = window;
}

/* Measure peak p (start values in p, candidate pixel p->ci, p->cj) on the
 * residual image, which holds this peak but not the ones measured before.
 * Returns 1 (fitted), 0 (by centroid) or -1: a spike, p unchanged. */
static int measure(workspace *ws, const double *resid, int rows, int cols, double bg,
                    peak *p)
{
    fit_box *b = &ws->box;
    const int w = ws->window, side = 2 * w + 1;
    b->w = w;
    b->i0 = (int)lround(p->y);
    b->j0 = (int)lround(p->x);
    for (int u = 0; u < side; u++)
        for (int v = 0; v < side; v++) {
            const int i = b->i0 - w + u, j = b->j0 - w + v, n = u * side + v;
            b->in[n] = i >= 0 && i < rows && j >= 0 && j < cols;
            b->val[n] = b->in[n] ? resid[(size_t)i * cols + j] : 0.0;
        }
    gsl_vector_set(ws->p0, 0, p->a);
    gsl_vector_set(ws->p0, 1, p->x);
    gsl_vector_set(ws->p0, 2, p->y);
    gsl_vector_set(ws->p0, 3, p->s);
    gsl_vector_set(ws->p0, 4, p->b);
    gsl_multifit_nlinear_fdf fdf = {.f = gauss_f, .df = gauss_df, .fvv = NULL,
                                    .n = (size_t)side * side, .p = NPAR, .params = b};
    int info = 0;
    int st = gsl_multifit_nlinear_init(ws->p0, &fdf, ws->fit);
    if (st == GSL_SUCCESS)
        st = gsl_multifit_nlinear_driver(100, 1e-8, 1e-8, 0.0, NULL, NULL, &info, ws->fit);
    const gsl_vector *q = gsl_multifit_nlinear_position(ws->fit);
    const double a = gsl_vector_get(q, 0), x = gsl_vector_get(q, 1), y = gsl_vector_get(q, 2),
                 s = fabs(gsl_vector_get(q, 3)), bb = gsl_vector_get(q, 4);
    /* Pass 2 starts from pass 1's fit: where the neighbours did not move it,
     * no step improves on the start, and the driver says so this way. */
    const int at_start = st == GSL_EMAXITER && info == GSL_ENOPROG && p->fitted &&
                         gsl_multifit_nlinear_niter(ws->fit) <= 1;
    if ((st == GSL_SUCCESS || at_start) && isfinite(a) && isfinite(bb) && a > 0 && s >= MIN_SIGMA &&
        s <= w && fabs(x - p->cj) <= MAX_SHIFT && fabs(y - p->ci) <= MAX_SHIFT) {
        p->a = a, p->x = x, p->y = y, p->s = s, p->b = bb;
        p->fitted = 1;
        return 1;
    }
    /* A fit that stays put but shrinks below MIN_SIGMA (converged or still
     * shrinking when the iterations ran out) found one bright pixel: a hot
     * pixel, a cosmic or a noise spike, which no optics makes. */
    if (isfinite(a) && a > 0 && s < MIN_SIGMA && fabs(x - p->cj) <= MAX_SHIFT &&
        fabs(y - p->ci) <= MAX_SHIFT)
        return -1;
    centroid(resid, rows, cols, p->ci, p->cj, bg, w, p);
    return 0;
}

/* The fit workspace for a window (the box's pixels are its rows). */
static int ensure_fit(workspace *ws, int window)
{
    if (ws->window == window)
        return 0;
    if (ws->fit)
        gsl_multifit_nlinear_free(ws->fit);
    gsl_vector_free(ws->p0);
    free(ws->box.val);
    free(ws->box.in);
    ws->fit = NULL;
    ws->p0 = NULL;
    ws->box.val = NULL;
    ws->box.in = NULL;
    ws->window = 0;
    const size_t n = (size_t)(2 * window + 1) * (size_t)(2 * window + 1);
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    fp.trs = gsl_multifit_nlinear_trs_lm;
    fp.solver = gsl_multifit_nlinear_solver_cholesky;
    ws->fit = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, n, NPAR);
    ws->p0 = gsl_vector_alloc(NPAR);
    ws->box.val = malloc(n * sizeof *ws->box.val);
    ws->box.in = malloc(n);
    if (!ws->fit || !ws->p0 || !ws->box.val || !ws->box.in)
        return -1;
    ws->window = window;
    return 0;
}

static int ensure_pixels(workspace *ws, size_t n)
{
    if (n <= ws->cap)
        return 0;
    double *r = realloc(ws->resid, n * sizeof *r);
    if (r)
        ws->resid = r;
    double *s = realloc(ws->scratch, n * sizeof *s);
    if (s)
        ws->scratch = s;
    if (!r || !s)
        return -1;
    ws->cap = n;
    return 0;
}

/* The frame's name for messages: its file, or the task. */
static const char *frame_name(shoal_task *t, char *buf, size_t n)
{
    const char *path = shoal_input_path(t);
    if (path)
        return path;
    snprintf(buf, n, "task %llu", (unsigned long long)shoal_task_index(t));
    return buf;
}

static int by_amplitude(const void *a, const void *b)
{
    const peak *p = a, *q = b;
    return (p->a < q->a) - (p->a > q->a);
}

static int peaks_task(shoal_task *t, void *ctx)
{
    (void)ctx;
    workspace *ws = shoal_task_workspace(t);
    const double threshold = shoal_param_double(t, "threshold");
    const long window = shoal_param_long(t, "window");
    const double min_sep = shoal_param_double(t, "min_separation");
    if (shoal_task_failed(t))
        return shoal_task_failed(t);

    uint64_t rows64 = 0, cols64 = 0;
    const double *img = shoal_input_double(t, 0, &rows64, &cols64);
    if (!img)
        return shoal_task_failed(t); /* the framework said why, naming the file */
    char nbuf[32];
    const char *name = frame_name(t, nbuf, sizeof nbuf);
    if (rows64 < MIN_SIDE || cols64 < MIN_SIDE)
        return shoal_task_fail(t, PEAKS_ESHAPE,
                               "input '%s': the frame is %llu x %llu pixels, smaller than "
                               "%d x %d (a 1-D dataset reads as one column)",
                               name, (unsigned long long)rows64, (unsigned long long)cols64,
                               MIN_SIDE, MIN_SIDE);
    if (rows64 > 1u << 15 || cols64 > 1u << 15)
        return shoal_task_fail(t, PEAKS_ESHAPE,
                               "input '%s': the frame is %llu x %llu pixels, larger than "
                               "32768 on a side",
                               name, (unsigned long long)rows64, (unsigned long long)cols64);
    const int rows = (int)rows64, cols = (int)cols64;
    const size_t npix = (size_t)rows * (size_t)cols;
    for (size_t k = 0; k < npix; k++)
        if (!isfinite(img[k]))
            return shoal_task_fail(t, PEAKS_EVALUES,
                                   "input '%s': pixel (row %zu, column %zu) is %g",
                                   name, k / (size_t)cols, k % (size_t)cols, img[k]);
    if (ensure_pixels(ws, npix) < 0 || ensure_fit(ws, (int)window) < 0)
        return shoal_task_fail(t, PEAKS_ENOMEM, "input '%s': out of memory for %zu pixels",
                               name, npix);

    double bg, noise;
    robust_level(img, npix, ws->scratch, &bg, &noise);
    const double level = bg + threshold * noise;
    int cand[MAX_CAND], ncand = 0;
    const int all = find_candidates(img, rows, cols, level, cand, &ncand);

    /* Pass 1, brightest first: drop what the brighter peaks explain. */
    double *resid = ws->resid;
    memcpy(resid, img, npix * sizeof *img);
    peak pk[MAX_CAND];
    int np = 0, spikes = 0;
    for (int c = 0; c < ncand; c++) {
        const int ci = cand[c] / cols, cj = cand[c] % cols;
        if (!(resid[cand[c]] > level))
            continue;
        peak *p = &pk[np];
        *p = (peak){.a = resid[cand[c]] - bg, .x = cj, .y = ci, .s = 1.5, .b = bg,
                    .ci = ci, .cj = cj};
        if (measure(ws, resid, rows, cols, bg, p) < 0) {
            spikes++;
            continue;
        }
        apply_peak(resid, rows, cols, p, ws->window, -1.0);
        np++;
    }
    /* Pass 2: each peak again with its neighbours subtracted. */
    for (int k = 0; k < np; k++) {
        apply_peak(resid, rows, cols, &pk[k], ws->window, +1.0);
        if (measure(ws, resid, rows, cols, bg, &pk[k]) < 0) {
            pk[k].a = -INFINITY; /* sorts last, dropped below */
            spikes++;
            continue;
        }
        apply_peak(resid, rows, cols, &pk[k], ws->window, -1.0);
    }
    /* Merge: of two centres closer than min_separation, keep the brighter. */
    qsort(pk, (size_t)np, sizeof *pk, by_amplitude);
    int kept = 0;
    for (int k = 0; k < np && pk[k].a > -INFINITY; k++) {
        int dup = 0;
        for (int m = 0; m < kept && !dup; m++)
            dup = hypot(pk[k].x - pk[m].x, pk[k].y - pk[m].y) < min_sep;
        if (!dup)
            pk[kept++] = pk[k];
    }
    if (kept > MAX_PEAKS)
        kept = MAX_PEAKS;

    double *ox = shoal_out_double(t, X), *oy = shoal_out_double(t, Y),
           *oa = shoal_out_double(t, AMPLITUDE), *os = shoal_out_double(t, SIGMA);
    int64_t *of = shoal_out_int64(t, FITTED);
    if (!ox || !oy || !oa || !os || !of)
        return shoal_task_failed(t);
    for (int k = 0; k < MAX_PEAKS; k++) {
        const int got = k < kept;
        ox[k] = got ? pk[k].x : NAN;
        oy[k] = got ? pk[k].y : NAN;
        oa[k] = got ? pk[k].a : NAN;
        os[k] = got ? pk[k].s : NAN;
        of[k] = got ? pk[k].fitted : -1;
    }
    shoal_set_int64(t, NPEAKS, kept);
    shoal_set_int64(t, CANDIDATES, all);
    shoal_set_int64(t, SPIKES, spikes);
    shoal_set_double(t, BACKGROUND, bg);
    shoal_set_double(t, NOISE, noise);
    return SHOAL_OK;
}

static void peaks_finalize(void *ctx, void *workspace_)
{
    (void)ctx;
    workspace *ws = workspace_;
    if (!ws)
        return;
    if (ws->fit)
        gsl_multifit_nlinear_free(ws->fit);
    gsl_vector_free(ws->p0);
    free(ws->box.val);
    free(ws->box.in);
    free(ws->resid);
    free(ws->scratch);
    free(ws);
}

static int peaks_init(void *ctx, void **out)
{
    (void)ctx;
    gsl_set_error_handler_off();
    workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return SHOAL_ENOMEM;
    *out = ws;
    return 0;
}

/* Frames done, peaks found, how many were measured by centroid, spikes. */
static int peaks_summary(const shoal_results *res, void *ctx)
{
    (void)ctx;
    enum { BLOCK = 4096 };
    const uint64_t n = shoal_results_ntasks(res);
    int64_t *np = malloc(BLOCK * sizeof *np), *sp = malloc(BLOCK * sizeof *sp),
            *fit = malloc(BLOCK * MAX_PEAKS * sizeof *fit);
    uint8_t *status = malloc(BLOCK);
    int rc = np && sp && fit && status ? 0 : SHOAL_ENOMEM;
    uint64_t frames = 0, found = 0, centroids = 0, full = 0, spikes = 0;
    for (uint64_t start = 0; start < n && rc == 0; start += BLOCK) {
        const uint64_t count = n - start < BLOCK ? n - start : BLOCK;
        rc = shoal_results_read_status(res, start, count, status);
        if (rc == 0)
            rc = shoal_results_read_int64(res, "npeaks", start, count, np);
        if (rc == 0)
            rc = shoal_results_read_int64(res, "spikes", start, count, sp);
        if (rc == 0)
            rc = shoal_results_read_int64(res, "fitted", start, count, fit);
        for (uint64_t k = 0; k < count && rc == 0; k++) {
            if (status[k] != SHOAL_STATUS_DONE)
                continue;
            frames++;
            found += (uint64_t)np[k];
            spikes += (uint64_t)sp[k];
            full += np[k] == MAX_PEAKS;
            for (int m = 0; m < MAX_PEAKS; m++)
                centroids += fit[k * MAX_PEAKS + m] == 0;
        }
    }
    if (rc == 0 && frames > 0) {
        printf("peaks: %llu peaks in %llu frames (%.2f per frame), %llu measured by "
               "centroid after a failed fit, %llu one-pixel spikes dropped",
               (unsigned long long)found, (unsigned long long)frames,
               (double)found / (double)frames, (unsigned long long)centroids,
               (unsigned long long)spikes);
        if (full)
            printf("; %llu frames at the limit of %d peaks", (unsigned long long)full,
                   MAX_PEAKS);
        printf("\n");
    }
    free(np);
    free(sp);
    free(fit);
    free(status);
    return rc;
}

int main(int argc, char **argv)
{
    static const shoal_field outputs[NOUTPUTS] = {
        [NPEAKS] = {.name = "npeaks", .unit = "1", .type = SHOAL_INT64,
                    .doc = "peaks found (at most 16), stored brightest first"},
        [X] = {.name = "x", .unit = "pixel", .type = SHOAL_FLOAT64, .ndims = 1,
               .dims = {MAX_PEAKS},
               .doc = "peak centre along a row: column coordinate, 0 at the centre of "
                      "column 0; NaN past npeaks"},
        [Y] = {.name = "y", .unit = "pixel", .type = SHOAL_FLOAT64, .ndims = 1,
               .dims = {MAX_PEAKS},
               .doc = "peak centre down a column: row coordinate, 0 at the centre of "
                      "row 0; NaN past npeaks"},
        [AMPLITUDE] = {.name = "amplitude", .type = SHOAL_FLOAT64, .ndims = 1,
                       .dims = {MAX_PEAKS},
                       .doc = "peak height above the local background, in the frame's "
                              "units; NaN past npeaks"},
        [SIGMA] = {.name = "sigma", .unit = "pixel", .type = SHOAL_FLOAT64, .ndims = 1,
                   .dims = {MAX_PEAKS},
                   .doc = "Gaussian sigma of the peak; NaN past npeaks"},
        [FITTED] = {.name = "fitted", .unit = "1", .type = SHOAL_INT64, .ndims = 1,
                    .dims = {MAX_PEAKS},
                    .doc = "1: measured by the 2-D Gaussian fit, 0: by the centroid "
                           "(the fit failed or wandered off), -1: past npeaks"},
        [BACKGROUND] = {.name = "background", .type = SHOAL_FLOAT64,
                        .doc = "median of the frame, in the frame's units"},
        [NOISE] = {.name = "noise", .type = SHOAL_FLOAT64,
                   .doc = "1.4826 x median absolute deviation of the frame (the sd of "
                          "Gaussian noise), in the frame's units"},
        [CANDIDATES] = {.name = "candidates", .unit = "1", .type = SHOAL_INT64,
                        .doc = "local maxima above background + threshold x noise, "
                               "before deblending and merging"},
        [SPIKES] = {.name = "spikes", .unit = "1", .type = SHOAL_INT64,
                    .doc = "candidates dropped as one-pixel spikes (a fit narrower "
                           "than 0.5 pixel: hot pixels, cosmics, noise)"},
    };
    static const shoal_param params[] = {
        {.name = "threshold", .unit = "1", .type = SHOAL_FLOAT64, .dflt = "5",
         .doc = "detection level above the background, in units of the noise",
         .min = 0.5, .max = 1e6},
        {.name = "window", .unit = "pixel", .type = SHOAL_INT64, .dflt = "5",
         .doc = "half-width of the fit box, (2 window + 1)^2 pixels; also the "
                "largest sigma a fit may give",
         .min = 2, .max = MAX_WINDOW},
        {.name = "min_separation", .unit = "pixel", .type = SHOAL_FLOAT64, .dflt = "3",
         .doc = "peaks closer than this are merged (the brighter kept)",
         .min = 0, .max = 1000},
    };
    const shoal_app app = {
        .name = "peaks",
        .doc = "Peaks of detector frames: robust background and noise, local maxima "
               "above a threshold,\n2-D Gaussian fits (GSL multifit_nlinear) with "
               "deblending; one frame per task from [input].",
        .run = peaks_task,
        .outputs = outputs,
        .noutputs = NOUTPUTS,
        .params = params,
        .nparams = sizeof params / sizeof params[0],
        .worker_init = peaks_init,
        .worker_finalize = peaks_finalize,
        .summary = peaks_summary,
    };
    return shoal_main(&app, argc, argv);
}
