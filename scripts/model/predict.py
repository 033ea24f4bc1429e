# SPDX-License-Identifier: GPL-3.0-or-later
"""Predictions of scripts/model/shoal_model at 10^3 to 10^5 ranks (and a
sweep to find where one rank 0 saturates), with tables and plots.

    /usr/bin/python3 scripts/model/predict.py OUT_DIR [--quick]

Runs the model only (one process at a time, one core; no lock needed).
Machine parameters: the model's defaults (measured here, docs/scaling.md)
except the latency, 3 us (between nodes; --latency), and the rank-0
service time, also shown 10x slower (9 us) as a sensitivity case. Work:
10 s of tasks per rank for 10 us and 1 ms tasks, 100 tasks per rank for
1 s tasks (the sweep: a fifth of that).

Writes OUT_DIR/model_predictions.jsonl, model_predictions.md,
model_sweep.jsonl, and the plots model_efficiency.png,
model_first_task.png, model_master.png (and model_validation.png when
OUT_DIR/model_validation.jsonl exists).
"""
import argparse
import json
import math
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SHOAL_BUILD", os.path.join(ROOT, "build"))
MODEL = os.path.join(BUILD, "scripts", "model", "shoal_model")
LATENCY = 3e-6
SERVICE = 0.9e-6   # the model's default, repeated for the analytic ceiling
TARGET = 0.05
RANGE_COST = 30e-6

CASES = [  # label, mean, dist args, work per rank (s, or tasks for 1 s)
    ("10 us", 1e-5, ["--dist", "constant"]),
    ("1 ms", 1e-3, ["--dist", "constant"]),
    ("1 s", 1.0, ["--dist", "constant"]),
    ("1 ms Pareto 1.5", 1e-3, ["--dist", "pareto", "--alpha", "1.5", "--cap", "100"]),
    ("1 s lognormal 1.5", 1.0, ["--dist", "lognormal", "--sigma", "1.5"]),
]


def tasks_for(p, mean, scale):
    per_rank = (100 * scale) if mean >= 1 else (10 * scale) / mean
    return int(p * per_rank)


def model(p, n, mean, dist, extra=()):
    cmd = [MODEL, "--ranks", str(p), "--tasks", str(n), "--mean", repr(mean),
           "--latency", repr(LATENCY), "--record-max", "1"] + dist + list(extra)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("predict: %s failed:\n%s" % (" ".join(cmd), out.stderr))
    r = json.loads(out.stdout)
    r["command"] = " ".join(cmd)
    return r


