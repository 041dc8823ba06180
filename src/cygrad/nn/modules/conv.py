"""Conv2d and MaxPool2d, built from differentiable ops: the input windows are gathered with one
index_select (im2col; its backward scatter-adds overlapping windows back), then one matrix
product (convolution) or one max over each window (pooling)."""
import math

import numpy as np

from cygrad import _core, creation
from cygrad.nn import init
from cygrad.nn.modules.module import Module
from cygrad.nn.parameter import Parameter


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _output_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _window_indices(height, width, kernel, stride, dilation, out_size):
    """Flat positions (in a height x width plane) of every window's elements: (L, kh * kw)."""
    rows = (np.arange(out_size[0]) * stride[0])[:, None, None, None] + (np.arange(kernel[0]) * dilation[0])[None, None, :, None]
    cols = (np.arange(out_size[1]) * stride[1])[None, :, None, None] + (np.arange(kernel[1]) * dilation[1])[None, None, None, :]
    return (rows * width + cols).reshape(out_size[0] * out_size[1], kernel[0] * kernel[1])


def _padded(input, padding, fill):
    """input (N, C, H, W) inside a frame of `fill` (differentiable through the assignment)."""
    if padding == (0, 0):
        return input
    n, c, h, w = input.shape
    frame = creation.full((n, c, h + 2 * padding[0], w + 2 * padding[1]), fill, dtype=input.dtype)
    frame[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = input
    return frame


def _windows(input, kernel, stride, padding, dilation, fill):
    """(N, C, L, kh * kw) window elements and the output's (height, width)."""
    n, c, h, w = input.shape
    out_size = (_output_size(h, kernel[0], stride[0], padding[0], dilation[0]),
                _output_size(w, kernel[1], stride[1], padding[1], dilation[1]))
    if out_size[0] <= 0 or out_size[1] <= 0:
        raise RuntimeError(f"Calculated output size: ({c}x{out_size[0]}x{out_size[1]}). Output size is too small")
    padded = _padded(input, padding, fill)
    plane = padded.shape[2] * padded.shape[3]
    index = _window_indices(padded.shape[2], padded.shape[3], kernel, stride, dilation, out_size)
    flat = padded.reshape(n * c, plane)
    gathered = _core.index_select(flat, 1, _core._from_array(np.ascontiguousarray(index.reshape(-1))))
    return gathered.reshape(n, c, out_size[0] * out_size[1], kernel[0] * kernel[1]), out_size


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if groups != 1:
        raise NotImplementedError("conv2d with groups > 1 is not supported yet")
    unbatched = input.dim() == 3
    if unbatched:
        input = input.unsqueeze(0)
    if input.dim() != 4:
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: {list(input.shape)}")
    out_channels, in_channels, kh, kw = weight.shape
    if input.shape[1] != in_channels:
        raise RuntimeError(f"Given groups=1, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
                           f"to have {in_channels} channels, but got {input.shape[1]} channels instead")
    windows, out_size = _windows(input, (kh, kw), _pair(stride), _pair(padding), _pair(dilation), 0.0)
    n = input.shape[0]
    columns = windows.permute(0, 2, 1, 3).reshape(n, out_size[0] * out_size[1], in_channels * kh * kw)
    out = columns.matmul(weight.reshape(out_channels, -1).t())
    if bias is not None:
        out = out + bias
    out = out.permute(0, 2, 1).reshape(n, out_channels, out_size[0], out_size[1])
    return out.squeeze(0) if unbatched else out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if ceil_mode or return_indices:
        raise NotImplementedError("max_pool2d's ceil_mode and return_indices are not supported yet")
    kernel = _pair(kernel_size)
    padding = _pair(padding)
    if padding[0] > kernel[0] / 2 or padding[1] > kernel[1] / 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={padding[0]}, "
                           f"kernel_size={kernel[0]} and dilation={_pair(dilation)[0]}")
    unbatched = input.dim() == 3
    if unbatched:
        input = input.unsqueeze(0)
    windows, out_size = _windows(input, kernel, _pair(stride if stride is not None else kernel_size),
                                 padding, _pair(dilation), -math.inf)
    out = windows.max(3).values.reshape(input.shape[0], input.shape[1], out_size[0], out_size[1])
    return out.squeeze(0) if unbatched else out


class Conv2d(Module):
    """2-D convolution (cross-correlation, as torch) with torch's initialization."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups != 1 or padding_mode != "zeros":
            raise NotImplementedError("Conv2d supports groups=1 and padding_mode='zeros' only")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self.groups = groups
        self.weight = Parameter(creation.empty(out_channels, in_channels, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.bias is None:
            text += ", bias=False"
        return text


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")
