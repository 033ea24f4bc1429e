#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Shoal's benchmark suite: every scripts/bench/b_*.sh, then the report.
#
#   bash scripts/bench/run.sh [--quick] [NAME...]
#
# Builds Shoal (Release), runs each benchmark (or the named ones) in turn,
# each alternating its cases over BENCH_REPS repetitions (default 5; --quick:
# 2 and small sizes), collects one JSON line per measurement in
# build/bench/results.jsonl, and writes docs/BENCHMARKS.md with PNG plots in
# docs/bench/. Benchmarks never run at the same time as each other. Run it on
# a machine that is otherwise idle: figures are medians and ratios from one
# invocation, but a busy machine still bends them.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
quick=()
names=()
for arg in "$@"; do
    case "$arg" in
        --quick) quick=(--quick) ;;
        -h | --help) sed -n '3,13p' "$0"; exit 0 ;;
        -*) echo "run.sh: unknown option $arg" >&2; exit 2 ;;
        *) names+=("$arg") ;;
    esac
done
# shellcheck source=scripts/env.sh
source scripts/env.sh
bash scripts/install-deps.sh
for pkg in python3-mpi4py python3-matplotlib python3-scipy valgrind parallel; do
    if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
        echo "run.sh: installing $pkg"
        if [[ $(id -u) -eq 0 ]]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
        "${apt_get[@]}" update -qq
        DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "$pkg" >/dev/null
    fi
done
bash scripts/build.sh build >/dev/null
mkdir -p build/bench
out=build/bench/results.jsonl
: >"$out"
if [[ ${#names[@]} -eq 0 ]]; then
    for f in scripts/bench/b_*.sh; do names+=("$(basename "$f" .sh | sed 's/^b_//')"); done
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for name in "${names[@]}"; do
    script=scripts/bench/b_$name.sh
    [[ -f $script ]] || { echo "run.sh: no benchmark $name ($script)" >&2; exit 2; }
    echo "==== $name"
    t0=$(date +%s)
    bash "$script" "$out" "${quick[@]}"
    echo "==== $name: $(( $(date +%s) - t0 )) s"
done
/usr/bin/python3 scripts/bench/report.py "$out" --started "$started" \
    --command "bash scripts/bench/run.sh $*" --out docs/BENCHMARKS.md --plots docs/bench
echo "run.sh: report in $REPO_ROOT/docs/BENCHMARKS.md"
