# Backend dispatch: the array-level primitives that ops, nn and optim call, each routed by the type of
# its array arguments to the CPU backend (numpy ndarrays: the _cpu_* functions of _backend_*.pxi,
# C kernels) or to the device backend (cupy ndarrays: cygrad/backends/cuda.py, loaded on first use).
# This file is the only place that chooses: ops never ask which device they run on.
#
# Cost on the CPU: while no device backend is loaded (`_device is None`, every CPU-only process),
# a primitive is one global test and a call; with one loaded, an isinstance test per array argument.
#
# The primitives are listed once, in BACKEND_PRIMITIVES; `cpu_backend` exposes the CPU side of each
# to Python, and tests/test_backend_contract.py checks that backends/cuda.py implements every one
# with the same parameters (and every elementwise kernel of _backend_cpu.pxi's table).
#
# Storage helpers (_ndim, _copy, _empty_on, _xp...) are the device-neutral spellings of what ops
# used to ask numpy's C API for. Data movement that numpy and cupy spell alike (concatenate, stack,
# broadcast_to, moveaxis...) goes through _xp(array), the storage's own array module.

cdef object _device = None              # the device backend module (backends/cuda.py, or a test double)
cdef object _device_array_type = None   # its array type (cupy.ndarray)


def _set_device_backend(module):
    """Installs (or, with None, removes) the backend for device arrays: backends/cuda.py does this
    when it loads; tests install a host-memory double to run the device paths without a GPU."""
    global _device, _device_array_type
    _device = module
    _device_array_type = None if module is None else module.array_type


def _device_backend():
    return _device


cdef object _load_device():
    """The device backend, loading backends/cuda.py on first use; RuntimeError when CUDA is not
    available (no CuPy, or no GPU)."""
    if _device is None:
        from cygrad.backends import cuda
        cuda.load()   # installs itself through _set_device_backend, or raises
    return _device


# ---- storage helpers: one spelling for numpy and device arrays ----

cdef inline bint _host(object a):
    """Whether a is not a device array (a numpy array, a number, None): always true while no
    device backend is loaded."""
    return _device is None or not isinstance(a, _device_array_type)


cdef inline int _ndim(object a) except -1:
    if isinstance(a, ndarray):
        return cnp.PyArray_NDIM(<ndarray>a)
    return a.ndim


cdef inline int64_t _size(object a) except -1:
    if isinstance(a, ndarray):
        return cnp.PyArray_SIZE(<ndarray>a)
    return a.size


cdef inline int64_t _dim(object a, int d) except -1:
    if isinstance(a, ndarray):
        return cnp.PyArray_DIM(<ndarray>a, d)
    return a.shape[d]


cdef inline bint _is_contiguous(object a) except -1:
    if isinstance(a, ndarray):
        return cnp.PyArray_IS_C_CONTIGUOUS(<ndarray>a)
    return a.flags.c_contiguous


cdef inline object _copy(object a):
    """A C-contiguous copy of a, on a's device."""
    if isinstance(a, ndarray):
        return cnp.PyArray_NewCopy(<ndarray>a, cnp.NPY_CORDER)
    return _device.copy(a)


cdef inline object _contiguous(object a):
    """a itself when C-contiguous, else a C-contiguous copy (on a's device)."""
    if isinstance(a, ndarray):
        return cnp.PyArray_GETCONTIGUOUS(<ndarray>a)
    return _device.contiguous(a)


cdef inline bint _writeable(object a) except -1:
    """Whether a may be written in place: numpy's flag (a broadcast view is read-only); device
    arrays have no such flag, so the backend refuses arrays whose elements overlap."""
    if isinstance(a, ndarray):
        return cnp.PyArray_ISWRITEABLE(<ndarray>a)
    return _device.writeable(a)


cdef inline object _cast(object a, int code):
    """a itself when it has dtype `code`, else a converted copy (on a's device)."""
    if isinstance(a, ndarray):
        return _as_code(<ndarray>a, code)
    return _device.astype(a, code)


cdef int _array_code(object a) except? -2:
    """The dtype code of an array of either kind (NO_DTYPE when cygrad has no such dtype)."""
    if isinstance(a, ndarray):
        return _code_of_typenum(cnp.PyArray_TYPE(<ndarray>a))
    return _code_of_typenum(a.dtype.num)


