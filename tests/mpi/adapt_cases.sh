#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for runs that their results end ([run] stop_when, the app's
# watch hook; lib/src/adapt.h), checked by check_adapt.py.
#
#   adapt_cases.sh CASE NRANKS
#
# Cases: adapt_identical (stop_when at NRANKS against 1 rank: the same
# tasks used, the same results; the decision recomputed from the file),
# adapt_resume (stopped by a signal, then SIGKILLed, each resumed at another
# rank count: the same as an uninterrupted run; a finished run resumed runs
# nothing), adapt_hook (the hook stops at a block end at any rank count; a
# failing hook exits 4 with a file that resumes), adapt_mc_pi (the example
# config against the exact value), adapt_exec (shoal-exec with a watched
# output: the same decision at 1 and NRANKS ranks), adapt_bad (config mistakes exit 2 before
# anything is written). No check depends on which rank ran which task or on
# how many tasks ran beyond the decision.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

checker=$SHOAL_SRC/tests/mpi/check_adapt.py
need_h5py
cd "$work" || fail "cd $work"

# sem(u) of uniforms is 0.2887 / sqrt(n): below 0.012 after ~580 done
# tasks; every 13th task fails (no value; so the runs exit 1), task i is
# busy (i % 7) * sleep_us.
cat >c.ini <<'EOF2'
[run]
tasks = 5000
seed = 987654321
stop_when = sem(u) < 0.012
check_every = 37
[test_app]
fail_every = 13
sleep_us = 100
EOF2

verify() { "$SHOAL_PYTHON" "$checker" verify "$1" u 0.012 37 || fail "$1: the decision is wrong"; }
same() { "$SHOAL_PYTHON" "$checker" same "$1" "$2" || fail "$1 and $2 differ"; }

case $case_name in
adapt_identical)
    expect_rc 1 mpirun_n 1 "$app" c.ini -o ref.h5 -q
    verify ref.h5
    expect_rc 1 mpirun_n "$np" "$app" c.ini -o out.h5 >out.txt
    verify out.h5
    same ref.h5 out.h5
    grep -q "stop_when met after" out.txt || fail "the summary does not say why the run stopped: $(cat out.txt)"
    # With no stop_when the same app runs every task (watching costs nothing).
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o all.h5 -q --set run.stop_when=none \
        --set run.tasks=300 --set test_app.fail_every=0
    out=$("$check" counts all.h5) || fail "all.h5 unreadable"
    [[ $out == "pending=0 done=300 failed=0"* ]] || fail "without stop_when: $out"
    "$SHOAL_PYTHON" -c "import h5py,sys; f=h5py.File('all.h5','r'); sys.exit('tasks_used' in f.attrs)" ||
        fail "a run without stop_when has tasks_used"
    ;;
