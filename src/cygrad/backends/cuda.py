"""cygrad's CUDA backend: every primitive of the CPU backend, for CuPy arrays.

cygrad._core routes a primitive here when its arrays are cupy.ndarrays (_backend.pxi decides; ops
never ask). The primitives are the names of cygrad._core.BACKEND_PRIMITIVES, with the parameters
of cygrad._core.cpu_backend's methods (tests/test_backend_contract.py checks both, and that every
elementwise kernel of the CPU table has a CUDA kernel here).

How the math is done:
  - elementwise ops: one cupy.ElementwiseKernel per op and per backward (ELEMENTWISE_KERNELS).
    The formulas are csrc/elementwise.c's and csrc/compare.c's, written in the same order of
    operations with the same edge cases (NaN passing through relu, -0, sign(NaN) = 0, wrapping
    int64 arithmetic...); the helpers they share are in _PREAMBLE.
  - reductions: cupy.ReductionKernels where cygrad accumulates differently from CuPy's defaults
    (float32 sums in double, as the CPU kernels), CuPy's own reductions where they agree (max with
    NaN propagation, argmax with the first index winning ties, any/all).
  - softmax, log-softmax, cross-entropy: the row max, the row sum of exponentials (in double) and
    the output, in three kernels (no intermediate array of exponentials).
  - optimizers: one fused ElementwiseKernel per update (csrc/optim.c's formulas).
  - matmul and linear: cupy.matmul (cuBLAS).
  - gathers and scatters: index arrays arrive on the host (index plans are made there) and are
    copied over; scatter-add uses atomics (cupyx.scatter_add).

CuPy is imported by load(), never at import time: without CuPy or without a GPU, importing
cygrad works and cygrad.cuda.is_available() is False. Every kernel formula in this file is also
compiled by the host C++ compiler in tests/test_cuda_kernels.py and checked against the CPU
kernels, so the formulas are tested on machines without a GPU; the CuPy calls around them run
only on a GPU.
"""
import sys

import numpy as np

# dtype codes of cygrad._core (_dtype.pxi): promotion order bool < int32 < int64 < float32 < float64
BOOL, INT32, INT64, FLOAT32, FLOAT64 = range(5)
_DTYPES = tuple(np.dtype(t) for t in (np.bool_, np.int32, np.int64, np.float32, np.float64))

# the softmax family (_SoftmaxKind in _backend_cpu.pxi) and the math reductions (_MathReduction)
SOFTMAX_FWD, SOFTMAX_BWD, LOG_SOFTMAX_FWD, LOG_SOFTMAX_BWD = range(4)
REDUCE_PROD, REDUCE_VAR, REDUCE_LOGSUMEXP, REDUCE_NORM = range(4)
# the pointwise losses (_PointwiseLoss in _backend_loss.pxi)
BCE, BCE_WITH_LOGITS, SMOOTH_L1 = range(3)

cp = None           # the cupy module, once load() has run
cupyx = None        # cupyx (scatter_add)
xp = None           # the array module for data movement in ops (cupy)
array_type = None   # cupy.ndarray: what _backend.pxi routes here
_kernels = {}       # compiled-on-first-use kernel objects, by name


# ---------------------------------------------------------------------------------------------
# availability and loading
# ---------------------------------------------------------------------------------------------

def _import_cupy():
    try:
        import cupy
    except Exception:   # not installed, or a broken install (wrong CUDA version...)
        return None
    return cupy


def unavailable_reason():
    """None when a GPU can be used, else why not: for errors and for test skip reasons."""
    cupy = _import_cupy()
    if cupy is None:
        return 'CuPy is not installed (pip install "cygrad[cuda12]")'
    try:
        if not cupy.cuda.is_available():
            return "CuPy found no CUDA GPU (no NVIDIA driver, or no device)"
    except Exception as e:
        return f"CuPy cannot reach a GPU ({type(e).__name__}: {e})"
    return None


def is_available():
    return unavailable_reason() is None


def device_count():
    """How many GPUs CuPy sees (0 without CuPy or without a driver)."""
    cupy = _import_cupy()
    if cupy is None:
        return 0
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


def load():
    """Imports CuPy and installs this module as cygrad's device backend; RuntimeError (naming
    the reason) when CUDA cannot be used. Kernels compile on their first call (CuPy caches them
    on disk)."""
    global cp, cupyx, xp, array_type
    if cp is not None:
        return sys.modules[__name__]
    reason = unavailable_reason()
    if reason is not None:
        # torch says "Torch not compiled with CUDA enabled" / "Found no NVIDIA driver on your system"
        raise RuntimeError(f"cygrad cannot use CUDA: {reason}")
    import cupy
    import cupyx as cupy_extras
    cp = xp = cupy
    cupyx = cupy_extras
    array_type = cupy.ndarray
    from cygrad import _core
    _core._set_device_backend(sys.modules[__name__])
    return sys.modules[__name__]


def current_device():
    load()
    return cp.cuda.runtime.getDevice()


def set_device(index):
    load()
    cp.cuda.runtime.setDevice(index)


def synchronize(index=None):
    """Waits for every kernel queued on the GPU (the current one, or `index`) to finish."""
    load()
    if index is None:
        cp.cuda.runtime.deviceSynchronize()
    else:
        with cp.cuda.Device(index):
            cp.cuda.runtime.deviceSynchronize()


def get_device_name(index=None):
    load()
    index = cp.cuda.runtime.getDevice() if index is None else index
    name = cp.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


# ---------------------------------------------------------------------------------------------
# devices and storage
# ---------------------------------------------------------------------------------------------

def device_index(a):
    return a.device.id


def use_device(index):
    """Makes GPU `index` current (kernels run on the current device), when it is not already."""
    if cp.cuda.runtime.getDevice() != index:
        cp.cuda.runtime.setDevice(index)


def to_device(a, index):
    """a (a numpy or cupy array) on GPU `index`: a itself when it is there, else a copy."""
    if index >= device_count():
        raise RuntimeError("CUDA error: invalid device ordinal")
    if isinstance(a, cp.ndarray) and a.device.id == index:
        return a
    with cp.cuda.Device(index):
        return cp.array(a, copy=True)


def from_dlpack(obj):
    """A cupy array sharing obj's GPU memory (DLPack)."""
    load()
    return cp.from_dlpack(obj)


def _dtype(code):
    return _DTYPES[code]


def empty(shape, code, like):
    with like.device:
        return cp.empty(tuple(shape), _dtype(code))


def zeros(shape, code, like):
    with like.device:
        return cp.zeros(tuple(shape), _dtype(code))


def copy(a):
    with a.device:
        return a.copy(order="C")


def contiguous(a):
    return a if a.flags.c_contiguous else copy(a)


def astype(a, code):
    return a.astype(_dtype(code), copy=False)


def assign(dst, src):
    """dst[...] = src, converted to dst's dtype; dst and src on any devices (torch's copy_)."""
    if isinstance(dst, cp.ndarray):
        if isinstance(src, np.ndarray):
            with dst.device:
                src = cp.asarray(src)
        elif isinstance(src, cp.ndarray) and src.device.id != dst.device.id:
            with dst.device:
                src = src.copy()
        dst[...] = src
    else:
        dst[...] = cp.asnumpy(src) if isinstance(src, cp.ndarray) else src


