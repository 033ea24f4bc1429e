#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check a shoal-stats result file against numpy on the input data.

    check_stats.py RESULT.h5 DATA.h5 BINS DATASET[=LO:HI] ...

For every dataset (a given LO:HI: the range it was run with; none: auto),
column by column, from /reduce/<name>_*: the count of numbers, NaN count,
min, max, histogram and below/above counts must equal numpy's exactly; the
mean and the sample variance (M2 / (count - 1)) to 1e-12 relative; the
range recorded in /reduce/<name>_range must be the given one or, for auto,
the column's finite min and max (widened by 0.5 when they are equal, as
numpy.histogram does). The mean and variance of a column with infinities
are not checked (they are inf or NaN). Values are compared as float64, as shoal-stats reads
them. Exit 0 when everything agrees; otherwise one line per difference and
exit 1.
"""
import sys

import h5py
import numpy as np

REL = 1e-12


def main():
    result, data, bins = sys.argv[1], sys.argv[2], int(sys.argv[3])
    bad = []
    with h5py.File(result, "r") as r, h5py.File(data, "r") as d:
        if r.attrs["state"] != "complete":
            sys.exit(f"check_stats: {result} is {r.attrs['state']}, not complete")
        for spec in sys.argv[4:]:
            name, _, given = spec.partition("=")
            name = "/" + name.lstrip("/")
            base = name[1:].replace("/", "_")
            x = d[name][...].astype(np.float64)
            if x.ndim == 1:
                x = x[:, None]
            red = {k: r["reduce/" + base + "_" + k][...] for k in
                   ("moments", "min", "max", "hist", "outside", "nan", "range")}
            for c in range(x.shape[1]):
                col = x[:, c]
                num = col[~np.isnan(col)]
                fin = num[np.isfinite(num)]
                where = f"{name}[{c}]"
                if given:
                    lo, hi = (float(v) for v in given.split(":"))
                elif fin.size == 0:
                    lo, hi = 0.0, 1.0
                else:
                    lo, hi = float(fin.min()), float(fin.max())
                    if lo == hi:
                        lo, hi = lo - 0.5, hi + 0.5
                n, mean, m2 = red["moments"][c]

                def exact(what, got, want):
                    if not np.array_equal(np.asarray(got), np.asarray(want)):
                        bad.append(f"{where} {what}: shoal-stats {got}, numpy {want}")

                def close(what, got, want):
                    if not abs(got - want) <= REL * abs(want):
                        bad.append(f"{where} {what}: shoal-stats {got!r}, numpy {want!r} "
                                   f"(relative difference {abs(got - want) / abs(want):.3g})")

                exact("range", list(red["range"][c]), [lo, hi])
                exact("count", n, num.size)
                exact("NaN count", red["nan"][c], col.size - num.size)
                exact("min", red["min"][c], num.min() if num.size else np.inf)
                exact("max", red["max"][c], num.max() if num.size else -np.inf)
                hist, _ = np.histogram(num, bins=bins, range=(lo, hi))
                exact("histogram", red["hist"][c], hist)
                exact("below/above", list(red["outside"][c]),
                      [int((num < lo).sum()), int((num > hi).sum())])
                if num.size > 1 and fin.size == num.size:   # infinities: mean, std not checked
                    close("mean", mean, num.mean())
                    close("variance", m2 / (n - 1), num.var(ddof=1))
    for line in bad[:20]:
        print("check_stats:", line)
    if bad:
        sys.exit(f"check_stats: {len(bad)} difference(s) from numpy in {result}")
    print(f"check_stats: {result} agrees with numpy ({len(sys.argv) - 4} datasets)")


if __name__ == "__main__":
    main()
