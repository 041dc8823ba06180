# The CPU backend: array-level primitives over numpy ndarrays. It allocates outputs, converts
# operands to the computation dtype, describes broadcasting to the kernels by strides, picks the
# kernel for the dtype and releases the GIL for large calls. No autograd here, no tensors: ops
# (the _ops_*.pxi files) are written against these functions only.
from libc.stdint cimport int64_t
from libc.stdint cimport uint8_t
from libc.string cimport memset
cimport cygrad._C as C

# Below this many elements a kernel runs with the GIL held: releasing and re-taking it costs more
# than the work it would let other threads do.
cdef enum:
    NOGIL_MIN_ELEMENTS = 32768

cdef class _Kernel:
    """One elementwise kernel family: its name, arity, and the C function per dtype (NULL: none)."""
    cdef str name
    cdef str key           # unique among kernels (name, unless two share it): the device backends' key
    cdef int arity
    cdef bint has_param
    cdef bint predicate    # computes in the operands' dtype but writes bool (comparisons, isnan...)
    cdef void *f32
    cdef void *f64
    cdef void *i64
    cdef void *u8          # for bool operands; NULL: they compute through the int64 kernel
    cdef int64_t grain     # elements per thread below which a call is not split (parallel.h)


cdef list _ELEMENTWISE_KERNELS = []   # every _Kernel, in table order (the device backends implement each)


cdef _Kernel _kernel(str name, int arity, bint has_param, void *f32, void *f64, void *i64):
    cdef _Kernel k = _Kernel.__new__(_Kernel)
    k.name = name
    k.key = name
    _ELEMENTWISE_KERNELS.append(k)
    k.arity = arity
    k.has_param = has_param
    k.f32 = f32
    k.f64 = f64
    k.i64 = i64
    k.grain = C.CG_GRAIN_CHEAP
    return k


cdef _Kernel _predicate_kernel(str name, int arity, void *f32, void *f64, void *i64):
    """A kernel family whose output is bool whatever dtype it computes in."""
    cdef _Kernel k = _kernel(name, arity, False, f32, f64, i64)
    k.predicate = True
    return k


cdef _Kernel _bool_capable(_Kernel k, void *u8):
    """k with a kernel of its own for bool operands (uint8 0/1), so that masks are combined
    without converting them to int64 and back."""
    k.u8 = u8
    return k


cdef _Kernel _transcendental(_Kernel k):
    """k, split across threads at a smaller size: each element costs an exp, log, tanh..."""
    k.grain = C.CG_GRAIN_TRANSCENDENTAL
    return k


cdef inline tuple _shape(object a):
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
    uint8_t u8


cdef void *_box_scalar(_ScalarBox *box, object value, int code) except NULL:
    """Stores a Python number in the computation dtype; kernels read it with stride 0."""
    if code == FLOAT32:
        box.f32 = value
    elif code == FLOAT64:
        box.f64 = value
    elif code == BOOL:
        box.u8 = value
    else:
        box.i64 = value
    return box


cdef void _fill_iter(C.cg_iter *it, ndarray out, tuple shape, list arrays) except *:
    """Describes the broadcast iteration to the kernels: element strides per operand (0 along
    broadcast dimensions and for scalars, which are None in `arrays`), then merges dimensions
    that every operand walks contiguously so the inner loop is as long as possible. Each
    operand's strides count its own elements (a bool output beside float inputs is fine)."""
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
        it.strides[0][k] = cnp.PyArray_STRIDE(out, d) // cnp.PyArray_ITEMSIZE(out)
        for op in range(1, nops):
            a = <ndarray>arrays[op - 1]
            if a is None:
                it.strides[op][k] = 0
                continue
            src = cnp.PyArray_NDIM(a) - ndim + d
            if src < 0 or cnp.PyArray_DIM(a, src) == 1:
                it.strides[op][k] = 0
            else:
                it.strides[op][k] = cnp.PyArray_STRIDE(a, src) // cnp.PyArray_ITEMSIZE(a)
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


