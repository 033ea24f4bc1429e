#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the ising_tc analysis app on real ising2d scans.
#
#   run_ising_tc.sh CASE NRANKS
#
# tc       configs/ising_tc_test.ini (L = 32, 64 at 5 T, 16 replicates) run by
#          ising2d on 2 ranks, then configs/ising_tc_analysis.ini as shipped
#          (it reads ising_tc_test.h5 from the current directory) on 1 rank
#          and on NRANKS: /results bit-identical (h5diff, and a run with
#          another seed must differ), the same summary table, and
#          check_ising_tc.py: U against numpy, the bootstrap, the table
#          against scripts/plot_ising_tc.py, and Tc within 3 bootstrap
#          errors of Onsager's.
# nocross  a tiny scan far above Tc: the summary says there is no crossing.
# bad      inputs that are not an ising2d scan and bad [ising_tc] values:
#          one error line, exit 2, no output; datasets in the wrong order:
#          every task fails with the expected line (exit 1).
#
# The environment, the work directory and the helpers: tests/mpi/common.sh.

# shellcheck source=../../mpi/common.sh
source "$SHOAL_SRC/tests/mpi/common.sh"
ising2d=$SHOAL_BUILD/apps/ising2d/ising2d
ising_tc=$SHOAL_BUILD/apps/ising_tc/ising_tc
analysis=$SHOAL_SRC/configs/ising_tc_analysis.ini
py=${SHOAL_PYTHON:?SHOAL_PYTHON is not set}
cd "$work" || exit 1

# The summary's own lines, without the run's timing and file name.
table() { grep '^ising_tc: ' "$1" | grep -v -e ' tasks (' -e 'results in '; }

case $case_name in
tc)
    mpirun_n 2 "$ising2d" "$SHOAL_SRC/configs/ising_tc_test.ini" -q ||
        fail "ising2d exited with status $?"
    [[ -f ising_tc_test.h5 ]] || fail "ising2d did not write ising_tc_test.h5"
    mpirun_n 1 "$ising_tc" "$analysis" -o a1.h5 >sum1.txt || fail "ising_tc on 1 rank: status $?"
    mpirun_n "$np" "$ising_tc" "$analysis" -o an.h5 >sumn.txt ||
        fail "ising_tc on $np ranks: status $?"
    cat sum1.txt
    h5diff a1.h5 an.h5 /results /results >diff.txt ||
        fail "/results differ between 1 and $np ranks: $(head -n 20 diff.txt)"
    # The comparison can fail: another seed draws other resamples.
    mpirun_n 1 "$ising_tc" "$analysis" -o seed.h5 --set run.seed=20261126 -q ||
        fail "ising_tc with another seed: status $?"
    if h5diff a1.h5 seed.h5 /results/U_boot /results/U_boot >/dev/null; then
        fail "h5diff found no difference with another seed: the comparison proves nothing"
    fi
    diff <(table sum1.txt) <(table sumn.txt) >/dev/null ||
        fail "the summary differs between 1 and $np ranks: $(diff <(table sum1.txt) <(table sumn.txt))"
    "$py" "$SHOAL_SRC/tests/apps/ising_tc/check_ising_tc.py" ising_tc_test.h5 a1.h5 sum1.txt 3 32 64 ||
        fail "check_ising_tc.py failed"
    ;;
nocross)
    # L = 4, 8 at T = 3.5, 4: U_8 < U_4 by ~0.1 there, far beyond the noise.
    printf '[run]\nseed = 31\noutput = hot.h5\n[ising2d]\ntherm_sweeps = 20\nmeas_sweeps = 200\n[scan]\nL = 4, 8\nT = 3.5, 4.0\n[sampling]\nreplicates = 8\n' >hot.ini
    mpirun_n "$np" "$ising2d" hot.ini -q || fail "ising2d exited with status $?"
    mpirun_n "$np" "$ising_tc" "$analysis" --set input.file=hot.h5 -o a.h5 >sum.txt ||
        fail "ising_tc exited with status $?"
    cat sum.txt
    grep -qF "ising_tc:     4     8  no crossing in [3.5000, 4.0000]: U_L2 <= U_L1 at every T (Tc below the range?)" sum.txt ||
        fail "the summary does not say there is no crossing: $(cat sum.txt)"
    "$py" "$SHOAL_SRC/tests/apps/ising_tc/check_ising_tc.py" hot.h5 a.h5 sum.txt 3 ||
        fail "check_ising_tc.py failed"
    ;;
