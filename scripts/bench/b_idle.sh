#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Idle cost: the CPU that ranks use while they wait.
#
#   bash scripts/bench/b_idle.sh OUT.jsonl [--quick]
#
# apps/bench_spin with constant tasks of D seconds of CPU spinning
# (configs/bench_spin.ini with --set bench_spin.dist=constant; D = 1.5 s,
# --quick 0.4 s). Cases, alternated in each repetition:
#   startup_n2, startup_n3  zero-work runs (one empty task per rank): the CPU
#                 a rank spends outside the pool (MPI_Init, config, creating
#                 the file), subtracted below, rank by rank
#   sched_n2    -n 2, run.master_works=false, 4 tasks: rank 0 only schedules
#   sched_n3    -n 3 (--oversubscribe on 2 cores), master_works=false, 8 tasks
#   tail_n2     -n 2, master_works=true (default), 3 tasks: a rank waits for
#                 one task's time (both ranks get one task, then one of them
#                 gets the third)
#   tail_n3     -n 3 (--oversubscribe), master_works=false, 3 tasks: one
#                 worker waits at the end while the other runs the third task
# Metrics (all from the result file and the pool wall W printed on stdout):
#   master_cpu_fraction (sched_*): (cpu_0 - startup_0) / W: cores used by
#                 the scheduling-only rank 0 (target <= 0.02)
#   master_cpu_fraction_raw (sched_*): cpu_0 / W, startup not subtracted
#   idle_cpu_fraction (tail_*): max over waiting ranks of
#                 (cpu_r - startup_r - task_cpu_r) / (W - busy_r), where
#                 cpu_r = /ranks/cpu_seconds, busy_r = /ranks/busy_seconds,
#                 task_cpu_r = CPU its tasks spun (/results/spun_cpu) and a
#                 rank waits when W - busy_r >= W / 4. The waiting time is
#                 W - busy_r rather than /ranks/idle_seconds, which leaves
#                 out the wait in the pool's final MPI_Allreduce. Target
#                 <= 0.02 (2% of a core).
#   startup_cpu_s (startup_*): mean CPU seconds of a rank in a zero-work run
#   wall_s: W
# Environment: BENCH_REPS (default 5; --quick 2), BENCH_IDLE_TASK_MS (D in ms).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args idle "$@"

# shellcheck source=scripts/env.sh
source scripts/env.sh

if [[ $QUICK -eq 1 ]]; then
    REPS="${BENCH_REPS:-2}"
    TASK_MS="${BENCH_IDLE_TASK_MS:-400}"
else
    REPS="${BENCH_REPS:-5}"
    TASK_MS="${BENCH_IDLE_TASK_MS:-1500}"
fi
NCORES="$(shoal_nproc)"
PY=/usr/bin/python3
APP=build/apps/bench_spin/bench_spin
CONFIG=configs/bench_spin.ini
DIR=build/bench/idle
HELPER=build/bench/b_idle_helper.py

