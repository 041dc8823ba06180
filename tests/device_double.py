"""A host-memory stand-in for the CUDA backend, to run cygrad's device paths without a GPU.

Its arrays (DeviceArray) wrap numpy arrays but are not numpy arrays, so cygrad's dispatch
(_backend.pxi) routes every primitive on them to this backend, exactly as it routes cupy arrays
to backends/cuda.py; the primitives then run the CPU backend (cygrad._core.cpu_backend) on the
wrapped arrays. Like a cupy array, a DeviceArray refuses to become a numpy array implicitly
(np.asarray raises), so an op that still reaches for numpy on a GPU tensor's storage fails here
the way it would fail on a GPU. What this double cannot check is CuPy itself and the CUDA kernel
formulas: tests/test_cuda_kernels.py compiles those on the host.
"""
import contextlib
import types

import numpy as np

from cygrad import _core


class _Device:
    """cupy.cuda.Device's part that cygrad uses: an id, usable as a context manager."""

    id = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _unwrap(obj):
    if isinstance(obj, DeviceArray):
        return obj._a
    if isinstance(obj, tuple):
        return tuple(_unwrap(o) for o in obj)
    if isinstance(obj, list):
        return [_unwrap(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, np.ndarray):
        return DeviceArray(obj)
    if isinstance(obj, np.generic):   # cupy returns 0-d arrays where numpy returns scalars
        return DeviceArray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class DeviceArray:
    """An array "on the GPU": the array API cygrad's ops use on storage, over a numpy array."""

    __slots__ = ("_a", "__weakref__")
    device = _Device()

    def __init__(self, array):
        assert isinstance(array, np.ndarray)
        self._a = array

    # metadata
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    flags = property(lambda self: self._a.flags)

    @property
    def base(self):
        return None if self._a.base is None else self._a.base

    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, shape):   # cupy's: a reshape without copy, or AttributeError
        self._a.shape = shape

    @property
    def T(self):
        return DeviceArray(self._a.T)

    @property
    def data(self):
        """cupy's MemoryPointer, as far as its address goes."""
        return types.SimpleNamespace(ptr=self._a.ctypes.data)

    # views and copies
    def reshape(self, *shape):
        return DeviceArray(self._a.reshape(*shape))

    def transpose(self, *axes):
        return DeviceArray(self._a.transpose(*axes))

    def astype(self, dtype, copy=True):
        return DeviceArray(self._a.astype(dtype, copy=copy))

    def copy(self, order="C"):
        return DeviceArray(self._a.copy(order=order))

    def view(self, dtype=None):
        return DeviceArray(self._a.view() if dtype is None else self._a.view(dtype))

    # reductions and arithmetic (what backends/cuda.py does with cupy arrays)
    def sum(self, *args, **kwargs):
        return _wrap(self._a.sum(*args, **_unwrap(kwargs)))

    def any(self, *args, **kwargs):
        return _wrap(self._a.any(*args, **kwargs))

    def all(self, *args, **kwargs):
        return _wrap(self._a.all(*args, **kwargs))

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __iadd__(self, other):
        self._a += _unwrap(other)
        return self

    def nonzero(self):
        return _wrap(self._a.nonzero())

    def item(self):
        return self._a.item()

    def fill(self, value):
        self._a.fill(value)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray) and value.ndim > 0:
            raise TypeError("a host array assigned into a device array (cupy needs cupy.asarray)")
        self._a[_unwrap(key)] = _unwrap(value)

    def _binary(name):
        def method(self, other):
            return _wrap(getattr(self._a, name)(_unwrap(other)))
        return method

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                  "__rtruediv__", "__pow__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
                  "__and__", "__or__"):
        locals()[_name] = _binary(_name)
    del _name, _binary
    __hash__ = None

    def __neg__(self):
        return DeviceArray(-self._a)

    def __invert__(self):
        return DeviceArray(~self._a)

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (a device array)")

    def __repr__(self):
        return f"DeviceArray({self._a!r})"


class _Namespace:
    """numpy's functions over DeviceArrays (the part of cupy's namespace ops use for data
    movement): arguments unwrapped, array results wrapped."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if callable(attr):
            def call(*args, **kwargs):
                return _wrap(attr(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))
            return call
        return _Namespace(attr)


class DeviceDouble:
    """The device backend: what _backend.pxi and cygrad.cuda ask of backends/cuda.py."""

    array_type = DeviceArray
    xp = _Namespace(np)

    def __init__(self):
        for name in _core.BACKEND_PRIMITIVES:
            if not hasattr(type(self), name):
                setattr(self, name, self._forward(getattr(_core.cpu_backend, name)))

    @staticmethod
    def _forward(fn):
        def primitive(*args):
            return _wrap(fn(*_unwrap(args)))
        return primitive

    # availability (cygrad.cuda)
    def is_available(self):
        return True

    def device_count(self):
        return 1

    def load(self):
        return self

    def current_device(self):
        return 0

    def set_device(self, index):
        pass

    def synchronize(self, index=None):
        pass

    def get_device_name(self, index=None):
        return "host-memory device double"

    # devices
    def device_index(self, a):
        return 0

    def use_device(self, index):
        assert index == 0

    def to_device(self, a, index):
        if index != 0:
            raise RuntimeError("CUDA error: invalid device ordinal")
        return a if isinstance(a, DeviceArray) else DeviceArray(np.array(a, copy=True))

    # storage primitives whose device semantics differ from the CPU's
    def copy(self, a):
        return DeviceArray(a._a.copy(order="C"))

    def contiguous(self, a):
        return a if a._a.flags.c_contiguous else self.copy(a)

    def assign(self, dst, src):
        if isinstance(dst, DeviceArray):
            dst._a[...] = _unwrap(src)
        else:
            dst[...] = np.array(_unwrap(src), copy=True) if isinstance(src, DeviceArray) else src

    def writeable(self, a):
        # as a cupy array: no read-only flag, so a broadcast view is refused by its strides
        return all(stride != 0 or size <= 1 for stride, size in zip(a._a.strides, a._a.shape))

    def to_host(self, a):
        return np.array(a._a, copy=True)


@contextlib.contextmanager
def installed():
    """The double as cygrad's device backend for the duration of a with block."""
    previous = _core._device_backend()
    double = DeviceDouble()
    _core._set_device_backend(double)
    try:
        yield double
    finally:
        _core._set_device_backend(previous)
