#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The write path's measurements (docs/write_path.md): alternated repetitions
# of bench_big and dd cases, 500 MiB each, the case order rotated by one per
# repetition, each case after a 600 MiB warm-up write (deleted) so that its
# page-cache pages are host-backed. Run it under the exclusive lock:
#   flock -x /tmp/shoal-bench.lock bash scripts/write_path/cases.sh OUT.txt
# Environment: CASES (default "dd dd2one dd2two s1 s2"), REPS (12), N (500),
# OUTD (pwrite traces, default build/write_path/traces).
# Cases: dd (one dd, bs=1M), dd2one (two dd into the two halves of one file),
# dd2two (two dd into two files), sR (bench_big on R ranks), sRm (the same
# with the write-behind prototype of commit 43465e9: SHOAL_WRITE_BEHIND=1
# SHOAL_WB_COLS=1 SHOAL_WB_MARK=1; needs that commit built), sRr2 (rows
# buffer of 2 rows, SHOAL_ROW_BUFFER, same commit). Shoal's runs are traced by
# pwshim.so: scripts/write_path/union.py OUTD/<case>.<rep>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/env.sh disable=SC1091
source scripts/env.sh
export LC_ALL=C
OUT="$1"
D=build/write_path/files
N="${N:-500}"; REPS="${REPS:-12}"; B=$((N * 1048576)); h=$((N / 2))
APP=build/apps/bench_big/bench_big
OUTD="${OUTD:-build/write_path/traces}"
CASES="${CASES:-dd dd2one dd2two s1 s2}"
SH="$PWD/build/write_path/pwshim.so"
mkdir -p "$D" "$(dirname "$SH")"
rm -rf "$OUTD"; mkdir -p "$OUTD"
gcc -O2 -shared -fPIC -Wall -Wextra -o "$SH" scripts/write_path/pwshim.c -ldl
: >"$OUT"
mb() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }'; }
warm() { dd if=/dev/zero of=$D/warm.bin bs=1M count=600 2>/dev/null; rm -f $D/warm.bin; }
read -ra cs <<<"$CASES"
for ((r = 1; r <= REPS; r++)); do
    line="rep $r:"
    k=$(((r - 1) % ${#cs[@]}))
    for c in "${cs[@]:$k}" "${cs[@]:0:$k}"; do
        warm
        case $c in
        dd) v=$(mb $B "$(dd if=/dev/zero of=$D/a.bin bs=1M count="$N" 2>&1 |
                sed -n 's/.*copied, \([0-9.e+-]*\) s.*/\1/p')") ;;
        dd2one) t0=$EPOCHREALTIME
            dd if=/dev/zero of=$D/a.bin bs=1M count=$h conv=notrunc 2>/dev/null &
            dd if=/dev/zero of=$D/a.bin bs=1M seek=$h count=$h conv=notrunc 2>/dev/null
            wait; v=$(mb $B "$(since "$t0")") ;;
        dd2two) t0=$EPOCHREALTIME
            dd if=/dev/zero of=$D/a.bin bs=1M count=$h 2>/dev/null &
            dd if=/dev/zero of=$D/b.bin bs=1M count=$h 2>/dev/null
            wait; v=$(mb $B "$(since "$t0")") ;;
        s*) n=${c:1:1}; env=(-x SHOAL_WRITE_BEHIND=0)
            [[ $c == *m ]] && env=(-x SHOAL_WRITE_BEHIND=1 -x SHOAL_WB_COLS=1 -x SHOAL_WB_MARK=1)
            [[ $c == *r2 ]] && env=(-x SHOAL_ROW_BUFFER=2097280)
            P=$OUTD/$c.$r; mkdir -p "$P"
            w=$(mpirun -n "$n" "${env[@]}" -x LD_PRELOAD="$SH" -x PWSHIM_DIR="$PWD/$P" "$APP" \
                configs/bench_big.ini --set run.tasks="$N" -o $D/s.h5 -f 2>&1 |
                sed -n 's/.* in \([0-9.]*\) s .*/\1/p')
            v=$(mb $B "$w") ;;
        esac
        rm -f $D/a.bin $D/b.bin $D/s.h5; sync
        line+=" $c $v"
    done
    echo "$line" | tee -a "$OUT"
done
