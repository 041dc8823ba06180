# Shape ops. Most return views (numpy or cupy views of the same storage) that share the input's version
# counter, so an in-place write through a view invalidates what was saved from the base too.


cdef TensorBase _view_of(TensorBase x, object data):
    """A tensor over `data`, a view of x's storage."""
    cdef TensorBase out = _wrap(data, x._code)
    out._version_counter = x._get_version()
    out._view_version = out._version_counter.value
    out._base = x._base if x._base is not None else x
    return out


cdef tuple _infer_shape(object shape, int64_t numel):
    """A shape with at most one -1 resolved, with torch's error for an impossible shape."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    cdef list dims = [int(s) for s in shape]
    cdef int64_t known = 1
    cdef int infer_at = -1
    for i in range(len(dims)):
        if dims[i] == -1:
            if infer_at >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer_at = i
        elif dims[i] < 0:
            raise RuntimeError(f"invalid shape dimension {dims[i]}")
        else:
            known *= dims[i]
    if infer_at >= 0 and known != 0 and numel % known == 0:
        dims[infer_at] = numel // known
    elif known != numel or infer_at >= 0:
        raise RuntimeError(f"shape '{[('-1' if d == -1 else d) for d in dims]}' is invalid for input of size {numel}".replace("'-1'", "-1"))
    return tuple(dims)


cdef object _reshape_op(TensorBase x, tuple shape, str node_name="ViewBackward0"):
    """x with a new shape: a view when the strides allow, else a copy (torch's reshape).
    node_name is the name torch gives the op that asked (unsqueeze, squeeze, ...)."""
    if _shape(x._data) == shape and node_name == "ViewBackward0":
        return x
    cdef object data = x._data.reshape(shape)
    cdef TensorBase out = _view_of(x, data) if not data.flags.owndata else _wrap(data, x._code)
    cdef ViewBackward0 node
    if _records(x):
        node = ViewBackward0.__new__(ViewBackward0)
        node.node_name = node_name
        _connect1(node, x, out)
    return out


cdef object _view_op(TensorBase x, tuple shape):
    cdef object data
    try:
        data = _as_view(x._data, shape)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension "
            "spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    cdef TensorBase out = _view_of(x, data)
    cdef ViewBackward0 node
    if _records(x):
        node = ViewBackward0.__new__(ViewBackward0)
        node.node_name = "ViewBackward0"
        _connect1(node, x, out)
    return out


cdef class ViewBackward0(Node):
    """d reshape(x) = reshape(dy, x.shape)"""
    cdef str node_name

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        return (_reshape_op(<TensorBase>grads[0], self._input_shapes[0]),)


cdef object _permute_op(TensorBase x, tuple perm, str node_name="PermuteBackward0"):
    cdef int ndim = _ndim(x._data)
    if len(perm) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                           f"match the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{ndim} is not equal to len(dims) = {len(perm)}")
    cdef tuple dims = tuple([_wrap_dim(p, ndim) for p in perm])
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    cdef TensorBase out = _view_of(x, x._data.transpose(dims))
    cdef PermuteBackward0 node
    if _records(x):
        node = PermuteBackward0.__new__(PermuteBackward0)
        node.perm = dims
        node.node_name = node_name
        _connect1(node, x, out)
    return out


cdef class PermuteBackward0(Node):
    """d permute(x, p) = permute(dy, inverse(p))"""
    cdef tuple perm
    cdef str node_name

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        inverse = [0] * len(self.perm)
        for i, p in enumerate(self.perm):
            inverse[p] = i
        return (_permute_op(<TensorBase>grads[0], tuple(inverse), "PermuteBackward0"),)


cdef object _transpose_op(TensorBase x, object dim0, object dim1, str node_name="TransposeBackward0"):
    cdef int ndim = _ndim(x._data)
    if ndim == 0:
        _wrap_dim(dim0, ndim)
        _wrap_dim(dim1, ndim)
        return x
    cdef list perm = list(range(ndim))
    cdef int a = _wrap_dim(dim0, ndim), b = _wrap_dim(dim1, ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return _permute_op(x, tuple(perm), node_name)


cdef object _squeeze_op(TensorBase x, object dim):
    cdef tuple shape = _shape(x._data)
    cdef tuple dims = tuple(range(len(shape))) if dim is None else _reduction_dims(dim, len(shape))
    cdef tuple new_shape = tuple([shape[i] for i in range(len(shape)) if not (i in dims and shape[i] == 1)])
    return _reshape_op(x, new_shape, "SqueezeBackward0" if dim is None else "SqueezeBackward1")


cdef object _unsqueeze_op(TensorBase x, object dim):
    cdef tuple shape = _shape(x._data)
    cdef int d = _wrap_dim(dim, len(shape) + 1)
    return _reshape_op(x, shape[:d] + (1,) + shape[d:], "UnsqueezeBackward0")


cdef tuple _expanded_shape(tuple in_shape, tuple sizes, str type_name):
    """The shape a tensor of in_shape expands to for `sizes` (-1 keeps an existing dim), with
    torch's errors (type_name: the tensor's, as in "cygrad.FloatTensor")."""
    if len(sizes) < len(in_shape):
        raise RuntimeError(f"expand({type_name}{{{list(in_shape)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({len(in_shape)})")
    cdef int offset = len(sizes) - len(in_shape)
    cdef list target = [int(s) for s in sizes]
    for i in range(offset):
        if target[i] == -1:
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                               f"non-existing dimension {i}")
        if target[i] < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {target[i]}: {target}")
    for i in range(len(in_shape)):
        if target[offset + i] == -1:
            target[offset + i] = in_shape[i]
        elif in_shape[i] != target[offset + i] and (in_shape[i] != 1 or target[offset + i] < 0):
            if in_shape[i] == 1:
                raise RuntimeError(f"Trying to create tensor with negative dimension {target[offset + i]}: "
                                   f"{target}")
            raise RuntimeError(
                f"The expanded size of the tensor ({target[offset + i]}) must match the existing size "
                f"({in_shape[i]}) at non-singleton dimension {offset + i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(in_shape)}")
    return tuple(target)


cdef object _expand_op(TensorBase x, tuple shape):
    """x broadcast to shape (a read-only view); -1 keeps a dimension."""
    cdef tuple in_shape = _shape(x._data)
    cdef tuple final = _expanded_shape(in_shape, shape, _tensor_type_name(x))
    if final == in_shape:
        return x
    cdef TensorBase out = _view_of(x, _xp(x._data).broadcast_to(x._data, final))
    if _records(x):
        _connect1(ExpandBackward0.__new__(ExpandBackward0), x, out)
    return out


cdef str _tensor_type_name(TensorBase x):
    return f"cygrad.{_DTYPES[x._code].legacy_name}"


cdef class ExpandBackward0(Node):
    """d expand(x) = dy summed back to x's shape (done by the engine for every input)"""
    cdef tuple apply(self, list grads):
        return (grads[0],)


