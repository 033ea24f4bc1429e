#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# slurm: Shoal's SLURM templates (scripts/slurm/) on a real, throw-away
# single-node SLURM (cluster.sh), as root on Debian 12.
#
#   slurm_test.sh BUILD_DIR SOURCE_DIR
#
#   1. shoal-job.sbatch with mpirun: the run completes, exit 0.
#   2. shoal-job.sbatch with srun --mpi=pmix: SIGUSR1 to the batch shell
#      only (scancel --batch) reaches the ranks through srun: exit 3, a
#      notice naming srun in the resume command; the same script again
#      finishes the file (--continue).
#   3. shoal-chain.sbatch at a 1-minute limit with --signal=B:USR1@20 and a
#      run that needs about 60 s: the first job exits 3, its successor
#      resumes, the last job exits 0 and cancels the successor it queued.
#   4. shoal-array.sbatch with 3 elements: outputs and seeds from
#      ${SLURM_ARRAY_TASK_ID}.
# Every file's /results and /params equal a run outside SLURM; a config
# value naming SLURM_PROCID (different on every rank under srun) takes rank
# 0's value. Tasks spin through SHOAL_TEST_SPIN_US, which changes no
# result, so the references run without it.
#
# Exit 0 pass, 1 fail, 77 skip: only where SLURM cannot be installed (not
# root, or no apt-get). Installed but broken fails. The daemons are stopped
# by their PIDs on every exit. About 2 minutes.
set -uo pipefail

build=$1
src=$2
app=$build/tests/mpi/test_app
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/shoal-slurm.XXXXXX")
failed=0

fail() {
    failed=1
    echo "FAIL [slurm]: $*" >&2
    echo "  work directory kept: $work (job outputs in $work/run, daemon logs in $work/cluster/log)" >&2
    echo "  rerun: ctest --test-dir $build -R '^slurm\$' --output-on-failure" >&2
    exit 1
}

# ---- SLURM: installed, or installable here -----------------------------------------------
need=(slurmctld slurmd sbatch srun scontrol scancel sinfo munged)
missing=0
for tool in "${need[@]}"; do command -v "$tool" >/dev/null || missing=1; done
if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP [slurm]: needs root (slurmd runs the jobs, munged its own key); run the suite as root" >&2
    rm -rf "$work"
    exit 77
fi
if [[ $missing -eq 1 ]]; then
    if ! command -v apt-get >/dev/null; then
        echo "SKIP [slurm]: SLURM is not installed and there is no apt-get to install it" >&2
        rm -rf "$work"
        exit 77
    fi
    bash "$src/scripts/install-deps.sh" || fail "installing slurm-wlm and munge failed (scripts/install-deps.sh)"
    for tool in "${need[@]}"; do
        command -v "$tool" >/dev/null || fail "'$tool' is missing after scripts/install-deps.sh"
    done
fi
[[ -x $app ]] || fail "no $app: build the tests first"
/usr/bin/python3 -c "import h5py, numpy" 2>/dev/null ||
    fail "/usr/bin/python3 cannot import h5py and numpy; on Debian: apt-get install python3-h5py python3-numpy"
# shellcheck source=../../scripts/env.sh
source "$src/scripts/env.sh" # Open MPI as root; the jobs inherit it

