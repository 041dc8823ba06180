"""cygrad.optim, cygrad.optim.lr_scheduler and cygrad.nn.utils.clip_grad_norm_ against torch.

Both libraries start from the same parameters and receive the same gradients (assigned to .grad),
so any difference is the optimizer's arithmetic. torch runs its single-tensor implementation
(foreach=False), which cygrad's fused kernels follow operation by operation.
"""
import importlib
import math
import warnings

import numpy as np
import pytest

import cygrad
import cygrad.nn
import cygrad.optim
from cygrad import _core
from helpers import to_numpy

# 0-d, a vector tail, a matrix, an odd length, and one above the kernel's GIL-release threshold
SHAPES = [(), (7,), (3, 5), (33,), (40000,)]
RTOL = {"float32": 1e-6, "float64": 1e-12}
STEPS = 10


def assert_close_to_scale(actual, expected, dtype, what=""):
    """Lists of arrays compared as one vector: |actual - expected| <= rtol * max|expected|.

    torch's CPU kernels fuse multiply-adds (FMA, one rounding) where cygrad's portable kernels
    round twice, so an element that is the small difference of O(1) terms (a parameter crossing
    zero) differs by an ulp of those terms, not of itself: the error is measured relative to the
    scale of the whole parameter set (or of one kind of state), not elementwise."""
    actual = np.concatenate([np.ravel(a) for a in actual])
    expected = np.concatenate([np.ravel(e) for e in expected])
    assert actual.shape == expected.shape, what
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=0, atol=RTOL[dtype] * scale, err_msg=what)


OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.05, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),   # lerp weight 0.7: torch's other lerp branch
    ("Adam", dict(lr=0.01, betas=(0.0, 0.5))),   # lerp weight 1: m = g exactly
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01, maximize=True, betas=(0.5, 0.9))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.4, centered=True)),   # lerp weight 0.6
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.05, momentum=0.3,
                     centered=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-5, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.02, initial_accumulator_value=0.1,
                     maximize=True)),
]


