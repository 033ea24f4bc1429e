#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The shoal command on a big file: `shoal status` and `shoal export` on a
# 1,000,000-task result file against peers that read the same columns.
#
#   bash scripts/bench/b_tool.sh OUT.jsonl [--quick]
#
# The file: apps/mc_pi, 10^6 tasks of 10 samples (--quick 10^5), 2 ranks:
# /results hits, pi, samples and the task columns. Cases, alternated in
# each repetition (whole commands, wall clock, output to /dev/null):
#   shoal_status   shoal status FILE (counts, per-rank sums and the ETA's
#                  strata over /tasks/status, rank, seconds)
#   h5dump_status  h5dump -d /tasks/status FILE: the text dump the issue
#                  found users piping through sort | uniq -c
#   h5py_status    /usr/bin/python3 with h5py + numpy: read status, rank and
#                  seconds and count them (interpreter start included)
#   shoal_export   shoal export FILE (every column as CSV)
#   h5py_export    h5py + numpy: read the same columns, write them as CSV
#                  with numpy.savetxt (17 digits for floats)
#   py_frame       the Python reader (build/python): shoal.read_frame(FILE),
#                  every scalar field and task column in a pandas DataFrame,
#                  status as text
#   h5py_frame     h5py + pandas by hand: the same columns read with h5py
#                  into a DataFrame (status left as its code)
# Metrics: wall_s (s, lower) for each; rows_per_s for the exports and frames.
# Environment: BENCH_REPS (default 5; --quick 2), BENCH_TOOL_TASKS.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args tool "$@"

# shellcheck source=scripts/env.sh
source scripts/env.sh

if [[ $QUICK -eq 1 ]]; then
    REPS="${BENCH_REPS:-2}"
    TASKS="${BENCH_TOOL_TASKS:-100000}"
else
    REPS="${BENCH_REPS:-5}"
    TASKS="${BENCH_TOOL_TASKS:-1000000}"
fi
NCORES="$(shoal_nproc)"
PY=/usr/bin/python3
SHOAL=build/tools/shoal
DIR=build/bench/tool
H5="$DIR/big.h5"
command -v h5dump >/dev/null || { echo "b_tool: h5dump is missing (apt-get install hdf5-tools)" >&2; exit 1; }
"$PY" -c "import h5py, numpy, pandas" || { echo "b_tool: $PY lacks h5py, numpy or pandas" >&2; exit 1; }

