"""The op table: every differentiable op of cygrad, each case checked three ways:

* ``grad64``: cygrad's float64 gradients against central finite differences (tests/helpers.py);
* ``torch32`` / ``torch64``: forward values, output dtypes/shapes and input gradients against torch
  (skipped when torch is not installed).

A case is ``Case(name, fn, shapes, domains)``; ``fn(T, *xs)`` is written once for both libraries.
Non-contiguous inputs are made inside ``fn`` from the leaf (``x.t()``, ``x[:, ::2]``), so the
gradient flows back through the view to the leaf.
"""
import math
from dataclasses import dataclass

import numpy as np
import pytest

import cygrad
from helpers import check_grads, compare_devices, compare_with_torch, dtype_name, to_numpy

# ---------------------------------------------------------------------------------------------
# input domains
# ---------------------------------------------------------------------------------------------


def _real(rng, shape):
    return rng.uniform(-2.0, 2.0, size=shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def _nonzero(rng, shape):
    """Away from the kinks of abs/relu by far more than the finite-difference step."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)


def _distinct(rng, shape):
    """No ties (and gaps far larger than eps) so that max/min and their indices are unambiguous."""
    n = int(np.prod(shape, dtype=np.int64))
    values = (rng.permutation(n) - n / 2.0) * 0.25 + rng.uniform(-0.05, 0.05, size=n)
    return values.reshape(shape)


DOMAINS = {"real": _real, "positive": _positive, "nonzero": _nonzero, "distinct": _distinct}


def _grid(rng, shape):
    """Multiples of 0.5 in [-2, 2]: two inputs tie often (maximum's split gradient at a tie is also
    what central differences measure there)."""
    return rng.integers(-4, 5, size=shape) * 0.5


def _one_zero(rng, shape):
    a = _nonzero(rng, shape)
    a.flat[1] = 0.0
    return a


def _two_zeros(rng, shape):
    """Zeros at flat indices 1 and 2 (the same row of a matrix) and at the last element."""
    a = _nonzero(rng, shape)
    a.flat[1] = a.flat[2] = a.flat[-1] = 0.0
    return a


def _huge(rng, shape):
    """Around +-1000, where exp overflows: logsumexp must shift by the max."""
    return rng.choice([-1000.0, 1000.0], size=shape) + rng.uniform(-2.0, 2.0, size=shape)


DOMAINS.update(grid=_grid, one_zero=_one_zero, two_zeros=_two_zeros, huge=_huge)


@dataclass
class Case:
    name: str
    fn: object
    shapes: tuple
    domains: tuple = ("real",)
    tol32: tuple = None  # (rtol, atol) for the float32 torch comparison when 1e-5 is too tight

    def inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        domains = self.domains if len(self.domains) == len(self.shapes) else self.domains * len(self.shapes)
        return [DOMAINS[d](rng, s) for d, s in zip(domains, self.shapes)]


def _put(y, key, value):
    """y[key] = value, returning y: assignment as an expression for the table's lambdas."""
    y[key] = value
    return y


def _index(T, values):
    return T.tensor(values, dtype=T.int64)


def _mask(T, values):
    return T.tensor(np.array(values, dtype=bool))


MASK_3x4 = [[True, False, True, False], [False, False, True, True], [True, True, False, False]]

C = Case
LIBM = (1e-4, 1e-5)  # float32 transcendental functions / long accumulations: a few ulp differences

CASES = [
    # ---- binary arithmetic, same shape / broadcasting / 0-d / empty ----
    C("add", lambda T, x, y: x + y, ((3, 4), (3, 4))),
    C("add_fn", lambda T, x, y: T.add(x, y), ((3, 4), (3, 4))),
    C("add_alpha", lambda T, x, y: T.add(x, y, alpha=2.5), ((3, 4), (3, 4))),
    C("add_bcast_rank", lambda T, x, y: x + y, ((4,), (2, 3, 4))),
    C("add_bcast_outer", lambda T, x, y: x + y, ((3, 1), (1, 4))),
    C("sub", lambda T, x, y: x - y, ((3, 4), (3, 4))),
    C("sub_fn", lambda T, x, y: T.sub(x, y), ((2, 3), (3,))),
    C("sub_bcast", lambda T, x, y: x - y, ((2, 1, 4), (3, 1))),
    C("mul", lambda T, x, y: x * y, ((3, 4), (3, 4))),
    C("mul_fn", lambda T, x, y: T.mul(x, y), ((3, 4), (4,))),
    C("mul_bcast_outer", lambda T, x, y: x * y, ((3, 1), (1, 4))),
    C("mul_bcast_rank", lambda T, x, y: x * y, ((4,), (2, 3, 4))),
    C("div", lambda T, x, y: x / y, ((3, 4), (3, 4)), ("real", "positive")),
    C("div_fn", lambda T, x, y: T.div(x, y), ((3, 4), (3, 4)), ("real", "nonzero")),
    C("div_bcast", lambda T, x, y: x / y, ((3, 1), (1, 4)), ("real", "positive")),
    C("add_0d_0d", lambda T, x, y: x + y, ((), ())),
    C("mul_0d_vec", lambda T, x, y: x * y, ((), (5,))),
    C("div_vec_0d", lambda T, x, y: x / y, ((2, 3), ()), ("real", "positive")),
    C("mul_empty", lambda T, x, y: x * y, ((0, 3), (0, 3))),
    C("add_empty_bcast", lambda T, x, y: x + y, ((0, 3), (3,))),
    # ---- pow ----
    C("pow_2", lambda T, x: x ** 2, ((3, 4),)),
    C("pow_3", lambda T, x: x ** 3, ((3, 4),)),
    C("pow_half", lambda T, x: x ** 0.5, ((3, 4),), ("positive",)),
    C("pow_m1", lambda T, x: x ** -1, ((3, 4),), ("positive",)),
    C("pow_0", lambda T, x: x ** 0, ((3, 4),)),
    C("pow_2_5", lambda T, x: x ** 2.5, ((3, 4),), ("positive",)),
    C("pow_method", lambda T, x: x.pow(3), ((5,),)),
    C("pow_fn", lambda T, x: T.pow(x, 2), ((5,),)),
    C("pow_tensor", lambda T, x, y: x ** y, ((3, 4), (3, 4)), ("positive", "real")),
    C("pow_tensor_bcast", lambda T, x, y: x ** y, ((3, 1), (4,)), ("positive", "real")),
    C("pow_tensor_0d", lambda T, x, y: x ** y, ((), ()), ("positive", "real")),
    C("pow_empty", lambda T, x: x ** 2, ((0, 3),)),
    # ---- tensor op python scalar, both sides ----
    C("scalar_add", lambda T, x: x + 2, ((3, 4),)),
    C("scalar_radd", lambda T, x: 2 + x, ((3, 4),)),
    C("scalar_sub", lambda T, x: x - 1.5, ((3, 4),)),
    C("scalar_rsub", lambda T, x: 2 - x, ((3, 4),)),
    C("scalar_mul", lambda T, x: x * 2.5, ((3, 4),)),
    C("scalar_rmul", lambda T, x: 2.5 * x, ((3, 4),)),
    C("scalar_div", lambda T, x: x / 3, ((3, 4),)),
    C("scalar_rdiv", lambda T, x: 2 / x, ((3, 4),), ("positive",)),
    C("scalar_rpow", lambda T, x: 2 ** x, ((3, 4),)),
    C("scalar_rpow_float", lambda T, x: 1.5 ** x, ((3, 4),)),
    C("scalar_0d", lambda T, x: 3 - x * 2, ((),)),
    # ---- unary ----
    C("neg", lambda T, x: -x, ((3, 4),)),
    C("neg_method", lambda T, x: x.neg(), ((3, 4),)),
    C("neg_fn", lambda T, x: T.neg(x), ((3, 4),)),
    C("abs", lambda T, x: x.abs(), ((3, 4),), ("nonzero",)),
    C("abs_builtin", lambda T, x: abs(x), ((3, 4),), ("nonzero",)),
    C("abs_fn", lambda T, x: T.abs(x), ((3, 4),), ("nonzero",)),
    C("exp", lambda T, x: x.exp(), ((3, 4),)),
    C("exp_fn", lambda T, x: T.exp(x), ((3, 4),)),
    C("log", lambda T, x: x.log(), ((3, 4),), ("positive",)),
    C("log_fn", lambda T, x: T.log(x), ((3, 4),), ("positive",)),
    C("sqrt", lambda T, x: x.sqrt(), ((3, 4),), ("positive",)),
    C("sqrt_fn", lambda T, x: T.sqrt(x), ((3, 4),), ("positive",)),
    C("sin", lambda T, x: x.sin(), ((3, 4),)),
    C("sin_fn", lambda T, x: T.sin(x), ((3, 4),)),
    C("cos", lambda T, x: x.cos(), ((3, 4),)),
    C("cos_fn", lambda T, x: T.cos(x), ((3, 4),)),
    C("relu", lambda T, x: x.relu(), ((3, 4),), ("nonzero",)),
    C("relu_fn", lambda T, x: T.relu(x), ((3, 4),), ("nonzero",)),
    C("sigmoid", lambda T, x: x.sigmoid(), ((3, 4),)),
    C("sigmoid_fn", lambda T, x: T.sigmoid(x), ((3, 4),)),
    C("tanh", lambda T, x: x.tanh(), ((3, 4),)),
    C("tanh_fn", lambda T, x: T.tanh(x), ((3, 4),)),
    C("exp_0d", lambda T, x: x.exp(), ((),)),
    C("log_0d", lambda T, x: T.log(x), ((),), ("positive",)),
    C("tanh_empty", lambda T, x: x.tanh(), ((0, 3),)),
    C("sigmoid_empty", lambda T, x: T.sigmoid(x), ((0,),)),
    C("unary_chain", lambda T, x: (x.sin() * x.cos()).exp().sqrt().log().tanh().sigmoid(), ((2, 5),)),
    # ---- non-contiguous inputs ----
    C("exp_transposed", lambda T, x: x.t().exp(), ((4, 3),)),
    C("sqrt_strided", lambda T, x: x[:, ::2].sqrt(), ((3, 6),), ("positive",)),
    C("mul_transposed_bcast", lambda T, x, y: x.t() * y, ((4, 3), (4,))),
    C("add_strided_strided", lambda T, x, y: x[:, ::2] + y.t(), ((3, 8), (4, 3))),
    C("div_permuted", lambda T, x, y: x.permute(2, 0, 1) / y, ((2, 3, 4), (4, 1, 3)), ("real", "positive")),
    C("relu_strided", lambda T, x: T.relu(x[::2]), ((6, 3),), ("nonzero",)),
    C("pow_tensor_transposed", lambda T, x, y: x.t() ** y, ((3, 2), (2, 3)), ("positive", "real")),
    # ---- matmul ----
    C("matmul_1d_1d", lambda T, x, y: x @ y, ((5,), (5,))),
    C("matmul_1d_2d", lambda T, x, y: x @ y, ((4,), (4, 3))),
    C("matmul_2d_1d", lambda T, x, y: x @ y, ((3, 4), (4,))),
    C("matmul_2d_2d", lambda T, x, y: x @ y, ((3, 4), (4, 5))),
    C("matmul_fn", lambda T, x, y: T.matmul(x, y), ((2, 3), (3, 2))),
    C("matmul_method", lambda T, x, y: x.matmul(y), ((2, 3), (3, 4))),
    C("matmul_batched", lambda T, x, y: x @ y, ((2, 3, 4), (2, 4, 5))),
    C("matmul_batched_bcast", lambda T, x, y: x @ y, ((2, 1, 3, 4), (5, 4, 2))),
    C("matmul_3d_2d", lambda T, x, y: x @ y, ((2, 3, 4), (4, 5))),
    C("matmul_2d_3d", lambda T, x, y: x @ y, ((3, 4), (2, 4, 5))),
    C("matmul_3d_1d", lambda T, x, y: x @ y, ((2, 3, 4), (4,))),
    C("matmul_1d_3d", lambda T, x, y: x @ y, ((4,), (2, 4, 3))),
    C("matmul_transposed", lambda T, x, y: x.t() @ y.t(), ((4, 3), (5, 4))),
    C("matmul_strided", lambda T, x, y: x[:, ::2] @ y, ((3, 8), (4, 2))),
    C("matmul_empty_rows", lambda T, x, y: x @ y, ((0, 3), (3, 4))),
    C("matmul_empty_inner", lambda T, x, y: x @ y, ((3, 0), (0, 4))),
    C("matmul_awkward", lambda T, x, y: x @ y, ((17, 33), (33, 5)), tol32=LIBM),
    C("mm", lambda T, x, y: T.mm(x, y), ((3, 4), (4, 5))),
    C("mm_method", lambda T, x, y: x.mm(y), ((1, 4), (4, 1))),
    C("mm_transposed", lambda T, x, y: x.mm(y.t()), ((3, 4), (2, 4))),
    C("bmm", lambda T, x, y: T.bmm(x, y), ((2, 3, 4), (2, 4, 2))),
    # ---- reductions ----
    C("sum_all", lambda T, x: x.sum(), ((3, 4),)),
    C("sum_fn", lambda T, x: T.sum(x), ((2, 3, 4),)),
    C("sum_dim0", lambda T, x: x.sum(0), ((3, 4),)),
    C("sum_dim_neg", lambda T, x: x.sum(-1), ((2, 3, 4),)),
    C("sum_dim_tuple", lambda T, x: x.sum((0, 2)), ((2, 3, 4),)),
    C("sum_keepdim", lambda T, x: x.sum(1, keepdim=True), ((2, 3, 4),)),
    C("sum_tuple_keepdim", lambda T, x: x.sum(dim=(-1, 0), keepdim=True), ((2, 3, 4),)),
    C("sum_0d", lambda T, x: x.sum(), ((),)),
    C("sum_empty", lambda T, x: x.sum(), ((0, 3),)),
    C("sum_empty_dim0", lambda T, x: x.sum(0), ((0, 3),)),
    C("sum_transposed", lambda T, x: x.t().sum(0), ((3, 4),)),
    C("mean_all", lambda T, x: x.mean(), ((3, 4),)),
    C("mean_fn", lambda T, x: T.mean(x, 1), ((3, 4),)),
    C("mean_dim_neg", lambda T, x: x.mean(-2), ((2, 3, 4),)),
    C("mean_dim_tuple", lambda T, x: x.mean((0, 1)), ((2, 3, 4),)),
    C("mean_keepdim", lambda T, x: x.mean(dim=2, keepdim=True), ((2, 3, 4),)),
    C("mean_strided", lambda T, x: x[:, ::2].mean(0), ((3, 6),)),
    C("max_all", lambda T, x: x.max(), ((3, 4),), ("distinct",)),
    C("min_all", lambda T, x: x.min(), ((3, 4),), ("distinct",)),
    C("max_fn", lambda T, x: T.max(x), ((5,),), ("distinct",)),
    C("max_dim", lambda T, x: tuple(x.max(1)), ((3, 4),), ("distinct",)),
    C("max_dim0", lambda T, x: tuple(x.max(dim=0)), ((3, 4),), ("distinct",)),
    C("max_dim_keepdim", lambda T, x: tuple(x.max(-1, keepdim=True)), ((2, 3, 4),), ("distinct",)),
    C("min_dim", lambda T, x: tuple(x.min(0)), ((3, 4),), ("distinct",)),
    C("min_dim_keepdim", lambda T, x: tuple(T.min(x, 1, keepdim=True)), ((2, 3, 4),), ("distinct",)),
    C("max_dim_transposed", lambda T, x: tuple(x.t().max(1)), ((3, 4),), ("distinct",)),
    C("max_values", lambda T, x: x.max(1)[0] * 2, ((3, 4),), ("distinct",)),
    C("max_0d", lambda T, x: x.max(), ((),)),
    # ---- sort / topk values (the gradient goes back to the selected indices) ----
    C("sort", lambda T, x: x.sort(1).values, ((3, 5),), ("distinct",)),
    C("sort_fn_desc", lambda T, x: T.sort(x, 0, descending=True).values, ((4, 3),), ("distinct",)),
    C("sort_tuple", lambda T, x: tuple(x.sort()), ((2, 3, 4),), ("distinct",)),
    C("sort_transposed", lambda T, x: x.t().sort(-1)[0] * 2, ((3, 4),), ("distinct",)),
    C("sort_0d", lambda T, x: x.sort()[0], ((),)),
    C("topk", lambda T, x: x.topk(2).values, ((3, 5),), ("distinct",)),
    C("topk_fn_smallest", lambda T, x: tuple(T.topk(x, 3, dim=0, largest=False)), ((4, 3),), ("distinct",)),
    C("topk_strided", lambda T, x: x[:, ::2].topk(2, 1)[0], ((3, 8),), ("distinct",)),
    # ---- softmax / log_softmax ----
    C("softmax_1d", lambda T, x: x.softmax(0), ((5,),)),
    C("softmax_dim0", lambda T, x: x.softmax(0), ((3, 4),)),
    C("softmax_dim1", lambda T, x: T.softmax(x, 1), ((3, 4),)),
    C("softmax_dim_neg", lambda T, x: T.softmax(x, dim=-1), ((2, 3, 4),)),
    C("softmax_mid", lambda T, x: x.softmax(1), ((2, 3, 4),)),
    C("softmax_transposed", lambda T, x: x.t().softmax(1), ((3, 4),)),
    C("log_softmax_1d", lambda T, x: x.log_softmax(0), ((5,),)),
    C("log_softmax_dim0", lambda T, x: T.log_softmax(x, 0), ((3, 4),)),
    C("log_softmax_dim1", lambda T, x: x.log_softmax(dim=1), ((3, 4),)),
    C("log_softmax_mid", lambda T, x: T.log_softmax(x, 1), ((2, 3, 4),)),
    C("log_softmax_strided", lambda T, x: x[:, ::2].log_softmax(-1), ((3, 8),)),
    C("softmax_empty", lambda T, x: x.softmax(1), ((0, 3),)),
    # ---- shape ops ----
    C("reshape", lambda T, x: x.reshape(4, 3) * 1.5, ((3, 4),)),
    C("reshape_infer", lambda T, x: x.reshape(-1, 2).exp(), ((3, 4),)),
    C("reshape_tuple", lambda T, x: x.reshape((2, 6)), ((3, 4),)),
    C("reshape_fn", lambda T, x: T.reshape(x, (12,)), ((3, 4),)),
    C("reshape_noncontig", lambda T, x: x.t().reshape(12), ((3, 4),)),
    C("reshape_0d", lambda T, x: x.reshape(1, 1) * 2, ((),)),
    C("view", lambda T, x: x.view(2, 6).sin(), ((3, 4),)),
    C("view_infer", lambda T, x: x.view(-1), ((2, 3, 2),)),
    C("transpose", lambda T, x: x.transpose(0, 1) * 3, ((3, 4),)),
    C("transpose_neg", lambda T, x: x.transpose(-1, 0).exp(), ((2, 3, 4),)),
    C("transpose_fn", lambda T, x: T.transpose(x, 1, 2), ((2, 3, 4),)),
    C("t", lambda T, x: x.t() @ x, ((3, 4),)),
    C("t_fn", lambda T, x: T.t(x) * 2, ((3, 4),)),
    C("t_1d", lambda T, x: x.t() * 2, ((4,),)),
    C("T_2d", lambda T, x: x.T.exp(), ((3, 4),)),
    C("permute", lambda T, x: x.permute(2, 0, 1).sin(), ((2, 3, 4),)),
    C("permute_tuple", lambda T, x: x.permute((1, 2, 0)) * 2, ((2, 3, 4),)),
    C("permute_fn", lambda T, x: T.permute(x, (1, 0)), ((3, 4),)),
    C("unsqueeze", lambda T, x: x.unsqueeze(1) * x, ((3,),)),
    C("unsqueeze_neg", lambda T, x: x.unsqueeze(-1).exp(), ((2, 3),)),
    C("unsqueeze_fn", lambda T, x: T.unsqueeze(x, 0), ((2, 3),)),
    C("squeeze_all", lambda T, x: x.squeeze() * 2, ((1, 3, 1, 4),)),
    C("squeeze_dim", lambda T, x: x.squeeze(2).exp(), ((1, 3, 1, 4),)),
    C("squeeze_noop", lambda T, x: x.squeeze(1) * 2, ((1, 3, 1, 4),)),
    C("squeeze_fn", lambda T, x: T.squeeze(x, 0), ((1, 3),)),
    C("expand", lambda T, x: x.expand(2, 3, 4) * 2, ((3, 1),)),
    # ---- slicing ----
    C("slice_rows_index", lambda T, x: x[1:3, 0] * 2, ((4, 3),)),
    C("slice_step", lambda T, x: x[:, ::2].exp(), ((3, 5),)),
    C("slice_ellipsis_none", lambda T, x: x[..., None] * x[:, None], ((2, 3),)),
    C("slice_int", lambda T, x: x[1] * 3, ((3, 4),)),
    C("slice_neg_int", lambda T, x: x[-1, 1:] + x[0, :-1], ((3, 4),)),
    C("slice_3d", lambda T, x: x[1:, ::2, -1].exp(), ((3, 4, 5),)),
    C("slice_scalar", lambda T, x: x[1, 2] * x[0, 0], ((3, 4),)),
    C("slice_overlap", lambda T, x: x[:2] * x[1:], ((3, 4),)),
    C("slice_of_transposed", lambda T, x: x.t()[1:3] * 2, ((4, 5),)),
    # ---- advanced indexing (duplicates accumulate in backward) ----
    C("index_list_dup", lambda T, x: x[[0, 0, 2]] * 2, ((4, 3),)),
    C("index_tensor_2d", lambda T, x: x[_index(T, [[0, 1], [1, 1]])].exp(), ((3, 4),)),
    C("index_cols", lambda T, x: x[:, [0, 2, 0]], ((3, 4),)),
    C("index_negative", lambda T, x: x[[-1, 0, -1]], ((3, 4),)),
    C("index_two_arrays", lambda T, x: x[[0, 1, 0], [2, 0, 2]], ((3, 4),)),
    C("index_arrays_bcast", lambda T, x: x[[[0], [2]], [1, 3, 1]], ((3, 4),)),
    C("index_arrays_apart", lambda T, x: x[[0, 1, 1], :, [3, 0, 3]], ((2, 3, 4),)),
    C("index_int_and_array", lambda T, x: x[1, :, [2, 0, 2]], ((2, 3, 4),)),
    C("index_slice_array", lambda T, x: x[1:, [0, 0], ::2], ((3, 4, 5),)),
    C("index_none_ellipsis", lambda T, x: x[None, ..., [1, 1]], ((2, 3),)),
    C("index_mask", lambda T, x: x[_mask(T, MASK_3x4)], ((3, 4),)),
    C("index_mask_rows", lambda T, x: x[_mask(T, [True, False, True])] * 3, ((3, 4),)),
    C("index_mask_inner", lambda T, x: x[:, _mask(T, MASK_3x4)], ((2, 3, 4),)),
    C("index_empty", lambda T, x: x[_index(T, [])], ((3, 4),)),
    C("index_transposed", lambda T, x: x.t()[[1, 1, 0]], ((3, 4),)),
    C("index_permuted", lambda T, x: x.permute(1, 0, 2)[[0, 2, 2]], ((2, 3, 4),)),
    C("index_strided", lambda T, x: x[:, ::2][[2, 0], [1, 1]], ((3, 6),)),
    C("index_of_expanded", lambda T, x: x.expand(3, 4)[[0, 2], [1, 1]], ((4,),)),
    C("index_select", lambda T, x: T.index_select(x, 1, _index(T, [0, 2, 2])), ((3, 4),)),
    C("index_select_method", lambda T, x: x.index_select(0, _index(T, [2, 0, 2])), ((3, 4),)),
    C("index_select_transposed", lambda T, x: x.t().index_select(1, _index(T, [1, 1])), ((3, 4),)),
    # ---- setitem inside a graph (an index_put node rebases the clone's history) ----
    C("setitem_int", lambda T, x, w: _put(x.clone(), 0, w * 2), ((3, 4), (4,))),
    C("setitem_slice_bcast", lambda T, x, w: _put(x.clone(), (slice(1, 3), slice(None, None, 2)), w), ((3, 4), (2, 1))),
    C("setitem_number", lambda T, x: _put(x * 1, (slice(None), 1), 5.0) * x, ((3, 4),)),
    C("setitem_list", lambda T, x, w: _put(x.clone(), [2, 0], w.exp()), ((3, 4), (2, 4))),
    C("setitem_cols_bcast", lambda T, x, w: _put(x.clone(), (slice(None), [1, 3]), w), ((3, 4), (3, 1))),
    C("setitem_mask", lambda T, x, w: _put(x.clone(), _mask(T, MASK_3x4), w), ((3, 4), (6,))),
    C("setitem_mask_0d", lambda T, x, w: _put(x.clone(), _mask(T, MASK_3x4), w), ((3, 4), ())),
    C("setitem_into_zeros", lambda T, x: _put(T.zeros(3, 4, dtype=x.dtype), [2, 0], x), ((4,),)),
    C("setitem_leading_ones", lambda T, x, w: _put(x.clone(), [0, 1], w), ((3, 4), (1, 1, 4))),
    # ---- gather, scatter, scatter_add, masked_fill, take_along_dim ----
    C("gather", lambda T, x: T.gather(x, 1, _index(T, [[0, 0], [1, 0], [3, 3]])), ((3, 4),)),
    C("gather_dim0_small", lambda T, x: x.gather(0, _index(T, [[2, 2, 0]])), ((3, 4),)),
    C("gather_3d", lambda T, x: x.gather(-1, _index(T, [[[1, 1]], [[0, 2]]])), ((2, 3, 4),)),
    C("gather_transposed", lambda T, x: x.t().gather(0, _index(T, [[2, 0, 2]])), ((3, 4),)),
    C("scatter", lambda T, x, s: x.scatter(1, _index(T, [[0, 2], [3, 1]]), s), ((3, 4), (2, 2))),
    C("scatter_fn", lambda T, x, s: T.scatter(x, 0, _index(T, [[2, 0, 1, 1]]), s), ((3, 4), (1, 4))),
    C("scatter_value", lambda T, x: x.scatter(1, _index(T, [[0, 2], [3, 1]]), 2.5), ((3, 4),)),
    C("scatter_big_src", lambda T, x, s: x.scatter(1, _index(T, [[0, 2], [3, 1]]), s[:2, :2]), ((3, 4), (3, 3))),
    C("scatter_add", lambda T, x, s: x.scatter_add(0, _index(T, [[0, 0, 2, 0], [0, 1, 2, 0]]), s), ((3, 4), (2, 4))),
    C("scatter_add_fn", lambda T, x, s: T.scatter_add(x, 1, _index(T, [[1, 1], [0, 0]]), s), ((2, 3), (2, 2))),
    C("scatter_inplace", lambda T, x, s: x.clone().scatter_(1, _index(T, [[0, 2]]), s * 2), ((3, 4), (1, 2))),
    C("scatter_add_inplace", lambda T, x, s: (x * 1).scatter_add_(0, _index(T, [[2, 2]]), s), ((3, 2), (1, 2))),
    C("scatter_4d", lambda T, x, s: x.scatter_add(1, T.zeros(2, 2, 3, 4, dtype=T.int64), s),
      ((2, 3, 4, 5), (2, 2, 3, 4))),
    C("masked_fill", lambda T, x: x.masked_fill(_mask(T, MASK_3x4), 0.5) * x, ((3, 4),)),
    C("masked_fill_fn", lambda T, x: T.masked_fill(x, _mask(T, [True, False, False, True]), -1.0), ((3, 4),)),
    C("masked_fill_bcast_x", lambda T, x: x.masked_fill(_mask(T, MASK_3x4), 2), ((4,),)),
    C("masked_fill_tensor", lambda T, x, v: x.masked_fill(_mask(T, MASK_3x4), v * 3), ((3, 4), ())),
    C("masked_fill_inplace", lambda T, x, v: x.clone().masked_fill_(_mask(T, MASK_3x4), v), ((3, 4), ())),
    C("take_along_dim", lambda T, x: T.take_along_dim(x, _index(T, [[0], [3], [1]]), 1), ((3, 4),)),
    C("take_along_dim_bcast", lambda T, x: x.take_along_dim(_index(T, [[1, 1, 0]]), dim=0), ((2, 3),)),
    C("take_along_dim_flat", lambda T, x: T.take_along_dim(x, _index(T, [[5, 0], [11, 5]])), ((3, 4),)),
    # ---- joining and shapes ----
    C("cat", lambda T, x, y: T.cat([x, y]), ((2, 3), (4, 3))),
    C("cat_dim1", lambda T, x, y, z: T.cat((x, y, z), 1), ((2, 3), (2, 1), (2, 2))),
    C("cat_neg_dim", lambda T, x, y: T.cat([x, y.t()], dim=-1), ((3, 2), (4, 3))),
    C("cat_same", lambda T, x: T.cat([x, x * 2, x]), ((2, 3),)),
    C("cat_legacy_empty", lambda T, x, e: T.cat([x, e, x]), ((2, 3), (0,))),
    C("concat", lambda T, x, y: T.concat([x, y], 1), ((2, 3), (2, 2))),
    C("stack", lambda T, x, y: T.stack([x, y]), ((2, 3), (2, 3))),
    C("stack_dim_last", lambda T, x, y: T.stack((x, y.t(), x), -1), ((2, 3), (3, 2))),
    C("split", lambda T, x: x.split(2, 1), ((3, 5),)),
    C("split_sizes", lambda T, x: T.split(x, [1, 3], 0), ((4, 2),)),
    C("split_one_used", lambda T, x: x.split(2)[1] * 3, ((5, 2),)),
    C("chunk", lambda T, x: x.chunk(3, 1), ((2, 7),)),
    C("chunk_fn", lambda T, x: T.chunk(x, 2)[0].exp(), ((5,),)),
    C("expand_keep", lambda T, x: x.expand(2, -1, 4), ((3, 1),)),
    C("expand_as", lambda T, x, y: x.expand_as(y) * y, ((3, 1), (2, 3, 4))),
    C("broadcast_to", lambda T, x: T.broadcast_to(x, (2, 3, 4)) * 2, ((3, 1),)),
    C("broadcast_to_method", lambda T, x: x.broadcast_to((3, 2)), ((2,),)),
    C("repeat", lambda T, x: x.repeat(2, 3), ((2, 3),)),
    C("repeat_new_dims", lambda T, x: x.repeat(2, 1, 2), ((3, 2),)),
    C("repeat_transposed", lambda T, x: x.t().repeat(1, 2) * 2, ((3, 2),)),
    C("flatten_all", lambda T, x: x.flatten() * 2, ((2, 3, 4),)),
    C("flatten_fn", lambda T, x: T.flatten(x, 1), ((2, 3, 4),)),
    C("flatten_range", lambda T, x: x.t().flatten(0, 1), ((3, 4),)),
    C("unflatten", lambda T, x: x.unflatten(1, (2, 2)) * 2, ((3, 4),)),
    C("unflatten_fn", lambda T, x: T.unflatten(x, -1, (-1, 3)), ((2, 6),)),
    C("flip", lambda T, x: x.flip(0) * x, ((3, 4),)),
    C("flip_fn", lambda T, x: T.flip(x, (0, 2)), ((2, 3, 4),)),
    C("flip_transposed", lambda T, x: x.t().flip(-1), ((3, 4),)),
    C("roll", lambda T, x: x.roll(1, 0) * x, ((3, 4),)),
    C("roll_fn", lambda T, x: T.roll(x, (1, -5), (0, 1)), ((3, 4),)),
    C("roll_flat", lambda T, x: x.roll(5), ((3, 4),)),
    C("narrow", lambda T, x: x.narrow(1, 1, 2) * 2, ((3, 4),)),
    C("narrow_fn", lambda T, x: T.narrow(x, 0, -2, 2), ((3, 4),)),
    C("movedim", lambda T, x: x.movedim(0, 2).exp(), ((2, 3, 4),)),
    C("movedim_fn", lambda T, x: T.movedim(x, (0, 1), (2, 0)), ((2, 3, 4),)),
    C("moveaxis", lambda T, x: T.moveaxis(x, -1, 0), ((2, 3),)),
    # ---- composites ----
    C("mlp", lambda T, x, w1, w2: T.relu(x @ w1).mm(w2).log_softmax(1).sum(),
      ((4, 3), (3, 5), (5, 2)), ("real", "real", "real")),
    C("reused_input", lambda T, x: x * x + x.exp() * x - x / (x.abs() + 1), ((3, 4),), ("nonzero",)),
    C("clone", lambda T, x: x.clone() * 2, ((3, 4),)),
    C("contiguous", lambda T, x: x.t().contiguous() * 2, ((3, 4),)),
    # ---- math ops (issue 3): where, maximum/minimum, clamp ----
    C("where", lambda T, x, y: T.where(T.tensor(WHERE_MASK_3x4), x, y), ((3, 4), (3, 4))),
    C("where_bcast", lambda T, x, y: T.where(T.tensor(WHERE_MASK_3x4[:, :1]), x, y), ((4,), (2, 3, 1))),
    C("where_scalar", lambda T, x: T.where(T.tensor(WHERE_MASK_3x4), x.exp(), 0.5), ((3, 4),)),
    C("where_method", lambda T, x, y: x.where(T.tensor(WHERE_MASK_3x4), y.t()), ((3, 4), (4, 3))),
    C("maximum", lambda T, x, y: T.maximum(x, y), ((3, 4), (3, 4)), ("grid",)),
    C("maximum_bcast", lambda T, x, y: T.maximum(x, y), ((3, 1), (4,)), ("grid",)),
    C("minimum", lambda T, x, y: T.minimum(x, y), ((3, 4), (3, 4)), ("grid",)),
    C("minimum_method", lambda T, x, y: x.t().minimum(y), ((4, 3), (3, 4)), ("grid",)),
    C("clamp", lambda T, x: T.clamp(x, -0.5, 0.7), ((3, 4),)),
    C("clamp_min_only", lambda T, x: x.clamp(min=0.1), ((3, 4),)),
    C("clamp_max_only", lambda T, x: x.clamp(max=-0.2), ((3, 4),)),
    C("clamp_tensor", lambda T, x, lo, hi: T.clamp(x, lo, hi + 1.5), ((3, 4), (4,), (3, 1))),
    C("clamp_tensor_crossed", lambda T, x, lo, hi: T.clamp(x, lo, hi), ((3, 4), (3, 4), (3, 4))),
    C("clamp_min_fn", lambda T, x, lo: T.clamp_min(x, lo), ((3, 4), (3, 4))),
    C("clamp_max_method", lambda T, x: x.clamp_max(0.3), ((3, 4),)),
    C("clip", lambda T, x: T.clip(x, -1, 1) * 2, ((3, 4),)),
    C("clamp_inplace", lambda T, x: (x * 1).clamp_(-0.5, 0.5).exp(), ((3, 4),)),
    # ---- unary math functions ----
    C("erf", lambda T, x: T.erf(x), ((3, 4),)),
    C("erf_method", lambda T, x: x.t().erf(), ((3, 4),)),
    C("log1p", lambda T, x: x.log1p(), ((3, 4),), ("positive",)),
    C("expm1", lambda T, x: T.expm1(x), ((3, 4),)),
    C("rsqrt", lambda T, x: T.rsqrt(x), ((3, 4),), ("positive",)),
    C("reciprocal", lambda T, x: x.reciprocal(), ((3, 4),), ("nonzero",)),
    C("sign", lambda T, x: T.sign(x) * x, ((3, 4),), ("nonzero",)),
    C("floor", lambda T, x: T.floor(x * 3) + x, ((3, 4),)),
    C("ceil", lambda T, x: x.ceil() * x, ((3, 4),)),
    C("round", lambda T, x: T.round(x * 3) - x, ((3, 4),)),
    C("round_decimals", lambda T, x: x.round(decimals=1) * x, ((3, 4),)),
    C("gelu", lambda T, x: _F(T).gelu(x), ((3, 4),), tol32=LIBM),
    C("gelu_tanh", lambda T, x: _F(T).gelu(x, approximate="tanh"), ((3, 4),), tol32=LIBM),
    C("silu", lambda T, x: _F(T).silu(x), ((3, 4),)),
    C("softplus", lambda T, x: _F(T).softplus(x), ((3, 4),)),
    C("softplus_threshold", lambda T, x: _F(T).softplus(x, beta=2.0, threshold=1.0), ((3, 4),)),
    C("leaky_relu", lambda T, x: _F(T).leaky_relu(x), ((3, 4),), ("nonzero",)),
    C("leaky_relu_slope", lambda T, x: _F(T).leaky_relu(x, 0.2), ((3, 4),), ("nonzero",)),
    C("elu", lambda T, x: _F(T).elu(x), ((3, 4),), ("nonzero",)),
    C("elu_alpha", lambda T, x: _F(T).elu(x.t(), alpha=0.5), ((3, 4),), ("nonzero",)),
    # ---- reductions and scans ----
    C("prod_all", lambda T, x: x.prod(), ((3, 4),)),
    C("prod_fn", lambda T, x: T.prod(x, 1), ((3, 4),)),
    C("prod_dim0_keepdim", lambda T, x: x.prod(0, keepdim=True), ((3, 4),)),
    C("prod_mid", lambda T, x: x.prod(-2), ((2, 3, 4),)),
    C("prod_one_zero", lambda T, x: x.prod(), ((3, 4),), ("one_zero",)),
    C("prod_one_zero_dim", lambda T, x: x.prod(1), ((3, 4),), ("one_zero",)),
    C("prod_two_zeros", lambda T, x: x.prod(), ((3, 4),), ("two_zeros",)),
    C("prod_two_zeros_dim", lambda T, x: x.prod(1), ((3, 4),), ("two_zeros",)),
    C("prod_two_zeros_dim0", lambda T, x: x.prod(0), ((3, 4),), ("two_zeros",)),
    C("var_all", lambda T, x: x.var(), ((3, 4),)),
    C("var_dim", lambda T, x: T.var(x, 1), ((3, 4),)),
    C("var_keepdim", lambda T, x: x.var(0, keepdim=True), ((3, 4),)),
    C("var_tuple", lambda T, x: x.var((0, 2)), ((2, 3, 4),)),
    C("var_unbiased_false", lambda T, x: x.var(1, unbiased=False), ((3, 4),)),
    C("var_correction0", lambda T, x: T.var(x, dim=1, correction=0), ((3, 4),)),
    C("var_correction2", lambda T, x: x.var(-1, correction=2, keepdim=True), ((2, 3, 5),)),
    C("std_all", lambda T, x: x.std(), ((3, 4),)),
    C("std_dim", lambda T, x: T.std(x, 0), ((3, 4),)),
    C("std_correction0", lambda T, x: x.t().std(dim=1, correction=0, keepdim=True), ((3, 4),)),
    C("logsumexp", lambda T, x: T.logsumexp(x, 1), ((3, 4),)),
    C("logsumexp_keepdim", lambda T, x: x.logsumexp(0, keepdim=True), ((3, 4),)),
    C("logsumexp_tuple", lambda T, x: x.logsumexp((0, 2)), ((2, 3, 4),)),
    C("logsumexp_huge", lambda T, x: x.logsumexp(-1), ((3, 4),), ("huge",)),
    C("norm", lambda T, x: x.norm(), ((3, 4),)),
    C("norm_fn_dim", lambda T, x: T.norm(x, dim=1), ((3, 4),)),
    C("norm_p1", lambda T, x: x.norm(1), ((3, 4),), ("nonzero",)),
    C("norm_p1_dim", lambda T, x: x.norm(p=1, dim=0, keepdim=True), ((3, 4),), ("nonzero",)),
    C("norm_inf", lambda T, x: x.norm(float("inf")), ((3, 4),), ("distinct",)),
    C("norm_inf_dim", lambda T, x: x.norm(float("inf"), 1), ((3, 4),), ("distinct",)),
    C("norm_neg_inf", lambda T, x: x.norm(float("-inf"), 1), ((3, 4),), ("distinct",)),
    C("norm_p3", lambda T, x: x.norm(3, (0, 2)), ((2, 3, 4),), ("nonzero",)),
    C("norm_p1_5", lambda T, x: x.norm(1.5, -1), ((3, 4),), ("nonzero",)),
    C("norm_p0_5", lambda T, x: x.norm(0.5), ((3, 4),), ("nonzero",), tol32=LIBM),
    C("norm_fro_tuple", lambda T, x: T.norm(x, "fro", (0, 1)), ((3, 4),)),
    C("cumsum", lambda T, x: x.cumsum(1), ((3, 4),)),
    C("cumsum_fn", lambda T, x: T.cumsum(x, 0), ((3, 4),)),
    C("cumsum_mid", lambda T, x: x.cumsum(-2), ((2, 3, 4),)),
    C("cumsum_transposed", lambda T, x: x.t().cumsum(1), ((3, 4),)),
    C("cumsum_0d", lambda T, x: x.cumsum(0), ((),)),
    # ---- outer, einsum ----
    C("outer", lambda T, x, y: T.outer(x, y), ((3,), (4,))),
    C("outer_method", lambda T, x, y: x.outer(y[::2]), ((3,), (8,))),
    C("einsum_mm", lambda T, x, y: T.einsum("ij,jk->ik", x, y), ((3, 4), (4, 5))),
    C("einsum_bmm", lambda T, x, y: T.einsum("bij,bjk->bik", x, y), ((2, 3, 4), (2, 4, 5))),
    C("einsum_dot", lambda T, x, y: T.einsum("i,i->", x, y), ((5,), (5,))),
    C("einsum_outer", lambda T, x, y: T.einsum("i,j->ij", x, y), ((3,), (4,))),
    C("einsum_transpose", lambda T, x: T.einsum("ij->ji", x), ((3, 4),)),
    C("einsum_diag", lambda T, x: T.einsum("ii->i", x), ((4, 4),)),
    C("einsum_trace", lambda T, x: T.einsum("ii", x), ((4, 4),)),
    C("einsum_rowdot", lambda T, x, y: T.einsum("ij,ij->i", x, y), ((3, 4), (3, 4))),
    C("einsum_batchdot", lambda T, x, y: T.einsum("bi,bi->b", x, y), ((3, 4), (3, 4))),
    C("einsum_chain", lambda T, x, y, z: T.einsum("ij,jk,kl->il", x, y, z), ((2, 3), (3, 4), (4, 5))),
    C("einsum_implicit", lambda T, x, y: T.einsum("ij,jk", x, y), ((3, 4), (4, 2))),
    C("einsum_sum", lambda T, x: T.einsum("ijk->j", x), ((2, 3, 4),)),
    C("einsum_ellipsis", lambda T, x, y: T.einsum("...ij,...jk->...ik", x, y), ((2, 3, 4), (4, 2))),
    C("einsum_list", lambda T, x, y: T.einsum("ij,kj->ik", [x.t(), y]), ((4, 3), (2, 4))),
]

# where's condition (a fixed mask: comparisons are not part of these tests)
WHERE_MASK_3x4 = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


def _F(T):
    """T.nn.functional: where the activations live (cygrad has them at the top level as well)."""
    return T.nn.functional

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "duplicate case names"

MODES = ["grad64", "torch32", "torch64"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=_names)
def test_op(case, mode, device):
    """On the CPU: finite differences, then torch. On a GPU: the CPU's float64 results (grad64),
    then torch (the GPU's float32 math may differ from the CPU's by an ulp or two)."""
    arrays = case.inputs()
    if mode == "grad64":
        if device == "cpu":
            check_grads(case.fn, arrays)
        else:
            compare_devices(case.fn, arrays, device)
        return
    pytest.importorskip("torch")
    if mode == "torch32":
        rtol, atol = case.tol32 or (None, None)
        compare_with_torch(case.fn, arrays, "float32", rtol=rtol, atol=atol, device=device)
    else:
        compare_with_torch(case.fn, arrays, "float64", device=device)


def test_op_table_covers_the_api():
    """Every differentiable function of the public API is exercised somewhere in the table."""
    import inspect
    sources = "\n".join(inspect.getsource(c.fn) for c in CASES)
    for name in ["add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "sin", "cos",
                 "relu", "sigmoid", "tanh", "matmul", "mm", "sum", "mean", "max", "min", "softmax",
                 "log_softmax", "reshape", "view", "transpose", "t", "permute", "unsqueeze",
                 "squeeze", "sort", "topk", "index_select", "gather", "scatter", "scatter_add", "scatter_", "scatter_add_",
                 "masked_fill", "masked_fill_", "take_along_dim", "cat", "stack", "split", "chunk", "expand",
                 "expand_as", "broadcast_to", "repeat", "flatten", "unflatten", "flip", "roll", "narrow",
                 "movedim"]:
        assert f"T.{name}(" in sources or f".{name}(" in sources, name


# ---------------------------------------------------------------------------------------------
# forward values of the unary kernels against numpy (runs without torch)
# ---------------------------------------------------------------------------------------------

NUMPY_UNARY = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "abs": np.abs, "neg": np.negative,
    "relu": lambda a: np.maximum(a, 0),
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(NUMPY_UNARY))
def test_unary_forward_vs_numpy(name, dtype):
    rng = np.random.default_rng(7)
    a = rng.uniform(0.1, 3.0, size=(5, 7)) * (1 if name in ("log", "sqrt") else rng.choice([-1, 1], (5, 7)))
    x = cygrad.tensor(a, dtype=getattr(cygrad, dtype))
    out = getattr(x, name)()
    assert dtype_name(out.dtype) == dtype
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(to_numpy(out), NUMPY_UNARY[name](a.astype(dtype)), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_forward_vs_numpy(dtype):
    rng = np.random.default_rng(8)
    a = rng.uniform(0.5, 2.0, size=(3, 1, 4)).astype(dtype)
    b = rng.uniform(0.5, 2.0, size=(5, 1)).astype(dtype)
    x, y = cygrad.tensor(a), cygrad.tensor(b)
    for got, want in [(x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b), (x ** y, a ** b),
                      (y - x, b - a), (y / x, b / a)]:
        assert dtype_name(got.dtype) == dtype
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6 if dtype == "float32" else 1e-14)


