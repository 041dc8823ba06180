# Comparisons, logic and selection. Comparisons, logical and bitwise ops, isnan..., any/all,
# argmax/argmin, argsort and unique give bool or integer results and never record a graph (as in
# torch). sort and topk return values that are differentiable: the gradient of each value goes back
# to the position it was taken from (a scatter, whose own derivative is a gather, and back: so
# create_graph=True works through them to any order).

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


cdef TensorBase _tensor_arg(str fn, object value, str arg="input", int position=1):
    """value as a tensor, or torch's TypeError for an argument that must be one."""
    if not isinstance(value, TensorBase):
        raise TypeError(f"{fn}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")
    return <TensorBase>value


cdef inline bint _is_operand(object value):
    """Whether an operator accepts value as its other side: a tensor, or a Python or numpy number.
    Operators return NotImplemented for anything else, so `t == None` is False as in torch."""
    return isinstance(value, (TensorBase, int, float)) or (
        isinstance(value, np.generic) and value.dtype.kind in "biuf")


cdef object _other_arg(str fn, object value):
    if not _is_operand(value):
        raise TypeError(f"{fn}(): argument 'other' (position 2) must be Tensor or Number, not "
                        f"{type(value).__name__}")
    return value


# ---- comparisons ----

cdef TensorBase _compare(_Kernel k, object a, object b):
    """a <op> b as a bool tensor, compared in the dtype torch promotes a and b to (so a float32
    tensor meets a Python float in float32, an int64 tensor meets 2.5 in float32)."""
    a = _operand(a)
    b = _operand(b)
    return _wrap(_elementwise(k, _result_code(a, b), (_data_or_number(a), _data_or_number(b))), BOOL)


cdef TensorBase _compare_fn(_Kernel k, object input, object other):
    return _compare(k, _tensor_arg(k.name, input), _other_arg(k.name, other))


# ---- logic and bitwise ----

cdef TensorBase _logical(_Kernel k, object input, object other):
    """Truth values (nonzero, NaN included) combined by k; any dtypes, bool result."""
    cdef TensorBase a = _tensor_arg(k.name, input)
    cdef TensorBase b = _tensor_arg(k.name, other, "other", 2)
    return _wrap(_elementwise(k, _result_code(a, b), (a._data, b._data)), BOOL)


cdef TensorBase _logical_not(TensorBase x):
    return _wrap(_elementwise(K_LOGICAL_NOT, x._code, (x._data,)), BOOL)


cdef TensorBase _bitwise(_Kernel k, object a, object b):
    """a & b, a | b or a ^ b on bool or integer operands (bool & bool stays bool)."""
    a = _operand(a)
    b = _operand(b)
    cdef int code = _result_code(a, b)
    if _category(code) == 2:
        raise NotImplementedError(f'"{k.name}_cpu" not implemented for \'{_SCALAR_TYPE_NAMES[code]}\'')
    return _wrap(_elementwise(k, code, (_data_or_number(a), _data_or_number(b))), code)


cdef TensorBase _bitwise_not(TensorBase x):
    """~x: the logical not of a bool tensor, the bitwise not of an integer one."""
    if x._code == BOOL:
        return _logical_not(x)
    if _category(x._code) == 2:
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{_SCALAR_TYPE_NAMES[x._code]}\'')
    return _wrap(_elementwise(K_BITWISE_NOT, x._code, (x._data,)), x._code)


cdef TensorBase _invert(TensorBase x):
    if _category(x._code) == 2:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return _bitwise_not(x)


# ---- isnan, isinf, isfinite ----

cdef TensorBase _float_class(_Kernel k, object input, bint integers_answer):
    """k(x) for a floating tensor; integers and bools are never NaN nor infinite, so for them the
    answer is the same everywhere (integers_answer)."""
    cdef TensorBase x = _tensor_arg(k.name, input)
    if _category(x._code) != 2:
        return _wrap(_full_on(x._data, _shape(x._data), integers_answer, BOOL), BOOL)
    return _wrap(_elementwise(k, x._code, (x._data,)), BOOL)


# ---- any, all ----

