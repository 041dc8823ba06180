"""Comparisons, logic and selection: == != < <= > >=, eq..ge, isnan/isinf/isfinite, logical_*,
& | ^ ~, any/all, argmax/argmin, sort/argsort/topk, unique, isclose/allclose/equal, and max/min
tie-breaking.

Oracles: torch (values, dtypes, shapes, indices, gradients, error types and wording) and numpy
(forward values, so these also run without torch). The differentiable ones (sort and topk values)
are in the op table of test_ops.py as well.
"""
import operator

import numpy as np
import pytest

import cygrad
from helpers import dtype_name, to_numpy

NAN, INF = float("nan"), float("inf")
ALL_DTYPES = ["float32", "float64", "int64", "int32", "bool"]


def both(T, array, dtype, requires_grad=False):
    """A tensor of `array` (cast to dtype) in library T (cygrad or torch)."""
    t = T.tensor(np.asarray(array).astype(dtype), dtype=getattr(T, dtype))
    return t.requires_grad_(True) if requires_grad else t


def assert_same(ours, theirs, what=""):
    """Same dtype, shape and values (NaN where torch has NaN); exact for every dtype."""
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), f"{what}: dtype {ours.dtype} vs {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
    np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs), err_msg=what)


def run_both(torch, fn, arrays, dtypes):
    """fn(T, *tensors) with cygrad and with torch, on the same inputs."""
    if isinstance(dtypes, str):
        dtypes = [dtypes] * len(arrays)
    ours = fn(cygrad, *[both(cygrad, a, d) for a, d in zip(arrays, dtypes)])
    theirs = fn(torch, *[both(torch, a, d) for a, d in zip(arrays, dtypes)])
    return ours, theirs


def sample(rng, shape, dtype, specials=True):
    """Random values with many ties; for floats also NaN, inf, -inf, -0.0 when specials is set."""
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    values = rng.integers(-3, 4, size=shape).astype(np.float64)
    if dtype.startswith("float"):
        values = values * 0.5
        if specials and values.size >= 4:
            flat = values.reshape(-1)
            picks = rng.choice(flat.size, size=min(4, flat.size), replace=False)
            flat[picks] = [NAN, INF, -INF, -0.0][: len(picks)]
    return values.astype(dtype)


# ---------------------------------------------------------------------------------------------
# comparisons
# ---------------------------------------------------------------------------------------------

COMPARISONS = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
    "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparison_operators_functions_methods(name, dtype, torch):
    rng = np.random.default_rng(1)
    a, b = sample(rng, (3, 4), dtype), sample(rng, (3, 4), dtype)
    b[0] = a[0]  # plenty of equal elements
    op = COMPARISONS[name]
    forms = [
        ("operator", lambda T, x, y: op(x, y)),
        ("function", lambda T, x, y: getattr(T, name)(x, y)),
        ("method", lambda T, x, y: getattr(x, name)(y)),
    ]
    for form, fn in forms:
        ours, theirs = run_both(torch, fn, [a, b], dtype)
        assert_same(ours, theirs, f"{name} {form} {dtype}")
        assert not ours.requires_grad


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_against_numpy(name):
    rng = np.random.default_rng(2)
    a = rng.integers(-2, 3, size=(4, 1, 3)).astype(np.float64)
    b = rng.integers(-2, 3, size=(5, 1)).astype(np.float64)
    op = COMPARISONS[name]
    for dtype in ["float32", "float64", "int64"]:
        a_, b_ = a.astype(dtype), b.astype(dtype)
        if dtype != "int64":
            a_[0, 0, 0] = NAN
        x, y = cygrad.tensor(a_), cygrad.tensor(b_)
        got = op(x, y)
        assert got.dtype is cygrad.bool
        np.testing.assert_array_equal(to_numpy(got), op(a_, b_))
        np.testing.assert_array_equal(to_numpy(op(x, 1)), op(a_, 1))
        np.testing.assert_array_equal(to_numpy(op(1, x)), op(1, a_))


BROADCASTS = [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((2, 1, 4), (3, 1)), ((), (3,)), ((0, 3), (3,)), ((), ())]


@pytest.mark.parametrize("shapes", BROADCASTS, ids=[str(s) for s in BROADCASTS])
@pytest.mark.parametrize("name", ["lt", "eq", "ge"])
def test_comparison_broadcasting(name, shapes, torch):
    rng = np.random.default_rng(3)
    arrays = [sample(rng, s, "float32") for s in shapes]
    ours, theirs = run_both(torch, lambda T, x, y: COMPARISONS[name](x, y), arrays, "float32")
    assert_same(ours, theirs, name)


def test_comparison_non_contiguous(torch):
    rng = np.random.default_rng(4)
    arrays = [sample(rng, (4, 6), "float64"), sample(rng, (6, 4), "float64")]
    fns = [
        lambda T, x, y: x.t() < y,
        lambda T, x, y: x[:, ::2] == y[::2].t(),
        lambda T, x, y: x[1::3] >= y.t()[1:],
        lambda T, x, y: x.t()[1:] != 0.5,
    ]
    for k, fn in enumerate(fns):
        ours, theirs = run_both(torch, fn, arrays, "float64")
        assert_same(ours, theirs, f"form {k}")


