#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check_peaks.py: compare a peaks result file with the truth that
apps/peaks/produce_frames.py wrote (truth.csv beside the frames).

Task i's frame is /stream/source[i] in a stream's file ([stream], e.g.
configs/peaks_stream.ini), else /input/path[i] (a file-list input, e.g.
configs/peaks_files.ini); it counts when /tasks/status[i] is 1 (done). Frames are matched to the truth by file name
(frame_NNNNNN.h5 is frame NNNNNN). In each frame the found peaks are matched
to the true ones one-to-one, nearest first, within --radius pixels.

Prints recall (matched / true), precision (matched / found), the RMS
distance of the matched pairs, and the median relative error of their
amplitude and sigma. Exits 1, saying why, if recall or precision is below
its bound, the RMS above its bound, a frame of the truth has no done task
(unless --allow-missing), a frame is done more than once, or a done frame
has no truth; 2 on a usage error or an unreadable file; 0 otherwise.

    apps/peaks/check_peaks.py peaks_files.h5 --truth frames/truth.csv
    apps/peaks/check_peaks.py peaks_stream.h5 --truth frames/truth.csv
"""
import argparse
import csv
import os
import re
import sys
from collections import Counter, defaultdict

import h5py
import numpy as np

FRAME_RE = re.compile(r"^frame_(\d+)\.h5$")


def read_truth(path):
    """{frame number: array [n, 4] of x, y, amplitude, sigma}."""
    rows = defaultdict(list)
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        want = {"frame", "peak", "x", "y", "amplitude", "sigma"}
        if r.fieldnames is None or not want <= set(r.fieldnames):
            raise ValueError(f"{path}: want the columns {', '.join(sorted(want))}, "
                             f"got {r.fieldnames}")
        for line in r:
            rows[int(line["frame"])].append(
                [float(line[k]) for k in ("x", "y", "amplitude", "sigma")])
    return {k: np.array(v) for k, v in rows.items()}


def read_results(path):
    with h5py.File(path, "r") as f:
        # A stream's file names each task's frame in /stream/source; a file
        # list's in /input/path.
        where = "stream/source" if "stream" in f else "input/path"
        if where not in f:
            raise ValueError(f"{path}: no /input/path or /stream/source (not a run over "
                             "a file list or a stream)")
        paths = [p.decode() for p in f[where][:]]
        status = f["tasks/status"][:]
        r = {k: f["results"][k][:] for k in ("npeaks", "x", "y", "amplitude", "sigma")}
    return paths, status, r


def match(found, true, radius):
    """One-to-one pairs (i_found, i_true, distance), nearest first."""
    if len(found) == 0 or len(true) == 0:
        return []
    d = np.hypot(found[:, None, 0] - true[None, :, 0], found[:, None, 1] - true[None, :, 1])
    pairs, used_f, used_t = [], set(), set()
    for flat in np.argsort(d, axis=None, kind="stable"):
        i, j = divmod(int(flat), d.shape[1])
        if d[i, j] > radius:
            break
        if i in used_f or j in used_t:
            continue
        used_f.add(i)
        used_t.add(j)
        pairs.append((i, j, d[i, j]))
    return pairs


def main():
    ap = argparse.ArgumentParser(description="Compare a peaks result file with the "
                                 "producer's truth.csv.")
    ap.add_argument("result", help="result file of the peaks app")
    ap.add_argument("--truth", help="the producer's truth.csv (default: truth.csv in the "
                    "directory of the first input file)")
    ap.add_argument("--allow-missing", action="store_true",
                    help="frames of the truth without a done task are not an error "
                    "(a partial run, or frames that failed); only done frames count")
    ap.add_argument("--quiet", action="store_true", help="print only failures")
    ap.add_argument("--radius", type=float, default=2.0,
                    help="largest distance of a match in pixels (default: 2)")
    ap.add_argument("--min-recall", type=float, default=0.95)
    ap.add_argument("--min-precision", type=float, default=0.95)
    ap.add_argument("--max-rms", type=float, default=0.3, help="pixels (default: 0.3)")
    a = ap.parse_args()

    try:
        paths, status, r = read_results(a.result)
        truth_path = a.truth or os.path.join(os.path.dirname(paths[0]) if paths else ".",
                                             "truth.csv")
        truth = read_truth(truth_path)
    except (OSError, ValueError, KeyError) as e:
        print(f"check_peaks: {e}", file=sys.stderr)
        return 2

    problems = []
    done = [i for i, s in enumerate(status) if s == 1]
    # Frame numbers of the done tasks, by file name.
    frame_of = {}
    for i in done:
        m = FRAME_RE.match(os.path.basename(paths[i]))
        if not m:
            problems.append(f"task {i}: '{paths[i]}' is not named frame_NNNNNN.h5")
            continue
        frame_of[i] = int(m.group(1))
    counts = Counter(frame_of.values())
    dups = sorted(k for k, c in counts.items() if c > 1)
    if dups:
        problems.append(f"{len(dups)} frame(s) done more than once, e.g. frame {dups[0]} by "
                        f"tasks {[i for i, k in frame_of.items() if k == dups[0]]}")
    extra = sorted(set(counts) - set(truth))
    if extra:
        problems.append(f"{len(extra)} done frame(s) not in {truth_path}, e.g. frame {extra[0]}")
    missing = sorted(set(truth) - set(counts))
    if missing and not a.allow_missing:
        problems.append(f"{len(missing)} of {len(truth)} frames of {truth_path} have no done "
                        f"task, e.g. frame_{missing[0]:06d}.h5 (--allow-missing for a "
                        "partial run)")

    ntrue = nfound = 0
    dist, amp_err, sig_err = [], [], []
    seen = set()
    for i, k in sorted(frame_of.items()):
        if k not in truth or k in seen:
            continue
        seen.add(k)
        n = int(r["npeaks"][i])
        found = np.stack([r[c][i, :n] for c in ("x", "y", "amplitude", "sigma")], axis=1)
        true = truth[k]
        ntrue += len(true)
        nfound += n
        for fi, ti, d in match(found, true, a.radius):
            dist.append(d)
            amp_err.append(abs(found[fi, 2] - true[ti, 2]) / true[ti, 2])
            sig_err.append(abs(found[fi, 3] - true[ti, 3]) / true[ti, 3])
    nmatch = len(dist)
    recall = nmatch / ntrue if ntrue else float("nan")
    precision = nmatch / nfound if nfound else float("nan")
    rms = float(np.sqrt(np.mean(np.square(dist)))) if dist else float("nan")
    med_amp = float(np.median(amp_err)) if amp_err else float("nan")
    med_sig = float(np.median(sig_err)) if sig_err else float("nan")
    if not a.quiet:
        print(f"check_peaks: {a.result}: {len(seen)} frames checked "
              f"({len(done)} tasks done of {len(status)}, {len(truth)} frames in the truth"
              f"{f', {len(missing)} missing' if missing else ''})")
        print(f"check_peaks: {ntrue} true peaks, {nfound} found, {nmatch} matched within "
              f"{a.radius:g} px")
        print(f"check_peaks: recall {recall:.4f}, precision {precision:.4f}, "
              f"RMS position error {rms:.4f} px, median relative amplitude error "
              f"{med_amp:.4f}, median relative sigma error {med_sig:.4f}")
    if not seen:
        problems.append("no done frame to check")
    if not recall >= a.min_recall:
        problems.append(f"recall {recall:.4f} < {a.min_recall:g}")
    if not precision >= a.min_precision:
        problems.append(f"precision {precision:.4f} < {a.min_precision:g}")
    if not rms <= a.max_rms:
        problems.append(f"RMS position error {rms:.4f} px > {a.max_rms:g} px")
    for p in problems:
        print(f"check_peaks: FAIL: {p}", file=sys.stderr)
    if not problems and not a.quiet:
        print("check_peaks: pass")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