cdef TensorBase _any_all(TensorBase x, object dim, bint keepdim, bint is_all):
    """Whether any (all, with is_all) element is true (nonzero; NaN is true) over dim."""
    cdef object truth = x._data if x._code == BOOL else _elementwise(K_NE, x._code, (x._data, 0))
    cdef tuple shape = _shape(truth)
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        # torch: an empty list of dims reduces nothing here (for sum it means every dim)
        return _wrap(truth.copy() if truth is x._data else truth, BOOL)
    cdef tuple dims = _reduction_dims(dim, len(shape))
    cdef object result
    if len(dims) == 0:  # a 0-d input
        result = truth.copy() if truth is x._data else truth
    else:
        result = _bool_reduce(truth, dims, is_all)
    if keepdim:
        result = _as_view(result, _kept_shape(shape, dims))
    return _wrap(result, BOOL)


# ---- argmax, argmin ----

cdef TensorBase _arg_extreme(TensorBase x, object dim, bint keepdim, bint is_max):
    """The index of the first max (min) along dim, or in the flattened tensor for dim=None.
    A NaN counts as the extreme (the first NaN wins), as in torch."""
    cdef str name = "argmax" if is_max else "argmin"
    if x._code == BOOL:
        raise RuntimeError(f"{name}(): does not support bool input")
    cdef object data = _cast(x._data, INT64) if x._code == INT32 else x._data
    cdef tuple shape = _shape(data)
    cdef int ndim = len(shape), d
    cdef object idx
    if dim is None:
        if _size(data) == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        _, idx = _extreme_dim(data.reshape(-1), 0, is_max)
        return _wrap(idx.reshape((1,) * ndim if keepdim else ()), INT64)
    d = _wrap_dim(dim, ndim)
    if ndim == 0:
        return _wrap(_zeros_on(x._data, (), INT64), INT64)
    if shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    _, idx = _extreme_dim(data, d, is_max)
    if keepdim:
        idx = _as_view(idx, _kept_shape(shape, (d,)))
    return _wrap(idx, INT64)


# ---- sort, argsort, topk ----

cdef tuple _sorted_arrays(TensorBase x, int d, int64_t k, bint descending):
    """(values in x's dtype, int64 indices): the first k elements of x sorted along d. bool and
    int32 sort as int64; a 0-d tensor sorts as its one element."""
    cdef object data = x._data
    cdef bint zero_dim = _ndim(data) == 0
    if zero_dim:
        data = data.reshape(1)
    cdef int code = INT64 if x._code == BOOL or x._code == INT32 else x._code
    values, indices = _sort_dim(_cast(data, code), d, k, descending)
    values = _cast(values, x._code)
    if zero_dim:
        return values.reshape(()), indices.reshape(())
    return values, indices


cdef tuple _select_sorted(TensorBase x, int d, int64_t k, bint descending, str node_name):
    """(values, indices) tensors of the first k elements of x sorted along d; the values carry
    a node that sends their gradient back to the indices they came from."""
    values, indices = _sorted_arrays(x, d, k, descending)
    cdef TensorBase out = _wrap(values, x._code)
    cdef SelectAlongDimBackward node
    if _records(x):
        node = SelectAlongDimBackward.__new__(SelectAlongDimBackward)
        node.node_name = node_name
        node.dim = d
        node.indices = indices
        _connect1(node, x, out)
        node._num_outputs = 2
    return out, _wrap(indices, INT64)


cdef class _AlongDimNode(Node):
    """A node that moves gradients between positions along dim given by an index array."""
    cdef int dim
    cdef object indices    # not a saved tensor: users never see (or write to) this array


cdef class SelectAlongDimBackward(_AlongDimNode):
    """d sort(x).values = dy put back at the index each value came from along dim (likewise topk)"""
    cdef str node_name

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        if len(self._input_shapes[0]) == 0:
            return (grads[0],)
        return (_scatter_selection(<TensorBase>grads[0], self.indices, self._input_shapes[0], self.dim),)


cdef TensorBase _scatter_selection(TensorBase g, object indices, tuple in_shape, int dim):
    """Zeros of in_shape with g added at `indices` along dim: the gradient of a selection along
    dim. Differentiable, so that create_graph=True can go through sort and topk."""
    cdef TensorBase out = _wrap(_select_backward(g._data, indices, in_shape, dim), g._code)
    cdef ScatterAlongDimBackward node
    if _records(g):
        node = ScatterAlongDimBackward.__new__(ScatterAlongDimBackward)
        node.dim = dim
        node.indices = indices
        _connect1(node, g, out)
    return out


cdef class ScatterAlongDimBackward(_AlongDimNode):
    """d scatter(g) = dy gathered from the same indices along dim"""
    def name(self):
        return "ScatterBackward0"

    cdef tuple apply(self, list grads):
        return (_gather_selection(<TensorBase>grads[0], self.indices, self.dim),)