def writeable(a):
    """Whether a can be written in place: cupy has no read-only flag, so a broadcast view (a zero
    stride along a dimension longer than 1) is refused as numpy refuses its read-only views."""
    return all(stride != 0 or size <= 1 for stride, size in zip(a.strides, a.shape))


def view_as_shape(a, shape):
    """A view of a with a new shape; ValueError when that needs a copy (cupy's reshape would copy)."""
    view = a.view()
    try:
        view.shape = tuple(shape)   # cupy's shape setter reshapes without a copy, or raises
    except (AttributeError, ValueError) as e:
        raise ValueError(str(e)) from None
    return view


def to_host(a):
    return cp.asnumpy(a)


def data_address(a):
    return a.data.ptr


# ---------------------------------------------------------------------------------------------
# elementwise kernels: csrc/elementwise.c and csrc/compare.c, formula for formula
# ---------------------------------------------------------------------------------------------

# Helpers of the kernel bodies. Overloads pick the int64 or float formula the C kernels use for
# that dtype (long long is int64 in CUDA). Also compiled on the host by the kernel tests.
_PREAMBLE = r"""
#define CG_SQRT1_2 0.70710678118654752440
#define CG_SQRT2 1.41421356237309504880
#define CG_2_SQRTPI 1.12837916709551257390

/* int64 arithmetic wraps around on overflow, as torch's (done in unsigned: signed overflow is
 * undefined behaviour in C++) */
__device__ inline float cg_add(float a, float b) { return a + b; }
__device__ inline double cg_add(double a, double b) { return a + b; }
__device__ inline long long cg_add(long long a, long long b)
{ return (long long)((unsigned long long)a + (unsigned long long)b); }
__device__ inline float cg_sub(float a, float b) { return a - b; }
__device__ inline double cg_sub(double a, double b) { return a - b; }
__device__ inline long long cg_sub(long long a, long long b)
{ return (long long)((unsigned long long)a - (unsigned long long)b); }
__device__ inline float cg_mul(float a, float b) { return a * b; }
__device__ inline double cg_mul(double a, double b) { return a * b; }
__device__ inline long long cg_mul(long long a, long long b)
{ return (long long)((unsigned long long)a * (unsigned long long)b); }
__device__ inline float cg_neg(float x) { return -x; }
__device__ inline double cg_neg(double x) { return -x; }
__device__ inline long long cg_neg(long long x) { return cg_sub(0LL, x); }
/* |INT64_MIN| wraps to INT64_MIN, as in torch */
__device__ inline float cg_abs(float x) { return fabsf(x); }
__device__ inline double cg_abs(double x) { return fabs(x); }
__device__ inline long long cg_abs(long long x) { return x < 0 ? cg_neg(x) : x; }

__device__ inline float cg_pow(float a, float b) { return powf(a, b); }
__device__ inline double cg_pow(double a, double b) { return pow(a, b); }
/* base ** exponent by repeated squaring; a negative exponent gives 0 unless |base| == 1 */
__device__ inline long long cg_pow(long long base, long long exponent)
{
    if (exponent < 0) {
        if (base == 1) return 1;
        if (base == -1) return (exponent & 1) ? -1 : 1;
        return 0;
    }
    unsigned long long result = 1, square = (unsigned long long)base;
    for (; exponent > 0; exponent >>= 1) {
        if (exponent & 1) result *= square;
        square *= square;
    }
    return (long long)result;
}

/* x ** e with torch's cheaper formulas for the common exponents (x ** 0 = 1 even for NaN x) */
template <typename T> __device__ inline T cg_pow_special(T x, T e)
{
    if (e == 0) return 1;
    if (e == 1) return x;
    if (e == 2) return x * x;
    if (e == 3) return x * x * x;
    if (e == (T)0.5) return sqrt(x);
    if (e == (T)-0.5) return 1 / sqrt(x);
    if (e == -1) return 1 / x;
    if (e == -2) return 1 / (x * x);
    return cg_pow(x, e);
}

/* torch's maximum / minimum: NaN where an operand is NaN; else std::max / std::min, whose first
 * argument wins ties (max(-0, 0) = -0) */
template <typename T> __device__ inline T cg_std_max(T a, T b) { return a < b ? b : a; }
template <typename T> __device__ inline T cg_std_min(T a, T b) { return b < a ? b : a; }
__device__ inline float cg_maximum(float a, float b)
{ return a != a || b != b ? (float)nan("") : cg_std_max(a, b); }
__device__ inline double cg_maximum(double a, double b)
{ return a != a || b != b ? nan("") : cg_std_max(a, b); }
__device__ inline long long cg_maximum(long long a, long long b) { return cg_std_max(a, b); }
__device__ inline float cg_minimum(float a, float b)
{ return a != a || b != b ? (float)nan("") : cg_std_min(a, b); }
__device__ inline double cg_minimum(double a, double b)
{ return a != a || b != b ? nan("") : cg_std_min(a, b); }
__device__ inline long long cg_minimum(long long a, long long b) { return cg_std_min(a, b); }
/* min(max(x, lo), hi); NaN where lo or hi is NaN, and NaN x passes (lo > hi gives hi) */
__device__ inline float cg_clamp(float x, float lo, float hi)
{ return lo != lo || hi != hi ? (float)nan("") : cg_std_min(cg_std_max(x, lo), hi); }
__device__ inline double cg_clamp(double x, double lo, double hi)
{ return lo != lo || hi != hi ? nan("") : cg_std_min(cg_std_max(x, lo), hi); }
__device__ inline long long cg_clamp(long long x, long long lo, long long hi)
{ return cg_std_min(cg_std_max(x, lo), hi); }

/* integers are their own floor, ceil and round; round halves to even (rint) */
__device__ inline float cg_floor(float x) { return floorf(x); }
__device__ inline double cg_floor(double x) { return floor(x); }
__device__ inline long long cg_floor(long long x) { return x; }
__device__ inline float cg_ceil(float x) { return ceilf(x); }
__device__ inline double cg_ceil(double x) { return ceil(x); }
__device__ inline long long cg_ceil(long long x) { return x; }
__device__ inline float cg_round(float x) { return rintf(x); }
__device__ inline double cg_round(double x) { return rint(x); }
__device__ inline long long cg_round(long long x) { return x; }

/* d gelu_tanh/dx = (1 + t) / 2 + x / 2 * (1 - t^2) * b (1 + 3 k x^2), t = tanh(b (x + k x^3)) */
template <typename T> __device__ inline T cg_gelu_tanh_grad(T x)
{
    const T beta = (T)(CG_SQRT2 * CG_2_SQRTPI * 0.5), kappa = (T)0.044715;
    const T x_sq = x * x, x_cube = x_sq * x;
    const T tanh_inner = tanh(beta * (x + kappa * x_cube));
    const T left = (T)0.5 * x, right = 1 + tanh_inner;
    const T left_derivative = (T)0.5 * right;
    const T tanh_derivative = 1 - tanh_inner * tanh_inner;
    const T inner_derivative = beta * (1 + 3 * kappa * x_sq);
    return left_derivative + left * tanh_derivative * inner_derivative;
}

/* gx = gy * s * (1 + x * (1 - s)), s = sigmoid(x) */
template <typename T> __device__ inline T cg_silu_bwd(T x, T gy)
{
    const T s = 1 / (1 + exp(-x));
    return gy * s * (1 + x * (1 - s));
}
"""

