#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Load balance with heavy-tailed task costs.
#
#   bash scripts/bench/b_balance.sh OUT.jsonl [--quick]
#
# Tasks of apps/bench_spin busy-spin for a CPU time drawn from a Pareto
# distribution (tail index 1.5, mean 1 ms, truncated at 100 x the mean: a few
# tasks cost ~100 ms), configs/bench_spin.ini. Each repetition uses its own
# seed (so its own list of costs) for all of its cases:
#   shoal_n2     Shoal, mpirun -n 2
#   shoal_n3     Shoal, mpirun -n 3 --oversubscribe (when 3 > cores)
#   py_pool2     Python multiprocessing.Pool(2), chunksize 1, over the very
#                costs drawn by that repetition's shoal_n2 run (read from its
#                /results/cost), each spun on the worker's thread CPU clock
#   static2      a static block split over 2 ranks (each rank a contiguous
#                block of ntasks/2 tasks), COMPUTED, not run: its makespan is
#                the larger block's sum of shoal_n2's /tasks/seconds
# Efficiency = task CPU time / (cores x wall of the pool), where task CPU
# time is the sum of the CPU time the tasks spun (/results/spun_cpu, or what
# the Python workers report) and cores = min(ranks, cores of this machine):
# -n 3 on 2 cores is judged against the 2 cores it really has, so it must not
# do worse than -n 2 (the master must not take a core from the tasks).
# Tasks spin on their thread's CPU clock (not the wall clock), in C and in
# Python alike, so a task does the same work whether or not its process
# shares a core.
#
# Metrics: efficiency (higher), wall_s (lower), and for Shoal
# task_cpu_fraction = task CPU / CPU of all ranks (/ranks/cpu_seconds).
# Environment: BENCH_REPS (default 5; --quick 2), BENCH_BALANCE_TASKS
# (default 30000, about 15 s a case on 2 idle cores; --quick 2000).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args balance "$@"

# shellcheck source=scripts/env.sh
source scripts/env.sh

if [[ $QUICK -eq 1 ]]; then
    REPS="${BENCH_REPS:-2}"
    NTASKS="${BENCH_BALANCE_TASKS:-2000}"
else
    REPS="${BENCH_REPS:-5}"
    NTASKS="${BENCH_BALANCE_TASKS:-30000}"
fi
SEED0=20261122
NCORES="$(shoal_nproc)"
PY=/usr/bin/python3
APP=build/apps/bench_spin/bench_spin
CONFIG=configs/bench_spin.ini
DIR=build/bench/balance
HELPER=build/bench/b_balance_helper.py

# ---- build ------------------------------------------------------------------
[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target bench_spin -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT

cat >"$HELPER" <<'PYEOF'
# Written by scripts/bench/b_balance.sh: analysis and the Python baseline.
import argparse, json, statistics, sys, time


def emit(a, metrics):
    for metric, unit, value, better in metrics:
        line = json.dumps({
            "bench": "balance", "case": a.case, "label": a.label,
            "ranks": int(a.ranks) if a.ranks else None, "rep": int(a.rep),
            "metric": metric, "unit": unit, "value": value, "better": better,
            "command": a.command})
        for path in (a.out, a.local):
            with open(path, "a") as f:
                f.write(line + "\n")


def spin(cost):
    # Spin on this thread's CPU clock, like bench_spin does in C.
    t0 = time.thread_time()
    t = t0
    while t - t0 < cost:
        t = time.thread_time()
    return t - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["shoal", "static", "costs", "pool", "python", "summary"])
    p.add_argument("args", nargs="*")
    for k in ("out", "local", "case", "label", "ranks", "rep", "command"):
        p.add_argument("--" + k, default="")
    a = p.parse_args()
    if a.what == "costs":        # H5 NPY: the costs one run drew
        import h5py, numpy as np
        with h5py.File(a.args[0], "r") as f:
            np.save(a.args[1], f["results/cost"][:])
    elif a.what == "pool":       # NPY NPROC: the baseline itself
        import multiprocessing, numpy as np
        costs = np.load(a.args[0]).tolist()
        with multiprocessing.Pool(int(a.args[1])) as pool:
            t0 = time.perf_counter()
            spun = pool.map(spin, costs, chunksize=1)
            wall = time.perf_counter() - t0
        print(json.dumps({"wall": wall, "task_cpu": sum(spun), "tasks": len(spun)}))
    elif a.what == "python":     # JSON CORES: metrics of a pool run
        r = json.loads(a.args[0])
        cores = int(a.args[1])
        emit(a, [("efficiency", "fraction", r["task_cpu"] / (cores * r["wall"]), "higher"),
                 ("wall_s", "s", r["wall"], "lower")])
    elif a.what == "shoal":      # H5 WALL CORES
        import h5py, numpy as np
        wall, cores = float(a.args[1]), int(a.args[2])
        with h5py.File(a.args[0], "r") as f:
            done = f["tasks/status"][:] == 1
            task_cpu = float(f["results/spun_cpu"][:][done].sum())
            rank_cpu = float(f["ranks/cpu_seconds"][:].sum())
        emit(a, [("efficiency", "fraction", task_cpu / (cores * wall), "higher"),
                 ("wall_s", "s", wall, "lower"),
                 ("task_cpu_fraction", "fraction", task_cpu / rank_cpu, "higher")])
    elif a.what == "static":     # H5 RANKS: block split computed from /tasks/seconds
        import h5py, numpy as np
        ranks = int(a.args[1])
        with h5py.File(a.args[0], "r") as f:
            sec = f["tasks/seconds"][:].astype(np.float64)
        blocks = [float(b.sum()) for b in np.array_split(sec, ranks)]
        emit(a, [("efficiency", "fraction", float(sec.sum()) / (ranks * max(blocks)), "higher"),
                 ("wall_s", "s", max(blocks), "lower")])
    elif a.what == "summary":    # LOCAL
        rows = [json.loads(l) for l in open(a.args[0])]
        keys = []
        for r in rows:
            if (r["case"], r["metric"]) not in keys:
                keys.append((r["case"], r["metric"]))
        print("%-10s %-18s %4s %10s %10s %10s  %s" % ("case", "metric", "n", "median", "min", "max", "label"))
        for case, metric in keys:
            v = [r["value"] for r in rows if r["case"] == case and r["metric"] == metric]
            lab = next(r["label"] for r in rows if r["case"] == case)
            print("%-10s %-18s %4d %10.4g %10.4g %10.4g  %s" % (case, metric, len(v),
                  statistics.median(v), min(v), max(v), lab))


