import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


SIMD_PATHS = ["scalar", "avx2", "avx512"]


@pytest.fixture(params=SIMD_PATHS)
def simd_path(request):
    """Forces each SIMD path for the test (skipped where the CPU lacks it), restoring it after."""
    from cygrad import _core
    original = _core.simd_path()
    try:
        _core.set_simd_path(request.param)
    except RuntimeError:
        pytest.skip(f"this CPU does not support the {request.param} path")
    assert _core.simd_path() == request.param
    yield request.param
    _core.set_simd_path(original)
    assert _core.simd_path() == original


@pytest.fixture
def torch():
    """torch when installed; tests that compare against it skip cleanly otherwise."""
    return pytest.importorskip("torch")


def cuda_skip_reason():
    """Why the CUDA cases cannot run here ("CUDA not available: CuPy is not installed ..."), or
    None on a machine with CuPy and a GPU."""
    from cygrad.backends import cuda
    reason = cuda.unavailable_reason()
    return None if reason is None else f"CUDA not available: {reason}"


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """The device a test runs on: 'cpu' always, 'cuda' when CuPy and a GPU are there (skipped
    with the reason otherwise)."""
    if request.param == "cuda":
        reason = cuda_skip_reason()
        if reason is not None:
            pytest.skip(reason)
    return request.param
