#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Analysis: shoal-stats reading a large dataset, the cost of combining
# /reduce, and shoal-stats' memory.
#
#   bash scripts/bench/b_analysis.sh OUT.jsonl [--quick]
#
# Data (made once with h5py in build/bench/analysis/, deleted at the end):
# big.h5 with /x, float64 [N] (N = 10^8, 800 MB; --quick 10^7), contiguous,
# normal values; small.h5 the same with 10^6 rows. Before the repetitions
# both are read once, so every case reads from the page cache.
# Cases, alternated in each repetition:
#   dd        dd if=big.h5 of=/dev/null bs=4M: dd's bytes / dd's time
#   stats     mpirun -n 2 shoal-stats (range = auto, 64 bins; 512 KiB of rows
#             per task, its default): bytes of /x / the pool's wall time
#             (root attribute wall_seconds: the range pass, start-up and
#             the combining are not in it), and the whole command's
#             elapsed time
#   numpy     one /usr/bin/python3 process, h5py + numpy, the same
#             reduction in chunks of 2^20 rows: a min/max pass, then count,
#             mean and M2 (merged pairwise), the histogram on that range
#   dd_cold, stats_cold
#             the same two after dropping the page cache (sync; echo 3 >
#             /proc/sys/vm/drop_caches, as root): both read from the disk;
#             shoal-stats with a given range (-12:14), so that the pool's
#             pass is the one that reads the file (range = auto's first
#             pass would bring it into the cache before the pool starts).
#             Where the cache cannot be dropped these cases are left out,
#             and the script says so.
#   combine   mpirun -n 2 mc_pi configs/mc_pi.ini, 10^6 tasks of 1000
#             samples (some microseconds each): the root attribute
#             reduce_seconds (combining /reduce) against wall_seconds
#   combine_tiny
#             the same with 10 samples per task (well under a microsecond):
#             the run is then little more than writing the rows, which
#             combining reads back, so this is the worst case
#   small     shoal-stats as stats on small.h5 (10^6 rows), for memory
# Metrics: dd, stats, numpy mb_per_s (MB = 10^6 bytes); stats and numpy
# seconds (whole command); stats percent_of_dd (per repetition) and
# speedup_vs_numpy (numpy seconds / stats seconds); stats
# max_rel_diff_vs_numpy (mean and variance; count, NaN, min, max,
# histogram and outside counts must be equal, or the benchmark fails);
# dd_cold, stats_cold mb_per_s and stats_cold percent_of_dd (against
# dd_cold of the same repetition); combine and combine_tiny
# reduce_percent_of_wall and reduce_ns_per_task; stats and small max_rss_mib (the largest
# /ranks/max_rss_kib), memory rss_ratio (stats / small).
# Environment: BENCH_REPS (default 5; --quick 2), BENCH_ANALYSIS_ROWS (N).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args analysis "$@"

# shellcheck source=scripts/env.sh disable=SC1091
source scripts/env.sh
export LC_ALL=C # dd's decimal point

if [[ $QUICK -eq 1 ]]; then
    REPS="${BENCH_REPS:-2}"
    ROWS="${BENCH_ANALYSIS_ROWS:-10000000}"
else
    REPS="${BENCH_REPS:-5}"
    ROWS="${BENCH_ANALYSIS_ROWS:-100000000}"
fi
SMALL=1000000
NP=2
NCORES="$(shoal_nproc)"
PY=/usr/bin/python3
STATS=build/apps/shoal_stats/shoal-stats
MC_PI=build/apps/mc_pi/mc_pi
DIR=build/bench/analysis
HELPER=build/bench/b_analysis_helper.py
BYTES=$((ROWS * 8))
BINS=64

