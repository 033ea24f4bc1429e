#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for the run's history in the result file: /segments, one row
# per launch that worked on the file, read back with h5py.
#
#   history_cases.sh CASE NRANKS
#
# Cases: history (a run stopped by SIGUSR1, resumed at NRANKS + 1 ranks and
# stopped again, resumed at 1 rank to the end: three rows that add up),
# history_killed (kill -9 mid-run: its row stays "running", and the resume
# keeps it), history_old (a file from before /segments resumes, getting a
# row for its earlier run; a damaged /segments is refused untouched; a
# failure while recording a resume agrees on every rank and leaves an
# "error" row). Stops come from the test app's SHOAL_TEST_STOP_AT (task i
# signals its own rank): nothing depends on timing or on which rank ran
# which task.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

py=${SHOAL_PYTHON:?SHOAL_PYTHON is not set}
need_h5py
cd "$work" || fail "cd $work"
write_config c.ini 400 "sleep_us = 200"

# stop_run N STOP_AT [options...]: the test app on N ranks, stopped by task
# STOP_AT's SIGUSR1: exit 3.
stop_run() {
    local n=$1 at=$2
    shift 2
    SHOAL_TEST_STOP_AT=$at mpirun_n "$n" "$app" c.ini -o out.h5 -q "$@" 2>stop.err
    local rc=$?
    [[ $rc -eq 3 ]] || fail "stop at task $at on $n ranks: exit $rc, expected 3: $(grep shoal: stop.err)"
}

# first_pending FILE: the lowest task index not done (a task a resume runs).
first_pending() {
    "$py" -c 'import sys, h5py, numpy as np
st = h5py.File(sys.argv[1], "r")["tasks/status"][:]
print(int(np.flatnonzero(st != 1)[0]))' "$1" || fail "cannot read the status of $1"
}

# work_done FILE: the seconds of the done and failed tasks, as a resume of
# FILE will count them in work_at_start.
work_done() {
    "$py" -c 'import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
st, sec = f["tasks/status"][:], f["tasks/seconds"][:]
print(repr(float(sec[(st == 1) | (st == 2)].astype(np.float64).sum())))' "$1" ||
        fail "cannot read the seconds of $1"
}

# The checks every file's /segments passes (arguments: FILE, then the
# expected states, e.g. interrupted,complete, and rank counts, e.g. 2,3,1,
# and optionally SLURM job ids, e.g. ,,42_7 (default: none)): one row per
# launch, in order, and rows that closed the file add up to the file.
check_rows() {
    "$py" - "$@" <<'PY' || fail "/segments of $1 is wrong (expected states $2, ranks $3)"
import sys, h5py, numpy as np
path, states, nranks = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
jobs = sys.argv[4].split(",") if len(sys.argv) > 4 else [""] * len(states)
with h5py.File(path, "r") as f:
    g = f["segments"]
    names = ["started", "finished", "state", "nranks", "hosts", "nhosts", "slurm_job",
             "done_at_start", "failed_at_start", "work_at_start", "tasks_done",
             "tasks_failed", "wall_seconds"]
    assert sorted(g) == sorted(names), f"columns {sorted(g)}"
    cols = {k: g[k][:] for k in names}
    rows = len(cols["state"])
    assert all(len(v) == rows for v in cols.values()), "columns of unequal length"
    text = lambda k: [b.decode() for b in cols[k]]
    got = text("state")
    assert got == states, f"states {got}, expected {states}"
    for r, want in enumerate(nranks):
        if want != "-":
            assert cols["nranks"][r] == int(want), f"row {r}: nranks {cols['nranks'][r]}, expected {want}"
    st = f["tasks/status"][:]
    for r in range(rows):
        started, finished = text("started")[r], text("finished")[r]
        assert len(started) == 20 and started.endswith("Z"), f"row {r}: started '{started}'"
        closed = states[r] != "running"
        assert (finished != "") == closed, f"row {r}: finished '{finished}' in state {states[r]}"
        assert not closed or finished >= started, f"row {r}: finished {finished} < started {started}"
        if r > 0:
            assert started >= text("started")[r - 1], f"row {r} started before row {r - 1}"
        hosts = text("hosts")[r]
        assert hosts and cols["nhosts"][r] == len(hosts.split(",")), f"row {r}: hosts '{hosts}' vs {cols['nhosts'][r]}"
        assert text("slurm_job")[r] == jobs[r], f"row {r}: slurm_job '{text('slurm_job')[r]}', expected '{jobs[r]}'"
        if not closed:
            assert cols["tasks_done"][r] == 0 and cols["wall_seconds"][r] == 0, f"row {r}: end values of an unclosed row"
        elif states[r] != "error":
            assert cols["wall_seconds"][r] > 0, f"row {r}: wall_seconds {cols['wall_seconds'][r]}"
        # Each row starts where the one before left the file, unless that
        # one never closed it (a kill: its tasks are unknown) or one of
        # them failed (maybe before it counted anything).
        if r > 0 and states[r - 1] != "running" and "error" not in states[r - 1:r + 1]:
            for a, b in (("done_at_start", "tasks_done"), ("failed_at_start", "tasks_failed")):
                assert cols[a][r] == cols[a][r - 1] + cols[b][r - 1], f"row {r}: {a} {cols[a][r]} != row {r - 1}'s {cols[a][r - 1]} + {cols[b][r - 1]}"
            assert cols["work_at_start"][r] >= cols["work_at_start"][r - 1], f"row {r}: work went down"
    last = rows - 1
    if states[last] != "running":  # a killed row's tasks are unknown
        assert cols["done_at_start"][last] + cols["tasks_done"][last] == (st == 1).sum(), "last row does not add up to the file"
        assert cols["failed_at_start"][last] + cols["tasks_failed"][last] == (st == 2).sum()
    # The root attributes still describe the last segment.
    assert f.attrs["state"] == states[-1] and f.attrs["nranks"] == cols["nranks"][last]
    print(f"{path}: {rows} rows:", ", ".join(f"{s} on {n}" for s, n in zip(states, cols["nranks"])))
PY
}

