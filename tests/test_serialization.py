"""cygrad.save / cygrad.load: safetensors round trips, PyTorch zip checkpoints read without torch,
and the restricted unpickler's refusals.

Oracles: numpy (the arrays that went in), the safetensors package (reading what cygrad wrote),
torch (torch.save / torch.load / safetensors.torch, when installed), and pickle/zip files built by
hand here (PyTorch's on-disk layout written out opcode by opcode), so the security and corruption
tests run without torch."""
import io
import json
import math
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import cygrad
from cygrad.serialization import CheckpointError, UnpicklingError


def as_array(t):
    return np.array(t.detach().numpy(), copy=True)


def assert_same_structure(loaded, expected):
    """Same container types, keys (and their types and order), leaves, and tensors (dtype, shape,
    values) — expected holds cygrad tensors or numpy arrays."""
    assert type(loaded) is type(expected) or (
        isinstance(loaded, cygrad.Tensor) and isinstance(expected, (cygrad.Tensor, np.ndarray)))
    if isinstance(expected, dict):
        assert [(type(k), k) for k in loaded] == [(type(k), k) for k in expected]
        for key in expected:
            assert_same_structure(loaded[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(loaded) == len(expected)
        for a, b in zip(loaded, expected):
            assert_same_structure(a, b)
    elif isinstance(expected, (cygrad.Tensor, np.ndarray)):
        want = as_array(expected) if isinstance(expected, cygrad.Tensor) else expected
        got = as_array(loaded)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(loaded)
    else:
        assert loaded == expected


# ---------------------------------------------------------------------------------------------
# cygrad's own format
# ---------------------------------------------------------------------------------------------

def state_dict_like():
    base = cygrad.tensor(np.arange(12, dtype=np.float64).reshape(3, 4))
    return OrderedDict([
        ("fc.weight", cygrad.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))),
        ("fc.bias", cygrad.tensor(np.array([0.5, -0.25], dtype=np.float32))),
        ("double", cygrad.tensor(np.array([1e-300, 3.5, -np.inf]))),
        ("bn.num_batches_tracked", cygrad.tensor(7)),                      # 0-d int64
        ("counts", cygrad.tensor(np.array([2**40, -3], dtype=np.int64))),
        ("int32", cygrad.tensor(np.array([1, -2], dtype=np.int32))),
        ("mask", cygrad.tensor([True, False, True])),
        ("scalar", cygrad.tensor(2.5)),                                    # 0-d float32
        ("empty", cygrad.zeros(0, 3)),
        ("empty_bool", cygrad.tensor(np.zeros((2, 0), dtype=bool))),
        ("transposed", base.t()),                                          # non-contiguous
        ("strided", base[::2, 1::2]),
    ])


def test_state_dict_round_trip(tmp_path):
    sd = state_dict_like()
    path = tmp_path / "sd.safetensors"
    cygrad.save(sd, path)
    loaded = cygrad.load(path)
    assert type(loaded) is OrderedDict
    assert_same_structure(loaded, sd)
    for t in loaded.values():
        assert t.is_contiguous() and not t.requires_grad
    assert loaded["mask"].dtype == cygrad.bool and loaded["int32"].dtype == cygrad.int32
    assert loaded["bn.num_batches_tracked"].dtype == cygrad.int64
    # loaded tensors are ordinary, writable tensors
    loaded["fc.bias"].add_(1)
    np.testing.assert_array_equal(as_array(loaded["fc.bias"]), [1.5, 0.75])


def test_flat_state_dict_keeps_its_keys_for_other_safetensors_readers(tmp_path):
    from safetensors.numpy import load_file
    sd = state_dict_like()
    cygrad.save(sd, tmp_path / "sd.safetensors")
    arrays = load_file(str(tmp_path / "sd.safetensors"))
    assert set(arrays) == set(sd)
    for key, t in sd.items():
        np.testing.assert_array_equal(arrays[key], as_array(t))


def optimizer_state_like():
    return {
        "state": {
            0: {"step": cygrad.tensor(3.0), "exp_avg": cygrad.ones(2, 3),
                "exp_avg_sq": cygrad.full((2, 3), 0.25, dtype=cygrad.float64)},
            1: {"step": cygrad.tensor(3.0), "momentum_buffer": None},
        },
        "param_groups": [
            {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
             "amsgrad": False, "maximize": False, "foreach": None, "differentiable": False,
             "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"),
             "name": "décoder ☃", "big": 2**70, "params": [0, 1]},
        ],
    }