cdef inline object _empty_on(object like, tuple shape, int code):
    """An uninitialized array of shape and dtype code on like's device."""
    if _host(like):
        return _empty(shape, code)
    return _device.empty(shape, code, like)


cdef inline object _zeros_on(object like, tuple shape, int code):
    if _host(like):
        return _zeros(shape, code)
    return _device.zeros(shape, code, like)


cdef object _full_on(object like, tuple shape, object value, int code):
    cdef object out = _empty_on(like, shape, code)
    if isinstance(out, ndarray):
        cnp.PyArray_FillWithScalar(<ndarray>out, value)   # no Python method call on the CPU
    else:
        out.fill(value)
    return out


cdef inline object _xp(object a):
    """The array module of a's kind (numpy, or cupy): for data movement only, never for math."""
    return np if _host(a) else _device.xp


cdef void _assign(object dst, object src) except *:
    """dst[...] = src (broadcast, converted to dst's dtype); src an array on any device, or a number."""
    if _host(dst) and _host(src):
        dst[...] = src
    else:
        _load_device().assign(dst, src)


cdef object _to_host(object a):
    """a as a numpy array: a itself, or a copy from the device."""
    if _host(a):
        return a
    return _device.to_host(a)


cdef object _as_view(object a, tuple shape):
    """A view of a with a new shape; ValueError when a's strides do not allow one."""
    if _host(a):
        return np.reshape(a, shape, copy=False)
    return _device.view_as_shape(a, shape)


cdef object _data_address(object a):
    """The address of a's first element (for the positions of a view inside its base)."""
    if isinstance(a, ndarray):
        return <Py_ssize_t>cnp.PyArray_DATA(<ndarray>a)
    return _device.data_address(a)


# ---- devices ----

cdef int _device_index(object a) except -2:
    """-1 for a host array, else the index of the GPU holding a."""
    if _host(a):
        return -1
    return _device.device_index(a)


cdef str _device_name(int index):
    return "cpu" if index < 0 else f"cuda:{index}"


cdef object _device_for(tuple arrays):
    """The device backend for arrays (None entries are absent operands) that must all be device
    arrays on one GPU, made current; torch's error otherwise."""
    cdef int index = -2, k
    cdef object a
    for a in arrays:
        if a is None:
            continue
        k = _device_index(a)
        if index == -2:
            index = k
        elif k != index:
            _raise_mixed_devices(index, k)
    _device.use_device(index)
    return _device


cdef void _raise_mixed_devices(int a, int b) except *:
    # torch's TensorIterator names the GPU first, whatever the order of the operands
    first, second = (a, b) if a >= 0 else (b, a)
    raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                       f"{_device_name(first)} and {_device_name(second)}!")


cdef object _move_to(object a, int index):
    """a on device `index` (-1: the host): a itself when it is there already, else a copy."""
    if index < 0:
        return _to_host(a)
    return _load_device().to_device(a, index)


def _to_host_array(a):
    """a as a numpy array (a copy from the device for a device array)."""
    return _to_host(a)


def _array_to_device(a, int index):
    """a on device `index` (-1: the host): a itself when it is there already, else a copy."""
    return _move_to(a, index)


# ---- the primitives ----

BACKEND_PRIMITIVES = (
    "elementwise", "sum_axes", "extreme_dim", "index_backward", "extreme_backward", "softmax_family",
    "matmul", "linear_forward", "bool_reduce", "sort_dim", "select_backward", "unique_sorted",
    "math_reduce", "cumsum", "prod_backward", "count_zeros", "gather_along", "scatter_along",
    "class_loss_forward", "class_loss_backward", "prob_cross_entropy_forward",
    "prob_cross_entropy_backward", "pointwise_loss_forward", "pointwise_loss_backward",
    "sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "vector_norm",
    # storage
    "empty", "zeros", "copy", "contiguous", "astype", "assign", "writeable", "view_as_shape",
    "to_host", "data_address",
)


cdef inline object _elementwise(_Kernel k, int code, tuple operands, object out=None, double param=0.0):
    """out = k(operands...) computed in dtype `code`, with broadcasting (_cpu_elementwise says how).
    On a GPU, 0-d host arrays among the operands count as numbers, as torch lets CPU scalars meet
    CUDA tensors."""
    if _device is None:
        return _cpu_elementwise(k, code, operands, out, param)
    cdef object o
    cdef bint host = _host(out)
    for o in operands:
        if not _host(o):
            host = False
    if host:
        return _cpu_elementwise(k, code, operands, out, param)
    return _device_elementwise(k, code, operands, out, param)


