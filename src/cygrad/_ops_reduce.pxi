# Reductions (sum, mean, max, min) and the softmax family.
from collections import namedtuple


cdef int _wrap_dim(object dim, int ndim) except -1:
    """dim in [0, ndim) from a possibly negative dim, with torch's IndexError when out of range.
    A 0-d tensor accepts dims -1 and 0, as in torch."""
    cdef int lo, hi, d
    if not isinstance(dim, int):
        dim = dim.__index__()
    d = dim
    hi = ndim - 1 if ndim > 0 else 0
    lo = -ndim if ndim > 0 else -1
    if d < lo or d > hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})")
    if ndim == 0:
        return 0  # (d + ndim would be -1 for dim=-1: the error value of this function)
    return d + ndim if d < 0 else d


cdef tuple _reduction_dims(object dim, int ndim):
    """The sorted distinct dims a reduction covers (all of them for None)."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    cdef tuple dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    cdef list wrapped = []
    cdef int d
    for item in dims:
        d = _wrap_dim(item, ndim)
        if ndim == 0:
            continue
        if d in wrapped:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        wrapped.append(d)
    return tuple(sorted(wrapped))


cdef tuple _kept_shape(tuple shape, tuple dims):
    """shape with every reduced dim set to 1 (the keepdim=True shape)."""
    return tuple([1 if i in dims else shape[i] for i in range(len(shape))])


cdef tuple _reduced_shape(tuple shape, tuple dims, bint keepdim):
    if keepdim:
        return _kept_shape(shape, dims)
    return tuple([shape[i] for i in range(len(shape)) if i not in dims])


cdef int64_t _count(tuple shape, tuple dims):
    cdef int64_t n = 1
    for d in dims:
        n *= <int64_t>shape[d]
    return n


cdef TensorBase _expand_grad(TensorBase gy, tuple in_shape, tuple dims, bint keepdim):
    """A reduction's output gradient laid back over the input's shape (a broadcast view)."""
    if not keepdim:
        gy = _reshape_op(gy, _kept_shape(in_shape, dims))
    return _expand_op(gy, in_shape)


cdef object _sum_op(TensorBase x, object dim, bint keepdim, int requested_code):
    cdef tuple shape = _shape(x._data)
    cdef tuple dims = _reduction_dims(dim, len(shape))
    cdef int code = requested_code if requested_code != NO_DTYPE else (x._code if _category(x._code) == 2 else INT64)
    cdef object result = _sum_axes(x._data, dims, code)
    if keepdim:
        result = _as_view(result, _kept_shape(shape, dims))
    cdef TensorBase out = _wrap(result, code)
    cdef SumBackward node
    if _records(x):
        node = SumBackward.__new__(SumBackward)
        node.dims = dims
        node.keepdim = keepdim
        _connect1(node, x, out)
    return out


cdef class SumBackward(Node):
    """d sum(x) = broadcast(dy) over the summed dims"""
    cdef tuple dims
    cdef bint keepdim

    def name(self):
        return "SumBackward1" if len(self.dims) < len(self._input_shapes[0]) else "SumBackward0"

    cdef tuple apply(self, list grads):
        return (_expand_grad(<TensorBase>grads[0], self._input_shapes[0], self.dims, self.keepdim),)


cdef object _mean_op(TensorBase x, object dim, bint keepdim, int requested_code):
    cdef int code = requested_code if requested_code != NO_DTYPE else x._code
    if _category(code) != 2:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_SCALAR_TYPE_NAMES[code]}")
    cdef tuple shape = _shape(x._data)
    cdef tuple dims = _reduction_dims(dim, len(shape))
    cdef int64_t n = _count(shape, dims)
    cdef object total = _sum_axes(x._data, dims, code)
    _elementwise(K_MUL, code, (total, 1.0 / n if n else float("nan")), total)
    if keepdim:
        total = _as_view(total, _kept_shape(shape, dims))
    cdef TensorBase out = _wrap(total, code)
    cdef MeanBackward node
    if _records(x):
        node = MeanBackward.__new__(MeanBackward)
        node.dims = dims
        node.keepdim = keepdim
        node.count = n
        _connect1(node, x, out)
    return out


cdef class MeanBackward(Node):
    """d mean(x) = broadcast(dy) / n"""
    cdef tuple dims
    cdef bint keepdim
    cdef int64_t count

    def name(self):
        return "MeanBackward1" if len(self.dims) < len(self._input_shapes[0]) else "MeanBackward0"

    cdef tuple apply(self, list grads):
        expanded = _expand_grad(<TensorBase>grads[0], self._input_shapes[0], self.dims, self.keepdim)
        return (_mul(expanded, 1.0 / self.count),)


def _wrap_dim_py(dim, int ndim):
    """_wrap_dim for the Python layer (size(dim), stride(dim))."""
    return _wrap_dim(dim, ndim)


# ---- max / min ----

max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


cdef void _check_no_double_backward(Node node, TensorBase gy) except *:
    """For nodes whose backward is a fused kernel with no derivative of its own: under
    create_graph (grad mode on inside backward), refuse rather than return a gradient that
    silently lacks its graph, when it would depend on dy or on an input that requires grad."""
    if not cg_grad_enabled:
        return
    if gy._requires_grad or any(edge[0] is not None for edge in node._next_edges):
        raise NotImplementedError(f"the derivative of {node.name()}'s backward is not implemented, so "
                                  "create_graph=True cannot differentiate through it yet")


cdef int _comparable_code(TensorBase x, str op_name) except -1:
    if x._code == BOOL or x._code == INT32:
        raise RuntimeError(f'"{op_name}" not implemented for \'{_SCALAR_TYPE_NAMES[x._code]}\'')
    return x._code


cdef object _extreme_op(TensorBase x, object dim, bint keepdim, bint is_max):
    cdef str name = "max" if is_max else "min"
    cdef int code = _comparable_code(x, name)
    cdef tuple shape = _shape(x._data)
    cdef ExtremeAllBackward all_node
    cdef ExtremeDimBackward dim_node
    cdef TensorBase out, indices
    cdef int d
    if dim is None:
        if _size(x._data) == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        values, _ = _extreme_dim(x._data.reshape(-1), 0, is_max)
        out = _wrap(values.reshape(()), code)
        if _records(x):
            all_node = ExtremeAllBackward.__new__(ExtremeAllBackward)
            all_node.is_max = is_max
            all_node.x = _save(x, False)
            all_node.result = _save(out, True)
            _connect1(all_node, x, out)
        return out
    d = _wrap_dim(dim, len(shape))
    if len(shape) == 0:
        values, idx = x._data.copy(), _zeros_on(x._data, (), INT64)
    else:
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        values, idx = _extreme_dim(x._data, d, is_max)
    if keepdim and len(shape) > 0:
        values = _as_view(values, _kept_shape(shape, (d,)))
        idx = _as_view(idx, _shape(values))
    out = _wrap(values, code)
    indices = _wrap(idx, INT64)
    if _records(x):
        dim_node = ExtremeDimBackward.__new__(ExtremeDimBackward)
        dim_node.is_max = is_max
        dim_node.dim = d
        dim_node.keepdim = keepdim
        dim_node.indices = idx
        _connect1(dim_node, x, out)
        dim_node._num_outputs = 2
    return (max_result if is_max else min_result)(out, indices)


cdef class ExtremeAllBackward(Node):
    """d max(x) = dy shared among the elements equal to the max (likewise min)"""
    cdef bint is_max
    cdef SavedTensor x, result

    def name(self):
        return "MaxBackward1" if self.is_max else "MinBackward1"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef TensorBase x = self.x.unpack(self)
        value = self.result.unpack(self)._data.item()
        if cg_grad_enabled and gy._requires_grad:
            # create_graph: the share of each tie (a constant) times dy, an op on dy
            return (_mul(_wrap(_extreme_backward(x._data, value, 1.0), gy._code), gy),)
        return (_wrap(_extreme_backward(x._data, value, gy._data.item()), gy._code),)

    cdef void release_saved(self):
        self.x.release()
        self.result.release()


cdef class ExtremeDimBackward(Node):
    """d max(x, dim) = dy at the returned index along dim, 0 elsewhere (likewise min)"""
    cdef bint is_max, keepdim
    cdef int dim
    cdef object indices    # not a saved tensor: it is never exposed to in-place writes by users

    def name(self):
        return "MaxBackward0" if self.is_max else "MinBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef TensorBase kept
        cdef tuple in_shape = self._input_shapes[0]
        if len(in_shape) == 0:
            return (gy,)
        if cg_grad_enabled and gy._requires_grad:
            # create_graph: the same scatter as an op, whose own backward gathers
            kept = gy if self.keepdim else <TensorBase>_unsqueeze_op(gy, self.dim)
            indices = self.indices if self.keepdim else self.indices.reshape(_shape(kept._data))
            return (_scatter_selection(kept, indices, in_shape, self.dim),)
        cdef object g = gy._data
        if self.keepdim:
            g = g.reshape(in_shape[:self.dim] + in_shape[self.dim + 1:])
        idx = self.indices.reshape(_shape(g))
        return (_wrap(_index_backward(g, idx, in_shape, self.dim), gy._code),)


# ---- softmax, log_softmax ----

cdef object _softmax_op(TensorBase x, object dim, bint log):
    cdef str name = "log_softmax" if log else "softmax"
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim'")
    if _category(x._code) != 2:
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for \'{_SCALAR_TYPE_NAMES[x._code]}\'')
    cdef int ndim = _ndim(x._data)
    cdef int d = _wrap_dim(dim, ndim)
    cdef object data = x._data if ndim > 0 else x._data.reshape(1)
    cdef object y = _softmax_family(LOG_SOFTMAX_FWD if log else SOFTMAX_FWD, data, None, d)
    cdef TensorBase out = _wrap(y.reshape(_shape(x._data)) if ndim == 0 else y, x._code)
    cdef SoftmaxBackward node
    if _records(x):
        node = SoftmaxBackward.__new__(SoftmaxBackward)
        node.log = log
        node.dim = d
        node.y = _save(out, True)
        _connect1(node, x, out)
    return out


cdef class SoftmaxBackward(Node):
    """softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - exp(y) sum(dy)   (sums along dim)"""
    cdef bint log
    cdef int dim
    cdef SavedTensor y

    def name(self):
        return "LogSoftmaxBackward0" if self.log else "SoftmaxBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef TensorBase y_tensor = self.y.unpack(self)
        if cg_grad_enabled:
            # create_graph: the same formulas from ops, so they can be differentiated again
            if self.log:
                return (_sub(gy, _mul(_unary(U_EXP, y_tensor), _sum_op(gy, self.dim, True, NO_DTYPE))),)
            return (_mul(y_tensor, _sub(gy, _sum_op(_mul(gy, y_tensor), self.dim, True, NO_DTYPE))),)
        cdef object y = y_tensor._data
        cdef tuple shape = _shape(y)
        if len(shape) == 0:
            y = y.reshape(1)
        cdef object gx = _softmax_family(LOG_SOFTMAX_BWD if self.log else SOFTMAX_BWD, y,
                                         gy._data.reshape(_shape(y)), self.dim)
        return (_wrap(gx.reshape(shape), gy._code),)

    cdef void release_saved(self):
        self.y.release()


# ---- public functions (named *_op where the torch name would shadow a Python builtin inside
# this module; cygrad/__init__.py exports them under torch's names) ----

def sum_op(input, dim=None, keepdim=False, *, dtype=None):
    return _sum_op(input, dim, keepdim, _optional_code(dtype))

def mean(input, dim=None, keepdim=False, *, dtype=None):
    return _mean_op(input, dim, keepdim, _optional_code(dtype))

def max_op(input, dim=None, keepdim=False):
    return _extreme_op(input, dim, keepdim, True)

def min_op(input, dim=None, keepdim=False):
    return _extreme_op(input, dim, keepdim, False)

def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = _to_code(input, _optional_code(dtype))
    return _softmax_op(input, dim, False)

def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = _to_code(input, _optional_code(dtype))
    return _softmax_op(input, dim, True)
