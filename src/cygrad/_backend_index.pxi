# The CPU backend's index primitives: gathers and scatters along the middle axis of (outer, r,
# inner) views of ndarrays, through the csrc/index.c kernels. Operands are passed by element
# strides, so strided and broadcast views are read and written without copies whenever numpy can
# express them as three-dimensional views. Indices are int64 and checked by the callers (the ops)
# with _find_invalid_index before they get here: the kernels trust them.

ctypedef void (*_index_fn)(const C.cg_index_iter *, void *, const void *, const int64_t *) noexcept nogil

cdef enum _IndexKernel:
    GATHER, SCATTER, SCATTER_ADD


cdef _index_fn _index_kernel(int kind, int code) except NULL:
    """The kernel of `kind` for dtype `code`."""
    if kind == GATHER:
        if code == FLOAT32:
            return <_index_fn>C.cg_gather_f32
        if code == FLOAT64:
            return <_index_fn>C.cg_gather_f64
        if code == INT64:
            return <_index_fn>C.cg_gather_i64
        if code == INT32:
            return <_index_fn>C.cg_gather_i32
        return <_index_fn>C.cg_gather_b8
    if kind == SCATTER:
        if code == FLOAT32:
            return <_index_fn>C.cg_scatter_f32
        if code == FLOAT64:
            return <_index_fn>C.cg_scatter_f64
        if code == INT64:
            return <_index_fn>C.cg_scatter_i64
        if code == INT32:
            return <_index_fn>C.cg_scatter_i32
        return <_index_fn>C.cg_scatter_b8
    if code == FLOAT32:
        return <_index_fn>C.cg_scatter_add_f32
    if code == FLOAT64:
        return <_index_fn>C.cg_scatter_add_f64
    if code == INT64:
        return <_index_fn>C.cg_scatter_add_i64
    if code == INT32:
        return <_index_fn>C.cg_scatter_add_i32
    raise RuntimeError(f'"scatter_add" not implemented for \'{_SCALAR_TYPE_NAMES[code]}\'')


cdef inline void _set_strides(int64_t *strides, int64_t s0, int64_t s1, int64_t s2) noexcept:
    strides[0] = s0
    strides[1] = s1
    strides[2] = s2


cdef ndarray _view_3d(ndarray a, int64_t d0, int64_t d1, int64_t d2, int64_t *strides):
    """`a` (of d0 * d1 * d2 elements) seen as (d0, d1, d2): an array with a's data (a itself, or a
    reshaped view) and its element strides in `strides`; None when a's strides cannot be
    expressed so (the caller copies)."""
    cdef ndarray v
    if cnp.PyArray_IS_C_CONTIGUOUS(a):  # the common case, without numpy's reshape
        _set_strides(strides, d1 * d2, d2, 1)
        return a
    try:
        v = _view_as_shape(a, (d0, d1, d2))
    except ValueError:
        return None
    cdef int itemsize = cnp.PyArray_ITEMSIZE(a)
    for k in range(3):
        strides[k] = cnp.PyArray_STRIDE(v, k) // itemsize
    return v


cdef ndarray _readable_3d(ndarray a, int64_t d0, int64_t d1, int64_t d2, int64_t *strides):
    """`a` as a (d0, d1, d2) array to read from: a view when possible, else a contiguous copy."""
    cdef ndarray v = _view_3d(a, d0, d1, d2, strides)
    if v is None:
        v = _view_3d(<ndarray>cnp.PyArray_NewCopy(a, cnp.NPY_CORDER), d0, d1, d2, strides)
    return v


cdef int64_t _find_invalid_index(ndarray idx, int64_t size, bint allow_negative,
                                 ndarray copy=None) except -2:
    """The flat position of the first index of `idx` (contiguous int64) outside [0, size), or
    [-size, size) when negative indices count from the end; -1 when all are valid. `copy` (a
    contiguous int64 array as large, or None) receives idx in the same pass when all are valid."""
    cdef int64_t position = -1
    cdef int64_t n = cnp.PyArray_SIZE(idx)
    cdef const int64_t *p = <const int64_t *>cnp.PyArray_DATA(idx)
    cdef int64_t *c = <int64_t *>cnp.PyArray_DATA(copy) if copy is not None else NULL
    if n >= NOGIL_MIN_ELEMENTS:
        with nogil:
            C.cg_index_find_invalid_i64(p, n, size, allow_negative, c, &position)
    else:
        C.cg_index_find_invalid_i64(p, n, size, allow_negative, c, &position)
    return position