PROMOTIONS = [
    ("f32==pyfloat", lambda T: T.tensor([0.1, 0.2]) == 0.1),          # compared in float32
    ("f64==pyfloat", lambda T: T.tensor([0.1, 0.2], dtype=T.float64) == 0.1),
    ("i64<2.5", lambda T: T.tensor([1, 2, 3]) < 2.5),
    ("2.5>i64", lambda T: 2.5 > T.tensor([1, 2, 3])),
    ("i64==i64big", lambda T: T.tensor([2**62, 2**62 + 1]) == 2**62 + 1),
    ("i32<i64", lambda T: T.tensor([1, 5], dtype=T.int32) < T.tensor([3, 3])),
    ("f32<f64", lambda T: T.tensor([1.0, 2.0]) < T.tensor([1.5, 1.5], dtype=T.float64)),
    ("f32==f64_0d", lambda T: T.tensor([0.1, 0.2]) == T.tensor(0.1, dtype=T.float64)),
    ("bool<f32", lambda T: T.tensor([True, False]) < T.tensor([0.5, 0.5])),
    ("bool==True", lambda T: T.tensor([True, False]) == True),  # noqa: E712
    ("bool>0.5", lambda T: T.tensor([True, False]) > 0.5),
    ("i64==1.5", lambda T: T.tensor([1, 2]).eq(1.5)),
    ("1<i64", lambda T: 1 < T.tensor([1, 2])),
    ("np_scalar", lambda T: np.float64(2.0) < T.tensor([1.0, 3.0])),
    ("np_scalar_eq", lambda T: T.tensor([1, 2]) == np.int64(2)),
    ("nan", lambda T: T.tensor([NAN, 1.0]) == T.tensor([NAN, 1.0])),
    ("nan_ne", lambda T: T.tensor([NAN, 1.0]) != T.tensor([NAN, 1.0])),
    ("inf", lambda T: T.tensor([INF, -INF]) > 1e38),
    ("neg_zero", lambda T: T.tensor([-0.0]) == 0.0),
]


@pytest.mark.parametrize("fn", [p[1] for p in PROMOTIONS], ids=[p[0] for p in PROMOTIONS])
def test_comparison_type_promotion(fn, torch):
    assert_same(fn(cygrad), fn(torch))


def test_comparison_with_non_numbers(torch):
    for T in (cygrad, torch):
        t = T.tensor([1.0, 2.0])
        assert (t == None) is False  # noqa: E711 (Python falls back to identity, as torch)
        assert (t != None) is True  # noqa: E711
        assert (t == "a") is False
        for op in (operator.lt, operator.le, operator.gt, operator.ge):
            with pytest.raises(TypeError, match="not supported between instances"):
                op(t, None)
        with pytest.raises(TypeError):
            T.eq(t, None)
        with pytest.raises(TypeError):
            T.eq(1, t)


def test_tensors_stay_hashable():
    x, y = cygrad.tensor([1.0, 2.0]), cygrad.tensor([1.0, 2.0])
    assert hash(x) == id(x) and hash(x) != hash(y)
    table = {x: "x", y: "y"}
    assert table[x] == "x" and table[y] == "y"
    assert len({x, y, x}) == 2
    assert x in [x] and x in {x}
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x == y)
    assert bool(cygrad.tensor(3) == 3)


def test_comparison_shape_mismatch_error(torch):
    messages = []
    for T in (cygrad, torch):
        with pytest.raises(RuntimeError) as info:
            T.tensor([1, 2]) < T.tensor([1, 2, 3])
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_comparisons_never_require_grad():
    x = cygrad.tensor([1.0, -2.0], requires_grad=True)
    for out in (x > 0, x == x, x.isnan(), x.argmax(), x.any(), x.argsort(), cygrad.logical_not(x)):
        assert not out.requires_grad and out.grad_fn is None


# ---------------------------------------------------------------------------------------------
# isnan, isinf, isfinite
# ---------------------------------------------------------------------------------------------

SPECIAL = np.array([NAN, INF, -INF, 0.0, -0.0, 1.0, -2.5, 3e38])


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_float_classes(name, torch):
    for dtype in ALL_DTYPES:
        data = SPECIAL if dtype.startswith("float") else np.array([0, 1, -3, 7])
        if dtype == "bool":
            data = np.array([True, False])
        with np.errstate(invalid="ignore", over="ignore"):
            ours, theirs = run_both(torch, lambda T, x: getattr(T, name)(x), [data], dtype)
        assert_same(ours, theirs, f"{name} {dtype}")
        with np.errstate(invalid="ignore", over="ignore"):
            np.testing.assert_array_equal(to_numpy(getattr(cygrad.tensor(data.astype(dtype)), name)()),
                                          getattr(np, name)(data.astype(dtype)))


def test_float_classes_strided(torch):
    data = np.tile(SPECIAL, (3, 1))
    ours, theirs = run_both(torch, lambda T, x: x.t()[::2].isfinite(), [data], "float32")
    assert_same(ours, theirs)


# ---------------------------------------------------------------------------------------------
# logical ops and bitwise operators
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary(name, torch):
    rng = np.random.default_rng(5)
    for da, db in [("float32", "float32"), ("bool", "bool"), ("int64", "float64"), ("bool", "int32"),
                   ("float64", "bool")]:
        a = sample(rng, (3, 1), da)
        b = sample(rng, (4,), db)
        if da.startswith("float"):
            a[0, 0] = NAN  # NaN is true
        for fn in (lambda T, x, y: getattr(T, name)(x, y), lambda T, x, y: getattr(x, name)(y)):
            ours, theirs = run_both(torch, fn, [a, b], [da, db])
            assert_same(ours, theirs, f"{name} {da} {db}")
        np_fn = getattr(np, name)
        np.testing.assert_array_equal(to_numpy(getattr(cygrad, name)(cygrad.tensor(a), cygrad.tensor(b))),
                                      np_fn(a, b))


