#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for shoal-exec (apps/shoal_exec): real programs (exec_prog.sh,
# bash) started by real ranks, their outcomes read back with h5py.
#
#   exec_cases.sh CASE NRANKS
#
# Cases: exec_run (templates, placeholders, quoting, workdirs, env, value
# lines and files, the same at 1 rank), exec_fail (every way a program can
# fail is one failed task and the run goes on), exec_resume (kill + resume,
# graceful stop with programs running, retries, the fingerprint covers
# [command]), exec_rank_killed (a rank SIGKILLed, mpirun's abort after
# SIGTERM: no program outlives its rank), exec_bad (config mistakes: exit 2,
# one line, nothing written),
# exec_examples (the shipped example configs, as written).
# No check depends on which rank ran which task.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

exec=$SHOAL_BUILD/apps/shoal_exec/shoal-exec
prog=$SHOAL_SRC/tests/mpi/exec_prog.sh
py=${SHOAL_PYTHON:?SHOAL_PYTHON is not set}
need_h5py
# The checks that programs are gone read the process table: without ps,
# pgrep and pkill they could not fail, so they fail the case instead.
for tool in ps pgrep pkill; do
    command -v "$tool" >/dev/null ||
        fail "'$tool' is missing; on Debian: apt-get install procps (scripts/install-deps.sh)"
done
cd "$work" || fail "cd $work"
export PIDS=$work/pids
mkdir -p "$PIDS"

# start_bg CONFIG OUT ERR: shoal-exec on np ranks in the background ($pid).
start_bg() {
    "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$exec" "${postflags[@]}" \
        "$1" -o "$2" -q 2>"$3" &
    pid=$!
}

# wait_for N DIR: until DIR holds at least N entries (at most 10 s).
wait_for() {
    for _ in $(seq 1 200); do
        sleep 0.05
        [[ $(find "$2" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) -ge $1 ]] && return
    done
}

