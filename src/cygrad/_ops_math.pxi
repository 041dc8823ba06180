# Math ops: where, maximum/minimum, clamp, the unary math functions (erf, log1p, expm1, rsqrt,
# reciprocal), the zero-gradient ones (sign, floor, ceil, round), the activations (gelu, silu,
# softplus, leaky_relu, elu), the reductions prod, var/std, logsumexp, norm, the scan cumsum, and
# outer and einsum (composed of existing ops, so their gradients come from those ops).
#
# Backward formulas are torch's (derivatives.yaml, FunctionsManual.cpp), written with ops where
# that is cheap, so create_graph=True differentiates them again. Where torch's formula is a select
# with edge cases (maximum's ties, clamp's bounds) or an activation's derivative, the backward is
# one fused kernel whose result gets a node of its own under create_graph: selects are linear in the
# incoming gradient (SelectGradBackward), activations give their second derivative written with ops
# (saved_derivative, through _ops_elementwise's UnaryDoubleBackward). Only prod's exact gradient
# with zeros in the input cannot be differentiated again; it raises NotImplementedError.
import math as _math


cdef int _result_code_of(tuple operands) except -2:
    """torch.result_type of several operands (tensors or Python numbers; None is skipped)."""
    cdef int dim_result = NO_DTYPE, zero_result = NO_DTYPE, wrapped_result = NO_DTYPE
    for operand in operands:
        if operand is not None:
            _update_promotion(&dim_result, &zero_result, &wrapped_result, operand)
    return _combine_categories(dim_result, _combine_categories(zero_result, wrapped_result))


cdef Node _connect3(Node node, object a, object b, object c, TensorBase out):
    """Wires a three-input node between (a, b, c) and `out` (as _connect2 does for two)."""
    node._next_edges = (_edge_to(a), _edge_to(b), _edge_to(c))
    node._input_shapes = (_shape_of(a), _shape_of(b), _shape_of(c))
    node._input_codes = (_code_of(a), _code_of(b), _code_of(c))
    node._num_outputs = 1
    out._grad_fn = node
    out._requires_grad = True
    return node


cdef TensorBase _zeros_like_grad(TensorBase gy, tuple shape):
    """A zero gradient of `shape` in gy's dtype (a constant: nothing to differentiate)."""
    return _wrap(_zeros_on(gy._data, shape, gy._code), gy._code)


cdef void _refuse_double_backward(str node_name, tuple tensors) except *:
    """The numpy/kernel backward of node_name is not differentiable: refuse create_graph when any
    input of that backward would need a gradient, rather than give a wrong second derivative."""
    if cg_grad_enabled:
        for t in tensors:
            if isinstance(t, TensorBase) and (<TensorBase>t)._requires_grad:
                raise NotImplementedError(f"the derivative of {node_name}'s backward is not implemented, "
                                          "so create_graph=True cannot differentiate through it yet")


cdef TensorBase _select_grad(str node_name, _Kernel k, tuple operands):
    """gx = k(operands...), the last operand being the incoming gradient gy: k is linear in gy and
    piecewise constant in the others (a select: maximum's ties, clamp's bounds). Under create_graph
    gx gets a node whose backward is k applied to the new gradient, so every higher derivative
    works (zero through the other operands, as torch's masks give)."""
    cdef TensorBase gy = <TensorBase>operands[len(operands) - 1]
    cdef TensorBase gx = _wrap(_elementwise(k, gy._code, tuple([_data_or_number(o) for o in operands])),
                               gy._code)
    cdef SelectGradBackward node
    if _records(gy):
        node = SelectGradBackward.__new__(SelectGradBackward)
        node.node_name = node_name
        node.kernel = k
        node.operands = tuple([_save_operand(o, True) for o in operands[:len(operands) - 1]])
        _connect1(node, gy, gx)
    return gx


cdef class SelectGradBackward(Node):
    """d k(a..., dy) = k(a..., d(dy))   (k selects or scales dy by masks of a...)"""
    cdef str node_name
    cdef _Kernel kernel
    cdef tuple operands

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        cdef list operands = [_unpack_or_number(o, self) for o in self.operands]
        operands.append(grads[0])
        return (_select_grad(self.node_name, self.kernel, tuple(operands)),)

    cdef void release_saved(self):
        for saved in self.operands:
            _release(saved)


# ---- where ----

cdef object _where_op(object condition, object a, object b):
    """condition ? a : b, broadcasting all three (a and b may be Python numbers)"""
    cdef TensorBase cond = _tensor_arg("where", condition, "condition", 1)
    if cond._code != BOOL:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {_SCALAR_TYPE_NAMES[cond._code]}")
    a = _operand(a)
    b = _operand(b)
    cdef int code = _result_code(a, b)
    cdef TensorBase out = _wrap(_elementwise(K_WHERE, code, (cond._data, _data_or_number(a),
                                                             _data_or_number(b))), code)
    cdef WhereBackward0 node
    if _records(a) or _records(b):
        node = WhereBackward0.__new__(WhereBackward0)
        node.condition = _save(cond, False)
        _connect2(node, a, b, out)
    return out


cdef class WhereBackward0(Node):
    """d where(c, a, b) = where(c, dy, 0) da + where(c, 0, dy) db   (a select: the other branch's
    gradient is exactly 0, never 0 * inf)"""
    cdef SavedTensor condition

    cdef tuple apply(self, list grads):
        gy = grads[0]
        cond = self.condition.unpack(self)
        return (_where_op(cond, gy, 0) if self._next_edges[0][0] is not None else None,
                _where_op(cond, 0, gy) if self._next_edges[1][0] is not None else None)

    cdef void release_saved(self):
        self.condition.release()


cdef tuple _nonzero_indices(TensorBase x):
    """torch.where(condition) with one argument: a tuple of int64 index tensors, one per dim."""
    cdef object data = x._data if _ndim(x._data) > 0 else x._data.reshape(1)
    return tuple([_wrap(_cast(_contiguous(idx), INT64), INT64) for idx in _xp(data).nonzero(data)])


# ---- maximum, minimum ----

