# SPDX-License-Identifier: GPL-3.0-or-later
"""The Result class: one Shoal result file, read-only.

The file's layout (README "The result file"): root attributes (provenance),
/results/<field> [ntasks, ...], /params/<name> [ntasks] for scanned
parameters with the constants as attributes of /params, /tasks (status,
seconds, attempts, error, rank, and point, replicate with a scan),
/failures (fixed slots; an unused slot has task -1), /points (per scan
point), /reduce, /ranks and /segments. Datasets at the root are HDF5
dimension scales (task, point, <field>_dim1, ...): they name dimensions and
hold no data, so they are never read as data.

Names. A parameter (scanned or constant), a field and a /tasks column
(status, seconds, attempts, error, rank, point, replicate) may share a
name: mc_pi has a parameter ``samples`` and a field ``samples``. Such a
name, and ``task`` (the index), is qualified with its group everywhere the
reader shows it: frame and points() columns and the keys of ``units`` and
``docs`` are ``params/samples``, ``results/samples``, ``tasks/status`` (as
``shoal export`` writes them), xarray variables, coordinates and
dimensions the same with ``_`` for ``/`` (``params_samples``,
``results_samples``: netCDF names cannot hold ``/``). Names found in one
group only keep their bare name. ``Result.name_of(group, name)`` gives the
name the reader uses.

Nothing is cached beyond the names and attributes read when the file is
opened; each call reads the datasets it needs."""

import numpy as np

from . import _h5

#: /tasks/status codes and the text the reader gives them.
STATUS = {0: "pending", 1: "done", 2: "failed", 3: "running"}

#: /tasks columns a frame carries, in this order, where the file has them.
TASK_COLUMNS = ("status", "seconds", "attempts", "error", "rank", "point", "replicate")

#: /failures columns, in the order failures() gives them.
FAILURE_COLUMNS = ("task", "error", "attempts", "rank", "message")
#: A search's per-task columns (/search), in a frame as search_<name>.
SEARCH_COLUMNS = ("point", "rung", "budget")

#: /points groups of per-point values; /points/<group>/<name> becomes the
#: column or variable <group>_<name>.
POINT_GROUPS = ("mean", "stderr", "derived", "derived_err", "reduce")


def _pandas():
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the system
        raise ImportError("shoal: tables need pandas (Debian: apt-get install "
                          "python3-pandas)") from e
    return pandas


