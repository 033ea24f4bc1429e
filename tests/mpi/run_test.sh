#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI integration tests: real mpiexec, real ranks, a real parallel HDF5 file.
#
#   run_test.sh CASE NRANKS
#
# The environment, the work directory and the helpers: common.sh.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case "$case_name" in

identical)
    # Same config at 1 and N ranks: every result dataset bit-identical.
    write_config "$work/c.ini" 3001 "sleep_us = 3"
    expect_rc 0 mpirun_n 1 "$app" "$work/c.ini" -o "$work/one.h5" -q
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/many.h5" -q
    h5diff "$work/one.h5" "$work/many.h5" /results || fail "results differ between 1 and $np ranks"
    h5diff "$work/one.h5" "$work/many.h5" /tasks/status || fail "status differs"
    h5diff "$work/one.h5" "$work/many.h5" /tasks/error || fail "error column differs"
    "$check" varied "$work/many.h5" u || fail "u is constant: random streams not used"
    "$check" varied "$work/many.h5" g || fail "g is constant"
    # A different seed must change the numbers.
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/seed2.h5" -q --set run.seed=2
    if h5diff -q "$work/many.h5" "$work/seed2.h5" /results/u >/dev/null; then
        fail "seed 2 gave the same draws as seed 987654321"
    fi
    ;;

once)
    # Every task runs exactly once (side channel), status all done, rank kept.
    write_config "$work/c.ini" 2000 "sleep_us = 20"
    mkdir "$work/trace"
    SHOAL_TEST_TRACE_DIR=$work/trace expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q
    cat "$work"/trace/trace.* | sort -n >"$work/ran.txt"
    seq 0 1999 >"$work/want.txt"
    diff -q "$work/ran.txt" "$work/want.txt" >/dev/null ||
        fail "executions differ from 0..1999 exactly once: $(diff "$work/ran.txt" "$work/want.txt" | head -5 | tr '\n' ' ')"
    [[ $(find "$work/trace" -name 'trace.*' | wc -l) -eq $np ]] || fail "expected $np trace files"
    [[ $("$check" counts "$work/out.h5") == "pending=0 done=2000 failed=0" ]] || fail "status not all done: $("$check" counts "$work/out.h5")"
    "$check" ranks "$work/out.h5" "$np" || fail "rank columns inconsistent"
    ;;

timing)
    # /tasks/seconds: tasks spinning (i % 7) ms are timed one by one (at
    # least their spin, adding up to the ranks' busy time); tasks of a few
    # nanoseconds are timed in blocks, and still add up.
    write_config "$work/c.ini" 120 "sleep_us = 1000"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/slow.h5" -q
    "$check" seconds "$work/slow.h5" 1000 || fail "per-task seconds wrong for spinning tasks"
    write_config "$work/c.ini" 200000
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/fast.h5" -q
    "$check" seconds "$work/fast.h5" 0 || fail "per-task seconds wrong for short tasks"
    ;;

failures)
    # Failing tasks are recorded, the run goes on, the exit status is 1.
    write_config "$work/c.ini" 500 "fail_every = 9"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" >"$work/stdout" 2>"$work/stderr"
    rc=$?
    [[ $rc -eq 1 ]] || fail "exit status $rc with failing tasks, expected 1"
    "$check" failures "$work/out.h5" 9 7 || fail "failure rows wrong"
    grep -q "55 failed" "$work/stdout" || fail "summary does not count 55 failures: $(cat "$work/stdout")"
    # The summary lists the lowest failed tasks with their messages; the
    # ranks warn as tasks fail (the first few per rank: which tasks those
    # are depends on the schedule).
    grep -q "task 8: error 7 after 1 attempt: injected failure at task 8" "$work/stdout" ||
        fail "first failure message not in the summary"
    grep -q "injected failure at task" "$work/stderr" || fail "no failure warning shown"
    ;;

retries)
    # Deterministic failures fail every attempt; transient ones recover, with
    # the results a clean run gives (same random stream).
    need_h5py
    write_config "$work/c.ini" 200 "fail_every = 7"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/det.h5" --set run.retries=2 >"$work/det.txt" 2>/dev/null
    rc=$?
    [[ $rc -eq 1 ]] || fail "deterministic failures: exit $rc, expected 1"
    "$check" failures "$work/det.h5" 7 7 || fail "statuses wrong with retries"
    grep -q "task 6: error 7 after 3 attempts: injected failure at task 6" "$work/det.txt" ||
        fail "summary lacks the first failure: $(cat "$work/det.txt")"
    write_config "$work/clean.ini" 200
    expect_rc 0 mpirun_n "$np" "$app" "$work/clean.ini" -o "$work/clean.h5" -q
    write_config "$work/flaky.ini" 200 "flaky_every = 5"
    mpirun_n "$np" "$app" "$work/flaky.ini" -o "$work/noretry.h5" -q 2>/dev/null
    rc=$?
    [[ $rc -eq 1 ]] || fail "flaky without retries: exit $rc, expected 1"
    expect_rc 0 mpirun_n "$np" "$app" "$work/flaky.ini" -o "$work/flaky.h5" -q --set run.retries=1
    for obj in /results/u /results/g /results/k /results/v /tasks/status; do
        h5diff "$work/clean.h5" "$work/flaky.h5" "$obj" || fail "retried tasks differ from a clean run in $obj"
    done
    "$SHOAL_PYTHON" - "$work/flaky.h5" "$work/det.h5" <<'PY' || fail "attempt counts wrong"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    a = f["tasks/attempts"][:]
    want = np.where(np.arange(200) % 5 == 0, 2, 1)
    assert np.array_equal(a, want), a[:12]
with h5py.File(sys.argv[2], "r") as f:
    a = f["tasks/attempts"][:]
    assert np.array_equal(a, np.where(np.arange(200) % 7 == 6, 3, 1))
    t = f["failures/task"][:]
    assert sorted(t[t >= 0]) == list(range(6, 200, 7)), t
    m = f["failures/message"][:]
    assert all(s.startswith(b"injected failure at task") for s in m[t >= 0])
print("attempts ok")
PY
    ;;

clobber)
    # An existing output is never replaced without --force.
    write_config "$work/c.ini" 50
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q
    before=$(sum_of "$work/out.h5")
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" 2>"$work/stderr"
    rc=$?
    [[ $rc -eq 2 ]] || fail "exit status $rc on existing output, expected 2"
    grep -q "already exists" "$work/stderr" || fail "no 'already exists' message: $(cat "$work/stderr")"
    [[ $(grep -c "already exists" "$work/stderr") -eq 1 ]] || fail "message printed more than once"
    [[ $(sum_of "$work/out.h5") == "$before" ]] || fail "existing file was modified"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q --force --set run.seed=5
    [[ $(sum_of "$work/out.h5") != "$before" ]] || fail "--force did not replace the file"
    ;;