cdef ndarray _cpu_elementwise(_Kernel k, int code, tuple operands, ndarray out=None, double param=0.0):
    """out = k(operands...) computed in dtype `code`, with broadcasting.

    operands are ndarrays (any strides, any dtype: converted to `code`) or Python numbers.
    out, when given, is written in place (any strides); it must have the broadcast shape.
    int32, and bool unless k has a bool kernel, compute through the int64 kernels and are
    converted back. A predicate kernel computes in `code` too, but its output (and out) is bool."""
    cdef int kernel_code = INT64 if code == INT32 or (code == BOOL and k.u8 == NULL) else code
    cdef int out_code = BOOL if k.predicate else kernel_code      # what the kernel writes
    cdef int result_code = BOOL if k.predicate else code          # what the caller gets
    cdef void *fn = (k.f32 if kernel_code == FLOAT32 else k.f64 if kernel_code == FLOAT64 else
                     k.i64 if kernel_code == INT64 else k.u8)
    if fn == NULL:
        raise RuntimeError(f'"{k.name}" not implemented for \'{_SCALAR_TYPE_NAMES[code]}\'')
    cdef list arrays = []
    cdef _ScalarBox boxes[4]
    cdef C.cg_elementwise_call call
    call.kernel = fn
    call.arity = k.arity
    call.has_param = k.has_param
    call.param = param
    cdef tuple shape = ()
    cdef Py_ssize_t i
    cdef ndarray a
    cdef object operand
    for i in range(k.arity):
        operand = operands[i]
        if isinstance(operand, ndarray):
            a = _as_code(<ndarray>operand, kernel_code)
            arrays.append(a)
            call.inputs[i] = cnp.PyArray_DATA(a)
            call.itemsize[i + 1] = cnp.PyArray_ITEMSIZE(a)
            shape = _broadcast_shapes(shape, _shape(a))
        else:
            arrays.append(None)
            call.inputs[i] = _box_scalar(&boxes[i], operand, kernel_code)
            call.itemsize[i + 1] = 0  # read with stride 0: never offset
    cdef ndarray result = out
    if out is not None:
        if _shape(out) != shape and _broadcast_shapes(_shape(out), shape) != _shape(out):
            raise RuntimeError(f"output with shape {list(_shape(out))} doesn't match the broadcast "
                               f"shape {list(_broadcast_shapes(_shape(out), shape))}")
        shape = _shape(out)
        if cnp.PyArray_TYPE(out) != _dtype_of_code(out_code).typenum:
            result = None  # compute in the kernel's dtype, then convert into out
    if result is None:
        result = _empty(shape, out_code)
    cdef int64_t n = cnp.PyArray_SIZE(result)
    cdef C.cg_iter it
    call.out = cnp.PyArray_DATA(result)
    call.itemsize[0] = cnp.PyArray_ITEMSIZE(result)
    if n > 0:
        _fill_iter(&it, result, shape, arrays)
        if n >= NOGIL_MIN_ELEMENTS:
            with nogil:
                C.cg_elementwise_run(&call, &it, k.grain)
        else:
            C.cg_elementwise_run(&call, &it, k.grain)
    if out is not None:
        if result is not out:
            out[...] = result
        return out
    if out_code != result_code:
        return _as_code(result, result_code)
    return result


# ---- the elementwise kernel table: one line per kernel family ----
cdef _Kernel K_ADD = _kernel("add", 2, False, <void *>C.cg_add_fwd_f32, <void *>C.cg_add_fwd_f64, <void *>C.cg_add_fwd_i64)
cdef _Kernel K_SUB = _kernel("sub", 2, False, <void *>C.cg_sub_fwd_f32, <void *>C.cg_sub_fwd_f64, <void *>C.cg_sub_fwd_i64)
cdef _Kernel K_MUL = _kernel("mul", 2, False, <void *>C.cg_mul_fwd_f32, <void *>C.cg_mul_fwd_f64, <void *>C.cg_mul_fwd_i64)
cdef _Kernel K_DIV = _kernel("div", 2, False, <void *>C.cg_div_fwd_f32, <void *>C.cg_div_fwd_f64, NULL)
cdef _Kernel K_POW = _transcendental(_kernel("pow", 2, False, <void *>C.cg_pow_fwd_f32, <void *>C.cg_pow_fwd_f64, <void *>C.cg_pow_fwd_i64))
cdef _Kernel K_NEG = _kernel("neg", 1, False, <void *>C.cg_neg_fwd_f32, <void *>C.cg_neg_fwd_f64, <void *>C.cg_neg_fwd_i64)
cdef _Kernel K_ABS = _kernel("abs", 1, False, <void *>C.cg_abs_fwd_f32, <void *>C.cg_abs_fwd_f64, <void *>C.cg_abs_fwd_i64)
cdef _Kernel K_EXP = _transcendental(_kernel("exp", 1, False, <void *>C.cg_exp_fwd_f32, <void *>C.cg_exp_fwd_f64, NULL))
cdef _Kernel K_LOG = _transcendental(_kernel("log", 1, False, <void *>C.cg_log_fwd_f32, <void *>C.cg_log_fwd_f64, NULL))
cdef _Kernel K_SQRT = _kernel("sqrt", 1, False, <void *>C.cg_sqrt_fwd_f32, <void *>C.cg_sqrt_fwd_f64, NULL)
cdef _Kernel K_SIN = _transcendental(_kernel("sin", 1, False, <void *>C.cg_sin_fwd_f32, <void *>C.cg_sin_fwd_f64, NULL))
cdef _Kernel K_COS = _transcendental(_kernel("cos", 1, False, <void *>C.cg_cos_fwd_f32, <void *>C.cg_cos_fwd_f64, NULL))
cdef _Kernel K_RELU = _kernel("relu", 1, False, <void *>C.cg_relu_fwd_f32, <void *>C.cg_relu_fwd_f64, <void *>C.cg_relu_fwd_i64)
cdef _Kernel K_SIGMOID = _transcendental(_kernel("sigmoid", 1, False, <void *>C.cg_sigmoid_fwd_f32, <void *>C.cg_sigmoid_fwd_f64, NULL))
cdef _Kernel K_TANH = _transcendental(_kernel("tanh", 1, False, <void *>C.cg_tanh_fwd_f32, <void *>C.cg_tanh_fwd_f64, NULL))
cdef _Kernel K_POW_SCALAR = _transcendental(_kernel("pow", 1, True, <void *>C.cg_pow_scalar_fwd_f32, <void *>C.cg_pow_scalar_fwd_f64, NULL))

