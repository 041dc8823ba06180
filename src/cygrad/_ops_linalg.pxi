# Matrix products. One batched kernel call path (_matmul in the backend) serves mm, bmm and every
# broadcast case of matmul; 1-D operands are lifted to matrices with (differentiable) reshapes, as
# torch defines them. A transposed operand is passed by strides, never copied.

cdef str _c_type_name(int code):
    return ("bool", "int", "long", "float", "double")[code]


cdef void _check_matmul_dtypes(TensorBase a, TensorBase b) except *:
    if a._code != b._code:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_c_type_name(a._code)} != {_c_type_name(b._code)}")
    if a._code != INT64 and _category(a._code) != 2:
        raise RuntimeError(f'"addmm_impl_cpu_" not implemented for \'{_SCALAR_TYPE_NAMES[a._code]}\'')


cdef object _matmul_op(TensorBase a, TensorBase b):
    cdef int na = _ndim(a._data), nb = _ndim(b._data)
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    _check_matmul_dtypes(a, b)
    if na == 1 and nb == 1:
        if _shape(a._data)[0] != _shape(b._data)[0]:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{_shape(a._data)[0]}] and src "
                f"[{_shape(b._data)[0]}] to have the same number of elements, but got "
                f"{_shape(a._data)[0]} and {_shape(b._data)[0]} elements respectively")
        return _reshape_op(_matmul_nd(_unsqueeze_op(a, 0), _unsqueeze_op(b, 1)), ())
    if na == 1:
        return _squeeze_op(_matmul_nd(_unsqueeze_op(a, 0), b), -2)
    if nb == 1:
        return _squeeze_op(_matmul_nd(a, _unsqueeze_op(b, 1)), -1)
    return _matmul_nd(a, b)


cdef object _matmul_nd(TensorBase a, TensorBase b):
    """a @ b for operands of >= 2 dims whose batch dims broadcast."""
    cdef tuple sa = _shape(a._data), sb = _shape(b._data)
    if sa[len(sa) - 1] != sb[len(sb) - 2]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_prod(sa, 0, len(sa) - 1)}x{sa[len(sa) - 1]} "
            f"and {sb[len(sb) - 2]}x{sb[len(sb) - 1]})")
    cdef tuple batch = _broadcast_shapes(sa[:len(sa) - 2], sb[:len(sb) - 2])
    cdef tuple out_shape = batch + (sa[len(sa) - 2], sb[len(sb) - 1])
    cdef TensorBase out = _wrap(_matmul(a._data, b._data, out_shape, a._code), a._code)
    cdef MatmulBackward node
    if _records(a) or _records(b):
        node = MatmulBackward.__new__(MatmulBackward)
        node.a = _save(a, False) if _needs_grad(b) else None
        node.b = _save(b, False) if _needs_grad(a) else None
        _connect2(node, a, b, out)
    return out


cdef class MatmulBackward(Node):
    """d(a @ b) = dy @ b^T da + a^T @ dy db   (broadcast batch dims are summed by the engine)"""
    cdef SavedTensor a, b

    def name(self):
        return "MmBackward0" if len(self._input_shapes[0]) == 2 and len(self._input_shapes[1]) == 2 else "BmmBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        ga = _matmul_nd(gy, _transpose_op(self.b.unpack(self), -1, -2)) if self.b is not None else None
        gb = _matmul_nd(_transpose_op(self.a.unpack(self), -1, -2), gy) if self.a is not None else None
        return (ga, gb)

    cdef void release_saved(self):
        if self.a is not None:
            self.a.release()
        if self.b is not None:
            self.b.release()


# ---- public functions ----

def matmul(input, other):
    return _matmul_op(_as_tensor_operand(input), _as_tensor_operand(other))

def mm(input, mat2):
    cdef TensorBase a = input, b = mat2
    if _ndim(a._data) != 2:
        raise RuntimeError("self must be a matrix")
    if _ndim(b._data) != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_matmul_dtypes(a, b)
    return _matmul_nd(a, b)

