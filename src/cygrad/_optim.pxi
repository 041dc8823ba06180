# The entry points of cygrad.optim and cygrad.nn.utils into the kernels of csrc/optim.c.
#
# One call = one parameter's whole optimizer step, done by one fused kernel over contiguous
# buffers (a non-contiguous tensor is worked on through a contiguous copy that is written back).
# The writes happen outside autograd, as under torch's no_grad, and bump the version counter of
# every tensor written, like any in-place op: a graph that saved the parameter before the step
# refuses to backward through it afterwards.


cdef inline void _check_step_param(TensorBase param) except *:
    if param._code != FLOAT32 and param._code != FLOAT64:
        raise TypeError(f"cygrad.optim updates float32 and float64 parameters only, got a "
                        f"parameter of dtype {_DTYPES[param._code]}")


cdef object _step_operand(TensorBase t, TensorBase param, str name, bint written):
    """t's elements as a C-contiguous array of the parameter's dtype and shape: t's own storage,
    or a contiguous copy when t is not contiguous (_finish_write copies a written one back).
    A state buffer on another device than its parameter moves there first, for good (its tensor
    keeps its identity): the state follows a model moved after its optimizer was created."""
    cdef int device
    if _device is not None and t is not param and name != "grad":
        device = _device_index(param._data)
        if _device_index(t._data) != device:
            t._data = _move_to(t._data, device)
    if t._code != param._code:
        raise RuntimeError(f"{name} has dtype {_DTYPES[t._code]} but the parameter has dtype "
                           f"{_DTYPES[param._code]}")
    if _shape(t._data) != _shape(param._data):
        raise RuntimeError(f"{name} has shape {list(_shape(t._data))} but the parameter has shape "
                           f"{list(_shape(param._data))}")
    if written and not _writeable(t._data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation.")
    return _contiguous(t._data)


cdef inline void _finish_write(TensorBase t, object buffer) except *:
    if buffer is not t._data:
        _assign(t._data, buffer)
    t._bump_version()


cdef inline void *_ptr_or_null(ndarray a):
    return NULL if a is None else cnp.PyArray_DATA(a)


cdef double _advance_step(TensorBase step) except? -1:
    """torch's `state['step'] += 1` on the one-element step tensor (float32 in torch's state, any
    float dtype accepted; a host tensor as torch keeps it, or a GPU one); returns the new count."""
    if _size(step._data) != 1 or (step._code != FLOAT32 and step._code != FLOAT64):
        raise TypeError("the optimizer state's 'step' must be a one-element floating-point tensor")
    if not _writeable(step._data):
        raise RuntimeError("the optimizer state's 'step' tensor is read-only")
    cdef double value
    cdef void *data
    if not isinstance(step._data, ndarray):
        value = _round_to(step._data.item() + 1, step._code)
        step._data.fill(value)
        step._bump_version()
        return value
    data = cnp.PyArray_DATA(<ndarray>step._data)
    if step._code == FLOAT32:
        (<float *>data)[0] += 1
        value = (<float *>data)[0]
    else:
        (<double *>data)[0] += 1
        value = (<double *>data)[0]
    step._bump_version()
    return value


cdef void _sgd_kernel(int code, void *p, const void *g, void *b, int64_t n, double lr,
                      double momentum, double dampening, double weight_decay, bint nesterov,
                      bint maximize, bint first_step) noexcept nogil:
    if code == FLOAT32:
        C.cg_sgd_step_f32(<float *>p, <const float *>g, <float *>b, n, lr, momentum, dampening,
                          weight_decay, nesterov, maximize, first_step)
    else:
        C.cg_sgd_step_f64(<double *>p, <const double *>g, <double *>b, n, lr, momentum, dampening,
                          weight_decay, nesterov, maximize, first_step)


def sgd_step(TensorBase param not None, TensorBase grad not None, TensorBase momentum_buffer,
             double lr, double momentum, double dampening, double weight_decay, bint nesterov,
             bint maximize, bint first_step):
    """One SGD step of one parameter (cg_sgd_step in csrc/include/cygrad/optim.h). Without
    momentum, momentum_buffer is None; on the first step with momentum it is written with the
    gradient (its contents are not read)."""
    _check_step_param(param)
    p = _step_operand(param, param, "param", True)
    g = _step_operand(grad, param, "grad", False)
    b = None
    if momentum_buffer is not None:
        b = _step_operand(momentum_buffer, param, "momentum_buffer", True)
    _sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step)
    _finish_write(param, p)
    if b is not None:
        _finish_write(momentum_buffer, b)