# key (the CPU kernel table's, _Kernel.key) -> (input parameters, output parameter, body). T is
# the computation dtype; kernels with a scalar parameter take it as `float64 p` (the CPU
# runner's double), converted to T in the body where the C kernel converts it.
ELEMENTWISE_KERNELS = {
    # ---- forward, binary ----
    "add": ("T a, T b", "T out", "out = cg_add(a, b)"),
    "sub": ("T a, T b", "T out", "out = cg_sub(a, b)"),
    "mul": ("T a, T b", "T out", "out = cg_mul(a, b)"),
    "div": ("T a, T b", "T out", "out = a / b"),
    "pow": ("T a, T b", "T out", "out = cg_pow(a, b)"),
    # ---- forward, unary ----
    "neg": ("T x", "T out", "out = cg_neg(x)"),
    "abs": ("T x", "T out", "out = cg_abs(x)"),
    "exp": ("T x", "T out", "out = exp(x)"),
    "log": ("T x", "T out", "out = log(x)"),
    "sqrt": ("T x", "T out", "out = sqrt(x)"),
    "sin": ("T x", "T out", "out = sin(x)"),
    "cos": ("T x", "T out", "out = cos(x)"),
    # x < 0 ? 0 : x, as torch: NaN and -0 pass
    "relu": ("T x", "T out", "out = x < 0 ? (T)0 : x"),
    "sigmoid": ("T x", "T out", "out = x >= 0 ? (T)1 / ((T)1 + exp(-x)) : exp(x) / ((T)1 + exp(x))"),
    "tanh": ("T x", "T out", "out = tanh(x)"),
    "pow_scalar": ("T x, float64 p", "T out", "out = cg_pow_special(x, (T)p)"),
    # ---- backward ----
    "relu_backward": ("T y, T gy", "T out", "out = y <= 0 ? (T)0 : gy"),
    "sigmoid_backward": ("T y, T gy", "T out", "out = gy * ((T)1 - y) * y"),
    "tanh_backward": ("T y, T gy", "T out", "out = gy * (((T)1 - y) * ((T)1 + y))"),
    "abs_backward": ("T x, T gy", "T out", "out = gy * (T)((x > 0) - (x < 0))"),
    "sqrt_backward": ("T y, T gy", "T out", "out = gy / ((T)2 * y)"),
    "sin_backward": ("T x, T gy", "T out", "out = gy * cos(x)"),
    "cos_backward": ("T x, T gy", "T out", "out = gy * -sin(x)"),
    "pow_scalar_backward": ("T x, T gy, float64 p", "T out",
                            "out = p == 0 ? (T)0 : gy * ((T)p * cg_pow_special(x, (T)(p - 1)))"),
    "pow_backward_self": ("T a, T b, T gy", "T out",
                          "out = b == 0 ? (T)0 : gy * (b * cg_pow(a, b - (T)1))"),
    "pow_backward_exponent": ("T a, T b, T y, T gy", "T out",
                              "out = gy * (a == 0 && b >= 0 ? (T)0 : y * log(a))"),
    # ---- comparisons, logic, floating-point classes (bool results) ----
    "eq": ("T a, T b", "bool out", "out = a == b"),
    "ne": ("T a, T b", "bool out", "out = a != b"),
    "lt": ("T a, T b", "bool out", "out = a < b"),
    "le": ("T a, T b", "bool out", "out = a <= b"),
    "gt": ("T a, T b", "bool out", "out = a > b"),
    "ge": ("T a, T b", "bool out", "out = a >= b"),
    "logical_and": ("T a, T b", "bool out", "out = (a != 0) & (b != 0)"),
    "logical_or": ("T a, T b", "bool out", "out = (a != 0) | (b != 0)"),
    "logical_xor": ("T a, T b", "bool out", "out = (a != 0) ^ (b != 0)"),
    "logical_not": ("T x", "bool out", "out = x == 0"),
    "isnan": ("T x", "bool out", "out = isnan(x)"),
    "isinf": ("T x", "bool out", "out = isinf(x)"),
    "isfinite": ("T x", "bool out", "out = isfinite(x)"),
    # ---- bitwise (int64 and bool) ----
    "bitwise_and": ("T a, T b", "T out", "out = a & b"),
    "bitwise_or": ("T a, T b", "T out", "out = a | b"),
    "bitwise_xor": ("T a, T b", "T out", "out = a ^ b"),
    "bitwise_not": ("T x", "T out", "out = ~x"),
    # ---- math ops: selection, rounding, activations ----
    "where": ("T c, T a, T b", "T out", "out = c != 0 ? a : b"),
    "maximum": ("T a, T b", "T out", "out = cg_maximum(a, b)"),
    "minimum": ("T a, T b", "T out", "out = cg_minimum(a, b)"),
    "clamp": ("T x, T lo, T hi", "T out", "out = cg_clamp(x, lo, hi)"),
    "norm_inf_mask": ("T x, T nrm", "T out", "out = fabs(x) == nrm || x != x ? (T)1 : (T)0"),
    "sign": ("T x", "T out", "out = (T)((x > 0) - (x < 0))"),
    "floor": ("T x", "T out", "out = cg_floor(x)"),
    "ceil": ("T x", "T out", "out = cg_ceil(x)"),
    "round": ("T x", "T out", "out = cg_round(x)"),
    "round_decimals": (
        "T x, float64 p", "T out",
        "const T scale = (T)pow(10.0, p >= 0 ? p : -p); "
        "out = p >= 0 ? cg_round(x * scale) / scale : cg_round(x / scale) * scale"),
    "erf": ("T x", "T out", "out = erf(x)"),
    "log1p": ("T x", "T out", "out = log1p(x)"),
    "expm1": ("T x", "T out", "out = expm1(x)"),
    "rsqrt": ("T x", "T out", "out = (T)1 / sqrt(x)"),
    "reciprocal": ("T x", "T out", "out = (T)1 / x"),
    "gelu": ("T x", "T out", "out = x * (T)0.5 * ((T)1 + erf(x * (T)CG_SQRT1_2))"),
    "gelu_tanh": ("T x", "T out",
                  "out = (T)0.5 * x * ((T)1 + tanh((T)(CG_SQRT2 * CG_2_SQRTPI * 0.5) * "
                  "(x + (T)0.044715 * (x * x * x))))"),
    "silu": ("T x", "T out", "out = x / ((T)1 + exp(-x))"),
    "leaky_relu": ("T x, float64 p", "T out", "out = x > 0 ? x : x * (T)p"),
    "elu": ("T x, float64 p", "T out", "out = x < 0 ? expm1(x) * (T)p : x"),
    "softplus": ("T x, T beta, T threshold", "T out",
                 "out = x * beta > threshold ? x : log1p(exp(x * beta)) / beta"),
    "maximum_backward": ("T a, T b, T gy", "T out",
                         "const T half = gy / (T)2; out = a == b ? half : (a < b ? (T)0 : gy)"),
    "minimum_backward": ("T a, T b, T gy", "T out",
                         "const T half = gy / (T)2; out = a == b ? half : (a > b ? (T)0 : gy)"),
    "clamp_backward": ("T x, T lo, T hi, T gy", "T out", "out = x >= lo && x <= hi ? gy : (T)0"),
    "clamp_backward_min": ("T x, T lo, T hi, T gy", "T out", "out = x < lo && lo < hi ? gy : (T)0"),
    "clamp_backward_max": ("T x, T lo, T hi, T gy", "T out", "out = x > hi || hi < lo ? gy : (T)0"),
    "gelu_backward": ("T x, T gy", "T out",
                      "out = gy * ((T)0.5 * ((T)1 + erf(x * (T)CG_SQRT1_2)) + "
                      "x * ((T)(CG_2_SQRTPI * CG_SQRT1_2 * 0.5) * exp(x * x * (T)-0.5)))"),
    "gelu_tanh_backward": ("T x, T gy", "T out", "out = gy * cg_gelu_tanh_grad(x)"),
    "silu_backward": ("T x, T gy", "T out", "out = cg_silu_bwd(x, gy)"),
    "leaky_relu_backward": ("T x, T gy, float64 p", "T out", "out = x > 0 ? gy : gy * (T)p"),
    "elu_backward": ("T x, T gy, float64 p", "T out", "out = x > 0 ? gy : gy * (T)p * exp(x)"),
    "softplus_backward": ("T x, T gy, T beta, T threshold", "T out",
                          "const T z = exp(x * beta); "
                          "out = x * beta > threshold ? gy : gy * z / (z + (T)1)"),
}


