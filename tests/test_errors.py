"""Clear Python exceptions with torch's wording (issue 2, "Errors").

Each case names the exception type and key phrases of torch's message. ``test_error_cygrad``
checks cygrad alone (runs without torch); ``test_error_matches_torch`` checks that torch raises the
same type and that the key phrases are torch's own wording (so the table is not cygrad's
invention)."""
import numpy as np
import pytest

import cygrad
from helpers import to_numpy

ERRORS = [
    # broadcasting: both sizes and the dimension
    ("broadcast", lambda T: T.ones(2, 3) + T.ones(2, 4), RuntimeError,
     ["The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"]),
    ("broadcast_rank", lambda T: T.ones(5, 3, 1) * T.ones(4, 2), RuntimeError,
     ["The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"]),
    ("broadcast_scalar_side", lambda T: T.ones(3) - T.ones(2, 2), RuntimeError,
     ["The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1"]),
    ("broadcast_div", lambda T: T.ones(4, 1) / T.ones(3, 1), RuntimeError,
     ["The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension 0"]),
    ("broadcast_pow", lambda T: T.ones(4) ** T.ones(3), RuntimeError,
     ["The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension 0"]),
    ("broadcast_batched_matmul", lambda T: T.ones(2, 2, 3) @ T.ones(3, 3, 5), RuntimeError,
     ["The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"]),
    ("inplace_broadcast", lambda T: T.ones(3).add_(T.ones(2, 3)), RuntimeError,
     ["output with shape [3] doesn't match the broadcast shape [2, 3]"]),
    # matmul / mm
    ("matmul_inner", lambda T: T.ones(2, 3) @ T.ones(4, 5), RuntimeError,
     ["mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"]),
    ("mm_inner", lambda T: T.mm(T.ones(2, 3), T.ones(4, 2)), RuntimeError,
     ["mat1 and mat2 shapes cannot be multiplied (2x3 and 4x2)"]),
    ("matmul_1d_1d", lambda T: T.ones(3) @ T.ones(4), RuntimeError, ["inconsistent tensor size"]),
    ("matmul_0d", lambda T: T.matmul(T.ones(()), T.ones(3)), RuntimeError,
     ["both arguments to matmul need to be at least 1D"]),
    ("mm_dtype", lambda T: T.mm(T.ones(2, 3), T.ones(3, 2, dtype=T.float64)), RuntimeError,
     ["expected m1 and m2 to have the same dtype", "float != double"]),
    ("matmul_dtype", lambda T: T.ones(2, 3) @ T.ones(3, 2, dtype=T.float64), RuntimeError,
     ["expected m1 and m2 to have the same dtype"]),
    ("mm_3d", lambda T: T.mm(T.ones(2, 2, 3), T.ones(3, 2)), RuntimeError, ["self must be a matrix"]),
    ("mm_1d", lambda T: T.mm(T.ones(3), T.ones(3, 2)), RuntimeError, ["self must be a matrix"]),
    ("mm_3d_method", lambda T: T.ones(2, 3).mm(T.ones(2, 3, 2)), RuntimeError, ["mat2 must be a matrix"]),
    # dims
    ("dim_sum", lambda T: T.ones(2, 3).sum(2), IndexError,
     ["Dimension out of range (expected to be in range of [-2, 1], but got 2)"]),
    ("dim_sum_neg", lambda T: T.ones(2, 3).sum(-3), IndexError,
     ["Dimension out of range (expected to be in range of [-2, 1], but got -3)"]),
    ("dim_sum_tuple", lambda T: T.ones(2, 3).sum((0, 3)), IndexError, ["Dimension out of range"]),
    ("dim_mean", lambda T: T.ones(2, 3).mean(5), IndexError, ["Dimension out of range"]),
    ("dim_softmax", lambda T: T.ones(2, 3).softmax(2), IndexError, ["Dimension out of range"]),
    ("dim_log_softmax", lambda T: T.ones(2, 3).log_softmax(-3), IndexError, ["Dimension out of range"]),
    ("dim_max", lambda T: T.ones(2, 3).max(2), IndexError, ["Dimension out of range"]),
    ("dim_min", lambda T: T.ones(2, 3).min(-4), IndexError, ["Dimension out of range"]),
    ("dim_transpose", lambda T: T.ones(2, 3).transpose(0, 2), IndexError, ["Dimension out of range"]),
    ("dim_unsqueeze", lambda T: T.ones(2, 3).unsqueeze(4), IndexError,
     ["Dimension out of range (expected to be in range of [-3, 2], but got 4)"]),
    ("dim_squeeze", lambda T: T.ones(2, 3).squeeze(2), IndexError, ["Dimension out of range"]),
    ("dim_permute", lambda T: T.ones(2, 3).permute(0, 2), IndexError, ["Dimension out of range"]),
    ("dim_size", lambda T: T.ones(2, 3).size(2), IndexError, ["Dimension out of range"]),
    ("dim_0d", lambda T: T.ones(()).sum(1), IndexError,
     ["Dimension out of range (expected to be in range of [-1, 0], but got 1)"]),
    ("permute_duplicate", lambda T: T.ones(2, 3).permute(0, 0), RuntimeError, ["duplicate dims"]),
    ("t_3d", lambda T: T.ones(2, 3, 4).t(), RuntimeError, ["t() expects a tensor with <= 2 dimensions"]),
    # indexing
    ("index", lambda T: T.ones(3)[5], IndexError, ["index 5 is out of bounds for dimension 0 with size 3"]),
    ("index_dim1", lambda T: T.ones(2, 3)[:, 3], IndexError,
     ["index 3 is out of bounds for dimension 1 with size 3"]),
    ("index_neg", lambda T: T.ones(3)[-4], IndexError, ["index -4 is out of bounds for dimension 0 with size 3"]),
    ("index_too_many", lambda T: T.ones(3)[0, 0], IndexError, ["too many indices"]),
    ("index_0d", lambda T: T.tensor(1.0)[0], IndexError, []),
    # requires_grad on integer tensors
    ("requires_grad_int", lambda T: setattr(T.ones(2, dtype=T.int64), "requires_grad", True), RuntimeError,
     ["only Tensors of floating point", "can require gradients"]),
    ("requires_grad_bool", lambda T: T.tensor([True]).requires_grad_(), RuntimeError,
     ["only Tensors of floating point", "can require gradients"]),
    # shapes
    ("reshape_numel", lambda T: T.ones(2, 3).reshape(4), RuntimeError, ["shape '[4]' is invalid for input of size 6"]),
    ("reshape_two_inferred", lambda T: T.ones(2, 3).reshape(-1, -1), RuntimeError,
     ["only one dimension can be inferred"]),
    ("view_numel", lambda T: T.ones(2, 3).view(5), RuntimeError, ["shape '[5]' is invalid for input of size 6"]),
    ("view_non_contiguous", lambda T: T.ones(2, 3).t().view(6), RuntimeError,
     ["view size is not compatible with input tensor's size and stride", "Use .reshape(...) instead."]),
    ("expand", lambda T: T.ones(2, 3).expand(4, 3), RuntimeError,
     ["The expanded size of the tensor (4) must match the existing size (2) at non-singleton dimension 0"]),
    ("max_empty", lambda T: T.ones(0, 3).max(), RuntimeError, ["Expected reduction dim to be specified"]),
    ("max_empty_dim", lambda T: T.ones(0, 3).max(0), IndexError, ["Expected reduction dim 0 to have non-zero size"]),
    # dtypes
    ("mean_int", lambda T: T.tensor([1, 2]).mean(), RuntimeError, ["mean(): could not infer output dtype"]),
    ("softmax_int", lambda T: T.tensor([1, 2]).softmax(0), NotImplementedError, ["not implemented for 'Long'"]),
    ("bool_sub", lambda T: T.tensor([True]) - T.tensor([True]), RuntimeError, ["with two bool tensors is not supported"]),
    ("bool_neg", lambda T: -T.tensor([True]), RuntimeError, ["on a bool tensor is not supported"]),
    ("inplace_int_float", lambda T: T.tensor([1, 2]).add_(0.5), RuntimeError,
     ["result type Float can't be cast to the desired output type Long"]),
    # scalars
    ("item_many", lambda T: T.ones(2).item(), RuntimeError, ["a Tensor with 2 elements cannot be converted to Scalar"]),
    ("bool_many", lambda T: bool(T.ones(2)), RuntimeError, ["Boolean value of Tensor with more than one value is ambiguous"]),
    # autograd
    ("backward_grad_shape", lambda T: (T.ones(2, requires_grad=True) * 2).backward(T.ones(3)), RuntimeError,
     ["Mismatch in shape: grad_output[0] has a shape of"]),
    ("backward_no_grad", lambda T: T.ones(2).sum().backward(), RuntimeError,
     ["element 0 of tensors does not require grad and does not have a grad_fn"]),
    ("backward_non_scalar", lambda T: (T.ones(2, requires_grad=True) * 2).backward(), RuntimeError,
     ["grad can be implicitly created only for scalar outputs"]),
    ("grad_wrong_size", lambda T: setattr(T.ones(2, requires_grad=True), "grad", T.ones(3)), RuntimeError, []),
    ("non_leaf_requires_grad_off", lambda T: setattr(T.ones(2, requires_grad=True) * 2, "requires_grad", False),
     RuntimeError, ["you can only change requires_grad flags of leaf variables"]),
    ("leaf_inplace", lambda T: T.ones(2, requires_grad=True).mul_(2), RuntimeError,
     ["a leaf Variable that requires grad is being used in an in-place operation."]),
    ("numpy_requires_grad", lambda T: T.ones(2, requires_grad=True).numpy(), RuntimeError,
     ["Can't call numpy() on Tensor that requires grad"]),
]
IDS = [e[0] for e in ERRORS]