def ceiling_ranks(mean, service):
    """Ranks at which one rank 0 is busy all the time in the steady state:
    every rank asks once per range, a range lasts max(target, task)."""
    t_range = max(min(TARGET, mean * max(1, math.floor(TARGET / mean))), mean) + RANGE_COST
    return t_range / service


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    ranks = [1000, 10000] if a.quick else [1000, 10000, 100000]
    scale = 0.2 if a.quick else 1.0

    rows = []
    for label, mean, dist in CASES:
        for p in ranks:
            for svc in ([None, "9e-6"]):
                extra = ["--service", svc] if svc else []
                r = model(p, tasks_for(p, mean, scale), mean, dist, extra)
                r["case"] = label
                r["service_case"] = "measured" if not svc else "10x"
                rows.append(r)
                print("predict: %-18s P=%-6d service %-8s eff %.3f, first task %.3g s, "
                      "rank 0 serving %.2f" % (label, p, r["service_case"], r["efficiency"],
                                               r["first_task_last_s"], r["master_serve_frac"]),
                      flush=True)
    # The ADLB anchor: 612e6 tasks/s on 262,144 cores is 2,335 tasks/s per
    # core, tasks of 0.43 ms; what one rank 0 gives at that size.
    anchor_p, anchor_t = 262144, 262144 / 612e6
    for svc in (None, "9e-6"):
        extra = ["--service", svc] if svc else []
        n = int(anchor_p * (2 * scale) / anchor_t)
        r = model(anchor_p, n, anchor_t, ["--dist", "constant"], extra)
        r["case"] = "ADLB anchor: 0.43 ms"
        r["service_case"] = "measured" if not svc else "10x"
        rows.append(r)
        print("predict: anchor P=%d service %s: %.3g tasks/s, eff %.3f" % (
            anchor_p, r["service_case"], r["tasks_per_s"], r["efficiency"]), flush=True)
    with open(os.path.join(a.out, "model_predictions.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")

    # Sweep: where does one rank 0 saturate?
    sweep_p = [1000, 3000, 10000, 30000, 100000, 300000]
    if a.quick:
        sweep_p = [1000, 10000, 30000]
    sweep = []
    for label, mean, dist in CASES[:3]:
        for svc in (None, "9e-6"):
            for p in sweep_p:
                if mean >= 1 and p > 100000:
                    continue  # 100 ranges per rank at 3e5 ranks: too slow for the default run
                extra = ["--service", svc] if svc else []
                r = model(p, tasks_for(p, mean, 0.2 * scale), mean, dist, extra)
                r["case"] = label
                r["service_case"] = "measured" if not svc else "10x"
                sweep.append(r)
                print("sweep: %-6s P=%-7d service %-8s eff %.3f serving %.2f" % (
                    label, p, r["service_case"], r["efficiency"], r["master_serve_frac"]),
                    flush=True)
    with open(os.path.join(a.out, "model_sweep.jsonl"), "w") as f:
        for r in sweep:
            f.write(json.dumps(r) + "\n")
    write_md(rows, sweep, os.path.join(a.out, "model_predictions.md"))
    plots(rows, sweep, a.out)


def write_md(rows, sweep, path):
    L = ["| tasks | ranks | rank 0 service | efficiency | best possible | first task, last "
         "worker (s) | rank 0's first task (s) | rank 0 serving (fraction of the run) "
         "| tasks/s | ranges |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        L.append("| %s | %d | %s | %.3f | %.3f | %.3g | %s | %.3f | %.3g | %.3g |" % (
            r["case"], r["ranks"], "%.1f us" % (1e6 * r["service_s"]), r["efficiency"],
            r["bound_efficiency"], r["first_task_last_s"],
            "never" if r["master_first_task_s"] < 0 else "%.3g" % r["master_first_task_s"],
            r["master_serve_frac"], r["tasks_per_s"], r["ranges"]))
    L += ["", "Saturation of one rank 0 (steady state: ranks x service = range time):", "",
          "| tasks | service | analytic ranks | model: first swept ranks where rank 0 serves >= 80% of the run |",
          "|---|---|---|---|"]
    for label, mean, _ in CASES[:3]:
        for svc, sv in (("measured", SERVICE), ("10x", 9e-6)):
            pts = sorted((r["ranks"], r["master_serve_frac"]) for r in sweep
                         if r["case"] == label and r["service_case"] == svc)
            first = next((p for p, u in pts if u >= 0.8), None)
            L.append("| %s | %.1f us | %.3g | %s |" % (
                label, 1e6 * sv, ceiling_ranks(mean, sv),
                "%d" % first if first else "none up to %d" % pts[-1][0]))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


def plots(rows, sweep, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"10 us": "C0", "1 ms": "C1", "1 s": "C2"}
    for metric, fname, ylabel, logy in (
            ("efficiency", "model_efficiency.png", "parallel efficiency", False),
            ("first_task_last_s", "model_first_task.png",
             "time to first task on the last worker (s)", True),
            ("master_serve_frac", "model_master.png", "rank 0: fraction of the run serving", False)):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for label in colors:
            for svc, ls in (("measured", "-"), ("10x", "--")):
                pts = sorted((r["ranks"], r[metric]) for r in sweep
                             if r["case"] == label and r["service_case"] == svc)
                if not pts:
                    continue
                s = [r for r in sweep if r["case"] == label and r["service_case"] == svc][0]
                ax.plot([p for p, _ in pts], [v for _, v in pts], ls, marker="o",
                        color=colors[label],
                        label="%s tasks, service %.1f us" % (label, 1e6 * s["service_s"]))
        ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("ranks")
        ax.set_ylabel(ylabel)
        ax.set_title("Shoal pool model, one rank 0, latency %g us" % (1e6 * LATENCY))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=110)
        plt.close(fig)
    val = os.path.join(out, "model_validation.jsonl")
    if os.path.exists(val):
        vr = [json.loads(l) for l in open(val)]
        fig, ax = plt.subplots(figsize=(5, 5))
        for case in sorted({r["case"] for r in vr}):
            xs = [r["real_wall_s"] for r in vr if r["case"] == case]
            ys = [r["model_wall_s"] for r in vr if r["case"] == case]
            ax.plot(xs, ys, "o", label=case, alpha=0.7)
        lo = min(min(r["real_wall_s"], r["model_wall_s"]) for r in vr) * 0.8
        hi = max(max(r["real_wall_s"], r["model_wall_s"]) for r in vr) * 1.2
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("real pool wall time (s), 1-3 ranks")
        ax.set_ylabel("model makespan (s)")
        ax.set_title("Model against real runs")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "model_validation.png"), dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    main()
