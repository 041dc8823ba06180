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
    tolerance: dict = None   # np.testing.assert_allclose's rtol/atol for result vs reference
    flops: int = 0           # floating-point operations per unit (GEMM): the table adds GF/s
    thread_sweep: bool = False  # also timed on 1 thread, besides the run's thread count
    quick: bool = True       # part of `--quick` (the slowest cases are left out of it)


CASES = {}


def case(name, libs=AUTOGRAD, per=1, unit="call", reference=None, tolerance=None, flops=0,
         thread_sweep=False, quick=True, doc=None):
    """Registers the decorated setup function as the case `name`; its docstring's first line
    (or `doc`, for cases registered in a loop) describes the case."""
    def register(setup):
        CASES[name] = Case(name=name, setup=setup, libs=tuple(libs), per=per, unit=unit,
                           doc=doc or (setup.__doc__ or "").strip().splitlines()[0],
                           reference=reference, tolerance=tolerance, flops=flops,
                           thread_sweep=thread_sweep, quick=quick)
        return setup
    return register


def select(word=None, quick=False):
    """The cases whose name contains `word` (all of them when word is empty), in registry order;
    with quick, only those marked for `--quick`."""
    return [c for name, c in CASES.items()
            if (not word or word.lower() in name.lower()) and (c.quick or not quick)]


def gradient_runner(loss, *leaves):
    """The timed callable of a forward + backward case: clears the leaves' gradients, runs
    loss().backward() and returns the first leaf's gradient (what the reference checks)."""
    def run():
        for leaf in leaves:
            leaf.grad = None
        loss().backward()
        return leaves[0].grad
    return run


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


@case("tiny-loop", per=TINY_EPOCHS * len(TINY_XS), unit="step", reference=_tiny_loop_reference,
      tolerance=dict(rtol=1e-5, atol=1e-6))
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


def _chain_grad(a, b):
    """d/da of the chain's sum, by hand (numpy's column, and in float64 the reference)."""
    t = np.tanh(a * b + a)
    s = 1 / (1 + np.exp(-t))
    return (s * b > 0) * b * s * (1 - s) * (1 - t * t) * (b + 1)


def _chain_grad_reference(n=CHAIN_N):
    return _chain_grad(*(x.astype(np.float64) for x in _chain_inputs(n)))


@case("chain-1M-fwd", libs=LIBRARIES, reference=_chain_forward_reference,
      tolerance=dict(rtol=1e-4, atol=0))
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


# Sizes of the elementwise cases: 1K is all per-op overhead, 64K sits in L2, 4M in memory.
SIZES = {"1K": 1 << 10, "64K": 1 << 16, "4M": 1 << 22}


def _chain_backward(n):
    def setup(lib, T):
        a_np, b_np = _chain_inputs(n)
        if lib == "numpy":
            return lambda: _chain_grad(a_np, b_np)
        a = T.from_numpy(a_np).requires_grad_()
        b = T.from_numpy(b_np).requires_grad_()
        return gradient_runner(lambda: _chain(a, b), a, b)
    return setup


for _label, _n in SIZES.items():
    case(f"chain-{_label}-fwd-bwd", libs=LIBRARIES, reference=lambda n=_n: _chain_grad_reference(n),
         tolerance=dict(rtol=1e-4, atol=1e-6), quick=_n < SIZES["4M"],
         doc=f"{_label} float32: the same chain with a, b requiring grad, then .backward(); "
             "numpy: d/da by hand")(_chain_backward(_n))


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


@case("index-rows-fwd-bwd", reference=_rows_grad_reference, tolerance=dict(rtol=1e-5, atol=1e-5))
def index_rows(lib, T):
    """50000x64 float32 weights: (w[idx] * r).sum().backward() for 20000 indices (with repeats)."""
    w_np, idx_np, r_np = _rows_inputs()
    w = T.from_numpy(w_np).requires_grad_()
    idx, r = T.from_numpy(idx_np), T.from_numpy(r_np)
    return gradient_runner(lambda: (w[idx] * r).sum(), w)


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


@case("activations-1M-fwd-bwd", reference=_activation_chain_grad_reference,
      tolerance=dict(rtol=1e-4, atol=1e-10))
def activation_chain(lib, T):
    """1M float32: maximum(gelu(a), leaky_relu(b)).clamp(-0.5, 1.5).logsumexp(0), then .backward()."""
    a_np, b_np = _chain_inputs()
    a = T.from_numpy(a_np).requires_grad_()
    b = T.from_numpy(b_np).requires_grad_()
    F = T.nn.functional
    return gradient_runner(lambda: _activation_chain(F, T, a, b), a, b)