cdef void _cpu_sgd_step(ndarray p, ndarray g, ndarray b, double lr, double momentum, double dampening,
                        double weight_decay, bint nesterov, bint maximize, bint first_step) except *:
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(p))
    cdef int64_t n = cnp.PyArray_SIZE(p)
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef void *bp = _ptr_or_null(b)
    if n >= NOGIL_MIN_ELEMENTS:
        with nogil:
            _sgd_kernel(code, pp, gp, bp, n, lr, momentum, dampening, weight_decay, nesterov,
                        maximize, first_step)
    else:
        _sgd_kernel(code, pp, gp, bp, n, lr, momentum, dampening, weight_decay, nesterov,
                    maximize, first_step)


cdef void _adam_kernel(int code, void *p, const void *g, void *m, void *v, void *vmax, int64_t n,
                       double lr, double beta1, double beta2, double eps, double weight_decay,
                       double step, bint decoupled, bint maximize) noexcept nogil:
    if code == FLOAT32:
        C.cg_adam_step_f32(<float *>p, <const float *>g, <float *>m, <float *>v, <float *>vmax, n,
                           lr, beta1, beta2, eps, weight_decay, step, decoupled, maximize)
    else:
        C.cg_adam_step_f64(<double *>p, <const double *>g, <double *>m, <double *>v,
                           <double *>vmax, n, lr, beta1, beta2, eps, weight_decay, step, decoupled,
                           maximize)


def adam_step(TensorBase param not None, TensorBase grad not None,
              TensorBase exp_avg not None, TensorBase exp_avg_sq not None,
              TensorBase max_exp_avg_sq, TensorBase step not None, double lr, double beta1,
              double beta2, double eps, double weight_decay, bint decoupled_weight_decay,
              bint maximize):
    """One Adam (decoupled_weight_decay: AdamW) step of one parameter: advances `step` and runs
    cg_adam_step. max_exp_avg_sq is None unless amsgrad."""
    _check_step_param(param)
    p = _step_operand(param, param, "param", True)
    g = _step_operand(grad, param, "grad", False)
    m = _step_operand(exp_avg, param, "exp_avg", True)
    v = _step_operand(exp_avg_sq, param, "exp_avg_sq", True)
    vmax = None
    if max_exp_avg_sq is not None:
        vmax = _step_operand(max_exp_avg_sq, param, "max_exp_avg_sq", True)
    cdef double t = _advance_step(step)
    _adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, t, decoupled_weight_decay, maximize)
    _finish_write(param, p)
    _finish_write(exp_avg, m)
    _finish_write(exp_avg_sq, v)
    if vmax is not None:
        _finish_write(max_exp_avg_sq, vmax)


cdef void _cpu_adam_step(ndarray p, ndarray g, ndarray m, ndarray v, ndarray vmax, double lr,
                         double beta1, double beta2, double eps, double weight_decay, double t,
                         bint decoupled_weight_decay, bint maximize) except *:
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(p))
    cdef int64_t n = cnp.PyArray_SIZE(p)
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef void *mp = cnp.PyArray_DATA(m)
    cdef void *vp = cnp.PyArray_DATA(v)
    cdef void *vmaxp = _ptr_or_null(vmax)
    if n >= NOGIL_MIN_ELEMENTS:
        with nogil:
            _adam_kernel(code, pp, gp, mp, vp, vmaxp, n, lr, beta1, beta2, eps, weight_decay, t,
                         decoupled_weight_decay, maximize)
    else:
        _adam_kernel(code, pp, gp, mp, vp, vmaxp, n, lr, beta1, beta2, eps, weight_decay, t,
                     decoupled_weight_decay, maximize)