[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target bench_spin -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT

cat >"$HELPER" <<'PYEOF'
# Written by scripts/bench/b_idle.sh: reads a run's result file, writes metrics.
import argparse, json, statistics, sys


def emit(a, metrics):
    for metric, unit, value, better in metrics:
        line = json.dumps({
            "bench": "idle", "case": a.case, "label": a.label,
            "ranks": int(a.ranks) if a.ranks else None, "rep": int(a.rep),
            "metric": metric, "unit": unit, "value": value, "better": better,
            "command": a.command})
        for path in (a.out, a.local):
            with open(path, "a") as f:
                f.write(line + "\n")


def ranks_of(h5):
    import h5py, numpy as np
    with h5py.File(h5, "r") as f:
        cpu = f["ranks/cpu_seconds"][:].astype(float)
        busy = f["ranks/busy_seconds"][:].astype(float)
        idle = f["ranks/idle_seconds"][:].astype(float)
        rank = f["tasks/rank"][:]
        spun = f["results/spun_cpu"][:]
    task_cpu = np.array([float(spun[rank == r].sum()) for r in range(len(cpu))])
    return cpu, busy, idle, task_cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["startup", "sched", "tail", "summary"])
    p.add_argument("args", nargs="*")
    for k in ("out", "local", "case", "label", "ranks", "rep", "command"):
        p.add_argument("--" + k, default="")
    a = p.parse_args()
    if a.what == "summary":
        rows = [json.loads(l) for l in open(a.args[0])]
        keys = []
        for r in rows:
            if (r["case"], r["metric"]) not in keys:
                keys.append((r["case"], r["metric"]))
        print("%-10s %-24s %3s %9s %9s %9s  %s" % ("case", "metric", "n", "median", "min", "max", "label"))
        for case, metric in keys:
            v = [r["value"] for r in rows if r["case"] == case and r["metric"] == metric]
            lab = next(r["label"] for r in rows if r["case"] == case)
            print("%-10s %-24s %3d %9.4g %9.4g %9.4g  %s" % (case, metric, len(v),
                  statistics.median(v), min(v), max(v), lab))
        return 0
    cpu, busy, idle, task_cpu = ranks_of(a.args[0])
    wall = float(a.args[1])
    if a.what == "startup":      # H5 WALL STARTUP_JSON: record the per-rank CPU
        with open(a.args[2], "w") as f:
            json.dump(cpu.tolist(), f)
        emit(a, [("startup_cpu_s", "s", float(cpu.mean()), "lower")])
        return 0
    with open(a.args[2]) as f:   # H5 WALL STARTUP_JSON
        startup = json.load(f)
    outside = cpu - startup - task_cpu
    waiting = wall - busy
    for r in range(len(cpu)):
        print("  rank %d: cpu %.3f s (startup %.3f, tasks %.3f), busy %.3f s, "
              "waiting %.3f s (idle_seconds %.3f)" % (r, cpu[r], startup[r],
              task_cpu[r], busy[r], waiting[r], idle[r]))
    metrics = []
    if a.what == "sched":
        metrics += [("master_cpu_fraction", "cores", float((cpu[0] - startup[0]) / wall), "lower"),
                    ("master_cpu_fraction_raw", "cores", float(cpu[0] / wall), "lower")]
    else:
        waiters = [r for r in range(len(cpu)) if waiting[r] >= wall / 4]
        if not waiters:
            print("b_idle: no rank waited a quarter of the wall time", file=sys.stderr)
            return 1
        metrics.append(("idle_cpu_fraction", "cores",
                        float(max(outside[r] / waiting[r] for r in waiters)), "lower"))
    metrics.append(("wall_s", "s", wall, "lower"))
    emit(a, metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
PYEOF

mpirun_words() {
    if [[ "$1" -gt "$NCORES" ]]; then
        echo "mpirun -n $1 --oversubscribe"
    else
        echo "mpirun -n $1"
    fi
}

LOCAL="$DIR/results.jsonl"
: >"$LOCAL"
failures=0
fail() { echo "b_idle: FAILED: $*" >&2; failures=$((failures + 1)); }

# Each case: "name|ranks|tasks|task_ms|master_works|kind|label"
cases=()
for np in 2 3; do
    cases+=("startup_n$np|$np|$np|0|true|startup|zero-work run, $np ranks: CPU outside the pool")
done
cases+=("sched_n2|2|4|$TASK_MS|false|sched|2 ranks, master_works=false: rank 0 only schedules")
cases+=("sched_n3|3|8|$TASK_MS|false|sched|3 ranks on $NCORES cores, master_works=false: rank 0 only schedules")
cases+=("tail_n2|2|3|$TASK_MS|true|tail|2 ranks, 3 tasks: one rank waits one task's time")
cases+=("tail_n3|3|3|$TASK_MS|false|tail|3 ranks on $NCORES cores, master_works=false, 3 tasks: a worker waits at the end")

run_case() {
    local rep="$1" name="$2" np="$3" ntasks="$4" ms="$5" mw="$6" kind="$7" label="$8"
    local out rc=0 wall h5="$DIR/$name.h5"
    local -a cmd
    read -r -a cmd <<<"$(mpirun_words "$np")"
    cmd+=("$APP" "$CONFIG" --set "run.tasks=$ntasks" --set "run.master_works=$mw"
        --set bench_spin.dist=constant --set "bench_spin.mean_ms=$ms" -o "$h5" -f)
    out="$("${cmd[@]}" 2>&1)" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "$out" >&2
        fail "$name rep $rep (exit $rc): ${cmd[*]}"
        return 0
    fi
    wall="$(sed -n 's/^bench_spin: .* on [0-9]* ranks\{0,1\} in \([0-9.]*\) s .*/\1/p' <<<"$out" | head -n 1)"
    [[ -n "$wall" ]] || { echo "$out" >&2; fail "$name rep $rep: no wall time in the output"; return 0; }
    echo "b_idle: $name: wall $wall s"
    "$PY" "$HELPER" "$kind" "$h5" "$wall" "$DIR/startup_n$np.json" --out "$OUT" \
        --local "$LOCAL" --case "$name" --label "$label" --ranks "$np" \
        --rep "$rep" --command "${cmd[*]}" || fail "$name rep $rep: reading $h5"
    rm -f "$h5"
}

echo "b_idle: $REPS reps x ${#cases[@]} cases, tasks of $TASK_MS ms, $NCORES cores," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((rep = 1; rep <= REPS; rep++)); do
    echo "b_idle: rep $rep/$REPS"
    rm -f "$DIR"/startup_n*.json
    for c in "${cases[@]}"; do
        IFS='|' read -r name np ntasks ms mw kind label <<<"$c"
        if [[ $kind != startup && ! -f "$DIR/startup_n$np.json" ]]; then
            fail "$name rep $rep: no startup_n$np run to subtract"
            continue
        fi
        run_case "$rep" "$name" "$np" "$ntasks" "$ms" "$mw" "$kind" "$label"
    done
done

echo
echo "b_idle: medians over $REPS reps (tasks of $TASK_MS ms; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" "$HELPER" summary "$LOCAL"
if [[ $failures -gt 0 ]]; then
    echo "b_idle: $failures case run(s) failed" >&2
    exit 1
fi
