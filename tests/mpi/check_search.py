#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of search runs (search_cases.sh), from the result file alone.

  check_search.py halving FILE   every rung k >= 1 ran the best size[k]
      configurations of rung k-1 by the objective (failed last, ties to the
      lower configuration), recomputed here; plus the common checks
  check_search.py sampled FILE   halving over sampled configurations (a
      random or Sobol design): as halving, each configuration's values the
      same in every task that ran it
  check_search.py async FILE     the common checks: rung sizes and budgets,
      each rung's configurations distinct and drawn from the rung below,
      every task ran its configuration's parameters and its rung's budget,
      the best attributes
Exit 0 when it holds, 1 with a message when not."""
import sys

import h5py
import numpy as np


def common(f, echo=True):
    s = f["search"]
    point, rung, budget = s["point"][:], s["rung"][:], s["budget"][:]
    size, rb = s["rung_size"][:], s["rung_budget"][:]
    n = len(point)
    assert (f["tasks/status"][:] != 0).all(), "a task did not run"
    assert (point >= 0).all() and (rung >= 0).all(), "an undecided task"
    assert list(np.bincount(rung, minlength=len(size))) == list(size), (np.bincount(rung), size)
    assert (s["rung_done"][:] == size).all()
    assert np.allclose(budget, rb[rung]), "a task's budget is not its rung's"
    # test_app echoes its parameters: x (the budget) as x2, sleep_us is
    # the configuration's value (the scan is sleep_us = range(0, n)).
    assert np.allclose(f["results/x2"][:], 2 * rb[rung]), "a task ran another budget"
    if echo:
        assert (f["params/sleep_us"][:] == point).all(), "a task ran another configuration"
    else:
        # Sampled configurations: a configuration's values are the same in
        # every task that ran it.
        sl = f["params/sleep_us"][:]
        for p in np.unique(point):
            assert len(set(sl[point == p])) == 1, ("configuration", p, "ran other values")
    for k in range(1, len(size)):
        pk, below = point[rung == k], set(point[rung == k - 1])
        assert len(set(pk)) == len(pk), ("a configuration twice in rung", k)
        assert set(pk) <= below, ("rung", k, "has configurations rung", k - 1, "did not run")
    u = np.where(f["tasks/status"][:] == 1, f["results/u"][:], np.nan)
    top = len(size) - 1
    t = int(s.attrs["best_task"])
    assert rung[t] == top and point[t] == s.attrs["best_point"]
    assert u[t] == s.attrs["best_value"] == np.nanmax(u[rung == top])
    return point, rung, size, u, n


def halving(path, echo=True):
    with h5py.File(path, "r") as f:
        point, rung, size, u, n = common(f, echo)
        off = np.concatenate([[0], np.cumsum(size)])
        assert (rung == np.repeat(np.arange(len(size)), size)).all(), "rungs out of order"
        assert (point[: size[0]] == np.arange(size[0])).all()
        for k in range(1, len(size)):
            prev = range(off[k - 1], off[k])
            key = sorted(prev, key=lambda t: (np.isnan(u[t]), -np.nan_to_num(u[t]), point[t]))
            want = [point[t] for t in key[: size[k]]]
            assert list(point[off[k]:off[k + 1]]) == want, ("rung", k, point[off[k]:off[k + 1]], want)
    print(f"{path}: halving rungs {list(size)} as ranked")


def asynchronous(path):
    with h5py.File(path, "r") as f:
        common(f)
        assert f["search"].attrs["method"] == "async_halving"
    print(f"{path}: async rungs consistent")


if __name__ == "__main__":
    try:
        {"halving": halving, "async": asynchronous,
         "sampled": lambda p: halving(p, echo=False)}[sys.argv[1]](sys.argv[2])
    except (AssertionError, KeyError) as e:
        sys.exit(f"check_search.py {' '.join(sys.argv[1:])}: {e!r}")
