# Elementwise ops. Each op is its forward (a backend kernel call on the promoted dtype) and, next
# to it, its backward node. Broadcast inputs get gradients of the broadcast shape: the engine sums
# them back (_validate_grad), so no op here un-broadcasts anything.
#
# Backward formulas are written with these same ops, so with create_graph=True they record a graph
# of their own. A fused backward kernel (relu_backward, ...) gets a node of its own when a graph is
# recorded (UnaryDoubleBackward), or the node switches to its formula written with ops (pow).
import math


cdef inline object _data_or_number(object operand):
    return (<TensorBase>operand)._data if isinstance(operand, TensorBase) else operand


cdef inline object _operand(object operand):
    """A tensor or Python number as is; a numpy scalar as the Python number it holds."""
    if isinstance(operand, (TensorBase, int, float)):
        return operand
    if isinstance(operand, np.generic) and operand.dtype.kind in "biuf":
        return operand.item()
    raise TypeError(f"unsupported operand type for a tensor operation: '{type(operand).__name__}'")


cdef TensorBase _as_tensor_operand(object value):
    """A tensor for `value` (a tensor is returned as is; a number becomes a 0-d tensor)."""
    if isinstance(value, TensorBase):
        return <TensorBase>value
    if isinstance(value, (bool, int, float)):
        return _wrap(np.array(value, dtype=_dtype_of_code(_scalar_code(value)).numpy_dtype),
                     _scalar_code(value))
    raise TypeError(f"expected a Tensor, got {type(value).__name__}")


cdef inline TensorBase _binary_kernel(_Kernel k, object a, object b, int code):
    return _wrap(_elementwise(k, code, (_data_or_number(a), _data_or_number(b))), code)


cdef TensorBase _fused_backward(_Kernel k, int code, tuple operands, double param=0.0):
    """A backward computed by one fused kernel; operands are tensors or numbers."""
    if cg_grad_enabled:
        for operand in operands:
            if isinstance(operand, TensorBase) and (<TensorBase>operand)._requires_grad:
                raise NotImplementedError(
                    f"the derivative of {k.name} is not implemented, so create_graph=True cannot "
                    "differentiate through it yet")
    return _wrap(_elementwise(k, code, tuple([_data_or_number(o) for o in operands]), None, param), code)


cdef inline object _unpack_or_number(object saved, Node owner):
    return (<SavedTensor>saved).unpack(owner) if isinstance(saved, SavedTensor) else saved


cdef inline object _save_operand(object operand, bint needed):
    """What a node keeps of a forward input: a SavedTensor, the number itself, or nothing."""
    if not needed:
        return None
    return _save(<TensorBase>operand, False) if isinstance(operand, TensorBase) else operand


cdef inline bint _needs_grad(object operand) noexcept:
    return isinstance(operand, TensorBase) and (<TensorBase>operand)._requires_grad


# ---- add, sub ----

cdef object _add(object a, object b, object alpha):
    """a + alpha * b"""
    a = _operand(a)
    b = _operand(b)
    if alpha != 1:
        b = _mul(b, alpha)
    cdef TensorBase out = _binary_kernel(K_ADD, a, b, _result_code(a, b))
    if _records(a) or _records(b):
        _connect2(AddBackward0.__new__(AddBackward0), a, b, out)
    return out


cdef class AddBackward0(Node):
    """d(a + b) = da + db"""
    cdef tuple apply(self, list grads):
        return (grads[0], grads[0])


cdef object _sub(object a, object b):
    """a - b"""
    a = _operand(a)
    b = _operand(b)
    cdef int code = _result_code(a, b)
    if code == BOOL:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    cdef TensorBase out = _binary_kernel(K_SUB, a, b, code)
    if _records(a) or _records(b):
        _connect2(SubBackward0.__new__(SubBackward0), a, b, out)
    return out


cdef class SubBackward0(Node):
    """d(a - b) = da - db"""
    cdef tuple apply(self, list grads):
        gy = grads[0]
        return (gy, _unary(U_NEG, gy) if self._next_edges[1][0] is not None else None)


# ---- mul, div ----

cdef object _mul(object a, object b):
    """a * b"""
    a = _operand(a)
    b = _operand(b)
    cdef TensorBase out = _binary_kernel(K_MUL, a, b, _result_code(a, b))
    cdef MulBackward0 node
    if _records(a) or _records(b):
        node = MulBackward0.__new__(MulBackward0)
        node.a = _save_operand(a, _needs_grad(b))
        node.b = _save_operand(b, _needs_grad(a))
        _connect2(node, a, b, out)
    return out


