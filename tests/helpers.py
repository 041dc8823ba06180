"""Independent oracles for cygrad's tests.

* ``numerical_grad``: central finite differences in float64 on numpy copies of the inputs
  (written here with numpy; deliberately *not* cygrad.autograd.gradcheck, which is the library's
  own code under test).
* ``check_grads``: cygrad's backward against ``numerical_grad``.
* ``compare_with_torch``: the same program run with cygrad and with torch, forward values and
  input gradients compared.

Test programs are written as ``fn(T, *xs)`` where ``T`` is the module (``cygrad`` or ``torch``), so
one lambda serves both libraries, e.g. ``lambda T, x, y: T.relu(x * y).sum()``.
"""
import numpy as np

import cygrad

# ---------------------------------------------------------------------------------------------
# small conversions
# ---------------------------------------------------------------------------------------------


def dtype_name(dtype):
    """'float32' for cygrad.float32 and torch.float32 alike."""
    return str(dtype).split(".")[-1]


def to_numpy(t):
    """A numpy copy of a cygrad or torch tensor (detached, from any device), or of anything
    array-like."""
    if hasattr(t, "detach"):
        t = t.detach()
    if hasattr(t, "cpu"):
        t = t.cpu()
    if hasattr(t, "numpy"):
        return np.array(t.numpy(), copy=True)
    return np.array(t, copy=True)


# creation functions whose tensors must land on the device a test runs on
_CREATION = ("tensor", "as_tensor", "zeros", "ones", "empty", "full", "arange", "linspace", "eye",
             "rand", "randn", "randint", "randperm")


class on_device:
    """The module T (cygrad or torch) with its creation functions defaulting to `device`, so that a
    test program fn(T, *xs) written for the CPU creates its constants beside its inputs."""

    def __init__(self, module, device):
        self._module, self._device = module, device

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if name in _CREATION:
            def create(*args, **kwargs):
                kwargs.setdefault("device", self._device)
                return attr(*args, **kwargs)
            return create
        return attr


def as_outputs(out):
    """A list of the tensors a program returned (one tensor, a tuple, or torch's return_types)."""
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def is_float_tensor(t):
    return dtype_name(t.dtype) in ("float32", "float64", "float16", "bfloat16")


