"""Build and install mangacolor with its C++ preprocessing core (`mangacolor._core`)."""
import re
from glob import glob
from pathlib import Path

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import find_packages, setup

# The one version string: mangacolor/__init__.py; the C++ core gets it as VERSION_INFO.
VERSION = re.search(r'^__version__ = "([^"]+)"', Path("mangacolor/__init__.py").read_text(), re.M).group(1)

core = Pybind11Extension(
    "mangacolor._core",
    sorted(glob("csrc/*.cpp")),
    cxx_std=17,
    extra_compile_args=["-O3"],
    define_macros=[("VERSION_INFO", VERSION)],
    depends=["csrc/kernels.hpp", "csrc/bits.hpp"],
)

setup(
    name="mangacolor",
    version=VERSION,
    description="Reproducible pipeline that learns to colourise black-and-white manga",
    packages=find_packages(include=["mangacolor", "mangacolor.*"]),
    package_data={"mangacolor": ["_core.pyi", "py.typed", "colorize/lineart_net.npz"]},
    ext_modules=[core],
    cmdclass={"build_ext": build_ext},
    python_requires=">=3.10",
    install_requires=[
        "snakemake>=8",
        "torch>=2.2",
        "torchvision>=0.17",
        "numpy>=1.24",
        "h5py>=3.8",
        "opencv-python>=4.8",
        "pandas>=2.0",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "pyyaml>=6",
        "jsonschema>=4",
        "scikit-image>=0.21",
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "scikit-learn>=1.3",
                 "snakemake-executor-plugin-slurm", "snakefmt"],
    },
    entry_points={"console_scripts": ["mangacolor=mangacolor.cli:main"]},
)