cdef class MulBackward0(Node):
    """d(a * b) = b da + a db"""
    cdef object a, b

    cdef tuple apply(self, list grads):
        gy = grads[0]
        return (_mul(gy, _unpack_or_number(self.b, self)) if self.b is not None else None,
                _mul(gy, _unpack_or_number(self.a, self)) if self.a is not None else None)

    cdef void release_saved(self):
        _release(self.a)
        _release(self.b)


cdef inline void _release(object saved):
    if isinstance(saved, SavedTensor):
        (<SavedTensor>saved).release()


cdef object _div(object a, object b):
    """a / b (true division: integers divide in the default float dtype)"""
    a = _operand(a)
    b = _operand(b)
    cdef TensorBase out = _binary_kernel(K_DIV, a, b, _float_code(_result_code(a, b)))
    cdef DivBackward0 node
    if _records(a) or _records(b):
        node = DivBackward0.__new__(DivBackward0)
        node.a = _save_operand(a, _needs_grad(b))
        node.b = _save_operand(b, True)
        _connect2(node, a, b, out)
    return out


cdef class DivBackward0(Node):
    """d(a / b) = da / b - a db / b^2"""
    cdef object a, b

    cdef tuple apply(self, list grads):
        gy = grads[0]
        b = _unpack_or_number(self.b, self)
        ga = _div(gy, b) if self._next_edges[0][0] is not None else None
        gb = None
        if self.a is not None:
            gb = _unary(U_NEG, _div(_mul(gy, _unpack_or_number(self.a, self)), _mul(b, b)))
        return (ga, gb)

    cdef void release_saved(self):
        _release(self.a)
        _release(self.b)


# ---- pow ----

cdef object _pow(object base, object exponent):
    """base ** exponent"""
    base = _operand(base)
    exponent = _operand(exponent)
    cdef int code = _result_code(base, exponent)
    if isinstance(base, TensorBase) and not isinstance(exponent, TensorBase):
        return _pow_scalar(<TensorBase>base, exponent, code)
    if _category(code) != 2 and isinstance(exponent, TensorBase) and _has_negative(<TensorBase>exponent):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    cdef TensorBase out = _binary_kernel(K_POW, base, exponent, code)
    cdef PowBackward1 node
    if _records(base) or _records(exponent):
        node = PowBackward1.__new__(PowBackward1)
        node.base = _save_operand(base, True)
        node.exponent = _save_operand(exponent, True)
        node.result = _save(out, True) if _needs_grad(exponent) else None
        _connect2(node, base, exponent, out)
    return out


cdef class PowBackward1(Node):
    """d(a ** b) = b a^(b-1) da + a^b log(a) db   (0 where b == 0, resp. where a == 0 and b >= 0)"""
    cdef object base, exponent
    cdef SavedTensor result

    cdef tuple apply(self, list grads):
        gy = grads[0]
        a = _unpack_or_number(self.base, self)
        b = _unpack_or_number(self.exponent, self)
        code = (<TensorBase>gy)._code
        if cg_grad_enabled:
            return self._differentiable_grads(gy, a, b)
        ga = _fused_backward(K_POW_BWD_BASE, code, (a, b, gy)) if self._next_edges[0][0] is not None else None
        gb = None
        if self.result is not None:
            gb = _fused_backward(K_POW_BWD_EXP, code, (a, b, self.result.unpack(self), gy))
        return (ga, gb)

    cdef tuple _differentiable_grads(self, object gy, object a, object b):
        """create_graph: the same formulas from ops (where for torch's zero cases), so that they
        can be differentiated again."""
        ga = gb = None
        if self._next_edges[0][0] is not None:
            ga = _where_op(_compare(K_EQ, b, 0), 0.0, _mul(_mul(gy, b), _pow(a, _sub(b, 1))))
        if self.result is not None:
            zero_base = _elementwise(K_LOGICAL_AND, BOOL, (_compare(K_EQ, a, 0)._data, _compare(K_GE, b, 0)._data))
            log_a = _unary(U_LOG, a) if isinstance(a, TensorBase) else _log_of_number(a)
            gb = _where_op(_wrap(zero_base, BOOL), 0.0, _mul(_mul(gy, self.result.unpack(self)), log_a))
        return (ga, gb)

    cdef void release_saved(self):
        _release(self.base)
        _release(self.exponent)
        if self.result is not None:
            self.result.release()


