#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for shoal-stats (apps/shoal_stats): statistics of HDF5 datasets
# made by h5py, checked against numpy (check_stats.py).
#
#   stats_cases.sh CASE NRANKS
#
# Cases: stats (auto and given ranges at NRANKS, equal to numpy and to a
# 1-rank run), stats_resume (a resume recomputes exactly what was lost and
# refuses other bins), stats_bad (each bad input: exit 2, one line, nothing
# written). No check depends on which rank ran which task.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stats=$SHOAL_BUILD/apps/shoal_stats/shoal-stats
checker=$SHOAL_SRC/tests/mpi/check_stats.py
need_h5py
cd "$work" || fail "cd $work"

# data.h5: /x float64 [10007] (NaN, mean 10.25), /g/y float32 [10007 x 3]
# (chunked, gzip), /i int32, /inf float64 with +-inf and NaN, /const (one
# value), /allnan, /w float64 [10007 x 120], /s strings, /a/b and /a_b.
"$SHOAL_PYTHON" - <<'PY' || fail "cannot make the input data"
import h5py, numpy as np
rng = np.random.default_rng(20261202)
n = 10007
with h5py.File("data.h5", "w") as f:
    x = rng.normal(size=n) * 3.7 + 10.25
    x[[5, 77, 901, 5000]] = np.nan
    f["x"] = x
    y = rng.normal(size=(n, 3)) * [1.5, 10, 100] + [5, -50, 1000]
    f.create_dataset("g/y", data=y.astype(np.float32), chunks=(256, 3), compression="gzip")
    f["i"] = rng.integers(-1000, 1000, size=n).astype(np.int32)
    v = rng.normal(size=n)
    v[[3, 300]] = np.inf
    v[[4, 4000]] = -np.inf
    v[[9, 10]] = np.nan
    f["inf"] = v
    f["const"] = np.full(n, 2.5)
    f["allnan"] = np.full(n, np.nan)
    f["w"] = rng.normal(size=(n, 120)) + np.arange(120)
    f["s"] = np.array([b"ab"] * n)
    f["a/b"] = np.zeros(n)
    f["a_b"] = np.zeros(n)
PY

all="/x, /g/y, /i, /inf, /const, /allnan"
config() { # config FILE DATASETS [more lines...]
    local f=$1 d=$2
    shift 2
    {
        printf '[input]\nfile = data.h5\ndatasets = %s\nrows_per_task = 1000\n' "$d"
        printf '[shoal_stats]\n'
        for line in "$@"; do echo "$line"; done
    } >"$f"
}

# same_reduce A B: /reduce bit-identical.
same_reduce() {
    h5diff "$1" "$2" /reduce >"$work/diff.txt" 2>&1 ||
        fail "/reduce differs between $1 and $2: $(head -n 5 "$work/diff.txt")"
}

case "$case_name" in

stats)
    # range = auto, then given ranges (for every dataset, per dataset and
    # per column): at np ranks, equal to numpy; /reduce bit-identical to a
    # 1-rank run of the same config.
    config auto.ini "$all" "bins = 37"
    expect_rc 0 mpirun_n "$np" "$stats" auto.ini -o auto.h5 >auto.txt
    "$SHOAL_PYTHON" "$checker" auto.h5 data.h5 37 /x /g/y /i /inf /const /allnan ||
        fail "range = auto: shoal-stats disagrees with numpy"
    grep -q '^shoal_stats: /g/y\[2\] *10007 ' auto.txt || fail "no summary line for /g/y[2]: $(cat auto.txt)"
    expect_rc 0 mpirun_n 1 "$stats" auto.ini -o auto1.h5 -q
    same_reduce auto1.h5 auto.h5
    "$SHOAL_PYTHON" - auto.h5 <<'PY' || fail "the ranges used are not in the run's overrides"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    o = f.attrs["overrides"]
    assert "shoal_stats.range=/x=" in o and ", /g/y=" in o and "/const=2:3" in o, o
PY
    # The checker fails on a result one count off, and on a mean 1e-11 off.
    cp auto.h5 off.h5
    "$SHOAL_PYTHON" -c 'import h5py, sys
with h5py.File("off.h5", "r+") as f:
    f["reduce/x_hist"][0, 5] += 1' || fail "cannot edit off.h5"
    "$SHOAL_PYTHON" "$checker" off.h5 data.h5 37 /x >/dev/null 2>&1 &&
        fail "check_stats.py accepts a histogram one count off"
    cp auto.h5 off.h5
    "$SHOAL_PYTHON" -c 'import h5py
