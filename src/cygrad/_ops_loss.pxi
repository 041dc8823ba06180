# Losses with fused kernels (csrc/loss.c): cross-entropy (log-softmax + NLL in one pass), NLL,
# binary cross-entropy (on probabilities and on logits) and smooth L1. Each node's backward is
# one kernel call; reductions are done here from the kernels' per-row losses.


cdef object _contiguous_as(object operand, int code):
    """A C-contiguous array of dtype `code` for a tensor (None stays None)."""
    if operand is None:
        return None
    return _cast(_contiguous((<TensorBase>operand)._data), code)


cdef int _reduction_kind(str reduction) except -1:
    if reduction == "none":
        return 0
    if reduction == "mean":
        return 1
    if reduction == "sum":
        return 2
    raise ValueError(f"{reduction} is not a valid value for reduction")


cdef TensorBase _reduce_loss(object losses, int reduction, double denominator, tuple none_shape, int code):
    """The loss tensor from per-row (or per-element) losses: as is (none), summed, or summed and
    divided by `denominator` (mean)."""
    if reduction == 0:
        return _wrap(losses.reshape(none_shape), code)
    cdef object total = _sum_axes(losses.reshape(-1), (0,), code)
    if reduction == 1:
        _elementwise(K_DIV, code, (total, denominator), total)
    return _wrap(total, code)


cdef object _row_grads(TensorBase gy, int reduction, double denominator, int64_t n, int code):
    """Each row's share of the upstream gradient, by the reduction the forward used."""
    if reduction == 0:
        return _contiguous_as(gy, code).reshape(-1)
    return _full_on(gy._data, (n,), gy._data.item() / (denominator if reduction == 1 else 1.0), code)


cdef tuple _class_rows(TensorBase input):
    """(rows, n, c, moved): input's scores as a contiguous (n, c) array with the class dim last
    (torch's dim 1; a 1-d input is one unbatched row)."""
    cdef object x = input._data
    cdef int ndim = _ndim(x)
    if ndim == 1:
        return _contiguous(x).reshape(1, -1), 1, _dim(x, 0), False
    if ndim == 0:
        raise RuntimeError("cross_entropy: input must have at least one dimension")
    cdef int64_t c = _dim(x, 1)
    moved = ndim > 2
    rows = _contiguous(_xp(x).moveaxis(x, 1, -1) if moved else x).reshape(-1, c)
    return rows, rows.shape[0], c, moved


cdef object _from_rows(object grad_rows, tuple input_shape, bint moved):
    """Inverse of _class_rows: (n, c) gradients back to the input's layout."""
    if len(input_shape) == 1:
        return grad_rows.reshape(input_shape)
    if not moved:
        return grad_rows
    cdef tuple moved_shape = (input_shape[0],) + input_shape[2:] + (input_shape[1],)
    return _contiguous(_xp(grad_rows).moveaxis(grad_rows.reshape(moved_shape), -1, 1))


cdef object _class_targets(TensorBase input, TensorBase target, int64_t n, int64_t c, int64_t ignore_index):
    """Checked int64 class indices, one per row."""
    if target._code != INT64:
        # torch 2.13's wording (older releases said "expected scalar type Long but found ...")
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_SCALAR_TYPE_NAMES[target._code]}")
    cdef tuple expected = (_shape(input._data)[0],) + _shape(input._data)[2:] if _ndim(input._data) > 1 else ()
    if _shape(target._data) != expected:
        if input._data.ndim > 1 and (target._data.ndim == 0 or target._data.shape[0] != input._data.shape[0]):
            raise ValueError(f"Expected input batch_size ({input._data.shape[0]}) to match target "
                             f"batch_size ({target._data.shape[0] if target._data.ndim else 1}).")
        raise RuntimeError(f"target shape {list(_shape(target._data))} does not match the input's "
                           f"{list(expected)} (input {list(_shape(input._data))} without its class dim)")
    cdef object t = _contiguous_as(target, INT64).reshape(-1)
    cdef object valid = t[_elementwise(K_NE, INT64, (t, ignore_index))] if n else t
    if _size(valid):
        low, _ = _extreme_dim(valid, 0, False)
        high, _ = _extreme_dim(valid, 0, True)
        for bound in (low.item(), high.item()):
            if bound < 0 or bound >= c:
                raise IndexError(f"Target {bound} is out of bounds.")
    return t


