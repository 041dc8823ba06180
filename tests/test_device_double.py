"""The op table and a training run on "cuda:0" without a GPU, two ways.

Every op takes the GPU's path here: tensors are created with device="cuda:0", their storage is
not a numpy array (tests/device_double.py's DeviceArray), and each primitive goes through the
dispatch to a device backend, which is either
* "cpu-kernels": the host-memory device double, computing with the CPU kernels, so results must
  be the CPU's; what fails is an op that still handles a GPU tensor's storage as a numpy array,
  allocates on the wrong device, or loses a tensor's device across autograd; or
* "cuda.py": the real CUDA backend, backends/cuda.py, with tests/host_cupy.py in CuPy's place
  (its kernel bodies compiled by the host C++ compiler): the whole backend runs end to end under
  every op of the table.
On a GPU, the `device` variants of test_ops.py run the same table on CUDA itself.
"""
import numpy as np
import pytest

import cygrad
import device_double
import host_cupy
from helpers import compare_devices
from test_ops import CASES


@pytest.fixture(scope="module", autouse=True, params=["cpu-kernels", "cuda.py"])
def backend(request):
    if request.param == "cpu-kernels":
        with device_double.installed():
            yield request.param
    elif host_cupy.CXX is None:
        pytest.skip("no host C++ compiler (g++) to compile the CUDA kernel bodies")
    else:
        with host_cupy.cuda_backend_installed():
            yield request.param


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op_on_a_device(case):
    compare_devices(case.fn, case.inputs(), "cuda:0")


def _train(device):
    cygrad.manual_seed(0)
    data = cygrad.randn(32, 6)
    labels = cygrad.randint(0, 3, (32,))
    model = cygrad.nn.Sequential(cygrad.nn.Linear(6, 16), cygrad.nn.GELU(), cygrad.nn.Dropout(0.1),
                                 cygrad.nn.LayerNorm(16), cygrad.nn.Linear(16, 3)).to(device)
    optimizer = cygrad.optim.AdamW(model.parameters(), lr=1e-2)
    loader = cygrad.utils.data.DataLoader(
        cygrad.utils.data.TensorDataset(data.to(device), labels.to(device)), batch_size=8)
    losses = []
    for _ in range(3):
        for x, y in loader:
            optimizer.zero_grad()
            loss = cygrad.nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            cygrad.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


def test_training_on_a_device_matches_the_cpu(backend):
    cpu_losses, cpu_params = _train("cpu")
    gpu_losses, gpu_params = _train("cuda:0")
    if backend == "cpu-kernels":   # the same kernels: the same bits
        assert gpu_losses == cpu_losses
        for ours, theirs in zip(gpu_params, cpu_params):
            np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-5)
        for ours, theirs in zip(gpu_params, cpu_params):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