cdef object _device_elementwise(_Kernel k, int code, tuple operands, object out, double param):
    cdef int kernel_code = INT64 if code == INT32 or (code == BOOL and k.u8 == NULL) else code
    cdef void *fn = (k.f32 if kernel_code == FLOAT32 else k.f64 if kernel_code == FLOAT64 else
                     k.i64 if kernel_code == INT64 else k.u8)
    if fn == NULL:   # the CPU table says which dtypes an op has, for every device
        raise RuntimeError(f'"{k.name}" not implemented for \'{_SCALAR_TYPE_NAMES[code]}\'')
    cdef list args = [], arrays = [out]
    for o in operands:
        if isinstance(o, ndarray):
            if cnp.PyArray_NDIM(<ndarray>o) == 0:
                o = o.item()        # a CPU scalar
            else:
                arrays.append(o)    # _device_for refuses it: a CPU tensor among GPU ones
        elif not _host(o):
            arrays.append(o)
        args.append(o)
    return _device_for(tuple(arrays)).elementwise(
        k.key, kernel_code, BOOL if k.predicate else kernel_code, BOOL if k.predicate else code,
        tuple(args), out, param)


cdef object _sum_axes(object x, tuple axes, int out_code):
    """Sum of x over `axes` (sorted, distinct, in range), the reduced axes removed."""
    if _host(x):
        return _cpu_sum_axes(x, axes, out_code)
    return _device_for((x,)).sum_axes(x, axes, out_code)


cdef tuple _extreme_dim(object x, int dim, bint is_max):
    """(values, int64 indices) of the max or min along dim (removed); x not empty along dim."""
    if _host(x):
        return _cpu_extreme_dim(x, dim, is_max)
    return tuple(_device_for((x,)).extreme_dim(x, dim, is_max))


cdef object _index_backward(object gy, object indices, tuple in_shape, int dim):
    if _host(gy) and _host(indices):
        return _cpu_index_backward(gy, indices, in_shape, dim)
    return _device_for((gy, indices)).index_backward(gy, indices, in_shape, dim)


cdef object _extreme_backward(object x, object value, object gy):
    if _host(x):
        return _cpu_extreme_backward(x, value, gy)
    return _device_for((x,)).extreme_backward(x, value, gy)


cdef object _softmax_family(int kind, object x, object gy, int dim):
    if _host(x) and _host(gy):
        return _cpu_softmax_family(kind, x, gy, dim)
    return _device_for((x, gy)).softmax_family(kind, x, gy, dim)


cdef object _matmul(object a, object b, tuple out_shape, int code):
    if _host(a) and _host(b):
        return _cpu_matmul(a, b, out_shape, code)
    return _device_for((a, b)).matmul(a, b, out_shape, code)


cdef object _linear_forward(object x, object weight, object bias, int code):
    if _host(x) and _host(weight) and _host(bias):
        return _cpu_linear_forward(x, weight, bias, code)
    return _device_for((x, weight, bias)).linear_forward(x, weight, bias, code)


cdef object _bool_reduce(object truth, tuple dims, bint is_all):
    if _host(truth):
        return _cpu_bool_reduce(truth, dims, is_all)
    return _device_for((truth,)).bool_reduce(truth, dims, is_all)


cdef tuple _sort_dim(object x, int dim, int64_t k, bint descending):
    if _host(x):
        return _cpu_sort_dim(x, dim, k, descending)
    return tuple(_device_for((x,)).sort_dim(x, dim, k, descending))


cdef object _select_backward(object gy, object indices, tuple in_shape, int dim):
    if _host(gy) and _host(indices):
        return _cpu_select_backward(gy, indices, in_shape, dim)
    return _device_for((gy, indices)).select_backward(gy, indices, in_shape, dim)


cdef tuple _unique_sorted(object values, object order, bint want_inverse, bint want_counts):
    if _host(values) and _host(order):
        return _cpu_unique_sorted(values, order, want_inverse, want_counts)
    return tuple(_device_for((values, order)).unique_sorted(values, order, want_inverse, want_counts))


cdef object _math_reduce(int kind, object x, tuple dims, int code, double param):
    if _host(x):
        return _cpu_math_reduce(kind, x, dims, code, param)
    return _device_for((x,)).math_reduce(kind, x, dims, code, param)


