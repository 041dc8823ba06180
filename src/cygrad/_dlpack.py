"""DLPack: tensors shared with numpy, torch, CuPy and other libraries without a copy.

cygrad.from_dlpack(obj) takes anything with __dlpack__ / __dlpack_device__ (a torch tensor, a
numpy or CuPy array...) or a legacy DLPack capsule, and returns a tensor over the same memory:
writes on either side are seen on the other. Tensor.__dlpack__ exports the other way (the core
delegates to the storage's own __dlpack__)."""
import ctypes

import numpy as np

from cygrad import _core

# DLDeviceType values (dlpack.h)
_DL_CPU, _DL_CUDA, _DL_CUDA_HOST = 1, 2, 3


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLTensorHead(ctypes.Structure):
    """The first fields of DLTensor (data pointer, device): enough to read a capsule's device."""
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice)]


class _Capsule:
    """A legacy 'dltensor' capsule (torch.utils.dlpack.to_dlpack's) behind the __dlpack__ protocol,
    which numpy and CuPy consume."""

    def __init__(self, capsule):
        get_name = ctypes.pythonapi.PyCapsule_GetName
        get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
        if get_name(capsule) != b"dltensor":
            raise ValueError("from_dlpack() expects an unconsumed 'dltensor' capsule (a capsule "
                             "can be consumed once)")
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        # a DLManagedTensor starts with its DLTensor
        head = _DLTensorHead.from_address(get_pointer(capsule, b"dltensor"))
        self._device = (head.device.device_type, head.device.device_id)
        self._capsule = capsule

    def __dlpack_device__(self):
        return self._device

    def __dlpack__(self, stream=None, **kwargs):
        return self._capsule


def from_dlpack(ext_tensor):
    """A tensor sharing ext_tensor's memory (torch.from_dlpack): on the CPU for host memory, on
    the GPU (CuPy backend) for CUDA memory."""
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack() expects an object with __dlpack__ or a DLPack capsule, "
                        f"not {type(ext_tensor).__name__}")
    if isinstance(ext_tensor, _core.TensorBase):
        return ext_tensor.detach()
    device_type, _ = ext_tensor.__dlpack_device__()
    if device_type in (_DL_CPU, _DL_CUDA_HOST):
        array = np.from_dlpack(ext_tensor)
    elif device_type == _DL_CUDA:
        from cygrad.backends import cuda
        array = cuda.from_dlpack(ext_tensor)
    else:
        raise RuntimeError(f"from_dlpack(): unsupported device type {int(device_type)} (cygrad has "
                           "the CPU and CUDA)")
    return _core._from_array(array)
