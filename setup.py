"""Builds the one compiled extension, cygrad._core: the Cython graph core plus the C kernels.

Portable flags only: no tuning for the build machine's CPU (wheels must run on any x86-64) and no
fast-math (it would turn on flush-to-zero for the whole Python process). SIMD variants are compiled per function with
target attributes and chosen at run time (csrc/simd.c).
"""
from glob import glob

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

# -ffp-contract=off: no silent a*b+c -> fma fusion, so every SIMD path gives the same bits
C_FLAGS = ["-O3", "-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wno-unused-function"]

core = Extension(
    "cygrad._core",
    sources=["src/cygrad/_core.pyx", *sorted(glob("csrc/*.c"))],
    include_dirs=["csrc/include", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=C_FLAGS,
    libraries=["m"],
)

setup(
    ext_modules=cythonize(
        [core],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
    )
)
