"""The op table and a training run on the host-memory device double (tests/device_double.py).

Every op takes the GPU's path here: tensors are created with device="cuda:0", their storage is not
a numpy array, and each primitive goes through the dispatch to a device backend. The double
computes with the CPU kernels, so the results must be the CPU's; what fails here is an op that
still handles a GPU tensor's storage as a numpy array, allocates on the wrong device, or loses a
tensor's device across autograd. (The CUDA kernels themselves are checked by
test_cuda_backend_on_host.py, and on a GPU by the `device` variants of test_ops.py.)
"""
import numpy as np
import pytest

import cygrad
import device_double
from helpers import compare_devices
from test_ops import CASES


@pytest.fixture(scope="module", autouse=True)
def double():
    with device_double.installed() as backend:
        yield backend


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op_on_the_device_double(case):
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


def test_training_on_the_device_double_matches_the_cpu():
    cpu_losses, cpu_params = _train("cpu")
    gpu_losses, gpu_params = _train("cuda:0")
    assert gpu_losses == cpu_losses
    for ours, theirs in zip(gpu_params, cpu_params):
        np.testing.assert_array_equal(ours, theirs)
