# The CPU backend: array-level primitives over numpy ndarrays. It allocates outputs, converts
# operands to the computation dtype, describes broadcasting to the kernels by strides, picks the
# kernel for the dtype and releases the GIL for large calls. No autograd here, no tensors: ops
# (the _ops_*.pxi files) are written against these functions only.
from libc.stdint cimport int64_t
from libc.string cimport memset
cimport cygrad._C as C

# Below this many elements a kernel runs with the GIL held: releasing and re-taking it costs more
# than the work it would let other threads do.
cdef enum:
    NOGIL_MIN_ELEMENTS = 32768

# Elementwise kernels of every arity share one calling convention: (iteration, out, inputs...).
# They are declared with typed pointers in C; we call them through these void* signatures, which
# have the same ABI (all data pointers are passed alike), so one runner serves every op and dtype.
ctypedef void (*_ew1_fn)(const C.cg_iter *, void *, const void *) noexcept nogil
ctypedef void (*_ew2_fn)(const C.cg_iter *, void *, const void *, const void *) noexcept nogil
ctypedef void (*_ew3_fn)(const C.cg_iter *, void *, const void *, const void *, const void *) noexcept nogil
ctypedef void (*_ew4_fn)(const C.cg_iter *, void *, const void *, const void *, const void *, const void *) noexcept nogil
ctypedef void (*_ew1p_fn)(const C.cg_iter *, void *, const void *, double) noexcept nogil
ctypedef void (*_ew2p_fn)(const C.cg_iter *, void *, const void *, const void *, double) noexcept nogil


cdef class _Kernel:
    """One elementwise kernel family: its name, arity, and the C function per dtype (NULL: none)."""
    cdef str name
    cdef int arity
    cdef bint has_param
    cdef void *f32
    cdef void *f64
    cdef void *i64


cdef _Kernel _kernel(str name, int arity, bint has_param, void *f32, void *f64, void *i64):
    cdef _Kernel k = _Kernel.__new__(_Kernel)
    k.name = name
    k.arity = arity
    k.has_param = has_param
    k.f32 = f32
    k.f64 = f64
    k.i64 = i64
    return k


cdef inline tuple _shape(ndarray a):
    """An array's shape as a Python tuple (typed ndarray.shape is the C dims pointer)."""
    return (<object>a).shape


cdef inline ndarray _view_as_shape(ndarray a, tuple shape):
    """A view of `a` with a new shape; ValueError when the strides do not allow one."""
    return <ndarray>np.reshape(a, shape, copy=False)


cdef inline ndarray _empty(tuple shape, int code):
    return <ndarray>cnp.PyArray_EMPTY(len(shape), _dims(shape).data, _dtype_of_code(code).typenum, 0)


cdef inline ndarray _zeros(tuple shape, int code):
    return <ndarray>cnp.PyArray_ZEROS(len(shape), _dims(shape).data, _dtype_of_code(code).typenum, 0)


cdef struct _Dims:
    cnp.npy_intp data[64]


cdef inline _Dims _dims(tuple shape) except *:
    cdef _Dims d
    cdef Py_ssize_t i, n = len(shape)
    if n > 64:
        raise RuntimeError(f"tensors of more than 64 dimensions are not supported (got {n})")
    for i in range(n):
        d.data[i] = shape[i]
    return d


cdef inline ndarray _as_code(ndarray a, int code):
    """a itself when it already has dtype `code`, else a converted copy."""
    if cnp.PyArray_TYPE(a) == _dtype_of_code(code).typenum:
        return a
    return <ndarray>a.astype(_dtype_of_code(code).numpy_dtype)


cdef tuple _broadcast_shapes(tuple a, tuple b):
    """The broadcast of two shapes, with torch's error naming both sizes and the dimension."""
    if a == b:
        return a
    cdef Py_ssize_t na = len(a), nb = len(b), n = max(na, nb), i
    cdef list out = [0] * n
    cdef Py_ssize_t sa, sb
    for i in range(n):
        sa = a[na - n + i] if na - n + i >= 0 else 1
        sb = b[nb - n + i] if nb - n + i >= 0 else 1
        if sa == sb or sb == 1:
            out[i] = sa
        elif sa == 1:
            out[i] = sb
        else:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                f"at non-singleton dimension {i}")
    return tuple(out)


