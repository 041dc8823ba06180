"""backends/cuda.py run on the host against the CPU backend, primitive by primitive.

CuPy is replaced by tests/host_cupy.py: its ElementwiseKernel / ReductionKernel compile cuda.py's
CUDA C++ kernel bodies with the host C++ compiler, numpy plays the rest of cupy. So every kernel
formula of the CUDA backend (ops, their backwards, reductions, softmax, losses, optimizer updates)
and the Python around it are executed here and compared with the CPU kernels (the source of truth)
on edge values: NaN, +-inf, -0, int64 overflow. On a GPU, tests/test_cuda.py runs the real thing.
"""
import itertools

import numpy as np
import pytest

from cygrad import _core
from cygrad.backends import cuda
import host_cupy

pytestmark = pytest.mark.skipif(host_cupy.CXX is None, reason="no host C++ compiler (g++) to "
                                                                 "compile the CUDA kernel bodies")

BOOL, INT32, INT64, FLOAT32, FLOAT64 = range(5)
DTYPES = {BOOL: np.bool_, INT64: np.int64, FLOAT32: np.float32, FLOAT64: np.float64}
cpu = _core.cpu_backend


@pytest.fixture(scope="module", autouse=True)
def cuda_on_host():
    """cuda.py with host_cupy in place of cupy, every kernel compiled in one compiler run."""
    saved = {name: getattr(cuda, name, None) for name in ("cp", "xp", "cupyx", "_kernels", "copy")}
    cp = host_cupy.module()
    cp.argsort = lambda a, axis=-1, kind=None: np.argsort(a, axis=axis, kind="stable")  # cupy's is stable
    cuda.cp = cuda.xp = cp
    cuda.cupyx = host_cupy.cupyx_module()
    cuda._kernels = {}
    cuda.copy = lambda a: np.array(a, order="C", copy=True)   # cupy's needs a.device
    host_cupy.compile_cuda_kernels(cuda, _core.elementwise_kernels())
    yield
    for name, value in saved.items():
        setattr(cuda, name, value)


