"""gradcheck: compares autograd's gradients with central finite differences in float64.

The analytical Jacobian is built one output element at a time (a vector-Jacobian product per
row); the numerical one perturbs each input element by +-eps through `.data`, which writes the
storage without bumping version counters, so the graph under test is not disturbed."""
import numpy as np

from cygrad import _core


class GradcheckError(RuntimeError):
    pass


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _flat_outputs(fn, inputs):
    # grad mode stays on: the function may itself use autograd (gradgradcheck's does)
    outputs = _as_tuple(fn(*inputs))
    return [np.array(o._array, dtype=np.float64).ravel() for o in outputs
            if isinstance(o, _core.TensorBase) and o.dtype.is_floating_point]


def _numerical_jacobians(fn, inputs, wrt, eps):
    """jacobians[output][input]: (output numel, input numel) arrays by central differences."""
    outputs = _flat_outputs(fn, inputs)
    jacobians = [[np.zeros((o.size, inputs[i].numel())) for i in wrt] for o in outputs]
    for column, i in enumerate(wrt):
        storage = inputs[i].data._array  # shares memory; no version bump
        flat = storage.reshape(-1) if storage.flags.c_contiguous else None
        for j in range(storage.size):
            index = np.unravel_index(j, storage.shape) if flat is None else j
            target = storage if flat is None else flat
            original = target[index].item()
            target[index] = original + eps
            plus = _flat_outputs(fn, inputs)
            target[index] = original - eps
            minus = _flat_outputs(fn, inputs)
            target[index] = original
            for k in range(len(outputs)):
                jacobians[k][column][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jacobians


def _analytical_jacobians(fn, inputs, wrt):
    outputs = [o for o in _as_tuple(fn(*inputs))
               if isinstance(o, _core.TensorBase) and o.dtype.is_floating_point]
    targets = [inputs[i] for i in wrt]
    jacobians = [[np.zeros((o.numel(), t.numel())) for t in targets] for o in outputs]
    for k, output in enumerate(outputs):
        if not output.requires_grad:
            continue
        for row in range(output.numel()):
            seed = np.zeros(output.shape, dtype=output._array.dtype)
            seed.reshape(-1)[row] = 1
            grads = _core.grad(output, targets, grad_outputs=_core._from_array(seed),
                               retain_graph=True, allow_unused=True)
            for column, g in enumerate(grads):
                if g is not None:
                    jacobians[k][column][row, :] = np.asarray(g._array, dtype=np.float64).ravel()
    return jacobians


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """True when func's analytical gradients match finite differences for every input that
    requires grad; otherwise raises GradcheckError (or returns False) with both Jacobians."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, _core.TensorBase) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none "
                         "of the them have requires_grad=True.")
    for i in wrt:
        if inputs[i].dtype is not _core.float64:
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision "
                          "floating point.", UserWarning, stacklevel=2)
    numerical = _numerical_jacobians(func, inputs, wrt, eps)
    analytical = _analytical_jacobians(func, inputs, wrt)
    for k in range(len(numerical)):
        for column, i in enumerate(wrt):
            n, a = numerical[k][column], analytical[k][column]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{n}\nanalytical:{a}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_ignored):
    """Checks second derivatives: gradcheck applied to the function that maps the inputs to
    func's gradients (with fixed random output gradients), built with create_graph=True."""
    inputs = _as_tuple(inputs)
    wrt = [x for x in inputs if isinstance(x, _core.TensorBase) and x.requires_grad]
    outputs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, _core.TensorBase) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_core._from_array(rng.standard_normal(o.shape).astype(o._array.dtype))
                        for o in outputs]
    grad_outputs = _as_tuple(grad_outputs)

    def first_derivatives(*args):
        outs = [o for o in _as_tuple(func(*args)) if isinstance(o, _core.TensorBase) and o.requires_grad]
        targets = [x for x in args if isinstance(x, _core.TensorBase) and x.requires_grad]
        grads = _core.grad(outs, targets, grad_outputs=grad_outputs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
