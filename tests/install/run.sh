#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# install_shared, install_static: Shoal installed as the given library kind
# works for a user. The build under test installs its own kind; for the
# other kind the script configures and builds a second, library-only Shoal
# (no apps, no tests) in a scratch directory. Into a temporary prefix, then:
#   - outside programs build and run: mc_pi's source in a C CMake project
#     (find_package(shoal)), a C++ app (cxx/pi_cxx.cpp) in a C++ CMake
#     project, both again with mpicc/mpicxx and pkg-config (the README's
#     commands), each on 1 rank and the C++ one also on 2; their files read
#     as complete; shared, without LD_LIBRARY_PATH;
#   - the public headers compile as strict C++11;
#   - shared: libshoal.so exports the public API only (symbols.sh);
#   - a full install (the build's own kind): the programs run from bin/,
#     the example configs, the installed shoal-exec example, the SLURM
#     templates and the docs are there, and nothing internal is installed.
#   run.sh KIND        (shared | static; ctest sets the environment, see
#                       common.sh, and SHOAL_SRC)
kind=$1
source "$SHOAL_SRC/tests/install/common.sh"
src=$SHOAL_SRC
prefix=$work/prefix

# The build's own kind, from its cache.
if grep -q '^BUILD_SHARED_LIBS:BOOL=ON$' "$SHOAL_BUILD/CMakeCache.txt"; then
    build_kind=shared
else
    build_kind=static
fi

full=0
if [[ $kind == "$build_kind" ]]; then
    full=1
    cmake --install "$SHOAL_BUILD" --prefix "$prefix" >"$work/install.log"
    shoal=$prefix/bin/shoal
else
    [[ $kind == shared ]] && shared=ON || shared=OFF
    cmake -S "$src" -B "$work/libonly" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=$shared \
        -DSHOAL_BUILD_TESTS=OFF -DSHOAL_BUILD_APPS=OFF >"$work/libonly.log" 2>&1 \
        || { cat "$work/libonly.log" >&2; fail "configuring a $kind library-only Shoal failed"; }
    cmake --build "$work/libonly" -j 2 >>"$work/libonly.log" 2>&1 \
        || { cat "$work/libonly.log" >&2; fail "building a $kind library-only Shoal failed"; }
    cmake --install "$work/libonly" --prefix "$prefix" >"$work/install.log"
    shoal=$SHOAL_BUILD/tools/shoal # the prefix has no programs
fi
libdir=$(dirname "$(find "$prefix" -name shoal.pc -path '*/pkgconfig/*')")
libdir=${libdir%/pkgconfig}
if [[ $kind == shared ]]; then
    [[ -e $libdir/libshoal.so && ! -e $libdir/libshoal.a ]] || fail "shared: $libdir should hold libshoal.so and no libshoal.a"
    bash "$src/tests/install/symbols.sh" "$libdir/libshoal.so" "$prefix/include/shoal"
else
    [[ -e $libdir/libshoal.a && ! -e $libdir/libshoal.so ]] || fail "static: $libdir should hold libshoal.a and no libshoal.so"
fi
[[ -z $(find "$prefix" -name 'libshoal_internal*') ]] || fail "the internal library was installed"

# The headers as strict C++ (Open MPI's own C++ bindings in mpi.h do not
# pass -Wextra -Werror, so they are left out as they are for shoal::shoal).
export PKG_CONFIG_PATH=$libdir/pkgconfig
printf '#include <shoal/shoal.h>\nint main() { return SHOAL_VERSION_MAJOR; }\n' >"$work/headers.cpp"
mpicxx -std=c++11 -Wall -Wextra -Werror -pedantic -DOMPI_SKIP_MPICXX -fsyntax-only \
    $(pkg-config --cflags shoal) "$work/headers.cpp" || fail "the public headers do not compile as C++11"

printf '[run]\ntasks = 8\n[mc_pi]\nsamples = 1000\n' >"$work/c.ini"
printf '[run]\ntasks = 6\n[pi_cxx]\nsamples = 2000\n' >"$work/cxx.ini"
cd "$work"

# (a) C with CMake.
cmake_consumer "$src/tests/install" c-cmake "$prefix" -DSHOAL_APP_SOURCE="$src/apps/mc_pi/mc_pi.c"
check_links_libshoal "$work/c-cmake/consumer_pi" "$kind" "$libdir"
run_np 1 c-cmake-run "$work/c-cmake/consumer_pi" c.ini -o c-cmake.h5
check_done c-cmake-run 8 c-cmake.h5 "$shoal"

# (b) C with mpicc and pkg-config.
libs=$(pkg-config --libs shoal)
[[ " $libs " == *" -lshoal "* ]] || fail "pkg-config --libs shoal does not name -lshoal: $libs"
if [[ $kind == static ]]; then
    [[ " $libs " == *" -linih "* ]] || fail "static: pkg-config --libs shoal does not name -linih: $libs"