cdef TensorBase _gather_selection(TensorBase g, object indices, int dim):
    """The elements of g at `indices` along dim (take_along_axis: data movement only)."""
    cdef TensorBase out = _wrap(_xp(g._data).take_along_axis(g._data, indices, axis=dim), g._code)
    cdef GatherAlongDimBackward node
    if _records(g):
        node = GatherAlongDimBackward.__new__(GatherAlongDimBackward)
        node.dim = dim
        node.indices = indices
        _connect1(node, g, out)
    return out


cdef class GatherAlongDimBackward(_AlongDimNode):
    """d gather(g) = dy added back at the same indices along dim"""
    def name(self):
        return "GatherBackward0"

    cdef tuple apply(self, list grads):
        return (_scatter_selection(<TensorBase>grads[0], self.indices, self._input_shapes[0], self.dim),)


cdef int64_t _dim_size(TensorBase x, int d):
    """The size of x along d (1 for a 0-d tensor, which sorts as one element)."""
    return _dim(x._data, d) if _ndim(x._data) > 0 else 1


# ---- unique ----

cdef object _unique(TensorBase x, bint return_inverse, bint return_counts):
    """The sorted distinct elements of the flattened x, with the inverse indices (x's shape) and
    the counts when asked, as torch.unique(dim=None)."""
    cdef int code = INT64 if x._code == BOOL or x._code == INT32 else x._code
    cdef object flat = _cast(x._data.reshape(-1), code)
    values, order = _sort_dim(flat, 0, _size(flat), False)
    distinct, inverse, counts = _unique_sorted(values, order, return_inverse, return_counts)
    cdef TensorBase out = _wrap(_cast(distinct, x._code), x._code)
    if not (return_inverse or return_counts):
        return out
    cdef list result = [out]
    if return_inverse:
        result.append(_wrap(inverse.reshape(_shape(x._data)), INT64))
    if return_counts:
        result.append(_wrap(counts, INT64))
    return tuple(result)


# ---- isclose, allclose, equal ----

cdef object _isclose(TensorBase a, TensorBase b, double rtol, double atol, bint equal_nan):
    """torch.isclose's formula, op for op: a == b, or (|a - b| finite and
    |a - b| <= atol + |rtol * b|), or both NaN when equal_nan. bool operands compute the tolerance
    part in the default float dtype, integers compare their exact difference against it."""
    if a._code != b._code:
        raise RuntimeError(f"{_SCALAR_TYPE_NAMES[a._code]} did not match {_SCALAR_TYPE_NAMES[b._code]}")
    cdef int code = a._code
    cdef object close = _elementwise(K_EQ, code, (a._data, b._data))
    if equal_nan and _category(code) == 2:
        both_nan = _elementwise(K_LOGICAL_AND, BOOL, (_elementwise(K_ISNAN, code, (a._data,)),
                                                      _elementwise(K_ISNAN, code, (b._data,))))
        close = _elementwise(K_LOGICAL_OR, BOOL, (close, both_nan))
    if rtol == 0 and atol == 0:
        return close
    cdef int tol_code = _float_code(code)                  # rtol * b promotes integers to float
    cdef int diff_code = tol_code if code == BOOL else code
    allowed = _elementwise(K_ADD, tol_code, (
        _elementwise(K_ABS, tol_code, (_elementwise(K_MUL, tol_code, (b._data, rtol)),)), atol))
    actual = _elementwise(K_ABS, diff_code, (_elementwise(K_SUB, diff_code, (a._data, b._data)),))
    within = _elementwise(K_LE, tol_code, (actual, allowed))
    if _category(diff_code) == 2:
        within = _elementwise(K_LOGICAL_AND, BOOL, (within, _elementwise(K_ISFINITE, diff_code, (actual,))))
    return _elementwise(K_LOGICAL_OR, BOOL, (close, within))


cdef bint _all_true(object truth) except -1:
    return _bool_reduce(truth.reshape(-1), (0,), True).item()


# ---- public functions (any/all are named *_op: the torch names would shadow builtins here) ----

def eq(input, other):
    return _compare_fn(K_EQ, input, other)

def ne(input, other):
    return _compare_fn(K_NE, input, other)

def lt(input, other):
    return _compare_fn(K_LT, input, other)

def le(input, other):
    return _compare_fn(K_LE, input, other)

