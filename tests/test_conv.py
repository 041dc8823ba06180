"""Conv2d and MaxPool2d against torch (values and gradients), and a small CNN trained in both."""
import numpy as np
import pytest

import cygrad
from helpers import assert_close, numerical_grad, to_numpy

CONV_ARGS = [dict(), dict(stride=2, padding=1), dict(padding=2, dilation=2), dict(kernel_size=(2, 3), stride=(1, 2)),
             dict(bias=False)]
POOL_ARGS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=1, dilation=2)]


@pytest.mark.parametrize("args", CONV_ARGS, ids=str)
def test_conv2d_matches_torch(args, torch):
    args = dict(args)
    kernel = args.pop("kernel_size", 3)
    ours, theirs = cygrad.nn.Conv2d(3, 4, kernel, **args), torch.nn.Conv2d(3, 4, kernel, **args)
    assert repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in ours.state_dict().items()})
    data = np.random.default_rng(0).standard_normal((2, 3, 9, 8)).astype(np.float32)
    x, tx = cygrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    assert_close(to_numpy(y), to_numpy(ty), 1e-5, 1e-5)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), 1e-4, 1e-5)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(to_numpy(p.grad), to_numpy(tp.grad), 1e-4, 1e-4, name)


@pytest.mark.parametrize("args", POOL_ARGS, ids=str)
def test_max_pool2d_matches_torch(args, torch):
    data = np.random.default_rng(1).standard_normal((2, 3, 8, 7)).astype(np.float32)
    x, tx = cygrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours, theirs = cygrad.nn.MaxPool2d(**args), torch.nn.MaxPool2d(**args)
    assert repr(ours) == repr(theirs)
    y, ty = ours(x), theirs(tx)
    assert_close(to_numpy(y), to_numpy(ty), 0, 0)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), 0, 0)


def test_conv2d_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    data, weight = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))

    def value(x_array, w_array):
        out = cygrad.nn.functional.conv2d(cygrad.tensor(x_array), cygrad.tensor(w_array), stride=2, padding=1)
        return float(to_numpy((out * out).sum()))

    x, w = cygrad.tensor(data, requires_grad=True), cygrad.tensor(weight, requires_grad=True)
    out = cygrad.nn.functional.conv2d(x, w, stride=2, padding=1)
    (out * out).sum().backward()
    expected_x, expected_w = numerical_grad(value, [data, weight])
    assert_close(to_numpy(x.grad), expected_x, 1e-5, 1e-6)
    assert_close(to_numpy(w.grad), expected_w, 1e-5, 1e-6)


def test_small_cnn_trains_like_torch(torch):
    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4 * 4 * 4, 3))

    ours, theirs = build(cygrad.nn), build(torch.nn)
    theirs.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(3)
    images = rng.standard_normal((12, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 3, 12)
    optimizer = cygrad.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    toptimizer = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    losses, tlosses = [], []
    for step in range(8):
        for model, opt, lib, record in ((ours, optimizer, cygrad, losses), (theirs, toptimizer, torch, tlosses)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(images)), lib.tensor(labels))
            loss.backward()
            opt.step()
            record.append(loss.item())
    assert losses == pytest.approx(tlosses, rel=1e-4)
    assert losses[-1] < losses[0]
