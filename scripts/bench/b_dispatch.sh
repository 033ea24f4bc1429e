#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Dispatch throughput: empty tasks that each store one float64, Shoal against
# its peers, at 2 and 3 ranks (3 ranks on a 2-core machine oversubscribe).
#
#   bash scripts/bench/b_dispatch.sh OUT.jsonl [--quick]
#
# Cases, run alternately (every case once per round, REPS rounds):
#   shoal_rR       build/apps/bench_empty/bench_empty, configs/bench_empty.ini,
#                  R ranks; rank 0 schedules AND runs tasks; every row is
#                  written to an HDF5 file under build/bench/.
#   shoal_r2_bar   the same at 2 ranks with --progress=bar (the live line,
#                  drawn 4 times a second into the captured stderr), and
#   shoal_r2_log   with --progress=log --progress-every=0.1: what watching
#                  a run costs.
#   shoal_r2_static  the same program linked with the library's objects as a
#                  static archive (bench_empty_static) instead of the shared
#                  libshoal.so every other case uses: what the shared
#                  library's calls cost.
#   mw_bB_rR       scripts/bench/mw_baseline.c: hand-written C MPI
#                  master-worker, R ranks = 1 dedicated master (runs no
#                  tasks) + R-1 workers, batch B = 1 (one message per task)
#                  or 100; results stay in memory, no file.
#   py_pool_rR     Python multiprocessing.Pool(R).imap_unordered (R worker
#                  processes + the parent, which stores each result).
#   mpi4py_rR      mpi4py.futures MPIPoolExecutor.map(unordered=True) under
#                  mpirun -n R+1 (1 master rank + R worker ranks).
# The Python peers are measured at chunksize 1 (case ..._cs1) and at 100,
# 1000 and 10000; the chunk size with the best median over all rounds is
# then reported as case ..._best (label names the chunk size). Picking by
# median, not the best value of each round, avoids a max-of-three bias.
#
# Metrics: tasks_per_s (timed pool only: Shoal's summary line, mw_baseline's
# own MPI_Wtime timer, the Python peers' timer around the map) and, for Shoal
# and mw_baseline, tasks_per_s_whole (tasks / wall time of the whole mpirun
# command: MPI start-up, file creation and closing included).
#
# Sizes (full / --quick): Shoal and mw batch 100: 10^7 / 10^6 tasks;
# mw batch 1: 2*10^6 / 2*10^5; Python Pool: 10^5 / 10^4 at chunksize 1,
# 10^6 / 2*10^5 otherwise; mpi4py: 2*10^4 / 3*10^3 at chunksize 1,
# 10^6 / 2*10^5 otherwise. The metric is a rate, so sizes may differ.
# REPS: env BENCH_REPS (default 5; --quick: 2).
set -euo pipefail
export LC_ALL=C

BENCH=dispatch

