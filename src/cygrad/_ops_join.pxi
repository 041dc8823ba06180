# Joining and shape ops: cat, stack, split, chunk, repeat, flatten, unflatten, flip, roll, narrow,
# movedim, broadcast_to. Forwards only move data (views and copies, no arithmetic); each
# backward is made of ops (slices, cat, sums), so it is differentiable again.


cdef Node _connect_many(Node node, list inputs, TensorBase out):
    """Wires a node with any number of inputs between `inputs` and `out`; returns the node."""
    node._next_edges = tuple([_edge_to(t) for t in inputs])
    node._input_shapes = tuple([_shape_of(t) for t in inputs])
    node._input_codes = tuple([_code_of(t) for t in inputs])
    node._num_outputs = 1
    out._grad_fn = node
    out._requires_grad = True
    return node


cdef list _tensor_list(object tensors, str op):
    if isinstance(tensors, TensorBase):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    cdef list items = list(tensors)
    for i in range(len(items)):
        if not isinstance(items[i], TensorBase):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(items[i]).__name__}")
    return items


cdef int _common_code(list tensors):
    cdef int code = NO_DTYPE
    for t in tensors:
        code = _promote(code, (<TensorBase>t)._code)
    return code


cdef object _slice_along(TensorBase x, int dim, int64_t start, int64_t stop):
    """x[..., start:stop, ...] along dim (a differentiable view)."""
    return _getitem_op(x, (slice(None),) * dim + (slice(start, stop),))


# ---- cat, stack ----

cdef object _cat_op(object tensors, object dim):
    cdef list items = _tensor_list(tensors, "cat")
    if not items:
        raise ValueError("cygrad.cat(): expected a non-empty list of Tensors")
    cdef int code = _common_code(items)
    # torch's legacy rule: 1-d empty tensors are left out, whatever the shapes of the others
    cdef list kept = [t for t in items if _shape((<TensorBase>t)._data) != (0,)]
    if not kept:
        kept = items[:1]
    cdef tuple ref = _shape((<TensorBase>kept[0])._data), shape
    for i in range(len(items)):
        if _ndim((<TensorBase>items[i])._data) == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    cdef int d = _wrap_dim(dim, len(ref))
    cdef list sizes = []   # per input: its size along d, -1 for a left-out empty tensor
    for i in range(len(items)):
        shape = _shape((<TensorBase>items[i])._data)
        if shape == (0,) and ref != (0,):
            sizes.append(-1)
            continue
        if len(shape) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} and {len(shape)}")
        for k in range(len(ref)):
            if k != d and shape[k] != ref[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref[k]} but got size {shape[k]} for tensor number {i} in the list.")
        sizes.append(shape[d])
    cdef list arrays = [(<TensorBase>items[i])._data for i in range(len(items)) if sizes[i] >= 0]
    _check_one_device(arrays)
    cdef object data = _xp(arrays[0]).concatenate(arrays, axis=d, dtype=_dtype_of_code(code).numpy_dtype)
    return _join_result(items, data, code, d, sizes, False)


cdef object _stack_op(object tensors, object dim):
    cdef list items = _tensor_list(tensors, "stack")
    if not items:
        raise RuntimeError("stack expects a non-empty TensorList")
    cdef tuple ref = _shape((<TensorBase>items[0])._data), shape
    for i in range(1, len(items)):
        shape = _shape((<TensorBase>items[i])._data)
        if shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 "
                               f"and {list(shape)} at entry {i}")
    cdef int d = _wrap_dim(dim, len(ref) + 1)
    cdef int code = _common_code(items)
    cdef list arrays = [(<TensorBase>t)._data for t in items]
    _check_one_device(arrays)
    cdef object data = _xp(arrays[0]).stack(arrays, axis=d, dtype=_dtype_of_code(code).numpy_dtype)
    return _join_result(items, data, code, d, [1] * len(items), True)


cdef void _check_one_device(list arrays) except *:
    """torch's error when the tensors to join are not all on one device."""
    cdef int first = _device_index(arrays[0]), k
    for a in arrays:
        k = _device_index(a)
        if k != first:
            _raise_mixed_devices(first, k)


