"""RMSprop (torch.optim.RMSprop): optional momentum and centering."""
from cygrad import _core
from cygrad.creation import tensor, zeros_like
from cygrad.optim.optimizer import Optimizer, _check_unsupported, _scalar, _step_no_grad

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, torch's update: g = grad (+ weight_decay * p); s = alpha * s + (1 - alpha) * g^2;
    avg = sqrt(s) + eps, or centered: a = lerp(a, g, 1 - alpha), avg = sqrt(s - a^2) + eps;
    with momentum b = momentum * b + g / avg, p -= lr * b; else p -= lr * g / avg."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if isinstance(lr, _core.TensorBase) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_unsupported("RMSprop", differentiable, capturable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    _legacy_group_defaults = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }
    _tensor_steps = True

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = tensor(0.0)
        state["square_avg"] = zeros_like(p)
        if float(group["momentum"]) > 0:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)

    @_step_no_grad
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(_scalar(group["lr"]))
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = bool(group["centered"])
            maximize = bool(group["maximize"])
            for p, grad, state in self._params_with_grad(group):
                _core.rmsprop_step(p, grad, state["square_avg"],
                                   state["grad_avg"] if centered else None,
                                   state["momentum_buffer"] if momentum > 0 else None,
                                   state["step"], lr, alpha, eps, weight_decay, momentum, maximize)
        return loss