def test_logical_not(torch):
    for dtype in ALL_DTYPES:
        data = SPECIAL if dtype.startswith("float") else np.array([0, 1, -3])
        for fn in (lambda T, x: T.logical_not(x), lambda T, x: x.logical_not(), lambda T, x: x.t().logical_not()):
            with np.errstate(invalid="ignore", over="ignore"):
                ours, theirs = run_both(torch, fn, [data], dtype)
            assert_same(ours, theirs, f"logical_not {dtype}")


def test_logical_argument_errors(torch):
    for T in (cygrad, torch):
        with pytest.raises(TypeError, match="must be Tensor"):
            T.logical_and(T.tensor([1.0]), 1)
        with pytest.raises(TypeError, match="must be Tensor"):
            T.logical_not([1.0])


BITWISE = {"and": operator.and_, "or": operator.or_, "xor": operator.xor}


@pytest.mark.parametrize("name", sorted(BITWISE))
def test_bitwise_operators(name, torch):
    rng = np.random.default_rng(6)
    op = BITWISE[name]
    cases = [
        ([rng.integers(0, 2, (3, 4)).astype(bool), rng.integers(0, 2, (4,)).astype(bool)], ["bool", "bool"]),
        ([rng.integers(-9, 9, (3, 4)), rng.integers(-9, 9, (3, 1))], ["int64", "int64"]),
        ([rng.integers(-9, 9, (5,)), rng.integers(-9, 9, (5,))], ["int32", "int32"]),
        ([rng.integers(-9, 9, (5,)), rng.integers(0, 2, (5,)).astype(bool)], ["int32", "bool"]),
        ([rng.integers(-9, 9, (5,)), rng.integers(-9, 9, (5,))], ["int32", "int64"]),
    ]
    for arrays, dtypes in cases:
        for fn in (lambda T, x, y: op(x, y), lambda T, x, y: getattr(T, "bitwise_" + name)(x, y),
                   lambda T, x, y: getattr(x, "bitwise_" + name)(y), lambda T, x, y: op(x, 6),
                   lambda T, x, y: op(True, x), lambda T, x, y: op(x, True)):
            ours, theirs = run_both(torch, fn, arrays, dtypes)
            assert_same(ours, theirs, f"{name} {dtypes}")
        np.testing.assert_array_equal(
            to_numpy(op(cygrad.tensor(arrays[0]), cygrad.tensor(arrays[1]))), op(arrays[0], arrays[1]))


def test_invert(torch):
    for data, dtype in [([True, False], "bool"), ([0, 5, -7], "int64"), ([0, 5, -7], "int32")]:
        for fn in (lambda T, x: ~x, lambda T, x: T.bitwise_not(x), lambda T, x: x.bitwise_not()):
            ours, theirs = run_both(torch, fn, [np.array(data)], dtype)
            assert_same(ours, theirs, dtype)
    np.testing.assert_array_equal(to_numpy(~cygrad.tensor([0, 5, -7])), ~np.array([0, 5, -7]))
    mask = cygrad.tensor([1.0, -1.0, 2.0]) > 0
    np.testing.assert_array_equal(to_numpy(~mask), [False, True, False])


def test_bitwise_errors(torch):
    for T in (cygrad, torch):
        x = T.tensor([1.0, 2.0])
        with pytest.raises(NotImplementedError, match='"bitwise_and_cpu" not implemented for \'Float\''):
            x & x
        with pytest.raises(NotImplementedError, match='"bitwise_or_cpu" not implemented for \'Float\''):
            T.tensor([1, 6]) | 1.5
        with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer and Boolean"):
            ~x


# ---------------------------------------------------------------------------------------------
# any, all
# ---------------------------------------------------------------------------------------------

REDUCE_DIMS = [None, 0, 1, -1, (0, 2), (2, 0), (1, 2), (0, 1, 2), ()]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", REDUCE_DIMS, ids=[str(d) for d in REDUCE_DIMS])
@pytest.mark.parametrize("name", ["any", "all"])
def test_any_all(name, dim, keepdim, torch):
    rng = np.random.default_rng(7)
    for dtype in ALL_DTYPES:
        # mostly-true data so that `all` is not trivially false everywhere
        data = rng.choice([0, 1, 1, 1, 2], size=(2, 3, 4)).astype(dtype)
        if dtype.startswith("float"):
            data[0, 0, 0] = NAN
        if dim is None and keepdim:
            fn = lambda T, x: getattr(x, name)(keepdim=True)  # noqa: E731
        elif dim is None:
            fn = lambda T, x: getattr(T, name)(x)  # noqa: E731
        else:
            fn = lambda T, x: getattr(T, name)(x, dim, keepdim)  # noqa: E731
        ours, theirs = run_both(torch, fn, [data], dtype)
        assert_same(ours, theirs, f"{name} {dtype} dim={dim} keepdim={keepdim}")
        if dim != ():
            axis = dim if not isinstance(dim, tuple) else tuple(dim)
            expected = getattr(np, name)(data.astype(bool), axis=axis, keepdims=keepdim)
            np.testing.assert_array_equal(to_numpy(ours), expected)


