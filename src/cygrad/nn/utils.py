"""torch.nn.utils: gradient clipping by total norm.

The norms are computed by a C kernel (cg_vector_norm in csrc/optim.c) and the gradients scaled
in place by the elementwise mul kernel; this file only gathers the gradients.
"""
import types
import warnings

from cygrad import _core

__all__ = ["clip_grad_norm_", "clip_grads_with_norm_", "get_total_norm"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, _core.TensorBase) else list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all the tensors' elements taken as one vector (a 0-d tensor): each tensor's
    norm, then the norm of those norms, as torch computes it."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    total_norm = _core.total_norm(tensors, norm_type)
    if error_if_nonfinite:
        value = total_norm.item()
        if value != value or value in (float("inf"), float("-inf")):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total_norm


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the parameters' gradients in place by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if grads:
        _core.clip_grads_with_norm_(grads, float(max_norm), total_norm)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescales the gradients of `parameters` in place so that their total norm (all gradients
    taken as one vector) is at most max_norm; returns the total norm before clipping."""
    if isinstance(parameters, _core.TensorBase):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)  # a generator is read once, for both passes
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm
