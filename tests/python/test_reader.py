#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""python_reader: the Python module shoal against h5py reads of the same
files. The science apps, shoal-exec and test_app write small result files
(one launch each, 1 or 2 ranks); every check holds for any schedule.
Names shared by groups (mc_pi's parameter and field samples; shoal-exec
fields named status, rank, task, word, mode) are checked against the rule
of README "Reading results in Python", written out here (shown()); older
files are made by rewriting a copy of a new one (OlderLayout), bad ones by
hand (BadInput).

Environment (set by ctest): SHOAL_BUILD, SHOAL_SRC, SHOAL_MPIEXEC,
SHOAL_NPFLAG, SHOAL_MPI_PREFLAGS, SHOAL_MPI_POSTFLAGS; PYTHONPATH names
build/python. Rerun: ctest --test-dir build -R python_reader -V"""

import contextlib
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
TASK_COLUMNS = ("status", "seconds", "attempts", "error", "rank", "point", "replicate")


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
    launch(2, app("mc_pi"), cfg("mc_pi_adaptive.ini"), "-o", "adaptive.h5",
           "--set", "mc_pi.samples=1000", "--set", "run.stop_when=sem(pi) < 4e-3",
           "--set", "run.check_every=20")
    launch(2, os.path.join(BUILD, "tests", "mpi", "test_app"), config("search.ini", (
        "[run]\nseed = 3\n[scan]\nsleep_us = range(0, 9)\n[search]\nbudget = x\n"
        "min_budget = 1\nmax_budget = 9\nobjective = u\n")), "-o", "search.h5")
    launch(1, app("mc_pi"), config("mc_pi_scan.ini", (
        "[run]\nseed = 3\noutput = mc_pi_scan.h5\n[scan]\nsamples = 100, 200\n"
        "[sampling]\nreplicates = 2\n")))
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
    # fields named like a scanned parameter (word), a constant (mode), task
    # columns (status, rank, replicate) and the index (task)
    config("clash.sh", 'echo "shoal: status=7 rank=1.5 word=${#1} mode=2 task=9 replicate=4"\n')
    launch(1, app("shoal_exec", "shoal-exec"), config("clash.ini", (
        "[run]\nseed = 5\noutput = clash.h5\n[command]\nargv = sh clash.sh {word}\n"
        "[scan]\nword = alpha, omega\n[params]\nmode = fast\n[outputs]\nstatus = int64\n"
        "rank = float64\nword = int64\nmode = int64\ntask = int64\nreplicate = int64\n")))


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def h5text(values):
    return [v.rstrip(b"\0").decode() if isinstance(v, bytes) else v for v in values]


def shown(f, group, name):
    """The reader's name for /<group>/<name> by README's rule: <group>/<name>
    for a name in two of the parameters (scanned and constant), the fields
    and the /tasks columns, and for task; the bare name otherwise."""
    params = f.get("params")
    groups = (set(params or ()) | {k for k in (params.attrs if params else ())
                                   if k != "scan" and "." not in k},
              set(f.get("results", ())), {c for c in TASK_COLUMNS if c in f["tasks"]})
    shared = sum(name in g for g in groups) > 1
    return f"{group}/{name}" if shared or name == "task" else name


def var(f, group, name):
    """The dataset's name for /<group>/<name>: shown() with _ for /."""
    return shown(f, group, name).replace("/", "_")


def scale_names(d):
    """Names of the dimension scales attached to each axis of d (None
    where none)."""
    return [d.dims[i][0].name.rsplit("/", 1)[-1] if len(d.dims[i]) else None
            for i in range(d.ndim)]


@contextlib.contextmanager
def both(name):
    path = os.path.join(WORK, name)
    with h5py.File(path, "r", locking=False) as f, shoal.open(path) as r:
        yield f, r


