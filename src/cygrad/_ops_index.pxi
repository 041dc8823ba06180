# Indexing ops: x[key] (basic and advanced), x[key] = v, index_select, gather, scatter,
# scatter_add, masked_fill and take_along_dim.
#
# Every gather has a scatter for its backward and the other way round, and both are ops (with
# nodes), so gradients of gradients (create_graph=True) flow through indexing too. Scatters that
# can hit one position several times (x[[0, 0]], gather with repeated indices) accumulate in the
# backward through the scatter-add kernel: a numpy `gx[idx] = gy` would keep only the last write.


# ---- x[key]: the index plan ----

cdef enum _PartKind:
    PART_NONE, PART_ELLIPSIS, PART_SLICE, PART_INT, PART_BOOL, PART_ARRAY, PART_MASK


cdef class _IndexPlan:
    """How x[key] reads x, decided once from x's shape and the key. First a numpy view by the basic
    part of the key (integers, slices, None); then, when the key has advanced parts (integer arrays,
    masks), one gather along the indexed dims of that view, flattened into the middle axis r of an
    (outer, r, inner) view: out[o, j, i] = view[o, lin[j], i]. A node keeps its plan, so the
    backward scatters through exactly the positions the forward read."""
    cdef tuple basic           # numpy index of the basic part (ends with Ellipsis), or None
    cdef tuple perm            # None, or the permutation of the view putting the indexed dims first
    cdef int64_t outer, r, inner, n
    cdef ndarray lin           # (n,) int64 positions along r, on the host whatever x's device;
                               # None for basic indexing (a view)
    cdef tuple result_shape
    cdef str node_name         # torch's name for the backward of this indexing