# column FILE NAME ROW: one value of /segments.
column() {
    "$py" -c 'import sys, h5py
v = h5py.File(sys.argv[1], "r")["segments"][sys.argv[2]][int(sys.argv[3])]
print(v.decode() if isinstance(v, bytes) else repr(v.item()))' "$@" || fail "cannot read /segments/$2 of $1"
}

case "$case_name" in

history)
    # np ranks stopped at task 30, np + 1 stopped at the first task left,
    # 1 rank to the end (started as a SLURM array job would, without
    # mpirun). Row k starts where row k - 1 left the file, and tasks_done
    # adds up to every task.
    stop_run "$np" 30
    check_rows out.h5 interrupted "$np"
    stop_run $((np + 1)) "$(first_pending out.h5)" --resume
    work=$(work_done out.h5)
    SLURM_JOB_ID=4242 SLURM_ARRAY_TASK_ID=7 expect_rc 0 "$app" c.ini -o out.h5 -q --resume
    check_rows out.h5 interrupted,interrupted,complete "$np,$((np + 1)),1" ,,4242_7
    "$py" - out.h5 "$work" <<'PY' || fail "tasks_done or work_at_start wrong"
import sys, h5py
g = h5py.File(sys.argv[1], "r")["segments"]
assert g["tasks_done"][:].sum() == 400, g["tasks_done"][:]
assert all(g["tasks_done"][:] > 0), g["tasks_done"][:]
want, got = float(sys.argv[2]), g["work_at_start"][2]
assert want > 0 and abs(got - want) <= 1e-9 * want, f"work_at_start {got}, expected {want}"
PY
    ;;