@pytest.mark.parametrize("n", [10**5, 10**6])
def test_large_float32_sums_are_accurate(n):
    """float32 reductions over many elements stay within ~1e-6 of the exact (float64) sum, as
    torch's do (a naive float32 running sum drifts by ~1e-5 at a million elements)."""
    rng = np.random.default_rng(n)
    a = rng.uniform(0, 1, n).astype(np.float32)
    exact = a.astype(np.float64).sum()
    x = cygrad.tensor(a)
    assert abs(x.sum().item() - exact) <= 1e-6 * exact
    assert abs(x.mean().item() - exact / n) <= 1e-6 * exact / n
    m = a.reshape(1000, -1)
    np.testing.assert_allclose(to_numpy(cygrad.tensor(m).sum(0)), m.astype(np.float64).sum(0), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(cygrad.tensor(m).sum(1)), m.astype(np.float64).sum(1), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1000, 300), (999, 77), (8, 4096), (13, 5)])
def test_column_sums_add_the_rows_in_order(shape, dtype):
    """sums down the columns add the rows in order, in double (one block: up to 1024 rows), and
    round once: numpy's float64 sum over axis 0 (row after row), bit for bit. float64 data of
    magnitudes 1e-12..1e12 rounds at every add, so any other order shows."""
    rng = np.random.default_rng(shape[0])
    a = (rng.standard_normal(shape) * 10.0 ** rng.integers(-12, 13, shape)).astype(dtype)
    want = a.astype(np.float64).sum(0).astype(dtype)
    np.testing.assert_array_equal(to_numpy(cygrad.tensor(a).sum(0)), want)


