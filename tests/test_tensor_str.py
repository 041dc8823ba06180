"""cygrad's tensor text must equal torch's, character for character, for the same data.

A few golden strings (recorded from torch 2.13) always run; the bulk of the cases compare against
a live torch and are skipped when torch is not installed.
"""

import numpy as np
import pytest

from cygrad._tensor_str import printoptions, shows_dtype, tensor_repr


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize(
    "array, suffixes, expected",
    [
        (np.array(1.5, dtype=np.float32), [], "tensor(1.5000)"),
        (np.array([1.0, 2.0, 3.0], dtype=np.float32), [], "tensor([1., 2., 3.])"),
        (np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), [], "tensor([[1., 2.],\n        [3., 4.]])"),
        (np.array([-0.0, 0.5], dtype=np.float32), [], "tensor([-0.0000, 0.5000])"),
        (np.array([1e-5, 1.0], dtype=np.float32), [], "tensor([1.0000e-05, 1.0000e+00])"),
        (np.array([np.nan, 1.0, -np.inf], dtype=np.float32), [], "tensor([nan, 1., -inf])"),
        (np.array([True, False]), [], "tensor([ True, False])"),
        (np.zeros((0, 3), dtype=np.float32), [], "tensor([], size=(0, 3))"),
        (
            np.arange(8, dtype=np.float32).reshape(2, 2, 2),
            [],
            "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
        ),
        (
            np.arange(2000, dtype=np.float32).reshape(2, 1000),
            [],
            "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,\n"
            "         9.9900e+02],\n"
            "        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
            "         1.9990e+03]])",
        ),
        (
            np.arange(12, dtype=np.float64) * 100.5,
            ["dtype=cygrad.float64"],
            "tensor([   0.0000,  100.5000,  201.0000,  301.5000,  402.0000,  502.5000,\n"
            "         603.0000,  703.5000,  804.0000,  904.5000, 1005.0000, 1105.5000],\n"
            "       dtype=cygrad.float64)",
        ),
    ],
)
def test_golden_strings(array, suffixes, expected):
    assert tensor_repr(array, suffixes=suffixes) == expected


def test_shows_dtype():
    assert not shows_dtype(np.float32, 3)
    assert shows_dtype(np.float64, 3)
    assert not shows_dtype(np.int64, 3)
    assert not shows_dtype(np.bool_, 3)
    assert not shows_dtype(np.float32, 0)
    assert shows_dtype(np.int64, 0)
    assert shows_dtype(np.bool_, 0)


def expected_suffixes(array, extra=()):
    """The annotations torch prints for a plain tensor built from ``array``, in torch's spelling."""
    dtype = [f"dtype=torch.{array.dtype.name}"] if shows_dtype(array.dtype, array.size) else []
    return [*dtype, *extra]


def assert_matches_torch(torch, array):
    array = np.array(array)  # a private copy; unlike ascontiguousarray it keeps 0-d arrays 0-d
    expected = repr(torch.from_numpy(array))
    assert tensor_repr(array, suffixes=expected_suffixes(array)) == expected


# Feeds the arrays built while collecting; test bodies draw from their own `rng` fixture so a
# failure reproduces when the test is run alone.
_collection_rng = np.random.default_rng(20240613)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def normal(shape, scale=1.0, dtype=np.float32, rng=_collection_rng):
    return (rng.standard_normal(shape) * scale).astype(dtype)


SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 1, 2, 3), (1, 1, 1)]
FLOAT_DTYPES = [np.float32, np.float64]
SCALES = [1e-6, 1e-4, 1e-2, 1.0, 10.0, 1e3, 1e5, 1e8, 1e10]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", SCALES)
def test_random_floats(torch, rng, shape, dtype, scale):
    assert_matches_torch(torch, normal(shape, scale, dtype, rng))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "values",
    [
        [1.0, 2.0, 3.0],
        [-1.0, 0.0, 100.0],
        [0.0],
        [-0.0],
        [0.0, -0.0, 1.0],
        [-0.0, 0.5],
        [1.5],
        [-2.0],
        [1e-5, 1.0],
        [1e9, 1.0],
        [1000.0, 1.0],
        [1001.0, 1.0],
        [1e8, 2e8],
        [123456789.0],
        [0.1, 0.2, 0.3],
        [9.99996, 1.0],
        [0.00009999, 0.5],
        [1e100, 1e-100],
        [1e300, -1e-300, 5.0],
        [float("nan")],
        [float("inf")],
        [float("-inf")],
        [float("nan"), 1.0, 2.0],
        [float("nan"), 1.5, float("-inf")],
        [float("inf"), float("-inf"), float("nan")],
        [0.0, float("-inf")],
        [1e-7, float("nan"), float("inf")],
        [1e10, float("nan"), -3.0],
        [-1e-10, 3.0],
        [12345.678, -0.001],
    ],
)
def test_special_floats(torch, values, dtype):
    with np.errstate(over="ignore"):  # float32 turns 1e100 and 1e300 into inf, as torch would
        array = np.array(values, dtype=dtype)
    assert_matches_torch(torch, array)
    assert_matches_torch(torch, array.reshape(1, -1))
    assert_matches_torch(torch, array[:1].reshape(()))


