"""LayerNorm and BatchNorm1d, written with differentiable ops (their backward comes from those
ops' nodes)."""
from cygrad import _core, creation
from cygrad.autograd.grad_mode import no_grad
from cygrad.nn.modules.module import Module
from cygrad.nn.parameter import Parameter


def _normalize(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over dims, with the biased variance (as torch normalizes);
    also returns the batch mean and biased variance."""
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered / (var + eps).sqrt(), mean, var


class LayerNorm(Module):
    """Normalizes over the last len(normalized_shape) dims, then scales and shifts elementwise."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, dtype=dtype))
            self.bias = Parameter(creation.zeros(*self.normalized_shape, dtype=dtype)) if bias else None
            if not bias:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        count = len(self.normalized_shape)
        if tuple(input.shape[-count:]) != self.normalized_shape:
            raise RuntimeError(f"Given normalized_shape={list(self.normalized_shape)}, expected input with "
                               f"shape [*, {', '.join(map(str, self.normalized_shape))}], but got input of "
                               f"size{list(input.shape)}")
        dims = tuple(range(input.dim() - count, input.dim()))
        output, _, _ = _normalize(input, dims, self.eps)
        if self.weight is not None:
            output = output * self.weight
        if self.bias is not None:
            output = output + self.bias
        return output

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class BatchNorm1d(Module):
    """Normalizes each channel of (N, C) or (N, C, L) input with batch statistics while training
    (updating running_mean/running_var by momentum, and num_batches_tracked) and with the running
    statistics in eval mode."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 bias=True, device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_input(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"running_mean should contain {input.shape[1]} elements not {self.num_features}")

    def forward(self, input):
        self._check_input(input)
        dims = (0,) if input.dim() == 2 else (0, 2)
        channel_shape = (1, self.num_features) + ((1,) if input.dim() == 3 else ())
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            count = input.numel() // self.num_features
            if count <= 1 and self.training:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(input.shape)}")
            output, mean, var = _normalize(input, dims, self.eps)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, count)
        else:
            mean = self.running_mean.reshape(*channel_shape)
            var = self.running_var.reshape(*channel_shape)
            output = (input - mean) / (var + self.eps).sqrt()
        if self.weight is not None:
            output = output * self.weight.reshape(*channel_shape)
        if self.bias is not None:
            output = output + self.bias.reshape(*channel_shape)
        return output

    def _update_running_stats(self, mean, var, count):
        with no_grad():
            self.num_batches_tracked.add_(1)
            momentum = (1.0 / self.num_batches_tracked.item()) if self.momentum is None else self.momentum
            unbiased = var.reshape(-1) * (count / (count - 1))
            self.running_mean.mul_(1 - momentum).add_(mean.reshape(-1) * momentum)
            self.running_var.mul_(1 - momentum).add_(unbiased * momentum)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
