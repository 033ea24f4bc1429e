# SPDX-License-Identifier: GPL-3.0-or-later
"""check_selfdesc.py FILE NTASKS NPOINTS NRANKS SEGMENTS: a test_app result
file (tests/mpi/selfdesc_cases.sh) describes itself.

Every group opens with xarray (engine h5netcdf) without phony dimensions;
/results, /params and /tasks share the dimension `task`, /points `point`;
array fields have named dimensions of their own; units and doc are on the
app's datasets; constants are typed attributes of /params; text is UTF-8
(h5py, xarray); every dimension scale is attached once per dataset
dimension and lists only datasets that list it back."""
import sys

import h5py
import numpy as np
import xarray as xr

path = sys.argv[1]
ntasks, npoints, nranks, nsegments = (int(a) for a in sys.argv[2:6])


def check(ok, msg):
    if not ok:
        sys.exit(f"check_selfdesc: {path}: {msg}")


groups = ["/"]
with h5py.File(path, "r") as f:
    f.visit(lambda n: groups.append(n) if isinstance(f[n], h5py.Group) else None)

# ---- every group through xarray, named dimensions only ----
sets = {}
for g in groups:
    try:
        ds = xr.open_dataset(path, group=g, engine="h5netcdf")
    except Exception as e:  # what h5netcdf says about an unnamed dimension
        sys.exit(f"check_selfdesc: {path}: xarray cannot open group {g}: {e}")
    for d in ds.dims:
        check(not str(d).startswith("phony_dim"), f"group {g} has a phony dimension {d}")
    sets[g] = ds
for g in ("results", "params", "tasks"):
    check(dict(sets[g].dims).get("task") == ntasks,
          f"/{g} dims {dict(sets[g].dims)}, want task = {ntasks}")
for g in ("points", "points/mean", "points/params"):
    check(dict(sets[g].dims).get("point") == npoints,
          f"/{g} dims {dict(sets[g].dims)}, want point = {npoints}")
r = sets["results"]
check(r["v"].dims == ("task", "v_dim1") and r["m"].dims == ("task", "m_dim1", "m_dim2"),
      f"array fields' dimensions: v {r['v'].dims}, m {r['m'].dims}")
check(r.dims["v_dim1"] == 3 and r.dims["m_dim1"] == 2 and r.dims["m_dim2"] == 2,
      f"array dimensions' lengths: {dict(r.dims)}")
check(sets["ranks"].dims.get("rank") == nranks, f"/ranks dims {dict(sets['ranks'].dims)}")
# (a resume keeps earlier failures in slots before this segment's 64 per rank)
check(sets["failures"].dims.get("failure", 0) >= nranks * 64,
      f"/failures dims {dict(sets['failures'].dims)}")
check(sets["segments"].dims.get("segment") == nsegments,
      f"/segments dims {dict(sets['segments'].dims)}")

# ---- units and doc ----
check(r["x2"].attrs.get("units") == "m" and r["v"].attrs.get("units") == "1",
      f"units of x2, v: {r['x2'].attrs.get('units')!r}, {r['v'].attrs.get('units')!r}")
check("doc" in r["x2"].attrs and "units" not in r["k"].attrs,
      "x2 has no doc, or k (no unit declared) has units")
for g in ("params", "points/params"):
    check(sets[g]["x"].attrs.get("units") == "m", f"/{g}/x units {sets[g]['x'].attrs}")
    check(sets[g]["label"].attrs.get("doc", "").startswith("its length"),
          f"/{g}/label doc {sets[g]['label'].attrs}")
check(sets["points/mean"]["x2"].attrs.get("units") == "m", "/points/mean/x2 has no units")
check(sets["points/stderr"]["x2"].attrs.get("units") == "m", "/points/stderr/x2 has no units")
check(sets["tasks"]["seconds"].attrs.get("units") == "s", "/tasks/seconds has no units")

# ---- typed constants, their docs ----
with h5py.File(path, "r") as f:
    p = f["params"].attrs
    check(isinstance(p["fail_every"], np.integer), f"fail_every is {p['fail_every']!r}")
    check(isinstance(p["sleep_us"], np.integer), f"sleep_us is {p['sleep_us']!r}")
    check(isinstance(p["misuse"], str) and p["misuse"] == "none", f"misuse is {p['misuse']!r}")
    check(p["fail_every.doc"].startswith("fail tasks"), "fail_every.doc missing")
    check("fail_every.units" not in p, "a constant without a unit has one")
    # ---- UTF-8 text through h5py ----
    for name in ("params/label", "points/params/label", "failures/message"):
        info = h5py.check_string_dtype(f[name].dtype)
        check(info is not None and info.encoding == "utf-8", f"/{name} is not UTF-8: {info}")
        check(f[name].attrs.get("_Encoding") == "utf-8", f"/{name} has no _Encoding")
    labels = set(f["params/label"].asstr()[:])
    check(labels == {"ab", "cd\u00e9"}, f"/params/label reads {labels}")

    # ---- each scale attached once, references both ways ----
    scales = {}
    def note(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.attrs.get("CLASS") == b"DIMENSION_SCALE":
            scales[obj.name] = obj
    f.visititems(note)
    check({"/task", "/point", "/rank", "/failure", "/segment", "/v_dim1", "/m_dim1",
           "/m_dim2"} <= set(scales), f"scales: {sorted(scales)}")
    for s in scales.values():
        check(s.parent.name == "/", f"scale {s.name} is not in the root")
        refs = [(f[ref].name, int(axis)) for ref, axis in s.attrs.get("REFERENCE_LIST", [])]
        check(len(refs) == len(set(refs)), f"{s.name} lists a dataset twice: {refs}")
        for dname, axis in refs:
            attached = [x.name for x in f[dname].dims[axis].values()]
            check(attached == [s.name], f"{dname} axis {axis}: scales {attached}")
    def count(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.name not in scales:
            for k, dim in enumerate(obj.dims):
                check(len(dim) == 1, f"{obj.name} axis {k} has {len(dim)} scales")
    f.visititems(count)

# ---- UTF-8 text through xarray ----
for g in ("params", "points/params"):
    v = sets[g]["label"].values
    check(all(isinstance(x, str) for x in v), f"/{g}/label decodes to {v.dtype}")
check(isinstance(sets["failures"]["message"].values[0], str), "/failures/message is not str")
print("check_selfdesc: ok")
