#!/usr/bin/env bash
# Fuzz the config and scan parsers with libFuzzer for a while.
#
#   bash scripts/fuzz.sh [SECONDS]      (default 30)
#
# Builds the library and tests/fuzz/fuzz_config with clang, ASan and UBSan
# into build-fuzz/, seeds the corpus with configs/*.ini and
# tests/fuzz/corpus/, and runs. A crash leaves its input in build-fuzz/
# (crash-*) and makes the script fail.
set -euo pipefail
seconds=${1:-30}
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
bash scripts/install-deps.sh
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed" >&2; exit 2; }
CC=clang cmake -S . -B build-fuzz -DSHOAL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_config
mkdir -p build-fuzz/corpus
cp configs/*.ini tests/fuzz/corpus/* build-fuzz/corpus/
cd build-fuzz
ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_config corpus -max_total_time="$seconds" \
    -rss_limit_mb=4096 -timeout=20 -max_len=4096 -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+ *(INITED|DONE)|Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" || true
test "${PIPESTATUS[0]}" -eq 0
