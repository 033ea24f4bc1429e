#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The second command of the README: builds Shoal and runs its test suite.
#
#   bash scripts/test.sh              # Release build in build/
#   bash scripts/test.sh --sanitize   # Debug + ASan/UBSan build in build-asan/
#                                     # (without the SLURM test, label slurm)
set -euo pipefail

usage() {
    echo "usage: bash scripts/test.sh [--sanitize]" >&2
}

sanitize=0
for arg in "$@"; do
    case "$arg" in
        --sanitize) sanitize=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "test.sh: unknown argument: $arg" >&2; usage; exit 2 ;;
    esac
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/env.sh
source scripts/env.sh

bash scripts/install-deps.sh

if [[ $sanitize -eq 0 ]]; then
    build_dir=build
    bash scripts/build.sh "$build_dir"
else
    build_dir=build-asan
    bash scripts/build.sh "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DSHOAL_SANITIZE=ON
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # fast_unwind_on_malloc=0: full allocation stacks, without which leaks
    # inside Open MPI's (unloaded) MCA components escape tests/lsan.supp.
    # use_tls=0: LeakSanitizer's exit check does not scan thread-local
    # storage. Scanning it crashed the check itself on some machines ("Tracer
    # caught signal 11" on a stale dynamic-TLS range of an MCA component
    # Open MPI had unloaded), turning a clean exit into status 1. Without TLS
    # as a root the check can only report more, never fewer, leaks.
    export LSAN_OPTIONS="suppressions=$REPO_ROOT/tests/lsan.supp:fast_unwind_on_malloc=0:use_tls=0"
fi

# The SLURM test (label slurm) checks the job scripts and SLURM's signals
# with the Release build; under the sanitizers its two minutes of timed
# jobs would find nothing the other suites do not (its runs are the same
# code paths as the MPI tests'), and CI has no time to spare.
# Label repeat (tests/mpi/CMakeLists.txt): a case's 4-rank variant, its
# 2-rank one where it also runs at 3, and the 3-rank runs of three batteries
# of config mistakes take the code paths of another rank count of the same
# case; under the sanitizers they cost about 18 minutes of CI's 90, so that
# stage leaves them to the Release stage.
exclude=()
[[ $sanitize -eq 1 ]] && exclude=(-LE 'slurm|repeat')

status=0
ctest --test-dir "$build_dir" --output-on-failure -j 2 "${exclude[@]}" || status=$?
exit "$status"