cdef union _ScalarBox:
    float f32
    double f64
    int64_t i64


cdef void *_box_scalar(_ScalarBox *box, object value, int code) except NULL:
    """Stores a Python number in the computation dtype; kernels read it with stride 0."""
    if code == FLOAT32:
        box.f32 = value
    elif code == FLOAT64:
        box.f64 = value
    else:
        box.i64 = value
    return box


cdef void _fill_iter(C.cg_iter *it, ndarray out, tuple shape, list arrays, int itemsize) except *:
    """Describes the broadcast iteration to the kernels: element strides per operand (0 along
    broadcast dimensions and for scalars, which are None in `arrays`), then merges dimensions
    that every operand walks contiguously so the inner loop is as long as possible."""
    cdef int ndim = len(shape), nops = len(arrays) + 1, d, op, src, k, m
    cdef ndarray a
    cdef int64_t size
    if ndim > C.CG_MAX_DIMS:
        raise RuntimeError(f"elementwise ops support at most {C.CG_MAX_DIMS} dimensions, got {ndim}")
    k = 0
    for d in range(ndim):
        size = shape[d]
        if size == 1:
            continue  # a size-1 dimension moves no operand
        it.shape[k] = size
        it.strides[0][k] = cnp.PyArray_STRIDE(out, d) // itemsize
        for op in range(1, nops):
            a = <ndarray>arrays[op - 1]
            if a is None:
                it.strides[op][k] = 0
                continue
            src = cnp.PyArray_NDIM(a) - ndim + d
            if src < 0 or cnp.PyArray_DIM(a, src) == 1:
                it.strides[op][k] = 0
            else:
                it.strides[op][k] = cnp.PyArray_STRIDE(a, src) // itemsize
        k += 1
    if k == 0:
        it.ndim = 1
        it.shape[0] = 1
        for op in range(nops):
            it.strides[op][0] = 0
        return
    # merge dimension d-1 into d when, for every operand, stepping d-1 equals stepping all of d
    m = 0
    for d in range(1, k):
        for op in range(nops):
            if it.strides[op][m] != it.strides[op][d] * it.shape[d]:
                break
        else:
            it.shape[m] *= it.shape[d]
            for op in range(nops):
                it.strides[op][m] = it.strides[op][d]
            continue
        m += 1
        it.shape[m] = it.shape[d]
        for op in range(nops):
            it.strides[op][m] = it.strides[op][d]
    it.ndim = m + 1


cdef ndarray _elementwise(_Kernel k, int code, tuple operands, ndarray out=None, double param=0.0):
    """out = k(operands...) computed in dtype `code`, with broadcasting.

    operands are ndarrays (any strides, any dtype: converted to `code`) or Python numbers.
    out, when given, is written in place (any strides); it must have the broadcast shape.
    bool and int32 compute through the int64 kernels and are converted back."""
    cdef int kernel_code = INT64 if code == BOOL or code == INT32 else code
    cdef void *fn = k.f32 if kernel_code == FLOAT32 else (k.f64 if kernel_code == FLOAT64 else k.i64)
    if fn == NULL:
        raise RuntimeError(f'"{k.name}" not implemented for \'{_SCALAR_TYPE_NAMES[code]}\'')
    cdef list arrays = []
    cdef _ScalarBox boxes[4]
    cdef void *ptrs[4]
    cdef tuple shape = ()
    cdef Py_ssize_t i
    cdef ndarray a
    cdef object operand
    for i in range(k.arity):
        operand = operands[i]
        if isinstance(operand, ndarray):
            a = _as_code(<ndarray>operand, kernel_code)
            arrays.append(a)
            ptrs[i] = cnp.PyArray_DATA(a)
            shape = _broadcast_shapes(shape, _shape(a))
        else:
            arrays.append(None)
            ptrs[i] = _box_scalar(&boxes[i], operand, kernel_code)
    cdef ndarray result = out
    if out is not None:
        if _shape(out) != shape and _broadcast_shapes(_shape(out), shape) != _shape(out):
            raise RuntimeError(f"output with shape {list(_shape(out))} doesn't match the broadcast "
                               f"shape {list(_broadcast_shapes(_shape(out), shape))}")
        shape = _shape(out)
        if cnp.PyArray_TYPE(out) != _dtype_of_code(kernel_code).typenum:
            result = None  # compute in the kernel's dtype, then convert into out
    if result is None:
        result = _empty(shape, kernel_code)
    cdef int64_t n = cnp.PyArray_SIZE(result)
    cdef C.cg_iter it
    cdef void *dst = cnp.PyArray_DATA(result)
    if n > 0:
        _fill_iter(&it, result, shape, arrays, _dtype_of_code(kernel_code).itemsize)
        if n >= NOGIL_MIN_ELEMENTS:
            with nogil:
                _call_elementwise(fn, k.arity, k.has_param, &it, dst, ptrs, param)
        else:
            _call_elementwise(fn, k.arity, k.has_param, &it, dst, ptrs, param)
    if out is not None:
        if result is not out:
            out[...] = result
        return out
    if kernel_code != code:
        return _as_code(result, code)
    return result


