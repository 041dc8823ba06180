# cython: language_level=3
"""cygrad's compiled core: one extension module, split into files by purpose.

Why one module: the tensor base, the graph nodes, the engine and the ops call each other through
C-level (cdef) calls, which is where the per-op overhead goes away. Separate modules would need
runtime imports in a loop (tensor -> ops -> tensor); `include` keeps the pieces in readable files
with one purpose each while the C compiler sees one translation unit.

Order matters only for declarations: data types, grad mode, the CPU backend (ndarray level), the
backend dispatch (CPU or GPU arrays, _backend.pxi), the tensor base, the autograd graph and engine,
then the differentiable ops built on all of them.
"""
cimport numpy as cnp
from numpy cimport ndarray
import numpy as np

cnp.import_array()

include "_dtype.pxi"
include "_gradmode.pxi"
include "_backend_cpu.pxi"
# Freed tensor buffers stay mapped for the next step instead of being zeroed again by the kernel
# (csrc/heap.c says why and what it costs); 1 if applied, 0 on other libcs or when the user
# tuned malloc through the environment.
_heap_keeps_freed_top = C.cg_heap_keep_freed_top()
include "_backend_index.pxi"
include "_backend_math.pxi"
include "_backend_loss.pxi"
include "_backend.pxi"
include "_tensor_base.pxi"
include "_graph.pxi"
include "_engine.pxi"
include "_function.pxi"
include "_ops_elementwise.pxi"
include "_ops_reduce.pxi"
include "_ops_shape.pxi"
include "_ops_linalg.pxi"
include "_ops_inplace.pxi"
include "_ops_loss.pxi"
include "_ops_compare.pxi"
include "_optim.pxi"
include "_ops_index.pxi"
include "_ops_join.pxi"
include "_ops_math.pxi"


# ---- SIMD path selection (CYGRAD_SIMD=scalar|avx2|avx512 forces one at import) ----
import os as _os

_SIMD_LEVELS = {"scalar": 0, "avx2": 1, "avx512": 2}


def simd_path():
    """The SIMD variant the kernels use now: 'scalar', 'avx2' or 'avx512'."""
    return C.cg_simd_name(C.cg_simd_get()).decode()


def best_simd_path():
    """The best SIMD variant this CPU supports."""
    return C.cg_simd_name(C.cg_simd_best()).decode()


def set_simd_path(str name):
    """Forces a SIMD variant for every kernel from now on (tests run each path this way)."""
    if name not in _SIMD_LEVELS:
        raise ValueError(f"unknown SIMD path {name!r}; expected one of {sorted(_SIMD_LEVELS)}")
    if C.cg_simd_set(_SIMD_LEVELS[name]) != 0:
        raise RuntimeError(f"this CPU does not support the {name} path (best: {best_simd_path()})")


if _os.environ.get("CYGRAD_SIMD"):
    set_simd_path(_os.environ["CYGRAD_SIMD"].strip().lower())


# ---- intra-op threads (csrc/parallel.c) ----

def get_num_threads():
    """The number of threads cygrad's kernels use (torch.get_num_threads)."""
    return C.cg_get_num_threads()


def set_num_threads(int n):
    """Sets the number of threads cygrad's kernels use (torch.set_num_threads)."""
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    C.cg_set_num_threads(n)
