/* SPDX-License-Identifier: GPL-3.0-or-later */
/* crossing.h: where D(T) = U_L2(T) - U_L1(T) changes sign, from its values
 * at a few temperatures; the one estimator ising_tc applies to the full
 * sample and to every bootstrap resample alike (crossing.c explains it). */
#ifndef ISING_TC_CROSSING_H
#define ISING_TC_CROSSING_H

#include <stddef.h>

typedef enum {
    CROSSING_FOUND = 0,
    CROSSING_ABOVE,  /* D > 0 at every temperature: Tc above the range */
    CROSSING_BELOW,  /* D <= 0 at every temperature: Tc below the range */
    CROSSING_UPWARD, /* D changes sign, but only from - to +: not a Binder
                        crossing (noise, or not Ising data) */
    CROSSING_TOO_FEW /* fewer than 2 temperatures */
} crossing_kind;

typedef struct {
    size_t lo, hi;   /* the fit window: temperatures lo .. hi - 1 */
    size_t changes;  /* downward sign changes of D seen (1 for clean data) */
    double t_lin;    /* linear interpolation at the chosen sign change */
    double scale;    /* half-width of the window around t_lin (fit units) */
} crossing_window;

/* From the full sample's D at n ascending temperatures T: picks the sign
 * change from + to - (the steepest if there are several) and the window of
 * the fit_points (>= 2) temperatures nearest it. Returns CROSSING_FOUND and
 * fills *w, or why there is no crossing (*w then undefined). NaN values of
 * D never make a sign change. */
crossing_kind crossing_window_find(const double *T, const double *D, size_t n,
                                   size_t fit_points, crossing_window *w);

/* Coefficients the fit uses over window w: 2 (a line) for 2 or 3
 * temperatures, 3 (a parabola) from 4. */
size_t crossing_fit_terms(const crossing_window *w);

/* The crossing temperature of D over window w: the root of the polynomial
 * fitted to D[w->lo .. w->hi - 1] by ordinary least squares, nearest
 * w->t_lin. NaN when the polynomial has no real root there. fit (NULL: not
 * wanted) gets the fitted values at the window's temperatures,
 * fit[0] for T[w->lo]. */
double crossing_fit(const double *T, const double *D, const crossing_window *w,
                    double *fit);

#endif