# ---- (5) one SGD-momentum training step of an MLP 784-256-128-10 with cross-entropy ----

MLP_SIZES = (784, 256, 128, 10)


def mlp_inputs(batch):
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
    x, y, layers = mlp_inputs(batch)
    h = x.astype(np.float64)
    for index, (w, b) in enumerate(layers):
        h = h @ w.T.astype(np.float64) + b
        if index < len(layers) - 1:
            h = np.maximum(h, 0)
    shifted = h - h.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return np.array(-log_probs[np.arange(batch), y].mean())


def mlp_model(T, layers):
    """The MLP as T.nn.Sequential (on the CPU), its Linear layers set to `layers`' weights."""
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    with T.no_grad():
        for layer, (w, b) in zip([m for m in model if isinstance(m, nn.Linear)], layers):
            layer.weight.copy_(T.from_numpy(w))
            layer.bias.copy_(T.from_numpy(b))
    return model


def _mlp_step(lib, T, batch):
    x_np, y_np, layers = mlp_inputs(batch)
    nn = T.nn
    model = mlp_model(T, layers)
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


@case("mlp-step-b64", reference=lambda: _mlp_loss_reference(64),
      tolerance=dict(rtol=1e-5, atol=0))
def mlp_step_64(lib, T):
    """MLP 784-256-128-10, batch 64: forward, cross-entropy, backward, SGD-momentum step."""
    return _mlp_step(lib, T, 64)


@case("mlp-step-b512", reference=lambda: _mlp_loss_reference(512),
      tolerance=dict(rtol=1e-5, atol=0))
def mlp_step_512(lib, T):
    """MLP 784-256-128-10, batch 512: forward, cross-entropy, backward, SGD-momentum step."""
    return _mlp_step(lib, T, 512)


# ---- (6) one activation, forward + backward: exp, tanh, sigmoid, relu at 1K, 64K and 4M ----

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# op name (a Tensor method in both libraries): (numpy forward, derivative from input x and output y)
UNARY = {
    "exp": (np.exp, lambda x, y: y),
    "tanh": (np.tanh, lambda x, y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda x, y: y * (1 - y)),
    "relu": (lambda x: np.maximum(x, 0), lambda x, y: x > 0),
}


def _unary_inputs(n):
    """Inputs over [-6, 6] (saturating tanh/sigmoid and exp up to 400) and an upstream gradient."""
    rng = np.random.default_rng(6)
    return (rng.uniform(-6, 6, n).astype(np.float32),
            rng.standard_normal(n, dtype=np.float32))


def _unary_grad_reference(op, n):
    forward, derivative = UNARY[op]
    x, gy = (v.astype(np.float64) for v in _unary_inputs(n))
    return gy * derivative(x, forward(x))


def _unary_backward(op, n):
    def setup(lib, T):
        x_np, gy_np = _unary_inputs(n)
        if lib == "numpy":
            forward, derivative = UNARY[op]
            return lambda: gy_np * derivative(x_np, forward(x_np))
        x, gy = T.from_numpy(x_np).requires_grad_(), T.from_numpy(gy_np)
        apply = getattr(x, op)

        def run():
            x.grad = None
            apply().backward(gy)
            return x.grad
        return run
    return setup


for _op in UNARY:
    for _label, _n in SIZES.items():
        case(f"{_op}-{_label}-fwd-bwd", libs=LIBRARIES,
             reference=lambda op=_op, n=_n: _unary_grad_reference(op, n),
             tolerance=dict(rtol=1e-5, atol=1e-6),
             doc=f"{_label} float32: y = x.{_op}(); y.backward(gy); numpy: gy * {_op}'(x) by hand"
             )(_unary_backward(_op, _n))


# ---- (7) float32 matrix products (sgemm): square sizes and the MLP's shapes, 1 and N threads ----

# name: (m, k, n, A transposed, B transposed, what it is); C(m x n) = op(A)(m x k) · op(B)(k x n).
# A transposed operand is a transposed view (torch's Linear keeps W as (out, in)): no copy.
GEMMS = {f"gemm-{s}": (s, s, s, False, False, f"{s}x{s}·{s}x{s}")
         for s in (64, 128, 256, 512, 1024, 2048)}