def test_any_all_edge_cases(torch):
    fns = [
        ("empty", lambda T: (T.zeros(0, 3).any(), T.zeros(0, 3).all())),
        ("empty_dim0", lambda T: (T.zeros(0, 3).any(0), T.zeros(0, 3).all(dim=0))),
        ("empty_dim1", lambda T: (T.zeros(0, 3).any(1), T.zeros(0, 3).all(1, True))),
        ("0d", lambda T: (T.tensor(2.0).any(), T.tensor(0).all(0), T.tensor(1.0).all(dim=(0,)))),
        ("strided", lambda T: (T.ones(4, 6)[:, ::2].all(0), T.eye(3).t().any(1))),
        ("bool_input", lambda T: ((T.arange(6).reshape(2, 3) > 2).any(1), (T.arange(6) >= 0).all())),
    ]
    for name, fn in fns:
        for ours, theirs in zip(fn(cygrad), fn(torch)):
            assert_same(ours, theirs, name)


def test_any_all_errors(torch):
    for T in (cygrad, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            T.ones(2).any(dim=5)
        with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
            T.ones(2, 3).all(dim=(0, 0))


# ---------------------------------------------------------------------------------------------
# argmax, argmin
# ---------------------------------------------------------------------------------------------

ARG_CASES = [
    ("whole", lambda T, x: (T.argmax(x), T.argmin(x))),
    ("method", lambda T, x: (x.argmax(), x.argmin())),
    ("dim1", lambda T, x: (x.argmax(1), x.argmin(dim=1))),
    ("dim0_keepdim", lambda T, x: (x.argmax(0, keepdim=True), T.argmin(x, 0, True))),
    ("dim_neg", lambda T, x: (x.argmax(-1), x.argmin(-2))),
    ("whole_keepdim", lambda T, x: (x.argmax(keepdim=True), x.argmin(keepdim=True))),
    ("transposed", lambda T, x: (x.t().argmax(1), x.t().argmin(0))),
    ("strided", lambda T, x: (x[:, ::2].argmax(1), x[1::2].argmin())),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("case", ARG_CASES, ids=[c[0] for c in ARG_CASES])
def test_argmax_argmin_ties(case, dtype, torch):
    """Many ties: the first index of the extreme, as torch and numpy."""
    rng = np.random.default_rng(8)
    data = rng.integers(-2, 3, size=(5, 6)).astype(dtype)
    ours, theirs = run_both(torch, case[1], [data], dtype)
    for o, t in zip(ours, theirs):
        assert_same(o, t, case[0])
    np.testing.assert_array_equal(to_numpy(cygrad.tensor(data).argmax(1)), np.argmax(data, 1))
    np.testing.assert_array_equal(to_numpy(cygrad.tensor(data).argmin(0)), np.argmin(data, 0))
    assert cygrad.tensor(data).argmax().item() == np.argmax(data)


@pytest.mark.parametrize("length", [64, 65, 100, 1000, 4099])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_max_min_long_lines_against_numpy(length, dtype):
    """Lines of 64 or more are searched in two vectorized passes (the extreme, then its first
    index): ties, -0 against +0, and a NaN first, in the middle, in the last partial block of lanes
    or absent, against numpy's max/argmax (the first NaN wins, then the first of equal extremes)."""
    rng = np.random.default_rng(length)
    base = rng.integers(-3, 4, length).astype(dtype)
    lines = [base]
    if dtype != "int64":
        signed_zeros = np.zeros(length, dtype)
        signed_zeros[::3] = -0.0
        lines.append(signed_zeros)
        for where in (0, length // 2, length - 1):
            line = base.copy()
            line[where] = NAN
            lines.append(line)
    for line in lines:
        x = cygrad.tensor(line[None, :])
        for name in ("max", "min"):
            values, indices = getattr(x, name)(1)
            np.testing.assert_array_equal(to_numpy(indices)[0], getattr(np, "arg" + name)(line))
            np.testing.assert_array_equal(to_numpy(values)[0], line[getattr(np, "arg" + name)(line)])


def test_argmax_argmin_nan(torch):
    """A NaN is the extreme for both, the first NaN wins (torch and numpy agree)."""
    data = np.array([[1.0, NAN, 5.0, NAN], [NAN, -INF, INF, 2.0], [3.0, 3.0, -1.0, -1.0]])
    for case in ARG_CASES:
        for dtype in ["float32", "float64"]:
            ours, theirs = run_both(torch, case[1], [data], dtype)
            for o, t in zip(ours, theirs):
                assert_same(o, t, case[0])
    x = cygrad.tensor(data)
    np.testing.assert_array_equal(to_numpy(x.argmax(1)), np.argmax(data, 1))
    np.testing.assert_array_equal(to_numpy(x.argmin(1)), np.argmin(data, 1))


def test_argmax_edge_cases_and_errors(torch):
    for T in (cygrad, torch):
        assert_same(T.tensor(3.0).argmax(), torch.tensor(0))
        assert_same(T.tensor(3.0).argmax(0), torch.tensor(0))
        assert_same(T.tensor(3.0).argmin(keepdim=True), torch.tensor(0))
        assert_same(T.zeros(0, 3).argmax(1), torch.zeros(0, dtype=torch.int64))
        with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified for input.numel\(\) == 0."):
            T.tensor([]).argmax()
        with pytest.raises(IndexError, match=r"argmin\(\): Expected reduction dim 0 to have non-zero size."):
            T.zeros(0, 3).argmin(0)
        with pytest.raises(RuntimeError, match=r"argmax\(\): does not support bool input"):
            T.tensor([True, False]).argmax()
        with pytest.raises(IndexError, match="Dimension out of range"):
            T.ones(2, 3).argmax(2)


# ---------------------------------------------------------------------------------------------
# max / min: tie-breaking and gradients
# ---------------------------------------------------------------------------------------------

TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0], [-1.0, -1.0, -1.0, -1.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["max", "min"])
def test_global_max_min_split_gradient_among_ties(name, dtype, torch):
    grads = []
    for T in (cygrad, torch):
        x = both(T, TIES, dtype, requires_grad=True)
        out = getattr(x, name)()
        (out * 3.0).backward()
        grads.append((out, x.grad))
    (ours, our_grad), (theirs, their_grad) = grads
    assert_same(ours.detach(), theirs.detach())
    assert_same(our_grad, their_grad)
    expected = np.where(TIES == getattr(TIES, name)(), 1.0, 0.0)
    np.testing.assert_allclose(to_numpy(our_grad), 3.0 * expected / expected.sum())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_gradient_goes_to_returned_index(name, dtype, torch):
    results = []
    for T in (cygrad, torch):
        x = both(T, TIES, dtype, requires_grad=True)
        values, indices = getattr(x, name)(1)
        (values * T.tensor([1.0, 2.0, 3.0], dtype=x.dtype)).sum().backward()
        results.append((values.detach(), indices, x.grad))
    for o, t in zip(*results):
        assert_same(o, t)
    indices = to_numpy(results[0][1])
    np.testing.assert_array_equal(indices, getattr(np, "arg" + name)(TIES, 1))  # the first tied
    grad = to_numpy(results[0][2])
    assert np.count_nonzero(grad) == 3 and all(grad[i, indices[i]] == i + 1 for i in range(3))


def test_dim_minus_one_of_a_0d_tensor(torch):
    """dim=-1 names the only "dimension" of a 0-d tensor (it once wrapped to -1, an error value)."""
    for fn in (lambda T: tuple(T.tensor(3.0).max(-1)), lambda T: tuple(T.tensor(3.0).sort(-1)),
               lambda T: (T.tensor(3.0).argmin(-1), T.tensor(2).any(-1)),
               lambda T: tuple(T.tensor(3.0).topk(1, -1))):
        for o, t in zip(fn(cygrad), fn(torch)):
            assert_same(o, t)


def test_max_dim_indices_match_argmax_with_nan(torch):
    data = np.array([[1.0, NAN, NAN], [NAN, 2.0, NAN], [0.0, 5.0, 5.0]])
    for T in (cygrad, torch):
        x = T.tensor(data)
        assert_same(x.max(1)[1], torch.tensor([1, 0, 1]))
        assert_same(x.argmax(1), torch.tensor([1, 0, 1]))
        assert_same(x.min(1)[1], torch.tensor([1, 0, 0]))


# ---------------------------------------------------------------------------------------------
# sort, argsort
# ---------------------------------------------------------------------------------------------

SORT_SHAPES = [((7,), 0), ((4, 9), 1), ((4, 9), 0), ((3, 5, 6), 1), ((2, 3, 40), -1), ((5, 1), 1), ((0, 3), 1), ((0, 3), 0)]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape_dim", SORT_SHAPES, ids=[f"{s}-{d}" for s, d in SORT_SHAPES])
def test_sort_matches_torch_stable(shape_dim, dtype, descending, torch):
    """Ties, NaN, inf and -0.0 in every line: values and indices equal torch's stable sort."""
    shape, dim = shape_dim
    data = sample(np.random.default_rng(9), shape, dtype)
    ours = cygrad.sort(cygrad.tensor(data), dim, descending)
    theirs = torch.sort(torch.tensor(data), dim=dim, descending=descending, stable=True)
    assert_same(ours.values, theirs.values, "values")
    assert_same(ours.indices, theirs.indices, "indices")
    assert_same(cygrad.tensor(data).argsort(dim, descending), torch.argsort(torch.tensor(data), dim=dim, descending=descending, stable=True))
    if not descending:
        np.testing.assert_array_equal(to_numpy(ours.indices), np.argsort(data, axis=dim, kind="stable"))
        np.testing.assert_array_equal(to_numpy(ours.values), np.sort(data, axis=dim, kind="stable"))


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 33, 100, 1000, 4097])
def test_sort_long_lines(n, torch):
    """Lengths around the insertion-sort run (16) and several merge levels; many ties."""
    rng = np.random.default_rng(n)
    data = rng.integers(0, max(2, n // 4), size=(2, n)).astype(np.float32)
    for descending in (False, True):
        ours = cygrad.tensor(data).sort(1, descending, stable=True)
        theirs = torch.tensor(data).sort(dim=1, descending=descending, stable=True)
        assert_same(ours.values, theirs.values)
        assert_same(ours.indices, theirs.indices)
    np.testing.assert_array_equal(to_numpy(cygrad.tensor(data).argsort(1)), np.argsort(data, 1, kind="stable"))


def test_sort_forms_and_edge_cases(torch):
    data = np.array([[3.0, NAN, -0.0, 0.0, 1.0, NAN, 2.0], [1.0, 1.0, 1.0, 1.0, INF, -INF, 0.5]])
    fns = [
        ("method", lambda T, x: tuple(x.sort())),
        ("method_desc", lambda T, x: tuple(x.sort(1, True))),
        ("kw", lambda T, x: tuple(T.sort(x, dim=0, descending=True, stable=True))),
        ("transposed", lambda T, x: tuple(x.t().sort(0))),
        ("strided", lambda T, x: tuple(x[:, ::2].sort(descending=True))),
        ("argsort", lambda T, x: (T.argsort(x), x.argsort(dim=0, descending=True))),
        ("0d", lambda T, x: tuple(x[0, 0].sort()) + (x[0, 0].argsort(),)),
        ("0d_dim", lambda T, x: tuple(T.sort(x[1, 1], 0))),
    ]
    for name, fn in fns:
        ours, theirs = fn(cygrad, cygrad.tensor(data)), fn(torch, torch.tensor(data))
        for o, t in zip(ours, theirs):
            assert_same(o, t, name)
    for T in (cygrad, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            T.sort(T.ones(2, 3), dim=3)


def test_sort_result_type():
    out = cygrad.sort(cygrad.tensor([3.0, 1.0, 2.0]))
    assert out.values is out[0] and out.indices is out[1]
    values, indices = out
    assert indices.dtype is cygrad.int64 and values.dtype is cygrad.float32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sort_gradient_follows_indices_with_ties(dtype, torch):
    data = np.array([[2.0, 1.0, 2.0, 0.0, 1.0], [5.0, 5.0, 5.0, -1.0, 5.0]])
    r = np.arange(10, dtype=np.float64).reshape(2, 5)
    grads = []
    for T in (cygrad, torch):
        x = both(T, data, dtype, requires_grad=True)
        values, indices = T.sort(x, dim=1, descending=True, stable=True)
        assert values.grad_fn.name() == "SortBackward1" and not indices.requires_grad
        (values * T.tensor(r, dtype=x.dtype)).sum().backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1])


# ---------------------------------------------------------------------------------------------
# topk
# ---------------------------------------------------------------------------------------------


def distinct(shape, seed):
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) - n / 2).reshape(shape) * 0.5