cdef inline void _call_elementwise(void *fn, int arity, bint has_param, C.cg_iter *it, void *dst,
                                   void **src, double param) noexcept nogil:
    if has_param:
        if arity == 1:
            (<_ew1p_fn>fn)(it, dst, src[0], param)
        else:
            (<_ew2p_fn>fn)(it, dst, src[0], src[1], param)
    elif arity == 1:
        (<_ew1_fn>fn)(it, dst, src[0])
    elif arity == 2:
        (<_ew2_fn>fn)(it, dst, src[0], src[1])
    elif arity == 3:
        (<_ew3_fn>fn)(it, dst, src[0], src[1], src[2])
    else:
        (<_ew4_fn>fn)(it, dst, src[0], src[1], src[2], src[3])


# ---- the elementwise kernel table: one line per kernel family ----
cdef _Kernel K_ADD = _kernel("add", 2, False, <void *>C.cg_add_fwd_f32, <void *>C.cg_add_fwd_f64, <void *>C.cg_add_fwd_i64)
cdef _Kernel K_SUB = _kernel("sub", 2, False, <void *>C.cg_sub_fwd_f32, <void *>C.cg_sub_fwd_f64, <void *>C.cg_sub_fwd_i64)
cdef _Kernel K_MUL = _kernel("mul", 2, False, <void *>C.cg_mul_fwd_f32, <void *>C.cg_mul_fwd_f64, <void *>C.cg_mul_fwd_i64)
cdef _Kernel K_DIV = _kernel("div", 2, False, <void *>C.cg_div_fwd_f32, <void *>C.cg_div_fwd_f64, NULL)
cdef _Kernel K_POW = _kernel("pow", 2, False, <void *>C.cg_pow_fwd_f32, <void *>C.cg_pow_fwd_f64, <void *>C.cg_pow_fwd_i64)
cdef _Kernel K_NEG = _kernel("neg", 1, False, <void *>C.cg_neg_fwd_f32, <void *>C.cg_neg_fwd_f64, <void *>C.cg_neg_fwd_i64)
cdef _Kernel K_ABS = _kernel("abs", 1, False, <void *>C.cg_abs_fwd_f32, <void *>C.cg_abs_fwd_f64, <void *>C.cg_abs_fwd_i64)
cdef _Kernel K_EXP = _kernel("exp", 1, False, <void *>C.cg_exp_fwd_f32, <void *>C.cg_exp_fwd_f64, NULL)
cdef _Kernel K_LOG = _kernel("log", 1, False, <void *>C.cg_log_fwd_f32, <void *>C.cg_log_fwd_f64, NULL)
cdef _Kernel K_SQRT = _kernel("sqrt", 1, False, <void *>C.cg_sqrt_fwd_f32, <void *>C.cg_sqrt_fwd_f64, NULL)
cdef _Kernel K_SIN = _kernel("sin", 1, False, <void *>C.cg_sin_fwd_f32, <void *>C.cg_sin_fwd_f64, NULL)
cdef _Kernel K_COS = _kernel("cos", 1, False, <void *>C.cg_cos_fwd_f32, <void *>C.cg_cos_fwd_f64, NULL)
cdef _Kernel K_RELU = _kernel("relu", 1, False, <void *>C.cg_relu_fwd_f32, <void *>C.cg_relu_fwd_f64, <void *>C.cg_relu_fwd_i64)
cdef _Kernel K_SIGMOID = _kernel("sigmoid", 1, False, <void *>C.cg_sigmoid_fwd_f32, <void *>C.cg_sigmoid_fwd_f64, NULL)
cdef _Kernel K_TANH = _kernel("tanh", 1, False, <void *>C.cg_tanh_fwd_f32, <void *>C.cg_tanh_fwd_f64, NULL)
cdef _Kernel K_POW_SCALAR = _kernel("pow", 1, True, <void *>C.cg_pow_scalar_fwd_f32, <void *>C.cg_pow_scalar_fwd_f64, NULL)