def case_id(case):
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def initial_arrays(seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def gradient_arrays(step, shapes=SHAPES):
    rng = np.random.default_rng(1000 + step)
    return [rng.standard_normal(shape) for shape in shapes]


class Pair:
    """The same parameters and optimizer in cygrad and in torch."""

    def __init__(self, torch, name, kwargs, dtype, arrays=None, groups=None, device="cpu"):
        self.torch = torch
        self.device = device
        self.cy_dtype = getattr(cygrad, dtype)
        self.th_dtype = getattr(torch, dtype)
        self.dtype = dtype
        arrays = initial_arrays() if arrays is None else arrays
        self.cy_params = [cygrad.tensor(a, dtype=self.cy_dtype, device=device, requires_grad=True)
                          for a in arrays]
        self.th_params = [torch.tensor(a, dtype=self.th_dtype, requires_grad=True) for a in arrays]
        kwargs = dict(kwargs, foreach=False)
        if groups is None:
            cy_spec, th_spec = self.cy_params, self.th_params
        else:  # groups: [(indices, options)]
            cy_spec = [dict(options, params=[self.cy_params[i] for i in idx]) for idx, options in groups]
            th_spec = [dict(options, params=[self.th_params[i] for i in idx]) for idx, options in groups]
        self.cy_opt = getattr(cygrad.optim, name)(cy_spec, **kwargs)
        self.th_opt = getattr(torch.optim, name)(th_spec, **kwargs)

    def set_grads(self, grads):
        for cy_p, th_p, g in zip(self.cy_params, self.th_params, grads):
            cy_p.grad = None if g is None else cygrad.tensor(g, dtype=self.cy_dtype, device=self.device)
            th_p.grad = None if g is None else self.torch.tensor(g, dtype=self.th_dtype)

    def step(self, grads):
        self.set_grads(grads)
        self.cy_opt.step()
        self.th_opt.step()

    def assert_params_close(self, what=""):
        assert_close_to_scale([to_numpy(p) for p in self.cy_params],
                              [to_numpy(p) for p in self.th_params], self.dtype, f"{what} parameters")


def assert_state_dicts_match(cy_sd, th_sd, dtype):
    """Same structure and keys as torch's state_dict, tensors close, steps equal float32 0-d."""
    assert sorted(cy_sd) == sorted(th_sd) == ["param_groups", "state"]
    assert cy_sd["param_groups"] == th_sd["param_groups"]
    assert sorted(cy_sd["state"]) == sorted(th_sd["state"])
    tensors = {}   # state key -> ([ours], [torch's]) over all parameters
    for index, th_state in th_sd["state"].items():
        cy_state = cy_sd["state"][index]
        assert list(cy_state) == list(th_state), f"state keys of parameter {index}"
        for key, th_value in th_state.items():
            cy_value = cy_state[key]
            assert isinstance(cy_value, cygrad.Tensor), key
            assert str(cy_value.dtype).split(".")[-1] == str(th_value.dtype).split(".")[-1], key
            assert tuple(cy_value.shape) == tuple(th_value.shape), key
            if key == "step":
                assert cy_value.item() == th_value.item()
            else:
                ours, theirs = tensors.setdefault(key, ([], []))
                ours.append(to_numpy(cy_value))
                theirs.append(to_numpy(th_value))
    for key, (ours, theirs) in tensors.items():
        assert_close_to_scale(ours, theirs, dtype, f"state {key}")


# ---------------------------------------------------------------------------------------------
# every optimizer and option against torch
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", OPTIMIZER_CASES, ids=case_id)
def test_optimizer_matches_torch(torch, case, dtype, device):
    name, kwargs = case
    pair = Pair(torch, name, kwargs, dtype, device=device)
    for step in range(STEPS):
        pair.step(gradient_arrays(step))
        pair.assert_params_close(f"{case_id(case)} step {step}:")
    assert_state_dicts_match(pair.cy_opt.state_dict(), pair.th_opt.state_dict(), dtype)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_defaults_and_param_groups_match_torch(torch, name):
    p = cygrad.zeros(2, requires_grad=True)
    q = torch.zeros(2, requires_grad=True)
    ours = getattr(cygrad.optim, name)([p])
    theirs = getattr(torch.optim, name)([q])
    assert ours.defaults == theirs.defaults
    assert [{k: v for k, v in g.items() if k != "params"} for g in ours.param_groups] == \
        [{k: v for k, v in g.items() if k != "params"} for g in theirs.param_groups]
    assert repr(ours) == repr(theirs)


def test_step_through_backward_matches_torch(torch, device):
    """Gradients from a real backward pass, parameters updated while they require grad."""
    arrays = initial_arrays(3, [(4, 3), (3,)])
    x = np.random.default_rng(5).standard_normal((8, 4))
    results = []
    for T in (cygrad, torch):
        where = dict(device=device) if T is cygrad else {}
        w, b = (T.tensor(a, dtype=T.float64, requires_grad=True, **where) for a in arrays)
        opt = T.optim.Adam([w, b], lr=0.05, amsgrad=True, foreach=False) if T is torch else \
            T.optim.Adam([w, b], lr=0.05, amsgrad=True)
        xs = T.tensor(x, dtype=T.float64, **where)
        for _ in range(STEPS):
            opt.zero_grad()
            loss = ((xs @ w + b) ** 2).mean()
            loss.backward()
            opt.step()
        results.append([to_numpy(w), to_numpy(b)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.1)),
                                         ("RMSprop", dict(centered=True, momentum=0.5)),
                                         ("Adagrad", dict())])