killed)
    # SIGKILL of every rank mid-run leaves a readable file whose done rows
    # are all correct.
    need_h5py
    write_config "$work/c.ini" 4000 "sleep_us = 300"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/full.h5" -q --set test_app.sleep_us=0
    setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" \
        "$work/c.ini" -o "$work/part.h5" -q &
    pid=$!
    # Wait until some rows are done, then kill the whole process group.
    for _ in $(seq 1 100); do
        sleep 0.1
        [[ -f $work/part.h5 ]] || continue
        out=$("$check" counts "$work/part.h5" 2>/dev/null) || continue
        done_rows=${out#*done=}
        done_rows=${done_rows%% *}
        [[ ${done_rows:-0} -ge 400 ]] && break
    done
    pkill -KILL -s "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
    out=$("$check" counts "$work/part.h5") || fail "killed run's file unreadable"
    echo "after kill: $out"
    [[ $out != *"done=0 "* ]] || fail "no row was done before the kill"
    [[ $out != "pending=0 "* ]] || fail "the run finished before the kill; the test needs a longer run"
    "$check" subset "$work/part.h5" "$work/full.h5" || fail "a done row differs from the full run"
    "$SHOAL_PYTHON" - "$work/part.h5" <<'PY' || fail "h5py cannot read the killed run's file"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    st = f["tasks/status"][:]
    u = f["results/u"][:]
    assert (st == 1).sum() > 0 and "finished" not in f.attrs
    assert ((u[st == 1] >= 0) & (u[st == 1] < 1)).all()
    print("h5py reads the killed file:", (st == 1).sum(), "rows done")
PY
    ;;

resume)
    # SIGKILL the whole launcher at three moments, resume each time (with a
    # different rank count), then compare with an uninterrupted run. Tasks
    # done before a kill must never run again (execution trace).
    write_config "$work/c.ini" 3000 "sleep_us = 250"
    expect_rc 0 mpirun_n 2 "$app" "$work/c.ini" -o "$work/ref.h5" -q --set test_app.sleep_us=0
    mkdir -p "$work/trace0"
    counts=(200 900 1700)
    for k in 0 1 2; do
        n=$(( k == 1 ? np : 2 ))
        resume=()
        [[ $k -gt 0 ]] && resume=(--resume)
        mkdir -p "$work/trace$((k + 1))"
        SHOAL_TEST_TRACE_DIR=$work/trace$k setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$n" "${preflags[@]}" "$app" \
            "${postflags[@]}" "$work/c.ini" -o "$work/run.h5" -q "${resume[@]}" &
        pid=$!
        for _ in $(seq 1 200); do
            sleep 0.05
            out=$("$check" counts "$work/run.h5" 2>/dev/null) || continue
            d=${out#*done=}
            d=${d%% *}
            [[ ${d:-0} -ge ${counts[$k]} ]] && break
        done
        # The whole session: Open MPI puts every rank in a process group of
        # its own, so killing mpirun's group would leave them running.
        pkill -KILL -s "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
        out=$("$check" counts "$work/run.h5") || fail "file unreadable after kill $k"
        echo "kill $((k + 1)) on $n ranks: $out"
        [[ $out != "pending=0 "* ]] || fail "run $k finished before its kill: make it longer"
        "$check" done "$work/run.h5" | sort >"$work/done$k.txt"
        "$check" subset "$work/run.h5" "$work/ref.h5" || fail "after kill $k a done row differs from the reference"
    done
    SHOAL_TEST_TRACE_DIR=$work/trace3 expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/run.h5" --resume
    for obj in /results /tasks/status; do
        h5diff "$work/ref.h5" "$work/run.h5" "$obj" || fail "resumed file differs from the reference in $obj"
    done
    # Nothing done before kill k ran in a later segment.
    for k in 0 1 2; do
        for j in $(seq $((k + 1)) 3); do cat "$work"/trace$j/trace.* 2>/dev/null; done | sort -u >"$work/later.txt"
        [[ -s $work/later.txt ]] || fail "no executions traced after kill $((k + 1))"
        again=$(comm -12 "$work/done$k.txt" "$work/later.txt" | head -3)
        [[ -z $again ]] || fail "tasks done before kill $((k + 1)) ran again: $again"
    done
    echo "resume: 3 kills, identical to the reference"
    ;;

signals)
    # SIGUSR1 (forwarded by mpirun) and SIGTERM (straight to a lone rank)
    # stop gracefully with status 3; --resume finishes; identical result.
    write_config "$work/c.ini" 3000 "sleep_us = 250"
    expect_rc 0 mpirun_n 1 "$app" "$work/c.ini" -o "$work/ref.h5" -q --set test_app.sleep_us=0
    for sig in USR1 TERM; do
        if [[ $sig == USR1 ]]; then
            "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" \
                "$work/c.ini" -o "$work/$sig.h5" 2>"$work/$sig.err" &
        else
            "$app" "$work/c.ini" -o "$work/$sig.h5" 2>"$work/$sig.err" &
        fi
        pid=$!
        for _ in $(seq 1 200); do
            sleep 0.05
            out=$("$check" counts "$work/$sig.h5" 2>/dev/null) || continue
            d=${out#*done=}
            d=${d%% *}
            [[ ${d:-0} -ge 300 ]] && break
        done
        kill -"$sig" "$pid"
        wait "$pid"
        rc=$?
        [[ $rc -eq 3 ]] || fail "SIG$sig: exit $rc, expected 3: $(cat "$work/$sig.err")"
        grep -q "^shoal: notice: test_app: interrupted by SIG$sig" "$work/$sig.err" ||
            fail "SIG$sig: no interrupted notice: $(cat "$work/$sig.err")"
        ! grep -q "shoal: error" "$work/$sig.err" || fail "SIG$sig: an interruption reported as an error"
        # The resume command names the launcher in use: mpirun, or none.
        if [[ $sig == USR1 ]]; then launched="mpirun -n $np $app "; else launched="$app "; fi
        grep -qF "to finish the run: $launched" "$work/$sig.err" ||
            fail "SIG$sig: the resume command does not start '$launched': $(cat "$work/$sig.err")"
        grep -q -- "--resume$" "$work/$sig.err" || fail "SIG$sig: no resume command"
        out=$("$check" counts "$work/$sig.h5")
        [[ $out != "pending=0 "* ]] || fail "SIG$sig came after the end"
        "$check" subset "$work/$sig.h5" "$work/ref.h5" || fail "SIG$sig: a done row differs"
        expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/$sig.h5" --resume -q
        h5diff "$work/ref.h5" "$work/$sig.h5" /results || fail "SIG$sig: resumed file differs"
        echo "SIG$sig: stopped with 3 at $out, resumed, identical"
    done
    ;;

fingerprint)
    # Resuming with a different run refuses, lists differences, changes nothing.
    write_config "$work/c.ini" 100
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q
    before=$(sum_of "$work/out.h5")
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" --resume --set run.seed=12 \
        --set test_app.x=2.5 2>"$work/err"
    rc=$?
    [[ $rc -eq 2 ]] || fail "mismatched resume: exit $rc, expected 2"
    grep -q "seed: 987654321 vs. 12" "$work/err" || fail "no seed difference listed: $(cat "$work/err")"
    grep -q "param.x: 0 vs. 2.5" "$work/err" || fail "no x difference listed: $(cat "$work/err")"
    [[ $(sum_of "$work/out.h5") == "$before" ]] || fail "refused resume modified the file"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/none.h5" --resume 2>"$work/err2"
    [[ $? -eq 2 ]] || fail "resume of a missing file: wrong exit"
    grep -q "nothing to resume" "$work/err2" || fail "missing-file resume message: $(cat "$work/err2")"
    "$app" "$work/c.ini" -o "$work/out.h5" --resume --force 2>"$work/err3"
    [[ $? -eq 2 ]] || fail "--resume --force accepted"
    ;;

fingerprint_whole)
    # Equality is decided on the whole fingerprint, order included; what
    # does not change the meaning (spacing, spelled-out defaults) resumes.
    vals=$(seq -s ', ' 1 301)
    printf '[run]\nseed = 5\n[scan]\nx = %s\n' "$vals" >"$work/long.ini"
    expect_rc 0 mpirun_n "$np" "$app" "$work/long.ini" -o "$work/long.h5" -q
    before=$(sum_of "$work/long.h5")
    printf '[run]\nseed = 5\n[scan]\nx = %s\n' "${vals%301}302" >"$work/long2.ini"
    mpirun_n "$np" "$app" "$work/long2.ini" -o "$work/long.h5" --resume 2>"$work/err"
    rc=$?
    [[ $rc -eq 2 ]] || fail "last of 301 values changed: resume exit $rc, expected 2"
    grep -q "scan.x: ...*301 (" "$work/err" || fail "difference not shown near the change: $(cat "$work/err")"
    [[ $(sum_of "$work/long.h5") == "$before" ]] || fail "refused resume modified the file"
    # [scan] lines in another order: another task order, refused.
    printf '[run]\nseed = 5\n[scan]\nx = 1, 2\nlabel = a, bb\n' >"$work/ab.ini"
    printf '[run]\nseed = 5\n[scan]\nlabel = a, bb\nx = 1, 2\n' >"$work/ba.ini"
    expect_rc 0 mpirun_n "$np" "$app" "$work/ab.ini" -o "$work/ab.h5" -q
    before=$(sum_of "$work/ab.h5")
    mpirun_n "$np" "$app" "$work/ba.ini" -o "$work/ab.h5" --resume 2>"$work/err"
    rc=$?
    [[ $rc -eq 2 ]] || fail "[scan] lines reordered: resume exit $rc, expected 2"
    grep -q "another order" "$work/err" || fail "order not named: $(cat "$work/err")"
    [[ $(sum_of "$work/ab.h5") == "$before" ]] || fail "refused resume modified the file"
    # Same meaning: spacing and an explicit default resume (nothing left).
    printf '[run]\nseed = 5\nrng = philox4x64\n[scan]\nx = 1,  2 \nlabel =  a,bb\n[sampling]\nreplicates = 1\ndesign = grid\n' >"$work/same.ini"
    expect_rc 0 mpirun_n "$np" "$app" "$work/same.ini" -o "$work/ab.h5" --resume -q
    # The default before 53-bit doubles is another stream: refused, not mixed in.
    before=$(sum_of "$work/ab.h5")
    mpirun_n "$np" "$app" "$work/ab.ini" -o "$work/ab.h5" --resume --set run.rng=philox4x32 2>"$work/err"
    [[ $? -eq 2 ]] || fail "rng philox4x32 on a philox4x64 file: resume accepted"
    grep -q "philox4x32" "$work/err" || fail "rng difference not shown: $(cat "$work/err")"
    [[ $(sum_of "$work/ab.h5") == "$before" ]] || fail "refused resume modified the file"
    # A different design or replicate count is a different run.
    mpirun_n "$np" "$app" "$work/ab.ini" -o "$work/ab.h5" --resume --set sampling.replicates=2 2>"$work/err"
    [[ $? -eq 2 ]] || fail "replicates changed: resume accepted"
    grep -q "scan: 4 points: 2 x 2, 1 replicate vs. 4 points: 2 x 2, 2 replicates" "$work/err" || fail "replicates difference: $(cat "$work/err")"
    ;;

