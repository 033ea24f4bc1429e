#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI tests of [input]: HDF5 datasets, file lists and a result file's scan
# points as the task list (lib/src/input*.c), with real ranks and files made
# by h5py.
#
#   input_cases.sh CASE NRANKS
#
# The environment, the work directory and the helpers: common.sh. No check
# depends on which rank ran which task.
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

app=$SHOAL_BUILD/tests/mpi/input_app
py=${SHOAL_PYTHON:?SHOAL_PYTHON is not set}
# Every case reads or writes files with h5py: without it the case fails.
need_h5py

# make_data DIR: DIR/data.h5 with /x float64 [1003] (contiguous), /y int32
# [1003 x 3] (chunked, gzip), /z float32 [1003], and the bad ones: /s
# strings, /c compound, /three [1003 x 2 x 2], /empty [0], /short [1002],
# a group /grp; DIR/notes.txt is not HDF5.
make_data() {
    "$py" - "$1" <<'PY' || fail "cannot make the input data"
import sys, h5py, numpy as np
rng = np.random.default_rng(20261122)
n = 1003
with h5py.File(sys.argv[1] + "/data.h5", "w") as f:
    f.create_dataset("x", data=rng.normal(size=n) * 3.7 + 0.25)
    f.create_dataset("y", data=rng.integers(-1000, 1000, size=(n, 3)).astype(np.int32),
                     chunks=(64, 3), compression="gzip")
    f.create_dataset("z", data=(rng.normal(size=n) * 100).astype(np.float32))
    f["s"] = np.array([b"ab"] * n)
    f["c"] = np.zeros(n, dtype=[("a", "f8"), ("b", "i4")])
    f["three"] = np.zeros((n, 2, 2))
    f["empty"] = np.zeros(0)
    f["short"] = np.zeros(n - 1)
    f.create_group("grp")
    assert f["y"].compression == "gzip" and f["y"].chunks == (64, 3)
open(sys.argv[1] + "/notes.txt", "w").write("not HDF5\n")
PY
}

# check_rows OUT DATA NTASKS: each task's partials of /x, /y, /z against
# numpy, and the tasks' rows cover the data once, in order.
check_rows() {
    "$py" - "$@" <<'PY' || fail "per-task partials of $1 differ from numpy (see above)"
import sys, h5py, numpy as np
out, data, ntasks = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(data, "r") as d, h5py.File(out, "r") as f:
    arrs = [d[n][:] for n in ("x", "y", "z")]
    n = len(arrs[0])
    assert f.attrs["ntasks"] == ntasks, (f.attrs["ntasks"], ntasks)
    assert (f["tasks/status"][:] == 1).all()
    r = {k: f["results"][k][:] for k in f["results"]}
    off, rows = r["offset"], r["rows0"]
    assert rows.sum() == n and off[0] == 0, (rows.sum(), off[:3])
    assert (off[1:] == np.cumsum(rows)[:-1]).all(), "offsets not contiguous"
    assert (r["path_len"] == -1).all()
    for k, a in enumerate(arrs):
        a2 = a.reshape(n, -1)
        assert (r[f"rows{k}"] == rows).all() and (r[f"cols{k}"] == a2.shape[1]).all()
        for t in range(ntasks):
            s = a2[off[t]:off[t] + rows[t]]
            sd = s.astype(np.float64)
            tol = 1e-12 * np.abs(sd).sum()
            assert abs(r[f"sum{k}"][t] - sd.sum()) <= tol, (k, t, r[f"sum{k}"][t], sd.sum())
            assert r[f"min{k}"][t] == sd.min() and r[f"max{k}"][t] == sd.max(), (k, t)
            assert r[f"isum{k}"][t] == s.astype(np.int64).sum(), (k, t)
print(f"{out}: {ntasks} tasks match numpy; rows 0..{n} covered once")
PY
}

case "$case_name" in

