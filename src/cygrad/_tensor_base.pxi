# TensorBase: the compiled half of cygrad.Tensor. It holds the storage (a numpy ndarray, or a cupy
# ndarray on a GPU: views, strides and memory ownership are theirs), the autograd metadata and the
# hot methods (operators, the elementwise methods, backward). The Python class cygrad.Tensor adds
# the conveniences.
import warnings
from cpython.weakref cimport PyWeakref_NewRef, PyWeakref_GetObject
from cpython.object cimport PyObject


cdef class _VersionCounter:
    """Counts in-place writes to a storage; shared by every tensor that shares it through autograd
    (views, detach()), not by .data (as in torch)."""
    cdef long long value


cdef object _tensor_type = TensorBase  # replaced by cygrad.Tensor when cygrad/tensor.py loads


def _register_tensor_type(type cls):
    global _tensor_type
    if not issubclass(cls, TensorBase):
        raise TypeError("the tensor type must subclass TensorBase")
    _tensor_type = cls


cdef inline TensorBase _wrap(object data, int code):
    """A new tensor (no autograd history) over `data`, whose dtype code the caller knows."""
    cdef TensorBase t = TensorBase.__new__(_tensor_type)
    t._data = data
    t._code = code
    return t


cdef TensorBase _wrap_array(object data):
    """A new tensor over a numpy (or device) array of any dtype cygrad supports."""
    cdef int code = _array_code(data)
    if code == NO_DTYPE:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{data.dtype}. The only supported types are: "
            "float64, float32, int64, int32, and bool.")
    return _wrap(data, code)


def _from_array(object data, bint requires_grad=False):
    """A tensor sharing `data`'s memory, a numpy array or a device backend's array (cygrad's
    creation functions build on this)."""
    if not isinstance(data, ndarray) and _host(data):
        raise TypeError(f"expected np.ndarray (got {type(data).__name__})")
    cdef TensorBase t = _wrap_array(data)
    if requires_grad:
        t._set_requires_grad(True)
    return t


def _make_subclass(type cls, TensorBase data, bint requires_grad):
    """An instance of cls (a TensorBase subclass, e.g. nn.Parameter) over data's storage: a new
    leaf without history, as torch.Tensor._make_subclass."""
    if not issubclass(cls, TensorBase):
        raise TypeError(f"{cls.__name__} is not a Tensor subclass")
    cdef TensorBase t = TensorBase.__new__(cls)
    t._data = data._data
    t._code = data._code
    t._version_counter = data._get_version()
    t._set_requires_grad(requires_grad)
    return t