adapt_resume)
    other=$((np == 1 ? 2 : 1))
    expect_rc 1 mpirun_n 1 "$app" c.ini -o ref.h5 -q
    # A signal at task 200, then --resume at another rank count.
    SHOAL_TEST_STOP_AT=200 expect_rc 3 mpirun_n "$np" "$app" c.ini -o sig.h5 -q
    "$SHOAL_PYTHON" -c "import h5py,sys; sys.exit('tasks_used' in h5py.File('sig.h5','r').attrs)" ||
        fail "an interrupted run has decided"
    expect_rc 1 mpirun_n "$other" "$app" c.ini -o sig.h5 -q --resume
    same ref.h5 sig.h5
    # It stopped near the decision (~670 tasks), not at the 5000 most.
    out=$("$check" counts sig.h5) || fail "sig.h5 unreadable"
    p=${out#pending=}
    [[ ${p%% *} -ge 4000 ]] || fail "the resumed run went on past its decision: $out"
    # SIGKILL of the whole job mid-run (slower tasks), then --resume. Tasks
    # from index 300 on never finish (the decision needs ~580), so the kill
    # finds the run mid-way however slowly the poll below runs.
    SHOAL_TEST_HANG_FROM=300 setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" \
        c.ini -o kill.h5 -q --set test_app.sleep_us=1500 &
    pid=$!
    for _ in $(seq 1 200); do
        sleep 0.1
        [[ -f kill.h5 ]] || continue
        out=$("$check" counts kill.h5 2>/dev/null) || continue
        d=${out#*done=}
        [[ ${d%% *} -ge 100 ]] && break
    done
    pkill -KILL -s "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
    out=$("$check" counts kill.h5) || fail "the killed run's file is unreadable"
    [[ $out != *"done=0 "* ]] || fail "nothing was done before the kill: $out"
    "$SHOAL_PYTHON" -c "import h5py,sys; sys.exit('tasks_used' in h5py.File('kill.h5','r').attrs)" ||
        fail "the run ended before the kill; the test needs longer tasks"
    # sleep_us changes the fingerprint (not the results): resume with it.
    expect_rc 1 mpirun_n "$other" "$app" c.ini -o kill.h5 -q --resume --set test_app.sleep_us=1500
    same ref.h5 kill.h5
    out=$("$check" counts kill.h5) || fail "kill.h5 unreadable"
    p=${out#pending=}
    [[ ${p%% *} -ge 4000 ]] || fail "the resumed run went on past its decision: $out"
    # A finished run resumed: its results have decided; nothing runs.
    cp kill.h5 before.h5
    expect_rc 1 mpirun_n "$np" "$app" c.ini -o kill.h5 --resume --set test_app.sleep_us=1500 >again.txt 2>&1
    grep -q "already end the run" again.txt || fail "a decided file resumed: $(cat again.txt)"
    grep -q "^test_app: 0 tasks" again.txt || fail "a decided file ran tasks again: $(cat again.txt)"
    same before.h5 kill.h5
    ;;
adapt_hook)
    # The hook asks to stop at task 250; the block of 100 ends at 300.
    cat >h.ini <<'EOF2'
[run]
tasks = 2000
seed = 5
check_every = 100
[test_app]
fail_every = 9
sleep_us = 50
EOF2
    SHOAL_TEST_WATCH=stop:250 expect_rc 1 mpirun_n 1 "$app" h.ini -o ref.h5 -q
    SHOAL_TEST_WATCH=stop:250 expect_rc 1 mpirun_n "$np" "$app" h.ini -o out.h5 >out.txt 2>&1
    grep -q "watch hook asked to stop at task 250" out.txt || fail "no reason: $(cat out.txt)"
    same ref.h5 out.h5
    "$SHOAL_PYTHON" -c "import h5py,sys; sys.exit(int(h5py.File('out.h5','r').attrs['tasks_used']) != 300)" ||
        fail "the hook's stop did not end the run at the block end 300"
    # A failing hook: exit 4, the file resumes (to the same end).
    SHOAL_TEST_WATCH=fail:120 expect_rc 4 mpirun_n "$np" "$app" h.ini -o bad.h5 2>bad.txt
    grep -q "watch hook failed" bad.txt || fail "no message for the failing hook: $(cat bad.txt)"
    SHOAL_TEST_WATCH=stop:250 expect_rc 1 mpirun_n "$np" "$app" h.ini -o bad.h5 -q --resume
    same ref.h5 bad.h5
    ;;
adapt_mc_pi)
    # The example: stop once sem(pi) < 2e-4, against the exact value.
    expect_rc 0 mpirun_n "$np" "$mc_pi" "$SHOAL_SRC/configs/mc_pi_adaptive.ini" -o pi.h5 >pi.txt
    "$SHOAL_PYTHON" "$checker" verify pi.h5 pi 2e-4 50 || fail "mc_pi's decision is wrong"
    "$SHOAL_PYTHON" - pi.h5 <<'PY' || fail "mc_pi's adaptive estimate is wrong"
import math, sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    used = int(f.attrs["tasks_used"])
    pi = f["results/pi"][:used]
    hits, samples = int(f["reduce/hits"][()]), int(f["reduce/samples"][()])
    assert samples == used * 100000, (samples, used)
    assert hits == int(f["results/hits"][:used].sum())
    sem = pi.std(ddof=1) / math.sqrt(used)
    assert sem < 2e-4 and abs(pi.mean() - math.pi) < 5 * sem, (pi.mean(), sem)
    assert abs(f["reduce/pi"][()][0] - pi.mean()) < 1e-12 if np.ndim(f["reduce/pi"][()]) else True
print("mc_pi adaptive: within 5 standard errors of pi")
PY
    grep -q "stop_when met after" pi.txt || fail "mc_pi's summary: $(cat pi.txt)"
    ;;
adapt_exec)
    # Any program as the task: shoal-exec's [outputs] "watch" word.
    cat >e.ini <<EOF2
