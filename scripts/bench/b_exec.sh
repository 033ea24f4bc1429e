#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# shoal-exec: external programs as tasks, against GNU parallel, xargs and a
# serial C spawn loop, at 2 ranks / 2 jobs.
#
#   bash scripts/bench/b_exec.sh OUT.jsonl [--quick]
#
# Tiny tasks, /bin/true (cases run alternately, every case once per round,
# in reverse order every other round):
#   spawn_serial       scripts/bench/spawn_baseline.c: one process, N times
#                      posix_spawn + both pipes read to EOF + waitpid; what
#                      one rank must at least do per task.
#   shoal_start        mpirun -n 2 shoal-exec with 2 tasks (one per rank):
#                      the fixed cost of a run (whole_s, rank_cpu_s).
#   shoal_true         mpirun -n 2 shoal-exec, argv = /bin/true, default tail
#                      (2048 bytes of stdout and of stderr kept per task).
#   shoal_true_notail  the same with tail = 0 (no output tails in the file).
#   parallel           GNU parallel --will-cite -j2 --joblog, /bin/true ITEM;
#                      every job must show exit 0 in the joblog.
#   xargs              xargs -P2 -n1 /bin/true ITEM (one process per item).
# 10 ms tasks, scripts/bench/sleep_ms.c (nanosleep 10 ms; a program of our
# own rather than /bin/sleep, whose start-up adds its own noise):
#   sleep_serial       spawn_baseline running sleep_ms 10, N times.
#   shoal_sleep        mpirun -n 2 shoal-exec, argv = sleep_ms 10.
#   parallel_sleep, xargs_sleep   as above, on sleep_ms 10.
# shoal-exec runs without -q (-q drops the summary line, which gives the
# pool's wall time); its file must hold N done tasks, every exit code 0.
#
# Metrics: tasks_per_s (Shoal: tasks / the pool's wall time from its summary
# line; parallel and xargs: tasks / the whole command's wall time, they have
# no other), tasks_per_s_whole (tasks / the whole command: mpirun, MPI
# start-up, the HDF5 file's creation and closing included), s_per_task and
# self_cpu_ms_per_task (the baselines: wall and own CPU per run), and,
# computed per round against that round's baselines (report.py takes the
# medians):
#   overhead_ms_per_task      (2 ranks x pool wall / N) - spawn_serial's
#                             seconds per task, in ms: what Shoal adds to a
#                             rank's time per task (target <= 0.1 ms).
#   overhead_cpu_ms_per_task  the same in CPU time, which contention for the
#                             cores bends less: (both ranks' CPU, from
#                             /ranks/cpu_seconds, less shoal_start's) / N -
#                             spawn_baseline's own CPU per task; the
#                             programs' own CPU is in neither.
#   efficiency                (N x sleep_serial's seconds per task / 2) /
#                             wall (Shoal: pool wall; the peers: whole).
# Shoal's runs also give, from their own file: program_wall_ms (mean of
# /results/wall_seconds: from posix_spawn to reaping one program, as the
# rank saw it), outside_program_ms_per_task = 2 ranks x pool wall / N -
# program_wall_ms (a rank's time per task outside its program: scheduling,
# pipes, argv and environment, the row into the file; from one run, so no
# drift between runs in it) and rank_cpu_ms_per_task (/ranks/cpu_seconds
# over N, the fixed cost of shoal_start included).
#
# Sizes (full / --quick): /bin/true 4000 / 2000 tasks, GNU parallel 1000 /
# 200 (it costs about 40 ms of CPU per job here; the metric is a rate);
# sleep 400 / 100. A full round takes about 1.5 minutes (a /bin/true start
# costs ~5 ms in this VM).
# REPS: env BENCH_REPS (default 5; --quick: 2). GNU parallel and GNU xargs
# must be installed (scripts/bench/run.sh installs parallel): without them
# the benchmark fails, it never skips.
set -euo pipefail
export LC_ALL=C

BENCH="exec"
# shellcheck source=scripts/bench/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args exec "$@"
touch "$OUT"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/env.sh disable=SC1091
source scripts/env.sh

