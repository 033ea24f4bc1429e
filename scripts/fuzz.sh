#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Fuzz the config and scan parsers with libFuzzer for a while.
#
#   bash scripts/fuzz.sh [SECONDS]      (default 30)
#
# Builds the library and tests/fuzz/fuzz_config with clang, ASan and UBSan
# into build-fuzz/, seeds the corpus with configs/*.ini and
# tests/fuzz/corpus/, and runs. A crash leaves its input in build-fuzz/
# (crash-*) and makes the script fail.
#
# For tests/fuzz/test_fuzz_script.sh: SHOAL_FUZZ_BUILD sets the build
# directory, SHOAL_FUZZ_TARGET the target (fuzz_config_selftest crashes on
# the corpus).
set -euo pipefail
seconds=${1:-30}
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
build=${SHOAL_FUZZ_BUILD:-build-fuzz}
target=${SHOAL_FUZZ_TARGET:-fuzz_config}
bash scripts/install-deps.sh
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed" >&2; exit 2; }
CC=clang cmake -S . -B "$build" -DSHOAL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target "$target"
mkdir -p "$build/corpus"
cp configs/*.ini tests/fuzz/corpus/* "$build/corpus/"
cd "$build"
# Only the summary lines are shown. The filter must not decide the status:
# `fuzzer | grep ... || true` made every run pass (PIPESTATUS then describes
# `true`), crashes included. grep's own status is dropped inside the braces,
# so with pipefail the pipeline fails exactly when the fuzzer does.
# -error_exitcode=1: libFuzzer's default, 77, means "skipped" to ctest and
# automake-style harnesses.
status=0
ASAN_OPTIONS=detect_leaks=1 "./tests/fuzz/$target" corpus -max_total_time="$seconds" \
    -rss_limit_mb=4096 -timeout=20 -max_len=4096 -print_final_stats=1 -error_exitcode=1 2>&1 |
    { grep -E "^(#[0-9]+ *(INITED|DONE)|Done|stat::number_of_executed_units|==[0-9]+== ?ERROR|SUMMARY)" || true; } ||
    status=$?
if [[ $status -ne 0 ]]; then
    echo "fuzz.sh: $target failed with status $status; inputs kept in $PWD:" \
        "$(ls crash-* leak-* timeout-* oom-* 2>/dev/null | tr '\n' ' ')" >&2
    echo "  reproduce: (cd $PWD && ./tests/fuzz/$target FILE)" >&2
fi
exit "$status"
