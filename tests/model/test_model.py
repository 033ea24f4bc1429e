# SPDX-License-Identifier: GPL-3.0-or-later
"""The pool model (scripts/model/shoal_model) against cases with known
answers, and its refusal of bad arguments.

    /usr/bin/python3 tests/model/test_model.py BUILD/scripts/model/shoal_model

No timing: every check is on the model's own simulated times.
"""
import json
import os
import subprocess
import sys
import tempfile

MODEL = sys.argv[1]
failures = []


def model(*args):
    out = subprocess.run([MODEL] + [str(a) for a in args], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("model %s failed: %s" % (" ".join(map(str, args)), out.stderr))
    return out.stdout


def run(*args):
    return json.loads(model(*args))


def check(name, ok, detail):
    print("%s: %s (%s)" % ("ok" if ok else "FAIL", name, detail))
    if not ok:
        failures.append(name)


def refuse(args, msg):
    """Bad arguments: a message naming the problem, exit status 2."""
    out = subprocess.run([MODEL] + [str(a) for a in args], capture_output=True, text=True)
    check("refuses %s" % " ".join(map(str, args)),
          out.returncode == 2 and msg in out.stderr and out.stdout == "",
          "exit %d, %s" % (out.returncode, out.stderr.strip().splitlines()[0] if out.stderr else ""))


def close(a, b, rel):
    return abs(a - b) <= rel * abs(b)


# 1. One rank: the makespan is the tasks, their per-task cost and the
# per-range cost, nothing else.
for dist in (["--dist", "constant"], ["--dist", "exp"], ["--dist", "pareto"]):
    r = run("--ranks", 1, "--tasks", 20000, "--mean", 1e-4, "--task-cost", 1e-7,
            "--range-cost", 5e-5, *dist)
    want = r["task_seconds"] + 20000 * 1e-7 + r["ranges"] * 5e-5
    check("P=1 %s: makespan = tasks + per-task + per-range costs" % dist[1],
          close(r["makespan_s"], want, 1e-9), "%.9g vs %.9g" % (r["makespan_s"], want))
r = run("--ranks", 1, "--tasks", 1000, "--mean", 2e-3, "--task-cost", 0, "--range-cost", 0)
check("P=1 constant, no costs: makespan = N t", close(r["makespan_s"], 2.0, 1e-12),
      "%.12g" % r["makespan_s"])

# 2. Free protocol (no service, latency, costs, sleeps): efficiency near 1,
# the loss at most one task's time at the end.
free = ["--service", 0, "--latency", 0, "--range-cost", 0, "--task-cost", 0, "--slack", 0,
        "--spin", 0]
r = run("--ranks", 8, "--tasks", 80000, "--mean", 1e-3, *free)
check("free protocol, constant tasks: makespan within one task of N t / P",
      r["ideal_s"] <= r["makespan_s"] <= r["ideal_s"] + 1e-3 + 1e-9,
      "makespan %.6g, ideal %.6g" % (r["makespan_s"], r["ideal_s"]))
r = run("--ranks", 8, "--tasks", 80000, "--mean", 1e-3, "--dist", "exp", *free)
check("free protocol, exponential tasks: efficiency > 0.99", r["efficiency"] > 0.99,
      "%.4f" % r["efficiency"])

# 3. Saturation: ranges of r tasks of t seconds, rank 0 only schedules,
# service s: one rank 0 keeps P* = r t / s workers busy (here 100). Far
# below, the workers are busy; far above, tasks/s is r / s.
sat = ["--mean", 1e-3, "--max-range", 10, "--target", 1.0, "--service", 1e-4,
       "--latency", 0, "--range-cost", 0, "--task-cost", 0, "--slack", 0, "--spin", 0,
       "--master-works", 0, "--probes", 0]
r = run("--ranks", 21, "--tasks", 200000, *sat)
eff_workers = r["task_seconds"] / (20 * r["makespan_s"])
check("20 workers, P* = 100: the workers are busy (efficiency over them > 0.97)",
      eff_workers > 0.97, "%.4f" % eff_workers)
check("20 workers, P* = 100: rank 0 serves 20% of the time",
      close(r["master_serve_frac"], 0.2, 0.05), "%.4f" % r["master_serve_frac"])
r = run("--ranks", 401, "--tasks", 4000000, *sat)  # long: start and tail ranges dilute
check("400 workers, P* = 100: tasks/s = r / s = 1e5 (saturated)",
      close(r["tasks_per_s"], 1e5, 0.03), "%.4g" % r["tasks_per_s"])
check("400 workers: rank 0 serves all the time", r["master_serve_frac"] > 0.95,
      "%.4f" % r["master_serve_frac"])

# 4. The ranges: every task handed out once; the first ranges are single
# tasks (no timing known yet), as lib/src/sched.c does.
out = model("--ranks", 3, "--tasks", 5000, "--mean", 1e-3, "--trace")
ranges = [l.split() for l in out.splitlines() if l.startswith("range ")]
seen = sorted((int(a[1]), int(a[2])) for a in ranges)
pos, ok = 0, True
for s, n in seen:
    ok = ok and s == pos and n >= 1
    pos = s + n
check("every task handed out exactly once", ok and pos == 5000, "%d ranges, end %d" % (len(seen), pos))
check("first ranges: one task each", all(int(a[2]) == 1 for a in ranges[:3]),
      " ".join(a[2] for a in ranges[:3]))

# 5. Same seed, same answer; another seed, another draw.
a = model("--ranks", 5, "--tasks", 3000, "--dist", "lognormal", "--seed", 7)
b = model("--ranks", 5, "--tasks", 3000, "--dist", "lognormal", "--seed", 7)
c = model("--ranks", 5, "--tasks", 3000, "--dist", "lognormal", "--seed", 8)
check("deterministic for a seed", a == b and a != c, "")

# 6. Replaying costs from a file: constant costs give the constant answer.
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "c.f64")
    import struct
    with open(path, "wb") as f:
        f.write(struct.pack("<%dd" % 4000, *([1e-3] * 4000)))
    x = run("--ranks", 2, "--tasks", 4000, "--dist", "file", "--costs", path)
    y = run("--ranks", 2, "--tasks", 4000, "--mean", 1e-3)
    check("--dist file with constant costs = --dist constant",
          close(x["makespan_s"], y["makespan_s"], 1e-9), "%.9g vs %.9g" % (
              x["makespan_s"], y["makespan_s"]))
    # validate.py --groups replays real runs so: 3 ranks, groups {0, 1}, {2}.
    x = run("--ranks", 3, "--tasks", 4000, "--dist", "file", "--costs", path, "--group", 2,
            "--master-works", 0)
    y = run("--ranks", 3, "--tasks", 4000, "--mean", 1e-3, "--group", 2, "--master-works", 0)
    check("--group 2 replaying constant costs = --dist constant --group 2",
          close(x["makespan_s"], y["makespan_s"], 1e-9) and x["groups"] == 2, "%.9g vs %.9g" % (
              x["makespan_s"], y["makespan_s"]))
    refuse(["--ranks", 2, "--tasks", 4001, "--dist", "file", "--costs", path],
           "fewer than --tasks")
    refuse(["--ranks", 2, "--tasks", 10, "--dist", "file", "--costs", path + ".none"],
           "cannot open")