TOPK_CASES = [
    ((9,), 3, -1), ((9,), 9, 0), ((9,), 0, 0), ((4, 7), 2, 1), ((4, 7), 4, 0), ((3, 4, 5), 1, 1),
    ((3, 4, 40), 20, 2),
]


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("case", TOPK_CASES, ids=[f"{s}-k{k}-d{d}" for s, k, d in TOPK_CASES])
def test_topk_matches_torch(case, dtype, largest, torch):
    shape, k, dim = case
    data = distinct(shape, k).astype(dtype) if dtype.startswith("float") else (distinct(shape, k) * 2).astype(dtype)
    ours, theirs = run_both(torch, lambda T, x: tuple(T.topk(x, k, dim, largest)), [data], dtype)
    for o, t in zip(ours, theirs):
        assert_same(o, t, "topk")
    method = cygrad.tensor(data).topk(k, dim=dim, largest=largest)
    assert_same(method.values, ours[0])
    order = np.argsort(-data if largest else data, axis=dim, kind="stable")
    np.testing.assert_array_equal(to_numpy(ours[1]), np.take(order, np.arange(k), axis=dim))


def test_topk_ties_nan_unsorted_and_edge_cases(torch):
    data = np.array([[3.0, NAN, 1.0, NAN, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    for largest in (True, False):
        ours, theirs = run_both(torch, lambda T, x: T.topk(x, 3, largest=largest).values, [data], "float32")
        assert_same(ours, theirs, f"values largest={largest}")
    # ties: the values are torch's; the indices are valid positions of those values
    x = cygrad.tensor(data)
    values, indices = x.topk(4)
    np.testing.assert_array_equal(np.take_along_axis(data, to_numpy(indices), 1), to_numpy(values))
    assert all(len(set(row)) == 4 for row in to_numpy(indices))
    # sorted=False: the same set of elements (cygrad returns them sorted anyway)
    ours, theirs = run_both(torch, lambda T, x: T.topk(x, 3, 0, True, False), [distinct((5, 4), 1)], "float64")
    np.testing.assert_array_equal(np.sort(to_numpy(ours.values), 0), np.sort(to_numpy(theirs.values), 0))
    # 0-d, empty, k = size
    fns = [lambda T: tuple(T.tensor(5.0).topk(1)), lambda T: tuple(T.tensor(5.0).topk(0)),
           lambda T: tuple(T.zeros(2, 0).topk(0)), lambda T: tuple(T.ones(2, 3).topk(2, 0, False, True))]
    for fn in fns:
        for o, t in zip(fn(cygrad), fn(torch)):
            assert_same(o, t)


@pytest.mark.parametrize("k", [1, 5, 63, 64, 65, 200])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_small_k_of_long_lines_is_the_stable_sort_prefix(k, largest, torch):
    """Small k takes a path of its own (no full sort): it must give the first k of the stable
    sort, ties and NaNs included; the values are torch's topk values."""
    rng = np.random.default_rng(k)
    data = rng.integers(0, 20, size=(3, 500, 2)).astype(np.float64)
    data[0, rng.choice(500, 30, replace=False), 0] = NAN
    data[1, :, 1] = 7.0  # one long tie
    for dim in (1, 0, 2):
        kk = min(k, data.shape[dim])
        ours = cygrad.tensor(data).topk(kk, dim, largest)
        full = torch.sort(torch.tensor(data), dim=dim, descending=largest, stable=True)
        assert_same(ours.indices, full.indices.narrow(dim, 0, kk), f"dim {dim}")
        assert_same(ours.values, torch.tensor(data).topk(kk, dim, largest).values, f"dim {dim}")


def test_topk_errors(torch):
    for T in (cygrad, torch):
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            T.tensor([1.0, 2.0, 3.0]).topk(4)
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            T.tensor([1.0, 2.0, 3.0]).topk(-1)
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            T.zeros(2, 0).topk(1)
        with pytest.raises(RuntimeError, match="topk does not support bool dtypes on CPU"):
            T.tensor([True, False]).topk(1)
        with pytest.raises(IndexError, match="Dimension out of range"):
            T.topk(T.ones(2, 3), 2, dim=3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_topk_gradient_scatters_to_indices(dtype, torch):
    data = distinct((3, 6), 2)
    r = np.random.default_rng(0).standard_normal((3, 2))
    grads = []
    for T in (cygrad, torch):
        x = both(T, data, dtype, requires_grad=True)
        values, indices = x.topk(2, dim=1, largest=False)
        assert values.grad_fn.name() == "TopkBackward0"
        (values * T.tensor(r, dtype=x.dtype)).sum().backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1])
    rows, cols = np.nonzero(to_numpy(grads[0]))
    assert len(rows) == 6


SECOND_ORDER = [
    ("sort", lambda T, x: T.sort(x, 1, descending=True).values),
    ("sort_dim0", lambda T, x: x.sort(0).values),
    ("topk", lambda T, x: T.topk(x, 2, dim=1).values),
    ("topk_smallest", lambda T, x: x.t().topk(2, largest=False).values),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_sort_topk_second_order(case, dtype, torch):
    """create_graph=True through the scatter backward: d/dx of (d/dx sum(r * f(x)^3)) . s."""
    data = distinct((3, 4), 5)
    rng = np.random.default_rng(1)
    s = rng.standard_normal((3, 4))
    results = []
    for T in (cygrad, torch):
        x = both(T, data, dtype, requires_grad=True)
        y = case[1](T, x)
        r = T.tensor(rng.standard_normal(tuple(y.shape)) if T is cygrad else results[0][2], dtype=x.dtype)
        (g,) = T.autograd.grad((y * y * y * r).sum(), x, create_graph=True)
        (h,) = T.autograd.grad((g * T.tensor(s, dtype=x.dtype)).sum(), x)
        results.append((g.detach(), h, to_numpy(r)))
    (g0, h0, _), (g1, h1, _) = results
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(to_numpy(g0), to_numpy(g1), rtol=tol, atol=tol)
    np.testing.assert_allclose(to_numpy(h0), to_numpy(h1), rtol=tol, atol=tol)
    # each element is selected at most once: g = 3 x^2 r(x's slot) and h = 6 x r(x's slot) s = 2 g s / x
    np.testing.assert_allclose(to_numpy(h0) * data, 2 * to_numpy(g0) * s, rtol=10 * tol, atol=tol)


# ---------------------------------------------------------------------------------------------
# unique
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_unique_matches_torch_and_numpy(dtype, torch):
    data = sample(np.random.default_rng(10), (4, 5), dtype, specials=False)
    fns = [
        ("plain", lambda T, x: (T.unique(x),)),
        ("inverse", lambda T, x: T.unique(x, return_inverse=True)),
        ("counts", lambda T, x: x.unique(return_counts=True)),
        ("both", lambda T, x: T.unique(x, sorted=True, return_inverse=True, return_counts=True)),
        ("transposed", lambda T, x: x.t().unique(return_inverse=True)),
    ]
    for name, fn in fns:
        ours, theirs = run_both(torch, fn, [data], dtype)
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, name)
    values, inverse, counts = cygrad.unique(cygrad.tensor(data), return_inverse=True, return_counts=True)
    np_values, np_inverse, np_counts = np.unique(data, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(to_numpy(values), np_values)
    np.testing.assert_array_equal(to_numpy(inverse), np_inverse.reshape(data.shape))
    np.testing.assert_array_equal(to_numpy(counts), np_counts)


def test_unique_nan_and_edge_cases(torch):
    fns = [
        ("nan", lambda T: T.unique(T.tensor([3.0, NAN, 1.0, NAN, 2.0, 3.0, NAN, -0.0, 0.0]),
                                   return_inverse=True, return_counts=True)),
        ("0d", lambda T: T.tensor(5.0).unique(return_inverse=True)),
        ("empty", lambda T: T.zeros(0, 3).unique(return_inverse=True, return_counts=True)),
        ("unsorted_flag", lambda T: T.tensor([3, 1, 2, 1]).unique(sorted=False, return_inverse=True)),
    ]
    for name, fn in fns:
        ours, theirs = fn(cygrad), fn(torch)
        for o, t in zip(ours, theirs):
            assert_same(o, t, name)
    assert isinstance(cygrad.unique(cygrad.tensor([1, 1])), cygrad.Tensor)
    with pytest.raises(NotImplementedError, match="dim"):
        cygrad.unique(cygrad.ones(2, 2), dim=0)


# ---------------------------------------------------------------------------------------------
# isclose, allclose, equal
# ---------------------------------------------------------------------------------------------

CLOSE_A = np.array([1.0, 1.0, 1e-9, 0.0, NAN, NAN, INF, INF, -INF, 100.0, 1e10])
CLOSE_B = np.array([1.0 + 1e-6, 1.001, 0.0, 1e-7, NAN, 1.0, INF, -INF, INF, 100.0009, 1.00001e10])
CLOSE_ARGS = [{}, {"equal_nan": True}, {"rtol": 0, "atol": 0}, {"rtol": 1e-3}, {"atol": 1e-6, "rtol": 0},
              {"rtol": 0, "atol": 0, "equal_nan": True}]


@pytest.mark.parametrize("kwargs", CLOSE_ARGS, ids=[str(k) for k in CLOSE_ARGS])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_isclose_allclose(dtype, kwargs, torch):
    ours, theirs = run_both(torch, lambda T, a, b: T.isclose(a, b, **kwargs), [CLOSE_A, CLOSE_B], dtype)
    assert_same(ours, theirs, str(kwargs))
    ours, theirs = run_both(torch, lambda T, a, b: a.isclose(b, **kwargs), [CLOSE_A, CLOSE_B], dtype)
    assert_same(ours, theirs, str(kwargs))
    for k in range(len(CLOSE_A)):
        ours, theirs = run_both(torch, lambda T, a, b: T.allclose(a[k:k + 1], b[k:k + 1], **kwargs),
                                [CLOSE_A, CLOSE_B], dtype)
        assert ours is theirs, f"element {k}"
    np.testing.assert_array_equal(to_numpy(cygrad.isclose(both(cygrad, CLOSE_A, "float64"), both(cygrad, CLOSE_B, "float64"), **kwargs)),
                                  np.isclose(CLOSE_A, CLOSE_B, **kwargs))


def test_isclose_integer_bool_broadcast(torch):
    fns = [
        ("int", lambda T: T.isclose(T.tensor([1, 100000, 3]), T.tensor([1, 100001, 4]))),
        ("int_rtol", lambda T: T.isclose(T.tensor([100, 1000]), T.tensor([101, 1001]), rtol=1e-3)),
        ("bool", lambda T: T.isclose(T.tensor([True, False]), T.tensor([True, True]))),
        ("bcast", lambda T: T.isclose(T.ones(3, 1), T.tensor([1.0, 1.00001, 2.0]))),
        ("strided", lambda T: T.ones(2, 6)[:, ::2].isclose(T.ones(3, 2).t())),
    ]
    for name, fn in fns:
        assert_same(fn(cygrad), fn(torch), name)
    for T in (cygrad, torch):
        assert T.allclose(T.ones(3, 1), T.ones(3)) is True
        assert T.tensor([1.0, 2.0]).allclose(T.tensor([1.0, 2.1])) is False
        assert T.allclose(T.tensor([NAN]), T.tensor([NAN])) is False
        assert T.allclose(T.tensor([NAN]), T.tensor([NAN]), equal_nan=True) is True
        assert T.allclose(T.zeros(0), T.zeros(0)) is True


def test_isclose_errors(torch):
    for T in (cygrad, torch):
        with pytest.raises(RuntimeError, match="Float did not match Double"):
            T.allclose(T.tensor([1.0]), T.tensor([1.0], dtype=T.float64))
        with pytest.raises(RuntimeError, match="Float did not match Long"):
            T.isclose(T.tensor([1.0]), T.tensor([1]))
        with pytest.raises(RuntimeError, match="must match the size"):
            T.allclose(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0, 3.0]))
        with pytest.raises(TypeError, match="must be Tensor"):
            T.allclose(T.tensor([1.0, 2.0]), 1.0)


def test_equal(torch):
    cases = [
        lambda T: T.equal(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0])),
        lambda T: T.equal(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.5])),
        lambda T: T.equal(T.tensor([1.0]), T.tensor([1.0, 1.0])),
        lambda T: T.equal(T.tensor([1.0]), T.tensor([1.0], dtype=T.float64)),
        lambda T: T.equal(T.tensor([1.0]), T.tensor([1])),
        lambda T: T.equal(T.tensor([NAN]), T.tensor([NAN])),
        lambda T: T.equal(T.zeros(0, 2), T.zeros(0, 2)),
        lambda T: T.equal(T.zeros(2, 0), T.zeros(0, 2)),
        lambda T: T.ones(3, 2).t().equal(T.ones(2, 3)),
        lambda T: T.equal(T.tensor(2), T.tensor([2])),
    ]
    for k, fn in enumerate(cases):
        ours, theirs = fn(cygrad), fn(torch)
        assert ours is theirs, f"case {k}"


