# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of scripts/model/shoal_model against real runs on this machine.

    /usr/bin/python3 scripts/model/validate.py OUT_DIR [--reps R] [--quick]
        [--groups [--replay-only]]

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

--groups: the second level instead (run.group_size, the model's --group):
the same cases at 3 ranks, groups of 2 ({0, 1}, {2}: rank 2 a sub-master
of a group of one, so 2 workers on the 2 cores), and at 4 ranks, groups of
2 ({0, 1}, {2, 3}; 3 workers on 2 cores, --oversubscribe), rank 0
scheduling only; each real run gets --set run.group_size=2 and is replayed
with --group 2 -> OUT_DIR/validation_groups.{jsonl,md}. A Shoal that does
not know run.group_size stops it with a message. --replay-only runs no real
run: each case's costs are drawn as bench_spin draws them (bench_empty: 0)
and only the model half runs (its table has no real columns); it checks
the replay without the real feature.
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


# --groups: name, app, settings, [(ranks, master_works, group_size)], tasks
GROUP_CASES = [(name, app, settings, [(3, 0, 2), (4, 0, 2)], sizes)
               for name, app, settings, _, sizes in CASES]


GROUP_NOTE = ("Efficiencies: real over min(task ranks, %d cores); the model's over its own "
              "task ranks, each of which it gives a core. In the oversubscribed runs (3 task "
              "ranks on %d cores) each task's wall time (/tasks/seconds, what the model "
              "replays) already holds the sharing of the cores, so their times compare "
              "and their real efficiencies over %d cores exceed 1." % (NCORES, NCORES, NCORES))


def run_real(app, settings, ranks, works, tasks, seed, h5, group=0):
    exe = os.path.join(BUILD, "apps", app, app)
    cfg = os.path.join(ROOT, "configs", app + ".ini")
    cmd = ["mpirun", "-n", str(ranks)]
    if ranks > NCORES:
        cmd.append("--oversubscribe")
    cmd += [exe, cfg, "--set", "run.tasks=%d" % tasks, "--set", "run.seed=%d" % seed,
            "--set", "run.master_works=%s" % ("true" if works else "false"), "-o", h5, "-f"]
    if group:
        cmd += ["--set", "run.group_size=%d" % group]
    for k, v in settings.items():
        sect = "run" if k == "max_range_tasks" else app
        cmd += ["--set", "%s.%s=%s" % (sect, k, v)]
    full = ["flock", "-x", LOCK, "timeout", "300"] + cmd
    out = subprocess.run(full, capture_output=True, text=True)
    if out.returncode != 0 and group and "group_size" in out.stdout + out.stderr:
        sys.exit("validate: this Shoal does not know run.group_size yet (%s):\n%s%s" % (
            " ".join(cmd), out.stdout, out.stderr))
    if out.returncode != 0:
        sys.exit("validate: %s failed (%d):\n%s%s" % (" ".join(cmd), out.returncode,
                                                      out.stdout, out.stderr))
    m = re.search(r"^%s: .* on \d+ ranks? in ([0-9.]+) s" % app, out.stdout + out.stderr, re.M)
    if not m:
        sys.exit("validate: no wall time in the output of %s:\n%s" % (" ".join(cmd), out.stdout))
    return float(m.group(1)), " ".join(shlex.quote(c) for c in cmd)


def runs_of(rank):
    return int(1 + np.count_nonzero(rank[1:] != rank[:-1])) if len(rank) else 0


def run_model(ranks, works, tasks, costs_path, max_range, extra, group=0):
    cmd = [MODEL, "--ranks", str(ranks), "--tasks", str(tasks), "--dist", "file",
           "--costs", costs_path, "--master-works", str(works), "--max-range",
           str(max_range)] + (["--group", str(group), "--group-floor", "1"] if group else []) + extra
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("validate: %s failed:\n%s" % (" ".join(cmd), out.stderr))
    return json.loads(out.stdout), " ".join(cmd)


def draw_costs(app, settings, tasks, seed):
    """Per-task seconds as bench_spin draws them (not its generator), for
    --replay-only; bench_empty's tasks cost nothing."""
    if app != "bench_spin":
        return np.zeros(tasks)
    mean = 1e-3 * float(settings.get("mean_ms", "1"))
    if settings.get("dist", "pareto") == "constant":
        return np.full(tasks, mean)
    alpha, cap = float(settings.get("alpha", "1.5")), float(settings.get("cap", "100"))
    u = np.random.default_rng(seed).random(tasks)
    return np.minimum(mean * (alpha - 1) / alpha * (1 - u) ** (-1 / alpha), cap * mean)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--groups", action="store_true",
                    help="the second level (run.group_size) -> validation_groups.*")
    ap.add_argument("--replay-only", action="store_true",
                    help="with --groups: no real runs, the model half only")
    a = ap.parse_args()
    if a.replay_only and not a.groups:
        ap.error("--replay-only goes with --groups")
    os.makedirs(a.out, exist_ok=True)
    extra = shlex.split(os.environ.get("MODEL_ARGS", ""))
    cases = GROUP_CASES if a.groups else CASES
    stem = "validation_groups" if a.groups else "validation"
    rows = []
    tmp = tempfile.mkdtemp(prefix="shoal-model-val-")
    h5 = os.path.join(tmp, "run.h5")
    costs = os.path.join(tmp, "costs.f64")
    try:
        for rep in range(a.reps):
            for name, app, settings, rank_list, sizes in cases:
                tasks = sizes[1] if a.quick else sizes[0]
                for rk in rank_list:
                    ranks, works, group = (tuple(rk) + (0,))[:3] if isinstance(rk, tuple) \
                        else (rk, 1, 0)
                    seed = 20261201 + rep
                    if a.replay_only:
                        wall, cmd, rank = None, None, None
                        sec = draw_costs(app, settings, tasks, seed)
                        spun = float(sec.sum())
                    else:
                        wall, cmd = run_real(app, settings, ranks, works, tasks, seed, h5, group)
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
                    m, mcmd = run_model(ranks, works, tasks, costs, mr, extra, group)
                    cores = min(ranks - (0 if works or ranks == 1 else 1), NCORES)
                    row = {
                        "case": name, "ranks": ranks, "master_works": works, "tasks": tasks,
                        "rep": rep, "seed": seed, "cores": cores,
                        "real_wall_s": wall, "model_wall_s": m["makespan_s"],
                        "real_eff": spun / (cores * wall) if wall else None,
                        "real_eff_tasks": float(sec.sum()) / (cores * wall) if wall else None,
                        "model_eff": float(sec.sum()) / (cores * m["makespan_s"]),
                        "real_runs": runs_of(rank) if rank is not None else None,
                        "model_runs": m["runs"],
                        "model_ranges": m["ranges"], "command": cmd, "model_command": mcmd,
                    }
                    if group:
                        # The model gives every rank a core: its efficiency
                        # over its own task ranks (oversubscribed runs aside).
                        mcores = ranks - (0 if works else 1)
                        row.update({"group_size": group, "model_cores": mcores,
                                    "model_eff": float(sec.sum()) / (mcores * m["makespan_s"]),
                                    "oversubscribed": ranks - (0 if works else 1) > NCORES,
                                    "model_root_requests": m["root_requests"],
                                    "model_sub_requests": m["sub_requests"]})
                    rows.append(row)
                    lab = "%s%s" % ("" if works else " (rank 0 schedules only)",
                                    " group_size %d" % group if group else "")
                    if wall is None:
                        print("validate: %-12s P=%d%s rep %d: model %.4g s, runs %d (replay only)" % (
                            name, ranks, lab, rep, m["makespan_s"], m["runs"]), flush=True)
                        continue
                    print("validate: %-12s P=%d%s rep %d: real %.4g s, model %.4g s (%+.1f%%), "
                          "runs %d / %d" % (name, ranks, lab, rep, wall, m["makespan_s"],
                                            100 * (m["makespan_s"] / wall - 1),
                                            row["real_runs"], row["model_runs"]), flush=True)
    finally:
        for p in (h5, costs):
            if os.path.exists(p):
                os.remove(p)
        os.rmdir(tmp)
    with open(os.path.join(a.out, stem + ".jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    if a.replay_only:
        write_replay_table(rows, os.path.join(a.out, stem + ".md"))
    else:
        write_table(rows, os.path.join(a.out, stem + ".md"))


def rank_label(r):
    lab = "%d%s" % (r["ranks"], "" if r["master_works"] else " (rank 0 schedules only)")
    g = r.get("group_size")
    if g:
        groups = [list(range(k, min(k + g, r["ranks"]))) for k in range(0, r["ranks"], g)]
        lab += ", group_size %d: %s" % (g, ", ".join(
            "{%s}" % ",".join(map(str, x)) for x in groups))
        if r.get("oversubscribed"):
            lab += "; oversubscribed, %d task ranks on %d cores" % (
                r["ranks"] - (0 if r["master_works"] else 1), NCORES)
    return lab


def by_case(rows):
    """The rows grouped by (case, ranks, master_works, group_size), in first-seen order."""
    groups = {}
    for r in rows:
        groups.setdefault((r["case"], r["ranks"], r["master_works"], r.get("group_size", 0)),
                          []).append(r)
    return groups.items()


def write_replay_table(rows, path):
    """--replay-only: the model's side alone, medians over the repetitions."""
    med = statistics.median
    lines = ["Model replays only (no real runs: costs drawn as bench_spin draws them).", "",
             GROUP_NOTE, "",
             "| case | ranks | tasks | model (s) | model eff. | model runs | model ranges "
             "| rank 0 / sub-master requests | reps |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, rs in by_case(rows):
        lines.append("| %s | %s | %d | %.4g | %.3f | %d | %d | %d / %d | %d |" % (
            k[0], rank_label(rs[0]), rs[0]["tasks"], med([r["model_wall_s"] for r in rs]),
            med([r["model_eff"] for r in rs]), med([r["model_runs"] for r in rs]),
            med([r["model_ranges"] for r in rs]),
            med([r.get("model_root_requests", 0) for r in rs]),
            med([r.get("model_sub_requests", 0) for r in rs]), len(rs)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def write_table(rows, path):
    med = statistics.median
    lines = ["| case | ranks | tasks | real wall (s) | model (s) | error | real eff. | model eff. "
             "| runs real / model | model ranges | reps |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    errs = []
    for k, rs in by_case(rows):
        e = [r["model_wall_s"] / r["real_wall_s"] - 1 for r in rs]
        errs.extend(e)
        lab = rank_label(rs[0])
        lines.append("| %s | %s | %d | %.4g | %.4g | %+.1f%% (%+.1f to %+.1f) | %.3f | %.3f | %d / %d | %d | %d |" % (
            k[0], lab, rs[0]["tasks"], med([r["real_wall_s"] for r in rs]),
            med([r["model_wall_s"] for r in rs]), 100 * med(e), 100 * min(e), 100 * max(e),
            med([r["real_eff_tasks"] for r in rs]), med([r["model_eff"] for r in rs]),
            med([r["real_runs"] for r in rs]), med([r["model_runs"] for r in rs]),
            med([r["model_ranges"] for r in rs]), len(rs)))
    lines.append("")
    lines.append("Median |error| over all runs: %.1f%%; largest: %.1f%%." % (
        100 * med([abs(x) for x in errs]), 100 * max(abs(x) for x in errs)))
    if any(r.get("group_size") for r in rows):
        lines += ["", GROUP_NOTE]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