def test_optimizer_state_round_trip(tmp_path):
    state = optimizer_state_like()
    cygrad.save(state, tmp_path / "opt.safetensors")
    loaded = cygrad.load(tmp_path / "opt.safetensors")
    assert_same_structure(loaded, state)
    assert type(loaded["param_groups"][0]["betas"]) is tuple
    assert list(loaded["state"]) == [0, 1]


def test_nested_keys_with_dots_backslashes_and_int_str_twins(tmp_path):
    obj = {
        "a.b": {"c": cygrad.tensor([1.0])},
        "a": {"b.c": cygrad.tensor([2.0]), "b": {"c": cygrad.tensor([3.0])}},
        "back\\slash.": [cygrad.tensor([4.0]), (cygrad.tensor([5.0]), "x")],
        "twins": {0: cygrad.tensor([6.0]), "0": cygrad.tensor([7.0]),
                  (1, "k"): cygrad.tensor([8.0])},
        "__metadata__": {"__metadata__": cygrad.tensor([9.0])},
        True: None, 2.5: "float key", None: 1,
    }
    cygrad.save(obj, tmp_path / "nested.safetensors")
    assert_same_structure(cygrad.load(tmp_path / "nested.safetensors"), obj)


def test_reserved_safetensors_name_in_a_flat_state_dict(tmp_path):
    sd = {"__metadata__": cygrad.tensor([1.0]), "w": cygrad.tensor([2.0])}
    cygrad.save(sd, tmp_path / "r.safetensors")
    assert_same_structure(cygrad.load(tmp_path / "r.safetensors"), sd)


def test_a_shared_tensor_is_stored_once_and_loads_as_one_object(tmp_path):
    w = cygrad.randn(4, 4, requires_grad=True)
    obj = {"encoder": {"weight": w}, "decoder": {"weight": w}, "other": cygrad.zeros(2)}
    cygrad.save(obj, tmp_path / "tied.safetensors")
    from safetensors.numpy import load_file
    assert len(load_file(str(tmp_path / "tied.safetensors"))) == 2
    loaded = cygrad.load(tmp_path / "tied.safetensors")
    assert loaded["encoder"]["weight"] is loaded["decoder"]["weight"]
    assert loaded["encoder"]["weight"].requires_grad and loaded["encoder"]["weight"].is_leaf
    np.testing.assert_array_equal(as_array(loaded["decoder"]["weight"]), as_array(w))


@pytest.mark.parametrize("obj", [
    cygrad.tensor([[1, 2], [3, 4]]), cygrad.tensor(1.5, dtype=cygrad.float64),
    [cygrad.ones(2), 3, "x"], (None,), {}, 7, "just a string",
])
def test_other_top_level_objects(tmp_path, obj):
    cygrad.save(obj, tmp_path / "x.safetensors")
    assert_same_structure(cygrad.load(tmp_path / "x.safetensors"), obj)


def test_file_objects(tmp_path):
    sd = state_dict_like()
    buffer = io.BytesIO()
    cygrad.save(sd, buffer)
    buffer.seek(0)
    assert_same_structure(cygrad.load(buffer), sd)
    with open(tmp_path / "f.safetensors", "wb") as f:
        cygrad.save(sd, f)
    with open(tmp_path / "f.safetensors", "rb") as f:
        assert_same_structure(cygrad.load(f, map_location="cpu"), sd)


def test_map_location_cpu_and_cuda_without_cuda(tmp_path):
    cygrad.save({"w": cygrad.ones(1)}, tmp_path / "w.safetensors")
    loaded = cygrad.load(tmp_path / "w.safetensors", map_location=cygrad.device("cpu"))
    assert loaded["w"].item() == 1
    if not cygrad.cuda.is_available():   # (tests/test_cuda.py loads onto a device)
        with pytest.raises(RuntimeError, match="cygrad cannot use CUDA"):
            cygrad.load(tmp_path / "w.safetensors", map_location="cuda:0")