class Reader(unittest.TestCase):
    """Checks that hold for every file."""
    FILES = ("mc_pi.h5", "mc_pi_scan.h5", "ising.h5", "ode.h5", "option.h5", "exec.h5",
             "app.h5", "clash.h5")

    def each(self):
        """For each file, a context manager giving (h5py file, Result) in a
        subTest that names the file: an assertion in the with block ends
        that file's subTest (a generator yielding inside a subTest would
        get it outside, and a GeneratorExit in the subTest)."""
        for name in self.FILES:
            yield self._file(name)

    @contextlib.contextmanager
    def _file(self, name):
        with self.subTest(file=name), both(name) as files:
            yield files

    def test_frame_matches_h5py(self):
        for file in self.each():
            with file as (f, r):
                df = r.frame()
                want_cols = [shown(f, "params", n) for n in f.get("params", {})]
                want_cols += [shown(f, "results", n) for n, d in f["results"].items() if d.ndim == 1]
                want_cols += [shown(f, "tasks", n) for n in TASK_COLUMNS if n in f["tasks"]]
                self.assertEqual(list(df.columns), want_cols)
                n = f["tasks/status"].shape[0]
                self.assertEqual(df.index.name, "task")
                self.assertEqual(list(df.index), list(range(n)))
                for group in ("params", "results"):
                    for name, ds in f.get(group, {}).items():
                        col = shown(f, group, name)
                        if ds.ndim > 1:
                            self.assertNotIn(col, df.columns, "array field as a column")
                            continue
                        want = ds[:]
                        if want.dtype.kind in "SO":
                            got = list(df[col])
                            self.assertEqual(got, h5text(want))
                            self.assertTrue(all(type(v) is str for v in got), name)
                        else:
                            np.testing.assert_array_equal(df[col].to_numpy(), want, name)
                status = shown(f, "tasks", "status")
                self.assertEqual(list(df[status]), [STATUS[c] for c in f["tasks/status"][:]])
                for name in TASK_COLUMNS[1:]:
                    if name in f["tasks"]:
                        np.testing.assert_array_equal(df[shown(f, "tasks", name)].to_numpy(),
                                                      f["tasks"][name][:])
                done = np.flatnonzero(f["tasks/status"][:] == 1)
                self.assertEqual(list(r.frame(done_only=True).index), list(done))
                self.assertEqual(df.attrs["provenance"]["app"], f.attrs["app"])

    def test_provenance_constants_units(self):
        for file in self.each():
            with file as (f, r):
                self.assertEqual(set(r.provenance), set(f.attrs))
                for k, v in f.attrs.items():
                    got = r.provenance[k]
                    if isinstance(v, (bytes, str)):
                        self.assertEqual(got, v.decode() if isinstance(v, bytes) else v)
                    else:
                        self.assertEqual(got, v.item() if hasattr(v, "item") else v)
                want_units, want_docs = {}, {}
                for k, v in f["params"].attrs.items() if "params" in f else ():
                    if k == "scan":
                        continue
                    if "." in k:
                        name, attr = k.rsplit(".", 1)
                        table = want_units if attr == "units" else want_docs
                        table[shown(f, "params", name)] = h5text([v])[0]
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
                        for attr, table in (("units", want_units), ("doc", want_docs)):
                            if attr in ds.attrs:
                                table[shown(f, group, name)] = h5text([ds.attrs[attr]])[0]
                self.assertEqual(r.units, want_units)
                self.assertEqual(r.docs, want_docs)
                self.assertEqual(r.frame().attrs["doc"], want_docs)

    def test_arrays(self):
        for file in self.each():
            with file as (f, r):
                arrays = r.arrays()
                want = {k: v for k, v in f["results"].items() if v.ndim > 1}
                self.assertEqual(set(arrays), set(want))
                for k, v in want.items():
                    np.testing.assert_array_equal(arrays[k], v[:])
                    np.testing.assert_array_equal(r.array(k), v[:])

    def test_failures(self):
        for file in self.each():
            with file as (f, r):
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
        for file in self.each():
            with file as (f, r):
                ds = r.dataset()
                task = ds.task.values.ravel()
                np.testing.assert_array_equal(np.sort(task), np.arange(f["tasks/status"].shape[0]))
                for name, d in f["results"].items():
                    v = ds[var(f, "results", name)]
                    got = v.values.reshape((-1,) + d.shape[1:])
                    want = d[:][task]
                    if want.dtype.kind in "SO":
                        self.assertEqual(list(got), h5text(want))
                    else:
                        np.testing.assert_array_equal(got, want)
                    # the file's dimension names: the scales attached to each axis
                    self.assertEqual(scale_names(d)[0], "task")
                    self.assertEqual(list(v.dims[ds.task.ndim:]), scale_names(d)[1:])
                    self.assertEqual(scale_names(d)[1:], [f"{name}_dim{i}" for i in range(1, d.ndim)])
                    for attr in ("doc", "units"):
                        if attr in d.attrs:
                            self.assertEqual(v.attrs[attr], h5text([d.attrs[attr]])[0])
                for name in TASK_COLUMNS[1:5]:
                    np.testing.assert_array_equal(ds[var(f, "tasks", name)].values.ravel(),
                                                  f["tasks"][name][:][task])
                self.assertEqual(list(ds[var(f, "tasks", "status")].values.ravel()),
                                 [STATUS[c] for c in f["tasks/status"][:][task]])
                self.assertEqual(ds.attrs["app"], f.attrs["app"])
                self.assertEqual(len(ds.attrs["failures"]), len(r.failures()))
                for name, d in f.get("params", {}).items():
                    v = ds[var(f, "params", name)]
                    cell = v.broadcast_like(ds.task).values.ravel()
                    want = d[:][task]
                    self.assertEqual(list(cell), h5text(want) if want.dtype.kind == "S" else list(want))
                    if "doc" in d.attrs:
                        self.assertEqual(v.attrs["doc"], h5text([d.attrs["doc"]])[0])
                for name, value in r.constants.items():
                    self.assertEqual(ds[var(f, "params", name)].item(), value)
                if "points" in f:
                    np.testing.assert_array_equal(
                        ds.replicates.values.ravel(), f["points/replicates"][:])
                # no "/" in any name, so the dataset writes as netCDF
                ds.attrs.pop("failures")
                ds.to_netcdf(os.path.join(WORK, "out.nc"), engine="h5netcdf")


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