PY=/usr/bin/python3
NCORES="$(shoal_nproc)"
NP=2
SLEEP_MS=10
if [[ $QUICK -eq 1 ]]; then
    REPS="${BENCH_REPS:-2}"
    N_TRUE=2000 N_TRUE_PAR=200 N_SLEEP=100
else
    REPS="${BENCH_REPS:-5}"
    N_TRUE=4000 N_TRUE_PAR=1000 N_SLEEP=400
fi

DIR=build/bench/exec
EXEC_BIN=build/apps/shoal_exec/shoal-exec
SPAWN_BIN=build/bench/spawn_baseline
SLEEP_BIN="$REPO_ROOT/build/bench/sleep_ms"
START_LINE="$(wc -l <"$OUT")"

# ---- the tools: fail, never skip ------------------------------------------------

die() {
    echo "b_$BENCH: $*" >&2
    exit 1
}
command -v parallel >/dev/null ||
    die "GNU parallel is not installed (apt-get install parallel; scripts/bench/run.sh installs it)"
par_version="$(parallel --will-cite --version 2>/dev/null)" ||
    die "'parallel --version' failed: $(command -v parallel) is not GNU parallel (moreutils' parallel?); apt-get install parallel"
[[ "$par_version" == "GNU parallel "* ]] ||
    die "$(command -v parallel) is not GNU parallel (moreutils' parallel?); apt-get install parallel"
command -v xargs >/dev/null || die "xargs is not installed (apt-get install findutils)"
xargs_version="$(xargs --version 2>/dev/null)" || die "'xargs --version' failed: GNU xargs (findutils) is needed for -P and -a"
[[ "$xargs_version" == *"GNU findutils"* ]] || die "xargs is not GNU xargs (findutils): -P and -a are needed"
command -v cc >/dev/null || die "no C compiler (cc) for the baselines"

# ---- build ----------------------------------------------------------------------

[[ -f build/CMakeCache.txt ]] || bash scripts/build.sh build >/dev/null
cmake --build build --target shoal_exec -j "$NCORES" >/dev/null
rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
cc -O2 -Wall -Wextra -Werror -o "$SPAWN_BIN" scripts/bench/spawn_baseline.c
cc -O2 -Wall -Wextra -Werror -o "$SLEEP_BIN" scripts/bench/sleep_ms.c

printf '[run]\ntasks = %d\n[command]\nargv = /bin/true\n' "$N_TRUE" >"$DIR/true.ini"
printf '[run]\ntasks = %d\n[command]\nargv = /bin/true\ntail = 0\n' "$N_TRUE" >"$DIR/true_notail.ini"
printf '[run]\ntasks = %d\n[command]\nargv = %s %d\n' "$N_SLEEP" "$SLEEP_BIN" "$SLEEP_MS" >"$DIR/sleep.ini"
# The items xargs and parallel read (-a FILE): one per task.
seq "$N_TRUE" >"$DIR/items_true"
seq "$N_TRUE_PAR" >"$DIR/items_true_par"
for ((i = 0; i < N_SLEEP; i++)); do echo "$SLEEP_MS"; done >"$DIR/items_sleep"
ITEMS_SLEEP="yes $SLEEP_MS | head -n $N_SLEEP >$DIR/items_sleep"

# Reads a shoal-exec result file: checks that every task is done with exit
# code 0 and prints "RANK_CPU_SECONDS PROGRAM_WALL_MEAN_SECONDS".
HELPER="$DIR/check.py"
cat >"$HELPER" <<'PYEOF'
import sys
import h5py
import numpy as np
path, n = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    status = f["tasks/status"][:]
    code = f["results/exit_code"][:]
    if len(status) != n or not (status == 1).all():
        sys.exit(f"{path}: {int((status == 1).sum())} of {n} tasks done")
    if not (code == 0).all():
        sys.exit(f"{path}: {int((code != 0).sum())} programs did not exit 0")
    print(f'{float(f["ranks/cpu_seconds"][:].sum()):.6f} '
          f'{float(np.mean(f["results/wall_seconds"][:])):.9f}')
PYEOF

# ---- helpers ----------------------------------------------------------------------

