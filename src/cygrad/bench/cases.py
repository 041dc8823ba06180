"""The benchmark cases: one registry shared by `python -m cygrad.bench` and benchmarks/.

A case is a name, the libraries it applies to, and a `setup(lib, module)` function: `lib` is the
library's name ("cygrad", "torch" or "numpy"), `module` the imported module. setup does the
untimed preparation and returns a zero-argument callable that runs the timed work once. The
callable returns its result (a tensor, array or float) that the tests compare with the case's
`reference()` (plain numpy/Python, float64) so a fast wrong answer cannot pass; timing ignores it.

The autograd cases are written once against the torch API and run unchanged with cygrad
(`import cygrad as torch`), so both libraries run exactly the same Python code.
"""
from dataclasses import dataclass

import numpy as np

LIBRARIES = ("cygrad", "torch", "numpy")
AUTOGRAD = ("cygrad", "torch")


@dataclass(frozen=True)
class Case:
    name: str
    setup: object            # setup(lib, module) -> zero-argument callable
    libs: tuple = AUTOGRAD   # the libraries the case applies to
    per: int = 1             # the callable does `per` units of work; times are reported per unit
    unit: str = "call"       # what one unit is ("step", "call")
    doc: str = ""
    reference: object = None  # reference() -> the expected result of the callable


CASES = {}


def case(name, libs=AUTOGRAD, per=1, unit="call", reference=None):
    """Registers the decorated setup function as the case `name`; its docstring's first line
    describes the case."""
    def register(setup):
        CASES[name] = Case(name=name, setup=setup, libs=tuple(libs), per=per, unit=unit,
                           doc=(setup.__doc__ or "").strip().splitlines()[0], reference=reference)
        return setup
    return register


def select(word=None):
    """The cases whose name contains `word` (all of them when word is empty), in registry order."""
    return [c for name, c in CASES.items() if not word or word.lower() in name.lower()]


def as_numpy(result):
    """A case callable's result (tensor, array or float) as a float64 numpy array."""
    if hasattr(result, "detach"):
        result = result.detach().numpy()
    return np.asarray(result, dtype=np.float64)


# ---- (1) the tutorial's tiny training loop: one weight, three samples, 20 epochs ----

TINY_EPOCHS = 20
TINY_XS = [1.0, 2.0, 3.0]
TINY_YS = [2.0, 4.0, 6.0]
TINY_LR = 0.01


def _tiny_loop_reference():
    w = 1.0
    for _ in range(TINY_EPOCHS):
        for x, y in zip(TINY_XS, TINY_YS):
            w -= TINY_LR * 2.0 * (x * w - y) * x
    return np.array([w])


@case("tiny-loop", per=TINY_EPOCHS * len(TINY_XS), unit="step", reference=_tiny_loop_reference)
def tiny_loop(lib, T):
    """Tutorial loop: w = Tensor([1.0]); 20 epochs x 3 samples of loss, backward, SGD step."""
    Tensor, no_grad = T.Tensor, T.no_grad
    samples = list(zip(TINY_XS, TINY_YS))

    def run():
        w = Tensor([1.0])
        w.requires_grad = True
        for _ in range(TINY_EPOCHS):
            for x, y in samples:
                l = (x * w - y) ** 2
                l.backward()
                with no_grad():
                    w -= TINY_LR * w.grad
                w.grad.zero_()
        return w
    return run


# ---- (2) a 1M-element float32 elementwise chain, forward only and forward + backward ----

CHAIN_N = 1_000_000


def _chain_inputs(n=CHAIN_N):
    rng = np.random.default_rng(0)
    return rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)


def _chain(a, b):
    return ((a * b + a).tanh().sigmoid() * b).relu().sum()


def _chain_numpy(a, b):
    s = 1 / (1 + np.exp(-np.tanh(a * b + a)))
    return np.maximum(s * b, 0).sum()


def _chain_forward_reference():
    a, b = (x.astype(np.float64) for x in _chain_inputs())
    return _chain_numpy(a, b)


def _chain_grad_reference():
    """d/da of the chain's sum, by hand in float64."""
    a, b = (x.astype(np.float64) for x in _chain_inputs())
    t = np.tanh(a * b + a)
    s = 1 / (1 + np.exp(-t))
    return (s * b > 0) * b * s * (1 - s) * (1 - t * t) * (b + 1)


@case("chain-1M-fwd", libs=LIBRARIES, reference=_chain_forward_reference)
def chain_forward(lib, T):
    """1M float32: ((a*b + a).tanh().sigmoid() * b).relu().sum(), forward only (no_grad)."""
    a_np, b_np = _chain_inputs()
    if lib == "numpy":
        return lambda: float(_chain_numpy(a_np, b_np))
    a, b = T.from_numpy(a_np), T.from_numpy(b_np)
    no_grad = T.no_grad

    def run():
        with no_grad():
            return _chain(a, b).item()
    return run


@case("chain-1M-fwd-bwd", reference=_chain_grad_reference)
def chain_backward(lib, T):
    """1M float32: the same chain with a, b requiring grad, then .backward() (grads reset)."""
    a_np, b_np = _chain_inputs()
    a = T.from_numpy(a_np).requires_grad_()
    b = T.from_numpy(b_np).requires_grad_()

    def run():
        a.grad = None
        b.grad = None
        _chain(a, b).backward()
        return a.grad
    return run