cdef _Kernel K_RELU_BWD = _kernel("relu_backward", 2, False, <void *>C.cg_relu_bwd_f32, <void *>C.cg_relu_bwd_f64, NULL)
cdef _Kernel K_SIGMOID_BWD = _kernel("sigmoid_backward", 2, False, <void *>C.cg_sigmoid_bwd_f32, <void *>C.cg_sigmoid_bwd_f64, NULL)
cdef _Kernel K_TANH_BWD = _kernel("tanh_backward", 2, False, <void *>C.cg_tanh_bwd_f32, <void *>C.cg_tanh_bwd_f64, NULL)
cdef _Kernel K_ABS_BWD = _kernel("abs_backward", 2, False, <void *>C.cg_abs_bwd_f32, <void *>C.cg_abs_bwd_f64, NULL)
cdef _Kernel K_SQRT_BWD = _kernel("sqrt_backward", 2, False, <void *>C.cg_sqrt_bwd_f32, <void *>C.cg_sqrt_bwd_f64, NULL)
cdef _Kernel K_SIN_BWD = _kernel("sin_backward", 2, False, <void *>C.cg_sin_bwd_f32, <void *>C.cg_sin_bwd_f64, NULL)
cdef _Kernel K_COS_BWD = _kernel("cos_backward", 2, False, <void *>C.cg_cos_bwd_f32, <void *>C.cg_cos_bwd_f64, NULL)
cdef _Kernel K_POW_SCALAR_BWD = _kernel("pow_backward", 2, True, <void *>C.cg_pow_scalar_bwd_f32, <void *>C.cg_pow_scalar_bwd_f64, NULL)
cdef _Kernel K_POW_BWD_BASE = _kernel("pow_backward_self", 3, False, <void *>C.cg_pow_bwd_base_f32, <void *>C.cg_pow_bwd_base_f64, NULL)
cdef _Kernel K_POW_BWD_EXP = _kernel("pow_backward_exponent", 4, False, <void *>C.cg_pow_bwd_exp_f32, <void *>C.cg_pow_bwd_exp_f64, NULL)

