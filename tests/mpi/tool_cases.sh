#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Cases for the `shoal` command (tools/): status, failures, config and
# export on result files made by real runs of test_app, every count and
# value checked against h5py's view of the same file.
#
#   tool_cases.sh CASE NRANKS
#
# Cases: tool_status (a running file, a copy of it that no run holds, a
# finished file with failed tasks, an interrupted one), tool_export (CSV
# and TSV parsed back with Python's csv module and compared with h5py,
# array fields flattened or skipped, --columns, --done; failures; the config
# round trip: the exported config resumes as the same run), tool_bad (each
# bad FILE and command line: its exit status and message, never a crash,
# never a write). After every subcommand on a closed file its bytes and
# mtime are unchanged. No check depends on which rank ran which task.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

shoal=$SHOAL_BUILD/tools/shoal
py=${SHOAL_PYTHON:?SHOAL_PYTHON is not set}
need_h5py
cd "$work" || fail "cd $work"

# stamp FILE: its checksum and mtime (nanoseconds).
stamp() { echo "$(sum_of "$1") $(stat -c %y "$1")"; }

# run_tool WANT_RC OUTFILE ARGS...: shoal ARGS > OUTFILE (stderr in
# OUTFILE.err), exit status WANT_RC; a closed FILE (the last argument that
# exists as a file) is left as it was.
run_tool() {
    local want=$1 out=$2
    shift 2
    local f="" before="" a
    for a in "$@"; do [[ -f $a ]] && f=$a; done
    [[ -n $f ]] && before=$(stamp "$f")
    "$shoal" "$@" >"$out" 2>"$out.err"
    local rc=$?
    [[ $rc -eq $want ]] || fail "shoal $*: exit status $rc, expected $want: $(head -c 600 "$out.err")"
    [[ -z $f || $(stamp "$f") == "$before" ]] || fail "shoal $* changed '$f'"
    return 0
}

# live_tool OUTFILE ARGS...: as run_tool 0, on a file a run is writing
# (which changes by itself).
live_tool() {
    local out=$1
    shift
    "$shoal" "$@" >"$out" 2>"$out.err" || fail "shoal $* on a running file: $(cat "$out.err")"
}

# counts_match STATUS_OUTPUT FILE: the status line's counts are h5py's.
counts_match() {
    "$py" - "$1" "$2" <<'PY' || fail "shoal status counts differ from h5py's for $2: $(cat "$1")"
import re, sys, h5py, numpy as np
text = open(sys.argv[1]).read()
m = re.search(r"^tasks: +(\d+): (\d+) done, (\d+) failed, (\d+) running, (\d+) pending", text, re.M)
assert m, "no tasks line"
total, done, failed, running, pending = map(int, m.groups())
with h5py.File(sys.argv[2], "r") as f:
    st = f["tasks/status"][:]
want = [len(st), (st == 1).sum(), (st == 2).sum(), (st == 3).sum(), (st == 0).sum()]
assert [total, done, failed, running, pending] == want, (total, done, failed, running, pending, want)
PY
}

# start_slow_run INI OUT ERR SPIN_US: test_app on np ranks in the background ($pid).
start_slow_run() {
    SHOAL_TEST_SPIN_US=$4 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" \
        "${postflags[@]}" "$1" -o "$2" 2>"$3" &
    pid=$!
}

# wait_done OUT N: until shoal status says at least N tasks finished (10 s).
wait_done() {
    local d f
    for _ in $(seq 1 200); do
        sleep 0.05
        read -r d f < <("$shoal" status "$1" 2>/dev/null |
            sed -n 's/^tasks: *[0-9]*: \([0-9]*\) done, \([0-9]*\) failed.*/\1 \2/p')
        [[ -n $d && $((d + f)) -ge $2 ]] && return 0
    done
    fail "fewer than $2 tasks finished in $1 within 10 s"
}

case "$case_name" in

