# SPDX-License-Identifier: GPL-3.0-or-later
# common.sh: what every MPI case script shares (sourced, not run): the
# case's arguments, its work directory, and the helpers. The sourcing script
# ends with case_passed.
#
#   SCRIPT CASE NRANKS
#
# ctest sets SHOAL_MPIEXEC, SHOAL_NPFLAG, SHOAL_MPI_PREFLAGS,
# SHOAL_MPI_POSTFLAGS (from FindMPI), SHOAL_BUILD, SHOAL_SRC, SHOAL_PYTHON and
# SHOAL_TEST_NAME. Each case works in its own temporary directory, kept when
# the case fails. Exit 0 pass, 1 fail, 77 skip.
set -uo pipefail

case_name=$1
np=$2
# A case must run to its end: a syntax error found while running (bash -n
# misses some, e.g. in [[ ]]) ends the script with status 0, which would
# read as a pass.
finished=0
on_exit() {
    local rc=$?
    if [[ $finished != 1 && $rc -eq 0 ]]; then
        echo "FAIL [${SHOAL_TEST_NAME:-$case_name}]: the case ended early (a script error?)" >&2
        exit 1
    fi
}
trap on_exit EXIT
app=$SHOAL_BUILD/tests/mpi/test_app
check=$SHOAL_BUILD/tests/mpi/h5check
mc_pi=$SHOAL_BUILD/apps/mc_pi/mc_pi
work=$(mktemp -d "${TMPDIR:-/tmp}/shoal-test.XXXXXX")
read -r -a preflags <<<"${SHOAL_MPI_PREFLAGS:-}"
read -r -a postflags <<<"${SHOAL_MPI_POSTFLAGS:-}"

fail() {
    echo "FAIL [$SHOAL_TEST_NAME]: $*" >&2
    echo "  work directory kept: $work" >&2
    echo "  rerun: ctest --test-dir $SHOAL_BUILD -R '^${SHOAL_TEST_NAME}\$' --output-on-failure" >&2
    exit 1
}

# need_h5py: the checks that read files with h5py are part of the test; a
# Python without h5py and numpy fails it (tests/CMakeLists.txt checks the
# same at configure time), it never skips them.
need_h5py() {
    "${SHOAL_PYTHON:?SHOAL_PYTHON is not set}" -c "import h5py, numpy" 2>"$work/python.err" ||
        fail "'$SHOAL_PYTHON' cannot import h5py and numpy: $(tail -n 1 "$work/python.err"); on Debian: apt-get install python3-h5py python3-numpy (scripts/install-deps.sh)"
}

# mpirun N PROGRAM ARGS...: runs with FindMPI's flags; echoes the command.
mpirun_n() {
    local n=$1
    shift
    local cmd=("$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$n" "${preflags[@]}" "$1" "${postflags[@]}" "${@:2}")
    echo "+ ${cmd[*]}" >&2
    "${cmd[@]}"
}

# expect_rc WANT CMD...: run, compare exit status.
expect_rc() {
    local want=$1
    shift
    "$@"
    local rc=$?
    [[ $rc -eq $want ]] || fail "exit status $rc, expected $want: $*"
}

write_config() { # write_config FILE TASKS [extra app lines...]
    local f=$1 tasks=$2
    shift 2
    {
        echo "[run]"
        echo "tasks = $tasks"
        echo "seed = 987654321"
        echo "[test_app]"
        for line in "$@"; do echo "$line"; done
    } >"$f"
}

sum_of() { md5sum "$1" | cut -d' ' -f1; }

# start_slow PIDDIR OUTPUT ERRFILE: run $work/c.ini in the background on np
# ranks with 5-second tasks, each rank writing its pid to PIDDIR/rank.R;
# return once every rank is there (the job's pid is in $pid).
start_slow() {
    mkdir -p "$1"
    SHOAL_TEST_SPIN_US=5000000 SHOAL_TEST_PID_DIR=$1 \
        "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" \
        "$work/c.ini" -o "$2" 2>"$3" &
    pid=$!
    for _ in $(seq 1 600); do
        sleep 0.1
        [[ $(find "$1" -name 'rank.*' | wc -l) -eq $np ]] && break
    done
    sleep 0.5
}

# check_bad 'config text' 'expected message part' [options...]: $app on
# that config (written to bad$i.ini in the current directory, i counting
# the calls) exits 2 with the message and writes no output; with
# one_error_line=1, the message is the only error line.
i=0
one_error_line=0
check_bad() {
    local text=$1 want=$2
    shift 2
    i=$((i + 1))
    printf '%b' "$text" >"bad$i.ini"
    mpirun_n "$np" "$app" "bad$i.ini" -o "out$i.h5" "$@" >"stdout$i" 2>"stderr$i"
    local rc=$?
    [[ $rc -eq 2 ]] || fail "case $i: exit status $rc, expected 2 (config: $text; options: $*): $(cat "stderr$i")"
    grep -qF -- "$want" "stderr$i" || fail "case $i: message lacks '$want': $(cat "stderr$i")"
    local errors
    errors=$(grep -c "shoal: error" "stderr$i")
    if [[ $one_error_line == 1 ]]; then
        [[ $errors -eq 1 ]] || fail "case $i: expected one error line: $(cat "stderr$i")"
    else
        [[ $errors -ge 1 ]] || fail "case $i: no error line"
    fi
    [[ ! -e out$i.h5 ]] || fail "case $i: an output file was created"
}

# case_passed: the case ran to its end.
case_passed() {
    finished=1
    rm -rf "$work"
    echo "PASS [$SHOAL_TEST_NAME]"
}
