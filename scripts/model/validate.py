# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of scripts/model/shoal_model against real runs on this machine.

    /usr/bin/python3 scripts/model/validate.py OUT_DIR [--reps R] [--quick]

Each case runs apps/bench_spin (or bench_empty) under mpirun at 1, 2 or 3
ranks, every run under the exclusive benchmark lock (flock -x
/tmp/shoal-bench.lock), then replays it in the model: the model gets that
run's own per-task times (/tasks/seconds, as float64, --dist file), so the
comparison is of the protocol and its costs, not of two draws of the costs.
Compared: the pool's wall time (Shoal's summary line, rank 0) against the
model's makespan, the efficiency (sum of the task times / (cores x wall),
cores = min(ranks that run tasks, cores of the machine), as
scripts/bench/b_balance.sh does), and the number of runs of consecutive
tasks on one rank (/tasks/rank; the model counts the same from its ranges:
a lower bound of the ranges, what the file can show).

Writes OUT_DIR/validation.jsonl (one line per run) and
OUT_DIR/validation.md (the table docs/scaling.md shows: medians over the
repetitions). The model's machine parameters are its defaults (measured
here, docs/scaling.md) unless MODEL_ARGS in the environment adds others.
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SHOAL_BUILD", os.path.join(ROOT, "build"))
MODEL = os.path.join(BUILD, "scripts", "model", "shoal_model")
LOCK = "/tmp/shoal-bench.lock"
NCORES = os.cpu_count() or 1

