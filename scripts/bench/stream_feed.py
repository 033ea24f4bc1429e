#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""stream_feed.py: the frame producer of the stream benchmark (b_stream.sh).

Frames appear in DIR at a fixed rate, renamed into place as
apps/peaks/produce_frames.py does, and the time of each rename is logged.
Unlike produce_frames.py, the frames are made before the clock starts, so
that at hundreds of frames/s the producer's own CPU (about 2 ms a frame to
draw and write one with numpy and h5py) does not compete with the consumer
on a 2-core machine: DISTINCT frames are drawn with produce_frames.py's
make_frame (same seed, size, peaks and noise as its defaults) into POOL/
once, each frame N of the run is a hard link POOL/frame_(N % DISTINCT).h5 ->
DIR.staging/frame_NNNNNN.h5, made before the start, and at its deadline
t0 + N / RATE it is renamed to DIR/frame_NNNNNN.h5 (one rename(2): atomic,
in the watched directory). The frame's content is produce_frames.py's frame
N % DISTINCT, written exactly as it writes it.

    stream_feed.py --dir DIR --count N --rate R --log CSV --pool POOL
                   [--distinct 200] [--sentinel END] [--wait-for PATH]
                   [--settle 0.5] [--keep SECONDS] [--burst K]

--wait-for: wait (at most 60 s) for PATH to exist (the consumer's output
file, or its ready file) and then --settle seconds, before the first frame.
--burst: the first K frames appear at once at the start, the rest at the
rate after them (so that every consumer process has run a frame early: a
process's first frame costs it a few MiB once, its input-reading paths).
--keep: remove each frame from DIR this long after it appeared, as a
detector's spool directory does (default: keep every frame), so that the
directory holds about RATE x SECONDS frames at any time.
--log CSV: "frame,renamed_at" lines (renamed_at: time.time() right after
the rename returned, s since 1970), written after the last frame (nothing
is written while the frames go). Prints one line:
    stream_feed: N frames at R/s: achieved A/s, late p99 L ms, max M ms ok
(late: how long after its deadline a frame was renamed).
"""
import argparse
import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PRODUCER = os.path.join(HERE, "..", "..", "apps", "peaks", "produce_frames.py")


def load_producer():
    spec = importlib.util.spec_from_file_location("produce_frames", PRODUCER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_pool(pool, distinct):
    """POOL/frame_K.h5 for K < distinct, as produce_frames.py writes frame K
    with its defaults; kept between runs."""
    os.makedirs(pool, exist_ok=True)
    missing = [k for k in range(distinct)
               if not os.path.exists(os.path.join(pool, f"frame_{k:06d}.h5"))]
    if not missing:
        return
    import h5py
    pf = load_producer()
    for k in missing:
        img, _ = pf.make_frame(1, k, (128, 128), 5, 5.0, 100.0)
        part = os.path.join(pool, f".frame_{k:06d}.h5.part")
        with h5py.File(part, "w") as f:
            f.create_dataset("image", data=img)
            f["image"].attrs["frame"] = k
            f["image"].attrs["background"] = 100.0
            f["image"].attrs["noise"] = 5.0
        os.rename(part, os.path.join(pool, f"frame_{k:06d}.h5"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--distinct", type=int, default=200)
    ap.add_argument("--sentinel")
    ap.add_argument("--wait-for")
    ap.add_argument("--settle", type=float, default=0.5)
    ap.add_argument("--keep", type=float)
    ap.add_argument("--burst", type=int, default=1)
    a = ap.parse_args()
    if a.count < 1 or not a.rate > 0 or a.distinct < 1:
        ap.error("--count, --rate and --distinct must be > 0")
    if not 1 <= a.burst <= a.count:
        ap.error("--burst must be 1 to --count")
    if a.keep is not None and not a.keep > 0:
        ap.error("--keep must be > 0 seconds")
    make_pool(a.pool, a.distinct)
    os.makedirs(a.dir, exist_ok=True)
    staging = a.dir.rstrip("/") + ".staging"
    os.makedirs(staging, exist_ok=True)
    names = [f"frame_{n:06d}.h5" for n in range(a.count)]
    for n, name in enumerate(names):
        os.link(os.path.join(a.pool, f"frame_{n % a.distinct:06d}.h5"),
                os.path.join(staging, name))
    src = [os.path.join(staging, name) for name in names]
    dst = [os.path.join(a.dir, name) for name in names]
    if a.wait_for:
        t_end = time.monotonic() + 60
        while not os.path.exists(a.wait_for):
            if time.monotonic() > t_end:
                sys.exit(f"stream_feed: {a.wait_for} did not appear within 60 s")
            time.sleep(0.01)
        time.sleep(a.settle)

    renamed = [0.0] * a.count
    late = [0.0] * a.count
    mono, wall, sleep, rename = time.monotonic, time.time, time.sleep, os.rename
    unlink, oldest = os.unlink, 0
    keep = a.keep if a.keep is not None else float("inf")
    t0 = mono()
    for n in range(a.count):
        due = t0 + max(0, n - a.burst + 1) / a.rate
        # Frames that appeared more than --keep s ago leave the directory.
        while oldest < n and due - (t0 + max(0, oldest - a.burst + 1) / a.rate) > keep:
            unlink(dst[oldest])
            oldest += 1
        wait = due - mono()
        if wait > 0:
            sleep(wait)
        rename(src[n], dst[n])
        renamed[n] = wall()
        late[n] = mono() - due
    t_last = mono()
    if a.sentinel:
        open(os.path.join(a.dir, a.sentinel), "w").close()
    with open(a.log, "w") as f:
        f.write("frame,renamed_at\n")
        f.writelines(f"{n},{t:.6f}\n" for n, t in enumerate(renamed))
    os.rmdir(staging)
    achieved = (a.count - 1) / (t_last - t0) if a.count > 1 and t_last > t0 else 0.0
    srt = sorted(late)
    p99 = srt[min(len(srt) - 1, int(0.99 * len(srt)))]
    print(f"stream_feed: {a.count} frames at {a.rate:g}/s: achieved {achieved:.1f}/s, "
          f"late p99 {1e3 * p99:.2f} ms, max {1e3 * srt[-1]:.2f} ms ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