def bmm(input, mat2):
    cdef TensorBase a = input, b = mat2
    if _ndim(a._data) != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if _ndim(b._data) != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor")
    if _shape(a._data)[0] != _shape(b._data)[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_shape(a._data)[0]}, {_shape(a._data)[2]}] but got: [{_shape(b._data)[0]}, {_shape(b._data)[1]}].")
    _check_matmul_dtypes(a, b)
    return _matmul_nd(a, b)


# ---- linear: x @ W.T + b with the bias added inside the product (nn.Linear's path) ----

cdef object _linear_op(TensorBase x, TensorBase weight, object bias):
    if x._code != weight._code:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_SCALAR_TYPE_NAMES[x._code]} and {_SCALAR_TYPE_NAMES[weight._code]}")
    if _category(x._code) != 2:
        raise RuntimeError(f'"addmm_impl_cpu_" not implemented for \'{_SCALAR_TYPE_NAMES[x._code]}\'')
    if _ndim(weight._data) != 2 or _ndim(x._data) == 0:
        return _add(_matmul_op(x, _transpose_op(weight, 0, -1)), bias, 1) if bias is not None \
            else _matmul_op(x, _transpose_op(weight, 0, -1))
    cdef tuple shape = _shape(x._data)
    cdef int64_t in_features = _dim(weight._data, 1), out_features = _dim(weight._data, 0)
    if shape[len(shape) - 1] != in_features:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_prod(shape, 0, len(shape) - 1)}x{shape[len(shape) - 1]} "
            f"and {in_features}x{out_features})")
    cdef TensorBase b = None
    if bias is not None:
        b = <TensorBase>bias
        if _shape(b._data) != (out_features,) or b._code != x._code:
            return _add(_matmul_op(x, _transpose_op(weight, 0, 1)), bias, 1)
    cdef object rows = x._data.reshape(-1, in_features)
    cdef object out = _linear_forward(rows, weight._data, None if b is None else b._data, x._code)
    cdef TensorBase result = _wrap(out.reshape(shape[:len(shape) - 1] + (out_features,)), x._code)
    cdef LinearBackward node
    if _records(x) or _records(weight) or _records(b):
        node = LinearBackward.__new__(LinearBackward)
        node.x = _save(x, False) if _needs_grad(weight) else None
        node.weight = _save(weight, False) if _needs_grad(x) else None
        node._next_edges = (_edge_to(x), _edge_to(weight), _edge_to(b))
        node._input_shapes = (shape, _shape(weight._data), _shape_of(b))
        node._input_codes = (x._code, weight._code, _code_of(b))
        node._num_outputs = 1
        result._grad_fn = node
        result._requires_grad = True
    return result


cdef class LinearBackward(Node):
    """d(x W^T + b) = dy W dx + dy^T x dW + sum_rows(dy) db   (rows: every dim but the last)"""
    cdef SavedTensor x, weight

    def name(self):
        return "AddmmBackward0" if len(self._input_shapes[0]) == 2 and self._next_edges[2][0] is not None else "LinearBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef int64_t out_features = self._input_shapes[1][0], in_features = self._input_shapes[1][1]
        cdef TensorBase rows_gy = _reshape_op(gy, (_prod(_shape(gy._data), 0, _ndim(gy._data) - 1), out_features))
        gx = gw = gb = None
        if self.weight is not None:
            gx = _reshape_op(_matmul_nd(rows_gy, self.weight.unpack(self)), self._input_shapes[0])
        if self.x is not None:
            x = self.x.unpack(self)
            rows_x = _reshape_op(x, (_prod(_shape(x._data), 0, _ndim(x._data) - 1), in_features))
            gw = _matmul_nd(_transpose_op(rows_gy, 0, 1), rows_x)
        if self._next_edges[2][0] is not None:
            gb = _sum_op(rows_gy, (0,), False, NO_DTYPE)
        return (gx, gw, gb)

    cdef void release_saved(self):
        if self.x is not None:
            self.x.release()
        if self.weight is not None:
            self.weight.release()


def linear(input, weight, bias=None):
    """torch.nn.functional.linear: input @ weight.T + bias."""
    return _linear_op(input, weight, bias)
