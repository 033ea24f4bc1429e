#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for ml_tune, the neural network on the UCI handwritten digits
# (apps/ml_tune): accuracy and reproducibility of a small grid, and a bad
# data file.
#
#   ml_cases.sh CASE NRANKS
#
# Cases: ml_grid (a 4-configuration grid at NRANKS and at 1 rank: the same
# scores; the best 5-fold cross-validated accuracy is at least 0.97 and the
# held-out test accuracy agrees with it within 3 combined standard errors),
# ml_bad (a missing or damaged data file: exit 2 with the file and line,
# nothing written), ml_halving (successive halving against the full grid:
# within 0.5 percentage points of its best with a third of its epochs).

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ml=$SHOAL_BUILD/apps/ml_tune/ml_tune
# The digits file the configure found (tests/unit/CMakeLists.txt).
data=${SHOAL_DIGITS:?SHOAL_DIGITS is not set (ctest sets it)}
need_h5py
cd "$work" || fail "cd $work"

cat >g.ini <<'EOF2'
[run]
seed = 20261202
[ml_tune]
folds = 5
test = 1
epochs = 27
hidden = 32
data = ${SHOAL_DIGITS}
[scan]
lr = 0.1, 0.03
l2 = 1e-4, 1e-3
EOF2

case $case_name in
ml_grid)
    expect_rc 0 mpirun_n "$np" "$ml" g.ini -o g.h5 -q
    expect_rc 0 mpirun_n 1 "$ml" g.ini -o g1.h5 -q
    for k in cv_acc cv_se test_acc test_se; do
        h5diff g.h5 g1.h5 "/results/$k" >/dev/null || fail "/results/$k differs between $np ranks and 1"
    done
    "$SHOAL_PYTHON" - g.h5 <<'PY' || fail "the grid's accuracy is wrong"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    r = {k: f["results"][k][:] for k in f["results"]}
assert (np.isfinite(r["cv_acc"])).all() and (r["cpu_seconds"] > 0).all()
b = int(np.argmax(r["cv_acc"]))
cv, cse, te, tse = r["cv_acc"][b], r["cv_se"][b], r["test_acc"][b], r["test_se"][b]
assert cv >= 0.97, ("best cv accuracy", cv)
assert abs(te - cv) <= 3 * np.hypot(cse, tse), ("test vs cv", te, cv, cse, tse)
print(f"best cv {cv:.4f} +- {cse:.4f}, test {te:.4f} +- {tse:.4f}")
PY
    ;;
ml_halving)
    # Successive halving (1, 3, 9, 27 epochs) against the full grid at 27
    # epochs over the same 9 configurations: within 0.5 percentage points
    # of the grid's best with at most a third of its training epochs (CPU
    # time is the benchmark's: scripts/bench/b_search.sh).
    cat >h.ini <<'EOF2'
[run]
seed = 20261202
[ml_tune]
hidden = 32
epochs = 27
data = ${SHOAL_DIGITS}
[scan]
lr = 0.03, 0.1, 0.3
l2 = 1e-4, 1e-3, 1e-2
EOF2
    expect_rc 0 mpirun_n "$np" "$ml" h.ini -o grid.h5 -q
    printf '[search]\nbudget = epochs\nmin_budget = 1\nmax_budget = 27\nobjective = cv_acc\n' >>h.ini
    expect_rc 0 mpirun_n "$np" "$ml" h.ini -o sh.h5 -q
    "$SHOAL_PYTHON" - grid.h5 sh.h5 <<'PY' || fail "successive halving missed the grid's best"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as g, h5py.File(sys.argv[2], "r") as s:
    cv = g["results/cv_acc"][:]
    best, pick = cv.max(), int(s["search"].attrs["best_point"])
    value = s["search"].attrs["best_value"]
    epochs_sh, epochs_grid = s["search/budget"][:].sum(), 27 * len(cv)
    assert best >= 0.97, ("grid best", best)
    assert best - cv[pick] <= 0.005 and best - value <= 0.005, (best, cv[pick], value)
    assert 3 * epochs_sh <= epochs_grid, (epochs_sh, epochs_grid)
print(f"grid best {best:.4f}; halving picked {pick} ({cv[pick]:.4f} in the grid, "
      f"{value:.4f} its own) with {epochs_sh} of {epochs_grid} epochs")
PY
    ;;
ml_bad)
    printf '[run]\nseed = 1\n[ml_tune]\ndata = nowhere/digits.csv.gz\n' >bad1.ini
    expect_rc 2 mpirun_n "$np" "$ml" bad1.ini -o out1.h5 2>err1.txt
    grep -q "bad1.ini:4: \[ml_tune\] data: .*nowhere/digits.csv.gz" err1.txt ||
        fail "no clear message for a missing file: $(cat err1.txt)"
    [[ ! -e out1.h5 ]] || fail "a missing data file still wrote the output"
    printf '0,1,2\n' | gzip >short.csv.gz
    printf '[run]\nseed = 1\n[ml_tune]\ndata = short.csv.gz\n' >bad2.ini
    expect_rc 2 mpirun_n "$np" "$ml" bad2.ini -o out2.h5 2>err2.txt
    grep -q "short.csv.gz:1" err2.txt || fail "no line for a damaged file: $(cat err2.txt)"
    [[ ! -e out2.h5 ]] || fail "a damaged data file still wrote the output"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
case_passed