# shellcheck source=cluster.sh
source "$here/cluster.sh"
on_exit() {
    local rc=$?
    # Jobs first (their processes are slurmd's, not ours), then the daemons.
    if [[ -n ${SLURM_CONF:-} && ${#cluster_pids[@]} -gt 0 ]]; then
        scancel --full "--user=$(id -un)" 2>/dev/null
        for _ in $(seq 1 50); do
            [[ -z $(squeue -h -o %i 2>/dev/null) ]] && break
            sleep 0.2
        done
    fi
    cluster_stop
    if [[ $rc -eq 0 && $failed -eq 0 ]]; then
        rm -rf "$work"
    elif [[ $rc -eq 0 ]]; then
        rc=1
    fi
    exit "$rc"
}
trap on_exit EXIT
cluster_start "$work/cluster" || fail "the cluster did not start"
echo "slurm: cluster up (SLURM_CONF=$SLURM_CONF)"

run=$work/run
mkdir -p "$run"
cd "$run" || fail "cd $run"

# template NAME OUT CONFIG NTASKS TIME [SIGNAL]: scripts/slurm/NAME with its
# edit lines set, as a user would, written to OUT.
template() {
    local name=$1 out=$2 config=$3 ntasks=$4 time=$5 signal=${6:-}
    sed -e "s|^APP=[^ ]*|APP=$app|" -e "s|^CONFIG=[^ ]*|CONFIG=$config|" \
        -e "s|^#SBATCH --ntasks=.*|#SBATCH --ntasks=$ntasks|" \
        -e "s|^#SBATCH --time=.*|#SBATCH --time=$time|" \
        "$src/scripts/slurm/$name" >"$out" || fail "cannot write $out"
    [[ -z $signal ]] || sed -i "s|^#SBATCH --signal=.*|#SBATCH --signal=$signal|" "$out"
    grep -q "^APP=$app" "$out" || fail "$name: no APP= line to edit"
}

# submit ARGS...: sbatch --parsable; the job id in $job.
submit() {
    job=$(sbatch --parsable "$@") || fail "sbatch $* failed"
    job=${job%%;*}
    echo "slurm: submitted $job: sbatch $*"
}

# expect_job ID STATE EXIT [SECONDS]: wait for job ID, check how it ended.
expect_job() {
    job_wait "$1" "${4:-120}" || fail "job $1 did not end within ${4:-120} s: $(scontrol -o show job "$1")"
    [[ $job_state == "$2" && $job_exit == "$3" ]] ||
        fail "job $1 ended $job_state with exit $job_exit, expected $2 with $3: $(cat ./*"$1"*.out 2>/dev/null)"
}

# same FILE REF: every /results and /params dataset equal.
same() {
    /usr/bin/python3 - "$1" "$2" <<'PY' || fail "$1 differs from $2"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    assert a.attrs["state"] == "complete", (sys.argv[1], a.attrs["state"])
    for g in ("results", "params"):
        assert (g in a) == (g in b), g
        if g not in a:
            continue
        names = []
        a[g].visit(lambda n: names.append(n) if isinstance(a[g][n], h5py.Dataset) else None)
        other = []
        b[g].visit(lambda n: other.append(n) if isinstance(b[g][n], h5py.Dataset) else None)
        assert sorted(names) == sorted(other), (g, names, other)
        for n in names:
            x, y = a[g][n][()], b[g][n][()]
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (g, n)
PY
}

# ---- 1, 2: one job with mpirun, one with srun ------------------------------------------
# The seed names SLURM_PROCID: different on every rank under srun, rank 0's
# (0) decides. The output names LAUNCHER.
printf '[run]\ntasks = 60\nseed = 5${SLURM_PROCID}\noutput = small_${LAUNCHER}.h5\ngrace_seconds = 10\n[test_app]\n' >small.ini
SLURM_PROCID=0 LAUNCHER=ref mpirun -n 2 "$app" small.ini -o ref_small.h5 -q || fail "reference run failed"

template shoal-job.sbatch job.sbatch small.ini 2 00:05:00
LAUNCHER=mpirun submit job.sbatch
expect_job "$job" COMPLETED 0
same small_mpirun.h5 ref_small.h5
grep -q "shoal job: the run ended with exit status 0" "shoal-$job.out" || fail "mpirun job: no end line: $(cat "shoal-$job.out")"
echo "slurm: mpirun job: complete, equal to the reference"

# srun: 60 tasks of 0.2 s on 2 ranks, SIGUSR1 to the batch shell only once
# the run is going; the shell hands it to srun, srun to the ranks.
LAUNCHER=srun SHOAL_TEST_SPIN_US=200000 submit job.sbatch
for _ in $(seq 1 300); do
    [[ -e small_srun.h5 ]] && break
    sleep 0.1
done
[[ -e small_srun.h5 ]] || fail "srun job: no output after 30 s: $(cat "shoal-$job.out" 2>/dev/null)"
sleep 1.5
scancel --batch --signal=USR1 "$job" || fail "scancel --batch --signal=USR1 $job failed"
expect_job "$job" FAILED 3
out=shoal-$job.out
grep -q "^shoal: notice: test_app: interrupted by SIGUSR1" "$out" || fail "srun job: no interrupted notice: $(cat "$out")"
! grep -q "shoal: error" "$out" || fail "srun job: an error line: $(cat "$out")"
grep -q "to finish the run: srun --mpi=pmix -n 2 $app small.ini --resume" "$out" ||
    fail "srun job: the resume command does not name srun: $(grep 'to finish' "$out")"
LAUNCHER=srun submit job.sbatch
expect_job "$job" COMPLETED 0
same small_srun.h5 ref_small.h5
echo "slurm: srun job: SIGUSR1 reached the ranks (exit 3), resubmitted, equal to the reference"

# ---- 3: the time limit and the chain ----------------------------------------------------
# 60 tasks of 2 s on 2 ranks: about 60 s, past the 1-minute limit. SLURM
# sends the signal up to its check interval (~30 s) before the 20 s asked.
printf '[run]\ntasks = 60\nseed = 77\noutput = chain.h5\ngrace_seconds = 5\n[test_app]\n' >chain.ini
mpirun -n 2 "$app" chain.ini -o ref_chain.h5 -q || fail "reference run failed"
template shoal-chain.sbatch chain.sbatch chain.ini 2 00:01:00 B:USR1@20
LAUNCHER=mpirun SHOAL_TEST_SPIN_US=2000000 submit chain.sbatch
first=$job
expect_job "$first" FAILED 3 150
out=shoal-chain-$first.out
grep -q "shoal job: SIGUSR1: stopping the run" "$out" || fail "chain job 1: the batch shell got no SIGUSR1: $(cat "$out")"
grep -q "^shoal: notice: test_app: interrupted by SIGUSR1" "$out" || fail "chain job 1: no interrupted notice: $(cat "$out")"
grep -q "to finish the run: mpirun -n 2 $app chain.ini --resume" "$out" ||
    fail "chain job 1: the resume command does not name mpirun: $(grep 'to finish' "$out")"
# Follow the chain: every job but the last ends with 3. A job may do as
# little as 10 s of work (the signal comes once less than ~50 s are left),
# so up to 6 jobs share the 60 s.
job=$first
for n in $(seq 2 8); do
    next=$(sed -n 's/.*successor \([0-9]*\) queued.*/\1/p' "shoal-chain-$job.out")
    [[ -n $next ]] || fail "chain job $((n - 1)) ($job) queued no successor: $(cat "shoal-chain-$job.out")"
    job_wait "$next" 150 || fail "chain job $n ($next) did not end"
    echo "slurm: chain job $n ($next): $job_state, exit $job_exit"
    job=$next
    [[ $job_exit == 3 ]] || break
done
[[ $job_state == COMPLETED && $job_exit == 0 ]] ||
    fail "the chain's last job ($job) ended $job_state with $job_exit: $(cat "shoal-chain-$job.out")"
out=shoal-chain-$job.out
cancelled=$(sed -n 's/.*cancelling successor \([0-9]*\).*/\1/p' "$out")
[[ -n $cancelled ]] || fail "the chain's last job did not cancel its successor: $(cat "$out")"
expect_job "$cancelled" CANCELLED 0 30
same chain.h5 ref_chain.h5
echo "slurm: chain: interrupted at the limit (exit 3), resumed by its successor, equal to the reference"

# ---- 4: a job array ----------------------------------------------------------------------
printf '[run]\ntasks = 30\nseed = 1000${SLURM_ARRAY_TASK_ID}\noutput = arr_${SLURM_ARRAY_TASK_ID}.h5\n[test_app]\n' >arr.ini
SLURM_ARRAY_TASK_ID=1 mpirun -n 1 "$app" arr.ini -o ref_arr1.h5 -q || fail "reference run failed"
template shoal-array.sbatch array.sbatch arr.ini 1 00:05:00
LAUNCHER=mpirun submit array.sbatch
for k in 0 1 2; do expect_job "${job}_$k" COMPLETED 0; done
same arr_1.h5 ref_arr1.h5
/usr/bin/python3 - <<'PY' || fail "the array's files do not have distinct seeds and outputs"
import h5py, numpy as np
files = [h5py.File(f"arr_{k}.h5", "r") for k in range(3)]
for k, f in enumerate(files):
    assert int(f.attrs["seed"]) == 10000 + k, (k, f.attrs["seed"])
    env = f.attrs["config_env"]
    env = env.decode() if isinstance(env, bytes) else env
    assert env == f"SLURM_ARRAY_TASK_ID={k}\n", (k, env)
u = [f["results/u"][()] for f in files]
assert not np.array_equal(u[0], u[1]) and not np.array_equal(u[1], u[2])
PY
echo "slurm: array: 3 elements, 3 files, seeds 10000..10002"

echo "PASS [slurm]"
