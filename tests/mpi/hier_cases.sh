#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for sub-masters ([run] group_size, docs/hierarchy.md): groups
# change which rank runs which task and nothing else.
#
#   hier_cases.sh CASE NRANKS
#
# Cases: hier_apps (apps with group_size 1, 2, 3 give results, status and
# errors bit-identical to the flat run, each task run once; runs that must
# stay flat say so with -v), hier_resume (kills mid-run with groups, each
# --resume with another group size, identical to an uninterrupted run, no
# task done before a kill runs again), hier_signal (SIGTERM to a member,
# SIGINT to a sub-master, SIGUSR1 to mpirun: exit 3, resumable, identical),
# hier_bad (bad group_size values: exit 2 with the place and the fix, an
# existing output file untouched). No check depends on which rank ran
# which task.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$work" || fail "cd $work"

# same FILE_A FILE_B WHAT OBJECTS...: bit-identical objects.
same() {
    local a=$1 b=$2 what=$3 obj
    shift 3
    for obj in "$@"; do
        h5diff "$a" "$b" "$obj" >diff.txt 2>&1 || fail "$what: $obj differs: $(head -n 5 diff.txt)"
    done
}

# once TRACEDIR N: the traced executions are tasks 0..N-1, each once.
once() {
    local dir=$1 n=$2 lines uniq
    lines=$(cat "$dir"/trace.* | wc -l)
    uniq=$(cat "$dir"/trace.* | sort -un | wc -l)
    [[ $lines -eq $n && $uniq -eq $n ]] ||
        fail "$dir: $lines executions of $uniq distinct tasks, expected $n of each"
    [[ $(cat "$dir"/trace.* | sort -n | head -n 1) -eq 0 &&
        $(cat "$dir"/trace.* | sort -n | tail -n 1) -eq $((n - 1)) ]] || fail "$dir: tasks beyond 0..$((n - 1))"
}

# done_at FILE: the done count of a result file (0 while unreadable).
done_at() {
    local out d
    out=$("$check" counts "$1" 2>/dev/null) || { echo 0; return; }
    d=${out#*done=}
    echo "${d%% *}"
}

case "$case_name" in

hier_apps)
    write_config c.ini 3001 "sleep_us = 3"
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o flat.h5 -q --set run.group_size=0
    for g in 1 2 3; do
        mkdir -p "trace$g"
        SHOAL_TEST_TRACE_DIR=$work/trace$g expect_rc 0 mpirun_n "$np" "$app" c.ini -o "g$g.h5" -q \
            --set run.group_size=$g
        same flat.h5 "g$g.h5" "test_app, group_size $g at $np ranks" /results /tasks/status /tasks/error
        once "trace$g" 3001
    done
    # Long, few tasks (first ranges of one task): the same.
    write_config l.ini 40 "sleep_us = 20000"
    expect_rc 0 mpirun_n "$np" "$app" l.ini -o lflat.h5 -q
    expect_rc 0 mpirun_n "$np" "$app" l.ini -o lg.h5 -q --set run.group_size=2
    same lflat.h5 lg.h5 "test_app, 40 long tasks, group_size 2" /results /tasks/status
    # Science apps: their results and the printed estimate.
    printf '[run]\ntasks = 24\nseed = 42\n[mc_pi]\nsamples = 20000\n' >pi.ini
    expect_rc 0 mpirun_n "$np" "$mc_pi" pi.ini -o pi0.h5 >pi0.txt
    expect_rc 0 mpirun_n "$np" "$mc_pi" pi.ini -o pi2.h5 --set run.group_size=2 >pi2.txt
    same pi0.h5 pi2.h5 "mc_pi, group_size 2" /results /tasks/status
    a=$(grep "pi = " pi0.txt)
    b=$(grep "pi = " pi2.txt)
    [[ -n $a && $a == "$b" ]] || fail "mc_pi estimates differ: '$a' vs '$b'"
    opt=$SHOAL_BUILD/apps/option_mc/option_mc
    if [[ -x $opt ]]; then
        for g in 0 3; do
            expect_rc 0 mpirun_n "$np" "$opt" "$SHOAL_SRC/configs/option_mc_test.ini" -o "opt$g.h5" -q \
                --set run.tasks=12 --set option_mc.paths=2000 --set run.group_size=$g
        done
        same opt0.h5 opt3.h5 "option_mc, group_size 3" /results /tasks/status
    fi
    # stop_when needs rank 0 range by range: flat, and -v says so.
    expect_rc 0 mpirun_n "$np" "$mc_pi" "$SHOAL_SRC/configs/mc_pi_adaptive.ini" -o ad.h5 -v \
        --set run.group_size=2 >ad.txt 2>ad.err
    grep -q "group_size 2 not used" ad.err || fail "stop_when with group_size: no verbose line: $(cat ad.err)"
    if [[ $np -ge 3 ]]; then
        expect_rc 0 mpirun_n "$np" "$app" c.ini -o v.h5 -v --force --set run.group_size=2 >v.txt 2>v.err
        ! grep -q "not used" v.err || fail "group_size 2 at $np ranks reported unused: $(grep 'not used' v.err)"
    fi
    echo "hier_apps: identical to flat at $np ranks with group_size 1, 2, 3"
    ;;