cdef _Kernel K_RELU_BWD = _kernel("relu_backward", 2, False, <void *>C.cg_relu_bwd_f32, <void *>C.cg_relu_bwd_f64, NULL)
cdef _Kernel K_SIGMOID_BWD = _kernel("sigmoid_backward", 2, False, <void *>C.cg_sigmoid_bwd_f32, <void *>C.cg_sigmoid_bwd_f64, NULL)
cdef _Kernel K_TANH_BWD = _kernel("tanh_backward", 2, False, <void *>C.cg_tanh_bwd_f32, <void *>C.cg_tanh_bwd_f64, NULL)
cdef _Kernel K_ABS_BWD = _kernel("abs_backward", 2, False, <void *>C.cg_abs_bwd_f32, <void *>C.cg_abs_bwd_f64, NULL)
cdef _Kernel K_SQRT_BWD = _kernel("sqrt_backward", 2, False, <void *>C.cg_sqrt_bwd_f32, <void *>C.cg_sqrt_bwd_f64, NULL)
cdef _Kernel K_SIN_BWD = _transcendental(_kernel("sin_backward", 2, False, <void *>C.cg_sin_bwd_f32, <void *>C.cg_sin_bwd_f64, NULL))
cdef _Kernel K_COS_BWD = _transcendental(_kernel("cos_backward", 2, False, <void *>C.cg_cos_bwd_f32, <void *>C.cg_cos_bwd_f64, NULL))
cdef _Kernel K_POW_SCALAR_BWD = _transcendental(_kernel("pow_backward", 2, True, <void *>C.cg_pow_scalar_bwd_f32, <void *>C.cg_pow_scalar_bwd_f64, NULL))
cdef _Kernel K_POW_BWD_BASE = _transcendental(_kernel("pow_backward_self", 3, False, <void *>C.cg_pow_bwd_base_f32, <void *>C.cg_pow_bwd_base_f64, NULL))
cdef _Kernel K_POW_BWD_EXP = _transcendental(_kernel("pow_backward_exponent", 4, False, <void *>C.cg_pow_bwd_exp_f32, <void *>C.cg_pow_bwd_exp_f64, NULL))

# comparisons, logic and floating-point classes write bool (predicates); bitwise ops take integers
# and bools; the bool kernels (_bool_capable) spare masks a round trip through int64
cdef _Kernel K_EQ = _bool_capable(_predicate_kernel("eq", 2, <void *>C.cg_eq_fwd_f32, <void *>C.cg_eq_fwd_f64, <void *>C.cg_eq_fwd_i64), <void *>C.cg_eq_fwd_u8)
cdef _Kernel K_NE = _bool_capable(_predicate_kernel("ne", 2, <void *>C.cg_ne_fwd_f32, <void *>C.cg_ne_fwd_f64, <void *>C.cg_ne_fwd_i64), <void *>C.cg_ne_fwd_u8)
cdef _Kernel K_LT = _bool_capable(_predicate_kernel("lt", 2, <void *>C.cg_lt_fwd_f32, <void *>C.cg_lt_fwd_f64, <void *>C.cg_lt_fwd_i64), <void *>C.cg_lt_fwd_u8)
cdef _Kernel K_LE = _bool_capable(_predicate_kernel("le", 2, <void *>C.cg_le_fwd_f32, <void *>C.cg_le_fwd_f64, <void *>C.cg_le_fwd_i64), <void *>C.cg_le_fwd_u8)
cdef _Kernel K_GT = _bool_capable(_predicate_kernel("gt", 2, <void *>C.cg_gt_fwd_f32, <void *>C.cg_gt_fwd_f64, <void *>C.cg_gt_fwd_i64), <void *>C.cg_gt_fwd_u8)
cdef _Kernel K_GE = _bool_capable(_predicate_kernel("ge", 2, <void *>C.cg_ge_fwd_f32, <void *>C.cg_ge_fwd_f64, <void *>C.cg_ge_fwd_i64), <void *>C.cg_ge_fwd_u8)
cdef _Kernel K_LOGICAL_AND = _bool_capable(_predicate_kernel("logical_and", 2, <void *>C.cg_logical_and_fwd_f32, <void *>C.cg_logical_and_fwd_f64, <void *>C.cg_logical_and_fwd_i64), <void *>C.cg_logical_and_fwd_u8)
cdef _Kernel K_LOGICAL_OR = _bool_capable(_predicate_kernel("logical_or", 2, <void *>C.cg_logical_or_fwd_f32, <void *>C.cg_logical_or_fwd_f64, <void *>C.cg_logical_or_fwd_i64), <void *>C.cg_logical_or_fwd_u8)
cdef _Kernel K_LOGICAL_XOR = _bool_capable(_predicate_kernel("logical_xor", 2, <void *>C.cg_logical_xor_fwd_f32, <void *>C.cg_logical_xor_fwd_f64, <void *>C.cg_logical_xor_fwd_i64), <void *>C.cg_logical_xor_fwd_u8)
cdef _Kernel K_LOGICAL_NOT = _bool_capable(_predicate_kernel("logical_not", 1, <void *>C.cg_logical_not_fwd_f32, <void *>C.cg_logical_not_fwd_f64, <void *>C.cg_logical_not_fwd_i64), <void *>C.cg_logical_not_fwd_u8)
cdef _Kernel K_ISNAN = _predicate_kernel("isnan", 1, <void *>C.cg_isnan_fwd_f32, <void *>C.cg_isnan_fwd_f64, NULL)
cdef _Kernel K_ISINF = _predicate_kernel("isinf", 1, <void *>C.cg_isinf_fwd_f32, <void *>C.cg_isinf_fwd_f64, NULL)
cdef _Kernel K_ISFINITE = _predicate_kernel("isfinite", 1, <void *>C.cg_isfinite_fwd_f32, <void *>C.cg_isfinite_fwd_f64, NULL)
cdef _Kernel K_BITWISE_AND = _bool_capable(_kernel("bitwise_and", 2, False, NULL, NULL, <void *>C.cg_bitwise_and_fwd_i64), <void *>C.cg_bitwise_and_fwd_u8)
cdef _Kernel K_BITWISE_OR = _bool_capable(_kernel("bitwise_or", 2, False, NULL, NULL, <void *>C.cg_bitwise_or_fwd_i64), <void *>C.cg_bitwise_or_fwd_u8)
cdef _Kernel K_BITWISE_XOR = _bool_capable(_kernel("bitwise_xor", 2, False, NULL, NULL, <void *>C.cg_bitwise_xor_fwd_i64), <void *>C.cg_bitwise_xor_fwd_u8)
cdef _Kernel K_BITWISE_NOT = _kernel("bitwise_not", 1, False, NULL, NULL, <void *>C.cg_bitwise_not_fwd_i64)

