#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Search: successive halving against the full grid, tuning ml_tune (a small
# neural network, 5-fold cross-validated, on the UCI handwritten digits).
#
#   bash scripts/bench/b_search.sh OUT.jsonl [--quick]
#
# The same 27 configurations (configs/ml_tune_grid.ini: lr x l2 x hidden),
# 2 ranks, alternated in each repetition, held-out test scoring off:
#   grid       every configuration at 81 epochs (27 tasks)
#   halving    configs/ml_tune_halving.ini: 3, 9, 27, 81 epochs, the best
#              third of each rung going on (40 tasks; the same at any rank
#              count)
#   async      the same with method = async_halving (every rank busy)
# Metrics per case: cpu_s (s, lower: the CPU time of every rank, /ranks/
# cpu_seconds summed, start-up included), wall_s, best_cv (higher: the best
# cross-validated accuracy it found), and for the searches gap_pp (lower:
# the grid's best minus the grid's accuracy of the configuration the search
# picked, in percentage points, the same rep's grid). After the reps, the
# halving's pick is trained once on the whole training part and scored on
# the held-out test set: test_acc and its agreement with best_cv
# (test_z: the absolute difference over the combined standard error).
# Also draws docs/bench/search_rungs.png: each configuration's accuracy
# against its budget, rung by rung, from the last halving run.
# Environment: BENCH_REPS (default 3; --quick 1).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args search "$@"

# shellcheck source=scripts/env.sh
source scripts/env.sh

REPS="${BENCH_REPS:-3}"
[[ $QUICK -eq 1 ]] && REPS="${BENCH_REPS:-1}"
NCORES="$(shoal_nproc)"
PY=/usr/bin/python3
ML=build/apps/ml_tune/ml_tune
DIR=build/bench/search
"$PY" -c "import h5py, numpy, matplotlib" || { echo "b_search: $PY lacks h5py, numpy or matplotlib" >&2; exit 1; }
[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target ml_tune -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR" docs/bench

LOCAL="$DIR/results.jsonl"
: >"$LOCAL"
emit() { # emit CASE LABEL METRIC UNIT VALUE BETTER REP COMMAND
    local line
    line=$("$PY" -c 'import json, sys
a = sys.argv[1:]
print(json.dumps({"bench": "search", "case": a[0], "label": a[1], "ranks": 2, "rep": int(a[6]),
                  "metric": a[2], "unit": a[3], "value": float(a[4]), "better": a[5],
                  "command": a[7]}))' "$@")
    echo "$line" >>"$OUT"
    echo "$line" >>"$LOCAL"
}

# measure FILE: "cpu_s wall_s best_cv best_point" of a finished run.
measure() {
    "$PY" - "$1" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    cpu = f["ranks/cpu_seconds"][:].sum()
    wall = f.attrs["wall_seconds"]
    if "search" in f:
        best, pick = f["search"].attrs["best_value"], int(f["search"].attrs["best_point"])
    else:
        cv = f["results/cv_acc"][:]
        best, pick = cv.max(), int(cv.argmax())
print(f"{cpu:.4f} {wall:.4f} {best:.6f} {pick}")
PYEOF
}

cases=(
    "grid|grid: 27 configurations x 81 epochs|configs/ml_tune_grid.ini"
    "halving|successive halving: 3, 9, 27, 81 epochs, eta 3|configs/ml_tune_halving.ini"
    "async|async successive halving, the same rungs|configs/ml_tune_halving.ini --set search.method=async_halving"
)
echo "b_search: $REPS reps x ${#cases[@]} cases at 2 ranks, $NCORES cores," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((rep = 1; rep <= REPS; rep++)); do
    grid_file=""
    for c in "${cases[@]}"; do
        IFS='|' read -r name label cfg <<<"$c"
        read -r -a args <<<"$cfg"
        f="$DIR/$name.h5"
        cmd="mpirun -n 2 $ML ${args[*]} --set ml_tune.test=0 -o $f --force -q"
        mpirun -n 2 "$ML" "${args[@]}" --set ml_tune.test=0 -o "$f" --force -q ||
            { echo "b_search: FAILED: $cmd" >&2; exit 1; }
        read -r cpu wall best pick <<<"$(measure "$f")"
        echo "b_search: rep $rep $name: cpu $cpu s, wall $wall s, best cv $best (configuration $pick)"
        emit "$name" "$label" cpu_s s "$cpu" lower "$rep" "$cmd"
        emit "$name" "$label" wall_s s "$wall" lower "$rep" "$cmd"
        emit "$name" "$label" best_cv 1 "$best" higher "$rep" "$cmd"
        if [[ $name == grid ]]; then
            grid_file=$f
            cp "$f" "$DIR/grid_keep.h5"
        else
            gap=$("$PY" -c "import h5py; cv = h5py.File('$DIR/grid_keep.h5', 'r')['results/cv_acc'][:]; print(100 * (cv.max() - cv[$pick]))")
            emit "$name" "$label" gap_pp pp "$gap" lower "$rep" "$cmd"
        fi
    done
done

# The halving's pick on the held-out test set, once.
read -r -a pick_params <<<"$("$PY" - "$DIR/halving.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    t = int(f["search"].attrs["best_task"])
    print(" ".join(f"--set ml_tune.{k}={f['params'][k][t]}" for k in ("lr", "l2", "hidden")))
PYEOF
)"
printf '[run]\ntasks = 1\nseed = 20261202\n[ml_tune]\nepochs = 81\ntest = 1\n' >"$DIR/pick.ini"
mpirun -n 1 "$ML" "$DIR/pick.ini" "${pick_params[@]}" -o "$DIR/pick.h5" --force -q
read -r test_acc test_z <<<"$("$PY" - "$DIR/pick.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    r = {k: f["results"][k][0] for k in ("cv_acc", "cv_se", "test_acc", "test_se")}
print(f"{r['test_acc']:.6f} {abs(r['test_acc'] - r['cv_acc']) / np.hypot(r['cv_se'], r['test_se']):.4f}")
PYEOF
)"
cmd="mpirun -n 1 $ML $DIR/pick.ini ${pick_params[*]} (81 epochs, test = 1)"
emit pick "the halving's pick, trained on all the training part" test_acc 1 "$test_acc" higher 1 "$cmd"
emit pick "the halving's pick, trained on all the training part" test_z sd "$test_z" lower 1 "$cmd"