fi
pkgconfig_consumer mpicc "$src/apps/mc_pi/mc_pi.c" "$work/c-pc"
check_links_libshoal "$work/c-pc" "$kind" "$libdir"
run_np 1 c-pc-run "$work/c-pc" c.ini -o c-pc.h5
check_done c-pc-run 8 c-pc.h5 "$shoal"

# (c) C++ with CMake, on 1 and 2 ranks.
cmake_consumer "$src/tests/install/cxx" cxx-cmake "$prefix"
check_links_libshoal "$work/cxx-cmake/pi_cxx" "$kind" "$libdir"
run_np 1 cxx-cmake-run1 "$work/cxx-cmake/pi_cxx" cxx.ini -o cxx-1.h5
check_done cxx-cmake-run1 6 cxx-1.h5 "$shoal"
run_np 2 cxx-cmake-run2 "$work/cxx-cmake/pi_cxx" cxx.ini -o cxx-2.h5
check_done cxx-cmake-run2 6 cxx-2.h5 "$shoal"

# (d) C++ with mpicxx and pkg-config.
pkgconfig_consumer mpicxx "$src/tests/install/cxx/pi_cxx.cpp" "$work/cxx-pc"
check_links_libshoal "$work/cxx-pc" "$kind" "$libdir"
run_np 1 cxx-pc-run "$work/cxx-pc" cxx.ini -o cxx-pc.h5
check_done cxx-pc-run 6 cxx-pc.h5 "$shoal"

if [[ $full == 1 ]]; then
    for p in mc_pi ising2d ode_scan option_mc ising_tc peaks shoal-exec shoal-stats shoal; do
        [[ -x $prefix/bin/$p ]] || fail "bin/$p not installed"
        env -u LD_LIBRARY_PATH "$prefix/bin/$p" --help >"$work/help.txt" 2>&1 \
            || { cat "$work/help.txt" >&2; fail "$prefix/bin/$p --help failed"; }
    done
    [[ -z $(find "$prefix" -name 'bench_*' -o -name 'test_*') ]] || fail "a bench_* or test_* program was installed"
    for c in mc_pi ising_scan ising_test ode_scan ode_test option_mc_scan option_mc_test \
        ising_tc_test ising_tc_analysis shoal_stats peaks_files peaks_stream ising_rows exec_heat exec_pi; do
        [[ -s $prefix/share/shoal/configs/$c.ini ]] || fail "share/shoal/configs/$c.ini not installed"
    done
    for f in shoal-job.sbatch shoal-chain.sbatch shoal-array.sbatch mc_pi_array.ini; do
        [[ -s $prefix/share/shoal/slurm/$f ]] || fail "share/shoal/slurm/$f not installed"
    done
    for f in LICENSE README.md; do
        [[ -s $prefix/share/doc/shoal/$f ]] || fail "share/doc/shoal/$f not installed"
    done
    # The installed shoal-exec example runs the installed heat1d from here,
    # outside the source tree.
    grep -q "^argv = $prefix/libexec/shoal/heat1d " "$prefix/share/shoal/configs/exec_heat.ini" \
        || fail "the installed exec_heat.ini does not run $prefix/libexec/shoal/heat1d"
    grep -q "^argv = python3 $prefix/libexec/shoal/pi.py " "$prefix/share/shoal/configs/exec_pi.ini" \
        || fail "the installed exec_pi.ini does not run $prefix/libexec/shoal/pi.py"
    run_np 1 exec-heat "$prefix/bin/shoal-exec" "$prefix/share/shoal/configs/exec_heat.ini" -o exec_heat.h5
    check_done exec-heat 9 exec_heat.h5 "$shoal"
    # The installed Python reader, from the prefix's dist-packages as the
    # README says, reads that file.
    PYTHONPATH=$prefix/lib/python3/dist-packages /usr/bin/python3 -c '
import shoal, sys
assert shoal.__file__.startswith(sys.argv[1]), shoal.__file__
df = shoal.read_frame(sys.argv[2])
assert len(df) == 9 and (df.status == "done").all(), df
' "$prefix" "$work/exec_heat.h5" || fail "the installed Python module cannot read exec_heat.h5"
    # The installed peaks example from the prefix alone: its producer, the
    # installed config (frames/*.h5 from the current directory), its checker.
    "$prefix/libexec/shoal/produce_frames.py" --dir frames --count 6 --rate 0 --quiet \
        || fail "the installed produce_frames.py failed"
    run_np 1 peaks "$prefix/bin/peaks" "$prefix/share/shoal/configs/peaks_files.ini" -o peaks.h5
    check_done peaks 6 peaks.h5 "$shoal"
    "$prefix/libexec/shoal/check_peaks.py" peaks.h5 --quiet || fail "the installed check_peaks.py failed"
fi
echo "install_$kind: ok"
