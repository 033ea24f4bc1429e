# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# Sourced by the other scripts: environment needed to run Shoal's MPI programs.

# Open MPI refuses to run as root unless told otherwise (containers, CI).
if [[ "$(id -u)" -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1
    export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# Number of local cores.
shoal_nproc() {
    nproc
}