# math ops (_ops_math.pxi); scalar arguments of where/clamp/softplus travel as stride-0 operands
cdef _Kernel K_WHERE = _kernel("where", 3, False, <void *>C.cg_where_fwd_f32, <void *>C.cg_where_fwd_f64, <void *>C.cg_where_fwd_i64)
cdef _Kernel K_MAXIMUM = _kernel("maximum", 2, False, <void *>C.cg_maximum_fwd_f32, <void *>C.cg_maximum_fwd_f64, <void *>C.cg_maximum_fwd_i64)
cdef _Kernel K_MINIMUM = _kernel("minimum", 2, False, <void *>C.cg_minimum_fwd_f32, <void *>C.cg_minimum_fwd_f64, <void *>C.cg_minimum_fwd_i64)
cdef _Kernel K_CLAMP = _kernel("clamp", 3, False, <void *>C.cg_clamp_fwd_f32, <void *>C.cg_clamp_fwd_f64, <void *>C.cg_clamp_fwd_i64)
cdef _Kernel K_NORM_INF_MASK = _kernel("norm_inf_mask", 2, False, <void *>C.cg_norm_inf_mask_f32, <void *>C.cg_norm_inf_mask_f64, NULL)
cdef _Kernel K_SIGN = _kernel("sign", 1, False, <void *>C.cg_sign_fwd_f32, <void *>C.cg_sign_fwd_f64, <void *>C.cg_sign_fwd_i64)
cdef _Kernel K_FLOOR = _kernel("floor", 1, False, <void *>C.cg_floor_fwd_f32, <void *>C.cg_floor_fwd_f64, <void *>C.cg_identity_fwd_i64)
cdef _Kernel K_CEIL = _kernel("ceil", 1, False, <void *>C.cg_ceil_fwd_f32, <void *>C.cg_ceil_fwd_f64, <void *>C.cg_identity_fwd_i64)
cdef _Kernel K_ROUND = _kernel("round", 1, False, <void *>C.cg_round_fwd_f32, <void *>C.cg_round_fwd_f64, <void *>C.cg_identity_fwd_i64)
cdef _Kernel K_ROUND_DECIMALS = _kernel("round", 1, True, <void *>C.cg_round_decimals_fwd_f32, <void *>C.cg_round_decimals_fwd_f64, NULL)
cdef _Kernel K_ERF = _transcendental(_kernel("erf", 1, False, <void *>C.cg_erf_fwd_f32, <void *>C.cg_erf_fwd_f64, NULL))
cdef _Kernel K_LOG1P = _transcendental(_kernel("log1p", 1, False, <void *>C.cg_log1p_fwd_f32, <void *>C.cg_log1p_fwd_f64, NULL))
cdef _Kernel K_EXPM1 = _transcendental(_kernel("expm1", 1, False, <void *>C.cg_expm1_fwd_f32, <void *>C.cg_expm1_fwd_f64, NULL))
cdef _Kernel K_RSQRT = _kernel("rsqrt", 1, False, <void *>C.cg_rsqrt_fwd_f32, <void *>C.cg_rsqrt_fwd_f64, NULL)
cdef _Kernel K_RECIPROCAL = _kernel("reciprocal", 1, False, <void *>C.cg_reciprocal_fwd_f32, <void *>C.cg_reciprocal_fwd_f64, NULL)
cdef _Kernel K_GELU = _transcendental(_kernel("gelu", 1, False, <void *>C.cg_gelu_fwd_f32, <void *>C.cg_gelu_fwd_f64, NULL))
cdef _Kernel K_GELU_TANH = _transcendental(_kernel("gelu", 1, False, <void *>C.cg_gelu_tanh_fwd_f32, <void *>C.cg_gelu_tanh_fwd_f64, NULL))
cdef _Kernel K_SILU = _transcendental(_kernel("silu", 1, False, <void *>C.cg_silu_fwd_f32, <void *>C.cg_silu_fwd_f64, NULL))
cdef _Kernel K_LEAKY_RELU = _kernel("leaky_relu", 1, True, <void *>C.cg_leaky_relu_fwd_f32, <void *>C.cg_leaky_relu_fwd_f64, NULL)
cdef _Kernel K_ELU = _transcendental(_kernel("elu", 1, True, <void *>C.cg_elu_fwd_f32, <void *>C.cg_elu_fwd_f64, NULL))
cdef _Kernel K_SOFTPLUS = _transcendental(_kernel("softplus", 3, False, <void *>C.cg_softplus_fwd_f32, <void *>C.cg_softplus_fwd_f64, NULL))

