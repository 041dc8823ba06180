"""nn.Module, containers, Linear, activations, Dropout, Flatten and init, against torch (weights
copied across, same data) and against numpy for what torch randomizes differently."""
import math

import numpy as np
import pytest

import cygrad
from helpers import assert_close, to_numpy


def build_mlp(nn):
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3),
                         nn.LogSoftmax(dim=1))


def copy_weights(ours, theirs, torch):
    """Gives torch's module cygrad's weights (names must match)."""
    state = {k: torch.tensor(to_numpy(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def test_mlp_forward_backward_matches_torch(torch, device):
    ours, theirs = build_mlp(cygrad.nn), build_mlp(torch.nn)
    copy_weights(ours, theirs, torch)
    ours.to(device)
    data = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out, tout = ours(cygrad.tensor(data, device=device)), theirs(torch.tensor(data))
    assert_close(to_numpy(out), to_numpy(tout), 1e-5, 1e-6)
    out.sum().backward()
    tout.sum().backward()
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        assert_close(to_numpy(p.grad), to_numpy(tp.grad), 1e-5, 1e-6, name)


def test_registration_and_traversal_match_torch(torch):
    def build(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
                self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 1, bias=False)})
                self.extra = nn.ModuleList([nn.Identity(), nn.Linear(2, 2)])
                self.scale = nn.Parameter(cygrad.ones(1) if nn is cygrad.nn else torch.ones(1))
                self.register_buffer("running", cygrad.zeros(2) if nn is cygrad.nn else torch.zeros(2))
                self.register_buffer("scratch", cygrad.zeros(1) if nn is cygrad.nn else torch.zeros(1),
                                     persistent=False)

            def forward(self, x):
                return self.heads["a"](self.body(x)) * self.scale
        return Net()

    ours, theirs = build(cygrad.nn), build(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    ours.eval()
    assert all(not m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())


def test_assigning_before_init_raises_torch_error(torch):
    for nn in (cygrad.nn, torch.nn):
        class Early(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(cygrad.ones(1) if nn is cygrad.nn else torch.ones(1))
                super().__init__()
        with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
            Early()


def test_load_state_dict_errors_match_torch(torch):
    ours, theirs = cygrad.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    bad_ours = {"weight": cygrad.zeros(2, 4), "extra": cygrad.zeros(1)}
    bad_theirs = {"weight": torch.zeros(2, 4), "extra": torch.zeros(1)}
    with pytest.raises(RuntimeError) as ours_error:
        ours.load_state_dict(bad_ours)
    with pytest.raises(RuntimeError) as theirs_error:
        theirs.load_state_dict(bad_theirs)
    for fragment in ('Missing key(s) in state_dict: "bias"', 'Unexpected key(s) in state_dict: "extra"',
                     "size mismatch for weight: copying a param with shape"):
        assert fragment in str(ours_error.value) and fragment in str(theirs_error.value)
    result = ours.load_state_dict({"weight": cygrad.ones(2, 3)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == []
    assert ours.weight.tolist() == [[1.0] * 3] * 2


def test_repr_matches_torch(torch):
    assert repr(build_mlp(cygrad.nn)) == repr(build_mlp(torch.nn))
    for make in (lambda nn: nn.Dropout(0.3), lambda nn: nn.Flatten(), lambda nn: nn.Softmax(dim=1),
                 lambda nn: nn.Linear(2, 3, bias=False), lambda nn: nn.Identity()):
        assert repr(make(cygrad.nn)) == repr(make(torch.nn))


def test_zero_grad_requires_grad_apply_to(torch):
    model = build_mlp(cygrad.nn)
    model(cygrad.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Sequential" and visited.count("Linear") == 3
    model.double()
    assert all(p.dtype is cygrad.float64 for p in model.parameters())
    assert model(cygrad.randn(2, 4, dtype=cygrad.float64)).dtype is cygrad.float64


def test_linear_refuses_float64_input_into_float32_weights(torch):
    with pytest.raises(RuntimeError) as ours:
        cygrad.nn.Linear(3, 2)(cygrad.randn(4, 3, dtype=cygrad.float64))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(3, 2)(torch.randn(4, 3, dtype=torch.float64))
    assert str(ours.value) == str(theirs.value)


def test_linear_init_bounds_match_torchs_formula():
    cygrad.manual_seed(0)
    layer = cygrad.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) on (300, 400) and the bias rule agree
    weight, bias = to_numpy(layer.weight), to_numpy(layer.bias)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.98 * bound
    assert np.abs(bias).max() <= bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.01 * bound
    cygrad.manual_seed(0)
    again = cygrad.nn.Linear(400, 300)
    assert np.array_equal(to_numpy(again.weight), weight)


@pytest.mark.parametrize("init_name, args, expected_std", [
    ("xavier_uniform_", (), math.sqrt(2.0 / (200 + 100))),
    ("xavier_normal_", (), math.sqrt(2.0 / (200 + 100))),
    ("kaiming_uniform_", (), math.sqrt(2.0) / math.sqrt(200)),
    ("kaiming_normal_", (), math.sqrt(2.0) / math.sqrt(200)),
    ("normal_", (0.0, 0.02), 0.02),
    ("uniform_", (-0.5, 0.5), 1 / math.sqrt(12)),
])
def test_init_statistics(init_name, args, expected_std):
    tensor = cygrad.empty(100, 200)
    getattr(cygrad.nn.init, init_name)(tensor, *args)
    assert abs(to_numpy(tensor).std() - expected_std) < 0.03 * expected_std


def test_init_constants_and_gain(torch):
    tensor = cygrad.empty(3, 3)
    assert to_numpy(cygrad.nn.init.ones_(tensor)).sum() == 9
    assert to_numpy(cygrad.nn.init.zeros_(tensor)).sum() == 0
    assert to_numpy(cygrad.nn.init.constant_(tensor, 2.5)).sum() == 22.5
    for name, param in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("sigmoid", None)]:
        assert cygrad.nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_dropout_train_eval_and_seed():
    layer = cygrad.nn.Dropout(0.25)
    x = cygrad.ones(200, 50)
    cygrad.manual_seed(3)
    first = to_numpy(layer(x))
    cygrad.manual_seed(3)
    assert np.array_equal(to_numpy(layer(x)), first)
    kept = first != 0
    assert abs(kept.mean() - 0.75) < 0.02
    assert np.allclose(first[kept], 1 / 0.75)
    layer.eval()
    assert np.array_equal(to_numpy(layer(x)), to_numpy(x))


def test_flatten_matches_torch(torch):
    data = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    for args in [(), (0,), (1, 2), (2, -1)]:
        assert to_numpy(cygrad.nn.Flatten(*args)(cygrad.tensor(data))).shape == \
            tuple(torch.nn.Flatten(*args)(torch.tensor(data)).shape)


def test_sequential_indexing_and_forward_hooks(torch):
    model = build_mlp(cygrad.nn)
    assert isinstance(model[0], cygrad.nn.Linear) and isinstance(model[-1], cygrad.nn.LogSoftmax)
    head = model[:2]
    assert isinstance(head, cygrad.nn.Sequential) and len(head) == 2
    seen = []
    handle = model[0].register_forward_hook(lambda m, args, out: seen.append(tuple(out.shape)))
    model(cygrad.randn(7, 4))
    handle.remove()
    model(cygrad.randn(7, 4))
    assert seen == [(7, 8)]


def test_parameter_is_a_leaf_that_requires_grad(torch):
    p = cygrad.nn.Parameter(cygrad.ones(2))
    assert p.requires_grad and p.is_leaf
    assert repr(p) == repr(torch.nn.Parameter(torch.ones(2)))
    assert not cygrad.nn.Parameter(cygrad.ones(2), requires_grad=False).requires_grad


@pytest.mark.parametrize("x_shape, bias", [((5, 4), True), ((4,), True), ((2, 3, 4), True), ((5, 4), False),
                                           ((0, 4), True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_linear_matches_torch(x_shape, bias, dtype, torch):
    rng = np.random.default_rng(3)
    data, weight, b = (rng.standard_normal(s).astype(dtype) for s in (x_shape, (3, 4), (3,)))
    ours = [cygrad.tensor(a, requires_grad=True) for a in (data, weight, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (data, weight, b)]
    out = cygrad.nn.functional.linear(ours[0], ours[1], ours[2] if bias else None)
    tout = torch.nn.functional.linear(theirs[0], theirs[1], theirs[2] if bias else None)
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-13)
    assert_close(to_numpy(out), to_numpy(tout), rtol, atol)
    if out.numel():
        (out * out).sum().backward()
        (tout * tout).sum().backward()
        for a, b_ in zip(ours[:3 if bias else 2], theirs[:3 if bias else 2]):
            assert_close(to_numpy(a.grad), to_numpy(b_.grad), rtol, atol)
    if len(x_shape) == 2 and bias:
        assert out.grad_fn.name() == tout.grad_fn.name() == "AddmmBackward0"


def test_linear_on_transposed_input_and_second_order(torch):
    data = np.random.default_rng(4).standard_normal((4, 6))
    x = cygrad.tensor(data, requires_grad=True)
    w = cygrad.tensor(np.ones((2, 4)) * 0.3, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    tw = torch.tensor(np.ones((2, 4)) * 0.3, requires_grad=True)
    (g,) = cygrad.autograd.grad(cygrad.nn.functional.linear(x.t(), w).tanh().sum(), w, create_graph=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.linear(tx.t(), tw).tanh().sum(), tw, create_graph=True)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), 1e-10, 1e-12)


@pytest.mark.parametrize("make", [lambda nn: nn.GELU(), lambda nn: nn.GELU("tanh"), lambda nn: nn.SiLU(),
                                  lambda nn: nn.LeakyReLU(0.2), lambda nn: nn.ELU(), lambda nn: nn.Softplus(beta=2.0),
                                  lambda nn: nn.ReLU(), lambda nn: nn.Sigmoid(), lambda nn: nn.Tanh()],
                         ids=["gelu", "gelu_tanh", "silu", "leaky_relu", "elu", "softplus", "relu", "sigmoid", "tanh"])
def test_activation_modules_match_torch(make, torch):
    data = np.random.default_rng(9).standard_normal((4, 5)).astype(np.float32) * 3
    ours, theirs = make(cygrad.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x, tx = cygrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    assert_close(to_numpy(y), to_numpy(ty), 1e-5, 1e-6)
    y.sum().backward()
    ty.sum().backward()
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), 1e-5, 1e-6)
