#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of runs that [run] stop_when ended (adapt_cases.sh).

  check_adapt.py verify FILE FIELD LIMIT BLOCK
      the decision, recomputed from the file's own values: tasks 0..used-1
      are all finished, used is a multiple of BLOCK (or the task count), and
      sem(FIELD) over the done tasks of 0..used-1 is below LIMIT there and at
      no earlier block end.
  check_adapt.py same A B [FIELD...]
      A and B used the same tasks with the same results: tasks_used,
      stop_reason, status and every /results field (or the FIELDs named)
      over 0..used-1, and /reduce, are identical (rows beyond used may
      differ: which of them ran depends on the schedule).
Exit 0 when it holds, 1 with a message when not."""
import sys

import h5py
import numpy as np


def sem(x):
    x = x[np.isfinite(x)]
    return np.sqrt(np.var(x, ddof=1) / len(x)) if len(x) > 1 else np.nan


def verify(path, field, limit, block):
    with h5py.File(path, "r") as f:
        used = int(f.attrs["tasks_used"])
        n = int(f.attrs["ntasks"])
        st = f["tasks/status"][:]
        x = f["results/" + field][:].astype(float)
    assert 0 < used <= n, used
    assert used % block == 0 or used == n, (used, block)
    assert np.isin(st[:used], (1, 2)).all(), "a task of the used prefix is not finished"
    x = np.where(st == 1, x, np.nan)
    assert sem(x[:used]) < limit, (used, sem(x[:used]), limit)
    for b in range(block, used, block):
        assert not sem(x[:b]) < limit, ("the condition held earlier", b, sem(x[:b]))
    print(f"{path}: used {used} of {n}, sem({field}) = {sem(x[:used]):.6g} < {limit}")


def same(a, b, fields=None):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for k in ("tasks_used", "stop_reason", "ntasks", "seed"):
            assert fa.attrs[k] == fb.attrs[k], (k, fa.attrs[k], fb.attrs[k])
        used = int(fa.attrs["tasks_used"])
        assert (fa["tasks/status"][:used] == fb["tasks/status"][:used]).all(), "status"
        for k in fields or fa["results"]:
            ra, rb = fa["results"][k][:used], fb["results"][k][:used]
            assert np.array_equal(ra, rb, equal_nan=ra.dtype.kind == "f"), k
        if "reduce" in fa:
            for k in fa["reduce"]:
                ra, rb = fa["reduce"][k][()], fb["reduce"][k][()]
                assert np.array_equal(ra, rb, equal_nan=True), ("reduce", k, ra, rb)
    print(f"{a} and {b}: the same {used} tasks, the same results")


if __name__ == "__main__":
    try:
        if sys.argv[1] == "verify":
            verify(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
        elif sys.argv[1] == "same":
            same(sys.argv[2], sys.argv[3], sys.argv[4:])
        else:
            sys.exit(f"usage: {sys.argv[0]} verify|same ...")
    except AssertionError as e:
        sys.exit(f"check_adapt.py {' '.join(sys.argv[1:])}: {e!r}")
