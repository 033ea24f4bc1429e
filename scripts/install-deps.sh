#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Install the Debian packages Shoal needs to build, test and run.
# Idempotent: only packages that are not already installed are fetched,
# and `apt-get update` runs only when something is missing.
set -euo pipefail

PACKAGES=(
    build-essential
    g++
    cmake
    pkgconf
    libopenmpi-dev
    openmpi-bin
    libhdf5-openmpi-dev
    hdf5-tools
    libgsl-dev
    check
    librandom123-dev
    libinih-dev
    zlib1g-dev
    python3-h5py
    python3-numpy
    python3-pandas
    python3-xarray
    python3-h5netcdf
    python3-matplotlib
    python3-sklearn
    procps
    clang
    libclang-rt-14-dev
    slurm-wlm
    munge
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#PACKAGES[@]} required packages are present"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    SUDO=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