cdef tuple _index_parts(object key):
    """The key as a tuple of parts. A list holding a sequence, slice, Ellipsis, None or tensor is a
    tuple of parts (torch still honours this, with a deprecation warning); other lists are one
    index array."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, list) and len(key) < 32:
        for item in key:
            if item is None or item is Ellipsis or isinstance(item, (slice, list, tuple, TensorBase, ndarray)):
                warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated "
                              "(in torch too); use x[tuple(seq)] instead of x[seq].", UserWarning, stacklevel=1)
                return tuple(key)
    return (key,)


cdef tuple _classify_part(object part):
    """(kind, value) of one part of a key: the int, the slice, the bool, or the numpy array
    (integer for PART_ARRAY, bool for PART_MASK)."""
    if part is None:
        return (PART_NONE, None)
    if part is Ellipsis:
        return (PART_ELLIPSIS, None)
    if isinstance(part, slice):
        if part.step is not None and part.step <= 0:
            raise ValueError("step must be greater than zero")
        return (PART_SLICE, part)
    if isinstance(part, (bool, np.bool_)):
        return (PART_BOOL, bool(part))
    if isinstance(part, (int, np.integer)):
        return (PART_INT, int(part))
    cdef ndarray a
    if isinstance(part, TensorBase):
        a = _to_host((<TensorBase>part)._data)   # index plans are made on the host
    elif isinstance(part, ndarray):
        a = part
    elif not _host(part):
        a = _to_host(part)
    elif isinstance(part, (list, tuple)):
        a = np.asarray(part)
        if cnp.PyArray_SIZE(a) == 0:
            a = a.astype(np.int64)  # an empty list is an empty index, as in torch
    else:
        raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         f"Variables are valid indices (got {type(part).__name__})")
    if a.dtype.kind == "b":
        return (PART_BOOL, bool(a)) if cnp.PyArray_NDIM(a) == 0 else (PART_MASK, a)
    if a.dtype.kind in "iu":
        # a 0-d integer tensor selects, like an int (torch does the same)
        return (PART_INT, int(a)) if cnp.PyArray_NDIM(a) == 0 else (PART_ARRAY, a)
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


cdef _IndexPlan _plan_index(tuple shape, object key):
    """The plan of x[key] for x of `shape`, with torch's semantics: integers select (they are
    basic, unlike numpy's), masks stand for the integer arrays of their nonzero positions, and
    the dims of the broadcast index arrays replace the indexed dims in place when those are
    adjacent, else go first."""
    cdef tuple parts = _index_parts(key)
    cdef int ndim = len(shape), consumed = 0
    cdef list classified = []
    for part in parts:
        kind, value = _classify_part(part)
        if kind == PART_SLICE or kind == PART_INT or kind == PART_ARRAY:
            consumed += 1
        elif kind == PART_MASK:
            consumed += cnp.PyArray_NDIM(<ndarray>value)
        classified.append((kind, value))
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")

    cdef list basic = [], view_shape = []
    cdef list adv_dims = [], adv_arrays = [], adv_sizes = []   # per index array: view dim, array, size
    cdef int d = 0          # the dim of x the next part indexes
    cdef bint seen_ellipsis = False
    cdef str last_op = "AliasBackward0"
    cdef int64_t size
    for kind, value in classified:
        if kind == PART_ELLIPSIS:
            if not seen_ellipsis:  # a later Ellipsis stands for no dims, as in torch
                for _ in range(ndim - consumed):
                    basic.append(slice(None))
                    view_shape.append(shape[d])
                    d += 1
                seen_ellipsis = True
        elif kind == PART_NONE:
            basic.append(None)
            view_shape.append(1)
            last_op = "UnsqueezeBackward0"
        elif kind == PART_BOOL:  # as torch: a new dim, indexed by [0] (True) or by nothing (False)
            basic.append(None)
            adv_dims.append(len(view_shape))
            adv_arrays.append(np.zeros(1 if value else 0, dtype=np.int64))
            adv_sizes.append(1)
            view_shape.append(1)
        elif kind == PART_INT:
            size = shape[d]
            if value < -size or value >= size:
                raise IndexError(f"index {value} is out of bounds for dimension {d} with size {size}")
            basic.append(value)
            d += 1
            last_op = "SelectBackward0"
        elif kind == PART_SLICE:
            size = shape[d]
            basic.append(value)
            view_shape.append(len(range(*(<slice>value).indices(size))))
            if view_shape[len(view_shape) - 1] != size:
                last_op = "SliceBackward0"
            d += 1
        elif kind == PART_ARRAY:
            basic.append(slice(None))
            adv_dims.append(len(view_shape))
            adv_arrays.append(value)
            adv_sizes.append(shape[d])
            view_shape.append(shape[d])
            d += 1
        else:
            _plan_mask(<ndarray>value, shape, d, basic, view_shape, adv_dims, adv_arrays, adv_sizes)
            d += cnp.PyArray_NDIM(<ndarray>value)
    view_shape.extend(shape[d:])

    cdef _IndexPlan plan = _IndexPlan.__new__(_IndexPlan)
    plan.basic = tuple(basic) + (Ellipsis,)  # the Ellipsis keeps an all-integer key a 0-d view
    if not adv_dims:
        plan.result_shape = tuple(view_shape)
        plan.node_name = last_op
        return plan
    plan.node_name = "IndexBackward0"
    _plan_advanced(plan, view_shape, adv_dims, adv_arrays, adv_sizes)
    return plan


cdef void _plan_mask(ndarray mask, tuple shape, int d, list basic, list view_shape, list adv_dims,
                     list adv_arrays, list adv_sizes) except *:
    """A k-dim mask at dim d: k index arrays of its nonzero positions, after torch's shape check."""
    cdef int k = cnp.PyArray_NDIM(mask)
    for j in range(k):
        if cnp.PyArray_DIM(mask, j) != shape[d + j]:
            raise IndexError(f"The shape of the mask {list(_shape(mask))} at index {j} does not match "
                             f"the shape of the indexed tensor {list(shape)} at index {d + j}")
    positions = mask.nonzero()
    for j in range(k):
        basic.append(slice(None))
        adv_dims.append(len(view_shape))
        adv_arrays.append(positions[j])
        adv_sizes.append(shape[d + j])
        view_shape.append(shape[d + j])


