#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Scale of a run: peak memory (RSS) of the master and the worker, and
# throughput, for 10^5 .. 10^8 empty tasks at 2 ranks.
#
#   bash scripts/bench/b_memory.sh OUT.jsonl [--quick]
#
# The tasks come from a [scan] grid, so the scan machinery (per-task
# parameter values, /params columns, /tasks/point and /tasks/replicate) is
# exercised: apps/bench_memory (two float parameters a, b; one float64
# output a * b) with configs/bench_memory.ini, the grid set per size with
#   --set 'scan.a=linspace(0, 1, NA)' --set 'scan.b=linspace(0, 1, NB)'
# for NA x NB = 1000 x 100, 1000 x 1000, 10000 x 1000, 10000 x 10000
# (--quick: the first two only). Sizes run alternately, REPS rounds.
#
# Metrics per run (ranks = 2):
#   case "n=1eK master"  max_rss_mib   /ranks/max_rss_kib[0] / 1024: rank 0,
#                                      which schedules and also runs tasks
#   case "n=1eK worker"  max_rss_mib   /ranks/max_rss_kib[1] / 1024
#   case "n=1eK"         tasks_per_s   from the summary line (pool only)
#   case "n=1eK"         tasks_per_s_whole  tasks / wall time of the mpirun
#                                      command (start-up, file creation too)
#   case "n=1eK"         file_mib      size of the result file
# The result file goes to build/bench/memory.h5 and is deleted after it is
# read (10^8 tasks: about 4.9 GiB with the scan columns). Before each run the
# free space is checked against 3x the size --dry-run predicts; a size that
# does not fit is skipped, and the skip is recorded in OUT.jsonl as one line
# with metric "skipped" (unit "note", value = free MiB, label says why).
# REPS: env BENCH_REPS (default 5; --quick: 2).
set -euo pipefail
export LC_ALL=C

BENCH=memory