# math ops (_ops_math.pxi); scalar arguments of where/clamp/softplus/norm travel as stride-0 operands
cdef _Kernel K_WHERE = _kernel("where", 3, False, <void *>C.cg_where_fwd_f32, <void *>C.cg_where_fwd_f64, <void *>C.cg_where_fwd_i64)
cdef _Kernel K_MAXIMUM = _kernel("maximum", 2, False, <void *>C.cg_maximum_fwd_f32, <void *>C.cg_maximum_fwd_f64, <void *>C.cg_maximum_fwd_i64)
cdef _Kernel K_MINIMUM = _kernel("minimum", 2, False, <void *>C.cg_minimum_fwd_f32, <void *>C.cg_minimum_fwd_f64, <void *>C.cg_minimum_fwd_i64)
cdef _Kernel K_CLAMP = _kernel("clamp", 3, False, <void *>C.cg_clamp_fwd_f32, <void *>C.cg_clamp_fwd_f64, <void *>C.cg_clamp_fwd_i64)
cdef _Kernel K_NONZERO_MASK = _kernel("nonzero_mask", 1, False, <void *>C.cg_nonzero_mask_f32, <void *>C.cg_nonzero_mask_f64, NULL)
cdef _Kernel K_NORM_INF_MASK = _kernel("norm_inf_mask", 2, False, <void *>C.cg_norm_inf_mask_f32, <void *>C.cg_norm_inf_mask_f64, NULL)
cdef _Kernel K_SIGN = _kernel("sign", 1, False, <void *>C.cg_sign_fwd_f32, <void *>C.cg_sign_fwd_f64, <void *>C.cg_sign_fwd_i64)
cdef _Kernel K_FLOOR = _kernel("floor", 1, False, <void *>C.cg_floor_fwd_f32, <void *>C.cg_floor_fwd_f64, <void *>C.cg_identity_fwd_i64)
cdef _Kernel K_CEIL = _kernel("ceil", 1, False, <void *>C.cg_ceil_fwd_f32, <void *>C.cg_ceil_fwd_f64, <void *>C.cg_identity_fwd_i64)
cdef _Kernel K_ROUND = _kernel("round", 1, False, <void *>C.cg_round_fwd_f32, <void *>C.cg_round_fwd_f64, <void *>C.cg_identity_fwd_i64)
cdef _Kernel K_ROUND_DECIMALS = _kernel("round", 1, True, <void *>C.cg_round_decimals_fwd_f32, <void *>C.cg_round_decimals_fwd_f64, NULL)
cdef _Kernel K_ERF = _kernel("erf", 1, False, <void *>C.cg_erf_fwd_f32, <void *>C.cg_erf_fwd_f64, NULL)
cdef _Kernel K_LOG1P = _kernel("log1p", 1, False, <void *>C.cg_log1p_fwd_f32, <void *>C.cg_log1p_fwd_f64, NULL)
cdef _Kernel K_EXPM1 = _kernel("expm1", 1, False, <void *>C.cg_expm1_fwd_f32, <void *>C.cg_expm1_fwd_f64, NULL)
cdef _Kernel K_RSQRT = _kernel("rsqrt", 1, False, <void *>C.cg_rsqrt_fwd_f32, <void *>C.cg_rsqrt_fwd_f64, NULL)
cdef _Kernel K_RECIPROCAL = _kernel("reciprocal", 1, False, <void *>C.cg_reciprocal_fwd_f32, <void *>C.cg_reciprocal_fwd_f64, NULL)
cdef _Kernel K_GELU = _kernel("gelu", 1, False, <void *>C.cg_gelu_fwd_f32, <void *>C.cg_gelu_fwd_f64, NULL)
cdef _Kernel K_GELU_TANH = _kernel("gelu", 1, False, <void *>C.cg_gelu_tanh_fwd_f32, <void *>C.cg_gelu_tanh_fwd_f64, NULL)
cdef _Kernel K_SILU = _kernel("silu", 1, False, <void *>C.cg_silu_fwd_f32, <void *>C.cg_silu_fwd_f64, NULL)
cdef _Kernel K_LEAKY_RELU = _kernel("leaky_relu", 1, True, <void *>C.cg_leaky_relu_fwd_f32, <void *>C.cg_leaky_relu_fwd_f64, NULL)
cdef _Kernel K_ELU = _kernel("elu", 1, True, <void *>C.cg_elu_fwd_f32, <void *>C.cg_elu_fwd_f64, NULL)
cdef _Kernel K_SOFTPLUS = _kernel("softplus", 3, False, <void *>C.cg_softplus_fwd_f32, <void *>C.cg_softplus_fwd_f64, NULL)