with h5py.File("off.h5", "r+") as f:
    f["reduce/x_moments"][0, 1] *= 1 + 1e-11' || fail "cannot edit off.h5"
    "$SHOAL_PYTHON" "$checker" off.h5 data.h5 37 /x >/dev/null 2>&1 &&
        fail "check_stats.py accepts a mean 1e-11 off"

    config given.ini "$all" "range = -2:12.5, /g/y=0:10|-80:-20|auto, /i=-500:500"
    expect_rc 0 mpirun_n "$np" "$stats" given.ini -o given.h5 -q
    expect_rc 0 mpirun_n 1 "$stats" given.ini -o given1.h5 -q
    same_reduce given1.h5 given.h5
    "$SHOAL_PYTHON" "$checker" given.h5 data.h5 64 /x=-2:12.5 /i=-500:500 /inf=-2:12.5 \
        /const=-2:12.5 /allnan=-2:12.5 || fail "given ranges: shoal-stats disagrees with numpy"
    # /g/y's columns: two given, the third auto.
    "$SHOAL_PYTHON" - given.h5 auto.h5 <<'PY' || fail "/g/y's per-column ranges are wrong"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as g, h5py.File(sys.argv[2], "r") as a:
    r = g["reduce/g_y_range"][...]
    assert (r[:2] == [[0, 10], [-80, -20]]).all() and (r[2] == a["reduce/g_y_range"][2]).all(), r
PY
    # The one-line form: every setting on the command line.
    printf '[input]\nfile = data.h5\ndatasets = /x\n' >min.ini
    expect_rc 0 mpirun_n "$np" "$stats" min.ini -o line.h5 -q --set shoal_stats.bins=10 \
        --set shoal_stats.range=0:20 --set input.rows_per_task=777
    "$SHOAL_PYTHON" "$checker" line.h5 data.h5 10 /x=0:20 || fail "--set form disagrees with numpy"
    ;;

stats_resume)
    # Tasks lost from a finished file (marked pending, rows zeroed) are run
    # again by --resume: /reduce equals the run's own. Other bins or ranges
    # are refused. A wide dataset's ranges go into the fingerprint as a
    # digest.
    config c.ini "/x, /g/y" "bins = 20"
    expect_rc 0 mpirun_n "$np" "$stats" c.ini -o full.h5 -q
    cp full.h5 part.h5
    "$SHOAL_PYTHON" - part.h5 <<'PY' || fail "cannot make a partial file"
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f["tasks/status"][3:6] = 0
    for k in f["results"]:
        f["results"][k][3:6] = 0
    for k in f["reduce"]:
        f["reduce"][k][...] = 0
    f.attrs["state"] = "interrupted"
PY
    expect_rc 0 mpirun_n "$np" "$stats" c.ini -o part.h5 -q --resume
    same_reduce full.h5 part.h5
    for bad in shoal_stats.bins=21 shoal_stats.range=0:1; do
        mpirun_n "$np" "$stats" c.ini -o full.h5 -q --resume --set "$bad" 2>err.txt
        rc=$?
        [[ $rc -eq 2 ]] || fail "--resume --set $bad: exit $rc, expected 2: $(cat err.txt)"
        grep -q "shoal: error: .*differ" err.txt || fail "--resume --set $bad: no fingerprint message: $(cat err.txt)"
    done
    config w.ini "/w" "bins = 8"
    expect_rc 0 mpirun_n "$np" "$stats" w.ini -o w.h5 >w.txt
    grep -q "/w: 112 more columns in /reduce/w_\*" w.txt || fail "the summary does not cut /w: $(cat w.txt)"
    "$SHOAL_PYTHON" "$checker" w.h5 data.h5 8 /w || fail "/w disagrees with numpy"
    "$SHOAL_PYTHON" -c 'import h5py, sys
o = h5py.File("w.h5", "r").attrs["overrides"]
assert "shoal_stats.range=auto @ ranges " in o, o' || fail "/w's ranges are not in its fingerprint as a digest"
    expect_rc 0 mpirun_n "$np" "$stats" w.ini -o w.h5 -q --resume
    ;;