# Shell-quotes each word only where needed, so the result can be pasted.
shquote() {
    local w out=()
    for w in "$@"; do
        if [[ "$w" =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
            out+=("$w")
        else
            out+=("'${w//\'/\'\\\'\'}'")
        fi
    done
    printf '%s' "${out[*]}"
}

json_str() {
    local s="$1"
    s="${s//\\/\\\\}"
    s="${s//\"/\\\"}"
    printf '%s' "$s"
}

# emit CASE LABEL RANKS REP METRIC UNIT VALUE BETTER COMMAND
emit() {
    local value="$7"
    if ! [[ "$value" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
        echo "b_$BENCH: not a number for $1 $5: '$value'" >&2
        failures=$((failures + 1))
        return 0
    fi
    printf '{"bench": "%s", "case": "%s", "label": "%s", "ranks": %s, "rep": %d, "metric": "%s", "unit": "%s", "value": %s, "better": "%s", "command": "%s"}\n' \
        "$BENCH" "$(json_str "$1")" "$(json_str "$2")" "$3" "$4" "$5" "$6" \
        "$value" "$8" "$(json_str "$9")" >>"$OUT"
}

# calc EXPR [VAR=VALUE...]: awk arithmetic, printed with %.6g.
calc() {
    local expr="$1" a=() v
    shift
    for v in "$@"; do a+=(-v "$v"); done
    awk "${a[@]}" "BEGIN { printf \"%.6g\", $expr }"
}

# run_timed CMD...: runs it, sets RUN_OUT (stdout+stderr), RUN_WALL (s),
# RUN_CMD (quoted command line); returns its exit status.
run_timed() {
    local t0 t1 rc=0
    RUN_CMD="$(shquote "$@")"
    t0="$EPOCHREALTIME"
    RUN_OUT="$("$@" 2>&1)" || rc=$?
    t1="$EPOCHREALTIME"
    RUN_WALL="$(calc "b - a" a="$t0" b="$t1")"
    return "$rc"
}

failures=0
fail() {
    echo "b_$BENCH: FAILED: $1" >&2
    echo "  command: $RUN_CMD" >&2
    tail -n 20 <<<"$RUN_OUT" | sed 's/^/  | /' >&2
    failures=$((failures + 1))
}

MPIRUN=(mpirun -n "$NP")
OVERSUB=""
if [[ $NP -gt $NCORES ]]; then
    MPIRUN+=(--oversubscribe)
    OVERSUB=" (oversubscribed: $NP processes on $NCORES cores)"
fi

# ---- cases ------------------------------------------------------------------------

# Per round, what the derived metrics need (empty: that case failed).
declare -A WALL RANKCPU BASE_S BASE_CPU
START_CPU=""

# run_shoal CASE CONFIG N REP LABEL: shoal-exec at NP ranks (no -q: its
# summary line gives the pool's wall time).
run_shoal() {
    local case="$1" ini="$2" n="$3" rep="$4" label="$5$OVERSUB" h5="$DIR/$1.h5" line wall res
    WALL[$case]="" RANKCPU[$case]=""
    rm -f "$h5" "$h5.lock"
    if ! run_timed "${MPIRUN[@]}" "$EXEC_BIN" "$ini" -o "$h5" -f; then
        fail "$case rep $rep"
        return 0
    fi
    line="$(grep -E "^shoal_exec: $n tasks \\($n done, 0 failed\\) on $NP ranks in " <<<"$RUN_OUT" || true)"
    wall="$(sed -n 's/^shoal_exec: .* on [0-9]* ranks in \([0-9.]*\) s (.*/\1/p' <<<"$line")"
    if [[ -z "$wall" ]] || ! awk -v w="$wall" 'BEGIN { exit !(w > 0) }'; then
        fail "$case rep $rep: no summary line with all $n tasks done on $NP ranks"
        return 0
    fi
    if ! res="$("$PY" "$HELPER" "$h5" "$n" 2>&1)"; then
        RUN_OUT="$res"
        fail "$case rep $rep: the result file"
        return 0
    fi
    local rank_cpu="${res% *}" prog_wall="${res#* }"
    WALL[$case]="$wall" RANKCPU[$case]="$rank_cpu"
    emit "$case" "$label" "$NP" "$rep" tasks_per_s tasks/s "$(calc "n / w" n="$n" w="$wall")" higher "$RUN_CMD"
    emit "$case" "$label" "$NP" "$rep" tasks_per_s_whole tasks/s "$(calc "n / w" n="$n" w="$RUN_WALL")" higher "$RUN_CMD"
    emit "$case" "$label" "$NP" "$rep" rank_cpu_ms_per_task ms "$(calc "1000 * c / n" c="$rank_cpu" n="$n")" lower "$RUN_CMD"
    emit "$case" "$label" "$NP" "$rep" program_wall_ms ms "$(calc "1000 * p" p="$prog_wall")" lower "$RUN_CMD"
    emit "$case" "$label" "$NP" "$rep" outside_program_ms_per_task ms \
        "$(calc "1000 * (r * w / n - p)" r="$NP" w="$wall" n="$n" p="$prog_wall")" lower "$RUN_CMD"
    rm -f "$h5"
}

# run_start REP: shoal-exec with one /bin/true per rank: the fixed cost of a
# run (mpirun, MPI start-up, the file), which rank_cpu_ms_per_task has in it.
run_start() {
    local rep="$1" case=shoal_start h5="$DIR/shoal_start.h5" res
    local label="shoal-exec, $NP tasks of /bin/true (one per rank): a run's fixed cost$OVERSUB"
    START_CPU=""
    rm -f "$h5" "$h5.lock"
    if ! run_timed "${MPIRUN[@]}" "$EXEC_BIN" "$DIR/true.ini" --set "run.tasks=$NP" -o "$h5" -f -q; then
        fail "$case rep $rep"
        return 0
    fi
    if ! res="$("$PY" "$HELPER" "$h5" "$NP" 2>&1)"; then
        RUN_OUT="$res"
        fail "$case rep $rep: the result file"
        return 0
    fi
    START_CPU="${res% *}"
    emit "$case" "$label" "$NP" "$rep" whole_s s "$RUN_WALL" lower "$RUN_CMD"
    emit "$case" "$label" "$NP" "$rep" rank_cpu_s s "$START_CPU" lower "$RUN_CMD"
    rm -f "$h5"
}

# run_serial CASE N REP LABEL PROGRAM [ARG...]
run_serial() {
    local case="$1" n="$2" rep="$3" label="$4" s cpu
    shift 4
    BASE_S[$case]="" BASE_CPU[$case]=""
    if ! run_timed "$SPAWN_BIN" "$n" "$@"; then
        fail "$case rep $rep"
        return 0
    fi
    s="$(sed -n 's/^spawn_baseline n=[0-9]* .*s_per_task=\([0-9.eE+-]*\) self_cpu_per_task=.* ok$/\1/p' <<<"$RUN_OUT")"
    cpu="$(sed -n 's/^spawn_baseline n=[0-9]* .*self_cpu_per_task=\([0-9.eE+-]*\) .* ok$/\1/p' <<<"$RUN_OUT")"
    if [[ -z "$s" || -z "$cpu" ]]; then
        fail "$case rep $rep: no 'ok' result line"
        return 0
    fi
    BASE_S[$case]="$s" BASE_CPU[$case]="$cpu"
    emit "$case" "$label" 1 "$rep" s_per_task s "$s" lower "$RUN_CMD"
    emit "$case" "$label" 1 "$rep" self_cpu_ms_per_task ms "$(calc "1000 * c" c="$cpu")" lower "$RUN_CMD"
}

# run_peer CASE N REP LABEL ITEMS_MADE JOBLOG|- CMD...: parallel or xargs;
# the whole command's wall time is the only one they have. ITEMS_MADE: how
# the items file was written (for the command on record). With a joblog,
# all N jobs must be in it with exit 0 and no signal.
run_peer() {
    local case="$1" n="$2" rep="$3" label="$4" items="$5" joblog="$6" ok rate
    shift 6
    WALL[$case]=""
    [[ "$joblog" == - ]] || rm -f "$joblog"
    if ! run_timed "$@"; then
        fail "$case rep $rep"
        return 0
    fi
    RUN_CMD="$items; $RUN_CMD"
    if [[ "$joblog" != - ]]; then
        ok="$(awk -F'\t' 'NR > 1 && $7 == 0 && $8 == 0 { k++ } END { print k + 0 }' "$joblog")"
        if [[ "$ok" -ne "$n" ]]; then
            RUN_OUT="$(tail -n 5 "$joblog")"
            fail "$case rep $rep: $ok of $n jobs in the joblog exited 0"
            return 0
        fi
    fi
    WALL[$case]="$RUN_WALL"
    rate="$(calc "n / w" n="$n" w="$RUN_WALL")"
    emit "$case" "$label" "$NP" "$rep" tasks_per_s tasks/s "$rate" higher "$RUN_CMD"
    emit "$case" "$label" "$NP" "$rep" tasks_per_s_whole tasks/s "$rate" higher "$RUN_CMD"
}

case_run() {
    local rep="$1"
    case "$2" in
        spawn_serial)
            run_serial spawn_serial "$N_TRUE" "$rep" \
                "serial C loop (spawn_baseline.c): posix_spawn /bin/true, pipes read to EOF, waitpid" /bin/true ;;
        shoal_start) run_start "$rep" ;;
        shoal_true)
            run_shoal shoal_true "$DIR/true.ini" "$N_TRUE" "$rep" \
                "shoal-exec /bin/true, $NP ranks, tail 2048 (default)" ;;
        shoal_true_notail)
            run_shoal shoal_true_notail "$DIR/true_notail.ini" "$N_TRUE" "$rep" \
                "shoal-exec /bin/true, $NP ranks, tail 0 (no output tails in the file)" ;;
        parallel)
            run_peer parallel "$N_TRUE_PAR" "$rep" \
                "GNU parallel -j$NP --joblog, /bin/true ITEM ($N_TRUE_PAR jobs; whole command)" \
                "seq $N_TRUE_PAR >$DIR/items_true_par" "$DIR/parallel.log" \
                parallel --will-cite "-j$NP" --joblog "$DIR/parallel.log" -a "$DIR/items_true_par" /bin/true ;;
        xargs)
            run_peer xargs "$N_TRUE" "$rep" \
                "xargs -P$NP -n1 /bin/true ITEM (whole command)" "seq $N_TRUE >$DIR/items_true" - \
                xargs "-P$NP" -n1 -a "$DIR/items_true" /bin/true ;;
        sleep_serial)
            run_serial sleep_serial "$N_SLEEP" "$rep" \
                "serial C loop (spawn_baseline.c) running sleep_ms $SLEEP_MS" "$SLEEP_BIN" "$SLEEP_MS" ;;
        shoal_sleep)
            run_shoal shoal_sleep "$DIR/sleep.ini" "$N_SLEEP" "$rep" \
                "shoal-exec sleep_ms $SLEEP_MS (nanosleep), $NP ranks" ;;
        parallel_sleep)
            run_peer parallel_sleep "$N_SLEEP" "$rep" \
                "GNU parallel -j$NP --joblog, sleep_ms $SLEEP_MS (whole command)" \
                "$ITEMS_SLEEP" "$DIR/parallel.log" \
                parallel --will-cite "-j$NP" --joblog "$DIR/parallel.log" -a "$DIR/items_sleep" "$SLEEP_BIN" ;;
        xargs_sleep)
            run_peer xargs_sleep "$N_SLEEP" "$rep" \
                "xargs -P$NP -n1 sleep_ms $SLEEP_MS (whole command)" "$ITEMS_SLEEP" - \
                xargs "-P$NP" -n1 -a "$DIR/items_sleep" "$SLEEP_BIN" ;;
        *) die "no case $2" ;;
    esac
}