cdef object _extremum_op(object a, object b, bint is_max):
    cdef str name = "maximum" if is_max else "minimum"
    cdef TensorBase x = _tensor_arg(name, a, "input", 1), y = _tensor_arg(name, b, "other", 2)
    cdef int code = _result_code(x, y)
    cdef TensorBase out = _binary_kernel(K_MAXIMUM if is_max else K_MINIMUM, x, y, code)
    cdef ExtremumBackward node
    if _records(x) or _records(y):
        node = ExtremumBackward.__new__(ExtremumBackward)
        node.is_max = is_max
        node.a = _save(x, False)
        node.b = _save(y, False)
        _connect2(node, x, y, out)
    return out


cdef class ExtremumBackward(Node):
    """d maximum(a, b) = dy to the larger operand, dy / 2 to each on a tie (likewise minimum)"""
    cdef bint is_max
    cdef SavedTensor a, b

    def name(self):
        return "MaximumBackward0" if self.is_max else "MinimumBackward0"

    cdef tuple apply(self, list grads):
        gy = grads[0]
        cdef _Kernel k = K_MAXIMUM_BWD if self.is_max else K_MINIMUM_BWD
        cdef str name = "MaximumBackwardBackward0" if self.is_max else "MinimumBackwardBackward0"
        a = self.a.unpack(self)
        b = self.b.unpack(self)
        return (_select_grad(name, k, (a, b, gy)) if self._next_edges[0][0] is not None else None,
                _select_grad(name, k, (b, a, gy)) if self._next_edges[1][0] is not None else None)

    cdef void release_saved(self):
        self.a.release()
        self.b.release()


# ---- clamp ----

cdef tuple _clamp_bounds(object lo, object hi, int code):
    """The bounds as kernel operands: a missing one becomes the dtype's extreme value."""
    if _category(code) == 2:
        missing_lo, missing_hi = -_math.inf, _math.inf
    else:
        missing_lo, missing_hi = -(1 << 63), (1 << 63) - 1
    return (missing_lo if lo is None else lo), (missing_hi if hi is None else hi)


cdef object _clamp_op(TensorBase x, object lo, object hi, str node_name):
    """min(max(x, lo), hi); either bound may be None, a number or a tensor (broadcast)"""
    if lo is None and hi is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = None if lo is None else _operand(lo)
    hi = None if hi is None else _operand(hi)
    cdef int code = _result_code_of((x, lo, hi))
    low, high = _clamp_bounds(lo, hi, code)
    cdef TensorBase out = _wrap(_elementwise(K_CLAMP, code, (x._data, _data_or_number(low),
                                                             _data_or_number(high))), code)
    cdef ClampBackward node
    if _records(x) or _records(lo) or _records(hi):
        node = ClampBackward.__new__(ClampBackward)
        if node_name is None:
            node_name = "ClampBackward0" if isinstance(lo, TensorBase) or isinstance(hi, TensorBase) else "ClampBackward1"
        node.node_name = node_name
        node.x = _save(x, False)
        node.lo = _save_operand(low, True)
        node.hi = _save_operand(high, True)
        _connect3(node, x, lo, hi, out)
    return out


cdef class ClampBackward(Node):
    """d clamp(x, lo, hi) = dy where lo <= x <= hi (bounds included) for x; for tensor bounds,
    dy where x < lo (and lo < hi) to lo, dy where x > hi (or hi < lo) to hi"""
    cdef str node_name
    cdef SavedTensor x
    cdef object lo, hi       # SavedTensor or number (a missing bound is the dtype's extreme)

    def name(self):
        return self.node_name

    cdef tuple apply(self, list grads):
        cdef tuple operands = (self.x.unpack(self), _unpack_or_number(self.lo, self),
                               _unpack_or_number(self.hi, self), grads[0])
        cdef str name = self.node_name.replace("Backward", "BackwardBackward")
        return (_select_grad(name, K_CLAMP_BWD, operands) if self._next_edges[0][0] is not None else None,
                _select_grad(name, K_CLAMP_MIN_BWD, operands) if self._next_edges[1][0] is not None else None,
                _select_grad(name, K_CLAMP_MAX_BWD, operands) if self._next_edges[2][0] is not None else None)

    cdef void release_saved(self):
        self.x.release()
        _release(self.lo)
        _release(self.hi)


cdef object _clamp_inplace(TensorBase x, object lo, object hi):
    """x.clamp_(lo, hi): x overwritten by its clamp; in a graph, x becomes the clamp's output."""
    _check_inplace(x)
    if lo is None and hi is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = None if lo is None else _operand(lo)
    hi = None if hi is None else _operand(hi)
    cdef int code = _result_code_of((x, lo, hi))
    if _category(code) > _category(x._code):
        # torch's clamp_ names the destination by its C++ type, unlike add_ and friends
        raise RuntimeError(f"result type {_SCALAR_TYPE_NAMES[code]} can't be cast to the desired output "
                           f"type {('bool', 'int', 'long int')[x._code]}")
    if cg_grad_enabled and (x._requires_grad or _needs_grad(lo) or _needs_grad(hi)):
        # the node saves x for every gradient: give it x's value before the write
        _rebase_history(x, <TensorBase>_clamp_op(_snapshot(x), lo, hi, None))
        return x
    low, high = _clamp_bounds(lo, hi, code)
    _elementwise(K_CLAMP, code, (x._data, _data_or_number(low), _data_or_number(high)), x._data)
    x._bump_version()
    return x


# ---- unary math functions: backward written with ops ----

cdef double _TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)


cdef class _Erf(_UnaryOp):
    cdef object derivative(self, TensorBase x, TensorBase gy):
        """dx = 2 / sqrt(pi) exp(-x^2) dy"""
        return _mul(_mul(_unary(U_EXP, _unary(U_NEG, _mul(x, x))), _TWO_OVER_SQRT_PI), gy)


cdef class _Log1p(_UnaryOp):
    cdef object derivative(self, TensorBase x, TensorBase gy):
        """dx = dy / (x + 1)"""
        return _div(gy, _add(x, 1, 1))


