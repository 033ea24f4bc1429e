#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for /reduce and /points (lib/src/reduce.c), with
# tests/mpi/test_reduce: every kind of reduction and two derived quantities.
#
#   reduce_cases.sh CASE NRANKS
#
# SHOAL_TEST_READ_BYTES shrinks the blocks and windows the reductions read
# (4 MiB otherwise), so that test-sized runs cross many block and window
# boundaries; every run of one comparison uses the same value.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

reduce_app=$SHOAL_BUILD/tests/mpi/test_reduce
export SHOAL_TEST_READ_BYTES=2000 SHOAL_TEST_REDUCE_FAIL_EVERY=17

scan_config() { # scan_config FILE [extra test_reduce lines...]
    local f=$1
    shift
    {
        echo "[run]"
        echo "seed = 20261202"
        echo "[scan]"
        echo "mu = 0, 1, 2.5, -4"
        echo "[sampling]"
        echo "replicates = 150"
        echo "[test_reduce]"
        for line in "$@"; do echo "$line"; done
    } >"$f"
}

# same_aggregates A B: /reduce and /points bit-identical.
same_aggregates() {
    for g in /reduce /points; do
        h5diff "$1" "$2" "$g" >"$work/diff.txt" 2>&1 ||
            fail "$g differs between $(basename "$1") and $(basename "$2"): $(head -n 5 "$work/diff.txt")"
    done
}

case "$case_name" in

reduce_identical)
    # The same scan at 1 rank and at np ranks, with uneven task times: the
    # aggregates are bit-identical, and equal numpy's from the rows.
    need_h5py
    scan_config "$work/c.ini" "sleep_us = 40"
    expect_rc 1 mpirun_n 1 "$reduce_app" "$work/c.ini" -o "$work/one.h5" -q
    expect_rc 1 mpirun_n "$np" "$reduce_app" "$work/c.ini" -o "$work/many.h5" -q
    same_aggregates "$work/one.h5" "$work/many.h5"
    "$SHOAL_PYTHON" "$SHOAL_SRC/tests/mpi/check_reduce.py" "$work/many.h5" ||
        fail "the aggregates disagree with numpy"
    # Without a scan: /reduce alone, over 3001 tasks in blocks of 250.
    write_config "$work/flat.ini" 3001
    sed -i 's/^\[test_app\]/[test_reduce]\nmu = 0.25/' "$work/flat.ini"
    expect_rc 1 mpirun_n 1 "$reduce_app" "$work/flat.ini" -o "$work/flat1.h5" -q
    expect_rc 1 mpirun_n "$np" "$reduce_app" "$work/flat.ini" -o "$work/flatn.h5" >"$work/out"
    # The summary hook reads a constant parameter and /reduce back.
    n_sum=$("$SHOAL_PYTHON" -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r'); \
print(f['results/n'][:][f['tasks/status'][:] == 1].sum())" "$work/flatn.h5")
    grep -qx "test_reduce: summary: mu = 0.25, reduce/n = $n_sum" "$work/out" ||
        fail "the summary hook did not read mu and reduce/n back (want n = $n_sum): $(cat "$work/out")"
    h5diff "$work/flat1.h5" "$work/flatn.h5" /reduce >/dev/null ||
        fail "/reduce differs between 1 and $np ranks"
    "$SHOAL_PYTHON" "$SHOAL_SRC/tests/mpi/check_reduce.py" "$work/flatn.h5" ||
        fail "/reduce disagrees with numpy"
    ;;

reduce_resume)
    # Killed mid-run, resumed (on another rank count), then the failed tasks
    # retried: the aggregates equal a run that went straight through. An
    # incomplete file has none yet (NaN).
    need_h5py
    # 600 tasks of 0 to 12 ms: a few seconds for the killed run; the runs
    # it is compared with need no sleeping (the values do not depend on it).
    scan_config "$work/c.ini" "sleep_us = 3000"
    expect_rc 1 mpirun_n "$np" "$reduce_app" "$work/c.ini" -o "$work/full.h5" -q \
        --set test_reduce.sleep_us=0
    SHOAL_TEST_REDUCE_FAIL_EVERY=0 expect_rc 0 mpirun_n "$np" "$reduce_app" "$work/c.ini" \
        -o "$work/none_failed.h5" -q --set test_reduce.sleep_us=0
    setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$reduce_app" \
        "${postflags[@]}" "$work/c.ini" -o "$work/part.h5" -q 2>/dev/null &
    pid=$!
    for _ in $(seq 1 600); do
        sleep 0.05
        [[ -f $work/part.h5 ]] || continue
        out=$("$check" counts "$work/part.h5" 2>/dev/null) || continue
        done_rows=${out#*done=}
        done_rows=${done_rows%% *}
        [[ ${done_rows:-0} -ge 60 ]] && break
    done
    pkill -KILL -s "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
    out=$("$check" counts "$work/part.h5") || fail "killed run's file unreadable"
    [[ $out != "pending=0 "* ]] || fail "the run finished before the kill; the test needs a longer run"
    "$SHOAL_PYTHON" - "$work/part.h5" <<'PY' || fail "an incomplete file has aggregates"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert np.isnan(f["reduce/x"][()]) and np.isnan(f["points/mean/y"][:]).all()
    assert (f["points/replicates"][:] == 0).all()
PY
    other=$((np == 1 ? 2 : np - 1))
    expect_rc 1 mpirun_n "$other" "$reduce_app" "$work/c.ini" -o "$work/part.h5" -q --resume
    same_aggregates "$work/full.h5" "$work/part.h5"
    # The failed tasks retried once their cause is gone: every task is now
    # done, and the aggregates equal those of a run without failures.
    SHOAL_TEST_REDUCE_FAIL_EVERY=0 expect_rc 0 mpirun_n "$np" "$reduce_app" "$work/c.ini" \
        -o "$work/part.h5" -q --resume --retry-failed
    same_aggregates "$work/none_failed.h5" "$work/part.h5"
    ;;

reduce_fault)
    # A failure on one rank while computing /reduce or /points: every rank
    # exits 4 (no hang); the file keeps every row, and --resume computes
    # the aggregates, equal to those of a run that never failed.
    need_h5py
    scan_config "$work/c.ini"
    expect_rc 1 mpirun_n "$np" "$reduce_app" "$work/c.ini" -o "$work/full.h5" -q
    last=$((np - 1))
    for at in reduce points; do
        for who in 0 "$last"; do
            SHOAL_TEST_FAIL_AT=$at:$who timeout 120 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" \
                "${preflags[@]}" "$reduce_app" "${postflags[@]}" "$work/c.ini" \
                -o "$work/f.h5" -q --force 2>"$work/err"
            rc=$?
            [[ $rc -eq 4 ]] || fail "failure at $at on rank $who: exit $rc, expected 4 (124: a hang)"
            grep -q "injected failure" "$work/err" || fail "no message for the failure at $at: $(cat "$work/err")"
            h5diff "$work/full.h5" "$work/f.h5" /results >/dev/null ||
                fail "failure at $at on rank $who: /results differ from the full run"
            expect_rc 1 mpirun_n "$np" "$reduce_app" "$work/c.ini" -o "$work/f.h5" -q --resume
            same_aggregates "$work/full.h5" "$work/f.h5"
        done
    done
    ;;

*)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac

case_passed
