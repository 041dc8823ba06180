"""Adagrad (torch.optim.Adagrad): learning-rate decay, weight decay, initial accumulator."""
from cygrad import _core
from cygrad.creation import full_like, tensor
from cygrad.optim.optimizer import Optimizer, _check_unsupported, _scalar, _step_no_grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, torch's update at step t: g = grad (+ weight_decay * p); s += g^2;
    p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps). As in torch, the state ('step' and
    'sum', which starts at initial_accumulator_value) exists from construction on."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, _core.TensorBase) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_unsupported("Adagrad", differentiable)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = tensor(0.0)
        state["sum"] = full_like(p, group["initial_accumulator_value"])

    _legacy_group_defaults = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "fused": None,
    }
    _tensor_steps = True

    @_step_no_grad
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(_scalar(group["lr"]))
            lr_decay = float(group["lr_decay"])
            weight_decay = float(group["weight_decay"])
            eps = float(group["eps"])
            maximize = bool(group["maximize"])
            for p, grad, state in self._params_with_grad(group):
                _core.adagrad_step(p, grad, state["sum"], state["step"], lr, lr_decay,
                                   weight_decay, eps, maximize)
        return loss