cdef class _Expm1(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = dy (y + 1)"""
        return _mul(gy, _add(y, 1, 1))


cdef class _Rsqrt(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = -dy y^3 / 2"""
        return _mul(_mul(gy, -0.5), _mul(_mul(y, y), y))


cdef class _Reciprocal(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = -dy y^2"""
        return _mul(_unary(U_NEG, gy), _mul(y, y))


cdef class _ZeroGrad(_UnaryOp):
    cdef object derivative(self, TensorBase _, TensorBase gy):
        """dx = 0   (piecewise-constant functions: sign, floor, ceil, round)"""
        return _zeros_like_grad(gy, _shape(gy._data))


cdef _UnaryOp U_ERF = _unary_op(_Erf, "ErfBackward0", K_ERF, True, SAVES_INPUT)
cdef _UnaryOp U_LOG1P = _unary_op(_Log1p, "Log1PBackward0", K_LOG1P, True, SAVES_INPUT)
cdef _UnaryOp U_EXPM1 = _unary_op(_Expm1, "Expm1Backward0", K_EXPM1, True, SAVES_OUTPUT)
cdef _UnaryOp U_RSQRT = _unary_op(_Rsqrt, "RsqrtBackward0", K_RSQRT, True, SAVES_OUTPUT)
cdef _UnaryOp U_RECIPROCAL = _unary_op(_Reciprocal, "ReciprocalBackward0", K_RECIPROCAL, True, SAVES_OUTPUT)
cdef _UnaryOp U_SIGN = _unary_op(_ZeroGrad, "SignBackward0", K_SIGN, False, SAVES_NOTHING)
cdef _UnaryOp U_FLOOR = _unary_op(_ZeroGrad, "FloorBackward0", K_FLOOR, False, SAVES_NOTHING)
cdef _UnaryOp U_CEIL = _unary_op(_ZeroGrad, "CeilBackward0", K_CEIL, False, SAVES_NOTHING)
cdef _UnaryOp U_ROUND = _unary_op(_ZeroGrad, "RoundBackward0", K_ROUND, False, SAVES_NOTHING)
cdef _UnaryOp U_ROUND_DECIMALS = _unary_op(_ZeroGrad, "RoundBackward1", K_ROUND_DECIMALS, False, SAVES_NOTHING)


cdef void _record_unary(_UnaryOp op, TensorBase x, TensorBase out) except *:
    """Records op's UnaryBackward node for out = op(x), as _unary does (for the ops with arguments,
    whose forward is not _unary's one-operand kernel call)."""
    if not _records(x):
        return
    cdef UnaryBackward node = UnaryBackward.__new__(UnaryBackward)
    node.op = op
    if op.saves == SAVES_INPUT:
        node.saved = _save(x, False)
    elif op.saves == SAVES_OUTPUT:
        node.saved = _save(out, True)
    _connect1(node, x, out)


cdef object _rounding_op(_UnaryOp op, object operand):
    """floor, ceil or round of a tensor: integers are returned as they are (a copy), bool refused."""
    cdef TensorBase x = _tensor_arg(op.kernel.name, operand, "input", 1)
    if x._code == BOOL:
        raise NotImplementedError(f'"{op.kernel.name}_vml_cpu" not implemented for \'Bool\'')
    return _unary(op, x)


cdef object _round_op(object operand, object decimals):
    """round(x, decimals): halves to even, at 10^-decimals"""
    if decimals == 0:
        return _rounding_op(U_ROUND, operand)
    cdef TensorBase x = _tensor_arg("round", operand, "input", 1)
    if _category(x._code) != 2:
        raise NotImplementedError(f'"round_cpu" not implemented for \'{_SCALAR_TYPE_NAMES[x._code]}\'')
    cdef TensorBase out = _wrap(_elementwise(K_ROUND_DECIMALS, x._code, (x._data,), None, decimals), x._code)
    _record_unary(U_ROUND_DECIMALS, x, out)
    return out


# ---- activations: float-only unary ops with arguments, backward by one fused kernel ----

cdef class _FusedOp(_UnaryOp):
    """A float-only unary op whose forward and backward kernels both take the op's arguments: as
    extra stride-0 operands (`scalars`) or as the kernels' parameter (`param`). Its derivative is
    the backward kernel; under create_graph that result gets a UnaryDoubleBackward node, whose
    backward uses saved_derivative (the second derivative, written with ops, in each subclass)."""
    cdef _Kernel backward_kernel
    cdef str kernel_label     # torch's kernel name, in its error for integer inputs
    cdef tuple scalars
    cdef double param

    cdef object derivative(self, TensorBase x, TensorBase gy):
        """dx = backward_kernel(x, dy, *scalars; param)"""
        cdef TensorBase gx = _wrap(_elementwise(self.backward_kernel, gy._code,
                                                (x._data, gy._data) + self.scalars, None, self.param), gy._code)
        cdef UnaryDoubleBackward node
        if _records(x) or _records(gy):
            node = UnaryDoubleBackward.__new__(UnaryDoubleBackward)
            node.op = self
            node.saved = _save(x, False)
            node.gy = _save(gy, False)
            _connect2(node, x, gy, gx)
        return gx


cdef class _Gelu(_FusedOp):
    cdef object saved_derivative(self, TensorBase x, TensorBase gy, TensorBase ggx):
        """d(Phi(x) + x phi(x))/dx = phi(x) (2 - x^2), phi the normal pdf"""
        pdf = _mul(_unary(U_EXP, _mul(_mul(x, x), -0.5)), _INV_SQRT_2PI)
        return _mul(_mul(ggx, gy), _mul(pdf, _sub(2.0, _mul(x, x))))


cdef class _GeluTanh(_FusedOp):
    cdef object saved_derivative(self, TensorBase x, TensorBase gy, TensorBase ggx):
        """with t = tanh(u), u = b (x + k x^3): (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2)"""
        x_sq = _mul(x, x)
        t = _unary(U_TANH, _mul(_add(x, _mul(_mul(x_sq, x), _GELU_KAPPA), 1), _GELU_BETA))
        du = _mul(_add(_mul(x_sq, 3.0 * _GELU_KAPPA), 1.0, 1), _GELU_BETA)      # u'
        d2u = _mul(x, 6.0 * _GELU_KAPPA * _GELU_BETA)                          # u''
        inner = _add(du, _mul(_mul(x, 0.5), _sub(d2u, _mul(_mul(t, 2.0), _mul(du, du)))), 1)
        return _mul(_mul(ggx, gy), _mul(_sub(1.0, _mul(t, t)), inner))


cdef class _Silu(_FusedOp):
    cdef object saved_derivative(self, TensorBase x, TensorBase gy, TensorBase ggx):
        """d(s (1 + x (1 - s)))/dx = s (1 - s) (2 + x (1 - 2 s)), s = sigmoid(x)"""
        sig = _unary(U_SIGMOID, x)
        return _mul(_mul(ggx, gy), _mul(_mul(sig, _sub(1.0, sig)),
                                        _add(_mul(x, _sub(1.0, _mul(sig, 2.0))), 2.0, 1)))


cdef class _Softplus(_FusedOp):
    cdef object saved_derivative(self, TensorBase x, TensorBase gy, TensorBase ggx):
        """beta s (1 - s) where beta x < threshold, s = sigmoid(beta x); 0 where it is linear"""
        beta, threshold = self.scalars
        bx = _mul(x, beta)
        sig = _unary(U_SIGMOID, bx)
        curve = _mul(_mul(_mul(ggx, gy), _mul(_sub(1.0, sig), sig)), beta)
        return _where_op(_compare(K_LT, bx, threshold), curve, 0)


cdef class _LeakyRelu(_FusedOp):
    pass  # piecewise linear: saved_derivative is None (zero)


cdef class _Elu(_FusedOp):
    cdef object saved_derivative(self, TensorBase x, TensorBase gy, TensorBase ggx):
        """alpha exp(x) where x <= 0, 0 where x > 0"""
        curve = _mul(_mul(_mul(ggx, gy), self.param), _unary(U_EXP, x))
        return _where_op(_compare(K_LE, x, 0), curve, 0)


cdef double _INV_SQRT_2PI = 1.0 / _math.sqrt(2.0 * _math.pi)
cdef double _GELU_BETA = _math.sqrt(2.0 / _math.pi)     # gelu's tanh approximation constants
cdef double _GELU_KAPPA = 0.044715


cdef _FusedOp _fused_op(type cls, str node_name, str kernel_label, _Kernel kernel, _Kernel backward_kernel,
                        tuple scalars=(), double param=0.0):
    cdef _FusedOp op = cls.__new__(cls)
    op.node_name = node_name
    op.kernel = kernel
    op.floating = False
    op.saves = SAVES_INPUT
    op.kernel_label = kernel_label
    op.backward_kernel = backward_kernel
    op.scalars = scalars
    op.param = param
    return op


cdef _FusedOp U_GELU = _fused_op(_Gelu, "GeluBackward0", "GeluKernelImpl", K_GELU, K_GELU_BWD)
cdef _FusedOp U_GELU_TANH = _fused_op(_GeluTanh, "GeluBackward0", "GeluKernelImpl", K_GELU_TANH, K_GELU_TANH_BWD)
cdef _FusedOp U_SILU = _fused_op(_Silu, "SiluBackward0", "silu_cpu", K_SILU, K_SILU_BWD)


cdef TensorBase _float_input(_FusedOp op, object operand):
    cdef TensorBase x = _tensor_arg(op.kernel.name, operand, "input", 1)
    if _category(x._code) != 2:
        raise NotImplementedError(f'"{op.kernel_label}" not implemented for \'{_SCALAR_TYPE_NAMES[x._code]}\'')
    return x


cdef object _fused_unary(_FusedOp op, object operand, bint inplace):
    cdef TensorBase x = _float_input(op, operand)
    cdef TensorBase out
    if inplace:
        _check_inplace(x)
        if cg_grad_enabled and x._requires_grad:
            # the backward reads x: give the node x's value before the write
            _rebase_history(x, <TensorBase>_fused_unary(op, _snapshot(x), False))
            return x
        _elementwise(op.kernel, x._code, (x._data,) + op.scalars, x._data, op.param)
        x._bump_version()
        return x
    out = _wrap(_elementwise(op.kernel, x._code, (x._data,) + op.scalars, None, op.param), x._code)
    _record_unary(op, x, out)
    return out


# ---- prod ----

cdef object _prod_op(TensorBase x, object dim, bint keepdim, int requested_code):
    """The product of all elements, or along one dim"""
    cdef int code = requested_code if requested_code != NO_DTYPE else (x._code if _category(x._code) == 2 else INT64)
    if code != x._code and _category(code) == 2:
        x = _to_code(x, code)  # the gradient flows back through the cast
    cdef tuple shape = _shape(x._data)
    cdef int ndim = len(shape), d = -1
    cdef tuple dims
    if dim is None:
        dims = tuple(range(ndim))
    else:
        if not isinstance(dim, int):
            raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
        d = _wrap_dim(dim, ndim)
        dims = (d,) if ndim > 0 else ()
    cdef object result = _math_reduce(REDUCE_PROD, x._data, dims, code, 0.0)
    if keepdim and dim is not None:
        result = _as_view(result, _kept_shape(shape, dims))
    cdef TensorBase out = _wrap(result, code)
    cdef ProdBackward node
    if _records(x):
        node = ProdBackward.__new__(ProdBackward)
        node.dim = d if ndim > 0 else -1
        node.keepdim = keepdim
        node.x = _save(x, False)
        node.result = _save(out, True)
        _connect1(node, x, out)
    return out


cdef class ProdBackward(Node):
    """d prod(x) = dy prod(x) / x without zeros in x; else dy times the product of the other
    elements (exclusive products, exact with zeros)"""
    cdef int dim            # -1: the product of all elements
    cdef bint keepdim
    cdef SavedTensor x, result

    def name(self):
        return "ProdBackward0" if self.dim < 0 else "ProdBackward1"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef tuple in_shape = self._input_shapes[0]
        if len(in_shape) == 0:
            return (gy,)
        cdef TensorBase x = self.x.unpack(self)
        cdef TensorBase result = self.result.unpack(self)
        if self.dim >= 0 and not self.keepdim:
            kept = _kept_shape(in_shape, (self.dim,))
            gy = _reshape_op(gy, kept)
            result = _reshape_op(result, kept)
        cdef int64_t zeros = _count_zeros(x._data)
        if zeros == 0:
            return (_mul(gy, _div(result, x)),)
        if self.dim < 0 and zeros > 1 and not cg_grad_enabled:
            return (_zeros_like_grad(gy, in_shape),)  # every exclusive product holds a zero (torch)
        _refuse_double_backward(self.name(), (gy, x))
        cdef object g = gy._data
        if self.dim >= 0:
            g = g.reshape(in_shape[:self.dim] + in_shape[self.dim + 1:])
        return (_wrap(_prod_backward(x._data, _cast(g, x._code), self.dim), x._code),)

    cdef void release_saved(self):
        self.x.release()
        self.result.release()


# ---- var, std ----

cdef double _correction_of(str name, object unbiased, object correction) except? -1.0:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got both 'unbiased' "
                        "and 'correction'; pass only one of them")
    if correction is not None:
        return float(correction)
    return 0.0 if unbiased is not None and not unbiased else 1.0


cdef object _var_op(TensorBase x, object dim, double correction, bint keepdim, bint is_std):
    """var: sum((x - mean)^2) / (n - correction) over the dims; std: its square root"""
    cdef str name = "std" if is_std else "var"
    if _category(x._code) != 2:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    cdef tuple shape = _shape(x._data)
    cdef tuple dims = _reduction_dims(dim, len(shape))
    cdef int64_t n = _count(shape, dims)
    if n - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than "
                      "the reduction factor (input numel divided by output numel).", UserWarning, stacklevel=2)
    cdef object result = _math_reduce(REDUCE_VAR, x._data, dims, x._code, correction)
    if is_std:
        _elementwise(K_SQRT, x._code, (result,), result)
    if keepdim:
        result = _as_view(result, _kept_shape(shape, dims))
    cdef TensorBase out = _wrap(result, x._code)
    cdef VarBackward node
    if _records(x):
        node = VarBackward.__new__(VarBackward)
        node.is_std = is_std
        node.dims = dims
        node.keepdim = keepdim
        node.whole = dim is None or len(shape) == 0
        node.dof = n - correction
        node.x = _save(x, False)
        node.result = _save(out, True) if is_std else None
        _connect1(node, x, out)
    return out


