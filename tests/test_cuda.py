"""Devices: cygrad.device, cygrad.cuda, moving tensors and modules, torch's errors, DLPack.

Three kinds of tests:
* the device model and the behaviour without CUDA (here: no CuPy or no GPU) run everywhere;
* the device semantics (errors, moves, autograd across devices, optimizer state) run on "cuda:0"
  without a GPU, twice: on the host-memory device double (tests/device_double.py) and on
  backends/cuda.py over tests/host_cupy.py, both through the dispatch path a GPU takes;
* `requires_cuda` tests run on a real GPU only, and skip with the reason otherwise.
"""
import numpy as np
import pytest

import cygrad
from conftest import cuda_skip_reason
import device_double
import host_cupy
from helpers import to_numpy

requires_cuda = pytest.mark.skipif(cuda_skip_reason() is not None, reason=str(cuda_skip_reason()))
without_cuda = pytest.mark.skipif(cuda_skip_reason() is None, reason="CUDA is available here")


@pytest.fixture(params=["cpu-kernels", "cuda.py"])
def double(request):
    """'cuda:0' without a GPU: served by the host-memory device double (CPU kernels), or by
    backends/cuda.py over tests/host_cupy.py (its CUDA kernels compiled for the host)."""
    if request.param == "cpu-kernels":
        with device_double.installed() as backend:
            yield backend
    elif host_cupy.CXX is None:
        pytest.skip("no host C++ compiler (g++) to compile the CUDA kernel bodies")
    else:
        with host_cupy.cuda_backend_installed() as backend:
            yield backend


# ---------------------------------------------------------------------------------------------
# the device model
# ---------------------------------------------------------------------------------------------

def test_device_names_and_equality_match_torch(torch):
    for spec in ["cpu", "cuda", "cuda:0", "cuda:3", "cpu:0"]:
        assert repr(cygrad.device(spec)) == repr(torch.device(spec))
        assert str(cygrad.device(spec)) == str(torch.device(spec))
    assert repr(cygrad.device("cuda", 1)) == repr(torch.device("cuda", 1))
    assert cygrad.device("cuda", 1).index == 1 and cygrad.device("cuda").index is None
    assert cygrad.device("cuda:0") == cygrad.device("cuda", 0)
    assert cygrad.device("cuda") != cygrad.device("cuda:0")     # as torch: no index is not index 0
    assert cygrad.device("cuda:0") != cygrad.device("cpu")
    assert cygrad.device(cygrad.device("cuda:2")) == cygrad.device("cuda:2")
    assert hash(cygrad.device("cuda:1")) == hash(cygrad.device("cuda", 1))


@pytest.mark.parametrize("spec, message", [
    ("gpu", "Expected one of cpu, cuda device type at start of device string: gpu"),
    ("cuda:x", "Invalid device string: 'cuda:x'"),
    ("cuda:-1", "Invalid device string: 'cuda:-1'"),
    ("cuda:01", "Invalid device string: 'cuda:01'"),
])
def test_invalid_device_strings_raise_torchs_errors(spec, message, torch):
    with pytest.raises(RuntimeError) as ours:
        cygrad.device(spec)
    assert str(ours.value) == message
    with pytest.raises(RuntimeError):
        torch.device(spec)


def test_cpu_tensors_report_the_cpu(torch):
    t = cygrad.ones(2)
    assert t.device == cygrad.device("cpu") and not t.is_cuda and t.is_cpu and t.get_device() == -1
    assert repr(t.device) == repr(torch.ones(2).device)
    assert t.to("cpu") is t and t.cpu() is t and t.to(cygrad.device("cpu")) is t


@without_cuda
def test_without_cuda_is_available_is_false_and_no_device_counts():
    assert cygrad.cuda.is_available() is False
    assert cygrad.cuda.device_count() == 0