def _elementwise_kernel(key):
    kernel = _kernels.get(key)
    if kernel is None:
        in_params, out_params, body = ELEMENTWISE_KERNELS[key]
        kernel = cp.ElementwiseKernel(in_params, out_params, body, "cg_" + key, preamble=_PREAMBLE)
        _kernels[key] = kernel
    return kernel


def _broadcast_shape(shapes):
    """The broadcast of shapes, with torch's error (as _broadcast_shapes in _backend_cpu.pxi)."""
    result = ()
    for shape in shapes:
        if shape == result:
            continue
        n = max(len(result), len(shape))
        a = (1,) * (n - len(result)) + tuple(result)
        b = (1,) * (n - len(shape)) + tuple(shape)
        out = []
        for i, (sa, sb) in enumerate(zip(a, b)):
            if sa == sb or sb == 1:
                out.append(sa)
            elif sa == 1:
                out.append(sb)
            else:
                raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                                   f"({sb}) at non-singleton dimension {i}")
        result = tuple(out)
    return result


def elementwise(key, kernel_code, out_code, result_code, operands, out, param):
    """out = kernel(operands...) in dtype kernel_code (operands: cupy arrays, converted, and
    numbers), broadcast; the kernel writes out_code (bool for predicates), the caller gets
    result_code. With `out` (any strides), the result is written there and out is returned."""
    dtype = _dtype(kernel_code)
    args = [o.astype(dtype, copy=False) if isinstance(o, cp.ndarray) else dtype.type(o)
            for o in operands]
    shape = _broadcast_shape([a.shape for a in args if isinstance(a, cp.ndarray)])
    if "float64 p" in ELEMENTWISE_KERNELS[key][0]:
        args.append(float(param))
    kernel = _elementwise_kernel(key)
    if out is not None:
        if _broadcast_shape([out.shape, shape]) != out.shape:
            raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast "
                               f"shape {list(_broadcast_shape([out.shape, shape]))}")
        if out.dtype == _dtype(out_code):
            kernel(*args, out)
        else:   # compute in the kernel's dtype, then convert into out
            result = cp.empty(out.shape, _dtype(out_code))
            kernel(*args, result)
            out[...] = result
        return out
    result = cp.empty(shape, _dtype(out_code))
    kernel(*args, result)
    return result if out_code == result_code else result.astype(_dtype(result_code))


# ---------------------------------------------------------------------------------------------
# reductions (csrc/reduce.c, csrc/reduce_math.c, csrc/compare.c's any/all)
# ---------------------------------------------------------------------------------------------

# name -> (input parameters, output parameter, map, reduce, post-map, identity, reduce type)
REDUCTION_KERNELS = {
    # float32 and float64 sums accumulated in double, as cg_sum_f32/f64
    "sum_float": ("T x", "T y", "(double)x", "a + b", "y = (T)a", "0", "double"),
    # int64 sums wrapping around on overflow, as cg_sum_i64
    "sum_int": ("T x", "T y", "(unsigned long long)x", "a + b", "y = (T)a", "0", "unsigned long long"),
    "sum_double": ("float64 x", "float64 y", "x", "a + b", "y = a", "0", "double"),
    # logsumexp: sum_k (T)exp(x - shift) in double (cg_logsumexp)
    "exp_sum": ("T x, T shift", "float64 total", "(double)(T)exp(x - shift)", "a + b", "total = a",
                "0", "double"),
    # softmax and log_softmax: sum_k exp(x - max), exp in T, the sum in double (cg_softmax_fwd)
    "softmax_sum": ("T x, T m", "float64 s", "(double)(T)exp(x - m)", "a + b", "s = a", "0", "double"),
    # softmax backward: sum_k gy * y in double
    "softmax_dot": ("T y, T gy", "float64 d", "(double)gy * (double)y", "a + b", "d = a", "0", "double"),
}


def _reduction(name):
    kernel = _kernels.get(name)
    if kernel is None:
        in_params, out_params, map_expr, reduce_expr, post_map, identity, reduce_type = \
            REDUCTION_KERNELS[name]
        kernel = cp.ReductionKernel(in_params, out_params, map_expr, reduce_expr, post_map, identity,
                                    "cg_" + name, reduce_type=reduce_type, preamble=_PREAMBLE)
        _kernels[name] = kernel
    return kernel


def sum_axes(x, axes, out_code):
    """x (converted to out_code) summed over axes, the reduced axes removed; a copy for no axes."""
    x = astype(x, out_code)
    axes = tuple(axes)
    if not axes:
        return copy(x)
    return _reduction("sum_int" if out_code == INT64 else "sum_float")(x, axis=axes)


def _lines(x, dim):
    """x (contiguous) seen as (outer, r, inner) around dim, and those sizes."""
    shape = x.shape
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    inner = int(np.prod(shape[dim + 1:], dtype=np.int64))
    r = shape[dim]
    return contiguous(x).reshape(outer, r, inner), outer, r, inner


def extreme_dim(x, dim, is_max):
    """(values, int64 indices) of the max or min along dim, removed: the first NaN wins, and
    ties go to the first index (numpy's and CuPy's argmax / argmin rules, as cg_max/cg_min)."""
    out_shape = x.shape[:dim] + x.shape[dim + 1:]
    x3, _, _, _ = _lines(x, dim)
    indices = (cp.argmax if is_max else cp.argmin)(x3, axis=1)
    values = cp.take_along_axis(x3, indices[:, None, :], axis=1)
    return values.reshape(out_shape), indices.astype(np.int64, copy=False).reshape(out_shape)


