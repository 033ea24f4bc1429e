#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the peaks app with its producer and checker (apps/peaks/).
#
#   run_peaks.sh CASE NRANKS
#
# files     40 frames from produce_frames.py (seed fixed, rate 0) in
#           frames/, then configs/peaks_files.ini as shipped from that
#           directory on NRANKS ranks: exit 0, check_peaks.py passes (recall,
#           precision >= 0.95, RMS <= 0.3 px, every frame done once), and
#           at more than 1 rank /results equal a 1-rank run's (h5diff).
# bad       12 frames, one of them (in the truth) then truncated, and bad
#           ones beside them: a text file named .h5, a frame without
#           /image, a 1-D /image, a 4 x 4 frame, a frame with a NaN pixel.
#           Exit 1 (tasks failed); each bad task failed with a message
#           naming its file and the reason, the good ones done;
#           check_peaks.py --allow-missing passes, and fails without it,
#           naming the truncated frame.
# checker   check_peaks.py fails, with its reason, on copies of a good
#           result file: every x moved by 0.5 px (RMS), a third of the frames
#           with no peaks (recall), a spurious peak added to every frame
#           (precision), a task's status set to failed (a frame missing),
#           two tasks on one file (a duplicate), a truth with a frame no task
#           ran; the unchanged file passes.
# odd       frames of other kinds, all done (exit 0): a constant frame (no
#           peak, noise 0), a peak at a corner, one clipped flat at its top
#           (found once), 8 x 8 and 20 x 200 frames (x is the column), an
#           int16 frame, 36 peaks (the 16 brightest kept), and a blob of
#           sigma 8: measured by centroid in the 11 x 11 box (the fit
#           cannot hold it), fitted with window = 15.
# producer  produce_frames.py: a run continued with --start writes the
#           same frames and truth as one run; no hidden .part file is left;
#           --sentinel is made after the last frame; --rate paces the frames;
#           bad options, and frames the truth already has, exit 2.
# stream    configs/peaks_stream.ini as shipped on NRANKS ranks, frames
#           arriving while it runs: 5 frames before the start, 55 more at 40
#           a second once its file exists, then frames/END. Exit 0, 60 done;
#           check_peaks.py passes (no --allow-missing); /stream holds each
#           frame once with its size and mtime, its times in order; frames
#           were done while others were still to come (a stream, not a
#           batch at the end); a copy with two rows on one frame in
#           /stream/source fails check_peaks.py.
# stream_resume
#           the same config killed mid-stream: 80 frames, small ones at 20 a
#           second and a burst of 24 large ones (a backlog), then END;
#           SIGKILL of the whole job once 15 tasks are done and one recorded
#           in the file is not; frames still arriving while nothing runs;
#           then the same command with --resume until END: exit 0;
#           check_peaks.py passes (every frame of the truth done once across
#           the two runs); /stream holds each frame once; against a copy
#           taken before the resume, the rows done before the kill are
#           unchanged (same frame, results and times: not run again), those
#           recorded and not done keep their frame and are done; frames had
#           arrived that the killed run never saw.
# stream_bad
#           bad files arriving among good frames (renamed into frames/ under
#           *.h5 names): a truncated frame of the truth and a text file.
#           Exit 1; those two tasks failed with a message naming their file,
#           all others done, the stream went on to END; check_peaks.py
#           --allow-missing passes, and without it fails naming the truncated
#           frame. Then a watched directory that does not exist: exit 2, the
#           message names it, no output file.
#
# No check depends on which rank ran which task. The environment, the work
# directory and the helpers: tests/mpi/common.sh.

# shellcheck source=../../mpi/common.sh
source "$SHOAL_SRC/tests/mpi/common.sh"
peaks=$SHOAL_BUILD/apps/peaks/peaks
produce=$SHOAL_SRC/apps/peaks/produce_frames.py
checker=$SHOAL_SRC/apps/peaks/check_peaks.py
config=$SHOAL_SRC/configs/peaks_files.ini
py=${SHOAL_PYTHON:?SHOAL_PYTHON is not set}
need_h5py
cd "$work" || exit 1

