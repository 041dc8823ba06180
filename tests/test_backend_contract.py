"""The CUDA backend implements every primitive the CPU backend has (checked by introspection, so it
runs without CuPy or a GPU).

The list of primitives is cygrad._core.BACKEND_PRIMITIVES (one tuple, in _backend.pxi); the CPU
side of each is a method of cygrad._core.cpu_backend, the CUDA side a function of
cygrad/backends/cuda.py with the same parameters. Elementwise kernels are listed by the CPU kernel
table itself (cygrad._core.elementwise_kernels()); each has a cupy.ElementwiseKernel definition in
cuda.ELEMENTWISE_KERNELS with the same operands."""
import inspect
import os

import pytest

from cygrad import _core
from cygrad.backends import cuda


def test_the_registry_is_the_cpu_backend():
    """BACKEND_PRIMITIVES names exactly what the CPU backend exposes (no stale or missing entry)."""
    methods = {name for name in vars(type(_core.cpu_backend)) if not name.startswith("_")}
    assert methods == set(_core.BACKEND_PRIMITIVES)
    assert len(_core.BACKEND_PRIMITIVES) == len(set(_core.BACKEND_PRIMITIVES))


@pytest.mark.parametrize("name", _core.BACKEND_PRIMITIVES)
def test_cuda_implements_the_primitive_with_the_same_parameters(name):
    cuda_function = getattr(cuda, name, None)
    assert callable(cuda_function), f"backends/cuda.py has no {name}()"
    cpu_parameters = list(inspect.signature(getattr(_core.cpu_backend, name)).parameters)
    assert list(inspect.signature(cuda_function).parameters) == cpu_parameters


@pytest.mark.parametrize("name", _core.BACKEND_PRIMITIVES)
def test_the_dispatch_sends_the_primitive_to_the_device_backend(name):
    """_backend.pxi calls the device backend's function of that name (so a new primitive cannot
    be added to the registry without its device route)."""
    source = open(os.path.join(os.path.dirname(_core.__file__), "_backend.pxi")).read()
    assert f").{name}(" in source or f"_device.{name}(" in source, name


def test_every_elementwise_kernel_has_a_cuda_kernel():
    table = _core.elementwise_kernels()
    keys = [key for key, *_ in table]
    assert len(keys) == len(set(keys)), "two CPU kernels share a key: give one a key of its own"
    assert set(cuda.ELEMENTWISE_KERNELS) == set(keys)
    for key, arity, has_param, predicate, codes in table:
        in_params, out_params, body = cuda.ELEMENTWISE_KERNELS[key]
        params = [p.split() for p in in_params.split(",")]
        assert len(params) == arity + has_param, key
        assert all(p[0] == "T" for p in params[:arity]), key
        if has_param:
            assert params[-1] == ["float64", "p"], key
        assert out_params == ("bool out" if predicate else "T out"), key
        assert body.count("out =") >= 1, key


def test_importing_cygrad_does_not_import_cupy():
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    code = "import sys, cygrad; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"