def gt(input, other):
    return _compare_fn(K_GT, input, other)

def ge(input, other):
    return _compare_fn(K_GE, input, other)

def isnan(input):
    return _float_class(K_ISNAN, input, False)

def isinf(input):
    return _float_class(K_ISINF, input, False)

def isfinite(input):
    return _float_class(K_ISFINITE, input, True)

def logical_and(input, other):
    return _logical(K_LOGICAL_AND, input, other)

def logical_or(input, other):
    return _logical(K_LOGICAL_OR, input, other)

def logical_xor(input, other):
    return _logical(K_LOGICAL_XOR, input, other)

def logical_not(input):
    return _logical_not(_tensor_arg("logical_not", input))

def bitwise_and(input, other):
    return _bitwise(K_BITWISE_AND, _tensor_arg("bitwise_and", input), _other_arg("bitwise_and", other))

def bitwise_or(input, other):
    return _bitwise(K_BITWISE_OR, _tensor_arg("bitwise_or", input), _other_arg("bitwise_or", other))

def bitwise_xor(input, other):
    return _bitwise(K_BITWISE_XOR, _tensor_arg("bitwise_xor", input), _other_arg("bitwise_xor", other))

def bitwise_not(input):
    return _bitwise_not(_tensor_arg("bitwise_not", input))

def any_op(input, dim=None, keepdim=False):
    return _any_all(_tensor_arg("any", input), dim, keepdim, False)

def all_op(input, dim=None, keepdim=False):
    return _any_all(_tensor_arg("all", input), dim, keepdim, True)

def argmax(input, dim=None, keepdim=False):
    return _arg_extreme(_tensor_arg("argmax", input), dim, keepdim, True)

def argmin(input, dim=None, keepdim=False):
    return _arg_extreme(_tensor_arg("argmin", input), dim, keepdim, False)

def sort(input, dim=-1, descending=False, *, stable=False):
    """Sorted values and their indices along dim. Always stable (equal elements keep their order),
    so stable=False gives the stable=True result; NaN sorts as the greatest value."""
    cdef TensorBase x = _tensor_arg("sort", input)
    cdef int d = _wrap_dim(dim, _ndim(x._data))
    cdef str node_name = "SortBackward1" if stable else "SortBackward0"  # torch's names per overload
    return sort_result(*_select_sorted(x, d, _dim_size(x, d), descending, node_name))

def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim (stable, as sort)."""
    cdef TensorBase x = _tensor_arg("argsort", input)
    cdef int d = _wrap_dim(dim, _ndim(x._data))
    return _wrap(_sorted_arrays(x, d, _dim_size(x, d), descending)[1], INT64)

def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (smallest) elements along dim and their indices, in sorted order whatever
    `sorted` says (torch leaves the order unspecified then). Ties keep the lower index first."""
    cdef TensorBase x = _tensor_arg("topk", input)
    if x._code == BOOL:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    cdef int d = _wrap_dim(dim, _ndim(x._data))
    cdef int64_t count = k.__index__(), size = _dim_size(x, d)
    if count < 0 or count > size:
        raise RuntimeError("selected index k out of range")
    if _ndim(x._data) == 0:
        count = 1  # torch: a 0-d tensor's topk is the tensor itself, for k = 0 as for k = 1
    return topk_result(*_select_sorted(x, d, count, largest, "TopkBackward0"))

def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of the flattened input, always in ascending order (torch leaves the
    order unspecified for sorted=False); NaNs are each distinct, as in torch."""
    cdef TensorBase x = _tensor_arg("unique", input)
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not supported yet; cygrad's unique works on "
                                  "the flattened tensor (dim=None)")
    return _unique(x, return_inverse, return_counts)

def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _wrap(_isclose(_tensor_arg("isclose", input), _tensor_arg("isclose", other, "other", 2),
                          rtol, atol, equal_nan), BOOL)

def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of input is close to other's (isclose), as a Python bool."""
    return _all_true(_isclose(_tensor_arg("allclose", input), _tensor_arg("allclose", other, "other", 2),
                              rtol, atol, equal_nan))

def equal(input, other):
    """Whether input and other have the same shape and equal elements (NaN is never equal)."""
    cdef TensorBase a = _tensor_arg("equal", input)
    cdef TensorBase b = _tensor_arg("equal", other, "other", 2)
    if _shape(a._data) != _shape(b._data):
        return False
    return _all_true(_elementwise(K_EQ, _result_code(a, b), (a._data, b._data)))