# expect_check WANT_RC 'message part' CHECKER-ARGS...: the checker exits
# WANT_RC and says the message part.
expect_check() {
    local want=$1 msg=$2
    shift 2
    "$py" "$checker" "$@" >check.out 2>&1
    local rc=$?
    [[ $rc -eq $want ]] || fail "check_peaks.py $*: exit $rc, expected $want: $(cat check.out)"
    grep -qF -- "$msg" check.out || fail "check_peaks.py $*: no '$msg' in: $(cat check.out)"
}

# The stream cases: configs/peaks_stream.ini as shipped, from $work.
stream_config=$SHOAL_SRC/configs/peaks_stream.ini

# start_stream OUT ERR [options...]: the stream config in the background on
# np ranks in a session of its own (so that a kill reaches every rank);
# returns once its result file exists (the directory is watched by then).
# The job's pid (and session id) is in $job.
start_stream() {
    local out=$1 err=$2
    shift 2
    echo "+ setsid $SHOAL_MPIEXEC $SHOAL_NPFLAG $np ... $peaks $stream_config $*" >&2
    setsid "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$peaks" "${postflags[@]}" \
        "$stream_config" "$@" >"$out" 2>"$err" &
    job=$!
    for _ in $(seq 1 600); do
        [[ -f peaks_stream.h5 ]] && return 0
        kill -0 "$job" 2>/dev/null || fail "peaks ended before its file existed: $(cat "$err")"
        sleep 0.05
    done
    fail "no peaks_stream.h5 after 30 s: $(cat "$err")"
}

# check_stream FILE N [FAILED...]: /stream of FILE holds frames/frame_000000.h5
# .. frame_{N-1} and the FAILED paths, each once, one row per task, with the
# size and mtime the files have, the times in order; the tasks done, but
# the FAILED ones failed; the run complete.
check_stream() {
    "$py" - "$@" <<'PY' || fail "/stream of $1 is not as expected (see above)"
import collections, os, sys
import h5py, numpy as np
out, n, bad = sys.argv[1], int(sys.argv[2]), set(sys.argv[3:])
with h5py.File(out, "r") as f:
    ntasks = int(f.attrs["ntasks"])
    state = f.attrs["state"]
    state = state.decode() if isinstance(state, bytes) else state
    s = {k: f["stream"][k][()] for k in f["stream"]}
    assert s.pop("complete") == len(s["source"]), "/stream/complete is not every row"
    status = f["tasks/status"][:]
src = [p.decode() for p in s["source"]]
assert state == "complete", f"state {state}"
assert ntasks == len(src) == len(status), (ntasks, len(src), len(status))
for k, v in s.items():
    assert len(v) == ntasks, f"/stream/{k} has {len(v)} rows for {ntasks} tasks"
dup = [p for p, c in collections.Counter(src).items() if c > 1]
assert not dup, f"frames in more than one row: {dup[:5]}"
want = {f"frames/frame_{i:06d}.h5" for i in range(n)} | bad
assert set(src) == want, (f"missing {sorted(want - set(src))[:5]}, "
                          f"extra {sorted(set(src) - want)[:5]}")
for i, p in enumerate(src):
    st = os.stat(p)
    assert s["size"][i] == st.st_size, (p, s["size"][i], st.st_size)
    assert s["mtime"][i] == st.st_mtime_ns, (p, s["mtime"][i], st.st_mtime_ns)
    assert s["arrived"][i] > 1.6e9, (p, s["arrived"][i])
    assert s["arrived"][i] >= st.st_mtime_ns * 1e-9 - 1e-3, (p, s["arrived"][i], st.st_mtime_ns)
    want_status = 2 if p in bad else 1
    assert status[i] == want_status, f"{p}: status {status[i]}, expected {want_status}"
    t = [s[k][i] for k in ("arrived", "started", "finished", "stored")]
    assert all(a <= b for a, b in zip(t, t[1:])), f"{p}: times out of order {t}"
lat = s["finished"] - s["arrived"]
print(f"{out}: /stream has {ntasks} items, each once; arrival to finish: median "
      f"{np.median(lat) * 1e3:.1f} ms, max {lat.max() * 1e3:.1f} ms")
PY
}

# kill_job: SIGKILL to mpirun and every rank (its session), and wait until
# none is left but zombies (dead, their parent gone; reaped by init
# later).
kill_job() {
    pkill -KILL -s "$job" 2>/dev/null
    wait "$job" 2>/dev/null
    while pgrep -s "$job" -r R,S,D,T,t >/dev/null; do sleep 0.05; done
    job=
}