cdef class VarBackward(Node):
    """d var(x) = 2 / (n - correction) dy (x - mean(x));  d std(x) = d var(x) with dy / (2 std)
    (0 where std == 0)"""
    cdef bint is_std, keepdim, whole
    cdef tuple dims
    cdef double dof
    cdef SavedTensor x, result

    def name(self):
        return "StdBackward0" if self.is_std else "VarBackward0"

    cdef tuple apply(self, list grads):
        gy = grads[0]
        cdef TensorBase x = self.x.unpack(self)
        cdef TensorBase std
        if self.is_std:
            std = self.result.unpack(self)
            gy = _where_op(_compare(K_NE, std, 0), _div(gy, _mul(std, 2)), 0)
        if not self.keepdim:
            gy = _reshape_op(<TensorBase>gy, _kept_shape(self._input_shapes[0], self.dims))
        if self.whole and self.dof <= 0:
            # torch: 2 / dof is inf here; x == mean gives NaN (inf * 0), anything else inf
            at_mean = _compare(K_EQ, x, _mean_op(x, None, False, NO_DTYPE))
            return (_mul(gy, _where_op(at_mean, _math.nan, _math.inf)),)
        factor = 2.0 / self.dof if self.dof != 0 else _math.inf
        mean = _mean_op(x, self.dims, True, NO_DTYPE)
        return (_mul(_mul(gy, factor), _sub(x, mean)),)

    cdef void release_saved(self):
        self.x.release()
        if self.result is not None:
            self.result.release()