history_killed)
    # kill -9 once a few tasks are done: the row stays "running" with no
    # finished time, and the resume adds its own row after it.
    mkdir pids
    SHOAL_TEST_SPIN_US=100000 SHOAL_TEST_PID_DIR=$work/pids setsid "$SHOAL_MPIEXEC" \
        "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$app" "${postflags[@]}" c.ini -o out.h5 -q &
    pid=$!
    for _ in $(seq 1 300); do
        sleep 0.05
        out=$("$check" counts out.h5 2>/dev/null) || continue
        d=${out#*done=}
        d=${d%% *}
        [[ ${d:-0} -ge 2 ]] && break
    done
    # The whole session: every rank has a process group of its own.
    pkill -KILL -s "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
    out=$("$check" counts out.h5) || fail "killed run's file unreadable"
    [[ $out != "pending=0 "* ]] || fail "the run finished before the kill: $out"
    check_rows out.h5 running "$np"
    done_before=${out#*done=}
    done_before=${done_before%% *}
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o out.h5 -q --resume
    check_rows out.h5 running,complete "$np,$np"
    [[ $(column out.h5 done_at_start 1) == "$done_before" ]] ||
        fail "done_at_start $(column out.h5 done_at_start 1), expected $done_before (the file after the kill)"
    # shoal status: the killed segment by what it did (the next one's start).
    "$SHOAL_BUILD/tools/shoal" status out.h5 >status.txt 2>&1 || fail "shoal status: $(cat status.txt)"
    grep -Eq "^ +0 +[-0-9T:Z]+ +- +killed +$np +[^ ]+ +$done_before +0 +-$" status.txt ||
        fail "the killed segment is not shown as killed with $done_before done: $(cat status.txt)"
    ;;

history_old)
    # A file from before /segments: its resume makes one row for the
    # earlier run from the root attributes, then its own.
    stop_run "$np" 30
    started=$("$py" -c 'import h5py; print(h5py.File("out.h5", "r").attrs["started"])')
    "$py" -c 'import h5py
with h5py.File("out.h5", "a") as f:
    del f["segments"]' || fail "cannot remove /segments"
    cp out.h5 old.h5
    done_before=$("$check" counts out.h5)
    done_before=${done_before#*done=}
    done_before=${done_before%% *}
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o out.h5 -q --resume
    check_rows out.h5 interrupted,complete "$np,$np"
    [[ $(column out.h5 started 0) == "$started" ]] || fail "the earlier run's row: started $(column out.h5 started 0), expected $started"
    [[ $(column out.h5 tasks_done 0) == "$done_before" ]] || fail "the earlier run's row: tasks_done $(column out.h5 tasks_done 0), expected $done_before"

    # A damaged /segments (a column of another type; one that cannot grow)
    # is refused before anything is written.
    "$py" -c 'import h5py, numpy as np, shutil
for name, col, make in (("type.h5", "nranks", lambda g: g.create_dataset("nranks", data=np.zeros(2), maxshape=(None,))),
                        ("fixed.h5", "state", lambda g: g.create_dataset("state", data=np.array([b"x"] * 2, dtype="S16")))):
    shutil.copy("out.h5", name)
    with h5py.File(name, "a") as f:
        del f["segments"][col]
        make(f["segments"])' || fail "cannot damage the copies"
    for bad in type.h5:nranks:32-bit\ integers fixed.h5:state:fixed-length\ strings; do
        IFS=: read -r file col what <<<"$bad"
        before=$(sum_of "$file")
        mpirun_n "$np" "$app" c.ini -o "$file" -q --resume 2>bad.err
        rc=$?
        [[ $rc -eq 2 ]] || fail "damaged /segments/$col: exit $rc, expected 2"
        grep -qF "dataset /segments/$col is not a growing 1-D column of $what" bad.err ||
            fail "damaged /segments/$col: $(grep shoal: bad.err)"
        [[ $(sum_of "$file") == "$before" ]] || fail "damaged /segments/$col: the file was modified"
    done

    # A failure on one rank while the row is added: every rank exits 4 (no
    # hang) and the row says "error"; the next resume goes on after it.
    # Creating: nothing is left.
    last=$((np - 1))
    SHOAL_TEST_FAIL_AT=segments:$last timeout 120 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" \
        "${preflags[@]}" "$app" "${postflags[@]}" c.ini -o new.h5 -q 2>fail.err
    rc=$?
    [[ $rc -eq 4 ]] || fail "create, failure at segments: exit $rc, expected 4 (124: a hang)"
    [[ -z $(find . -maxdepth 1 -name 'new.h5*') ]] || fail "create, failure at segments: left $(find . -name 'new.h5*')"
    SHOAL_TEST_FAIL_AT=segments:$last timeout 120 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" \
        "${preflags[@]}" "$app" "${postflags[@]}" c.ini -o old.h5 -q --resume 2>fail.err
    rc=$?
    [[ $rc -eq 4 ]] || fail "resume, failure at segments: exit $rc, expected 4 (124: a hang)"
    [[ ! -e old.h5.lock ]] || fail "resume, failure at segments: lock left behind"
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o old.h5 -q --resume
    check_rows old.h5 interrupted,error,complete "$np,$np,$np"
    ;;

*)
    fail "unknown case '$case_name'"
    ;;
esac
case_passed
