# The CPU backend's loss primitives (csrc/loss.c): cross-entropy and NLL over (n, c) rows of class
# scores, cross-entropy with probability targets, and the elementwise losses (BCE, BCE with logits,
# smooth L1). Operands are C-contiguous arrays of the computation dtype (int64 class targets);
# _ops_loss.pxi prepares them and checks the targets.

cdef enum _PointwiseLoss:
    BCE, BCE_WITH_LOGITS, SMOOTH_L1


cdef inline void *_ptr(ndarray a):
    return NULL if a is None else cnp.PyArray_DATA(a)


cdef tuple _cpu_class_loss_forward(bint from_logits, ndarray rows, ndarray target, ndarray weight,
                                   int64_t ignore_index, double eps):
    """(losses (n,), row weights (n,), log-probabilities (n, c) or None): cross-entropy of rows of
    logits (from_logits, with label smoothing eps) or NLL of rows of log-probabilities."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(rows))
    cdef int64_t n = cnp.PyArray_DIM(rows, 0), c = cnp.PyArray_DIM(rows, 1)
    cdef ndarray losses = _empty((n,), code), row_weight = _empty((n,), code)
    cdef ndarray log_probs = _empty((n, c), code) if from_logits else None
    cdef const int64_t *t = <const int64_t *>cnp.PyArray_DATA(target)
    if code == FLOAT32:
        if from_logits:
            C.cg_cross_entropy_fwd_f32(<const float *>_ptr(rows), t, <const float *>_ptr(weight),
                                       n, c, ignore_index, eps, <float *>_ptr(log_probs),
                                       <float *>_ptr(losses), <float *>_ptr(row_weight))
        else:
            C.cg_nll_fwd_f32(<const float *>_ptr(rows), t, <const float *>_ptr(weight),
                             n, c, ignore_index, <float *>_ptr(losses), <float *>_ptr(row_weight))
    else:
        if from_logits:
            C.cg_cross_entropy_fwd_f64(<const double *>_ptr(rows), t, <const double *>_ptr(weight),
                                       n, c, ignore_index, eps, <double *>_ptr(log_probs),
                                       <double *>_ptr(losses), <double *>_ptr(row_weight))
        else:
            C.cg_nll_fwd_f64(<const double *>_ptr(rows), t, <const double *>_ptr(weight),
                             n, c, ignore_index, <double *>_ptr(losses), <double *>_ptr(row_weight))
    return losses, row_weight, log_probs


cdef ndarray _cpu_class_loss_backward(bint from_logits, ndarray log_probs, ndarray target, ndarray weight,
                                      ndarray row_grad, int64_t c, int64_t ignore_index, double eps):
    """d loss / d input rows (n, c), given each row's upstream gradient row_grad (n,)."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(row_grad))
    cdef int64_t n = cnp.PyArray_SIZE(target)
    cdef ndarray gx = _empty((n, c), code)
    cdef const int64_t *t = <const int64_t *>cnp.PyArray_DATA(target)
    if code == FLOAT32:
        if from_logits:
            C.cg_cross_entropy_bwd_f32(<const float *>_ptr(log_probs), t, <const float *>_ptr(weight),
                                       <const float *>_ptr(row_grad), n, c, ignore_index, eps,
                                       <float *>_ptr(gx))
        else:
            C.cg_nll_bwd_f32(t, <const float *>_ptr(weight), <const float *>_ptr(row_grad), n, c,
                             ignore_index, <float *>_ptr(gx))
    else:
        if from_logits:
            C.cg_cross_entropy_bwd_f64(<const double *>_ptr(log_probs), t, <const double *>_ptr(weight),
                                       <const double *>_ptr(row_grad), n, c, ignore_index, eps,
                                       <double *>_ptr(gx))
        else:
            C.cg_nll_bwd_f64(t, <const double *>_ptr(weight), <const double *>_ptr(row_grad), n, c,
                             ignore_index, <double *>_ptr(gx))
    return gx