# ---- logsumexp ----

cdef object _logsumexp_op(TensorBase x, object dim, bint keepdim):
    """log(sum(exp(x))) over the dims, shifted by the max so that +-1000 neither overflows nor
    underflows"""
    if _category(x._code) != 2:
        x = _to_code(x, _float_code(x._code))
    cdef tuple shape = _shape(x._data)
    cdef tuple dims = _reduction_dims(dim, len(shape))
    cdef object result = _math_reduce(REDUCE_LOGSUMEXP, x._data, dims, x._code, 0.0)
    if keepdim:
        result = _as_view(result, _kept_shape(shape, dims))
    cdef TensorBase out = _wrap(result, x._code)
    cdef LogsumexpBackward0 node
    if _records(x):
        node = LogsumexpBackward0.__new__(LogsumexpBackward0)
        node.dims = dims
        node.keepdim = keepdim
        node.x = _save(x, False)
        node.result = _save(out, True)
        _connect1(node, x, out)
    return out


cdef class LogsumexpBackward0(Node):
    """d logsumexp(x) = dy exp(x - logsumexp(x))   (softmax times dy)"""
    cdef tuple dims
    cdef bint keepdim
    cdef SavedTensor x, result

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef TensorBase result = self.result.unpack(self)
        if not self.keepdim:
            kept = _kept_shape(self._input_shapes[0], self.dims)
            gy = _reshape_op(gy, kept)
            result = _reshape_op(result, kept)
        return (_mul(gy, _unary(U_EXP, _sub(self.x.unpack(self), result))),)

    cdef void release_saved(self):
        self.x.release()
        self.result.release()


# ---- norm ----

cdef double _norm_order(object p) except? -1.0:
    if p is None or p == "fro":
        return 2.0
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc'): the nuclear norm is not supported")
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported p={p!r}; expected a number, 'fro' or 'nuc'")
    return float(p)


cdef object _norm_op(TensorBase x, object p, object dim, bint keepdim):
    """The vector p-norm over the dims: (sum |x|^p)^(1/p); max |x| for inf, min |x| for -inf,
    the count of nonzeros for 0"""
    if _category(x._code) != 2:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_SCALAR_TYPE_NAMES[x._code]}")
    cdef double order = _norm_order(p)
    cdef tuple shape = _shape(x._data)
    cdef tuple dims = _reduction_dims(dim, len(shape))
    if _math.isinf(order) and _count(shape, dims) == 0:
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor because "
                           "the operation does not have an identity")
    cdef object result = _math_reduce(REDUCE_NORM, x._data, dims, x._code, order)
    if keepdim:
        result = _as_view(result, _kept_shape(shape, dims))
    cdef TensorBase out = _wrap(result, x._code)
    cdef NormBackward node
    if _records(x):
        node = NormBackward.__new__(NormBackward)
        node.p = order
        node.dims = dims
        node.keepdim = keepdim
        node.x = _save(x, False)
        node.result = _save(out, True)
        _connect1(node, x, out)
    return out


