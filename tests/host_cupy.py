"""The part of CuPy that cygrad's CUDA backend uses, emulated on the host, so that
backends/cuda.py runs (and is checked against the CPU backend) on a machine without a GPU.

* ElementwiseKernel and ReductionKernel take the same parameter lists and CUDA C++ bodies as
  CuPy's; the bodies are compiled by the host C++ compiler (`__device__` defined away, the same
  preamble) and run one element at a time in index order. So the kernel formulas of cuda.py are
  compiled and executed for real, with cupy's binding rules (the type placeholder T taken from the
  array arguments, scalars converted to their parameter's type, `raw` arrays indexed by the body,
  `i` the element index, outputs written in place).
* Everything else of the cupy namespace is numpy's (numpy and cupy agree on the functions
  cuda.py calls), and cupyx.scatter_add is numpy's add.at.

What this cannot check: CuPy itself (its reductions' parallel order, its caching, device memory)
and CUDA's math library (the host's libm computes exp, log, ...). Floating-point results can
therefore differ from a GPU's by a few ulps; the formulas, edge cases and argument plumbing are
what it checks.
"""
import contextlib
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

import numpy as np

CXX = shutil.which("g++") or shutil.which("c++")

_CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
           np.dtype(np.int64): "long long", np.dtype(np.int32): "int", np.dtype(np.bool_): "bool",
           np.dtype(np.uint64): "unsigned long long"}
_NAMED = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32,
          "bool": np.bool_, "uint64": np.uint64}
_REDUCE_TYPES = {"double": np.float64, "float": np.float32, "long long": np.int64,
                 "unsigned long long": np.uint64}

_HEADER = r"""
#include <cmath>
#include <cstdint>
using namespace std;
#define __device__
"""


def _parse(params):
    """'raw T x, float64 p' -> [(raw, type, name)]"""
    result = []
    for part in params.split(","):
        words = part.split()
        raw = words[0] == "raw"
        if raw:
            words = words[1:]
        result.append((raw, words[0], words[1]))
    return result


def _ctype(typ, t_dtype):
    return _CTYPES[np.dtype(t_dtype)] if typ == "T" else _CTYPES[np.dtype(_NAMED[typ])]


class _Library:
    """Compiles generated functions with the host C++ compiler: in batches (one compiler run for
    many kernels, cached on disk by the source's hash) or one at a time."""

    def __init__(self):
        self._functions = {}
        self._directory = os.path.join(tempfile.gettempdir(), "cygrad-host-cupy")
        os.makedirs(self._directory, exist_ok=True)

    def build(self, units):
        """units: {symbol: (preamble, source)}; compiles those not built yet, in one run."""
        units = {s: u for s, u in units.items() if s not in self._functions}
        if not units:
            return
        preambles = sorted({preamble for preamble, _ in units.values()})
        source = _HEADER + "\n".join(preambles) + "\n" + "\n".join(src for _, src in units.values())
        digest = hashlib.sha256(source.encode()).hexdigest()[:16]
        path = os.path.join(self._directory, f"k{digest}.so")
        if not os.path.exists(path):
            cpp = path[:-3] + ".cpp"
            with open(cpp, "w") as f:
                f.write(source)
            # no FMA contraction (the CPU kernels are built the same way), so both round alike
            subprocess.run([CXX, "-O1", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off",
                            "-w", "-o", path + ".tmp", cpp], check=True, capture_output=True, text=True)
            os.replace(path + ".tmp", path)
        library = ctypes.CDLL(path)
        for symbol in units:
            fn = getattr(library, symbol)
            fn.restype = None
            fn.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_longlong),
                           ctypes.c_longlong, ctypes.c_longlong]
            self._functions[symbol] = fn

    def get(self, symbol, unit):
        if symbol not in self._functions:
            self.build({symbol: unit})
        return self._functions[symbol]


_library = _Library()


def _symbol(kind, name, t_dtype):
    return f"{kind}_{re.sub(r'[^0-9A-Za-z_]', '_', name)}_{np.dtype(t_dtype).name}"


