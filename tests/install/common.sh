# SPDX-License-Identifier: GPL-3.0-or-later
# common.sh: helpers for the install tests (sourced by run.sh and deb.sh):
# failing with the command to rerun, running a program on N ranks, and
# building the outside programs the two ways a user would, with CMake's
# find_package(shoal) and with mpicc/mpicxx and pkg-config. The commands are
# the README's ("Install and link"); keep the two the same.
# ctest sets SHOAL_TEST_NAME, SHOAL_BUILD, SHOAL_MPIEXEC, SHOAL_NPFLAG and
# SHOAL_MPI_PREFLAGS.
set -eEuo pipefail

# shellcheck source=scripts/env.sh
source "$SHOAL_SRC/scripts/env.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/shoal-install.XXXXXX")
keep_work=0
trap '[[ $keep_work == 1 ]] || rm -rf "$work"' EXIT
read -r -a preflags <<<"${SHOAL_MPI_PREFLAGS:-}"

fail() {
    keep_work=1
    echo "FAIL [$SHOAL_TEST_NAME]: $*" >&2
    echo "  work directory kept: $work" >&2
    echo "  rerun: ctest --test-dir $SHOAL_BUILD -R '^${SHOAL_TEST_NAME}\$' --output-on-failure" >&2
    exit 1
}
# A failing command inside a step ends the script through set -e; say which.
trap 'fail "line $LINENO: \`$BASH_COMMAND\` failed (status $?)"' ERR

# run_np N LABEL PROGRAM ARGS...: PROGRAM on N ranks, without
# LD_LIBRARY_PATH (installed programs and the user's find their libshoal by
# RPATH); output in $work/LABEL.txt, echoed.
run_np() {
    local np=$1 label=$2
    shift 2
    env -u LD_LIBRARY_PATH "$SHOAL_MPIEXEC" "$SHOAL_NPFLAG" "$np" "${preflags[@]}" "$@" \
        >"$work/$label.txt" 2>&1 || { cat "$work/$label.txt" >&2; fail "$label: $* on $np ranks failed"; }
    cat "$work/$label.txt"
}

# cmake_consumer DIR LABEL PREFIX [ARGS...]: configure and build the outside
# CMake project DIR against the Shoal installed in PREFIX.
cmake_consumer() {
    local dir=$1 label=$2 prefix=$3
    shift 3
    cmake -S "$dir" -B "$work/$label" -DCMAKE_PREFIX_PATH="$prefix" "$@" \
        >"$work/$label.log" 2>&1 || { cat "$work/$label.log" >&2; fail "$label: configuring $dir against $prefix failed"; }
    cmake --build "$work/$label" >>"$work/$label.log" 2>&1 \
        || { cat "$work/$label.log" >&2; fail "$label: building $dir against $prefix failed"; }
}

# pkgconfig_consumer COMPILER SOURCE OUT: the README's one-line build with
# pkg-config (PKG_CONFIG_PATH set by the caller).
pkgconfig_consumer() {
    local cc=$1 src=$2 out=$3
    "$cc" "$src" -o "$out" $(pkg-config --cflags --libs shoal) -Wl,-rpath,$(pkg-config --variable=libdir shoal) \
        || fail "$cc $src with \$(pkg-config --cflags --libs shoal) failed (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
}

# check_done LABEL TASKS FILE SHOAL: the run's summary says TASKS tasks all
# done, and the shoal command SHOAL reads FILE as complete.
check_done() {
    local label=$1 tasks=$2 file=$3 shoal=$4
    grep -q "$tasks tasks ($tasks done, 0 failed)" "$work/$label.txt" \
        || fail "$label: the summary does not say '$tasks tasks ($tasks done, 0 failed)'"
    "$shoal" status "$file" >"$work/$label.status" 2>&1 || { cat "$work/$label.status" >&2; fail "$label: $shoal status $file failed"; }
    grep -q "^state: *complete" "$work/$label.status" \
        || { cat "$work/$label.status" >&2; fail "$label: $shoal status $file does not say 'state: complete'"; }
}

# check_links_libshoal PROGRAM KIND LIBDIR: a shared-kind program loads
# LIBDIR's libshoal.so without LD_LIBRARY_PATH; a static-kind one needs no
# libshoal.so at all.
check_links_libshoal() {
    local prog=$1 kind=$2 libdir=$3
    # Whole outputs first: grep -q stops reading early, and under pipefail
    # the writer's SIGPIPE would fail the pipeline.
    local deps
    if [[ $kind == shared ]]; then
        deps=$(env -u LD_LIBRARY_PATH ldd "$prog")
        grep -q "libshoal.so.0 => $libdir/" <<<"$deps" \
            || { echo "$deps" >&2; fail "$prog does not load $libdir/libshoal.so.0 without LD_LIBRARY_PATH"; }
    elif deps=$(readelf -d "$prog") && grep -q 'NEEDED.*libshoal' <<<"$deps"; then
        fail "$prog needs libshoal.so, but the static library was installed"
    fi
}