cdef double _log_of_number(double a):
    """log(a) with IEEE's answers where Python's math.log raises (-inf at 0, NaN below)."""
    if a > 0:
        return math.log(a)
    return -math.inf if a == 0 else math.nan


cdef bint _has_negative(TensorBase t) except -1:
    """Whether an integer tensor holds a negative value (its min, by the reduction kernel)."""
    if _size(t._data) == 0:
        return False
    smallest, _ = _extreme_dim(_cast(t._data, INT64).reshape(-1), 0, False)
    return smallest.item() < 0


cdef object _pow_scalar(TensorBase x, object exponent, int code):
    if _category(code) != 2 and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    cdef TensorBase out
    if _category(code) == 2:
        out = _wrap(_elementwise(K_POW_SCALAR, code, (x._data,), None, exponent), code)
    else:
        out = _binary_kernel(K_POW, x, exponent, code)
    cdef PowBackward0 node
    if _records(x):
        node = PowBackward0.__new__(PowBackward0)
        node.x = _save(x, False)
        node.exponent = exponent
        _connect1(node, x, out)
    return out


cdef class PowBackward0(Node):
    """d(x ** e) = e x^(e-1) dx   (0 where e == 0)"""
    cdef SavedTensor x
    cdef double exponent

    cdef tuple apply(self, list grads):
        cdef TensorBase gy = <TensorBase>grads[0]
        cdef TensorBase x = self.x.unpack(self)
        if cg_grad_enabled and (x._requires_grad or gy._requires_grad):
            # create_graph: the same formula from ops, so it can be differentiated again
            if self.exponent == 0:
                return (_mul(gy, 0.0),)
            return (_mul(_mul(gy, self.exponent), _pow_scalar(x, self.exponent - 1, x._code)),)
        return (_fused_backward(K_POW_SCALAR_BWD, gy._code, (x, gy), self.exponent),)

    cdef void release_saved(self):
        self.x.release()


# ---- unary ops: one _UnaryOp object per op holds its kernel and its derivative ----

cdef enum _Saves:
    SAVES_NOTHING, SAVES_INPUT, SAVES_OUTPUT


cdef class _UnaryOp:
    cdef str node_name
    cdef _Kernel kernel
    cdef bint floating       # integer inputs compute in the default float dtype
    cdef int saves           # what backward needs: nothing, the input x or the output y

    cdef object derivative(self, TensorBase saved, TensorBase gy):
        """gx from the saved tensor and gy."""
        raise NotImplementedError

    cdef object saved_derivative(self, TensorBase saved, TensorBase gy, TensorBase ggx):
        """For double backward of a fused derivative: d(derivative(saved, gy))/d(saved) applied
        to ggx. None means zero (the derivative does not depend on saved)."""
        return None


cdef _UnaryOp _unary_op(type cls, str node_name, _Kernel kernel, bint floating, int saves):
    cdef _UnaryOp op = cls.__new__(cls)
    op.node_name = node_name
    op.kernel = kernel
    op.floating = floating
    op.saves = saves
    return op


cdef class _Neg(_UnaryOp):
    cdef object derivative(self, TensorBase _, TensorBase gy):
        """dx = -dy"""
        return _unary(U_NEG, gy)


cdef class _Abs(_UnaryOp):
    cdef object derivative(self, TensorBase x, TensorBase gy):
        """dx = sign(x) dy"""
        return _unary_backward(self, K_ABS_BWD, x, gy)