cdef object _join_result(list items, object data, int code, int d, list sizes, bint stack):
    cdef TensorBase out = _wrap(data, code)
    cdef JoinBackward node
    for t in items:
        if _records(t):
            node = JoinBackward.__new__(JoinBackward)
            node.dim = d
            node.sizes = sizes
            node.stack = stack
            _connect_many(node, items, out)
            break
    return out


cdef class JoinBackward(Node):
    """d cat(xs, dim) = the slices of dy along dim, one per input; d stack(xs, dim) = dy selected
    at each index along dim"""
    cdef int dim
    cdef list sizes
    cdef bint stack

    def name(self):
        return "StackBackward0" if self.stack else "CatBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef list out = []
        cdef int64_t start = 0, size
        for i in range(len(self.sizes)):
            size = self.sizes[i]
            if self._next_edges[i][0] is None:
                out.append(None)
            elif self.stack:
                out.append(_getitem_op(gy, (slice(None),) * self.dim + (i,)))
            elif size < 0:   # a left-out empty input
                out.append(_wrap(_zeros_on(gy._data, (0,), gy._code), gy._code))
            else:
                out.append(_slice_along(gy, self.dim, start, start + size))
            if size > 0:
                start += size
        return tuple(out)


# ---- split, chunk ----

cdef tuple _split_op(TensorBase x, object split_size_or_sections, object dim):
    cdef int ndim = _ndim(x._data)
    if ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    cdef int d = _wrap_dim(dim, ndim)
    cdef int64_t size = _dim(x._data, d), step, count
    cdef list sizes
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but "
                               f"got split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
        return _split_sizes(x, d, sizes, "SplitWithSizesBackward0")
    step = split_size_or_sections
    if step < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
    if step == 0 and size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
    count = max((size + step - 1) // step, 1) if step > 0 else 1
    sizes = [step] * count
    sizes[count - 1] = size - step * (count - 1)
    return _split_sizes(x, d, sizes, "SplitBackward0")


cdef tuple _chunk_op(TensorBase x, int64_t chunks, object dim):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    cdef int ndim = _ndim(x._data)
    if ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    cdef int d = _wrap_dim(dim, ndim)
    cdef int64_t size = _dim(x._data, d)
    cdef int64_t step = (size + chunks - 1) // chunks
    if step == 0:  # an empty dim gives `chunks` empty pieces
        return _split_sizes(x, d, [0] * chunks, "SplitWithSizesBackward0")
    return _split_op(x, step, d)


cdef tuple _split_sizes(TensorBase x, int d, list sizes, str node_name):
    """Views of x along d with the given sizes, all outputs of one node."""
    cdef SplitBackward node = None
    if _records(x):
        node = SplitBackward.__new__(SplitBackward)
        node.dim = d
        node.sizes = sizes
        node.node_name = node_name
        node._next_edges = (_edge_to(x),)
        node._input_shapes = (_shape(x._data),)
        node._input_codes = (x._code,)
        node._num_outputs = len(sizes)
    cdef list outputs = []
    cdef int64_t start = 0
    cdef TensorBase piece
    cdef tuple prefix = (slice(None),) * d
    for i in range(len(sizes)):
        piece = _view_of(x, x._data[prefix + (slice(start, start + sizes[i]),)])
        if node is not None:
            piece._grad_fn = node
            piece._output_nr = i
            piece._requires_grad = True
        outputs.append(piece)
        start += sizes[i]
    return tuple(outputs)


cdef class SplitBackward(Node):
    """d split(x) = cat of the pieces' gradients along dim (zeros for pieces without one)"""
    cdef int dim
    cdef list sizes
    cdef str node_name

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        cdef TensorBase first = <TensorBase>next(g for g in grads if g is not None)
        cdef int code = first._code
        cdef list shape = list(self._input_shapes[0])
        cdef list pieces = []
        for i in range(len(self.sizes)):
            if grads[i] is not None:
                pieces.append(grads[i])
            else:
                shape[self.dim] = self.sizes[i]
                pieces.append(_wrap(_zeros_on(first._data, tuple(shape), code), code))
        return (_cat_op(pieces, self.dim),)


# ---- repeat ----

cdef object _repeat_op(TensorBase x, tuple repeats):
    cdef tuple shape = _shape(x._data)
    if len(repeats) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    cdef tuple padded = (1,) * (len(repeats) - len(shape)) + shape
    cdef list out_shape = [int(r) * s for r, s in zip(repeats, padded)]
    for s in out_shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out_shape}")
    # x as (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...), copied: that is the repeat
    cdef tuple interleaved = sum([(1, s) for s in padded], ())
    cdef tuple expanded = sum([(int(r), s) for r, s in zip(repeats, padded)], ())
    cdef object tiled = _copy(_xp(x._data).broadcast_to(x._data.reshape(interleaved), expanded))
    cdef TensorBase out = _wrap(tiled.reshape(tuple(out_shape)), x._code)
    cdef RepeatBackward node
    if _records(x):
        node = RepeatBackward.__new__(RepeatBackward)
        node.expanded = expanded
        _connect1(node, x, out)
    return out