cdef object _cumsum(object x, int dim, int code, bint reverse):
    if _host(x):
        return _cpu_cumsum(x, dim, code, reverse)
    return _device_for((x,)).cumsum(x, dim, code, reverse)


cdef object _prod_backward(object x, object gy, int dim):
    if _host(x) and _host(gy):
        return _cpu_prod_backward(x, gy, dim)
    return _device_for((x, gy)).prod_backward(x, gy, dim)


cdef int64_t _count_zeros(object x) except -1:
    if _host(x):
        return _cpu_count_zeros(x)
    return _device_for((x,)).count_zeros(x)


# Index arrays (idx) are int64 numpy arrays whatever the device: index plans are built and checked
# on the host; a device backend copies them over.

cdef object _gather_along(object src, int64_t outer, int64_t r, int64_t inner, ndarray idx, int64_t n,
                          bint per_element, tuple out_shape):
    if _host(src):
        return _cpu_gather_along(src, outer, r, inner, idx, n, per_element, out_shape)
    return _device_for((src,)).gather_along(src, outer, r, inner, idx, n, per_element, out_shape)


cdef void _scatter_along(object dst, int64_t outer, int64_t r, int64_t inner, ndarray idx, int64_t n,
                         bint per_element, object values, bint accumulate) except *:
    if _host(dst) and _host(values):
        _cpu_scatter_along(dst, outer, r, inner, idx, n, per_element, values, accumulate)
    else:
        _device_for((dst, values)).scatter_along(dst, outer, r, inner, idx, n, per_element, values,
                                                 accumulate)


cdef tuple _class_loss_forward(bint from_logits, object rows, object target, object weight,
                               int64_t ignore_index, double eps):
    if _host(rows) and _host(target) and _host(weight):
        return _cpu_class_loss_forward(from_logits, rows, target, weight, ignore_index, eps)
    return tuple(_device_for((rows, target, weight)).class_loss_forward(
        from_logits, rows, target, weight, ignore_index, eps))


cdef object _class_loss_backward(bint from_logits, object log_probs, object target, object weight,
                                 object row_grad, int64_t c, int64_t ignore_index, double eps):
    if _host(log_probs) and _host(target) and _host(weight) and _host(row_grad):
        return _cpu_class_loss_backward(from_logits, log_probs, target, weight, row_grad, c,
                                        ignore_index, eps)
    return _device_for((log_probs, target, weight, row_grad)).class_loss_backward(
        from_logits, log_probs, target, weight, row_grad, c, ignore_index, eps)


cdef tuple _prob_cross_entropy_forward(object rows, object target_rows, object weight, double eps):
    if _host(rows) and _host(target_rows) and _host(weight):
        return _cpu_prob_cross_entropy_forward(rows, target_rows, weight, eps)
    return tuple(_device_for((rows, target_rows, weight)).prob_cross_entropy_forward(
        rows, target_rows, weight, eps))


cdef object _prob_cross_entropy_backward(object log_probs, object target_rows, object weight,
                                         object row_grad, double eps):
    if _host(log_probs) and _host(target_rows) and _host(weight) and _host(row_grad):
        return _cpu_prob_cross_entropy_backward(log_probs, target_rows, weight, row_grad, eps)
    return _device_for((log_probs, target_rows, weight, row_grad)).prob_cross_entropy_backward(
        log_probs, target_rows, weight, row_grad, eps)


cdef object _pointwise_loss_forward(int kind, object x, object y, object w, object pos_weight, double beta):
    if _host(x) and _host(y) and _host(w) and _host(pos_weight):
        return _cpu_pointwise_loss_forward(kind, x, y, w, pos_weight, beta)
    return _device_for((x, y, w, pos_weight)).pointwise_loss_forward(kind, x, y, w, pos_weight, beta)


cdef object _pointwise_loss_backward(int kind, object x, object y, object w, object pos_weight,
                                     object g, double beta):
    if _host(x) and _host(y) and _host(w) and _host(pos_weight) and _host(g):
        return _cpu_pointwise_loss_backward(kind, x, y, w, pos_weight, g, beta)
    return _device_for((x, y, w, pos_weight, g)).pointwise_loss_backward(kind, x, y, w, pos_weight, g, beta)


