"""cygrad.Tensor: the compiled TensorBase plus the conveniences that do not need to be fast
(printing, conversion to Python and numpy, shape helpers, method spellings of the functions)."""
import numpy as np

from cygrad import _core
from cygrad._core import TensorBase
from cygrad._tensor_str import shows_dtype, tensor_repr
from cygrad.size import Size


class device:
    """A device, as torch.device: 'cpu', 'cuda' (the current GPU) or 'cuda:N'; also
    device('cuda', N) and device(N) for GPU N. GPUs are served by the CuPy backend
    (cygrad.cuda.is_available() says whether one can be used)."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        spec = str(type)
        kind, sep, number = spec.partition(":")
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of "
                               f"device string: {spec}")
        if sep:
            if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{spec}'")
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was passed "
                                   f"explicitly: {spec}")
            index = int(number)
        if index is not None:
            index = int(index)
            if index < 0:
                raise RuntimeError(f"Device index must not be negative")
        self.type = kind
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"


_Device = device   # for methods whose `device` parameter hides the class
_DEVICE_TYPES = ("cpu", "cuda")


def _device_index(spec):
    """-1 for the CPU, else the GPU index a device spec names ('cuda' is the current GPU); None
    for None."""
    if spec is None:
        return None
    d = spec if isinstance(spec, device) else device(spec)
    if d.type == "cpu":
        return -1
    if d.index is not None:
        return d.index
    from cygrad import cuda
    return cuda.current_device()


CPU = device("cpu")


class Tensor(TensorBase):
    """A multi-dimensional array with autograd, as torch.Tensor.

    `Tensor(data)` builds a float32 tensor from nested sequences; `Tensor(2, 3)` an uninitialized
    2x3 float32 tensor (prefer cygrad.tensor, which infers the dtype)."""

    # numpy defers binary operators to the tensor (np.float64(2) * t calls t.__rmul__)
    __array_priority__ = 1000

    def __new__(cls, *args):
        if len(args) == 1 and not isinstance(args[0], int):
            array = np.array(args[0], dtype=np.float32)
        else:
            array = np.empty(tuple(args) if args else (0,), dtype=np.float32)
        return _core._from_array(np.asarray(array, order="C"))

    # ---- metadata ----
    @property
    def shape(self):
        return Size(self._array.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[_core._wrap_dim_py(dim, self._array.ndim)]

    def stride(self, dim=None):
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[_core._wrap_dim_py(dim, self._array.ndim)]

    def is_contiguous(self):
        return self._array.flags.c_contiguous

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def element_size(self):
        return self._array.itemsize

    def data_ptr(self):
        if self._device_index < 0:
            return self._array.ctypes.data
        return _core._device_backend().data_address(self._array)

    @property
    def device(self):
        index = self._device_index
        return CPU if index < 0 else device("cuda", index)

    @property
    def is_cuda(self):
        return self._device_index >= 0

    @property
    def is_cpu(self):
        return self._device_index < 0

    def get_device(self):
        """-1 for a CPU tensor, else the index of its GPU (torch.Tensor.get_device)."""
        return self._device_index

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    # ---- conversion ----
    def _host_array(self):
        """The values as a numpy array: the storage itself on the CPU, a copy from a GPU."""
        return self._array if self._device_index < 0 else _core._to_host_array(self._array)

    def tolist(self):
        return self._host_array().tolist()

    def numpy(self, *, force=False):
        if self._device_index >= 0:
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return self._host_array()
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._array

    def __array__(self, dtype=None, copy=None):
        if self._device_index >= 0:
            self.numpy()   # torch's error: a GPU tensor is not implicitly copied to the host
        array = self._array
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __repr__(self, *, tensor_contents=None):
        suffixes = []
        if self._device_index >= 0:
            suffixes.append(f"device='{self.device}'")
        if shows_dtype(self._array.dtype, self._array.size):
            suffixes.append(f"dtype={self.dtype!r}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return tensor_repr(self._host_array(), suffixes=suffixes)

    def __format__(self, spec):
        if self.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """This tensor converted to a dtype and/or moved to a device: self when nothing changes
        (unless copy), else a copy that stays in the graph. to(dtype), to(device),
        to(device, dtype), to(other_tensor)."""
        for arg in args:
            if isinstance(arg, _core.DType):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            else:
                device = arg
        result = self
        index = _device_index(device)
        if index is not None and index != self._device_index:
            result = _core.to_device(result, index)
        if dtype is not None and dtype is not result.dtype:
            result = _core.to_dtype(result, dtype)
        return result.clone() if copy and result is self else result

    def cuda(self, device=None, non_blocking=False):
        """A copy on GPU `device` (default: the current one); self when it is there already."""
        if device is None or isinstance(device, int):
            device = _Device("cuda", device)
        return self.to(device)

    def cpu(self):
        return _core.to_device(self, -1)

    def type(self, dtype=None):
        if dtype is None:
            return f"torch.{self.dtype.legacy_name}"
        return self.to(dtype)

    def float(self):
        return self.to(_core.float32)

    def double(self):
        return self.to(_core.float64)

    def long(self):
        return self.to(_core.int64)

    def int(self):
        return self.to(_core.int32)

    def bool(self):
        return self.to(_core.bool_)

    # ---- methods that spell the functions ----
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return _core.sum_op(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return _core.mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        return _core.max_op(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _core.min_op(self, dim, keepdim)

    def softmax(self, dim, dtype=None):
        return _core.softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return _core.log_softmax(self, dim, dtype)

    def eq(self, other):
        return _core.eq(self, other)

    def ne(self, other):
        return _core.ne(self, other)

    def lt(self, other):
        return _core.lt(self, other)

    def le(self, other):
        return _core.le(self, other)

    def gt(self, other):
        return _core.gt(self, other)

    def ge(self, other):
        return _core.ge(self, other)

    def isnan(self):
        return _core.isnan(self)

    def isinf(self):
        return _core.isinf(self)

    def isfinite(self):
        return _core.isfinite(self)

    def logical_and(self, other):
        return _core.logical_and(self, other)

    def logical_or(self, other):
        return _core.logical_or(self, other)

    def logical_xor(self, other):
        return _core.logical_xor(self, other)

    def logical_not(self):
        return _core.logical_not(self)

    def bitwise_and(self, other):
        return _core.bitwise_and(self, other)

    def bitwise_or(self, other):
        return _core.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return _core.bitwise_xor(self, other)

    def bitwise_not(self):
        return _core.bitwise_not(self)

    def any(self, dim=None, keepdim=False):
        return _core.any_op(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _core.all_op(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _core.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _core.argmin(self, dim, keepdim)

    def sort(self, dim=-1, descending=False, *, stable=False):
        return _core.sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return _core.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _core.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _core.unique(self, sorted, return_inverse, return_counts, dim)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _core.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _core.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return _core.equal(self, other)

    def matmul(self, other):
        return _core.matmul(self, other)

    def mm(self, mat2):
        return _core.mm(self, mat2)

    def bmm(self, mat2):
        return _core.bmm(self, mat2)

    def reshape(self, *shape):
        return _core.reshape(self, *shape)

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], _core.DType):
            raise NotImplementedError("view(dtype) is not supported")
        return _core.view(self, *shape)

    def view_as(self, other):
        return _core.view(self, *other.shape)

    def reshape_as(self, other):
        return _core.reshape(self, *other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _core.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _core.unflatten(self, dim, sizes)

    def transpose(self, dim0, dim1):
        return _core.transpose(self, dim0, dim1)

    def t(self):
        return _core.t(self)

    def permute(self, *dims):
        return _core.permute(self, *dims)

    def squeeze(self, dim=None):
        return _core.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _core.unsqueeze(self, dim)

    def expand(self, *sizes):
        return _core.expand(self, *sizes)

    def expand_as(self, other):
        return _core.expand(self, *other.shape)

    def broadcast_to(self, size):
        return _core.broadcast_to(self, size)

    def repeat(self, *repeats):
        return _core.repeat(self, *repeats)

    def split(self, split_size, dim=0):
        return _core.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _core.chunk(self, chunks, dim)

    def narrow(self, dim, start, length):
        return _core.narrow(self, dim, start, length)

    def movedim(self, source, destination):
        return _core.movedim(self, source, destination)

    moveaxis = movedim

    def flip(self, *dims):
        return _core.flip(self, *dims)

    def roll(self, shifts, dims=None):
        return _core.roll(self, shifts, dims)

    # ---- indexing ----
    def index_select(self, dim, index):
        return _core.index_select(self, dim, index)

    def gather(self, dim, index, *, sparse_grad=False):
        return _core.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _core.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _core.scatter_(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return _core.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return _core.scatter_add_(self, dim, index, src)

    def masked_fill(self, mask, value):
        return _core.masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return _core.masked_fill_(self, mask, value)

    def take_along_dim(self, indices, dim=None):
        return _core.take_along_dim(self, indices, dim)

    def clone(self):
        return _core.clone(self)

    def contiguous(self):
        return _core.contiguous(self)

    # ---- math ops (_ops_math.pxi) ----
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return _core.prod(self, dim, keepdim, dtype=dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _core.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _core.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False):
        return _core.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _core.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim, *, dtype=None):
        return _core.cumsum(self, dim, dtype=dtype)

    def outer(self, vec2):
        return _core.outer(self, vec2)

    # ---- creation helpers as methods: self's dtype and device unless given ----
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from cygrad.creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from cygrad.creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from cygrad.creation import ones
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from cygrad.creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from cygrad.creation import empty
        return empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)


_core._register_tensor_type(Tensor)