cdef class NormBackward(Node):
    """d ||x||_p: p = 1: sign(x) dy;  p = 2: dy x / norm (0 where norm == 0);  p = inf: sign(x) dy
    shared among the elements attaining the norm;  p = 0: 0;  else sgn(x) |x|^(p-1) dy / norm^(p-1)
    (torch's norm_backward, every case written with ops)"""
    cdef double p
    cdef tuple dims
    cdef bint keepdim
    cdef SavedTensor x, result

    def name(self):
        return "LinalgVectorNormBackward0"

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef TensorBase x = self.x.unpack(self)
        cdef TensorBase norm = self.result.unpack(self)
        if not self.keepdim:
            kept = _kept_shape(self._input_shapes[0], self.dims)
            gy = _reshape_op(gy, kept)
            norm = _reshape_op(norm, kept)
        if self.p == 0:
            return (_zeros_like_grad(gy, self._input_shapes[0]),)
        if self.p == 1:
            return (_mul(_unary(U_SIGN, x), gy),)
        if self.p == 2:
            return (_mul(gy, _where_op(_compare(K_NE, norm, 0), _div(x, norm), 0)),)
        if _math.isinf(self.p):
            mask = _wrap(_elementwise(K_NORM_INF_MASK, x._code, (x._data, norm._data)), x._code)
            count = _sum_op(mask, self.dims, True, NO_DTYPE)
            return (_mul(_unary(U_SIGN, x), _mul(_div(gy, count), mask)),)
        # torch's three cases, with its masks (a zero x for p < 1, a zero norm otherwise)
        abs_x = _unary(U_ABS, x)
        if self.p < 1:
            scaled = _mul(_unary(U_SIGN, x), _where_op(_compare(K_EQ, x, 0), 0, _pow(abs_x, self.p - 1)))
            return (_mul(_mul(scaled, gy), _pow(norm, 1 - self.p)),)
        if self.p < 2:
            scaled = _mul(_unary(U_SIGN, x), _pow(abs_x, self.p - 1))
        else:
            scaled = _mul(x, _pow(abs_x, self.p - 2))
        scale = _where_op(_compare(K_EQ, norm, 0), 0, _div(gy, _pow(norm, self.p - 1)))
        return (_mul(scaled, scale),)

    cdef void release_saved(self):
        self.x.release()
        self.result.release()


# ---- cumsum ----

cdef object _cumsum_op(TensorBase x, object dim, int requested_code, bint reverse):
    """Running sums along dim (from the last element when reverse: the backward of cumsum)"""
    cdef int code = requested_code if requested_code != NO_DTYPE else (x._code if _category(x._code) == 2 else INT64)
    if code != x._code and _category(code) == 2:
        x = _to_code(x, code)
    cdef tuple shape = _shape(x._data)
    cdef int d = _wrap_dim(dim, len(shape))
    cdef object result
    if len(shape) == 0:
        result = _cast(x._data, code).copy()
    else:
        result = _cumsum(x._data, d, code, reverse)
    cdef TensorBase out = _wrap(result, code)
    cdef CumsumBackward0 node
    if _records(x):
        node = CumsumBackward0.__new__(CumsumBackward0)
        node.dim = d
        node.reverse = reverse
        _connect1(node, x, out)
    return out


cdef class CumsumBackward0(Node):
    """d cumsum(x) = the reversed cumsum of dy (dx_k = sum_{j >= k} dy_j)"""
    cdef int dim
    cdef bint reverse

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef tuple shape = _shape(gy._data)
        if _size(gy._data) <= 1 or shape[self.dim] == 1:
            return (gy,)
        return (_cumsum_op(gy, self.dim, NO_DTYPE, not self.reverse),)


# ---- einsum: equation parsing, then diagonals, sums, and pairwise products by existing ops ----

cdef int _ELLIPSIS = -1
cdef int _LETTERS = 52   # labels 0-25: 'A'-'Z', 26-51: 'a'-'z'; ellipsis dims get labels from 52


cdef str _label_name(int label):
    if label < 26:
        return chr(ord("A") + label)
    if label < _LETTERS:
        return chr(ord("a") + label - 26)
    return "..."


cdef list _parse_term(str term, int offset, str where):
    """A term's labels: ints for letters, _ELLIPSIS for '...'."""
    cdef list labels = []
    cdef Py_ssize_t i = 0
    while i < len(term):
        ch = term[i]
        if ch == ".":
            if term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for {where} that is not part of any ellipsis")
            if _ELLIPSIS in labels:
                raise RuntimeError(f"einsum(): found more than one ellipsis ('...') for {where}")
            labels.append(_ELLIPSIS)
            i += 3
            continue
        if "A" <= ch <= "Z":
            labels.append(ord(ch) - ord("A"))
        elif "a" <= ch <= "z":
            labels.append(26 + ord(ch) - ord("a"))
        else:
            raise RuntimeError(f"einsum(): invalid subscript given at index {offset + i} in the equation "
                               "string, subscripts must be in [a-zA-Z]")
        i += 1
    return labels


cdef list _expand_ellipsis(list labels, int ell_dims, int total_ell):
    """labels with the ellipsis replaced by the labels of its last ell_dims broadcast dims (of
    total_ell in all: ellipsis dims broadcast right-aligned across operands)."""
    if _ELLIPSIS not in labels:
        return labels
    cdef int at = labels.index(_ELLIPSIS)
    return labels[:at] + [_LETTERS + total_ell - ell_dims + j for j in range(ell_dims)] + labels[at + 1:]


cdef object _diagonal_op(TensorBase x, int d1, int d2):
    """The diagonal of dims d1 < d2 as a view, moved to the last dim (numpy's diagonal layout)."""
    cdef TensorBase out = _view_of(x, _xp(x._data).diagonal(x._data, 0, d1, d2))
    cdef DiagonalBackward0 node
    if _records(x):
        node = DiagonalBackward0.__new__(DiagonalBackward0)
        node.d1 = d1
        node.d2 = d2
        _connect1(node, x, out)
    return out


