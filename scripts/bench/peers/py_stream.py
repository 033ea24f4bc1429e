#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python peer of the stream benchmark (b_stream.sh): the peaks app's
analysis in numpy/scipy, one frame per task, on a multiprocessing.Pool fed
by a directory watcher.

    /usr/bin/python3 scripts/bench/peers/py_stream.py --watch DIR --out OUT.h5
        [--pattern '*.h5'] [--sentinel END] [--workers 2] [--ready FILE]

The watcher is inotify (IN_MOVED_TO | IN_CLOSE_WRITE on DIR), called through
ctypes from the C library, so nothing beyond the standard library, numpy,
scipy and h5py is needed; it blocks in poll(2) between events, as Shoal's
rank 0 does not (it looks at its source every millisecond from its pool's
tick). Each file whose name matches the pattern goes to
Pool(workers).apply_async as it appears; the sentinel file ends the stream
once every frame before it is done. The pool is started and warmed up
before FILE (--ready) is created.

Each result is written into OUT.h5 as it comes back (in the pool's result
thread, in the parent): one row of /results/{npeaks, x, y, amplitude, sigma,
fitted, background, noise, candidates, spikes} (chunked datasets grown by
4096 rows, as Shoal's stream file), then the file is flushed, then the time
is taken: /stream/stored, as Shoal's. /stream/{source, arrived, started,
finished, stored} are written at the end (s since 1970): arrived when the
parent saw the event, started and finished in the worker around the
analysis (the HDF5 read included, as in Shoal's task times).

The analysis follows apps/peaks/peaks.c step by step (median and 1.4826 x
MAD; 3x3 local maxima above background + 5 noise, ties on a plateau giving
one, the brightest 32; deblending, brightest first, on a residual image;
a second pass with the neighbours subtracted; a fit of A, x0, y0, s, B over
the 11x11 box, spikes below 0.5 px dropped, a centroid where the fit fails
or wanders more than 2 px; merging within 3 px; the brightest 16). What
differs: the fit is scipy.optimize.least_squares(method="lm"), MINPACK's
Levenberg-Marquardt, with xtol = gtol = 1e-8, ftol = 1e-10 and at most 200
evaluations, where peaks.c uses GSL's multifit_nlinear (its trust-region LM,
Cholesky, 100 iterations, xtol = gtol = 1e-8, ftol 0): the two stop at
slightly different points and may disagree on the rare fit at a limit.
"""
import argparse
import ctypes
import ctypes.util
import fnmatch
import math
import multiprocessing
import os
import select
import struct
import sys
import threading
import time

import h5py
import numpy as np
from scipy.optimize import least_squares

MAX_PEAKS = 16
MAX_CAND = 2 * MAX_PEAKS
MIN_SIGMA = 0.5
MAX_SHIFT = 2.0
MAD_TO_SD = 1.4826
THRESHOLD = 5.0
WINDOW = 5
MIN_SEP = 3.0

# ---- the analysis (apps/peaks/peaks.c) -------------------------------------------


def lround(v):
    return int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5))


def candidates(img, level):
    """Local maxima of the 3x3 neighbourhood above level, brightest first
    (ties in memory order), at most MAX_CAND; and how many there were."""
    h, w = img.shape
    p = np.pad(img, 1, constant_values=-np.inf)
    c = p[1:-1, 1:-1]
    ok = c > level
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di == 0 and dj == 0:
                continue
            nb = p[1 + di:1 + di + h, 1 + dj:1 + dj + w]
            before = di < 0 or (di == 0 and dj < 0)
            ok &= (nb < c) if before else (nb <= c)
    idx = np.flatnonzero(ok)
    order = np.argsort(-img.ravel()[idx], kind="stable")
    return idx[order[:MAX_CAND]], len(idx)


def apply_peak(resid, p, sign):
    h, w = resid.shape
    r = int(max(math.ceil(4.0 * p["s"]), WINDOW))
    i0, j0 = lround(p["y"]), lround(p["x"])
    ia, ib = max(i0 - r, 0), min(i0 + r, h - 1)
    ja, jb = max(j0 - r, 0), min(j0 + r, w - 1)
    if ia > ib or ja > jb:
        return
    yy = np.arange(ia, ib + 1)[:, None] - p["y"]
    xx = np.arange(ja, jb + 1)[None, :] - p["x"]
    resid[ia:ib + 1, ja:jb + 1] += sign * p["a"] * np.exp(-0.5 / (p["s"] ** 2) * (xx * xx + yy * yy))


def centroid(resid, p, bg):
    h, w = resid.shape
    ci, cj = p["ci"], p["cj"]
    ia, ib, ja, jb = max(ci - 2, 0), min(ci + 2, h - 1), max(cj - 2, 0), min(cj + 2, w - 1)
    box = resid[ia:ib + 1, ja:jb + 1] - bg
    ii, jj = np.mgrid[ia:ib + 1, ja:jb + 1]
    m = box > 0
    wts = np.where(m, box, 0.0)
    sw = wts.sum()
    p["a"] = resid[ci, cj] - bg
    p["b"] = bg
    p["fitted"] = 0
    if not sw > 0:
        p["x"], p["y"], p["s"] = float(cj), float(ci), 1.0
        return
    p["x"] = float((wts * jj).sum() / sw)
    p["y"] = float((wts * ii).sum() / sw)
    var = 0.5 * ((wts * (jj * jj + ii * ii)).sum() / sw - p["x"] ** 2 - p["y"] ** 2)
    p["s"] = math.sqrt(var) if var > MIN_SIGMA ** 2 else MIN_SIGMA
    p["s"] = min(p["s"], WINDOW)


def measure(resid, p, bg):
    """1: fitted, 0: by centroid, -1: a spike (p unchanged)."""
    h, w = resid.shape
    i0, j0 = lround(p["y"]), lround(p["x"])
    ii, jj = np.mgrid[i0 - WINDOW:i0 + WINDOW + 1, j0 - WINDOW:j0 + WINDOW + 1]
    inside = (ii >= 0) & (ii < h) & (jj >= 0) & (jj < w)
    yi, xj = ii[inside].astype(float), jj[inside].astype(float)
    val = resid[ii[inside], jj[inside]]

    def f(q):
        a, x0, y0, s, b = q
        return a * np.exp(-0.5 / (s * s) * ((xj - x0) ** 2 + (yi - y0) ** 2)) + b - val

    def jac(q):
        a, x0, y0, s, _ = q
        dx, dy = xj - x0, yi - y0
        r2 = dx * dx + dy * dy
        e = np.exp(-0.5 / (s * s) * r2)
        ae = a * e / (s * s)
        return np.column_stack([e, ae * dx, ae * dy, ae * r2 / s, np.ones_like(e)])

    q0 = np.array([p["a"], p["x"], p["y"], p["s"], p["b"]])
    ok = False
    try:
        with np.errstate(all="ignore"):
            r = least_squares(f, q0, jac=jac, method="lm", xtol=1e-8, gtol=1e-8,
                              ftol=1e-10, max_nfev=200)
        a, x, y, s, b = r.x
        s = abs(s)
        ok = r.status > 0
    except (ValueError, np.linalg.LinAlgError):
        a = x = y = s = b = float("nan")
    if (ok and math.isfinite(a) and math.isfinite(b) and a > 0 and MIN_SIGMA <= s <= WINDOW
            and abs(x - p["cj"]) <= MAX_SHIFT and abs(y - p["ci"]) <= MAX_SHIFT):
        p.update(a=a, x=x, y=y, s=s, b=b, fitted=1)
        return 1
    if (math.isfinite(a) and a > 0 and s < MIN_SIGMA and abs(x - p["cj"]) <= MAX_SHIFT
            and abs(y - p["ci"]) <= MAX_SHIFT):
        return -1
    centroid(resid, p, bg)
    return 0


def analyse(img):
    """The outputs of peaks.c for one frame (a 2-D float64 array)."""
    med = float(np.median(img))
    noise = MAD_TO_SD * float(np.median(np.abs(img - med)))
    bg = med
    level = bg + THRESHOLD * noise
    cand, nall = candidates(img, level)
    rows, cols = img.shape
    resid = img.copy()
    pk, spikes = [], 0
    for c in cand:
        ci, cj = divmod(int(c), cols)
        if not resid[ci, cj] > level:
            continue
        p = dict(a=resid[ci, cj] - bg, x=float(cj), y=float(ci), s=1.5, b=bg, ci=ci, cj=cj,
                 fitted=0)
        if measure(resid, p, bg) < 0:
            spikes += 1
            continue
        apply_peak(resid, p, -1.0)
        pk.append(p)
    for p in pk:
        apply_peak(resid, p, +1.0)
        if measure(resid, p, bg) < 0:
            p["a"] = -math.inf
            spikes += 1
            continue
        apply_peak(resid, p, -1.0)
    pk.sort(key=lambda p: -p["a"])
    kept = []
    for p in pk:
        if p["a"] == -math.inf:
            break
        if all(math.hypot(p["x"] - q["x"], p["y"] - q["y"]) >= MIN_SEP for q in kept):
            kept.append(p)
    kept = kept[:MAX_PEAKS]
    out = {k: np.full(MAX_PEAKS, np.nan) for k in ("x", "y", "amplitude", "sigma")}
    out["fitted"] = np.full(MAX_PEAKS, -1, dtype=np.int64)
    for k, p in enumerate(kept):
        out["x"][k], out["y"][k], out["amplitude"][k], out["sigma"][k] = p["x"], p["y"], p["a"], p["s"]
        out["fitted"][k] = p["fitted"]
    out.update(npeaks=len(kept), background=bg, noise=noise, candidates=nall, spikes=spikes)
    return out


def task(index, path):
    """One frame: read it, analyse it; times around both (s since 1970)."""
    started = time.time()
    with h5py.File(path, "r") as f:
        img = f["image"][:].astype(np.float64)
    out = analyse(img)
    return index, started, time.time(), out


def warm(_):
    return 0


# ---- the watcher ----------------------------------------------------------------

IN_CLOSE_WRITE, IN_MOVED_TO = 0x8, 0x80
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000


class Inotify:
    def __init__(self, path):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if libc.inotify_add_watch(self.fd, os.fsencode(path), IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)

    def names(self, timeout_ms):
        """File names that appeared (blocks up to timeout_ms for the first)."""
        if not self.poller.poll(timeout_ms):
            return []
        out = []
        try:
            buf = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return out
        at = 0
        while at < len(buf):
            _, _mask, _, n = struct.unpack_from("iIII", buf, at)
            name = buf[at + 16:at + 16 + n].rstrip(b"\0")
            at += 16 + n
            if name:
                out.append(os.fsdecode(name))
        return out


# ---- the results file --------------------------------------------------------------

FIELDS = [("npeaks", np.int64, ()), ("x", np.float64, (MAX_PEAKS,)),
          ("y", np.float64, (MAX_PEAKS,)), ("amplitude", np.float64, (MAX_PEAKS,)),
          ("sigma", np.float64, (MAX_PEAKS,)), ("fitted", np.int64, (MAX_PEAKS,)),
          ("background", np.float64, ()), ("noise", np.float64, ()),
          ("candidates", np.int64, ()), ("spikes", np.int64, ())]
GROW = 4096


class Store:
    def __init__(self, path):
        self.f = h5py.File(path, "w")
        g = self.f.create_group("results")
        self.d = {name: g.create_dataset(name, shape=(GROW,) + shape, maxshape=(None,) + shape,
                                         dtype=dt, chunks=(64,) + shape)
                  for name, dt, shape in FIELDS}
        self.rows = GROW
        self.started, self.finished, self.stored = {}, {}, {}
        self.lock = threading.Lock()
        self.error = None

    def put(self, res):
        index, started, finished, out = res
        with self.lock:
            if index >= self.rows:
                self.rows = (index // GROW + 1) * GROW
                for d in self.d.values():
                    d.resize(self.rows, axis=0)
            for name, d in self.d.items():
                d[index] = out[name]
            self.f.flush()
            self.started[index], self.finished[index] = started, finished
            self.stored[index] = time.time()

    def fail(self, exc):
        self.error = exc

    def close(self, sources, arrived):
        n = len(sources)
        for d in self.d.values():
            d.resize(n, axis=0)
        g = self.f.create_group("stream")
        g["source"] = np.array([s.encode() for s in sources], dtype="S")
        g["arrived"] = np.array(arrived)
        for name, m in (("started", self.started), ("finished", self.finished),
                        ("stored", self.stored)):
            g[name] = np.array([m.get(i, 0.0) for i in range(n)])
        st = np.array([1 if i in self.stored else 2 for i in range(n)], dtype=np.uint8)
        self.f.create_dataset("tasks/status", data=st)
        self.f.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--watch", required=True, help="the directory")
    ap.add_argument("--pattern", default="*.h5")
    ap.add_argument("--sentinel", default="END")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready")
    a = ap.parse_args()
    watch = Inotify(a.watch)  # before the scan, as Shoal does
    store = Store(a.out)
    sources, arrived = [], []
    seen = set()
    t0 = time.time()
    with multiprocessing.Pool(a.workers) as pool:
        pool.map(warm, range(4 * a.workers), chunksize=1)
        pending = []

        def take(names):
            ended = False
            now = time.time()
            for name in names:
                if name == a.sentinel:
                    ended = True
                elif fnmatch.fnmatch(name, a.pattern) and name not in seen:
                    seen.add(name)
                    i = len(sources)
                    sources.append(os.path.join(a.watch, name))
                    arrived.append(now)
                    pending.append(pool.apply_async(task, (i, sources[-1]), callback=store.put,
                                                    error_callback=store.fail))
            return ended

        ended = take(sorted(os.listdir(a.watch)))
        if a.ready:
            open(a.ready, "w").close()
        while not ended:
            ended = take(watch.names(100))
        for r in pending:
            r.wait()
    store.close(sources, arrived)
    if store.error is not None:
        print(f"py_stream: a task failed: {store.error!r}", file=sys.stderr)
        return 1
    print(f"py_stream: {len(sources)} frames in {time.time() - t0:.2f} s, "
          f"{len(store.stored)} stored ok", flush=True)
    return 0 if len(store.stored) == len(sources) else 1


if __name__ == "__main__":
    sys.exit(main())