[run]
tasks = 400
seed = 7
stop_when = sem(pi) < 0.005
check_every = 10
[command]
argv = python3 $SHOAL_SRC/apps/exec_examples/pi.py --samples 2000 --seed {seed}
[outputs]
pi = float64 mean watch
hits = int64 sum
EOF2
    exec=$SHOAL_BUILD/apps/shoal_exec/shoal-exec
    expect_rc 0 mpirun_n "$np" "$exec" e.ini -o e.h5 -q
    expect_rc 0 mpirun_n 1 "$exec" e.ini -o e1.h5 -q
    "$SHOAL_PYTHON" "$checker" verify e.h5 pi 0.005 10 || fail "shoal-exec's decision is wrong"
    "$SHOAL_PYTHON" "$checker" same e.h5 e1.h5 pi hits || fail "shoal-exec: 1 rank and $np differ"
    # Only a scalar can be watched.
    sed 's/^pi = float64 mean watch$/pi = float64[2] watch/' e.ini >bad.ini
    expect_rc 2 mpirun_n 1 "$exec" bad.ini -o bad.h5 2>bad.txt
    grep -q "bad.ini:9: .*only a scalar (int64 or float64, no shape) can be watched" bad.txt ||
        fail "no clear message for a watched array: $(cat bad.txt)"
    [[ ! -e bad.h5 ]] || fail "a bad [outputs] line still wrote the output"
    ;;
adapt_bad)
    base='[run]\ntasks = 100\n'
    check_bad "${base}stop_when = sem(nope) < 1\n" "'nope' is not an output field of test_app"
    check_bad "${base}stop_when = sem(x2) < 1\n" "output field 'x2' is not watched"
    check_bad "${base}stop_when = sem(u) <\n" "expected a finite number after '<'"
    check_bad "${base}stop_when = median(u) < 1\n" "expected a statistic"
    check_bad "${base}stop_when = sem(u) ! 1\n" "expected <, <=, > or >="
    check_bad "${base}stop_when = sem(u) < 1 and\n" "a condition must follow 'and'"
    check_bad "${base}stop_when = sem(u) < 1 but count(u) > 3\n" "expected 'and', 'or' or the end"
    check_bad "${base}stop_when = sem(u < 1\n" "expected a field name and ')'"
    check_bad "${base}stop_when = sem(u) < nan\n" "expected a finite number"
    check_bad "${base}stop_when =\n" "stop_when is empty"
    check_bad "[run]\ntasks = 0\nstop_when = sem(u) < 1\n" "tasks"
    check_bad "${base}stop_when = sem(u) < 1\ncheck_every = 0\n" "check_every"
    check_bad "[run]\nstop_when = sem(u) < 1\n[scan]\nx = 1, 2\n" "not with a [scan] section"
    # The message names the file and line.
    check_bad "${base}seed = 3\nstop_when = mean(g) > 1 or sem(z) < 2\n" "bad$((i + 1)).ini:4"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
case_passed