usage() {
    echo "usage: bash scripts/bench/b_dispatch.sh OUT.jsonl [--quick]" >&2
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
CHUNKS=(100 1000 10000)
if [[ $QUICK -eq 1 ]]; then
    REPS=2
    N_SHOAL=1000000 N_MW1=200000 N_MW100=1000000
    N_PY1=10000 N_PY=200000 N_MPI4PY1=3000 N_MPI4PY=200000
else
    REPS="${BENCH_REPS:-5}"
    N_SHOAL=10000000 N_MW1=2000000 N_MW100=10000000
    N_PY1=100000 N_PY=1000000 N_MPI4PY1=20000 N_MPI4PY=1000000
fi
RANKS=(2 3)

BENCH_DIR=build/bench
SHOAL_BIN=build/apps/bench_empty/bench_empty
SHOAL_BIN_STATIC=build/apps/bench_empty/bench_empty_static
MW_BIN="$BENCH_DIR/mw_baseline"
H5="$BENCH_DIR/dispatch.h5"
START_LINE="$(wc -l <"$OUT")"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"; rm -f "$H5" "$H5.lock"' EXIT

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

# mpirun words for $1 ranks, --oversubscribe beyond the local cores; OVERSUB
# is a label suffix saying so.
launcher() {
    MPIRUN=(mpirun -n "$1")
    OVERSUB=""
    if [[ "$1" -gt "$NCORES" ]]; then
        MPIRUN+=(--oversubscribe)
        OVERSUB=" (oversubscribed: $1 processes on $NCORES cores)"
    fi
}

ensure_deb() {
    local pkg="$1"
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        echo "b_$BENCH: installing $pkg" >&2
        local -a apt=(apt-get)
        [[ "$(id -u)" -eq 0 ]] || apt=(sudo apt-get)
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" -o DPkg::Lock::Timeout=300 \
            install -y -q "$pkg" >&2 ||
            { DEBIAN_FRONTEND=noninteractive "${apt[@]}" -o DPkg::Lock::Timeout=300 update -q >&2 &&
                DEBIAN_FRONTEND=noninteractive "${apt[@]}" -o DPkg::Lock::Timeout=300 \
                    install -y -q "$pkg" >&2; }
    fi
}

# ---- build -------------------------------------------------------------------

MPI4PY_MISSING=0
ensure_deb python3-mpi4py || MPI4PY_MISSING=1
mkdir -p "$BENCH_DIR"
cmake --build build -j2 --target bench_empty bench_empty_static >/dev/null
mpicc -O2 -Wall -Wextra -Werror -o "$MW_BIN" scripts/bench/mw_baseline.c

# ---- cases -------------------------------------------------------------------

run_shoal() {
    local np="$1" rep="$2" mode="${3:-}" case="shoal_r$1" line rate
    local -a progress=()
    local bin=$SHOAL_BIN
    launcher "$np"
    local label="Shoal bench_empty, $np ranks (rank 0 schedules and runs tasks), every row written to HDF5$OVERSUB"
    case "$mode" in
        bar) case+=_bar progress=(--progress=bar)
             label+=", with the live progress line (redrawn 4 times a second)" ;;
        log) case+=_log progress=(--progress=log --progress-every=0.1)
             label+=", with a progress log line every 0.1 s" ;;
        static) case+=_static bin=$SHOAL_BIN_STATIC
             label+=", linked statically (every other case: the shared libshoal.so)" ;;
    esac
    rm -f "$H5" "$H5.lock"
    if ! run_timed "${MPIRUN[@]}" "$bin" configs/bench_empty.ini \
        --set "run.tasks=$N_SHOAL" --output "$H5" --force "${progress[@]}"; then
        fail "$case rep $rep"
        return 0
    fi
    line="$(grep -E "^bench_empty: $N_SHOAL tasks \\($N_SHOAL done, 0 failed\\)" <<<"$RUN_OUT" | head -n 1 || true)"
    rate="$(sed -n 's/.*(\([0-9.eE+]*\) tasks\/s)$/\1/p' <<<"$line")"
    if [[ -z "$rate" ]]; then
        fail "$case rep $rep: no summary line with all $N_SHOAL tasks done"
        return 0
    fi
    emit "$case" "$label" "$np" "$rep" tasks_per_s tasks/s "$rate" higher "$RUN_CMD"
    emit "$case" "$label" "$np" "$rep" tasks_per_s_whole tasks/s \
        "$(awk -v n="$N_SHOAL" -v w="$RUN_WALL" 'BEGIN { printf "%.1f", n / w }')" \
        higher "$RUN_CMD"
    rm -f "$H5"
}

run_mw() {
    local np="$1" batch="$2" rep="$3" n case="mw_b$2_r$1" rate
    n=$([[ "$batch" -eq 1 ]] && echo "$N_MW1" || echo "$N_MW100")
    launcher "$np"
    local label="C MPI master-worker (mw_baseline.c), batch $batch, $np ranks = 1 dedicated master (no tasks) + $((np - 1)) worker(s), no file$OVERSUB"
    if ! run_timed "${MPIRUN[@]}" "$MW_BIN" "$n" "$batch"; then
        fail "$case rep $rep"
        return 0
    fi
    rate="$(sed -n 's/^mw_baseline .*tasks_per_s=\([0-9.eE+]*\) .* ok$/\1/p' <<<"$RUN_OUT" | head -n 1)"
    if [[ -z "$rate" ]]; then
        fail "$case rep $rep: no 'ok' result line"
        return 0
    fi
    emit "$case" "$label" "$np" "$rep" tasks_per_s tasks/s "$rate" higher "$RUN_CMD"
    emit "$case" "$label" "$np" "$rep" tasks_per_s_whole tasks/s \
        "$(awk -v n="$n" -v w="$RUN_WALL" 'BEGIN { printf "%.1f", n / w }')" \
        higher "$RUN_CMD"
}

# Python peers: one process per round measures chunksize 1 and each of
# CHUNKS; chunksize 1 goes to OUT now, the others to $TMP/chunks.jsonl, from
# which the best chunk size is chosen at the end.
py_cases() {
    local n1="$1" n="$2" c
    local -a args=("1:$n1")
    for c in "${CHUNKS[@]}"; do args+=("$c:$n"); done
    printf '%s\n' "${args[@]}"
}