@without_cuda
@pytest.mark.parametrize("make", [
    lambda: cygrad.zeros(2, device="cuda"),
    lambda: cygrad.tensor([1.0], device="cuda:0"),
    lambda: cygrad.randn(3, device=cygrad.device("cuda", 0)),
    lambda: cygrad.ones(2).cuda(),
    lambda: cygrad.ones(2).to("cuda"),
    lambda: cygrad.ones(2).to("cuda:0"),
    lambda: cygrad.nn.Linear(2, 2).cuda(),
    lambda: cygrad.nn.Linear(2, 2).to("cuda:0"),
    lambda: cygrad.cuda.current_device(),
    lambda: cygrad.cuda.synchronize(),
], ids=["zeros", "tensor", "randn", "Tensor.cuda", "to-cuda", "to-cuda:0", "Module.cuda",
        "Module.to", "current_device", "synchronize"])
def test_asking_for_cuda_without_it_is_a_clear_runtime_error(make):
    with pytest.raises(RuntimeError, match=r"cygrad cannot use CUDA: (CuPy is not installed \(pip install "
                                           r"\"cygrad\[cuda12\]\"\)|CuPy found no CUDA GPU)"):
        make()


def test_the_skip_reason_names_what_is_missing():
    reason = cuda_skip_reason()
    assert reason is None or reason.startswith("CUDA not available: ") and (
        "CuPy is not installed" in reason or "no CUDA GPU" in reason or "cannot reach" in reason)


# ---------------------------------------------------------------------------------------------
# device semantics, on the host-memory device double
# ---------------------------------------------------------------------------------------------

def test_moving_a_tensor_keeps_values_and_autograd(double):
    x = cygrad.tensor([[1.0, -2.0], [3.0, 4.5]], requires_grad=True)
    y = x.to("cuda:0")
    assert y.device == cygrad.device("cuda", 0) and y.is_cuda and y.get_device() == 0
    assert y.grad_fn.name() == "ToCopyBackward0"
    assert y.to("cuda:0") is y and y.cuda() is y and y.cuda(0) is y
    z = (y * y).sum()
    assert z.device == y.device
    z.backward()
    assert x.grad.device == cygrad.device("cpu")        # the gradient came back to x's device
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    back = y.cpu()
    assert back.device == cygrad.device("cpu") and back.grad_fn.name() == "ToCopyBackward0"
    np.testing.assert_array_equal(back.detach().numpy(), x.detach().numpy())


def test_to_moves_and_converts_in_one_call(double):
    x = cygrad.arange(6).reshape(2, 3)
    y = x.to("cuda:0", cygrad.float64)
    assert y.device.type == "cuda" and y.dtype == cygrad.float64
    assert x.to(y).device == y.device and x.to(y).dtype == cygrad.float64
    assert y.to("cuda:0", copy=True) is not y


def test_creation_on_the_device_and_like_functions_follow_the_input(double):
    cygrad.manual_seed(3)
    on_cpu = cygrad.randn(3, 4)
    cygrad.manual_seed(3)
    on_gpu = cygrad.randn(3, 4, device="cuda:0")
    np.testing.assert_array_equal(on_gpu.cpu().numpy(), on_cpu.numpy())   # same stream everywhere
    for t in [cygrad.zeros_like(on_gpu), cygrad.ones_like(on_gpu), cygrad.full_like(on_gpu, 2.0),
              cygrad.empty_like(on_gpu), cygrad.rand_like(on_gpu), on_gpu.new_zeros(2),
              on_gpu.new_tensor([1, 2]), cygrad.tensor(on_gpu), cygrad.as_tensor(on_gpu)]:
        assert t.device == on_gpu.device
    leaf = cygrad.zeros(2, device="cuda:0", requires_grad=True)
    assert leaf.is_leaf and leaf.requires_grad and leaf.is_cuda
    assert cygrad.zeros_like(on_gpu, device="cpu").device.type == "cpu"