cdef void _plan_advanced(_IndexPlan plan, list view_shape, list adv_dims, list adv_arrays,
                         list adv_sizes) except *:
    """Fills the gather part of a plan: the broadcast index arrays linearized over the indexed
    dims (row-major), checked against their sizes, and the (outer, r, inner) view around them."""
    cdef int k = len(adv_dims), j
    cdef tuple index_shape
    if k == 1:
        index_shape = _shape(<ndarray>adv_arrays[0])
    else:
        try:
            index_shape = np.broadcast_shapes(*[_shape(<ndarray>a) for a in adv_arrays])
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(str(list(_shape(<ndarray>a))) for a in adv_arrays)) from None
    cdef int64_t n = _prod(index_shape, 0, len(index_shape)), stride = 1, position
    cdef ndarray lin = _empty((n,), INT64), flat
    for j in range(k - 1, -1, -1):
        flat = adv_arrays[j] if k == 1 else np.broadcast_to(adv_arrays[j], index_shape)
        flat = <ndarray>np.ascontiguousarray(flat, dtype=np.int64)
        position = _find_invalid_index(flat, adv_sizes[j], True)
        if position >= 0:
            # torch numbers the dimension among the indexed dims
            raise IndexError(f"index {flat.reshape(-1)[position]} is out of bounds for dimension {j} "
                             f"with size {adv_sizes[j]}")
        _linearize_index(flat, adv_sizes[j], stride, j < k - 1, lin)
        stride *= adv_sizes[j]
    plan.lin = lin
    plan.n = n
    plan.r = stride
    cdef int first = adv_dims[0], last = adv_dims[k - 1]
    cdef tuple vshape = tuple(view_shape)
    if last - first + 1 == k:  # adjacent: the index dims take the place of the indexed dims
        plan.perm = None
        plan.outer = _prod(vshape, 0, first)
        plan.inner = _prod(vshape, last + 1, len(vshape))
        plan.result_shape = vshape[:first] + index_shape + vshape[last + 1:]
    else:                      # apart: the index dims go first
        others = [i for i in range(len(vshape)) if i not in adv_dims]
        plan.perm = tuple(adv_dims + others)
        plan.outer = 1
        plan.inner = _prod(tuple([vshape[i] for i in others]), 0, len(others))
        plan.result_shape = index_shape + tuple([vshape[i] for i in others])


cdef object _plan_view(_IndexPlan plan, object data):
    """The (outer, r, inner)-ready view of data that the plan gathers from or scatters into."""
    cdef object view = data if plan.basic is None else data[plan.basic]
    if plan.perm is not None:
        view = view.transpose(plan.perm)
    return view


cdef object _plan_read(_IndexPlan plan, object data):
    """data[key]: a view for basic indexing, a new array otherwise."""
    cdef object view = _plan_view(plan, data)
    if plan.lin is None:
        return view
    return _gather_along(view, plan.outer, plan.r, plan.inner, plan.lin, plan.n, False, plan.result_shape)


cdef void _plan_write(_IndexPlan plan, object dst, object values, bint accumulate) except *:
    """dst[key] = values (or += values: repeated positions add up), in place. values has dst's
    dtype and broadcasts to the result shape."""
    cdef object view = _plan_view(plan, dst)
    if plan.lin is None:
        if accumulate:
            _elementwise(K_ADD, _array_code(dst), (view, values), view)
        else:
            _assign(view, values)  # basic indexing: distinct positions, numpy handles overlap
        return
    _scatter_along(view, plan.outer, plan.r, plan.inner, plan.lin, plan.n, False,
                   _xp(values).broadcast_to(values, plan.result_shape), accumulate)


# ---- x[key] and its backward ----

cdef object _getitem_op(TensorBase x, object key):
    return _index_op(x, _plan_index(_shape(x._data), key))


cdef object _index_op(TensorBase x, _IndexPlan plan):
    cdef object data = _plan_read(plan, x._data)
    cdef TensorBase out = _view_of(x, data) if plan.lin is None else _wrap(data, x._code)
    cdef IndexBackward node
    if _records(x):
        node = IndexBackward.__new__(IndexBackward)
        node.plan = plan
        _connect1(node, x, out)
    return out


cdef class IndexBackward(Node):
    """d x[key] = zeros like x with dy added at key (repeated positions accumulate)"""
    cdef _IndexPlan plan

    def name(self):
        return self.plan.node_name

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        # basic positions are distinct, so writing into zeros is adding (and keeps -0.0 as torch)
        return (_put_and_record(None, _zeros_on(gy._data, self._input_shapes[0], gy._code), self.plan, gy,
                                self.plan.lin is not None, "IndexPutBackward0"),)


