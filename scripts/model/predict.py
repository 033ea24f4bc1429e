# SPDX-License-Identifier: GPL-3.0-or-later
"""Predictions of scripts/model/shoal_model at 10^3 to 10^5 ranks (and a
sweep to find where one rank 0 saturates), with tables and plots.

    /usr/bin/python3 scripts/model/predict.py OUT_DIR [--quick] [--groups | --no-groups]

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

A second level (run.group_size, the model's --group): efficiency against
ranks (10^3, 10^4, 10^5, and 262,144 for the ADLB anchor's 0.43 ms tasks)
flat and with groups of 16, 64, 256 and 1024 ranks, services 0.9 and 9 us,
tasks of 10 us, 1 ms and 1 s, 2 s of tasks per rank (20 tasks of 1 s), and
the best G per case -> OUT_DIR/model_groups.jsonl, model_groups.md,
model_groups.png. --groups runs only that part, --no-groups all but it
(`bash scripts/model/run.sh predict` runs both, in two calls).
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


CACHE = {}  # the flat runs the groups' grid shares with the sweep and the anchor


def model(p, n, mean, dist, extra=()):
    cmd = [MODEL, "--ranks", str(p), "--tasks", str(n), "--mean", repr(mean),
           "--latency", repr(LATENCY), "--record-max", "1"] + dist + list(extra)
    if tuple(cmd) in CACHE:
        return dict(CACHE[tuple(cmd)])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("predict: %s failed:\n%s" % (" ".join(cmd), out.stderr))
    r = json.loads(out.stdout)
    r["command"] = " ".join(cmd)
    CACHE[tuple(cmd)] = dict(r)
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
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--groups", action="store_true", help="only the second level's grid")
    only.add_argument("--no-groups", action="store_true", help="all but the second level's grid")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.no_groups:
        groups(a)
    if a.groups:
        return
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


# ---- a second level: sub-masters (--group) ------------------------------------

GROUPS = [0, 16, 64, 256, 1024]  # 0: flat
# label, mean, model args. The last two: 1 s tasks, longer than target / w,
# where a big range's time bound w target / mean is below w tasks (as
# specified it is at least 1 task; --group-floor 1 makes it at least w),
# and with rank 0 scheduling only (master_works = false), so that its own
# 1 s tasks do not hold up the sub-masters' requests.
GROUP_CASES = [("10 us", 1e-5, []), ("1 ms", 1e-3, []), ("1 s", 1.0, []),
               ("1 s, big ranges >= w tasks", 1.0, ["--group-floor", "1"]),
               ("1 s, rank 0 schedules only", 1.0, ["--master-works", "0"])]
ANCHOR = ("ADLB anchor: 0.43 ms", 262144, 262144 / 612e6)


def range_time(mean):
    """A range's time in the steady state: target_range_seconds for tasks
    shorter than it, one task otherwise, and the rows' writing."""
    return max(min(TARGET, mean * max(1, math.floor(TARGET / mean))), mean) + RANGE_COST


def group_ceiling(mean, service, g):
    """Ranks at which rank 0 is busy all the time with groups of g: per
    range time it answers every sub-master once (P/g) and its own group's
    g - 1 members, so (P/g + g - 1) service = range time. Flat (g 0): P*."""
    ps = range_time(mean) / service
    return ps if g == 0 else g * (ps - g + 1)


def sub_load(mean, service, g):
    """A sub-master's fraction of the time serving its g - 1 members."""
    return (g - 1) * service / range_time(mean)