@pytest.mark.parametrize("obj, message", [
    ({"a": {1, 2}}, "type set"),
    ({"a": object()}, "type object"),
    ({"a": [np.ones(2)]}, "type ndarray"),
    ({cygrad.ones(1): 1}, "dict key of type Tensor"),
    ({(1, cygrad.ones(1)): 1}, "dict key of type tuple"),
])
def test_unsupported_values_are_refused_before_anything_is_written(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        cygrad.save(obj, tmp_path / "no.safetensors")
    assert not (tmp_path / "no.safetensors").exists()


def test_a_structure_containing_itself_is_refused(tmp_path):
    loop = {"w": cygrad.ones(1)}
    loop["self"] = [loop]
    with pytest.raises(ValueError, match="contains itself"):
        cygrad.save(loop, tmp_path / "loop.safetensors")


def test_the_file_is_safetensors_with_json_and_raw_bytes_only(tmp_path):
    """The whole file is accounted for: an 8-byte length, a JSON header whose metadata is JSON
    too, and each tensor's raw bytes where the header says — there is no room for a pickle."""
    state = optimizer_state_like()
    path = tmp_path / "opt.safetensors"
    cygrad.save(state, path)
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__")
    assert set(metadata) == {"format", "cygrad"}
    structure = json.loads(metadata["cygrad"])
    assert structure["version"] == 1 and "dict" in structure["root"]
    payload = data[8 + n:]
    covered = sorted(tuple(entry["data_offsets"]) for entry in header.values())
    assert covered[0][0] == 0 and covered[-1][1] == len(payload)
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))
    exp_avg = header["state.0.exp_avg"]
    assert exp_avg["dtype"] == "F32" and exp_avg["shape"] == [2, 3]
    start, end = exp_avg["data_offsets"]
    assert payload[start:end] == np.ones((2, 3), np.float32).tobytes()
    for opcode_stream in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        assert opcode_stream not in data


def test_a_foreign_safetensors_file_loads_as_a_dict_of_tensors(tmp_path):
    from safetensors.numpy import save_file
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(3, np.int64),
              "m": np.array([True, False])}
    save_file(arrays, str(tmp_path / "foreign.safetensors"))
    loaded = cygrad.load(tmp_path / "foreign.safetensors")
    assert type(loaded) is dict and set(loaded) == set(arrays)
    for key, array in arrays.items():
        assert_same_structure(loaded[key], array)


def test_a_safetensors_dtype_cygrad_lacks_gives_a_clear_error(tmp_path):
    from safetensors.numpy import save_file
    save_file({"half": np.ones(2, np.float16)}, str(tmp_path / "half.safetensors"))
    with pytest.raises(CheckpointError, match="'half' has dtype float16, which cygrad does not"):
        cygrad.load(tmp_path / "half.safetensors")


# ---------------------------------------------------------------------------------------------
# PyTorch zip checkpoints written by hand (no torch needed): pickle opcodes + zip records
# ---------------------------------------------------------------------------------------------

def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_str(s):
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def op_int(i):
    return b"J" + struct.pack("<i", i)


def op_tuple(*items):
    return b"(" + b"".join(items) + b"t"


def op_bool(b):
    return b"\x88" if b else b"\x89"


EMPTY_ORDERED_DICT = op_global("collections", "OrderedDict") + b")R"


def op_storage(storage_type, key, numel):
    return op_tuple(op_str("storage"), op_global("torch", storage_type), op_str(key),
                    op_str("cpu"), op_int(numel)) + b"Q"   # BINPERSID


def op_tensor(storage, offset, size, stride, requires_grad=False):
    """torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)"""
    args = op_tuple(storage, op_int(offset), op_tuple(*map(op_int, size)),
                    op_tuple(*map(op_int, stride)), op_bool(requires_grad), EMPTY_ORDERED_DICT)
    return op_global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def op_ordered_dict(items):
    return EMPTY_ORDERED_DICT + b"".join(op_str(k) + v + b"s" for k, v in items)


def as_pickle(body):
    return b"\x80\x02" + body + b"."


def write_torch_zip(path, data_pkl, records=(), byteorder=b"little", archive="archive"):
    """The layout torch.save writes: <archive>/data.pkl, byteorder, data/<key>, version."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive}/data.pkl", data_pkl)
        if byteorder is not None:
            z.writestr(f"{archive}/byteorder", byteorder)
        for key, raw in dict(records).items():
            z.writestr(f"{archive}/data/{key}", raw)
        z.writestr(f"{archive}/version", b"3\n")
    return path


BASE = np.arange(12, dtype=np.float32) * 0.5 - 1


def hand_built_state_dict(byteorder="little"):
    """A state_dict pickle in torch's layout; returns (pickle bytes, records, expected arrays)."""
    order = "<" if byteorder == "little" else ">"
    records = {
        "0": BASE.astype(order + "f4").tobytes(),
        "1": np.array([5], dtype=order + "i8").tobytes(),
        "2": np.array([True, False, True]).tobytes(),
        "3": np.array([1.5, -2.25], dtype=order + "f8").tobytes(),
    }
    body = op_ordered_dict([
        ("weight", op_tensor(op_storage("FloatStorage", "0", 12), 0, (3, 4), (4, 1))),
        ("weight_t", op_tensor(op_storage("FloatStorage", "0", 12), 0, (4, 3), (1, 4))),
        ("tail", op_tensor(op_storage("FloatStorage", "0", 12), 5, (2, 3), (1, 2))),
        ("expanded", op_tensor(op_storage("FloatStorage", "0", 12), 2, (2, 3), (0, 1))),
        ("empty", op_tensor(op_storage("FloatStorage", "0", 12), 12, (0, 4), (4, 1))),
        ("num_batches_tracked", op_tensor(op_storage("LongStorage", "1", 1), 0, (), ())),
        ("mask", op_tensor(op_storage("BoolStorage", "2", 3), 0, (3,), (1,))),
        ("double", op_tensor(op_storage("DoubleStorage", "3", 2), 1, (1,), (1,), True)),
    ])
    expected = OrderedDict([
        ("weight", BASE.reshape(3, 4)),
        ("weight_t", BASE.reshape(3, 4).T),
        ("tail", np.lib.stride_tricks.as_strided(BASE[5:], (2, 3), (4, 8))),
        ("expanded", np.broadcast_to(BASE[2:5], (2, 3))),
        ("empty", np.zeros((0, 4), np.float32)),
        ("num_batches_tracked", np.array(5, np.int64)),
        ("mask", np.array([True, False, True])),
        ("double", np.array([-2.25])),
    ])
    return as_pickle(body), records, expected


