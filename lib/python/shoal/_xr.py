# SPDX-License-Identifier: GPL-3.0-or-later
"""Result.dataset(): a result file as an xarray.Dataset with the scan
unstacked.

Without a scan every variable runs over ``task``. With one, tasks are
``point * replicates + replicate`` (README "Parameter scans"), so each
[ntasks, ...] dataset reshapes to [npoints, replicates, ...]: dimensions
(point, replicate), the scanned parameters coordinates over point. When the
points' parameter values form a full grid, the point dimension splits into
one dimension per scanned parameter, named after it, with its values as the
coordinate. The grid is found from the values themselves: each parameter's
distinct values in order of first appearance, their counts multiplying to
the point count, and every point equal to the row-major (first axis
slowest) combination. The per-point value of a parameter comes from the
first written task of the point (status not pending), so a file still being
written unstacks once every point has a written task.

Names are Result.var_name's: a name shared by a parameter and a field, or a
field and a task column, is qualified with its group, ``/`` written ``_``
(``params_samples``, ``results_samples``, ``tasks_status``); a scanned
parameter's grid dimension has its variable's name."""

import numpy as np

from . import _h5


def _xarray():
    try:
        import xarray
    except ImportError as e:
        raise ImportError("shoal: Result.dataset() and shoal.open_dataset() need "
                          "xarray (Debian: apt-get install python3-xarray)") from e
    return xarray


def point_values(r):
    """Per-point values of each scanned parameter and whether every point
    has a written task (dict name -> array [npoints], bool)."""
    P, R = r.npoints, r.replicates
    written = (r.file["tasks/status"][:] != 0).reshape(P, R)
    rows = np.arange(P) * R + written.argmax(axis=1)
    vals = {n: _h5.read(r.file["params"][n])[rows] for n in r.params}
    return vals, bool(written.any(axis=1).all())


def _run_length(v):
    k = 1
    while k < len(v) and v[k] == v[0]:
        k += 1
    return k


def grid_axes(vals, npoints):
    """The grid the points form, as a list of (name, values) from the
    slowest axis to the fastest, or None when they form no full grid."""
    if not vals:
        return None
    uniq = {n: list(dict.fromkeys(v.tolist())) for n, v in vals.items()}
    if int(np.prod([len(u) for u in uniq.values()])) != npoints:
        return None
    order = sorted(vals, key=lambda n: -_run_length(vals[n].tolist()))
    shape = [len(uniq[n]) for n in order]
    index = np.indices(shape).reshape(len(shape), -1)
    for axis, n in enumerate(order):
        if [uniq[n][i] for i in index[axis]] != vals[n].tolist():
            return None
    return [(n, uniq[n]) for n in order]


def _attrs(r, group, name, ds=None):
    """units and doc of /<group>/<name>: the dataset's own attributes, else
    Result.units and docs (constants' ``<name>.units`` and ``.doc``)."""
    attrs = {}
    if ds is not None:
        for key in ("units", "doc"):
            if key in ds.attrs:
                attrs[key] = _h5.attr_value(ds.attrs[key])
    key = r.name_of(group, name)
    if key in r.units:
        attrs.setdefault("units", r.units[key])
    if key in r.docs:
        attrs.setdefault("doc", r.docs[key])
    return attrs