@pytest.mark.parametrize("name, fn, exc_type, phrases", ERRORS, ids=IDS)
def test_error_cygrad(name, fn, exc_type, phrases):
    with pytest.raises(exc_type) as info:
        fn(cygrad)
    message = str(info.value)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


@pytest.mark.parametrize("name, fn, exc_type, phrases", ERRORS, ids=IDS)
def test_error_matches_torch(name, fn, exc_type, phrases, torch):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(cygrad)
    assert isinstance(theirs.value, exc_type), "the table's exception type is not torch's"
    assert type(ours.value) is type(theirs.value), \
        f"cygrad raised {type(ours.value).__name__}, torch {type(theirs.value).__name__}"
    for phrase in phrases:
        assert phrase in str(theirs.value), f"{phrase!r} is not torch's wording: {theirs.value}"
        assert phrase in str(ours.value), f"{phrase!r} not in {ours.value}"


def test_failed_ops_leave_operands_untouched():
    """An error is raised before anything is written (no silently half-done in-place op)."""
    x = cygrad.tensor([[1.0, 2.0, 3.0]])
    with pytest.raises(RuntimeError):
        x.add_(cygrad.ones(2, 3))
    np.testing.assert_array_equal(to_numpy(x), [[1.0, 2.0, 3.0]])
    assert x._version == 0
    i = cygrad.tensor([1, 2])
    with pytest.raises(RuntimeError):
        i.mul_(1.5)
    np.testing.assert_array_equal(to_numpy(i), [1, 2])
    w = cygrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.add_(1)
    np.testing.assert_array_equal(to_numpy(w), [1.0, 1.0])


def test_matmul_2d_1d_mismatch_names_both_sizes():
    with pytest.raises(RuntimeError) as info:
        cygrad.ones(2, 3) @ cygrad.ones(4)
    assert "3" in str(info.value) and "4" in str(info.value)


def test_errors_are_not_crashes_after_failure():
    """The engine stays usable after errors raised during backward."""
    x = cygrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [2.0, 2.0])
