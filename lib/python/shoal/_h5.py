# SPDX-License-Identifier: GPL-3.0-or-later
"""Low-level helpers: open a result file, and turn what h5py returns
(bytes, numpy scalars, fixed-length and variable-length strings) into plain
Python and numpy values. Strings are always returned as ``str``, decoded as
UTF-8 with the NUL padding of fixed-length strings stripped, whether or not
the file marks them as UTF-8."""

import os

import h5py
import numpy as np


def open_file(path):
    """Open ``path`` read-only with HDF5 file locking off, so that a file a
    run is still writing can be read. Returns an ``h5py.File``.

    A path that cannot be opened raises a short error naming it, not
    HDF5's: FileNotFoundError (no such file), IsADirectoryError,
    PermissionError, ValueError (the file is not HDF5) or OSError (an HDF5
    file that HDF5 cannot open, e.g. truncated)."""
    name = os.fspath(path)
    try:
        return _open(name)
    except OSError as e:
        raise _open_error(name, e) from None


def _open(name):
    try:
        return h5py.File(name, "r", locking=False)
    except TypeError:  # an h5py without the locking argument (before 3.5)
        os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
        return h5py.File(name, "r")
    except ValueError as e:  # an HDF5 library too old for the setting
        if "locking" not in str(e):
            raise
        os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
        return h5py.File(name, "r")


def _open_error(name, err):
    """The error to raise for ``name``, which h5py failed to open with
    ``err``."""
    if not os.path.exists(name):
        return FileNotFoundError(f"{name}: no such file")
    if os.path.isdir(name):
        return IsADirectoryError(f"{name}: a directory, not a result file")
    if not os.access(name, os.R_OK):
        return PermissionError(f"{name}: not readable (permission denied)")
    try:
        hdf5 = h5py.is_hdf5(name)
    except OSError:
        hdf5 = True
    if not hdf5:
        return ValueError(f"{name}: not an HDF5 file, so not a Shoal result file")
    detail = str(err).split("(", 1)[-1].rstrip(")") if "(" in str(err) else str(err)
    return OSError(f"{name}: HDF5 cannot open it (damaged or truncated?): {detail}")


def text(value):
    """A str from bytes (UTF-8, NULs stripped) or str; others unchanged."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).rstrip(b"\0").decode("utf-8", "replace")
    if isinstance(value, str):
        return value.rstrip("\0")
    return value


def attr_value(value):
    """An attribute as plain Python: str for strings, int/float/bool for
    numeric scalars, a list of str for string arrays, numpy arrays for
    other arrays."""
    if isinstance(value, (bytes, np.bytes_, str)):
        return text(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO" or value.dtype.kind == "U":
            return [text(v) for v in value.ravel()]
        if value.ndim == 0:
            return value.item()
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def is_string(dataset):
    """Whether a dataset holds strings (fixed or variable length)."""
    return dataset.dtype.kind == "S" or h5py.check_string_dtype(dataset.dtype) is not None


def read(dataset, rows=None):
    """The dataset's values as a numpy array (``rows``: an index or slice of
    the first dimension); strings become an object array of str."""
    sel = slice(None) if rows is None else rows
    if dataset.shape == ():
        data = dataset[()]
    else:
        data = dataset[sel]
    if is_string(dataset):
        arr = np.asarray(data, dtype=object)
        out = np.empty(arr.shape, dtype=object)
        for idx, v in np.ndenumerate(arr):
            out[idx] = text(v)
        return out
    return np.asarray(data)


def dims_of(dataset, default):
    """Names of a dataset's dimensions: the dimension scale attached to each
    axis where the file has one, else ``default[i]``."""
    names = list(default)
    for i in range(min(len(names), dataset.ndim)):
        try:
            scales = dataset.dims[i]
            if len(scales):
                names[i] = scales[0].name.rsplit("/", 1)[-1]
        except (RuntimeError, KeyError, ValueError, TypeError):
            pass
    return names


def parse_constant(value):
    """A constant as stored by older files (always a string) as a number
    where it parses as one; typed values pass through."""
    value = attr_value(value)
    if not isinstance(value, str):
        return value
    s = value.strip()
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return value