# ---------------------------------------------------------------------------------------------
# dtype promotion
# ---------------------------------------------------------------------------------------------

PROMOTION = [
    ("f32*pyfloat", lambda T: T.ones(2) * 2.5),
    ("pyfloat*f32", lambda T: 2.5 * T.ones(2)),
    ("f32*f64", lambda T: T.ones(2) * T.ones(2, dtype=T.float64)),
    ("f64+f32", lambda T: T.ones(2, dtype=T.float64) + T.ones(2)),
    ("f32*f64_0d", lambda T: T.ones(2) * T.tensor(2.0, dtype=T.float64)),
    ("f64_0d*f32", lambda T: T.tensor(2.0, dtype=T.float64) * T.ones(2)),
    ("f32_0d*f64", lambda T: T.tensor(2.0) * T.ones(2, dtype=T.float64)),
    ("i64/2", lambda T: T.tensor([1, 2, 3]) / 2),
    ("i64/i64", lambda T: T.tensor([1, 2, 3]) / T.tensor([2, 2, 2])),
    ("2/i64", lambda T: 2 / T.tensor([1, 2, 3])),
    ("i64+1", lambda T: T.tensor([1, 2, 3]) + 1),
    ("1-i64", lambda T: 1 - T.tensor([1, 2, 3])),
    ("i64*i64", lambda T: T.tensor([1, 2, 3]) * T.tensor([4, 5, 6])),
    ("i64*2.5", lambda T: T.tensor([1, 2, 3]) * 2.5),
    ("2.5*i64", lambda T: 2.5 * T.tensor([1, 2, 3])),
    ("i64+f32", lambda T: T.tensor([1, 2, 3]) + T.ones(3)),
    ("i64+f64", lambda T: T.tensor([1, 2, 3]) + T.ones(3, dtype=T.float64)),
    ("i64_0d*f32", lambda T: T.tensor(3) * T.ones(3)),
    ("f32_0d*i64", lambda T: T.tensor(1.5) * T.tensor([1, 2, 3])),
    ("i64**2", lambda T: T.tensor([1, 2, 3]) ** 2),
    ("i64**0.5", lambda T: T.tensor([1, 2, 4]) ** 0.5),
    ("2**i64", lambda T: 2 ** T.tensor([1, 2, 3])),
    ("f64*pyint", lambda T: T.ones(2, dtype=T.float64) * 3),
    ("bool+bool", lambda T: T.tensor([True, False]) + T.tensor([True, True])),
    ("bool*i64", lambda T: T.tensor([True, False]) * T.tensor([3, 4])),
    ("bool*f32", lambda T: T.tensor([True, False]) * T.tensor([3.0, 4.0])),
    ("bool*pyfloat", lambda T: T.tensor([True, False]) * 1.5),
    ("i64_sum", lambda T: T.tensor([[1, 2], [3, 4]]).sum(0)),
    ("bool_sum", lambda T: T.tensor([True, True, False]).sum()),
    ("f64_mean", lambda T: T.ones(3, dtype=T.float64).mean()),
    ("neg_i64", lambda T: -T.tensor([1, 2])),
    ("abs_i64", lambda T: T.tensor([-1, 2]).abs()),
    ("exp_i64", lambda T: T.tensor([0, 1]).exp()),
    ("sqrt_i64", lambda T: T.tensor([4, 9]).sqrt()),
    ("relu_i64", lambda T: T.tensor([-4, 9]).relu()),
    ("matmul_i64", lambda T: T.tensor([[1, 2]]) @ T.tensor([[3], [4]])),
]