# ---------------------------------------------------------------------------------------------
# every SIMD path of the predicate kernels
# ---------------------------------------------------------------------------------------------



@pytest.mark.parametrize("n", [1, 7, 8, 9, 17, 33, 64, 1031])
def test_predicates_on_every_simd_path(simd_path, n):
    rng = np.random.default_rng(n)
    for dtype in ["float32", "float64", "int64"]:
        a = rng.integers(-2, 3, size=(3, n)).astype(dtype)
        b = rng.integers(-2, 3, size=(n,)).astype(dtype)
        if dtype != "int64":
            a[0, 0] = NAN
            a[1, -1] = INF
        x, y = cygrad.tensor(a), cygrad.tensor(b)
        for name, op in COMPARISONS.items():
            with np.errstate(invalid="ignore"):
                np.testing.assert_array_equal(to_numpy(op(x, y)), op(a, b), err_msg=f"{name} {dtype}")
                np.testing.assert_array_equal(to_numpy(op(x, 1)), op(a, 1), err_msg=f"{name} scalar {dtype}")
                np.testing.assert_array_equal(to_numpy(op(x[:, ::2], y[::2])), op(a[:, ::2], b[::2]))
        np.testing.assert_array_equal(to_numpy(cygrad.logical_and(x, y)), np.logical_and(a, b))
        np.testing.assert_array_equal(to_numpy(cygrad.logical_not(x)), np.logical_not(a))
        if dtype != "int64":
            np.testing.assert_array_equal(to_numpy(x.isnan()), np.isnan(a))
            np.testing.assert_array_equal(to_numpy(x.isfinite()), np.isfinite(a))
        else:
            np.testing.assert_array_equal(to_numpy(x & y), a & b)