# wait_job SECONDS: wait for the job to end by itself; its exit status in
# $rc. One still running then is killed, and the case fails: a stream that
# does not end at its sentinel hangs.
wait_job() {
    for _ in $(seq 1 $(($1 * 20))); do
        kill -0 "$job" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$job" 2>/dev/null; then
        kill_job
        fail "peaks still ran $1 s after the sentinel (killed): $(tail -n 5 run*.out run*.err)"
    fi
    wait "$job"
    rc=$?
    job=
}

# A case that fails leaves no job or producer running.
stream_cleanup() {
    local rc=$?
    [[ -n ${job:-} ]] && pkill -KILL -s "$job" 2>/dev/null
    [[ -n ${prod:-} ]] && kill "$prod" 2>/dev/null
    (exit "$rc")
    on_exit
}
trap stream_cleanup EXIT

case $case_name in
files)
    "$py" "$produce" --dir frames --count 40 --rate 0 --seed 20261203 ||
        fail "produce_frames.py exited with status $?"
    mpirun_n "$np" "$peaks" "$config" >run.out || fail "peaks exited with status $?: $(cat run.out)"
    cat run.out
    grep -qF "peaks: 40 tasks (40 done, 0 failed)" run.out || fail "not 40 done tasks: $(cat run.out)"
    [[ -f peaks_files.h5 ]] || fail "the config did not write peaks_files.h5"
    "$py" "$checker" peaks_files.h5 || fail "check_peaks.py failed"
    if [[ $np -gt 1 ]]; then
        mpirun_n 1 "$peaks" "$config" -o one.h5 -q || fail "peaks on 1 rank: status $?"
        h5diff one.h5 peaks_files.h5 /results /results >diff.txt ||
            fail "/results differ between 1 and $np ranks: $(head -n 20 diff.txt)"
    fi
    ;;
bad)
    "$py" "$produce" --dir frames --count 12 --rate 0 --seed 7 --quiet ||
        fail "produce_frames.py exited with status $?"
    "$py" - <<'PY' || fail "cannot make the bad frames"