[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target shoal_tool mc_pi shoal_python -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT

echo "b_tool: making a $TASKS-task file ($H5)"
mpirun -n 2 build/apps/mc_pi/mc_pi configs/mc_pi.ini --set "run.tasks=$TASKS" \
    --set mc_pi.samples=10 -o "$H5" -q
SIZE_MB=$(du -m "$H5" | cut -f1)

cat >"$DIR/status.py" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    st = f["tasks/status"][:]
    rank = f["tasks/rank"][:]
    sec = f["tasks/seconds"][:]
print(np.bincount(st, minlength=4))
done = st == 1
print(np.bincount(rank[done]), np.bincount(rank[done], weights=sec[done]))
PYEOF
cat >"$DIR/export.py" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    names, cols, fmts = [], [], []
    for group, keys in (("results", sorted(f["results"])),
                        ("tasks", ["status", "rank", "seconds", "error", "attempts"])):
        for k in keys:
            v = f[group][k][:]
            names.append(k)
            cols.append(v.astype(np.float64))
            fmts.append("%.17g" if v.dtype.kind == "f" else "%d")
n = len(cols[0])
table = np.column_stack([np.arange(n, dtype=np.float64)] + cols)
np.savetxt(sys.stdout, table, fmt=["%d"] + fmts, delimiter=",", header=",".join(["task"] + names),
           comments="")
PYEOF

cat >"$DIR/frame.py" <<'PYEOF'
import sys, shoal
df = shoal.read_frame(sys.argv[1])
print(len(df), df.status.value_counts().to_dict())
PYEOF
cat >"$DIR/h5frame.py" <<'PYEOF'
import sys, h5py, pandas as pd
with h5py.File(sys.argv[1], "r", locking=False) as f:
    cols = {k: f["results"][k][:] for k in sorted(f["results"])}
    for k in ("status", "seconds", "attempts", "error", "rank"):
        cols[k] = f["tasks"][k][:]
df = pd.DataFrame(cols)
df.index.name = "task"
print(len(df), df.status.value_counts().to_dict())
PYEOF

LOCAL="$DIR/results.jsonl"
: >"$LOCAL"
emit() { # emit CASE LABEL METRIC UNIT VALUE BETTER REP COMMAND
    local line
    line=$("$PY" -c 'import json, sys
a = sys.argv[1:]
print(json.dumps({"bench": "tool", "case": a[0], "label": a[1], "ranks": None, "rep": int(a[6]),
                  "metric": a[2], "unit": a[3], "value": float(a[4]), "better": a[5],
                  "command": a[7]}))' "$@")
    echo "$line" >>"$OUT"
    echo "$line" >>"$LOCAL"
}

# time_cmd CMD...: wall seconds of CMD (stdout to /dev/null); fails the benchmark if it fails.
time_cmd() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null || { echo "b_tool: FAILED: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    "$PY" -c "print(f'{$t1 - $t0:.4f}')"
}

cases=(
    "shoal_status|shoal status, $TASKS tasks|$SHOAL status $H5"
    "h5dump_status|h5dump -d /tasks/status, $TASKS tasks|h5dump -d /tasks/status $H5"
    "h5py_status|h5py + numpy: status, rank, seconds counted, $TASKS tasks|$PY $DIR/status.py $H5"
    "shoal_export|shoal export (CSV), $TASKS tasks|$SHOAL export $H5"
    "h5py_export|h5py + numpy.savetxt, the same columns as CSV, $TASKS tasks|$PY $DIR/export.py $H5"
    "py_frame|Python reader: shoal.read_frame, $TASKS tasks|env PYTHONPATH=build/python $PY $DIR/frame.py $H5"
    "h5py_frame|h5py + pandas by hand, the same columns, $TASKS tasks|$PY $DIR/h5frame.py $H5"
)
echo "b_tool: $REPS reps x ${#cases[@]} cases, file of $SIZE_MB MB, $NCORES cores," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
# The file is read once first so that every case finds it in the page cache.
cat "$H5" >/dev/null
for ((rep = 1; rep <= REPS; rep++)); do
    for c in "${cases[@]}"; do
        IFS='|' read -r name label cmd <<<"$c"
        read -r -a argv <<<"$cmd"
        s=$(time_cmd "${argv[@]}")
        echo "b_tool: rep $rep $name: $s s"
        emit "$name" "$label" wall_s s "$s" lower "$rep" "$cmd"
        if [[ $name == *_export || $name == *_frame ]]; then
            emit "$name" "$label" rows_per_s rows/s "$("$PY" -c "print($TASKS / $s)")" higher "$rep" "$cmd"
        fi
    done
done

echo
echo "b_tool: medians over $REPS reps ($TASKS tasks; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" - "$LOCAL" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = list(dict.fromkeys((r["case"], r["metric"]) for r in rows))
med = {}
for case, metric in keys:
    v = [r["value"] for r in rows if r["case"] == case and r["metric"] == metric]
    med[case, metric] = statistics.median(v)
    print("%-14s %-11s %3d %10.4g %10.4g %10.4g" % (case, metric, len(v), med[case, metric], min(v), max(v)))
s = med["shoal_status", "wall_s"]
print("shoal status vs h5dump: %.3gx faster; vs h5py: %.3gx" % (med["h5dump_status", "wall_s"] / s,
      med["h5py_status", "wall_s"] / s))
print("shoal export vs h5py + savetxt: %.3gx faster" % (med["h5py_export", "wall_s"] / med["shoal_export", "wall_s"]))
print("Python reader's frame vs h5py + pandas by hand: %.3gx the time" % (med["py_frame", "wall_s"] / med["h5py_frame", "wall_s"]))
PYEOF
