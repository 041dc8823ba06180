"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize (torch.optim.SGD)."""
from cygrad import _core
from cygrad.creation import zeros_like
from cygrad.optim.optimizer import Optimizer, _check_unsupported, _scalar, _step_no_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, torch's update: g = grad (+ weight_decay * p);
    b = g on the first step, then b = momentum * b + (1 - dampening) * g;
    g = g + momentum * b (nesterov) or b; p -= lr * g."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, _core.TensorBase) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if _scalar(lr) < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if _scalar(weight_decay) < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_unsupported("SGD", differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    _legacy_group_defaults = {
        "nesterov": False,
        "maximize": False,
        "foreach": None,
        "differentiable": False,
        "fused": False,
    }

    @_step_no_grad
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(_scalar(group["lr"]))
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(_scalar(group["weight_decay"]))
            nesterov = bool(group["nesterov"])
            maximize = bool(group["maximize"])
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    first_step = buf is None
                    if first_step:  # the kernel fills it with the gradient
                        buf = state["momentum_buffer"] = zeros_like(p)
                    _core.sgd_step(p, grad, buf, lr, momentum, dampening, weight_decay, nesterov,
                                   maximize, first_step)
                else:
                    _core.sgd_step(p, grad, None, lr, momentum, dampening, weight_decay, nesterov,
                                   maximize, False)
        return loss
