#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI tests of [stream] (lib/src/stream*.c): files that appear in a watched
# directory while the run goes, lines of a pipe, a kill and a resume in the
# middle of a stream, and bad input. Frames are small HDF5 files written by
# h5py (each /x = arange(10) + i, so its task's sum is 45 + 10 i), renamed
# into place; the checks hold for any schedule: every frame is in exactly
# one row, done, with the right sum.
#
#   stream_cases.sh CASE NRANKS
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

app=$SHOAL_BUILD/tests/mpi/input_app
py=${SHOAL_PYTHON:?SHOAL_PYTHON is not set}
need_h5py
cd "$work" || fail "no work directory"
mkdir frames

# produce FIRST COUNT DELAY [sentinel]: frames FIRST..FIRST+COUNT-1 into
# frames/, DELAY s apart; then the sentinel file frames/END if asked.
produce() {
    "$py" - "$@" <<'PY' || fail "the producer failed"
import os, sys, time
import h5py, numpy as np
first, count, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
for i in range(first, first + count):
    tmp = f"frames/.f{i:05d}.h5.part"
    with h5py.File(tmp, "w") as f:
        f["x"] = np.arange(10.0) + i
    os.rename(tmp, f"frames/f{i:05d}.h5")
    time.sleep(delay)
if len(sys.argv) > 4:
    open("frames/END", "w").close()
PY
}

# check_file OUT N [failed-name...]: OUT holds frames 0..N-1 once each, all
# done with sum 45 + 10 i, except the named files, which failed.
check_file() {
    "$py" - "$@" <<'PY' || fail "$1 does not hold every frame exactly once (see above)"
import sys, os, collections
import h5py, numpy as np
out, n, bad = sys.argv[1], int(sys.argv[2]), set(sys.argv[3:])
with h5py.File(out, "r") as f:
    src = [s.decode() for s in f["stream/source"][:]]
    st = f["tasks/status"][:]
    s = f["results/sum0"][:]
    arr = f["stream/arrived"][:]
    stored = f["stream/stored"][:]
    assert f.attrs["ntasks"] == len(src), (f.attrs["ntasks"], len(src))
    assert f.attrs["state"] == "complete", f.attrs["state"]
    # Every row is finished, and the mark that says so for ordered readers.
    assert f["stream/complete"][()] == len(src), (f["stream/complete"][()], len(src))
names = [os.path.basename(p) for p in src]
dup = [k for k, c in collections.Counter(names).items() if c > 1]
assert not dup, f"frames twice: {dup[:5]}"
want = {f"f{i:05d}.h5" for i in range(n)} | bad
assert set(names) == want, f"missing {sorted(want - set(names))[:5]}, extra {sorted(set(names) - want)[:5]}"
for k, name in enumerate(names):
    if name in bad:
        assert st[k] == 2, f"{name}: status {st[k]}, expected failed"
        continue
    i = int(name[1:6])
    assert st[k] == 1, f"{name}: status {st[k]}"
    assert s[k] == 45 + 10 * i, f"{name}: sum {s[k]}"
    assert arr[k] > 0 and stored[k] >= arr[k], f"{name}: times {arr[k]} {stored[k]}"
print(f"{out}: {len(names)} items, each once")
PY
}