def assert_same(actual, expected, what="", atol=0.0):
    """Equal values: exactly for integers and bools; for floats within a few ulps (the host's libm
    for both), with NaN at the same places and the sign of zero kept. atol: for results computed
    with cancellation (x - max - log_sum), where ulps of the operands are what rounding moves."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if actual.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    rtol = 4e-6 if actual.dtype == np.float32 else 1e-13
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    zeros = (expected == 0) & (actual == 0)
    assert np.array_equal(np.signbit(actual[zeros]), np.signbit(expected[zeros])), f"{what}: -0"


# ---- elementwise kernels: every key of the CPU table, every dtype it has ----

FLOAT_EDGES = [-np.inf, -1000.0, -37.5, -3.5, -2.5, -1.0, -0.5, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0,
               2.5, 3.5, 37.5, 1000.0, np.inf, np.nan]
FEW_FLOAT_EDGES = [-np.inf, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.5, np.inf, np.nan]
INT_EDGES = [np.iinfo(np.int64).min, -7, -2, -1, 0, 1, 2, 3, 62, 63, 64, np.iinfo(np.int64).max]
PARAMS = {"pow_scalar": [0, 1, 2, 3, 0.5, -0.5, -1, -2, 1.7, -2.5],
          "pow_scalar_backward": [0, 1, 2, 3, 0.5, -0.5, -1, -2, 1.7, -2.5],
          "round_decimals": [0, 1, 3, -1, -2], "leaky_relu": [0.01, -0.3, 2.0],
          "leaky_relu_backward": [0.01, -0.3, 2.0], "elu": [1.0, 0.3], "elu_backward": [1.0, 0.3]}


def _operands(arity, code):
    """Every combination of edge values, one flat array per operand."""
    if code == BOOL:
        edges = [False, True]
    elif code == INT64:
        edges = INT_EDGES
    else:
        edges = FLOAT_EDGES if arity <= 2 else FEW_FLOAT_EDGES
    columns = np.array(list(itertools.product(edges, repeat=arity)), dtype=np.float64 if code >= FLOAT32
                       else object)
    return [np.array(list(columns[:, k]), dtype=DTYPES[code]) for k in range(arity)]


ELEMENTWISE_CASES = [(key, arity, has_param, predicate, code)
                     for key, arity, has_param, predicate, codes in _core.elementwise_kernels()
                     for code in codes]


@pytest.mark.parametrize("key, arity, has_param, predicate, code", ELEMENTWISE_CASES,
                         ids=[f"{c[0]}-{np.dtype(DTYPES[c[4]]).name}" for c in ELEMENTWISE_CASES])
def test_elementwise_kernel_matches_cpu(key, arity, has_param, predicate, code):
    operands = tuple(_operands(arity, code))
    out_code = BOOL if predicate else code
    with np.errstate(all="ignore"):
        for param in PARAMS.get(key, [0.0]):
            expected = cpu.elementwise(key, code, out_code, out_code, operands, None, param)
            actual = cuda.elementwise(key, code, out_code, out_code, operands, None, param)
            assert_same(actual, expected, f"{key}({np.dtype(DTYPES[code]).name}, param={param})")


def test_elementwise_broadcasts_scalars_and_writes_out():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.array([1.0, -2.0, 0.5, 4.0], dtype=np.float32)
    assert_same(cuda.elementwise("mul", FLOAT32, FLOAT32, FLOAT32, (a, 2.5), None, 0.0), a * np.float32(2.5))
    out = np.zeros((3, 4), np.float32)
    assert cuda.elementwise("add", FLOAT32, FLOAT32, FLOAT32, (a, b), out, 0.0) is out
    assert_same(out, a + b)
    into_double = np.zeros((3, 4), np.float64)     # another dtype: computed, then converted
    cuda.elementwise("sub", FLOAT32, FLOAT32, FLOAT32, (a, b), into_double, 0.0)
    assert_same(into_double, (a - b).astype(np.float64))
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(4\) must match the size of tensor b \(3\)"):
        cuda.elementwise("add", FLOAT32, FLOAT32, FLOAT32, (a, np.ones(3, np.float32)), None, 0.0)


def test_int64_kernels_compute_int32_and_bool_results_like_the_cpu():
    a = np.array([1, -2, 2**31 - 1], dtype=np.int64)
    expected = cpu.elementwise("mul", INT64, INT64, INT32, (a, 3), None, 0.0)
    assert_same(cuda.elementwise("mul", INT64, INT64, INT32, (a, 3), None, 0.0), expected)


# ---- reductions, scans, selections ----

RNG = np.random.default_rng(5)


def _data(shape, dtype=np.float32, special=True):
    x = RNG.standard_normal(shape).astype(dtype) * 3
    if special and x.size > 4:
        flat = x.reshape(-1)
        flat[1], flat[3] = -0.0, 0.0
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("axes", [(0,), (1,), (0, 2), (0, 1, 2), ()])
def test_sum_axes(dtype, axes):
    x = (_data((3, 4, 5)) * 1000).astype(dtype)
    code = {np.float32: FLOAT32, np.float64: FLOAT64, np.int64: INT64}[dtype]
    assert_same(cuda.sum_axes(x, axes, code), cpu.sum_axes(x, axes, code))


def test_int64_sums_wrap_around():
    x = np.array([2**62, 2**62, 2**62], dtype=np.int64)
    assert_same(cuda.sum_axes(x, (0,), INT64), cpu.sum_axes(x, (0,), INT64))


@pytest.mark.parametrize("is_max", [True, False])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_extreme_dim_with_ties_and_nan(is_max, dim):
    x = np.round(_data((4, 5, 3))).astype(np.float64)   # many ties
    x[1, 2, 0] = x[3, 1, 2] = np.nan
    for got, want in zip(cuda.extreme_dim(x, dim, is_max), cpu.extreme_dim(x, dim, is_max)):
        assert_same(got, want)
    gy = _data(np.delete(np.array(x.shape), dim), np.float64)
    _, idx = cpu.extreme_dim(x, dim, is_max)
    assert_same(cuda.index_backward(gy, idx, x.shape, dim), cpu.index_backward(gy, idx, x.shape, dim))


@pytest.mark.parametrize("value", [3.0, np.nan])
def test_extreme_backward_shares_among_ties(value):
    x = np.array([1.0, 3.0, np.nan, 3.0, np.nan, 3.0], dtype=np.float32)
    assert_same(cuda.extreme_backward(x, value, 1.5), cpu.extreme_backward(x, value, 1.5))


@pytest.mark.parametrize("kind", range(4))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_family(kind, dtype, dim):
    x = _data((6, 7), dtype)
    x[2, 3] = 1000.0      # exp overflows without the shift
    x[4, :] = -np.inf if dim == 1 else x[4, :]
    if kind in (1, 3):    # backward from the forward's output
        x = cpu.softmax_family(kind - 1, x, None, dim)
    gy = _data((6, 7), dtype) if kind in (1, 3) else None
    with np.errstate(all="ignore"):
        assert_same(cuda.softmax_family(kind, x, gy, dim), cpu.softmax_family(kind, x, gy, dim))


@pytest.mark.parametrize("kind, params", [(0, [0.0]), (1, [0.0, 1.0, 5.0]), (2, [0.0]),
                                          (3, [2.0, 1.0, 0.0, 3.0, np.inf, -np.inf])])
@pytest.mark.parametrize("dims", [(0,), (1,), (0, 2)])
def test_math_reduce(kind, params, dims):
    x = _data((3, 4, 2), np.float64)
    if kind == 2:
        x[0, 0, 0] = np.inf
    for param in params:
        with np.errstate(all="ignore"):
            assert_same(cuda.math_reduce(kind, x, dims, FLOAT64, param),
                        cpu.math_reduce(kind, x, dims, FLOAT64, param), f"kind {kind} p={param}")


def test_int64_prod_wraps_around():
    x = np.array([[2**40, 2**40, 3], [-5, 7, 11]], dtype=np.int64)
    assert_same(cuda.math_reduce(0, x, (1,), INT64, 0.0), cpu.math_reduce(0, x, (1,), INT64, 0.0))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype, code", [(np.float32, FLOAT32), (np.int64, INT64)])
def test_cumsum(reverse, dtype, code):
    x = (_data((3, 5)) * 10).astype(dtype)
    for dim in (0, 1):
        assert_same(cuda.cumsum(x, dim, code, reverse), cpu.cumsum(x, dim, code, reverse))


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_prod_backward_with_zeros(dim):
    x = _data((4, 5), np.float64)
    x[1, 2] = x[3, 3] = x[3, 1] = 0.0
    gy = np.array(1.5) if dim < 0 else _data((5,) if dim == 0 else (4,), np.float64)
    assert_same(cuda.prod_backward(x, gy, dim), cpu.prod_backward(x, gy, dim))
    assert cuda.count_zeros(x) == cpu.count_zeros(x) == 5   # with _data's two zeros


@pytest.mark.parametrize("is_all", [True, False])
def test_bool_reduce(is_all):
    t = RNG.random((3, 4, 5)) > 0.3
    for dims in [(0,), (1, 2), (0, 2)]:
        assert_same(cuda.bool_reduce(t, dims, is_all), cpu.bool_reduce(t, dims, is_all))


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_sort_is_stable_with_nan_greatest(descending, dtype):
    x = np.round(_data((3, 9, 2), special=False)).astype(dtype)   # ties
    if dtype == np.float64:
        x[0, 2, 1] = x[2, 5, 0] = x[2, 7, 0] = np.nan
    for k in (9, 4):
        got, want = cuda.sort_dim(x, 1, k, descending), cpu.sort_dim(x, 1, k, descending)
        assert_same(got[0], want[0])
        assert_same(got[1], want[1])
    gy = _data((3, 4, 2), np.float64)
    assert_same(cuda.select_backward(gy, want[1], x.shape, 1), cpu.select_backward(gy, want[1], x.shape, 1))


def test_unique_sorted():
    values = np.array([-1.0, 0.0, 0.0, 2.0, 2.0, 2.0, 5.0, np.nan, np.nan])
    order = RNG.permutation(values.size).astype(np.int64)
    for got, want in zip(cuda.unique_sorted(values, order, True, True),
                         cpu.unique_sorted(values, order, True, True)):
        assert_same(got, want)


# ---- gathers and scatters ----

@pytest.mark.parametrize("per_element", [False, True])
def test_gather_and_scatter_along(per_element):
    outer, r, inner, n = 3, 5, 4, 6
    src = _data((outer, r, inner), np.float64)
    idx = RNG.integers(0, r, size=(outer, n, inner) if per_element else (n,)).astype(np.int64)
    assert_same(cuda.gather_along(src, outer, r, inner, idx, n, per_element, (outer, n, inner)),
                cpu.gather_along(src, outer, r, inner, idx, n, per_element, (outer, n, inner)))
    values = _data((outer, n, inner), np.float64)
    want, got = np.zeros((outer, r, inner)), np.zeros((outer, r, inner))
    cpu.scatter_along(want, outer, r, inner, idx, n, per_element, values, True)
    cuda.scatter_along(got, outer, r, inner, idx, n, per_element, values, True)
    assert_same(got, want)   # duplicates add up
    distinct = np.stack([RNG.permutation(r)[:n - 2] for _ in range(outer * inner)]).reshape(
        outer, inner, n - 2).transpose(0, 2, 1).copy() if per_element else RNG.permutation(r)[:n - 2]
    distinct = distinct.astype(np.int64)
    values = values[:, :n - 2, :].copy()
    want, got = np.zeros((outer, r, inner)), np.zeros((outer, r, inner))
    cpu.scatter_along(want, outer, r, inner, distinct, n - 2, per_element, values, False)
    cuda.scatter_along(got, outer, r, inner, distinct, n - 2, per_element, values, False)
    assert_same(got, want)


# ---- losses ----

@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_class_losses(from_logits, weighted, eps, dtype):
    n, c = 7, 5
    rows = _data((n, c), dtype, special=False)
    rows[0, 1] = 1000.0
    target = RNG.integers(0, c, n).astype(np.int64)
    target[3] = -100    # ignored
    weight = RNG.random(c).astype(dtype) if weighted else None
    if not from_logits:
        eps = 0.0
    want = cpu.class_loss_forward(from_logits, rows, target, weight, -100, eps)
    got = cuda.class_loss_forward(from_logits, rows, target, weight, -100, eps)
    # The CPU's float32 exp is cygrad's vectorized one (within 1 ulp of the host's expf): the
    # log-probabilities x - max - log_sum may then differ by an ulp of the row's spread.
    spread = np.abs(rows - rows.max(axis=1, keepdims=True)).max()
    atol = 2 * np.finfo(dtype).eps * spread if dtype == np.float32 else 0.0
    for a, b in zip(got, want):
        if b is None:
            assert a is None
        else:
            assert_same(a, b, atol=atol)
    row_grad = _data((n,), dtype, special=False)
    assert_same(cuda.class_loss_backward(from_logits, want[2], target, weight, row_grad, c, -100, eps),
                cpu.class_loss_backward(from_logits, want[2], target, weight, row_grad, c, -100, eps))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_probability_cross_entropy(weighted, eps):
    n, c = 6, 4
    rows = _data((n, c), np.float64, special=False)
    target = RNG.random((n, c))
    target /= target.sum(1, keepdims=True)
    weight = RNG.random(c) if weighted else None
    want = cpu.prob_cross_entropy_forward(rows, target, weight, eps)
    for a, b in zip(cuda.prob_cross_entropy_forward(rows, target, weight, eps), want):
        assert_same(a, b)
    row_grad = _data((n,), np.float64, special=False)
    assert_same(cuda.prob_cross_entropy_backward(want[0], target, weight, row_grad, eps),
                cpu.prob_cross_entropy_backward(want[0], target, weight, row_grad, eps))


@pytest.mark.parametrize("kind", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pointwise_losses(kind, dtype):
    shape = (4, 6)
    x = RNG.uniform(0.01, 0.99, shape).astype(dtype) if kind == 0 else _data(shape, dtype)
    x.reshape(-1)[5] = 0.0 if kind == 0 else x.reshape(-1)[5]
    y = RNG.random(shape).astype(dtype)
    for w, pw in [(None, None), (RNG.random(shape).astype(dtype), None),
                  (None, RNG.random(shape).astype(dtype) * 3)]:
        if kind != 1 and pw is not None:
            continue
        for beta in ([1.0, 0.5] if kind == 2 else [0.0]):
            with np.errstate(all="ignore"):
                assert_same(cuda.pointwise_loss_forward(kind, x, y, w, pw, beta),
                            cpu.pointwise_loss_forward(kind, x, y, w, pw, beta))
                g = _data((x.size,), dtype, special=False)
                assert_same(cuda.pointwise_loss_backward(kind, x, y, w, pw, g, beta),
                            cpu.pointwise_loss_backward(kind, x, y, w, pw, g, beta))


# ---- optimizer updates: a few steps of each, every option ----

def _run_steps(backend, name, arrays, args, steps=3):
    arrays = [None if a is None else a.copy() for a in arrays]
    for step in range(1, steps + 1):
        call_args = [step if a == "STEP" else (step == 1 if a == "FIRST" else a) for a in args]
        getattr(backend, name)(*arrays, *call_args)
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_updates(dtype):
    n = 257
    p, g = _data((n,), dtype, special=False), _data((n,), dtype, special=False)
    s = np.abs(_data((n,), dtype, special=False))
    cases = [
        ("sgd_step", [p, g, None], [0.1, 0.0, 0.0, 0.0, False, False, "FIRST"]),
        ("sgd_step", [p, g, s], [0.1, 0.9, 0.1, 0.01, True, True, "FIRST"]),
        ("sgd_step", [p, g, s], [0.1, 0.9, 0.0, 0.0, False, False, "FIRST"]),
        ("adam_step", [p, g, s * 0.1, s, None], [1e-3, 0.9, 0.999, 1e-8, 0.01, "STEP", False, False]),
        ("adam_step", [p, g, s * 0.1, s, s * 2], [1e-3, 0.9, 0.999, 1e-8, 0.01, "STEP", True, True]),
        ("adam_step", [p, g, s * 0.1, s, None], [1e-3, 0.2, 0.999, 1e-8, 0.0, "STEP", False, False]),
        ("rmsprop_step", [p, g, s, None, None], [1e-2, 0.99, 1e-8, 0.0, 0.0, False]),
        ("rmsprop_step", [p, g, s, s * 0.1, None], [1e-2, 0.99, 1e-8, 0.1, 0.0, True]),
        ("rmsprop_step", [p, g, s, None, s * 0.5], [1e-2, 0.3, 1e-8, 0.0, 0.9, False]),
        ("rmsprop_step", [p, g, s, s * 0.1, s * 0.5], [1e-2, 0.99, 1e-8, 0.0, 0.9, False]),
        ("adagrad_step", [p, g, s], [1e-2, 0.01, 0.1, 1e-10, "STEP", False]),
        ("adagrad_step", [p, g, s], [1e-2, 0.0, 0.0, 1e-10, "STEP", True]),
    ]
    for name, arrays, args in cases:
        for got, want in zip(_run_steps(cuda, name, arrays, args), _run_steps(cpu, name, arrays, args)):
            if want is not None:
                assert_same(got, want, f"{name} {args}")


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, np.inf, -np.inf])
def test_vector_norm(p):
    x = _data((1000,), np.float32)
    assert cuda.vector_norm(x, p) == pytest.approx(cpu.vector_norm(x, p), rel=1e-12)


# ---- matrix products ----

def test_matmul_and_linear():
    a, b = _data((2, 3, 4), np.float64, special=False), _data((4, 5), np.float64, special=False)
    np.testing.assert_allclose(cuda.matmul(a, b, (2, 3, 5), FLOAT64), cpu.matmul(a, b, (2, 3, 5), FLOAT64),
                               rtol=1e-12)
    x, w, bias = _data((6, 4), np.float64), _data((3, 4), np.float64), _data((3,), np.float64)
    np.testing.assert_allclose(cuda.linear_forward(x, w, bias, FLOAT64),
                               cpu.linear_forward(x, w, bias, FLOAT64), rtol=1e-12)
    np.testing.assert_allclose(cuda.linear_forward(x, w, None, FLOAT64),
                               cpu.linear_forward(x, w, None, FLOAT64), rtol=1e-12)
