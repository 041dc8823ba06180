"""Every SIMD path of the C kernels, forced once each, against numpy float64 references.

A path the CPU lacks is skipped (set_simd_path raises RuntimeError for it). Sizes are chosen to
hit vector bodies and scalar tails (1, 7, 8, 9, 17, 33, 1031, ...), broadcasting, python scalars
and strided operands, forward and backward.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import cygrad
from cygrad import _core
from conftest import SIMD_PATHS as PATHS
from helpers import to_numpy

DTYPES = ["float32", "float64"]


def tol(dtype):
    return (2e-6, 1e-6) if dtype == "float32" else (1e-14, 1e-14)


def cy(a, dtype, requires_grad=False):
    return cygrad.tensor(np.asarray(a, dtype=np.float64), dtype=getattr(cygrad, dtype), requires_grad=requires_grad)


SIZES = [1, 7, 8, 9, 16, 17, 33, 64, 1031]


# ---------------------------------------------------------------------------------------------
# path selection API
# ---------------------------------------------------------------------------------------------


def test_simd_path_api():
    best = _core.best_simd_path()
    assert best in PATHS
    assert _core.simd_path() in PATHS
    original = _core.simd_path()
    try:
        _core.set_simd_path("scalar")  # the portable path is always present
        assert _core.simd_path() == "scalar"
        _core.set_simd_path(best)
        assert _core.simd_path() == best
        for unsupported in PATHS[PATHS.index(best) + 1:]:
            with pytest.raises(RuntimeError):
                _core.set_simd_path(unsupported)
            assert _core.simd_path() == best
        with pytest.raises(ValueError):
            _core.set_simd_path("sse9")
    finally:
        _core.set_simd_path(original)


def _run_with_env(value, code="import cygrad; print(cygrad._core.simd_path())"):
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.abspath(cygrad.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in [src, env.get("PYTHONPATH")] if p)
    env["CYGRAD_SIMD"] = value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_environment_variable_forces_scalar_path():
    result = _run_with_env("scalar")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scalar"


def test_environment_variable_forces_best_path_and_computes():
    best = _core.best_simd_path()
    code = ("import cygrad; x = cygrad.arange(10.0); "
            "print(cygrad._core.simd_path(), (x * x).sum().item())")
    result = _run_with_env(best.upper(), code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [best, "285.0"]


# ---------------------------------------------------------------------------------------------
# elementwise binary: + - * / are correctly rounded in IEEE arithmetic, so every path must give
# numpy's result in the same dtype bit for bit
# ---------------------------------------------------------------------------------------------

BINARY_SHAPES = [((n,), (n,)) for n in SIZES] + [
    ((37, 1), (1, 45)),
    ((45,), (3, 37, 45)),
    ((3, 1, 17), (5, 1)),
    ((), (33,)),
    ((0, 9), (9,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_broadcast_exact(simd_path, dtype):
    rng = np.random.default_rng(11)
    for sa, sb in BINARY_SHAPES:
        a = rng.uniform(-3, 3, sa).astype(dtype)
        b = rng.uniform(0.5, 3, sb).astype(dtype)
        x, y = cygrad.tensor(a), cygrad.tensor(b)
        for got, want in [(x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b), (y - x, b - a)]:
            np.testing.assert_array_equal(to_numpy(got), want, err_msg=f"{sa} {sb}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_python_scalar_exact(simd_path, dtype):
    rng = np.random.default_rng(12)
    for n in SIZES:
        a = rng.uniform(0.5, 3, n).astype(dtype)
        x = cygrad.tensor(a)
        s = np.asarray(2.5, dtype=dtype)
        for got, want in [(x + 2.5, a + s), (2.5 - x, s - a), (x * 2.5, a * s), (x / 2.5, a / s),
                          (2.5 / x, s / a), (x * x, a * a)]:
            np.testing.assert_array_equal(to_numpy(got), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_strided_exact(simd_path, dtype):
    rng = np.random.default_rng(13)
    a = rng.uniform(-3, 3, (33, 51)).astype(dtype)
    b = rng.uniform(0.5, 3, (17, 33)).astype(dtype)
    x, y = cygrad.tensor(a), cygrad.tensor(b)
    np.testing.assert_array_equal(to_numpy(x[:, ::3] * y.t()), a[:, ::3] * b.T)
    np.testing.assert_array_equal(to_numpy(x[::2, 1::3] / y.t()[::2]), a[::2, 1::3] / b.T[::2])
    np.testing.assert_array_equal(to_numpy(x.t() - x.t()[:, :1]), a.T - a.T[:, :1])


def test_int64_binary_exact(simd_path):
    a = np.arange(-20, 13, dtype=np.int64)
    b = np.arange(1, 34, dtype=np.int64)[::-1].copy()
    x, y = cygrad.tensor(a), cygrad.tensor(b)
    for got, want in [(x + y, a + b), (x - y, a - b), (x * y, a * b), (x * 3, a * 3)]:
        np.testing.assert_array_equal(to_numpy(got), want)


# ---------------------------------------------------------------------------------------------
# unary forward and backward
# ---------------------------------------------------------------------------------------------


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _erf(a):
    return np.frompyfunc(math.erf, 1, 1)(a).astype(np.float64)


UNARY = {
    # name: (domain, forward, derivative)
    "exp": ((-5, 5), np.exp, np.exp),
    "log": ((0.05, 20), np.log, lambda a: 1 / a),
    "sqrt": ((0.05, 20), np.sqrt, lambda a: 0.5 / np.sqrt(a)),
    "tanh": ((-5, 5), np.tanh, lambda a: 1 - np.tanh(a) ** 2),
    "sigmoid": ((-8, 8), _sigmoid, lambda a: _sigmoid(a) * (1 - _sigmoid(a))),
    "erf": ((-4.5, 4.5), _erf, lambda a: 2 / math.sqrt(math.pi) * np.exp(-a * a)),
    "relu": ((-3, 3), lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(np.float64)),
    "sin": ((-4, 4), np.sin, np.cos),
    "cos": ((-4, 4), np.cos, lambda a: -np.sin(a)),
    "abs": ((-3, 3), np.abs, np.sign),
    "neg": ((-3, 3), np.negative, lambda a: -np.ones_like(a)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_backward(simd_path, name, dtype):
    (lo, hi), forward, derivative = UNARY[name]
    rng = np.random.default_rng(14)
    rtol, atol = tol(dtype)
    for n in SIZES:
        a = rng.uniform(lo, hi, n).astype(dtype).astype(np.float64)
        g = rng.standard_normal(n).astype(dtype).astype(np.float64)
        x = cy(a, dtype, requires_grad=True)
        y = getattr(x, name)()
        y.backward(cy(g, dtype))
        scale = 1.0 if name != "exp" else np.abs(forward(a))
        np.testing.assert_allclose(to_numpy(y), forward(a), rtol=rtol, atol=atol * np.max(scale), err_msg=f"n={n}")
        np.testing.assert_allclose(to_numpy(x.grad), g * derivative(a), rtol=4 * rtol,
                                   atol=4 * atol * np.max(np.abs(g) * scale), err_msg=f"n={n} grad")


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_on_strided_input(simd_path, dtype):
    rng = np.random.default_rng(15)
    a = rng.uniform(0.1, 3, (19, 40))
    x = cy(a, dtype)
    rtol, atol = tol(dtype)
    for name in ("exp", "log", "tanh", "sigmoid", "relu"):
        _, forward, _ = UNARY[name]
        ref = forward(a.astype(dtype).astype(np.float64))
        np.testing.assert_allclose(to_numpy(getattr(x.t(), name)()), ref.T, rtol=rtol, atol=atol * 20)
        np.testing.assert_allclose(to_numpy(getattr(x[:, ::3], name)()), ref[:, ::3], rtol=rtol, atol=atol * 20)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_paths(simd_path, dtype):
    rng = np.random.default_rng(16)
    rtol, atol = tol(dtype)
    for n in SIZES:
        a = rng.uniform(0.5, 2, n).astype(dtype).astype(np.float64)
        b = rng.uniform(-2, 2, n).astype(dtype).astype(np.float64)
        for exponent in (2, 3, 0.5, -1, 2.5):
            x = cy(a, dtype, requires_grad=True)
            y = x ** exponent
            y.sum().backward()
            np.testing.assert_allclose(to_numpy(y), a ** exponent, rtol=2 * rtol, atol=atol)
            np.testing.assert_allclose(to_numpy(x.grad), exponent * a ** (exponent - 1), rtol=4 * rtol, atol=4 * atol)
        x, e = cy(a, dtype, True), cy(b, dtype, True)
        (x ** e).sum().backward()
        np.testing.assert_allclose(to_numpy(e.grad), a ** b * np.log(a), rtol=8 * rtol, atol=8 * atol)


# ---------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_mean_over_axes(simd_path, dtype):
    rng = np.random.default_rng(17)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for shape in [(1031,), (7, 33, 5), (17, 1, 9), (64, 64)]:
        a = rng.uniform(-1, 1, shape).astype(dtype).astype(np.float64)
        x = cy(a, dtype)
        dims = [None] + list(range(len(shape))) + ([(0, 2), (-1, 0)] if len(shape) == 3 else [])
        for dim in dims:
            for keepdim in (False, True):
                if dim is None:
                    got, want = x.sum(), a.sum()
                    got_m, want_m = x.mean(), a.mean()
                else:
                    got, want = x.sum(dim, keepdim=keepdim), a.sum(axis=dim, keepdims=keepdim)
                    got_m, want_m = x.mean(dim, keepdim=keepdim), a.mean(axis=dim, keepdims=keepdim)
                bound = np.sum(np.abs(a)) * rtol + 1e-30
                np.testing.assert_allclose(to_numpy(got), want, rtol=rtol, atol=bound, err_msg=f"{shape} {dim}")
                np.testing.assert_allclose(to_numpy(got_m), want_m, rtol=rtol, atol=bound, err_msg=f"{shape} {dim}")
        # a strided operand
        if a.ndim == 2:
            got, want = x.t().sum(0), a.T.sum(0)
        elif a.ndim == 3:
            got, want = x.permute(2, 0, 1).sum(1), a.transpose(2, 0, 1).sum(1)
        else:
            got, want = x[::3].sum(), a[::3].sum()
        np.testing.assert_allclose(to_numpy(got), want, rtol=rtol, atol=np.sum(np.abs(a)) * rtol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_gradient_is_summed_back(simd_path, dtype):
    rng = np.random.default_rng(18)
    a = rng.uniform(-1, 1, (37, 1, 9))
    b = rng.uniform(-1, 1, (33, 1))
    g = rng.standard_normal((37, 33, 9))
    x, y = cy(a, dtype, True), cy(b, dtype, True)
    (x * y).backward(cy(g, dtype))
    rtol = 1e-5 if dtype == "float32" else 1e-12
    want_x = (g * b).sum(axis=1, keepdims=True)
    want_y = (g * a).sum(axis=(0, 2))[:, None]
    np.testing.assert_allclose(to_numpy(x.grad), want_x, rtol=rtol, atol=rtol * np.abs(g).sum(axis=1).max())
    np.testing.assert_allclose(to_numpy(y.grad), want_y, rtol=rtol, atol=rtol * np.abs(g).sum(axis=(0, 2)).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_min(simd_path, dtype):
    rng = np.random.default_rng(19)
    a = rng.permutation(7 * 33 * 5).reshape(7, 33, 5).astype(dtype)
    x = cygrad.tensor(a)
    assert x.max().item() == a.max() and x.min().item() == a.min()
    for dim in (0, 1, 2):
        v, i = x.max(dim)
        np.testing.assert_array_equal(to_numpy(v), a.max(axis=dim))
        np.testing.assert_array_equal(to_numpy(i), a.argmax(axis=dim))
        v, i = x.min(dim)
        np.testing.assert_array_equal(to_numpy(v), a.min(axis=dim))
        np.testing.assert_array_equal(to_numpy(i), a.argmin(axis=dim))


# ---------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------


def _check_matmul(got, a, b, dtype):
    """|error| <= c * K * eps * (|A| @ |B|): the standard bound for a dot product of length K."""
    want = a @ b
    k = a.shape[-1]
    eps = np.finfo(dtype).eps
    bound = 2 * (k + 2) * eps * (np.abs(a) @ np.abs(b)) + np.finfo(dtype).tiny
    diff = np.abs(to_numpy(got).astype(np.float64) - want)
    assert got.shape == want.shape
    assert np.all(diff <= bound), f"max excess {np.max(diff - bound)}"


MATMUL_SHAPES = [
    ((1, 1), (1, 1), False, False),
    ((17, 33), (33, 5), False, False),
    ((130, 70), (70, 129), False, False),
    ((130, 70), (70, 129), True, False),
    ((130, 70), (70, 129), False, True),
    ((130, 70), (70, 129), True, True),
    ((65, 1), (1, 67), False, False),
    ((3, 257), (257, 2), True, True),
    ((4, 9, 17), (4, 17, 8), False, False),
    ((2, 1, 9, 17), (3, 17, 8), False, False),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa, sb, ta, tb", MATMUL_SHAPES, ids=[f"{s[0]}x{s[1]}{'T' if s[2] else ''}{'T' if s[3] else ''}" for s in MATMUL_SHAPES])
def test_matmul_forward_backward(simd_path, sa, sb, ta, tb, dtype):
    rng = np.random.default_rng(20)
    a = rng.uniform(-1, 1, sa).astype(dtype).astype(np.float64)
    b = rng.uniform(-1, 1, sb).astype(dtype).astype(np.float64)
    # transposed operands: the leaf holds the transpose, the op sees a non-contiguous view
    la = np.ascontiguousarray(np.swapaxes(a, -1, -2)) if ta else a
    lb = np.ascontiguousarray(np.swapaxes(b, -1, -2)) if tb else b
    x, y = cy(la, dtype, True), cy(lb, dtype, True)
    xa = x.transpose(-1, -2) if ta else x
    yb = y.transpose(-1, -2) if tb else y
    out = xa @ yb
    _check_matmul(out, a, b, dtype)
    g = rng.standard_normal(out.shape).astype(dtype).astype(np.float64)
    out.backward(cy(g, dtype))
    ga = g @ np.swapaxes(b, -1, -2)
    gb = np.swapaxes(a, -1, -2) @ g
    # reduce broadcast batch dims back to the operands' shapes
    while ga.ndim > a.ndim:
        ga = ga.sum(0)
    while gb.ndim > b.ndim:
        gb = gb.sum(0)
    for axis, n in enumerate(a.shape[:-2]):
        if n == 1:
            ga = ga.sum(axis, keepdims=True)
    for axis, n in enumerate(b.shape[:-2]):
        if n == 1:
            gb = gb.sum(axis, keepdims=True)
    gx = to_numpy(x.grad)
    gy = to_numpy(y.grad)
    if ta:
        gx = np.swapaxes(gx, -1, -2)
    if tb:
        gy = np.swapaxes(gy, -1, -2)
    rtol = 1e-4 if dtype == "float32" else 1e-11
    scale_a = np.max(np.abs(g)) * b.shape[-1] * (np.prod(out.shape[:-2]) or 1)
    scale_b = np.max(np.abs(g)) * a.shape[-2] * (np.prod(out.shape[:-2]) or 1)
    np.testing.assert_allclose(gx, ga, rtol=rtol, atol=rtol * scale_a)
    np.testing.assert_allclose(gy, gb, rtol=rtol, atol=rtol * scale_b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_and_dot(simd_path, dtype):
    rng = np.random.default_rng(21)
    a = rng.uniform(-1, 1, (33, 70)).astype(dtype).astype(np.float64)
    v = rng.uniform(-1, 1, 70).astype(dtype).astype(np.float64)
    _check_matmul(cy(a, dtype) @ cy(v, dtype), a, v, dtype)
    _check_matmul(cy(v, dtype) @ cy(a.T.copy(), dtype), v, a.T, dtype)
    _check_matmul(cy(v, dtype) @ cy(v, dtype), v, v, dtype)


# ---------------------------------------------------------------------------------------------
# softmax / log_softmax
# ---------------------------------------------------------------------------------------------


def _np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_forward_backward(simd_path, dtype):
    rng = np.random.default_rng(22)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for shape, dim in [((7, 1031), 1), ((33, 17), 0), ((3, 9, 8), 1), ((1,), 0), ((5, 16), -1)]:
        a = (rng.uniform(-10, 10, shape)).astype(dtype).astype(np.float64)
        g = rng.standard_normal(shape).astype(dtype).astype(np.float64)
        s = _np_softmax(a, dim)
        for op in ("softmax", "log_softmax"):
            x = cy(a, dtype, True)
            y = getattr(x, op)(dim)
            y.backward(cy(g, dtype))
            if op == "softmax":
                want = s
                want_grad = s * (g - (g * s).sum(axis=dim, keepdims=True))
            else:
                want = np.log(s)
                want_grad = g - s * g.sum(axis=dim, keepdims=True)
            scale = np.abs(want).max()
            np.testing.assert_allclose(to_numpy(y), want, rtol=rtol, atol=rtol * scale, err_msg=f"{op} {shape}")
            gscale = np.abs(g).sum(axis=dim).max()
            np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=rtol, atol=rtol * gscale,
                                       err_msg=f"{op} grad {shape}")


def test_paths_agree_on_elementwise_bits(simd_path):
    """Elementwise float kernels are documented as bitwise identical across paths (no FMA
    contraction): compare this path with the scalar path on the same inputs."""
    rng = np.random.default_rng(23)
    a = rng.uniform(-3, 3, 1031)
    programs = [lambda x: x.exp(), lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: (x * 1.5 + 2) / 3,
                lambda x: x.abs().sqrt(), lambda x: x.relu() ** 3, lambda x: x.erf(),
                lambda x: cygrad.nn.functional.gelu(x)]
    for dtype in DTYPES:
        here = [to_numpy(p(cy(a, dtype))) for p in programs]
        current = _core.simd_path()
        _core.set_simd_path("scalar")
        try:
            scalar = [to_numpy(p(cy(a, dtype))) for p in programs]
        finally:
            _core.set_simd_path(current)
        for k, (h, s) in enumerate(zip(here, scalar)):
            np.testing.assert_array_equal(h, s, err_msg=f"program {k} {dtype}")