# ---- index_put: x[key] = values, out of place and in place ----

cdef object _index_put_values(object values, _IndexPlan plan):
    """values checked against the indexing result as torch does: leading size-1 dims dropped, then
    broadcast. A tensor that lost leading dims comes back reshaped (a differentiable view, so its
    gradient keeps its shape); a number comes back as a Python number."""
    if not isinstance(values, TensorBase):
        return _operand(values)
    cdef TensorBase v = <TensorBase>values
    cdef tuple shape = _shape(v._data), target = plan.result_shape
    cdef int lead = 0
    while lead < len(shape) and shape[lead] == 1:
        lead += 1
    cdef tuple kept = shape[lead:]
    if plan.lin is None:
        _expanded_shape(kept, target, _tensor_type_name(v))  # torch's copy_ rules and messages
    elif not _broadcasts_to(kept, target):
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be broadcast to "
                           f"indexing result of shape {list(target)}")
    return _reshape_op(v, kept) if lead else v


cdef object _values_data(object values, int code, object like):
    """A tensor's data or a number, in dtype code (converted as torch's copy_: floats truncate),
    for writing into `like`: a number, or a 0-d tensor (torch's CPU scalar), goes to like's device."""
    cdef object data
    if isinstance(values, TensorBase):
        data = _cast((<TensorBase>values)._data, code)
        if _ndim(data) > 0:
            return data
    else:
        data = np.array(values).astype(_dtype_of_code(code).numpy_dtype)
    return _move_to(data, _device_index(like))


cdef TensorBase _put_and_record(object x, object out, _IndexPlan plan, object values, bint accumulate,
                                str node_name):
    """out (a new array: x's copy, or zeros when x is None) with values written at the plan's
    positions, as a tensor whose node connects x and values."""
    cdef int code = _array_code(out)
    _plan_write(plan, out, _values_data(values, code, out), accumulate)
    cdef TensorBase result = _wrap(out, code)
    if _records(x) or _records(values):
        _connect2(_index_put_node(plan, accumulate, node_name), x, values, result)
    return result


cdef object _index_put_op(TensorBase x, _IndexPlan plan, object values, bint accumulate):
    """x with values written (added, when accumulating) at the plan's positions, out of place."""
    return _put_and_record(x, _copy(x._data), plan, values,
                           accumulate, "IndexPutBackward0")


cdef IndexPutBackward _index_put_node(_IndexPlan plan, bint accumulate, str node_name):
    cdef IndexPutBackward node = IndexPutBackward.__new__(IndexPutBackward)
    node.plan = plan
    node.accumulate = accumulate
    node.node_name = node_name
    return node


cdef class IndexPutBackward(Node):
    """d index_put(x, key, v) = dy with zeros at key for x (dy itself when accumulating), dy[key] for v"""
    cdef _IndexPlan plan
    cdef bint accumulate
    cdef str node_name

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        gx = gv = None
        if self._next_edges[0][0] is not None:
            gx = gy if self.accumulate else _index_put_op(gy, self.plan, 0, False)
        if self._next_edges[1][0] is not None:
            gv = _index_op(gy, self.plan)
        return (gx, gv)


cdef void _record_inplace(Node node, TensorBase x, object other) except *:
    """After an in-place write into x: x becomes the output of node, whose inputs are x's value
    before the write (its history until now) and other. Only for nodes whose backward does not
    need x's old values (they are gone)."""
    _connect2(node, x, other, x)
    x._bump_version()
    if x._base is not None:
        _copy_slices(x)


cdef void _copy_slices(TensorBase view) except *:
    """After an in-place op on a view, recorded as the view's new history: the base's history
    becomes the base written with the view's new value at the view's positions (torch's
    CopySlices), and the view's history a read of those positions from the base's new history
    (AsStridedBackward0). Gradients then reach the base's old history everywhere but at the
    view's positions, and the op's inputs through the view's new value. The base is C-contiguous
    (_check_rebase), so positions in its memory are positions in its flattened values."""
    cdef TensorBase base = view._base
    cdef _IndexPlan plan = _strided_positions_plan(base._data, view._data)
    _connect2(_index_put_node(plan, False, "CopySlices"), base, view, base)
    cdef IndexBackward read = IndexBackward.__new__(IndexBackward)
    read.plan = plan
    _connect1(read, base, view)
    view._output_nr = 0