def build(r, used_only=True):
    """The Dataset of Result ``r`` (see Result.dataset)."""
    xr = _xarray()
    f = r.file
    scan = (r.npoints is not None and r.replicates and
            r.npoints * r.replicates == r.ntasks and "tasks/status" in f)
    coords, data = {}, {}
    if scan:
        vals, complete = point_values(r)
        grid = grid_axes(vals, r.npoints) if complete else None
        if grid:
            pdims = [r.var_name("params", n) for n, _ in grid]
            pshape = [len(v) for _, v in grid]
            for dim, (n, v) in zip(pdims, grid):
                coords[dim] = ((dim,), np.array(v, dtype=vals[n].dtype),
                               _attrs(r, "params", n))
        else:
            pdims, pshape = ["point"], [r.npoints]
            coords["point"] = (("point",), np.arange(r.npoints))
            for n, v in vals.items():
                coords[r.var_name("params", n)] = (("point",), v, _attrs(r, "params", n))
        lead, lshape = pdims + ["replicate"], pshape + [r.replicates]
        coords["replicate"] = (("replicate",), np.arange(r.replicates))
    else:
        pdims = pshape = None
        lead, lshape = ["task"], [r.ntasks]
        for n in r.params:
            coords[r.var_name("params", n)] = (("task",), _h5.read(f["params"][n]),
                                               _attrs(r, "params", n))
    coords["task"] = (lead, np.arange(r.ntasks).reshape(lshape))

    for name in r.fields:
        ds = f["results"][name]
        values = _h5.read(ds)
        extra = _h5.dims_of(ds, ["task"] + [f"{name}_dim{i}" for i in range(1, ds.ndim)])[1:]
        data[r.var_name("results", name)] = (
            lead + extra, values.reshape(lshape + list(values.shape[1:])),
            _attrs(r, "results", name, ds))
    for name in r.task_columns:
        if name in ("point", "replicate"):  # the dimensions
            continue
        values = r.status() if name == "status" else _h5.read(f["tasks"][name])
        doc = _h5.attr_value(f["tasks"][name].attrs.get("doc", "")) or None
        data[r.var_name("tasks", name)] = (lead, values.reshape(lshape),
                                           {"doc": doc} if doc else {})
    for n in r.search_columns:  # a search: each task's configuration, rung, budget
        doc = _h5.attr_value(f["search"][n].attrs.get("doc", "")) or None
        data["search_" + n] = (lead, _h5.read(f["search"][n]).reshape(lshape),
                               {"doc": doc} if doc else {})
    for n, v in r.constants.items():
        coords[r.var_name("params", n)] = ((), v, _attrs(r, "params", n))
    if scan:
        _points(r, data, coords, pdims, pshape)
    attrs = {k: v for k, v in r.provenance.items()}
    if r.scan is not None:
        attrs["scan"] = r.scan
    attrs["failures"] = r.failures()
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    if used_only and r.tasks_used is not None and not scan:
        ds = ds.isel(task=slice(0, r.tasks_used))  # a run stop_when ended
    return ds


_POINT_DOCS = {
    "mean": "mean of {} over the point's done replicates",
    "stderr": "standard error of the mean of {}",
    "derived": "derived quantity {} from the point's pooled means",
    "derived_err": "jackknife error of derived {}",
    "reduce": "reduction of {} over the point's done replicates",
}


def _points(r, data, coords, pdims, pshape):
    """Variables of /points over the point dimension(s): replicates, and
    /points/<group>/<name> as <group>_<name> (``points_`` before either
    where a variable or coordinate has the name already); a /points/reduce
    array keeps its field's dimension names when its shape is the
    field's."""
    g = r.file["points"]

    def free(key):
        return key if key not in data and key not in coords else "points_" + key

    if "replicates" in g:
        data[free("replicates")] = (pdims, _h5.read(g["replicates"]).reshape(pshape),
                                    {"doc": "done replicates of the point"})
    for group, name, ds in r._point_datasets():
        values = _h5.read(ds)
        extra = [f"{group}_{name}_dim{i}" for i in range(1, ds.ndim)]
        field = r.file["results"].get(name) if "results" in r.file else None
        if field is not None and field.shape[1:] == ds.shape[1:]:
            extra = [f"{name}_dim{i}" for i in range(1, ds.ndim)]
        extra = _h5.dims_of(ds, ["point"] + extra)[1:]  # the file's scales where attached
        attrs = {"doc": _POINT_DOCS[group].format(name)}
        field_key = r.name_of("results", name)
        if group in ("mean", "stderr", "reduce") and field_key in r.units:
            attrs["units"] = r.units[field_key]
        for key in ("units", "doc"):
            if key in ds.attrs:
                attrs[key] = _h5.attr_value(ds.attrs[key])
        data[free(f"{group}_{name}")] = (
            pdims + extra, values.reshape(pshape + list(values.shape[1:])), attrs)