input_rows)
    # An HDF5 file's datasets (float64 contiguous, int32 chunked+gzip,
    # float32) in slices of rows_per_task or bytes_per_task rows.
    cd "$work" || fail "cd"
    make_data "$work"
    printf '[input]\nfile = data.h5\ndatasets = /x, y, /z\nrows_per_task = 97\n[input_app]\ndatasets = 3\n' >rows.ini
    mpirun_n 1 "$app" rows.ini -n >dry.txt || fail "dry run failed"
    grep -qF "input:    HDF5 file data.h5 (" dry.txt || fail "dry run lacks the input: $(cat dry.txt)"
    grep -qF "1003 rows, 97 per task" dry.txt || fail "dry run lacks rows: $(cat dry.txt)"
    grep -qF "datasets: /x float64 [1003], /y int32 [1003 x 3], /z float32 [1003]" dry.txt ||
        fail "dry run lacks the shapes: $(cat dry.txt)"
    grep -qF "tasks:    11" dry.txt || fail "dry run lacks the task count: $(cat dry.txt)"
    [[ ! -e input_app.h5 ]] || fail "the dry run wrote a file"
    expect_rc 0 mpirun_n "$np" "$app" rows.ini -o rows.h5 -q
    check_rows rows.h5 data.h5 11
    # 2k bytes per task over 8 + 24 + 8 bytes a row: 51 rows, 20 tasks; a
    # [run] tasks that agrees is accepted.
    printf '[run]\ntasks = 20\n[input]\nfile = data.h5\ndatasets = /x, /y, /z\nbytes_per_task = 2k\n[input_app]\ndatasets = 3\n' >bytes.ini
    expect_rc 0 mpirun_n "$np" "$app" bytes.ini -o bytes.h5 -q
    check_rows bytes.h5 data.h5 20
    # One rank or many: the same file.
    expect_rc 0 mpirun_n 1 "$app" bytes.ini -o one.h5 -q
    h5diff one.h5 bytes.h5 /results || fail "results differ between 1 and $np ranks"
    "$py" - <<'PY' || fail "/input describes the input wrongly"
import os, h5py
st = os.stat("data.h5")
with h5py.File("rows.h5", "r") as f:
    a = f["input"].attrs
    assert a["kind"] == "hdf5" and a["file"] == "data.h5", dict(a)
    assert a["datasets"] == "/x, /y, /z" and a["rows"] == 1003 and a["rows_per_task"] == 97
    assert a["shapes"] == "/x float64 [1003], /y int32 [1003 x 3], /z float32 [1003]"
    assert a["size"] == st.st_size and a["mtime_ns"] == st.st_mtime_ns, (a["mtime_ns"], st.st_mtime_ns)
    assert "input.kind = hdf5\n" in f.attrs["fingerprint"]
print("/input ok")
PY
    # Tasks that do not read the data; the default 16M per task (one task).
    printf '[input]\nfile = data.h5\ndatasets = /y\n[input_app]\ndatasets = 0\n' >noread.ini
    expect_rc 0 mpirun_n "$np" "$app" noread.ini -o noread.h5 -q
    "$py" -c "import h5py; f = h5py.File('noread.h5'); assert f.attrs['ntasks'] == 1 and f['tasks/status'][0] == 1" ||
        fail "a run that reads nothing did not complete"
    # A dataset the input does not have, and a run without [input]: the task
    # fails with a message, the run goes on (exit 1).
    mpirun_n "$np" "$app" rows.ini -o badk.h5 -q --set input_app.bad_index=3 2>/dev/null
    [[ $? -eq 1 ]] || fail "asking for dataset 3 of 3: expected exit 1"
    printf '[run]\ntasks = 4\n' >none.ini
    mpirun_n "$np" "$app" none.ini -o none.h5 -q 2>/dev/null
    [[ $? -eq 1 ]] || fail "accessor without [input]: expected exit 1"
    "$py" - <<'PY' || fail "misuse failures not recorded as expected"
import h5py
for path, want, n in (("badk.h5", b"input dataset 3 does not exist", 11),
                      ("none.h5", b"this run has no [input] section", 4)):
    with h5py.File(path, "r") as f:
        assert (f["tasks/status"][:] == 2).all(), path
        t, m = f["failures/task"][:], f["failures/message"][:]
        msgs = m[t >= 0]
        assert len(msgs) == n and all(want in s for s in msgs), (path, msgs[:2])
print("misuse ok")
PY
    ;;

input_files)
    # One task per file of a glob or a list; a corrupt file and one without
    # the dataset fail their tasks with the file named; the rest are read.
    cd "$work" || fail "cd"
    mkdir frames sub
    "$py" - <<'PY' || fail "cannot make the frames"