@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_hand_built_torch_checkpoint(tmp_path, byteorder):
    data_pkl, records, expected = hand_built_state_dict(byteorder)
    path = write_torch_zip(tmp_path / "m.pth", data_pkl, records, byteorder.encode())
    loaded = cygrad.load(path)
    assert type(loaded) is OrderedDict
    assert_same_structure(loaded, expected)
    assert loaded["double"].requires_grad and not loaded["weight"].requires_grad
    assert all(t.is_contiguous() for t in loaded.values())
    # tensors built on one storage are independent copies
    loaded["weight"].zero_()
    assert as_array(loaded["weight_t"])[1, 0] == BASE[1]


def test_hand_built_checkpoint_reads_the_same_in_torch(tmp_path, torch):
    """The hand-built layout is what torch itself reads: both loaders agree."""
    data_pkl, records, expected = hand_built_state_dict()
    path = write_torch_zip(tmp_path / "m.pth", data_pkl, records)
    theirs = torch.load(path, weights_only=True)
    ours = cygrad.load(path)
    assert list(theirs) == list(ours)
    for key in theirs:
        assert_same_structure(ours[key], theirs[key].detach().numpy())


def test_checkpoint_without_byteorder_record_is_little_endian(tmp_path):
    data_pkl, records, expected = hand_built_state_dict("little")
    path = write_torch_zip(tmp_path / "m.pth", data_pkl, records, byteorder=None)
    assert_same_structure(cygrad.load(path), expected)


def test_parameter_rebuild_sets_requires_grad(tmp_path):
    tensor = op_tensor(op_storage("FloatStorage", "0", 2), 0, (2,), (1,))
    body = (op_global("torch._utils", "_rebuild_parameter")
            + op_tuple(tensor, op_bool(True), EMPTY_ORDERED_DICT) + b"R")
    path = write_torch_zip(tmp_path / "p.pth", as_pickle(body),
                           {"0": np.array([1, 2], np.float32).tobytes()})
    p = cygrad.load(path)
    assert p.requires_grad and p.is_leaf
    np.testing.assert_array_equal(as_array(p), [1, 2])


