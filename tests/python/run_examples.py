#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""python_examples: every ```python block of README.md and docs/*.md runs
as written. Each block runs in its own /usr/bin/python3 process in one
scratch directory, with PYTHONPATH at build/python; the result files a
block names ("name.h5") are made first by the commands the docs give, with
small settings (few tasks, short chains) and the same output names. A block
that fails, or names a file this script cannot make, fails the test with
its file and line.

Environment (set by ctest): SHOAL_BUILD, SHOAL_SRC, SHOAL_MPIEXEC,
SHOAL_NPFLAG, SHOAL_MPI_PREFLAGS, SHOAL_MPI_POSTFLAGS, PYTHONPATH.
Rerun: ctest --test-dir build -R python_examples -V"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BUILD, SRC = os.environ["SHOAL_BUILD"], os.environ["SHOAL_SRC"]


def launch(work, np_, exe, *args):
    cmd = [os.environ["SHOAL_MPIEXEC"], os.environ["SHOAL_NPFLAG"], str(np_)]
    cmd += os.environ.get("SHOAL_MPI_PREFLAGS", "").split()
    cmd += [os.path.join(BUILD, exe)] + os.environ.get("SHOAL_MPI_POSTFLAGS", "").split()
    cmd += list(args) + ["-q"]
    p = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")


def make_frames_analysis(work):
    """docs/analysis.md's file list: an analysis over frames/*.h5."""
    os.makedirs(os.path.join(work, "frames"), exist_ok=True)
    rng = np.random.default_rng(3)
    for i in range(3):
        with h5py.File(os.path.join(work, "frames", f"f{i}.h5"), "w") as f:
            f["frame"] = rng.normal(size=20 + i)
    with open(os.path.join(work, "frames.ini"), "w") as f:
        f.write("[input]\nfiles = frames/*.h5\ndatasets = /frame\n[input_app]\ndatasets = 1\n")
    launch(work, 1, "tests/mpi/input_app", "frames.ini", "-o", "frames_analysis.h5")


#: The files the examples read, and how to make each (README's commands,
#: scaled down).
MAKERS = {
    "mc_pi.h5": lambda w: launch(w, 2, "apps/mc_pi/mc_pi", os.path.join(SRC, "configs/mc_pi.ini"),
                                 "--set", "run.tasks=8", "--set", "mc_pi.samples=10000"),
    "ising_scan.h5": lambda w: launch(
        w, 2, "apps/ising2d/ising2d", os.path.join(SRC, "configs/ising_scan.ini"),
        "--set", "scan.L=8, 4", "--set", "scan.T=linspace(2, 2.6, 4)",
        "--set", "sampling.replicates=2", "--set", "ising2d.therm_sweeps=10",
        "--set", "ising2d.meas_sweeps=50"),
    "frames_analysis.h5": make_frames_analysis,
    "ml_tune_halving.h5": lambda w: launch(
        w, 2, "apps/ml_tune/ml_tune", os.path.join(SRC, "configs/ml_tune_halving.ini"),
        "--set", "search.min_budget=1", "--set", "search.max_budget=9",
        "--set", "ml_tune.test=0", "--set", "ml_tune.data=" + os.environ["SHOAL_DIGITS"]),
    "mc_pi_adaptive.h5": lambda w: launch(
        w, 2, "apps/mc_pi/mc_pi", os.path.join(SRC, "configs/mc_pi_adaptive.ini"),
        "--set", "mc_pi.samples=10000", "--set", "run.stop_when=sem(pi) < 2e-3"),
}


def blocks(path):
    """(line of the block's first code line, code) for each ```python block."""
    out, code, start = [], None, 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if code is None and line.strip() == "```python":
                code, start = [], n + 1
            elif code is not None and line.strip() == "```":
                out.append((start, "".join(code)))
                code = None
            elif code is not None:
                code.append(line)
    if code is not None:
        out.append((start, "".join(code) + "\n# unterminated block\nraise SystemExit(1)\n"))
    return out


def main():
    docs = [os.path.join(SRC, "README.md")] + sorted(glob.glob(os.path.join(SRC, "docs", "*.md")))
    work = tempfile.mkdtemp(prefix="shoal_examples_")
    made, failed, ran = set(), 0, 0
    try:
        for doc in docs:
            rel = os.path.relpath(doc, SRC)
            for line, code in blocks(doc):
                where = f"{rel}:{line}"
                names = set(re.findall(r"""["']([\w./-]+\.h5)["']""", code))
                unknown = sorted(n for n in names if n not in MAKERS)
                if unknown:
                    print(f"FAIL {where}: the block reads {', '.join(unknown)}, which "
                          f"{os.path.basename(__file__)} cannot make (add it to MAKERS)")
                    failed += 1
                    continue
                for n in sorted(names - made):
                    MAKERS[n](work)
                    made.add(n)
                script = os.path.join(work, f"block_{rel.replace('/', '_')}_{line}.py")
                with open(script, "w") as f:
                    f.write(code)
                p = subprocess.run([sys.executable, script], cwd=work, capture_output=True,
                                   text=True, timeout=120)
                ran += 1
                if p.returncode != 0:
                    print(f"FAIL {where}: the python block exits {p.returncode}:\n{p.stderr}")
                    failed += 1
                else:
                    print(f"ok   {where}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"python_examples: {ran} blocks run, {failed} failed")
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