cdef tuple _checked_index_copy(ndarray idx, int64_t size):
    """(a contiguous int64 copy of idx that an autograd node may keep, the flat position of its
    first entry outside [0, size) or -1): one pass over a contiguous int64 index."""
    cdef ndarray copy
    if cnp.PyArray_TYPE(idx) == cnp.NPY_INT64 and cnp.PyArray_IS_C_CONTIGUOUS(idx):
        copy = <ndarray>np.empty(_shape(idx), dtype=np.int64)
        return copy, _find_invalid_index(idx, size, False, copy)
    copy = <ndarray>np.array(idx, dtype=np.int64, copy=True, order="C")
    return copy, _find_invalid_index(copy, size, False)


cdef void _linearize_index(ndarray idx, int64_t size, int64_t stride, bint accumulate, ndarray lin) except *:
    """lin (+)= idx (negatives counted from the end) * stride; idx contiguous int64, checked."""
    C.cg_index_linearize_i64(<const int64_t *>cnp.PyArray_DATA(idx), cnp.PyArray_SIZE(idx), size, stride,
                             accumulate, <int64_t *>cnp.PyArray_DATA(lin))


cdef ndarray _cpu_gather_along(ndarray src, int64_t outer, int64_t r, int64_t inner, ndarray idx, int64_t n,
                           bint per_element, tuple out_shape):
    """A new array of out_shape (outer * n * inner elements) with out[o, j, i] = src[o, k, i], where
    src is viewed as (outer, r, inner) and k = idx[j] (one index per row, idx of n elements) or
    idx[o, j, i] (per_element). idx is contiguous int64 with valid indices."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(src))
    cdef ndarray out = _empty(out_shape, code)
    cdef C.cg_index_iter it
    it.outer, it.n, it.inner = outer, n, inner
    if outer * n * inner == 0:
        return out
    cdef ndarray source = _readable_3d(src, outer, r, inner, it.src)
    if per_element:
        _set_strides(it.idx, n * inner, inner, 1)
    else:
        _set_strides(it.idx, 0, 1, 0)
    _set_strides(it.dst, n * inner, inner, 1)
    cdef _index_fn fn = _index_kernel(GATHER, code)
    cdef void *dst = cnp.PyArray_DATA(out)
    cdef const void *s = cnp.PyArray_DATA(source)
    cdef const int64_t *ip = <const int64_t *>cnp.PyArray_DATA(idx)
    if outer * n * inner >= NOGIL_MIN_ELEMENTS:
        with nogil:
            fn(&it, dst, s, ip)
    else:
        fn(&it, dst, s, ip)
    return out


cdef void _cpu_scatter_along(ndarray dst, int64_t outer, int64_t r, int64_t inner, ndarray idx, int64_t n,
                         bint per_element, ndarray values, bint accumulate) except *:
    """dst[o, k, i] = values[o, j, i] (or +=, accumulate: repeated indices add up), in place, where
    dst is viewed as (outer, r, inner), values (dst's dtype, outer * n * inner elements, any
    strides) as (outer, n, inner), and k as in _gather_along."""
    if outer * n * inner == 0:
        return
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(dst))
    cdef C.cg_index_iter it
    it.outer, it.n, it.inner = outer, n, inner
    if np.may_share_memory(values, dst):
        values = <ndarray>cnp.PyArray_NewCopy(values, cnp.NPY_CORDER)  # read all before writing any
    cdef ndarray source = _readable_3d(values, outer, n, inner, it.src)
    cdef ndarray target = _view_3d(dst, outer, r, inner, it.dst)
    cdef ndarray scratch = None
    if target is None:  # strides no view can express: scatter into a contiguous copy, then copy back
        scratch = <ndarray>cnp.PyArray_NewCopy(dst, cnp.NPY_CORDER)
        target = _view_3d(scratch, outer, r, inner, it.dst)
    if per_element:
        _set_strides(it.idx, n * inner, inner, 1)
    else:
        _set_strides(it.idx, 0, 1, 0)
    cdef _index_fn fn = _index_kernel(SCATTER_ADD if accumulate else SCATTER, code)
    cdef void *d = cnp.PyArray_DATA(target)
    cdef const void *s = cnp.PyArray_DATA(source)
    cdef const int64_t *ip = <const int64_t *>cnp.PyArray_DATA(idx)
    if outer * n * inner >= NOGIL_MIN_ELEMENTS:
        with nogil:
            fn(&it, d, s, ip)
    else:
        fn(&it, d, s, ip)
    if scratch is not None:
        dst[...] = scratch