# derived REP: this round's metrics against this round's baselines.
derived() {
    local rep="$1" c base_s="${BASE_S[spawn_serial]}" base_cpu="${BASE_CPU[spawn_serial]}"
    local sleep_s="${BASE_S[sleep_serial]}"
    local tail label
    for c in shoal_true shoal_true_notail; do
        [[ -n "${WALL[$c]}" && -n "$base_s" ]] || continue
        tail="tail 2048"
        [[ $c == shoal_true ]] || tail="tail 0"
        label="shoal-exec /bin/true, $NP ranks, $tail, against spawn_serial of the same round"
        emit "$c" "$label" "$NP" "$rep" overhead_ms_per_task ms \
            "$(calc "1000 * (r * w / n - b)" r="$NP" w="${WALL[$c]}" n="$N_TRUE" b="$base_s")" lower \
            "(derived) $NP x pool wall / $N_TRUE - spawn_serial s_per_task"
        [[ -n "$START_CPU" ]] || continue
        emit "$c" "$label" "$NP" "$rep" overhead_cpu_ms_per_task ms \
            "$(calc "1000 * ((c - f) / n - b)" c="${RANKCPU[$c]}" f="$START_CPU" n="$N_TRUE" b="$base_cpu")" lower \
            "(derived) (sum of /ranks/cpu_seconds - shoal_start's) / $N_TRUE - spawn_serial self CPU per task"
    done
    [[ -n "$sleep_s" ]] || return 0
    local n="$N_SLEEP"
    for c in shoal_sleep parallel_sleep xargs_sleep; do
        [[ -n "${WALL[$c]}" ]] || continue
        case $c in
            shoal_sleep) label="shoal-exec sleep_ms $SLEEP_MS, $NP ranks (pool wall)" ;;
            parallel_sleep) label="GNU parallel -j$NP, sleep_ms $SLEEP_MS (whole command)" ;;
            *) label="xargs -P$NP -n1, sleep_ms $SLEEP_MS (whole command)" ;;
        esac
        emit "$c" "$label" "$NP" "$rep" efficiency fraction \
            "$(calc "n * s / r / w" n="$n" s="$sleep_s" r="$NP" w="${WALL[$c]}")" higher \
            "(derived) ($n x sleep_serial s_per_task / $NP) / wall"
    done
}