import h5py, numpy as np
rng = np.random.default_rng(7)
shapes = {0: (10,), 1: (4, 3), 3: (7,), 5: (5,)}
types = {0: np.float64, 1: np.int16, 3: np.float32, 5: np.int64}
for i in range(6):
    p = f"frames/f{i}.h5"
    if i == 2:
        open(p, "wb").write(b"\x89HDF\r\n\x1a\n" + bytes(200))   # corrupt
        continue
    with h5py.File(p, "w") as f:
        if i == 4:
            f["other"] = np.zeros(3)
        else:
            f["frame"] = (rng.normal(size=shapes[i]) * 50).astype(types[i])
PY
    printf '[input]\nfiles = frames/f*.h5\ndatasets = /frame\n[input_app]\ndatasets = 1\n' >glob.ini
    mpirun_n "$np" "$app" glob.ini -o glob.h5 >glob.out 2>glob.err
    rc=$?
    [[ $rc -eq 1 ]] || fail "glob with a corrupt file: exit $rc, expected 1: $(cat glob.err)"
    # A list in another directory: relative paths from there, comments,
    # blank lines, an absolute path.
    printf '# frames\n\n../frames/f0.h5\n  ../frames/f1.h5  \n# f2 is corrupt\n%s/frames/f3.h5\n../frames/f5.h5\n' "$work" >sub/paths.txt
    printf '[input]\nlist = sub/paths.txt\ndatasets = frame\n[input_app]\ndatasets = 1\n' >list.ini
    expect_rc 0 mpirun_n "$np" "$app" list.ini -o list.h5 -q
    # Without datasets: tasks get their paths only.
    printf '[input]\nlist = sub/paths.txt\n[input_app]\ndatasets = 0\n' >paths.ini
    mpirun_n 1 "$app" paths.ini -n >dry.txt || fail "dry run failed"
    grep -qF "input:    4 files from the list sub/paths.txt (first sub/../frames/f0.h5, last sub/../frames/f5.h5)" dry.txt ||
        fail "dry run lacks the file list: $(cat dry.txt)"
    expect_rc 0 mpirun_n "$np" "$app" paths.ini -o paths.h5 -q
    "$py" - "$work" <<'PY' || fail "file-list results wrong (see above)"
import os, sys, h5py, numpy as np
work = sys.argv[1]
def check(out, paths, failed):
    with h5py.File(out, "r") as f:
        got = [p.decode() for p in f["input/path"][:]]
        assert got == paths, (got, paths)
        assert list(f["input/size"][:]) == [os.stat(p).st_size for p in paths]
        assert list(f["input/mtime"][:]) == [os.stat(p).st_mtime_ns for p in paths]
        assert f["input"].attrs["count"] == len(paths)
        st = f["tasks/status"][:]
        r = {k: f["results"][k][:] for k in f["results"]}
        assert (r["path_len"] == [len(p) for p in paths]).all()
        assert (r["offset"] == 0).all()
        for t, p in enumerate(paths):
            if t in failed:
                assert st[t] == 2, (out, t, st)
                continue
            assert st[t] == 1, (out, t, st)
            if "datasets = 0" in f.attrs["config"]:
                continue
            a = h5py.File(p, "r")["frame"][:]
            a2 = a.reshape(a.shape[0], -1)
            assert r["rows0"][t] == a2.shape[0] and r["cols0"][t] == a2.shape[1], (t, a.shape)
            sd = a2.astype(np.float64)
            assert abs(r["sum0"][t] - sd.sum()) <= 1e-12 * np.abs(sd).sum()
            assert r["min0"][t] == sd.min() and r["max0"][t] == sd.max()
            assert r["isum0"][t] == a2.astype(np.int64).sum()
        msgs = {int(t): m.decode() for t, m in zip(f["failures/task"][:], f["failures/message"][:]) if t >= 0}
        return msgs
g = [f"frames/f{i}.h5" for i in range(6)]
msgs = check("glob.h5", g, {2, 4})
assert sorted(msgs) == [2, 4], msgs
assert msgs[2].startswith("input 'frames/f2.h5': cannot open it: not an HDF5 file"), msgs[2]
assert msgs[4] == "input 'frames/f4.h5': no dataset '/frame'", msgs[4]
lst = ["sub/../frames/f0.h5", "sub/../frames/f1.h5", f"{work}/frames/f3.h5", "sub/../frames/f5.h5"]
assert check("list.h5", lst, set()) == {}
assert check("paths.h5", lst, set()) == {}
print("file lists ok")
PY
    # Asking for a dataset of an input that names none fails the task.
    mpirun_n "$np" "$app" paths.ini -o nodata.h5 -q --set input_app.datasets=1 2>/dev/null
    [[ $? -eq 1 ]] || fail "accessor on a file list without datasets: expected exit 1"
    "$py" -c "