if __name__ == "__main__":
    sys.exit(main())
PYEOF

mpirun_words() {
    # The mpirun launcher words for $1 ranks.
    if [[ "$1" -gt "$NCORES" ]]; then
        echo "mpirun -n $1 --oversubscribe"
    else
        echo "mpirun -n $1"
    fi
}

LOCAL="$DIR/results.jsonl"
: >"$LOCAL"
failures=0
fail() { echo "b_balance: FAILED: $*" >&2; failures=$((failures + 1)); }

# Runs Shoal at $1 ranks, repetition $2 (seed $3); leaves $DIR/shoal_n$1.h5.
run_shoal() {
    local np="$1" rep="$2" seed="$3" out rc=0 wall cores label
    local -a cmd
    read -r -a cmd <<<"$(mpirun_words "$np")"
    cmd+=("$APP" "$CONFIG" --set "run.tasks=$NTASKS" --set "run.seed=$seed"
        -o "$DIR/shoal_n$np.h5" -f)
    out="$("${cmd[@]}" 2>&1)" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "$out" >&2
        fail "shoal_n$np rep $rep (exit $rc): ${cmd[*]}"
        return 1
    fi
    wall="$(sed -n 's/^bench_spin: .* on [0-9]* ranks\{0,1\} in \([0-9.]*\) s .*/\1/p' <<<"$out" | head -n 1)"
    [[ -n "$wall" ]] || { echo "$out" >&2; fail "shoal_n$np rep $rep: no wall time in the output"; return 1; }
    cores=$((np < NCORES ? np : NCORES))
    label="Shoal, $np ranks"
    if [[ $np -gt $NCORES ]]; then
        label+=" on $NCORES cores (--oversubscribe; efficiency over the $NCORES cores)"
    fi
    "$PY" "$HELPER" shoal "$DIR/shoal_n$np.h5" "$wall" "$cores" --out "$OUT" \
        --local "$LOCAL" --case "shoal_n$np" --label "$label" --ranks "$np" \
        --rep "$rep" --command "${cmd[*]}" ||
        { fail "shoal_n$np rep $rep: reading $DIR/shoal_n$np.h5"; return 1; }
}

echo "b_balance: $REPS reps x (shoal_n2, shoal_n3, py_pool2, static2), $NTASKS tasks each," \
    "$NCORES cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((rep = 1; rep <= REPS; rep++)); do
    seed=$((SEED0 + rep))
    echo "b_balance: rep $rep/$REPS (seed $seed)"
    have_n2=1
    run_shoal 2 "$rep" "$seed" || have_n2=0
    run_shoal 3 "$rep" "$seed" || true
    if [[ $have_n2 -eq 0 ]]; then
        fail "py_pool2 and static2 rep $rep: need shoal_n2's costs"
        continue
    fi
    # The Python baseline spins through the costs shoal_n2 drew.
    "$PY" "$HELPER" costs "$DIR/shoal_n2.h5" "$DIR/costs.npy"
    cmd=("$PY" "$HELPER" pool "$DIR/costs.npy" 2)
    if res="$("${cmd[@]}")"; then
        "$PY" "$HELPER" python "$res" 2 --out "$OUT" --local "$LOCAL" \
            --case py_pool2 --ranks 2 --rep "$rep" --command "${cmd[*]}" \
            --label "Python multiprocessing.Pool(2).map, chunksize 1, same costs"
    else
        fail "py_pool2 rep $rep: ${cmd[*]}"
    fi
    cmd=("$PY" "$HELPER" static "$DIR/shoal_n2.h5" 2)
    "${cmd[@]}" --out "$OUT" --local "$LOCAL" --case static2 --ranks 2 \
        --rep "$rep" --command "${cmd[*]}" \
        --label "static block split, 2 ranks (computed from shoal_n2's /tasks/seconds, not run)" ||
        fail "static2 rep $rep"
done

echo
echo "b_balance: medians over $REPS reps ($NTASKS tasks; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" "$HELPER" summary "$LOCAL"
if [[ $failures -gt 0 ]]; then
    echo "b_balance: $failures case run(s) failed" >&2
    exit 1
fi
