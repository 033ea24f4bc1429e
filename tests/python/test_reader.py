#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""python_reader: the Python module shoal against h5py reads of the same
files. The science apps, shoal-exec and test_app write small result files
(one launch each, 1 or 2 ranks); every check holds for any schedule.

Environment (set by ctest): SHOAL_BUILD, SHOAL_SRC, SHOAL_MPIEXEC,
SHOAL_NPFLAG, SHOAL_MPI_PREFLAGS, SHOAL_MPI_POSTFLAGS; PYTHONPATH names
build/python. Rerun: ctest --test-dir build -R python_reader -V"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np
import pandas as pd
import xarray  # noqa: F401 - a missing xarray must fail here, not skip

import shoal

BUILD, SRC = os.environ["SHOAL_BUILD"], os.environ["SHOAL_SRC"]
WORK = None
STATUS = {0: "pending", 1: "done", 2: "failed", 3: "running"}


def launch(np_, exe, *args, ok=(0,)):
    """Run a Shoal program on np_ ranks in WORK; fail on another exit."""
    cmd = [os.environ["SHOAL_MPIEXEC"], os.environ["SHOAL_NPFLAG"], str(np_)]
    cmd += os.environ.get("SHOAL_MPI_PREFLAGS", "").split()
    cmd += [exe] + os.environ.get("SHOAL_MPI_POSTFLAGS", "").split() + list(args) + ["-q"]
    p = subprocess.run(cmd, cwd=WORK, capture_output=True, text=True)
    if p.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")


def config(name, text):
    with open(os.path.join(WORK, name), "w") as f:
        f.write(text)
    return name


def setUpModule():
    global WORK
    WORK = tempfile.mkdtemp(prefix="shoal_pyreader_")
    app = lambda a, b=None: os.path.join(BUILD, "apps", a, b or a)  # noqa: E731
    cfg = lambda n: os.path.join(SRC, "configs", n)  # noqa: E731
    launch(1, app("mc_pi"), cfg("mc_pi.ini"), "-o", "mc_pi.h5",
           "--set", "run.tasks=6", "--set", "mc_pi.samples=1000")
    launch(2, app("ising2d"), cfg("ising_scan.ini"), "-o", "ising.h5",
           "--set", "scan.L=8, 4", "--set", "scan.T=linspace(2, 2.5, 3)",
           "--set", "sampling.replicates=2", "--set", "ising2d.therm_sweeps=10",
           "--set", "ising2d.meas_sweeps=40")
    launch(1, app("ode_scan"), cfg("ode_test.ini"), "-o", "ode.h5",
           "--set", "run.tasks=3", "--set", "ode_scan.t_total=5")
    launch(1, app("option_mc"), cfg("option_mc_scan.ini"), "-o", "option.h5",
           "--set", "scan.K=uniform(80, 120)", "--set", "scan.sigma=uniform(0.1, 0.4)",
           "--set", "sampling.design=random", "--set", "sampling.samples=5",
           "--set", "sampling.replicates=2", "--set", "option_mc.paths=200",
           "--set", "option_mc.steps=4")
    config("prog.sh", '[ "$1" = bad ] && { echo "no good: $1" >&2; exit 3; }\n'
                      'echo "shoal: len=${#1}"\n')
    launch(2, app("shoal_exec", "shoal-exec"), config("exec.ini", (
        "[run]\nseed = 5\noutput = exec.h5\n[command]\nargv = sh prog.sh {word}\n"
        "[scan]\nword = alpha, bad, omega\n[sampling]\nreplicates = 2\n"
        "[outputs]\nlen = int64\n")), ok=(1,))
    launch(2, os.path.join(BUILD, "tests", "mpi", "test_app"), config("app.ini", (
        "[run]\nseed = 7\noutput = app.h5\n[test_app]\nfail_every = 5\nx = 2.385\n"
        "[scan]\nlabel = alpha, beta\n[sampling]\nreplicates = 4\n")), ok=(1,))


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def h5text(values):
    return [v.rstrip(b"\0").decode() if isinstance(v, bytes) else v for v in values]


