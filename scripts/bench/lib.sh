# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# lib.sh: what the benchmark scripts share (sourced from the repository
# root, after `cd "$REPO_ROOT"`).

# bench_args NAME "$@": the command line of scripts/bench/b_NAME.sh,
#   OUT.jsonl [--quick]
# sets OUT (made absolute, its directory created) and QUICK (0 or 1);
# -h prints the script's header comment; a mistake prints the usage, exit 2.
bench_args() {
    local name=$1 arg
    shift
    OUT=""
    QUICK=0
    for arg in "$@"; do
        case "$arg" in
            --quick) QUICK=1 ;;
            -h | --help) bench_help; exit 0 ;;
            -*) echo "b_$name: unknown option $arg" >&2; bench_usage "$name" ;;
            *) [[ -z "$OUT" ]] || bench_usage "$name"; OUT="$arg" ;;
        esac
    done
    [[ -n "$OUT" ]] || bench_usage "$name"
    mkdir -p "$(dirname "$OUT")"
    OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
}

bench_usage() {
    echo "usage: bash scripts/bench/b_$1.sh OUT.jsonl [--quick]" >&2
    exit 2
}

# The calling script's header: its comment lines after the #! line (not
# the licence line).
bench_help() {
    awk 'NR > 1 && !/SPDX-License-Identifier/ { if (/^#/) { sub(/^# ?/, ""); print } else exit }' "$0"
}
