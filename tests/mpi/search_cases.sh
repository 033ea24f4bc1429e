#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for searches ([search]: successive halving over a scan's
# configurations; lib/src/search.h), checked by check_search.py.
#
#   search_cases.sh CASE NRANKS
#
# test_app stands in for a model: its budget is the parameter x (echoed as
# x2, so the file shows each task ran its rung's budget), its
# configurations the scan's sleep_us values, its objective the watched
# uniform u; every 7th task fails (so the runs exit 1).
# Cases: search_identical (halving at NRANKS against 1 rank: the same
# decisions and results; the rungs recomputed from the file; also from 16
# Sobol starts), search_resume
# (stopped by a signal, SIGKILLed, and failing to decide a rung (exit 4),
# each resumed at another rank count: the same as an uninterrupted run),
# search_async (every rung consistent,
# also after a stop and --resume), search_bad (config mistakes exit 2
# before anything is written). No check depends on which rank ran what.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

checker=$SHOAL_SRC/tests/mpi/check_search.py
need_h5py
cd "$work" || fail "cd $work"

cat >s.ini <<'EOF2'
[run]
seed = 11
[test_app]
fail_every = 7
[scan]
sleep_us = range(0, 27)
[search]
method = halving
budget = x
min_budget = 1
max_budget = 9
eta = 3
objective = u
goal = max
EOF2

check() { "$SHOAL_PYTHON" "$checker" "$1" "$2" || fail "$2: the search is wrong"; }
same() {
    local d
    for d in /search/point /search/rung /search/budget /search/rung_best /search/rung_best_point \
        /results/u /results/x2 /tasks/status /params/sleep_us; do
        h5diff -q "$1" "$2" "$d" >/dev/null || fail "$d differs between $1 and $2"
    done
}

case $case_name in
search_identical)
    # --dry-run shows the rungs and runs nothing.
    expect_rc 0 mpirun_n "$np" "$app" s.ini -o dry.h5 --dry-run >dry.txt
    grep -q "search:   halving over 27 configurations, x by rung: 1 (27 tasks), 3 (9 tasks), 9 (3 tasks)" dry.txt ||
        fail "--dry-run does not show the rungs: $(cat dry.txt)"
    [[ ! -e dry.h5 ]] || fail "--dry-run wrote a file"
    expect_rc 1 mpirun_n 1 "$app" s.ini -o ref.h5 -q
    check halving ref.h5
    expect_rc 1 mpirun_n "$np" "$app" s.ini -o out.h5 -q
    check halving out.h5
    same ref.h5 out.h5
    # Quasi-random starts: 16 Sobol configurations of the scan's space.
    sed 's/^sleep_us = range(0, 27)$/sleep_us = range(0, 1000)\nlabel = ab, cde, f/' s.ini >q.ini
    printf '[sampling]\ndesign = sobol\nsamples = 16\n' >>q.ini
    expect_rc 1 mpirun_n 1 "$app" q.ini -o qref.h5 -q
    expect_rc 1 mpirun_n "$np" "$app" q.ini -o q.h5 -q
    check sampled q.h5
    same qref.h5 q.h5
    h5diff -q qref.h5 q.h5 /params/label >/dev/null || fail "/params/label differs"
    ;;
search_resume)
    other=$((np == 1 ? 2 : 1))
    expect_rc 1 mpirun_n 1 "$app" s.ini -o ref.h5 -q
    # A signal at task 30 (rung 1), then --resume at another rank count.
    SHOAL_TEST_STOP_AT=30 expect_rc 3 mpirun_n "$np" "$app" s.ini -o sig.h5 -q
    expect_rc 1 mpirun_n "$other" "$app" s.ini -o sig.h5 -q --resume
    check halving sig.h5
    same ref.h5 sig.h5
    # SIGKILL of the whole job mid-run, then --resume. Rung 1's tasks from
    # index 30 on never finish, so the kill finds the run mid-way (a run of
    # 20 ms tasks could end before a slow poll saw it).
    SHOAL_TEST_SPIN_US=20000 SHOAL_TEST_HANG_FROM=30 setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" \
        "$app" "${postflags[@]}" s.ini -o kill.h5 -q &
    pid=$!
    for _ in $(seq 1 200); do
        sleep 0.05
        [[ -f kill.h5 ]] || continue
        out=$("$check" counts kill.h5 2>/dev/null) || continue
        d=${out#*done=}
        [[ ${d%% *} -ge 15 ]] && break
    done
    pkill -KILL -s "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
    out=$("$check" counts kill.h5) || fail "the killed run's file is unreadable"
    [[ $out == "pending=0 "* ]] && fail "the run ended before the kill; the test needs longer tasks"
    expect_rc 1 mpirun_n "$other" "$app" s.ini -o kill.h5 -q --resume
    check halving kill.h5
    same ref.h5 kill.h5
    # The search fails to decide a rung: exit 4, a valid file that resumes.
    SHOAL_TEST_FAIL_AT=search_promote expect_rc 4 mpirun_n "$np" "$app" s.ini -o fault.h5 2>fault.txt
    grep -q "the search could not decide rung 1" fault.txt || fail "no message: $(cat fault.txt)"
    expect_rc 1 mpirun_n "$other" "$app" s.ini -o fault.h5 -q --resume
    same ref.h5 fault.h5
    ;;
search_async)
    sed -i 's/^method = halving/method = async_halving/' s.ini
    expect_rc 1 mpirun_n "$np" "$app" s.ini -o a.h5 -q
    check async a.h5
    SHOAL_TEST_STOP_AT=20 expect_rc 3 mpirun_n "$np" "$app" s.ini -o b.h5 -q
    expect_rc 1 mpirun_n 1 "$app" s.ini -o b.h5 -q --resume
    check async b.h5
    ;;
search_bad)
    s='[search]\nbudget = x\nmin_budget = 1\nmax_budget = 9\nobjective = u\n'
    check_bad "[run]\ntasks = 5\n$s" "[search] needs a [scan] section"
    check_bad "[scan]\nsleep_us = 1, 2\n${s}method = bisect\n" "method = 'bisect' is not known"
    check_bad "[scan]\nsleep_us = 1, 2\n${s/budget = x/budget = nope}" "budget = 'nope' is not a numeric parameter"
    check_bad "[scan]\nsleep_us = 1, 2\n${s/budget = x/budget = label}" "budget = 'label' is not a numeric parameter"
    check_bad "[scan]\nx = 1, 2\n$s" "budget = 'x' is also in [scan]"
    check_bad "[scan]\nsleep_us = 1, 2\n${s/objective = u/objective = x2}" "objective = 'x2' is not a watched output"
    check_bad "[scan]\nsleep_us = 1, 2\n${s/max_budget = 9/max_budget = 0.5}" "max_budget = 0.5 is below min_budget"
    check_bad "[scan]\nsleep_us = 1, 2\n[sampling]\nreplicates = 2\n$s" "with 2 replicates per point"
    check_bad "[scan]\nsleep_us = 1, 2\n${s}goal = up\n" "goal = 'up': use max or min"
    check_bad "[scan]\nsleep_us = 1, 2\n${s}eta = 1\n" "eta"
    check_bad "[scan]\nsleep_us = 1, 2\n${s}typo = 1\n" "typo"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
case_passed
