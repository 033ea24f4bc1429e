#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Monte Carlo kernel: Shoal's mc_pi at 1 rank against a plain serial C loop
# (scripts/bench/pi_serial.c) that does exactly the same work, and the cost
# of one draw from Philox4x64 (Shoal's default, 53-bit doubles), Philox4x32
# (the default before, 32-bit doubles) and GSL's mt19937.
#
#   bash scripts/bench/b_kernel.sh OUT.jsonl [--quick]
#
# The serial loop allocates one generator, keys it per task with
# shoal_rng_key(r, seed, task) as Shoal keys shoal_task_rng(), and draws the
# same SAMPLES points per task: it draws the very same numbers, and its pi
# estimate must equal mc_pi's to the last printed digit (checked, a mismatch
# fails the case). It is compiled with mc_pi's own C flags (read from the
# build tree; -O3 -DNDEBUG in a Release build) and linked with
# build/lib/libshoal.a, so the difference is the framework's overhead only.
#
# Cases, run alternately (every case once per round, REPS rounds):
#   mcpi_G      mpirun -n 1 build/apps/mc_pi/mc_pi, run.rng=G; samples/s =
#               tasks * samples / pool wall time from its summary line
#   serial_G    build/bench/pi_serial pi G TASKS SAMPLES SEED (loop time only)
#   draws_G     build/bench/pi_serial draws G TASKS 2*SAMPLES SEED: bare
#               gsl_rng_uniform calls, keyed per task, ns per draw
# pi_serial makes no MPI calls, but it is launched with `mpirun -n 1` too, so
# that it gets the same CPU binding as mc_pi (Open MPI binds 1 rank to a core).
# for G in philox4x64, philox4x32, mt19937. Metrics: samples_per_s (higher)
# for mcpi_G and serial_G; overhead_percent (lower) as case overhead_G,
# computed per round from that round's pair: 100 * (serial rate / Shoal
# rate - 1); ns_per_draw (lower) for draws_G.
#
# Instruction counts (valgrind's callgrind, when installed), which do not
# vary from run to run as wall-clock rounds do: case instr_philox4x64, see
# below.
#
# Sizes (full / --quick): TASKS = 100 / 20 tasks of SAMPLES = 10^6 points
# (some tens of ms per task with Philox).
# REPS: env BENCH_REPS (default 5; --quick: 2).
set -euo pipefail
export LC_ALL=C

BENCH=kernel

