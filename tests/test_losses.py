"""Losses against torch (values and input gradients, float32 and float64) and against finite
differences in float64."""
import numpy as np
import pytest

import cygrad
from helpers import assert_close, numerical_grad, to_numpy

RNG = np.random.default_rng(11)
LOGITS = RNG.standard_normal((6, 5))
CLASSES = np.array([0, 4, 2, 2, 1, 3])
PROBS = RNG.dirichlet(np.ones(5), size=6)
LOGITS_KD = RNG.standard_normal((2, 4, 3, 2))
CLASSES_KD = RNG.integers(0, 4, (2, 3, 2))
PROBA = RNG.uniform(0.05, 0.95, (4, 3))
BINARY = RNG.integers(0, 2, (4, 3)).astype(np.float64)
WEIGHTS5 = np.array([1.0, 2.0, 0.5, 3.0, 1.5])


def ce(T, x, t, **kw):
    return T.nn.functional.cross_entropy(x, t, **kw)


# (name, program(T, x, *targets), input array, target arrays (as numpy), input domain note)
CASES = [
    ("ce_mean", lambda T, x, t: ce(T, x, t), LOGITS, [CLASSES]),
    ("ce_sum", lambda T, x, t: ce(T, x, t, reduction="sum"), LOGITS, [CLASSES]),
    ("ce_none", lambda T, x, t: ce(T, x, t, reduction="none"), LOGITS, [CLASSES]),
    ("ce_weight", lambda T, x, t, w: ce(T, x, t, weight=w), LOGITS, [CLASSES, WEIGHTS5]),
    ("ce_ignore", lambda T, x, t: ce(T, x, t, ignore_index=2), LOGITS, [CLASSES]),
    ("ce_smoothing", lambda T, x, t: ce(T, x, t, label_smoothing=0.2), LOGITS, [CLASSES]),
    ("ce_smoothing_weight_ignore", lambda T, x, t, w: ce(T, x, t, weight=w, ignore_index=4, label_smoothing=0.1),
     LOGITS, [CLASSES, WEIGHTS5]),
    ("ce_probs", lambda T, x, t: ce(T, x, t), LOGITS, [PROBS]),
    ("ce_probs_smoothing_weight", lambda T, x, t, w: ce(T, x, t, weight=w, label_smoothing=0.3, reduction="sum"),
     LOGITS, [PROBS, WEIGHTS5]),
    ("ce_kdim", lambda T, x, t: ce(T, x, t), LOGITS_KD, [CLASSES_KD]),
    ("ce_kdim_none", lambda T, x, t: ce(T, x, t, reduction="none"), LOGITS_KD, [CLASSES_KD]),
    ("ce_unbatched", lambda T, x, t: ce(T, x, t), LOGITS[0], [CLASSES[1]]),
    ("nll", lambda T, x, t: T.nn.functional.nll_loss(x.log_softmax(1), t), LOGITS, [CLASSES]),
    ("nll_weight_ignore_sum", lambda T, x, t, w: T.nn.functional.nll_loss(x, t, weight=w, ignore_index=0, reduction="sum"),
     LOGITS, [CLASSES, WEIGHTS5]),
    ("bce", lambda T, x, t: T.nn.functional.binary_cross_entropy(x, t), PROBA, [BINARY]),
    ("bce_weight_none", lambda T, x, t, w: T.nn.functional.binary_cross_entropy(x, t, weight=w, reduction="none"),
     PROBA, [BINARY, np.array([1.0, 2.0, 0.5])]),
    ("bce_logits", lambda T, x, t: T.nn.functional.binary_cross_entropy_with_logits(x, t), LOGITS, [PROBS]),
    ("bce_logits_pos_weight", lambda T, x, t, p: T.nn.functional.binary_cross_entropy_with_logits(x, t, pos_weight=p),
     LOGITS, [PROBS, WEIGHTS5]),
    ("smooth_l1", lambda T, x, t: T.nn.functional.smooth_l1_loss(x, t), LOGITS, [PROBS]),
    ("smooth_l1_beta_sum", lambda T, x, t: T.nn.functional.smooth_l1_loss(x, t, beta=0.3, reduction="sum"), LOGITS, [PROBS]),
    ("smooth_l1_beta0", lambda T, x, t: T.nn.functional.smooth_l1_loss(x, t, beta=0.0), LOGITS, [PROBS]),
    ("mse", lambda T, x, t: T.nn.functional.mse_loss(x, t), LOGITS, [PROBS]),
    ("l1_none", lambda T, x, t: T.nn.functional.l1_loss(x, t, reduction="none"), LOGITS, [PROBS]),
]
IDS = [c[0] for c in CASES]


