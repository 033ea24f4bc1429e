#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Regenerates docs/scaling.md's figures: the model's calibration, its
# validation against real runs here, and its predictions at scale.
#
#   bash scripts/model/run.sh [calibrate] [validate] [predict] [validate-groups]
#                             [replay-groups] [--quick]
#
# No step named: validate and predict. Outputs go to docs/bench/:
#   calibrate  mpirun -n 2 build/scripts/model/shoal_model_probe, 5 times:
#              rank 0's time per request (the model's --service), the MPI
#              latency, nanosleep's slack -> model_calibration.jsonl
#   validate   scripts/model/validate.py: bench_spin and bench_empty at 1-3
#              ranks, each replayed in the model -> model_validation.{jsonl,md}
#   predict    scripts/model/predict.py: 10^3-10^5 ranks, the saturation
#              sweep, the plots -> model_predictions.{jsonl,md},
#              model_sweep.jsonl, model_*.png; and flat against groups
#              (run.group_size) -> model_groups.{jsonl,md,png}
#   validate-groups  (only when named) validate.py --groups: bench_spin and
#              bench_empty with --set run.group_size=2 at 3 and 4 ranks,
#              replayed with --group 2 -> model_validation_groups.{jsonl,md};
#              needs a Shoal that knows run.group_size
#   replay-groups  (only when named) the same cases' model half alone, costs
#              drawn, no real run -> /tmp (a check, nothing in docs/)
# Real runs (calibrate, validate, validate-groups) hold the exclusive benchmark lock
# (flock -x /tmp/shoal-bench.lock) one run at a time; the build holds it
# shared. The model itself runs on one core without the lock.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/env.sh disable=SC1091
source scripts/env.sh
PY=/usr/bin/python3
LOCK=/tmp/shoal-bench.lock
OUT=docs/bench
QUICK=()
steps=()
for a in "$@"; do
    case "$a" in
        --quick) QUICK=(--quick) ;;
        calibrate | validate | predict | validate-groups | replay-groups) steps+=("$a") ;;
        -h | --help) sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$a' (calibrate, validate, predict, validate-groups," \
               "replay-groups, --quick)" >&2; exit 2 ;;
    esac
done
[[ ${#steps[@]} -gt 0 ]] || steps=(validate predict)
[[ -f build/CMakeCache.txt ]] || flock -s "$LOCK" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
flock -s "$LOCK" cmake --build build -j2 --target shoal_model shoal_model_probe bench_spin bench_empty >/dev/null
mkdir -p "$OUT"
for s in "${steps[@]}"; do
    case "$s" in
        calibrate)
            : >"$OUT/model_calibration.jsonl"
            for _ in 1 2 3 4 5; do
                flock -x "$LOCK" timeout 300 mpirun -n 2 build/scripts/model/shoal_model_probe 200000 \
                    | tee -a "$OUT/model_calibration.jsonl"
            done ;;
        validate) "$PY" scripts/model/validate.py "$OUT" --reps "${BENCH_REPS:-3}" "${QUICK[@]}"
                  mv "$OUT/validation.jsonl" "$OUT/model_validation.jsonl"
                  mv "$OUT/validation.md" "$OUT/model_validation.md" ;;
        predict) "$PY" scripts/model/predict.py "$OUT" "${QUICK[@]}" ;;
        validate-groups)
            "$PY" scripts/model/validate.py "$OUT" --groups --reps "${BENCH_REPS:-3}" "${QUICK[@]}"
            mv "$OUT/validation_groups.jsonl" "$OUT/model_validation_groups.jsonl"
            mv "$OUT/validation_groups.md" "$OUT/model_validation_groups.md" ;;
        replay-groups)
            tmp="$(mktemp -d /tmp/shoal-model-replay-XXXXXX)"
            "$PY" scripts/model/validate.py "$tmp" --groups --replay-only --reps 1 "${QUICK[@]}"
            rm -r "$tmp" ;;
    esac
done