cdef _Kernel K_MAXIMUM_BWD = _kernel("maximum_backward", 3, False, <void *>C.cg_maximum_bwd_f32, <void *>C.cg_maximum_bwd_f64, NULL)
cdef _Kernel K_MINIMUM_BWD = _kernel("minimum_backward", 3, False, <void *>C.cg_minimum_bwd_f32, <void *>C.cg_minimum_bwd_f64, NULL)
cdef _Kernel K_CLAMP_BWD = _kernel("clamp_backward", 4, False, <void *>C.cg_clamp_bwd_f32, <void *>C.cg_clamp_bwd_f64, NULL)
cdef _Kernel K_CLAMP_MIN_BWD = _kernel("clamp_backward_min", 4, False, <void *>C.cg_clamp_min_bwd_f32, <void *>C.cg_clamp_min_bwd_f64, NULL)
cdef _Kernel K_CLAMP_MAX_BWD = _kernel("clamp_backward_max", 4, False, <void *>C.cg_clamp_max_bwd_f32, <void *>C.cg_clamp_max_bwd_f64, NULL)
cdef _Kernel K_GELU_BWD = _transcendental(_kernel("gelu_backward", 2, False, <void *>C.cg_gelu_bwd_f32, <void *>C.cg_gelu_bwd_f64, NULL))
cdef _Kernel K_GELU_TANH_BWD = _transcendental(_kernel("gelu_backward", 2, False, <void *>C.cg_gelu_tanh_bwd_f32, <void *>C.cg_gelu_tanh_bwd_f64, NULL))
cdef _Kernel K_SILU_BWD = _transcendental(_kernel("silu_backward", 2, False, <void *>C.cg_silu_bwd_f32, <void *>C.cg_silu_bwd_f64, NULL))
cdef _Kernel K_LEAKY_RELU_BWD = _kernel("leaky_relu_backward", 2, True, <void *>C.cg_leaky_relu_bwd_f32, <void *>C.cg_leaky_relu_bwd_f64, NULL)
cdef _Kernel K_ELU_BWD = _transcendental(_kernel("elu_backward", 2, True, <void *>C.cg_elu_bwd_f32, <void *>C.cg_elu_bwd_f64, NULL))
cdef _Kernel K_SOFTPLUS_BWD = _transcendental(_kernel("softplus_backward", 4, False, <void *>C.cg_softplus_bwd_f32, <void *>C.cg_softplus_bwd_f64, NULL))

# keys of the kernels that share a name (the name is what error messages show)
K_POW_SCALAR.key = "pow_scalar"
K_POW_SCALAR_BWD.key = "pow_scalar_backward"
K_ROUND_DECIMALS.key = "round_decimals"
K_GELU_TANH.key = "gelu_tanh"
K_GELU_TANH_BWD.key = "gelu_tanh_backward"


# ---- reductions over (outer, r, inner) views of a contiguous array ----

cdef inline int64_t _prod(tuple shape, Py_ssize_t start, Py_ssize_t stop):
    cdef int64_t p = 1
    cdef Py_ssize_t i
    for i in range(start, stop):
        p *= <int64_t>shape[i]
    return p


cdef ndarray _cpu_sum_axes(ndarray x, tuple axes, int out_code):
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


cdef tuple _cpu_extreme_dim(ndarray x, int dim, bint is_max):
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


cdef ndarray _cpu_index_backward(ndarray gy, ndarray indices, tuple in_shape, int dim):
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


cdef ndarray _cpu_extreme_backward(ndarray x, object value, object gy):
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


cdef ndarray _cpu_softmax_family(int kind, ndarray x, ndarray gy, int dim):
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

