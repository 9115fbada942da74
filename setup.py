"""Build and install mangacolor with its C++ preprocessing core (`mangacolor._core`)."""
from glob import glob

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import find_packages, setup

core = Pybind11Extension(
    "mangacolor._core",
    sorted(glob("csrc/*.cpp")),
    cxx_std=17,
    extra_compile_args=["-O3"],
)

setup(
    name="mangacolor",
    version="0.1.0",
    description="Reproducible pipeline that learns to colourise black-and-white manga",
    packages=find_packages(include=["mangacolor", "mangacolor.*"]),
    package_data={"mangacolor": ["workflow_assets/*"]},
    ext_modules=[core],
    cmdclass={"build_ext": build_ext},
    python_requires=">=3.10",
    install_requires=[
        "snakemake>=8",
        "torch>=2.2",
        "torchvision>=0.17",
        "pybind11>=2.12",
        "numpy>=1.24",
        "h5py>=3.8",
        "opencv-python>=4.8",
        "pandas>=2.0",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "pyyaml>=6",
        "jsonschema>=4",
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "scikit-image>=0.21", "scikit-learn>=1.3",
                 "snakemake-executor-plugin-slurm"],
    },
    entry_points={"console_scripts": ["mangacolor=mangacolor.cli:main"]},
)