# 8. Groups (--group G, run.group_size): sub-masters take big ranges from
# rank 0 and deal them to their members.
# 8a. G = 0 and G >= P are the flat pool, byte for byte.
for args in (["--ranks", 7, "--tasks", 20000, "--mean", 1e-4],
             ["--ranks", 5, "--tasks", 3000, "--dist", "lognormal", "--master-works", 0],
             ["--ranks", 64, "--tasks", 200000, "--mean", 1e-5, "--dist", "pareto"]):
    flat = model(*args)
    p = args[1]
    check("--group 0 = flat (P=%d)" % p, model(*args, "--group", 0) == flat, "")
    check("--group P = flat (P=%d)" % p, model(*args, "--group", p) == flat, "")
    check("--group 2P = flat (P=%d)" % p, model(*args, "--group", 2 * p) == flat, "")
# 8b. Every task handed out once, to ranks that run tasks, with uneven
# groups, groups of one, and rank 0 scheduling only.
for ranks, g, works, dist in ((10, 3, 1, "lognormal"), (9, 4, 0, "exp"), (6, 1, 1, "constant"),
                              (3, 2, 0, "constant")):
    out = model("--ranks", ranks, "--tasks", 4000, "--mean", 1e-3, "--dist", dist, "--group", g,
                "--master-works", works, "--trace")
    lines = out.splitlines()
    ranges = [l.split() for l in lines if l.startswith("range ")]
    r = json.loads(lines[-1])
    pos, ok = 0, True
    for st, n, rk in sorted((int(a[1]), int(a[2]), int(a[4])) for a in ranges):
        ok = ok and st == pos and n >= 1 and (works or rk != 0)
        pos = st + n
    check("groups P=%d G=%d master_works %d: every task handed out once" % (ranks, g, works),
          ok and pos == 4000 and r["groups"] == -(-ranks // g) and
          close(r["task_seconds"], 4000 * r["mean_task_s"], 0.2 if dist != "constant" else 1e-9),
          "%d ranges, end %d, %d groups" % (len(ranges), pos, r["groups"]))
# 8c. The known answer: ranges of r tasks of t seconds (10 ms), service s
# (1e-4), rank 0 only schedules. Flat, P* = r t / s = 100. With G = 10,
# rank 0 answers per 10 ms round the P/G - 1 sub-masters and the G - 1
# members of its own group: it saturates at P/G + G - 1 = P*, P ~ 910,
# about G x P* (sub-masters serve G - 1 = 9 requests a round, far from
# theirs).
r = run("--ranks", 401, "--tasks", 802000, "--group", 10, *sat)
rounds = r["makespan_s"] / 1e-2
check("P=401 G=10: rank 0 answers P/G + G - 1 = 49 requests per round",
      close(r["root_requests"] / rounds, 49, 0.05), "%.1f" % (r["root_requests"] / rounds))
check("P=401 G=10: rank 0 serves 49% of the time (flat: saturated)",
      close(r["master_serve_frac"], 0.49, 0.05), "%.3f" % r["master_serve_frac"])
eff_w = lambda r: r["task_seconds"] / ((r["ranks"] - 1) * r["makespan_s"])
check("P=401 G=10: the workers are busy (efficiency over them > 0.95; flat 0.24)",
      eff_w(r) > 0.95, "%.4f" % eff_w(r))
r = run("--ranks", 801, "--tasks", 1602000, "--group", 10, *sat)
check("P=801 G=10, below G(P* - G + 1) = 910: efficiency over the workers > 0.9",
      eff_w(r) > 0.9, "%.4f" % eff_w(r))
r = run("--ranks", 2001, "--tasks", 4002000, "--group", 10, *sat)
check("P=2001 G=10, above: rank 0 saturated, efficiency ~ 910 / 2000",
      r["master_serve_frac"] > 0.95 and close(eff_w(r), 910 / 2000, 0.1),
      "serving %.3f, efficiency %.4f" % (r["master_serve_frac"], eff_w(r)))
# G x s > r t: the sub-masters (and rank 0, for its own group) saturate.
r = run("--ranks", 801, "--tasks", 1602000, "--group", 400, *sat)
check("P=801 G=400 (G s = 4 r t): the sub-master saturates, efficiency < 0.5",
      r["sub_serve_frac_max"] > 0.9 and eff_w(r) < 0.5,
      "sub-master serving %.3f, efficiency %.4f" % (r["sub_serve_frac_max"], eff_w(r)))
# 8d. docs/scaling.md's case, scaled 100x down: 10 us tasks, 10 s per rank,
# 10^3 ranks and a 90 us service stand for 10^5 ranks and 0.9 us (the same
# P s / range time): flat gives 0.5, groups of 64 bring it back near 1.
big = ["--ranks", 1000, "--tasks", 10 ** 9, "--mean", 1e-5, "--service", 9e-5,
       "--latency", 3e-6, "--record-max", 1]
flat, grouped = run(*big), run(*big, "--group", 64)
check("10^5-ranks case scaled: flat efficiency ~0.5", close(flat["efficiency"], 0.5, 0.05),
      "%.3f" % flat["efficiency"])
check("10^5-ranks case scaled: G=64 efficiency > 0.95", grouped["efficiency"] > 0.95,
      "%.3f" % grouped["efficiency"])
check("G=64: the last worker's first task comes sooner than flat",
      grouped["first_task_last_s"] < flat["first_task_last_s"],
      "%.3g vs %.3g s" % (grouped["first_task_last_s"], flat["first_task_last_s"]))

# 7. Bad arguments: a message naming the problem, exit status 2.
bad = [
    (["--tasks", 10], "--ranks and --tasks are required"),
    (["--ranks", 0, "--tasks", 10], "--ranks: 0 is out of range"),
    (["--ranks", 2, "--tasks", 10, "--dist", "gamma"], "--dist: 'gamma'"),
    (["--ranks", 2, "--tasks", 10, "--mean", "-1"], "--mean: -1 is out of range"),
    (["--ranks", 2, "--tasks", 10, "--dist", "exp", "--mean", 0], "--mean must be > 0"),
    (["--ranks", 2, "--tasks", "ten"], "--tasks: 'ten' is not a number"),
    (["--ranks", 2, "--tasks", 10, "--alpha", 1], "--alpha: 1 is out of range"),
    (["--ranks", 2, "--tasks", 10, "--bogus", 1], "unknown option '--bogus'"),
    (["--ranks", 2, "--tasks", 10, "--service"], "--service needs a value"),
    (["--ranks", 2, "--tasks", 10, "--dist", "file"], "--dist file and --costs FILE go together"),
    (["--ranks", 2, "--tasks", 10, "--group", "-1"], "--group: '-1' is not a whole number"),
    (["--ranks", 2, "--tasks", 10, "--group", "2.5"], "--group: '2.5' is not a whole number"),
    (["--ranks", 2, "--tasks", 10, "--dist", "file", "--costs", "/nonexistent/c.f64"],
     "cannot open"),
]
for args, msg in bad:
    refuse(args, msg)

if failures:
    print("test_model: %d check(s) failed: %s" % (len(failures), "; ".join(failures)))
    sys.exit(1)
print("test_model: all checks passed")