cat >s.ini <<'INI'
[run]
output = out.h5
[input_app]
datasets = 1
[input]
datasets = /x
[stream]
watch = frames/*.h5
end = sentinel END
grow = 16
INI

# The same frames named on standard input, one path per line.
sed -e 's|^watch = .*|lines = -|' -e '/^end = /d' s.ini >lines.ini

case $case_name in
stream_watch)
    # Frames already there, frames arriving at a rate, a burst; the file
    # grows several times (16 rows at first).
    produce 0 10 0
    (sleep 0.5; produce 10 40 0.01; produce 50 30 0 sentinel) &
    expect_rc 0 mpirun_n "$np" "$app" s.ini
    wait
    check_file out.h5 80
    # The same with polling instead of inotify.
    rm -rf frames out.h5 && mkdir frames
    (sleep 0.3; produce 0 25 0.005 sentinel) &
    expect_rc 0 mpirun_n "$np" "$app" s.ini --set stream.poll=0.05 -o poll.h5
    wait
    check_file poll.h5 25
    ;;
stream_lines)
    # Paths on rank 0's standard input; the stream ends with the input.
    produce 0 30 0
    ls frames/f*.h5 >paths.txt
    mpirun_n "$np" "$app" lines.ini -o lines.h5 <paths.txt >lines.out 2>lines.err
    rc=$?
    [[ $rc -eq 0 ]] || fail "lines: exit status $rc: $(cat lines.err)"
    check_file lines.h5 30
    ;;
stream_params)
    # Lines that are parameter rows, on standard input and from a named
    # pipe: each a task of test_app (x2 = 2 x, label_len = its length); a
    # row that does not parse is one failed task with the line quoted.
    printf '[run]\noutput = p.h5\n[stream]\nlines = -\nparams = x, label\n' >p.ini
    printf 'x=1.5 label=abc\nx=2,label=hello\n# a comment\n\nx=oops label=z\nlabel=q\nx=3 label=a y=2\nx=-4e3 label=abcd\r\n' >rows.txt
    mpirun_n "$np" "$SHOAL_BUILD/tests/mpi/test_app" p.ini <rows.txt >p.out 2>p.err
    rc=$?
    [[ $rc -eq 1 ]] || fail "parameter rows: exit status $rc, expected 1 (tasks failed): $(cat p.err)"
    "$py" - p.h5 <<'PY' || fail "parameter rows: wrong rows (see above)"
import sys, math
import h5py
with h5py.File(sys.argv[1], "r") as f:
    src = [s.decode() for s in f["stream/source"][:]]
    st = list(f["tasks/status"][:])
    x2 = f["results/x2"][:]
    ll = f["results/label_len"][:]
    px = f["params/x"][:]
    lab = [s.decode() for s in f["params/label"][:]]
    msgs = [m.decode() for m in f["failures/message"][:] if m]
assert src == ["x=1.5 label=abc", "x=2,label=hello", "x=oops label=z", "label=q",
               "x=3 label=a y=2", "x=-4e3 label=abcd"], src
assert st == [1, 1, 2, 2, 2, 1], st
assert list(x2[[0, 1, 5]]) == [3.0, 4.0, -8000.0] and list(ll[[0, 1, 5]]) == [3, 5, 4], (x2, ll)
assert list(px[[0, 1, 5]]) == [1.5, 2.0, -4000.0] and all(math.isnan(v) for v in px[2:5]), px
assert lab[0] == "abc" and lab[5] == "abcd", lab
for want in ["'x=oops label=z': x = 'oops' is not a finite number",
             "'label=q': no value for x", "'x=3 label=a y=2': 'y' is not one of"]:
    assert any(want in m for m in msgs), (want, msgs)
print("parameter rows: right")
PY
    # shoal-exec: the rows fill its {name} placeholders.
    printf '[run]\noutput = e.h5\n[command]\nargv = echo shoal: y={x}\n[outputs]\ny = float64\n[stream]\nlines = -\nparams = x\n' >e.ini
    printf 'x=1.5\nx=-2.25\n' | mpirun_n "$np" "$SHOAL_BUILD/apps/shoal_exec/shoal-exec" e.ini >e.out 2>e.err
    rc=$?
    [[ $rc -eq 0 ]] || fail "shoal-exec with parameter rows: exit status $rc: $(cat e.err)"
    "$py" -c "
import h5py
f = h5py.File('e.h5', 'r')
assert list(f['results/y'][:]) == [1.5, -2.25], f['results/y'][:]
" || fail "shoal-exec with parameter rows: wrong values"
    # A named pipe: the run waits for a writer; the stream ends when it closes.
    mkfifo rows.fifo
    printf '[run]\noutput = fifo.h5\n[stream]\nlines = rows.fifo\nparams = x, label\n' >f.ini
    mpirun_n "$np" "$SHOAL_BUILD/tests/mpi/test_app" f.ini >f.out 2>f.err &
    job=$!
    sleep 1
    { for i in $(seq 1 20); do echo "x=$i label=n$i"; sleep 0.02; done; } >rows.fifo
    wait "$job"
    rc=$?
    [[ $rc -eq 0 ]] || fail "a named pipe: exit status $rc: $(cat f.err)"
    "$py" -c "
import h5py
f = h5py.File('fifo.h5', 'r')
x2 = sorted(f['results/x2'][:])
assert x2 == [2.0 * i for i in range(1, 21)], x2
" || fail "a named pipe: wrong rows"
    # Config mistakes: params with watch, a name that is not a parameter.
    printf '[stream]\nwatch = frames/*.h5\nparams = x\n' >pb1.ini
    mpirun_n "$np" "$SHOAL_BUILD/tests/mpi/test_app" pb1.ini -o pb1.h5 >pb1.out 2>pb1.err
    rc=$?
    [[ $rc -eq 2 ]] && grep -q "pb1.ini:3" pb1.err || fail "params with watch: $rc $(cat pb1.err)"
    printf '[stream]\nlines = -\nparams = x, nosuch\n' >pb2.ini
    mpirun_n "$np" "$SHOAL_BUILD/tests/mpi/test_app" pb2.ini -o pb2.h5 </dev/null >pb2.out 2>pb2.err
    rc=$?
    [[ $rc -eq 2 ]] && grep -q "nosuch" pb2.err || fail "an unknown parameter: $rc $(cat pb2.err)"
    [[ ! -e pb1.h5 && ! -e pb2.h5 ]] || fail "a config mistake wrote an output"
    ;;
stream_burst)
    # An unbounded burst: 1500 frames there before the run starts, and
    # max_waiting = 8: rank 0 takes in at most 8 items that have not gone
    # out (ranges of one task, so at most two per rank are out and not
    # started), so at no item's arrival were more than 8 + 2 x ranks items
    # taken in and not started; and every frame once.
    produce 0 1500 0
    touch frames/END
    expect_rc 0 mpirun_n "$np" "$app" s.ini --set stream.max_waiting=8 --set run.max_range_tasks=1 \
        -o burst.h5
    check_file burst.h5 1500
    "$py" - burst.h5 "$np" <<'PY' || fail "the burst was taken in without bound (see above)"
import sys
import h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    arrived = f["stream/arrived"][:]
    started = np.sort(f["stream/started"][:])
bound = 8 + 2 * int(sys.argv[2]) + 1
# For each item: items taken in by its arrival, less those started by then.
waiting = np.arange(1, len(arrived) + 1) - np.searchsorted(started, arrived, side="right")
assert waiting.max() <= bound, f"{waiting.max()} items waited at once, more than {bound}"
print(f"burst: at most {waiting.max()} items waited at once (bound {bound})")
PY
    ;;
stream_signal)
    # A stream that waits for items that do not come (a pipe whose writer
    # stays): SIGTERM to the last rank alone stops every rank, exit 3, and
    # the file resumes.
    mkfifo idle.fifo
    sleep 600 >idle.fifo &
    holder=$!
    printf '[run]\noutput = idle.h5\n[stream]\nlines = idle.fifo\nparams = x, label\n' >i.ini
    mkdir pids
    SHOAL_TEST_PID_DIR=$work/pids mpirun_n "$np" "$SHOAL_BUILD/tests/mpi/test_app" i.ini >i.out 2>i.err &
    job=$!
    for _ in $(seq 1 100); do
        [[ $(find pids -name 'rank.*' | wc -l) -eq $np ]] && break
        sleep 0.1
    done
    sleep 1
    last=$((np - 1))
    kill -TERM "$(cat "pids/rank.$last")" || fail "no pid for rank $last"
    for _ in $(seq 1 100); do
        kill -0 "$job" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$job" 2>/dev/null; then
        kill -9 "$job"
        kill "$holder"
        fail "SIGTERM to rank $last did not stop the run within 10 s"
    fi
    wait "$job"
    rc=$?
    kill "$holder" 2>/dev/null
    [[ $rc -eq 3 ]] || fail "SIGTERM to rank $last: exit status $rc, expected 3: $(cat i.err)"
    ;;
stream_resume)
    # A kill (SIGKILL of the whole job) in the middle of the stream; frames
    # keep coming while nothing runs; --resume runs what was not done, takes
    # the new frames in, and no frame runs twice.
    (sleep 0.3; produce 0 40 0.05) &
    prod=$!
    mpirun_n "$np" "$app" s.ini >run1.out 2>run1.err &
    job=$!
    for _ in $(seq 1 100); do
        sleep 0.1
        n=$("$py" -c "import h5py; f=h5py.File('out.h5','r'); print(int((f['tasks/status'][:]==1).sum()))" 2>/dev/null || echo 0)
        [[ ${n:-0} -ge 12 ]] && break
    done
    kill -9 "$job" 2>/dev/null
    pkill -9 -f "input_app s.ini" 2>/dev/null
    wait "$job" 2>/dev/null
    wait "$prod"
    produce 40 20 0 sentinel
    expect_rc 0 mpirun_n "$np" "$app" s.ini --resume
    check_file out.h5 60
    ;;
stream_bad)
    # A directory that does not exist: exit 2, nothing written.
    mpirun_n "$np" "$app" s.ini --set stream.watch=nothere/*.h5 -o bad1.h5 >bad1.out 2>bad1.err
    rc=$?
    [[ $rc -eq 2 ]] || fail "missing directory: exit status $rc: $(cat bad1.err)"
    grep -q "nothere" bad1.err || fail "missing directory: the message does not name it: $(cat bad1.err)"
    [[ ! -e bad1.h5 ]] || fail "missing directory: an output was written"
    # A file given as the directory.
    touch notadir
    mpirun_n "$np" "$app" s.ini --set stream.watch=notadir/*.h5 -o bad2.h5 >bad2.out 2>bad2.err
    rc=$?
    [[ $rc -eq 2 && ! -e bad2.h5 ]] || fail "a file as directory: exit status $rc: $(cat bad2.err)"
    # Config mistakes, with their line.
    printf '[run]\ntasks = 5\n[input_app]\ndatasets = 1\n[stream]\nwatch = frames/*.h5\n' >c1.ini
    mpirun_n "$np" "$app" c1.ini -o bad3.h5 >bad3.out 2>bad3.err
    rc=$?
    [[ $rc -eq 2 ]] && grep -q "c1.ini:2" bad3.err || fail "tasks with a stream: $rc $(cat bad3.err)"
    printf '[input_app]\ndatasets = 1\n[stream]\nwatch = frames/*.h5\nend = eof\n' >c2.ini
    mpirun_n "$np" "$app" c2.ini -o bad4.h5 >bad4.out 2>bad4.err
    rc=$?
    [[ $rc -eq 2 ]] && grep -q "c2.ini:5" bad4.err || fail "eof with a directory: $rc $(cat bad4.err)"
    printf '[input_app]\ndatasets = 1\n[stream]\nwatch = frames/*.h5\nend = soon\n' >c3.ini
    mpirun_n "$np" "$app" c3.ini -o bad5.h5 >bad5.out 2>bad5.err
    rc=$?
    [[ $rc -eq 2 ]] && grep -q "c3.ini:5" bad5.err || fail "an unknown end: $rc $(cat bad5.err)"
    # Bad frames among good ones: a truncated HDF5 file, a text file, a
    # file that vanished before its task (a path on the lines): those tasks
    # fail with the file named, the stream goes on, exit 1.
    produce 0 12 0
    head -c 700 frames/f00003.h5 >frames/.cut && mv frames/.cut frames/cut.h5
    echo "not hdf5" >frames/.txt && mv frames/.txt frames/text.h5
    touch frames/END
    expect_rc 1 mpirun_n "$np" "$app" s.ini -o badframes.h5
    check_file badframes.h5 12 cut.h5 text.h5
    "$py" - <<'PY' || fail "the failures do not name the bad files"
import h5py
with h5py.File("badframes.h5", "r") as f:
    msgs = [m.decode() for m in f["failures/message"][:] if m]
assert any("cut.h5" in m for m in msgs) and any("text.h5" in m for m in msgs), msgs
PY
    # The watched directory removed while the run goes: the stream ends
    # with an error (exit 4), no hang.
    mkdir gone
    cp frames/f0000[0-2].h5 gone/
    mpirun_n "$np" "$app" s.ini --set stream.watch=gone/*.h5 -o gone.h5 >gone.out 2>gone.err &
    job=$!
    sleep 2
    rm -rf gone
    wait "$job"
    rc=$?
    [[ $rc -eq 4 ]] || fail "a removed directory: exit status $rc, expected 4: $(cat gone.err)"
    grep -q "gone" gone.err || fail "a removed directory: the message does not name it: $(cat gone.err)"
    ls frames/f0000[0-4].h5 >paths.txt
    echo "frames/vanished.h5" >>paths.txt
    mpirun_n "$np" "$app" lines.ini -o vanished.h5 <paths.txt >v.out 2>v.err
    rc=$?
    [[ $rc -eq 1 ]] || fail "a vanished file: exit status $rc, expected 1: $(cat v.err)"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
case_passed
