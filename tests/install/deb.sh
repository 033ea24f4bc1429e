#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# install_deb: `cpack -G DEB` in the build directory (README "Install and
# link") makes shoal_VERSION_amd64.deb; its control fields are filled in,
# every package its Depends names is one apt knows (a misspelt name fails),
# it holds the library, headers, CMake and pkg-config files, programs,
# configs and SLURM templates under /usr; and, unpacked with dpkg -x into a
# scratch root (not installed), the C consumer builds against it with CMake
# and with mpicc/pkg-config and runs.
#   deb.sh VERSION     (ctest sets the environment, see common.sh)
version=$1
source "$SHOAL_SRC/tests/install/common.sh"
deb=$SHOAL_BUILD/shoal_${version}_$(dpkg --print-architecture).deb

rm -f "$deb"
(cd "$SHOAL_BUILD" && cpack -G DEB) >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
[[ -s $deb ]] || { cat "$work/cpack.log" >&2; fail "cpack -G DEB did not write $deb"; }
mv "$deb" "$work/"
deb=$work/$(basename "$deb")

for field in Package Version Maintainer Description Section Depends; do
    value=$(dpkg-deb -f "$deb" "$field")
    [[ -n $value ]] || fail "$deb has no $field"
done
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "$deb has Version $(dpkg-deb -f "$deb" Version), not $version"

# Depends, Recommends, Suggests: "a, b (>= 1), c | d": every name must be a
# package apt knows (installed ones are known without package lists).
depends=$(dpkg-deb -f "$deb" Depends)
n=0
for field in Depends Recommends Suggests; do
    for name in $(dpkg-deb -f "$deb" "$field" | tr ',|' '\n\n' | sed 's/(.*)//; s/:.*//' | tr -d ' '); do
        apt-cache show "$name" >/dev/null 2>&1 \
            || fail "$deb's $field names '$name', which apt does not know (apt-cache show $name); fix cmake/package.cmake"
        if [[ $field == Depends ]]; then n=$((n + 1)); fi
    done
done
[[ $n -ge 4 ]] || fail "$deb depends on only $n packages: $depends"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's#^\./#/#' >"$work/contents"
for path in /usr/bin/shoal /usr/bin/mc_pi /usr/bin/ising2d /usr/bin/ode_scan /usr/bin/option_mc \
    /usr/bin/ising_tc /usr/bin/shoal-exec /usr/bin/shoal-stats /usr/include/shoal/shoal.h \
    /usr/include/shoal/version.h /usr/share/shoal/configs/mc_pi.ini /usr/share/shoal/slurm/shoal-job.sbatch \
    /usr/share/doc/shoal/LICENSE /usr/libexec/shoal/heat1d /usr/share/shoal/configs/exec_heat.ini \
    /usr/lib/python3/dist-packages/shoal/__init__.py; do
    grep -qx "$path" "$work/contents" || fail "$deb does not hold $path (dpkg-deb -c)"
done
for pattern in '/usr/lib/.*libshoal\.(so|a)' '/usr/lib/.*cmake/shoal/shoalConfig\.cmake' '/usr/lib/.*pkgconfig/shoal\.pc'; do
    grep -Eqx "$pattern" "$work/contents" || fail "$deb holds nothing matching $pattern (dpkg-deb -c)"
done

root=$work/root
dpkg -x "$deb" "$root"
pc=$(find "$root/usr" -name shoal.pc)
grep -qx 'prefix=/usr' "$pc" || fail "the packaged shoal.pc does not say prefix=/usr"
libdir=$(dirname "$(dirname "$pc")")

printf '[run]\ntasks = 8\n[mc_pi]\nsamples = 1000\n' >"$work/c.ini"
cd "$work"
# The installed programs find the unpacked library through their RPATH.
env -u LD_LIBRARY_PATH "$root/usr/bin/mc_pi" --help >/dev/null || fail "$root/usr/bin/mc_pi --help failed"
shoal=$root/usr/bin/shoal

cmake_consumer "$SHOAL_SRC/tests/install" c-cmake "$root/usr" -DSHOAL_APP_SOURCE="$SHOAL_SRC/apps/mc_pi/mc_pi.c"
run_np 1 c-cmake-run "$work/c-cmake/consumer_pi" c.ini -o c-cmake.h5
check_done c-cmake-run 8 c-cmake.h5 "$shoal"

# pkg-config: the .pc says /usr, where the package is not really
# installed; --define-variable points it at the scratch root. (A sysroot,
# PKG_CONFIG_SYSROOT_DIR, would move MPI's and HDF5's paths too.)
export PKG_CONFIG_PATH=$libdir/pkgconfig
mpicc "$SHOAL_SRC/apps/mc_pi/mc_pi.c" -o "$work/c-pc" $(pkg-config --define-variable=prefix="$root/usr" --cflags --libs shoal) \
    -Wl,-rpath,$(pkg-config --define-variable=prefix="$root/usr" --variable=libdir shoal) \
    || fail "mpicc with pkg-config against the unpacked package failed"
run_np 1 c-pc-run "$work/c-pc" c.ini -o c-pc.h5
check_done c-pc-run 8 c-pc.h5 "$shoal"
echo "install_deb: ok ($(basename "$deb"): $depends)"
