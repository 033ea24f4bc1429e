# SPDX-License-Identifier: GPL-3.0-or-later
"""Read Shoal result files.

Shoal writes one HDF5 file per run (README "The result file"). This module
reads one into pandas and xarray::

    import shoal
    with shoal.open("mc_pi.h5") as r:
        df = r.frame()              # one row per task: parameters, scalar fields, status...
        print(r.provenance["app"], r.constants, r.failures())
    ds = shoal.open_dataset("ising_scan.h5")   # xarray, the scan unstacked: (L, T, replicate)

It needs h5py and numpy; frames need pandas, datasets xarray. Files are
opened read-only with HDF5 file locking off, so a file a run is still
writing can be read (its unwritten rows have status 'pending').

A name that is both a parameter and a field (mc_pi's ``samples``), or a
field and a task column, is qualified with its group: ``params/samples``
and ``results/samples`` as frame columns and units/docs keys,
``params_samples`` and ``results_samples`` in datasets (Result.name_of).
A path that is not a Shoal result file raises FileNotFoundError,
ValueError or OSError with a one-line message naming it."""

from .result import STATUS, Result

__all__ = ["Result", "STATUS", "open", "read_frame", "open_dataset"]


def open(path):  # noqa: A001 - the module's entry point, as shoal.open
    """Open a result file: a Result (a context manager). Raises
    FileNotFoundError (no such file), ValueError (not HDF5, or HDF5 but not
    a Shoal result file: no root attribute ntasks or no /tasks/status) or
    OSError (HDF5 that cannot be opened), each naming the path."""
    return Result(path)


def read_frame(path, done_only=False):
    """The tasks of a result file as a pandas DataFrame (Result.frame)."""
    with Result(path) as r:
        return r.frame(done_only=done_only)


def open_dataset(path):
    """A result file as an xarray.Dataset, read whole into memory, with the
    scan unstacked:

    - no scan: every variable over ``task``;
    - a scan whose points form a full grid: one dimension per scanned
      parameter (named after it, its values the coordinate, in the stored
      order, first scan line slowest) and ``replicate``;
    - any other scan: ``point`` and ``replicate``, the scanned parameters
      coordinates over ``point``.

    Variables: each field (array fields keep their dimensions as the file
    names them, ``<field>_dim1``, ...), the task's ``status`` (text), ``seconds``,
    ``attempts``, ``error`` and ``rank``, and with a scan ``replicates``
    and ``<group>_<name>`` for each /points/<group>/<name> (mean_, stderr_,
    derived_, derived_err_, reduce_) over the point dimensions; the
    coordinate ``task`` gives each cell's task index. A run that [run]
    stop_when ended holds its used tasks, 0..tasks_used-1; a search adds
    ``search_point``, ``search_rung`` and ``search_budget``. Fields and parameters
    carry ``units`` and ``doc`` attributes where the file has them.
    Constants are 0-d coordinates. A name in two groups (a parameter and
    a field, a field and a task column) and ``task`` are qualified with the
    group and ``_``: ``params_samples``, ``results_samples``,
    ``tasks_status`` (Result.var_name). ``attrs``: the provenance (root
    attributes), ``scan`` (the scan's description) and ``failures`` (the
    failures() DataFrame: in memory only; drop it,
    ``ds.attrs.pop("failures")``, before ``ds.to_netcdf``)."""
    with Result(path) as r:
        return r.dataset()