# ---- (3) embedding-style row gather with repeated indices, forward + backward ----

ROWS_SHAPE = (50_000, 64)
ROWS_PICKED = 20_000


def _rows_inputs():
    rng = np.random.default_rng(1)
    weights = rng.standard_normal(ROWS_SHAPE, dtype=np.float32)
    idx = rng.integers(0, ROWS_SHAPE[0], size=ROWS_PICKED)
    upstream = rng.standard_normal((ROWS_PICKED, ROWS_SHAPE[1]), dtype=np.float32)
    return weights, idx, upstream


def _rows_grad_reference():
    """Each picked row's upstream gradient added into its row (np.add.at keeps duplicates)."""
    _, idx, upstream = _rows_inputs()
    grad = np.zeros(ROWS_SHAPE)
    np.add.at(grad, idx, upstream.astype(np.float64))
    return grad


@case("index-rows-fwd-bwd", reference=_rows_grad_reference)
def index_rows(lib, T):
    """50000x64 float32 weights: (w[idx] * r).sum().backward() for 20000 indices (with repeats)."""
    w_np, idx_np, r_np = _rows_inputs()
    w = T.from_numpy(w_np).requires_grad_()
    idx, r = T.from_numpy(idx_np), T.from_numpy(r_np)

    def run():
        w.grad = None
        (w[idx] * r).sum().backward()
        return w.grad
    return run


# ---- (4) the math ops' activations, select and reduction kernels on 1M float32 elements ----

def _activation_chain(F, T, a, b):
    return T.maximum(F.gelu(a), F.leaky_relu(b, 0.1)).clamp(-0.5, 1.5).logsumexp(0)


def _activation_chain_grad_reference():
    """d/da of the activation chain, by hand in float64: softmax of the clamped values, inside
    the clamp's band, where gelu(a) is the larger branch (half on a tie), times gelu'(a)."""
    from math import erf, pi, sqrt
    a, b = (x.astype(np.float64) for x in _chain_inputs())
    g = a * 0.5 * (1 + np.vectorize(erf)(a / sqrt(2)))
    leaky = np.where(b > 0, b, 0.1 * b)
    m = np.maximum(g, leaky)
    c = np.clip(m, -0.5, 1.5)
    softmax = np.exp(c - c.max()) / np.exp(c - c.max()).sum()
    gelu_grad = 0.5 * (1 + np.vectorize(erf)(a / sqrt(2))) + a * np.exp(-a * a / 2) / sqrt(2 * pi)
    picks_gelu = np.where(g == leaky, 0.5, (g > leaky).astype(np.float64))
    return softmax * ((m >= -0.5) & (m <= 1.5)) * picks_gelu * gelu_grad


@case("activations-1M-fwd-bwd", reference=_activation_chain_grad_reference)
def activation_chain(lib, T):
    """1M float32: maximum(gelu(a), leaky_relu(b)).clamp(-0.5, 1.5).logsumexp(0), then .backward()."""
    a_np, b_np = _chain_inputs()
    a = T.from_numpy(a_np).requires_grad_()
    b = T.from_numpy(b_np).requires_grad_()
    F = T.nn.functional

    def run():
        a.grad = None
        b.grad = None
        _activation_chain(F, T, a, b).backward()
        return a.grad
    return run


# ---- (5) one SGD-momentum training step of an MLP 784-256-128-10 with cross-entropy ----

MLP_SIZES = (784, 256, 128, 10)


def _mlp_inputs(batch):
    """Images, labels and float32 weights (torch's Linear layout: (out, in)) from a fixed seed."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((batch, MLP_SIZES[0]), dtype=np.float32)
    y = rng.integers(0, MLP_SIZES[-1], batch)
    layers = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return x, y, layers


def _mlp_loss_reference(batch):
    """The first step's loss, in float64 numpy."""
    x, y, layers = _mlp_inputs(batch)
    h = x.astype(np.float64)
    for index, (w, b) in enumerate(layers):
        h = h @ w.T.astype(np.float64) + b
        if index < len(layers) - 1:
            h = np.maximum(h, 0)
    shifted = h - h.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return np.array(-log_probs[np.arange(batch), y].mean())


def _mlp_step(lib, T, batch):
    x_np, y_np, layers = _mlp_inputs(batch)
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    with T.no_grad():
        for layer, (w, b) in zip([m for m in model if isinstance(m, nn.Linear)], layers):
            layer.weight.copy_(T.from_numpy(w))
            layer.bias.copy_(T.from_numpy(b))
    optimizer = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x, y = T.from_numpy(x_np), T.from_numpy(y_np)
    state = {"first": None}

    def run():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if state["first"] is None:  # the reference is the loss before any update
            state["first"] = loss.item()
        return state["first"]
    return run


@case("mlp-step-b64", reference=lambda: _mlp_loss_reference(64))
def mlp_step_64(lib, T):
    """MLP 784-256-128-10, batch 64: forward, cross-entropy, backward, SGD-momentum step."""
    return _mlp_step(lib, T, 64)


@case("mlp-step-b512", reference=lambda: _mlp_loss_reference(512))
def mlp_step_512(lib, T):
    """MLP 784-256-128-10, batch 512: forward, cross-entropy, backward, SGD-momentum step."""
    return _mlp_step(lib, T, 512)