cdef void _sgd_step(object p, object g, object b, double lr, double momentum, double dampening,
                    double weight_decay, bint nesterov, bint maximize, bint first_step) except *:
    if _host(p) and _host(g) and _host(b):
        _cpu_sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step)
    else:
        _device_for((p, g, b)).sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov,
                                        maximize, first_step)


cdef void _adam_step(object p, object g, object m, object v, object vmax, double lr, double beta1,
                     double beta2, double eps, double weight_decay, double step, bint decoupled,
                     bint maximize) except *:
    if _host(p) and _host(g) and _host(m) and _host(v) and _host(vmax):
        _cpu_adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, decoupled, maximize)
    else:
        _device_for((p, g, m, v, vmax)).adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps,
                                                  weight_decay, step, decoupled, maximize)


cdef void _rmsprop_step(object p, object g, object s, object a, object b, double lr, double alpha,
                        double eps, double weight_decay, double momentum, bint maximize) except *:
    if _host(p) and _host(g) and _host(s) and _host(a) and _host(b):
        _cpu_rmsprop_step(p, g, s, a, b, lr, alpha, eps, weight_decay, momentum, maximize)
    else:
        _device_for((p, g, s, a, b)).rmsprop_step(p, g, s, a, b, lr, alpha, eps, weight_decay,
                                                  momentum, maximize)


cdef void _adagrad_step(object p, object g, object s, double lr, double lr_decay, double weight_decay,
                        double eps, double step, bint maximize) except *:
    if _host(p) and _host(g) and _host(s):
        _cpu_adagrad_step(p, g, s, lr, lr_decay, weight_decay, eps, step, maximize)
    else:
        _device_for((p, g, s)).adagrad_step(p, g, s, lr, lr_decay, weight_decay, eps, step, maximize)


cdef double _vector_norm(object x, double p) except? -1:
    """||x||_p of a contiguous float array, accumulated in double."""
    if _host(x):
        return _cpu_vector_norm(x, p)
    return _device_for((x,)).vector_norm(x, p)


# ---- the CPU backend as Python sees it: the contract test compares backends/cuda.py's functions
# with these (names and parameters); tests' host-memory device double calls them ----

