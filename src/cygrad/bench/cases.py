"""The benchmark cases: one registry shared by `python -m cygrad.bench` and benchmarks/.

A case is a name plus a `setup(lib, module)` function. `lib` is the library's name ("cygrad",
"torch" or "numpy") and `module` the imported module. setup does the untimed preparation and
returns a zero-argument callable that runs the timed work once, or None when the case does not
apply to that library (numpy has no autograd). The callable returns a small result (a float or a
numpy array) so that tests can check that the libraries agree; the timing ignores it.

The autograd cases are written once against the torch API and run unchanged with cygrad
(`import cygrad as torch`), so both libraries run exactly the same Python code.
"""
from dataclasses import dataclass

import numpy as np

LIBRARIES = ("cygrad", "torch", "numpy")


@dataclass(frozen=True)
class Case:
    name: str
    setup: object            # setup(lib, module) -> callable or None
    per: int = 1             # the callable does `per` units of work; times are reported per unit
    unit: str = "call"       # what one unit is ("step", "call")
    doc: str = ""


CASES = {}


def case(name, per=1, unit="call", doc=""):
    """Registers `setup` as the case `name`."""
    def register(setup):
        CASES[name] = Case(name=name, setup=setup, per=per, unit=unit,
                           doc=doc or (setup.__doc__ or "").strip().splitlines()[0])
        return setup
    return register


def select(word=None):
    """The cases whose name contains `word` (all of them when word is empty), in registry order."""
    return [c for name, c in CASES.items() if not word or word.lower() in name.lower()]


def _to_numpy(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


# ---- (1) the tutorial's tiny training loop: one weight, three samples, 20 epochs ----

TINY_EPOCHS = 20
TINY_XS = [1.0, 2.0, 3.0]
TINY_YS = [2.0, 4.0, 6.0]
TINY_LR = 0.01


@case("tiny-loop", per=TINY_EPOCHS * len(TINY_XS), unit="step")
def tiny_loop(lib, T):
    """Tutorial tiny loop: w = Tensor([1.0]), 20 epochs x 3 samples of loss, backward, SGD step."""
    if lib == "numpy":
        return None
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
        return _to_numpy(w).copy()
    return run


# ---- (2) a 1M-element float32 elementwise chain ----

CHAIN_N = 1_000_000


def _chain_inputs(n=CHAIN_N):
    rng = np.random.default_rng(0)
    return (rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32))


def _chain(a, b):
    return ((a * b + a).tanh().sigmoid() * b).relu().sum()


def _chain_numpy(a, b):
    t = np.tanh(a * b + a)
    s = 1.0 / (1.0 + np.exp(-t))
    return np.maximum(s * b, 0).sum(dtype=np.float32)


@case("chain-1M fwd", unit="call")
def chain_forward(lib, T):
    """1M float32: ((a*b + a).tanh().sigmoid() * b).relu().sum(), forward only (no_grad)."""
    a_np, b_np = _chain_inputs()
    if lib == "numpy":
        return lambda: float(_chain_numpy(a_np, b_np))
    a, b = T.from_numpy(a_np.copy()), T.from_numpy(b_np.copy())
    no_grad = T.no_grad

    def run():
        with no_grad():
            return _chain(a, b).item()
    return run


@case("chain-1M fwd+bwd", unit="call")
def chain_backward(lib, T):
    """1M float32: the same chain with a, b requiring grad, then .backward() (grads reset)."""
    if lib == "numpy":
        return None
    a_np, b_np = _chain_inputs()
    a = T.from_numpy(a_np.copy()).requires_grad_()
    b = T.from_numpy(b_np.copy()).requires_grad_()

    def run():
        a.grad = None
        b.grad = None
        _chain(a, b).backward()
        return _to_numpy(a.grad)
    return run