def test_numpy_of_a_gpu_tensor_raises_torchs_error(double, torch):
    t = cygrad.ones(2, device="cuda:0")
    with pytest.raises(TypeError, match=r"^can't convert cuda:0 device type tensor to numpy\. Use "
                                        r"Tensor\.cpu\(\) to copy the tensor to host memory first\.$"):
        t.numpy()
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        np.asarray(t)
    np.testing.assert_array_equal(t.cpu().numpy(), [1.0, 1.0])
    assert t.tolist() == [1.0, 1.0] and t.sum().item() == 2.0
    assert repr(t) == "tensor([1., 1.], device='cuda:0')"
    assert repr(cygrad.ones(2, device="cuda:0", requires_grad=True).sum()) == \
        "tensor(2., device='cuda:0', grad_fn=<SumBackward0>)"


MIXED = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"


@pytest.mark.parametrize("op", [
    lambda g, c: g + c, lambda g, c: c * g, lambda g, c: g @ c, lambda g, c: cygrad.cat([g, c]),
    lambda g, c: cygrad.stack([c, g]), lambda g, c: cygrad.maximum(g, c),
    lambda g, c: cygrad.where(c > 0, g, 0.0), lambda g, c: g.masked_fill(c > 0, 1.0),
    lambda g, c: cygrad.nn.functional.mse_loss(g, c), lambda g, c: cygrad.nn.functional.linear(g, c),
], ids=["add", "rmul", "matmul", "cat", "stack", "maximum", "where", "masked_fill", "mse", "linear"])
def test_mixed_devices_raise_torchs_error(double, op):
    g = cygrad.ones(3, 3, device="cuda:0")
    c = cygrad.ones(3, 3)
    with pytest.raises(RuntimeError, match=MIXED.replace("(", r"\(").replace(")", r"\)").replace("!", "!$")):
        op(g, c)


def test_cross_entropy_targets_on_another_device_raise(double):
    logits = cygrad.randn(4, 3, device="cuda:0")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        cygrad.nn.functional.cross_entropy(logits, cygrad.tensor([0, 1, 2, 0]))


def test_cpu_scalars_may_meet_gpu_tensors(double):
    """As in torch, a 0-d CPU tensor is a scalar to an elementwise op on the GPU."""
    g = cygrad.tensor([1.0, 2.0], device="cuda:0")
    out = g * cygrad.tensor(3.0)
    assert out.device == g.device and out.tolist() == [3.0, 6.0]


def test_copy_works_across_devices_and_its_gradient_goes_back(double):
    src = cygrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    dst = cygrad.zeros(3, device="cuda:0")
    dst.copy_(src)
    assert dst.tolist() == [1.0, 2.0, 3.0]
    (dst * cygrad.tensor([1.0, 10.0, 100.0], device="cuda:0")).sum().backward()
    assert src.grad.device.type == "cpu" and src.grad.tolist() == [1.0, 10.0, 100.0]
    host = cygrad.zeros(3)
    host.copy_(cygrad.tensor([4.0, 5.0, 6.0], device="cuda:0"))
    assert host.tolist() == [4.0, 5.0, 6.0]


def test_views_and_version_counters_work_on_the_device(double):
    x = cygrad.arange(6.0, device="cuda:0").reshape(2, 3)
    row = x[1]
    row.mul_(2)
    assert x.tolist() == [[0.0, 1.0, 2.0], [6.0, 8.0, 10.0]]
    assert x._version == row._version == 1
    a = cygrad.ones(3, device="cuda:0", requires_grad=True)
    b = a * 2
    c = b * b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        cygrad.ones(1, device="cuda:0").expand(3).add_(1)


def test_indexing_with_gpu_masks_and_indices(double):
    x = cygrad.arange(12.0, device="cuda:0").reshape(3, 4).requires_grad_(True)
    mask = x > 5
    picked = x[mask]
    assert picked.device == x.device and picked.tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    idx = cygrad.tensor([2, 0, 2], device="cuda:0")
    rows = x[idx]
    (picked.sum() + rows.sum() + x.gather(1, idx.reshape(3, 1)).sum()).backward()
    expected = np.zeros((3, 4))
    expected[np.arange(12).reshape(3, 4) > 5] += 1
    np.add.at(expected, [2, 0, 2], 1)            # row 2 picked twice: its gradient adds up
    np.add.at(expected, ([0, 1, 2], [2, 0, 2]), 1)
    np.testing.assert_array_equal(x.grad.cpu().numpy(), expected)