usage() {
    echo "usage: bash scripts/bench/b_memory.sh OUT.jsonl [--quick]" >&2
    exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
OUT_ARG="$1"
QUICK=0
if [[ $# -eq 2 ]]; then
    [[ "$2" == --quick ]] || usage
    QUICK=1
fi
mkdir -p "$(dirname "$OUT_ARG")"
OUT="$(cd "$(dirname "$OUT_ARG")" && pwd)/$(basename "$OUT_ARG")"
touch "$OUT"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/env.sh disable=SC1091
source scripts/env.sh

PY=/usr/bin/python3
NCORES="$(shoal_nproc)"
NP=2
# "name NA NB"
SIZES=("1e5 1000 100" "1e6 1000 1000" "1e7 10000 1000" "1e8 10000 10000")
if [[ $QUICK -eq 1 ]]; then
    REPS=2
    SIZES=("${SIZES[@]:0:2}")
else
    REPS="${BENCH_REPS:-5}"
fi

BENCH_DIR=build/bench
APP_BIN=build/apps/bench_memory/bench_memory
H5="$BENCH_DIR/memory.h5"
START_LINE="$(wc -l <"$OUT")"
trap 'rm -f "$H5" "$H5.lock"' EXIT

# ---- helpers -----------------------------------------------------------------

# Shell-quotes each word only where needed, so the result can be pasted.
shquote() {
    local w out=()
    for w in "$@"; do
        if [[ "$w" =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
            out+=("$w")
        else
            out+=("'${w//\'/\'\\\'\'}'")
        fi
    done
    printf '%s' "${out[*]}"
}

json_str() {
    local s="$1"
    s="${s//\\/\\\\}"
    s="${s//\"/\\\"}"
    printf '%s' "$s"
}

# emit CASE LABEL RANKS REP METRIC UNIT VALUE BETTER COMMAND [FILE]
emit() {
    local value="$7"
    if ! [[ "$value" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
        echo "b_$BENCH: not a number for $1 $5: '$value'" >&2
        return 1
    fi
    printf '{"bench": "%s", "case": "%s", "label": "%s", "ranks": %s, "rep": %d, "metric": "%s", "unit": "%s", "value": %s, "better": "%s", "command": "%s"}\n' \
        "$BENCH" "$(json_str "$1")" "$(json_str "$2")" "$3" "$4" "$5" "$6" \
        "$value" "$8" "$(json_str "$9")" >>"${10:-$OUT}"
}

# run_timed CMD...: runs it, sets RUN_OUT (stdout+stderr), RUN_WALL (s),
# RUN_CMD (quoted command line); returns its exit status.
run_timed() {
    local t0 t1 rc=0
    RUN_CMD="$(shquote "$@")"
    t0="$EPOCHREALTIME"
    RUN_OUT="$("$@" 2>&1)" || rc=$?
    t1="$EPOCHREALTIME"
    RUN_WALL="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')"
    return "$rc"
}

failures=0
fail() {
    echo "b_$BENCH: FAILED: $1" >&2
    echo "  command: $RUN_CMD" >&2
    tail -n 20 <<<"$RUN_OUT" | sed 's/^/  | /' >&2
    failures=$((failures + 1))
}

# mpirun words for $1 ranks, --oversubscribe beyond the local cores.
launcher() {
    MPIRUN=(mpirun -n "$1")
    [[ "$1" -le "$NCORES" ]] || MPIRUN+=(--oversubscribe)
}

# ---- build -------------------------------------------------------------------

mkdir -p "$BENCH_DIR"
if [[ ! -x "$APP_BIN" ]]; then
    # A tree configured before apps/bench_memory existed needs a re-configure.
    cmake -S . -B build >/dev/null
    cmake --build build -j2 --target bench_memory
fi

# ---- cases -------------------------------------------------------------------

# Predicted output size in bytes from --dry-run ("output: ..., about 4.9 GiB").
predicted_bytes() {
    local na="$1" nb="$2" out
    out="$("$APP_BIN" configs/bench_memory.ini --dry-run \
        --set "scan.a=linspace(0, 1, $na)" --set "scan.b=linspace(0, 1, $nb)" \
        --output "$H5")"
    sed -n 's/^ *output: .*, about \([0-9.]*\) \([KMGTP]*i*B\)$/\1 \2/p' <<<"$out" |
        awk '{ m = 1; if ($2 == "KiB") m = 2^10; else if ($2 == "MiB") m = 2^20;
               else if ($2 == "GiB") m = 2^30; else if ($2 == "TiB") m = 2^40;
               printf "%.0f\n", $1 * m }'
}

free_bytes() {
    df -P -B1 "$BENCH_DIR" | awk 'NR == 2 { print $4 }'
}

declare -A PREDICTED
for size in "${SIZES[@]}"; do
    read -r name na nb <<<"$size"
    PREDICTED[$name]="$(predicted_bytes "$na" "$nb")"
    if [[ -z "${PREDICTED[$name]}" ]]; then
        echo "b_$BENCH: could not read the predicted output size for n=$name from --dry-run" >&2
        exit 1
    fi
done

run_size() {
    local name="$1" na="$2" nb="$3" rep="$4" n free need line rate stats
    n=$((na * nb))
    local grid="bench_memory, $na x $nb grid scan (2 linspace parameters), $NP ranks"
    need=$((3 * PREDICTED[$name]))
    free="$(free_bytes)"
    if [[ "$free" -lt "$need" ]]; then
        local note="n=$name skipped in round $rep: $((free >> 20)) MiB free under $BENCH_DIR, needs 3 x the predicted $((PREDICTED[$name] >> 20)) MiB"
        echo "b_$BENCH: $note" >&2
        emit "n=$name" "$note" "$NP" "$rep" skipped note "$((free >> 20))" lower \
            "df -P -B1 $BENCH_DIR"
        return 0
    fi
    launcher "$NP"
    rm -f "$H5" "$H5.lock"
    if ! run_timed "${MPIRUN[@]}" "$APP_BIN" configs/bench_memory.ini \
        --set "scan.a=linspace(0, 1, $na)" --set "scan.b=linspace(0, 1, $nb)" \
        --output "$H5" --force; then
        rm -f "$H5"
        fail "n=$name rep $rep"
        return 0
    fi
    line="$(grep -E "^bench_memory: $n tasks \\($n done, 0 failed\\)" <<<"$RUN_OUT" | head -n 1 || true)"
    rate="$(sed -n 's/.*(\([0-9.eE+]*\) tasks\/s)$/\1/p' <<<"$line")"
    # "state ntasks master_kib worker_kib bytes"
    stats="$("$PY" - "$H5" <<'PYEOF' || true
import os, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    rss = f["ranks/max_rss_kib"][:]
    print(f.attrs["state"], int(f.attrs["ntasks"]), int(rss[0]), int(rss[1:].max()),
          os.path.getsize(sys.argv[1]))
PYEOF
)"
    rm -f "$H5"
    local state ntasks master_kib worker_kib bytes
    read -r state ntasks master_kib worker_kib bytes <<<"$stats"
    if [[ -z "$rate" || "${state:-}" != complete || "${ntasks:-}" != "$n" ]]; then
        fail "n=$name rep $rep: incomplete run or unreadable file (state=${state:-?}, ntasks=${ntasks:-?})"
        return 0
    fi
    emit "n=$name master" "$grid: rank 0 (master, also runs tasks), peak RSS" "$NP" "$rep" \
        max_rss_mib MiB "$(awk -v k="$master_kib" 'BEGIN { printf "%.2f", k / 1024 }')" lower "$RUN_CMD"
    emit "n=$name worker" "$grid: rank 1 (worker), peak RSS" "$NP" "$rep" \
        max_rss_mib MiB "$(awk -v k="$worker_kib" 'BEGIN { printf "%.2f", k / 1024 }')" lower "$RUN_CMD"
    emit "n=$name" "$grid: throughput (pool only)" "$NP" "$rep" \
        tasks_per_s tasks/s "$rate" higher "$RUN_CMD"
    emit "n=$name" "$grid: throughput of the whole mpirun command (start-up, file creation and closing included)" \
        "$NP" "$rep" tasks_per_s_whole tasks/s \
        "$(awk -v n="$n" -v w="$RUN_WALL" 'BEGIN { printf "%.1f", n / w }')" higher "$RUN_CMD"
    emit "n=$name" "$grid: result file size" "$NP" "$rep" \
        file_mib MiB "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')" lower "$RUN_CMD"
}

for ((rep = 1; rep <= REPS; rep++)); do
    echo "b_$BENCH: round $rep/$REPS" >&2
    for size in "${SIZES[@]}"; do
        read -r name na nb <<<"$size"
        run_size "$name" "$na" "$nb" "$rep"
    done
done

# ---- summary -----------------------------------------------------------------

"$PY" - "$OUT" "$START_LINE" "$BENCH" <<'PYEOF'
import json, statistics, sys
from collections import OrderedDict

out, start, bench = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [json.loads(l) for i, l in enumerate(open(out)) if i >= start and l.strip()]
rows = [r for r in rows if r.get("bench") == bench]
agg = OrderedDict()
for r in rows:
    if r["metric"] != "skipped":
        agg.setdefault((r["case"], r["metric"]), []).append(r)
print(f"\nb_{bench}: medians ({len(rows)} measurements)")
print(f"{'case':<14} {'metric':<18} {'n':>2} {'median':>12} {'min':>12} {'max':>12}  unit")
for (case, metric), rs in agg.items():
    v = [r["value"] for r in rs]
    print(f"{case:<14} {metric:<18} {len(v):>2} {statistics.median(v):>12.6g} "
          f"{min(v):>12.6g} {max(v):>12.6g}  {rs[0]['unit']}")
for r in rows:
    if r["metric"] == "skipped":
        print("note:", r["label"])
PYEOF

if [[ $failures -gt 0 ]]; then
    echo "b_$BENCH: $failures run(s) failed" >&2
    exit 1
fi