import h5py
f = h5py.File('nodata.h5', 'r')
m = f['failures/message'][:][f['failures/task'][:] >= 0]
assert len(m) == 4 and all(s.startswith(b'[input] names no datasets') for s in m), m" ||
        fail "a file list without datasets: wrong failures"
    grep -q "4 done, 2 failed" glob.out || fail "summary does not count 2 failures: $(cat glob.out)"
    grep -q "input 'frames/f2.h5'" glob.err || fail "the corrupt file is not named on stderr: $(cat glob.err)"
    ;;

input_points)
    # group_by = point over a result file of mc_pi's scan: one task per
    # point, its done replicates only (failed and pending ones left out).
    cd "$work" || fail "cd"
    printf '[run]\nseed = 5\n[mc_pi]\n[scan]\nsamples = 1000, 2000, 3000, 4000\n[sampling]\nreplicates = 4\n' >scan.ini
    expect_rc 0 mpirun_n "$np" "$mc_pi" scan.ini -o scan.h5 -q
    "$py" - <<'PY' || fail "cannot edit the scan's statuses"
import h5py
with h5py.File("scan.h5", "r+") as f:
    st = f["tasks/status"]
    st[1] = 2          # point 0: a failed replicate
    st[6] = 0          # point 1: a pending one
    st[12:16] = [2, 0, 3, 2]   # point 3: none done
PY
    printf '[input]\nfile = scan.h5\ndatasets = /results/pi, /params/samples, /results/hits\ngroup_by = point\n[input_app]\ndatasets = 3\n' >points.ini
    mpirun_n 1 "$app" points.ini -n >dry.txt || fail "dry run failed"
    grep -qF "input:    scan points of scan.h5" dry.txt || fail "dry run lacks the points: $(cat dry.txt)"
    grep -qF "4 points x 4 replicates (16 rows" dry.txt || fail "dry run lacks the shape: $(cat dry.txt)"
    expect_rc 0 mpirun_n "$np" "$app" points.ini -o points.h5 -q
    "$py" - <<'PY' || fail "per-point partials differ from numpy (see above)"
import h5py, numpy as np
with h5py.File("scan.h5", "r") as s, h5py.File("points.h5", "r") as f:
    st = s["tasks/status"][:]
    cols = [s["results/pi"][:], s["params/samples"][:], s["results/hits"][:]]
    assert f.attrs["ntasks"] == 4 and (f["tasks/status"][:] == 1).all()
    r = {k: f["results"][k][:] for k in f["results"]}
    assert list(r["offset"]) == [0, 4, 8, 12], r["offset"]
    assert list(r["rows0"]) == [3, 3, 4, 0], r["rows0"]
    for p in range(4):
        done = np.arange(4 * p, 4 * p + 4)[st[4 * p:4 * p + 4] == 1]
        for k, c in enumerate(cols):
            v = c[done].astype(np.float64)
            assert r[f"rows{k}"][p] == len(done) and r[f"cols{k}"][p] == 1
            assert abs(r[f"sum{k}"][p] - v.sum()) <= 1e-12 * np.abs(v).sum(), (p, k)
            if len(v):
                assert r[f"min{k}"][p] == v.min() and r[f"max{k}"][p] == v.max(), (p, k)
                assert r[f"isum{k}"][p] == c[done].astype(np.int64).sum(), (p, k)
        assert (s["tasks/point"][:][done] == p).all()
    assert f["input"].attrs["kind"] == "points"
print("points ok")
PY
    ;;