def _scatter_lines(gy, indices, in_shape, dim, accumulate):
    """zeros of in_shape with gy put (or added) at indices along dim; gy and indices are shaped
    as in_shape with k elements along dim (k = 1 for a reduction with the dim kept)."""
    outer = int(np.prod(in_shape[:dim], dtype=np.int64))
    inner = int(np.prod(in_shape[dim + 1:], dtype=np.int64))
    r = in_shape[dim]
    gx = cp.zeros((outer, r, inner), gy.dtype)
    g3 = contiguous(gy).reshape(outer, -1, inner)
    k3 = contiguous(indices).reshape(outer, -1, inner)
    o = cp.arange(outer)[:, None, None]
    i = cp.arange(inner)[None, None, :]
    if accumulate:
        cupyx.scatter_add(gx, (o, k3, i), g3)
    else:
        gx[o, k3, i] = g3
    return gx.reshape(in_shape)


def index_backward(gy, indices, in_shape, dim):
    """The gradient of a max/min along dim: zeros with gy at the selected indices."""
    return _scatter_lines(gy, indices, tuple(in_shape), dim, False)


def extreme_backward(x, value, gy):
    """gy shared equally among the elements equal to value (a NaN value matches x's NaNs)."""
    dtype = x.dtype
    if value != value:
        match = cp.isnan(x)
    else:
        match = x == dtype.type(value)
    share = cp.asarray(gy, dtype=dtype) / match.sum().astype(dtype)   # gy / count, in x's dtype
    return cp.where(match, share, cp.zeros((), dtype))


def bool_reduce(truth, dims, is_all):
    return (truth.all if is_all else truth.any)(axis=tuple(dims))


def math_reduce(kind, x, dims, code, param):
    """prod, var (param: the correction), logsumexp or norm (param: p) over dims, removed."""
    dtype = _dtype(code)
    x = astype(x, code)
    dims = tuple(dims)
    r = int(np.prod([x.shape[d] for d in dims], dtype=np.int64))
    out_shape = tuple(s for d, s in enumerate(x.shape) if d not in dims)
    if kind == REDUCE_PROD:
        if code == INT64:   # wrapping around on overflow, in unsigned
            return cp.prod(x.astype(np.uint64), axis=dims).view(np.int64).reshape(out_shape)
        return cp.prod(x.astype(np.float64), axis=dims).astype(dtype)
    if kind == REDUCE_VAR:   # two passes in double, divisor max(r - correction, 0)
        xd = x.astype(np.float64)
        mean = xd.sum(axis=dims, keepdims=True) / r
        squares = ((xd - mean) * (xd - mean)).sum(axis=dims)
        divisor = max(r - param, 0.0)
        return (squares / divisor).astype(dtype)
    if kind == REDUCE_LOGSUMEXP:
        if r == 0:
            return cp.full(out_shape, -np.inf, dtype)
        m = cp.max(x, axis=dims, keepdims=True)           # NaN propagates, as torch's amax
        shift = cp.where(cp.isinf(m), dtype.type(0), m)
        total = _reduction("exp_sum")(x, shift, axis=dims)
        return _helper("lse_finish")(total, shift.reshape(out_shape))
    # norms, in double
    v = cp.abs(x.astype(np.float64))
    p = param
    if p == np.inf or p == -np.inf:
        if r == 0:
            return cp.full(out_shape, 0.0 if p > 0 else np.inf, dtype)
        return (cp.max if p > 0 else cp.min)(v, axis=dims).astype(dtype)
    if p == 0:
        return (v != 0).sum(axis=dims).astype(dtype)
    if p == 1:
        return v.sum(axis=dims).astype(dtype)
    if p == 2:
        return cp.sqrt((v * v).sum(axis=dims)).astype(dtype)
    return cp.power(cp.power(v, p).sum(axis=dims), 1.0 / p).astype(dtype)


def cumsum(x, dim, code, reverse):
    """Running sums along dim (from the end when reverse): in double for floats, wrapping int64."""
    x = astype(x, code)
    if reverse:
        x = cp.flip(x, dim)
    if code == INT64:
        out = cp.cumsum(x.astype(np.uint64), axis=dim).view(np.int64)
    else:
        # + 0.0: the C running sum starts at +0, so a leading -0 comes out as +0 (as torch's)
        out = (cp.cumsum(x.astype(np.float64), axis=dim) + 0.0).astype(_dtype(code))
    return contiguous(cp.flip(out, dim)) if reverse else out


def prod_backward(x, gy, dim):
    """prod's gradient by exclusive products in double (exact with zeros in x), each side rounded
    to x's dtype before they are multiplied, as cg_prod_bwd; dim < 0: the product of all."""
    shape = x.shape
    if dim < 0:
        x3 = contiguous(x).reshape(1, -1, 1)
        g3 = gy.reshape(1, 1, 1)
    else:
        x3, outer, _, inner = _lines(x, dim)
        g3 = contiguous(gy).reshape(outer, 1, inner)
    xd = x3.astype(np.float64)
    ones = cp.ones_like(xd[:, :1, :])
    prefix = cp.concatenate([ones, cp.cumprod(xd, axis=1)[:, :-1, :]], axis=1)
    suffix = cp.flip(cp.concatenate([ones, cp.cumprod(cp.flip(xd, 1), axis=1)[:, :-1, :]], axis=1), 1)
    dtype = x.dtype
    return (g3 * (prefix.astype(dtype) * suffix.astype(dtype))).reshape(shape)


def count_zeros(x):
    return int(cp.count_nonzero(x == 0))


# ---------------------------------------------------------------------------------------------
# softmax family (csrc/nn.c): max, sum of exponentials in double, output
# ---------------------------------------------------------------------------------------------

def softmax_family(kind, x, gy, dim):
    """kind's forward (from x) or backward (from the forward output x and the gradient gy)."""
    x3, outer, r, inner = _lines(x, dim)
    if x3.size == 0:
        return cp.empty(x.shape, x.dtype)
    if kind == SOFTMAX_FWD or kind == LOG_SOFTMAX_FWD:
        m = cp.max(x3, axis=1, keepdims=True)
        s = _reduction("softmax_sum")(x3, m, axis=1, keepdims=True)
        out = _helper("softmax_out" if kind == SOFTMAX_FWD else "log_softmax_out")(x3, m, s)
        return out.reshape(x.shape)
    g3 = contiguous(astype(gy, FLOAT32 if x.dtype == np.float32 else FLOAT64)).reshape(outer, r, inner)
    if kind == SOFTMAX_BWD:
        d = _reduction("softmax_dot")(x3, g3, axis=1, keepdims=True)
        return _helper("softmax_bwd")(x3, g3, d).reshape(x.shape)
    s = _reduction("sum_double")(g3.astype(np.float64), axis=1, keepdims=True)
    return _helper("log_softmax_bwd")(x3, g3, s).reshape(x.shape)


# ---------------------------------------------------------------------------------------------
# matrix products (cuBLAS through cupy.matmul)
# ---------------------------------------------------------------------------------------------

def matmul(a, b, out_shape, code):
    """Batched a @ b (batch dims broadcast to out_shape[:-2]); transposed views need no copy."""
    return contiguous(cp.matmul(a, b)).reshape(tuple(out_shape))


def linear_forward(x, weight, bias, code):
    """x @ weight.T + bias for a 2-D x: one GEMM (weight read transposed), then the bias added in
    place."""
    out = cp.matmul(x, weight.T)
    if bias is not None:
        out += bias
    return out


# ---------------------------------------------------------------------------------------------
# sorting (csrc/sort.c): stable, NaN greatest
# ---------------------------------------------------------------------------------------------