cdef void _refresh_view_history(TensorBase view) except *:
    """A view whose base was written in place since the view's history was recorded (through the
    base or another view): its history becomes a read of its positions from the base's current
    history, as torch regenerates views."""
    cdef TensorBase base = view._base
    if not base._requires_grad or not _is_contiguous(base._data):
        _refuse_stale_view()
    cdef IndexBackward read = IndexBackward.__new__(IndexBackward)
    read.plan = _strided_positions_plan(base._data, view._data)
    _connect1(read, base, view)
    view._output_nr = 0
    view._view_version = view._version_counter.value


cdef _IndexPlan _strided_positions_plan(object base, object view):
    """The plan that reads `view`, a strided view into C-contiguous `base`, out of base: the flat
    positions of its elements, offset + sum_k i_k * stride_k (computed on the host)."""
    cdef int64_t itemsize = view.itemsize
    cdef int64_t n = _size(view), offset
    offset = (_data_address(view) - _data_address(base)) // itemsize
    cdef ndarray lin = <ndarray>np.full((n,), offset, dtype=np.int64), along
    cdef tuple shape = _shape(view), strides = view.strides
    cdef int ndim = len(shape)
    for k in range(ndim):
        if shape[k] > 1:   # every element's index along dim k, times that dim's stride
            along = <ndarray>np.arange(shape[k], dtype=np.int64).reshape((shape[k],) + (1,) * (ndim - k - 1))
            _linearize_index(<ndarray>np.ascontiguousarray(np.broadcast_to(along, shape)), shape[k],
                             strides[k] // itemsize, True, lin)
    cdef _IndexPlan plan = _IndexPlan.__new__(_IndexPlan)
    plan.lin = lin
    plan.n = n
    plan.outer = 1
    plan.r = _size(base)
    plan.inner = 1
    plan.result_shape = shape
    plan.node_name = "AsStridedBackward0"
    return plan


cdef object _setitem_op(TensorBase x, object key, object value):
    """x[key] = value, in place; in a graph, x becomes the output of an index_put node (CopySlices
    for basic keys, as torch names it)."""
    _check_inplace(x)
    cdef _IndexPlan plan = _plan_index(_shape(x._data), key)
    value = _index_put_values(value, plan)
    cdef object data = _values_data(value, x._code, x._data)
    cdef bint records = _records_inplace(x, value)
    if records:
        _check_rebase(x)
    _plan_write(plan, x._data, data, False)
    if records:
        _record_inplace(_index_put_node(plan, False, "CopySlices" if plan.lin is None else "IndexPutBackward0"),
                        x, value)
    else:
        x._bump_version()


# ---- index_select ----

cdef object _index_select_op(TensorBase x, object dim, object index):
    cdef ndarray idx = _index_tensor_data(index, "index_select(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    cdef tuple shape = _shape(x._data)
    cdef int d = _wrap_dim(dim, len(shape))
    cdef tuple full = shape if shape else (1,)
    positions, position = _checked_index_copy(idx, full[d])  # the node keeps the copy
    if position >= 0:
        raise IndexError("index out of range in self")
    positions = positions.reshape(-1)
    cdef _IndexPlan plan = _IndexPlan.__new__(_IndexPlan)
    plan.lin = positions
    plan.n = positions.size
    plan.outer = _prod(full, 0, d)
    plan.r = full[d]
    plan.inner = _prod(full, d + 1, len(full))
    plan.result_shape = shape[:d] + (plan.n,) + shape[d + 1:] if shape else ()
    plan.node_name = "IndexSelectBackward0"
    return _index_op(x, plan)


cdef ndarray _index_tensor_data(object index, str dtype_message):
    """An index argument's data on the host (index plans are made there), refusing what is not an
    int32/int64 tensor."""
    if not isinstance(index, TensorBase):
        raise TypeError(f"index must be a Tensor, not {type(index).__name__}")
    cdef int code = (<TensorBase>index)._code
    if code != INT64 and code != INT32:
        raise RuntimeError(dtype_message)
    return _to_host((<TensorBase>index)._data)


# ---- gather, scatter, scatter_add: one index per element along dim ----

cdef class _DimIndex:
    """A checked gather/scatter index: out[..., j, ...] pairs with the input at [..., index[..., j,
    ...], ...] along dim. The view of x (or src) it touches is x[:s0, :s1, ...] with index's sizes
    s on every dim but dim, seen as (outer, r, inner)."""
    cdef int dim
    cdef ndarray index          # contiguous int64, of index_shape
    cdef tuple index_shape      # 0-d indices are seen as (1,)
    cdef tuple out_shape        # the index's own shape: gather's result shape
    cdef int64_t outer, n, inner


cdef _DimIndex _dim_index(TensorBase x, object dim, object index, str op, object src):
    """Checks a gather/scatter index with torch's rules and messages (src: the scatter source
    tensor, if any)."""
    cdef ndarray idx = _index_tensor_data(index, f"{op}(): Expected dtype int32/int64 for index")
    cdef tuple xshape = _shape(x._data) or (1,)
    cdef tuple ishape = _shape(idx) or (1,)
    if len(ishape) != len(xshape):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    cdef int d = _wrap_dim(dim, _ndim(x._data))
    cdef tuple sshape = None
    if src is not None:
        sshape = _shape((<TensorBase>src)._data) or (1,)
        if len(sshape) != len(ishape):
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for k in range(len(ishape)):
        if (k != d and ishape[k] > xshape[k]) or (sshape is not None and ishape[k] > sshape[k]):
            if sshape is None:
                raise RuntimeError(f"Size does not match at dimension {k} expected index {list(ishape)} to "
                                   f"be no larger than self {list(xshape)} apart from dimension {d}")
            raise RuntimeError(f"Expected index {list(ishape)} to be no larger than self {list(xshape)} "
                               f"apart from dimension {d} and to be no larger size than src {list(sshape)}")
    cdef _DimIndex di = _DimIndex.__new__(_DimIndex)
    di.dim = d
    di.index_shape = ishape
    di.out_shape = _shape(idx)
    index_copy, position = _checked_index_copy(idx, xshape[d])  # the node keeps the copy
    if position >= 0:
        raise RuntimeError(f"index {idx.reshape(-1)[position]} is out of bounds for dimension {d} "
                           f"with size {xshape[d]}")
    di.index = index_copy.reshape(ishape)
    di.outer = _prod(ishape, 0, d)
    di.n = ishape[d]
    di.inner = _prod(ishape, d + 1, len(ishape))
    return di


cdef object _dim_view(_DimIndex di, object data, bint whole_dim):
    """data[:s0, :s1, ...] with the index's sizes s (all of dim too, unless whole_dim)."""
    if _ndim(data) == 0:
        data = data.reshape(1)
    return data[tuple([slice(None) if (k == di.dim and whole_dim) else slice(0, di.index_shape[k])
                       for k in range(len(di.index_shape))])]


cdef object _gather_op(TensorBase x, _DimIndex di):
    cdef object source = _dim_view(di, x._data, True)
    cdef TensorBase out = _wrap(_gather_along(source, di.outer, _dim(source, di.dim), di.inner,
                                              di.index, di.n, True, di.out_shape), x._code)
    cdef GatherBackward node
    if _records(x):
        node = GatherBackward.__new__(GatherBackward)
        node.di = di
        _connect1(node, x, out)
    return out


cdef class GatherBackward(Node):
    """d gather(x, dim, index) = zeros like x with dy added at index (repeated indices accumulate)"""
    cdef _DimIndex di

    def name(self):
        return "GatherBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        return (_scatter_and_record(None, _zeros_on(gy._data, self._input_shapes[0], gy._code), self.di,
                                    gy, True),)