def test_module_to_moves_parameters_and_buffers_in_place(double):
    model = cygrad.nn.Sequential(cygrad.nn.Linear(3, 4), cygrad.nn.BatchNorm1d(4))
    weight = model[0].weight
    assert model.to("cuda:0") is model
    assert model[0].weight is weight and weight.is_cuda and isinstance(weight, cygrad.nn.Parameter)
    assert model[1].running_mean.is_cuda and all(p.is_cuda for p in model.parameters())
    out = model(cygrad.randn(5, 3, device="cuda:0"))
    assert out.is_cuda
    model.cpu()
    assert not weight.is_cuda and not model[1].running_mean.is_cuda
    model.to(cygrad.float64)
    assert weight.dtype == cygrad.float64 and weight.device.type == "cpu"
    model.cuda()
    assert weight.is_cuda and weight.dtype == cygrad.float64


@pytest.mark.parametrize("make", [
    lambda ps: cygrad.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: cygrad.optim.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: cygrad.optim.AdamW(ps, lr=0.01),
    lambda ps: cygrad.optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
    lambda ps: cygrad.optim.Adagrad(ps, lr=0.1),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizer_state_follows_a_model_moved_after_its_first_step(double, make):
    cygrad.manual_seed(0)
    data, target = cygrad.randn(8, 3), cygrad.randn(8, 2)
    reference = cygrad.nn.Linear(3, 2)
    moved = cygrad.nn.Linear(3, 2)
    moved.load_state_dict(reference.state_dict())
    runs = []
    for model, device in ((reference, "cpu"), (moved, "cuda:0")):
        optimizer = make(model.parameters())
        for step in range(4):
            where = device if step >= 2 else "cpu"
            if step == 2:
                model.to(device)   # after the optimizer made its state on the CPU
            optimizer.zero_grad()
            x, y = data.to(where), target.to(where)
            cygrad.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
        runs.append(model)
    state = [s for group in optimizer.state.values() for s in group.values()
             if isinstance(s, cygrad.Tensor)]
    assert all(s.is_cuda for s in state if s.numel() > 1)   # buffers followed; 'step' stays on the host
    np.testing.assert_allclose(moved.weight.detach().cpu().numpy(), reference.weight.detach().numpy(),
                               rtol=1e-6, atol=1e-7)


def test_save_and_load_across_devices(double, tmp_path):
    model = cygrad.nn.Linear(2, 3).cuda()
    cygrad.save(model.state_dict(), tmp_path / "m.safetensors")
    on_cpu = cygrad.load(tmp_path / "m.safetensors")
    assert not on_cpu["weight"].is_cuda
    np.testing.assert_array_equal(on_cpu["weight"].numpy(), model.weight.detach().cpu().numpy())
    on_gpu = cygrad.load(tmp_path / "m.safetensors", map_location="cuda:0")
    assert on_gpu["weight"].is_cuda and on_gpu["weight"].is_leaf


def test_clip_grad_norm_on_the_device(double):
    p = cygrad.nn.Parameter(cygrad.ones(4, device="cuda:0"))
    p.grad = cygrad.full((4,), 3.0, device="cuda:0")
    total = cygrad.nn.utils.clip_grad_norm_([p], 1.0)
    assert total.device == p.device and total.item() == pytest.approx(6.0)
    assert p.grad.cpu().numpy() == pytest.approx(np.full(4, 3.0 / (6.0 + 1e-6)))


# ---------------------------------------------------------------------------------------------
# DLPack
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_dlpack_from_numpy_shares_memory(dtype):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    view = a[:, ::2]
    t = cygrad.from_dlpack(view)
    assert t.dtype == getattr(cygrad, dtype if dtype != "bool" else "bool")
    assert tuple(t.shape) == view.shape and t.stride() == tuple(s // a.itemsize for s in view.strides)
    np.testing.assert_array_equal(t.numpy(), view)
    if dtype != "bool":
        view[1, 1] = 7
        assert t[1, 1].item() == 7                       # numpy's write seen by cygrad
        t[0, 0] = 5
        assert view[0, 0] == 5                           # cygrad's write seen by numpy


def test_dlpack_to_numpy_shares_memory():
    t = cygrad.arange(6.0).reshape(2, 3).t()
    a = np.from_dlpack(t)
    assert a.shape == (3, 2) and a.strides == tuple(s * 4 for s in t.stride()) == (4, 12)
    t[0, 1] = -1.0
    assert a[0, 1] == -1.0
    assert t.__dlpack_device__()[0] == 1   # kDLCPU


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_dlpack_with_torch_both_ways(torch, dtype):
    source = torch.arange(12).reshape(3, 4).to(getattr(torch, dtype))[:, 1:]
    ours = cygrad.from_dlpack(source)
    assert ours.dtype == getattr(cygrad, dtype) and tuple(ours.shape) == tuple(source.shape)
    assert ours.stride() == source.stride()
    np.testing.assert_array_equal(ours.numpy(), source.numpy())
    theirs = torch.from_dlpack(ours)
    assert theirs.dtype == getattr(torch, dtype) and theirs.stride() == ours.stride()
    if dtype != "bool":
        source[0, 0] = 9
        assert ours[0, 0].item() == 9 and theirs[0, 0].item() == 9
        ours[2, 2] = 4
        assert source[2, 2].item() == 4
    capsule = torch.utils.dlpack.to_dlpack(source)        # the legacy capsule form too
    from_capsule = cygrad.from_dlpack(capsule)
    np.testing.assert_array_equal(from_capsule.numpy(), source.numpy())


def test_dlpack_refuses_tensors_that_require_grad(torch):
    with pytest.raises(BufferError, match="Can't export tensors that require gradient, use tensor.detach()"):
        cygrad.ones(2, requires_grad=True).__dlpack__()
    shared = cygrad.from_dlpack(cygrad.ones(2, requires_grad=True).detach())
    assert not shared.requires_grad


# ---------------------------------------------------------------------------------------------
# on a real GPU
# ---------------------------------------------------------------------------------------------

@requires_cuda
def test_gpu_round_trip_and_device_queries():
    assert cygrad.cuda.is_available() and cygrad.cuda.device_count() >= 1
    x = cygrad.randn(5, 7)
    g = x.cuda()
    assert g.is_cuda and g.device == cygrad.device("cuda", cygrad.cuda.current_device())
    np.testing.assert_array_equal(g.cpu().numpy(), x.numpy())
    assert isinstance(cygrad.cuda.get_device_name(), str)
    cygrad.cuda.synchronize()
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        x.to(f"cuda:{cygrad.cuda.device_count()}")


@requires_cuda
def test_gpu_dlpack_with_cupy_and_torch_shares_memory():
    import cupy
    c = cupy.arange(6, dtype=cupy.float32).reshape(2, 3)
    t = cygrad.from_dlpack(c)
    assert t.is_cuda
    c[0, 0] = 42
    assert t[0, 0].item() == 42
    back = cupy.from_dlpack(t)
    t[1, 1] = -3
    assert float(back[1, 1]) == -3
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        tt = torch.from_dlpack(t)
        assert tt.is_cuda and tt[1, 1].item() == -3


@requires_cuda
def test_gpu_training_matches_the_cpu():
    cygrad.manual_seed(0)
    data, labels = cygrad.randn(64, 20), cygrad.randint(0, 5, (64,))
    results = []
    for device in ("cpu", "cuda"):
        cygrad.manual_seed(1)
        model = cygrad.nn.Sequential(cygrad.nn.Linear(20, 32), cygrad.nn.ReLU(), cygrad.nn.Linear(32, 5)).to(device)
        optimizer = cygrad.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(20):
            optimizer.zero_grad()
            loss = cygrad.nn.functional.cross_entropy(model(data.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
        results.append((loss.item(), to_numpy(model[0].weight)))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-4)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-3, atol=1e-5)