import os, h5py, numpy as np
# Truncated: half of a frame of the truth, in place.
p = "frames/frame_000003.h5"
data = open(p, "rb").read()
open(p, "wb").write(data[: len(data) // 2])
open("frames/frame_000100.h5", "w").write("this is not HDF5\n")
with h5py.File("frames/frame_000101.h5", "w") as f:
    f["other"] = np.zeros((16, 16), np.float32)
with h5py.File("frames/frame_000102.h5", "w") as f:
    f["image"] = np.zeros(256, np.float32)
with h5py.File("frames/frame_000103.h5", "w") as f:
    f["image"] = np.zeros((4, 4), np.float32)
img = h5py.File("frames/frame_000000.h5", "r")["image"][:]
img[5, 7] = np.nan
with h5py.File("frames/frame_000104.h5", "w") as f:
    f["image"] = img
PY
    mpirun_n "$np" "$peaks" "$config" -o bad.h5 >run.out 2>run.err
    rc=$?
    cat run.out
    [[ $rc -eq 1 ]] || fail "exit status $rc, expected 1 (tasks failed): $(cat run.err)"
    grep -qF "peaks: 17 tasks (11 done, 6 failed)" run.out || fail "not 11 done, 6 failed: $(cat run.out)"
    "$py" - <<'PY' || fail "the failures are not as expected (see above)"
import h5py
want = {
    "frames/frame_000003.h5": "cannot open it: not an HDF5 file, or damaged",
    "frames/frame_000100.h5": "cannot open it: not an HDF5 file, or damaged",
    "frames/frame_000101.h5": "no dataset '/image'",
    "frames/frame_000102.h5": "the frame is 256 x 1 pixels, smaller than 8 x 8",
    "frames/frame_000103.h5": "the frame is 4 x 4 pixels, smaller than 8 x 8",
    "frames/frame_000104.h5": "pixel (row 5, column 7) is nan",
}
with h5py.File("bad.h5", "r") as f:
    paths = [p.decode() for p in f["input/path"][:]]
    st = f["tasks/status"][:]
    msgs = {int(t): m.decode() for t, m in zip(f["failures/task"][:], f["failures/message"][:])
            if t >= 0}
    npk = f["results/npeaks"][:]
for i, p in enumerate(paths):
    if p in want:
        assert st[i] == 2, (p, st[i])
        assert msgs[i].startswith(f"input '{p}': "), (p, msgs[i])
        assert want[p] in msgs[i], (p, msgs[i])
    else:
        assert st[i] == 1, (p, st[i])
        assert npk[i] >= 1, (p, npk[i])
assert sorted(set(paths) & set(want)) == sorted(want), paths
print("bad frames: each failed with its file named; the others done")
PY
    "$py" "$checker" bad.h5 --allow-missing || fail "check_peaks.py --allow-missing failed on the good frames"
    expect_check 1 "1 of 12 frames of frames/truth.csv have no done task, e.g. frame_000003.h5" bad.h5
    ;;
checker)
    "$py" "$produce" --dir frames --count 30 --rate 0 --seed 99 --quiet ||
        fail "produce_frames.py exited with status $?"
    mpirun_n "$np" "$peaks" "$config" -o good.h5 -q || fail "peaks exited with status $?"
    expect_check 0 "check_peaks: pass" good.h5 --truth frames/truth.csv
    # Each copy breaks one thing (h5py edits it in place).
    edit() { # edit NAME 'python lines on f'
        cp good.h5 "$1.h5"
        "$py" -c "import h5py, numpy as np
f = h5py.File('$1.h5', 'r+')
$2" || fail "cannot make $1.h5"
    }
    edit shifted 'f["results/x"][...] = f["results/x"][:] + 0.5'
    expect_check 1 "FAIL: RMS position error 0.5" shifted.h5
    edit dropped 'n = f["results/npeaks"][:]; n[::3] = 0; f["results/npeaks"][...] = n'
    expect_check 1 "FAIL: recall 0." dropped.h5
    edit spurious '
n = f["results/npeaks"][:]; x = f["results/x"][:]; y = f["results/y"][:]
for i in range(len(n)):
    x[i, n[i]] = y[i, n[i]] = 1.0
f["results/npeaks"][...] = n + 1; f["results/x"][...] = x; f["results/y"][...] = y'
    expect_check 1 "FAIL: precision 0." spurious.h5
    edit failed 's = f["tasks/status"][:]; s[4] = 2; f["tasks/status"][...] = s'
    expect_check 1 "FAIL: 1 of 30 frames of frames/truth.csv have no done task, e.g. frame_000004.h5" failed.h5
    expect_check 0 "check_peaks: pass" failed.h5 --allow-missing
    edit twice 'p = f["input/path"][:]; p[1] = p[0]; f["input/path"][...] = p'
    expect_check 1 "FAIL: 1 frame(s) done more than once, e.g. frame 0 by tasks [0, 1]" twice.h5 --allow-missing
    sed '$ s/^[0-9]*,/999,/' frames/truth.csv >extra.csv
    expect_check 1 "have no done task, e.g. frame_000999.h5" good.h5 --truth extra.csv
    head -n 20 frames/truth.csv >short.csv
    expect_check 1 "done frame(s) not in short.csv" good.h5 --truth short.csv
    ;;
odd)
    mkdir frames
    "$py" - <<'PY' || fail "cannot make the frames"
import h5py, numpy as np
rng = np.random.default_rng(1)
def g(shape, x, y, a, s):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return a * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s * s))
def save(name, img):
    with h5py.File(f"frames/{name}.h5", "w") as f:
        f["image"] = img
sh = (64, 64)
noise = rng.normal(0, 1, sh)
save("a_const", np.full(sh, 7.0))
save("b_corner", 10 + noise + g(sh, 0.3, 0.2, 50, 1.5))
save("c_plateau", np.minimum(10 + noise + g(sh, 30.2, 20.7, 80, 1.5), 40.0))
save("d_blob", 10 + noise + g(sh, 32.3, 31.6, 30, 8.0))
save("e_small", 10 + rng.normal(0, 1, (8, 8)) + g((8, 8), 3.6, 4.2, 40, 1.2))
save("f_int", (10 + noise * 3 + g(sh, 40.5, 12.25, 60, 2)).astype(np.int16))
save("g_rect", 10 + rng.normal(0, 1, (20, 200)) + g((20, 200), 150.4, 9.7, 40, 1.6))
many = 10 + rng.normal(0, 1, (128, 128))
for i in range(6):
    for j in range(6):
        many += g((128, 128), 10 + 20 * j, 10 + 20 * i, 30 + i + j, 1.5)