input_resume)
    # A file with /input resumes; a changed input is refused, file untouched.
    cd "$work" || fail "cd"
    make_data "$work"
    printf '[input]\nfile = data.h5\ndatasets = /x, /y, /z\nrows_per_task = 50\n[input_app]\ndatasets = 3\n' >c.ini
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o ref.h5 -q
    cp ref.h5 run.h5
    # As if interrupted: some tasks pending or running again.
    "$py" -c "import h5py; f = h5py.File('run.h5', 'r+'); s = f['tasks/status']; s[3:9] = 0; s[15] = 3; f.attrs['state'] = 'interrupted'" ||
        fail "cannot edit statuses"
    expect_rc 0 mpirun_n "$np" "$app" c.ini -o run.h5 -q --resume
    h5diff ref.h5 run.h5 /results || fail "resumed results differ from an uninterrupted run"
    # The data changes: same shapes, new values (size or mtime differ).
    sleep 0.01
    "$py" -c "import h5py; f = h5py.File('data.h5', 'r+'); f['x'][0] = 1e6" || fail "cannot edit data"
    "$py" -c "import h5py; f = h5py.File('run.h5', 'r+'); f['tasks/status'][0] = 0" || fail "cannot edit statuses"
    before=$(sum_of run.h5)
    mpirun_n "$np" "$app" c.ini -o run.h5 --resume 2>err.txt
    rc=$?
    [[ $rc -eq 2 ]] || fail "resume with a changed input: exit $rc, expected 2"
    grep -q "cannot resume 'run.h5': it holds a different run" err.txt || fail "no fingerprint message: $(cat err.txt)"
    grep -q "input.mtime" err.txt || fail "the changed input is not named: $(cat err.txt)"
    [[ $(grep -c "shoal: error" err.txt) -eq 1 ]] || fail "expected one error line: $(cat err.txt)"
    [[ $(sum_of run.h5) == "$before" ]] || fail "the refused resume modified the file"
    # A file list that gains a file.
    mkdir frames
    "$py" -c "
import h5py, numpy as np
for i in range(3):
    h5py.File(f'frames/f{i}.h5', 'w')['frame'] = np.arange(i + 2.0)" || fail "cannot make frames"
    printf '[input]\nfiles = frames/*.h5\ndatasets = /frame\n' >l.ini
    expect_rc 0 mpirun_n "$np" "$app" l.ini -o l.h5 -q
    cp frames/f0.h5 frames/f3.h5
    "$py" -c "import h5py; f = h5py.File('l.h5', 'r+'); f['tasks/status'][0] = 0" || fail "cannot edit statuses"
    before=$(sum_of l.h5)
    mpirun_n "$np" "$app" l.ini -o l.h5 --resume 2>err2.txt
    [[ $? -eq 2 ]] || fail "resume with a longer file list: expected exit 2"
    grep -q "input.count: 3 vs. 4" err2.txt || fail "the count change is not named: $(cat err2.txt)"
    [[ $(sum_of l.h5) == "$before" ]] || fail "the refused resume modified the file list's output"
    ;;

