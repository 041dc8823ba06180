"""Builds the one compiled extension, cygrad._core: the Cython graph core plus the C kernels.

Portable flags only: no tuning for the build machine's CPU (wheels must run on any x86-64) and no
fast-math (it would turn on flush-to-zero for the whole Python process). SIMD variants are compiled per function with
target attributes and chosen at run time (csrc/simd.c).
"""
import os
from glob import glob

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -ffp-contract=off: no silent a*b+c -> fma fusion, so every SIMD path gives the same bits.
# -fno-trapping-math: nothing here unmasks floating-point traps, so gcc may compute both sides of
# a select (x < b ? f(x) : g(x)) and blend them instead of branching; values are unchanged.
C_FLAGS = ["-O3", "-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math",
           "-ffp-contract=off", "-Wall", "-Wno-unused-function"]

core = Extension(
    "cygrad._core",
    sources=["src/cygrad/_core.pyx", *sorted(glob("csrc/*.c"))],
    include_dirs=["csrc/include", numpy.get_include()],
    # a changed header alone must trigger a build (IncrementalBuildExt then picks the stale objects)
    depends=glob("csrc/**/*.h", recursive=True),
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=C_FLAGS,
    libraries=["m"],
)



class IncrementalBuildExt(build_ext):
    """Compiles only the sources whose object file is out of date.

    setuptools recompiles every source of an extension when any one changes; the Cython-generated
    _core.c alone takes minutes, a kernel file seconds. An object is out of date when it is older
    than its source or than a header it may include: any header under csrc/ for a kernel file,
    only the public ones under csrc/include/ for the Cython-generated file (so that editing a
    kernel's private header costs seconds, not minutes).
    """

    def build_extension(self, ext):
        compile_every_source = self.compiler.compile
        kernel_headers = glob("csrc/**/*.h", recursive=True)
        public_headers = glob("csrc/include/**/*.h", recursive=True)

        def compile_stale(sources, output_dir=None, **kwargs):
            objects = self.compiler.object_filenames(sources, output_dir=output_dir)
            stale = [src for src, obj in zip(sources, objects)
                     if self.force or _older_than_any(
                         obj, [src, *(kernel_headers if src.startswith("csrc") else public_headers)])]
            if stale:
                compile_every_source(stale, output_dir=output_dir, **kwargs)
            return objects

        self.compiler.compile = compile_stale
        super().build_extension(ext)


def _older_than_any(target, inputs):
    if not os.path.exists(target):
        return True
    built = os.path.getmtime(target)
    return any(os.path.getmtime(path) > built for path in inputs)


setup(
    cmdclass={"build_ext": IncrementalBuildExt},
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
