#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plot the Binder cumulants U(T) of an ising_tc analysis, one curve per
lattice size with its bootstrap band, and the crossings of each pair of
sizes with their bootstrap errors.

    build/apps/ising2d/ising2d configs/ising_tc_test.ini
    build/apps/ising_tc/ising_tc configs/ising_tc_analysis.ini
    /usr/bin/python3 scripts/plot_ising_tc.py ising_tc.h5      # writes ising_tc.png

The crossings are computed as the app's summary computes them
(apps/ising_tc/crossing.c): the window of `fit_points` temperatures nearest
the steepest fall of U_L2 - U_L1 through 0, fixed from the full sample, a
least-squares parabola over it (a line for 2 or 3 temperatures), its root
nearest the linear interpolation; the error is the standard deviation of
the same over the bootstrap resamples. Needs h5py, numpy and matplotlib
(Debian: python3-h5py python3-numpy python3-matplotlib).
"""
import argparse
import sys

import h5py
import numpy as np

ONSAGER_TC = 2.0 / np.log(1.0 + np.sqrt(2.0))


def read_points(path):
    """The done points of an ising_tc file: T, L, U, U_boot [n, resamples],
    and the file's resamples and fit_points."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("app") not in ("ising_tc", b"ising_tc"):
            sys.exit(f"plot_ising_tc: '{path}' was not written by ising_tc "
                     f"(app = {f.attrs.get('app')!r})")
        params = f["params"].attrs
        # int64 attributes (text in files from before constants were typed)
        nb = int(params["resamples"])
        fit_points = int(params["fit_points"])
        r = f["results"]
        done = f["tasks/status"][:] == 1
        T, L, U = r["T"][:], r["L"][:], r["U"][:]
        boot = r["U_boot"][:, :nb]
    keep = done & np.isfinite(U)
    return T[keep], L[keep], U[keep], boot[keep], nb, fit_points


def crossing_window(T, D, fit_points):
    """(lo, hi, t_lin, scale, changes) for D at ascending T, or a string
    saying why there is no crossing."""
    n = len(T)
    if n < 2:
        return f"{n} temperature{'' if n == 1 else 's'} run at both sizes, 2 needed"
    falls = [i for i in range(n - 1) if D[i] > 0 and D[i + 1] <= 0]
    if not falls:
        if np.all(D > 0):
            return "U_L2 > U_L1 at every T (Tc above the range?)"
        if any(D[i] <= 0 and D[i + 1] > 0 for i in range(n - 1)):
            return "U_L2 - U_L1 changes sign only from - to +"
        return "U_L2 <= U_L1 at every T (Tc below the range?)"
    i = falls[0]
    for j in falls:
        if D[j] - D[j + 1] > D[i] - D[i + 1]:
            i = j
    t_lin = T[i] + (T[i + 1] - T[i]) * D[i] / (D[i] - D[i + 1])
    lo, hi = i, i + 2
    while hi - lo < max(fit_points, 2) and (lo > 0 or hi < n):
        if lo > 0 and (hi == n or t_lin - T[lo - 1] <= T[hi] - t_lin):
            lo -= 1
        else:
            hi += 1
    scale = max(t_lin - T[lo], T[hi - 1] - t_lin)
    return lo, hi, t_lin, scale, len(falls)


def crossing_fit(T, D, window):
    """The root nearest t_lin of the least-squares polynomial over the window."""
    lo, hi, t_lin, scale, _ = window
    x = (T[lo:hi] - t_lin) / scale
    deg = 2 if hi - lo >= 4 else 1
    c = np.polyfit(x, D[lo:hi], deg)          # highest power first
    roots = np.roots(c)
    roots = roots[np.abs(roots.imag) < 1e-12].real if deg == 2 else roots.real
    if len(roots) == 0 or not np.all(np.isfinite(c)):
        return np.nan
    return t_lin + scale * roots[np.argmin(np.abs(roots))]


def crossings(T, L, U, boot, fit_points):
    """{(L1, L2): (Tc, error, resamples used) or a reason string}."""
    out = {}
    sizes = np.unique(L)
    for a, L1 in enumerate(sizes):
        for L2 in sizes[a + 1:]:
            common = np.intersect1d(T[L == L1], T[L == L2])
            i1 = np.array([np.flatnonzero((L == L1) & (T == t))[0] for t in common], int)
            i2 = np.array([np.flatnonzero((L == L2) & (T == t))[0] for t in common], int)
            D = U[i2] - U[i1]
            w = crossing_window(common, D, fit_points)
            if isinstance(w, str):
                out[(int(L1), int(L2))] = w
                continue
            tc = crossing_fit(common, D, w)
            tb = np.array([crossing_fit(common, boot[i2, s] - boot[i1, s], w)
                           for s in range(boot.shape[1])])
            tb = tb[np.isfinite(tb)]
            err = tb.std(ddof=1) if len(tb) > 1 else np.nan
            out[(int(L1), int(L2))] = (tc, err, len(tb))
    return out


def main():
    ap = argparse.ArgumentParser(
        description="Plot U(T) per lattice size with its bootstrap band and the "
                    "Binder cumulant crossings, from an ising_tc result file.")
    ap.add_argument("input", help="the result file of ising_tc (e.g. ising_tc.h5)")
    ap.add_argument("-o", "--output", help="the PNG to write (default: the input "
                    "with .png in place of .h5)")
    ap.add_argument("--fit-points", type=int, help="temperatures in each crossing's "
                    "fit (default: the file's [ising_tc] fit_points)")
    args = ap.parse_args()
    out = args.output or (args.input[:-3] if args.input.endswith(".h5")
                          else args.input) + ".png"

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T, L, U, boot, nb, fit_points = read_points(args.input)
    fit_points = args.fit_points or fit_points
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for size in np.unique(L):
        s = np.flatnonzero(L == size)
        s = s[np.argsort(T[s])]
        lo, hi = np.percentile(boot[s], [16, 84], axis=1)
        line, = ax.plot(T[s], U[s], "o-", ms=4, label=f"L = {size}")
        ax.fill_between(T[s], lo, hi, color=line.get_color(), alpha=0.25, lw=0)
    ax.axvline(ONSAGER_TC, ls=":", c="k", label=f"Onsager Tc = {ONSAGER_TC:.5f}")
    for (L1, L2), c in crossings(T, L, U, boot, fit_points).items():
        if isinstance(c, str):
            print(f"plot_ising_tc: L = {L1}, {L2}: no crossing: {c}")
            continue
        tc, err, used = c
        print(f"plot_ising_tc: L = {L1}, {L2}: Tc = {tc:.6f} +- {err:.6f} "
              f"({(tc - ONSAGER_TC) / err:+.2f} errors from Onsager's)")
        ax.axvspan(tc - err, tc + err, color="grey", alpha=0.2, lw=0)
        ax.axvline(tc, c="grey", lw=1, label=f"crossing {L1}/{L2}: {tc:.4f} +- {err:.4f}")
    ax.set_xlabel("T")
    ax.set_ylabel("U = 1 - <m^4> / (3 <m^2>^2)")
    ax.set_title(f"Binder cumulants, bands: 16-84% of {nb} bootstrap resamples")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"plot_ising_tc: wrote {out}")


if __name__ == "__main__":
    main()
