"""Accuracy of the vectorized float32 exp, log, tanh, sigmoid and erf (csrc/vecmath.h), on every SIMD path.

Inputs: every K-th float32 bit pattern (both signs, subnormals, infinities and NaNs included) plus
every float of the regions where the functions are hardest: overflow and underflow thresholds,
the subnormal boundary, the switches between tanh's and erf's two formulas, saturation to +-1, log
near 1. Reference: numpy's float64 function of the same input (math.erf for erf, which numpy
lacks). The error is measured in float32 ulps at the reference's magnitude (the float32 spacing
there, 2^-149 among the subnormals), so a correctly rounded result is within 0.5; a reference that
rounds to +-inf in float32 must give exactly that.
"""
import functools
import math

import numpy as np
import pytest

import cygrad
from cygrad import _core

PATHS = ["scalar", "avx2", "avx512"]
FLT_MAX = float(np.finfo(np.float32).max)
MAX_ULP = {"exp": 2.0, "log": 2.0, "tanh": 2.0, "sigmoid": 4.0, "erf": 2.0}


def _sigmoid64(x):
    return 1 / (1 + np.exp(-x))


def _erf64(x):
    """math.erf of each element."""
    return np.frompyfunc(math.erf, 1, 1)(x).astype(np.float64)


REFERENCES = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sigmoid": _sigmoid64, "erf": _erf64}


def float_range(lo, hi, step=1):
    """Every step-th float32 from lo to hi (same sign, |lo| <= |hi|), by bit pattern."""
    a, b = (np.array([lo, hi], dtype=np.float32).view(np.uint32)).astype(np.int64)
    return np.arange(a, b + 1, step, dtype=np.int64).astype(np.uint32).view(np.float32)


def both_signs(x):
    return np.concatenate([x, -x])


SPECIALS = np.concatenate([
    np.array([0.0, -0.0, np.inf, -np.inf, np.nan, FLT_MAX, -FLT_MAX, 1.0, -1.0], dtype=np.float32),
    # NaNs with payloads and either sign, quiet and signaling
    np.array([0x7FC00001, 0xFFC12345, 0x7F800001, 0xFFBFFFFF, 0x7FFFFFFF], dtype=np.uint32).view(np.float32),
    both_signs(np.array([1e-45, 1.1754942e-38, 1.1754944e-38], dtype=np.float32)),  # subnormal edges
])

# every float of the regions where each function is hardest
HARD = {
    "exp": [float_range(88.70, 88.76), both_signs(float_range(103.9, 104.0)), float_range(-87.5, -87.2),
            float_range(-0.36, -0.33), float_range(0.33, 0.36)],
    "log": [float_range(0.99, 1.01), float_range(0.70, 0.715), float_range(1.4, 1.42),
            float_range(0.0, 1.2e-38, 61), float_range(3.0e38, FLT_MAX, 7)],
    "tanh": [both_signs(float_range(0.6, 0.65, 2)), both_signs(float_range(8.9, 9.2)),
             both_signs(float_range(0.0, 1e-3, 4999))],
    "sigmoid": [both_signs(float_range(87.0, 104.5, 7)), both_signs(float_range(15.0, 18.0, 7)),
                float_range(-0.01, 0.01, 3)],
    # the switch at |x| = 1, where the error peaks just below it; erf rounding to +-1 (erfc(x) = 2^-25
    # at 3.9192) and the clamp at 4; tiny and subnormal x, where erf(x) = 2/sqrt(pi) x
    "erf": [both_signs(float_range(0.97, 1.03, 3)), both_signs(float_range(3.85, 4.05, 7)),
            both_signs(float_range(0.0, 1.2e-38, 61)), both_signs(float_range(1e-8, 1e-3, 997))],
}

SAMPLE_STEP = 1009  # 4.26 million bit patterns