def sort_dim(x, dim, k, descending):
    """(values, int64 indices) of the first k elements of x sorted stably along dim. CuPy's
    argsort is stable and puts NaN last; descending sorts the reversed line ascending and reverses
    the result, which keeps equal elements in their original order and puts NaN first."""
    x3, outer, r, inner = _lines(x, dim)
    out_shape = x.shape[:dim] + (k,) + x.shape[dim + 1:]
    if descending:
        order = (r - 1) - cp.argsort(x3[:, ::-1, :], axis=1)[:, ::-1, :]
    else:
        order = cp.argsort(x3, axis=1)
    order = order[:, :k, :].astype(np.int64, copy=False)
    values = cp.take_along_axis(x3, order, axis=1)
    return contiguous(values).reshape(out_shape), contiguous(order).reshape(out_shape)


def select_backward(gy, indices, in_shape, dim):
    """The gradient of k elements selected along dim: zeros with gy added at the indices."""
    return _scatter_lines(gy, indices, tuple(in_shape), dim, True)


def unique_sorted(values, order, want_inverse, want_counts):
    """(distinct values, inverse or None, counts or None) of the ascending 1-d `values`, whose
    element j came from position order[j]; a run starts at every element that differs from the
    one before it (NaN differs from all), as cg_unique_sorted."""
    n = values.size
    starts = cp.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = values[1:] != values[:-1]
    distinct = values[starts]
    inverse = counts = None
    if want_inverse:
        inverse = cp.empty(n, np.int64)
        inverse[order] = cp.cumsum(starts.astype(np.int64)) - 1
    if want_counts:
        first = cp.nonzero(starts)[0]
        counts = cp.diff(cp.concatenate([first, cp.array([n], dtype=first.dtype)])).astype(np.int64)
    return distinct, inverse, counts


# ---------------------------------------------------------------------------------------------
# gathers and scatters along the middle axis of (outer, r, inner) views (csrc/index.c)
# ---------------------------------------------------------------------------------------------

def _index_arrays(idx, outer, n, inner, per_element):
    """The device index arrays addressing (o, k, i) for k = idx[j] or idx[o, j, i]."""
    k = cp.asarray(idx)
    if per_element:
        return (cp.arange(outer)[:, None, None], k.reshape(outer, n, inner),
                cp.arange(inner)[None, None, :])
    return (slice(None), k, slice(None))


def gather_along(src, outer, r, inner, idx, n, per_element, out_shape):
    """out[o, j, i] = src[o, k, i] with k = idx[j] (or idx[o, j, i]); a new array of out_shape."""
    if outer * n * inner == 0:
        return cp.empty(tuple(out_shape), src.dtype)
    src3 = src.reshape(outer, r, inner)
    return contiguous(src3[_index_arrays(idx, outer, n, inner, per_element)]).reshape(tuple(out_shape))


def scatter_along(dst, outer, r, inner, idx, n, per_element, values, accumulate):
    """dst[o, k, i] = values[o, j, i] (or +=, with repeated indices adding up), in place."""
    if outer * n * inner == 0:
        return
    if cp.may_share_memory(values, dst):
        values = copy(values)   # read everything before writing anything
    target = dst
    try:
        target3 = view_as_shape(dst, (outer, r, inner))
    except ValueError:   # strides no view can express: scatter into a copy, then copy back
        target = copy(dst)
        target3 = target.reshape(outer, r, inner)
    values3 = cp.broadcast_to(values, values.shape).reshape(outer, n, inner)
    index = _index_arrays(idx, outer, n, inner, per_element)
    if accumulate:
        cupyx.scatter_add(target3, index, values3)
    else:
        target3[index] = values3
    if target is not dst:
        dst[...] = target


# ---------------------------------------------------------------------------------------------
# losses (csrc/loss.c): one thread per row (or per element), the C loops inside
# ---------------------------------------------------------------------------------------------

# The elementwise kernels that are not ops: name -> (input parameters, output parameters, body).
# A `raw` parameter is a whole array, indexed by the body; `i` is the element's index.
HELPER_KERNELS = {
    # logsumexp's last step: log of the double sum, in T, plus the shift
    "lse_finish": ("float64 total, T shift", "T out", "out = (T)log((T)total) + shift"),
    # softmax: y = exp(x - max) / sum, the quotient in double (cg_softmax_fwd)
    "softmax_out": ("T x, T m, float64 s", "T y", "y = (T)((double)(T)exp(x - m) / s)"),
    # log_softmax: y = x - max - log(sum) (cg_log_softmax_fwd)
    "log_softmax_out": ("T x, T m, float64 s", "T y", "y = x - m - (T)log(s)"),
    # softmax backward: gx = y * (gy - dot)
    "softmax_bwd": ("T y, T gy, float64 d", "T gx", "gx = y * (gy - (T)d)"),
    # log_softmax backward: gx = gy - exp(y) * sum(gy)
    "log_softmax_bwd": ("T y, T gy, float64 s", "T gx", "gx = gy - exp(y) * (T)s"),
    # per row: loss and row weight (class targets), from log-probabilities
    "ce_row": (
        "int64 t, raw T logp, raw T w, bool has_w, int64 c, int64 ignore, float64 eps",
        "T loss, T row_weight",
        """
        if (t == ignore) { loss = 0; row_weight = 0; }
        else {
            const long long row = i * c;
            double smooth = 0;
            if (eps != 0)
                for (long long k = 0; k < c; ++k)
                    smooth -= (double)(has_w ? w[k] : (T)1) * logp[row + k];
            const T rw = has_w ? w[t] : (T)1;
            row_weight = rw;
            loss = (T)((1 - eps) * -(double)(rw * logp[row + t]) + eps / c * smooth);
        }
        """),
    "nll_row": (
        "int64 t, raw T x, raw T w, bool has_w, int64 c, int64 ignore",
        "T loss, T row_weight",
        """
        const T rw = t == ignore ? (T)0 : (has_w ? w[t] : (T)1);
        row_weight = rw;
        loss = t == ignore ? (T)0 : -rw * x[i * c + t];
        """),
    # d loss / d logits, one thread per element of the (n, c) gradient
    "ce_grad": (
        "raw T logp, raw int64 target, raw T w, bool has_w, raw T row_grad, float64 weight_total, "
        "int64 c, int64 ignore, float64 eps",
        "T gx",
        """
        const long long row = i / c, k = i % c;
        const long long t = target[row];
        if (t == ignore) gx = 0;
        else {
            const T g = row_grad[row];
            const T nll_scale = (T)((1 - eps) * (double)(has_w ? w[t] : (T)1));
            const T smooth_scale = (T)(eps / c);
            const T p = exp(logp[i]);
            gx = g * (nll_scale * (p - (T)(k == t)) +
                      smooth_scale * (p * (T)weight_total - (has_w ? w[k] : (T)1)));
        }
        """),
    "nll_grad": (
        "raw int64 target, raw T w, bool has_w, raw T row_grad, int64 c, int64 ignore",
        "T gx",
        """
        const long long row = i / c, k = i % c;
        const long long t = target[row];
        gx = (t != ignore && k == t) ? -(has_w ? w[t] : (T)1) * row_grad[row] : (T)0;
        """),
    # probability targets: loss per row, the mass per row, and the gradient per element
    "prob_row": (
        "raw T logp, raw T target, raw T w, bool has_w, int64 rows, int64 c, float64 eps",
        "T loss",
        """
        const long long row = i * c;
        double total = 0;
        for (long long k = 0; k < c; ++k) {
            const double q = (1 - eps) * target[row + k] + eps / c;
            total -= (has_w ? w[k] : (T)1) * q * logp[row + k];
        }
        loss = (T)total;
        """),
    "prob_mass": (
        "raw T target, raw T w, bool has_w, int64 rows, int64 c, float64 eps",
        "float64 mass",
        """
        const long long row = i * c;
        double total = 0;
        for (long long k = 0; k < c; ++k)
            total += (has_w ? w[k] : (T)1) * ((1 - eps) * target[row + k] + eps / c);
        mass = total;
        """),
    "prob_grad": (
        "raw T logp, raw T target, raw T w, bool has_w, raw T row_grad, raw float64 mass, int64 c, "
        "float64 eps",
        "T gx",
        """
        const long long row = i / c, k = i % c;
        const T q = (T)((1 - eps) * target[i] + eps / c);
        gx = row_grad[row] * (exp(logp[i]) * (T)mass[row] - (has_w ? w[k] : (T)1) * q);
        """),
    # elementwise losses; has_w / has_pw say whether w / pos_weight are real (else 1)
    "bce_fwd": ("T x, T y, T w, bool has_w", "T loss",
                "const T log_x = fmax(log(x), (T)-100); "
                "const T log_1mx = fmax(log((T)1 - x), (T)-100); "
                "loss = -(has_w ? w : (T)1) * (y * log_x + ((T)1 - y) * log_1mx)"),
    "bce_logits_fwd": ("T x, T y, T w, bool has_w, T pw, bool has_pw", "T loss",
                       "const T log_weight = has_pw ? (pw - (T)1) * y + (T)1 : (T)1; "
                       "const T softplus_neg_x = log1p(exp(-fabs(x))) + fmax(-x, (T)0); "
                       "loss = (has_w ? w : (T)1) * (((T)1 - y) * x + log_weight * softplus_neg_x)"),
    "smooth_l1_fwd": ("T x, T y, float64 beta", "T loss",
                      "const T d = fabs(x - y); "
                      "loss = d < beta ? (T)(0.5 * d * d / beta) : (T)(d - 0.5 * beta)"),
    "bce_bwd": ("T x, T y, T w, bool has_w, T g", "T gx",
                "gx = g * (has_w ? w : (T)1) * (x - y) / fmax(((T)1 - x) * x, (T)1e-12)"),
    "bce_logits_bwd": ("T x, T y, T w, bool has_w, T pw, bool has_pw, T g", "T gx",
                       "const T log_weight = has_pw ? (pw - (T)1) * y + (T)1 : (T)1; "
                       "const T sigmoid_neg_x = (T)1 / ((T)1 + exp(x)); "
                       "gx = g * (has_w ? w : (T)1) * (((T)1 - y) - log_weight * sigmoid_neg_x)"),
    "smooth_l1_bwd": ("T x, T y, T g, float64 beta", "T gx",
                      "const T d = x - y; "
                      "gx = g * (fabs(d) < beta ? (T)(d / beta) : (T)((d > 0) - (d < 0)))"),
}


