# SPDX-License-Identifier: GPL-3.0-or-later
# A Debian package of this build: `cpack -G DEB` in the build directory
# writes shoal_<version>_amd64.deb (README "Install and link"). It holds
# what `cmake --install` installs, under /usr. Depends names the Debian
# packages a user needs to build and run apps against it: the MPI, parallel
# HDF5 and GSL development packages (the public headers include mpi.h and
# gsl_rng.h; shoal.pc and shoalConfig.cmake require all three), pkg-config,
# and inih: its runtime library for the shared libshoal, its development
# package for the static one (which the user's link needs).
# The Python reader (lib/python, under /usr/lib/python3/dist-packages)
# needs h5py and numpy, recommended; its frames and datasets need pandas and
# xarray, suggested. tests/install/deb.sh checks that every name in these
# three fields is one apt knows.
set(CPACK_PACKAGE_NAME shoal)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Shoal developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "master-worker task farming on MPI with results in one parallel HDF5 file")
set(CPACK_PACKAGE_DESCRIPTION
  "Shoal runs many independent tasks over the ranks of an MPI job and writes
every task's results into one parallel HDF5 file. The package holds the
library (C, usable from C++), its headers, CMake and pkg-config files, the
apps, shoal-exec, shoal-stats, the shoal command, example configs and SLURM
job templates.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Shoal developers <shoal@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
if(BUILD_SHARED_LIBS)
  set(_shoal_inih libinih1)
else()
  set(_shoal_inih libinih-dev)
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libopenmpi-dev, openmpi-bin, libhdf5-openmpi-dev, libgsl-dev, ${_shoal_inih}, pkgconf, zlib1g")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-h5py, python3-numpy")
# python3-sklearn: the digits data ml_tune trains on.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-pandas, python3-xarray, python3-sklearn")
include(CPack)