cdef bint _broadcasts_to(tuple shape, tuple target):
    """Whether a tensor of `shape` broadcasts to `target` (so a gradient of target sums to shape)."""
    if len(shape) > len(target):
        return False
    cdef int offset = len(target) - len(shape)
    for i in range(len(shape)):
        if shape[i] != 1 and shape[i] != target[offset + i]:
            return False
    return True


cdef object _sum_to(TensorBase grad, tuple shape):
    """grad summed over the dims that broadcasting added or stretched, reshaped to `shape`."""
    cdef tuple gshape = _shape(grad._data)
    cdef int offset = len(gshape) - len(shape)
    cdef list dims = list(range(offset))
    for i in range(len(shape)):
        if shape[i] == 1 and gshape[offset + i] != 1:
            dims.append(offset + i)
    cdef TensorBase summed = _sum_op(grad, tuple(dims), False, NO_DTYPE) if dims else grad
    return _reshape_op(summed, shape)


# ---- copies ----

cdef object _clone_op(TensorBase x):
    cdef TensorBase out = _wrap(_copy(x._data), x._code)
    if _records(x):
        _connect1(CloneBackward0.__new__(CloneBackward0), x, out)
    return out


cdef class CloneBackward0(Node):
    """d clone(x) = dy"""
    cdef tuple apply(self, list grads):
        return (grads[0],)


# ---- public functions ----

def reshape(input, *shape):
    return _reshape_op(input, _infer_shape(shape, _size((<TensorBase>input)._data)))

def view(input, *shape):
    return _view_op(input, _infer_shape(shape, _size((<TensorBase>input)._data)))

def permute(input, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return _permute_op(input, dims)

def transpose(input, dim0, dim1):
    return _transpose_op(input, dim0, dim1)

def t(input):
    cdef TensorBase x = input
    if _ndim(x._data) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {_ndim(x._data)}D")
    return _transpose_op(x, 0, 1, "TBackward0") if _ndim(x._data) == 2 else x

def squeeze(input, dim=None):
    return _squeeze_op(input, dim)

def unsqueeze(input, dim):
    return _unsqueeze_op(input, dim)

def expand(input, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return _expand_op(input, tuple(sizes))

def getitem(input, key):
    return _getitem_op(input, key)

def clone(input):
    return _clone_op(input)

def contiguous(input):
    cdef TensorBase x = input
    return x if _is_contiguous(x._data) else _clone_op(x)
