"""Indexing, joining and shape ops beyond the op table: duplicate indices accumulating in backward,
masks, torch's key semantics, assignment (x[key] = v) inside a graph, in-place scatters, errors
with torch's wording, second derivatives and dtypes.

Oracles: numpy (forward values, np.add.at for accumulation) and torch (forward, gradients,
messages); test programs are written once as fn(T, ...) for both libraries where they can be.
"""
import warnings

import numpy as np
import pytest

import cygrad
from helpers import to_numpy


def leaf(T, array, dtype="float64", requires_grad=True):
    t = T.tensor(np.array(array), dtype=getattr(T, dtype))
    return t.requires_grad_(requires_grad) if requires_grad else t


def grads_of(T, fn, arrays, seed=0, dtype="float64"):
    """Runs fn(T, *leaves), backpropagates sum(out * R) and returns (output, leaf gradients)."""
    leaves = [leaf(T, a, dtype) for a in arrays]
    out = fn(T, *leaves)
    r = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    (out * T.tensor(r, dtype=out.dtype)).sum().backward()
    return to_numpy(out), [None if x.grad is None else to_numpy(x.grad) for x in leaves]


def same_as_torch(fn, arrays, dtype="float64"):
    import torch
    ours, our_grads = grads_of(cygrad, fn, arrays, dtype=dtype)
    theirs, their_grads = grads_of(torch, fn, arrays, dtype=dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    for ours_g, theirs_g in zip(our_grads, their_grads):
        if theirs_g is None:
            assert ours_g is None or not ours_g.any()
        else:
            np.testing.assert_allclose(ours_g, theirs_g, rtol=tol, atol=tol)


RNG = np.random.default_rng(2024)
X234 = RNG.standard_normal((2, 3, 4))
X34 = RNG.standard_normal((3, 4))


# ---------------------------------------------------------------------------------------------
# duplicate indices accumulate (numpy oracle: np.add.at)
# ---------------------------------------------------------------------------------------------


def test_duplicate_rows_accumulate():
    x = leaf(cygrad, np.arange(12.0).reshape(4, 3))
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [[2] * 3, [0] * 3, [1] * 3, [0] * 3])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_duplicate_accumulation_matches_add_at(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((50, 7))
    idx = rng.integers(-50, 50, size=(300,))   # many repeats, negative indices too
    r = rng.standard_normal((300, 7))
    x = leaf(cygrad, a, dtype)
    out = x[cygrad.tensor(idx)]
    np.testing.assert_allclose(to_numpy(out), a.astype(dtype)[idx], rtol=1e-6)
    (out * cygrad.tensor(r, dtype=out.dtype)).sum().backward()
    expected = np.zeros_like(a)
    np.add.at(expected, idx, r)
    np.testing.assert_allclose(to_numpy(x.grad), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", ["gather", "index_select", "take_along_dim", "two_arrays", "mask_then_dup"])
def test_duplicates_accumulate_in_every_gather(op):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 5))
    x = leaf(cygrad, a)
    if op == "gather":
        idx = np.array([[1, 1, 1], [0, 4, 0], [2, 2, 3], [4, 4, 4]])
        out = x.gather(1, cygrad.tensor(idx))
        expected = np.zeros_like(a)
        for i in range(4):
            np.add.at(expected[i], idx[i], 1.0)
    elif op == "index_select":
        out = x.index_select(1, cygrad.tensor([3, 3, 0, 3]))
        expected = np.zeros_like(a)
        np.add.at(expected, (slice(None), [3, 3, 0, 3]), 1.0)
    elif op == "take_along_dim":
        out = cygrad.take_along_dim(x, cygrad.tensor([[2], [2]]), 0)
        expected = np.zeros_like(a)
        expected[2] = 2.0
    elif op == "two_arrays":
        out = x[[1, 1, 3, 1], [0, 0, 4, 0]]
        expected = np.zeros_like(a)
        np.add.at(expected, ([1, 1, 3, 1], [0, 0, 4, 0]), 1.0)
    else:
        mask = np.zeros((4, 5), dtype=bool)
        mask[1, 2] = mask[3, 0] = True
        out = x[cygrad.tensor(mask)][[0, 0, 1]]
        expected = np.zeros_like(a)
        expected[1, 2], expected[3, 0] = 2.0, 1.0
    out.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), expected)


def test_scatter_add_accumulates_duplicates_forward():
    base = np.zeros((2, 4))
    src = np.arange(6.0).reshape(2, 3)
    idx = np.array([[1, 1, 3], [0, 0, 0]])
    out = cygrad.tensor(base).scatter_add(1, cygrad.tensor(idx), cygrad.tensor(src))
    expected = base.copy()
    for i in range(2):
        np.add.at(expected[i], idx[i], src[i])
    np.testing.assert_array_equal(to_numpy(out), expected)