save("h_many", many)
PY
    mpirun_n "$np" "$peaks" "$config" -o odd.h5 >run.out || fail "peaks exited with status $?: $(cat run.out)"
    cat run.out
    mpirun_n "$np" "$peaks" "$config" -o w15.h5 --set peaks.window=15 -q ||
        fail "peaks with window = 15 exited with status $?"
    "$py" - <<'PY' || fail "odd frames not measured as expected (see above)"
import h5py, numpy as np
def load(path):
    with h5py.File(path, "r") as f:
        names = [p.decode().split("/")[-1][:-3] for p in f["input/path"][:]]
        assert (f["tasks/status"][:] == 1).all()
        r = {k: f["results"][k][:] for k in f["results"]}
    return {n: {k: v[i] for k, v in r.items()} for i, n in enumerate(names)}
res = load("odd.h5")
def one(name, x, y, tol=0.3, fitted=1):
    r = res[name]
    assert r["npeaks"] == 1, (name, r["npeaks"], r["x"])
    assert abs(r["x"][0] - x) < tol and abs(r["y"][0] - y) < tol, (name, r["x"][0], r["y"][0])
    assert r["fitted"][0] == fitted, (name, r["fitted"][0])
    assert np.isnan(r["x"][1:]).all() and (r["fitted"][1:] == -1).all(), name
c = res["a_const"]
assert c["npeaks"] == 0 and c["background"] == 7 and c["noise"] == 0 and np.isnan(c["x"]).all()
one("b_corner", 0.3, 0.2)
one("c_plateau", 30.2, 20.7)
one("e_small", 3.6, 4.2)
one("f_int", 40.5, 12.25)
one("g_rect", 150.4, 9.7)
m = res["h_many"]
assert m["npeaks"] == 16 and m["candidates"] == 36, (m["npeaks"], m["candidates"])
assert (np.diff(m["amplitude"]) <= 0).all(), m["amplitude"]
# Amplitudes 30 + i + j: the 16 brightest are the 15 of 36 and more and one
# of the six of 35 (noise of 1 may swap a 35 and a 36).
true = [(10 + 20 * j, 10 + 20 * i, 30 + i + j) for i in range(6) for j in range(6)]
seen = set()
for x, y, a in zip(m["x"], m["y"], m["amplitude"]):
    d = [np.hypot(x - tx, y - ty) for tx, ty, _ in true]
    k = int(np.argmin(d))
    assert d[k] < 0.3 and true[k][2] >= 35 and k not in seen, (x, y, a, true[k])
    seen.add(k)
b = res["d_blob"]
assert b["fitted"][0] == 0 and np.hypot(b["x"][0] - 32.3, b["y"][0] - 31.6) < 2, b
b = load("w15.h5")["d_blob"]
assert b["npeaks"] == 1 and b["fitted"][0] == 1, b
assert np.hypot(b["x"][0] - 32.3, b["y"][0] - 31.6) < 0.3 and abs(b["sigma"][0] - 8) < 0.8, b
print("odd frames as expected")
PY
    ;;
producer)
    "$py" "$produce" --dir one --count 20 --rate 0 --seed 5 --quiet || fail "producer: status $?"
    "$py" "$produce" --dir two --count 12 --rate 0 --seed 5 --quiet || fail "producer: status $?"
    "$py" "$produce" --dir two --count 8 --rate 0 --seed 5 --start 12 --sentinel END --quiet ||
        fail "producer with --start: status $?"
    cmp one/truth.csv two/truth.csv || fail "truth of 12 + 8 frames differs from 20 frames"
    for f in one/frame_*.h5; do
        h5diff "$f" "two/${f#one/}" >/dev/null || fail "$f differs between one run and two"
    done
    [[ -f two/END && ! -s two/END ]] || fail "no empty sentinel two/END"
    [[ -z $(find one two -name '.*') ]] || fail "hidden files left: $(find one two -name '.*')"
    [[ $(find one -name 'frame_*.h5' | wc -l) -eq 20 ]] || fail "not 20 frames in one/"
    "$py" - <<'PY' || fail "frames or truth not as documented (see above)"
