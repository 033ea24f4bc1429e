#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# exec_prog.sh MODE [ARGS...]: a program for shoal-exec's tests
# (exec_cases.sh). Each mode behaves one way; PIDS, when set, is a directory
# where modes that leave processes behind note their pids.
mode=$1
shift
case "$mode" in
args) # its arguments, one per line, into args.txt; its environment's
      # SHOAL_*, FOO and OMP_NUM_THREADS into env.txt; twice = 2 x its
      # first argument, nargs = how many it got.
    printf '%s\n' "$@" >args.txt
    env | grep -E '^(SHOAL_TASK|SHOAL_SEED|SHOAL_ATTEMPT|SHOAL_DIR|FOO|OMP_NUM_THREADS)=' | sort >env.txt
    echo "some ordinary output"
    echo "shoal: twice=$(($1 * 2)) nargs=$#"
    echo "a line on stderr" >&2
    ;;
file) # values in a file only (with comments and a blank line)
    printf '# values\n\ntwice=%s\nshoal: nargs=%s echo=%s\n' $(($1 * 2)) $# "$2" >values.txt
    ;;
ok) echo "shoal: v=1" ;;
nofile) echo "forgot to write values.txt" ;;
bare) echo "progress=50%"; echo "v=7"; echo "v = 8"; echo "shoal: v=9 and more" ;;
exit3) echo "shoal: v=1"; echo "no such input deck" >&2; exit 3 ;;
segv) echo "about to crash" >&2; kill -SEGV $$ ;;
hang) echo $$ >"$PIDS/hang.$1"; sleep 600 ;;
stubborn) trap '' TERM; echo $$ >"$PIDS/stubborn.$1"; while :; do sleep 0.1; done ;;
noval) echo "nothing to report" ;;
badval) echo "shoal: v=abc" ;;
badint) echo "shoal: v=1.5" ;;
unknown) echo "shoal: v=1 w=2" ;;
arr2) echo "shoal: a=1,2" ;;
arr3) echo "shoal: a=1.5,2,-3e-7" ;;
arr4) echo "shoal: a=1,2,3,4" ;;
longline) printf 'shoal: v=%0200000d\n' 1 ;;
huge) head -c 1073741824 /dev/zero | tr '\0' x; echo "shoal: v=1" ;;
closeout) exec 1>&-; sleep 0.2; exit 0 ;;
orphan) echo "shoal: v=1"; sleep 600 & echo $! >"$PIDS/orphan.$1" ;;
attempt) # fails on its first attempt
    if [[ $1 == 1 ]]; then echo "transient" >&2; exit 5; fi
    echo "shoal: v=$1" ;;
slow) sleep "$1"; echo "shoal: v=$2" ;;
*) echo "exec_prog.sh: unknown mode '$mode'" >&2; exit 99 ;;
esac