cdef class ClassLossBackward(Node):
    """cross-entropy / NLL with class targets: one fused kernel gives d loss / d input"""
    cdef bint from_logits          # cross-entropy (log-softmax inside) or NLL on log-probs
    cdef object saved_rows         # log-probabilities for cross-entropy; unused for NLL
    cdef object target, weight
    cdef int64_t n, c, ignore_index
    cdef double eps, denominator
    cdef int reduction
    cdef bint moved

    def name(self):
        return "NllLossBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        _check_no_double_backward(self, gy)
        cdef int code = gy._code
        row_grad = _row_grads(gy, self.reduction, self.denominator, self.n, code)
        gx = _class_loss_backward(self.from_logits, self.saved_rows, self.target, self.weight, row_grad,
                                  self.c, self.ignore_index, self.eps)
        return (_wrap(_from_rows(gx, self._input_shapes[0], self.moved), code), None)

    cdef void release_saved(self):
        self.saved_rows = None


cdef object _class_loss(TensorBase input, TensorBase target, object weight, int64_t ignore_index,
                        str reduction, double eps, bint from_logits):
    if _category(input._code) != 2:
        raise RuntimeError(f'"log_softmax_lastdim_kernel_impl" not implemented for \'{_SCALAR_TYPE_NAMES[input._code]}\'')
    cdef int kind = _reduction_kind(reduction)
    cdef int code = input._code
    rows, n, c, moved = _class_rows(input)
    cdef object t = _class_targets(input, target, n, c, ignore_index)
    cdef object w = _contiguous_as(weight, code)
    if w is not None and _size(w) != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes "
                           f"but got weight tensor of shape: {list(_shape(w))}")
    losses, row_weight, log_probs = _class_loss_forward(from_logits, _cast(rows, code), t, w,
                                                        ignore_index, eps)
    cdef double denominator = _sum_axes(row_weight, (0,), code).item() if kind == 1 else 1.0
    cdef TensorBase out = _reduce_loss(losses, kind, denominator, _shape(target._data), code)
    cdef ClassLossBackward node
    if _records(input):
        node = ClassLossBackward.__new__(ClassLossBackward)
        node.from_logits = from_logits
        node.saved_rows = log_probs
        node.target, node.weight = t, w
        node.n, node.c, node.ignore_index, node.eps = n, c, ignore_index, eps
        node.reduction, node.denominator, node.moved = kind, denominator, moved
        _connect2(node, input, target, out)
    return out


cdef class ProbabilityCrossEntropyBackward(Node):
    """cross-entropy with probability targets: d loss / d logits by one kernel"""
    cdef object log_probs, target, weight
    cdef int64_t n, c
    cdef double eps, denominator
    cdef int reduction
    cdef bint moved

    def name(self):
        return "CrossEntropyBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        _check_no_double_backward(self, gy)
        cdef int code = gy._code
        row_grad = _row_grads(gy, self.reduction, self.denominator, self.n, code)
        gx = _prob_cross_entropy_backward(self.log_probs, self.target, self.weight, row_grad, self.eps)
        return (_wrap(_from_rows(gx, self._input_shapes[0], self.moved), code), None)

    cdef void release_saved(self):
        self.log_probs = None


cdef object _probability_cross_entropy(TensorBase input, TensorBase target, object weight, str reduction, double eps):
    cdef int kind = _reduction_kind(reduction)
    cdef int code = input._code
    rows, n, c, moved = _class_rows(input)
    target_rows, _, _, _ = _class_rows(_to_code(target, code) if target._code != code else target)
    cdef object w = _contiguous_as(weight, code)
    log_probs, losses = _prob_cross_entropy_forward(_cast(rows, code), target_rows, w, eps)
    cdef tuple none_shape = (_shape(input._data)[0],) + _shape(input._data)[2:] if _ndim(input._data) > 1 else ()
    cdef TensorBase out = _reduce_loss(losses, kind, float(n), none_shape, code)
    cdef ProbabilityCrossEntropyBackward node
    if _records(input):
        node = ProbabilityCrossEntropyBackward.__new__(ProbabilityCrossEntropyBackward)
        node.log_probs, node.target, node.weight = log_probs, target_rows, w
        node.n, node.c, node.eps = n, c, eps
        node.reduction, node.denominator, node.moved = kind, float(n), moved
        _connect2(node, input, target, out)
    return out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """torch.nn.functional.cross_entropy: class indices (int64) or class probabilities (float,
    the input's shape) as targets."""
    cdef TensorBase x = input, t = target
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if _category(t._code) == 2 and _shape(t._data) == _shape(x._data):
        return _probability_cross_entropy(x, t, weight, reduction, label_smoothing)
    return _class_loss(x, t, weight, ignore_index, reduction, label_smoothing, True)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """torch.nn.functional.nll_loss on log-probabilities."""
    return _class_loss(input, target, weight, ignore_index, reduction, 0.0, False)


