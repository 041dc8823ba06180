"""Optimizer: parameter groups, per-parameter state and state_dict, as torch.optim.Optimizer.

Subclasses implement `step`. Their math is one fused kernel call per parameter
(cygrad._core.sgd_step, adam_step, ...: csrc/optim.c); this file is bookkeeping only.
"""
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

from cygrad import _core
from cygrad.autograd import enable_grad, no_grad

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a hyperparameter that every parameter group must specify."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _is_tensor(obj):
    return isinstance(obj, _core.TensorBase)


def _typename(obj):
    """torch.typename: a tensor's type() ('torch.FloatTensor'), else the qualified class name."""
    if _is_tensor(obj):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _scalar(value):
    """A hyperparameter as a Python number: torch accepts one-element tensors for lr and others."""
    return value.item() if _is_tensor(value) else value


class Optimizer:
    """Base class of the optimizers: holds `param_groups` (a list of dicts: 'params' plus every
    hyperparameter, defaults filled in) and `state` (a dict of dicts keyed by parameter)."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        if _is_tensor(params):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    # group options that state dicts from older torch releases may lack, with their defaults,
    # and whether per-parameter 'step' counters are tensors: set by each optimizer
    _legacy_group_defaults = {}
    _tensor_steps = False

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._legacy_group_defaults.items():
                group.setdefault(key, value)
        if self._tensor_steps:
            self._convert_steps()

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ---- parameter groups ----
    def add_param_group(self, param_group):
        """Adds a group of parameters (a dict with 'params' and optional hyperparameters; the
        optimizer's defaults fill in the rest). Parameters may be given as (name, tensor) pairs."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if _is_tensor(params):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use "
                            "a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not _is_tensor(param):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or
                                                                       param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required optimization "
                                 f"parameter {name}")
            param_group.setdefault(name, default)

        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        param_set = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not param_set.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients ----
    def zero_grad(self, set_to_none=True):
        """Resets every parameter's .grad: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    def _params_with_grad(self, group):
        """(param, grad, state) for each parameter of `group` that has a gradient. A parameter
        without state yet gets it from the optimizer's _init_state(param, group): Adagrad fills it
        at construction, the others lazily, and a group added later starts there too."""
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                self._init_state(p, group)
            yield p, grad, state

    def _evaluate(self, closure):
        """The closure's loss, computed with grad mode on (step itself runs under no_grad)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ---- state_dict ----
    def state_dict(self):
        """{'state': {index: per-parameter state}, 'param_groups': [group with 'params' as
        indices]}: torch's format. Parameters are numbered in group order; the state's tensors are
        the optimizer's own (as in torch), so save or copy them before the next step changes them."""
        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start_index):
                param_mappings.setdefault(id(p), i)
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if _is_tensor(k) else k): v
                        for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Loads a state_dict from state_dict() (ours or torch's layout): parameters are matched by
        position. Tensors are copied (floating-point state converted to its parameter's dtype,
        'step' kept as it is), so the loaded optimizer shares no buffer with the dict."""
        state_dict = state_dict.copy()
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if _is_tensor(value):
                copy = value.detach().clone()
                if key != "step":   # state goes to its parameter's device and dtype ('step': as is)
                    copy = copy.to(device=param.device, dtype=param.dtype if
                                   param.is_floating_point() and copy.dtype != param.dtype else None)
                return copy if copy.is_contiguous() else copy.contiguous()
            if isinstance(value, dict):
                return {k: cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return deepcopy(value)

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})

    # ---- helpers for subclasses ----
    def _convert_steps(self):
        """Old checkpoints kept 'step' as a number: make it the float32 0-d tensor torch keeps."""
        from cygrad.creation import tensor
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p)
                if p_state and "step" in p_state and not _is_tensor(p_state["step"]):
                    p_state["step"] = tensor(float(p_state["step"]))


def _check_unsupported(optimizer_name, differentiable=False, capturable=False):
    """Options of torch's optimizers that have no meaning without an autograd-through-the-step
    or CUDA-graph implementation: refused clearly rather than ignored."""
    if differentiable:
        raise NotImplementedError(f"{optimizer_name}(differentiable=True) is not supported by "
                                  "cygrad: steps run as fused kernels outside autograd")
    if capturable:
        raise NotImplementedError(f"{optimizer_name}(capturable=True) is for CUDA graphs, which "
                                  "cygrad does not have")


def _step_no_grad(step):
    """Decorator: run an optimizer's step with grad mode off (its closure turns it back on)."""
    def wrapper(self, closure=None):
        with no_grad():
            return step(self, closure)
    wrapper.__name__ = step.__name__
    wrapper.__qualname__ = step.__qualname__
    wrapper.__doc__ = step.__doc__
    return wrapper
