# SPDX-License-Identifier: GPL-3.0-or-later
"""Check /reduce and /points of a test_reduce file against numpy.

    check_reduce.py FILE

Recomputes every reduction from /results and /tasks/status the way the
documentation states it (done tasks only; NaN skipped by count, mean and
var; pairwise moments) and compares to 1e-12 relative: the order of
floating-point operations differs from Shoal's tree, so equality is not
expected here (bit-identity between Shoal runs is checked with h5diff). With
a scan, /points is checked point by point, the derived quantities against
their definitions in tests/mpi/test_reduce.c and the jackknife errors
against a direct leave-one-out computation."""
import sys

import h5py
import numpy as np

RTOL = 1e-12


def close(what, got, want, rtol=RTOL, atol=0.0):
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    ok = np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not ok:
        sys.exit(f"{what}: got {got}, want {want}")


def moments(rows):
    """Pairwise merge of (n, mean, M2) rows, in order."""
    n, mean, m2 = 0.0, 0.0, 0.0
    for bn, bmean, bm2 in rows:
        if bn == 0:
            continue
        if n == 0:
            n, mean, m2 = bn, bmean, bm2
            continue
        tot = n + bn
        d = bmean - mean
        mean += d * bn / tot
        m2 += bm2 + d * d * n * bn / tot
        n = tot
    return n, mean, m2


def affine(rows):
    a, b = None, None
    for qa, qb in rows:
        if a is None:
            a, b = qa, qb
        else:
            a, b = a * qa, qa * b + qb
    return (a, b) if a is not None else (np.nan, np.nan)


def expected(res, done):
    """Every field's reduction over the rows selected by `done`."""
    r = {k: res[k][done] for k in res}
    out = {}
    x = r["x"][~np.isnan(r["x"])]
    out["x"] = x.mean() if len(x) else np.nan
    out["xv"] = r["xv"].var(ddof=1) if len(r["xv"]) > 1 else np.nan
    out["xs"] = r["xs"].sum()
    out["xmin"] = r["xmin"].min() if len(r["xmin"]) else np.nan
    out["xmax"] = r["xmax"].max() if len(r["xmax"]) else np.nan
    out["xcount"] = int((~np.isnan(r["xcount"])).sum())
    out["n"] = int(r["n"].sum())
    out["hist"] = r["hist"].sum(axis=0)
    out["mom"] = np.array([moments(r["mom"][:, j, :]) for j in range(2)])
    out["imax"] = int(r["imax"].max()) if len(r["imax"]) else 0
    out["affine"] = affine(r["affine"])
    return out


def check_reductions(where, got_group, want, index=None):
    for k, v in want.items():
        got = got_group[k][()] if index is None else got_group[k][index]
        if k in ("xcount", "n", "hist", "imax"):
            if not np.array_equal(np.asarray(got), np.asarray(v)):
                sys.exit(f"{where}/{k}: got {got}, want {v}")
        elif k == "mom":
            # n exact; mean and M2 to rounding (pairwise vs. Shoal's tree).
            close(f"{where}/{k}", got, v, rtol=1e-10)
        else:
            close(f"{where}/{k}", got, v, rtol=1e-10 if k == "affine" else RTOL)


def main(path):
    with h5py.File(path, "r") as f:
        st = f["tasks/status"][:]
        done = st == 1
        res = {k: f["results"][k][:] for k in f["results"]}
        check_reductions("/reduce", f["reduce"], expected(res, done))
        if f.attrs["tasks_done"] != done.sum():
            sys.exit("tasks_done does not match the done rows")
        if "points" not in f:
            print(f"/reduce matches numpy over {done.sum()} done tasks")
            return
        p = f["points"]
        mu = f["params/mu"][:]
        point = f["tasks/point"][:]
        npts = len(p["replicates"])
        for k in range(npts):
            sel = done & (point == k)
            rows = np.nonzero(point == k)[0]
            if p["params/mu"][k] != mu[rows[0]]:
                sys.exit(f"/points/params/mu[{k}] is not the point's value")
            if p["replicates"][k] != sel.sum():
                sys.exit(f"/points/replicates[{k}] = {p['replicates'][k]}, {sel.sum()} done")
            for name in p["mean"]:
                v = res[name][sel]
                v = v[~np.isnan(v)]
                close(f"/points/mean/{name}[{k}]", p["mean"][name][k],
                      v.mean() if len(v) else np.nan)
                se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
                close(f"/points/stderr/{name}[{k}]", p["stderr"][name][k], se, rtol=1e-9)
            check_reductions(f"/points/reduce[{k}]", p["reduce"], expected(res, sel), k)
            # Derived: offset2 = (<y> - mu)^2, ratio = <xs> / <xv>, from
            # pooled means; jackknife over the done replicates.
            y, xs, xv = res["y"][sel], res["xs"][sel], res["xv"][sel]
            n = len(y)
            m0 = mu[rows[0]]
            f_all = {"offset2": (y.mean() - m0) ** 2, "ratio": xs.mean() / xv.mean()}
            loo_y = (y.sum() - y) / (n - 1)
            loo = {"offset2": (loo_y - m0) ** 2,
                   "ratio": ((xs.sum() - xs) / (n - 1)) / ((xv.sum() - xv) / (n - 1))}
            for name in ("offset2", "ratio"):
                close(f"/points/derived/{name}[{k}]", p["derived"][name][k], f_all[name],
                      rtol=1e-10)
                jk = np.sqrt((n - 1) / n * ((loo[name] - loo[name].mean()) ** 2).sum())
                # An error at rounding level (ratio is exactly 1000 at mu = 0)
                # is compared absolutely, against the value's own scale.
                close(f"/points/derived_err/{name}[{k}]", p["derived_err"][name][k], jk,
                      rtol=1e-6, atol=1e-9 * abs(f_all[name]))
        print(f"/reduce and /points ({npts} points) match numpy")


if __name__ == "__main__":
    main(sys.argv[1])