TINY=(spawn_serial shoal_start shoal_true shoal_true_notail parallel xargs)
SLEEPY=(sleep_serial shoal_sleep parallel_sleep xargs_sleep)
echo "b_$BENCH: $REPS rounds; /bin/true x $N_TRUE (GNU parallel x $N_TRUE_PAR)," \
    "sleep_ms $SLEEP_MS x $N_SLEEP; $NCORES cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((rep = 1; rep <= REPS; rep++)); do
    echo "b_$BENCH: round $rep/$REPS" >&2
    order=("${TINY[@]}" "${SLEEPY[@]}")
    if ((rep % 2 == 0)); then # reversed, so that a drifting machine favours no case
        order=()
        for ((i = ${#TINY[@]} - 1; i >= 0; i--)); do order+=("${TINY[i]}"); done
        for ((i = ${#SLEEPY[@]} - 1; i >= 0; i--)); do order+=("${SLEEPY[i]}"); done
    fi
    for c in "${order[@]}"; do case_run "$rep" "$c"; done
    derived "$rep"
done

# ---- summary ----------------------------------------------------------------------

"$PY" - "$OUT" "$START_LINE" "$BENCH" <<'EOF'
import json, statistics, sys
from collections import OrderedDict
out, start, bench = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [json.loads(l) for i, l in enumerate(open(out)) if i >= start and l.strip()]
agg = OrderedDict()
for r in rows:
    if r.get("bench") == bench:
        agg.setdefault((r["case"], r["metric"]), []).append(r["value"])
print(f"\nb_{bench}: medians ({sum(len(v) for v in agg.values())} measurements)")
print(f"{'case':<18} {'metric':<26} {'n':>2} {'median':>11} {'min':>11} {'max':>11}")
for (case, metric), v in agg.items():
    print(f"{case:<18} {metric:<26} {len(v):>2} {statistics.median(v):>11.4g} "
          f"{min(v):>11.4g} {max(v):>11.4g}")
EOF
echo "b_$BENCH: load average now $(cut -d' ' -f1-3 /proc/loadavg)" >&2

if [[ $failures -gt 0 ]]; then
    echo "b_$BENCH: $failures run(s) failed" >&2
    exit 1
fi