def _helper(name):
    kernel = _kernels.get(name)
    if kernel is None:
        in_params, out_params, body = HELPER_KERNELS[name]
        kernel = cp.ElementwiseKernel(in_params, out_params, body, "cg_" + name, preamble=_PREAMBLE)
        _kernels[name] = kernel
    return kernel


def _optional(a, like):
    """(a, True), or a 0-d stand-in of like's dtype and False for an absent operand."""
    if a is None:
        return cp.zeros((), like.dtype), False
    return a, True


def _log_softmax_rows(rows):
    """cross-entropy's log-probabilities: the log_softmax of each row, as cg_cross_entropy_fwd
    takes them from cg_log_softmax_fwd"""
    return softmax_family(LOG_SOFTMAX_FWD, rows, None, 1)


def class_loss_forward(from_logits, rows, target, weight, ignore_index, eps):
    """(losses (n,), row weights (n,), log-probabilities (n, c) or None): cross-entropy of logit
    rows (from_logits, label smoothing eps) or NLL of log-probability rows."""
    n, c = rows.shape
    w, has_w = _optional(weight, rows)
    if from_logits:
        log_probs = _log_softmax_rows(rows)
        losses, row_weight = _helper("ce_row")(target, log_probs, w, has_w, c, ignore_index, eps)
        return losses, row_weight, log_probs
    losses, row_weight = _helper("nll_row")(target, rows, w, has_w, c, ignore_index)
    return losses, row_weight, None


def class_loss_backward(from_logits, log_probs, target, weight, row_grad, c, ignore_index, eps):
    n = target.size
    gx = cp.empty((n, c), row_grad.dtype)
    if gx.size == 0:
        return gx
    w, has_w = _optional(weight, row_grad)
    if from_logits:
        weight_total = float(c) if weight is None else float(weight.astype(np.float64).sum())
        _helper("ce_grad")(log_probs, target, w, has_w, row_grad, weight_total, c, ignore_index,
                                eps, gx)
    else:
        _helper("nll_grad")(target, w, has_w, row_grad, c, ignore_index, gx)
    return gx


def prob_cross_entropy_forward(rows, target_rows, weight, eps):
    n, c = rows.shape
    log_probs = _log_softmax_rows(rows)
    w, has_w = _optional(weight, rows)
    losses = cp.empty((n,), rows.dtype)
    if n:
        _helper("prob_row")(log_probs, target_rows, w, has_w, n, c, eps, losses)
    return log_probs, losses


def prob_cross_entropy_backward(log_probs, target_rows, weight, row_grad, eps):
    n, c = log_probs.shape
    w, has_w = _optional(weight, row_grad)
    gx = cp.empty((n, c), row_grad.dtype)
    if gx.size == 0:
        return gx
    mass = cp.empty((n,), np.float64)
    _helper("prob_mass")(target_rows, w, has_w, n, c, eps, mass)
    _helper("prob_grad")(log_probs, target_rows, w, has_w, row_grad, mass, c, eps, gx)
    return gx


def pointwise_loss_forward(kind, x, y, w, pos_weight, beta):
    """Per-element losses (x's shape) of BCE, BCE with logits or smooth L1."""
    w, has_w = _optional(w, x)
    if kind == BCE:
        return _helper("bce_fwd")(x, y, w, has_w)
    if kind == BCE_WITH_LOGITS:
        pw, has_pw = _optional(pos_weight, x)
        return _helper("bce_logits_fwd")(x, y, w, has_w, pw, has_pw)
    return _helper("smooth_l1_fwd")(x, y, float(beta))


def pointwise_loss_backward(kind, x, y, w, pos_weight, g, beta):
    """d loss / d x, flat (n,), from each element's upstream gradient g (n,)."""
    g = g.reshape(x.shape)
    w, has_w = _optional(w, x)
    if kind == BCE:
        gx = _helper("bce_bwd")(x, y, w, has_w, g)
    elif kind == BCE_WITH_LOGITS:
        pw, has_pw = _optional(pos_weight, x)
        gx = _helper("bce_logits_bwd")(x, y, w, has_w, pw, has_pw, g)
    else:
        gx = _helper("smooth_l1_bwd")(x, y, g, float(beta))
    return gx.reshape(-1)