# Accuracy against budget, rung by rung (the last halving run).
"$PY" - "$DIR/halving.h5" docs/bench/search_rungs.png <<'PYEOF'
import sys, h5py, numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
with h5py.File(sys.argv[1], "r") as f:
    point, budget = f["search/point"][:], f["search/budget"][:]
    cv = f["results/cv_acc"][:]
    best = int(f["search"].attrs["best_point"])
fig, ax = plt.subplots(figsize=(6.5, 4))
for p in np.unique(point):
    m = point == p
    ax.plot(budget[m], cv[m], "-o", ms=3, lw=1.6 if p == best else 0.6,
            color="C3" if p == best else "0.5", zorder=3 if p == best else 2)
ax.set_xscale("log")
ax.set_xticks(sorted(set(budget)))
ax.set_xticklabels([str(int(b)) for b in sorted(set(budget))])
ax.set_xlabel("budget: training epochs (rung)")
ax.set_ylabel("5-fold cross-validated accuracy")
ax.set_ylim(max(0.85, np.nanmin(cv) - 0.01), 1.0)
ax.set_title("ml_tune, successive halving: 27 configurations, eta 3")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print("b_search: wrote", sys.argv[2])
PYEOF

echo
echo "b_search: medians over $REPS reps (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" - "$LOCAL" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for case, metric in dict.fromkeys((r["case"], r["metric"]) for r in rows):
    v = [r["value"] for r in rows if r["case"] == case and r["metric"] == metric]
    med[case, metric] = statistics.median(v)
    print("%-8s %-9s %3d %10.4g %10.4g %10.4g" % (case, metric, len(v), med[case, metric], min(v), max(v)))
for s in ("halving", "async"):
    print("%s: %.3g of the grid's CPU time, %.3g points below its best" %
          (s, med[s, "cpu_s"] / med["grid", "cpu_s"], med[s, "gap_pp"]))
PYEOF
