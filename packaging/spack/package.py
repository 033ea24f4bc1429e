# SPDX-License-Identifier: GPL-3.0-or-later
# A Spack recipe for Shoal (README "Install and link"). Untested here: no
# Spack runs in Shoal's CI. To use it, copy it into a Spack repository as
# packages/shoal/package.py and fill in the two PLACEHOLDER addresses.

from spack.package import *


class Shoal(CMakePackage):
    """Master-worker task farming on MPI: many independent tasks spread over
    the ranks, every task's results written into one parallel HDF5 file."""

    # PLACEHOLDER: Shoal has no public home page or repository address yet.
    homepage = "https://example.org/shoal"
    git = "https://example.org/shoal.git"

    license("GPL-3.0-or-later")

    # No release tarball (and so no checksum) yet: the version is a git tag.
    version("0.1.0", tag="v0.1.0")

    variant("shared", default=True, description="Build libshoal as a shared library (off: static)")

    depends_on("c", type="build")
    depends_on("cmake@3.19:", type="build")
    depends_on("pkgconfig", type="build")

    depends_on("mpi")
    depends_on("hdf5+mpi")
    depends_on("gsl")
    # Spack calls the inih parser "libinih"; it installs the inih.pc that
    # Shoal's build looks for.
    depends_on("libinih")
    depends_on("random123")
    depends_on("zlib-api")  # ml_tune reads the gzip-compressed digits data

    # The test suite (spack install --test=root): check for the unit suites,
    # a Python with h5py, numpy, pandas, xarray, h5netcdf and matplotlib to read the
    # MPI tests' files. Two of its tests need more than Spack provides here:
    # fuzz_script needs clang (it fails without it), and the slurm test runs
    # only where SLURM can be started (it is skipped otherwise).
    depends_on("check", type="test")
    depends_on("python@3:", type="test")
    depends_on("py-h5py", type="test")
    depends_on("py-numpy", type="test")
    depends_on("py-pandas", type="test")
    depends_on("py-xarray", type="test")
    depends_on("py-h5netcdf", type="test")
    depends_on("py-matplotlib", type="test")
    # ml_tune's tests train on the UCI digits that scikit-learn ships.
    depends_on("py-scikit-learn", type="test")

    def cmake_args(self):
        args = [
            self.define_from_variant("BUILD_SHARED_LIBS", "shared"),
            self.define("SHOAL_BUILD_TESTS", self.run_tests),
            # The pure-Python reader (lib/python): under the prefix, put on
            # PYTHONPATH by setup_run_environment (not Debian's dist-packages).
            self.define("SHOAL_INSTALL_PYTHONDIR", "lib/python3/site-packages"),
        ]
        if self.run_tests:
            args.append(self.define("SHOAL_PYTHON3", self.spec["python"].command.path))
            sklearn = self.spec["py-scikit-learn"]
            args.append(self.define("SHOAL_DIGITS_CSV", join_path(
                sklearn.prefix, sklearn["python"].package.platlib, "sklearn", "datasets",
                "data", "digits.csv.gz")))
        return args

    def setup_run_environment(self, env):
        # `spack load shoal` makes the Python reader importable.
        env.prepend_path("PYTHONPATH", join_path(self.prefix, "lib", "python3", "site-packages"))