class Described(unittest.TestCase):
    """Units and docs come from the file, as the app declares them."""

    def test_ising_units(self):
        # apps/ising2d/ising2d.c: abs_m [1], energy [J], T [J/k_B], therm_sweeps [sweeps]
        with shoal.open(os.path.join(WORK, "ising.h5")) as r:
            self.assertEqual(r.units["abs_m"], "1")
            self.assertEqual(r.units["energy"], "J")
            self.assertEqual(r.units["T"], "J/k_B")                   # scanned
            self.assertEqual(r.units["therm_sweeps"], "sweeps")       # a constant
            self.assertTrue(r.docs["T"].startswith("temperature"))
            ds = r.dataset()
        self.assertEqual(ds.abs_m.attrs["units"], "1")
        self.assertEqual(ds["T"].attrs["units"], "J/k_B")
        self.assertEqual(ds.therm_sweeps.attrs["units"], "sweeps")
        self.assertEqual(ds.mean_abs_m.attrs["units"], "1")


class Adaptive(unittest.TestCase):
    """A run that stop_when ended: frame() holds the tasks it used (all
    rows with used_only=False); a search's frame carries each task's
    configuration, rung and budget, as /search holds them."""

    def test_stop_when(self):
        with h5py.File(os.path.join(WORK, "adaptive.h5"), "r") as f:
            used = int(f.attrs["tasks_used"])
            pi = f["results/pi"][:used]
        with shoal.open(os.path.join(WORK, "adaptive.h5")) as r:
            self.assertEqual(r.tasks_used, used)
            df = r.frame()
            self.assertEqual(len(df), used)
            self.assertTrue((df["pi"].to_numpy() == pi).all())
            self.assertEqual(len(r.frame(used_only=False)), r.ntasks)
            ds = r.dataset()
            self.assertEqual(ds.sizes["task"], used)
            self.assertTrue((ds["pi"].values == pi).all())
            self.assertEqual(r.dataset(used_only=False).sizes["task"], r.ntasks)
        with shoal.open(os.path.join(WORK, "mc_pi.h5")) as r:
            self.assertIsNone(r.tasks_used)
            self.assertEqual(len(r.frame()), r.ntasks)

    def test_search(self):
        with h5py.File(os.path.join(WORK, "search.h5"), "r") as f:
            want = {c: f["search"][c][:] for c in ("point", "rung", "budget")}
        with shoal.open(os.path.join(WORK, "search.h5")) as r:
            df = r.frame()
            for c, v in want.items():
                self.assertTrue((df["search_" + c].to_numpy() == v).all(), c)
            self.assertEqual(sorted(set(df["search_rung"])), [0, 1, 2])
            ds = r.dataset()
            for c, v in want.items():
                self.assertTrue((ds["search_" + c].values == v).all(), c)
        with shoal.open(os.path.join(WORK, "mc_pi.h5")) as r:
            self.assertNotIn("search_point", r.frame().columns)