cdef ndarray _cpu_matmul(ndarray a, ndarray b, tuple out_shape, int code):
    """Batched a @ b for arrays of ndim >= 2 whose batch dimensions broadcast to out_shape[:-2].
    Operands are read through their strides (a transposed view costs no copy). Batch dims are
    merged into one strided batch where the strides allow (always for bmm, contiguous operands and
    an operand broadcast along every batch dim), so most products are one batched kernel call:
    the GIL is released once and threads are shared across the batch."""
    cdef int nd = len(out_shape), d, nda = cnp.PyArray_NDIM(a), ndb = cnp.PyArray_NDIM(b)
    cdef int nbd = nd - 2, inner_first
    cdef int itemsize = _dtype_of_code(code).itemsize
    cdef ndarray out = _empty(out_shape, code)
    cdef int64_t M = out_shape[nd - 2], N = out_shape[nd - 1], K = cnp.PyArray_DIM(a, nda - 1)
    cdef int64_t rsa = cnp.PyArray_STRIDE(a, nda - 2) // itemsize, csa = cnp.PyArray_STRIDE(a, nda - 1) // itemsize
    cdef int64_t rsb = cnp.PyArray_STRIDE(b, ndb - 2) // itemsize, csb = cnp.PyArray_STRIDE(b, ndb - 1) // itemsize
    cdef int64_t i, o, rem, idx, off_a, off_b, off_c, inner = 1, outer = 1, bsa = 0, bsb = 0, bsc = 0
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    cdef char *pc = <char *>cnp.PyArray_DATA(out)
    if M * N == 0 or _prod(out_shape, 0, nbd) == 0:
        return out
    # byte strides of each batch dim (0 where an operand is broadcast)
    cdef int64_t[64] bshape, astr, bstr, cstr
    for d in range(nbd):
        bshape[d] = out_shape[d]
        idx = nda - nd + d
        astr[d] = cnp.PyArray_STRIDE(a, idx) if idx >= 0 and cnp.PyArray_DIM(a, idx) != 1 else 0
        idx = ndb - nd + d
        bstr[d] = cnp.PyArray_STRIDE(b, idx) if idx >= 0 and cnp.PyArray_DIM(b, idx) != 1 else 0
        cstr[d] = cnp.PyArray_STRIDE(out, d)
    # the innermost batch dims that merge into one strided batch; the others are looped over
    inner_first = nbd
    if nbd > 0:
        inner_first = nbd - 1
        while inner_first > 0 and astr[inner_first - 1] == astr[inner_first] * bshape[inner_first] \
                and bstr[inner_first - 1] == bstr[inner_first] * bshape[inner_first]:
            inner_first -= 1
        inner = _prod(out_shape, inner_first, nbd)
        outer = _prod(out_shape, 0, inner_first)
        bsa = astr[nbd - 1] // itemsize
        bsb = bstr[nbd - 1] // itemsize
        bsc = cstr[nbd - 1] // itemsize
    with nogil:
        for o in range(outer):
            rem = o
            off_a = 0
            off_b = 0
            off_c = 0
            for d in range(inner_first - 1, -1, -1):
                idx = rem % bshape[d]
                rem = rem // bshape[d]
                off_a += idx * astr[d]
                off_b += idx * bstr[d]
                off_c += idx * cstr[d]
            if code == FLOAT32:
                C.cg_gemm_batched_f32(inner, M, N, K, 1.0, <const float *>(pa + off_a), bsa, rsa, csa,
                                      <const float *>(pb + off_b), bsb, rsb, csb,
                                      0.0, <float *>(pc + off_c), bsc, N, 1)
            elif code == FLOAT64:
                C.cg_gemm_batched_f64(inner, M, N, K, 1.0, <const double *>(pa + off_a), bsa, rsa, csa,
                                      <const double *>(pb + off_b), bsb, rsb, csb,
                                      0.0, <double *>(pc + off_c), bsc, N, 1)
            else:
                for i in range(inner):
                    C.cg_gemm_i64(M, N, K, <const int64_t *>(pa + off_a) + i * bsa, rsa, csa,
                                  <const int64_t *>(pb + off_b) + i * bsb, rsb, csb,
                                  <int64_t *>(pc + off_c) + i * bsc, N, 1)
    return out


cdef ndarray _cpu_linear_forward(ndarray x, ndarray weight, ndarray bias, int code):
    """x @ weight.T + bias for a 2-D x (M, K) and weight (N, K): the bias is added by the GEMM's
    epilogue while each output tile is still in registers (no separate pass over the output).
    weight is read transposed through its strides (no copy)."""
    cdef int itemsize = _dtype_of_code(code).itemsize
    cdef int64_t M = cnp.PyArray_DIM(x, 0), K = cnp.PyArray_DIM(x, 1), N = cnp.PyArray_DIM(weight, 0)
    cdef ndarray out = _empty((M, N), code)
    cdef int64_t rsa = cnp.PyArray_STRIDE(x, 0) // itemsize, csa = cnp.PyArray_STRIDE(x, 1) // itemsize
    # B = weight.T: B[k, n] = weight[n, k]
    cdef int64_t rsb = cnp.PyArray_STRIDE(weight, 1) // itemsize, csb = cnp.PyArray_STRIDE(weight, 0) // itemsize
    cdef void *pa = cnp.PyArray_DATA(x)
    cdef void *pb = cnp.PyArray_DATA(weight)
    cdef void *pc = cnp.PyArray_DATA(out)
    cdef void *pbias = NULL
    if bias is not None:
        bias = <ndarray>cnp.PyArray_GETCONTIGUOUS(bias)  # the kernel reads bias[j] at stride 1
        pbias = cnp.PyArray_DATA(bias)
    if M * N == 0:
        return out
    with nogil:
        if code == FLOAT32:
            C.cg_gemm_bias_f32(M, N, K, 1.0, <const float *>pa, rsa, csa, <const float *>pb, rsb, csb,
                               0.0, <float *>pc, N, 1, <const float *>pbias, 0)
        else:
            C.cg_gemm_bias_f64(M, N, K, 1.0, <const double *>pa, rsa, csa, <const double *>pb, rsb, csb,
                               0.0, <double *>pc, N, 1, <const double *>pbias, 0)
    return out


def _gemm_kc_f32():
    """For tests: the depth of the GEMM's float32 K slices on the current SIMD path (its blocking)."""
    return C.cg_gemm_kc_f32()


