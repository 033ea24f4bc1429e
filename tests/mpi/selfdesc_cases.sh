#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for self-describing result files: named dimensions (dimension
# scales that xarray reads), units and docs, typed constants, UTF-8 text,
# checked by check_selfdesc.py with h5py and xarray.
#
#   selfdesc_cases.sh CASE NRANKS
#
# Cases: selfdesc (a scan of test_app, with array fields, a string
# parameter and failures, at NRANKS; --help shows the fields' shapes),
# selfdesc_resume (stopped, resumed at another rank count: the scales stay
# attached once; a file without scales, as made before them, resumes too).
# No check depends on which rank ran which task.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

checker=$SHOAL_SRC/tests/mpi/check_selfdesc.py
need_h5py
"$SHOAL_PYTHON" -c "import xarray, h5netcdf" 2>"$work/python.err" ||
    fail "'$SHOAL_PYTHON' cannot import xarray and h5netcdf: $(tail -n 1 "$work/python.err"); on Debian: apt-get install python3-xarray python3-h5netcdf (scripts/install-deps.sh)"
cd "$work" || fail "cd $work"

# 4 points (x: 2 values, label: 2, one with a non-ASCII letter) x 3
# replicates; every 5th task fails, so /failures holds messages.
cat >c.ini <<'EOF'
[run]
seed = 20261202
[test_app]
fail_every = 5
misuse = none
[scan]
x = 1.5, 2.5
label = ab, cdé
[sampling]
replicates = 3
EOF

case $case_name in
selfdesc)
    expect_rc 1 mpirun_n "$np" "$app" c.ini -o out.h5 -q
    "$SHOAL_PYTHON" "$checker" out.h5 12 4 "$np" 1 || fail "out.h5 does not describe itself"
    "$app" --help >help.txt || fail "--help failed"
    grep -Eq '^  v +float64\[3\] +\[1\] three uniforms' help.txt ||
        fail "--help does not show v's shape and unit: $(grep '^  v ' help.txt)"
    grep -Eq '^  m +int64\[2\]\[2\] ' help.txt || fail "--help does not show m's shape"
    grep -Eq '^  x +\(number \[m\]\) ' help.txt || fail "--help does not show x's unit"
    ;;
selfdesc_resume)
    other=$((np == 1 ? 2 : 1))
    SHOAL_TEST_STOP_AT=4 expect_rc 3 mpirun_n "$np" "$app" c.ini -o out.h5 -q
    cp out.h5 old.h5
    expect_rc 1 mpirun_n "$other" "$app" c.ini -o out.h5 -q --resume
    "$SHOAL_PYTHON" "$checker" out.h5 12 4 "$other" 2 || fail "the resumed file does not describe itself"
    # A file from before the scales: every one detached and removed.
    "$SHOAL_PYTHON" - <<'PY' || fail "cannot strip the scales"
import h5py
with h5py.File("old.h5", "a") as f:
    scales = [n for n in f if f[n].attrs.get("CLASS") == b"DIMENSION_SCALE"]
    def strip(name, obj):
        if isinstance(obj, h5py.Dataset) and name not in scales:
            for dim in obj.dims:
                for s in list(dim.values()):
                    dim.detach_scale(s)
    f.visititems(strip)
    for n in scales:
        del f[n]
    assert not any(f[n].attrs.get("CLASS") == b"DIMENSION_SCALE" for n in f)
PY
    expect_rc 1 mpirun_n "$other" "$app" c.ini -o old.h5 -q --resume
    "$check" counts old.h5 | grep -q "pending=0 done=10 failed=2" ||
        fail "the old file's resume: $("$check" counts old.h5)"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
case_passed