# ---- elementwise losses: binary cross-entropy (probabilities, logits) and smooth L1 ----

cdef class PointwiseLossBackward(Node):
    """d loss / d input for BCE, BCE-with-logits and smooth L1, by their backward kernels"""
    cdef int kind, reduction
    cdef object x, y, w, pos_weight
    cdef double beta, denominator

    def name(self):
        return ("BinaryCrossEntropyBackward0", "BinaryCrossEntropyWithLogitsBackward0",
                "SmoothL1LossBackward0")[self.kind]

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        _check_no_double_backward(self, gy)
        cdef int code = gy._code
        cdef int64_t n = _size(self.x)
        g = _row_grads(gy, self.reduction, self.denominator, n, code)
        gx = _pointwise_loss_backward(self.kind, self.x, self.y, self.w, self.pos_weight, g, self.beta)
        return (_wrap(gx.reshape(self._input_shapes[0]), code), None)


cdef object _broadcast_operand(object operand, tuple shape, int code):
    """operand (a tensor or None) broadcast to shape as a contiguous array of dtype code."""
    if operand is None:
        return None
    cdef object data = _cast((<TensorBase>operand)._data, code)
    return _contiguous(_xp(data).broadcast_to(data, shape))


cdef object _pointwise_loss(int kind, TensorBase input, TensorBase target, object weight,
                            object pos_weight, str reduction, double beta):
    cdef int reduction_kind = _reduction_kind(reduction)
    cdef int code = input._code
    if _category(code) != 2:
        raise RuntimeError(f"loss input must be floating point, got {_SCALAR_TYPE_NAMES[code]}")
    cdef tuple shape = _shape(input._data)
    if kind != SMOOTH_L1 and _shape(target._data) != shape:
        raise ValueError(f"Using a target size ({_size_repr(_shape(target._data))}) that is different "
                         f"to the input size ({_size_repr(shape)}) is deprecated. Please ensure they "
                         "have the same size.")
    x, y = _broadcast_operand(input, shape, code), _broadcast_operand(target, shape, code)
    w, pw = _broadcast_operand(weight, shape, code), _broadcast_operand(pos_weight, shape, code)
    cdef int64_t n = _size(x)
    losses = _pointwise_loss_forward(kind, x, y, w, pw, beta)
    cdef TensorBase out = _reduce_loss(losses, reduction_kind, float(n), shape, code)
    cdef PointwiseLossBackward node
    if _records(input):
        node = PointwiseLossBackward.__new__(PointwiseLossBackward)
        node.kind, node.reduction = kind, reduction_kind
        node.x, node.y, node.w, node.pos_weight = x, y, w, pw
        node.beta, node.denominator = beta, float(n)
        _connect2(node, input, target, out)
    return out


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    return _pointwise_loss(BCE, input, target, weight, None, reduction, 0.0)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    return _pointwise_loss(BCE_WITH_LOGITS, input, target, weight, pos_weight, reduction, 0.0)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return _pointwise_loss_l1(input, target, reduction)
    cdef TensorBase x = input, y = target
    cdef tuple shape = _broadcast_shapes(_shape(x._data), _shape(y._data))
    return _pointwise_loss(SMOOTH_L1, _expand_op(x, shape), _expand_op(y, shape), None, None, reduction, beta)


cdef object _pointwise_loss_l1(TensorBase x, TensorBase y, str reduction):
    """smooth L1 with beta = 0 is L1."""
    cdef object loss = _unary(U_ABS, _sub(x, y))
    cdef int kind = _reduction_kind(reduction)
    return loss if kind == 0 else (_mean_op(loss, None, False, NO_DTYPE) if kind == 1 else _sum_op(loss, None, False, NO_DTYPE))
