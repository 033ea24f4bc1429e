#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python multiprocessing.Pool peer for the dispatch benchmark (b_dispatch.sh).

Empty tasks that each produce one float64 (index / 2), handed out with
Pool(workers).imap_unordered; the parent stores every result at its index in
a float64 array, as Shoal stores each task's row. Pool start-up and a
warm-up map are outside the timer; each chunk size is timed separately in
the same pool.

    /usr/bin/python3 scripts/bench/peers/py_pool.py WORKERS CHUNK:NTASKS ...

prints one line per CHUNK:NTASKS pair:
    py_pool workers=W chunksize=C ntasks=N seconds=S tasks_per_s=X ok
"""
import array
import multiprocessing
import sys
import time


def empty_task(i):
    return i, 0.5 * i


def run(pool, workers, chunksize, ntasks):
    res = array.array("d", bytes(8 * ntasks))
    t0 = time.perf_counter()
    for i, x in pool.imap_unordered(empty_task, range(ntasks), chunksize=chunksize):
        res[i] = x
    seconds = time.perf_counter() - t0
    ok = sum(res) == 0.25 * ntasks * (ntasks - 1)
    print(f"py_pool workers={workers} chunksize={chunksize} ntasks={ntasks} "
          f"seconds={seconds:.6f} tasks_per_s={ntasks / seconds:.1f} "
          f"{'ok' if ok else 'MISMATCH'}", flush=True)
    return ok


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    workers = int(argv[1])
    cases = [tuple(int(v) for v in a.split(":")) for a in argv[2:]]
    ok = True
    with multiprocessing.Pool(workers) as pool:
        pool.map(empty_task, range(workers * 10), chunksize=1)  # warm up
        for chunksize, ntasks in cases:
            ok = run(pool, workers, chunksize, ntasks) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