[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target shoal_stats mc_pi -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT

need_kib=$((2 * BYTES / 1024 + 1048576))
free_kib="$(df -Pk "$DIR" | awk 'NR == 2 {print $4}')"
if [[ "$free_kib" -lt "$need_kib" ]]; then
    echo "b_analysis: only $((free_kib / 1024)) MiB free in $DIR; need $((need_kib / 1024)) MiB" \
        "(set BENCH_ANALYSIS_ROWS lower)" >&2
    exit 1
fi

cat >"$HELPER" <<'PYEOF'
# Written by scripts/bench/b_analysis.sh: the data, the numpy baseline, the
# comparison with shoal-stats, and the metrics.
import json, statistics, sys, time

CHUNK = 1 << 20


def make(path, n):
    import h5py, numpy as np
    rng = np.random.default_rng(20261202)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("x", (n,), dtype="f8")   # contiguous
        for s in range(0, n, 10 ** 7):
            e = min(n, s + 10 ** 7)
            d[s:e] = rng.normal(size=e - s) * 2.5 + 1.25


def numpy_stats(path, bins, out):
    """The same reduction as shoal-stats, in chunks: a min/max pass, then
    count, mean and M2 (merged pairwise), the histogram and outside counts."""
    import h5py, numpy as np
    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        d = f["x"]
        n = d.shape[0]
        buf = np.empty(CHUNK)
        lo, hi = np.inf, -np.inf
        for s in range(0, n, CHUNK):
            x = buf[:min(CHUNK, n - s)]
            d.read_direct(x, np.s_[s:s + x.size])
            lo, hi = min(lo, np.nanmin(x)), max(hi, np.nanmax(x))
        cnt = mean = m2 = 0.0
        nan = below = above = 0
        hist = np.zeros(bins, dtype=np.int64)
        for s in range(0, n, CHUNK):
            x = buf[:min(CHUNK, n - s)]
            d.read_direct(x, np.s_[s:s + x.size])
            num = x[~np.isnan(x)]
            nan += x.size - num.size
            if num.size == 0:
                continue
            bm = num.mean()
            bm2 = float(((num - bm) ** 2).sum())
            nb = float(num.size)
            if cnt == 0:
                cnt, mean, m2 = nb, bm, bm2
            else:
                tot = cnt + nb
                delta = bm - mean
                mean += delta * (nb / tot)
                m2 += bm2 + delta * delta * (cnt * nb / tot)
                cnt = tot
            hist += np.histogram(num, bins=bins, range=(lo, hi))[0]
            below += int((num < lo).sum())
            above += int((num > hi).sum())
    t = time.perf_counter() - t0
    with open(out, "w") as o:
        json.dump({"seconds": t, "count": cnt, "mean": mean, "var": m2 / (cnt - 1),
                   "min": lo, "max": hi, "nan": nan, "below": below, "above": above,
                   "hist": hist.tolist()}, o)
    print(json.dumps({"seconds": t}))


def compare(result, ref):
    """Exit 1 (and say what differs) unless shoal-stats' /reduce equals the
    numpy figures; print the largest relative difference of mean, variance."""
    import h5py, numpy as np
    want = json.load(open(ref))
    with h5py.File(result, "r") as f:
        r = {k: f["reduce/x_" + k][...] for k in ("moments", "min", "max", "hist", "outside", "nan")}
        wall = float(f.attrs["wall_seconds"])
        rss = int(f["ranks/max_rss_kib"][:].max())
    n, mean, m2 = r["moments"][0]
    bad = []
    for what, got, exp in (("count", n, want["count"]), ("NaN", r["nan"][0], want["nan"]),
                           ("min", r["min"][0], want["min"]), ("max", r["max"][0], want["max"]),
                           ("below", r["outside"][0][0], want["below"]),
                           ("above", r["outside"][0][1], want["above"])):
        if got != exp:
            bad.append(f"{what}: shoal-stats {got!r}, numpy {exp!r}")
    if list(r["hist"][0]) != want["hist"]:
        bad.append(f"histogram: shoal-stats {list(r['hist'][0])}, numpy {want['hist']}")
    rel = max(abs(mean - want["mean"]) / abs(want["mean"]),
              abs(m2 / (n - 1) - want["var"]) / abs(want["var"]))
    if rel > 1e-12:
        bad.append(f"mean/variance differ by {rel:.3g} relative (> 1e-12): shoal-stats "
                   f"{mean!r}, {m2 / (n - 1)!r}; numpy {want['mean']!r}, {want['var']!r}")
    for b in bad:
        print("b_analysis: MISMATCH with numpy:", b, file=sys.stderr)
    print(json.dumps({"wall": wall, "rss_kib": rss, "rel": rel}))
    sys.exit(1 if bad else 0)


def result_info(result):
    import h5py
    with h5py.File(result, "r") as f:
        print(json.dumps({"wall": float(f.attrs["wall_seconds"]),
                          "reduce": float(f.attrs.get("reduce_seconds", -1)),
                          "rss_kib": int(f["ranks/max_rss_kib"][:].max())}))


def emit(out, local, case, label, ranks, rep, metric, unit, value, better, command):
    line = json.dumps({
        "bench": "analysis", "case": case, "label": label,
        "ranks": int(ranks) if ranks else None, "rep": int(rep),
        "metric": metric, "unit": unit, "value": float(value), "better": better,
        "command": command})
    for path in (out, local):
        with open(path, "a") as f:
            f.write(line + "\n")


def summary(local):
    rows = [json.loads(l) for l in open(local)]
    keys = []
    for r in rows:
        if (r["case"], r["metric"]) not in keys:
            keys.append((r["case"], r["metric"]))
    print("%-8s %-22s %3s %11s %11s %11s" % ("case", "metric", "n", "median", "min", "max"))
    for case, metric in keys:
        v = [r["value"] for r in rows if r["case"] == case and r["metric"] == metric]
        print("%-8s %-22s %3d %11.4g %11.4g %11.4g" % (case, metric, len(v),
              statistics.median(v), min(v), max(v)))


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif what == "numpy":
        numpy_stats(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif what == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif what == "info":
        result_info(sys.argv[2])
    elif what == "emit":
        emit(*sys.argv[2:])
    elif what == "summary":
        summary(sys.argv[2])
PYEOF

LOCAL="$DIR/results.jsonl"
: >"$LOCAL"
failures=0
fail() { echo "b_analysis: FAILED: $*" >&2; failures=$((failures + 1)); }
emit() { "$PY" "$HELPER" emit "$OUT" "$LOCAL" "$@"; }
json() { "$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
ratio() { awk -v a="$1" -v b="$2" -v k="${3:-1}" 'BEGIN { if (b > 0) printf "%.6g", k * a / b }'; }

echo "b_analysis: making $ROWS rows ($((BYTES / 1000000)) MB) and $SMALL rows in $DIR"
"$PY" "$HELPER" make "$DIR/big.h5" "$ROWS"
"$PY" "$HELPER" make "$DIR/small.h5" "$SMALL"
printf '[input]\nfile = %s\ndatasets = /x\n[shoal_stats]\nbins = %d\n' "$DIR/big.h5" "$BINS" >"$DIR/big.ini"
printf '[input]\nfile = %s\ndatasets = /x\n[shoal_stats]\nbins = %d\n' "$DIR/small.h5" "$BINS" >"$DIR/small.ini"
printf '[input]\nfile = %s\ndatasets = /x\n[shoal_stats]\nbins = %d\nrange = -12:14\n' "$DIR/big.h5" "$BINS" >"$DIR/cold.ini"
cat "$DIR/big.h5" "$DIR/small.h5" >/dev/null # into the page cache

mpi=(mpirun -n "$NP")
[[ $NP -le $NCORES ]] || mpi+=(--oversubscribe)

# Each case sets the metrics it measured, or returns non-zero.
run_dd() {
    local out bytes secs
    CMD="dd if=$DIR/big.h5 of=/dev/null bs=4M"
    out="$(dd if="$DIR/big.h5" of=/dev/null bs=4M 2>&1)" || { echo "$out" >&2; return 1; }
    read -r bytes secs < <(sed -n 's/^\([0-9]*\) bytes.* copied, \([0-9.e+-]*\) s,.*/\1 \2/p' <<<"$out")
    [[ -n "${secs:-}" ]] || { echo "$out" >&2; return 1; }
    DD_MBPS="$(ratio "$bytes" "$secs" 1e-6)"
}

run_stats() { # run_stats CONFIG RESULT -> STATS_SECONDS
    local t0 t1 rc=0
    local -a cmd=("${mpi[@]}" "$STATS" "$1" -o "$2" -f -q)
    CMD="${cmd[*]}"
    t0="$EPOCHREALTIME"
    "${cmd[@]}" || rc=$?
    t1="$EPOCHREALTIME"
    [[ $rc -eq 0 ]] || return 1
    STATS_SECONDS="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')"
}

run_numpy() {
    local out
    CMD="$PY $HELPER numpy $DIR/big.h5 $BINS $DIR/numpy.json"
    out="$("$PY" "$HELPER" numpy "$DIR/big.h5" "$BINS" "$DIR/numpy.json")" || return 1
    NUMPY_SECONDS="$(json "$out" seconds)"
}

run_combine() { # run_combine SAMPLES -> COMBINE_PERCENT, COMBINE_NS
    local out info wall red
    local -a cmd=("${mpi[@]}" "$MC_PI" configs/mc_pi.ini --set run.tasks=1000000
                  --set mc_pi.samples="$1" -o "$DIR/pi.h5" -f -q)
    CMD="${cmd[*]}"
    out="$("${cmd[@]}" 2>&1)" || { echo "$out" >&2; return 1; }
    info="$("$PY" "$HELPER" info "$DIR/pi.h5")" || return 1
    wall="$(json "$info" wall)"
    red="$(json "$info" reduce)"
    awk -v r="$red" 'BEGIN { exit !(r > 0) }' || { echo "no reduce_seconds in $DIR/pi.h5" >&2; return 1; }
    COMBINE_PERCENT="$(ratio "$red" "$wall" 100)"
    COMBINE_NS="$(ratio "$red" 1000000 1e9)"
}

# Drop the page cache (root only); non-zero where it cannot be dropped.
drop_cache() { sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; }
COLD=1
drop_cache || { COLD=0; echo "b_analysis: cannot drop the page cache here (not root?): no cold-cache cases"; }

L_DD="dd if=big.h5 of=/dev/null bs=4M (page cache)"
L_STATS="shoal-stats, $NP ranks, range auto, $BINS bins, 512 KiB tasks"
L_NUMPY="h5py + numpy, 1 process, chunks of 2^20 rows, same reduction"
L_DD_COLD="dd as above, page cache dropped first"
L_STATS_COLD="shoal-stats as above with range -12:14, page cache dropped first"
L_COMBINE="mc_pi, 10^6 tasks x 1000 samples, $NP ranks: combining /reduce"
L_COMBINE_TINY="mc_pi, 10^6 tasks x 10 samples, $NP ranks: combining /reduce"
L_SMALL="shoal-stats as above on 10^6 rows"
echo "b_analysis: $REPS reps x (dd stats numpy [dd_cold stats_cold] combine combine_tiny small)"
for ((rep = 1; rep <= REPS; rep++)); do
    DD_MBPS="" STATS_SECONDS="" NUMPY_SECONDS="" COMBINE_PERCENT="" line=""
    if run_dd; then
        emit dd "$L_DD" "" "$rep" mb_per_s "MB/s" "$DD_MBPS" higher "$CMD"
    else
        fail "dd rep $rep"
    fi
    stats_ok=0
    if run_stats "$DIR/big.ini" "$DIR/stats.h5"; then
        stats_cmd="$CMD"
        stats_ok=1
    else
        fail "shoal-stats rep $rep: $CMD"
    fi
    numpy_ok=0
    if run_numpy; then
        numpy_ok=1
        emit numpy "$L_NUMPY" 1 "$rep" seconds s "$NUMPY_SECONDS" lower "$CMD"
        emit numpy "$L_NUMPY" 1 "$rep" mb_per_s "MB/s" "$(ratio "$BYTES" "$NUMPY_SECONDS" 1e-6)" higher "$CMD"
    else
        fail "numpy rep $rep: $CMD"
    fi
    if [[ $stats_ok -eq 1 && $numpy_ok -eq 1 ]]; then
        if info="$("$PY" "$HELPER" compare "$DIR/stats.h5" "$DIR/numpy.json")"; then
            wall="$(json "$info" wall)"
            stats_mbps="$(ratio "$BYTES" "$wall" 1e-6)"
            emit stats "$L_STATS" "$NP" "$rep" mb_per_s "MB/s" "$stats_mbps" higher "$stats_cmd"
            emit stats "$L_STATS" "$NP" "$rep" seconds s "$STATS_SECONDS" lower "$stats_cmd"
            emit stats "$L_STATS" "$NP" "$rep" speedup_vs_numpy x \
                "$(ratio "$NUMPY_SECONDS" "$STATS_SECONDS")" higher "$stats_cmd"
            emit stats "$L_STATS" "$NP" "$rep" max_rel_diff_vs_numpy "relative" \
                "$(json "$info" rel)" lower "$stats_cmd"
            big_rss="$(json "$info" rss_kib)"
            emit stats "$L_STATS" "$NP" "$rep" max_rss_mib MiB "$(ratio "$big_rss" 1024)" lower "$stats_cmd"
            [[ -z "$DD_MBPS" ]] || emit stats "$L_STATS" "$NP" "$rep" percent_of_dd "%" \
                "$(ratio "$stats_mbps" "$DD_MBPS" 100)" higher "$stats_cmd"
            line="stats $stats_mbps MB/s in the pool, $STATS_SECONDS s whole"
        else
            fail "rep $rep: shoal-stats' /reduce differs from numpy's figures (see above)"
        fi
    fi
    if [[ $COLD -eq 1 ]]; then
        if drop_cache && run_dd; then
            DD_COLD="$DD_MBPS"
            emit dd_cold "$L_DD_COLD" "" "$rep" mb_per_s "MB/s" "$DD_COLD" higher "$CMD"
        else
            DD_COLD=""
            fail "dd_cold rep $rep"
        fi
        if drop_cache && run_stats "$DIR/cold.ini" "$DIR/stats.h5" &&
            info="$("$PY" "$HELPER" info "$DIR/stats.h5")"; then
            cold_mbps="$(ratio "$BYTES" "$(json "$info" wall)" 1e-6)"
            emit stats_cold "$L_STATS_COLD" "$NP" "$rep" mb_per_s "MB/s" "$cold_mbps" higher "$CMD"
            [[ -z "$DD_COLD" ]] || emit stats_cold "$L_STATS_COLD" "$NP" "$rep" percent_of_dd "%" \
                "$(ratio "$cold_mbps" "$DD_COLD" 100)" higher "$CMD"
        else
            fail "stats_cold rep $rep: $CMD"
        fi
        cat "$DIR/big.h5" "$DIR/small.h5" >/dev/null # back into the page cache
    fi
    for c in combine:1000 combine_tiny:10; do
        name=${c%%:*}
        if run_combine "${c#*:}"; then
            label=$L_COMBINE
            [[ $name == combine ]] || label=$L_COMBINE_TINY
            emit "$name" "$label" "$NP" "$rep" reduce_percent_of_wall "%" "$COMBINE_PERCENT" lower "$CMD"
            emit "$name" "$label" "$NP" "$rep" reduce_ns_per_task ns "$COMBINE_NS" lower "$CMD"
        else
            fail "$name rep $rep: $CMD"
        fi
    done
    if run_stats "$DIR/small.ini" "$DIR/small.h5.out" && [[ -n "${big_rss:-}" ]]; then
        small_rss="$(json "$("$PY" "$HELPER" info "$DIR/small.h5.out")" rss_kib)"
        emit small "$L_SMALL" "$NP" "$rep" max_rss_mib MiB "$(ratio "$small_rss" 1024)" lower "$CMD"
        emit memory "shoal-stats peak RSS, $ROWS rows / $SMALL rows" "$NP" "$rep" rss_ratio x \
            "$(ratio "$big_rss" "$small_rss")" lower "$CMD"
    else
        fail "small rep $rep: $CMD"
    fi
    unset big_rss
    echo "b_analysis: rep $rep/$REPS: dd ${DD_MBPS:-FAILED} MB/s; ${line:-stats FAILED};" \
        "numpy ${NUMPY_SECONDS:-FAILED} s; combine ${COMBINE_PERCENT:-FAILED}% of wall"
done

echo
echo "b_analysis: medians over $REPS reps ($ROWS rows, $((BYTES / 1000000)) MB; MB = 10^6 bytes)"
"$PY" "$HELPER" summary "$LOCAL"
if [[ $failures -gt 0 ]]; then
    echo "b_analysis: $failures case run(s) failed" >&2
    exit 1
fi