def groups(a):
    ranks = [1000, 10000] if a.quick else [1000, 10000, 100000]
    gs = [0, 16, 64] if a.quick else GROUPS
    scale = 0.2 if a.quick else 1.0
    rows = []
    grid = [(label, mean, p, extra) for label, mean, extra in GROUP_CASES for p in ranks]
    if not a.quick:
        grid.append((ANCHOR[0], ANCHOR[2], ANCHOR[1], []))
    for label, mean, p, extra in grid:
        for svc in ("9e-7", "9e-6"):
            for g in gs:
                if g == 0 and "--group-floor" in extra:
                    continue  # flat: the same as without
                # Flat as the sweep and the anchor run it (the same run, done once).
                args = (["--service", "9e-6"] if svc == "9e-6" else []) if g == 0 else \
                    ["--service", svc, "--group", str(g)]
                r = model(p, tasks_for(p, mean, 0.2 * scale), mean, ["--dist", "constant"],
                          args + extra)
                r["case"] = label
                r["service_case"] = "measured" if svc == "9e-7" else "10x"
                r["group"] = g if g < p else 0
                r["group_asked"] = g
                rows.append(r)
                print("groups: %-20s P=%-6d service %-8s G=%-4d eff %.3f, rank 0 serving %.2f, "
                      "busiest sub-master %.2f, first task %.3g s" % (
                          label, p, r["service_case"], g, r["efficiency"],
                          r["master_serve_frac"], r.get("sub_serve_frac_max", 0.0),
                          r["first_task_last_s"]), flush=True)
    with open(os.path.join(a.out, "model_groups.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    write_groups_md(rows, gs, os.path.join(a.out, "model_groups.md"))
    plot_groups(rows, gs, os.path.join(a.out, "model_groups.png"))


def best_group(rs):
    """The G of the highest efficiency; flat when it is within 0.01 of it."""
    top = max(rs, key=lambda r: r["efficiency"])
    flat = [r for r in rs if r["group_asked"] == 0]
    if flat and flat[0]["efficiency"] >= top["efficiency"] - 0.01:
        return flat[0]
    return top


def write_groups_md(rows, gs, path):
    L = ["| tasks | rank 0 service | ranks | " + " | ".join(
        "flat" if g == 0 else "G = %d" % g for g in gs) + " | best G | rank 0 serving (flat / best) "
         "| busiest sub-master serving (best) | first task, last worker (s, flat / best) |",
         "|---|---|---|" + "---|" * len(gs) + "---|---|---|---|"]
    keys = []
    for r in rows:
        k = (r["case"], r["service_case"], r["ranks"])
        if k not in keys:
            keys.append(k)
    for k in keys:
        rs = [r for r in rows if (r["case"], r["service_case"], r["ranks"]) == k]
        if not any(r["group_asked"] == 0 for r in rs):  # the variant: flat from its case
            rs = rs + [r for r in rows if r["case"] == "1 s" and r["group_asked"] == 0
                       and (r["service_case"], r["ranks"]) == k[1:]]
        cells = []
        for g in gs:
            r = next(r for r in rs if r["group_asked"] == g)
            cells.append("%.3f%s" % (r["efficiency"], "" if g == 0 or g < r["ranks"] else " (flat)"))
        b, f = best_group(rs), next(r for r in rs if r["group_asked"] == 0)
        L.append("| %s | %.1f us | %d | %s | %s | %.2f / %.2f | %s | %.3g / %.3g |" % (
            k[0], 1e6 * rs[0]["service_s"], k[2], " | ".join(cells),
            "flat" if b["group"] == 0 else "%d" % b["group"], f["master_serve_frac"],
            b["master_serve_frac"], "-" if b["group"] == 0 else "%.2f" % b["sub_serve_frac_max"],
            f["first_task_last_s"], b["first_task_last_s"]))
    L += ["", "Where rank 0 saturates with groups of G (steady state: (P/G + G - 1) x service = "
          "range time; flat: P* = range time / service), and a sub-master's share of its time "
          "serving its G - 1 members ((G - 1) x service / range time; above 1 the sub-masters "
          "saturate first):", "",
          "| tasks | rank 0 service | flat P* | " + " | ".join("G = %d" % g for g in gs if g) +
          " | best G for P (sqrt P) and its ceiling ((range time / 2 service)^2) |",
          "|---|---|---|" + "---|" * (len(gs) - 1) + "---|"]
    for label, mean, extra in GROUP_CASES:
        if extra:
            continue
        for sv in (0.9e-6, 9e-6):
            ps = range_time(mean) / sv
            cells = ["%.3g (sub-master %.2g)" % (group_ceiling(mean, sv, g), sub_load(mean, sv, g))
                     for g in gs if g]
            L.append("| %s | %.1f us | %.3g | %s | %.3g |" % (
                label, 1e6 * sv, ps, " | ".join(cells), (ps / 2) ** 2))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


def plot_groups(rows, gs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(GROUP_CASES), figsize=(15, 7), sharex=True, sharey=True)
    colors = {0: "k", 16: "C0", 64: "C1", 256: "C2", 1024: "C3"}
    for i, svc in enumerate(("measured", "10x")):
        for j, (label, _, extra) in enumerate(GROUP_CASES):
            ax = axes[i][j]
            for g in gs:
                pts = sorted((r["ranks"], r["efficiency"]) for r in rows
                             if r["case"] == (label if g or "--group-floor" not in extra
                                              else "1 s")
                             and r["service_case"] == svc and r["group_asked"] == g)
                ax.plot([p for p, _ in pts], [e for _, e in pts], "--" if g == 0 else "-",
                        marker="o", color=colors.get(g), label="flat" if g == 0 else "G = %d" % g)
            if label == "1 ms":
                for g in gs:
                    an = [r for r in rows if r["case"] == ANCHOR[0] and r["service_case"] == svc
                          and r["group_asked"] == g]
                    if an:
                        ax.plot([an[0]["ranks"]], [an[0]["efficiency"]], "*", ms=11,
                                color=colors.get(g),
                                label="ADLB anchor, 0.43 ms" if g == 0 else None)
            s = [r for r in rows if r["service_case"] == svc][0]
            ax.set_title("%s tasks%s, service %.1f us" % (
                label.split(",")[0], "\n(%s)" % label.split(", ")[1] if extra else "",
                1e6 * s["service_s"]), fontsize=9)
            ax.set_xscale("log")
            ax.set_ylim(0, 1.05)
            ax.grid(True, which="both", alpha=0.3)
            if i == 1:
                ax.set_xlabel("ranks")
            if j == 0:
                ax.set_ylabel("parallel efficiency")
    axes[0][1].legend(fontsize=7, loc="lower left")
    fig.suptitle("Shoal pool model: flat against groups of G ranks with sub-masters "
                 "(latency %g us, 2 s of tasks per rank)" % (1e6 * LATENCY), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