import csv, h5py, numpy as np
rows = list(csv.DictReader(open("one/truth.csv")))
frames = {int(r["frame"]) for r in rows}
assert frames == set(range(20)), frames
for k in range(20):
    img = h5py.File(f"one/frame_{k:06d}.h5", "r")["image"]
    assert img.dtype == np.float32 and img.shape == (128, 128), (img.dtype, img.shape)
    pk = [r for r in rows if int(r["frame"]) == k]
    assert 1 <= len(pk) <= 5, len(pk)
    a = img[:].astype(float)
    # The frame less the truth's model (x a column, y a row coordinate,
    # pixel centres at integers) is the noise alone: mean 0, sd 5.
    yy, xx = np.mgrid[0:128, 0:128]
    model = np.full((128, 128), 100.0)
    for r in pk:
        x, y, amp, s = (float(r[c]) for c in ("x", "y", "amplitude", "sigma"))
        assert 1.2 <= s <= 2.5 and amp >= 8 * 5, r
        assert 4 * s <= x <= 127 - 4 * s and 4 * s <= y <= 127 - 4 * s, r
        model += amp * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s * s))
    res = a - model
    assert abs(res.mean()) < 0.2 and abs(res.std() - 5) < 0.2, (k, res.mean(), res.std())
    for p in pk:
        for q in pk:
            d = np.hypot(float(p["x"]) - float(q["x"]), float(p["y"]) - float(q["y"]))
            assert p is q or d >= 6, (p, q)
print("producer: 20 frames as documented")
PY
    # 11 frames at 25 per second: the last is due 0.4 s after the first.
    start=$EPOCHREALTIME
    "$py" "$produce" --dir paced --count 11 --rate 25 --quiet || fail "paced producer: status $?"
    took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
    awk -v t="$took" 'BEGIN { exit !(t >= 0.4) }' || fail "11 frames at 25/s took $took s, less than 0.4 s"
    for bad in "--count -1" "--rate -2" "--max-peaks 0" "--noise 0" "--size 16" "--size 12x" \
        "--sentinel x.h5" "--sentinel a/b"; do
        # shellcheck disable=SC2086
        "$py" "$produce" --dir never $bad >bad.out 2>&1
        rc=$?
        [[ $rc -eq 2 ]] || fail "produce_frames.py $bad: exit $rc, expected 2: $(cat bad.out)"
    done
    [[ ! -e never ]] || fail "a refused producer run made its directory"
    "$py" "$produce" --dir one --count 2 --start 19 >again.out 2>&1
    rc=$?
    [[ $rc -eq 2 ]] || fail "writing frame 19 again: exit $rc, expected 2: $(cat again.out)"
    grep -qF "one/truth.csv already has frame 19; continue with --start 20" again.out ||
        fail "writing frame 19 again: $(cat again.out)"
    [[ ! -e one/frame_000020.h5 ]] || fail "a refused producer run wrote a frame"
    ;;
stream)
    "$py" "$produce" --dir frames --count 5 --rate 0 --seed 11 --quiet ||
        fail "produce_frames.py exited with status $?"
    start_stream run.out run.err
    "$py" "$produce" --dir frames --start 5 --count 55 --rate 40 --seed 11 --sentinel END ||
        fail "produce_frames.py exited with status $?"
    wait_job 30
    cat run.out
    [[ $rc -eq 0 ]] || fail "peaks exited with status $rc: $(cat run.err)"
    grep -qF "peaks: 60 tasks (60 done, 0 failed)" run.out || fail "not 60 done tasks: $(cat run.out)"
    grep -qF "ended: sentinel END" run.out || fail "the stream did not end at the sentinel: $(cat run.out)"
    "$py" "$checker" peaks_stream.h5 || fail "check_peaks.py failed"
    check_stream peaks_stream.h5 60
    # The checker reads a stream's frames from /stream/source: two tasks on
    # one frame there fail it.
    cp peaks_stream.h5 twice.h5
    "$py" -c "import h5py
f = h5py.File('twice.h5', 'r+'); p = f['stream/source'][:]; p[1] = p[0]; f['stream/source'][...] = p" ||
        fail "cannot make twice.h5"
    expect_check 1 "FAIL: 1 frame(s) done more than once" twice.h5 --allow-missing
    # A stream: frames were done before the last one arrived.
    "$py" - <<'PY' || fail "no frame was done before the last one arrived: not a stream"
