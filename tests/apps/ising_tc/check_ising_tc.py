#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check_ising_tc.py SCAN ANALYSIS SUMMARY K [L1 L2]

Checks an ising_tc result file ANALYSIS against the ising2d scan SCAN it
read, and the summary table ising_tc printed (SUMMARY, its stdout):

- per point: T, L, the done replicates and U = 1 - <m4> / (3 <m2>^2)
  recomputed with numpy from SCAN (U to 1e-12);
- U_boot: `resamples` numbers, NaN after them; U_err their standard
  deviation; U_err against the jackknife error of U, within [0.8, 1.2]
  (a bootstrap of n replicates is sqrt((n-1)/n) of the jackknife on
  average, 0.968 for 16, and 1000 resamples fix it to ~2%: a resampling
  that drew n - 4 or 2n replicates would be 13% or 29% off);
- the summary's table: one row per pair of sizes, each equal (Tc to 1e-9,
  error to 1e-6 relative) to the crossing scripts/plot_ising_tc.py computes
  from ANALYSIS, or the same "no crossing" verdict;
- with L1 L2: their crossing exists and |Tc - Onsager| <= K errors.
Exit 0 pass, 1 fail.
"""
import importlib.util
import os
import re
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "plot_ising_tc", os.path.join(here, "..", "..", "..", "scripts", "plot_ising_tc.py"))
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)


def main():
    scan_path, ana_path, summary_path, k = sys.argv[1:5]
    k = float(k)
    pair = tuple(int(x) for x in sys.argv[5:7]) if len(sys.argv) >= 7 else None

    with h5py.File(scan_path, "r") as s:
        sT, sL = s["params/T"][:], s["params/L"][:]
        m2, m4 = s["results/m2"][:], s["results/m4"][:]
        sdone = s["tasks/status"][:] == 1
        spoint = s["tasks/point"][:]
    with h5py.File(ana_path, "r") as f:
        r = f["results"]
        T, L, U, Uerr = r["T"][:], r["L"][:], r["U"][:], r["U_err"][:]
        reps, boot = r["replicates"][:], r["U_boot"][:]
        nb = f["params"].attrs["resamples"]
        check(isinstance(nb, np.integer), f"constant resamples is not an integer: {nb!r}")
        nb = int(nb)
        status = f["tasks/status"][:]
    check(np.all(status == 1), f"not every point done: {status}")

    # Per point, against the scan.
    ratios = []
    for p in range(len(U)):
        rows = np.flatnonzero((spoint == p) & sdone)
        check(len(rows) == reps[p], f"point {p}: {reps[p]} replicates, scan has {len(rows)}")
        check(np.all(sT[rows] == T[p]) and np.all(sL[rows] == L[p]),
              f"point {p}: T, L = {T[p]}, {L[p]} not the scan's")
        a, b = m4[rows], m2[rows]
        n = len(rows)
        u = 1 - a.mean() / (3 * b.mean() ** 2)
        check(abs(U[p] - u) <= 1e-12, f"point {p}: U = {U[p]!r}, numpy {u!r}")
        bt = boot[p, :nb]
        check(np.all(np.isfinite(bt)), f"point {p}: U_boot has non-numbers in its first {nb}")
        check(np.all(np.isnan(boot[p, nb:])), f"point {p}: U_boot not NaN after {nb}")
        sd = bt.std(ddof=1)
        check(abs(Uerr[p] - sd) <= 1e-12 * sd, f"point {p}: U_err {Uerr[p]!r}, sd {sd!r}")
        uj = 1 - ((a.sum() - a) / (n - 1)) / (3 * ((b.sum() - b) / (n - 1)) ** 2)
        jk = np.sqrt((n - 1) / n * ((uj - uj.mean()) ** 2).sum())
        ratios.append(Uerr[p] / jk)
    ratios = np.array(ratios)
    print(f"bootstrap / jackknife error of U per point: {np.round(ratios, 3)}")
    check(np.all((ratios >= 0.8) & (ratios <= 1.2)), "bootstrap error off the jackknife's")

    # The summary's table against the same estimator in Python.
    rows = {}
    row_re = re.compile(r"^ising_tc:\s+(\d+)\s+(\d+)\s+(.*)$")
    with open(summary_path) as fh:
        for line in fh:
            m = row_re.match(line)
            if m:
                rows[(int(m.group(1)), int(m.group(2)))] = m.group(3)
    Tp, Lp, Up, bp, _, fit_points = plot.read_points(ana_path)
    want = plot.crossings(Tp, Lp, Up, bp, fit_points)
    check(set(rows) == set(want), f"summary pairs {sorted(rows)}, expected {sorted(want)}")
    for key, c in want.items():
        text = rows.get(key, "")
        if isinstance(c, str):
            check(text.startswith("no crossing") and c in text,
                  f"L = {key}: expected no crossing ({c}), summary: {text}")
            continue
        tc, err, used = c
        fields = text.split()
        try:
            ctc, cerr, cz = float(fields[0]), float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            check(False, f"L = {key}: cannot read the summary row: {text}")
            continue
        # The summary prints 6 decimals; compare what it printed.
        check(abs(ctc - tc) <= 5e-7 + 1e-9, f"L = {key}: summary Tc {ctc}, Python {tc}")
        check(abs(cerr - err) <= 5e-7 + 1e-6 * err, f"L = {key}: summary error {cerr}, Python {err}")
        check(used == nb, f"L = {key}: {nb - used} resamples without a root")
        z = (tc - plot.ONSAGER_TC) / err
        check(abs(cz - z) <= 0.006, f"L = {key}: summary deviation {cz}, Python {z:.3f}")
        print(f"L = {key}: Tc = {tc:.6f} +- {err:.6f}, {z:+.2f} errors from Onsager's "
              f"{plot.ONSAGER_TC:.6f}")

    if pair is not None:
        c = want.get(pair)
        if not isinstance(c, tuple):
            check(False, f"L = {pair}: no crossing ({c})")
        else:
            z = (c[0] - plot.ONSAGER_TC) / c[1]
            check(abs(z) <= k, f"L = {pair}: Tc {c[0]:.6f} is {z:+.2f} errors from "
                  f"Onsager's {plot.ONSAGER_TC:.6f}, bound {k}")
    for msg in failures:
        print("check_ising_tc: FAIL:", msg, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