def test_non_contiguous_parameters_and_gradients(torch, name, kwargs):
    """A transposed leaf and a transposed gradient: updated in place through a contiguous copy."""
    base = np.random.default_rng(7).standard_normal((5, 3))
    cy_p = cygrad.tensor(base).t().requires_grad_()
    th_p = torch.tensor(base).t().requires_grad_()
    assert not cy_p.is_contiguous()
    cy_opt = getattr(cygrad.optim, name)([cy_p], **kwargs)
    th_opt = getattr(torch.optim, name)([th_p], foreach=False, **kwargs)
    for step in range(STEPS):
        g = np.random.default_rng(step).standard_normal((5, 3))
        cy_p.grad = cygrad.tensor(g).t()
        th_p.grad = torch.tensor(g).t()
        cy_opt.step()
        th_opt.step()
    np.testing.assert_allclose(to_numpy(cy_p), to_numpy(th_p), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# parameter groups, skipped parameters, zero_grad, closures
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_param_groups_with_different_options(torch, name):
    groups = [([0, 2], dict(lr=0.1)), ([1, 3], dict(lr=0.003, weight_decay=0.2)), ([4], {})]
    pair = Pair(torch, name, dict(lr=0.02), "float64", groups=groups)
    for step in range(STEPS):
        pair.step(gradient_arrays(step))
    pair.assert_params_close(name)
    assert_state_dicts_match(pair.cy_opt.state_dict(), pair.th_opt.state_dict(), "float64")


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(amsgrad=True)),
                                         ("AdamW", dict()),
                                         ("RMSprop", dict(centered=True, momentum=0.2)),
                                         ("Adagrad", dict())])
def test_parameters_without_grad_are_skipped(torch, name, kwargs):
    """Parameter 1 gets no gradient on even steps and parameter 3 never: neither moves then, and
    neither gets state until it has a gradient (Adagrad's state exists from the start)."""
    pair = Pair(torch, name, kwargs, "float64")
    untouched = to_numpy(pair.cy_params[3])
    for step in range(STEPS):
        grads = gradient_arrays(step)
        grads[3] = None
        if step % 2 == 0:
            grads[1] = None
        if step == 0:
            pair.set_grads(grads)
            version = pair.cy_params[3]._version
            pair.cy_opt.step()
            pair.th_opt.step()
            assert pair.cy_params[3]._version == version
            assert 1 not in pair.cy_opt.state_dict()["state"] or name == "Adagrad"
        else:
            pair.step(grads)
        pair.assert_params_close(f"step {step}")
    np.testing.assert_array_equal(to_numpy(pair.cy_params[3]), untouched)
    assert_state_dicts_match(pair.cy_opt.state_dict(), pair.th_opt.state_dict(), "float64")


def test_zero_grad():
    p = cygrad.ones(3, requires_grad=True)
    opt = cygrad.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad()
    assert p.grad is None
    (p * 2).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad
    np.testing.assert_array_equal(to_numpy(p.grad), np.zeros(3))
    opt.zero_grad()  # parameters without grad are fine
    opt.zero_grad()


def test_step_with_closure_runs_with_grad_enabled():
    p = cygrad.tensor([1.0, -2.0], requires_grad=True)
    opt = cygrad.optim.SGD([p], lr=0.1)
    seen = []

    def closure():
        opt.zero_grad()
        seen.append(cygrad.is_grad_enabled())
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert seen == [True]
    assert loss.item() == 5.0
    np.testing.assert_allclose(to_numpy(p), [0.8, -1.6], rtol=1e-6)
    assert cygrad.is_grad_enabled()


def test_step_bumps_version_and_stale_graph_refuses_backward():
    p = cygrad.tensor([1.0, 2.0], requires_grad=True)
    opt = cygrad.optim.Adam([p], lr=0.1)
    p.grad = cygrad.tensor([1.0, 1.0])
    version = p._version
    opt.step()
    assert p._version > version
    loss = (p * p).sum()   # saves p
    p.grad = cygrad.tensor([1.0, 1.0])
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_step_records_no_graph_and_keeps_leaves():
    p = cygrad.tensor([1.0, 2.0], requires_grad=True)
    opt = cygrad.optim.RMSprop([p], momentum=0.9, centered=True)
    p.grad = cygrad.tensor([0.5, -0.5])
    opt.step()
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    for value in opt.state[p].values():
        assert not value.requires_grad and value.grad_fn is None