def cy_leaf(array, dtype=None, requires_grad=True):
    """A cygrad leaf holding a copy of array (float64 unless dtype says otherwise)."""
    dtype = cygrad.float64 if dtype is None else dtype
    t = cygrad.tensor(np.array(array, dtype=np.float64), dtype=dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def assert_close(actual, expected, rtol, atol, what=""):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


# ---------------------------------------------------------------------------------------------
# finite differences
# ---------------------------------------------------------------------------------------------


def numerical_grad(fn, inputs, eps=1e-6):
    """Central differences of the scalar function ``fn(*arrays)`` at ``inputs``.

    ``inputs`` are array-likes; they are copied to float64 numpy arrays, each element is perturbed
    by +-eps in turn and ``fn`` is called on the perturbed copies. Returns one float64 array per
    input, with that input's shape."""
    arrays = [np.array(a, dtype=np.float64, copy=True) for a in inputs]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            original = a[index]
            a[index] = original + eps
            plus = float(fn(*arrays))
            a[index] = original - eps
            minus = float(fn(*arrays))
            a[index] = original
            g[index] = (plus - minus) / (2.0 * eps)
        grads.append(g)
    return grads


def _upstream(outputs, seed):
    """One random upstream gradient per floating-point output (None for integer outputs)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(o.shape)) if is_float_tensor(o) else None for o in outputs]


def check_grads(fn, arrays, rtol=1e-5, atol=1e-6, seed=1234, eps=1e-6):
    """cygrad's gradients of ``sum(out * R)`` (R random) against central differences in float64.

    ``fn(cygrad, *leaves)`` is called with float64 leaves that require grad; it may return one
    tensor or a tuple (integer outputs, e.g. argmax indices, are left out of the loss)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    leaves = [cy_leaf(a) for a in arrays]
    outputs = as_outputs(fn(cygrad, *leaves))
    upstream = _upstream(outputs, seed)
    loss = None
    for o, r in zip(outputs, upstream):
        if r is None:
            continue
        assert dtype_name(o.dtype) == "float64", f"float64 inputs gave a {o.dtype} output"
        term = (o * cygrad.tensor(r, dtype=cygrad.float64)).sum()
        loss = term if loss is None else loss + term
    assert loss is not None, "the program has no floating-point output"
    loss.backward()

    def numeric_loss(*perturbed):
        with cygrad.no_grad():
            outs = as_outputs(fn(cygrad, *[cy_leaf(p, requires_grad=False) for p in perturbed]))
            return sum(float(np.sum(to_numpy(o) * r)) for o, r in zip(outs, upstream)
                       if r is not None)

    expected = numerical_grad(numeric_loss, arrays, eps=eps)
    for i, (leaf, g) in enumerate(zip(leaves, expected)):
        if leaf.grad is None:
            # an input that does not reach the output must have a zero numerical gradient
            assert np.all(g == 0), f"input {i}: .grad is None but the numerical gradient is not 0"
            continue
        assert tuple(leaf.grad.shape) == arrays[i].shape, f"input {i}: grad shape"
        assert_close(to_numpy(leaf.grad), g, rtol, atol, what=f"gradient of input {i}")
    return True


# ---------------------------------------------------------------------------------------------
# torch comparison
# ---------------------------------------------------------------------------------------------

TOLERANCES = {
    "float32": (1e-5, 1e-6),
    "float64": (1e-12, 1e-12),
}


def compare_with_torch(fn, arrays, dtype, rtol=None, atol=None, seed=4321, grads=True, device="cpu"):
    """Runs ``fn(T, *xs)`` with T=cygrad and T=torch on the same inputs (cast to ``dtype``, a name
    such as 'float32'), and compares every output's dtype, shape and values, then the input
    gradients of ``sum(out * R)`` for a random R. cygrad runs on ``device`` (its tensors created
    there), torch on its CPU.

    Integer outputs (e.g. indices) must be equal exactly. Inputs of an integer ``dtype`` do not
    require grad. Returns the two lists of outputs."""
    import torch

    default_rtol, default_atol = TOLERANCES.get(dtype, (0, 0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    np_dtype = np.dtype(dtype)
    arrays = [np.array(a, dtype=np_dtype) for a in arrays]
    differentiable = grads and np_dtype.kind == "f"

    cy_inputs = [cygrad.tensor(a.copy(), dtype=getattr(cygrad, dtype), device=device) for a in arrays]
    th_inputs = [torch.tensor(a.copy(), dtype=getattr(torch, dtype)) for a in arrays]
    if differentiable:
        for t in cy_inputs + th_inputs:
            t.requires_grad_(True)

    cy_out = as_outputs(fn(cygrad if device == "cpu" else on_device(cygrad, device), *cy_inputs))
    th_out = as_outputs(fn(torch, *th_inputs))
    assert len(cy_out) == len(th_out), "different number of outputs"
    for k, (c, t) in enumerate(zip(cy_out, th_out)):
        assert dtype_name(c.dtype) == dtype_name(t.dtype), f"output {k}: dtype {c.dtype} vs {t.dtype}"
        assert tuple(c.shape) == tuple(t.shape), f"output {k}: shape {tuple(c.shape)} vs {tuple(t.shape)}"
        if is_float_tensor(t):
            assert_close(to_numpy(c), to_numpy(t), rtol, atol, what=f"output {k} ({dtype})")
        else:
            np.testing.assert_array_equal(to_numpy(c), to_numpy(t), err_msg=f"output {k}")

    if not differentiable:
        return cy_out, th_out
    upstream = _upstream(th_out, seed)
    cy_loss = th_loss = None
    for c, t, r in zip(cy_out, th_out, upstream):
        if r is None or not t.requires_grad:
            continue
        assert c.requires_grad, "cygrad output does not require grad where torch's does"
        c_term = (c * cygrad.tensor(r, dtype=c.dtype, device=c.device)).sum()
        t_term = (t * torch.tensor(r, dtype=t.dtype)).sum()
        cy_loss = c_term if cy_loss is None else cy_loss + c_term
        th_loss = t_term if th_loss is None else th_loss + t_term
    if th_loss is None:
        return cy_out, th_out
    cy_loss.backward()
    th_loss.backward()
    for i, (c, t) in enumerate(zip(cy_inputs, th_inputs)):
        if t.grad is None:
            assert c.grad is None or np.all(to_numpy(c.grad) == 0), f"input {i}: unexpected grad"
            continue
        assert c.grad is not None, f"input {i}: cygrad gave no gradient"
        assert dtype_name(c.grad.dtype) == dtype_name(t.grad.dtype), f"input {i}: grad dtype"
        assert_close(to_numpy(c.grad), to_numpy(t.grad), rtol, atol, what=f"gradient of input {i} ({dtype})")
    return cy_out, th_out


# ---------------------------------------------------------------------------------------------
# devices
# ---------------------------------------------------------------------------------------------


def compare_devices(fn, arrays, device, dtype="float64", rtol=None, atol=None, seed=4321):
    """Runs ``fn(T, *xs)`` on the CPU and on ``device`` from the same inputs (leaves of ``dtype``
    that require grad, constants created on each device) and compares the outputs and the input
    gradients of ``sum(out * R)`` for a random R. The CPU results are the oracle: they are checked
    against finite differences and torch elsewhere."""
    default_rtol, default_atol = TOLERANCES[dtype]
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    runs = []
    for dev in ("cpu", device):
        leaves = [cygrad.tensor(np.array(a, dtype=dtype), device=dev, requires_grad=True) for a in arrays]
        outputs = as_outputs(fn(on_device(cygrad, dev), *leaves))
        loss = None
        for o, r in zip(outputs, _upstream(outputs, seed)):
            if r is not None and o.requires_grad:
                term = (o * cygrad.tensor(r, dtype=o.dtype, device=dev)).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        runs.append((outputs, leaves))
    (cpu_out, cpu_leaves), (dev_out, dev_leaves) = runs
    assert len(cpu_out) == len(dev_out)
    for k, (c, d) in enumerate(zip(cpu_out, dev_out)):
        assert str(d.device).startswith(device.split(":")[0]), f"output {k} is on {d.device}"
        assert d.dtype == c.dtype and tuple(d.shape) == tuple(c.shape), f"output {k}: dtype/shape"
        assert_close(to_numpy(d), to_numpy(c), rtol, atol, what=f"output {k} on {device}")
    for i, (c, d) in enumerate(zip(cpu_leaves, dev_leaves)):
        if c.grad is None:
            assert d.grad is None, f"input {i}: a gradient on {device} only"
            continue
        assert d.grad is not None and str(d.grad.device) == str(d.device), f"input {i}: grad device"
        assert_close(to_numpy(d.grad), to_numpy(c.grad), rtol, atol, what=f"gradient of input {i} on {device}")