cdef class _Exp(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = y dy"""
        return _mul(gy, y)


cdef class _Log(_UnaryOp):
    cdef object derivative(self, TensorBase x, TensorBase gy):
        """dx = dy / x"""
        return _div(gy, x)


cdef class _Sqrt(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = dy / (2 y)"""
        return _unary_backward(self, K_SQRT_BWD, y, gy)

    cdef object saved_derivative(self, TensorBase y, TensorBase gy, TensorBase ggx):
        """d(dy / 2y)/dy = -dy / (2 y^2)"""
        return _unary(U_NEG, _div(_mul(gy, ggx), _mul(_mul(y, y), 2.0)))


cdef class _Sin(_UnaryOp):
    cdef object derivative(self, TensorBase x, TensorBase gy):
        """dx = cos(x) dy"""
        return _unary_backward(self, K_SIN_BWD, x, gy)

    cdef object saved_derivative(self, TensorBase x, TensorBase gy, TensorBase ggx):
        """d(cos(x) dy)/dx = -sin(x) dy"""
        return _unary(U_NEG, _mul(_mul(gy, ggx), _unary(U_SIN, x)))


cdef class _Cos(_UnaryOp):
    cdef object derivative(self, TensorBase x, TensorBase gy):
        """dx = -sin(x) dy"""
        return _unary_backward(self, K_COS_BWD, x, gy)

    cdef object saved_derivative(self, TensorBase x, TensorBase gy, TensorBase ggx):
        """d(-sin(x) dy)/dx = -cos(x) dy"""
        return _unary(U_NEG, _mul(_mul(gy, ggx), _unary(U_COS, x)))


cdef class _Relu(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = dy (y > 0)"""
        return _unary_backward(self, K_RELU_BWD, y, gy)


cdef class _Sigmoid(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = y (1 - y) dy"""
        return _unary_backward(self, K_SIGMOID_BWD, y, gy)

    cdef object saved_derivative(self, TensorBase y, TensorBase gy, TensorBase ggx):
        """d(y (1 - y) dy)/dy = (1 - 2y) dy"""
        return _mul(_mul(gy, ggx), _sub(1.0, _mul(y, 2.0)))


cdef class _Tanh(_UnaryOp):
    cdef object derivative(self, TensorBase y, TensorBase gy):
        """dx = (1 - y^2) dy"""
        return _unary_backward(self, K_TANH_BWD, y, gy)

    cdef object saved_derivative(self, TensorBase y, TensorBase gy, TensorBase ggx):
        """d((1 - y^2) dy)/dy = -2 y dy"""
        return _mul(_mul(gy, ggx), _mul(y, -2.0))


cdef _UnaryOp U_NEG = _unary_op(_Neg, "NegBackward0", K_NEG, False, SAVES_NOTHING)
cdef _UnaryOp U_ABS = _unary_op(_Abs, "AbsBackward0", K_ABS, False, SAVES_INPUT)
cdef _UnaryOp U_EXP = _unary_op(_Exp, "ExpBackward0", K_EXP, True, SAVES_OUTPUT)
cdef _UnaryOp U_LOG = _unary_op(_Log, "LogBackward0", K_LOG, True, SAVES_INPUT)
cdef _UnaryOp U_SQRT = _unary_op(_Sqrt, "SqrtBackward0", K_SQRT, True, SAVES_OUTPUT)
cdef _UnaryOp U_SIN = _unary_op(_Sin, "SinBackward0", K_SIN, True, SAVES_INPUT)
cdef _UnaryOp U_COS = _unary_op(_Cos, "CosBackward0", K_COS, True, SAVES_INPUT)
cdef _UnaryOp U_RELU = _unary_op(_Relu, "ReluBackward0", K_RELU, False, SAVES_OUTPUT)
cdef _UnaryOp U_SIGMOID = _unary_op(_Sigmoid, "SigmoidBackward0", K_SIGMOID, True, SAVES_OUTPUT)
cdef _UnaryOp U_TANH = _unary_op(_Tanh, "TanhBackward0", K_TANH, True, SAVES_OUTPUT)


cdef object _unary(_UnaryOp op, object operand):
    if not isinstance(operand, TensorBase):
        raise TypeError(f"{op.kernel.name}(): argument 'input' must be Tensor, not {type(operand).__name__}")
    cdef TensorBase x = <TensorBase>operand
    cdef int code = _float_code(x._code) if op.floating else x._code
    if code == BOOL and op is U_NEG:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    cdef TensorBase out = _wrap(_elementwise(op.kernel, code, (x._data,)), code)
    cdef UnaryBackward node
    if _records(x):
        node = UnaryBackward.__new__(UnaryBackward)
        node.op = op
        if op.saves == SAVES_INPUT:
            node.saved = _save(x, False)
        elif op.saves == SAVES_OUTPUT:
            node.saved = _save(out, True)
        _connect1(node, x, out)
    return out


cdef class UnaryBackward(Node):
    """The node of every _UnaryOp: its derivative applied to what the op saved."""
    cdef _UnaryOp op
    cdef SavedTensor saved

    def name(self):
        return self.op.node_name

    cdef tuple apply(self, list grads):
        saved = self.saved.unpack(self) if self.saved is not None else None
        return (self.op.derivative(saved, <TensorBase>grads[0]),)

    cdef void release_saved(self):
        if self.saved is not None:
            self.saved.release()


cdef object _unary_backward(_UnaryOp op, _Kernel kernel, TensorBase saved, TensorBase gy):
    """gx = op's derivative by its fused kernel. When a graph is being recorded (create_graph),
    gx gets a node whose own backward is written with ops, so higher derivatives work too."""
    cdef TensorBase gx = _wrap(_elementwise(kernel, gy._code, (saved._data, gy._data)), gy._code)
    cdef UnaryDoubleBackward node
    if _records(saved) or _records(gy):
        node = UnaryDoubleBackward.__new__(UnaryDoubleBackward)
        node.op = op
        node.saved = _save(saved, False)
        node.gy = _save(gy, False)
        _connect2(node, saved, gy, gx)
    return gx


cdef class UnaryDoubleBackward(Node):
    """d gx = saved_derivative(saved, gy) d(saved) + derivative(saved, d(gy))   (gx is linear in gy)"""
    cdef _UnaryOp op
    cdef SavedTensor saved, gy

    def name(self):
        return self.op.node_name.replace("Backward0", "BackwardBackward0")

    cdef tuple apply(self, list grads):
        cdef TensorBase ggx = <TensorBase>grads[0]
        cdef TensorBase saved = self.saved.unpack(self)
        d_saved = self.op.saved_derivative(saved, self.gy.unpack(self), ggx) if self._next_edges[0][0] is not None else None
        d_gy = self.op.derivative(saved, ggx) if self._next_edges[1][0] is not None else None
        return (d_saved, d_gy)

    cdef void release_saved(self):
        self.saved.release()
        self.gy.release()


# ---- dtype conversion ----

cdef TensorBase _to_code(TensorBase x, int code):
    """x converted to dtype `code` (a copy; differentiable between floating dtypes)."""
    cdef TensorBase out = _wrap(x._data.astype(_dtype_of_code(code).numpy_dtype), code)
    if _records(x) and _category(code) == 2:
        _connect1(ToCopyBackward0.__new__(ToCopyBackward0), x, out)
    return out


cdef class ToCopyBackward0(Node):
    """d(x.to(dtype)) = dy.to(x.dtype)   (the engine converts the gradient to the input's dtype)"""
    cdef tuple apply(self, list grads):
        return (grads[0],)


# ---- device moves ----

cdef TensorBase _to_device(TensorBase x, int index):
    """x on device `index` (-1: the CPU): x itself when it is there already, else a copy that
    records a node (the gradient goes back to x's device)."""
    cdef int source = _device_index(x._data)
    if source == index:
        return x
    cdef TensorBase out = _wrap(_move_to(x._data, index), x._code)
    cdef ToDeviceBackward node
    if _records(x):
        node = ToDeviceBackward.__new__(ToDeviceBackward)
        node.source = source
        _connect1(node, x, out)
    return out


cdef class ToDeviceBackward(Node):
    """d(x.to(device)) = dy.to(x.device)"""
    cdef int source

    def name(self):
        return "ToCopyBackward0"

    cdef tuple apply(self, list grads):
        return (_to_device(<TensorBase>grads[0], self.source),)


# ---- public functions ----

def to_dtype(TensorBase input, DType dtype):
    return _to_code(input, dtype.code)

def to_device(TensorBase input, int index):
    """input on the GPU `index`, or on the CPU for -1 (input itself when it is there already)."""
    return _to_device(input, index)


def add(input, other, *, alpha=1):
    return _add(input, other, alpha)

def sub(input, other, *, alpha=1):
    return _sub(input, other if alpha == 1 else _mul(other, alpha))

def mul(input, other):
    return _mul(input, other)

def div(input, other):
    return _div(input, other)

def pow_op(input, exponent):
    return _pow(input, exponent)

def neg(input):
    return _unary(U_NEG, input)

def abs_op(input):
    return _unary(U_ABS, input)

def exp(input):
    return _unary(U_EXP, input)

def log(input):
    return _unary(U_LOG, input)

def sqrt(input):
    return _unary(U_SQRT, input)

def sin(input):
    return _unary(U_SIN, input)

def cos(input):
    return _unary(U_COS, input)

def relu(input):
    return _unary(U_RELU, input)

def sigmoid(input):
    return _unary(U_SIGMOID, input)

def tanh(input):
    return _unary(U_TANH, input)
