"""Custom Functions, hooks, higher-order gradients, graph introspection and anomaly detection.

Oracles: torch (the same program run with both libraries, as `fn(T, ...)`), and central finite
differences in float64 (helpers.numerical_grad) of cygrad's own first derivatives."""
import numpy as np
import pytest

import cygrad
from helpers import assert_close, numerical_grad, to_numpy


def make_functions(T):
    """The same custom Functions written against module T (cygrad or torch)."""

    class Exp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            return grad_output * y

    class ScaleAndShift(T.autograd.Function):
        """(x * scale + shift, |x|): a number argument and two outputs, the second marked
        non-differentiable."""

        @staticmethod
        def forward(ctx, x, scale, shift):
            ctx.scale = scale
            ctx.record = ctx.needs_input_grad
            magnitude = x.abs()
            ctx.mark_non_differentiable(magnitude)
            return x * scale + shift, magnitude

        @staticmethod
        def backward(ctx, grad_out, grad_magnitude):
            return grad_out * ctx.scale, None, grad_out.sum()

    return Exp, ScaleAndShift


@pytest.fixture
def functions(torch):
    return make_functions(cygrad), make_functions(torch)


def leaves(torch, *arrays):
    ours = [cygrad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def test_function_forward_backward_match_torch(torch, functions):
    (Exp, _), (TExp, _) = functions
    data = np.random.default_rng(0).standard_normal((3, 4))
    (x,), (tx,) = leaves(torch, data)
    y, ty = Exp.apply(x), TExp.apply(tx)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(to_numpy(y), to_numpy(ty), 1e-12, 0)
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), 1e-12, 0)
    assert y.grad_fn.name() == ty.grad_fn.name() == "ExpBackward"


def test_function_numbers_multiple_outputs_and_non_differentiable(torch, functions):
    (_, Scale), (_, TScale) = functions
    data = np.array([-1.0, 2.0, 3.0])
    (x, shift), (tx, tshift) = leaves(torch, data, np.array(0.5))
    out, mask = Scale.apply(x, 3.0, shift)
    tout, tmask = TScale.apply(tx, 3.0, tshift)
    assert not mask.requires_grad and not tmask.requires_grad
    assert mask.tolist() == tmask.tolist()
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), 1e-12, 0)
    assert_close(to_numpy(shift.grad), to_numpy(tshift.grad), 1e-12, 0)
    assert out.grad_fn.needs_input_grad == (True, False, True)


def test_function_gradient_matches_finite_differences():
    Exp, _ = make_functions(cygrad)
    data = np.random.default_rng(1).standard_normal(5)
    x = cygrad.tensor(data, requires_grad=True)
    Exp.apply(x).sum().backward()
    expected = numerical_grad(lambda a: np.exp(a).sum(), [data])[0]
    assert_close(to_numpy(x.grad), expected, 1e-6, 1e-8)
    assert cygrad.autograd.gradcheck(Exp.apply, (cygrad.tensor(data, requires_grad=True),))