def _gemm(double alpha, ndarray a, ndarray b, double beta, ndarray c, ndarray bias=None, bint relu=False):
    """For tests: c = relu?(alpha * a @ b + beta * c + bias) written into c in place, straight
    through the GEMM kernel with every operand's strides as they are. 2-D operands use
    cg_gemm_bias (bias: (N,) or None); 3-D ones the batched entry (batch dims equal, or 1 to
    broadcast a or b; no bias or relu). float32 or float64, one dtype for all. Returns c."""
    cdef int nd = cnp.PyArray_NDIM(c), code
    if a.dtype != c.dtype or b.dtype != c.dtype or (bias is not None and bias.dtype != c.dtype):
        raise TypeError("_gemm: operands must share one dtype")
    if c.dtype == np.float32:
        code = FLOAT32
    elif c.dtype == np.float64:
        code = FLOAT64
    else:
        raise TypeError("_gemm: float32 or float64 operands expected")
    if nd not in (2, 3) or cnp.PyArray_NDIM(a) != nd or cnp.PyArray_NDIM(b) != nd:
        raise ValueError("_gemm: a, b and c must all be 2-D or all 3-D")
    if not cnp.PyArray_ISWRITEABLE(c):
        raise ValueError("_gemm: c must be writeable")
    cdef tuple sa = _shape(a), sb = _shape(b), sc = _shape(c)
    cdef int64_t M = sc[nd - 2], N = sc[nd - 1], K = sa[nd - 1]
    cdef int64_t batch = sc[0] if nd == 3 else 1
    if sa[nd - 2] != M or sb[nd - 2] != K or sb[nd - 1] != N:
        raise ValueError(f"_gemm: shapes {sa} @ {sb} do not give {sc}")
    if nd == 3 and (sa[0] not in (1, batch) or sb[0] not in (1, batch)):
        raise ValueError("_gemm: batch dims must equal c's or be 1")
    if bias is not None and (nd != 2 or _shape(bias) != (N,)):
        raise ValueError("_gemm: bias must be (N,) with 2-D operands")
    if nd == 3 and relu:
        raise ValueError("_gemm: relu only with 2-D operands")
    cdef int itemsize = cnp.PyArray_ITEMSIZE(c), d
    cdef ndarray arr
    for arr in (a, b, c):
        for d in range(nd):
            if cnp.PyArray_STRIDE(arr, d) % itemsize:
                raise ValueError("_gemm: strides must be multiples of the item size")
    cdef int64_t rsa = cnp.PyArray_STRIDE(a, nd - 2) // itemsize, csa = cnp.PyArray_STRIDE(a, nd - 1) // itemsize
    cdef int64_t rsb = cnp.PyArray_STRIDE(b, nd - 2) // itemsize, csb = cnp.PyArray_STRIDE(b, nd - 1) // itemsize
    cdef int64_t rsc = cnp.PyArray_STRIDE(c, nd - 2) // itemsize, csc = cnp.PyArray_STRIDE(c, nd - 1) // itemsize
    cdef int64_t bsa = 0, bsb = 0, bsc = 0
    if nd == 3:
        bsa = cnp.PyArray_STRIDE(a, 0) // itemsize if sa[0] != 1 else 0
        bsb = cnp.PyArray_STRIDE(b, 0) // itemsize if sb[0] != 1 else 0
        bsc = cnp.PyArray_STRIDE(c, 0) // itemsize
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    cdef void *pc = cnp.PyArray_DATA(c)
    cdef void *pbias = NULL
    if bias is not None:
        bias = <ndarray>cnp.PyArray_GETCONTIGUOUS(bias)
        pbias = cnp.PyArray_DATA(bias)
    with nogil:
        if code == FLOAT32 and nd == 2:
            C.cg_gemm_bias_f32(M, N, K, <float>alpha, <const float *>pa, rsa, csa, <const float *>pb, rsb, csb,
                               <float>beta, <float *>pc, rsc, csc, <const float *>pbias, relu)
        elif code == FLOAT64 and nd == 2:
            C.cg_gemm_bias_f64(M, N, K, alpha, <const double *>pa, rsa, csa, <const double *>pb, rsb, csb,
                               beta, <double *>pc, rsc, csc, <const double *>pbias, relu)
        elif code == FLOAT32:
            C.cg_gemm_batched_f32(batch, M, N, K, <float>alpha, <const float *>pa, bsa, rsa, csa,
                                  <const float *>pb, bsb, rsb, csb, <float>beta, <float *>pc, bsc, rsc, csc)
        else:
            C.cg_gemm_batched_f64(batch, M, N, K, alpha, <const double *>pa, bsa, rsa, csa,
                                  <const double *>pb, bsb, rsb, csb, beta, <double *>pc, bsc, rsc, csc)
    return c

# ---- any / all, sorting along a dim, unique ----


cdef ndarray _cpu_bool_reduce(ndarray truth, tuple dims, bint is_all):
    """any (or all, with is_all) of a bool array over dims (sorted, distinct, at least one), the
    reduced dims removed. One (outer, r, inner) kernel call: reduced dims that are not one run of
    adjacent dims are first moved to the end (a copy)."""
    cdef tuple shape = _shape(truth)
    cdef Py_ssize_t ndim = len(shape), first, last
    cdef tuple kept = tuple([d for d in range(ndim) if d not in dims])
    cdef ndarray out = _empty(tuple([shape[d] for d in kept]), BOOL)
    if dims[len(dims) - 1] - dims[0] + 1 == len(dims):
        first, last = dims[0], dims[len(dims) - 1] + 1
        truth = <ndarray>cnp.PyArray_GETCONTIGUOUS(truth)
    else:
        first, last = len(kept), ndim
        truth = <ndarray>cnp.PyArray_GETCONTIGUOUS(truth.transpose(kept + dims))
        shape = _shape(truth)
    cdef int64_t outer = _prod(shape, 0, first), r = _prod(shape, first, last), inner = _prod(shape, last, ndim)
    cdef const uint8_t *src = <const uint8_t *>cnp.PyArray_DATA(truth)
    cdef uint8_t *dst = <uint8_t *>cnp.PyArray_DATA(out)
    if outer * inner > 0:
        with nogil:
            if is_all:
                C.cg_all_u8(src, dst, outer, r, inner)
            else:
                C.cg_any_u8(src, dst, outer, r, inner)
    return out