@pytest.mark.parametrize("fn", [p[1] for p in PROMOTION], ids=[p[0] for p in PROMOTION])
def test_dtype_promotion(fn, torch):
    ours, theirs = fn(cygrad), fn(torch)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    np.testing.assert_allclose(to_numpy(ours).astype(np.float64), to_numpy(theirs).astype(np.float64),
                               rtol=1e-6)


def test_dtype_promotion_core_rules_without_torch():
    f32 = cygrad.ones(2)
    assert (f32 * 2.5).dtype is cygrad.float32
    assert (f32 * cygrad.ones(2, dtype=cygrad.float64)).dtype is cygrad.float64
    assert (f32 * cygrad.tensor(2.0, dtype=cygrad.float64)).dtype is cygrad.float32
    assert (cygrad.tensor([1, 2]) / 2).dtype is cygrad.float32
    assert (cygrad.tensor([1, 2]) + 1).dtype is cygrad.int64
    assert (cygrad.tensor([1, 2]) * 2.5).dtype is cygrad.float32
    np.testing.assert_array_equal(to_numpy(cygrad.tensor([1, 3]) / 2), np.array([0.5, 1.5], np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mixed_dtype_gradients(dtype, torch):
    """Gradients flowing back through a promotion come back in each leaf's own dtype."""
    def fn(T, x, y):
        return (x * y).exp().sum()
    a = np.array([0.5, -1.0, 2.0])
    b = np.array([1.5, 0.25, -0.5])
    cx = cygrad.tensor(a, dtype=cygrad.float32, requires_grad=True)
    cy = cygrad.tensor(b, dtype=getattr(cygrad, dtype), requires_grad=True)
    tx = torch.tensor(a, dtype=torch.float32, requires_grad=True)
    ty = torch.tensor(b, dtype=getattr(torch, dtype), requires_grad=True)
    fn(cygrad, cx, cy).backward()
    fn(torch, tx, ty).backward()
    for c, t in [(cx, tx), (cy, ty)]:
        assert dtype_name(c.grad.dtype) == dtype_name(t.grad.dtype)
        np.testing.assert_allclose(to_numpy(c.grad), to_numpy(t.grad), rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# numerically stable softmax, NaN / inf propagation
# ---------------------------------------------------------------------------------------------

EXTREME_LOGITS = [
    [1000.0, 0.0, -1000.0],
    [-1000.0, -1000.0, -1000.0],
    [1000.0, 1000.0, 999.0],
    [1000.0, -1000.0, 0.5],
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_extreme_logits(op, dtype, torch):
    logits = np.array(EXTREME_LOGITS)
    rng = np.random.default_rng(3)
    r = rng.standard_normal(logits.shape)
    results = []
    for T in (cygrad, torch):
        x = T.tensor(logits, dtype=getattr(T, dtype), requires_grad=True)
        y = getattr(x, op)(1)
        (y * T.tensor(r, dtype=getattr(T, dtype))).sum().backward()
        results.append((to_numpy(y), to_numpy(x.grad)))
    (cy_y, cy_g), (th_y, th_g) = results
    assert np.all(np.isfinite(cy_y)) and np.all(np.isfinite(cy_g))
    # at most an ulp or so of exp rounding apart (float64 matches exactly in practice)
    rtol, atol = (1e-6, 1e-7) if dtype == "float32" else (1e-13, 1e-15)
    np.testing.assert_allclose(cy_y, th_y, rtol=rtol, atol=atol)
    np.testing.assert_allclose(cy_g, th_g, rtol=rtol, atol=atol)


def test_softmax_extreme_logits_without_torch():
    x = cygrad.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]], dtype=cygrad.float64)
    s = to_numpy(x.softmax(1))
    ls = to_numpy(x.log_softmax(1))
    np.testing.assert_allclose(s, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15, atol=0)
    np.testing.assert_allclose(ls, [[0.0, -1000.0, -2000.0], [-math.log(3)] * 3], rtol=1e-15, atol=1e-15)


NAN, INF = float("nan"), float("inf")
SPECIAL = np.array([NAN, INF, -INF, 0.0, -0.0, 1.0, -2.0], dtype=np.float64)

SPECIAL_OPS = [
    ("exp", lambda T, x: x.exp()),
    ("log", lambda T, x: x.log()),
    ("sqrt", lambda T, x: x.sqrt()),
    ("relu", lambda T, x: T.relu(x)),
    ("sigmoid", lambda T, x: x.sigmoid()),
    ("tanh", lambda T, x: x.tanh()),
    ("abs", lambda T, x: x.abs()),
    ("neg", lambda T, x: -x),
    ("sin", lambda T, x: x.sin()),
    ("mul_inf", lambda T, x: x * float("inf")),
    ("div_zero", lambda T, x: x / 0.0),
    ("rdiv", lambda T, x: 1.0 / x),
    ("add_self", lambda T, x: x + x),
    ("sub_self", lambda T, x: x - x),
    ("pow2", lambda T, x: x ** 2),
    ("pow_half", lambda T, x: x ** 0.5),
    ("sum", lambda T, x: x.sum()),
    ("sum_finite_inf", lambda T, x: x[1:2].sum() + x[5:].sum()),
    ("mean", lambda T, x: x.mean()),
    ("max", lambda T, x: x.max()),
    ("min", lambda T, x: x.min()),
    ("max_no_nan", lambda T, x: x[1:].max()),
    ("max_dim", lambda T, x: x.reshape(1, 7).max(1)[0]),
    ("min_dim_no_nan", lambda T, x: x[1:].reshape(2, 3).min(1)[0]),
    ("softmax", lambda T, x: x.softmax(0)),
    ("softmax_inf", lambda T, x: x[1:].softmax(0)),
    ("matmul", lambda T, x: x.reshape(7, 1) @ T.ones(1, 3, dtype=x.dtype)),
    ("matmul_inner", lambda T, x: x.reshape(1, 7) @ T.ones(7, 2, dtype=x.dtype)),
    ("matmul_inf_inner", lambda T, x: x[1:2].reshape(1, 1) @ T.ones(1, 2, dtype=x.dtype)),
    ("dot_inf_zero", lambda T, x: x[1:4] @ x[3:6]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", [o[1] for o in SPECIAL_OPS], ids=[o[0] for o in SPECIAL_OPS])
def test_nan_inf_propagation_vs_torch(fn, dtype, torch):
    with np.errstate(all="ignore"):
        ours = fn(cygrad, cygrad.tensor(SPECIAL, dtype=getattr(cygrad, dtype)))
        theirs = fn(torch, torch.tensor(SPECIAL, dtype=getattr(torch, dtype)))
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    finite = np.isfinite(b)
    np.testing.assert_allclose(a[finite], b[finite], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_inf_propagation_vs_numpy(dtype):
    x = cygrad.tensor(SPECIAL, dtype=getattr(cygrad, dtype))
    a = SPECIAL.astype(dtype)
    with np.errstate(all="ignore"):
        checks = [
            (x.exp(), np.exp(a)), (x.log(), np.log(a)), (x.relu(), np.where(np.isnan(a), a, np.maximum(a, 0))),
            (x.tanh(), np.tanh(a)), (x * 2, a * 2), (x.sum(), np.sum(a)), (x.max(), np.max(a)),
            (x[1:].sum(), np.sum(a[1:])), (x[1:].max(), np.max(a[1:])), (x[1:].min(), np.min(a[1:])),
            (x.reshape(7, 1) @ cygrad.ones(1, 2, dtype=x.dtype), a.reshape(7, 1) @ np.ones((1, 2), a.dtype)),
        ]
    for k, (got, want) in enumerate(checks):
        got = to_numpy(got)
        for predicate in (np.isnan, np.isposinf, np.isneginf):
            np.testing.assert_array_equal(predicate(got), predicate(want), err_msg=f"check {k}")
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-6, err_msg=f"check {k}")


def test_nan_gradient_propagation(torch):
    """A NaN in the upstream gradient reaches the leaf (no silent zeroing by masks)."""
    grads = []
    for T in (cygrad, torch):
        x = T.tensor([1.0, -1.0, 2.0], requires_grad=True)
        y = (T.relu(x) + x.exp()) * T.tensor([float("nan"), 1.0, 1.0])
        y.sum().backward()
        grads.append(to_numpy(x.grad))
    got, expected = grads
    assert np.isnan(got[0])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got[1:], expected[1:], rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# cygrad.autograd.gradcheck itself (the library's public checker)
# ---------------------------------------------------------------------------------------------


def test_library_gradcheck_accepts_correct_ops():
    rng = np.random.default_rng(0)
    x = cygrad.tensor(rng.uniform(0.5, 2.0, (3, 4)), dtype=cygrad.float64, requires_grad=True)
    y = cygrad.tensor(rng.uniform(0.5, 2.0, (4, 2)), dtype=cygrad.float64, requires_grad=True)
    assert cygrad.autograd.gradcheck(lambda a, b: (a.log() @ b).softmax(1), (x, y)) is True
    assert cygrad.autograd.gradcheck(lambda a: (a.sqrt() * a.sin()).sum(0), (x,)) is True


def test_library_gradcheck_rejects_wrong_gradient():
    """A function whose autograd gradient is wrong: the leaf is used through .detach() in the
    second factor, so autograd misses d/dx of that factor while finite differences see it."""
    x = cygrad.tensor([0.5, 1.5, -0.7], dtype=cygrad.float64, requires_grad=True)

    def wrong(a):
        return a * a.detach()  # autograd says d/da = a; the true derivative is 2a

    with pytest.raises(RuntimeError):
        cygrad.autograd.gradcheck(wrong, (x,))
    assert cygrad.autograd.gradcheck(wrong, (x,), raise_exception=False) is False
    assert issubclass(cygrad.autograd.GradcheckError, RuntimeError)


def test_helper_check_grads_rejects_wrong_gradient():
    """The test oracle itself must be able to fail."""
    with pytest.raises(AssertionError):
        check_grads(lambda T, a: a * a.detach(), [np.array([0.5, 1.5, -0.7])])


def test_helper_compare_with_torch_detects_mismatch(torch):
    """The torch oracle itself must be able to fail: forward and gradient mismatches."""
    with pytest.raises(AssertionError):
        compare_with_torch(lambda T, x: x.exp() * (1.001 if T is cygrad else 1.0), [np.ones(3)], "float64")
    with pytest.raises(AssertionError):
        compare_with_torch(lambda T, x: x * (x.detach() if T is cygrad else x), [np.full(3, 2.0)], "float64")
    with pytest.raises(AssertionError):
        compare_with_torch(lambda T, x: x.sum(0) if T is cygrad else x.sum(1), [np.ones((2, 3))], "float64")
