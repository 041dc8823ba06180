"""LayerNorm, BatchNorm1d and utils.data against torch."""
import numpy as np
import pytest

import cygrad
from helpers import assert_close, to_numpy

NORM_LAYERS = [
    ("batchnorm_2d", lambda nn: nn.BatchNorm1d(3), (8, 3)),
    ("batchnorm_3d", lambda nn: nn.BatchNorm1d(3, momentum=0.3), (8, 3, 5)),
    ("batchnorm_cumulative", lambda nn: nn.BatchNorm1d(3, momentum=None), (6, 3)),
    ("batchnorm_no_affine", lambda nn: nn.BatchNorm1d(3, affine=False), (6, 3, 2)),
    ("layernorm", lambda nn: nn.LayerNorm(5), (4, 3, 5)),
    ("layernorm_2dims", lambda nn: nn.LayerNorm((3, 5)), (4, 3, 5)),
    ("layernorm_no_affine", lambda nn: nn.LayerNorm(5, elementwise_affine=False), (4, 5)),
]


@pytest.mark.parametrize("name, make, shape", NORM_LAYERS, ids=[c[0] for c in NORM_LAYERS])
def test_normalization_layers_match_torch(name, make, shape, torch):
    ours, theirs = make(cygrad.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(5)
    for step in range(3):  # several training steps: running statistics accumulate
        data = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        x, tx = cygrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        y, ty = ours(x), theirs(tx)
        assert_close(to_numpy(y), to_numpy(ty), 1e-4, 1e-5, "output")
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        assert_close(to_numpy(x.grad), to_numpy(tx.grad), 1e-3, 1e-4, "input grad")
    for (key, value), (tkey, tvalue) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert key == tkey
        assert_close(to_numpy(value), to_numpy(tvalue), 1e-5, 1e-6, key)
    for (key, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(to_numpy(p.grad), to_numpy(tp.grad), 1e-3, 1e-4, key)
    ours.eval()
    theirs.eval()
    assert_close(to_numpy(ours(x)), to_numpy(theirs(tx)), 1e-4, 1e-5, "eval output")


def test_batchnorm_state_dict_has_num_batches_tracked(torch):
    layer = cygrad.nn.BatchNorm1d(4)
    layer(cygrad.randn(5, 4))
    layer(cygrad.randn(5, 4))
    state = layer.state_dict()
    assert list(state) == list(torch.nn.BatchNorm1d(4).state_dict())
    assert state["num_batches_tracked"].dtype is cygrad.int64 and state["num_batches_tracked"].item() == 2


def test_tensor_dataset_and_loader_match_torch(torch):
    features = np.arange(14, dtype=np.float32).reshape(7, 2)
    labels = np.arange(7)
    ours = cygrad.utils.data.DataLoader(cygrad.utils.data.TensorDataset(cygrad.tensor(features), cygrad.tensor(labels)),
                                        batch_size=3)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(features), torch.tensor(labels)),
                                         batch_size=3)
    assert len(ours) == len(theirs) == 3
    for (x, y), (tx, ty) in zip(ours, theirs):
        assert_close(to_numpy(x), to_numpy(tx), 0, 0)
        assert to_numpy(y).tolist() == to_numpy(ty).tolist() and y.dtype is cygrad.int64


def test_loader_shuffle_drop_last_and_seed():
    dataset = cygrad.utils.data.TensorDataset(cygrad.arange(10))
    loader = cygrad.utils.data.DataLoader(dataset, batch_size=3, shuffle=True, drop_last=True)
    assert len(loader) == 3
    cygrad.manual_seed(1)
    first = [b[0].tolist() for b in loader]
    cygrad.manual_seed(1)
    again = [b[0].tolist() for b in loader]
    assert first == again and all(len(b) == 3 for b in first)
    seen = sorted(v for b in first for v in b)
    assert len(set(seen)) == 9 and set(seen) <= set(range(10))
    cygrad.manual_seed(2)
    assert [b[0].tolist() for b in loader] != first


def test_default_collate_matches_torch(torch):
    samples = [{"x": (1.0, 2), "name": "a"}, {"x": (3.0, 4), "name": "b"}]
    ours = cygrad.utils.data.default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    assert ours["name"] == theirs["name"]
    for a, b in zip(ours["x"], theirs["x"]):
        assert to_numpy(a).tolist() == to_numpy(b).tolist()
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]


def test_dataset_size_mismatch():
    with pytest.raises(ValueError, match="Size mismatch"):
        cygrad.utils.data.TensorDataset(cygrad.zeros(3), cygrad.zeros(4))