def test_integer_or_mismatched_gradients_are_refused():
    p = cygrad.zeros(3, requires_grad=True)
    opt = cygrad.optim.SGD([p], lr=0.1)
    with pytest.raises(RuntimeError, match="shape"):
        _core.sgd_step(p, cygrad.zeros(4), None, 0.1, 0.0, 0.0, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="dtype"):
        _core.sgd_step(p, cygrad.zeros(3, dtype=cygrad.float64), None, 0.1, 0.0, 0.0, 0.0, False,
                       False, False)
    q = cygrad.zeros(3, dtype=cygrad.int64)
    with pytest.raises(TypeError, match="float32 and float64"):
        _core.sgd_step(q, q, None, 0.1, 0.0, 0.0, 0.0, False, False, False)
    opt.step()  # no gradient: nothing to do


# ---------------------------------------------------------------------------------------------
# construction errors: torch's messages
# ---------------------------------------------------------------------------------------------


def _messages(torch, build):
    """(our exception, torch's exception) from build(T)."""
    found = []
    for T in (cygrad, torch):
        with pytest.raises(Exception) as info:
            build(T)
        found.append(info.value)
    return found


ERROR_CASES = {
    "empty": lambda T: T.optim.SGD([], lr=0.1),
    "tensor_params": lambda T: T.optim.SGD(T.zeros(2, requires_grad=True), lr=0.1),
    "non_tensor": lambda T: T.optim.SGD([1.0], lr=0.1),
    "set": lambda T: T.optim.SGD([{"params": {T.zeros(2, requires_grad=True)}}], lr=0.1),
    "non_leaf": lambda T: T.optim.SGD([T.zeros(2, requires_grad=True) * 2], lr=0.1),
    "group_not_dict": lambda T: T.optim.SGD([T.zeros(2, requires_grad=True)]).add_param_group(3),
    "overlapping_groups": lambda T: (lambda p: T.optim.SGD([{"params": [p]}, {"params": [p]}]))(
        T.zeros(2, requires_grad=True)),
    "mixed_names": lambda T: T.optim.SGD([{"params": [("a", T.zeros(2, requires_grad=True))]},
                                          {"params": [T.zeros(2, requires_grad=True)]}]),
    "bad_lr": lambda T: T.optim.SGD([T.zeros(2, requires_grad=True)], lr=-1.0),
    "bad_momentum": lambda T: T.optim.SGD([T.zeros(2, requires_grad=True)], momentum=-0.5),
    "nesterov": lambda T: T.optim.SGD([T.zeros(2, requires_grad=True)], nesterov=True),
    "bad_beta": lambda T: T.optim.Adam([T.zeros(2, requires_grad=True)], betas=(1.0, 0.9)),
    "int_betas": lambda T: T.optim.Adam([T.zeros(2, requires_grad=True)], betas=(0, 0.9)),
    "bad_eps": lambda T: T.optim.AdamW([T.zeros(2, requires_grad=True)], eps=-1.0),
    "bad_alpha": lambda T: T.optim.RMSprop([T.zeros(2, requires_grad=True)], alpha=-1.0),
    "bad_lr_decay": lambda T: T.optim.Adagrad([T.zeros(2, requires_grad=True)], lr_decay=-1.0),
    "bad_initial_accumulator": lambda T: T.optim.Adagrad([T.zeros(2, requires_grad=True)],
                                                         initial_accumulator_value=-1.0),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_construction_errors_match_torch(torch, case):
    ours, theirs = _messages(torch, ERROR_CASES[case])
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)


