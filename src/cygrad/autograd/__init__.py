"""cygrad.autograd: gradients of tensors (torch.autograd's functions and switches)."""
from cygrad._core import _backward as backward
from cygrad._core import grad
from cygrad.autograd import graph
from cygrad.autograd.anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from cygrad.autograd.function import Function, FunctionCtx
from cygrad.autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from cygrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode", "gradcheck", "gradgradcheck", "GradcheckError", "Function",
           "FunctionCtx", "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled", "graph"]
