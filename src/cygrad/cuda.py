"""cygrad.cuda: torch.cuda's queries and controls, for the CuPy backend (cygrad/backends/cuda.py).

Every function works without CuPy: is_available() is False and device_count() 0 then, and what
needs a GPU raises a RuntimeError saying why."""
from cygrad import _core

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "get_device_name", "manual_seed", "manual_seed_all", "init"]


def _backend():
    """The installed device backend (backends/cuda.py once loaded; a test double in tests), else
    backends/cuda.py, which answers without loading CuPy (imported here: not at `import cygrad`)."""
    installed = _core._device_backend()
    if installed is not None:
        return installed
    from cygrad.backends import cuda
    return cuda


def is_available():
    """Whether a GPU can be used: CuPy imports and finds a CUDA device (CuPy can be installed on
    a machine without one)."""
    return _backend().is_available()


def device_count():
    return _backend().device_count() if is_available() else 0


def init():
    """Loads the CUDA backend; RuntimeError naming the reason when CUDA is not available."""
    _backend().load()


def current_device():
    """The index of the GPU that 'cuda' (without an index) means."""
    return _backend().current_device()


def set_device(device):
    """Makes a GPU the current one; device is an index, 'cuda:N' or a cygrad.device."""
    from cygrad.tensor import _device_index
    index = device if isinstance(device, int) else _device_index(device)
    if index >= 0:
        _backend().set_device(index)


def synchronize(device=None):
    """Waits until every kernel queued on the GPU has finished (GPU timings need this)."""
    from cygrad.tensor import _device_index
    _backend().synchronize(None if device is None else
                         device if isinstance(device, int) else _device_index(device))


def get_device_name(device=None):
    from cygrad.tensor import _device_index
    return _backend().get_device_name(None if device is None else
                                    device if isinstance(device, int) else _device_index(device))


def manual_seed(seed):
    """Does nothing: GPU random tensors are drawn on the host from cygrad's default generator
    (cygrad.manual_seed seeds them), then copied, so they match the CPU's under one seed."""


def manual_seed_all(seed):
    """Does nothing (see manual_seed)."""