import h5py
with h5py.File("peaks_stream.h5", "r") as f:
    arrived, finished = f["stream/arrived"][:], f["stream/finished"][:]
early = int((finished < arrived.max()).sum())
print(f"{early} of {len(arrived)} frames done before the last one arrived")
assert early >= 10, early
PY
    ;;
stream_resume)
    # Frames 10..33 are large (1024 x 1024, some 35 ms each to analyse),
    # made beforehand and moved in at once: a backlog, so that the kill
    # finds frames recorded in the file but not done. The others are small
    # and arrive at 20 a second.
    mkdir frames
    "$py" "$produce" --dir stage --start 10 --count 24 --size 1024 --rate 0 --seed 23 --quiet ||
        fail "produce_frames.py exited with status $?"
    start_stream run1.out run1.err
    "$py" "$produce" --dir frames --count 10 --rate 20 --seed 23 --quiet ||
        fail "produce_frames.py exited with status $?"
    tail -n +2 stage/truth.csv >>frames/truth.csv
    mv stage/frame_*.h5 frames/
    "$py" "$produce" --dir frames --start 34 --count 46 --rate 20 --seed 23 --sentinel END --quiet &
    prod=$!
    # Kill once 15 tasks are done and some recorded task is not (the file is
    # read while the run writes it).
    HDF5_USE_FILE_LOCKING=FALSE "$py" - <<'PY' ||
import time
import h5py
t0 = time.monotonic()
while time.monotonic() - t0 < 60:
    try:
        with h5py.File("peaks_stream.h5", "r") as f:
            status = f["tasks/status"][:]
            arrived = f["stream/arrived"][:]
        done = int((status == 1).sum())
        waiting = int(((arrived > 0) & (status == 0)).sum())
        if done >= 15 and waiting >= 1:
            print(f"{done} tasks done, {waiting} recorded and not done after "
                  f"{time.monotonic() - t0:.2f} s; killing the job")
            raise SystemExit(0)
    except (OSError, KeyError, ValueError):
        pass
    time.sleep(0.02)
raise SystemExit(1)
PY
        fail "never 15 tasks done and one recorded but not done in 60 s: $(cat run1.out run1.err)"
    kill_job
    kill -0 "$prod" 2>/dev/null || fail "the producer ended before the kill: the test needs a longer stream"
    seen=$(find frames -name 'frame_*.h5' | wc -l)
    # Frames go on arriving while nothing runs.
    sleep 1
    now=$(find frames -name 'frame_*.h5' | wc -l)
    [[ $now -gt $seen ]] || fail "no frame arrived while nothing ran ($seen, then $now)"
    echo "killed with $seen frames in frames/, $now a second later"
    cp peaks_stream.h5 killed.h5
    start_stream run2.out run2.err --resume
    wait_job 60
    cat run2.out
    [[ $rc -eq 0 ]] || fail "peaks --resume exited with status $rc: $(cat run2.err)"
    wait "$prod" || fail "the producer exited with status $?"
    prod=
    grep -qF "peaks: the file now has 80 of 80 tasks done, 0 failed, 0 left" run2.out ||
        fail "not 80 done tasks: $(cat run2.out)"
    grep -qF "ended: sentinel END" run2.out || fail "the stream did not end at the sentinel: $(cat run2.out)"
    "$py" "$checker" peaks_stream.h5 || fail "check_peaks.py failed after the resume"
    check_stream peaks_stream.h5 80
    "$py" - <<'PY' || fail "rows done before the kill changed in the resume (see above)"
import h5py, numpy as np
def load(path):
    with h5py.File(path, "r") as f:
        d = {"status": f["tasks/status"][:]}
        d.update({f"stream/{k}": f["stream"][k][()] for k in f["stream"]})
        d.update({f"results/{k}": f["results"][k][:] for k in f["results"]})
    return d
a, b = load("killed.h5"), load("peaks_stream.h5")
done = np.flatnonzero(a["status"] == 1)
rec = np.flatnonzero(a["stream/arrived"] > 0)
waiting = np.flatnonzero((a["stream/arrived"] > 0) & (a["status"] == 0))
n = len(b["status"])
assert len(done) >= 15 and len(waiting) >= 1, (len(done), len(waiting))
assert len(rec) < n, f"the killed run had recorded all {n} frames: no frame came after it"
# Done rows: their frame, results and times as they were (not run again).
for k, v in a.items():
    if k in ("status", "stream/complete"):
        continue
    same = np.array_equal(v[done], b[k][done], equal_nan=v.dtype.kind == "f")
    assert same, f"{k}: rows done before the kill differ after the resume"