# ---------------------------------------------------------------------------------------------
# fused optimizer updates (csrc/optim.c): one kernel per step, in place
# ---------------------------------------------------------------------------------------------

# Scalars arrive rounded to the parameter's dtype where the C kernels round them (computed here
# in double, as there); the loop bodies are the C loops'. Buffers an option leaves out (momentum,
# amsgrad, centered) select another kernel, as the C code selects another loop.
HELPER_KERNELS.update({
    "sgd": (
        "T grad, T wd, bool has_wd, bool maximize, T neg_lr", "T param",
        """
        T g = maximize ? -grad : grad;
        if (has_wd) g = g + wd * param;
        param = param + neg_lr * g;
        """),
    "sgd_momentum": (
        "T grad, T wd, bool has_wd, bool maximize, T neg_lr, T mom, T keep, bool nesterov, "
        "bool first_step",
        "T param, T buf",
        """
        T g = maximize ? -grad : grad;
        if (has_wd) g = g + wd * param;
        const T b = first_step ? g : buf * mom + keep * g;
        buf = b;
        g = nesterov ? g + mom * b : b;
        param = param + neg_lr * g;
        """),
    "adagrad": (
        "T grad, T wd, bool has_wd, bool maximize, T neg_clr, T eps", "T param, T state_sum",
        """
        T g = maximize ? -grad : grad;
        if (has_wd) g = g + wd * param;
        const T s = state_sum + g * g;
        state_sum = s;
        param = param + neg_clr * g / (sqrt(s) + eps);
        """),
})

_ADAM_INPUTS = ("T grad, T wd, T decay, bool has_wd, bool decoupled, bool maximize, T w1, "
                "T one_minus_w1, bool small, T b2, T w2, T neg_step_size, T bias_correction2_sqrt, "
                "T eps")


def _adam_body(amsgrad):
    # m = lerp(m, g, 1 - beta1) as torch's lerp; v = beta2 v + (1 - beta2) g^2
    return "\n".join([
        "T g = maximize ? -grad : grad;",
        "T p = param;",
        "if (has_wd) { if (decoupled) p = p * decay; else g = g + wd * p; }",
        "const T m = small ? exp_avg + w1 * (g - exp_avg) : g - (g - exp_avg) * one_minus_w1;",
        "T v = exp_avg_sq * b2 + w2 * g * g;",
        "exp_avg = m;",
        "exp_avg_sq = v;",
        *(["v = (max_exp_avg_sq >= v || max_exp_avg_sq != max_exp_avg_sq) ? max_exp_avg_sq : v;",
           "max_exp_avg_sq = v;"] if amsgrad else []),
        "const T denom = sqrt(v) / bias_correction2_sqrt + eps;",
        "param = p + neg_step_size * m / denom;",
    ])


HELPER_KERNELS["adam"] = (_ADAM_INPUTS, "T param, T exp_avg, T exp_avg_sq", _adam_body(False))
HELPER_KERNELS["adam_amsgrad"] = (_ADAM_INPUTS, "T param, T exp_avg, T exp_avg_sq, T max_exp_avg_sq",
                                  _adam_body(True))


def _rmsprop_spec(centered, momentum):
    lines = ["T g = maximize ? -grad : grad;",
             "if (has_wd) g = g + wd * param;",
             "const T s = square_avg * a + w * g * g;",
             "square_avg = s;",
             "T avg;"]
    if centered:
        lines += ["const T ga = small ? grad_avg + w * (g - grad_avg) : g - (g - grad_avg) * one_minus_w;",
                  "grad_avg = ga;",
                  "avg = sqrt(s + (T)-1 * ga * ga);"]
    else:
        lines += ["avg = sqrt(s);"]
    lines += ["avg = avg + eps;"]
    if momentum:
        lines += ["const T b = buf * mom + g / avg;", "buf = b;", "param = param + neg_lr * b;"]
    else:
        lines += ["param = param + neg_lr * g / avg;"]
    outputs = "T param, T square_avg" + (", T grad_avg" if centered else "") + (", T buf" if momentum else "")
    inputs = ("T grad, T wd, bool has_wd, bool maximize, T a, T w, T one_minus_w, bool small, T eps, "
              "T mom, T neg_lr")
    return inputs, outputs, "\n".join(lines)


for _centered in (False, True):
    for _momentum in (False, True):
        HELPER_KERNELS[f"rmsprop_{int(_centered)}{int(_momentum)}"] = _rmsprop_spec(_centered, _momentum)


def _lerp_weights(t, w):
    """(w, 1 - w, small) for torch's lerp with weight w, in the parameter's dtype."""
    return w, t(1) - w, bool(t(-0.5) < w < t(0.5))


def sgd_step(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step):
    t = p.dtype.type
    common = (t(weight_decay), weight_decay != 0, bool(maximize), t(-lr))
    if b is None:
        _helper("sgd")(g, *common, p)
    else:
        _helper("sgd_momentum")(g, *common, t(momentum), t(1.0 - dampening), bool(nesterov),
                                      bool(first_step), p, b)


def adam_step(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, decoupled, maximize):
    t = p.dtype.type
    bias_correction1 = 1.0 - beta1 ** step
    bias_correction2 = 1.0 - beta2 ** step
    scalars = (t(weight_decay), t(1.0 - lr * weight_decay), weight_decay != 0, bool(decoupled),
               bool(maximize), *_lerp_weights(t, t(1.0 - beta1)), t(beta2), t(1.0 - beta2),
               t(-(lr / bias_correction1)), t(bias_correction2 ** 0.5), t(eps))
    if vmax is None:
        _helper("adam")(g, *scalars, p, m, v)
    else:
        _helper("adam_amsgrad")(g, *scalars, p, m, v, vmax)


def rmsprop_step(p, g, s, a, b, lr, alpha, eps, weight_decay, momentum, maximize):
    t = p.dtype.type
    outputs = [p, s] + ([a] if a is not None else []) + ([b] if b is not None else [])
    _helper(f"rmsprop_{int(a is not None)}{int(b is not None)}")(
        g, t(weight_decay), weight_decay != 0, bool(maximize), t(alpha),
        *_lerp_weights(t, t(1.0 - alpha)), t(eps), t(momentum), t(-lr), *outputs)


def adagrad_step(p, g, s, lr, lr_decay, weight_decay, eps, step, maximize):
    t = p.dtype.type
    _helper("adagrad")(g, t(weight_decay), weight_decay != 0, bool(maximize),
                             t(-(lr / (1 + (step - 1) * lr_decay))), t(eps), p, s)


def vector_norm(x, p):
    """||x||_p in double (cg_vector_norm): the max (or min) |x| for p = +-inf with NaN winning,
    the count of nonzeros for p = 0."""
    if x.size == 0:
        return 0.0
    v = cp.abs(x.astype(np.float64))
    if p == np.inf:
        return float(cp.max(v))
    if p == -np.inf:
        return float(cp.min(v))
    if p == 0:
        return float(cp.count_nonzero(x))
    if p == 2:
        return float(cp.sqrt(cp.sum(v * v)))
    if p == 1:
        return float(cp.sum(v))
    return float(cp.sum(v ** p) ** (1.0 / p))