cdef TensorBase _scatter_and_record(object x, object out, _DimIndex di, object src, bint add):
    """out (a new array: x's copy, or zeros when x is None) with src (a tensor, or a number)
    scattered along dim (added when add), as a tensor whose node connects x and src."""
    cdef int code = _array_code(out)
    _dim_scatter(di, out, src, add, code)
    cdef TensorBase result = _wrap(out, code)
    if _records(x) or _records(src):
        _connect2(_scatter_node(di, add, isinstance(src, TensorBase)), x, src, result)
    return result


cdef void _dim_scatter(_DimIndex di, object dst, object src, bint add, int code) except *:
    cdef object target = _dim_view(di, dst, True)
    cdef object values
    if isinstance(src, TensorBase):
        values = _dim_view(di, _cast((<TensorBase>src)._data, code), False)
    else:
        values = _values_data(src, code, dst)
        values = _xp(values).broadcast_to(values, di.index_shape)
    _scatter_along(target, di.outer, _dim(target, di.dim), di.inner, di.index, di.n, True, values, add)


cdef ScatterBackward _scatter_node(_DimIndex di, bint add, bint src_is_tensor):
    cdef ScatterBackward node = ScatterBackward.__new__(ScatterBackward)
    node.di = di
    node.add = add
    node.node_name = "ScatterAddBackward0" if add else ("ScatterBackward0" if src_is_tensor else "ScatterBackward1")
    return node


