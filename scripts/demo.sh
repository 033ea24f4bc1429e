#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The first command of the README: installs what is missing, builds Shoal,
# and runs the Monte Carlo pi example on every local core.
#
#   bash scripts/demo.sh
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=scripts/env.sh
source scripts/env.sh

bash scripts/install-deps.sh
bash scripts/build.sh build

mkdir -p results
np="$(shoal_nproc)"
echo "demo: running mc_pi on $np ranks"

status=0
mpirun -n "$np" build/apps/mc_pi/mc_pi configs/mc_pi.ini \
    --output results/mc_pi.h5 --force || status=$?
if [[ $status -ne 0 ]]; then
    echo "demo: mpirun failed with exit status $status" >&2
    exit "$status"
fi

echo "demo: results written to $REPO_ROOT/results/mc_pi.h5"
echo "demo: read them with: /usr/bin/python3 -c \"import h5py; f=h5py.File('results/mc_pi.h5'); print(f['results/pi'][:10])\""
