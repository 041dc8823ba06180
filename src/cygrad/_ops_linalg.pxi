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
    cdef int na = cnp.PyArray_NDIM(a._data), nb = cnp.PyArray_NDIM(b._data)
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
    if cnp.PyArray_NDIM(a._data) != 2:
        raise RuntimeError("self must be a matrix")
    if cnp.PyArray_NDIM(b._data) != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_matmul_dtypes(a, b)
    return _matmul_nd(a, b)

def bmm(input, mat2):
    cdef TensorBase a = input, b = mat2
    if cnp.PyArray_NDIM(a._data) != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if cnp.PyArray_NDIM(b._data) != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor")
    if _shape(a._data)[0] != _shape(b._data)[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_shape(a._data)[0]}, {_shape(a._data)[2]}] but got: [{_shape(b._data)[0]}, {_shape(b._data)[1]}].")
    _check_matmul_dtypes(a, b)
    return _matmul_nd(a, b)
