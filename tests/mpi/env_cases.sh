#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# MPI cases for environment variables in config values (${NAME}).
#
#   env_cases.sh CASE NRANKS
#
# Case config_env: rank 0's environment decides for every rank (a seed
# naming OMPI_COMM_WORLD_RANK, different on every rank under mpirun, gives
# the rows of a one-rank run); the variables used are in the file's
# config_env attribute; --continue with another value is refused by the
# fingerprint, the file untouched; an unset variable is one error line with
# file:line and the fix, and no file. No check depends on which rank ran
# which task.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need_h5py
cd "$work" || fail "cd $work"

case "$case_name" in

config_env)
    # Every rank sees seed = 101 and output out_1.h5, rank 0's values: the
    # rows of a one-rank run. Expanded on each rank, the ranks would draw
    # from different seeds.
    printf '[run]\ntasks = 24\nseed = 1${OMPI_COMM_WORLD_RANK}${SHOAL_T_IDX}\noutput = out_${SHOAL_T_IDX}.h5\n[test_app]\nsleep_us = 1000\n' >c.ini
    SHOAL_T_IDX=1 expect_rc 0 mpirun_n "$np" "$app" c.ini -q
    [[ -e out_1.h5 ]] || fail "the output named by \${SHOAL_T_IDX} is not out_1.h5"
    SHOAL_T_IDX=1 expect_rc 0 mpirun_n 1 "$app" c.ini -o one.h5 -q
    h5diff out_1.h5 one.h5 /results >diff.txt 2>&1 || fail "rows differ from one rank's: $(head -n 5 diff.txt)"
    "$SHOAL_PYTHON" - out_1.h5 <<'PY' || fail "seed or config_env attribute wrong"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert int(f.attrs["seed"]) == 101, f.attrs["seed"]
    env = f.attrs["config_env"]
    env = env.decode() if isinstance(env, bytes) else env
    assert env == "OMPI_COMM_WORLD_RANK=0\nSHOAL_T_IDX=1\n", repr(env)
    assert "${OMPI_COMM_WORLD_RANK}" in f.attrs["config"]
PY

    # Another value on --continue: a different run, refused; the file kept.
    before=$(sum_of out_1.h5)
    SHOAL_T_IDX=2 expect_rc 2 mpirun_n "$np" "$app" c.ini -o out_1.h5 -q --continue 2>fp.err
    grep -q "seed: 101 vs. 102" fp.err || fail "the refusal does not name the seed: $(cat fp.err)"
    [[ $(sum_of out_1.h5) == "$before" ]] || fail "the refused resume changed the file"

    # Unset without a default: one line, file:line and the fix, no output.
    one_error_line=1
    check_bad '[run]\ntasks = 4\nseed = 5\n[test_app]\nsleep_us = ${SHOAL_T_UNSET}\n' \
        'bad1.ini:5: [test_app] sleep_us: environment variable SHOAL_T_UNSET is not set; export SHOAL_T_UNSET or write ${SHOAL_T_UNSET:-default}'
    ;;

*)
    fail "unknown case '$case_name'"
    ;;
esac

case_passed
