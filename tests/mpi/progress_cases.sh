#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for watching a run: the progress reporter on rank 0 and
# --continue (start or resume).
#
#   progress_cases.sh CASE NRANKS
#
# Cases: progress (log lines at an interval with counts that only grow and
# end at the file's totals, the failures counted, the live line's redraws,
# -q and a short piped run silent; probe tasks still run every task exactly
# once), estimate (--dry-run's run time from tasks timed on rank 0, a
# bound when they are too slow, none for programs), continue (starts a missing output, resumes an existing one, refuses
# another run's file and leaves it as it was), progress_bad (bad options: exit
# 2 with a message). Nothing here depends on which rank ran which task or on
# how long anything took.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$work" || fail "cd $work"

# progress_lines FILE: the log's progress lines, as "finished total failed".
progress_lines() {
    sed -n 's/^shoal: test_app: \([0-9]*\)\/\([0-9]*\) tasks ([0-9.]*%)\(, \([0-9]*\) failed\)\{0,1\} | .* tasks\/s | .* | ETA .*$/\1 \2 \4/p' "$1"
}

case "$case_name" in

progress)
    # 300 tasks of 0..6 ms (mean 3 ms: probes on), every 50th failing.
    write_config c.ini 300 "sleep_us = 1000" "fail_every = 50"
    mkdir trace
    SHOAL_TEST_TRACE_DIR=$work/trace expect_rc 1 mpirun_n "$np" "$app" c.ini -o out.h5 \
        --progress=log --progress-every=0.1 >summary.txt 2>log.txt
    cat trace/trace.* | sort -n >ran.txt
    seq 0 299 | diff -q - ran.txt >/dev/null ||
        fail "with probes, executions differ from 0..299 once each: $(seq 0 299 | diff - ran.txt | head -5 | tr '\n' ' ')"
    progress_lines log.txt >lines.txt
    [[ $(wc -l <lines.txt) -ge 2 ]] || fail "expected progress lines every 0.1 s and at the end: $(cat log.txt)"
    prev=0
    while read -r fin total failed; do
        [[ $total -eq 300 ]] || fail "total $total, expected 300: $(cat log.txt)"
        [[ $fin -ge $prev && $fin -le 300 ]] || fail "finished count went from $prev to $fin: $(cat log.txt)"
        [[ -z $failed || $failed -le 6 ]] || fail "failed $failed > 6: $(cat log.txt)"
        prev=$fin
    done <lines.txt
    [[ $(tail -n 1 lines.txt) == "300 300 6" ]] ||
        fail "last progress line is not '300/300 ..., 6 failed': $(tail -n 3 log.txt)"
    grep -q "^test_app: 300 tasks (294 done, 6 failed)" summary.txt || fail "summary missing: $(cat summary.txt)"

    # A resume of the failed tasks (made 0.2 s each, so that it lasts
    # beyond an interval): the file's counts, this run's rate.
    SHOAL_TEST_SPIN_US=200000 expect_rc 1 mpirun_n "$np" "$app" c.ini -o out.h5 --continue --retry-failed \
        --progress=log --progress-every=0.1 2>log2.txt
    [[ $(progress_lines log2.txt | tail -n 1) == "300 300 6" ]] ||
        fail "resume's last progress line: $(cat log2.txt)"

    # The live line: drawn in place (carriage return, erase), ended by a
    # newline (the summary follows on stdout); --progress=none and -q show
    # nothing.
    expect_rc 1 mpirun_n "$np" "$app" c.ini -o bar.h5 --progress=bar 2>bar.txt
    grep -q $'\r\e\\[Ktest_app: 300/300 tasks (100.0%), 6 failed | .* | ETA 0s$' bar.txt ||
        fail "no final live line: $(od -c bar.txt | tail -5)"
    expect_rc 1 mpirun_n "$np" "$app" c.ini -o none.h5 --progress=none 2>none.txt
    ! grep -q ' tasks/s | ' none.txt || fail "--progress=none printed progress: $(cat none.txt)"
    expect_rc 1 mpirun_n "$np" "$app" c.ini -o quiet.h5 -q --progress=log --progress-every=0.1 2>quiet.txt
    ! grep -q ' tasks/s | ' quiet.txt || fail "-q printed progress: $(cat quiet.txt)"
    # auto, piped, a run shorter than the interval: the summary only.
    expect_rc 1 mpirun_n "$np" "$app" c.ini -o auto.h5 2>auto.txt
    ! grep -q ' tasks/s | ' auto.txt || fail "a short piped run printed progress: $(cat auto.txt)"
    h5diff out.h5 auto.h5 /results || fail "results differ between runs with and without progress"
    ;;