tool_status)
    write_config s.ini 40 "fail_every = 7"
    # Running: 0.15 s tasks, so the run goes on while we look.
    start_slow_run s.ini run.h5 run.err 150000
    wait_done run.h5 3
    # The segment's start is kept to the second: within its first second
    # the rate is "unknown yet". Look again until it is known (10 s).
    for _ in $(seq 1 50); do
        live_tool st1 status run.h5
        grep -Eq "^rate: +[0-9.e+]+ tasks/s" st1 && break
        sleep 0.2
    done
    grep -Eq "^state: +running \(pid [0-9]+ on " st1 || fail "a running file is not shown running: $(cat st1)"
    "$py" - st1 <<'PY' || fail "running: the counts do not add up to 40: $(cat st1)"
import re, sys
m = re.search(r"^tasks: +40: (\d+) done, (\d+) failed, (\d+) running, (\d+) pending", open(sys.argv[1]).read(), re.M)
assert m and sum(map(int, m.groups())) == 40 and int(m.group(1)) + int(m.group(2)) >= 3
PY
    grep -Eq "^rate: +[0-9.e+]+ tasks/s" st1 || fail "no rate while running: $(cat st1)"
    grep -Eq "^ETA: " st1 || fail "no ETA while running: $(cat st1)"
    # A copy of the running file: "running" in the file, but no run holds
    # its lock, as after a kill.
    cp run.h5 copy.h5
    run_tool 0 st2 status copy.h5
    grep -q "no run holds its lock: killed? resume with --resume" st2 ||
        fail "a file nobody runs is not shown as killed: $(cat st2)"
    grep -q "^rate:\|^ETA:" st2 && fail "a rate or ETA for a file nobody runs: $(cat st2)"
    counts_match st2 copy.h5
    wait "$pid"
    rc=$?
    [[ $rc -eq 1 ]] || fail "the slow run exited $rc, expected 1 (failed tasks): $(tail -n 3 run.err)"
    # Finished, with failed tasks.
    run_tool 0 st3 status run.h5
    grep -Eq "^state: +complete" st3 || fail "a finished file is not complete: $(cat st3)"
    counts_match st3 run.h5
    grep -Eq "^ranks: +$np in the last segment" st3 || fail "no /ranks table: $(cat st3)"
    grep -q "^rate:" st3 && fail "a rate for a finished run: $(cat st3)"
    run_tool 0 st4 status run.h5 --ranks
    # Interrupted: SIGUSR1, exit 3.
    start_slow_run s.ini stop.h5 stop.err 150000
    wait_done stop.h5 2
    kill -USR1 "$pid"
    wait "$pid"
    rc=$?
    [[ $rc -eq 3 ]] || fail "the stopped run exited $rc, expected 3: $(tail -n 3 stop.err)"
    run_tool 0 st5 status stop.h5
    grep -Eq "^state: +interrupted \(resumable" st5 || fail "not shown interrupted: $(cat st5)"
    counts_match st5 stop.h5
    ;;

tool_export)
    printf '[run]\nseed = 20261202\n[test_app]\nfail_every = 5\n[scan]\nx = 0.25, -1.5e-7, 2.385\nlabel = plain, say"hi", tab\there\n[sampling]\nreplicates = 2\n' >e.ini
    expect_rc 1 mpirun_n "$np" "$app" e.ini -o e.h5 -q --set test_app.sleep_us=3
    run_tool 0 all.csv export e.h5
    run_tool 0 all.tsv export e.h5 --tsv
    run_tool 0 skip.csv export e.h5 --arrays skip
    grep -q "array fields left out (--arrays skip): m, v" skip.csv.err || fail "no note on the arrays skipped: $(cat skip.csv.err)"
    run_tool 0 some.csv export e.h5 --columns v,label,m[1][0],seconds --done
    "$py" - e.h5 <<'PY' || fail "the export differs from h5py's view of e.h5"
import csv, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
n = f.attrs["ntasks"]
def cols(group, names=None):
    out = {}
    for k in (names or sorted(f[group])):
        if k in f[group]:
            out[k] = f[group][k][:]
    return out