usage() {
    echo "usage: bash scripts/bench/b_kernel.sh OUT.jsonl [--quick]" >&2
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
if [[ $QUICK -eq 1 ]]; then
    REPS=2
    TASKS=20
else
    REPS="${BENCH_REPS:-5}"
    TASKS=100
fi
SAMPLES=1000000
SEED=20261122
GENS=(philox4x64 philox4x32 mt19937)

BENCH_DIR=build/bench
MCPI_BIN=build/apps/mc_pi/mc_pi
SERIAL_BIN="$BENCH_DIR/pi_serial"
H5="$BENCH_DIR/kernel.h5"
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
    # shellcheck disable=SC2034  # kept for symmetry with the other b_*.sh
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

# ---- build -------------------------------------------------------------------

mkdir -p "$BENCH_DIR"
[[ -x "$MCPI_BIN" ]] || cmake --build build -j2 --target mc_pi
[[ -f build/lib/libshoal.a ]] || cmake --build build -j2 --target shoal
# mc_pi's own compile flags, so that only the framework differs.
FLAGS_MAKE=build/apps/mc_pi/CMakeFiles/mc_pi.dir/flags.make
CFLAGS_MCPI="-O3 -DNDEBUG -std=c11"
if [[ -f "$FLAGS_MAKE" ]]; then
    CFLAGS_MCPI="$(sed -n 's/^C_FLAGS = //p' "$FLAGS_MAKE")"
fi
read -r -a cflags <<<"$CFLAGS_MCPI"
read -r -a pkgcflags <<<"$(pkg-config --cflags gsl)"
read -r -a pkglibs <<<"$(pkg-config --libs gsl hdf5-openmpi ompi-c inih)"
gcc "${cflags[@]}" -Ilib/include -Ibuild/lib/include "${pkgcflags[@]}" \
    scripts/bench/pi_serial.c build/lib/libshoal.a "${pkglibs[@]}" -lm \
    -o "$SERIAL_BIN"
echo "b_$BENCH: pi_serial built with: gcc $CFLAGS_MCPI" >&2

# ---- cases -------------------------------------------------------------------

# Sets RATE and PI (and CMD_USED) from one mc_pi run; returns 1 on failure.
run_mcpi() {
    local gen="$1" rep="$2" line wall
    rm -f "$H5" "$H5.lock"
    if ! run_timed mpirun -n 1 "$MCPI_BIN" configs/mc_pi.ini \
        --set "run.tasks=$TASKS" --set "mc_pi.samples=$SAMPLES" \
        --set "run.seed=$SEED" --set "run.rng=$gen" --output "$H5" --force; then
        fail "mcpi_$gen rep $rep"
        return 1
    fi
    rm -f "$H5"
    line="$(grep -E "^mc_pi: $TASKS tasks \\($TASKS done, 0 failed\\) on 1 rank in " <<<"$RUN_OUT" | head -n 1 || true)"
    wall="$(sed -n 's/.* on 1 rank in \([0-9.eE+]*\) s .*/\1/p' <<<"$line")"
    PI="$(sed -n 's/^mc_pi: pi = \([0-9.]*\) .*/\1/p' <<<"$RUN_OUT" | head -n 1)"
    if [[ -z "$wall" || -z "$PI" ]] || ! awk -v w="$wall" 'BEGIN { exit !(w > 0) }'; then
        fail "mcpi_$gen rep $rep: no summary line with all $TASKS tasks done and a pi estimate"
        return 1
    fi
    RATE="$(awk -v n="$((TASKS * SAMPLES))" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')"
    emit "mcpi_$gen" "Shoal mc_pi, 1 rank, $gen, $TASKS tasks x $SAMPLES samples (pool wall time)" \
        1 "$rep" samples_per_s samples/s "$RATE" higher "$RUN_CMD"
}

run_serial() {
    local gen="$1" rep="$2" pi
    if ! run_timed mpirun -n 1 "$SERIAL_BIN" pi "$gen" "$TASKS" "$SAMPLES" "$SEED"; then
        fail "serial_$gen rep $rep"
        return 1
    fi
    RATE="$(sed -n 's/^pi_serial mode=pi .*samples_per_s=\([0-9.eE+]*\) .*/\1/p' <<<"$RUN_OUT")"
    pi="$(sed -n 's/^pi_serial mode=pi .* pi=\([0-9.]*\)$/\1/p' <<<"$RUN_OUT")"
    if [[ -z "$RATE" || -z "$pi" ]]; then
        fail "serial_$gen rep $rep: no result line"
        return 1
    fi
    if [[ "$pi" != "$PI" ]]; then
        fail "serial_$gen rep $rep: pi $pi differs from mc_pi's $PI: not the same work"
        return 1
    fi
    emit "serial_$gen" "serial C loop (pi_serial.c), $gen keyed per task like Shoal, same $TASKS x $SAMPLES samples" \
        1 "$rep" samples_per_s samples/s "$RATE" higher "$RUN_CMD"
}

run_draws() {
    local gen="$1" rep="$2" ns
    if ! run_timed mpirun -n 1 "$SERIAL_BIN" draws "$gen" "$TASKS" "$((2 * SAMPLES))" "$SEED"; then
        fail "draws_$gen rep $rep"
        return 0
    fi
    ns="$(sed -n 's/^pi_serial mode=draws .*ns_per_draw=\([0-9.eE+]*\) .*/\1/p' <<<"$RUN_OUT")"
    if [[ -z "$ns" ]]; then
        fail "draws_$gen rep $rep: no result line"
        return 0
    fi
    emit "draws_$gen" "bare generator: gsl_rng_uniform on $gen, keyed per task, $TASKS x $((2 * SAMPLES)) draws" \
        1 "$rep" ns_per_draw ns "$ns" lower "$RUN_CMD"
}

for ((rep = 1; rep <= REPS; rep++)); do
    echo "b_$BENCH: round $rep/$REPS" >&2
    for gen in "${GENS[@]}"; do
        run_mcpi "$gen" "$rep" || continue
        shoal_rate="$RATE" shoal_cmd="$RUN_CMD"
        run_serial "$gen" "$rep" || continue
        emit "overhead_$gen" "Shoal mc_pi overhead vs the serial loop, $gen: 100 * (serial rate / Shoal rate - 1), per round" \
            1 "$rep" overhead_percent % \
            "$(awk -v s="$RATE" -v m="$shoal_rate" 'BEGIN { printf "%.4f", 100 * (s / m - 1) }')" \
            lower "$shoal_cmd ; $RUN_CMD"
    done
    for gen in "${GENS[@]}"; do run_draws "$gen" "$rep"; done
done

# ---- instruction counts --------------------------------------------------------
# Wall-clock rounds on a shared machine spread by several percent, more than
# the 2% target; instruction counts (valgrind's callgrind) repeat exactly.
# One run of mc_pi at 1 rank (a singleton, no mpirun), CG_TASKS x CG_SAMPLES
# with Philox4x64: instructions inside shoal_pool_run (tasks, keying, row
# buffers, status marks, file writes) against those inside pi_task (the
# science, generator calls included). Metrics (case instr_philox4x64):
# pool_instructions, task_instructions, and overhead_instr_percent =
# 100 * (pool / task - 1).
CG_TASKS=20
CG_SAMPLES=200000
CG_OUT="$BENCH_DIR/kernel.callgrind"
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
    echo "b_$BENCH: valgrind not installed: no instruction counts" >&2
else
    echo "b_$BENCH: instruction counts (callgrind)" >&2
    rm -f "$H5" "$H5.lock" "$CG_OUT"
    if ! run_timed valgrind --tool=callgrind --callgrind-out-file="$CG_OUT" \
        "$MCPI_BIN" configs/mc_pi.ini --set "run.tasks=$CG_TASKS" \
        --set "mc_pi.samples=$CG_SAMPLES" --set "run.seed=$SEED" \
        --set run.rng=philox4x64 --output "$H5" --force; then
        fail "callgrind run of mc_pi"
    else
        cg_cmd="$RUN_CMD"
        incl="$(callgrind_annotate --inclusive=yes "$CG_OUT" 2>/dev/null || true)"
        pool="$(awk '/:shoal_pool_run / { gsub(",", "", $1); print $1; exit }' <<<"$incl")"
        task="$(awk '/:pi_task / { gsub(",", "", $1); print $1; exit }' <<<"$incl")"
        if [[ -z "$pool" || -z "$task" ]]; then
            RUN_OUT="$incl"
            fail "callgrind: no inclusive counts for shoal_pool_run and pi_task"
        else
            label="callgrind, mc_pi 1 rank, philox4x64, $CG_TASKS x $CG_SAMPLES samples"
            emit instr_philox4x64 "$label: instructions in shoal_pool_run" 1 1 \
                pool_instructions instructions "$pool" lower "$cg_cmd"
            emit instr_philox4x64 "$label: instructions in the task function" 1 1 \
                task_instructions instructions "$task" lower "$cg_cmd"
            emit instr_philox4x64 "$label: 100 * (pool / task - 1)" 1 1 \
                overhead_instr_percent % \
                "$(awk -v p="$pool" -v t="$task" 'BEGIN { printf "%.4f", 100 * (p / t - 1) }')" \
                lower "$cg_cmd"
        fi
    fi
    rm -f "$H5" "$H5.lock"
fi

# ---- summary -----------------------------------------------------------------

"$PY" - "$OUT" "$START_LINE" "$BENCH" <<'PYEOF'
import json, statistics, sys
from collections import OrderedDict

out, start, bench = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [json.loads(l) for i, l in enumerate(open(out)) if i >= start and l.strip()]
rows = [r for r in rows if r.get("bench") == bench]
agg = OrderedDict()
for r in rows:
    agg.setdefault((r["case"], r["metric"]), []).append(r)
print(f"\nb_{bench}: medians ({len(rows)} measurements)")
print(f"{'case':<20} {'metric':<17} {'n':>2} {'median':>14} {'min':>14} {'max':>14}  unit")
for (case, metric), rs in agg.items():
    v = [r["value"] for r in rs]
    print(f"{case:<20} {metric:<17} {len(v):>2} {statistics.median(v):>14.4g} "
          f"{min(v):>14.4g} {max(v):>14.4g}  {rs[0]['unit']}")
PYEOF

if [[ $failures -gt 0 ]]; then
    echo "b_$BENCH: $failures run(s) failed" >&2
    exit 1
fi