def test_plain_pickle_containers_and_dtypes_load(tmp_path):
    """Optimizer-state-like pickles use only pickle's own types besides tensors; torch dtypes
    appear as globals and map to cygrad's."""
    state = {"state": {0: {"momentum_buffer": None, "step": 3.0}},
             "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99), "params": [0], "name": "group"}]}
    body = pickle.dumps(state, protocol=2)[2:-1]   # without PROTO and STOP
    body = (b"}" + op_str("opt") + body + b"s" + op_str("dtype") + op_global("torch", "float64")
            + b"s" + op_str("long") + op_global("torch", "long") + b"s")
    path = write_torch_zip(tmp_path / "o.pth", as_pickle(body))
    loaded = cygrad.load(path)
    assert_same_structure(loaded["opt"], state)
    assert loaded["dtype"] is cygrad.float64 and loaded["long"] is cygrad.int64


@pytest.mark.parametrize("storage_type, message", [
    ("HalfStorage", "torch.HalfStorage, whose dtype cygrad does not support"),
    ("ByteStorage", "torch.ByteStorage, whose dtype cygrad does not support"),
])
def test_a_storage_dtype_cygrad_lacks_gives_a_clear_error(tmp_path, storage_type, message):
    body = op_ordered_dict([("h", op_tensor(op_storage(storage_type, "0", 2), 0, (2,), (1,)))])
    path = write_torch_zip(tmp_path / "h.pth", as_pickle(body), {"0": b"\x00" * 4})
    with pytest.raises(CheckpointError, match=message):
        cygrad.load(path)


# ---------------------------------------------------------------------------------------------
# security: a pickle that would run code is refused before anything runs
# ---------------------------------------------------------------------------------------------

class RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class RunsEval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return eval, (f"open({str(self.marker)!r}, 'w').write('pwned')",)


class EvilOrderedDict(OrderedDict):
    """A 'subclass trick': looks like a state_dict, writes the marker when rebuilt."""
    marker = None

    def __setstate__(self, state):
        open(self.marker, "w").write("pwned")

    def __reduce__(self):
        return EvilOrderedDict, (), {"x": 1}, None, iter(self.items())


def evil_payloads(marker):
    EvilOrderedDict.marker = str(marker)
    evil = EvilOrderedDict()
    evil["w"] = 1.0
    shell_in_state_dict = as_pickle(op_ordered_dict([
        ("weight", op_tensor(op_storage("FloatStorage", "0", 1), 0, (1,), (1,))),
        ("payload", op_global("os", "system") + op_tuple(op_str(f"touch {marker}")) + b"R"),
    ]))
    command = op_str(f"touch {marker}")
    return {
        "os.system": (pickle.dumps(RunsShell(marker), protocol=2), "posix.system"),
        "os.system, protocol 4": (pickle.dumps(RunsShell(marker), protocol=4), "posix.system"),
        "builtins.eval": (pickle.dumps(RunsEval(marker), protocol=2), "__builtin__.eval"),
        "builtins.eval, protocol 4": (pickle.dumps(RunsEval(marker), protocol=4), "builtins.eval"),
        "subclass of OrderedDict": (pickle.dumps(evil, protocol=2),
                                    f"{EvilOrderedDict.__module__}.EvilOrderedDict"),
        "os.system after a tensor": (shell_in_state_dict, "os.system"),
        "INST opcode": (as_pickle(b"(" + command + b"ios\nsystem\n"), "os.system"),
        "OBJ opcode": (as_pickle(b"(" + op_global("os", "system") + command + b"o"), "os.system"),
        "a torch global outside the list": (
            as_pickle(op_global("torch", "load") + op_tuple(op_str(str(marker))) + b"R"),
            "torch.load"),
    }


@pytest.mark.parametrize("case", list(evil_payloads("m")))
def test_code_running_pickle_is_refused_and_never_runs(tmp_path, case):
    marker = tmp_path / "pwned"
    data_pkl, refused = evil_payloads(marker)[case]
    path = write_torch_zip(tmp_path / "evil.pth", data_pkl,
                           {"0": np.zeros(1, np.float32).tobytes()})
    with pytest.raises(UnpicklingError) as info:
        cygrad.load(path)
    message = str(info.value)
    assert f"refusing to load '{refused}'" in message
    assert "evil.pth" in message
    assert "a checkpoint may only contain tensors and plain containers" in message
    assert not marker.exists()
    assert isinstance(info.value, pickle.UnpicklingError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("case", ["os.system", "os.system, protocol 4", "builtins.eval",
                                  "builtins.eval, protocol 4", "subclass of OrderedDict",
                                  "INST opcode", "OBJ opcode"])
def test_the_payloads_do_run_under_plain_pickle(tmp_path, case):
    """The refusals above are meaningful: pickle.loads of the same bytes creates the marker."""
    marker = tmp_path / "pwned"
    pickle.loads(evil_payloads(marker)[case][0])
    assert marker.exists()


def test_build_cannot_modify_the_loaders_own_objects(tmp_path):
    """BUILD on a resolved global (pickle's way to set attributes) is refused, so a file cannot
    change the rebuild functions or storage types that later loads use."""
    for target in (op_global("torch._utils", "_rebuild_tensor_v2"),
                   op_global("torch", "FloatStorage")):
        body = target + op_tuple(b"N", b"}" + op_str("dtype") + op_str("evil") + b"s") + b"b"
        path = write_torch_zip(tmp_path / "build.pth", as_pickle(body))
        with pytest.raises(UnpicklingError, match="refusing to set state"):
            cygrad.load(path)
    data_pkl, records, expected = hand_built_state_dict()
    assert_same_structure(cygrad.load(write_torch_zip(tmp_path / "ok.pth", data_pkl, records)),
                          expected)


def test_a_leaked_marker_object_is_refused(tmp_path):
    """A global that the list allows but that is no value (a storage type, a rebuild function)
    cannot come out of load."""
    for body in (op_global("torch", "FloatStorage"),
                 op_global("torch._utils", "_rebuild_parameter"),
                 op_global("collections", "OrderedDict")):
        path = write_torch_zip(tmp_path / "leak.pth", as_pickle(b"]" + body + b"a"))
        with pytest.raises(CheckpointError, match="only tensors and plain containers"):
            cygrad.load(path)


@pytest.mark.parametrize("tensor_op, message", [
    (op_tensor(op_storage("FloatStorage", "0", 4), 2, (3,), (1,)), "reaches element 4"),
    (op_tensor(op_storage("FloatStorage", "0", 4), 0, (2, 2), (3, 1)), "reaches element 4"),
    (op_tensor(op_storage("FloatStorage", "0", 4), 0, (2,), (-1,)), "stride is -1"),
    (op_tensor(op_storage("FloatStorage", "0", 4), 0, (-2,), (1,)), "size is -2"),
    (op_tensor(op_storage("FloatStorage", "0", 4), 0, (2, 2), (1,)), "size and stride"),
    (op_tensor(op_storage("FloatStorage", "0", 9), 0, (2,), (1,)), "holds 16 bytes, expected 9"),
    (op_tensor(op_storage("FloatStorage", "7", 4), 0, (2,), (1,)), "'archive/data/7' is missing"),
    (op_tensor(op_str("not a storage"), 0, (2,), (1,)), "not on a storage"),
])
def test_a_tensor_outside_its_storage_is_refused(tmp_path, tensor_op, message):
    path = write_torch_zip(tmp_path / "bad.pth", as_pickle(op_ordered_dict([("t", tensor_op)])),
                           {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(CheckpointError, match=message):
        cygrad.load(path)


def test_a_reference_cycle_is_refused(tmp_path):
    body = b"]q\x00h\x00a"   # a list appended to itself
    with pytest.raises(CheckpointError, match="reference cycle"):
        cygrad.load(write_torch_zip(tmp_path / "cycle.pth", as_pickle(body)))


# ---------------------------------------------------------------------------------------------
# truncated and corrupt files
# ---------------------------------------------------------------------------------------------

def valid_files(tmp_path):
    data_pkl, records, _ = hand_built_state_dict()
    zipped = write_torch_zip(tmp_path / "m.pth", data_pkl, records).read_bytes()
    cygrad.save(optimizer_state_like(), tmp_path / "o.safetensors")
    return {"zip": zipped, "safetensors": (tmp_path / "o.safetensors").read_bytes()}


@pytest.mark.parametrize("kind", ["zip", "safetensors"])
def test_every_truncation_gives_a_clear_error(tmp_path, kind):
    data = valid_files(tmp_path)[kind]
    path = tmp_path / "cut"
    for length in sorted(set(range(0, len(data), 7)) | {len(data) // 2, len(data) - 1}):
        path.write_bytes(data[:length])
        with pytest.raises(CheckpointError):
            cygrad.load(path)


@pytest.mark.parametrize("kind", ["zip", "safetensors"])
def test_flipped_bytes_load_or_give_a_clear_error(tmp_path, kind):
    """Damage anywhere either goes unnoticed (a tensor's raw bytes) or raises CheckpointError:
    never another exception, a crash or a hang."""
    data = valid_files(tmp_path)[kind]
    rng = np.random.default_rng(0)
    path = tmp_path / "flipped"
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(damaged))
        try:
            cygrad.load(path)
        except CheckpointError:
            pass


def test_cut_in_half_zip(tmp_path):
    data = valid_files(tmp_path)["zip"]
    (tmp_path / "half.pth").write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match="half.pth is not a readable zip archive"):
        cygrad.load(tmp_path / "half.pth")


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"garbage bytes, not a checkpoint at all", "neither a safetensors file nor a PyTorch zip"),
    (b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.", "legacy"),
    (b"\xff" * 8 + b"{}", "header length .* exceeds the file size"),
    (struct.pack("<Q", 2) + b"{\"a\": 1}", "corrupt safetensors file"),
    (struct.pack("<Q", 7) + b"{\"a\":[]}", "corrupt safetensors file"),
])
def test_not_a_checkpoint(tmp_path, content, message):
    (tmp_path / "f").write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        cygrad.load(tmp_path / "f")


def test_safetensors_with_corrupted_header_length(tmp_path):
    cygrad.save(state_dict_like(), tmp_path / "sd.safetensors")
    data = bytearray((tmp_path / "sd.safetensors").read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    for wrong in (n - 1, n + 3, n // 2, 2**63):
        data[:8] = struct.pack("<Q", wrong)
        (tmp_path / "bad.safetensors").write_bytes(bytes(data))
        with pytest.raises(CheckpointError, match="bad.safetensors"):
            cygrad.load(tmp_path / "bad.safetensors")


@pytest.mark.parametrize("structure, message", [
    ("{not json", "corrupt cygrad structure metadata"),
    (json.dumps({"version": 99, "root": {"none": None}}), "newer cygrad"),
    (json.dumps({"version": 1, "root": {"tensor": "missing", "dtype": "float32"}}),
     "'missing' is described but not stored"),
    (json.dumps({"version": 1, "root": {"tensor": "w", "dtype": "int64"}}),
     "stored as float32 but described as int64"),
    (json.dumps({"version": 1, "root": {"tensor": "w", "dtype": "complex"}}),
     "corrupt cygrad structure metadata"),
    (json.dumps({"version": 1, "root": {"set": []}}), "unknown node kind 'set'"),
    (json.dumps({"version": 1, "root": {"int": "1"}}), "int node holds '1'"),
    (json.dumps({"version": 1, "root": {"dict": [[{"list": []}, {"none": None}]]}}),
     "corrupt cygrad structure metadata"),
    (json.dumps({"version": 1}), "corrupt cygrad structure metadata"),
    ("[" * 100000 + "]" * 100000, "corrupt cygrad structure metadata"),
])
def test_corrupt_structure_metadata(tmp_path, structure, message):
    from safetensors.numpy import save_file
    save_file({"w": np.ones(2, np.float32)}, str(tmp_path / "m.safetensors"),
              metadata={"cygrad": structure})
    with pytest.raises(CheckpointError, match=message):
        cygrad.load(tmp_path / "m.safetensors")


def test_zip_that_is_not_a_torch_checkpoint(tmp_path):
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        cygrad.load(tmp_path / "plain.zip")
    with zipfile.ZipFile(tmp_path / "script.pt", "w") as z:
        z.writestr("script/constants.pkl", b"")
        z.writestr("script/code/__torch__.py", b"")
    with pytest.raises(CheckpointError, match="TorchScript"):
        cygrad.load(tmp_path / "script.pt")


def test_corrupt_pickle_inside_a_valid_zip(tmp_path):
    data_pkl, records, _ = hand_built_state_dict()
    for damaged in (data_pkl[:len(data_pkl) // 2], b"\x80\x02\xff.", b"not a pickle"):
        path = write_torch_zip(tmp_path / "m.pth", damaged, records)
        with pytest.raises(CheckpointError, match="m.pth: corrupt PyTorch checkpoint"):
            cygrad.load(path)


# ---------------------------------------------------------------------------------------------
# against torch: files torch writes load with torch's values; cygrad's files load into torch
# ---------------------------------------------------------------------------------------------

def trained_torch_model(torch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):   # running stats, num_batches_tracked and Adam state become non-trivial
        optimizer.zero_grad()
        model(torch.randn(8, 5)).pow(2).mean().backward()
        optimizer.step()
    return model.eval(), optimizer


def cygrad_forward(sd, x):
    """The trained model's eval forward written with cygrad ops on the loaded state_dict."""
    h = x @ sd["0.weight"].t() + sd["0.bias"]
    h = (h - sd["1.running_mean"]) / cygrad.sqrt(sd["1.running_var"] + 1e-5) * sd["1.weight"] \
        + sd["1.bias"]
    return h @ sd["2.weight"].t() + sd["2.bias"]


def test_torch_state_dict_pth_loads_with_torch_values(tmp_path, torch):
    model, _ = trained_torch_model(torch)
    torch.save(model.state_dict(), tmp_path / "m.pth")
    ours = cygrad.load(tmp_path / "m.pth")
    theirs = torch.load(tmp_path / "m.pth", weights_only=True)
    assert type(ours) is OrderedDict and list(ours) == list(theirs)
    for key in theirs:
        assert_same_structure(ours[key], theirs[key].numpy())
    assert ours["1.num_batches_tracked"].dtype == cygrad.int64
    assert ours["1.num_batches_tracked"].item() == 3
    x = np.random.default_rng(1).standard_normal((6, 5)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.tensor(x)).numpy()
    np.testing.assert_allclose(as_array(cygrad_forward(ours, cygrad.tensor(x))), expected,
                               rtol=1e-5, atol=1e-6)


def test_torch_views_and_shared_storages(tmp_path, torch):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    obj = OrderedDict([
        ("base", base), ("transposed", base.t()), ("column", base[:, 2]),
        ("block", base[1:3, ::2]), ("expanded", torch.ones(3).expand(2, 3)),
        ("permuted", torch.randn(2, 3, 4).permute(2, 0, 1)),
        ("ints", torch.tensor([[1, 2], [3, 4]], dtype=torch.int32).t()),
        ("mask", torch.tensor([True, False])), ("scalar", torch.tensor(1.5)),
        ("empty", torch.zeros(0, 3)), ("long0d", torch.tensor(9)),
    ])
    torch.save(obj, tmp_path / "views.pth")
    ours = cygrad.load(tmp_path / "views.pth")
    for key, t in obj.items():
        assert_same_structure(ours[key], t.contiguous().numpy())
        assert ours[key].dtype.name == str(t.dtype).split(".")[-1]


def test_torch_parameter_and_optimizer_state(tmp_path, torch):
    model, optimizer = trained_torch_model(torch)
    torch.save({"param": model[0].weight, "optimizer": optimizer.state_dict()},
               tmp_path / "o.pth")
    ours = cygrad.load(tmp_path / "o.pth")
    assert ours["param"].requires_grad
    np.testing.assert_array_equal(as_array(ours["param"]), model[0].weight.detach().numpy())

    def to_numpy(obj):
        if isinstance(obj, torch.Tensor):
            return obj.detach().numpy()
        if isinstance(obj, dict):
            return type(obj)((k, to_numpy(v)) for k, v in obj.items())
        if isinstance(obj, (list, tuple)):
            return type(obj)(to_numpy(v) for v in obj)
        return obj
    assert_same_structure(ours["optimizer"], to_numpy(optimizer.state_dict()))


def test_torch_half_tensor_gives_a_clear_error(tmp_path, torch):
    torch.save({"h": torch.ones(2, dtype=torch.float16)}, tmp_path / "h.pth")
    with pytest.raises(CheckpointError, match="HalfStorage, whose dtype cygrad does not support"):
        cygrad.load(tmp_path / "h.pth")


def test_truncated_torch_file(tmp_path, torch):
    model, _ = trained_torch_model(torch)
    torch.save(model.state_dict(), tmp_path / "m.pth")
    data = (tmp_path / "m.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pth is not a readable zip archive"):
        cygrad.load(tmp_path / "cut.pth")


def test_torch_safetensors_file_loads(tmp_path, torch):
    from safetensors.torch import save_file
    model, _ = trained_torch_model(torch)
    save_file(model.state_dict(), str(tmp_path / "m.safetensors"))
    ours = cygrad.load(tmp_path / "m.safetensors")
    for key, t in model.state_dict().items():
        assert_same_structure(ours[key], t.numpy())
    x = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.tensor(x)).numpy()
    np.testing.assert_allclose(as_array(cygrad_forward(ours, cygrad.tensor(x))), expected,
                               rtol=1e-5, atol=1e-6)


def test_cygrad_checkpoint_loads_into_torch(tmp_path, torch):
    from safetensors.torch import load_file
    model, _ = trained_torch_model(torch)
    sd = OrderedDict((k, cygrad.tensor(v.numpy())) for k, v in model.state_dict().items())
    cygrad.save(sd, tmp_path / "c.safetensors")
    fresh = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 3)).eval()
    fresh.load_state_dict(load_file(str(tmp_path / "c.safetensors")), strict=True)
    x = torch.randn(4, 5)
    with torch.no_grad():
        np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())
    assert fresh[1].num_batches_tracked.item() == 3


def _mlp(nn):
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))