cdef class TensorBase:
    cdef object _data               # numpy ndarray, or the device backend's array (cupy.ndarray)
    cdef int _code
    cdef bint _requires_grad
    cdef Node _grad_fn
    cdef int _output_nr
    cdef TensorBase _grad
    cdef _VersionCounter _version_counter
    cdef object _accumulator_ref    # weakref to this leaf's AccumulateGrad node, while it lives
    cdef TensorBase _base           # the tensor this one is a view of (None if not a view)
    cdef long long _view_version    # a view's storage version when its history was last valid
    cdef bint _retains_grad
    cdef dict _hooks                  # register_hook: id -> fn
    cdef dict _post_accumulate_hooks  # register_post_accumulate_grad_hook: id -> fn
    cdef object __weakref__

    # ---- storage and metadata ----
    cdef _VersionCounter _get_version(self):
        if self._version_counter is None:
            self._version_counter = _VersionCounter.__new__(_VersionCounter)
        return self._version_counter

    cdef void _bump_version(self):
        cdef _VersionCounter counter = self._get_version()
        counter.value += 1
        if self._base is not None:
            self._view_version = counter.value  # a write through the view itself keeps it valid

    @property
    def _version(self):
        return 0 if self._version_counter is None else self._version_counter.value

    @property
    def dtype(self):
        return _DTYPES[self._code]

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _base(self):
        return self._base

    def _is_view(self):
        return self._base is not None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, bint value):
        self._set_requires_grad(value)

    cdef _set_requires_grad(self, bint value):
        if self._grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return
        if value and _category(self._code) != 2:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = value

    def requires_grad_(self, bint requires_grad=True):
        self._set_requires_grad(requires_grad)
        return self

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access "
                "the leaf Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        if not isinstance(value, TensorBase):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                            f"{type(value).__name__}")
        cdef TensorBase g = <TensorBase>value
        if g._code != self._code:
            raise RuntimeError("assigned grad has data of a different type")
        if _shape(g._data) != _shape(self._data):
            raise RuntimeError("assigned grad has data of a different size")
        self._grad = g

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad during backward (leaves always do)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self._grad_fn._retain_output(self._output_nr, self)

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed and may return a replacement."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = {}
        handle = _add_hook(self._hooks, hook)
        if self._grad_fn is not None:
            self._grad_fn._add_tensor_hooks(self._output_nr, self._hooks)
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after this leaf's .grad has been updated by backward."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        return _add_hook(self._post_accumulate_hooks, hook)

    @property
    def data(self):
        """The same storage without autograd history or version tracking (torch's .data)."""
        return _wrap(self._data, self._code)

    @data.setter
    def data(self, value):
        if not isinstance(value, TensorBase):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        cdef TensorBase other = <TensorBase>value
        if self._requires_grad and _category(other._code) != 2:
            raise RuntimeError("data set to a tensor that requires gradients must be floating point")
        self._data = other._data
        self._code = other._code

    def detach(self):
        """A new tensor sharing storage and version counter, outside the graph."""
        cdef TensorBase t = _wrap(self._data, self._code)
        t._version_counter = self._get_version()
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    def __hash__(self):
        return id(self)

    def __len__(self):
        if _ndim(self._data) == 0:
            raise TypeError("len() of a 0-d tensor")
        return _dim(self._data, 0)

    def numel(self):
        return _size(self._data)

    def dim(self):
        return _ndim(self._data)

    @property
    def ndim(self):
        return _ndim(self._data)

    def item(self):
        if _size(self._data) != 1:
            raise RuntimeError(f"a Tensor with {_size(self._data)} elements cannot be "
                               "converted to Scalar")
        return self._data.item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if _size(self._data) != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.item())

    def __index__(self):
        if _category(self._code) == 2 or _size(self._data) != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    # ---- autograd ----
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulates d(self)/d(leaf) into every leaf's .grad (torch.Tensor.backward)."""
        _backward((self,), (gradient,), retain_graph, create_graph, inputs)

    # ---- operators (Python numbers on either side) ----
    def __add__(self, other):
        return _add(self, other, 1)

    def __radd__(self, other):
        return _add(other, self, 1)

    def __sub__(self, other):
        return _sub(self, other)

    def __rsub__(self, other):
        return _sub(other, self)

    def __mul__(self, other):
        return _mul(self, other)

    def __rmul__(self, other):
        return _mul(other, self)

    def __truediv__(self, other):
        return _div(self, other)

    def __rtruediv__(self, other):
        return _div(other, self)

    def __pow__(self, exponent, modulo):
        return _pow(self, exponent)

    def __rpow__(self, base, modulo):
        return _pow(base, self)

    def __neg__(self):
        return _unary(U_NEG, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _unary(U_ABS, self)

    def __matmul__(self, other):
        return _matmul_op(self, _as_tensor_operand(other))

    def __rmatmul__(self, other):
        return _matmul_op(_as_tensor_operand(other), self)

    def __iadd__(self, other):
        return _inplace_binary(self, other, K_ADD)

    def __isub__(self, other):
        return _inplace_binary(self, other, K_SUB)

    def __imul__(self, other):
        return _inplace_binary(self, other, K_MUL)

    def __itruediv__(self, other):
        return _inplace_binary(self, other, K_DIV)

    # ---- comparison and bitwise operators: bool results (integer for & | ^ ~ on integers);
    # anything that is not a tensor or a number gives NotImplemented, so `t == None` is False.
    # __hash__ above stays identity-based, as torch's: tensors remain usable as dict keys.
    def __eq__(self, other):
        return _compare(K_EQ, self, other) if _is_operand(other) else NotImplemented

    def __ne__(self, other):
        return _compare(K_NE, self, other) if _is_operand(other) else NotImplemented

    def __lt__(self, other):
        return _compare(K_LT, self, other) if _is_operand(other) else NotImplemented

    def __le__(self, other):
        return _compare(K_LE, self, other) if _is_operand(other) else NotImplemented

    def __gt__(self, other):
        return _compare(K_GT, self, other) if _is_operand(other) else NotImplemented

    def __ge__(self, other):
        return _compare(K_GE, self, other) if _is_operand(other) else NotImplemented

    def __and__(self, other):
        return _bitwise(K_BITWISE_AND, self, other) if _is_operand(other) else NotImplemented

    def __rand__(self, other):
        return _bitwise(K_BITWISE_AND, other, self) if _is_operand(other) else NotImplemented

    def __or__(self, other):
        return _bitwise(K_BITWISE_OR, self, other) if _is_operand(other) else NotImplemented

    def __ror__(self, other):
        return _bitwise(K_BITWISE_OR, other, self) if _is_operand(other) else NotImplemented

    def __xor__(self, other):
        return _bitwise(K_BITWISE_XOR, self, other) if _is_operand(other) else NotImplemented

    def __rxor__(self, other):
        return _bitwise(K_BITWISE_XOR, other, self) if _is_operand(other) else NotImplemented

    def __invert__(self):
        return _invert(self)

    # ---- elementwise methods ----
    def add(self, other, *, alpha=1):
        return _add(self, other, alpha)

    def sub(self, other, *, alpha=1):
        return _sub(self, other if alpha == 1 else _mul(other, alpha))

    def mul(self, other):
        return _mul(self, other)

    def div(self, other):
        return _div(self, other)

    def pow(self, exponent):
        return _pow(self, exponent)

    def neg(self):
        return _unary(U_NEG, self)

    def abs(self):
        return _unary(U_ABS, self)

    def exp(self):
        return _unary(U_EXP, self)

    def log(self):
        return _unary(U_LOG, self)

    def sqrt(self):
        return _unary(U_SQRT, self)

    def sin(self):
        return _unary(U_SIN, self)

    def cos(self):
        return _unary(U_COS, self)

    def relu(self):
        return _unary(U_RELU, self)

    def sigmoid(self):
        return _unary(U_SIGMOID, self)

    def tanh(self):
        return _unary(U_TANH, self)

    # ---- in-place ----
    def add_(self, other, *, alpha=1):
        return _inplace_binary(self, other if alpha == 1 else _mul(other, alpha), K_ADD)

    def sub_(self, other, *, alpha=1):
        return _inplace_binary(self, other if alpha == 1 else _mul(other, alpha), K_SUB)

    def mul_(self, other):
        return _inplace_binary(self, other, K_MUL)

    def div_(self, other):
        return _inplace_binary(self, other, K_DIV)

    def zero_(self):
        return _inplace_fill(self, 0)

    def fill_(self, value):
        return _inplace_fill(self, value)

    def copy_(self, src):
        return _inplace_copy(self, src)

    # ---- math ops (_ops_math.pxi) ----
    def erf(self):
        return _unary(U_ERF, self)

    def log1p(self):
        return _unary(U_LOG1P, self)

    def expm1(self):
        return _unary(U_EXPM1, self)

    def rsqrt(self):
        return _unary(U_RSQRT, self)

    def reciprocal(self):
        return _unary(U_RECIPROCAL, self)

    def sign(self):
        return _unary(U_SIGN, self)

    def floor(self):
        return _rounding_op(U_FLOOR, self)

    def ceil(self):
        return _rounding_op(U_CEIL, self)

    def round(self, *, decimals=0):
        return _round_op(self, decimals)

    def clamp(self, min=None, max=None):
        return _clamp_op(self, min, max, None)

    def clip(self, min=None, max=None):
        return _clamp_op(self, min, max, None)

    def clamp_(self, min=None, max=None):
        return _clamp_inplace(self, min, max)

    def clip_(self, min=None, max=None):
        return _clamp_inplace(self, min, max)

    def clamp_min(self, min):
        return clamp_min(self, min)

    def clamp_max(self, max):
        return clamp_max(self, max)

    def maximum(self, other):
        return _extremum_op(self, other, True)

    def minimum(self, other):
        return _extremum_op(self, other, False)

    def where(self, condition, other):
        return _where_op(condition, self, other)

    # ---- indexing ----
    def __getitem__(self, key):
        return _getitem_op(self, key)

    def __setitem__(self, key, value):
        _setitem_op(self, key, value)

    @property
    def _array(self):
        """The array behind this tensor (no copy, no checks): a numpy array, or the device
        backend's array for a GPU tensor; for cygrad's Python layer."""
        return self._data

    # ---- devices and DLPack ----
    @property
    def _device_index(self):
        """-1 on the CPU, else the index of the GPU holding this tensor."""
        return _device_index(self._data)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Exports the storage as a DLPack capsule (zero-copy), as torch: the consumer then shares
        this tensor's memory."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        kwargs = {}
        if stream is not None:
            kwargs["stream"] = stream
        if max_version is not None:
            kwargs["max_version"] = max_version
        if dl_device is not None:
            kwargs["dl_device"] = dl_device
        if copy is not None:
            kwargs["copy"] = copy
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()