GEMMS.update({
    "gemm-mlp1-fwd": (64, 784, 256, False, True,
                      "X·Wᵀ (64x784)·(256x784)ᵀ: Linear(784, 256) forward"),
    "gemm-mlp1-dx": (64, 256, 784, False, False, "dY·W (64x256)·(256x784): its input gradient"),
    "gemm-mlp1-dw": (256, 64, 784, True, False, "dYᵀ·X (64x256)ᵀ·(64x784): its weight gradient"),
    "gemm-mlp2-fwd": (64, 256, 128, False, True,
                      "X·Wᵀ (64x256)·(128x256)ᵀ: Linear(256, 128) forward"),
    "gemm-mlp2-dx": (64, 128, 256, False, False, "dY·W (64x128)·(128x256): its input gradient"),
    "gemm-mlp2-dw": (128, 64, 256, True, False, "dYᵀ·X (64x128)ᵀ·(64x256): its weight gradient"),
    "gemm-linear-b8": (8, 784, 256, False, True,
                       "X·Wᵀ (8x784)·(256x784)ᵀ: Linear(784, 256) forward on a batch of 8"),
    "gemm-linear-b1": (1, 784, 256, False, True,
                       "x·Wᵀ (1x784)·(256x784)ᵀ: Linear(784, 256) forward on one sample"),
})


def _gemm_inputs(name):
    m, k, n, a_t, b_t, _ = GEMMS[name]
    rng = np.random.default_rng(7)
    a = rng.standard_normal((k, m) if a_t else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if b_t else (k, n), dtype=np.float32)
    return (a.T if a_t else a), (b.T if b_t else b)


def _gemm_reference(name):
    a, b = _gemm_inputs(name)
    return a.astype(np.float64) @ b.astype(np.float64)


def _gemm(name):
    def setup(lib, T):
        a_np, b_np = _gemm_inputs(name)   # transposed operands are numpy views
        if lib == "numpy":
            return lambda: a_np @ b_np
        a_t, b_t = GEMMS[name][3:5]
        a = T.from_numpy(a_np.T).t() if a_t else T.from_numpy(a_np)
        b = T.from_numpy(b_np.T).t() if b_t else T.from_numpy(b_np)
        matmul = T.matmul
        return lambda: matmul(a, b)
    return setup


for _name, (_m, _k, _n, _, _, _doc) in GEMMS.items():
    # float32 sums of k products of N(0, 1) values: the error grows like k (bound, with margin)
    case(_name, libs=LIBRARIES, reference=lambda name=_name: _gemm_reference(name),
         tolerance=dict(rtol=0, atol=2e-6 * _k), flops=2 * _m * _k * _n, thread_sweep=True,
         quick=_m * _k * _n < 2048 ** 3, doc=f"sgemm {_doc}")(_gemm(_name))


# ---- (8) cross-entropy (log-softmax + NLL, mean) forward + backward on logits ----

XENT_SHAPES = {"64x10": (64, 10), "512x1000": (512, 1000)}


def _xent_inputs(batch, classes):
    rng = np.random.default_rng(8)
    return (3 * rng.standard_normal((batch, classes), dtype=np.float32),
            rng.integers(0, classes, batch))