def test_missing_required_hyperparameter(torch):
    def build(T):
        class Custom(T.optim.Optimizer):
            def __init__(self, params):
                required = importlib.import_module(T.__name__ + ".optim.optimizer").required
                super().__init__(params, {"lr": required, "beta": 0.5})
        return Custom([{"params": [T.zeros(2, requires_grad=True)]}])
    ours, theirs = _messages(torch, build)
    assert type(ours) is type(theirs) is ValueError
    assert str(ours) == str(theirs) == ("parameter group didn't specify a value of required "
                                        "optimization parameter lr")


def test_duplicate_parameters_in_a_group_warn(torch):
    for T in (cygrad, torch):
        p = T.zeros(2, requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            T.optim.SGD([p, p], lr=0.1)


def test_add_param_group_fills_defaults_and_names():
    p, q = cygrad.zeros(2, requires_grad=True), cygrad.zeros(3, requires_grad=True)
    opt = cygrad.optim.Adam([("w", p)], lr=0.5)
    opt.add_param_group({"params": [("b", q)], "betas": (0.5, 0.6)})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.5, 0.6)
    assert opt.param_groups[1]["param_names"] == ["b"]
    assert opt.state_dict()["param_groups"][1]["params"] == [1]
    assert opt.state_dict()["param_groups"][1]["param_names"] == ["b"]


def test_unsupported_options_are_refused():
    p = cygrad.zeros(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="differentiable"):
        cygrad.optim.SGD([p], differentiable=True)
    with pytest.raises(NotImplementedError, match="capturable"):
        cygrad.optim.Adam([p], capturable=True)


# ---------------------------------------------------------------------------------------------
# state_dict
# ---------------------------------------------------------------------------------------------

ROUND_TRIP_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.2)),
]


def _cy_params(arrays, dtype=cygrad.float32):
    return [cygrad.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]


def _run(opt, params, steps, dtype=cygrad.float32):
    for step in steps:
        for p, g in zip(params, gradient_arrays(step)):
            p.grad = cygrad.tensor(g, dtype=dtype)
        opt.step()


@pytest.mark.parametrize("case", ROUND_TRIP_CASES, ids=case_id)
def test_state_dict_round_trip_continues_identically(case):
    name, kwargs = case
    Opt = getattr(cygrad.optim, name)
    arrays = initial_arrays()
    uninterrupted = _cy_params(arrays)
    opt = Opt(uninterrupted, **kwargs)
    _run(opt, uninterrupted, range(10))

    first = _cy_params(arrays)
    opt1 = Opt(first, **kwargs)
    _run(opt1, first, range(5))
    saved = opt1.state_dict()
    resumed = [cygrad.tensor(to_numpy(p), requires_grad=True) for p in first]
    opt2 = Opt(resumed, **kwargs)
    opt2.load_state_dict(saved)
    # the loaded state is a copy: stepping the original afterwards does not touch it
    _run(opt1, first, range(100, 102))
    _run(opt2, resumed, range(5, 10))
    for ours, reference in zip(resumed, uninterrupted):
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(reference))


