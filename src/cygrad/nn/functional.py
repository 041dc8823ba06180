"""nn.functional: the stateless forms of the layers (torch.nn.functional)."""
import warnings

from cygrad import _core



linear = _core.linear


def relu(input, inplace=False):
    return _core.relu(input)


def sigmoid(input):
    return _core.sigmoid(input)


def tanh(input):
    return _core.tanh(input)


def softmax(input, dim=None, dtype=None):
    return _core.softmax(input, dim, dtype)


def log_softmax(input, dim=None, dtype=None):
    return _core.log_softmax(input, dim, dtype)


# activations of the math ops (_ops_math.pxi): gelu(input, approximate='none'), silu(input,
# inplace=False), softplus(input, beta=1.0, threshold=20.0), leaky_relu(input, negative_slope=0.01,
# inplace=False), elu(input, alpha=1.0, inplace=False); cygrad also has them at the top level
gelu = _core.gelu
silu = _core.silu
softplus = _core.softplus
leaky_relu = _core.leaky_relu
elu = _core.elu


def _warn_if_broadcasting(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({_size(target.shape)}) that is different to the input "
                      f"size ({_size(input.shape)}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=3)


def _size(shape):
    return f"torch.Size({list(shape)})"


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    _warn_if_broadcasting(input, target)
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    _warn_if_broadcasting(input, target)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _warn_if_broadcasting(input, target)
    return _core.smooth_l1_loss(input, target, reduction=reduction, beta=beta)


cross_entropy = _core.cross_entropy
nll_loss = _core.nll_loss
binary_cross_entropy = _core.binary_cross_entropy
binary_cross_entropy_with_logits = _core.binary_cross_entropy_with_logits


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes elements with probability p and scales the rest by 1/(1-p) (identity when not
    training). The mask comes from cygrad's default generator, so manual_seed reproduces it."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from cygrad.random import numpy_generator
    keep = numpy_generator().random(tuple(input.shape)) >= p
    mask = _core._from_array(keep.astype(input.dtype.numpy_dtype)).to(input.device)
    return input * mask * (1.0 / (1.0 - p))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """weight's rows at input's indices (shape input.shape + (embedding_dim,)); duplicate indices
    accumulate their gradients, and the padding_idx row gets none."""
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got torch.{input.dtype.legacy_name} instead "
                           "(while checking arguments for embedding)")
    rows = _core.index_select(weight, 0, input.reshape(-1))
    if padding_idx is not None and rows.requires_grad:
        keep = _core._from_array((input._host_array().reshape(-1, 1) != padding_idx % weight.shape[0])
                                 .astype(weight.dtype.numpy_dtype)).to(weight.device)
        rows.register_hook(lambda grad: grad * keep)
    return rows.reshape(*input.shape, weight.shape[1])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    from cygrad.nn.modules.conv import conv2d as _conv2d
    return _conv2d(input, weight, bias, stride, padding, dilation, groups)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    from cygrad.nn.modules.conv import max_pool2d as _max_pool2d
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
