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
    refuse(["--ranks", 2, "--tasks", 4001, "--dist", "file", "--costs", path],
           "fewer than --tasks")
    refuse(["--ranks", 2, "--tasks", 10, "--dist", "file", "--costs", path + ".none"],
           "cannot open")

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
    (["--ranks", 2, "--tasks", 10, "--dist", "file", "--costs", "/nonexistent/c.f64"],
     "cannot open"),
]
for args, msg in bad:
    refuse(args, msg)

if failures:
    print("test_model: %d check(s) failed: %s" % (len(failures), "; ".join(failures)))
    sys.exit(1)
print("test_model: all checks passed")