# alive_pids: the pids noted in $PIDS that still run, and the processes of
# the groups they lead (a program's children; a zombie waiting for its new
# parent to reap it does not run). Signals take a moment to land: a process
# still there is looked at again for up to 12 s.
alive_pids() {
    local f p q st out try
    for try in $(seq 1 60); do
        out=""
        for f in "$PIDS"/*; do
            [[ -e $f ]] || continue
            p=$(cat "$f")
            for q in $({ echo "$p"; pgrep -g "$p"; } | sort -u); do
                st=$(ps -o stat= -p "$q" 2>/dev/null)
                [[ -n $st && $st != Z* ]] && out="$out $(basename "$f"):$q"
            done
        done
        [[ -z $out ]] && break
        sleep 0.2
    done
    echo "$out"
}

case "$case_name" in

exec_run)
    # Every placeholder reaches the program as one argument, exactly; the
    # injection attempt stays text; numbers read back as the same number;
    # {seed} and everything else is the same at 1 rank.
    cat >run.ini <<EOF
[run]
seed = 4242
[command]
argv = $prog args {n} {word} "{word}!" {evil} {x} {big} {task} {point} {replicate} {attempt} {dir} {seed} '{{lit}}' ""
workdir = runs/{point}/{replicate}
[scan]
n = 1, 2, 3
x = 0.1, 1e-300, 3.141592653589793, 2.5e+20
word = plain, two words
[sampling]
replicates = 2
[params]
evil = x; touch pwned \$(touch pwned2) \`touch pwned3\` 'q
big = 9007199254740993
[env]
FOO = task-{task}
OMP_NUM_THREADS = 1
[outputs]
twice = int64 sum
nargs = int64
EOF
    cmp_args() { # cmp_args FILE.h5 SHELL: the programs' arguments and values
        "$py" - "$1" "$2" "$work" <<'PY'
import sys, os, h5py, numpy as np
path, shell, work = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
with h5py.File(path, "r") as f:
    n = f["params/n"][:]; x = f["params/x"][:]; word = f["params/word"][:]
    pt = f["tasks/point"][:]; rep = f["tasks/replicate"][:]
    res = {k: f["results"][k][:] for k in f["results"]}
    assert (f["tasks/status"][:] == 1).all(), f["tasks/status"][:]
    assert f["reduce/twice"][()] == 2 * n.sum()
nt = len(n)
assert nt == 3 * 4 * 2 * 2, nt
seeds = set()
for t in range(nt):
    d = os.path.join(work, "runs", str(pt[t]), str(rep[t]))
    args = open(os.path.join(d, "args.txt")).read().split("\n")[:-1]
    w = word[t].decode()
    want = [str(n[t]), w, w + "!", "x; touch pwned $(touch pwned2) `touch pwned3` 'q"]
    assert args[:4] == want, (t, args[:4], want)
    assert float(args[4]) == x[t] and len(args[4]) <= 24, (t, args[4], x[t])
    assert args[5] == "9007199254740993", args[5]
    assert args[6:11] == [str(t), str(pt[t]), str(rep[t]), "1", d], (t, args[6:11], d)
    seed = int(args[11])
    assert 1 <= seed < 2**63
    seeds.add(seed)
    assert args[12:] == ["{lit}", ""], args[12:]
    env = dict(l.split("=", 1) for l in open(os.path.join(d, "env.txt")).read().split("\n")[:-1])
    assert env == {"SHOAL_TASK": str(t), "SHOAL_SEED": args[11], "SHOAL_ATTEMPT": "1",
                   "SHOAL_DIR": d, "FOO": "task-%d" % t, "OMP_NUM_THREADS": "1"}, env
    assert res["twice"][t] == 2 * n[t] and res["nargs"][t] == 14, (t, res["twice"][t], res["nargs"][t])
    assert res["exit_code"][t] == 0 and res["signal"][t] == 0
    assert res["wall_seconds"][t] > 0 and res["cpu_seconds"][t] >= 0 and res["max_rss_kib"][t] > 0
    assert b"some ordinary output\n" in res["stdout_tail"][t], res["stdout_tail"][t]
    assert res["stderr_tail"][t] == b"a line on stderr\n", res["stderr_tail"][t]
assert len(seeds) == nt, "seeds repeat"
print(" ".join(sorted(str(s) for s in seeds)))
PY
    }
    expect_rc 0 mpirun_n "$np" "$exec" run.ini -o run.h5 -q
    cmp_args run.h5 0 >seeds.txt || fail "the programs' arguments or values are wrong"
    [[ -z $(find . -name 'pwned*') ]] || fail "a value ran as shell code: $(find . -name 'pwned*')"
    # The same seeds, arguments and values at 1 rank.
    mv runs runs.np
    expect_rc 0 mpirun_n 1 "$exec" run.ini -o run1.h5 -q
    cmp_args run1.h5 0 >seeds1.txt || fail "1-rank run: arguments or values are wrong"
    cmp -s seeds.txt seeds1.txt || fail "{seed} differs between $np ranks and 1"
    diff -r runs runs.np >/dev/null || fail "the programs saw other arguments at 1 rank"
    h5diff run.h5 run1.h5 /params >/dev/null || fail "/params differ at 1 rank"
    for k in twice nargs exit_code signal stdout_tail stderr_tail; do
        h5diff run.h5 run1.h5 "/results/$k" >/dev/null || fail "/results/$k differs at 1 rank"
    done
    # The checker fails on one wrong argument.
    echo "9" >runs/0/0/args.txt
    cmp_args run1.h5 0 >/dev/null 2>&1 && fail "the argument check accepts a wrong argument"

    # shell = true: a shell line (a pipe, a variable), values single-quoted.
    cat >sh.ini <<EOF
[command]
shell = true
argv = BAR=1; $prog args {n} {evil} {word} | cat; test "\$BAR" = 1 || echo shoal: twice=-1
[scan]
n = 4, 5
word = it's, a b
[params]
evil = x; touch pwned \$(touch pwned2) \`touch pwned3\` 'q
[outputs]
twice = int64
nargs = int64
EOF
    expect_rc 0 mpirun_n "$np" "$exec" sh.ini -o sh.h5 -q
    [[ -z $(find . -name 'pwned*') ]] || fail "shell = true: a value ran as shell code"
    # args.txt holds the arguments of whichever task wrote it last: any of
    # the four rows, depending on the schedule.
    evil="x; touch pwned \$(touch pwned2) \`touch pwned3\` 'q"
    ok=0
    for n in 4 5; do
        for w in "it's" "a b"; do
            [[ $(cat args.txt) == "$n"$'\n'"$evil"$'\n'"$w" ]] && ok=1
        done
    done
    ((ok)) || fail "shell = true: the program got other arguments: $(cat args.txt)"
    "$py" - sh.h5 <<'PY' || fail "shell = true: wrong values"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert (f["tasks/status"][:] == 1).all()
    assert list(f["results/twice"][:]) == [8, 8, 10, 10], f["results/twice"][:]
    assert (f["results/nargs"][:] == 3).all(), f["results/nargs"][:]
PY

    # Values from a file in the workdir.
    cat >file.ini <<EOF
[command]
argv = $prog file {n} {task}
workdir = w/{task}
output_file = values.txt
[scan]
n = 7, 8, 9
[outputs]
twice = int64
nargs = int64
echo = float64
EOF
    expect_rc 0 mpirun_n "$np" "$exec" file.ini -o file.h5 -q
    "$py" - file.h5 <<'PY' || fail "output_file: wrong values"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert list(f["results/twice"][:]) == [14, 16, 18]
    assert list(f["results/echo"][:]) == [0.0, 1.0, 2.0]
    assert (f["results/nargs"][:] == 2).all()
PY
    # A program that writes no file this time: the last run's file does
    # not count.
    sed -i 's/file {n} {task}/nofile/' file.ini
    expect_rc 1 mpirun_n "$np" "$exec" file.ini -o file.h5 -f -q 2>/dev/null
    "$py" - file.h5 <<'PY' || fail "output_file: a stale file counted"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert list(f["tasks/error"][:]) == [1003] * 3, f["tasks/error"][:]
    # /failures has each rank's slots in turn: look at every kept message,
    # whichever ranks ran the tasks.
    kept = [m for m in f["failures/message"][:] if m]
    assert len(kept) == 3 and all(b"no output file 'values.txt'" in m for m in kept), kept
PY
    # An empty prefix: a line that is exactly name=value of a declared
    # output counts, every other line is ordinary output.
    printf '[command]\nargv = %s bare\nprefix =\n[run]\ntasks = 2\n[outputs]\nv = int64\n' \
        "$prog" >bare.ini
    expect_rc 0 mpirun_n "$np" "$exec" bare.ini -o bare.h5 -q
    "$py" -c 'import h5py
with h5py.File("bare.h5", "r") as f:
    assert list(f["results/v"][:]) == [7, 7], f["results/v"][:]' || fail "prefix = (empty): wrong values"
    ;;

exec_fail)
    # Each way to fail is one failed task with its code and message; the
    # run goes on and ends with exit status 1; nothing a program started
    # outlives it; a program writing 1 GiB costs the rank no memory.
    modes="ok, exit3, segv, hang, stubborn, noval, badval, badint, unknown, longline, huge, closeout, orphan"
    cat >fail.ini <<EOF
[command]
argv = $prog {mode} {task}
timeout = 2
kill_after = 1
; the 1 GiB writer is stopped after 64 MiB, well within the timeout
max_output = 64M
[scan]
mode = $modes
[outputs]
v = int64
EOF
    expect_rc 1 mpirun_n "$np" "$exec" fail.ini -o fail.h5 2>fail.err
    [[ -z $(alive_pids) ]] || fail "processes outlived their tasks:$(alive_pids)"
    # The same run's memory with the 1 GiB program and without it.
    cat >okonly.ini <<EOF
[command]
argv = $prog ok {task}
[scan]
mode = $modes
[outputs]
v = int64
EOF
    expect_rc 0 mpirun_n "$np" "$exec" okonly.ini -o okonly.h5 -q
    "$py" - fail.h5 okonly.h5 <<'PY' || fail "a failure is recorded wrongly"
import sys, h5py, numpy as np
want = {  # mode: (code, text in the message)
    "ok": (0, ""),
    "exit3": (3, "exit status 3: no such input deck"),
    "segv": (267, "killed by signal 11"),
    "hang": (1001, "timed out after 2 s"),
    "stubborn": (1001, "timed out after 2 s"),
    "noval": (1003, "no value for output 'v'"),
    "badval": (1004, "output 'v' (int64): 'abc' is not a whole number"),
    "badint": (1004, "output 'v' (int64): '1.5' is not a whole number"),
    "unknown": (1004, "'w' is not an output declared in [outputs]"),
    "longline": (1004, "a value line longer than"),
    "huge": (1005, "wrote more than 67108864 bytes of output"),
    "closeout": (1003, "no value for output 'v'"),
    "orphan": (1006, "exited leaving processes of its group running"),
}
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "r") as ok:
    modes = [m.decode() for m in f["params/mode"][:]]
    st, err = f["tasks/status"][:], f["tasks/error"][:]
    msgs = {int(t): m.decode() for t, m in zip(f["failures/task"][:], f["failures/message"][:])}
    for t, m in enumerate(modes):
        code, text = want[m]
        assert st[t] == (1 if code == 0 else 2), (m, st[t])
        assert err[t] == code, (m, err[t], code)
        if code:
            assert text in msgs[t], (m, msgs[t])
    r = {k: f["results"][k][:] for k in f["results"]}
    t = modes.index("exit3")
    assert r["exit_code"][t] == 3 and r["signal"][t] == 0 and r["stderr_tail"][t] == b"no such input deck\n"
    t = modes.index("segv")
    assert r["exit_code"][t] == -1 and r["signal"][t] == 11
    assert r["signal"][modes.index("stubborn")] == 9  # SIGKILL after kill_after
    assert r["signal"][modes.index("hang")] == 15
    # SIGTERM at the timeout (2 s); the stubborn one, SIGKILL 1 s later.
    for m, low in (("hang", 2.0), ("stubborn", 3.0)):
        assert low <= r["wall_seconds"][modes.index(m)] < 30, (m, r["wall_seconds"][modes.index(m)])
    assert r["v"][modes.index("ok")] == 1
    assert len(r["stdout_tail"][modes.index("huge")]) == 2048
    # The 1 GiB writer: at most 64 MiB more on any rank than the run without it.
    grow = int(f["ranks/max_rss_kib"][:].max()) - int(ok["ranks/max_rss_kib"][:].max())
    assert grow < 65536, "a rank grew by %d KiB" % grow
PY
    grep -q "task .* failed (code" fail.err || fail "no failure on stderr: $(cat fail.err)"

    # Arrays: exactly as many values as the shape holds.
    cat >arr3.ini <<EOF
[command]
argv = $prog {mode}
[scan]
mode = arr3, arr2, arr4
[outputs]
a = float64[3]
EOF
    expect_rc 1 mpirun_n "$np" "$exec" arr3.ini -o arr3.h5 -q 2>/dev/null
    "$py" - arr3.h5 <<'PY' || fail "array values recorded wrongly"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert list(f["results/a"][0]) == [1.5, 2, -3e-7], f["results/a"][0]
    assert list(f["tasks/error"][:]) == [0, 1004, 1004]
    m = [x.decode() for x in f["failures/message"][:]]
    assert "output 'a' needs 3 values, got 2" in m and "output 'a' has more than 3 values" in m, m
PY

    # A program that does not exist, a workdir that leaves its base.
    cat >arr.ini <<EOF
[command]
argv = {p} {s}
workdir = w/{s}
[scan]
p = $prog, ./nonexistent
s = ok, ../../up, x/../../up2
[sampling]
design = grid
[outputs]
v = int64
EOF
    expect_rc 1 mpirun_n "$np" "$exec" arr.ini -o arr.h5 -q 2>/dev/null
    [[ ! -e ../up && ! -e ../up2 && ! -e ../../up ]] || fail "a workdir left its base"
    "$py" - arr.h5 <<'PY' || fail "missing program or bad workdir recorded wrongly"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    p = [x.decode() for x in f["params/p"][:]]; s = [x.decode() for x in f["params/s"][:]]
    err = f["tasks/error"][:]
    msgs = {int(t): m.decode() for t, m in zip(f["failures/task"][:], f["failures/message"][:])}
    for t in range(len(p)):
        if s[t] != "ok":
            assert err[t] == 1007 and "leaves the base directory" in msgs[t], (t, msgs.get(t))
        elif p[t] == "./nonexistent":
            assert err[t] == 1002 and "cannot start" in msgs[t], (t, msgs.get(t))
        else:
            assert err[t] == 0 and f["results/v"][t] == 1
PY
    ;;

exec_resume)
    # SIGKILL mid-run, then --resume: every task done once, values right.
    cat >slow.ini <<EOF
[run]
max_range_tasks = 2
[command]
argv = $prog slow 0.2 {task}
workdir = w/{task}
[scan]
k = range(0, 30, 1)
[outputs]
v = int64
EOF
    setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$exec" "${postflags[@]}" \
        slow.ini -o slow.h5 -q &
    pid=$!
    wait_for $((np + 4)) w
    pkill -KILL -s "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
    out=$("$check" counts slow.h5) || fail "the killed run's file is unreadable"
    [[ $out != "pending=0 "* ]] || fail "the run finished before the kill: $out"
    expect_rc 0 mpirun_n "$np" "$exec" slow.ini -o slow.h5 -q --resume
    "$py" - slow.h5 <<'PY' || fail "resume after kill: wrong results"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert (f["tasks/status"][:] == 1).all()
    assert (f["results/v"][:] == np.arange(30)).all(), f["results/v"][:]
PY
    # The fingerprint covers [command]: another argv is another run.
    mpirun_n "$np" "$exec" slow.ini -o slow.h5 -q --resume --set "command.argv=$prog slow 0 {task}" 2>fp.err
    rc=$?
    [[ $rc -eq 2 ]] || fail "--resume with another argv: exit $rc, expected 2: $(cat fp.err)"
    grep -q "command.argv" fp.err || fail "the refusal does not name command.argv: $(cat fp.err)"

    # SIGUSR1 to mpirun (forwarded to every rank; README, Signals) with
    # 6-second programs and a 1-second grace: exit 3, no program left.
    rm -rf w
    cat >stop.ini <<EOF
[run]
grace_seconds = 1
[command]
argv = $prog hang {task}
timeout = 6
[scan]
k = range(0, $((2 * np)), 1)
[outputs]
v = int64
EOF
    start_bg stop.ini stop.h5 stop.err
    wait_for "$np" "$PIDS"
    kill -USR1 "$pid"
    wait "$pid"
    rc=$?
    [[ $rc -eq 3 ]] || fail "SIGUSR1: exit $rc, expected 3: $(cat stop.err)"
    grep -q "grace period over" stop.err || fail "no grace expiry message: $(cat stop.err)"
    [[ -z $(alive_pids) ]] || fail "programs outlived the stopped run:$(alive_pids)"
    sed -i 's/hang {task}/ok {task}/' stop.ini
    mpirun_n "$np" "$exec" stop.ini -o stop.h5 -q --resume 2>/dev/null
    rc=$?
    [[ $rc -eq 2 ]] || fail "resume with an edited argv: exit $rc, expected 2"
    # Any [command] change is another run, an added key too.
    sed -i 's/ok {task}/hang {task}/; s/timeout = 6/timeout = 6\nkill_after = 1/' stop.ini
    mpirun_n "$np" "$exec" stop.ini -o stop.h5 -q --resume 2>/dev/null
    [[ $? -eq 2 ]] || fail "resume with an added [command] key was not refused"

    # SIGUSR1 with 1.5-second programs and a long grace: they finish, their
    # rows are written.
    rm -f "$PIDS"/*
    cat >grace.ini <<EOF
[run]
grace_seconds = 30
[command]
argv = $prog slow 1.5 {task}
workdir = g/{task}
[scan]
k = range(0, $((3 * np)), 1)
[outputs]
v = int64
EOF
    start_bg grace.ini grace.h5 grace.err
    wait_for "$np" g
    kill -USR1 "$pid"
    wait "$pid"
    rc=$?
    [[ $rc -eq 3 ]] || fail "SIGUSR1 with grace: exit $rc, expected 3: $(cat grace.err)"
    "$py" - grace.h5 <<'PY' || fail "programs running at the signal did not finish into the file"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    st = f["tasks/status"][:]
    assert (st == 1).sum() >= 1 and (st != 2).all(), st
    v = f["results/v"][:]
    assert all(v[t] == t for t in range(len(st)) if st[t] == 1)
PY
    expect_rc 0 mpirun_n "$np" "$exec" grace.ini -o grace.h5 -q --resume

    # Retries: a program failing on its first attempt succeeds on the second.
    cat >retry.ini <<EOF
[run]
retries = 1
[command]
argv = $prog attempt {attempt}
[scan]
k = 1, 2, 3
[outputs]
v = int64
EOF
    expect_rc 0 mpirun_n "$np" "$exec" retry.ini -o retry.h5 -q
    "$py" - retry.h5 <<'PY' || fail "retries: wrong results"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert (f["results/v"][:] == 2).all() and (f["tasks/attempts"][:] == 2).all()
PY
    ;;

exec_rank_killed)
    # A rank killed outright cannot stop its program itself; its keeper
    # does (lib/src/keeper.h): SIGTERM to the program's group, SIGKILL 5 s
    # later. Each program is a bash whose group also holds a sleep.
    cat >k.ini <<EOF
[run]
grace_seconds = 30
[command]
argv = $prog hang {task}
[scan]
k = range(0, $((2 * np)), 1)
[outputs]
v = int64
EOF
    for how in rank_sigkill mpirun_sigterm stubborn; do
        rm -rf "$PIDS" k.h5 && mkdir -p "$PIDS"
        [[ $how == stubborn ]] && sed -i 's/ hang {task}/ stubborn {task}/' k.ini
        setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$exec" "${postflags[@]}" \
            k.ini -o k.h5 -q 2>k.err &
        pid=$!
        wait_for "$np" "$PIDS"
        [[ $(find "$PIDS" -mindepth 1 | wc -l) -ge $np ]] || fail "$how: the programs did not start"
        if [[ $how == mpirun_sigterm ]]; then
            # What a Ctrl-C does: mpirun signals the ranks, then kills them.
            kill -TERM "$pid"
        else
            ranks=$(pgrep -s "$pid" -x shoal-exec)
            [[ -n $ranks ]] || fail "$how: no rank found"
            kill -KILL "$(echo "$ranks" | tail -1)"
        fi
        wait "$pid"
        rc=$?
        [[ $rc -ne 0 ]] || fail "$how: exit 0 after a rank was killed"
        left=$(alive_pids)
        if [[ -n $left ]]; then
            for f in "$PIDS"/*; do pkill -KILL -g "$(cat "$f")"; done
            fail "$how: programs outlived their ranks:$left"
        fi
    done
    # A run that ends normally leaves no keeper behind.
    sed -i 's/ stubborn {task}/ ok {task}/' k.ini
    expect_rc 0 mpirun_n "$np" "$exec" k.ini -o ok.h5 -q
    for q in $(pgrep -x shoal-keeper); do
        st=$(ps -o stat= -p "$q" 2>/dev/null)
        [[ -n $st && $st != Z* && $(readlink "/proc/$q/cwd") == "$work" ]] &&
            fail "a keeper outlived a finished run: $q"
    done
    ;;

exec_bad)
    # Config mistakes: exit 2, a message naming the line, nothing written.
    touch notexec.sh
    chmod -x notexec.sh
    mkdir -p adir
    one_error_line=1
    app=$exec # check_bad runs $app
    base="[scan]\nT = 1, 2\n[outputs]\nv = float64\n"
    # At more ranks, the cases where ranks could reach different verdicts
    # (rank 0 alone looks for the program; the hook, then the settings);
    # the parsers' other mistakes once, at 1 rank (each launch is seconds
    # under the sanitizers).
    at1() { if [[ $np -eq 1 ]]; then "$@"; else i=$((i + 1)); fi; }
    check_bad "[command]\nargv = $prog {T} {L}\n$base" "bad$((i + 1)).ini:2: [command] argv: unknown placeholder {L}"
    at1 check_bad "[command]\nargv = $prog {T\n$base" "'{' at column"
    at1 check_bad "[command]\nargv = $prog T}\n$base" "'}' at column"
    at1 check_bad "[command]\nargv = $prog {{T}\n$base" "'}' at column"
    at1 check_bad "[command]\nargv = $prog '{T}\n$base" "a single quote is not closed"
    at1 check_bad "[command]\nargv =\n$base" "[command] argv is empty"
    at1 check_bad "[command]\nshell = true\n$base" "argv"
    check_bad "[command]\nargv = ./no-such-program {T}\n$base" "the program './no-such-program' does not exist"
    check_bad "[command]\nargv = no-such-program-xyz {T}\n$base" "is not in PATH"
    check_bad "[command]\nargv = ./notexec.sh {T}\n$base" "is not executable"
    check_bad "[command]\nargv = ./adir {T}\n$base" "is a directory"
    check_bad "[command]\nargv = $prog {T}\nworkdir = ../out/{T}\n$base" "bad$((i + 1)).ini:3: [command] workdir = '../out/{T}' leaves its base"
    check_bad "[command]\nargv = $prog {T}\nworkdir = /tmp/{T}\n$base" "leaves its base directory"
    at1 check_bad "[command]\nargv = $prog {T}\nworkdir = a/{dir}\n$base" "workdir cannot use {dir}"
    check_bad "[command]\nargv = $prog {T}\ntimeout = 0\n$base" "bad$((i + 1)).ini:3: [command] timeout = 0: give a positive number"
    at1 check_bad "[command]\nargv = $prog {T}\ntimeout = -5\n$base" "timeout = -5"
    at1 check_bad "[command]\nargv = $prog {T}\ntail = 1G\n$base" "[command] tail = '1G' is not a size"
    at1 check_bad "[command]\nargv = $prog {T}\noutput_file = ../v.txt\n$base" "output_file = '../v.txt'"
    check_bad "[command]\nargv = $prog {T}\nargs = 1\n$base" "unknown key 'args' in [command]"
    check_bad "[command]\nargv = $prog {T}\n[scan]\nT = 1, 2\n[outputs]\nv = float32\n" "[outputs] v = float32: the type must be int64 or float64"
    at1 check_bad "[command]\nargv = $prog {T}\n[scan]\nT = 1, 2\n[outputs]\nv = int64[0]\n" "each dimension"
    at1 check_bad "[command]\nargv = $prog {T}\n[scan]\nT = 1, 2\n[outputs]\nexit_code = int64\n" "one of the outcome fields"
    at1 check_bad "[command]\nargv = $prog {T}\n[scan]\nT = 1, 2\n[outputs]\nv = int64 median\n" "a reduction"
    at1 check_bad "[command]\nargv = $prog {T}\n[scan]\ntask = 1, 2\n[outputs]\nv = int64\n" "[scan] task: the name is a placeholder"
    at1 check_bad "[command]\nargv = $prog {T}\n[params]\nT = 3\n$base" "[scan] T: it is also set in [params]"
    at1 check_bad "[command]\nargv = $prog {T}\n[env]\n1X = 2\n$base" "[env] 1X"
    at1 check_bad "[command]\nargv = $prog {T}\n[env]\nX = {nope}\n$base" "unknown placeholder {nope}"
    check_bad "[command]\nargv = $prog {T}\n[scan]\nT = 1\n[outputz]\nv = int64\n" "unknown section [outputz]"
    check_bad "[command]\nargv = $prog {T}\n$base" "timeout = 0" --set command.timeout=0
    # An existing result file is never touched by a bad config.
    printf "[command]\nargv = $prog ok {T}\n$base" >good.ini
    expect_rc 0 mpirun_n "$np" "$exec" good.ini -o keep.h5 -q
    before=$(sum_of keep.h5)
    mpirun_n "$np" "$exec" good.ini -o keep.h5 -f -q --set command.timeout=0 2>/dev/null
    [[ $? -eq 2 && $(sum_of keep.h5) == "$before" ]] || fail "a bad config changed an existing file"
    ;;

exec_examples)
    # The shipped examples run as written from a checkout's root (here a
    # copy of its layout): a Python script and a legacy-style C program.
    ln -s "$SHOAL_SRC/apps" apps
    ln -s "$SHOAL_SRC/configs" configs
    mkdir -p build/apps/exec_examples
    ln -s "$SHOAL_BUILD/apps/exec_examples/heat1d" build/apps/exec_examples/heat1d
    expect_rc 0 mpirun_n "$np" "$exec" configs/exec_pi.ini -q
    expect_rc 0 mpirun_n "$np" "$exec" configs/exec_heat.ini -q
    "$py" - <<'PY' || fail "the examples' results are wrong"
import h5py, numpy as np
with h5py.File("exec_pi.h5", "r") as f:
    assert (f["tasks/status"][:] == 1).all()
    assert (abs(f["points/mean/pi"][:] - np.pi) < 0.1).all(), f["points/mean/pi"][:]
    assert f["reduce/hits"][()] == f["results/hits"][:].sum()
with h5py.File("exec_heat.h5", "r") as f:
    err = abs(f["results/peak"][:] / f["results/exact_peak"][:] - 1).reshape(3, 3)
    # Second order in dx: each doubling of nx divides the error by about 4.
    assert (err < 0.01).all() and (abs(err[:, :2] / err[:, 1:] - 4) < 0.2).all(), err
PY
    [[ -f exec_heat.d/alpha=2/nx=81/results.dat ]] || fail "no per-task working directory"
    ;;

*)
    fail "unknown case '$case_name'"
    ;;
esac
case_passed