def _xent_numpy(logits, labels):
    """The mean loss and its gradient by hand: (softmax - one_hot) / batch."""
    rows = np.arange(len(labels))
    shifted = logits - logits.max(1, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(1, keepdims=True)
    loss = (np.log(total[:, 0]) - shifted[rows, labels]).mean()
    p /= total
    p[rows, labels] -= 1
    return loss, p / len(labels)


def _xent_grad_reference(shape):
    logits, labels = _xent_inputs(*shape)
    return _xent_numpy(logits.astype(np.float64), labels)[1]


def _xent(shape):
    def setup(lib, T):
        logits_np, labels_np = _xent_inputs(*shape)
        if lib == "numpy":
            return lambda: _xent_numpy(logits_np, labels_np)[1]
        logits, labels = T.from_numpy(logits_np).requires_grad_(), T.from_numpy(labels_np)
        cross_entropy = T.nn.functional.cross_entropy
        return gradient_runner(lambda: cross_entropy(logits, labels), logits)
    return setup


for _label, _shape in XENT_SHAPES.items():
    case(f"xent-{_label}-fwd-bwd", libs=LIBRARIES,
         reference=lambda shape=_shape: _xent_grad_reference(shape),
         tolerance=dict(rtol=1e-5, atol=1e-6 / _shape[0]),  # (p - 1) / batch: p's error
         doc=f"cross_entropy(logits {_label}, labels).backward(); numpy: loss and gradient by hand"
         )(_xent(_shape))


def _soft_targets(batch, classes):
    """Probability targets (soft labels, as in distillation): rows of positive values summing to 1."""
    t = np.random.default_rng(11).random((batch, classes), dtype=np.float32)
    return t / t.sum(1, keepdims=True)


def _xent_probs_grad_reference():
    """softmax(logits) - targets, over the batch (each target row sums to 1)."""
    logits, _ = _xent_inputs(512, 1000)
    shifted = logits.astype(np.float64) - logits.max(1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
    return (p - _soft_targets(512, 1000)) / 512


@case("xent-probs-512x1000-fwd-bwd", reference=_xent_probs_grad_reference,
      tolerance=dict(rtol=1e-5, atol=1e-6 / 512))
def xent_probs(lib, T):
    """cross_entropy(logits 512x1000, probability targets).backward()"""
    logits_np, _ = _xent_inputs(512, 1000)
    logits = T.from_numpy(logits_np).requires_grad_()
    targets = T.from_numpy(_soft_targets(512, 1000))
    cross_entropy = T.nn.functional.cross_entropy
    return gradient_runner(lambda: cross_entropy(logits, targets), logits)


# ---- (9) the largest element of each row and its index: a reduction that is not a sum ----

def _max_rows_input():
    return np.random.default_rng(9).standard_normal((512, 8192), dtype=np.float32)


@case("max-rows-512x8192", libs=LIBRARIES,
      reference=lambda: _max_rows_input().astype(np.float64).max(1), tolerance=dict(rtol=0, atol=0))
def max_rows(lib, T):
    """max(x, 1) of 512 rows of 8192: values and indices; numpy: max and argmax"""
    x_np = _max_rows_input()
    if lib == "numpy":
        return lambda: (x_np.argmax(1), x_np.max(1))[1]
    x = T.from_numpy(x_np)
    return lambda: T.max(x, 1).values


# ---- (10) gather along the last dim (take_along_dim), forward + backward: one index an element ----

GATHER_SHAPE = (1024, 1024)


def _gather_inputs():
    rng = np.random.default_rng(10)
    x = rng.standard_normal(GATHER_SHAPE, dtype=np.float32)
    idx = rng.integers(0, GATHER_SHAPE[1], size=GATHER_SHAPE)
    upstream = rng.standard_normal(GATHER_SHAPE, dtype=np.float32)
    return x, idx, upstream


def _gather_grad_reference():
    """Each upstream element added at its index in its row (repeats accumulate)."""
    _, idx, upstream = _gather_inputs()
    grad = np.zeros(GATHER_SHAPE)
    np.add.at(grad, (np.arange(GATHER_SHAPE[0])[:, None], idx), upstream.astype(np.float64))
    return grad


@case("gather-1024x1024-fwd-bwd", reference=_gather_grad_reference,
      tolerance=dict(rtol=1e-5, atol=1e-5))
def gather_last_dim(lib, T):
    """1024x1024 float32: (gather(x, 1, idx) * r).sum().backward(), 1M random indices"""
    x_np, idx_np, r_np = _gather_inputs()
    x = T.from_numpy(x_np).requires_grad_()
    idx, r = T.from_numpy(idx_np), T.from_numpy(r_np)
    return gradient_runner(lambda: (T.gather(x, 1, idx) * r).sum(), x)


# ---- (11) per-element losses: BCE with logits and smooth L1 on 1M elements, forward + backward ----

LOSS_ELEMENTS = 1 << 20


def _pointwise_loss_inputs():
    rng = np.random.default_rng(12)
    x = 2 * rng.standard_normal(LOSS_ELEMENTS, dtype=np.float32)
    target = rng.random(LOSS_ELEMENTS, dtype=np.float32)
    return x, target


def _pointwise_loss_grad_reference():
    """d/dx of mean BCE-with-logits (sigmoid(x) - t) plus mean smooth L1, beta 1 (d clipped to
    [-1, 1]), each over the elements."""
    x, t = (a.astype(np.float64) for a in _pointwise_loss_inputs())
    return (1 / (1 + np.exp(-x)) - t + np.clip(x - t, -1, 1)) / LOSS_ELEMENTS


@case("losses-1M-fwd-bwd", reference=_pointwise_loss_grad_reference,
      tolerance=dict(rtol=1e-5, atol=1e-6 / LOSS_ELEMENTS))
def pointwise_losses(lib, T):
    """1M float32: (bce_with_logits(x, t) + smooth_l1_loss(x, t)).backward()"""
    x_np, t_np = _pointwise_loss_inputs()
    x, t = T.from_numpy(x_np).requires_grad_(), T.from_numpy(t_np)
    F = T.nn.functional
    return gradient_runner(
        lambda: F.binary_cross_entropy_with_logits(x, t) + F.smooth_l1_loss(x, t), x)