class ElementwiseKernel:
    """cupy.ElementwiseKernel on the host."""

    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True,
                 preamble="", **kwargs):
        self.ins, self.outs = _parse(in_params), _parse(out_params)
        self.operation, self.name, self.preamble = operation, name, preamble

    def unit(self, t_dtype):
        """(symbol, (preamble, C++ source)) of this kernel with T = t_dtype: p[] holds the
        arguments' pointers, s[] their element strides (0 for a scalar), n the element count."""
        lines = [f'extern "C" void {self.symbol(t_dtype)}(void **_args, const long long *_strides, '
                 'long long _n, long long _unused)', "{", f"    typedef {_ctype('T', t_dtype)} T;"]
        for k, (raw, typ, name) in enumerate(self.ins + self.outs):
            ct = _ctype(typ, t_dtype)
            lines.append(f"    {ct} *{name}_p = ({ct} *)_args[{k}];")
        lines.append("    for (long long i = 0; i < _n; ++i) {")
        for k, (raw, typ, name) in enumerate(self.ins):
            ct = _ctype(typ, t_dtype)
            lines.append(f"        const {ct} *{name} = {name}_p;" if raw else
                         f"        const {ct} {name} = {name}_p[i * _strides[{k}]];")
        for k, (raw, typ, name) in enumerate(self.outs, start=len(self.ins)):
            lines.append(f"        {_ctype(typ, t_dtype)} &{name} = {name}_p[i];")
        lines += ["        " + self.operation.strip().rstrip(";") + ";", "    }", "}"]
        return self.symbol(t_dtype), (self.preamble, "\n".join(lines))

    def symbol(self, t_dtype):
        return _symbol("ew", self.name, t_dtype)

    def __call__(self, *args, size=None):
        ins, outs = args[:len(self.ins)], list(args[len(self.ins):])
        t_dtype = None
        for (raw, typ, _), a in zip(self.ins + self.outs, list(ins) + outs):
            if typ == "T" and isinstance(a, np.ndarray):
                if t_dtype is not None and a.dtype != t_dtype:
                    raise TypeError(f"{self.name}: T bound to {t_dtype} and {a.dtype}")
                t_dtype = a.dtype
        shape = np.broadcast_shapes(*[a.shape for (raw, _, _), a in zip(self.ins, ins)
                                      if not raw and isinstance(a, np.ndarray)],
                                    *[o.shape for o in outs])
        n = int(np.prod(shape, dtype=np.int64))
        pointers, strides, keep = [], [], []
        for (raw, typ, _), a in zip(self.ins, ins):
            dtype = np.dtype(t_dtype if typ == "T" else _NAMED[typ])
            if raw:
                array = np.ascontiguousarray(a, dtype=dtype)
                stride = 1
            elif isinstance(a, np.ndarray) and a.ndim > 0:
                if a.dtype != dtype:
                    raise TypeError(f"{self.name}: {a.dtype} argument for a {dtype} parameter")
                array, stride = np.ascontiguousarray(np.broadcast_to(a, shape)), 1
            else:   # a scalar: its parameter's type
                array, stride = np.array([a], dtype=dtype), 0
            keep.append(array)
            pointers.append(array.ctypes.data)
            strides.append(stride)
        results, copies = [], []
        for k, (raw, typ, _) in enumerate(self.outs):
            dtype = np.dtype(t_dtype if typ == "T" else _NAMED[typ])
            out = outs[k] if k < len(outs) else np.empty(shape, dtype)
            if out.dtype != dtype or out.shape != shape:
                raise TypeError(f"{self.name}: output {out.dtype}{out.shape}, expected {dtype}{shape}")
            work = out if out.flags.c_contiguous else np.ascontiguousarray(out)
            copies.append((out, work))
            results.append(out)
            pointers.append(work.ctypes.data)
            strides.append(1)
        symbol, unit = self.unit(t_dtype if t_dtype is not None else np.float64)
        fn = _library.get(symbol, unit)
        fn((ctypes.c_void_p * len(pointers))(*pointers),
           (ctypes.c_longlong * len(strides))(*strides), n, 0)
        for out, work in copies:
            if work is not out:
                out[...] = work
        return results[0] if len(results) == 1 else tuple(results)


