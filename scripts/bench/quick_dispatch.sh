#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Quick dispatch-overhead comparison: the hand-written MPI master-worker
# baseline (mw_baseline.c) against Shoal's empty-task benchmark (if built).
#
#   bash scripts/bench/quick_dispatch.sh
#
# Configurations, run alternately (one repetition of each, then the next
# round) so that drifting machine load hits them all alike:
#   mw_baseline  at 2 and 3 ranks, batch 1 and batch 100
#   bench_empty  at 2 and 3 ranks (only if build/apps/bench_empty/bench_empty
#                exists; build it first with scripts/build.sh)
# --oversubscribe is added whenever the rank count exceeds the local cores.
#
# Environment overrides:
#   BENCH_REPS      repetitions per configuration        (default 5)
#   BENCH_NTASKS_B1 tasks for the batch-1 baseline runs  (default 2000000)
#   BENCH_NTASKS    tasks for all other runs             (default 10000000)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/env.sh
source scripts/env.sh

REPS="${BENCH_REPS:-5}"
NTASKS_B1="${BENCH_NTASKS_B1:-2000000}"
NTASKS="${BENCH_NTASKS:-10000000}"
NCORES="$(shoal_nproc)"

BENCH_DIR=build/bench
BASELINE="$BENCH_DIR/mw_baseline"
SHOAL_BIN=build/apps/bench_empty/bench_empty

mkdir -p "$BENCH_DIR"
mpicc -O2 -Wall -Wextra -Werror -o "$BASELINE" scripts/bench/mw_baseline.c

# Each configuration: "name|ranks|batch|ntasks"
configs=()
for np in 2 3; do
    configs+=("mw_baseline|$np|1|$NTASKS_B1")
    configs+=("mw_baseline|$np|100|$NTASKS")
done
have_shoal=0
if [[ -x "$SHOAL_BIN" ]]; then
    have_shoal=1
    for np in 2 3; do
        configs+=("shoal_bench_empty|$np|-|$NTASKS")
    done
else
    echo "quick_dispatch: $SHOAL_BIN not found; skipping Shoal (build it with scripts/build.sh)" >&2
fi

RESULTS="$(mktemp -d)"
trap 'rm -rf "$RESULTS"' EXIT

mpirun_np() {
    # Prints the mpirun launcher words for $1 ranks.
    local np="$1"
    if [[ "$np" -gt "$NCORES" ]]; then
        echo "mpirun -n $np --oversubscribe"
    else
        echo "mpirun -n $np"
    fi
}

# Runs one configuration once; prints tasks/s on stdout, or nothing on failure.
run_one() {
    local name="$1" np="$2" batch="$3" ntasks="$4" out rc=0
    local -a launcher
    read -r -a launcher <<<"$(mpirun_np "$np")"
    if [[ "$name" == mw_baseline ]]; then
        out="$("${launcher[@]}" "$BASELINE" "$ntasks" "$batch" 2>&1)" || rc=$?
        [[ $rc -eq 0 ]] || { echo "$out" >&2; return 1; }
        sed -n 's/^mw_baseline .*tasks_per_s=\([0-9.eE+]*\).*/\1/p' <<<"$out" | head -n 1
    else
        # The summary line ("... (N tasks/s)") times the pool: from the first
        # range handed out to the last row written, like mw_baseline's timer.
        out="$("${launcher[@]}" "$SHOAL_BIN" configs/bench_empty.ini \
            --set "run.tasks=$ntasks" --output /tmp/shoal_bench_empty.h5 \
            --force 2>&1)" || rc=$?
        [[ $rc -eq 0 ]] || { echo "$out" >&2; return 1; }
        grep -o '[0-9][0-9.eE+]* tasks/s' <<<"$out" | head -n 1 | awk '{print $1}'
    fi
}

failures=0
for ((rep = 1; rep <= REPS; rep++)); do
    echo "quick_dispatch: round $rep/$REPS" >&2
    for i in "${!configs[@]}"; do
        IFS='|' read -r name np batch ntasks <<<"${configs[$i]}"
        value="$(run_one "$name" "$np" "$batch" "$ntasks")" || value=""
        if [[ -z "$value" ]]; then
            echo "quick_dispatch: FAILED: $name ranks=$np batch=$batch ntasks=$ntasks" >&2
            failures=$((failures + 1))
            continue
        fi
        echo "$value" >>"$RESULTS/$i"
    done
done

echo
printf '%-18s %5s %6s %10s %4s %14s %14s %14s %10s\n' \
    config ranks batch ntasks runs median_tasks/s min_tasks/s max_tasks/s ns/task
for i in "${!configs[@]}"; do
    IFS='|' read -r name np batch ntasks <<<"${configs[$i]}"
    if [[ ! -s "$RESULTS/$i" ]]; then
        printf '%-18s %5s %6s %10s %4s %14s\n' "$name" "$np" "$batch" "$ntasks" 0 FAILED
        continue
    fi
    sort -g "$RESULTS/$i" | awk -v name="$name" -v np="$np" -v batch="$batch" -v nt="$ntasks" '
        { v[NR] = $1 }
        END {
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%-18s %5s %6s %10s %4d %14.0f %14.0f %14.0f %10.1f\n",
                   name, np, batch, nt, NR, med, v[1], v[NR], 1e9 / med
        }'
done
[[ $have_shoal -eq 1 ]] || echo "(shoal_bench_empty skipped: $SHOAL_BIN not built)"

if [[ $failures -gt 0 ]]; then
    echo "quick_dispatch: $failures run(s) failed" >&2
    exit 1
fi
