#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The scheduler's ceiling: how fast one scheduling-only master (rank 0)
# answers range requests, and how many ranks it can keep busy.
#
#   bash scripts/bench/b_sched.sh OUT.jsonl [--quick]
#
# apps/bench_sched/bench_sched (its header has the details) runs the real
# pool, shoal_pool_run, with master_idle = 1 and max_range_tasks = 1: every
# request a worker sends is answered with a range of one empty task, so
# rank 0 does nothing but answer requests and every answer is one the
# workers asked for at once. Cases, run alternately (every case once per
# round, REPS rounds):
#   serve_n2   mpirun -n 2: one worker, whose requests go one at a time
#   serve_n3   mpirun -n 3 --oversubscribe: two workers
#   serve_n5   -n 5 and
#   serve_n9   -n 9, oversubscribed: more workers than cores, so requests
#              queue up at rank 0 while it is off its core and it answers
#              them in a row: the way a master works when it is the limit
#   serve_n9_g3  -n 9 as serve_n9 with group_size 3: rank 0 answers ranks
#              1 and 2 and two sub-masters (ranks 3 and 6), each dealing to
#              its two members (docs/hierarchy.md)
# Metrics (medians over the rounds):
#   cpu_us_per_request  rank 0's CPU time over the run (process clock, MPI's
#              own threads included) / requests it answered (the workers'
#              ranges + 1 each; checked against rank 0's sent messages).
#              CPU time is what one request costs rank 0 whoever else
#              shares its core, so it stays meaningful on 2 oversubscribed
#              cores, where wall-clock rates do not. It includes what rank 0
#              spends waiting for the next request (MPI_Test polls, the
#              wake-ups of its back-off sleeps), so it is highest where
#              requests come one at a time (serve_n2) and falls towards the
#              cost of an answer alone as requests queue up.
#   busy_us_per_request  rank 0's pool wall time outside its waits
#              (shoal_pool_stats wall - idle) / requests: the answer itself
#              (on its own core at serve_n2; a wall time, so inflated where
#              rank 0 shares a core)
#   requests_per_s  requests / rank 0's pool wall time (wall clock: at
#              serve_n2 one round trip at a time, oversubscribed beyond)
#   root_answers_per_task (serve_n9, serve_n9_g3): answers rank 0 sent per
#              task run (1 flat, where every range is one task; fewer with
#              sub-masters, which ask for ranges of up to G tasks and deal
#              them one by one). Which share of the tasks the sub-masters'
#              groups get depends on the schedule, so this is a measure of
#              one machine's runs, not a constant
#   latency_p50_us, latency_p99_us, latency_mean_us (serve_n2 only): the
#              round trip one worker sees from sending a REQUEST to having
#              its RANGE, measured as the time from one empty range's start
#              to the next's (the request for the next range goes out just
#              before a range starts)
#   latency_fast_fraction (serve_n2 only): the fraction of those round
#              trips under 10 us, answered while both ends still polled.
#              The rest took a sleep at one end or both (pool.c's back-off
#              sleeps after 32 polls; a sleep lasts at least the kernel's
#              timer slack, 50 us): the round trip is bimodal, and its p50
#              falls on one mode or the other from run to run
# Derived, once, from those medians (rep 1; the model mode of
# bench_sched, which calls the library's scheduler, sched.c):
#   s = the lowest median cpu_us_per_request of the serve cases (the
#   master closest to saturation; an upper bound on an answer's cost when
#   requests queue), L = serve_n2's median latency_mean_us. For task times
#   t = 10 us, 1 ms, 1 s and jobs of N = 10^6 and 10^8 tasks (cases
#   model_t<t>_N<N>), with P workers (P + 1 ranks, master_idle) and the
#   range length n(P) the scheduler picks:
#     max_ranks_steady, range_tasks_steady: P workers each finishing ranges
#       of n tasks ask P / (n t) times a second; the master answers 1 / s a
#       second; the largest P + 1 with P * s <= n(P) * t, n(P) being the
#       first range once the task time is known (the bulk of a long run),
#       and that n
#     max_ranks_eff95, range_tasks_eff95: the largest P + 1 for which the
#       whole run keeps efficiency >= 0.95 when every range the scheduler
#       hands out, in order, takes max(s, n_k t / P) of the run (plus L and
#       P s / 2 for the first round of answers); the guided ranges shrink
#       at the end of a run, so the last ones saturate the master first and
#       this is the stricter rule. range_tasks_eff95 is n(P) there.
#   The same with s = serve_n3's median (two workers, as the issue names
#   it) gives the cases model_..._s_n3 (eff95 only). The model takes s as
#   independent of the rank count: on a cluster, MPI's progress over more
#   peers makes each answer dearer, so these are upper bounds there.
# Also draws docs/bench/sched_model.png: the model's efficiency against the
# rank count for each task time and job size.
# Sizes (full / --quick): serve_n2 10^5 / 2*10^4 requests; the others
# 10^6 / 10^5. REPS: env BENCH_REPS (default 5; --quick 2).
set -euo pipefail
export LC_ALL=C

BENCH=sched
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args sched "$@"