class ReductionKernel:
    """cupy.ReductionKernel on the host: each output element folds its inputs in index order."""

    def __init__(self, in_params, out_params, map_expr, reduce_expr, post_map_expr, identity,
                 name="reduce_kernel", reduce_type=None, reduce_dims=True, preamble="", options=()):
        self.ins, self.outs = _parse(in_params), _parse(out_params)
        self.map_expr, self.reduce_expr, self.post_map_expr = map_expr, reduce_expr, post_map_expr
        self.identity, self.name, self.reduce_type, self.preamble = identity, name, reduce_type, preamble

    def symbol(self, t_dtype):
        return _symbol("red", self.name, t_dtype)

    def unit(self, t_dtype):
        """p[] as for ElementwiseKernel; the inputs are (m, r) contiguous arrays, the output m."""
        reduce_type = self.reduce_type or _ctype("T", t_dtype)
        lines = [f'extern "C" void {self.symbol(t_dtype)}(void **_args, const long long *_strides, '
                 'long long _m, long long _r)', "{", f"    typedef {_ctype('T', t_dtype)} T;",
                 f"    typedef {reduce_type} _type_reduce;"]
        for k, (raw, typ, name) in enumerate(self.ins + self.outs):
            ct = _ctype(typ, t_dtype)
            lines.append(f"    {ct} *{name}_p = ({ct} *)_args[{k}];")
        lines += ["    for (long long _j = 0; _j < _m; ++_j) {",
                  f"        _type_reduce a = (_type_reduce)({self.identity});",
                  "        for (long long _k = 0; _k < _r; ++_k) {"]
        for raw, typ, name in self.ins:
            lines.append(f"            const {_ctype(typ, t_dtype)} {name} = {name}_p[_j * _r + _k];")
        lines += [f"            const _type_reduce b = (_type_reduce)({self.map_expr});",
                  f"            a = ({self.reduce_expr});",
                  "        }"]
        for raw, typ, name in self.outs:
            lines.append(f"        {_ctype(typ, t_dtype)} &{name} = {name}_p[_j];")
        lines += ["        " + self.post_map_expr.strip().rstrip(";") + ";", "    }", "}"]
        return self.symbol(t_dtype), (self.preamble, "\n".join(lines))

    def __call__(self, *args, axis=None, keepdims=False):
        t_dtype = None
        for (raw, typ, _), a in zip(self.ins, args):
            if typ == "T" and isinstance(a, np.ndarray):
                t_dtype = a.dtype
        shape = np.broadcast_shapes(*[np.shape(a) for a in args])
        ndim = len(shape)
        axes = tuple(range(ndim)) if axis is None else (
            tuple(sorted(a % ndim for a in axis)) if isinstance(axis, tuple) else (axis % ndim,))
        kept = [d for d in range(ndim) if d not in axes]
        out_shape = tuple(1 if d in axes else shape[d] for d in range(ndim)) if keepdims else \
            tuple(shape[d] for d in kept)
        m = int(np.prod([shape[d] for d in kept], dtype=np.int64))
        r = int(np.prod([shape[d] for d in axes], dtype=np.int64))
        pointers, keep = [], []
        for (raw, typ, _), a in zip(self.ins, args):
            dtype = np.dtype(t_dtype if typ == "T" else _NAMED[typ])
            lined = np.ascontiguousarray(
                np.broadcast_to(np.asarray(a, dtype=dtype), shape).transpose(kept + list(axes)))
            keep.append(lined)
            pointers.append(lined.ctypes.data)
        (raw, typ, _), = self.outs
        out = np.empty(m, np.dtype(t_dtype if typ == "T" else _NAMED[typ]))
        pointers.append(out.ctypes.data)
        symbol, unit = self.unit(t_dtype if t_dtype is not None else np.float64)
        fn = _library.get(symbol, unit)
        fn((ctypes.c_void_p * len(pointers))(*pointers), (ctypes.c_longlong * 1)(0), m, r)
        return out.reshape(out_shape)


def precompile(kernels_and_types):
    """Compiles [(kernel, [T dtypes])] in one compiler run (the tests call this first: one run
    instead of one per kernel)."""
    units = {}
    for kernel, dtypes in kernels_and_types:
        for t_dtype in dtypes:
            symbol, unit = kernel.unit(t_dtype)
            units[symbol] = unit
    _library.build(units)


def module():
    """A stand-in for the cupy module: numpy plus the two kernel classes."""
    cp = types.ModuleType("host_cupy")
    cp.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    cp.ElementwiseKernel = ElementwiseKernel
    cp.ReductionKernel = ReductionKernel
    cp.asnumpy = np.asarray
    return cp


def cupyx_module():
    """cupyx's scatter_add (numpy's add.at)."""
    cupyx = types.ModuleType("host_cupyx")
    cupyx.scatter_add = lambda a, slices, value: np.add.at(a, slices, value)
    return cupyx


