#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Streams: the peaks app on frames that appear in a watched directory while
# the run goes ([stream] watch = DIR/*.h5, end = sentinel END), at 2 ranks,
# against a Python peer doing the same analysis, at 2 workers.
#
#   bash scripts/bench/b_stream.sh OUT.jsonl [--quick]
#
# Frames: 128x128 float32 /image, apps/peaks/produce_frames.py's frames
# 0..199 (its make_frame, default seed, peaks and noise), made once, then fed
# by scripts/bench/stream_feed.py: frame N (content N % 200) is a hard link
# made before the clock starts and renamed into DIR at t0 + N / RATE; the
# time after each rename is logged. So the producer costs a rename per frame
# and does not compete for the 2 cores with the consumer it measures. It
# waits for the consumer to be up (Shoal: its output file; the peer: its
# ready file) and 0.5 s more before the first frame, and drops the sentinel
# END after the last.
#
# Consumers:
#   shoal  mpirun -n 2 build/apps/peaks/peaks RUN.ini -o RUN.h5 --force -q,
#          RUN.ini: [input] datasets = /image, [stream] watch = DIR/*.h5,
#          end = sentinel END (inotify, the defaults otherwise).
#   py     scripts/bench/peers/py_stream.py --workers 2: inotify (ctypes)
#          feeding multiprocessing.Pool(2).apply_async, peaks.c's analysis in
#          numpy/scipy (same peaks found, see its header), each result's row
#          written to an HDF5 file and flushed as it comes back.
# Each run must hold every frame exactly once, done, or the benchmark fails.
#
# Per frame, from the consumer's /stream (s since 1970) and the feed's log:
#   latency = stored - renamed_at   (the frame appearing -> its row in the
#                                    file: Shoal's /stream/stored, written by
#                                    the rank after the row and its status)
#   task    = finished - started    (the analysis, the frame's read included)
#   net     = latency - task        (what the framework adds)
# and the parts of net: intake = arrived - renamed_at (rank 0 / the parent
# saw it), wait = started - arrived (queued, sent), store = stored -
# finished.
#
# Cases and metrics (ms, lower is better; every case at 2 ranks / 2 workers):
#   shoal_rR, py_rR   fixed rates R = 20, 100, 200 frames/s for 20, 15, 12 s
#                     (--quick: 10, 8, 6 s), alternated, REPS rounds:
#                     latency_p50_net_ms, latency_p99_net_ms, latency_p99_ms
#                     (raw), task_p50_ms, intake_p99_ms, wait_p99_ms,
#                     store_p99_ms.
#   shoal_max, py_max the highest sustained rate (frames/s, higher), one
#                     search: runs of STEP s (6; --quick 4; at least 300
#                     frames) from a start rate (Shoal 250, the peer 50),
#                     doubling while it keeps up, then two geometric
#                     bisections between the last rate kept and the first
#                     not (so within 19%); a rate fails only when a second
#                     run at it fails too (other jobs on a shared machine
#                     stall single runs): max_rate_fps, first_failed_fps
#                     and latency_p99_net_ms of the run at max_rate_fps. A
#                     run keeps up unless the median latency of its last 10%
#                     of frames is both over 3x that of its first 10% and
#                     over it by 50 ms (latency grows without bound), or its
#                     last row is stored more than 1 s after the last frame
#                     appeared (it fell behind); a run whose feed missed its
#                     rate by more than 3% ends the search (recorded, then
#                     the benchmark fails).
#   shoal_r50_long    one run of 180 s (--quick 40) at 50 frames/s into a
#                     spool directory: the feed removes each frame 10 s after
#                     it appeared (--keep 10), so the directory holds about
#                     500 frames; its first 20 frames come at once (--burst
#                     20), so that both ranks run frames from the start (a
#                     rank's first frame costs it about 3 MiB once: HDF5's
#                     input paths; rank 0, which also schedules, may
#                     otherwise get its first one minutes in); rank 0's and rank 1's VmRSS
#                     (/proc/PID/status) sampled every second:
#                     latency_p50_net_ms, latency_p99_net_ms; and
#   memory_rank0, memory_rank1: rss_20s_mib (20 s after the first frame),
#                     rss_end_mib (the last sample before the last frame),
#                     rss_slope_kib_per_min (least-squares slope over the
#                     second half of the frames' span: from 90 s, after the
#                     file's first growth, at 4096 rows, 82 s in; the second,
#                     at 8192 rows, comes 164 s in).
#   shoal_r50_long_kept, memory_kept_rank0, memory_kept_rank1: the same
#                     run with every frame kept in the directory (rank 0
#                     then holds each name: the directory source knows the
#                     files in it), and memory_kept_rank0's
#                     bytes_per_kept_file (its slope over the frames' rate).
# Also draws docs/bench/stream_latency.png: net latency (p50, p99) against
# rate for both, the search runs included, and the ranks' RSS over the long
# runs.
# Environment: BENCH_REPS (default 2; --quick 1) for the fixed rates; the
# search and the long runs are done once. About 14 minutes (--quick: 5).
set -euo pipefail
export LC_ALL=C