# shellcheck source=scripts/env.sh disable=SC1091
source scripts/env.sh

if [[ $QUICK -eq 1 ]]; then
    REPS="${BENCH_REPS:-2}"
    N_ONE=20000 N_MANY=100000
else
    REPS="${BENCH_REPS:-5}"
    N_ONE=100000 N_MANY=1000000
fi
NCORES="$(shoal_nproc)"
PY=/usr/bin/python3
BIN=build/apps/bench_sched/bench_sched
DIR=build/bench/sched
PLOT=docs/bench/sched_model.png

[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target bench_sched -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
LOCAL="$DIR/results.jsonl"
: >"$LOCAL"

json_str() {
    local s="$1"
    s="${s//\\/\\\\}"
    s="${s//\"/\\\"}"
    printf '%s' "$s"
}

# emit CASE LABEL RANKS REP METRIC UNIT VALUE BETTER COMMAND
emit() {
    local value="$7" line
    if ! [[ "$value" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
        echo "b_$BENCH: not a number for $1 $5: '$value'" >&2
        return 1
    fi
    line="$(printf '{"bench": "%s", "case": "%s", "label": "%s", "ranks": %s, "rep": %d, "metric": "%s", "unit": "%s", "value": %s, "better": "%s", "command": "%s"}' \
        "$BENCH" "$(json_str "$1")" "$(json_str "$2")" "$3" "$4" "$5" "$6" \
        "$value" "$8" "$(json_str "$9")")"
    echo "$line" >>"$OUT"
    echo "$line" >>"$LOCAL"
}

# field NAME LINE: the value of NAME=... in a result line.
field() {
    sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

failures=0
fail() { echo "b_$BENCH: FAILED: $*" >&2; failures=$((failures + 1)); }

run_serve() {
    local np="$1" rep="$2" group="${3:-0}" n out line rc=0 case="serve_n$1" label
    local -a cmd=(mpirun -n "$np")
    if [[ $np -gt $NCORES ]]; then
        cmd+=(--oversubscribe)
    fi
    if [[ $np -eq 2 ]]; then
        n=$N_ONE
        label="rank 0 only answers (master_works=false), 1 worker, empty single-task ranges"
    else
        n=$N_MANY
        label="rank 0 only answers, $((np - 1)) workers on $NCORES cores (oversubscribed), empty single-task ranges"
    fi
    if [[ $group -gt 0 ]]; then
        case="serve_n${np}_g$group"
        label="$label, group_size $group: sub-masters deal to their groups"
    fi
    cmd+=("$BIN" serve "$n" "$group")
    out="$("${cmd[@]}" 2>&1)" || rc=$?
    line="$(grep -E '^bench_sched serve .* ok$' <<<"$out" | head -n 1 || true)"
    if [[ $rc -ne 0 || -z "$line" ]]; then
        echo "$out" | tail -n 20 >&2
        fail "$case rep $rep (exit $rc): ${cmd[*]}"
        return 0
    fi
    echo "b_$BENCH: $case: $line"
    if [[ $group -eq 0 ]]; then # with groups rank 0 answers only some requests
        emit "$case" "$label" "$np" "$rep" cpu_us_per_request us \
            "$(field cpu_us_per_request "$line")" lower "${cmd[*]}"
        emit "$case" "$label" "$np" "$rep" busy_us_per_request us \
            "$(field busy_us_per_request "$line")" lower "${cmd[*]}"
    fi
    emit "$case" "$label" "$np" "$rep" requests_per_s requests/s \
        "$(field requests_per_s "$line")" higher "${cmd[*]}"
    if [[ $np -eq 9 ]]; then
        emit "$case" "$label" "$np" "$rep" root_answers_per_task answers/task \
            "$(field root_answers_per_task "$line")" lower "${cmd[*]}"
    fi
    if [[ $np -eq 2 ]]; then
        emit "$case" "$label" "$np" "$rep" latency_p50_us us \
            "$(field lat_p50_us "$line")" lower "${cmd[*]}"
        emit "$case" "$label" "$np" "$rep" latency_p99_us us \
            "$(field lat_p99_us "$line")" lower "${cmd[*]}"
        emit "$case" "$label" "$np" "$rep" latency_mean_us us \
            "$(field lat_mean_us "$line")" lower "${cmd[*]}"
        emit "$case" "$label" "$np" "$rep" latency_fast_fraction fraction \
            "$(field lat_fast "$line")" higher "${cmd[*]}"
    fi
}

echo "b_$BENCH: $REPS rounds, $NCORES cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((rep = 1; rep <= REPS; rep++)); do
    echo "b_$BENCH: round $rep/$REPS"
    for np in 2 3 5 9; do
        run_serve "$np" "$rep"
    done
    run_serve 9 "$rep" 3
done
if [[ $failures -gt 0 ]]; then
    echo "b_$BENCH: $failures run(s) failed; no model" >&2
    exit 1
fi

# ---- derived: the model over the medians ---------------------------------------

# The medians the model takes: s (lowest cpu_us_per_request, and its case),
# serve_n3's, and L.
read -r S_MIN S_CASE S_N3 LAT < <("$PY" - "$LOCAL" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(case, metric):
    return statistics.median(r["value"] for r in rows if r["case"] == case and r["metric"] == metric)
cpu = {c: med(c, "cpu_us_per_request") for c in dict.fromkeys(r["case"] for r in rows)
       if "_g" not in c}
best = min(cpu, key=cpu.get)
print(f"{cpu[best]:.6g} {best} {cpu['serve_n3']:.6g} {med('serve_n2', 'latency_mean_us'):.6g}")
PYEOF
)

model() {
    # model S CASE_SUFFIX LABEL_S FULL
    local s="$1" suffix="$2" what="$3" full="$4" line t n case label tname nname
    local -a cmd=("$BIN" model "$s" "$LAT")
    local out
    out="$("${cmd[@]}")"
    if [[ $full -eq 1 ]]; then
        grep "^bench_sched curve " <<<"$out" >"$DIR/curve.txt"
    fi
    while read -r line; do
        t="$(field task_s "$line")"
        n="$(field ntasks "$line")"
        case "$t" in 1e-05) tname=10us ;; 0.001) tname=1ms ;; 1) tname=1s ;; *) tname="$t" ;; esac
        case "$n" in 1000000) nname=1e6 ;; 100000000) nname=1e8 ;; *) nname="$n" ;; esac
        case="model_t${tname}_N${nname}$suffix"
        label="model: tasks of $tname, $nname tasks, master only schedules; $what, L = $(printf '%.3g' "$LAT") us"
        emit "$case" "$label" null 1 max_ranks_eff95 ranks \
            "$(field max_ranks_eff95 "$line")" higher "${cmd[*]}"
        emit "$case" "$label" null 1 range_tasks_eff95 tasks \
            "$(field range_tasks_eff95 "$line")" higher "${cmd[*]}"
        if [[ $full -eq 1 ]]; then
            if [[ "$(field capped "$line")" -eq 1 ]]; then
                label+=" (steady rule capped at one task per worker)"
            fi
            emit "$case" "$label" null 1 max_ranks_steady ranks \
                "$(field max_ranks_steady "$line")" higher "${cmd[*]}"
            emit "$case" "$label" null 1 range_tasks_steady tasks \
                "$(field range_tasks_steady "$line")" higher "${cmd[*]}"
            emit "$case" "$label" null 1 eff_at_steady fraction \
                "$(field eff_at_steady "$line")" higher "${cmd[*]}"
        fi
        echo "b_$BENCH: $case: $line"
    done < <(grep '^bench_sched model ' <<<"$out")
}