def want_columns(skip_arrays=False):
    want = {}
    groups = [cols("params"), cols("tasks", ["point", "replicate"]), cols("results"),
              cols("tasks", ["status", "rank", "seconds", "error", "attempts"])]
    for g in groups:
        for k, v in g.items():
            if v.ndim == 1:
                want[k] = v
            elif not skip_arrays:
                for idx in np.ndindex(*v.shape[1:]):
                    want[k + "".join("[%d]" % i for i in idx)] = v[(slice(None),) + idx]
    return want
def same(name, text, value):
    if isinstance(value, bytes):
        assert text == value.decode(), (name, text, value)
    elif np.issubdtype(type(value), np.floating):
        assert type(value)(float(text)) == value or (np.isnan(value) and text == "NaN"), (name, text, value)
    else:
        assert int(text) == value, (name, text, value)
def check(path, delim, want, rows=None):
    with open(path, newline="") as fh:
        table = list(csv.reader(fh, delimiter=delim))
    head, body = table[0], table[1:]
    assert head == ["task"] + list(want), (head, list(want))
    rows = list(range(n)) if rows is None else rows
    assert [int(r[0]) for r in body] == rows, path
    for r in body:
        i = int(r[0])
        for name, text in zip(head[1:], r[1:]):
            same(name, text, want[name][i])
want = want_columns()
assert "v[2]" in want and "m[1][1]" in want and "label" in want and "x" in want
check("all.csv", ",", want)
check("all.tsv", "\t", want)
check("skip.csv", ",", want_columns(True))
done = list(np.nonzero(f["tasks/status"][:] == 1)[0])
sub = {k: want[k] for k in ["v[0]", "v[1]", "v[2]", "label", "m[1][0]", "seconds"]}
check("some.csv", ",", sub, done)
assert b'say"hi"' in f["params/label"][:] and b"tab\there" in f["params/label"][:]
PY
    grep -q '"say""hi"""' all.csv || fail "a quote in a string is not quoted: $(grep say all.csv | head -1)"
    # failures: every failed task, its code and message, lowest first.
    run_tool 0 fails failures e.h5
    "$py" - e.h5 fails <<'PY' || fail "shoal failures differs from h5py: $(cat fails)"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
lines = open(sys.argv[2]).read().splitlines()
assert lines[0].split()[:3] == ["task", "code", "attempts"], lines[0]
failed = np.nonzero(f["tasks/status"][:] == 2)[0]
rows = [l.split() for l in lines[1:-1]]
assert [int(r[0]) for r in rows] == list(failed), (rows, failed)
for r in rows:
    i = int(r[0])
    assert int(r[1]) == f["tasks/error"][i] == 7 and int(r[2]) == f["tasks/attempts"][i]
    assert " ".join(r).endswith("injected failure at task %d" % i), r
assert lines[-1] == "%d failed tasks of %d" % (len(failed), f.attrs["ntasks"]), lines[-1]
PY
    run_tool 0 fails2 failures e.h5 --limit 2
    [[ $(grep -c "injected failure" fails2) -eq 2 ]] || fail "--limit 2 did not list 2: $(cat fails2)"
    # config: the run's overrides written in; it resumes as the same run,
    # and a changed one does not.
    run_tool 0 again.ini config e.h5
    grep -q "^sleep_us = 3$" again.ini || fail "the --set override is not in the config: $(cat again.ini)"
    mpirun_n 1 "$app" again.ini --resume --dry-run -o e.h5 >dry.out 2>dry.err ||
        fail "the exported config does not resume e.h5: $(cat dry.err)"
    grep -q "a resume would run 0 tasks" dry.out || fail "the dry run says: $(cat dry.out)"
    sed 's/^sleep_us = 3$/sleep_us = 4/' again.ini >changed.ini
    mpirun_n 1 "$app" changed.ini --resume --dry-run -o e.h5 >dry2.out 2>dry2.err &&
        fail "a changed config resumed e.h5 (the round trip check cannot fail)"
    # A config that names an environment variable: shown with the value the
    # run used, also where it is not set now; it resumes with that value.
    write_config env.ini 5 "fail_every = \${SHOAL_T_EVERY}"
    SHOAL_T_EVERY=2 expect_rc 1 mpirun_n 1 "$app" env.ini -o env.h5 -q
    (unset SHOAL_T_EVERY; run_tool 0 env_again.ini config env.h5)
    grep -q '^;     SHOAL_T_EVERY=2$' env_again.ini || fail "the variable is not listed: $(cat env_again.ini)"
    grep -q '^fail_every = \${SHOAL_T_EVERY}$' env_again.ini || fail "the text is not as written: $(cat env_again.ini)"
    SHOAL_T_EVERY=2 mpirun_n 1 "$app" env_again.ini --resume --dry-run -o env.h5 >dry3.out 2>dry3.err ||
        fail "the exported config with its variable does not resume env.h5: $(cat dry3.err)"
    ;;