continue)
    write_config c.ini 40 "sleep_us = 10"
    # Missing: --continue starts it.
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o out.h5 --continue -q
    [[ $("$check" counts out.h5) == "pending=0 done=40 failed=0" ]] || fail "not all done: $("$check" counts out.h5)"
    # Existing and complete: resumes, runs nothing, exit 0.
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o out.h5 -c -v 2>again.txt
    grep -q "exists: resuming it" again.txt || fail "--continue did not resume: $(cat again.txt)"
    grep -q "running 0 tasks" again.txt || fail "the resume ran tasks: $(cat again.txt)"
    # Another run's file: refused like --resume, left as it was.
    before=$(sum_of out.h5)
    expect_rc 2 mpirun_n "$np" "$app" c.ini -o out.h5 --continue --set run.seed=5 2>other.txt
    grep -q "cannot resume 'out.h5': it holds a different run" other.txt || fail "no refusal: $(cat other.txt)"
    [[ $(sum_of out.h5) == "$before" ]] || fail "the refused --continue changed the file"
    # Not a Shoal file at all: refused, untouched.
    echo "not hdf5" >plain.h5
    expect_rc 2 mpirun_n "$np" "$app" c.ini -o plain.h5 --continue 2>plain.txt
    [[ $(cat plain.h5) == "not hdf5" ]] || fail "--continue changed a file that is not a result file"
    grep -q "shoal: error" plain.txt || fail "no error for a non-HDF5 output: $(cat plain.txt)"
    ;;

estimate)
    # --dry-run times a few tasks on rank 0 and says how long the run takes,
    # writing nothing.
    write_config c.ini 200 "sleep_us = 100"
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o out.h5 -n >dry.txt
    grep -q "^  run time: about .* on $np rank.* at full use (.* core-seconds; 16 tasks timed on this rank took .* s each)$" dry.txt ||
        fail "no estimate: $(cat dry.txt)"
    [[ ! -e out.h5 ]] || fail "the dry run wrote the output"
    # A task longer than the sampling time: the bound it knows.
    write_config slow.ini 200 "sleep_us = 10000000"
    expect_rc 0 mpirun_n "$np" "$app" slow.ini -o out.h5 -n >slow.txt
    grep -q "^  run time: not estimated: task 100, timed on this rank, had not finished after 5 s; if tasks are like it, more than .* on $np rank" slow.txt ||
        fail "no bound for slow tasks: $(cat slow.txt)"
    # Tasks that act outside the file are not run at all.
    expect_rc 0 mpirun_n "$np" "$SHOAL_BUILD/apps/shoal_exec/shoal-exec" "$SHOAL_SRC/configs/exec_pi.ini" \
        -o exec.h5 -n >exec.txt
    grep -q "^  run time: not estimated: shoal_exec's tasks act outside the file" exec.txt ||
        fail "shoal-exec's dry run: $(cat exec.txt)"
    [[ ! -e exec.h5 ]] || fail "shoal-exec's dry run wrote the output"
    ;;

progress_bad)
    write_config c.ini 10
    bad() { # bad 'message part' options...
        local want=$1
        shift
        mpirun_n "$np" "$app" c.ini -o out.h5 "$@" >out.txt 2>err.txt
        local rc=$?
        [[ $rc -eq 2 ]] || fail "exit $rc, expected 2 for $*: $(cat err.txt)"
        grep -qF -- "$want" err.txt || fail "message for $* lacks '$want': $(cat err.txt)"
        [[ ! -e out.h5 ]] || fail "$* wrote an output"
    }
    bad "--progress 'fancy': expected auto, bar, log or none" --progress=fancy
    bad "--progress-every '0': expected a number of seconds from 0.1 to 1e7" --progress-every 0
    bad "--progress-every 'soon': expected a number" --progress-every=soon
    bad "option --progress needs a value" --progress
    bad "--continue and --force contradict each other" --continue --force
    bad "--resume and --continue together" --continue -r
    ;;

*)
    fail "unknown case '$case_name'"
    ;;
esac
case_passed