cdef void _rmsprop_kernel(int code, void *p, const void *g, void *s, void *a, void *b, int64_t n,
                          double lr, double alpha, double eps, double weight_decay,
                          double momentum, bint maximize) noexcept nogil:
    if code == FLOAT32:
        C.cg_rmsprop_step_f32(<float *>p, <const float *>g, <float *>s, <float *>a, <float *>b, n,
                              lr, alpha, eps, weight_decay, momentum, maximize)
    else:
        C.cg_rmsprop_step_f64(<double *>p, <const double *>g, <double *>s, <double *>a,
                              <double *>b, n, lr, alpha, eps, weight_decay, momentum, maximize)


def rmsprop_step(TensorBase param not None, TensorBase grad not None,
                 TensorBase square_avg not None, TensorBase grad_avg, TensorBase momentum_buffer,
                 TensorBase step not None, double lr, double alpha, double eps,
                 double weight_decay, double momentum, bint maximize):
    """One RMSprop step of one parameter: advances `step` and runs cg_rmsprop_step. grad_avg is
    None unless centered, momentum_buffer None unless momentum > 0."""
    _check_step_param(param)
    p = _step_operand(param, param, "param", True)
    g = _step_operand(grad, param, "grad", False)
    s = _step_operand(square_avg, param, "square_avg", True)
    a = b = None
    if grad_avg is not None:
        a = _step_operand(grad_avg, param, "grad_avg", True)
    if momentum_buffer is not None:
        b = _step_operand(momentum_buffer, param, "momentum_buffer", True)
    _advance_step(step)
    _rmsprop_step(p, g, s, a, b, lr, alpha, eps, weight_decay, momentum, maximize)
    _finish_write(param, p)
    _finish_write(square_avg, s)
    if a is not None:
        _finish_write(grad_avg, a)
    if b is not None:
        _finish_write(momentum_buffer, b)


cdef void _cpu_rmsprop_step(ndarray p, ndarray g, ndarray s, ndarray a, ndarray b, double lr,
                            double alpha, double eps, double weight_decay, double momentum,
                            bint maximize) except *:
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(p))
    cdef int64_t n = cnp.PyArray_SIZE(p)
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef void *sp = cnp.PyArray_DATA(s)
    cdef void *ap = _ptr_or_null(a)
    cdef void *bp = _ptr_or_null(b)
    if n >= NOGIL_MIN_ELEMENTS:
        with nogil:
            _rmsprop_kernel(code, pp, gp, sp, ap, bp, n, lr, alpha, eps, weight_decay, momentum,
                            maximize)
    else:
        _rmsprop_kernel(code, pp, gp, sp, ap, bp, n, lr, alpha, eps, weight_decay, momentum,
                        maximize)


cdef void _adagrad_kernel(int code, void *p, const void *g, void *s, int64_t n, double lr,
                          double lr_decay, double weight_decay, double eps, double step,
                          bint maximize) noexcept nogil:
    if code == FLOAT32:
        C.cg_adagrad_step_f32(<float *>p, <const float *>g, <float *>s, n, lr, lr_decay,
                              weight_decay, eps, step, maximize)
    else:
        C.cg_adagrad_step_f64(<double *>p, <const double *>g, <double *>s, n, lr, lr_decay,
                              weight_decay, eps, step, maximize)


def adagrad_step(TensorBase param not None, TensorBase grad not None,
                 TensorBase state_sum not None, TensorBase step not None, double lr,
                 double lr_decay, double weight_decay, double eps, bint maximize):
    """One Adagrad step of one parameter: advances `step` and runs cg_adagrad_step."""
    _check_step_param(param)
    p = _step_operand(param, param, "param", True)
    g = _step_operand(grad, param, "grad", False)
    s = _step_operand(state_sum, param, "sum", True)
    cdef double t = _advance_step(step)
    _adagrad_step(p, g, s, lr, lr_decay, weight_decay, eps, t, maximize)
    _finish_write(param, p)
    _finish_write(state_sum, s)


cdef void _cpu_adagrad_step(ndarray p, ndarray g, ndarray s, double lr, double lr_decay,
                            double weight_decay, double eps, double t, bint maximize) except *:
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(p))
    cdef int64_t n = cnp.PyArray_SIZE(p)
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef void *sp = cnp.PyArray_DATA(s)
    if n >= NOGIL_MIN_ELEMENTS:
        with nogil:
            _adagrad_kernel(code, pp, gp, sp, n, lr, lr_decay, weight_decay, eps, t, maximize)
    else:
        _adagrad_kernel(code, pp, gp, sp, n, lr, lr_decay, weight_decay, eps, t, maximize)