record_py() {
    # record_py PREFIX CASEBASE LABELBASE NP REP
    local prefix="$1" base="$2" labelbase="$3" np="$4" rep="$5" c rate seen=0
    while read -r c rate; do
        seen=$((seen + 1))
        if [[ "$c" -eq 1 ]]; then
            emit "${base}_cs1" "$labelbase, chunksize 1" "$np" "$rep" \
                tasks_per_s tasks/s "$rate" higher "$RUN_CMD"
        else
            emit "${base}_cs$c" "$labelbase, chunksize $c" "$np" "$rep" \
                tasks_per_s tasks/s "$rate" higher "$RUN_CMD" "$TMP/chunks.jsonl"
        fi
    done < <(sed -n "s/^$prefix .*chunksize=\\([0-9]*\\) .*tasks_per_s=\\([0-9.eE+]*\\) ok$/\\1 \\2/p" <<<"$RUN_OUT")
    if [[ $seen -ne $((${#CHUNKS[@]} + 1)) ]]; then
        fail "$base rep $rep: expected $((${#CHUNKS[@]} + 1)) 'ok' lines, got $seen"
    fi
}

run_py_pool() {
    local np="$1" rep="$2" args
    mapfile -t args < <(py_cases "$N_PY1" "$N_PY")
    if ! run_timed "$PY" scripts/bench/peers/py_pool.py "$np" "${args[@]}"; then
        fail "py_pool_r$np rep $rep"
        return 0
    fi
    record_py py_pool "py_pool_r$np" \
        "Python multiprocessing.Pool($np).imap_unordered ($np worker processes + parent storing results)" \
        "$np" "$rep"
}

run_mpi4py() {
    local np="$1" rep="$2" args
    mapfile -t args < <(py_cases "$N_MPI4PY1" "$N_MPI4PY")
    launcher "$((np + 1))"
    if [[ $MPI4PY_MISSING -eq 1 ]]; then
        RUN_CMD="dpkg-query -W python3-mpi4py" RUN_OUT="python3-mpi4py is not installed and could not be installed"
        fail "mpi4py_r$np rep $rep"
        return 0
    fi
    if ! run_timed "${MPIRUN[@]}" "$PY" -m mpi4py.futures \
        scripts/bench/peers/mpi4py_pool.py "${args[@]}"; then
        fail "mpi4py_r$np rep $rep"
        return 0
    fi
    record_py mpi4py_pool "mpi4py_r$np" \
        "mpi4py.futures MPIPoolExecutor.map(unordered=True), $((np + 1)) MPI ranks = 1 master + $np workers$OVERSUB" \
        "$np" "$rep"
}

for ((rep = 1; rep <= REPS; rep++)); do
    echo "b_$BENCH: round $rep/$REPS" >&2
    for np in "${RANKS[@]}"; do run_shoal "$np" "$rep"; done
    run_shoal 2 "$rep" bar
    run_shoal 2 "$rep" log
    run_shoal 2 "$rep" static
    for np in "${RANKS[@]}"; do run_mw "$np" 1 "$rep"; done
    for np in "${RANKS[@]}"; do run_mw "$np" 100 "$rep"; done
    for np in "${RANKS[@]}"; do run_py_pool "$np" "$rep"; done
    for np in "${RANKS[@]}"; do run_mpi4py "$np" "$rep"; done
done

# ---- best chunk size, summary --------------------------------------------------

touch "$TMP/chunks.jsonl"
"$PY" - "$OUT" "$START_LINE" "$TMP/chunks.jsonl" "$BENCH" <<'EOF'
import json, re, statistics, sys
from collections import OrderedDict

out, start, chunks_path, bench = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

# Best chunk size per peer and rank count, by median over the rounds.
chunks = [json.loads(l) for l in open(chunks_path) if l.strip()]
groups = OrderedDict()
for r in chunks:
    base, cs = re.match(r"(.*)_cs(\d+)$", r["case"]).groups()
    groups.setdefault(base, OrderedDict()).setdefault(int(cs), []).append(r)
with open(out, "a") as f:
    for base, by_cs in groups.items():
        med = {cs: statistics.median(r["value"] for r in rs) for cs, rs in by_cs.items()}
        best = max(med, key=med.get)
        tried = "/".join(str(c) for c in by_cs)
        for r in by_cs[best]:
            r = dict(r)
            r["case"] = base + "_best"
            r["label"] = re.sub(r", chunksize \d+$", "", r["label"]) + \
                f", best chunksize {best} (of {tried}, by median)"
            f.write(json.dumps(r) + "\n")

rows = [json.loads(l) for i, l in enumerate(open(out)) if i >= start and l.strip()]
rows = [r for r in rows if r.get("bench") == bench]
agg = OrderedDict()
for r in rows + chunks:
    agg.setdefault((r["case"], r["metric"]), []).append(r)
print(f"\nb_{bench}: medians ({len(rows)} measurements; _csN rows other than _best are not in the output file)")
print(f"{'case':<20} {'metric':<18} {'n':>2} {'median':>14} {'min':>14} {'max':>14}  label")
for (case, metric), rs in agg.items():
    v = [r["value"] for r in rs]
    print(f"{case:<20} {metric:<18} {len(v):>2} {statistics.median(v):>14.0f} "
          f"{min(v):>14.0f} {max(v):>14.0f}  {rs[0]['label']}")
EOF

if [[ $failures -gt 0 ]]; then
    echo "b_$BENCH: $failures run(s) failed" >&2
    exit 1
fi