def test_load_state_dict_checks_groups_and_casts_to_parameter_dtype():
    p = cygrad.zeros(3, dtype=cygrad.float64, requires_grad=True)
    source = cygrad.optim.Adam([cygrad.zeros(3, requires_grad=True)])
    source.param_groups[0]["params"][0].grad = cygrad.ones(3)
    source.step()
    target = cygrad.optim.Adam([p])
    target.load_state_dict(source.state_dict())
    assert target.state[p]["exp_avg"].dtype == cygrad.float64
    assert target.state[p]["step"].dtype == cygrad.float32   # 'step' is never cast
    with pytest.raises(ValueError, match="different number of parameter groups"):
        cygrad.optim.Adam([{"params": [p]}, {"params": [cygrad.zeros(1, requires_grad=True)]}]) \
            .load_state_dict(source.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        cygrad.optim.Adam([p, cygrad.zeros(1, requires_grad=True)]).load_state_dict(
            source.state_dict())


def test_load_torch_state_dict_and_continue(torch):
    """A torch Adam state_dict, its tensors converted, loaded into cygrad: both continue alike."""
    pair = Pair(torch, "Adam", dict(lr=0.01, amsgrad=True), "float64")
    for step in range(5):
        pair.step(gradient_arrays(step))
    th_sd = pair.th_opt.state_dict()
    converted = {
        "state": {i: {k: cygrad.tensor(v.numpy()) for k, v in s.items()}
                  for i, s in th_sd["state"].items()},
        "param_groups": th_sd["param_groups"],
    }
    params = [cygrad.tensor(p.detach().numpy(), requires_grad=True) for p in pair.th_params]
    opt = cygrad.optim.Adam(params)
    opt.load_state_dict(converted)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["amsgrad"]
    for step in range(5, 10):
        grads = gradient_arrays(step)
        for p, g in zip(params, grads):
            p.grad = cygrad.tensor(g)
        for p, g in zip(pair.th_params, grads):
            p.grad = torch.tensor(g)
        opt.step()
        pair.th_opt.step()
    for ours, theirs in zip(params, pair.th_params):
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-12, atol=1e-14)


def test_old_checkpoints_with_numeric_step_are_converted():
    p = cygrad.zeros(2, requires_grad=True)
    opt = cygrad.optim.Adam([p])
    opt.load_state_dict({"state": {0: {"step": 3, "exp_avg": cygrad.zeros(2),
                                       "exp_avg_sq": cygrad.zeros(2)}},
                         "param_groups": [dict(opt.state_dict()["param_groups"][0])]})
    assert isinstance(opt.state[p]["step"], cygrad.Tensor)
    p.grad = cygrad.ones(2)
    opt.step()
    assert opt.state[p]["step"].item() == 4.0


# ---------------------------------------------------------------------------------------------
# SIMD paths: every path gives the same bits
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ROUND_TRIP_CASES + [("RMSprop", dict()), ("SGD", dict())],
                         ids=case_id)
def test_every_simd_path_gives_the_same_bits(case, dtype):
    name, kwargs = case
    original = _core.simd_path()
    results = {}
    try:
        for path in ["scalar", "avx2", "avx512"]:
            try:
                _core.set_simd_path(path)
            except RuntimeError:
                continue
            params = _cy_params(initial_arrays(), getattr(cygrad, dtype))
            _run(getattr(cygrad.optim, name)(params, **kwargs), params, range(4),
                 getattr(cygrad, dtype))
            results[path] = [to_numpy(p) for p in params]
    finally:
        _core.set_simd_path(original)
    for path, arrays in results.items():
        for ours, scalar in zip(arrays, results["scalar"]):
            np.testing.assert_array_equal(ours, scalar, err_msg=path)


# ---------------------------------------------------------------------------------------------
# learning-rate schedulers: 50 epochs against torch
# ---------------------------------------------------------------------------------------------

SCHEDULER_CASES = {
    "StepLR": lambda T, o: T.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda T, o: T.optim.lr_scheduler.MultiStepLR(o, [5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda T, o: T.optim.lr_scheduler.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda T, o: T.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50),
    "CosineAnnealingLR_periods": lambda T, o: T.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=7, eta_min=0.001),
    "LambdaLR": lambda T, o: T.optim.lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e + 0.1 * (e % 3)),
    "LambdaLR_list": lambda T, o: T.optim.lr_scheduler.LambdaLR(
        o, [lambda e: 1 / (1 + e), lambda e: math.cos(e / 10) ** 2]),
}

# a noisy metric that improves, plateaus, and improves again
METRICS = [1 / (1 + e) + 0.02 * ((e * 7) % 5) if e < 20 else 0.3 + 0.01 * (e % 4) if e < 35
           else 0.25 - 0.005 * e for e in range(50)]