cdef class RepeatBackward(Node):
    """d repeat(x) = dy seen as (r0, s0, r1, s1, ...) summed over the repeat axes"""
    cdef tuple expanded

    def name(self):
        return "RepeatBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef tuple repeat_axes = tuple(range(0, len(self.expanded), 2))
        summed = _sum_op(_reshape_op(gy, self.expanded), repeat_axes, False, NO_DTYPE)
        return (_reshape_op(summed, self._input_shapes[0]),)


# ---- flatten, unflatten, narrow, movedim ----

cdef object _flatten_op(TensorBase x, object start_dim, object end_dim):
    cdef tuple shape = _shape(x._data)
    if len(shape) == 0:
        return _reshape_op(x, (1,))
    cdef int s = _wrap_dim(start_dim, len(shape)), e = _wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    return _reshape_op(x, shape[:s] + (_prod(shape, s, e + 1),) + shape[e + 1:])


cdef object _unflatten_op(TensorBase x, object dim, object sizes):
    cdef tuple shape = _shape(x._data)
    cdef int d = _wrap_dim(dim, len(shape))
    cdef list wanted = [int(s) for s in sizes]
    if not wanted:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if wanted.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    cdef int64_t size = shape[d] if shape else 1, known = 1
    for s in wanted:
        if s != -1:
            known *= s
    if -1 in wanted and known != 0 and size % known == 0:
        wanted[wanted.index(-1)] = size // known
    elif -1 in wanted or known != size:
        raise RuntimeError(f"unflatten: Provided sizes {[int(s) for s in sizes]} don't multiply up to the "
                           f"size of dim {d} ({size}) in the input tensor")
    return _reshape_op(x, shape[:d] + tuple(wanted) + shape[d + 1:])


cdef object _narrow_op(TensorBase x, object dim, object start, object length):
    cdef int ndim = _ndim(x._data)
    if ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    cdef int d = _wrap_dim(dim, ndim)
    cdef int64_t size = _dim(x._data, d)
    cdef int64_t first = start.__index__(), count = length.__index__()
    if first < -size or first > size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {first})")
    if first < 0:
        first += size
    if count < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if first + count > size:
        raise RuntimeError(f"start ({first}) + length ({count}) exceeds dimension size ({size}).")
    return _slice_along(x, d, first, first + count)


cdef object _movedim_op(TensorBase x, object source, object destination):
    cdef list src = list(source) if isinstance(source, (tuple, list)) else [source]
    cdef list dst = list(destination) if isinstance(destination, (tuple, list)) else [destination]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should "
                           f"contain the same number of dims as destination ({dst} dims)")
    cdef int ndim = _ndim(x._data)
    cdef list ws = [_wrap_dim(s, ndim) for s in src], wd = [_wrap_dim(s, ndim) for s in dst]
    if len(set(ws)) != len(ws):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(wd)) != len(wd):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if ndim == 0:
        return x
    cdef list perm = [-1] * ndim
    for s, t in zip(ws, wd):
        perm[t] = s
    rest = iter([i for i in range(ndim) if i not in ws])
    for i in range(ndim):
        if perm[i] < 0:
            perm[i] = next(rest)
    return _permute_op(x, tuple(perm))