cdef _Kernel K_MAXIMUM_BWD = _kernel("maximum_backward", 3, False, <void *>C.cg_maximum_bwd_f32, <void *>C.cg_maximum_bwd_f64, NULL)
cdef _Kernel K_MINIMUM_BWD = _kernel("minimum_backward", 3, False, <void *>C.cg_minimum_bwd_f32, <void *>C.cg_minimum_bwd_f64, NULL)
cdef _Kernel K_CLAMP_BWD = _kernel("clamp_backward", 4, False, <void *>C.cg_clamp_bwd_f32, <void *>C.cg_clamp_bwd_f64, NULL)
cdef _Kernel K_CLAMP_MIN_BWD = _kernel("clamp_backward_min", 4, False, <void *>C.cg_clamp_min_bwd_f32, <void *>C.cg_clamp_min_bwd_f64, NULL)
cdef _Kernel K_CLAMP_MAX_BWD = _kernel("clamp_backward_max", 4, False, <void *>C.cg_clamp_max_bwd_f32, <void *>C.cg_clamp_max_bwd_f64, NULL)
cdef _Kernel K_GELU_BWD = _kernel("gelu_backward", 2, False, <void *>C.cg_gelu_bwd_f32, <void *>C.cg_gelu_bwd_f64, NULL)
cdef _Kernel K_GELU_TANH_BWD = _kernel("gelu_backward", 2, False, <void *>C.cg_gelu_tanh_bwd_f32, <void *>C.cg_gelu_tanh_bwd_f64, NULL)
cdef _Kernel K_SILU_BWD = _kernel("silu_backward", 2, False, <void *>C.cg_silu_bwd_f32, <void *>C.cg_silu_bwd_f64, NULL)
cdef _Kernel K_LEAKY_RELU_BWD = _kernel("leaky_relu_backward", 2, True, <void *>C.cg_leaky_relu_bwd_f32, <void *>C.cg_leaky_relu_bwd_f64, NULL)
cdef _Kernel K_ELU_BWD = _kernel("elu_backward", 2, True, <void *>C.cg_elu_bwd_f32, <void *>C.cg_elu_bwd_f64, NULL)
cdef _Kernel K_SOFTPLUS_BWD = _kernel("softplus_backward", 4, False, <void *>C.cg_softplus_bwd_f32, <void *>C.cg_softplus_bwd_f64, NULL)
cdef _Kernel K_VAR_DEGENERATE_BWD = _kernel("var_backward", 3, False, <void *>C.cg_var_degenerate_bwd_f32, <void *>C.cg_var_degenerate_bwd_f64, NULL)
cdef _Kernel K_NORM_BWD = _kernel("norm_backward", 4, False, <void *>C.cg_norm_bwd_f32, <void *>C.cg_norm_bwd_f64, NULL)


# ---- reductions over (outer, r, inner) views of a contiguous array ----

cdef inline int64_t _prod(tuple shape, Py_ssize_t start, Py_ssize_t stop):
    cdef int64_t p = 1
    cdef Py_ssize_t i
    for i in range(start, stop):
        p *= <int64_t>shape[i]
    return p


cdef ndarray _sum_axes(ndarray x, tuple axes, int out_code):
    """Sum of x over `axes` (sorted, distinct, in range), the reduced axes removed.
    Each run of adjacent reduced axes is one (outer, r, inner) kernel call, last run first."""
    cdef ndarray cur = _as_code(<ndarray>cnp.PyArray_GETCONTIGUOUS(x), out_code)
    cdef tuple shape = _shape(cur)
    cdef Py_ssize_t end = len(axes), start
    cdef int64_t outer, r, inner
    cdef ndarray res
    while end > 0:
        start = end - 1
        while start > 0 and axes[start - 1] == axes[start] - 1:
            start -= 1
        first, last = axes[start], axes[end - 1] + 1
        outer = _prod(shape, 0, first)
        r = _prod(shape, first, last)
        inner = _prod(shape, last, len(shape))
        res = _empty(shape[:first] + shape[last:], out_code)
        _sum_kernel(cur, res, outer, r, inner, out_code)
        cur = res
        shape = _shape(res)
        end = start
    if cur is x:
        return <ndarray>x.copy()
    return cur


cdef void _sum_kernel(ndarray x, ndarray out, int64_t outer, int64_t r, int64_t inner, int code) except *:
    cdef void *src = cnp.PyArray_DATA(x)
    cdef void *dst = cnp.PyArray_DATA(out)
    if outer * inner == 0:
        return
    with nogil:
        if code == FLOAT32:
            C.cg_sum_f32(<const float *>src, <float *>dst, outer, r, inner)
        elif code == FLOAT64:
            C.cg_sum_f64(<const double *>src, <double *>dst, outer, r, inner)
        else:
            C.cg_sum_i64(<const int64_t *>src, <int64_t *>dst, outer, r, inner)