class Reader(unittest.TestCase):
    """Checks that hold for every file."""
    FILES = ("mc_pi.h5", "ising.h5", "ode.h5", "option.h5", "exec.h5", "app.h5")

    def each(self):
        for name in self.FILES:
            path = os.path.join(WORK, name)
            with self.subTest(file=name), h5py.File(path, "r", locking=False) as f, shoal.open(path) as r:
                yield f, r

    def test_frame_matches_h5py(self):
        for f, r in self.each():
            df = r.frame()
            n = f["tasks/status"].shape[0]
            self.assertEqual(df.index.name, "task")
            self.assertEqual(list(df.index), list(range(n)))
            for group in ("params", "results"):
                for name, ds in f.get(group, {}).items():
                    if ds.ndim > 1:
                        self.assertNotIn(name, df.columns, "array field as a column")
                        continue
                    want = ds[:]
                    if want.dtype.kind in "SO":
                        got = list(df[name])
                        self.assertEqual(got, h5text(want))
                        self.assertTrue(all(type(v) is str for v in got), name)
                    else:
                        np.testing.assert_array_equal(df[name].to_numpy(), want, name)
            self.assertEqual(list(df.status), [STATUS[c] for c in f["tasks/status"][:]])
            for name in ("seconds", "attempts", "error", "rank", "point", "replicate"):
                if name in f["tasks"]:
                    np.testing.assert_array_equal(df[name].to_numpy(), f["tasks"][name][:])
            done = np.flatnonzero(f["tasks/status"][:] == 1)
            self.assertEqual(list(r.frame(done_only=True).index), list(done))
            self.assertEqual(df.attrs["provenance"]["app"], f.attrs["app"])

    def test_provenance_constants_units(self):
        for f, r in self.each():
            self.assertEqual(set(r.provenance), set(f.attrs))
            for k, v in f.attrs.items():
                got = r.provenance[k]
                if isinstance(v, (bytes, str)):
                    self.assertEqual(got, v.decode() if isinstance(v, bytes) else v)
                else:
                    self.assertEqual(got, v.item() if hasattr(v, "item") else v)
            for k, v in f["params"].attrs.items() if "params" in f else ():
                if k == "scan" or "." in k:
                    continue
                v = v.decode() if isinstance(v, bytes) else v
                if isinstance(v, str) and re.fullmatch(r"-?\d+", v):
                    self.assertEqual(r.constants[k], int(v))
                elif isinstance(v, str):
                    try:
                        self.assertEqual(r.constants[k], float(v))
                    except ValueError:
                        self.assertEqual(r.constants[k], v)
                else:
                    self.assertEqual(r.constants[k], v)
            for group in ("results", "params"):
                for name, ds in f.get(group, {}).items():
                    for attr, table in (("units", r.units), ("doc", r.docs)):
                        if attr in ds.attrs:
                            self.assertEqual(table[name], h5text([ds.attrs[attr]])[0])

    def test_arrays(self):
        for f, r in self.each():
            arrays = r.arrays()
            want = {k: v for k, v in f["results"].items() if v.ndim > 1}
            self.assertEqual(set(arrays), set(want))
            for k, v in want.items():
                np.testing.assert_array_equal(arrays[k], v[:])
                np.testing.assert_array_equal(r.array(k), v[:])

    def test_failures(self):
        for f, r in self.each():
            fl = r.failures()
            self.assertEqual(list(fl.columns), ["task", "error", "attempts", "rank", "message"])
            task = f["failures/task"][:]
            used = np.flatnonzero(task >= 0)
            order = used[np.argsort(task[used], kind="stable")]
            np.testing.assert_array_equal(fl.task.to_numpy(), task[order])
            for c in ("error", "attempts", "rank"):
                np.testing.assert_array_equal(fl[c].to_numpy(), f["failures"][c][:][order])
            self.assertEqual(list(fl.message), h5text(f["failures/message"][:][order]))
            self.assertEqual(len(fl), int((f["tasks/status"][:] == 2).sum()))

    def test_dataset_values(self):
        for f, r in self.each():
            ds = r.dataset()
            task = ds.task.values.ravel()
            np.testing.assert_array_equal(np.sort(task), np.arange(f["tasks/status"].shape[0]))
            for name, d in f["results"].items():
                v = ds[name].values.reshape((-1,) + d.shape[1:])
                want = d[:][task]
                if want.dtype.kind in "SO":
                    self.assertEqual(list(v), h5text(want))
                else:
                    np.testing.assert_array_equal(v, want)
                self.assertEqual(list(ds[name].dims[ds.task.ndim:]),
                                 [f"{name}_dim{i}" for i in range(1, d.ndim)])
                if "doc" in d.attrs:
                    self.assertEqual(ds[name].attrs["doc"], h5text([d.attrs["doc"]])[0])
            self.assertEqual(ds.attrs["app"], f.attrs["app"])
            self.assertEqual(len(ds.attrs["failures"]), len(r.failures()))
            for name in f.get("params", {}):
                cell = ds[name].broadcast_like(ds.task).values.ravel()
                want = f["params"][name][:][task]
                self.assertEqual(list(cell), h5text(want) if want.dtype.kind == "S" else list(want))