cdef tuple _cpu_prob_cross_entropy_forward(ndarray rows, ndarray target_rows, ndarray weight, double eps):
    """(log-probabilities (n, c), losses (n,)) of cross-entropy with class-probability targets."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(rows))
    cdef int64_t n = cnp.PyArray_DIM(rows, 0), c = cnp.PyArray_DIM(rows, 1)
    cdef ndarray log_probs = _empty((n, c), code), losses = _empty((n,), code)
    if code == FLOAT32:
        C.cg_cross_entropy_prob_fwd_f32(<const float *>_ptr(rows), <const float *>_ptr(target_rows),
                                        <const float *>_ptr(weight), n, c, eps, <float *>_ptr(log_probs),
                                        <float *>_ptr(losses))
    else:
        C.cg_cross_entropy_prob_fwd_f64(<const double *>_ptr(rows), <const double *>_ptr(target_rows),
                                        <const double *>_ptr(weight), n, c, eps, <double *>_ptr(log_probs),
                                        <double *>_ptr(losses))
    return log_probs, losses


cdef ndarray _cpu_prob_cross_entropy_backward(ndarray log_probs, ndarray target_rows, ndarray weight,
                                              ndarray row_grad, double eps):
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(row_grad))
    cdef int64_t n = cnp.PyArray_DIM(log_probs, 0), c = cnp.PyArray_DIM(log_probs, 1)
    cdef ndarray gx = _empty((n, c), code)
    if code == FLOAT32:
        C.cg_cross_entropy_prob_bwd_f32(<const float *>_ptr(log_probs), <const float *>_ptr(target_rows),
                                        <const float *>_ptr(weight), <const float *>_ptr(row_grad),
                                        n, c, eps, <float *>_ptr(gx))
    else:
        C.cg_cross_entropy_prob_bwd_f64(<const double *>_ptr(log_probs), <const double *>_ptr(target_rows),
                                        <const double *>_ptr(weight), <const double *>_ptr(row_grad),
                                        n, c, eps, <double *>_ptr(gx))
    return gx


cdef ndarray _cpu_pointwise_loss_forward(int kind, ndarray x, ndarray y, ndarray w, ndarray pw, double beta):
    """Per-element losses (x's shape) of BCE, BCE with logits or smooth L1; all operands
    contiguous, of x's shape and dtype (w and pw may be None)."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(x))
    cdef int64_t n = cnp.PyArray_SIZE(x)
    cdef ndarray losses = _empty(_shape(x), code)
    if code == FLOAT32:
        if kind == BCE:
            C.cg_bce_fwd_f32(<const float *>_ptr(x), <const float *>_ptr(y), <const float *>_ptr(w), n, <float *>_ptr(losses))
        elif kind == BCE_WITH_LOGITS:
            C.cg_bce_logits_fwd_f32(<const float *>_ptr(x), <const float *>_ptr(y), <const float *>_ptr(w),
                                    <const float *>_ptr(pw), n, <float *>_ptr(losses))
        else:
            C.cg_smooth_l1_fwd_f32(<const float *>_ptr(x), <const float *>_ptr(y), n, beta, <float *>_ptr(losses))
    else:
        if kind == BCE:
            C.cg_bce_fwd_f64(<const double *>_ptr(x), <const double *>_ptr(y), <const double *>_ptr(w), n, <double *>_ptr(losses))
        elif kind == BCE_WITH_LOGITS:
            C.cg_bce_logits_fwd_f64(<const double *>_ptr(x), <const double *>_ptr(y), <const double *>_ptr(w),
                                    <const double *>_ptr(pw), n, <double *>_ptr(losses))
        else:
            C.cg_smooth_l1_fwd_f64(<const double *>_ptr(x), <const double *>_ptr(y), n, beta, <double *>_ptr(losses))
    return losses


cdef ndarray _cpu_pointwise_loss_backward(int kind, ndarray x, ndarray y, ndarray w, ndarray pw, ndarray g,
                                          double beta):
    """d loss / d x as a flat (n,) array, from each element's upstream gradient g (n,)."""
    cdef int code = _code_of_typenum(cnp.PyArray_TYPE(g))
    cdef int64_t n = cnp.PyArray_SIZE(x)
    cdef ndarray gx = _empty((n,), code)
    if code == FLOAT32:
        if kind == BCE:
            C.cg_bce_bwd_f32(<const float *>_ptr(x), <const float *>_ptr(y), <const float *>_ptr(w),
                             <const float *>_ptr(g), n, <float *>_ptr(gx))
        elif kind == BCE_WITH_LOGITS:
            C.cg_bce_logits_bwd_f32(<const float *>_ptr(x), <const float *>_ptr(y), <const float *>_ptr(w),
                                    <const float *>_ptr(pw), <const float *>_ptr(g), n, <float *>_ptr(gx))
        else:
            C.cg_smooth_l1_bwd_f32(<const float *>_ptr(x), <const float *>_ptr(y), <const float *>_ptr(g),
                                   n, beta, <float *>_ptr(gx))
    else:
        if kind == BCE:
            C.cg_bce_bwd_f64(<const double *>_ptr(x), <const double *>_ptr(y), <const double *>_ptr(w),
                             <const double *>_ptr(g), n, <double *>_ptr(gx))
        elif kind == BCE_WITH_LOGITS:
            C.cg_bce_logits_bwd_f64(<const double *>_ptr(x), <const double *>_ptr(y), <const double *>_ptr(w),
                                    <const double *>_ptr(pw), <const double *>_ptr(g), n, <double *>_ptr(gx))
        else:
            C.cg_smooth_l1_bwd_f64(<const double *>_ptr(x), <const double *>_ptr(y), <const double *>_ptr(g),
                                   n, beta, <double *>_ptr(gx))
    return gx