@pytest.mark.parametrize(
    "array",
    [
        np.array(7, dtype=np.int64),
        np.array(-7, dtype=np.int64),
        np.arange(10, dtype=np.int64),
        np.arange(-5, 5, dtype=np.int64).reshape(2, 5),
        np.array([2**62, -(2**63), 0], dtype=np.int64),
        _collection_rng.integers(-1000, 1000, size=(4, 5, 6)),
        np.array([True, False]),
        np.array([True, True]),
        np.array(False),
        _collection_rng.random((3, 7)) > 0.5,
    ],
)
def test_integers_and_bools(torch, array):
    assert_matches_torch(torch, array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 3), (3, 0)])
def test_empty(torch, shape, dtype):
    assert_matches_torch(torch, np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize(
    "shape", [(1001,), (2000,), (50, 50), (3, 400), (400, 3), (11, 11, 11), (2, 3, 200), (7, 1, 200)]
)
def test_summarized(torch, rng, shape, dtype):
    if dtype == np.bool_:
        array = rng.random(shape) > 0.5
    elif dtype == np.int64:
        array = rng.integers(-(10**6), 10**6, size=shape)
    else:
        array = normal(shape, 100.0, dtype, rng)
    assert_matches_torch(torch, array)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(100, dtype=np.float32),
        np.arange(1000, dtype=np.int64),
        normal((60,)),
        normal((5, 40), 1e6),
        normal((3, 30), 1e-6, np.float64),
        np.linspace(-1, 1, 300).reshape(3, 100),
        np.arange(26, dtype=np.float32) * 1e9,
    ],
)
def test_long_rows_wrap(torch, array):
    assert_matches_torch(torch, array)


@pytest.mark.parametrize(
    "array",
    [
        np.array(2.5, dtype=np.float32),
        np.array([1.0, 2.0], dtype=np.float32),
        np.array([1.0, 2.0], dtype=np.float64),
        normal((4, 4)),
        normal((2, 17), 1e-5, np.float64),
        normal((3, 500)),
        np.arange(15, dtype=np.float32) * 1000,
        np.zeros((0, 2), dtype=np.float32),
        # The suffixes only partly fit after the last row, so the rest wrap to a new line.
        np.arange(12, dtype=np.float32) * 100.5,
        np.arange(9, dtype=np.float64) * 1000.5,
    ],
)
def test_requires_grad_and_grad_fn(torch, array):
    leaf = torch.tensor(array, requires_grad=True)
    suffixes = expected_suffixes(array, ["requires_grad=True"])
    assert tensor_repr(array, suffixes=suffixes) == repr(leaf)

    product = leaf * 1
    suffixes = expected_suffixes(array, ["grad_fn=<MulBackward0>"])
    assert tensor_repr(array, suffixes=suffixes) == repr(product)


def test_custom_prefix_sets_indent(torch):
    class Weights(torch.Tensor):
        pass

    array = normal((3, 30))
    expected = repr(torch.from_numpy(array).as_subclass(Weights))
    assert tensor_repr(array, prefix="Weights(") == expected


@pytest.mark.parametrize(
    "options",
    [
        dict(precision=2),
        dict(precision=8),
        dict(threshold=5),
        dict(threshold=0),
        dict(edgeitems=1, threshold=10),
        dict(edgeitems=0),
        dict(edgeitems=0, threshold=10),
        dict(linewidth=40),
        dict(linewidth=200),
        dict(sci_mode=True),
        dict(sci_mode=False),
        dict(profile="short"),
        dict(profile="full"),
    ],
)
@pytest.mark.parametrize(
    "array",
    [
        np.array(3.25, dtype=np.float32),
        np.array([1.0, float("nan"), 3.0], dtype=np.float32),
        normal((30,), 1e-6),
        normal((4, 12), 1e9, np.float64),
        np.arange(40, dtype=np.int64).reshape(2, 4, 5),
        normal((2000,)),
        normal((20, 30)),
        _collection_rng.random((12, 12)) > 0.5,
        np.zeros((0, 3), dtype=np.float32),
    ],
)
def test_print_options(torch, options, array):
    array = np.array(array)
    with torch._tensor_str.printoptions(**options):
        expected = repr(torch.from_numpy(array))
    with printoptions(**options):
        actual = tensor_repr(array, suffixes=expected_suffixes(array))
    assert actual == expected


def test_fuzz_against_torch(torch, rng):
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0])
    for _ in range(300):
        ndim = int(rng.integers(0, 4))
        shape = tuple(int(n) for n in rng.integers(1, 7, size=ndim))
        dtype = FLOAT_DTYPES[int(rng.integers(0, 2))]
        array = normal(shape, 10.0 ** rng.uniform(-7, 11), dtype, rng)
        if rng.random() < 0.5:
            array = np.round(array).astype(dtype)
        if array.ndim and rng.random() < 0.5:
            mask = rng.random(shape) < 0.3
            array[mask] = rng.choice(specials, size=int(mask.sum()))
        assert_matches_torch(torch, array)