PLATEAU_CASES = [
    dict(),
    dict(mode="max", patience=2),
    dict(patience=1, factor=0.5, threshold=0.01, threshold_mode="abs", cooldown=3),
    dict(patience=0, factor=0.3, min_lr=[0.01, 0.002]),
    dict(mode="max", threshold_mode="abs", threshold=0.05, patience=3, min_lr=0.004),
]


def _scheduled_optimizer(T):
    p, q = T.zeros(2, requires_grad=True), T.zeros(3, requires_grad=True)
    return T.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.02}], lr=0.1, momentum=0.9)


def _lr_history(T, build, epochs=50, metrics=None):
    opt = _scheduled_optimizer(T)
    scheduler = build(T, opt)
    history = [scheduler.get_last_lr()]
    for epoch in range(epochs):
        opt.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
        history.append(scheduler.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == history[-1]
    return history, scheduler


@pytest.mark.parametrize("case", sorted(SCHEDULER_CASES))
def test_scheduler_matches_torch_over_50_epochs(torch, case):
    ours, scheduler = _lr_history(cygrad, SCHEDULER_CASES[case])
    theirs, th_scheduler = _lr_history(torch, SCHEDULER_CASES[case])
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=0)
    assert sorted(scheduler.state_dict()) == sorted(th_scheduler.state_dict())


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=str)
def test_reduce_lr_on_plateau_matches_torch(torch, kwargs):
    def build(T, opt):
        return T.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    ours, scheduler = _lr_history(cygrad, build, metrics=METRICS)
    theirs, th_scheduler = _lr_history(torch, build, metrics=METRICS)
    assert ours == theirs
    assert len(set(map(tuple, ours))) > 1, "the case should reduce the lr at least once"
    ours_sd, theirs_sd = scheduler.state_dict(), th_scheduler.state_dict()
    assert sorted(ours_sd) == sorted(theirs_sd)
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "_last_lr"):
        assert ours_sd[key] == theirs_sd[key], key


def test_reduce_lr_on_plateau_accepts_tensor_metrics_and_checks_arguments(torch):
    opt = _scheduled_optimizer(cygrad)
    scheduler = cygrad.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    scheduler.step(cygrad.tensor(1.0))
    scheduler.step(cygrad.tensor(2.0))
    assert scheduler.get_last_lr() == pytest.approx([0.01, 0.002])
    for kwargs in (dict(factor=1.0), dict(mode="up"), dict(threshold_mode="x"), dict(min_lr=[0.1])):
        ours, theirs = _messages(torch, lambda T: T.optim.lr_scheduler.ReduceLROnPlateau(
            _scheduled_optimizer(T), **kwargs))
        assert type(ours) is type(theirs) and str(ours) == str(theirs)


@pytest.mark.parametrize("case", ["StepLR", "MultiStepLR", "ExponentialLR",
                                  "CosineAnnealingLR_periods", "LambdaLR"])
def test_scheduler_state_dict_round_trip(case):
    build = SCHEDULER_CASES[case]
    reference, _ = _lr_history(cygrad, build, epochs=40)

    opt = _scheduled_optimizer(cygrad)
    scheduler = build(cygrad, opt)
    for _ in range(20):
        opt.step()
        scheduler.step()
    saved_opt, saved_sched = opt.state_dict(), scheduler.state_dict()
    fresh_opt = _scheduled_optimizer(cygrad)
    fresh = build(cygrad, fresh_opt)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved_sched)
    history = []
    for _ in range(20):
        fresh_opt.step()
        fresh.step()
        history.append(fresh.get_last_lr())
    assert history == reference[21:]


def test_scheduler_step_with_epoch_uses_closed_form(torch):
    results = []
    for T in (cygrad, torch):
        opt = _scheduled_optimizer(T)
        scheduler = T.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 4, 9, 15):
                opt.step()
                scheduler.step(epoch)
                results.append(scheduler.get_last_lr())
    half = len(results) // 2
    np.testing.assert_allclose(np.array(results[:half]), np.array(results[half:]), rtol=1e-12)


