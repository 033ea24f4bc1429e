#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""produce_frames.py: detector-like frames written into a directory at a set
rate, with the truth beside them, for the peaks app (apps/peaks/peaks.c).

Each frame is an HDF5 file DIR/frame_NNNNNN.h5 holding /image, float32
[H x W]: a flat background, Gaussian noise of sd --noise, and 1..--max-peaks
2-D Gaussian peaks

    image[i, j] = background + sum_k A_k exp(-((j - x_k)^2 + (i - y_k)^2) / (2 s_k^2))
                  + noise

sampled at pixel centres: pixel (row i, column j) has its centre at x = j,
y = i, so x runs along a row (the column index), y down the columns (the row
index), and the image covers -0.5 <= x <= W - 0.5. A_k is the peak's height
above the background (in the image's units), s_k its sigma in pixels. Peaks
have sigma uniform in [1.2, 2.5], amplitude uniform in [8, 40] times the
noise, centres uniform at least 4 sigma from every edge and at least 6 px
from each other.

The truth goes to DIR/truth.csv (not matched by *.h5), one line per peak:
frame, peak, x, y, amplitude, sigma. It is appended and flushed before the
frame appears, so every visible frame has its truth.

Each frame is written under a hidden name (.frame_NNNNNN.h5.part), closed,
then renamed to frame_NNNNNN.h5: the rename is atomic, so a reader never
sees a partial frame, and a glob such as frames/*.h5 does not match the
hidden name. Frame n is a function of (--seed, n) alone, so a second run
with --start continues the sequence as one long run would have; a run
refuses (exit 2) to write frames whose truth the directory already holds.

    apps/peaks/produce_frames.py --dir frames --count 50 --rate 0
    apps/peaks/produce_frames.py --dir frames --count 1000 --rate 100 --sentinel END
"""
import argparse
import os
import sys
import time

import h5py
import numpy as np

SIGMA_RANGE = (1.2, 2.5)  # px
SNR_RANGE = (8.0, 40.0)  # amplitude / noise
EDGE_SIGMAS = 4.0  # centres at least this many sigma from every edge
MIN_APART = 6.0  # px between centres
TRUTH = "truth.csv"
HEADER = "frame,peak,x,y,amplitude,sigma\n"


def parse_size(text):
    """'128' (square) or 'HxW'."""
    parts = text.lower().split("x")
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not N or HxW")
    if len(dims) == 1:
        dims *= 2
    if len(dims) != 2 or min(dims) < 21:
        raise argparse.ArgumentTypeError(
            f"'{text}': want N or HxW with both at least 21 (room for a peak of "
            f"sigma {SIGMA_RANGE[1]} at {EDGE_SIGMAS:g} sigma from the edges)")
    return tuple(dims)


def make_frame(seed, frame, shape, max_peaks, noise, background):
    """The image (float32) and its peaks [(x, y, amplitude, sigma)]."""
    rng = np.random.default_rng([seed, frame])
    h, w = shape
    want = int(rng.integers(1, max_peaks + 1))
    peaks = []
    for _ in range(1000 * want):
        if len(peaks) == want:
            break
        s = rng.uniform(*SIGMA_RANGE)
        m = EDGE_SIGMAS * s
        x = rng.uniform(m, w - 1 - m)
        y = rng.uniform(m, h - 1 - m)
        if all(np.hypot(x - p[0], y - p[1]) >= MIN_APART for p in peaks):
            peaks.append((x, y, rng.uniform(*SNR_RANGE) * noise, s))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.full(shape, background, dtype=np.float64)
    for x, y, a, s in peaks:
        img += a * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s * s))
    img += rng.normal(0.0, noise, size=shape)
    return img.astype(np.float32), peaks


def main():
    ap = argparse.ArgumentParser(
        description="Write detector-like frames (HDF5, dataset /image) into a "
        "directory at a set rate, with their peaks in DIR/truth.csv.",
        epilog="Pixel (row i, column j) has its centre at x = j, y = i; "
        "amplitude is the height above the background.")
    ap.add_argument("--dir", default="frames", help="output directory (made if missing; default: frames)")
    ap.add_argument("--count", type=int, default=100, help="frames to write (default: 100)")
    ap.add_argument("--rate", type=float, default=10.0,
                    help="frames per second, averaged exactly over the run; 0: as fast as possible (default: 10)")
    ap.add_argument("--seed", type=int, default=1, help="frame n depends on (seed, n) only (default: 1)")
    ap.add_argument("--size", type=parse_size, default=(128, 128), metavar="N|HxW",
                    help="frame size in pixels (default: 128)")
    ap.add_argument("--max-peaks", type=int, default=5, help="peaks per frame are 1..this (default: 5)")
    ap.add_argument("--noise", type=float, default=5.0, help="sd of the Gaussian noise (default: 5)")
    ap.add_argument("--background", type=float, default=100.0, help="flat background level (default: 100)")
    ap.add_argument("--start", type=int, default=0,
                    help="number of the first frame, to continue an earlier run (default: 0)")
    ap.add_argument("--sentinel", metavar="NAME",
                    help="create the empty file DIR/NAME after the last frame")
    ap.add_argument("--quiet", action="store_true", help="print nothing")
    a = ap.parse_args()
    if a.count < 0 or a.start < 0 or a.seed < 0:
        ap.error("--count, --start and --seed must be >= 0")
    if a.rate < 0 or not np.isfinite(a.rate):
        ap.error("--rate must be >= 0 (0: as fast as possible)")
    if a.max_peaks < 1:
        ap.error("--max-peaks must be >= 1")
    if not a.noise > 0:
        ap.error("--noise must be > 0 (amplitudes are drawn in units of it)")
    if a.sentinel is not None and (os.sep in a.sentinel or a.sentinel.endswith(".h5")
                                   or a.sentinel in ("", ".", "..", TRUTH)):
        ap.error(f"--sentinel '{a.sentinel}': want a plain file name not ending in .h5 "
                 "(a reader would take it for a frame)")
    truth_path = os.path.join(a.dir, TRUTH)
    fresh = not os.path.exists(truth_path) or os.path.getsize(truth_path) == 0
    if not fresh:
        # A frame's truth must be there once: continue after the frames the
        # directory has, do not write them again.
        with open(truth_path) as f:
            if f.readline() != HEADER:
                ap.error(f"{truth_path} exists and is not a truth file of this program")
            have = {int(line.split(",", 1)[0]) for line in f if line.strip()}
        again = sorted(n for n in have if a.start <= n < a.start + a.count)
        if again:
            ap.error(f"{truth_path} already has frame {again[0]}; continue with "
                     f"--start {max(have) + 1}, or use another --dir")
    os.makedirs(a.dir, exist_ok=True)

    t0 = time.monotonic()
    with open(truth_path, "a") as truth:
        if fresh:
            truth.write(HEADER)
        for k in range(a.count):
            n = a.start + k
            img, peaks = make_frame(a.seed, n, a.size, a.max_peaks, a.noise, a.background)
            name = f"frame_{n:06d}.h5"
            part = os.path.join(a.dir, f".{name}.part")
            with h5py.File(part, "w") as f:
                f.create_dataset("image", data=img)
                f["image"].attrs["frame"] = n
                f["image"].attrs["background"] = a.background
                f["image"].attrs["noise"] = a.noise
            for p, (x, y, amp, s) in enumerate(peaks):
                truth.write(f"{n},{p},{x:.6f},{y:.6f},{amp:.6f},{s:.6f}\n")
            truth.flush()
            # Frame k is due at t0 + k / rate: deadlines, not sleeps between
            # frames, so the time spent writing does not slow the average.
            if a.rate > 0:
                wait = t0 + k / a.rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            os.rename(part, os.path.join(a.dir, name))
            t_last = time.monotonic()
    if a.sentinel is not None:
        open(os.path.join(a.dir, a.sentinel), "w").close()
    dt = time.monotonic() - t0
    if not a.quiet:
        # The rate between the first frame and the last.
        span = t_last - t0 if a.count > 1 else 0.0
        rate = f", {(a.count - 1) / span:.1f} frames/s" if span > 0 else ""
        which = f" ({a.start}..{a.start + a.count - 1})" if a.count else ""
        print(f"produce_frames: {a.count} frames{which} in {a.dir}/ in {dt:.2f} s{rate}; "
              f"truth in {truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