bad)
    printf '[run]\nseed = 32\noutput = scan.h5\n[ising2d]\ntherm_sweeps = 10\nmeas_sweeps = 20\n[scan]\nL = 4\nT = 2.0, 2.5\n[sampling]\nreplicates = 2\n' >scan.ini
    mpirun_n 1 "$ising2d" scan.ini -q || fail "ising2d exited with status $?"
    mpirun_n 1 "$mc_pi" "$SHOAL_SRC/configs/mc_pi.ini" --set run.tasks=4 --set mc_pi.samples=1000 -o pi.h5 -q ||
        fail "mc_pi exited with status $?"
    printf '[run]\nseed = 33\n[mc_pi]\n[scan]\nsamples = 100, 200\n[sampling]\nreplicates = 2\n' >piscan.ini
    mpirun_n 1 "$mc_pi" piscan.ini -o piscan.h5 -q || fail "mc_pi exited with status $?"
    i=0
    check_bad() { # check_bad 'expected message part' options...
        local want=$1
        shift
        i=$((i + 1))
        mpirun_n "$np" "$ising_tc" "$analysis" -o "out$i.h5" "$@" >"stdout$i" 2>"stderr$i"
        local rc=$?
        [[ $rc -eq 2 ]] || fail "case $i: exit status $rc, expected 2 ($*): $(cat "stderr$i")"
        grep -qF -- "$want" "stderr$i" || fail "case $i: message lacks '$want': $(cat "stderr$i")"
        [[ $(grep -c "shoal: error" "stderr$i") -eq 1 ]] || fail "case $i: expected one error line: $(cat "stderr$i")"
        [[ ! -e out$i.h5 ]] || fail "case $i: an output file was created"
    }
    check_bad "[input] group_by = point: the result file 'pi.h5' was not made by a [scan]" --set input.file=pi.h5
    dline=$(grep -n '^datasets' "$analysis" | cut -d: -f1)
    check_bad "ising_tc_analysis.ini:$dline: [input] datasets: 'piscan.h5' has no dataset '/results/m2'" --set input.file=piscan.h5
    # An ising2d scan without /results/m4 (h5py deletes it from a copy).
    cp scan.h5 nom4.h5
    "$py" -c 'import h5py, sys; del h5py.File(sys.argv[1], "r+")["results/m4"]' nom4.h5 ||
        fail "cannot delete /results/m4 from a copy of the scan"
    check_bad "[input] datasets: 'nom4.h5' has no dataset '/results/m4'" --set input.file=nom4.h5
    check_bad "[input] file 'none.h5' does not exist" --set input.file=none.h5
    # L a constant of the scan, not a [scan] line: no /params/L.
    printf '[run]\nseed = 34\noutput = constL.h5\n[ising2d]\nL = 4\ntherm_sweeps = 10\nmeas_sweeps = 20\n[scan]\nT = 2.0, 2.5\n[sampling]\nreplicates = 2\n' >constL.ini
    mpirun_n 1 "$ising2d" constL.ini -q || fail "ising2d exited with status $?"
    check_bad "[input] datasets: 'constL.h5' has no dataset '/params/L'" --set input.file=constL.h5
    check_bad "[ising_tc] resamples = '0' is out of range; expected an integer from 1 to 4096" --set input.file=scan.h5 --set ising_tc.resamples=0
    check_bad "[ising_tc] resamples = '4097' is out of range" --set input.file=scan.h5 --set ising_tc.resamples=4097
    check_bad "[ising_tc] fit_points = '1' is out of range" --set input.file=scan.h5 --set ising_tc.fit_points=1
    # The app reads the datasets by position: a misordered line fails
    # every task with a message that says which line it wants.
    mpirun_n "$np" "$ising_tc" "$analysis" --set input.file=scan.h5 \
        --set "input.datasets=/results/m4, /results/m2, /params/T, /params/L" -o swapped.h5 \
        >swapped.out 2>swapped.err
    rc=$?
    [[ $rc -eq 1 ]] || fail "swapped m2, m4: exit status $rc, expected 1: $(cat swapped.err)"
    grep -qF "not 0 <= m4 <= m2 <= 1; want [input] datasets = /results/m2, /results/m4, /params/T, /params/L" swapped.out ||
        fail "swapped m2, m4: the summary lacks the expected line: $(cat swapped.out)"
    grep -qF "ising_tc: 2 tasks (0 done, 2 failed)" swapped.out || fail "swapped m2, m4: $(cat swapped.out)"
    mpirun_n "$np" "$ising_tc" "$analysis" --set input.file=scan.h5 \
        --set "input.datasets=/results/m2, /results/m4, /params/L, /params/T" -o swapped2.h5 \
        >swapped2.out 2>/dev/null
    rc=$?
    [[ $rc -eq 1 ]] || fail "swapped T, L: exit status $rc, expected 1"
    grep -qF "not a T and a size; want [input] datasets" swapped2.out ||
        fail "swapped T, L: the summary lacks the expected line: $(cat swapped2.out)"
    # One size only: a clear line, no pair.
    mpirun_n "$np" "$ising_tc" "$analysis" --set input.file=scan.h5 -o one.h5 >one.out ||
        fail "one size: exit status $?"
    grep -qF "fewer than 2 lattice sizes among the done points: no crossing to find" one.out ||
        fail "one size: $(cat one.out)"
    ;;
*)
    fail "unknown case '$case_name'"
    ;;
esac
case_passed