BENCH=stream
# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args stream "$@"
touch "$OUT"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/env.sh disable=SC1091
source scripts/env.sh

PY=/usr/bin/python3
NCORES="$(shoal_nproc)"
NP=2
if [[ $QUICK -eq 1 ]]; then
    REPS="${BENCH_REPS:-1}"
    RATES=("20:10" "100:8" "200:6")
    STEP_S=4 LONG_S=40
else
    REPS="${BENCH_REPS:-2}"
    RATES=("20:20" "100:15" "200:12")
    STEP_S=6 LONG_S=180
fi
LONG_RATE=50
SHOAL_START=250 PY_START=50
DIR=build/bench/stream
PEAKS=build/apps/peaks/peaks
FEED=scripts/bench/stream_feed.py
PEER=scripts/bench/peers/py_stream.py
POOL="$DIR/pool"
START_LINE="$(wc -l <"$OUT")"

die() {
    echo "b_$BENCH: $*" >&2
    exit 1
}
"$PY" -c "import h5py, numpy, scipy, matplotlib" ||
    die "$PY lacks h5py, numpy, scipy or matplotlib (apt-get install python3-h5py python3-scipy python3-matplotlib)"
command -v timeout >/dev/null || die "timeout (coreutils) is needed"

[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target peaks -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR" docs/bench
LOCAL="$DIR/results.jsonl" # this invocation's lines, for the summary
RUNS="$DIR/runs.jsonl"     # every run's figures, for the plot
: >"$LOCAL"
: >"$RUNS"

# ---- helpers ----------------------------------------------------------------------

# analyse.py H5 LOG COUNT RATE SYSTEM KIND [CASE LABEL REP COMMAND METRIC...]:
# checks that the consumer's file holds every frame once, done; appends the
# run's figures to RUNS; with CASE, emits the named metrics to OUT and
# LOCAL; prints the figures as one JSON object.
cat >"$DIR/analyse.py" <<'PYEOF'
import csv, json, os, sys
import h5py
import numpy as np
h5, log, count, rate, system, kind = sys.argv[1:7]
count, rate = int(count), float(rate)
emit = sys.argv[7:]
out_path, local_path, runs_path = os.environ["B_OUT"], os.environ["B_LOCAL"], os.environ["B_RUNS"]
with h5py.File(h5, "r") as f:
    s = f["stream"]
    src = [os.path.basename(x.decode()) for x in s["source"][:]]
    t = {k: s[k][:] for k in ("arrived", "started", "finished", "stored")}
    status = f["tasks/status"][:]
want = {f"frame_{n:06d}.h5" for n in range(count)}
if len(src) != count or len(set(src)) != count or set(src) != want:
    dup = len(src) - len(set(src))
    sys.exit(f"{h5}: {len(src)} rows for {count} frames ({dup} twice, "
             f"{len(want - set(src))} missing, {len(set(src) - want)} unknown)")
if not (status == 1).all():
    sys.exit(f"{h5}: {int((status != 1).sum())} of {count} tasks not done")
if not (t["stored"] > 0).all():
    sys.exit(f"{h5}: {int((t['stored'] <= 0).sum())} rows without a stored time")
with open(log) as fl:
    ren = {int(r["frame"]): float(r["renamed_at"]) for r in csv.DictReader(fl)}
frame = np.array([int(x[6:12]) for x in src])
order = np.argsort(frame)
rn = np.array([ren[n] for n in frame])[order]
t = {k: v[order] for k, v in t.items()}
lat = t["stored"] - rn
task = t["finished"] - t["started"]
net = lat - task
ms = lambda v, q: float(1e3 * np.percentile(v, q))
k = max(1, count // 10)
first, last = float(np.median(lat[:k])), float(np.median(lat[-k:]))
span = rn[-1] - rn[0]
achieved = (count - 1) / span if span > 0 else 0.0
drain = float(t["stored"].max() - rn[-1])
grows = last > 3 * first and last - first > 0.05
behind = drain > 1.0
r = {"system": system, "kind": kind, "rate": rate, "count": count,
     "achieved": achieved, "feed_ok": int(achieved >= 0.97 * rate),
     "latency_p50_net_ms": ms(net, 50), "latency_p99_net_ms": ms(net, 99),
     "latency_p50_ms": ms(lat, 50), "latency_p99_ms": ms(lat, 99),
     "latency_max_ms": ms(lat, 100), "task_p50_ms": ms(task, 50), "task_p99_ms": ms(task, 99),
     "intake_p50_ms": ms(t["arrived"] - rn, 50), "intake_p99_ms": ms(t["arrived"] - rn, 99),
     "wait_p50_ms": ms(t["started"] - t["arrived"], 50),
     "wait_p99_ms": ms(t["started"] - t["arrived"], 99),
     "store_p50_ms": ms(t["stored"] - t["finished"], 50),
     "store_p99_ms": ms(t["stored"] - t["finished"], 99),
     "first10_ms": 1e3 * first, "last10_ms": 1e3 * last, "drain_s": drain,
     "kept": int(not grows and not behind), "first_renamed": float(rn[0]),
     "last_renamed": float(rn[-1])}
with open(runs_path, "a") as fr:
    fr.write(json.dumps(r) + "\n")
if emit:
    case, label, rep, command, *metrics = emit
    with open(out_path, "a") as fo, open(local_path, "a") as fl:
        for m in metrics:
            line = json.dumps({"bench": "stream", "case": case, "label": label, "ranks": 2,
                               "rep": int(rep), "metric": m, "unit": "ms", "value": r[m],
                               "better": "lower", "command": command})
            fo.write(line + "\n")
            fl.write(line + "\n")
print(json.dumps(r))
PYEOF
export B_OUT="$OUT" B_LOCAL="$LOCAL" B_RUNS="$RUNS"

# emit CASE LABEL REP METRIC UNIT VALUE BETTER COMMAND
emit() {
    local line
    line=$("$PY" -c 'import json, sys
a = sys.argv[1:]
print(json.dumps({"bench": "stream", "case": a[0], "label": a[1], "ranks": 2, "rep": int(a[2]),
                  "metric": a[3], "unit": a[4], "value": float(a[5]), "better": a[6],
                  "command": a[7]}))' "$@")
    echo "$line" >>"$OUT"
    echo "$line" >>"$LOCAL"
}

# field JSON KEY: a value of analyse.py's object.
field() {
    "$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# run SYSTEM RATE SECONDS KIND [CASE LABEL REP METRIC...]: one stream of
# RATE x SECONDS frames (at least 300) into a fresh directory, consumed by
# SYSTEM (shoal or py); sets RES (analyse.py's JSON) and CMD. With KIND
# long, rank 0's and rank 1's RSS go to $DIR/rss.csv.
RES="" CMD=""
FEED_KEEP="" # --keep SECONDS for the feed, or empty: every frame stays
RSS_CSV="$DIR/rss.csv" # where a long run's RSS samples go
run() {
    local system="$1" rate="$2" secs="$3" kind="$4"
    shift 4
    local count w="$DIR/run" limit rc=0 feed_out pid sampler=""
    count=$(awk -v r="$rate" -v s="$secs" 'BEGIN { n = int(r * s + 0.5); print n < 300 ? 300 : n }')
    limit=$(awk -v n="$count" -v r="$rate" 'BEGIN { printf "%d", n / r + 90 }')
    rm -rf "$w" "$w.staging"
    mkdir -p "$w/frames"
    local feed=("$PY" "$FEED" --dir "$w/frames" --count "$count" --rate "$rate"
        --log "$w/feed.csv" --pool "$POOL" --sentinel END)
    [[ -z $FEED_KEEP ]] || feed+=(--keep "$FEED_KEEP")
    [[ $kind != long ]] || feed+=(--burst 20)
    if [[ $system == shoal ]]; then
        local ini="[run]\\noutput = $w/out.h5\\n[input]\\ndatasets = /image\\n[stream]\\nwatch = $w/frames/*.h5\\nend = sentinel END\\n"
        # shellcheck disable=SC2059 # the format is ours, with no % in it
        printf "$ini" >"$w/run.ini"
        timeout "$limit" mpirun -n "$NP" "$PEAKS" "$w/run.ini" -o "$w/out.h5" --force -q \
            >"$w/consumer.log" 2>&1 &
        pid=$!
        feed+=(--wait-for "$w/out.h5")
        CMD="mkdir -p $w/frames; printf '$ini' >$w/run.ini;"
        CMD+=" mpirun -n $NP $PEAKS $w/run.ini -o $w/out.h5 --force -q & ${feed[*]}; wait"
    else
        timeout "$limit" "$PY" "$PEER" --watch "$w/frames" --out "$w/out.h5" --workers "$NP" \
            --sentinel END --ready "$w/ready" >"$w/consumer.log" 2>&1 &
        pid=$!
        feed+=(--wait-for "$w/ready")
        CMD="mkdir -p $w/frames; $PY $PEER --watch $w/frames --out $w/out.h5 --workers $NP"
        CMD+=" --sentinel END --ready $w/ready & ${feed[*]}; wait"
    fi
    if [[ $kind == long ]]; then
        "$PY" "$DIR/rss.py" "$pid" "$RSS_CSV" &
        sampler=$!
    fi
    if ! feed_out=$("${feed[@]}" 2>&1); then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        die "the feed failed: $feed_out (command: $CMD)"
    fi
    wait "$pid" || rc=$?
    [[ -z $sampler ]] || wait "$sampler" || die "the RSS sampler failed"
    if [[ $rc -ne 0 ]]; then
        tail -n 20 "$w/consumer.log" | sed 's/^/  | /' >&2
        [[ $rc -ne 124 ]] || die "$system at $rate frames/s did not end within $limit s of its start (exit 124, timeout); command: $CMD"
        die "$system at $rate frames/s failed (exit $rc); command: $CMD"
    fi
    local emit_args=()
    [[ $# -eq 0 ]] || emit_args=("$1" "$2" "$3" "$CMD" "${@:4}")
    RES=$("$PY" "$DIR/analyse.py" "$w/out.h5" "$w/feed.csv" "$count" "$rate" "$system" "$kind" "${emit_args[@]}") ||
        die "$system at $rate frames/s: the result file is wrong (above); command: $CMD"
    "$PY" - "$RES" "$feed_out" <<'PYEOF' >&2
import json, sys
r = json.loads(sys.argv[1])
print(f"b_stream: {r['system']:5} {r['rate']:6.0f}/s x {r['count']:5}: net p50 "
      f"{r['latency_p50_net_ms']:7.2f} p99 {r['latency_p99_net_ms']:8.2f} ms, raw p99 "
      f"{r['latency_p99_ms']:8.2f}, task p50 {r['task_p50_ms']:5.2f}; p50/p99 intake "
      f"{r['intake_p50_ms']:.2f}/{r['intake_p99_ms']:.2f} wait {r['wait_p50_ms']:.2f}/"
      f"{r['wait_p99_ms']:.2f} store {r['store_p50_ms']:.2f}/{r['store_p99_ms']:.2f}; first/last "
      f"10% {r['first10_ms']:.1f}/{r['last10_ms']:.1f} ms, drain {r['drain_s']:.2f} s: "
      f"{'kept up' if r['kept'] else 'NOT kept up'}  [{sys.argv[2].split(': ', 1)[-1]}]")
PYEOF
    rm -rf "$w" "$w.staging"
}

# RSS sampler: rss.py LAUNCHER_PID CSV: finds the launcher's descendants
# that are MPI ranks (OMPI_COMM_WORLD_RANK in their environment), writes
# "t,rank0_kib,rank1_kib" every second (VmRSS) until they are gone.
cat >"$DIR/rss.py" <<'PYEOF'
import os, sys, time
launcher, path = int(sys.argv[1]), sys.argv[2]

def ppid(p):
    with open(f"/proc/{p}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])

def ranks():
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        p = int(d)
        try:
            q = p
            while q > 1 and q != launcher:
                q = ppid(q)
            if q != launcher:
                continue
            with open(f"/proc/{p}/environ", "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
            r = env.get(b"OMPI_COMM_WORLD_RANK")
            if r is not None:
                found[int(r)] = p
        except (OSError, ValueError):
            continue
    return found

def rss(p):
    try:
        with open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None

t_end = time.time() + 60
pids = {}
while len(pids) < 2:
    if time.time() > t_end:
        sys.exit(f"rss.py: found ranks {sorted(pids)} of the launcher {launcher}, not 0 and 1")
    pids = ranks()
    time.sleep(0.05)
with open(path, "w") as out:
    out.write("t,rank0_kib,rank1_kib\n")
    t0 = time.time()
    k = 0
    while True:
        v = [rss(pids[0]), rss(pids[1])]
        if None in v:
            break
        out.write(f"{time.time():.3f},{v[0]},{v[1]}\n")
        out.flush()
        k += 1
        time.sleep(max(0.0, t0 + k - time.time()))
PYEOF

# The frames, once (produce_frames.py's make_frame; about 2 s).
"$PY" "$FEED" --dir "$DIR/warm" --count 1 --rate 1 --log "$DIR/warm.csv" --pool "$POOL" >/dev/null
rm -rf "$DIR/warm" "$DIR/warm.csv"

echo "b_$BENCH: $REPS rounds of ${RATES[*]} (frames/s:s), a search per system, $LONG_S s at" \
    "$LONG_RATE/s; $NCORES cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# ---- fixed rates --------------------------------------------------------------------

FIXED_METRICS=(latency_p50_net_ms latency_p99_net_ms latency_p99_ms task_p50_ms intake_p99_ms
    wait_p99_ms store_p99_ms)
for ((rep = 1; rep <= REPS; rep++)); do
    echo "b_$BENCH: round $rep/$REPS" >&2
    order=()
    for rs in "${RATES[@]}"; do order+=("shoal:$rs" "py:$rs"); done
    if ((rep % 2 == 0)); then # reversed, so that a drifting machine favours no case
        rev=()
        for ((i = ${#order[@]} - 1; i >= 0; i--)); do rev+=("${order[i]}"); done
        order=("${rev[@]}")
    fi
    for o in "${order[@]}"; do
        IFS=: read -r system rate secs <<<"$o"
        if [[ $system == shoal ]]; then
            label="Shoal peaks, $NP ranks, $rate frames/s x $secs s"
        else
            label="Python Pool($NP) peer (py_stream.py), $rate frames/s x $secs s"
        fi
        run "$system" "$rate" "$secs" fixed "${system}_r$rate" "$label" "$rep" "${FIXED_METRICS[@]}"
    done
done

# ---- highest sustained rate -----------------------------------------------------------

# search SYSTEM START LABEL
search() {
    local system="$1" rate="$2" label="$3" good=0 bad=0 good_p99="" good_cmd="" bisect=0 kept next
    while true; do
        run "$system" "$rate" "$STEP_S" search
        [[ $(field "$RES" feed_ok) == 1 ]] ||
            die "the feed could not keep $rate frames/s ($(field "$RES" achieved)); the search cannot go on"
        kept=$(field "$RES" kept)
        if [[ $kept != 1 ]]; then
            echo "b_$BENCH: $system at $rate frames/s once more" >&2
            run "$system" "$rate" "$STEP_S" search
            kept=$(field "$RES" kept)
        fi
        if [[ $kept == 1 ]]; then
            good=$rate good_p99=$(field "$RES" latency_p99_net_ms) good_cmd=$CMD
        else
            bad=$rate
        fi
        if [[ $bad == 0 ]]; then
            next=$((rate * 2))
        elif [[ $good == 0 ]]; then
            ((rate > 10)) || die "$system did not keep up even at $rate frames/s"
            next=$((rate / 2))
        else
            ((bisect < 2)) || break
            bisect=$((bisect + 1))
            next=$(awk -v a="$good" -v b="$bad" 'BEGIN { printf "%d", sqrt(a * b) + 0.5 }')
        fi
        rate=$next
    done
    emit "${system}_max" "$label" 1 max_rate_fps frames/s "$good" higher "$good_cmd"
    emit "${system}_max" "$label" 1 first_failed_fps frames/s "$bad" higher "$good_cmd"
    emit "${system}_max" "$label" 1 latency_p99_net_ms ms "$good_p99" lower "$good_cmd"
}
echo "b_$BENCH: the highest sustained rate, runs of $STEP_S s" >&2
search shoal "$SHOAL_START" "Shoal peaks, $NP ranks: highest rate kept up (runs of $STEP_S s)"
search py "$PY_START" "Python Pool($NP) peer: highest rate kept up (runs of $STEP_S s)"

# ---- memory over a long stream ----------------------------------------------------------

# long_run CASE_SUFFIX CSV LABEL_EXTRA: the long run, its RSS metrics.
long_run() {
    local suffix="$1" extra="$3" first_ren last_ren mem
    RSS_CSV="$2"
    run shoal "$LONG_RATE" "$LONG_S" long "shoal_r${LONG_RATE}_long$suffix" \
        "Shoal peaks, $NP ranks, $LONG_RATE frames/s x $LONG_S s (RSS sampled)$extra" 1 \
        latency_p50_net_ms latency_p99_net_ms
    read -r first_ren last_ren <<<"$("$PY" -c 'import json, sys; r = json.loads(sys.argv[1]); print(r["first_renamed"], r["last_renamed"])' "$RES")"
    echo "$first_ren $last_ren" >"$RSS_CSV.t0"
    mem=$("$PY" - "$RSS_CSV" "$first_ren" "$last_ren" <<'PYEOF'
import sys
import numpy as np
a = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, ndmin=2)
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
a = a[(a[:, 0] >= t0) & (a[:, 0] <= t1)]
if len(a) < 10:
    sys.exit(f"rss.py: {len(a)} samples in the stream's span")
t = a[:, 0] - t0
at20 = np.argmin(np.abs(t - 20))
half = t >= (t1 - t0) / 2
for r in (1, 2):
    slope = np.polyfit(t[half] / 60, a[half, r], 1)[0]
    print(f"{a[at20, r] / 1024:.3f} {a[-1, r] / 1024:.3f} {slope:.3f}", end=" ")
print()
PYEOF
    )
    local v rank label
    read -r -a v <<<"$mem"
    for rank in 0 1; do
        label="Shoal peaks, rank $rank's VmRSS over $LONG_S s at $LONG_RATE frames/s$extra"
        emit "memory${suffix}_rank$rank" "$label" 1 rss_20s_mib MiB "${v[3 * rank]}" lower "$CMD"
        emit "memory${suffix}_rank$rank" "$label" 1 rss_end_mib MiB "${v[3 * rank + 1]}" lower "$CMD"
        emit "memory${suffix}_rank$rank" "$label" 1 rss_slope_kib_per_min KiB/min "${v[3 * rank + 2]}" lower "$CMD"
        echo "b_$BENCH: rank $rank VmRSS${extra:+ (${extra#, })} ${v[3 * rank]} MiB at 20 s," \
            "${v[3 * rank + 1]} MiB at the end, second half ${v[3 * rank + 2]} KiB/min" >&2
    done
    SLOPE0=${v[2]}
}
SLOPE0=""
echo "b_$BENCH: $LONG_S s at $LONG_RATE frames/s into a spool directory, RSS sampled every second" >&2
FEED_KEEP=10
long_run "" "$DIR/rss.csv" ", each frame removed 10 s after it appeared"
echo "b_$BENCH: the same with every frame kept in the directory" >&2
FEED_KEEP=""
long_run "_kept" "$DIR/rss_kept.csv" ", every frame kept in the directory"
per_file=$(awk -v s="$SLOPE0" -v r="$LONG_RATE" 'BEGIN { printf "%.1f", s * 1024 / (r * 60) }')
emit memory_kept_rank0 "Shoal peaks, rank 0's RSS growth per frame kept in the watched directory (second-half slope / rate)" \
    1 bytes_per_kept_file B "$per_file" lower "$CMD"
echo "b_$BENCH: rank 0 grows $per_file bytes per frame kept in the directory" >&2

# ---- the plot ---------------------------------------------------------------------------

"$PY" - "$RUNS" "$DIR/rss.csv" docs/bench/stream_latency.png "$DIR/rss_kept.csv" <<'PYEOF'
import json, sys
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
runs = [json.loads(l) for l in open(sys.argv[1])]
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
names = {"shoal": "Shoal peaks, 2 ranks", "py": "Python Pool(2) peer"}
for system, color in (("shoal", "C0"), ("py", "C3")):
    rs = sorted({r["rate"] for r in runs if r["system"] == system})
    for q, style in (("p50", "--"), ("p99", "-")):
        key = f"latency_{q}_net_ms"
        med = [np.median([r[key] for r in runs if r["system"] == system and r["rate"] == x])
               for x in rs]
        ax.plot(rs, med, style, color=color, marker="o", ms=3.5, lw=1.2,
                label=f"{names[system]}, {q}")
    bad = [r for r in runs if r["system"] == system and not r["kept"]]
    ax.plot([r["rate"] for r in bad], [r["latency_p99_net_ms"] for r in bad], "x", color=color,
            ms=9, mew=2, ls="none")
ax.plot([], [], "kx", ms=9, mew=2, ls="none", label="run that did not keep up")
ax.axhline(100, color="0.6", lw=0.8, ls=":")
ax.text(min(r["rate"] for r in runs), 110, "target: p99 < 100 ms", fontsize=8, color="0.4")
ax.set_ylim(0.5, None)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("frames/s (128x128), fed at a fixed rate")
ax.set_ylabel("latency - task time, ms (frame renamed -> row stored)")
ax.set_title("stream latency against rate (median of runs)", fontsize=10)
ax.legend(fontsize=7.5, loc="upper left")
a = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, ndmin=2)
t0, t1 = (float(x) for x in open(sys.argv[2] + ".t0").read().split())
t = a[:, 0] - t0
for r, c in ((1, "C0"), (2, "C2")):
    bx.plot(t, a[:, r] / 1024, color=c, lw=1.2, label=f"rank {r - 1}, spool (10 s)")
k = np.loadtxt(sys.argv[4], delimiter=",", skiprows=1, ndmin=2)
k0 = float(open(sys.argv[4] + ".t0").read().split()[0])
bx.plot(k[:, 0] - k0, k[:, 1] / 1024, color="C1", lw=1.2, ls="--",
        label="rank 0, every frame kept")
bx.axvspan((t1 - t0) / 2, t1 - t0, color="0.9", zorder=0, label="second half (fitted)")
bx.set_xlabel("s since the first frame (50 frames/s)")
bx.set_ylabel("VmRSS, MiB")
bx.set_title("Shoal ranks' RSS over the long stream", fontsize=10)
bx.legend(fontsize=7.5, loc="lower right")
fig.tight_layout()
fig.savefig(sys.argv[3], dpi=110)
print("b_stream: wrote", sys.argv[3], file=sys.stderr)
PYEOF

# ---- summary ----------------------------------------------------------------------------

"$PY" - "$LOCAL" <<'PYEOF'
import json, statistics, sys
from collections import OrderedDict
rows = [json.loads(l) for l in open(sys.argv[1])]
agg = OrderedDict()
for r in rows:
    agg.setdefault((r["case"], r["metric"]), []).append(r["value"])
print(f"\nb_stream: medians ({sum(len(v) for v in agg.values())} measurements)")
print(f"{'case':<14} {'metric':<22} {'n':>2} {'median':>10} {'min':>10} {'max':>10}")
for (case, metric), v in agg.items():
    print(f"{case:<14} {metric:<22} {len(v):>2} {statistics.median(v):>10.4g} "
          f"{min(v):>10.4g} {max(v):>10.4g}")
PYEOF
echo "b_$BENCH: load average now $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "b_$BENCH: $(($(wc -l <"$OUT") - START_LINE)) lines in $OUT" >&2
