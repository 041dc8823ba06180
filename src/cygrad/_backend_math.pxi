# Array-level primitives of the math ops (_ops_math.pxi): reductions and scans whose kernels are in
# csrc/reduce_math.c. Like _backend_cpu.pxi, this level knows ndarrays and dtype codes only.

cdef enum _MathReduction:
    REDUCE_PROD, REDUCE_VAR, REDUCE_LOGSUMEXP, REDUCE_NORM


cdef tuple _reduction_layout(ndarray x, tuple dims):
    """(array, outer, r, inner): reducing `dims` of x is reducing the middle axis of the contiguous
    (outer, r, inner) array. That is x itself (made contiguous) when the dims are one run of
    adjacent axes; otherwise a copy with the dims moved to the end (then inner = 1). Either way the
    output's elements come in the order of the kept axes, so it has the reduced shape."""
    cdef tuple shape = _shape(x)
    cdef int ndim = len(shape)
    if len(dims) == 0:
        return <ndarray>cnp.PyArray_GETCONTIGUOUS(x), _prod(shape, 0, ndim), 1, 1
    cdef int first = dims[0], last = dims[len(dims) - 1] + 1
    if last - first == len(dims):
        return (<ndarray>cnp.PyArray_GETCONTIGUOUS(x), _prod(shape, 0, first), _prod(shape, first, last),
                _prod(shape, last, ndim))
    cdef list kept = [d for d in range(ndim) if d not in dims]
    cdef ndarray moved = <ndarray>np.ascontiguousarray(x.transpose(kept + list(dims)))
    cdef tuple moved_shape = _shape(moved)
    return moved, _prod(moved_shape, 0, len(kept)), _prod(moved_shape, len(kept), ndim), 1


cdef ndarray _cpu_math_reduce(int kind, ndarray x, tuple dims, int code, double param):
    """x reduced over `dims` (sorted, distinct) by `kind`, computed in dtype `code`; the reduced
    dims are removed. param: var's correction, norm's p."""
    cdef tuple shape = _shape(x)
    array, outer_obj, r_obj, inner_obj = _reduction_layout(_as_code(x, code), dims)
    cdef ndarray a = <ndarray>array
    cdef int64_t outer = outer_obj, r = r_obj, inner = inner_obj
    cdef ndarray out = _empty(tuple([shape[d] for d in range(len(shape)) if d not in dims]), code)
    cdef void *src = cnp.PyArray_DATA(a)
    cdef void *dst = cnp.PyArray_DATA(out)
    if outer * inner == 0:
        return out
    with nogil:
        if kind == REDUCE_PROD:
            if code == FLOAT32:
                C.cg_prod_f32(<const float *>src, <float *>dst, outer, r, inner)
            elif code == FLOAT64:
                C.cg_prod_f64(<const double *>src, <double *>dst, outer, r, inner)
            else:
                C.cg_prod_i64(<const int64_t *>src, <int64_t *>dst, outer, r, inner)
        elif kind == REDUCE_VAR:
            if code == FLOAT32:
                C.cg_var_f32(<const float *>src, <float *>dst, outer, r, inner, param)
            else:
                C.cg_var_f64(<const double *>src, <double *>dst, outer, r, inner, param)
        elif kind == REDUCE_LOGSUMEXP:
            if code == FLOAT32:
                C.cg_logsumexp_f32(<const float *>src, <float *>dst, outer, r, inner)
            else:
                C.cg_logsumexp_f64(<const double *>src, <double *>dst, outer, r, inner)
        else:
            if code == FLOAT32:
                C.cg_norm_f32(<const float *>src, <float *>dst, outer, r, inner, param)
            else:
                C.cg_norm_f64(<const double *>src, <double *>dst, outer, r, inner, param)
    return out


cdef ndarray _cpu_cumsum(ndarray x, int dim, int code, bint reverse):
    """Running sums of x along dim (from the end when reverse), in dtype `code`; x is not 0-d."""
    cdef ndarray a = _as_code(<ndarray>cnp.PyArray_GETCONTIGUOUS(x), code)
    cdef tuple shape = _shape(a)
    cdef int64_t outer = _prod(shape, 0, dim), r = shape[dim], inner = _prod(shape, dim + 1, len(shape))
    cdef ndarray out = _empty(shape, code)
    cdef void *src = cnp.PyArray_DATA(a)
    cdef void *dst = cnp.PyArray_DATA(out)
    if outer * r * inner == 0:
        return out
    with nogil:
        if code == FLOAT32:
            C.cg_cumsum_f32(<const float *>src, <float *>dst, outer, r, inner, reverse)
        elif code == FLOAT64:
            C.cg_cumsum_f64(<const double *>src, <double *>dst, outer, r, inner, reverse)
        else:
            C.cg_cumsum_i64(<const int64_t *>src, <int64_t *>dst, outer, r, inner, reverse)
    return out


cdef ndarray _cpu_prod_backward(ndarray x, ndarray gy, int dim):
    """prod's gradient by exclusive products (exact with zeros in x): gy has x's shape with dim
    removed, or is 0-d for the product of all elements (dim = -1). x and gy have the same dtype."""
    x = <ndarray>cnp.PyArray_GETCONTIGUOUS(x)
    gy = <ndarray>cnp.PyArray_GETCONTIGUOUS(gy)
    cdef tuple shape = _shape(x)
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(x))
    cdef int64_t outer, r, inner
    if dim < 0:
        outer, r, inner = 1, cnp.PyArray_SIZE(x), 1
    else:
        outer, r, inner = _prod(shape, 0, dim), shape[dim], _prod(shape, dim + 1, len(shape))
    cdef ndarray gx = _empty(shape, code)
    cdef const void *src = cnp.PyArray_DATA(x)
    cdef const void *g = cnp.PyArray_DATA(gy)
    cdef void *dst = cnp.PyArray_DATA(gx)
    if outer * r * inner == 0:
        return gx
    with nogil:
        if code == FLOAT32:
            C.cg_prod_bwd_f32(<const float *>src, <const float *>g, <float *>dst, outer, r, inner)
        else:
            C.cg_prod_bwd_f64(<const double *>src, <const double *>g, <double *>dst, outer, r, inner)
    return gx


cdef int64_t _cpu_count_zeros(ndarray x) except -1:
    """How many elements of the float array x are 0."""
    x = <ndarray>cnp.PyArray_GETCONTIGUOUS(x)
    cdef int64_t count = 0
    if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
        C.cg_count_zeros_f32(<const float *>cnp.PyArray_DATA(x), cnp.PyArray_SIZE(x), &count)
    else:
        C.cg_count_zeros_f64(<const double *>cnp.PyArray_DATA(x), cnp.PyArray_SIZE(x), &count)
    return count