# ---- flip, roll ----

cdef object _flip_op(TensorBase x, tuple dims):
    cdef int ndim = _ndim(x._data)
    cdef list wrapped = []
    cdef int d
    for item in dims:
        d = _wrap_dim(item, ndim)
        if d in wrapped:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        wrapped.append(d)
    cdef object view = x._data
    if ndim > 0:
        view = x._data[tuple([slice(None, None, -1) if i in wrapped else slice(None)
                              for i in range(ndim)])]
    cdef TensorBase out = _wrap(_copy(view), x._code)
    cdef FlipBackward node
    if _records(x):
        node = FlipBackward.__new__(FlipBackward)
        node.dims = tuple(wrapped)
        _connect1(node, x, out)
    return out


cdef class FlipBackward(Node):
    """d flip(x, dims) = flip(dy, dims)"""
    cdef tuple dims

    def name(self):
        return "FlipBackward0"

    cdef tuple apply(self, list grads):
        return (_flip_op(<TensorBase>grads[0], self.dims),)


cdef object _roll_op(TensorBase x, object shifts, object dims):
    cdef tuple amounts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    cdef tuple axes = () if dims is None else (tuple(dims) if isinstance(dims, (tuple, list)) else (dims,))
    cdef int ndim = _ndim(x._data)
    if (len(axes) == 0 and len(amounts) != 1) or (len(axes) > 0 and len(axes) != len(amounts)):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(amounts)}, dims:{len(axes)}")
    amounts = tuple([a.__index__() for a in amounts])
    axes = tuple([_wrap_dim(a, ndim) for a in axes])
    # numpy's roll copies (no arithmetic on the data); with no dims it rolls the flattened tensor
    cdef object data = _xp(x._data).roll(x._data, amounts[0] if not axes else amounts,
                                         axis=None if not axes or ndim == 0 else axes)
    data = _contiguous(data)
    cdef TensorBase out = _wrap(data, x._code)
    cdef RollBackward node
    if _records(x):
        node = RollBackward.__new__(RollBackward)
        node.shifts = amounts
        node.dims = axes
        _connect1(node, x, out)
    return out


cdef class RollBackward(Node):
    """d roll(x, shifts, dims) = roll(dy, -shifts, dims)"""
    cdef tuple shifts, dims

    def name(self):
        return "RollBackward0"

    cdef tuple apply(self, list grads):
        return (_roll_op(<TensorBase>grads[0], tuple([-s for s in self.shifts]), self.dims),)


# ---- public functions ----

def cat(tensors, dim=0):
    return _cat_op(tensors, dim)

def stack(tensors, dim=0):
    return _stack_op(tensors, dim)

def split(tensor, split_size_or_sections, dim=0):
    return _split_op(tensor, split_size_or_sections, dim)

def chunk(input, chunks, dim=0):
    return _chunk_op(input, chunks, dim)

def repeat(input, *repeats):
    if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
        repeats = tuple(repeats[0])
    return _repeat_op(input, tuple(repeats))

def flatten(input, start_dim=0, end_dim=-1):
    return _flatten_op(input, start_dim, end_dim)

def unflatten(input, dim, sizes):
    return _unflatten_op(input, dim, sizes)

def narrow(input, dim, start, length):
    return _narrow_op(input, dim, start, length)

def movedim(input, source, destination):
    return _movedim_op(input, source, destination)

def flip(input, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return _flip_op(input, tuple(dims))

def roll(input, shifts, dims=None):
    return _roll_op(input, shifts, dims)

def broadcast_to(input, size):
    return _expand_op(input, tuple(size))