def _targets(T, arrays, dtype):
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.append(T.tensor(a) if a.dtype.kind == "i" else T.tensor(a.astype(dtype)))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, program, data, targets", CASES, ids=IDS)
def test_loss_matches_torch(name, program, data, targets, dtype, torch):
    x = cygrad.tensor(data.astype(dtype), requires_grad=True)
    tx = torch.tensor(data.astype(dtype), requires_grad=True)
    out = program(cygrad, x, *_targets(cygrad, targets, dtype))
    tout = program(torch, tx, *_targets(torch, targets, dtype))
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-14)
    assert_close(to_numpy(out), to_numpy(tout), rtol, atol, "loss")
    upstream = RNG.standard_normal(tuple(tout.shape))
    (out * cygrad.tensor(upstream.astype(dtype))).sum().backward()
    (tout * torch.tensor(upstream.astype(dtype))).sum().backward()
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), rtol, atol, "input grad")


@pytest.mark.parametrize("name, program, data, targets", CASES, ids=IDS)
def test_loss_gradient_matches_finite_differences(name, program, data, targets):
    def value(array):
        out = program(cygrad, cygrad.tensor(array), *_targets(cygrad, targets, np.float64))
        return float(to_numpy(out.sum()))

    x = cygrad.tensor(data, requires_grad=True)
    program(cygrad, x, *_targets(cygrad, targets, np.float64)).sum().backward()
    assert_close(to_numpy(x.grad), numerical_grad(value, [data])[0], 1e-5, 1e-7)


def test_cross_entropy_exact_at_large_logits(torch):
    logits = np.array([[1000.0, 0.0], [-1000.0, 1000.0], [5.0, -1000.0]], dtype=np.float32)
    target = np.array([1, 0, 0])
    x, tx = cygrad.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    out = cygrad.nn.CrossEntropyLoss(reduction="none")(x, cygrad.tensor(target))
    tout = torch.nn.CrossEntropyLoss(reduction="none")(tx, torch.tensor(target))
    assert_close(to_numpy(out), to_numpy(tout), 0, 0)
    out.sum().backward()
    tout.sum().backward()
    assert_close(to_numpy(x.grad), to_numpy(tx.grad), 0, 1e-7)
    assert np.isfinite(to_numpy(x.grad)).all()


@pytest.mark.parametrize("target_dtype", ["float32", "int32"])
def test_cross_entropy_needs_long_targets(target_dtype, torch):
    """Index targets of another dtype get torch's error (torch 2.13: 'expected target dtype to be
    Long or Byte, but got Float')."""
    x, tx = cygrad.randn(3, 4), torch.randn(3, 4)
    target = np.array([0, 1, 2]).astype(target_dtype)
    with pytest.raises(RuntimeError) as ours:
        cygrad.nn.functional.cross_entropy(x, cygrad.tensor(target))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.cross_entropy(tx, torch.tensor(target))
    assert str(ours.value) == str(theirs.value)
    assert "Long" in str(ours.value)


def test_cross_entropy_target_out_of_bounds(torch):
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        cygrad.nn.functional.cross_entropy(cygrad.randn(2, 4), cygrad.tensor([1, 7]))
    with pytest.raises(ValueError, match="Expected input batch_size"):
        cygrad.nn.functional.cross_entropy(cygrad.randn(2, 4), cygrad.tensor([1, 2, 3]))


def test_bce_clamps_log_at_minus_100(torch):
    probs, target = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    ours = cygrad.nn.BCELoss(reduction="none")(cygrad.tensor(probs), cygrad.tensor(target))
    theirs = torch.nn.BCELoss(reduction="none")(torch.tensor(probs), torch.tensor(target))
    assert_close(to_numpy(ours), to_numpy(theirs), 0, 0)
    assert to_numpy(ours).tolist() == [100.0, 100.0, 0.0, 0.0]


def test_mse_warns_like_torch_when_shapes_differ(torch):
    with pytest.warns(UserWarning, match="Using a target size"):
        cygrad.nn.MSELoss()(cygrad.randn(3, 1), cygrad.randn(3))
    with pytest.warns(UserWarning, match="Using a target size"):
        torch.nn.MSELoss()(torch.randn(3, 1), torch.randn(3))


def test_loss_modules_match_functional(torch):
    x = cygrad.tensor(LOGITS, requires_grad=True)
    t = cygrad.tensor(CLASSES)
    module = cygrad.nn.CrossEntropyLoss(weight=cygrad.tensor(WEIGHTS5), label_smoothing=0.1)
    functional = cygrad.nn.functional.cross_entropy(x, t, weight=cygrad.tensor(WEIGHTS5), label_smoothing=0.1)
    assert module(x, t).item() == functional.item()
    assert repr(cygrad.nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss())