@pytest.mark.parametrize("fmt", ["pth", "safetensors"])
def test_torch_checkpoint_loads_into_the_same_cygrad_model(fmt, tmp_path):
    torch = pytest.importorskip("torch")
    theirs = _mlp(torch.nn)
    theirs(torch.randn(8, 4))  # running statistics and num_batches_tracked move
    theirs.eval()
    path = tmp_path / f"model.{fmt}"
    if fmt == "pth":
        torch.save(theirs.state_dict(), path)
    else:
        from safetensors.torch import save_file
        save_file(theirs.state_dict(), str(path))
    ours = _mlp(cygrad.nn)
    ours.load_state_dict(cygrad.load(str(path)))
    ours.eval()
    data = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(cygrad.tensor(data)).detach().numpy(),
                               theirs(torch.tensor(data)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_cygrad_checkpoint_loads_into_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    ours = _mlp(cygrad.nn)
    ours(cygrad.randn(8, 4))
    ours.eval()
    path = tmp_path / "model.safetensors"
    cygrad.save(ours.state_dict(), str(path))
    theirs = _mlp(torch.nn)
    theirs.load_state_dict(load_file(str(path)))
    theirs.eval()
    data = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(cygrad.tensor(data)).detach().numpy(),
                               theirs(torch.tensor(data)).detach().numpy(), rtol=1e-5, atol=1e-6)
