"""cygrad: a PyTorch-compatible autograd engine with a compiled C core.

`import cygrad as torch` runs the part of torch's API that cygrad implements (see README.md)."""
from cygrad import _core
from cygrad._core import (
    DType as dtype,
    add, bmm, clone, contiguous, cos, div, exp, expand, log, log_softmax, matmul, mean, mm, mul,
    neg, permute, relu, reshape, result_type, promote_types, sigmoid, sin, softmax, sqrt, sub, t,
    tanh, transpose, squeeze, unsqueeze, view, is_grad_enabled,
)
from cygrad._core import (
    broadcast_to, cat, chunk, flatten, flip, gather, index_select, masked_fill, movedim, narrow, roll,
    scatter, scatter_add, split, stack, take_along_dim, unflatten,
)
from cygrad._core import cat as concat, cat as concatenate, movedim as moveaxis
from cygrad._core import abs_op as abs
from cygrad._core import max_op as max
from cygrad._core import min_op as min
from cygrad._core import pow_op as pow
from cygrad._core import sum_op as sum
from cygrad._core import (
    allclose, argmax, argmin, argsort, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal,
    ge, gt, isclose, isfinite, isinf, isnan, le, logical_and, logical_not, logical_or, logical_xor,
    lt, ne, sort, topk, unique,
)
from cygrad._core import all_op as all
from cygrad._core import any_op as any
from cygrad._core import get_num_threads, set_num_threads
from cygrad._core import float32, float64, int32, int64, bool_ as bool
# math ops; gelu, silu, softplus, leaky_relu and elu are torch.nn.functional's (cygrad.nn.functional
# has them too)
from cygrad._core import (
    ceil, clamp, clamp_, clamp_max, clamp_min, cumsum, einsum, elu, erf, expm1, floor, gelu,
    leaky_relu, log1p, logsumexp, maximum, minimum, norm, outer, prod, reciprocal, rsqrt, sign,
    silu, softplus, std, var, where,
)
from cygrad._core import clamp as clip
from cygrad._core import round_op as round
from cygrad.tensor import Tensor, device
from cygrad.size import Size
from cygrad.creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
    ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from cygrad.random import Generator, initial_seed, manual_seed, seed
from cygrad import autograd, nn, utils
from cygrad.autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from cygrad._tensor_str import set_printoptions
from cygrad.serialization import load, save
from cygrad import optim
from cygrad import cuda
from cygrad._dlpack import from_dlpack
from cygrad import _threadpoolctl  # noqa: F401  (lists cygrad's pool in threadpoolctl)

# torch's alternative names for the dtypes
float = float32
double = float64
long = int64
int = int32

__version__ = "0.1.0"


def is_tensor(obj):
    return isinstance(obj, _core.TensorBase)


def numel(input):
    return input.numel()


def get_default_dtype():
    return float32


def is_floating_point(input):
    return input.dtype.is_floating_point