# 2 MiB of row buffers (lib/src/app.c) / bytes per row (settings.c: the
# outputs + 14): bench_spin has 3 float64 outputs, bench_empty 1.
MAX_RANGE = {"bench_spin": (2 << 20) // (3 * 8 + 14), "bench_empty": (2 << 20) // (8 + 14)}

# name, app, settings, ranks, master_works, tasks (full, quick)
CASES = [
    ("const_1ms", "bench_spin", {"dist": "constant", "mean_ms": "1"}, [1, 2, (3, 0)], (4000, 1500)),
    ("pareto_1ms", "bench_spin", {"dist": "pareto", "mean_ms": "1"}, [1, 2, (3, 0)], (4000, 1500)),
    ("const_10us", "bench_spin", {"dist": "constant", "mean_ms": "0.01"}, [1, 2, (3, 0)],
     (300000, 100000)),
    ("const_100ms", "bench_spin", {"dist": "constant", "mean_ms": "100"}, [2, (3, 0)], (41, 21)),
    ("empty_r100", "bench_empty", {"max_range_tasks": "100"}, [1, 2], (2000000, 500000)),
]


def run_real(app, settings, ranks, works, tasks, seed, h5):
    exe = os.path.join(BUILD, "apps", app, app)
    cfg = os.path.join(ROOT, "configs", app + ".ini")
    cmd = ["mpirun", "-n", str(ranks)]
    if ranks > NCORES:
        cmd.append("--oversubscribe")
    cmd += [exe, cfg, "--set", "run.tasks=%d" % tasks, "--set", "run.seed=%d" % seed,
            "--set", "run.master_works=%s" % ("true" if works else "false"), "-o", h5, "-f"]
    for k, v in settings.items():
        sect = "run" if k == "max_range_tasks" else app
        cmd += ["--set", "%s.%s=%s" % (sect, k, v)]
    full = ["flock", "-x", LOCK, "timeout", "300"] + cmd
    out = subprocess.run(full, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("validate: %s failed (%d):\n%s%s" % (" ".join(cmd), out.returncode,
                                                      out.stdout, out.stderr))
    m = re.search(r"^%s: .* on \d+ ranks? in ([0-9.]+) s" % app, out.stdout + out.stderr, re.M)
    if not m:
        sys.exit("validate: no wall time in the output of %s:\n%s" % (" ".join(cmd), out.stdout))
    return float(m.group(1)), " ".join(shlex.quote(c) for c in cmd)


def runs_of(rank):
    return int(1 + np.count_nonzero(rank[1:] != rank[:-1])) if len(rank) else 0


def run_model(ranks, works, tasks, costs_path, max_range, extra):
    cmd = [MODEL, "--ranks", str(ranks), "--tasks", str(tasks), "--dist", "file",
           "--costs", costs_path, "--master-works", str(works), "--max-range",
           str(max_range)] + extra
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("validate: %s failed:\n%s" % (" ".join(cmd), out.stderr))
    return json.loads(out.stdout), " ".join(cmd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    extra = shlex.split(os.environ.get("MODEL_ARGS", ""))
    rows = []
    tmp = tempfile.mkdtemp(prefix="shoal-model-val-")
    h5 = os.path.join(tmp, "run.h5")
    costs = os.path.join(tmp, "costs.f64")
    try:
        for rep in range(a.reps):
            for name, app, settings, rank_list, sizes in CASES:
                tasks = sizes[1] if a.quick else sizes[0]
                for rk in rank_list:
                    ranks, works = (rk if isinstance(rk, tuple) else (rk, 1))
                    seed = 20261201 + rep
                    wall, cmd = run_real(app, settings, ranks, works, tasks, seed, h5)
                    with h5py.File(h5, "r") as f:
                        sec = f["tasks/seconds"][:].astype(np.float64)
                        rank = f["tasks/rank"][:]
                        if "results/spun_cpu" in f:
                            spun = float(f["results/spun_cpu"][:].sum())
                        else:
                            spun = float(sec.sum())
                    sec.tofile(costs)
                    mr = int(settings.get("max_range_tasks", MAX_RANGE[app]))
                    if mr > MAX_RANGE[app]:
                        mr = MAX_RANGE[app]
                    m, mcmd = run_model(ranks, works, tasks, costs, mr, extra)
                    cores = min(ranks - (0 if works or ranks == 1 else 1), NCORES)
                    row = {
                        "case": name, "ranks": ranks, "master_works": works, "tasks": tasks,
                        "rep": rep, "seed": seed, "cores": cores,
                        "real_wall_s": wall, "model_wall_s": m["makespan_s"],
                        "real_eff": spun / (cores * wall),
                        "real_eff_tasks": float(sec.sum()) / (cores * wall),
                        "model_eff": float(sec.sum()) / (cores * m["makespan_s"]),
                        "real_runs": runs_of(rank), "model_runs": m["runs"],
                        "model_ranges": m["ranges"], "command": cmd, "model_command": mcmd,
                    }
                    rows.append(row)
                    print("validate: %-12s P=%d%s rep %d: real %.4g s, model %.4g s (%+.1f%%), "
                          "runs %d / %d" % (name, ranks, "" if works else " (rank 0 schedules only)",
                                            rep, wall, m["makespan_s"],
                                            100 * (m["makespan_s"] / wall - 1),
                                            row["real_runs"], row["model_runs"]), flush=True)
    finally:
        for p in (h5, costs):
            if os.path.exists(p):
                os.remove(p)
        os.rmdir(tmp)
    with open(os.path.join(a.out, "validation.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    write_table(rows, os.path.join(a.out, "validation.md"))


def write_table(rows, path):
    med = statistics.median
    keys = []
    for r in rows:
        k = (r["case"], r["ranks"], r["master_works"])
        if k not in keys:
            keys.append(k)
    lines = ["| case | ranks | tasks | real wall (s) | model (s) | error | real eff. | model eff. "
             "| runs real / model | model ranges | reps |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    errs = []
    for k in keys:
        rs = [r for r in rows if (r["case"], r["ranks"], r["master_works"]) == k]
        e = [r["model_wall_s"] / r["real_wall_s"] - 1 for r in rs]
        errs.extend(e)
        lab = "%d%s" % (k[1], "" if k[2] else " (rank 0 schedules only)")
        lines.append("| %s | %s | %d | %.4g | %.4g | %+.1f%% (%+.1f to %+.1f) | %.3f | %.3f | %d / %d | %d | %d |" % (
            k[0], lab, rs[0]["tasks"], med([r["real_wall_s"] for r in rs]),
            med([r["model_wall_s"] for r in rs]), 100 * med(e), 100 * min(e), 100 * max(e),
            med([r["real_eff_tasks"] for r in rs]), med([r["model_eff"] for r in rs]),
            med([r["real_runs"] for r in rs]), med([r["model_runs"] for r in rs]),
            med([r["model_ranges"] for r in rs]), len(rs)))
    lines.append("")
    lines.append("Median |error| over all runs: %.1f%%; largest: %.1f%%." % (
        100 * med([abs(x) for x in errs]), 100 * max(abs(x) for x in errs)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