# ---------------------------------------------------------------------------------------------
# forward values and dtypes (numpy oracle where its semantics are torch's)
# ---------------------------------------------------------------------------------------------

NUMPY_KEYS = [
    [0, 0, 1], [-1, 0], (slice(None), [2, 0]), ([0, 1], [2, 2]), ([[0], [1]], [0, 2, 1]),
    (Ellipsis, [3, 3]), (None, [1, 0]), ([1, 0], slice(None), [0, 3]), (slice(1, None), [0, 0], slice(None, None, 2)),
    np.array([1, 0, 1]), (np.array([[True, False, True], [False, True, True]]),),
    (slice(None), np.array([True, False, True])), (0, slice(1, 3)), (Ellipsis, 1), (),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
@pytest.mark.parametrize("key", NUMPY_KEYS, ids=[str(i) for i in range(len(NUMPY_KEYS))])
def test_getitem_forward_vs_numpy(key, dtype):
    a = (np.arange(24).reshape(2, 3, 4) % 5).astype(dtype)
    x = cygrad.tensor(a)
    np_key = tuple(k if not isinstance(k, list) else np.array(k) for k in key) if isinstance(key, tuple) else key
    if isinstance(np_key, list):
        np_key = np.array(np_key)
    out = x[key]
    assert str(out.dtype) == f"cygrad.{dtype}"
    np.testing.assert_array_equal(to_numpy(out), a[np_key])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_gather_scatter_index_select_dtypes(dtype):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    x = cygrad.tensor(a)
    idx = np.array([[0, 3], [2, 2], [1, 0]])
    np.testing.assert_array_equal(to_numpy(x.gather(1, cygrad.tensor(idx))), np.take_along_axis(a, idx, 1))
    np.testing.assert_array_equal(to_numpy(x.index_select(0, cygrad.tensor([2, 0, 2], dtype=cygrad.int32))),
                                  a[[2, 0, 2]])
    src = np.ones((3, 2), dtype=dtype)
    expected = a.copy()
    np.put_along_axis(expected, np.array([[0, 3], [1, 2], [1, 0]]), src, 1)
    got = x.scatter(1, cygrad.tensor([[0, 3], [1, 2], [1, 0]]), cygrad.tensor(src))
    np.testing.assert_array_equal(to_numpy(got), expected)


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_scatter_add_integer_and_float(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    got = cygrad.tensor(a).scatter_add(0, cygrad.tensor([[1, 1, 0]]), cygrad.tensor(np.full((1, 3), 5, dtype)))
    expected = a.copy()
    expected[1, 0] += 5
    expected[1, 1] += 5
    expected[0, 2] += 5
    np.testing.assert_array_equal(to_numpy(got), expected)


def test_large_gather_and_scatter_release_the_gil_path():
    """Above the no-GIL threshold (32768 elements) the same kernels run without the GIL."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3000, 40))
    idx = rng.integers(0, 3000, size=5000)
    x = leaf(cygrad, a)
    out = x[cygrad.tensor(idx)]
    np.testing.assert_array_equal(to_numpy(out), a[idx])
    out.sum().backward()
    expected = np.zeros_like(a)
    np.add.at(expected, idx, 1.0)
    np.testing.assert_array_equal(to_numpy(x.grad), expected)
    assert cygrad.tensor(rng.integers(0, 5, 100000))[cygrad.tensor([7, 99999])].shape == (2,)


@pytest.mark.parametrize("layout", ["contiguous int64", "transposed int64", "int32"])
@pytest.mark.parametrize("op", ["gather", "index_select"])
def test_backward_uses_the_index_as_it_was_at_the_call(op, layout):
    """The node keeps its own copy of the index, made in the pass that checks it (whole blocks
    and a ragged tail, several pieces): overwriting the caller's index afterwards changes
    nothing."""
    rng = np.random.default_rng(11)
    a = rng.standard_normal((700, 300))
    shape = (300, 700) if layout == "transposed int64" else (700, 300)
    idx_np = rng.integers(0, 300 if op == "gather" else 700, size=shape)
    if layout == "transposed int64":
        idx_np = idx_np.T
    if op == "index_select":
        idx_np = idx_np.reshape(-1)[:70001]
    idx_np = idx_np.astype(np.int32 if layout == "int32" else np.int64)
    original = idx_np.copy()
    idx = cygrad.from_numpy(idx_np)
    x = leaf(cygrad, a)
    out = x.gather(1, idx) if op == "gather" else x.index_select(0, idx)
    idx_np[...] = 0  # the caller's index, shared with the tensor
    out.sum().backward()
    expected = np.zeros_like(a)
    if op == "gather":
        np.add.at(expected, (np.arange(700)[:, None], original), 1.0)
        np.testing.assert_array_equal(to_numpy(out), np.take_along_axis(a, original, 1))
    else:
        np.add.at(expected, original, 1.0)
        np.testing.assert_array_equal(to_numpy(out), a[original])
    np.testing.assert_array_equal(to_numpy(x.grad), expected)


def test_masked_fill_forward_dtypes():
    m = np.array([True, False, True])
    for dtype, value, expected in [("float32", 2.5, [2.5, 1, 2.5]), ("int64", 2.7, [2, 1, 2]),
                                   ("bool", 0, [False, True, False]), ("int32", -1, [-1, 1, -1])]:
        got = cygrad.ones(3, dtype=getattr(cygrad, dtype)).masked_fill(cygrad.tensor(m), value)
        assert str(got.dtype) == f"cygrad.{dtype}"
        np.testing.assert_array_equal(to_numpy(got), np.array(expected, dtype=dtype))


def test_cat_and_stack_promote_dtypes(torch):
    for T in (cygrad, torch):
        T.cat([T.tensor([1, 2]), T.tensor([0.5])])
    for parts in ([[1, 2], [0.5]], [[True], [3]], [[1.5], [True]]):
        ours = cygrad.cat([cygrad.tensor(p) for p in parts])
        theirs = torch.cat([torch.tensor(p) for p in parts])
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
    ours = cygrad.stack([cygrad.tensor([1, 2]), cygrad.tensor([3.0, 4.0], dtype=cygrad.float64)])
    assert ours.dtype is cygrad.float64


def test_split_and_chunk_pieces_match_torch(torch):
    for size in range(0, 9):
        for chunks in range(1, 6):
            ours = [tuple(p.shape) for p in cygrad.zeros(size, 2).chunk(chunks)]
            theirs = [tuple(p.shape) for p in torch.zeros(size, 2).chunk(chunks)]
            assert ours == theirs, (size, chunks)
        for step in range(1, 5):
            ours = [tuple(p.shape) for p in cygrad.zeros(2, size).split(step, 1)]
            theirs = [tuple(p.shape) for p in torch.zeros(2, size).split(step, 1)]
            assert ours == theirs, (size, step)


def test_split_outputs_are_views_of_the_input():
    x = cygrad.zeros(4, 3)
    first, second = x.split(2)
    first[0, 0] = 5.0
    assert x[0, 0].item() == 5.0
    assert second._base is x


# ---------------------------------------------------------------------------------------------
# torch's key semantics, forward and backward (torch oracle)
# ---------------------------------------------------------------------------------------------

TORCH_KEYS = [
    lambda T: (0, slice(None), [2, 0]),              # torch selects first: (3, 2), numpy gives (2, 3)
    lambda T: (slice(None), 0, slice(None)),
    lambda T: ([0, 1], slice(None), 0),
    lambda T: ([1, 0], None, [0, 2]),
    lambda T: (slice(None), [0, 2], None, [1, 3]),
    lambda T: (T.tensor(1), [2, 1]),                 # a 0-d integer tensor selects
    lambda T: (T.tensor([1, 0], dtype=T.int32),),
    lambda T: (T.tensor([[True, False, True], [False, False, True]]),),
    lambda T: (slice(None), T.tensor([True, False, True]), [1, 3]),
    lambda T: (True,),
    lambda T: (False, 1),
    lambda T: (T.tensor(True), Ellipsis, [0]),
    lambda T: (0, True),
    lambda T: ([0, 1], True),
    lambda T: (slice(None), T.tensor(True), [0, 1]),
    lambda T: ([],),
    lambda T: (slice(None, None, 2), slice(-2, None), [-1, -4]),
    lambda T: ([[0], [1]], [[1, 2]], [[[3]]]),
    lambda T: (np.array([1, 1]),),
]


@pytest.mark.parametrize("make_key", TORCH_KEYS, ids=[str(i) for i in range(len(TORCH_KEYS))])
def test_getitem_vs_torch(make_key, torch):
    same_as_torch(lambda T, x: x[make_key(T)] * 1.5, [X234])


def test_list_of_sequences_is_a_tuple_with_a_warning(torch):
    x = cygrad.tensor(X234)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        ours = x[[[0, 1], [1, 2]]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.tensor(X234)[[[0, 1], [1, 2]]]
    np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
    np.testing.assert_array_equal(to_numpy(x[[0, 1]]), X234[[0, 1]])  # a plain list is one index


def test_random_keys_vs_torch(torch):
    """Random mixes of integers, slices, None, arrays and masks over a 4-d tensor."""
    rng = np.random.default_rng(11)
    shape = (3, 4, 2, 5)
    a = rng.standard_normal(shape)
    for trial in range(80):
        key_parts, dims_left = [], list(shape)
        index_shape = tuple(rng.integers(1, 3, size=rng.integers(1, 3)))
        mask_trial = trial % 3 == 0  # one mask, no arrays (its nonzero count fixes the index shape)
        with_mask = mask_trial
        while dims_left:
            size = dims_left.pop(0)
            kind = rng.integers(0, 6)
            if kind == 0:
                key_parts.append(("int", int(rng.integers(-size, size))))
            elif kind == 1:
                start = int(rng.integers(0, size))
                key_parts.append(("slice", slice(start, None, int(rng.integers(1, 3)))))
            elif kind == 2 and not mask_trial:
                key_parts.append(("array", rng.integers(-size, size, size=index_shape)))
            elif kind == 3:
                key_parts.append(("none", None))
                dims_left.insert(0, size)
            elif kind == 4 and with_mask and dims_left:
                key_parts.append(("mask", rng.random((size, dims_left.pop(0))) < 0.5))
                with_mask = False
            else:
                key_parts.append(("slice", slice(None)))

        def fn(T, x, parts=key_parts):
            key = tuple(T.tensor(v) if k in ("array", "mask") else v for k, v in parts)
            return x[key] * 2.0

        same_as_torch(fn, [a])


# ---------------------------------------------------------------------------------------------
# x[key] = value inside a graph (torch oracle)
# ---------------------------------------------------------------------------------------------


def _assign(key_fn, value_fn):
    def program(T, x, w):
        y = x * 1.0
        y[key_fn(T)] = value_fn(T, w)
        return y * x
    return program


SETITEM_CASES = {
    "int_row": (lambda T: 1, lambda T, w: w[0] * 2, (4,)),
    "slice_bcast": (lambda T: (slice(None), slice(1, 3)), lambda T, w: w.exp(), (3, 1)),
    "ellipsis": (lambda T: Ellipsis, lambda T, w: w, (4,)),
    "none_int": (lambda T: (None, 2), lambda T, w: w, (1, 4)),
    "number": (lambda T: (0, [1, 3]), lambda T, w: 7.0, (1,)),
    "list": (lambda T: [2, 0], lambda T, w: w * w, (2, 4)),
    "list_dup": (lambda T: [0, 2, 0], lambda T, w: w, (3, 4)),
    "list_dup_bcast": (lambda T: [1, 1], lambda T, w: w, (4,)),
    "two_arrays": (lambda T: ([0, 2, 1], [3, 3, 0]), lambda T, w: w, (3,)),
    "array_slice": (lambda T: ([0, 2], slice(1, 3)), lambda T, w: w, (2, 1)),
    "mask": (lambda T: T.tensor(X34 > 0), lambda T, w: w.sum(), (2,)),
    "mask_rows": (lambda T: T.tensor([True, False, True]), lambda T, w: w, (4,)),
    "0d_value_tensor": (lambda T: [1], lambda T, w: w.sum(), (2,)),
    "leading_ones": (lambda T: (0, slice(None)), lambda T, w: w, (1, 1, 4)),
    "float32_value": (lambda T: 1, lambda T, w: w.float(), (4,)),
}


def test_augmented_assignment_through_an_index_vs_torch(torch):
    def program(T, x, w):
        y = x * 1.0
        y[[0, 2]] += w          # getitem, in-place add on the copy, setitem
        y[:, 1:3] *= 2.0
        return y
    same_as_torch(program, [X34, RNG.standard_normal((2, 4))])


@pytest.mark.parametrize("case", list(SETITEM_CASES))
def test_setitem_in_graph_vs_torch(case, torch):
    key_fn, value_fn, w_shape = SETITEM_CASES[case]
    w = RNG.standard_normal(w_shape)
    same_as_torch(_assign(key_fn, value_fn), [X34, w])


def test_setitem_grad_fn_names(torch):
    for T in (cygrad, torch):
        x = T.ones(3, 4, requires_grad=True)
        y = x * 1
        y[0] = 2.0
        z = x * 1
        z[[0, 1]] = 2.0
        # torch names the first "torch::autograd::CopySlices"
        assert y.grad_fn.name().endswith("CopySlices") and z.grad_fn.name() == "IndexPutBackward0"


def test_setitem_overwritten_positions_get_no_gradient():
    x = leaf(cygrad, np.ones((3, 2)))
    w = leaf(cygrad, np.ones(2))
    y = x.clone()
    y[1] = w * 3
    (y * cygrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=cygrad.float64)).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [[1, 2], [0, 0], [5, 6]])
    np.testing.assert_array_equal(to_numpy(w.grad), [9, 12])


def test_setitem_leaf_requiring_grad_raises_but_works_under_no_grad():
    x = cygrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x[0] = 2.0
    with cygrad.no_grad():
        x[[0, 2]] = cygrad.tensor([5.0, 6.0])
    np.testing.assert_array_equal(to_numpy(x), [5, 1, 6])
    assert x.is_leaf and x.grad_fn is None


def test_setitem_into_plain_tensor_from_a_graph_value(torch):
    """A tensor outside the graph joins it when a value that requires grad is written into it."""
    for T in (cygrad, torch):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        buf = T.zeros(3, 2)
        buf[1] = w * w
        assert buf.requires_grad and not buf.is_leaf
        buf.sum().backward()
        np.testing.assert_array_equal(to_numpy(w.grad), [2.0, 4.0])


def test_setitem_bumps_the_version_so_saved_tensors_are_checked(torch):
    for T in (cygrad, torch):
        x = T.ones(3, requires_grad=True)
        y = x * 2
        z = y * y        # saves y
        y[0] = 5.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def _view_ops(fn):
    """A program that clones x, runs fn(T, y, w) (in-place work through views of y) and returns y."""
    def program(T, x, w):
        y = x * 1.0
        fn(T, y, w)
        return y * x
    return program


def _chain(T, y, w):
    y[0][1:] = w[:3]


def _keep_view(T, y, w):
    v = y[1]
    v.mul_(w[0])
    y[2] += v            # the view's new history is a read of the base's new one


VIEW_INPLACE = {
    "iadd_row": lambda T, y, w: y.__setitem__(0, y[0].__iadd__(w)),
    "imul_cols": lambda T, y, w: y[:, 1:3].mul_(w[:2]),
    "setitem_on_view": _chain,
    "transposed_zero": lambda T, y, w: y.t()[1].zero_(),
    "reshape_view_copy": lambda T, y, w: y.view(-1)[2:6].copy_(w),
    "keep_using_view": _keep_view,
    "masked_fill_on_view": lambda T, y, w: y[0].masked_fill_(T.tensor([True, False, True, False]), w[1]),
    "scatter_on_view": lambda T, y, w: y[1:].scatter_(1, T.tensor([[0, 3], [2, 2]]), w.reshape(2, 2)),
    "split_piece": lambda T, y, w: y[:, 2:].sub_(w[:2]),
}


@pytest.mark.parametrize("case", list(VIEW_INPLACE))
def test_inplace_on_views_rebuilds_the_base_history_vs_torch(case, torch):
    same_as_torch(_view_ops(VIEW_INPLACE[case]), [X34, RNG.standard_normal(4)])


def _stale_views(T, x, w):
    y = x * 2
    first, second, cols = y[0], y[1], y.t()[1:3]
    y.mul_(3)            # every view above is now stale: its history is rebuilt from y's
    second.add_(w)       # a write through one view makes the others stale again
    return first * cols[:, 0].sum() + second * y[2]


def test_stale_views_are_regenerated_from_the_base_vs_torch(torch):
    same_as_torch(_stale_views, [X34, RNG.standard_normal(4)])
    results = []
    for T in (cygrad, torch):
        x = T.ones(3, requires_grad=True)
        y = x * 2
        v = y[0:2]
        y.mul_(3)
        v.sum().backward()
        results.append(to_numpy(x.grad))
    np.testing.assert_array_equal(results[0], results[1])


def test_inplace_on_view_of_plain_tensor_joins_the_graph(torch):
    for T in (cygrad, torch):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        buf = T.zeros(2, 3)
        buf[:, 1].copy_(w * w)
        assert buf.grad_fn.name().endswith("CopySlices")
        (buf * T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        np.testing.assert_array_equal(to_numpy(w.grad), [4.0, 20.0])


def test_inplace_on_view_of_non_contiguous_base_is_refused():
    x = cygrad.ones(3, 2, requires_grad=True)
    y = x.t().double()          # a Fortran-ordered result: positions in memory are not flat indices
    with pytest.raises(NotImplementedError, match="non-contiguous"):
        y[0].mul_(2)


def test_inplace_on_view_of_leaf_raises_like_torch(torch):
    messages = []
    for T in (cygrad, torch):
        x = T.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            x[0:2].mul_(2)
        messages.append(str(info.value))
        with T.no_grad():
            x[0:2].mul_(2)   # allowed outside the graph
        np.testing.assert_array_equal(to_numpy(x), [2, 2, 1])
    assert messages[0] == messages[1]


def test_setitem_without_grad_values_and_conversion():
    x = cygrad.zeros(2, 3, dtype=cygrad.int64)
    x[0] = cygrad.tensor([1.9, -2.7, 3.2])    # float into int truncates, as torch
    x[1, [0, 2]] = True
    np.testing.assert_array_equal(to_numpy(x), [[1, -2, 3], [1, 0, 1]])
    a = np.arange(6.0)
    y = cygrad.tensor(a)
    y[[0, 1, 2]] = y[1:4]                      # the value overlaps the destination
    expected = a.copy()
    expected[[0, 1, 2]] = a[1:4].copy()
    np.testing.assert_array_equal(to_numpy(y), expected)
    z = cygrad.zeros(2, 3)
    z[cygrad.tensor([[True, False, True], [False, True, False]])] = cygrad.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(to_numpy(z), [[1, 0, 2], [0, 3, 0]])


def test_setitem_into_a_non_contiguous_tensor():
    a = np.zeros((4, 5))
    x = cygrad.tensor(a)
    x.t()[[1, 3], 2:] = cygrad.tensor([1.0, 2.0])  # a transposed view: strides the kernel follows
    a.T[[1, 3], 2:] = np.array([1.0, 2.0])
    np.testing.assert_array_equal(to_numpy(x), a)
    b = np.zeros((2, 3, 4, 5))
    y = cygrad.tensor(b)
    view = y.permute(2, 0, 3, 1)                    # not expressible as one (outer, r, inner) view
    view[:, [1, 0, 1]] = cygrad.tensor(np.arange(4.0 * 3 * 5 * 3).reshape(4, 3, 5, 3))
    b.transpose(2, 0, 3, 1)[:, [1, 0, 1]] = np.arange(4.0 * 3 * 5 * 3).reshape(4, 3, 5, 3)
    np.testing.assert_array_equal(to_numpy(y), b)


# ---------------------------------------------------------------------------------------------
# in-place scatters and masked_fill_ in a graph (torch oracle)
# ---------------------------------------------------------------------------------------------

INPLACE_CASES = {
    "scatter_": lambda T, x, s: (x * 1).scatter_(1, T.tensor([[0, 3], [2, 2], [1, 0]]), s[:, :2]),
    "scatter_value": lambda T, x, s: (x * 1).scatter_(0, T.tensor([[2, 0, 0, 1]]), 4.0) * s.sum(),
    "scatter_add_": lambda T, x, s: (x * 1).scatter_add_(1, T.tensor([[0, 0, 0], [1, 1, 3], [3, 3, 3]]), s),
    "masked_fill_": lambda T, x, s: (x * 1).masked_fill_(T.tensor(X34 > 0), s[0, 0]),
    "masked_fill_bcast": lambda T, x, s: (x * 1).masked_fill_(T.tensor([True, False, False, True]), 1.5) * s[0, 0],
    "dup_scatter": lambda T, x, s: (x * 1).scatter(1, T.tensor([[1, 1, 1]]), s[:1]),
}


@pytest.mark.parametrize("case", list(INPLACE_CASES))
def test_inplace_ops_in_graph_vs_torch(case, torch):
    same_as_torch(INPLACE_CASES[case], [X34, RNG.standard_normal((3, 3))])


@pytest.mark.parametrize("op", [
    lambda x: x.scatter_(0, cygrad.tensor([[0]]), 1.0),
    lambda x: x.scatter_add_(0, cygrad.tensor([[0]]), cygrad.ones(1, 1)),
    lambda x: x.masked_fill_(cygrad.tensor([True]), 0.0),
])
def test_inplace_ops_on_leaf_requiring_grad_raise(op):
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        op(cygrad.ones(2, 1, requires_grad=True))


def test_masked_fill_value_tensor_gets_the_masked_sum():
    x = leaf(cygrad, np.ones((2, 3)))
    v = leaf(cygrad, 0.0)
    mask = cygrad.tensor([[True, False, True], [False, False, True]])
    out = x.masked_fill(mask, v)
    (out * cygrad.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    assert v.grad.item() == 0 + 2 + 5
    np.testing.assert_array_equal(to_numpy(x.grad), [[0, 1, 0], [3, 4, 0]])


# ---------------------------------------------------------------------------------------------
# second derivatives: every backward here is made of ops (torch oracle)
# ---------------------------------------------------------------------------------------------

SECOND_ORDER = {
    "index_dup": lambda T, x: (x[[0, 0, 2]] * x[[1, 2, 2]]).sum(),
    "mask": lambda T, x: (x[T.tensor(X34 > 0)] * x[T.tensor(X34 < 0.5)][:1]).sum(),
    "slice": lambda T, x: (x[1:, ::2] * x[:2, 1::2]).sum(),
    "gather": lambda T, x: (x.gather(1, T.tensor([[0, 0], [3, 1], [2, 2]])) * x[:, :2]).sum(),
    "scatter_add": lambda T, x: (x.scatter_add(0, T.tensor([[2, 2, 0, 1]]), x[:1] * x[1:2]) * x).sum(),
    "scatter": lambda T, x: (x.scatter(1, T.tensor([[3], [0], [1]]), x[:, :1] * x[:, 1:2]) * x).sum(),
    "index_select": lambda T, x: (x.index_select(1, T.tensor([3, 3, 0])) * x[:, :3]).sum(),
    "masked_fill": lambda T, x: (x.masked_fill(T.tensor(X34 > 0), 2.0) * x).sum(),
    "setitem": lambda T, x: (_assign(lambda T: [2, 0], lambda T, w: w * w)(T, x, x[:2])).sum(),
    "cat_split": lambda T, x: (T.cat(x.split([1, 3], 1)[::-1], 1) * x).sum(),
    "stack_chunk": lambda T, x: (T.stack(x.chunk(3)) * x).sum(),
    "repeat": lambda T, x: (x.repeat(2, 1)[1:4] * x).sum(),
    "flip_roll": lambda T, x: (x.flip(0).roll(1, 1) * x).sum(),
    "take_along_dim": lambda T, x: (T.take_along_dim(x, T.tensor([[1], [1], [0]]), 1) * x).sum(),
}


@pytest.mark.parametrize("case", list(SECOND_ORDER))
def test_second_derivatives_vs_torch(case, torch):
    results = []
    r = RNG.standard_normal((3, 4))
    for T in (cygrad, torch):
        x = leaf(T, X34)
        (g,) = T.autograd.grad(SECOND_ORDER[case](T, x), x, create_graph=True)
        (h,) = T.autograd.grad((g * T.tensor(r, dtype=T.float64)).sum(), x)
        results.append((to_numpy(g), to_numpy(h)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# grad_fn names and errors, as torch words them
# ---------------------------------------------------------------------------------------------

NAMED = [
    lambda T, x: x[[0, 1]], lambda T, x: x[1], lambda T, x: x[1:], lambda T, x: x[None],
    lambda T, x: x.index_select(0, T.tensor([0])), lambda T, x: x.gather(0, T.tensor([[0]])),
    lambda T, x: x.scatter(0, T.tensor([[0]]), x[:1, :1]), lambda T, x: x.scatter(0, T.tensor([[0]]), 1.0),
    lambda T, x: x.scatter_add(0, T.tensor([[0]]), x[:1, :1]),
    lambda T, x: x.masked_fill(T.tensor([True, False, True, False]), 1.0),
    lambda T, x: x.masked_fill(T.tensor([True, False, True, False]), x[0, 0]),
    lambda T, x: T.cat([x, x]), lambda T, x: T.stack([x, x]), lambda T, x: x.split(2)[0],
    lambda T, x: x.split([1, 2])[0], lambda T, x: x.chunk(2)[1], lambda T, x: x.repeat(1, 2),
    lambda T, x: x.flip(0), lambda T, x: x.roll(1), lambda T, x: x.narrow(1, 0, 2),
    lambda T, x: x.movedim(0, 1), lambda T, x: T.take_along_dim(x, T.tensor([[0]]), 1),
    lambda T, x: x.expand(2, 3, 4), lambda T, x: T.broadcast_to(x, (2, 3, 4)),
]


@pytest.mark.parametrize("fn", NAMED, ids=[str(i) for i in range(len(NAMED))])
def test_grad_fn_names_match_torch(fn, torch):
    names = [fn(T, T.ones(3, 4, requires_grad=True)).grad_fn.name() for T in (cygrad, torch)]
    assert names[0] == names[1]


ERRORS = [
    lambda T: T.ones(3)[[0, 5]],
    lambda T: T.ones(2, 3)[:, [0, -4]],
    lambda T: T.ones(2, 3, 4)[:, [0], [9]],
    lambda T: T.ones(2, 3)[5],
    lambda T: T.ones(2, 3)[0, 0, 0],
    lambda T: T.ones(2, 3)[[0, 1], [0, 1, 2]],
    lambda T: T.ones(2, 3)[T.tensor([True, False, True])],
    lambda T: T.ones(2, 3, 4)[:, T.ones(3, 5, dtype=T.bool)],
    lambda T: T.ones(2, 3)[T.tensor([0.0, 1.0])],
    lambda T: T.ones(2, 3)[1.5],
    lambda T: T.ones(2, 3)[::-1],
    lambda T: T.ones(2, 4).__setitem__([0, 1], T.ones(3)),
    lambda T: T.ones(2, 3).__setitem__([0, 1], T.ones(2, 1, 3)),
    lambda T: T.ones(2, 4).__setitem__(0, T.ones(3)),
    lambda T: T.ones(2, 4).__setitem__(0, T.ones(2, 4)),
    lambda T: T.ones(2, 4).__setitem__(T.ones(2, 4, dtype=T.bool), T.ones(3)),
    lambda T: T.ones(3, 4).gather(1, T.tensor([[0, 4]])),
    lambda T: T.ones(3, 4).gather(1, T.tensor([[0, -1]])),
    lambda T: T.ones(3, 4).gather(1, T.tensor([0, 1])),
    lambda T: T.ones(3, 4).gather(1, T.tensor([[0.0]])),
    lambda T: T.ones(3, 4).gather(1, T.zeros(4, 2, dtype=T.int64)),
    lambda T: T.ones(3, 4).scatter(1, T.tensor([[0, 1], [1, 2]]), T.ones(1, 1)),
    lambda T: T.ones(3, 4).scatter(1, T.tensor([[0, 5]]), T.ones(2, 3)),
    lambda T: T.ones(3, 4).scatter(1, T.tensor([[0, 1]]), T.ones(2, 3, dtype=T.float64)),
    lambda T: T.ones(3, 4).scatter_add(1, T.tensor([[0, 1]]), 5.0),
    lambda T: T.ones(3, 4).index_select(1, T.tensor([[3]])),
    lambda T: T.ones(3, 4).index_select(0, T.tensor([5])),
    lambda T: T.ones(3, 4).index_select(1, T.tensor([1.0])),
    lambda T: T.ones(3, 4).masked_fill(T.tensor([True, False, True]), 2.0),
    lambda T: T.ones(3, 4).masked_fill(T.tensor([1, 0, 1, 0]), 2.0),
    lambda T: T.ones(3, 4).masked_fill(T.tensor([True, False, True, False]), T.tensor([2.0])),
    lambda T: T.ones(3, 4).masked_fill_(T.ones(3, 3, 4, dtype=T.bool), 2.0),
    lambda T: T.take_along_dim(T.ones(3, 4), T.tensor([0, 1]), 1),
    lambda T: T.take_along_dim(T.ones(3, 4), T.tensor([[0], [1]]), 1),
    lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]),
    lambda T: T.cat([T.ones(2, 3), T.ones(3)]),
    lambda T: T.cat([]),
    lambda T: T.cat([T.tensor(1.0), T.tensor(2.0)]),
    lambda T: T.cat(T.ones(2)),
    lambda T: T.cat([T.ones(2, 3)], 2),
    lambda T: T.stack([T.ones(2, 3), T.ones(2, 4)]),
    lambda T: T.stack([]),
    lambda T: T.ones(2, 3).split([1, 1], 1),
    lambda T: T.ones(2, 3).split(0, 1),
    lambda T: T.ones(2, 3).split(-1, 1),
    lambda T: T.ones(2, 3).chunk(0, 1),
    lambda T: T.ones(2, 3).expand(-1, 2, 3),
    lambda T: T.ones(2, 3).expand(2, -2),
    lambda T: T.ones(2, 3).expand(3),
    lambda T: T.ones(2, 3).expand(4, 3),
    lambda T: T.broadcast_to(T.ones(2, 3), (3, 3)),
    lambda T: T.ones(2, 3).repeat(2),
    lambda T: T.ones(2, 3).repeat(-1, 2),
    lambda T: T.ones(2, 3, 4).flatten(2, 1),
    lambda T: T.ones(2, 3).unflatten(1, (2, 2)),
    lambda T: T.ones(2, 3).unflatten(1, ()),
    lambda T: T.ones(2, 3).flip(0, 0),
    lambda T: T.ones(2, 3).roll((1, 2), (0,)),
    lambda T: T.ones(2, 3).narrow(1, 2, 2),
    lambda T: T.ones(2, 3).narrow(1, 4, 0),
    lambda T: T.ones(2, 3).narrow(1, -4, 1),
    lambda T: T.ones(2, 3).narrow(1, 1, -1),
    lambda T: T.tensor(1.0).narrow(0, 0, 1),
    lambda T: T.ones(2, 3).movedim((0, 1), (0,)),
    lambda T: T.ones(2, 3).movedim((0, 0), (0, 1)),
    lambda T: T.ones(2, 3).movedim((0, 1), (1, 1)),
    lambda T: T.ones(2, 3).movedim(0, 2),
]


@pytest.mark.parametrize("fn", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_match_torch(fn, torch):
    caught = []
    for T in (cygrad, torch):
        with pytest.raises(Exception) as info:
            fn(T)
        caught.append(info.value)
    ours, theirs = caught
    assert type(ours) is type(theirs), (ours, theirs)
    assert str(ours) == str(theirs).replace("torch.", "cygrad.")