class Clash(unittest.TestCase):
    """A name in two groups is qualified everywhere: params/x, results/x,
    tasks/x in frames and units/docs keys, params_x ... in datasets."""

    def test_scanned_parameter_and_field(self):
        # mc_pi: parameter samples "points drawn per task", field samples "points drawn"
        with shoal.open(os.path.join(WORK, "mc_pi_scan.h5")) as r:
            df, pts, ds = r.frame(), r.points(), r.dataset()
            self.assertEqual(r.docs["params/samples"], "points drawn per task")
            self.assertEqual(r.docs["results/samples"], "points drawn")
            self.assertNotIn("samples", r.docs)
            self.assertEqual(r.units["hits"], "1")                    # unique: bare
            self.assertEqual((r.name_of("params", "samples"), r.var_name("results", "samples")),
                             ("params/samples", "results_samples"))
        self.assertEqual(list(df.columns[:1]), ["params/samples"])
        self.assertIn("results/samples", df.columns)
        self.assertNotIn("samples", df.columns)
        self.assertEqual(sorted(set(df["params/samples"])), [100, 200])
        self.assertTrue((df["results/samples"] == df["params/samples"]).all())
        self.assertEqual(list(pts["params/samples"]), [100, 200])
        self.assertEqual(dict(ds.hits.sizes), {"params_samples": 2, "replicate": 2})
        self.assertEqual(list(ds.params_samples.values), [100, 200])
        self.assertEqual(ds.params_samples.attrs["doc"], "points drawn per task")
        self.assertEqual(ds.results_samples.attrs["doc"], "points drawn")
        self.assertEqual(int(ds.results_samples.sel(params_samples=200, replicate=1)), 200)
        self.assertNotIn("samples", ds.variables)

    def test_constant_and_field(self):
        with shoal.open(os.path.join(WORK, "mc_pi.h5")) as r:
            df, ds = r.frame(), r.dataset()
            self.assertEqual(r.constants, {"samples": 1000})
            self.assertEqual(r.docs["params/samples"], "points drawn per task")
            self.assertEqual(r.docs["results/samples"], "points drawn")
        self.assertIn("results/samples", df.columns)
        self.assertNotIn("samples", df.columns)
        self.assertEqual(ds.params_samples.item(), 1000)          # the constant, kept
        self.assertEqual(ds.params_samples.attrs["doc"], "points drawn per task")
        self.assertEqual(ds.results_samples.dims, ("task",))
        self.assertEqual(ds.results_samples.attrs["doc"], "points drawn")

    def test_task_columns_and_index(self):
        with shoal.open(os.path.join(WORK, "clash.h5")) as r:
            df, ds, pts = r.frame(), r.dataset(), r.points()
            self.assertEqual(r.docs["results/status"], "reported by the program")
            self.assertEqual(r.docs["params/mode"], "from [params]")
            self.assertEqual(r.docs["params/word"], "from [scan]")
            self.assertEqual(r.constants, {"mode": "fast"})
        for name in ("status", "rank", "replicate"):
            self.assertIn(f"tasks/{name}", df.columns)
            self.assertIn(f"results/{name}", df.columns)
            self.assertIn(f"results_{name}", ds.data_vars)
            self.assertNotIn(name, df.columns)
        self.assertIn("tasks_status", ds.data_vars)
        self.assertIn("tasks_rank", ds.data_vars)
        self.assertIn("replicate", ds.dims)                            # tasks/replicate
        self.assertEqual(list(df["tasks/status"]), ["done", "done"])
        self.assertEqual(list(df["results/status"]), [7, 7])
        self.assertEqual(list(df["results/word"]), [5, 5])
        self.assertEqual(list(df["params/word"]), ["alpha", "omega"])
        self.assertEqual(list(df["results/task"]), [9, 9])
        self.assertIn("seconds", df.columns)                           # unique: bare
        self.assertIn("exit_code", df.columns)
        self.assertEqual(list(pts.columns[:2]), ["params/word", "replicates"])
        self.assertEqual(list(ds.params_word.values), ["alpha", "omega"])
        self.assertEqual(ds.params_mode.item(), "fast")
        self.assertEqual(list(ds.tasks_status.values.ravel()), ["done", "done"])
        self.assertEqual(list(ds.results_status.values.ravel()), [7, 7])
        self.assertEqual(list(ds.results_replicate.values.ravel()), [4, 4])
        self.assertEqual(list(ds.results_task.values.ravel()), [9, 9])
        self.assertEqual(list(ds.task.values.ravel()), [0, 1])