tool_bad)
    write_config ok.ini 6
    expect_rc 0 mpirun_n 1 "$app" ok.ini -o ok.h5 -q
    mkdir adir
    echo "just text" >text.h5
    : >empty.h5
    mkfifo fifo.h5
    head -c "$(($(stat -c %s ok.h5) / 2))" ok.h5 >half.h5
    "$py" -c "import h5py; h5py.File('other.h5', 'w')['x'] = [1, 2, 3]" || fail "cannot make other.h5"
    bad() { # bad RC 'message part' ARGS...
        local want=$1 msg=$2
        shift 2
        run_tool "$want" out "$@"
        grep -qF -- "$msg" out.err || fail "shoal $*: message lacks '$msg': $(cat out.err)"
        [[ $(wc -l <out.err) -eq 1 ]] || fail "shoal $*: not one line: $(cat out.err)"
    }
    # One opening path for every command: each bad FILE once, the commands
    # taking turns (each shoal start costs ~0.1 s of loading MPI and HDF5).
    cmds=(status failures config export)
    k=0
    for spec in "2|does not exist|missing.h5" "2|is a directory|adir" \
        "2|not an HDF5 file (no HDF5 signature)|text.h5" "2|not an HDF5 file (it is empty)|empty.h5" \
        "2|not a regular file|fifo.h5" "2|not a Shoal result file|other.h5" \
        "4|is truncated|half.h5" "2|does not exist|missing.h5"; do
        IFS='|' read -r want msg file <<<"$spec"
        bad "$want" "$msg" "${cmds[k % 4]}" "$file"
        k=$((k + 1))
    done
    for cmd in "${cmds[@]}"; do
        run_tool 0 out "$cmd" --help
        grep -q "^usage: shoal $cmd" out || fail "shoal $cmd --help: $(head -n 2 out)"
    done
    run_tool 0 out2 help export
    cmp -s out out2 || fail "shoal help export differs from shoal export --help"
    # One parser for every command: its mistakes once each.
    bad 2 "unknown option '--bogus'" status --bogus ok.h5
    bad 2 "no FILE given" failures
    bad 2 "one FILE at a time" config ok.h5 ok.h5
    bad 2 "no command 'frob'" frob ok.h5
    bad 2 "has no column 'nope'" export ok.h5 --columns u,nope
    bad 2 "--arrays 'some'" export ok.h5 --arrays some
    bad 2 "--limit 'x'" failures ok.h5 --limit x
    bad 2 "takes no value" export ok.h5 --tsv=1
    bad 2 "needs a value" export ok.h5 --columns
    run_tool 0 out --help
    grep -q "^  status" out || fail "shoal --help lists no commands: $(cat out)"
    run_tool 0 out --version
    grep -q "^shoal [0-9]" out || fail "shoal --version: $(cat out)"
    "$shoal" >out 2>&1 && fail "shoal without a command exited 0"
    ;;

*)
    fail "unknown case '$case_name'"
    ;;
esac

case_passed