# Rows recorded but not done: the same frame, arrival and file, now done.
for k in ("stream/source", "stream/size", "stream/mtime", "stream/arrived"):
    assert np.array_equal(a[k][waiting], b[k][waiting]), f"{k}: recorded rows changed"
assert (b["status"][waiting] == 1).all(), "recorded rows not done after the resume"
print(f"before the kill: {len(done)} done, {len(waiting)} more recorded; after the resume: "
      f"{n}, the done rows unchanged (sources, results, times), the recorded ones done")
PY
    ;;
stream_bad)
    mkdir frames
    start_stream run.out run.err
    "$py" "$produce" --dir frames --count 10 --rate 40 --seed 31 --quiet ||
        fail "produce_frames.py exited with status $?"
    # Frame 10 of the truth, truncated, and a text file, each renamed into
    # place under a *.h5 name; then the good frames go on.
    "$py" "$produce" --dir stage --start 10 --count 1 --rate 0 --seed 31 --quiet ||
        fail "produce_frames.py exited with status $?"
    tail -n +2 stage/truth.csv >>frames/truth.csv
    head -c 30000 stage/frame_000010.h5 >frames/.cut.part && mv frames/.cut.part frames/frame_000010.h5
    echo "this is not HDF5" >frames/.text.part && mv frames/.text.part frames/notes.h5
    "$py" "$produce" --dir frames --start 11 --count 15 --rate 40 --seed 31 --sentinel END --quiet ||
        fail "produce_frames.py exited with status $?"
    wait_job 30
    cat run.out
    [[ $rc -eq 1 ]] || fail "exit status $rc, expected 1 (tasks failed): $(cat run.err)"
    grep -qF "peaks: 27 tasks (25 done, 2 failed)" run.out || fail "not 25 done, 2 failed: $(cat run.out)"
    grep -qF "ended: sentinel END" run.out || fail "the stream did not end at the sentinel: $(cat run.out)"
    check_stream peaks_stream.h5 26 frames/notes.h5 frames/frame_000010.h5
    "$py" - <<'PY' || fail "the failures are not as expected (see above)"
import h5py
want = {"frames/frame_000010.h5", "frames/notes.h5"}
with h5py.File("peaks_stream.h5", "r") as f:
    src = [p.decode() for p in f["stream/source"][:]]
    st = f["tasks/status"][:]
    msgs = {int(t): m.decode() for t, m in zip(f["failures/task"][:], f["failures/message"][:])
            if t >= 0}
failed = {src[i] for i in range(len(src)) if st[i] == 2}
assert failed == want, failed
for i, p in enumerate(src):
    if p in want:
        assert msgs[i].startswith(f"input '{p}': "), (p, msgs.get(i))
        assert "cannot open it: not an HDF5 file, or damaged" in msgs[i], (p, msgs[i])
        print(f"task {i}: {msgs[i]}")
PY
    "$py" "$checker" peaks_stream.h5 --allow-missing || fail "check_peaks.py --allow-missing failed on the good frames"
    expect_check 1 "1 of 26 frames of frames/truth.csv have no done task, e.g. frame_000010.h5" peaks_stream.h5
    # A watched directory that does not exist: exit 2, named, no file.
    mkdir empty || fail "cannot make a directory"
    cd empty || fail "cannot enter empty/"
    mpirun_n "$np" "$peaks" "$stream_config" --set stream.watch=no_such_dir/*.h5 >nodir.out 2>nodir.err
    rc=$?
    [[ $rc -eq 2 ]] || fail "a missing directory: exit status $rc, expected 2: $(cat nodir.err)"
    grep -qF "stream directory 'no_such_dir'" nodir.err || fail "a missing directory: the message does not name it: $(cat nodir.err)"
    cat nodir.err
    [[ -z $(find . -mindepth 1 ! -name 'nodir.*') ]] || fail "a missing directory: files written: $(ls)"
    [[ ! -e peaks_stream.h5 ]] || fail "a missing directory: peaks_stream.h5 written"
    ;;
*)
    fail "unknown case '$case_name'"
    ;;
esac
case_passed