retry_failed)
    # Tasks that failed for an outside reason rerun alone once it is fixed.
    write_config "$work/c.ini" 400
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/ref.h5" -q
    SHOAL_TEST_ENV_FAIL_EVERY=9 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q
    [[ $? -eq 1 ]] || fail "environment failures: expected exit 1"
    [[ $("$check" counts "$work/out.h5") == "pending=0 done=355 failed=45" ]] || fail "counts: $("$check" counts "$work/out.h5")"
    mkdir "$work/trace"
    SHOAL_TEST_TRACE_DIR=$work/trace expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" --resume --retry-failed -q
    [[ $(cat "$work"/trace/* | wc -l) -eq 45 ]] || fail "retry-failed ran $(cat "$work"/trace/* | wc -l) tasks, expected the 45 failed"
    h5diff "$work/ref.h5" "$work/out.h5" /results || fail "retried file differs from a clean run"
    h5diff "$work/ref.h5" "$work/out.h5" /tasks/status || fail "statuses differ after retry"
    ;;

poison)
    # A task that segfaults brings its run down; the crash log names it; after
    # max_crashes (2) crashes a resume marks it failed and finishes the rest.
    write_config "$work/ref.ini" 600 "sleep_us = 20"
    expect_rc 0 mpirun_n "$np" "$app" "$work/ref.ini" -o "$work/ref.h5" -q
    write_config "$work/c.ini" 600 "sleep_us = 20" "crash_at = 137"
    for k in 1 2; do
        resume=()
        [[ $k -gt 1 ]] && resume=(--resume)
        mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q "${resume[@]}" >/dev/null 2>&1
        rc=$?
        [[ $rc -ne 0 && $rc -ne 1 && $rc -ne 2 && $rc -ne 3 ]] || fail "crash $k: exit $rc, expected a crash status"
        [[ $(grep -c "^task 137 signal 11$" "$work/out.h5.crashes") -eq $k ]] ||
            fail "crash log after crash $k: $(cat "$work/out.h5.crashes")"
    done
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" --resume >"$work/out.txt" 2>&1
    rc=$?
    [[ $rc -eq 1 ]] || fail "after the poison task: exit $rc, expected 1: $(tail -5 "$work/out.txt")"
    [[ $("$check" counts "$work/out.h5") == "pending=0 done=599 failed=1" ]] || fail "counts: $("$check" counts "$work/out.h5")"
    grep -q "task 137: error -16 after 2 attempts: crashed its process 2 times" "$work/out.txt" ||
        fail "summary does not name the poison task: $(cat "$work/out.txt")"
    "$check" subset "$work/out.h5" "$work/ref.h5" || fail "done rows differ from a run without the poison task"
    ;;

diskfull)
    # The disk fills up mid-run: a clear message, exit 4, the rows written
    # stay; with space again --resume finishes to the same result. Needs a
    # small tmpfs, so root; skipped otherwise.
    mkdir "$work/small"
    if ! mount -t tmpfs -o size=2m tmpfs "$work/small" 2>/dev/null; then
        echo "cannot mount a tmpfs here (not root?): skipped"
        rm -rf "$work"
        exit 77
    fi
    trap 'umount "$work/small" 2>/dev/null; on_exit' EXIT
    # A file too large for the disk is refused before anything is written.
    write_config "$work/c.ini" 40000
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/small/out.h5" -q 2>"$work/err"
    rc=$?
    [[ $rc -eq 2 ]] || fail "file larger than the disk: exit $rc, expected 2"
    grep -q "need about .* GB, but .* free" "$work/err" || fail "no size message: $(grep shoal "$work/err")"
    [[ -z $(ls -A "$work/small") ]] || fail "refused run left files: $(ls -A "$work/small")"
    umount "$work/small"
    # The file fits, but something else fills the disk during the run.
    mount -t tmpfs -o size=6m tmpfs "$work/small" || fail "remount"
    write_config "$work/c.ini" 30000 "sleep_us = 100"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/ref.h5" -q
    (
        for _ in $(seq 1 400); do [[ -e $work/small/out.h5 ]] && break; sleep 0.05; done
        dd if=/dev/zero of="$work/small/filler" bs=64k 2>/dev/null
    ) &
    filler=$!
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/small/out.h5" -q 2>"$work/err"
    rc=$?
    wait "$filler"
    [[ $rc -eq 4 ]] || fail "disk full: exit $rc, expected 4"
    grep -q "the disk is full" "$work/err" || fail "no disk-full message: $(grep shoal "$work/err")"
    "$check" subset "$work/small/out.h5" "$work/ref.h5" || fail "a done row is wrong after ENOSPC"
    cp "$work/small/out.h5" "$work/out.h5"
    rm -f "$work/small/out.h5.lock"
    umount "$work/small"
    trap on_exit EXIT
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" --resume -q
    h5diff "$work/ref.h5" "$work/out.h5" /results || fail "resumed after ENOSPC: results differ"
    ;;

apps)
    # Every science app's small config, and its real scan shrunk with
    # --set, gives bit-identical files at 1 and N ranks.
    run_pair() { # run_pair NAME BINARY CONFIG [options...]
        local name=$1 bin=$2 cfg=$3
        shift 3
        [[ -x $bin ]] || { echo "$name: not built, skipped"; return 0; }
        expect_rc 0 mpirun_n 1 "$bin" "$cfg" -o "$work/$name-1.h5" -q "$@"
        expect_rc 0 mpirun_n "$np" "$bin" "$cfg" -o "$work/$name-n.h5" -q "$@"
        for obj in /results /tasks/status; do
            h5diff "$work/$name-1.h5" "$work/$name-n.h5" "$obj" ||
                fail "$name: $obj differs between 1 and $np ranks"
        done
        if h5dump -H -g /params "$work/$name-1.h5" 2>/dev/null | grep -q DATASET; then
            h5diff "$work/$name-1.h5" "$work/$name-n.h5" /params || fail "$name: /params differ"
        fi
        echo "$name: identical at 1 and $np ranks"
    }
    apps_dir=$SHOAL_BUILD/apps
    run_pair mc_pi "$apps_dir/mc_pi/mc_pi" "$SHOAL_SRC/configs/mc_pi.ini" --set mc_pi.samples=20000
    run_pair ode_test "$apps_dir/ode_scan/ode_scan" "$SHOAL_SRC/configs/ode_test.ini" \
        --set run.tasks=12 --set ode_scan.t_total=60
    run_pair ode_scan "$apps_dir/ode_scan/ode_scan" "$SHOAL_SRC/configs/ode_scan.ini" \
        --set scan.rho='linspace(0.5, 250, 6)' --set sampling.replicates=2 --set ode_scan.t_total=30
    run_pair option_test "$apps_dir/option_mc/option_mc" "$SHOAL_SRC/configs/option_mc_test.ini" \
        --set run.tasks=12 --set option_mc.paths=2000
    run_pair option_scan "$apps_dir/option_mc/option_mc" "$SHOAL_SRC/configs/option_mc_scan.ini" \
        --set sampling.replicates=1 --set option_mc.paths=1000
    run_pair ising_test "$apps_dir/ising2d/ising2d" "$SHOAL_SRC/configs/ising_test.ini" \
        --set run.tasks=6
    ;;

mc_pi)
    # The demo app: identical files and estimate at 1 and N ranks.
    printf '[run]\ntasks = 24\nseed = 42\n[mc_pi]\nsamples = 20000\n' >"$work/pi.ini"
    expect_rc 0 mpirun_n 1 "$mc_pi" "$work/pi.ini" -o "$work/one.h5" >"$work/one.txt"
    expect_rc 0 mpirun_n "$np" "$mc_pi" "$work/pi.ini" -o "$work/many.h5" >"$work/many.txt"
    h5diff "$work/one.h5" "$work/many.h5" /results || fail "mc_pi results differ between 1 and $np ranks"
    a=$(grep "pi = " "$work/one.txt")
    b=$(grep "pi = " "$work/many.txt")
    [[ -n $a && $a == "$b" ]] || fail "estimates differ: '$a' vs '$b'"
    [[ $("$check" counts "$work/many.h5") == "pending=0 done=24 failed=0" ]] || fail "not all done"
    ;;

badinput)
    # Bad configs and options: exit 2, one clear message, no file written.
    cd "$work" || fail "cd"
    i=0
    check_bad '[run]\ntasks = abc\n' "bad1.ini:2: [run] tasks = 'abc' is not a whole number"
    check_bad '[run]\ntasks = -5\n' "bad2.ini:2: [run] tasks = '-5' is negative"
    check_bad '[run]\nseed = 3\n' "missing required key 'tasks' in [run]"
    check_bad '[run]\ntasks = 10\ntaks = 3\n' "bad4.ini:3: unknown key 'taks' in [run]; known keys:"
    check_bad '[run]\ntasks = 10\n[tset_app]\nx = 1\n' "bad5.ini:3: unknown section [tset_app]"
    check_bad '[run]\ntasks = 10\ntasks = 11\n' "bad6.ini:3: key 'tasks' in [run] is set twice (first at line 2)"
    check_bad '[run]\ntasks 10\n' "bad7.ini:2: cannot parse this line"
    check_bad '[run]\ntasks = 10\nseed = 0\n' "seed 0 is not allowed"
    check_bad '[run]\ntasks = 10\n[test_app]\nsleep_us = nan\n' "bad9.ini:4: [test_app] sleep_us = 'nan' is not an integer"
    check_bad '[run]\ntasks = 1e400\n' "tasks = '1e400' is out of range"
    check_bad '[run]\ntasks = 10\n' "unknown option '--frobnicate'" --frobnicate
    check_bad '[run]\ntasks = 10\n' "--set 'run.tasks': expected section.key=value" --set run.tasks
    check_bad '[run]\ntasks = 10\nrng = nope\n' "unknown random number generator 'nope'"
    check_bad '\x00\x01\x02binary' "bad14.ini:1: line contains a NUL byte"
    check_bad '' "is empty"
    check_bad '[run]\ntasks = 10\n[run]\nseed = 2\n' "bad16.ini:3: section [run] appears again (first at line 1)"
    check_bad '[run]\ntasks = 10\n' "directory 'nodir' does not exist" -o nodir/out.h5
    check_bad '[scan]\nx = linspce(0, 1, 3)\n' "bad$((i + 1)).ini:2: [scan] x: unknown function 'linspce'"
    check_bad '[scan]\nx = 1, 2, 3\nlabel = a, b\n[sampling]\ndesign = zip\n' "bad$((i + 1)).ini:3: [scan] design = zip needs equal lengths"
    check_bad '[scan]\nsleep_us = 1.5, 2\n' "sleep_us: '1.5' is not an integer"
    check_bad '[scan]\nxx = 1, 2\n' "bad$((i + 1)).ini:2: [scan] 'xx' is not a parameter of this app"
    check_bad '[run]\ntasks = 5\n[scan]\nx = 1, 2\n' "[run] tasks cannot be given with a [scan] section"
    check_bad '[scan]\nx = 1, 2\n[test_app]\nx = 3\n' "bad$((i + 1)).ini:4: x is set both here and in [scan]; keep one"
    mkdir adir
    check_bad '[run]\ntasks = 10\n' "output 'adir' is a directory" -o adir
    check_bad '[run]\ntasks = inf\n' "tasks = 'inf' is not a whole number"
    check_bad '[run]\ntasks = 5\ngrace_seconds = nan\n' "grace_seconds = 'nan' is not finite"
    check_bad '[run]\ntasks = 5\nretries = 99999999999999999999999\n' "retries = '99999999999999999999999' is out of range"
    check_bad '[run]\ntasks = 5\n[test_app\n' "bad$((i + 1)).ini:3: cannot parse this line"
    # A 1 MB line.
    { printf '[run]\ntasks = 5\nseed = '; head -c 1048576 /dev/zero | tr '\0' 7; printf '\n'; } >big.ini
    mpirun_n "$np" "$app" big.ini -o big.h5 2>stderr_big
    [[ $? -eq 2 ]] || fail "1 MB line: wrong exit"
    grep -q "big.ini:3: line longer than 65533 characters" stderr_big || fail "1 MB line message: $(head -c 300 stderr_big)"
    [[ ! -e big.h5 ]] || fail "1 MB line: output created"
    # A directory as the config file; a missing config file.
    mpirun_n "$np" "$app" adir -o out.h5 2>stderr_dir
    rc=$?
    [[ $rc -eq 2 ]] || fail "directory as config: exit $rc"
    grep -q "config file 'adir' is a directory" stderr_dir || fail "directory config message: $(cat stderr_dir)"
    mpirun_n "$np" "$app" missing.ini -o out.h5 2>stderr_missing
    rc=$?
    [[ $rc -eq 2 ]] || fail "missing config: exit $rc"
    grep -q "cannot read config file 'missing.ini'" stderr_missing || fail "missing config message: $(cat stderr_missing)"
    echo "badinput: $((i + 3)) bad inputs checked"
    ;;

scan)
    # A scan over every kind of parameter and design: identical files at 1
    # and N ranks, and each task saw exactly the values recorded in /params.
    need_h5py
    for design in grid zip sobol lhs; do
        samples=
        case $design in
        grid) lines=("x = linspace(-1.5, 2.385, 7)" "label = a, bb, ccc" "fail_every = range(1000, 4000, 1000)") ;;
        zip) lines=("x = 0.5, 1.5, 2.5" "label = one, three, fifteen" "y_unused_placeholder") ;;
        sobol) lines=("x = uniform(-3, 3)" "sleep_us = range(0, 4)" "label = p, qq"); samples=40 ;;
        lhs) lines=("x = normal(1, 2.385)" "sleep_us = range(0, 3)"); samples=30 ;;
        esac
        {
            printf '[run]\nseed = 77\n[scan]\n'
            for l in "${lines[@]}"; do [[ $l == y_unused_placeholder ]] || echo "$l"; done
            printf '[sampling]\ndesign = %s\nreplicates = 3\n' "$design"
            [[ -z $samples ]] || echo "samples = $samples"
        } >"$work/$design.ini"
        expect_rc 0 mpirun_n 1 "$app" "$work/$design.ini" -o "$work/$design-1.h5" -q
        expect_rc 0 mpirun_n "$np" "$app" "$work/$design.ini" -o "$work/$design-n.h5" -q
        for obj in /results /params /tasks/point /tasks/replicate /tasks/status; do
            h5diff "$work/$design-1.h5" "$work/$design-n.h5" "$obj" ||
                fail "$design: $obj differs between 1 and $np ranks"
        done
        "$SHOAL_PYTHON" - "$work/$design-n.h5" "$design" <<'PY' || fail "$design: /params disagree with what tasks saw"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    p, r, t = f["params"], f["results"], f["tasks"]
    n = f.attrs["ntasks"]
    assert (t["status"][:] == 1).all()
    assert np.array_equal(t["point"][:], np.arange(n) // 3), "point = task / replicates"
    assert np.array_equal(t["replicate"][:], np.arange(n) % 3)
    assert np.array_equal(2.0 * p["x"][:], r["x2"][:]), "x recorded != x seen"
    if "label" in p:
        assert np.array_equal([len(s) for s in p["label"][:]], r["label_len"][:])
    # replicates of a point share the point's values
    x = p["x"][:].reshape(-1, 3)
    assert (x == x[:, :1]).all()
    print(sys.argv[2], "ok:", n, "tasks,", dict(p.attrs))
PY
    done
    # --dry-run writes nothing and tells the task count.
    out=$("$app" "$work/grid.ini" -o "$work/dry.h5" --dry-run) || fail "dry run failed"
    [[ ! -e $work/dry.h5 ]] || fail "--dry-run wrote a file"
    grep -q "tasks:    189" <<<"$out" || fail "dry run does not show 189 tasks: $out"
    grep -q "63 points: 7 x 3 x 3, 3 replicates" <<<"$out" || fail "dry run scan description: $out"
    ;;

help)
    expect_rc 0 "$app" --help >"$work/help.txt"
    grep -q "Usage: test_app" "$work/help.txt" || fail "no usage line"
    grep -q "fail_every" "$work/help.txt" || fail "app parameters missing from --help"
    grep -q "tasks" "$work/help.txt" || fail "[run] keys missing from --help"
    expect_rc 0 "$app" --version >"$work/version.txt"
    grep -q "shoal" "$work/version.txt" || fail "no version"
    # Under a launcher only rank 0 prints, whatever the rank count.
    expect_rc 0 mpirun_n 3 "$app" --help >"$work/help3.txt"
    [[ $(grep -c "Usage: test_app" "$work/help3.txt") -eq 1 ]] ||
        fail "--help under mpirun -n 3 printed $(grep -c "Usage: test_app" "$work/help3.txt") usage lines, expected 1"
    expect_rc 0 mpirun_n 3 "$app" --version >"$work/version3.txt"
    [[ $(wc -l <"$work/version3.txt") -eq 1 ]] || fail "--version under mpirun -n 3 printed $(wc -l <"$work/version3.txt") lines"
    # A wrong command line next to --help is still reported, once.
    mpirun_n 2 "$app" --help --bogus >"$work/bad.txt" 2>&1
    rc=$?
    [[ $rc -eq 2 ]] || fail "--help --bogus: exit $rc, expected 2"
    [[ $(grep -c "unknown option '--bogus'" "$work/bad.txt") -eq 1 ]] ||
        fail "--help --bogus: error not printed once: $(cat "$work/bad.txt")"
    ;;

h5py)
    # What a user does: open the file with h5py, build columns, check.
    need_h5py
    write_config "$work/c.ini" 300
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q
    "$SHOAL_PYTHON" - "$work/out.h5" "$np" <<'PY' || fail "h5py checks failed"
import sys, h5py, numpy as np
path, nranks = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    cols = {k: f["results"][k][:] for k in f["results"]}
    assert cols["u"].shape == (300,) and cols["v"].shape == (300, 3), cols["v"].shape
    assert cols["m"].shape == (300, 2, 2)
    assert np.array_equal(cols["m"][:, 1, 1], np.arange(300) * 4 + 3)
    assert ((cols["u"] >= 0) & (cols["u"] < 1)).all()
    assert (f["tasks/status"][:] == 1).all()
    assert set(np.unique(f["tasks/rank"][:])) <= set(range(nranks))
    a = f.attrs
    assert a["app"] == "test_app" and a["ntasks"] == 300 and a["nranks"] == nranks
    assert a["seed"] == 987654321 and a["rng"] == "philox4x64"
    assert "[run]" in a["config"] and a["started"] <= a["finished"]
    assert a["tasks_done"] == 300 and a["tasks_failed"] == 0
    assert f["ranks/host"].shape == (nranks,) and f["ranks/tasks"][:].sum() == 300
    print("h5py: ok", {k: v.dtype.str for k, v in cols.items()})
PY
    ;;

collective)
    # A failure on one rank at any collective step of creating or resuming
    # the file: every rank exits 4 (no hang), nothing half-made is left,
    # and a file being resumed stays resumable.
    write_config "$work/c.ini" 300 "fail_every = 50"
    last=$((np - 1))
    for at in create bind ranks failures provenance flush rename; do
        for who in 0 "$last"; do
            [[ $at == rename && $who != 0 ]] && continue # only rank 0 renames
            SHOAL_TEST_FAIL_AT=$at:$who timeout 120 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" \
                "${preflags[@]}" "$app" "${postflags[@]}" "$work/c.ini" -o "$work/new.h5" -q 2>"$work/err"
            rc=$?
            [[ $rc -eq 4 ]] || fail "create, failure at $at on rank $who: exit $rc, expected 4 (124: a hang)"
            left=$(find "$work" -maxdepth 1 -name 'new.h5*')
            [[ -z $left ]] || fail "create, failure at $at on rank $who: left $left"
        done
    done
    expect_rc 1 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q 2>/dev/null
    cp "$work/out.h5" "$work/ref.h5"
    for at in open rebind read_failures ranks old_failures failures attributes flush; do
        for who in 0 "$last"; do
            SHOAL_TEST_FAIL_AT=$at:$who timeout 120 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" \
                "${preflags[@]}" "$app" "${postflags[@]}" "$work/c.ini" -o "$work/out.h5" --resume -q 2>"$work/err"
            rc=$?
            [[ $rc -eq 4 ]] || fail "resume, failure at $at on rank $who: exit $rc, expected 4 (124: a hang)"
            [[ ! -e $work/out.h5.lock ]] || fail "resume, failure at $at: lock left behind"
        done
    done
    expect_rc 1 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" --resume -q 2>/dev/null
    h5diff "$work/ref.h5" "$work/out.h5" /results || fail "results changed by failed resumes"
    ;;

structure)
    # Resume checks the file's structure before writing anything, and says
    # what is wrong; a bad file is left as it is.
    write_config "$work/c.ini" 100
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/good.h5" -q
    need_h5py
    bad_resume() { # bad_resume FILE MESSAGE
        local before
        before=$(sum_of "$1")
        mpirun_n "$np" "$app" "$work/c.ini" -o "$1" --resume 2>"$work/err"
        local rc=$?
        [[ $rc -eq 2 ]] || fail "resume of $(basename "$1"): exit $rc, expected 2"
        grep -qF -- "$2" "$work/err" || fail "resume of $(basename "$1"): message lacks '$2': $(cat "$work/err")"
        grep -q "()" "$work/err" && fail "empty parentheses in: $(cat "$work/err")"
        [[ $(sum_of "$1") == "$before" ]] || fail "resume of $(basename "$1") modified it"
    }
    cp "$work/good.h5" "$work/rows.h5"
    cp "$work/good.h5" "$work/type.h5"
    "$SHOAL_PYTHON" - "$work/rows.h5" "$work/type.h5" <<'PY' || fail "could not damage the files"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "a") as f:
    del f["results/x2"]; f["results/x2"] = np.zeros(10)
with h5py.File(sys.argv[2], "a") as f:
    del f["tasks/status"]; f["tasks/status"] = np.ones(100)
PY
    bad_resume "$work/rows.h5" "dataset /results/x2 has shape 10, this run writes 100"
    bad_resume "$work/type.h5" "dataset /tasks/status holds 8-byte float values, this run writes 1-byte unsigned integer"
    : >"$work/empty.h5"
    bad_resume "$work/empty.h5" "it is empty (0 bytes)"
    [[ ! -s $work/empty.h5 ]] || fail "0-byte file rewritten"
    head -c 3000 "$work/good.h5" >"$work/cut.h5"
    bad_resume "$work/cut.h5" "or it is truncated or damaged"
    ;;

fresh_run)
    # What a new run must not inherit, and what a resume must finish.
    write_config "$work/c.ini" 400 "crash_at = 137" "sleep_us = 20"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q 2>/dev/null
    [[ -s $work/out.h5.crashes ]] || fail "no crash log after a crash"
    rm -f "$work/out.h5.lock"
    # --force starts a new run: the old crash log goes with the old file.
    write_config "$work/ok.ini" 400 "sleep_us = 20"
    expect_rc 0 mpirun_n "$np" "$app" "$work/ok.ini" -o "$work/out.h5" -q --force
    [[ ! -e $work/out.h5.crashes ]] || fail "--force kept the old crash log"
    # --resume --retry-failed on an unfinished file finishes it.
    write_config "$work/f.ini" 400 "fail_every = 7"
    SHOAL_TEST_ENV_FAIL_EVERY=9 mpirun_n "$np" "$app" "$work/ok.ini" -o "$work/part.h5" -q \
        --set run.retries=0 2>/dev/null
    "$SHOAL_PYTHON" - "$work/part.h5" <<'PY' || fail "could not make an unfinished file"
import sys, h5py
with h5py.File(sys.argv[1], "a") as f:
    s = f["tasks/status"]; s[300:] = 0
PY
    expect_rc 0 mpirun_n "$np" "$app" "$work/ok.ini" -o "$work/part.h5" --resume --retry-failed -q
    [[ $("$check" counts "$work/part.h5") == "pending=0 done=400 failed=0" ]] || fail "retry-failed on an unfinished file: $("$check" counts "$work/part.h5")"
    # --force on a symlink replaces the link, not its target.
    expect_rc 0 mpirun_n "$np" "$app" "$work/ok.ini" -o "$work/target.h5" -q
    before=$(sum_of "$work/target.h5")
    ln -s target.h5 "$work/link.h5"
    expect_rc 0 mpirun_n "$np" "$app" "$work/ok.ini" -o "$work/link.h5" -q --force --set run.seed=3
    [[ ! -L $work/link.h5 ]] || fail "--force left the symlink"
    [[ $(sum_of "$work/target.h5") == "$before" ]] || fail "--force wrote through the symlink"
    # Failure messages are in the file while the run goes, not only at close.
    write_config "$work/slow.ini" 300 "fail_every = 10" "sleep_us = 20000"
    setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" \
        "$work/slow.ini" -o "$work/kill.h5" -q 2>/dev/null &
    job=$!
    for _ in $(seq 1 200); do
        [[ -e $work/kill.h5 ]] && [[ $(HDF5_USE_FILE_LOCKING=FALSE "$check" counts "$work/kill.h5" 2>/dev/null | sed 's/.*failed=//') -ge 3 ]] && break
        sleep 0.1
    done
    kill -KILL -- -"$job" 2>/dev/null
    wait "$job" 2>/dev/null
    HDF5_USE_FILE_LOCKING=FALSE "$SHOAL_PYTHON" - "$work/kill.h5" <<'PY' || fail "failure messages lost on a kill"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    failed = int((f["tasks/status"][:] == 2).sum())
    msgs = int((f["failures/task"][:] >= 0).sum())
    assert failed >= 3, failed
    assert msgs == failed, (msgs, failed)
    ranks = f["failures/rank"][:][f["failures/task"][:] >= 0]
    assert (ranks >= 0).all(), ranks
PY
    ;;

cli)
    # Bundled short options, -q silences the summary, messages for humans.
    write_config "$work/c.ini" 20
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -qfo "$work/q.h5" >"$work/out" 2>"$work/err"
    [[ ! -s $work/out ]] || fail "-q printed: $(cat "$work/out")"
    grep -q "shoal:" "$work/err" && fail "-q printed: $(cat "$work/err")"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -vvf -o "$work/q.h5" >"$work/out" 2>&1
    grep -q "debug" "$work/out" || grep -q "tasks (20 done" "$work/out" || fail "-vv: $(cat "$work/out")"
    # --resume --dry-run says what a resume would run, and writes nothing.
    write_config "$work/f.ini" 30 "fail_every = 3"
    mpirun_n "$np" "$app" "$work/f.ini" -o "$work/f.h5" -q 2>/dev/null
    before=$(sum_of "$work/f.h5")
    out=$(mpirun_n "$np" "$app" "$work/f.ini" -o "$work/f.h5" --resume --retry-failed --dry-run) || fail "--resume --dry-run refused"
    grep -q "20 done, 10 failed, 0 interrupted while running, 0 pending; a resume would run 10 tasks" <<<"$out" || fail "--resume --dry-run: $out"
    [[ $(sum_of "$work/f.h5") == "$before" ]] || fail "--resume --dry-run wrote"
    # A long output name is a config error.
    long=$(head -c 300 /dev/zero | tr '\0' a)
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/$long.h5" 2>"$work/err"
    rc=$?
    [[ $rc -eq 2 ]] || fail "long output name: exit $rc, expected 2"
    grep -q "the file name is too long" "$work/err" || fail "long name message: $(cat "$work/err")"
    # The resume command printed after a stop survives a space in a path.
    mkdir "$work/with space"
    write_config "$work/with space/s.ini" 400 "sleep_us = 20000"
    "$app" "$work/with space/s.ini" -o "$work/with space/s.h5" -q 2>"$work/err" &
    job=$!
    # The handlers are in place once the output exists.
    for _ in $(seq 1 300); do [[ -e "$work/with space/s.h5" ]] && break; sleep 0.1; done
    sleep 0.2
    kill -USR1 "$job"
    wait "$job"
    rc=$?
    [[ $rc -eq 3 ]] || fail "stopped run: exit $rc, expected 3"
    cmd=$(sed -n 's/.*to finish the run: //p' "$work/err")
    [[ -n $cmd ]] || fail "no resume command: $(cat "$work/err")"
    eval "set -- $cmd" || fail "resume command does not parse: $cmd"
    # Started without a launcher: the command starts with the program.
    [[ $1 == "$app" && $2 == "$work/with space/s.ini" ]] || fail "resume command words: $cmd"
    "$@" -q >/dev/null 2>&1
    [[ $? -eq 0 ]] || fail "the printed resume command did not finish the run: $cmd"
    # Ctrl-C to mpirun reaches the ranks as SIGTERM: the message says so.
    env -u OMPI_MCA_odls_base_sigkill_timeout setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" \
        "${preflags[@]}" "$app" "${postflags[@]}" "$work/with space/s.ini" -o "$work/int.h5" \
        -q 2>"$work/int.err" &
    job=$!
    for _ in $(seq 1 100); do [[ -e $work/int.h5 ]] && break; sleep 0.1; done
    sleep 0.5
    kill -INT "$job"
    wait "$job"
    grep -q "interrupted by SIGTERM (mpirun sends it for a Ctrl-C" "$work/int.err" ||
        fail "Ctrl-C to mpirun: $(grep shoal: "$work/int.err")"
    ;;

stop_one)
    # SIGUSR1 to ONE rank's pid (not to mpirun, which forwards it to all):
    # the master tells every rank, each stops after its current task, and the
    # run ends gracefully with 3 well within the grace period, whichever rank
    # was signalled. Ranges are long (target_range_seconds), so a rank that
    # went on with its range would start many more tasks. No task is lost:
    # --resume finishes to the reference.
    ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
    # No timing is asserted (a loaded or sanitized run is slow to exit):
    # without the stop reaching every rank, the unsignalled ranks run on
    # through their long ranges, start more than 3 tasks each and the grace
    # period runs out.
    printf '[run]\ntasks = 150\nseed = 5\ntarget_range_seconds = 1000\ngrace_seconds = 20\n' >"$work/c.ini"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/ref.h5" -q
    for target in 0 $((np - 1)); do
        out=$work/t$target.h5
        mkdir -p "$work/pid$target" "$work/trace$target"
        SHOAL_TEST_SPIN_US=500000 SHOAL_TEST_PID_DIR=$work/pid$target SHOAL_TEST_TRACE_DIR=$work/trace$target \
            "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" \
            "$work/c.ini" -o "$out" 2>"$work/t$target.err" &
        pid=$!
        # Every rank 3 tasks in: past the first one-task ranges.
        lines() { wc -l <"$work/trace$target/trace.$(cat "$work/pid$target/rank.$1")" 2>/dev/null || echo 0; }
        for _ in $(seq 1 600); do
            sleep 0.1
            ready=1
            for ((r = 0; r < np; r++)); do
                [[ -s $work/pid$target/rank.$r && $(lines $r) -ge 3 ]] || ready=0
            done
            [[ $ready -eq 1 ]] && break
        done
        [[ $ready -eq 1 ]] || fail "target $target: the ranks did not get going"
        declare -a before=()
        for ((r = 0; r < np; r++)); do before[r]=$(lines $r); done
        kill -USR1 "$(cat "$work/pid$target/rank.$target")"
        t0=$(ms)
        wait "$pid"
        rc=$?
        took=$(($(ms) - t0))
        echo "signal to rank $target: exit $rc after $took ms; tasks started per rank before: ${before[*]}"
        [[ $rc -eq 3 ]] || fail "signal to rank $target: exit $rc, expected 3: $(grep shoal "$work/t$target.err")"
        ! grep -q "grace period over" "$work/t$target.err" || fail "signal to rank $target: the grace period ran out"
        grep -q "interrupted by SIGUSR1" "$work/t$target.err" ||
            fail "signal to rank $target: rank 0 does not report SIGUSR1: $(grep shoal "$work/t$target.err")"
        for ((r = 0; r < np; r++)); do
            started=$(($(lines $r) - before[r]))
            [[ $started -le 3 ]] || fail "signal to rank $target: rank $r started $started tasks after the signal"
        done
        [[ ! -e $out.lock ]] || fail "signal to rank $target: lock left behind"
        counts=$("$check" counts "$out") || fail "signal to rank $target: file unreadable"
        [[ $counts == *" failed=0" && $counts != "pending=0 "* ]] || fail "signal to rank $target: counts $counts"
        "$check" subset "$out" "$work/ref.h5" || fail "signal to rank $target: a done row differs"
        expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$out" --resume -q
        for obj in /results /tasks/status; do
            h5diff "$work/ref.h5" "$out" "$obj" || fail "signal to rank $target: resumed file differs in $obj"
        done
    done
    ;;

stop_grace)
    # Tasks longer than the grace period: SIGUSR1 to rank 0 alone. Its grace
    # runs out in the middle of a task: the run stops at once with 3, rank 0
    # removes the output's lock on the way out (the rerun finds no stale
    # lock), the file holds only correct rows and --resume finishes it.
    ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
    printf '[run]\ntasks = 40\nseed = 5\ngrace_seconds = 1\n' >"$work/c.ini"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/ref.h5" -q
    start_slow "$work/pid" "$work/out.h5" "$work/err"
    kill -USR1 "$(cat "$work/pid/rank.0")"
    t0=$(ms)
    wait "$pid"
    rc=$?
    took=$(($(ms) - t0))
    echo "grace expiry: exit $rc after $took ms"
    [[ $rc -eq 3 ]] || fail "exit $rc, expected 3: $(grep shoal "$work/err")"
    grep -q "grace period over" "$work/err" || fail "no grace message: $(grep shoal "$work/err")"
    # Not a timing test: the message above proves the way out; this bound
    # only catches a run that went on through its 5-second tasks.
    [[ $took -lt 30000 ]] || fail "took $took ms with a grace period of 1 s"
    [[ ! -e $work/out.h5.lock ]] || fail "the grace expiry left the lock: $(cat "$work/out.h5.lock")"
    "$check" subset "$work/out.h5" "$work/ref.h5" || fail "a done row differs"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" --resume -q 2>"$work/err2"
    ! grep -q "stale lock" "$work/err2" || fail "rerun found a stale lock: $(cat "$work/err2")"
    h5diff "$work/ref.h5" "$work/out.h5" /results || fail "resumed file differs"
    ;;

stop_twice)
    # A second signal more than a second after the first stops at once with
    # 3, in the middle of long tasks, whether it reaches every rank (through
    # mpirun) or rank 0 alone; rank 0 removes the lock on the way out (so
    # the rerun finds no stale lock), and --resume finishes the file.
    ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
    printf '[run]\ntasks = 40\nseed = 5\ngrace_seconds = 60\n' >"$work/c.ini"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/ref.h5" -q
    for to in mpirun rank0; do
        out=$work/$to.h5
        start_slow "$work/pid-$to" "$out" "$work/$to.err"
        whom=$pid
        [[ $to == rank0 ]] && whom=$(cat "$work/pid-$to/rank.0")
        kill -USR1 "$whom"
        sleep 1.5
        kill -USR1 "$whom"
        t0=$(ms)
        wait "$pid"
        rc=$?
        took=$(($(ms) - t0))
        echo "second signal to $to: exit $rc after $took ms"
        [[ $rc -eq 3 ]] || fail "second signal to $to: exit $rc, expected 3: $(grep shoal "$work/$to.err")"
        grep -q "second signal" "$work/$to.err" || fail "second signal to $to: no message"
        # The message proves the way out; this bound only catches a run
        # that went on through its 5-second tasks.
        [[ $took -lt 30000 ]] || fail "second signal to $to: took $took ms to stop"
        if [[ $to == rank0 ]]; then
            [[ ! -e $out.lock ]] || fail "the second signal left the lock: $(cat "$out.lock")"
        fi
        "$check" subset "$out" "$work/ref.h5" || fail "second signal to $to: a done row differs"
        expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$out" --resume -q 2>"$work/$to.err2"
        if [[ $to == rank0 ]]; then
            ! grep -q "stale lock" "$work/$to.err2" || fail "rerun found a stale lock: $(cat "$work/$to.err2")"
        fi
        h5diff "$work/ref.h5" "$out" /results || fail "second signal to $to: resumed file differs"
    done
    ;;

crash_lock)
    # Rank 0 crashing in a task removes the output's lock on its way down:
    # the rerun is not refused and finds no stale lock.
    write_config "$work/c.ini" 50 "crash_at = 7"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q >/dev/null 2>&1
    rc=$?
    [[ $rc -ne 0 && $rc -ne 2 ]] || fail "crash: exit $rc"
    grep -q "^task 7 signal 11$" "$work/out.h5.crashes" || fail "crash not logged"
    [[ ! -e $work/out.h5.lock ]] || fail "the crash left the lock: $(cat "$work/out.h5.lock")"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" -q --resume >/dev/null 2>"$work/err2"
    rc=$?
    [[ $rc -ne 2 ]] || fail "rerun refused: $(cat "$work/err2")"
    ! grep -q "stale lock" "$work/err2" || fail "rerun found a stale lock: $(cat "$work/err2")"
    ;;

lock_host)
    # A lock naming another host is a lease: refreshed by its run, taken over
    # with a warning once older than the lease it names; a fresh one refuses
    # with 2 and says who holds it and what to do; one without a lease (an
    # older Shoal, which never refreshes it) is never taken over.
    write_config "$work/c.ini" 20
    lock=$work/out.h5.lock
    printf 'host elsewhere.example\npid 4242\nstarted 2024-05-01T10:00:00Z\nslurm_job 777\nlease 60\n' >"$lock"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" 2>"$work/err1"
    rc=$?
    [[ $rc -eq 2 ]] || fail "fresh lock of another host: exit $rc, expected 2"
    for want in elsewhere.example "pid 4242" "SLURM job 777" "delete"; do
        grep -q "$want" "$work/err1" || fail "refusal lacks '$want': $(cat "$work/err1")"
    done
    [[ ! -e $work/out.h5 ]] || fail "refused run created the output"
    [[ -e $lock ]] || fail "refused run removed the other host's lock"
    touch -d '-10 minutes' "$lock"
    expect_rc 0 mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" 2>"$work/err2" >/dev/null
    grep -q "taking over.*elsewhere.example" "$work/err2" || fail "no take-over warning: $(cat "$work/err2")"
    [[ ! -e $lock ]] || fail "lock left after the run"
    printf 'host elsewhere.example\npid 4242\nstarted 2024-05-01T10:00:00Z\n' >"$work/out2.h5.lock"
    touch -d '-10 minutes' "$work/out2.h5.lock"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out2.h5" 2>"$work/err3"
    rc=$?
    [[ $rc -eq 2 ]] || fail "lock of another host without a lease: exit $rc, expected 2"
    grep -q "elsewhere.example" "$work/err3" || fail "refusal lacks the host: $(cat "$work/err3")"
    ;;

lock_special)
    # A lock path that is a symbolic link (here to /dev/zero) or a FIFO is
    # refused at once with 2, instead of hanging on its read.
    write_config "$work/c.ini" 20
    ln -s /dev/zero "$work/a.h5.lock"
    mkfifo "$work/b.h5.lock"
    for out in a b; do
        timeout 60 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" \
            "$work/c.ini" -o "$work/$out.h5" 2>"$work/$out.err"
        rc=$?
        [[ $rc -eq 2 ]] || fail "$out: exit $rc, expected 2 (124: hung): $(cat "$work/$out.err")"
        grep -q "not a regular file" "$work/$out.err" || fail "$out: message: $(cat "$work/$out.err")"
        [[ ! -e $work/$out.h5 ]] || fail "$out: output created"
    done
    ;;

misuse)
    # Tasks that misuse the task API (unknown or NULL parameter name, wrong
    # type, bad output field) fail with the library's message and code, in
    # /tasks/error and /failures; the run goes on, every other task is done
    # with the results of a clean run, the exit status is 1, and nothing
    # crashes (under SHOAL_SANITIZE, ASan/UBSan stay quiet). Every 5th task
    # misuses the API, taking the kinds below in turn, each kind twice.
    need_h5py
    kinds=("unknown_param|-12|unknown parameter 'nope'"
        "null_param|-1|parameter name is NULL"
        "wrong_type|-13|parameter 'label' is not an integer"
        "wrong_type_float|-13|parameter 'x' is not an integer"
        "wrong_type_string|-13|parameter 'sleep_us' is not a string"
        "bad_field|-1|output field 99 does not exist"
        "negative_field|-1|output field -1 does not exist"
        "wrong_field_type|-13|output field 'u' is not int64"
        "wrong_out_type|-13|output field 'k' is not float64")
    list=$(for k in "${kinds[@]}"; do printf '%s,' "${k%%|*}"; done)
    ntasks=$((10 * ${#kinds[@]}))
    write_config "$work/ref.ini" "$ntasks"
    expect_rc 0 mpirun_n "$np" "$app" "$work/ref.ini" -o "$work/ref.h5" -q
    write_config "$work/c.ini" "$ntasks" "misuse = ${list%,}" "misuse_every = 5"
    mpirun_n "$np" "$app" "$work/c.ini" -o "$work/out.h5" >"$work/out.txt" 2>"$work/err.txt"
    rc=$?
    [[ $rc -eq 1 ]] || fail "exit $rc, expected 1: $(grep -m5 shoal "$work/err.txt")"
    ! grep -q "AddressSanitizer\|runtime error:" "$work/err.txt" ||
        fail "sanitizer report: $(grep -m3 "AddressSanitizer\|runtime error:" "$work/err.txt")"
    "$check" subset "$work/out.h5" "$work/ref.h5" || fail "a done row differs from a clean run"
    grep -qF "task 4: error -12 after 1 attempt: unknown parameter 'nope'" "$work/out.txt" ||
        fail "summary lacks the first failure: $(cat "$work/out.txt")"
    "$SHOAL_PYTHON" - "$work/out.h5" "$work/err.txt" "$np" "${kinds[@]}" <<'PY' || fail "misused tasks not recorded as they should"
import re, sys, h5py, numpy as np
path, err, nranks = sys.argv[1], sys.argv[2], int(sys.argv[3])
kinds = [k.split("|", 2) for k in sys.argv[4:]]
def want(task):  # (kind, code, message) of a misusing task
    how, code, msg = kinds[(task // 5) % len(kinds)]
    return how, int(code), msg
with h5py.File(path, "r") as f:
    n = f.attrs["ntasks"]
    bad = np.arange(n) % 5 == 4
    st, er = f["tasks/status"][:], f["tasks/error"][:]
    assert (st[~bad] == 1).all() and (er[~bad] == 0).all(), np.nonzero(st[~bad] != 1)
    assert (st[bad] == 2).all(), st[bad]
    for t in np.nonzero(bad)[0]:
        assert er[t] == want(t)[1], (t, want(t), er[t])
    fl = f["failures"]
    used = fl["task"][:] >= 0
    task = fl["task"][:][used]
    assert sorted(task) == list(np.nonzero(bad)[0]), task
    rank = fl["rank"][:][used]
    assert ((rank >= 0) & (rank < nranks)).all(), rank
    assert np.array_equal(rank, f["tasks/rank"][:][task]), (rank, f["tasks/rank"][:][task])
    for t, e, a, m in zip(task, fl["error"][:][used], fl["attempts"][:][used],
                          fl["message"][:][used]):
        how, code, msg = want(t)
        assert (e, a, m.decode()) == (code, 1, msg), (t, how, e, a, m)
    assert f.attrs["tasks_done"] == n - bad.sum() and f.attrs["tasks_failed"] == bad.sum()
# The failures the ranks show on stderr carry the same messages.
shown = re.findall(r"task (\d+) failed \(code (-?\d+), 1 attempt\): (.*)", open(err).read())
assert shown, "no failure shown on stderr"
for t, code, msg in shown:
    assert (int(code), msg) == want(int(t))[1:], (t, code, msg, want(int(t)))
print(len(task), "misusing tasks failed as they should;", len(shown), "shown on stderr")
PY
    # Retried, a misuse fails every attempt with the same message.
    write_config "$work/r.ini" 40 "misuse = unknown_param" "misuse_every = 5"
    mpirun_n "$np" "$app" "$work/r.ini" -o "$work/retried.h5" --set run.retries=2 \
        >"$work/retried.txt" 2>/dev/null
    rc=$?
    [[ $rc -eq 1 ]] || fail "retried misuse: exit $rc, expected 1"
    "$check" failures "$work/retried.h5" 5 -12 || fail "retried misuse: statuses or error codes wrong"
    grep -qF "task 4: error -12 after 3 attempts: unknown parameter 'nope'" "$work/retried.txt" ||
        fail "retried misuse: summary: $(cat "$work/retried.txt")"
    ;;

mc_pi_rng)
    # mc_pi with a GSL generator (mt19937, ranlxd2), or philox4x32 (the
    # default before 53-bit doubles), and master_works = false: bit-identical
    # /results at every rank count from 1 to N, other numbers than the
    # default philox4x64 (and than each other), and at 2+ ranks rank 0 only
    # serves: it runs no task.
    need_h5py
    pi=("$SHOAL_SRC/configs/mc_pi.ini" -q --set mc_pi.samples=20000 --set run.tasks=60)
    expect_rc 0 mpirun_n "$np" "$mc_pi" "${pi[@]}" -o "$work/philox.h5" --set run.master_works=false
    for rng in mt19937 ranlxd2 philox4x32; do
        for ((n = 1; n <= np; n++)); do
            expect_rc 0 mpirun_n "$n" "$mc_pi" "${pi[@]}" -o "$work/$rng-$n.h5" \
                --set run.master_works=false --set run.rng=$rng
            for obj in /results /tasks/status; do
                h5diff "$work/$rng-1.h5" "$work/$rng-$n.h5" "$obj" ||
                    fail "$rng, master_works=false: $obj differs between 1 and $n ranks"
            done
        done
        # The master working or not changes who runs a task, not its result.
        expect_rc 0 mpirun_n "$np" "$mc_pi" "${pi[@]}" -o "$work/$rng-works.h5" --set run.rng=$rng
        h5diff "$work/$rng-1.h5" "$work/$rng-works.h5" /results ||
            fail "$rng: master_works=true gives other results than false"
        if h5diff -q "$work/philox.h5" "$work/$rng-1.h5" /results/hits >/dev/null 2>&1; then
            fail "$rng gave the same hits as philox4x64: the generator is not used"
        fi
        "$SHOAL_PYTHON" - "$work" "$rng" "$np" <<'PY' || fail "$rng: file checks failed"
import sys, h5py, numpy as np
work, rng, np_max = sys.argv[1], sys.argv[2], int(sys.argv[3])
for n in range(1, np_max + 1):
    with h5py.File(f"{work}/{rng}-{n}.h5", "r") as f:
        assert f.attrs["rng"] == rng, (n, f.attrs["rng"])
        assert f.attrs["nranks"] == n and f.attrs["tasks_done"] == 60
        per = f["ranks/tasks"][:]
        ran = f["tasks/rank"][:]
        assert per.sum() == 60 and len(per) == n, per
        if n == 1:
            assert per[0] == 60, per  # alone, the master works anyway
        else:
            assert per[0] == 0, f"{n} ranks: rank 0 ran {per[0]} tasks: {per}"
            assert (ran != 0).all(), ran
        hits = f["results/hits"][:]
        assert ((hits > 0.70 * 20000) & (hits < 0.87 * 20000)).all(), hits
    print(f"{rng} at {n} ranks: /ranks/tasks = {list(per)}")
PY
    done
    if h5diff -q "$work/mt19937-1.h5" "$work/ranlxd2-1.h5" /results/hits >/dev/null 2>&1; then
        fail "mt19937 and ranlxd2 gave the same hits"
    fi
    ;;

*)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac

case_passed