# ---- the same stand-in over device arrays: cuda.py as a device backend, end to end ----

class _OnDeviceArrays:
    """A kernel (ElementwiseKernel or ReductionKernel of this module) taking and returning
    device_double.DeviceArrays: arguments unwrapped (outputs are written in place through them),
    results wrapped."""

    def __init__(self, kernel):
        self.kernel = kernel

    def __call__(self, *args, **kwargs):
        from device_double import _unwrap, _wrap
        return _wrap(self.kernel(*_unwrap(args), **kwargs))


def device_module():
    """A cupy stand-in whose arrays are device_double.DeviceArrays (not numpy arrays), so that
    backends/cuda.py installed as cygrad's device backend takes every op's GPU path on the host:
    its kernels compiled by the host compiler, numpy doing the rest."""
    from device_double import DeviceArray, _Namespace, _unwrap, _wrap

    class DeviceCupy(_Namespace):
        ndarray = DeviceArray

        def __init__(self):
            super().__init__(np)
            self.cuda = types.SimpleNamespace(
                Device=lambda index=0: DeviceArray.device,
                is_available=lambda: True,
                runtime=types.SimpleNamespace(getDevice=lambda: 0, setDevice=lambda index: None,
                                              getDeviceCount=lambda: 1, deviceSynchronize=lambda: None))

        @staticmethod
        def ElementwiseKernel(*args, **kwargs):
            return _OnDeviceArrays(ElementwiseKernel(*args, **kwargs))

        @staticmethod
        def ReductionKernel(*args, **kwargs):
            return _OnDeviceArrays(ReductionKernel(*args, **kwargs))

        @staticmethod
        def asnumpy(a):
            return np.array(_unwrap(a), copy=True)

        @staticmethod
        def asarray(a, dtype=None):
            return a if isinstance(a, DeviceArray) and dtype in (None, a.dtype) else \
                DeviceArray(np.array(_unwrap(a), dtype=dtype))

        @staticmethod
        def array(a, copy=True, dtype=None):
            return DeviceArray(np.array(_unwrap(a), dtype=dtype, copy=True))

        @staticmethod
        def argsort(a, axis=-1, kind=None):   # cupy's sort is stable
            return _wrap(np.argsort(_unwrap(a), axis=axis, kind="stable"))

    cupyx = types.SimpleNamespace(
        scatter_add=lambda a, slices, value: np.add.at(_unwrap(a), _unwrap(slices), _unwrap(value)))
    return DeviceCupy(), cupyx


def compile_cuda_kernels(cuda, elementwise_kernels):
    """Builds every kernel of backends/cuda.py in one compiler run (with cuda.cp already set to
    a stand-in of this module): elementwise_kernels is cygrad._core.elementwise_kernels()."""
    types_of = {0: np.bool_, 2: np.int64, 3: np.float32, 4: np.float64}
    kernels = [(cuda._elementwise_kernel(key), [types_of[c] for c in codes])
               for key, _, _, _, codes in elementwise_kernels]
    kernels += [(cuda._helper(name), [np.float32, np.float64]) for name in cuda.HELPER_KERNELS]
    kernels += [(cuda._reduction(name), [np.int64] if name == "sum_int" else [np.float32, np.float64])
                for name in cuda.REDUCTION_KERNELS]
    precompile([(getattr(k, "kernel", k), dtypes) for k, dtypes in kernels])


@contextlib.contextmanager
def cuda_backend_installed():
    """backends/cuda.py over device_module(), installed as cygrad's device backend for the with
    block (every kernel compiled first)."""
    from cygrad import _core
    from cygrad.backends import cuda
    import device_double
    saved = {name: getattr(cuda, name) for name in
             ("cp", "xp", "array_type", "cupyx", "_kernels", "device_count")}
    previous = _core._device_backend()
    try:
        cuda.cp, cuda.cupyx = device_module()
        cuda.xp = cuda.cp
        cuda.array_type = device_double.DeviceArray
        cuda._kernels = {}
        cuda.device_count = lambda: 1
        compile_cuda_kernels(cuda, _core.elementwise_kernels())
        _core._set_device_backend(cuda)
        yield cuda
    finally:
        _core._set_device_backend(previous)
        for name, value in saved.items():
            setattr(cuda, name, value)