echo "b_$BENCH: model with s = $S_MIN us ($S_CASE), L = $LAT us"
model "$S_MIN" "" "s = $(printf '%.3g' "$S_MIN") us ($S_CASE's CPU per request)" 1
model "$S_N3" "_s_n3" "s = $(printf '%.3g' "$S_N3") us (serve_n3's CPU per request)" 0

# ---- plot and summary ------------------------------------------------------------

"$PY" - "$DIR/curve.txt" "$PLOT" "$S_MIN" "$S_CASE" "$LAT" <<'PYEOF' || echo "b_sched: no plot (matplotlib?)" >&2
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
path, png, s, case, lat = sys.argv[1:6]
curves = {}
for line in open(path):
    kv = dict(w.split("=", 1) for w in line.split()[2:])
    curves.setdefault((float(kv["task_s"]), int(kv["ntasks"])), []).append(
        (int(kv["ranks"]), float(kv["eff"])))
fig, ax = plt.subplots(figsize=(7.5, 4.2))
colors = {1e-5: "#c44e52", 1e-3: "#4878a8", 1.0: "#55a868"}
names = {1e-5: "10 us", 1e-3: "1 ms", 1.0: "1 s"}
for (t, n), pts in sorted(curves.items()):
    x, y = zip(*pts)
    ax.plot(x, y, "-" if n >= 10**8 else "--", color=colors.get(t, "k"),
            label=f"tasks of {names.get(t, t)}, {n:.0e} tasks".replace("e+0", "e"))
ax.axhline(0.95, color="grey", lw=0.8, ls=":")
ax.set_xscale("log")
ax.set_ylim(0, 1.05)
ax.set_xlabel("ranks (1 scheduling-only master + workers)")
ax.set_ylabel("efficiency (model)")
ax.set_title(f"One master's ceiling: s = {float(s):.3g} us per answer ({case}), "
             f"L = {float(lat):.3g} us", fontsize=10)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
fig.savefig(png, dpi=110)
print(f"b_sched: drew {png}")
PYEOF

echo
echo "b_$BENCH: medians over $REPS rounds (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" - "$LOCAL" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = list(dict.fromkeys((r["case"], r["metric"]) for r in rows))
print(f"{'case':<22} {'metric':<22} {'n':>2} {'median':>12} {'min':>12} {'max':>12}")
for case, metric in keys:
    v = [r["value"] for r in rows if r["case"] == case and r["metric"] == metric]
    print(f"{case:<22} {metric:<22} {len(v):>2} {statistics.median(v):>12.4g} "
          f"{min(v):>12.4g} {max(v):>12.4g}")
PYEOF