class _CPUBackend:
    """The CPU implementation of every primitive of BACKEND_PRIMITIVES, callable from Python."""

    @staticmethod
    def elementwise(key, kernel_code, out_code, result_code, operands, out, param):
        cdef _Kernel k = _kernel_by_key(key)
        return _cpu_elementwise(k, kernel_code if k.predicate else result_code, operands, out, param)

    @staticmethod
    def sum_axes(x, axes, out_code):
        return _cpu_sum_axes(x, axes, out_code)

    @staticmethod
    def extreme_dim(x, dim, is_max):
        return _cpu_extreme_dim(x, dim, is_max)

    @staticmethod
    def index_backward(gy, indices, in_shape, dim):
        return _cpu_index_backward(gy, indices, in_shape, dim)

    @staticmethod
    def extreme_backward(x, value, gy):
        return _cpu_extreme_backward(x, value, gy)

    @staticmethod
    def softmax_family(kind, x, gy, dim):
        return _cpu_softmax_family(kind, x, gy, dim)

    @staticmethod
    def matmul(a, b, out_shape, code):
        return _cpu_matmul(a, b, out_shape, code)

    @staticmethod
    def linear_forward(x, weight, bias, code):
        return _cpu_linear_forward(x, weight, bias, code)

    @staticmethod
    def bool_reduce(truth, dims, is_all):
        return _cpu_bool_reduce(truth, dims, is_all)

    @staticmethod
    def sort_dim(x, dim, k, descending):
        return _cpu_sort_dim(x, dim, k, descending)

    @staticmethod
    def select_backward(gy, indices, in_shape, dim):
        return _cpu_select_backward(gy, indices, in_shape, dim)

    @staticmethod
    def unique_sorted(values, order, want_inverse, want_counts):
        return _cpu_unique_sorted(values, order, want_inverse, want_counts)

    @staticmethod
    def math_reduce(kind, x, dims, code, param):
        return _cpu_math_reduce(kind, x, dims, code, param)

    @staticmethod
    def cumsum(x, dim, code, reverse):
        return _cpu_cumsum(x, dim, code, reverse)

    @staticmethod
    def prod_backward(x, gy, dim):
        return _cpu_prod_backward(x, gy, dim)

    @staticmethod
    def count_zeros(x):
        return _cpu_count_zeros(x)

    @staticmethod
    def gather_along(src, outer, r, inner, idx, n, per_element, out_shape):
        return _cpu_gather_along(src, outer, r, inner, idx, n, per_element, out_shape)

    @staticmethod
    def scatter_along(dst, outer, r, inner, idx, n, per_element, values, accumulate):
        _cpu_scatter_along(dst, outer, r, inner, idx, n, per_element, values, accumulate)

    @staticmethod
    def class_loss_forward(from_logits, rows, target, weight, ignore_index, eps):
        return _cpu_class_loss_forward(from_logits, rows, target, weight, ignore_index, eps)

    @staticmethod
    def class_loss_backward(from_logits, log_probs, target, weight, row_grad, c, ignore_index, eps):
        return _cpu_class_loss_backward(from_logits, log_probs, target, weight, row_grad, c,
                                        ignore_index, eps)

    @staticmethod
    def prob_cross_entropy_forward(rows, target_rows, weight, eps):
        return _cpu_prob_cross_entropy_forward(rows, target_rows, weight, eps)

    @staticmethod
    def prob_cross_entropy_backward(log_probs, target_rows, weight, row_grad, eps):
        return _cpu_prob_cross_entropy_backward(log_probs, target_rows, weight, row_grad, eps)

    @staticmethod
    def pointwise_loss_forward(kind, x, y, w, pos_weight, beta):
        return _cpu_pointwise_loss_forward(kind, x, y, w, pos_weight, beta)

    @staticmethod
    def pointwise_loss_backward(kind, x, y, w, pos_weight, g, beta):
        return _cpu_pointwise_loss_backward(kind, x, y, w, pos_weight, g, beta)

    @staticmethod
    def sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step):
        _cpu_sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step)

    @staticmethod
    def adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, decoupled, maximize):
        _cpu_adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, decoupled, maximize)

    @staticmethod
    def rmsprop_step(p, g, s, a, b, lr, alpha, eps, weight_decay, momentum, maximize):
        _cpu_rmsprop_step(p, g, s, a, b, lr, alpha, eps, weight_decay, momentum, maximize)

    @staticmethod
    def adagrad_step(p, g, s, lr, lr_decay, weight_decay, eps, step, maximize):
        _cpu_adagrad_step(p, g, s, lr, lr_decay, weight_decay, eps, step, maximize)

    @staticmethod
    def vector_norm(x, p):
        return _cpu_vector_norm(x, p)

    @staticmethod
    def empty(shape, code, like):
        return _empty(tuple(shape), code)

    @staticmethod
    def zeros(shape, code, like):
        return _zeros(tuple(shape), code)

    @staticmethod
    def copy(a):
        return cnp.PyArray_NewCopy(<ndarray>a, cnp.NPY_CORDER)

    @staticmethod
    def contiguous(a):
        return cnp.PyArray_GETCONTIGUOUS(<ndarray>a)

    @staticmethod
    def astype(a, code):
        return _as_code(a, code)

    @staticmethod
    def assign(dst, src):
        dst[...] = src

    @staticmethod
    def writeable(a):
        return bool(cnp.PyArray_ISWRITEABLE(<ndarray>a))

    @staticmethod
    def view_as_shape(a, shape):
        return np.reshape(a, shape, copy=False)

    @staticmethod
    def to_host(a):
        return a

    @staticmethod
    def data_address(a):
        return <Py_ssize_t>cnp.PyArray_DATA(<ndarray>a)


cpu_backend = _CPUBackend()


cdef _Kernel _kernel_by_key(str key):
    for k in _ELEMENTWISE_KERNELS:
        if (<_Kernel>k).key == key:
            return <_Kernel>k
    raise KeyError(f"no elementwise kernel {key!r}")


def elementwise_kernels():
    """Every elementwise kernel of the CPU table: (key, arity, has_param, predicate, dtype codes it
    computes in). Each device backend implements each key for those dtypes."""
    cdef _Kernel k
    result = []
    for item in _ELEMENTWISE_KERNELS:
        k = <_Kernel>item
        codes = tuple(code for code, fn in ((FLOAT32, k.f32 != NULL), (FLOAT64, k.f64 != NULL),
                                            (INT64, k.i64 != NULL), (BOOL, k.u8 != NULL)) if fn)
        result.append((k.key, k.arity, k.has_param, k.predicate, codes))
    return result
