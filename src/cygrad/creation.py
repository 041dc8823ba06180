"""Functions that create tensors (torch.tensor, zeros, arange, randn, ...).

numpy allocates and fills here (allocation is numpy's job in cygrad); the math of ops never
runs through numpy. A GPU tensor (device="cuda") is filled on the host and copied over once, so
random tensors hold the same values on every device under one manual_seed."""
import math

import numpy as np

from cygrad import _core
from cygrad.random import numpy_generator
from cygrad.tensor import _device_index

_BY_NUMPY_KIND = {"f": _core.float32, "i": _core.int64, "u": _core.int64, "b": _core.bool_}


def _size(size):
    """A shape from f(2, 3), f((2, 3)) or f([2, 3])."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for dim in size:
        if not isinstance(dim, int) and not hasattr(dim, "__index__"):
            raise TypeError(f"size must be a sequence of ints, got {type(dim).__name__}")
    size = tuple(int(d) for d in size)
    if any(d < 0 for d in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    return size


def _check_device(device):
    """The device index a device argument names (-1: the CPU, the default)."""
    index = _device_index(device)
    return -1 if index is None else index


def _make(array, dtype, requires_grad, device=None):
    array = np.asarray(array, dtype=dtype.numpy_dtype, order="C")
    index = _check_device(device)
    if index >= 0:
        array = _core._array_to_device(array, index)
    return _core._from_array(array, requires_grad)


def _default_float(dtype):
    return _core.float32 if dtype is None else dtype


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of data. Python floats give float32, ints int64, bools bool;
    a numpy array keeps its dtype; a tensor keeps its dtype and device."""
    _check_device(device)
    if isinstance(data, _core.TensorBase):
        if device is None:
            device = data.device
        array = np.array(data._host_array())
    else:
        keep_numpy_dtype = isinstance(data, (np.ndarray, np.generic))
        array = np.array(data)
        if dtype is None and not keep_numpy_dtype:
            kind = array.dtype.kind
            if kind not in _BY_NUMPY_KIND and array.dtype != object:
                raise TypeError(f"Could not infer dtype of {type(data).__name__}")
            if array.size == 0 and kind == "f":
                dtype = _core.float32
            else:
                dtype = _BY_NUMPY_KIND.get(kind)
                if dtype is None:
                    raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if dtype is None:
        dtype = _from_numpy_dtype(array.dtype)
    return _make(np.array(array, dtype=dtype.numpy_dtype, copy=True), dtype, requires_grad, device)


def _from_numpy_dtype(numpy_dtype):
    for d in (_core.float32, _core.float64, _core.int64, _core.int32, _core.bool_):
        if d.numpy_dtype == numpy_dtype:
            return d
    raise TypeError(f"can't convert np.ndarray of type numpy.{numpy_dtype}. The only supported types "
                    "are: float64, float32, int64, int32, and bool.")


def from_numpy(array):
    """A tensor sharing array's memory and dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return _core._from_array(array)


def as_tensor(data, dtype=None, device=None):
    """data as a tensor, sharing memory when it already is one (or a numpy array) of that dtype."""
    _check_device(device)
    if isinstance(data, _core.TensorBase):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtype.numpy_dtype == data.dtype):
        return from_numpy(data).to(device=device)
    return tensor(data, dtype=dtype, device=device)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    dtype = _default_float(dtype)
    return _make(np.zeros(_size(size), dtype=dtype.numpy_dtype), dtype, requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    dtype = _default_float(dtype)
    return _make(np.ones(_size(size), dtype=dtype.numpy_dtype), dtype, requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    dtype = _default_float(dtype)
    return _make(np.empty(_size(size), dtype=dtype.numpy_dtype), dtype, requires_grad, device)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return _core.bool_
    if isinstance(value, int):
        return _core.int64
    return _core.float32


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if isinstance(fill_value, _core.TensorBase):
        fill_value = fill_value.item()
    dtype = dtype or _scalar_dtype(fill_value)
    return _make(np.full(_size((size,)), fill_value, dtype=dtype.numpy_dtype), dtype, requires_grad,
                 device)


# the *_like functions create on input's device unless told otherwise, as torch's

def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return zeros(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return ones(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    return empty(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values start, start + step, ... below end: int64 when all arguments are ints, else float32."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, _core.TensorBase) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        all_ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = _core.int64 if all_ints else _core.float32
    count = max(0, math.ceil((end - start) / step))
    values = start + np.arange(count, dtype=np.float64 if dtype.is_floating_point else np.int64) * step
    return _make(values, dtype, requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """steps values evenly spaced from start to end, both included (torch's symmetric formula)."""
    dtype = _default_float(dtype)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    index = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    half = steps // 2
    values = np.where(index < half, start + index * step, end - (steps - 1 - index) * step)
    if steps == 1:
        values[0] = start
    return _make(values, dtype, requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    dtype = _default_float(dtype)
    return _make(np.eye(n, n if m is None else m, dtype=dtype.numpy_dtype), dtype, requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    dtype = _default_float(dtype)
    values = numpy_generator(generator).random(_size(size), dtype=dtype.numpy_dtype)
    return _make(values, dtype, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    dtype = _default_float(dtype)
    values = numpy_generator(generator).standard_normal(_size(size), dtype=dtype.numpy_dtype)
    return _make(values, dtype, requires_grad, device)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high): randint(high, size) or randint(low, high, size)."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dtype = dtype or _core.int64
    values = numpy_generator(generator).integers(low, high, size=_size((size,)))
    return _make(values, dtype, requires_grad, device)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1."""
    dtype = dtype or _core.int64
    return _make(numpy_generator(generator).permutation(n), dtype, requires_grad, device)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    return rand(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    return randn(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)