cdef class DiagonalBackward0(Node):
    """d diagonal(x) = zeros like x with dy written on the diagonal"""
    cdef int d1, d2

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        _check_no_double_backward(self, gy)
        cdef object gx = _zeros_on(gy._data, self._input_shapes[0], gy._code)
        # a writable view of gx's diagonal: numpy's diagonal view is read-only
        cdef list shape = [s for i, s in enumerate(_shape(gx)) if i != self.d1 and i != self.d2]
        cdef list strides = [s for i, s in enumerate((<object>gx).strides) if i != self.d1 and i != self.d2]
        shape.append(_shape(gx)[self.d1])
        strides.append((<object>gx).strides[self.d1] + (<object>gx).strides[self.d2])
        _xp(gx).lib.stride_tricks.as_strided(gx, tuple(shape), tuple(strides))[...] = gy._data
        return (_wrap(gx, gy._code),)


cdef TensorBase _sum_labels(TensorBase t, list labels, set keep):
    """t summed over its dims whose label is not in keep; labels updated in place."""
    cdef tuple dims = tuple([i for i, label in enumerate(labels) if label not in keep])
    if not dims:
        return t
    labels[:] = [label for label in labels if label in keep]
    return _sum_op(t, dims, False, NO_DTYPE)


cdef TensorBase _arrange(TensorBase t, list labels, list order):
    """t permuted so that its dims follow `order` (a permutation of labels)."""
    cdef tuple perm = tuple([labels.index(label) for label in order])
    if perm == tuple(range(len(perm))):
        return t
    return _permute_op(t, perm)


cdef tuple _einsum_pair(TensorBase a, list la, TensorBase b, list lb, set later, dict sizes):
    """The product of two operands, summed over the labels they share that nothing later needs:
    a broadcast product when nothing is contracted, a product and sum for batched dot products,
    else one batched matmul. Returns (tensor, labels)."""
    cdef list batch = [l for l in la if l in lb and l in later]
    cdef list contract = [l for l in la if l in lb and l not in later]
    cdef list a_only = [l for l in la if l not in lb]
    cdef list b_only = [l for l in lb if l not in la]
    cdef TensorBase at, bt
    cdef int nb = len(batch), nc = len(contract)
    if not contract or (not a_only and not b_only):
        # broadcast: a as (batch, a_only, contract, 1...), b as (batch, 1..., contract, b_only)
        at = _arrange(a, la, batch + a_only + contract)
        bt = _arrange(b, lb, batch + contract + b_only)
        at = _reshape_op(at, _shape(at._data) + (1,) * len(b_only))
        bshape = _shape(bt._data)
        bt = _reshape_op(bt, bshape[:nb] + (1,) * len(a_only) + bshape[nb:])
        if contract:  # b as (batch, contract): the a_only and b_only lists are empty here
            return _sum_op(_mul(at, bt), tuple(range(nb, nb + nc)), False, NO_DTYPE), batch
        return _mul(at, bt), batch + a_only + b_only
    # batched matmul: (B, M, K) @ (B, K, N); size-1 dims broadcast first (reshape cannot)
    at = _arrange(a, la, batch + a_only + contract)
    bt = _arrange(b, lb, batch + contract + b_only)
    at = _expand_op(at, tuple([sizes[l] for l in batch + a_only + contract]))
    bt = _expand_op(bt, tuple([sizes[l] for l in batch + contract + b_only]))
    cdef int64_t B = _prod_sizes(sizes, batch), M = _prod_sizes(sizes, a_only)
    cdef int64_t K = _prod_sizes(sizes, contract), N = _prod_sizes(sizes, b_only)
    out = _matmul_nd(_reshape_op(at, (B, M, K)), _reshape_op(bt, (B, K, N)))
    return (_reshape_op(out, tuple([sizes[l] for l in batch + a_only + b_only])),
            batch + a_only + b_only)


cdef int64_t _prod_sizes(dict sizes, list labels):
    cdef int64_t n = 1
    for label in labels:
        n *= <int64_t>sizes[label]
    return n


cdef object _einsum_op(str equation, tuple operands):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    cdef list terms = []
    cdef int offset = 0
    for i, term in enumerate(lhs.split(",")):
        terms.append(_parse_term(term, offset, f"operand {i}"))
        offset += len(term) + 1
    if len(operands) < len(terms):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(operands) > len(terms):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    cdef list tensors = []
    for i, operand in enumerate(operands):
        if not isinstance(operand, TensorBase):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(operand).__name__}")
        tensors.append(operand)
        if (<TensorBase>operand)._code != (<TensorBase>tensors[0])._code:
            raise RuntimeError(f"expected scalar type {_SCALAR_TYPE_NAMES[(<TensorBase>tensors[0])._code]} "
                               f"but found {_SCALAR_TYPE_NAMES[(<TensorBase>operand)._code]}")

    # ellipses: each covers the dims its operand has beyond its letters
    cdef list ell_dims = []
    cdef int ndim, letters
    for i, labels in enumerate(terms):
        ndim = _ndim((<TensorBase>tensors[i])._data)
        letters = len([l for l in labels if l != _ELLIPSIS])
        if _ELLIPSIS in labels:
            if letters > ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({letters}) is more "
                                   f"than the number of dimensions ({ndim}) for operand {i}")
            ell_dims.append(ndim - letters)
        else:
            if letters != ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({letters}) does not "
                                   f"match the number of dimensions ({ndim}) for operand {i} and no ellipsis "
                                   "was given")
            ell_dims.append(0)
    cdef int total_ell = max(ell_dims) if ell_dims else 0
    terms = [_expand_ellipsis(labels, ell_dims[i], total_ell) for i, labels in enumerate(terms)]

    # the output: explicit, or (implicit) the ellipsis dims then the letters used once, sorted
    cdef list output
    cdef dict counts = {}
    for labels in terms:
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    if arrow:
        output = _expand_ellipsis(_parse_term(rhs, len(lhs) + 2, "the output"), total_ell, total_ell)
        for label in output:
            if output.count(label) > 1:
                raise RuntimeError(f"einsum(): output subscript {_label_name(label)} appears more than once "
                                   "in the output")
            if label not in counts:
                raise RuntimeError(f"einsum(): output subscript {_label_name(label)} does not appear in the "
                                   "equation for any input operand")
    else:
        output = [_LETTERS + j for j in range(total_ell)] + sorted(
            [l for l, c in counts.items() if c == 1 and l < _LETTERS])

    # each operand: repeated labels become diagonals; sizes must agree or broadcast (size 1)
    cdef dict sizes = {}
    cdef list ops = []
    cdef TensorBase t
    cdef int d1, d2
    for i, labels in enumerate(terms):
        t = tensors[i]
        labels = list(labels)
        for label in list(labels):
            while labels.count(label) > 1:
                d1 = labels.index(label)
                d2 = labels.index(label, d1 + 1)
                if _shape(t._data)[d1] != _shape(t._data)[d2]:
                    raise RuntimeError(f"einsum(): subscript {_label_name(label)} is repeated for operand {i} "
                                       f"but the sizes don't match, {_shape(t._data)[d2]} != {_shape(t._data)[d1]}")
                t = _diagonal_op(t, d1, d2)
                labels = [l for k, l in enumerate(labels) if k != d1 and k != d2] + [label]
        for label, size in zip(labels, _shape(t._data)):
            seen = sizes.get(label)
            if seen is None or seen == 1:
                sizes[label] = size
            elif size != 1 and size != seen:
                raise RuntimeError(f"einsum(): subscript {_label_name(label)} has size {size} for operand {i} "
                                   f"which does not broadcast with previously seen size {seen}")
        ops.append([t, labels])

    # contract left to right; before each product, sum away the labels nothing else uses
    cdef set keep_out = set(output)
    cdef set later
    while len(ops) > 1:
        (ta, la), (tb, lb) = ops[0], ops[1]
        later = set(keep_out)
        for _, labels in ops[2:]:
            later.update(labels)
        ta = _sum_labels(ta, la, later | set(lb))
        tb = _sum_labels(tb, lb, later | set(la))
        ops[:2] = [list(_einsum_pair(ta, la, tb, lb, later, sizes))]
    t, labels = ops[0]
    t = _sum_labels(t, labels, keep_out)
    t = _arrange(t, labels, output)
    # an output dim of size 1 here may broadcast to a larger size seen in another operand
    target = tuple([sizes[l] for l in output])
    return _expand_op(t, target) if _shape(t._data) != target else t


