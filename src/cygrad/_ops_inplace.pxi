# In-place ops, with torch's rules: a leaf that requires grad may be written only under no_grad;
# every write bumps the storage's version counter (so backward refuses stale saved tensors); in a
# graph, the tensor's history is rebased onto a node for the op.


cdef void _check_inplace(TensorBase x) except *:
    if cg_grad_enabled and x._requires_grad and x._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if not _writeable(x._data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation.")


cdef void _check_result_fits(int result_code, TensorBase x) except *:
    if _category(result_code) > _category(x._code):
        raise RuntimeError(f"result type {_SCALAR_TYPE_NAMES[result_code]} can't be cast to the "
                           f"desired output type {_SCALAR_TYPE_NAMES[x._code]}")


cdef inline bint _records_inplace(TensorBase x, object other):
    return cg_grad_enabled and (x._requires_grad or _needs_grad(other))


cdef TensorBase _snapshot(TensorBase x):
    """A copy of x's current value that keeps x's place in the graph: what an in-place op's
    backward must see of x after x itself has been overwritten."""
    cdef TensorBase copy = _wrap(_copy(x._data), x._code)
    copy._grad_fn = x._grad_fn
    copy._output_nr = x._output_nr
    copy._requires_grad = x._requires_grad
    return copy


cdef void _check_rebase(TensorBase x) except *:
    """Checks, before an in-place write into x that will be recorded, that x's history can be
    rebased: for a view, its base's history is rebuilt too (_copy_slices), which torch refuses
    for a view of a leaf."""
    if x._base is None:
        return
    if x._base._requires_grad and x._base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if not _is_contiguous(x._base._data):
        raise NotImplementedError("in-place operations on a view of a non-contiguous tensor in a graph are "
                                  "not supported; make the base contiguous() first")


cdef void _rebase_history(TensorBase x, TensorBase result) except *:
    """Writes an out-of-place result into x and makes x the output of the result's node."""
    _check_rebase(x)
    _assign(x._data, result._data)
    x._bump_version()
    x._grad_fn = result._grad_fn
    x._output_nr = result._output_nr
    x._requires_grad = result._requires_grad
    if x._base is not None:
        _copy_slices(x)


cdef object _inplace_binary(TensorBase x, object other, _Kernel k):
    """x = x (op) other, in place."""
    other = _operand(other)
    _check_inplace(x)
    cdef int code = _result_code(x, other)
    if k is K_DIV:
        code = _float_code(code)
    _check_result_fits(code, x)
    cdef TensorBase source
    if _records_inplace(x, other):
        # mul and div save x for the other operand's gradient: give them x's value before the write
        source = _snapshot(x) if (k is K_MUL or k is K_DIV) and _needs_grad(other) else x
        if k is K_ADD:
            result = _add(source, other, 1)
        elif k is K_SUB:
            result = _sub(source, other)
        elif k is K_MUL:
            result = _mul(source, other)
        else:
            result = _div(source, other)
        _rebase_history(x, <TensorBase>result)
        return x
    _elementwise(k, code, (x._data, _data_or_number(other)), x._data)
    x._bump_version()
    return x


cdef object _inplace_fill(TensorBase x, object value):
    """Every element of x set to value."""
    _check_inplace(x)
    if isinstance(value, TensorBase):
        if _ndim((<TensorBase>value)._data) != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{(<TensorBase>value)._data.ndim} dimensions.")
        value = (<TensorBase>value)._data.item()
    cdef TensorBase zeros
    if cg_grad_enabled and x._requires_grad:
        zeros = _wrap(_full_on(x._data, _shape(x._data), value, x._code), x._code)
        _connect1(FillBackward0.__new__(FillBackward0), x, zeros)
        _rebase_history(x, zeros)
        return x
    x._data.fill(value)
    x._bump_version()
    return x


cdef class FillBackward0(Node):
    """d fill(x, v) = 0"""
    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        return (_wrap(_zeros_on(gy._data, _shape(gy._data), gy._code), gy._code),)


cdef object _inplace_copy(TensorBase x, object src):
    """x's elements replaced by src's (broadcast, converted to x's dtype)."""
    _check_inplace(x)
    cdef TensorBase source = _as_tensor_operand(src)
    if not _broadcasts_to(_shape(source._data), _shape(x._data)):
        raise RuntimeError(f"The size of tensor a ({_shape(x._data)[len(_shape(x._data)) - 1] if x._data.ndim else 1}) "
                           f"must match the size of tensor b ({_shape(source._data)[len(_shape(source._data)) - 1]}) "
                           f"at non-singleton dimension {x._data.ndim - 1}")
    cdef TensorBase result
    cdef CopyBackwards node
    if _records_inplace(x, source):
        result = _wrap(_empty_on(x._data, _shape(x._data), x._code), x._code)
        _assign(result._data, source._data)
        node = CopyBackwards.__new__(CopyBackwards)
        node.source_device = _device_index(source._data)
        _connect2(node, x, source, result)
        _rebase_history(x, result)
        return x
    _assign(x._data, source._data)   # across devices too, as torch's copy_
    x._bump_version()
    return x


cdef class CopyBackwards(Node):
    """d x.copy_(src) = 0 for x, dy for src (summed and converted to src by the engine, moved to
    src's device here)"""
    cdef int source_device

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        return (_wrap(_zeros_on(gy._data, _shape(gy._data), gy._code), gy._code),
                _to_device(gy, self.source_device))
