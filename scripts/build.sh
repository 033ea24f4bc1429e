#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
#
# Configures and builds Shoal. Works from any current directory: the source
# tree is found from this script's location. BUILD_DIR defaults to "build"
# inside the repository root; an explicit BUILD_DIR is an ordinary path
# (relative paths are relative to the current directory).
# The build type is Release unless the extra args set CMAKE_BUILD_TYPE.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

BUILD_DIR="${1:-$REPO_ROOT/build}"
if [[ $# -gt 0 ]]; then
    shift
fi

build_type=(-DCMAKE_BUILD_TYPE=Release)
for arg in "$@"; do
    case "$arg" in
        # -DCMAKE_BUILD_TYPE=X, -DCMAKE_BUILD_TYPE:STRING=X, or "-D" "CMAKE_BUILD_TYPE=X"
        -DCMAKE_BUILD_TYPE=* | -DCMAKE_BUILD_TYPE:*=* | CMAKE_BUILD_TYPE=* | CMAKE_BUILD_TYPE:*=*)
            build_type=()
            ;;
    esac
done

cmake -S "$REPO_ROOT" -B "$BUILD_DIR" "${build_type[@]}" "$@"
cmake --build "$BUILD_DIR" -j "$(nproc)"