# ---- gradient clipping ----


cdef void _norm_kernel(int code, const void *x, int64_t n, double p, double *out) noexcept nogil:
    if code == FLOAT32:
        C.cg_vector_norm_f32(<const float *>x, n, p, out)
    else:
        C.cg_vector_norm_f64(<const double *>x, n, p, out)


cdef double _cpu_vector_norm(ndarray a, double norm_type) except? -1:
    """||a||_p by cg_vector_norm, in double; `a` is contiguous float32 or float64."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(a))
    cdef double result = 0
    cdef int64_t n = cnp.PyArray_SIZE(a)
    cdef void *data = cnp.PyArray_DATA(a)
    if n >= NOGIL_MIN_ELEMENTS:
        with nogil:
            _norm_kernel(code, data, n, norm_type, &result)
    else:
        _norm_kernel(code, data, n, norm_type, &result)
    return result


cdef inline double _round_to(double value, int code):
    """value rounded to the precision of a float dtype code"""
    return <double>(<float>value) if code == FLOAT32 else value


def total_norm(list tensors, double norm_type):
    """The p-norm of all the tensors' elements taken as one vector, computed as torch's
    nn.utils.get_total_norm does: each tensor's norm in its own dtype, then the norm of those
    norms in their promoted dtype. A 0-d tensor; float32 0 for an empty list."""
    cdef Py_ssize_t k = len(tensors), i
    cdef int code = FLOAT32
    cdef TensorBase t
    for i in range(k):
        t = _tensor_arg("norm", tensors[i])
        if t._code != FLOAT32 and t._code != FLOAT64:
            raise TypeError(f"norms are computed for float32 and float64 tensors only, got "
                            f"{_DTYPES[t._code]}")
        if i == 0 or t._code > code:
            code = t._code
    cdef ndarray norms = _empty((k,), code)   # torch.stack of the per-tensor norms (on the host)
    cdef double value
    for i in range(k):
        t = <TensorBase>tensors[i]
        value = _round_to(_vector_norm(_contiguous(t._data), norm_type), t._code)
        if code == FLOAT32:
            (<float *>cnp.PyArray_DATA(norms))[i] = <float>value
        else:
            (<double *>cnp.PyArray_DATA(norms))[i] = value
    cdef ndarray result = _empty((), code)
    value = _cpu_vector_norm(norms, norm_type) if k > 0 else 0.0
    if code == FLOAT32:
        (<float *>cnp.PyArray_DATA(result))[0] = <float>value
    else:
        (<double *>cnp.PyArray_DATA(result))[0] = value
    # on the tensors' device, as torch's total norm is
    return _wrap(result if k == 0 else _move_to(result, _device_index((<TensorBase>tensors[0])._data)), code)


def clip_grads_with_norm_(list grads, double max_norm, TensorBase norm not None):
    """Scales each gradient in place by min(1, max_norm / (norm + 1e-6)), with torch's rounding:
    the coefficient is computed in norm's dtype as (1 / (norm + 1e-6)) * max_norm (torch's
    scalar / tensor is a reciprocal and a product), then rounded to each gradient's dtype."""
    if _size(norm._data) != 1 or (norm._code != FLOAT32 and norm._code != FLOAT64):
        raise TypeError("the total norm must be a one-element floating-point tensor")
    cdef double total = norm._data.item()
    cdef double coef
    cdef float coef32
    if norm._code == FLOAT32:
        coef32 = (<float>1 / (<float>total + <float>1e-6)) * <float>max_norm
        coef = coef32
    else:
        coef = (1 / (total + 1e-6)) * max_norm
    if coef > 1:   # torch.clamp(max=1.0); NaN stays NaN
        coef = 1
    cdef TensorBase g
    for grad in grads:
        g = _tensor_arg("norm", grad)
        if g._code != FLOAT32 and g._code != FLOAT64:
            raise TypeError(f"gradients must be float32 or float64, got {_DTYPES[g._code]}")
        if not _writeable(g._data):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single "
                "memory location. Please clone() the tensor before performing the operation.")
        _elementwise(K_MUL, g._code, (g._data, coef), g._data)
        g._bump_version()