class Result:
    """A Shoal result file opened read-only (with HDF5 file locking off, so
    that a file a run is still writing can be read; rows not yet written
    hold fill values and their status says ``pending``).

    Use as a context manager, or call close()::

        with shoal.open("mc_pi.h5") as r:
            df = r.frame()

    Attributes read at open time: ``provenance`` (the root attributes),
    ``constants`` (constant parameters, by name), ``units`` and ``docs``
    (per field, scanned or constant parameter, where the file records them;
    keyed by name, or ``params/x`` and ``results/x`` for a name that is both
    a parameter and a field: see name_of), ``ntasks``, ``fields`` (names of
    /results datasets), ``params`` (scanned parameter names),
    ``task_columns`` (the /tasks columns a frame has), ``npoints`` and
    ``replicates`` (None without a scan).

    Opening a path that is not a Shoal result file raises a short error
    naming it: FileNotFoundError, ValueError (not HDF5; HDF5 without the
    root attribute ``ntasks`` or /tasks/status), OSError (HDF5 that cannot
    be opened)."""

    def __init__(self, path):
        self.path = str(path)
        self.file = _h5.open_file(path)
        try:
            self._read_layout()
        except BaseException:
            self.file.close()
            raise

    def _read_layout(self):
        f = self.file
        missing = [what for what, there in (
            ("the root attribute ntasks", "ntasks" in f.attrs),
            ("the dataset /tasks/status", isinstance(f.get("tasks/status"), _h5.h5py.Dataset)))
            if not there]
        if missing:
            raise ValueError(f"{self.path}: not a Shoal result file (no "
                             f"{' and no '.join(missing)})")
        self.provenance = {k: _h5.attr_value(v) for k, v in f.attrs.items()}
        self.ntasks = int(self.provenance["ntasks"])
        if "stream" in f:
            # A stream's file grows while it runs: its rows, not the
            # attribute last written, count.
            self.ntasks = int(f["tasks/status"].shape[0])
        self.fields = self._names("results")
        self.params = self._names("params")
        self.task_columns = [c for c in TASK_COLUMNS if c in f["tasks"]]
        self.constants, self.scan, described = self._constants()
        groups = {"params": set(self.params) | set(self.constants),
                  "results": set(self.fields), "tasks": set(self.task_columns)}
        seen = [n for names in groups.values() for n in names]
        self._qualified = {n for n in seen if seen.count(n) > 1} | {"task"}
        self.units, self.docs = {}, {}
        for group, names in (("results", self.fields), ("params", self.params)):
            for name in names:
                self._describe(self.name_of(group, name), f[group][name].attrs)
        for name, key, value in described:
            table = self.units if key == "units" else self.docs
            table[self.name_of("params", name)] = value
        # A run its results ended ([run] stop_when): tasks 0..tasks_used-1.
        self.tasks_used = (int(self.provenance["tasks_used"])
                           if "tasks_used" in self.provenance else None)
        # A search: each task's configuration, rung and budget.
        g = f.get("search")
        self.search_columns = [c for c in SEARCH_COLUMNS
                               if isinstance(g, _h5.h5py.Group) and c in g]
        self.npoints = self.replicates = None
        if "points" in f and "replicates" in f["points"].attrs:
            self.npoints = int(_h5.attr_value(f["points"].attrs["npoints"]))
            self.replicates = int(_h5.attr_value(f["points"].attrs["replicates"]))

    # -- plumbing ------------------------------------------------------
    def _names(self, group):
        if group not in self.file:
            return []
        g = self.file[group]
        return [k for k in g if isinstance(g[k], _h5.h5py.Dataset)]

    def name_of(self, group, name):
        """The name the reader gives /<group>/<name> (group ``params`` for
        scanned and constant parameters, ``results``, ``tasks``): as a frame
        or points() column and a key of ``units`` and ``docs``. A name
        that is in more than one of those groups (a parameter and a field,
        a field and a task column), and ``task``, is written
        ``<group>/<name>``; any other keeps its name. In a dataset,
        ``/`` becomes ``_`` (var_name)."""
        return f"{group}/{name}" if name in self._qualified else name

    def var_name(self, group, name):
        """The name of /<group>/<name> in dataset(): name_of with ``_``
        for ``/`` (``params_samples``), as netCDF allows no ``/`` in
        names."""
        return self.name_of(group, name).replace("/", "_")

    def _describe(self, name, attrs):
        if "units" in attrs:
            self.units[name] = _h5.attr_value(attrs["units"])
        if "doc" in attrs:
            self.docs[name] = _h5.attr_value(attrs["doc"])

    def _constants(self):
        """Constant parameters from the attributes of /params: typed values
        as they are, older string values parsed as numbers where they parse;
        ``<name>.units`` and ``<name>.doc`` are returned as a list of
        (name, "units" or "doc", value) for units and docs; ``scan`` is the
        scan's description, not a constant."""
        consts, scan, described = {}, None, []
        if "params" not in self.file:
            return consts, scan, described
        attrs = self.file["params"].attrs
        for key in attrs:
            if key == "scan":
                scan = _h5.attr_value(attrs[key])
            elif key.endswith(".units"):
                described.append((key[:-6], "units", _h5.attr_value(attrs[key])))
            elif key.endswith(".doc"):
                described.append((key[:-4], "doc", _h5.attr_value(attrs[key])))
            else:
                consts[key] = _h5.parse_constant(attrs[key])
        return consts, scan, described

    def close(self):
        """Close the file (further reads fail)."""
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return (f"<shoal.Result {self.path!r}: {self.provenance.get('app', '?')}, "
                f"{self.ntasks} tasks, state {self.provenance.get('state', '?')}>")

    # -- columns ---------------------------------------------------------
    def status(self):
        """/tasks/status as an object array of text ('pending', 'done',
        'failed', 'running'; unknown codes as their number)."""
        codes = self.file["tasks/status"][:]
        names = np.array([STATUS.get(c, str(c)) for c in range(256)], dtype=object)
        return names[codes]

    def scalar_fields(self):
        """Names of the fields with one value per task."""
        return [n for n in self.fields if self.file["results"][n].ndim == 1]

    def array_fields(self):
        """Names of the fields with more than one value per task."""
        return [n for n in self.fields if self.file["results"][n].ndim > 1]

    def array(self, name):
        """The array field ``name`` (or any field) as a numpy array
        [ntasks, ...]."""
        if name not in self.fields:
            raise KeyError(f"{self.path}: no field {name!r} in /results "
                           f"(fields: {', '.join(self.fields)})")
        return _h5.read(self.file["results"][name])

    def arrays(self):
        """Every array field: a dict name -> numpy array [ntasks, ...]."""
        return {n: self.array(n) for n in self.array_fields()}

    def reduced(self):
        """/reduce: a dict field -> its reduction over the done tasks
        (numpy arrays; NaN until the run completes)."""
        g = self.file.get("reduce")
        return {} if g is None else {k: _h5.read(g[k]) for k in g}

    def _attrs(self, extra=None):
        attrs = {"units": dict(self.units), "doc": dict(self.docs),
                 "constants": dict(self.constants),
                 "provenance": dict(self.provenance)}
        if extra:
            attrs.update(extra)
        return attrs

    # -- tables ----------------------------------------------------------
    def frame(self, done_only=False, used_only=True):
        """A pandas DataFrame, one row per task (index ``task``): the scanned
        parameters, the scalar fields, then the task's bookkeeping (status
        as text, seconds, attempts, error, rank, and point and replicate
        with a scan). A name in two of those groups (or a constant's name
        that is also a field's) is qualified, ``params/samples`` and
        ``results/samples``: see name_of. Array fields are not columns: see
        array(). Strings are str. ``done_only``: only the rows whose status
        is done. ``used_only`` (default): for a run that [run] stop_when
        ended, only the tasks it used, 0..tasks_used-1 (others may have run
        past the decision; False: every row). A search adds its per-task
        ``search_point``, ``search_rung`` and ``search_budget``. ``.attrs``
        holds ``units``, ``doc``, ``constants`` and ``provenance`` dicts."""
        pd = _pandas()
        cols = {}
        for name in self.params:
            cols[self.name_of("params", name)] = _h5.read(self.file["params"][name])
        for name in self.scalar_fields():
            cols[self.name_of("results", name)] = _h5.read(self.file["results"][name])
        tasks = self.file["tasks"]
        for name in self.task_columns:
            cols[self.name_of("tasks", name)] = (self.status() if name == "status"
                                                 else _h5.read(tasks[name]))
        for name in self.search_columns:
            cols["search_" + name] = _h5.read(self.file["search"][name])
        index = pd.RangeIndex(self.ntasks, name="task")
        df = pd.DataFrame(cols, index=index)
        if used_only and self.tasks_used is not None:
            df = df.iloc[:self.tasks_used]
        if done_only:
            df = df[df[self.name_of("tasks", "status")] == "done"]
        df.attrs.update(self._attrs())
        return df

    def failures(self):
        """The used slots of /failures as a DataFrame (task, error,
        attempts, rank, message), ordered by task; empty without
        failures."""
        pd = _pandas()
        g = self.file.get("failures")
        if g is None:
            return pd.DataFrame({c: [] for c in FAILURE_COLUMNS})
        cols = {c: _h5.read(g[c]) for c in FAILURE_COLUMNS if c in g}
        used = cols["task"] >= 0
        df = pd.DataFrame({c: v[used] for c, v in cols.items()})
        return df.sort_values("task", kind="stable").reset_index(drop=True)

    def points(self):
        """/points as a DataFrame, one row per scan point (index ``point``):
        the point's parameter values (named as in frame(): ``params/x``
        where x is a field's name too), ``replicates`` (done replicates),
        and each scalar /points/<group>/<name> as column ``<group>_<name>``
        (mean_, stderr_, derived_, derived_err_, reduce_; ``points/...``
        where that is already a column). None without a scan. NaN until the
        run completes."""
        pd = _pandas()
        g = self.file.get("points")
        if g is None:
            return None
        cols = {}
        if "params" in g:
            for name in g["params"]:
                cols[self.name_of("params", name)] = _h5.read(g["params"][name])
        per_point = [("replicates", g["replicates"])] if "replicates" in g else []
        per_point += [(f"{group}_{name}", ds) for group, name, ds in self._point_datasets()
                      if ds.ndim == 1]
        for key, ds in per_point:
            cols[key if key not in cols else "points/" + key] = _h5.read(ds)
        n = self.npoints if self.npoints is not None else len(next(iter(cols.values()), []))
        df = pd.DataFrame(cols, index=pd.RangeIndex(n, name="point"))
        df.attrs.update(self._attrs())
        return df

    def _point_datasets(self):
        g = self.file.get("points")
        for group in POINT_GROUPS:
            if g is None or group not in g:
                continue
            for name in g[group]:
                yield group, name, g[group][name]

    def segments(self):
        """/segments (one row per launch that worked on the file) as a
        DataFrame; None in files made before it existed."""
        return self._table("segments", "segment")

    def ranks(self):
        """/ranks (the last launch's ranks) as a DataFrame."""
        return self._table("ranks", "rank")

    def _table(self, group, index):
        pd = _pandas()
        g = self.file.get(group)
        if g is None:
            return None
        cols = {k: _h5.read(g[k]) for k in g if g[k].ndim == 1}
        n = len(next(iter(cols.values()), []))
        return pd.DataFrame(cols, index=pd.RangeIndex(n, name=index))

    def dataset(self, used_only=True):
        """An xarray.Dataset of the run with the scan unstacked; see
        shoal.open_dataset(). ``used_only``: as in frame()."""
        from ._xr import build

        return build(self, used_only)