input_bad)
    # Each bad input: exit 2, one clear line, no output written or clobbered.
    cd "$work" || fail "cd"
    make_data "$work"
    mkdir empty_dir
    printf 'data.h5\n\ngone.h5\n' >paths.txt
    printf '# nothing\n\n' >nothing.txt
    printf '[run]\ntasks = 4\n[mc_pi]\nsamples = 10\n' >pi.ini
    expect_rc 0 mpirun_n 1 "$mc_pi" pi.ini -o pi.h5 -q
    i=0
    one_error_line=1 # every input mistake is reported alone
    data_sum=$(sum_of data.h5)
    f='[input]\nfile = data.h5\n'
    check_bad '[input]\nfile = nope.h5\ndatasets = /x\n' "bad1.ini:2: [input] file 'nope.h5' does not exist (relative to the current directory $work)"
    check_bad "${f}datasets = /x, /nope\n" "bad2.ini:3: [input] datasets: 'data.h5' has no dataset '/nope'"
    check_bad "${f}datasets = /s\n" "bad3.ini:3: [input] datasets: '/s' in 'data.h5' holds string values, not numbers"
    check_bad "${f}datasets = /c\n" "'/c' in 'data.h5' holds compound values, not numbers"
    check_bad "${f}datasets = /three\n" "'/three' in 'data.h5' has 3 dimensions; it must be 1-D (rows) or 2-D"
    check_bad "${f}datasets = /empty\n" "'/empty' in 'data.h5' has no rows"
    check_bad "${f}datasets = /x\nrows_per_task = 0\n" "bad$((i + 1)).ini:4: [input] rows_per_task = '0' is out of range"
    check_bad "${f}datasets = /x\nrows_per_task = 5000\n" "bad$((i + 1)).ini:4: [input] rows_per_task = 5000 is more than the 1003 rows of the datasets in 'data.h5'"
    check_bad "${f}datasets = /x, /short\n" "'/short' in 'data.h5' has 1002 rows but /x has 1003"
    check_bad '[input]\nfiles = empty_dir/*.h5\n' "bad$((i + 1)).ini:2: [input] files = 'empty_dir/*.h5' matches no file"
    check_bad '[input]\nlist = paths.txt\n' "paths.txt:3: input file 'gone.h5' does not exist ([input] list at bad$((i + 1)).ini:2)"
    check_bad "${f}datasets = /x\n" "bad$((i + 1)).ini:2: [input] file 'data.h5' is the output file 'data.h5' itself" -o data.h5 --force
    [[ $(sum_of data.h5) == "$data_sum" ]] || fail "the input named as the output was modified"
    rm -f out$i.h5
    check_bad "${f}datasets = /x\nrows_per_tsk = 3\n" "bad$((i + 1)).ini:4: unknown key 'rows_per_tsk' in [input]; known keys: file, files, list, datasets, rows_per_task, bytes_per_task, group_by"
    check_bad "${f}files = *.h5\ndatasets = /x\n" "bad$((i + 1)).ini:3: [input] files cannot be given with file (at bad$((i + 1)).ini:2)"
    check_bad "${f}datasets = /x\ngroup_by = point\n" "bad$((i + 1)).ini:2: [input] group_by = point: 'data.h5' is not a Shoal result file"
    check_bad '[input]\nfile = pi.h5\ndatasets = /results/pi\ngroup_by = point\n' "[input] group_by = point: the result file 'pi.h5' was not made by a [scan]"
    check_bad "${f}datasets = /x\n[scan]\ndatasets = 1, 2\n" "bad$((i + 1)).ini:2: [input] cannot be combined with [scan]"
    check_bad "[run]\ntasks = 7\n${f}datasets = /x\nrows_per_task = 100\n" "bad$((i + 1)).ini:2: [run] tasks = 7, but the input makes 11 tasks"
    check_bad "${f}datasets = /x\nbytes_per_task = 12X\n" "bad$((i + 1)).ini:4: [input] bytes_per_task = '12X' is not a size"
    check_bad "${f}datasets = /x\nbytes_per_task = 1M\nrows_per_task = 3\n" "bad$((i + 1)).ini:4: [input] bytes_per_task cannot be given with rows_per_task"
    check_bad "${f}datasets = /x\ngroup_by = replicate\n" "[input] group_by = 'replicate' is not known"
    check_bad '[input]\nfile = notes.txt\ndatasets = /x\n' "bad$((i + 1)).ini:2: [input] file 'notes.txt' is not an HDF5 file, or it is damaged"
    check_bad "$f" "bad$((i + 1)).ini:2: [input] datasets is missing"
    check_bad '[input]\nfiles = *.h5\nrows_per_task = 3\n' "bad$((i + 1)).ini:3: [input] rows_per_task does not apply to files"
    check_bad '[input]\nlist = nothing.txt\n' "[input] list file 'nothing.txt' lists no files"
    check_bad '[input]\nlist = nolist.txt\n' "bad$((i + 1)).ini:2: [input] list file 'nolist.txt' cannot be read"
    check_bad "${f}datasets = /grp\n" "'/grp' in 'data.h5' is not a dataset"
    check_bad '[input]\ndatasets = /x\n' "bad$((i + 1)).ini:2: [input] names no input"
    check_bad "${f}datasets = /x, x\n" "[input] datasets lists '/x' twice"
    # A failure while creating /input on one rank: every rank stops (no
    # hang), nothing is left behind.
    printf '[input]\nfile = data.h5\ndatasets = /x\n' >ok.ini
    SHOAL_TEST_FAIL_AT=input:$((np - 1)) timeout 120 "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" \
        "$app" "${postflags[@]}" ok.ini -o inj.h5 2>inj.err
    rc=$?
    [[ $rc -eq 4 ]] || fail "injected failure at /input: exit $rc, expected 4 (124: a hang): $(cat inj.err)"
    [[ ! -e inj.h5 && ! -e inj.h5.part ]] || fail "injected failure at /input left a file"
    grep -q "cannot set up output file 'inj.h5'" inj.err || fail "no set-up message: $(cat inj.err)"
    echo "bad: $i bad inputs checked"
    ;;

*)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac

case_passed