cdef tuple _cpu_sort_dim(ndarray x, int dim, int64_t k, bint descending):
    """(values, int64 indices): the first k elements of x sorted along dim (stable; NaN greatest),
    where both have k elements along dim. x is float32, float64 or int64, of at least one dim."""
    x = <ndarray>cnp.PyArray_GETCONTIGUOUS(x)
    cdef tuple shape = _shape(x)
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(x))
    cdef int64_t outer = _prod(shape, 0, dim), r = shape[dim], inner = _prod(shape, dim + 1, len(shape))
    cdef tuple out_shape = shape[:dim] + (k,) + shape[dim + 1:]
    cdef ndarray values = _empty(out_shape, code), indices = _empty(out_shape, INT64)
    if outer * inner * k == 0:
        return values, indices
    cdef ndarray scratch_values = _empty((2 * r,), code), scratch_indices = _empty((2 * r,), INT64)
    cdef void *src = cnp.PyArray_DATA(x)
    cdef void *vals = cnp.PyArray_DATA(values)
    cdef int64_t *idx = <int64_t *>cnp.PyArray_DATA(indices)
    cdef void *sv = cnp.PyArray_DATA(scratch_values)
    cdef int64_t *si = <int64_t *>cnp.PyArray_DATA(scratch_indices)
    with nogil:
        if code == FLOAT32:
            C.cg_sort_f32(<const float *>src, <float *>vals, idx, outer, r, inner, k, descending, <float *>sv, si)
        elif code == FLOAT64:
            C.cg_sort_f64(<const double *>src, <double *>vals, idx, outer, r, inner, k, descending, <double *>sv, si)
        else:
            C.cg_sort_i64(<const int64_t *>src, <int64_t *>vals, idx, outer, r, inner, k, descending, <int64_t *>sv, si)
    return values, indices


cdef ndarray _cpu_select_backward(ndarray gy, ndarray indices, tuple in_shape, int dim):
    """The gradient of k elements selected along dim (sort, topk): zeros of in_shape, with gy
    added at the selected indices. gy and indices have k elements along dim."""
    gy = <ndarray>cnp.PyArray_GETCONTIGUOUS(gy)
    indices = <ndarray>cnp.PyArray_GETCONTIGUOUS(indices)
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(gy))
    cdef int64_t outer = _prod(in_shape, 0, dim), r = in_shape[dim], inner = _prod(in_shape, dim + 1, len(in_shape))
    cdef int64_t k = cnp.PyArray_DIM(gy, dim)
    cdef ndarray gx = _empty(in_shape, code)
    cdef void *g = cnp.PyArray_DATA(gy)
    cdef const int64_t *idx = <const int64_t *>cnp.PyArray_DATA(indices)
    cdef void *dst = cnp.PyArray_DATA(gx)
    if outer * r * inner > 0:
        with nogil:
            if code == FLOAT32:
                C.cg_select_bwd_f32(<const float *>g, idx, <float *>dst, outer, k, r, inner)
            else:
                C.cg_select_bwd_f64(<const double *>g, idx, <double *>dst, outer, k, r, inner)
    return gx


cdef tuple _cpu_unique_sorted(ndarray values, ndarray order, bint want_inverse, bint want_counts):
    """(distinct values, inverse or None, counts or None) of a 1-d ascending array `values`
    whose element j came from position order[j] of the input."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(values))
    cdef int64_t n = cnp.PyArray_SIZE(values), n_unique = 0
    cdef ndarray distinct = _empty((n,), code)
    cdef ndarray inverse = _empty((n,), INT64) if want_inverse else None
    cdef ndarray counts = _empty((n,), INT64) if want_counts else None
    cdef const void *src = cnp.PyArray_DATA(values)
    cdef const int64_t *pos = <const int64_t *>cnp.PyArray_DATA(order)
    cdef void *dst = cnp.PyArray_DATA(distinct)
    cdef int64_t *inv = <int64_t *>cnp.PyArray_DATA(inverse) if want_inverse else NULL
    cdef int64_t *cnt = <int64_t *>cnp.PyArray_DATA(counts) if want_counts else NULL
    with nogil:
        if code == FLOAT32:
            C.cg_unique_sorted_f32(<const float *>src, pos, n, <float *>dst, inv, cnt, &n_unique)
        elif code == FLOAT64:
            C.cg_unique_sorted_f64(<const double *>src, pos, n, <double *>dst, inv, cnt, &n_unique)
        else:
            C.cg_unique_sorted_i64(<const int64_t *>src, pos, n, <int64_t *>dst, inv, cnt, &n_unique)
    return (distinct[:n_unique], inverse, counts[:n_unique] if want_counts else None)
