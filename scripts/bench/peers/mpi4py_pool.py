#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""mpi4py.futures peer for the dispatch benchmark (b_dispatch.sh).

Run with one master rank plus W worker ranks:

    mpirun -n W+1 /usr/bin/python3 -m mpi4py.futures \
        scripts/bench/peers/mpi4py_pool.py CHUNK:NTASKS ...

Rank 0 runs this script; MPIPoolExecutor uses the other ranks as workers.
Empty tasks that each produce one float64 (index / 2), handed out with
executor.map(..., unordered=True); the master stores every result at its
index in a float64 array, as Shoal stores each task's row. Executor start-up
and a warm-up map are outside the timer; each chunk size is timed separately
with the same executor. Prints one line per CHUNK:NTASKS pair:
    mpi4py_pool ranks=R workers=W chunksize=C ntasks=N seconds=S tasks_per_s=X ok
"""
import array
import sys
import time

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor


def empty_task(i):
    return i, 0.5 * i


def run(ex, nworkers, chunksize, ntasks):
    res = array.array("d", bytes(8 * ntasks))
    t0 = time.perf_counter()
    for i, x in ex.map(empty_task, range(ntasks), chunksize=chunksize,
                       unordered=True):
        res[i] = x
    seconds = time.perf_counter() - t0
    ok = sum(res) == 0.25 * ntasks * (ntasks - 1)
    print(f"mpi4py_pool ranks={MPI.COMM_WORLD.Get_size()} workers={nworkers} "
          f"chunksize={chunksize} ntasks={ntasks} seconds={seconds:.6f} "
          f"tasks_per_s={ntasks / seconds:.1f} {'ok' if ok else 'MISMATCH'}",
          flush=True)
    return ok


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cases = [tuple(int(v) for v in a.split(":")) for a in argv[1:]]
    nworkers = MPI.COMM_WORLD.Get_size() - 1
    if nworkers < 1:
        sys.stderr.write("mpi4py_pool: run under mpirun -n W+1 ... -m mpi4py.futures\n")
        return 2
    ok = True
    with MPIPoolExecutor() as ex:
        list(ex.map(empty_task, range(nworkers * 10)))  # warm up
        for chunksize, ntasks in cases:
            ok = run(ex, nworkers, chunksize, ntasks) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