class BadInput(unittest.TestCase):
    """Paths that are not result files give one short error naming them."""

    def check(self, path, kind, *words):
        with self.assertRaises(kind) as cm:
            shoal.open(path)
        msg = str(cm.exception)
        self.assertTrue(msg.startswith(path + ": "), msg)
        for w in words:
            self.assertIn(w, msg)
        self.assertIsNone(cm.exception.__cause__)
        self.assertTrue(cm.exception.__suppress_context__ or cm.exception.__context__ is None)
        return msg

    def test_missing(self):
        path = os.path.join(WORK, "missing.h5")
        self.assertEqual(self.check(path, FileNotFoundError), f"{path}: no such file")
        self.assertRaises(FileNotFoundError, shoal.read_frame, path)
        self.assertRaises(FileNotFoundError, shoal.open_dataset, path)

    def test_not_hdf5(self):
        for name, data in (("empty.h5", b""), ("text.h5", b"task,pi\n0,3.1\n")):
            with self.subTest(file=name):
                self.check(os.path.join(WORK, config(name, data.decode())), ValueError, "not an HDF5 file")
        self.check(WORK, IsADirectoryError, "directory")

    def test_truncated(self):
        path = os.path.join(WORK, "truncated.h5")
        with open(os.path.join(WORK, "mc_pi.h5"), "rb") as src, open(path, "wb") as dst:
            dst.write(src.read(4096))
        self.check(path, OSError, "HDF5 cannot open it")

    def test_not_shoal(self):
        path = os.path.join(WORK, "other.h5")
        with h5py.File(path, "w") as f:
            f["x"] = np.arange(3)
        self.check(path, ValueError, "not a Shoal result file", "ntasks", "/tasks/status")
        with h5py.File(path, "a") as f:
            f.attrs["ntasks"] = np.uint64(3)
        msg = self.check(path, ValueError, "not a Shoal result file", "/tasks/status")
        self.assertNotIn("ntasks", msg)

    def test_unknown_field(self):
        with shoal.open(os.path.join(WORK, "mc_pi.h5")) as r:
            with self.assertRaisesRegex(KeyError, "no field 'nope'.*hits"):
                r.array("nope")


def pending_copy(name):
    """A copy of WORK/name as at the start of its run: every task pending,
    /results, /points values and /reduce at their fill values."""
    path = os.path.join(WORK, "pending_" + name)
    shutil.copyfile(os.path.join(WORK, name), path)
    with h5py.File(path, "r+") as f:
        f["tasks/status"][...] = 0
        for group in ("results", "reduce", "points/mean", "points/stderr", "points/reduce",
                      "points/derived", "points/derived_err"):
            for d in f.get(group, {}).values():
                d[...] = d.fillvalue
        if "points/replicates" in f:
            f["points/replicates"][...] = 0
        f["failures/task"][...] = -1
    return path