def test_function_wrong_gradient_shape_names_the_function():
    class Broken(cygrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad[:1]

    x = cygrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Function BrokenBackward returned an invalid gradient at index 0"):
        Broken.apply(x).sum().backward()


def test_function_wrong_number_of_gradients():
    class TooMany(cygrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooMany.apply(cygrad.ones(2, requires_grad=True)).sum().backward()


def test_function_saved_tensor_modified_in_place_is_refused():
    Exp, _ = make_functions(cygrad)
    x = cygrad.ones(3, requires_grad=True)
    y = Exp.apply(x)
    with cygrad.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_function_without_grad_records_nothing():
    Exp, _ = make_functions(cygrad)
    y = Exp.apply(cygrad.ones(3))
    assert y.grad_fn is None and not y.requires_grad


# ---- higher-order gradients ----

SECOND_ORDER = [
    ("cube", lambda T, x: x ** 3),
    ("pow2.5", lambda T, x: x ** 2.5),
    ("exp", lambda T, x: x.exp()),
    ("log", lambda T, x: x.log()),
    ("sqrt", lambda T, x: x.sqrt()),
    ("sin", lambda T, x: x.sin()),
    ("cos", lambda T, x: x.cos()),
    ("sigmoid", lambda T, x: x.sigmoid()),
    ("tanh", lambda T, x: x.tanh()),
    ("relu", lambda T, x: (x - 1.2).relu() * x),
    ("abs", lambda T, x: (x - 1.2).abs() * x),
    ("div", lambda T, x: 1 / x + x / (x + 1)),
    ("mul_add_sub", lambda T, x: x * x - 3 * x + 2),
    ("sum_mean", lambda T, x: (x * x).sum(1, keepdim=True) * x.mean()),
    ("softmax", lambda T, x: x.softmax(1) * x),
    ("log_softmax", lambda T, x: x.log_softmax(0) * x),
    ("matmul", lambda T, x: (x @ x.t()).tanh()),
    ("broadcast", lambda T, x: (x * x.sum(0, keepdim=True)).sum(0)),
    ("max_all", lambda T, x: x.max() * x),
    ("max_dim", lambda T, x: x.max(1).values.unsqueeze(1) * x),
    ("min_dim_keepdim", lambda T, x: x.min(0, keepdim=True).values * x),
    ("pow_tensor_exponent", lambda T, x: x ** (x * 0.5 + 1)),
    ("number_pow_tensor", lambda T, x: 2.0 ** x * x),
]


@pytest.mark.parametrize("name, fn", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_match_torch(name, fn, torch):
    rng = np.random.default_rng(7)
    data = rng.uniform(0.5, 2.0, (3, 4))
    upstream = rng.standard_normal((3, 4))

    def second(T, x):
        out = fn(T, x)
        (g,) = T.autograd.grad(out.sum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g * T.tensor(upstream)).sum(), x)
        return g, gg

    x = cygrad.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    g, gg = second(cygrad, x)
    tg, tgg = second(torch, tx)
    assert_close(to_numpy(g), to_numpy(tg), 1e-10, 1e-12, "first derivative")
    assert_close(to_numpy(gg), to_numpy(tgg), 1e-10, 1e-12, "second derivative")


@pytest.mark.parametrize("name, fn", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_match_finite_differences(name, fn):
    rng = np.random.default_rng(8)
    data = rng.uniform(0.5, 2.0, (3, 4))
    upstream = rng.standard_normal((3, 4))

    def first_derivative_dot(array):
        x = cygrad.tensor(array, requires_grad=True)
        (g,) = cygrad.autograd.grad(fn(cygrad, x).sum(), x)
        return float((to_numpy(g) * upstream).sum())

    x = cygrad.tensor(data, requires_grad=True)
    (g,) = cygrad.autograd.grad(fn(cygrad, x).sum(), x, create_graph=True)
    (gg,) = cygrad.autograd.grad((g * cygrad.tensor(upstream)).sum(), x)
    expected = numerical_grad(first_derivative_dot, [data])[0]
    assert_close(to_numpy(gg), expected, 1e-5, 1e-6)


def test_third_derivative_of_cube():
    x = cygrad.tensor(2.0, requires_grad=True)
    (d1,) = cygrad.autograd.grad(x ** 3, x, create_graph=True)
    (d2,) = cygrad.autograd.grad(d1, x, create_graph=True)
    (d3,) = cygrad.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)


def test_gradgradcheck_passes_and_catches_a_wrong_second_derivative():
    x = cygrad.tensor(np.linspace(0.5, 2.0, 6), requires_grad=True)
    assert cygrad.autograd.gradgradcheck(lambda a: (a.tanh() * a.sigmoid()).sum(), (x,))

    class WrongCurvature(cygrad.autograd.Function):
        """x**2 whose gradient is right at first order but is a constant w.r.t. x."""
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * 2 * a.detach()

    assert cygrad.autograd.gradcheck(WrongCurvature.apply, (x,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        cygrad.autograd.gradgradcheck(WrongCurvature.apply, (x,))


def test_not_yet_differentiable_backward_names_the_op():
    logits = cygrad.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
    loss = cygrad.nn.functional.cross_entropy(logits, cygrad.tensor([0, 1]))
    with pytest.raises(NotImplementedError, match="NllLossBackward0"):
        cygrad.autograd.grad(loss, logits, create_graph=True)


# ---- hooks ----

def test_tensor_hooks_match_torch(torch):
    def program(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)  # replaces the leaf's gradient
        y = x * x
        y.register_hook(lambda g: g + 1)    # a non-leaf hook changes what flows on
        y.retain_grad()
        y.sum().backward()
        return x.grad, y.grad, seen[0]

    for ours, theirs in zip(program(cygrad), program(torch)):
        assert_close(to_numpy(ours), to_numpy(theirs), 0, 0)


def test_hook_handle_remove():
    x = cygrad.ones(2, requires_grad=True)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_post_accumulate_grad_hook(torch):
    def program(T):
        w = T.tensor([1.0, -1.0], requires_grad=True)
        seen = []
        handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (w * 2).sum().backward()
        (w * 3).sum().backward()
        handle.remove()
        (w * 4).sum().backward()
        return seen

    ours, theirs = program(cygrad), program(torch)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        assert_close(to_numpy(a), to_numpy(b), 0, 0)


def test_hooks_refuse_tensors_without_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cygrad.ones(2).register_hook(lambda g: g)
    x = cygrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


# ---- introspection ----

def test_next_functions_and_names_match_torch(torch):
    def structure(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * 2).sum()
        node = y.grad_fn
        names = []
        while node is not None:
            names.append(node.name().replace("torch::autograd::", ""))
            nexts = [n for n, _ in node.next_functions if n is not None]
            node = nexts[0] if nexts else None
        return names

    assert structure(cygrad) == structure(torch)


def test_graph_to_dot_lists_every_node_and_edge():
    x = cygrad.tensor([1.0, 2.0], requires_grad=True)
    w = cygrad.tensor([3.0, 4.0], requires_grad=True)
    dot = cygrad.autograd.graph.to_dot((x * w).exp().sum())
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for name in ("SumBackward0", "ExpBackward0", "MulBackward0", "AccumulateGrad"):
        assert name in dot
    assert dot.count("AccumulateGrad") == 2
    assert dot.count("->") == 5  # output->sum->exp->mul->(x, w)


# ---- anomaly detection ----

def test_anomaly_detection_names_the_node_that_made_nan():
    x = cygrad.tensor([0.0, 1.0], requires_grad=True)
    with cygrad.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values"):
            (x.sqrt() * 0).sum().backward()
    assert not cygrad.autograd.is_anomaly_enabled()
    (x.sqrt() * 0).sum().backward()  # off again: NaN flows silently, as in torch
    assert np.isnan(to_numpy(x.grad)[0])