# ---- public functions ----

_MISSING = object()

def where(condition, input=_MISSING, other=_MISSING):
    if input is _MISSING and other is _MISSING:
        return _nonzero_indices(_tensor_arg("where", condition, "condition", 1))
    if input is _MISSING or other is _MISSING:
        raise TypeError("where() expects a condition and both input and other, or the condition alone")
    return _where_op(condition, input, other)

def maximum(input, other):
    return _extremum_op(input, other, True)

def minimum(input, other):
    return _extremum_op(input, other, False)

def clamp(input, min=None, max=None):
    return _clamp_op(_tensor_arg("clamp", input, "input", 1), min, max, None)

def clamp_(input, min=None, max=None):
    return _clamp_inplace(_tensor_arg("clamp_", input, "input", 1), min, max)

def clamp_min(input, min):
    return _clamp_op(_tensor_arg("clamp_min", input, "input", 1), min, None,
                     "ClampMinBackward1" if isinstance(min, TensorBase) else "ClampMinBackward0")

def clamp_max(input, max):
    return _clamp_op(_tensor_arg("clamp_max", input, "input", 1), None, max,
                     "ClampMaxBackward1" if isinstance(max, TensorBase) else "ClampMaxBackward0")

def erf(input):
    return _unary(U_ERF, input)

def log1p(input):
    return _unary(U_LOG1P, input)

def expm1(input):
    return _unary(U_EXPM1, input)

def rsqrt(input):
    return _unary(U_RSQRT, input)

def reciprocal(input):
    return _unary(U_RECIPROCAL, input)

def sign(input):
    return _unary(U_SIGN, input)

def floor(input):
    return _rounding_op(U_FLOOR, input)

def ceil(input):
    return _rounding_op(U_CEIL, input)

def round_op(input, *, decimals=0):
    return _round_op(input, decimals)

def gelu(input, approximate="none"):
    if approximate == "none":
        return _fused_unary(U_GELU, input, False)
    if approximate == "tanh":
        return _fused_unary(U_GELU_TANH, input, False)
    raise RuntimeError("approximate argument must be either none or tanh.")

def silu(input, inplace=False):
    return _fused_unary(U_SILU, input, inplace)

def softplus(input, beta=1.0, threshold=20.0):
    return _fused_unary(_fused_op(_Softplus, "SoftplusBackward0", "softplus_cpu", K_SOFTPLUS, K_SOFTPLUS_BWD,
                                  (float(beta), float(threshold))), input, False)

def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _fused_unary(_fused_op(_LeakyRelu, "LeakyReluBackward0", "leaky_relu_cpu", K_LEAKY_RELU, K_LEAKY_RELU_BWD,
                                  (), negative_slope), input, inplace)

def elu(input, alpha=1.0, inplace=False):
    return _fused_unary(_fused_op(_Elu, "EluBackward0", "elu_cpu", K_ELU, K_ELU_BWD, (), alpha), input, inplace)

def prod(input, dim=None, keepdim=False, *, dtype=None):
    return _prod_op(_tensor_arg("prod", input, "input", 1), dim, keepdim, _optional_code(dtype))

def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(x, False): torch's (input, unbiased) form
        dim, unbiased = None, dim
    return _var_op(_tensor_arg("var", input, "input", 1), dim,
                   _correction_of("var", unbiased, correction), keepdim, False)

def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return _var_op(_tensor_arg("std", input, "input", 1), dim,
                   _correction_of("std", unbiased, correction), keepdim, True)

def logsumexp(input, dim, keepdim=False):
    return _logsumexp_op(_tensor_arg("logsumexp", input, "input", 1), dim, keepdim)

def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    cdef TensorBase x = _tensor_arg("norm", input, "input", 1)
    if dtype is not None:
        x = _to_code(x, _optional_code(dtype))
    return _norm_op(x, p, dim, keepdim)

def cumsum(input, dim, *, dtype=None):
    return _cumsum_op(_tensor_arg("cumsum", input, "input", 1), dim, _optional_code(dtype), False)

def outer(input, vec2):
    cdef TensorBase a = _tensor_arg("outer", input, "input", 1), b = _tensor_arg("outer", vec2, "vec2", 2)
    for tensor, arg in ((a, "self"), (b, "vec2")):
        if _ndim((<TensorBase>tensor)._data) != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {arg}, but got {(<TensorBase>tensor)._data.ndim}-D")
    return _mul(_reshape_op(a, (_shape(a._data)[0], 1)), b)

def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum_op(equation, operands)