class Pending(unittest.TestCase):
    """A file whose run has only just begun reads: all pending."""

    def test_scan(self):
        for name in ("ising.h5", "mc_pi_scan.h5", "app.h5"):
            with self.subTest(file=name), shoal.open(pending_copy(name)) as r:
                df = r.frame()
                self.assertEqual(len(df), r.ntasks)
                self.assertEqual(set(df[r.name_of("tasks", "status")]), {"pending"})
                self.assertEqual(len(r.frame(done_only=True)), 0)
                self.assertEqual(len(r.failures()), 0)
                self.assertEqual(len(r.points()), r.npoints)
                ds = r.dataset()  # no written task: not unstacked into the grid yet
                self.assertEqual(dict(ds.task.sizes), {"point": r.npoints, "replicate": r.replicates})

    def test_no_scan(self):
        with shoal.open(pending_copy("mc_pi.h5")) as r:
            self.assertEqual(set(r.frame().status), {"pending"})
            ds = r.dataset()
            self.assertEqual(dict(ds.sizes), {"task": 6})
            self.assertEqual(ds.params_samples.item(), 1000)


def make_older(src, dst):
    """Rewrite a copy of src into the layout of files from before the
    self-describing one: no dimension scales (no root datasets, no
    DIMENSION_LIST), constants as strings, no units/doc attributes (nor
    <name>.units, <name>.doc), strings ASCII without _Encoding."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        datasets = []
        f.visititems(lambda n, o: datasets.append(n) if isinstance(o, h5py.Dataset) else None)
        scales = [n for n in datasets if "/" not in n]
        for n in datasets:
            if n in scales:
                continue
            d = f[n]
            for a in ("DIMENSION_LIST", "units", "doc", "_Encoding"):
                if a in d.attrs:
                    del d.attrs[a]
            if d.dtype.kind == "S":   # fixed-length UTF-8 -> ASCII (numpy's S), same size
                ascii_ = np.dtype(f"S{d.dtype.itemsize}")  # no h5py_encoding metadata
                data = d[()].astype(ascii_)
                kw = {"chunks": d.chunks, "maxshape": d.maxshape} if d.chunks else {}
                del f[n]
                f.create_dataset(n, data=data, dtype=ascii_, **kw)
        for n in scales:
            del f[n]
        for obj in (f, f["params"]):
            for k, v in list(obj.attrs.items()):
                if obj.name == "/params" and "." in k:
                    del obj.attrs[k]
                elif obj.name == "/params" and k != "scan":
                    text = v.decode() if isinstance(v, bytes) else v
                    obj.attrs[k] = np.bytes_(str(text).encode())
                elif isinstance(v, str):
                    obj.attrs[k] = np.bytes_(v.encode())


class OlderLayout(unittest.TestCase):
    """A file in the layout written before the self-describing one (made
    by make_older from a copy of a new file) reads the same: frame,
    constants (numbers parsed from their strings), dataset names and sizes;
    only units and docs are missing."""

    def test_older_layout(self):
        for name in ("app.h5", "mc_pi_scan.h5", "mc_pi.h5", "ising.h5", "clash.h5"):
            new, old = os.path.join(WORK, name), os.path.join(WORK, "older_" + name)
            make_older(new, old)
            with self.subTest(file=name), shoal.open(new) as b, shoal.open(old) as a:
                with h5py.File(old, "r", locking=False) as f:   # the rewrite did what it says
                    self.assertEqual([k for k in f if isinstance(f[k], h5py.Dataset)], [])
                    for k, v in f["params"].attrs.items():
                        self.assertIsInstance(v, bytes, k)
                    self.assertNotIn("units", f["results"][b.fields[0]].attrs)
                    self.assertNotIn("DIMENSION_LIST", f["tasks/status"].attrs)
                    self.assertIsInstance(f.attrs["app"], bytes)
                    self.assertEqual(f["failures/message"].id.get_type().get_cset(),
                                     h5py.h5t.CSET_ASCII)
                    self.assertNotIn("_Encoding", f["failures/message"].attrs)
                pd.testing.assert_frame_equal(a.frame(), b.frame(), check_like=True)
                self.assertEqual(a.constants, b.constants)
                for k, v in b.constants.items():
                    self.assertIs(type(a.constants[k]), type(v), k)
                self.assertEqual((a.units, a.docs), ({}, {}))
                self.assertTrue(b.docs)
                self.assertEqual(a.provenance["app"], b.provenance["app"])
                da, db = a.dataset(), b.dataset()
                self.assertEqual(set(da.variables), set(db.variables))
                self.assertEqual(dict(da.sizes), dict(db.sizes))
                for v in db.data_vars:
                    self.assertEqual(da[v].dims, db[v].dims, v)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