def test_scheduler_warnings_match_torch(torch):
    for T in (cygrad, torch):
        opt = _scheduled_optimizer(T)
        scheduler = T.optim.lr_scheduler.StepLR(opt, 3)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
        with pytest.warns(UserWarning, match="get_last_lr"):
            scheduler.get_lr()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        cygrad.optim.lr_scheduler.StepLR(object(), 3)
    with pytest.raises(KeyError, match="initial_lr"):
        cygrad.optim.lr_scheduler.StepLR(_scheduled_optimizer(cygrad), 3, last_epoch=5)


def test_scheduler_and_optimizer_step_together(torch):
    """The learning rates a scheduler sets are the ones the next optimizer step uses."""
    pair = Pair(torch, "SGD", dict(lr=0.1, momentum=0.9), "float64")
    cy_sched = cygrad.optim.lr_scheduler.CosineAnnealingLR(pair.cy_opt, T_max=4)
    th_sched = torch.optim.lr_scheduler.CosineAnnealingLR(pair.th_opt, T_max=4)
    for step in range(STEPS):
        pair.step(gradient_arrays(step))
        cy_sched.step()
        th_sched.step()
    pair.assert_params_close()


# ---------------------------------------------------------------------------------------------
# clip_grad_norm_
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0, float("-inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, dtype, norm_type, max_norm):
    grads = gradient_arrays(0)
    results = []
    for T in (cygrad, torch):
        params = [T.zeros(g.shape, dtype=getattr(T, dtype), requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = T.tensor(g, dtype=getattr(T, dtype))
        extra = T.zeros(4, dtype=getattr(T, dtype), requires_grad=True)  # no grad: ignored
        total = T.nn.utils.clip_grad_norm_(params + [extra], max_norm, norm_type=norm_type)
        results.append((total, [p.grad for p in params], extra.grad))
    (ours, our_grads, our_extra), (theirs, their_grads, _) = results
    assert our_extra is None
    assert str(ours.dtype).split(".")[-1] == dtype and tuple(ours.shape) == ()
    rtol = RTOL[dtype] * 10
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=rtol)
    for g_ours, g_theirs in zip(our_grads, their_grads):
        np.testing.assert_allclose(to_numpy(g_ours), to_numpy(g_theirs), rtol=rtol, atol=1e-30)


def test_clip_grad_norm_mixed_dtypes_and_edge_cases(torch):
    results = []
    for T in (cygrad, torch):
        a = T.zeros(3, requires_grad=True)
        b = T.zeros(2, dtype=T.float64, requires_grad=True)
        a.grad = T.tensor([3.0, 4.0, 0.0])
        b.grad = T.tensor([12.0, 0.0], dtype=T.float64)
        total = T.nn.utils.clip_grad_norm_(iter([a, b]), 1.0)
        results.append((total.item(), str(total.dtype).split(".")[-1], to_numpy(a.grad),
                        to_numpy(b.grad)))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    assert results[0][1] == results[1][1] == "float64"
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6)
    np.testing.assert_allclose(results[0][3], results[1][3], rtol=1e-12)

    empty = cygrad.nn.utils.clip_grad_norm_([cygrad.zeros(2, requires_grad=True)], 1.0)
    assert empty.item() == 0.0 and empty.dtype == cygrad.float32
    with pytest.warns(UserWarning, match="empty generator"):
        cygrad.nn.utils.clip_grad_norm_((p for p in []), 1.0)

    p = cygrad.zeros(2, requires_grad=True)
    p.grad = cygrad.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        cygrad.nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    version = p.grad._version
    assert math.isinf(cygrad.nn.utils.clip_grad_norm_(p, 1.0).item())
    assert p.grad._version > version


def test_nn_package_is_minimal():
    assert cygrad.nn.utils.clip_grad_norm_ is not None
    assert callable(cygrad.nn.utils.get_total_norm)
