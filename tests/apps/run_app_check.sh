#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# run_app_check.sh NP APP CONFIG CHECKER [CHECK_ARGS...] -- [APP_ARGS...]
# Runs APP on CONFIG with NP ranks into a temporary file, then CHECKER on it.
# The work directory is kept when a step fails, and the rerun command printed.
set -uo pipefail
np=$1 app=$2 config=$3 checker=$4
shift 4
check_args=()
while [[ $# -gt 0 && $1 != -- ]]; do
    check_args+=("$1")
    shift
done
[[ $# -gt 0 ]] && shift
read -r -a preflags <<<"${SHOAL_MPI_PREFLAGS:-}"
read -r -a postflags <<<"${SHOAL_MPI_POSTFLAGS:-}"
work=$(mktemp -d "${TMPDIR:-/tmp}/shoal-app.XXXXXX")
fail() {
    echo "FAIL [${SHOAL_TEST_NAME:-app check}]: $*" >&2
    echo "  work directory kept: $work" >&2
    echo "  rerun: ctest -R '^${SHOAL_TEST_NAME:-}\$' --output-on-failure" >&2
    exit 1
}
cmd=("$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}"
     "$config" -o "$work/out.h5" "$@")
echo "+ ${cmd[*]}"
"${cmd[@]}" || fail "app exited with status $?"
echo "+ $checker $work/out.h5 ${check_args[*]}"
"$checker" "$work/out.h5" "${check_args[@]}" || fail "checker failed"
rm -rf "$work"
