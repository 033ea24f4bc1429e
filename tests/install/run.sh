#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# install_consumer: install Shoal into a temporary prefix, build the mc_pi
# source as an outside project with find_package(shoal), run it on one rank,
# read its file with the installed shoal command, and check that the SLURM
# templates are installed under share/shoal/slurm.
#   run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/shoal-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/install" -B "$work/b" -DCMAKE_PREFIX_PATH="$work/prefix" \
    -DSHOAL_APP_SOURCE="$src/apps/mc_pi/mc_pi.c" >/dev/null
cmake --build "$work/b" >/dev/null
printf '[run]\ntasks = 8\n[mc_pi]\nsamples = 1000\n' >"$work/c.ini"
"$work/b/consumer_pi" "$work/c.ini" -o "$work/out.h5" | tee "$work/out.txt"
grep -q "8 tasks (8 done, 0 failed)" "$work/out.txt"
grep -q "Libs: -L" "$work/prefix/lib/pkgconfig/shoal.pc"
# The installed shoal command reads the file, without MPI.
"$work/prefix/bin/shoal" status "$work/out.h5" | grep -q "^state: *complete"
for f in shoal-job.sbatch shoal-chain.sbatch shoal-array.sbatch mc_pi_array.ini; do
    [[ -s $work/prefix/share/shoal/slurm/$f ]] || { echo "install_consumer: share/shoal/slurm/$f not installed" >&2; exit 1; }
done
echo "install_consumer: ok"