cdef tuple _extreme_dim(ndarray x, int dim, bint is_max):
    """(values, indices) of the max or min of x along dim (the dim removed). x is not empty
    along dim; its dtype is float32, float64 or int64."""
    x = <ndarray>cnp.PyArray_GETCONTIGUOUS(x)
    cdef tuple shape = _shape(x)
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(x))
    cdef int64_t outer = _prod(shape, 0, dim), r = shape[dim], inner = _prod(shape, dim + 1, len(shape))
    cdef tuple out_shape = shape[:dim] + shape[dim + 1:]
    cdef ndarray values = _empty(out_shape, code), indices = _empty(out_shape, INT64)
    cdef void *src = cnp.PyArray_DATA(x)
    cdef void *vals = cnp.PyArray_DATA(values)
    cdef int64_t *idx = <int64_t *>cnp.PyArray_DATA(indices)
    if outer * inner > 0:
        with nogil:
            if code == FLOAT32:
                (C.cg_max_f32 if is_max else C.cg_min_f32)(<const float *>src, <float *>vals, idx, outer, r, inner)
            elif code == FLOAT64:
                (C.cg_max_f64 if is_max else C.cg_min_f64)(<const double *>src, <double *>vals, idx, outer, r, inner)
            else:
                (C.cg_max_i64 if is_max else C.cg_min_i64)(<const int64_t *>src, <int64_t *>vals, idx, outer, r, inner)
    return values, indices


cdef ndarray _index_backward(ndarray gy, ndarray indices, tuple in_shape, int dim):
    """The gradient of a selection along dim: zeros of in_shape with gy at the selected indices."""
    gy = <ndarray>cnp.PyArray_GETCONTIGUOUS(gy)
    indices = <ndarray>cnp.PyArray_GETCONTIGUOUS(indices)
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(gy))
    cdef int64_t outer = _prod(in_shape, 0, dim), r = in_shape[dim], inner = _prod(in_shape, dim + 1, len(in_shape))
    cdef ndarray gx = _empty(in_shape, code)
    cdef void *g = cnp.PyArray_DATA(gy)
    cdef const int64_t *idx = <const int64_t *>cnp.PyArray_DATA(indices)
    cdef void *dst = cnp.PyArray_DATA(gx)
    if outer * r * inner > 0:
        if code == FLOAT32:
            C.cg_index_bwd_f32(<const float *>g, idx, <float *>dst, outer, r, inner)
        else:
            C.cg_index_bwd_f64(<const double *>g, idx, <double *>dst, outer, r, inner)
    return gx


cdef ndarray _extreme_backward(ndarray x, object value, object gy):
    """Whole-tensor max/min gradient: gy shared equally among the elements equal to value."""
    x = <ndarray>cnp.PyArray_GETCONTIGUOUS(x)
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(x))
    cdef ndarray gx = _empty(_shape(x), code)
    cdef int64_t n = cnp.PyArray_SIZE(x)
    if code == FLOAT32:
        C.cg_extreme_bwd_f32(<const float *>cnp.PyArray_DATA(x), value, gy, <float *>cnp.PyArray_DATA(gx), n)
    else:
        C.cg_extreme_bwd_f64(<const double *>cnp.PyArray_DATA(x), value, gy, <double *>cnp.PyArray_DATA(gx), n)
    return gx


# ---- softmax family over dim: (outer, r, inner) ----

cdef enum _SoftmaxKind:
    SOFTMAX_FWD, SOFTMAX_BWD, LOG_SOFTMAX_FWD, LOG_SOFTMAX_BWD