hier_resume)
    # Three kills of the whole job, each segment with another group size,
    # then a resume with groups of 3: identical to an uninterrupted flat run.
    write_config c.ini 6000 "sleep_us = 1000"
    expect_rc 0 mpirun_n 2 "$app" c.ini -o ref.h5 -q --set test_app.sleep_us=0
    sizes=(2 1 3)
    counts=(500 2000 3500)
    for k in 0 1 2; do
        resume=()
        [[ $k -gt 0 ]] && resume=(--resume)
        mkdir -p "trace$k"
        SHOAL_TEST_TRACE_DIR=$work/trace$k setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" \
            "$app" "${postflags[@]}" c.ini -o run.h5 -q "${resume[@]}" --set run.group_size="${sizes[$k]}" &
        pid=$!
        for _ in $(seq 1 400); do
            sleep 0.05
            [[ $(done_at run.h5) -ge ${counts[$k]} ]] && break
        done
        # The whole session: every rank is in a process group of its own.
        pkill -KILL -s "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
        out=$("$check" counts run.h5) || fail "file unreadable after kill $k"
        echo "kill $((k + 1)) (group_size ${sizes[$k]}): $out"
        [[ $out != "pending=0 "* ]] || fail "segment $k finished before its kill: make it longer"
        "$check" done run.h5 | sort >"done$k.txt"
        "$check" subset run.h5 ref.h5 || fail "after kill $((k + 1)) a done row differs from the reference"
        dups=$(cat "trace$k"/trace.* | sort -n | uniq -d | head -3)
        [[ -z $dups ]] || fail "segment $k (group_size ${sizes[$k]}) ran tasks twice: $dups"
    done
    mkdir -p trace3
    SHOAL_TEST_TRACE_DIR=$work/trace3 expect_rc 0 mpirun_n "$np" "$app" c.ini -o run.h5 --resume -q \
        --set run.group_size=3
    same ref.h5 run.h5 "resumed with groups" /results /tasks/status
    dups=$(cat trace3/trace.* | sort -n | uniq -d | head -3)
    [[ -z $dups ]] || fail "the last segment ran tasks twice: $dups"
    for k in 0 1 2; do
        for j in $(seq $((k + 1)) 3); do cat "trace$j"/trace.* 2>/dev/null; done | sort -u >later.txt
        again=$(comm -12 "done$k.txt" later.txt | head -3)
        [[ -z $again ]] || fail "tasks done before kill $((k + 1)) ran again: $again"
    done
    echo "hier_resume: 3 kills with group sizes 2, 1, 3, identical to the reference"
    ;;

hier_signal)
    # group_size 2 at np ranks: rank 2 is a sub-master, rank 3 its member.
    write_config c.ini 6000 "sleep_us = 1000"
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o ref.h5 -q --set test_app.sleep_us=0
    last=$((np - 1))
    sub=$((np > 2 ? 2 : 0))
    for how in "TERM $last" "INT $sub" "USR1 mpirun"; do
        read -r sig who <<<"$how"
        tag=$sig$who
        mkdir -p "pid$tag"
        SHOAL_TEST_PID_DIR=$work/pid$tag "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" \
            "${postflags[@]}" c.ini -o "$tag.h5" --set run.group_size=2 2>"$tag.err" &
        pid=$!
        for _ in $(seq 1 400); do
            sleep 0.05
            [[ $(find "pid$tag" -name 'rank.*' | wc -l) -eq $np && $(done_at "$tag.h5") -ge 300 ]] && break
        done
        if [[ $who == mpirun ]]; then
            kill -"$sig" "$pid"
        else
            kill -"$sig" "$(cat "pid$tag/rank.$who")" || fail "no pid for rank $who"
        fi
        wait "$pid"
        rc=$?
        [[ $rc -eq 3 ]] || fail "SIG$sig to $who: exit $rc, expected 3: $(grep shoal "$tag.err")"
        grep -q "interrupted by SIG$sig" "$tag.err" || fail "SIG$sig to $who: no notice: $(grep shoal "$tag.err")"
        ! grep -q "shoal: error" "$tag.err" || fail "SIG$sig to $who: reported as an error: $(grep shoal "$tag.err")"
        out=$("$check" counts "$tag.h5") || fail "SIG$sig to $who: file unreadable"
        [[ $out == *" failed=0" && $out != "pending=0 "* ]] || fail "SIG$sig to $who: counts $out"
        "$check" subset "$tag.h5" ref.h5 || fail "SIG$sig to $who: a done row differs"
        expect_rc 0 mpirun_n "$np" "$app" c.ini -o "$tag.h5" --resume -q --set run.group_size=2
        same ref.h5 "$tag.h5" "SIG$sig to $who, resumed" /results /tasks/status
        echo "SIG$sig to $who: exit 3 at $out, resumed, identical"
    done
    ;;

hier_bad)
    one_error_line=1
    for v in -1 70000 abc 1.5; do
        check_bad "[run]\ntasks = 10\ngroup_size = $v\n" "bad$((i + 1)).ini:3"
        grep -q "group_size" "stderr$i" || fail "group_size = $v: the message does not name the key: $(cat "stderr$i")"
        grep -q "from 0 to 65536" "stderr$i" || fail "group_size = $v: no allowed range: $(cat "stderr$i")"
    done
    check_bad "[run]\ntasks = 10\ngroup_size =\n" "group_size"
    # An existing output file stays as it was, even with --force.
    write_config good.ini 20
    expect_rc 0 mpirun_n "$np" "$app" good.ini -o kept.h5 -q
    before=$(sum_of kept.h5)
    printf '[run]\ntasks = 20\nseed = 987654321\ngroup_size = 70000\n' >bad.ini
    mpirun_n "$np" "$app" bad.ini -o kept.h5 --force -q 2>bad.err
    rc=$?
    [[ $rc -eq 2 ]] || fail "group_size = 70000 with --force: exit $rc, expected 2: $(cat bad.err)"
    [[ $(sum_of kept.h5) == "$before" ]] || fail "a refused config changed the existing output file"
    echo "hier_bad: each bad group_size refused with its place, nothing written"
    ;;

*)
    fail "unknown case $case_name"
    ;;
esac
case_passed
