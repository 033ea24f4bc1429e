#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# fuzz_script: scripts/fuzz.sh must fail when its fuzzer crashes and pass
# when it does not. Runs the script twice in BUILD_DIR (a clang build of its
# own): with fuzz_config_selftest, which aborts on corpus/selftest.ini at
# once, and with fuzz_config for 2 seconds. Never skipped: without clang the
# second run fails, and so does this test.
#
#   test_fuzz_script.sh BUILD_DIR
set -uo pipefail
build=$1
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)

fail() {
    echo "FAIL [fuzz_script]: $*" >&2
    echo "  logs: $build/crash.log, $build/clean.log" >&2
    exit 1
}

rm -f "$build"/crash-*
SHOAL_FUZZ_BUILD=$build SHOAL_FUZZ_TARGET=fuzz_config_selftest \
    bash "$src/scripts/fuzz.sh" 10 >"$build/crash.log" 2>&1
rc=$?
cat "$build/crash.log"
[[ $rc -ne 0 ]] || fail "fuzz.sh exited 0 although its fuzzer crashed"
# Failing for another reason (no clang, a build error) proves nothing.
grep -q "deadly signal" "$build/crash.log" ||
    fail "fuzz.sh exited $rc, but not because of the planted crash"
ls "$build"/crash-* >/dev/null 2>&1 || fail "the crashing input was not kept"
echo "crash: fuzz.sh exited $rc"

SHOAL_FUZZ_BUILD=$build bash "$src/scripts/fuzz.sh" 2 >"$build/clean.log" 2>&1
rc=$?
cat "$build/clean.log"
[[ $rc -eq 0 ]] || fail "fuzz.sh exited $rc on the normal target and corpus"
echo "PASS [fuzz_script]"