cdef ndarray _softmax_family(int kind, ndarray x, ndarray gy, int dim):
    """kind's forward (from x) or backward (from the forward output x and the gradient gy)."""
    x = <ndarray>cnp.PyArray_GETCONTIGUOUS(x)
    cdef tuple shape = _shape(x)
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(x))
    cdef int64_t outer = _prod(shape, 0, dim), r = shape[dim], inner = _prod(shape, dim + 1, len(shape))
    cdef ndarray out = _empty(shape, code)
    cdef void *src = cnp.PyArray_DATA(x)
    cdef void *g = NULL
    cdef void *dst = cnp.PyArray_DATA(out)
    if gy is not None:
        gy = _as_code(<ndarray>cnp.PyArray_GETCONTIGUOUS(gy), code)
        g = cnp.PyArray_DATA(gy)
    if outer * r * inner == 0:
        return out
    with nogil:
        if code == FLOAT32:
            if kind == SOFTMAX_FWD:
                C.cg_softmax_fwd_f32(<const float *>src, <float *>dst, outer, r, inner)
            elif kind == SOFTMAX_BWD:
                C.cg_softmax_bwd_f32(<const float *>src, <const float *>g, <float *>dst, outer, r, inner)
            elif kind == LOG_SOFTMAX_FWD:
                C.cg_log_softmax_fwd_f32(<const float *>src, <float *>dst, outer, r, inner)
            else:
                C.cg_log_softmax_bwd_f32(<const float *>src, <const float *>g, <float *>dst, outer, r, inner)
        else:
            if kind == SOFTMAX_FWD:
                C.cg_softmax_fwd_f64(<const double *>src, <double *>dst, outer, r, inner)
            elif kind == SOFTMAX_BWD:
                C.cg_softmax_bwd_f64(<const double *>src, <const double *>g, <double *>dst, outer, r, inner)
            elif kind == LOG_SOFTMAX_FWD:
                C.cg_log_softmax_fwd_f64(<const double *>src, <double *>dst, outer, r, inner)
            else:
                C.cg_log_softmax_bwd_f64(<const double *>src, <const double *>g, <double *>dst, outer, r, inner)
    return out


# ---- matrix products ----

cdef ndarray _matmul(ndarray a, ndarray b, tuple out_shape, int code):
    """Batched a @ b for arrays of ndim >= 2 whose batch dimensions broadcast to out_shape[:-2].
    Operands are read through their strides (a transposed view costs no copy)."""
    cdef int nd = len(out_shape), d, nda = cnp.PyArray_NDIM(a), ndb = cnp.PyArray_NDIM(b)
    cdef int itemsize = _dtype_of_code(code).itemsize
    cdef ndarray out = _empty(out_shape, code)
    cdef int64_t M = out_shape[nd - 2], N = out_shape[nd - 1], K = cnp.PyArray_DIM(a, nda - 1)
    cdef int64_t rsa = cnp.PyArray_STRIDE(a, nda - 2) // itemsize, csa = cnp.PyArray_STRIDE(a, nda - 1) // itemsize
    cdef int64_t rsb = cnp.PyArray_STRIDE(b, ndb - 2) // itemsize, csb = cnp.PyArray_STRIDE(b, ndb - 1) // itemsize
    cdef int64_t batch = _prod(out_shape, 0, nd - 2), i, rem, idx, off_a, off_b
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    cdef char *pc = <char *>cnp.PyArray_DATA(out)
    cdef int64_t out_step = M * N * itemsize
    if M * N == 0:
        return out
    # batch offsets of a and b for each output batch index (broadcast dims contribute nothing)
    cdef int64_t[64] bshape, astr, bstr
    for d in range(nd - 2):
        bshape[d] = out_shape[d]
        idx = nda - nd + d
        astr[d] = cnp.PyArray_STRIDE(a, idx) if idx >= 0 and cnp.PyArray_DIM(a, idx) != 1 else 0
        idx = ndb - nd + d
        bstr[d] = cnp.PyArray_STRIDE(b, idx) if idx >= 0 and cnp.PyArray_DIM(b, idx) != 1 else 0
    with nogil:
        for i in range(batch):
            rem = i
            off_a = 0
            off_b = 0
            for d in range(nd - 3, -1, -1):
                idx = rem % bshape[d]
                rem = rem // bshape[d]
                off_a += idx * astr[d]
                off_b += idx * bstr[d]
            if code == FLOAT32:
                C.cg_gemm_f32(M, N, K, 1.0, <const float *>(pa + off_a), rsa, csa,
                              <const float *>(pb + off_b), rsb, csb,
                              0.0, <float *>(pc + i * out_step), N, 1)
            elif code == FLOAT64:
                C.cg_gemm_f64(M, N, K, 1.0, <const double *>(pa + off_a), rsa, csa,
                              <const double *>(pb + off_b), rsb, csb,
                              0.0, <double *>(pc + i * out_step), N, 1)
            else:
                C.cg_gemm_i64(M, N, K, <const int64_t *>(pa + off_a), rsa, csa,
                              <const int64_t *>(pb + off_b), rsb, csb,
                              <int64_t *>(pc + i * out_step), N, 1)
    return out