stats_bad)
    # Each bad input: exit 2, one error line naming where and how to fix
    # it, no output written (an existing one untouched).
    i=0
    check_bad() { # check_bad 'config lines' 'expected message part' [options...]
        local text=$1 want=$2
        shift 2
        i=$((i + 1))
        printf '%b' "$text" >"bad$i.ini"
        mpirun_n "$np" "$stats" "bad$i.ini" -o "out$i.h5" "$@" >"stdout$i" 2>"stderr$i"
        local rc=$?
        [[ $rc -eq 2 ]] || fail "case $i: exit status $rc, expected 2 (config: $text; options: $*): $(cat "stderr$i")"
        grep -qF -- "$want" "stderr$i" || fail "case $i: message lacks '$want': $(cat "stderr$i")"
        [[ $(grep -c "shoal: error" "stderr$i") -eq 1 ]] || fail "case $i: expected one error line: $(cat "stderr$i")"
        [[ ! -e out$i.h5 ]] || fail "case $i: an output file was created"
    }
    in='[input]\nfile = data.h5\ndatasets = /x, /g/y\n'
    check_bad "${in}[shoal_stats]\nbins = 0\n" "bad1.ini:5: [shoal_stats] bins = '0' is out of range"
    check_bad "${in}[shoal_stats]\nbins = 2000000\n" "[shoal_stats] bins = '2000000' is out of range"
    check_bad "${in}[shoal_stats]\nrange = 5:1\n" "bad3.ini:5: [shoal_stats] range = '5:1': '5:1' has LO > HI; the histogram range is LO:HI with LO < HI (here 1:5)"
    check_bad "${in}[shoal_stats]\nrange = garbage\n" "bad4.ini:5: [shoal_stats] range = 'garbage': 'garbage' is not auto or LO:HI; expected auto, LO:HI"
    check_bad "${in}[shoal_stats]\nrange = 3:3\n" "'3:3' is empty (LO = HI)"
    check_bad "${in}[shoal_stats]\nrange = 0:inf\n" "'0:inf' is not LO:HI with two finite numbers"
    check_bad "${in}[shoal_stats]\nrange = /nope=0:1\n" "names '/nope', which [input] datasets does not list (/x, /g/y)"
    check_bad "${in}[shoal_stats]\nrange = /g/y=0:1|0:2\n" "gives 2 column ranges for /g/y, which has 3 columns"
    check_bad "${in}[shoal_stats]\nrange = 0:1|0:2\n" "per-column ranges (|) need a dataset name"
    check_bad "${in}[shoal_stats]\nrange = /x=0:1, x=2:3\n" "gives /x twice"
    check_bad "$in" "--set shoal_stats.range: [shoal_stats] range = '1:x'" --set shoal_stats.range=1:x
    check_bad '[input]\nfile = data.h5\ndatasets = /w\n[shoal_stats]\nbins = 1000000\n' \
        "bad$((i + 1)).ini:5: [shoal_stats] bins = 1000000 with the 120 columns of /w makes a histogram of 916 MiB per task"
    check_bad '[input]\nfile = data.h5\ndatasets = /a/b, /a_b\n' \
        "bad$((i + 1)).ini:3: [input] datasets: '/a/b' and '/a_b' would both make the output field 'a_b_moments'"
    check_bad '[run]\ntasks = 3\n' "bad$((i + 1)).ini: shoal_stats needs an [input] section"
    check_bad '[input]\nfiles = *.h5\n' "bad$((i + 1)).ini:2: [input] files: shoal_stats reads datasets of one HDF5 file"
    check_bad '[input]\nfile = nope.h5\ndatasets = /x\n' "bad$((i + 1)).ini:2: [input] file 'nope.h5' does not exist"
    check_bad "${in}" "[input] datasets: 'data.h5' has no dataset '/nope'" --set input.datasets=/x,/nope
    check_bad '[input]\nfile = data.h5\ndatasets = /s\n' "'/s' in 'data.h5' holds string values, not numbers"
    check_bad "${in}[shoal_stats]\nbinz = 3\n" "bad$((i + 1)).ini:5: unknown key 'binz' in [shoal_stats]; known keys: bins, range"
    check_bad "$in" "unknown option '--bogus'" --bogus
    # An existing output stays as it was.
    config ok.ini "/x"
    expect_rc 0 mpirun_n 1 "$stats" ok.ini -o kept.h5 -q
    before=$(sum_of kept.h5)
    printf '%b' "${in}[shoal_stats]\nrange = 5:1\n" >last.ini
    expect_rc 2 mpirun_n "$np" "$stats" last.ini -o kept.h5 --force 2>/dev/null
    [[ $(sum_of kept.h5) == "$before" ]] || fail "a refused run changed the existing output"
    echo "stats_bad: $i bad inputs checked"
    ;;

*)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac

case_passed