cdef class ScatterBackward(Node):
    """d scatter(x, dim, index, src) = dy with zeros at index for x (dy itself for scatter_add),
    gather(dy, dim, index) for src"""
    cdef _DimIndex di
    cdef bint add
    cdef str node_name

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        gx = gsrc = None
        if self._next_edges[0][0] is not None:
            gx = gy if self.add else _scatter_and_record(gy, _copy(gy._data), self.di, 0, False)
        if self._next_edges[1][0] is not None:
            gsrc = _gather_op(gy, self.di)
        return (gx, gsrc)


cdef object _scatter_op(TensorBase x, object dim, object index, object src, bint add, bint inplace):
    """scatter / scatter_add of src (a tensor; for scatter also a number) into x along dim."""
    cdef str op = "scatter_add" if add else "scatter"
    if isinstance(src, TensorBase):
        if (<TensorBase>src)._code != x._code:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
    elif add:
        raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    else:
        src = _operand(src)
    cdef _DimIndex di = _dim_index(x, dim, index, op, src if isinstance(src, TensorBase) else None)
    if not inplace:
        return _scatter_and_record(x, _copy(x._data), di, src, add)
    _check_inplace(x)
    cdef bint records = _records_inplace(x, src)
    if records:
        _check_rebase(x)
    _dim_scatter(di, x._data, src, add, x._code)
    if records:
        _record_inplace(_scatter_node(di, add, isinstance(src, TensorBase)), x, src)
    else:
        x._bump_version()
    return x


# ---- masked_fill ----

# torch's C++ type names, used by masked_fill's dtype message
cdef tuple _CPP_TYPE_NAMES = ("bool", "int", "long int", "float", "double")


cdef object _masked_fill_op(TensorBase x, object mask, object value, bint inplace):
    """x with value where mask is true (mask broadcasts; out of place, x broadcasts too)."""
    if not isinstance(mask, TensorBase):
        raise TypeError(f"masked_fill(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    cdef TensorBase m = <TensorBase>mask
    if m._code != BOOL:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_CPP_TYPE_NAMES[m._code]}")
    if isinstance(value, TensorBase):
        if _ndim((<TensorBase>value)._data) != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                               f"with {_ndim((<TensorBase>value)._data)} dimension(s).")
    else:
        value = _operand(value)
    cdef tuple xshape = _shape(x._data), mshape = _shape(m._data), shape
    cdef object out
    _check_one_device([x._data, m._data])
    if inplace:
        _check_inplace(x)
        if not _broadcasts_to(mshape, xshape):
            raise RuntimeError(f"output with shape {list(xshape)} doesn't match the broadcast shape "
                               f"{list(_broadcast_shapes(xshape, mshape))}")
        shape = xshape
        out = x._data
    else:
        shape = _broadcast_shapes(mshape, xshape)  # torch broadcasts (mask, x): its message's order
        out = _copy(_xp(x._data).broadcast_to(x._data, shape))
    cdef bint records = _records_inplace(x, value) if inplace else (_records(x) or _records(value))
    if records and inplace:
        _check_rebase(x)
    _xp(out).copyto(out, _values_data(value, x._code, out), where=_xp(m._data).broadcast_to(m._data, shape))
    if not records:
        if inplace:
            x._bump_version()
            return x
        return _wrap(out, x._code)
    cdef MaskedFillBackward node = MaskedFillBackward.__new__(MaskedFillBackward)
    node.mask = _save(m, False)
    node.value_is_tensor = isinstance(value, TensorBase)
    if inplace:
        _record_inplace(node, x, value)
        return x
    cdef TensorBase result = _wrap(out, x._code)
    _connect2(node, x, value, result)
    return result