@functools.lru_cache(maxsize=None)
def inputs(name):
    every_kth = np.arange(0, 2 ** 32, SAMPLE_STEP, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([every_kth, SPECIALS, *HARD[name]])


@functools.lru_cache(maxsize=None)
def reference(name):
    with np.errstate(all="ignore"):
        return REFERENCES[name](inputs(name).astype(np.float64))


def ulp_errors(got, ref):
    """|got - ref| in float32 ulps at ref's magnitude (inf where got is wrong beyond measure)."""
    # |ref| in [2^e, 2^(e+1)) has float32 spacing 2^(e-23); e is read from the float64's bits
    e = ((ref.view(np.uint64) >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 1023
    ulp = ((np.maximum(e - 23, -149) + 1023) << 52).view(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # signaling NaNs, infinities
        err = np.abs(got.astype(np.float64) - ref) / ulp
        ref32 = ref.astype(np.float32)
    # where the reference rounds to +-inf, only that inf is right
    overflow = np.isinf(ref32)
    err[overflow] = np.where(got[overflow] == ref32[overflow], 0.0, np.inf)
    err[np.isinf(got) & ~overflow] = np.inf
    nan = np.isnan(ref)
    err[nan] = np.where(np.isnan(got[nan]), 0.0, np.inf)
    err[~nan & np.isnan(got)] = np.inf
    return err



def apply(name, x):
    return getattr(cygrad, name)(cygrad.from_numpy(x)).numpy()


@pytest.mark.parametrize("name", sorted(MAX_ULP))
def test_ulp_error_over_the_float32_range(name, simd_path):
    x = inputs(name)
    got = apply(name, x)
    assert got.dtype == np.float32
    ref = reference(name)
    err = ulp_errors(got, ref)
    worst = int(np.argmax(err))
    assert err[worst] <= MAX_ULP[name], (
        f"{name}({x[worst]!r} = {x[worst:worst + 1].view(np.uint32)[0]:#010x}) = {got[worst]!r}, "
        f"reference {ref[worst]!r}: {err[worst]:.3f} ulp on the {simd_path} path")


EXACT = {
    "exp": [(-np.inf, 0.0), (np.inf, np.inf), (0.0, 1.0), (-0.0, 1.0), (-1000.0, 0.0), (1000.0, np.inf),
            (np.nan, np.nan)],
    "log": [(0.0, -np.inf), (-0.0, -np.inf), (-1.0, np.nan), (-np.inf, np.nan), (np.inf, np.inf), (1.0, 0.0),
            (np.nan, np.nan)],
    "tanh": [(np.inf, 1.0), (-np.inf, -1.0), (0.0, 0.0), (-0.0, -0.0), (20.0, 1.0), (-20.0, -1.0),
             (np.nan, np.nan)],
    "sigmoid": [(np.inf, 1.0), (-np.inf, 0.0), (0.0, 0.5), (-0.0, 0.5), (200.0, 1.0), (-200.0, 0.0),
                (np.nan, np.nan)],
    # erf(2^-149) = 1.13 2^-149 rounds to 2^-149; from 3.92 on, erf rounds to 1
    "erf": [(np.inf, 1.0), (-np.inf, -1.0), (0.0, 0.0), (-0.0, -0.0), (1e-45, 1e-45), (-1e-45, -1e-45),
            (4.0, 1.0), (-4.0, -1.0), (1e30, 1.0), (-1e30, -1.0), (np.nan, np.nan)],
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_special_values(name, simd_path):
    x, want = (np.array(v, dtype=np.float32) for v in zip(*EXACT[name]))
    # padded so the values go through the vector loop, not only its scalar tail
    got = apply(name, np.tile(x, 8))[: len(x)]
    for xi, gi, wi in zip(x, got, want):
        if np.isnan(wi):
            assert np.isnan(gi), f"{name}({xi}) = {gi}, expected NaN"
        else:
            assert gi == wi and np.signbit(gi) == np.signbit(wi), f"{name}({xi}) = {gi!r}, expected {wi!r}"
    # NaN propagates whatever its payload or sign
    nans = SPECIALS[np.isnan(SPECIALS)]
    assert np.isnan(apply(name, np.tile(nans, 8))).all()


def _available_paths():
    original = _core.simd_path()
    paths = []
    for path in PATHS:
        try:
            _core.set_simd_path(path)
            paths.append(path)
        except RuntimeError:
            pass
    _core.set_simd_path(original)
    return paths


def _on_each_path(compute):
    """{path: compute()} for every SIMD path this CPU has."""
    original = _core.simd_path()
    results = {}
    try:
        for path in _available_paths():
            _core.set_simd_path(path)
            results[path] = compute()
    finally:
        _core.set_simd_path(original)
    return results


def _assert_same_bits(results):
    paths = list(results)
    for path in paths[1:]:
        for a, b in zip(results[paths[0]], results[path]):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), f"{paths[0]} and {path} differ"


@pytest.mark.parametrize("name", sorted(MAX_ULP))
def test_simd_paths_agree_bitwise(name):
    x = inputs(name)
    _assert_same_bits(_on_each_path(lambda: [apply(name, x)]))


def _float32_leaf(a):
    return cygrad.tensor(a, dtype=cygrad.float32, requires_grad=True)


DERIVED = {
    "gelu": lambda x: cygrad.nn.functional.gelu(x),
    "silu": lambda x: cygrad.nn.functional.silu(x),
    "gelu_tanh": lambda x: cygrad.nn.functional.gelu(x, approximate="tanh"),
    "softplus": lambda x: cygrad.nn.functional.softplus(x, beta=1.5, threshold=10.0),
    "elu": lambda x: cygrad.nn.functional.elu(x, 0.7),
    "expm1": lambda x: cygrad.expm1(x),
    "log1p": lambda x: cygrad.log1p(x.abs()),
    "softmax": lambda x: cygrad.softmax(x.reshape(-1, 517), 1),
    "log_softmax": lambda x: cygrad.log_softmax(x.reshape(-1, 517), 1),
    "logsumexp": lambda x: x.reshape(-1, 517).logsumexp(1),
    "cross_entropy": lambda x: cygrad.nn.functional.cross_entropy(
        x.reshape(-1, 517), cygrad.tensor(np.arange(8) * 61 % 517)),
}


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_derived_kernels_agree_bitwise(name):
    """The activations, softmax family, logsumexp and cross-entropy built on vecmath: forward and
    gradient bits are the same on every SIMD path."""
    a = np.random.default_rng(5).standard_normal(8 * 517).astype(np.float32) * 6

    def compute():
        x = _float32_leaf(a)
        y = DERIVED[name](x)
        y.backward(cygrad.ones_like(y))
        return [y.detach().numpy().ravel(), x.grad.numpy().ravel()]

    _assert_same_bits(_on_each_path(compute))


# Exact gelu in float32 (built on erf and exp) against float64, on 2M points of [-10, 10] and a few
# beyond. The float32 formula's own error, with erf within 2 ulp: x Phi(x) is off by at most
# ~2 2^-24 |x| (erf of a rounded x / sqrt(2), its 2 ulp, 1 + erf rounded) plus its last rounding;
# Phi(x) + x phi(x) by ~3 2^-24 (that, exp of a rounded x^2 / 2, the sum rounded). The bounds are
# twice those, plus the spacing of the subnormals, where x / 2 rounds away most of the value.
GELU_INPUTS = np.concatenate([np.linspace(-10, 10, 2_000_001, dtype=np.float32),
                              both_signs(np.array([1e-45, 1e-30, 20.0, 1e4, FLT_MAX], dtype=np.float32))])


def _gelu_bounds(x, forward):
    """The largest errors allowed for gelu (forward) and its derivative at x."""
    return 2.0 ** -24 * 4 * (np.abs(x) + np.abs(forward)) + 2.0 ** -149, 2.0 ** -24 * 6


@functools.lru_cache(maxsize=None)
def _gelu64():
    """gelu x Phi(x) and its derivative Phi(x) + x phi(x), in float64, Phi by math.erf."""
    x = GELU_INPUTS.astype(np.float64)
    cdf = 0.5 * (1 + _erf64(x / math.sqrt(2)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


def _gelu_forward_backward(lib):
    x = lib.tensor(GELU_INPUTS, requires_grad=True)
    y = lib.nn.functional.gelu(x)
    y.backward(lib.ones_like(y))
    return y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)


def test_gelu_forward_backward_against_float64(simd_path):
    forward, gradient = _gelu_forward_backward(cygrad)
    want_forward, want_gradient = _gelu64()
    forward_bound, gradient_bound = _gelu_bounds(GELU_INPUTS.astype(np.float64), want_forward)
    assert np.all(np.abs(forward - want_forward) <= forward_bound), simd_path
    assert np.all(np.abs(gradient - want_gradient) <= gradient_bound), simd_path


def test_gelu_forward_backward_against_torch(torch):
    """Both within the bounds of the float64 values: within the two bounds' sum of each other."""
    forward, gradient = _gelu_forward_backward(cygrad)
    torch_forward, torch_gradient = _gelu_forward_backward(torch)
    forward_bound, gradient_bound = _gelu_bounds(GELU_INPUTS.astype(np.float64), torch_forward)
    assert np.all(np.abs(forward - torch_forward) <= 2 * forward_bound)
    assert np.all(np.abs(gradient - torch_gradient) <= 2 * gradient_bound)