class Layouts(unittest.TestCase):
    """How each kind of run unstacks."""

    def test_grid(self):
        path = os.path.join(WORK, "ising.h5")
        ds = shoal.open_dataset(path)
        self.assertEqual(dict(ds.abs_m.sizes), {"L": 2, "T": 3, "replicate": 2})
        self.assertEqual(list(ds.L.values), [8, 4])
        np.testing.assert_allclose(ds["T"].values, [2, 2.25, 2.5])
        with h5py.File(path, "r", locking=False) as f:
            shape = re.search(r"points: ([\d x]+),", f["params"].attrs["scan"]).group(1)
            self.assertEqual(list(ds.abs_m.shape[:-1]), [int(s) for s in shape.split(" x ")])
            sel = (f["params/L"][:] == 4) & (f["params/T"][:] == 2.25) & (f["tasks/replicate"][:] == 1)
            self.assertEqual(float(ds.abs_m.sel(L=4, T=2.25, replicate=1)), f["results/abs_m"][sel][0])
            np.testing.assert_array_equal(ds.mean_abs_m.values.ravel(), f["points/mean/abs_m"][:])
            self.assertEqual(dict(ds.mean_abs_m.sizes), {"L": 2, "T": 3})

    def test_no_scan(self):
        ds = shoal.open_dataset(os.path.join(WORK, "ode.h5"))
        self.assertEqual(set(ds.sizes), {"task"})
        self.assertIsInstance(ds.coords["rho"].item(), (int, float))  # a constant, as a number

    def test_random_design_stays_points(self):
        ds = shoal.open_dataset(os.path.join(WORK, "option.h5"))
        self.assertEqual(dict(ds.sizes), {"point": 5, "replicate": 2})
        self.assertEqual(ds.K.dims, ("point",))

    def test_string_scan_and_failures(self):
        df = shoal.read_frame(os.path.join(WORK, "exec.h5"))
        self.assertEqual(sorted(set(df.word)), ["alpha", "bad", "omega"])
        self.assertTrue((df.status[df.word == "bad"] == "failed").all())
        self.assertTrue((df.status[df.word != "bad"] == "done").all())
        self.assertTrue(all(type(s) is str for s in df.stderr_tail))
        ds = shoal.open_dataset(os.path.join(WORK, "exec.h5"))
        self.assertEqual(list(ds.word.values), ["alpha", "bad", "omega"])
        fl = ds.attrs["failures"]
        self.assertEqual(len(fl), 2)
        self.assertTrue(all("no good: bad" in m and type(m) is str for m in fl.message))

    def test_array_fields(self):
        ds = shoal.open_dataset(os.path.join(WORK, "app.h5"))
        self.assertEqual(ds.m.dims, ("label", "replicate", "m_dim1", "m_dim2"))
        self.assertEqual(ds.v.shape, (2, 4, 3))
        self.assertNotIn("m", shoal.read_frame(os.path.join(WORK, "app.h5")).columns)


class NewerLayout(unittest.TestCase):
    """A test_app file given what newer writers add (units and doc on
    datasets, typed constants with <name>.units, UTF-8 strings marked
    _Encoding, dimension scales at the root) reads the same. The change is
    made with h5py on a copy of a real file."""

    def test_newer_layout(self):
        old, new = os.path.join(WORK, "app.h5"), os.path.join(WORK, "app_new.h5")
        shutil.copyfile(old, new)
        with h5py.File(new, "r+", locking=False) as f:
            n = f["tasks/status"].shape[0]
            f["results/u"].attrs["units"] = "m/s"
            f["params"].attrs["x"] = np.float64(2.385)
            f["params"].attrs["fail_every"] = np.int64(5)
            f["params"].attrs["x.units"] = "K"
            f["params"].attrs["x.doc"] = "echoed as x2"
            label = f["params/label"][:]
            del f["params/label"]
            utf8 = h5py.string_dtype("utf-8", 16)
            d = f["params"].create_dataset("label", data=np.array(label, dtype=utf8))
            d.attrs["_Encoding"] = "utf-8"
            d.attrs["units"] = "1"
            f["task"] = np.zeros(n, np.uint8)
            f["task"].make_scale("task")
            f["m_dim1"] = np.zeros(2, np.uint8)
            f["m_dim1"].make_scale("m_dim1")
            for ds in f["results"].values():
                ds.dims[0].attach_scale(f["task"])
            f["results/m"].dims[1].attach_scale(f["m_dim1"])
        with shoal.open(old) as a, shoal.open(new) as b:
            pd.testing.assert_frame_equal(a.frame(), b.frame(), check_like=True)
            self.assertEqual(b.units, {"u": "m/s", "x": "K", "label": "1"})
            self.assertEqual(b.docs["x"], "echoed as x2")
            self.assertEqual(b.constants, a.constants)
            self.assertIs(type(b.constants["fail_every"]), int)
            da, db = a.dataset(), b.dataset()
            self.assertEqual(set(da.variables), set(db.variables))
            self.assertEqual(dict(da.sizes), dict(db.sizes))
            self.assertEqual(db.u.attrs["units"], "m/s")
            self.assertEqual(db.x.attrs["units"], "K")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