cdef class MaskedFillBackward(Node):
    """d masked_fill(x, mask, v) = dy with zeros where mask for x, the sum of dy where mask for v"""
    cdef SavedTensor mask
    cdef bint value_is_tensor

    def name(self):
        return "MaskedFillBackward1" if self.value_is_tensor else "MaskedFillBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef TensorBase mask = self.mask.unpack(self)
        gx = gv = None
        if self._next_edges[0][0] is not None:
            gx = _masked_fill_op(gy, mask, 0, False)
        if self._next_edges[1][0] is not None:
            selected = _index_op(gy, _plan_index(_shape(gy._data),
                                                 (_xp(mask._data).broadcast_to(mask._data, _shape(gy._data)),)))
            gv = _sum_op(selected, None, False, NO_DTYPE)
        return (gx, gv)

    cdef void release_saved(self):
        self.mask.release()


# ---- take_along_dim ----

cdef object _take_along_dim_op(TensorBase x, object indices, object dim):
    if not isinstance(indices, TensorBase):
        raise TypeError(f"take_along_dim(): argument 'indices' must be Tensor, not {type(indices).__name__}")
    cdef TensorBase idx = <TensorBase>indices
    if idx._code != INT64:
        raise RuntimeError(f"cygrad.take_along_dim(): dtype of indices should be Long but got "
                           f"{_SCALAR_TYPE_NAMES[idx._code]}")
    if dim is None:
        flat = _reshape_op(x, (_size(x._data),))
        flat_idx = _wrap(idx._data.reshape(-1), INT64)
        return _gather_op(flat, _dim_index(flat, 0, flat_idx, "gather", None))
    cdef int ndim = _ndim(x._data)
    if _ndim(idx._data) != ndim:
        raise RuntimeError(f"cygrad.take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {ndim} dimensions for input, and "
                           f"{_ndim(idx._data)} dimensions for indices")
    cdef int d = _wrap_dim(dim, ndim)
    cdef list xs = list(_shape(x._data)), js = list(_shape(idx._data))
    if ndim == 0:
        return _gather_op(x, _dim_index(x, 0, idx, "gather", None))
    xs[d] = js[d] = 1
    cdef list common = list(_broadcast_shapes(tuple(xs), tuple(js)))
    common[d] = _dim(x._data, d)
    expanded = _expand_op(x, tuple(common))
    common[d] = _dim(idx._data, d)
    expanded_idx = _wrap(_xp(idx._data).broadcast_to(idx._data, tuple(common)), INT64)
    return _gather_op(expanded, _dim_index(expanded, d, expanded_idx, "gather", None))


# ---- public functions ----

def index_select(input, dim, index):
    return _index_select_op(input, dim, index)

def gather(input, dim, index, *, sparse_grad=False):
    return _gather_op(input, _dim_index(input, dim, index, "gather", None))

def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    return _scatter_op(input, dim, index, value if src is None else src, False, False)

def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    if reduce is not None:
        raise NotImplementedError("scatter_(reduce=...) is not supported; use scatter_add_")
    return _scatter_op(input, dim, index, value if src is None else src, False, True)

def scatter_add(input, dim, index, src):
    return _scatter_op(input, dim, index, src, True, False)

def scatter_add_(input, dim, index, src):
    return _scatter_op(input, dim, index, src, True, True)

def masked_fill(input, mask, value):
    return _masked_fill_op(input, mask, value, False)

def masked_fill_(input, mask, value):
    return _masked_fill_op(input, mask, value, True)

def take_along_dim(input, indices, dim=None):
    return _take_along_dim_op(input, indices, dim)
