"""cygrad.save / cygrad.load: checkpoints that never unpickle untrusted code.

cygrad writes one safetensors file (through the `safetensors` package's numpy API): the tensors are
the file's entries, and everything else (which containers are dicts, OrderedDicts, lists or tuples,
int or str keys, plain numbers and strings, each tensor's cygrad dtype) is a JSON description in
the file's string metadata. A flat state_dict keeps its keys as the entry names, so torch's
`safetensors.torch.load_file` reads a cygrad checkpoint as the same state_dict.

`load` also reads what `torch.save(model.state_dict(), "m.pth")` writes (a zip holding a pickle
and one raw entry per storage), without torch and without running code from the file: a
restricted unpickler resolves only the few globals a state_dict pickle names, each to cygrad's own
inert reconstruction, and refuses every other global before anything is called.
"""
import io
import json
import math
import os
import pickle
import sys
import zipfile
from collections import OrderedDict

import numpy as np

from cygrad import _core
from cygrad.tensor import device

__all__ = ["save", "load", "CheckpointError", "UnpicklingError"]

FORMAT_VERSION = 1
_STRUCTURE_KEY = "cygrad"      # metadata entry holding the JSON structure
_SAFETENSORS_RESERVED = "__metadata__"
_ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(ValueError):
    """A file that is not a checkpoint cygrad can read: unknown format, truncated or corrupt."""


class UnpicklingError(CheckpointError, pickle.UnpicklingError):
    """A PyTorch checkpoint whose pickle asks for something other than tensors and containers."""


def _safetensors_numpy():
    try:
        import safetensors.numpy
    except ImportError:  # declared as a dependency; this only helps a broken environment
        raise ImportError("cygrad.save/cygrad.load need the 'safetensors' package "
                          "(pip install safetensors)") from None
    return safetensors.numpy


def _source_name(f):
    if hasattr(f, "read") or hasattr(f, "write"):
        return str(getattr(f, "name", "<file object>"))
    return os.fspath(f)


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------

def save(obj, f):
    """Write obj (a tensor, or dicts/OrderedDicts/lists/tuples of tensors, str, int, float, bool
    and None) to f (a path or a binary file object) as one safetensors file. No pickle.

    A tensor that appears twice (the same object) is stored once and loads as one object; tensors
    are stored contiguous, so separate views of one storage load as separate tensors."""
    encoder = _Encoder(flat=_is_flat_state_dict(obj))
    structure = {"version": FORMAT_VERSION, "root": encoder.encode(obj, ())}
    metadata = {"format": "pt", _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}
    st = _safetensors_numpy()
    if hasattr(f, "write"):
        f.write(st.save(encoder.arrays, metadata=metadata))
    else:
        st.save_file(encoder.arrays, os.fspath(f), metadata=metadata)


def _is_flat_state_dict(obj):
    return (isinstance(obj, dict) and all(type(k) is str for k in obj)
            and all(isinstance(v, _core.TensorBase) for v in obj.values()))


def _escape(component):
    """One path component, with '\\' and '.' escaped so that joined paths stay unambiguous."""
    return str(component).replace("\\", "\\\\").replace(".", "\\.")


class _Encoder:
    """Turns a structure into a JSON-able description plus the {entry name: array} to write.

    An entry name is the tensor's path (e.g. 'state.0.exp_avg'); in a flat state_dict it is the
    key itself. Names only need to be unique: load finds each tensor through the description."""

    def __init__(self, flat):
        self.flat = flat
        self.arrays = {}
        self._names = {_SAFETENSORS_RESERVED}   # safetensors keeps this name for its metadata
        self._by_tensor = {}                    # id(tensor) -> entry name (shared tensors once)
        self._active = set()                    # containers being encoded (cycle detection)

    def encode(self, obj, path):
        if isinstance(obj, _core.TensorBase):
            return self._tensor(obj, path)
        if obj is None:
            return {"none": None}
        if isinstance(obj, (bool, np.bool_)):
            return {"bool": bool(obj)}
        if isinstance(obj, (int, np.integer)):
            return {"int": int(obj)}
        if isinstance(obj, (float, np.floating)):
            value = float(obj)
            # JSON has no NaN/Infinity; those are written as strings
            return {"float": value if math.isfinite(value) else repr(value)}
        if isinstance(obj, str):
            return {"str": obj}
        kind = _CONTAINER_KINDS.get(type(obj))
        if kind is None:
            raise TypeError(
                f"cygrad.save cannot store an object of type {type(obj).__name__} (at "
                f"{'.'.join(map(str, path)) or 'the top level'}): only tensors, dict, OrderedDict, "
                "list, tuple, str, int, float, bool and None")
        if id(obj) in self._active:
            raise ValueError("cygrad.save cannot store a structure that contains itself")
        self._active.add(id(obj))
        if kind in ("dict", "odict"):
            items = [[self._key(k, path), self.encode(v, path + (k,))] for k, v in obj.items()]
        else:
            items = [self.encode(v, path + (i,)) for i, v in enumerate(obj)]
        self._active.discard(id(obj))
        return {kind: items}

    def _key(self, key, path):
        if not _is_plain_key(key):
            raise TypeError(f"cygrad.save cannot store a dict key of type {type(key).__name__}: "
                            "keys must be str, int, float, bool, None or tuples of those")
        return self.encode(key, path)

    def _tensor(self, t, path):
        name = self._by_tensor.get(id(t))
        if name is None:
            if self.flat:
                preferred = path[0]
            else:
                preferred = ".".join(_escape(c) for c in path)
            name = preferred
            suffix = 0
            while name in self._names:   # e.g. int key 0 beside str key '0'
                suffix += 1
                name = f"{preferred}#{suffix}"
            self._names.add(name)
            self._by_tensor[id(t)] = name
            # contiguous; np.asarray keeps 0-d arrays 0-d (np.ascontiguousarray would not)
            self.arrays[name] = np.asarray(t._host_array(), order="C")   # GPU tensors: a host copy
        node = {"tensor": name, "dtype": t.dtype.name}
        if t.requires_grad:
            node["requires_grad"] = True
        return node


_CONTAINER_KINDS = {dict: "dict", OrderedDict: "odict", list: "list", tuple: "tuple"}


def _is_plain_key(key):
    if isinstance(key, tuple):
        return all(_is_plain_key(part) for part in key)
    return key is None or isinstance(key, (str, int, float))   # bool is an int


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------

def load(f, map_location=None, *, weights_only=True):
    """Read a checkpoint written by cygrad.save, any safetensors file, or a PyTorch zip checkpoint
    (torch.save of tensors and plain containers, e.g. a state_dict).

    Tensors load on the CPU, or on the device map_location names ('cuda', 'cuda:1', a
    cygrad.device); loading is always weights-only (weights_only=False does not enable arbitrary
    unpickling)."""
    target = None
    if isinstance(map_location, (str, device)):
        target = device(map_location)
        if target.type == "cuda":
            from cygrad import cuda
            cuda.init()          # the clear error now, when CUDA is not available
    result = _load(f)
    return result if target is None or target.type == "cpu" else _to_device(result, target)


def _to_device(obj, target):
    """obj (loaded tensors in plain containers) with every tensor moved to target."""
    if isinstance(obj, _core.TensorBase):   # a leaf stays a leaf
        return obj.detach().to(target).requires_grad_(obj.requires_grad)
    if isinstance(obj, dict):
        moved = type(obj)()
        for key, value in obj.items():
            moved[key] = _to_device(value, target)
        return moved
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(value, target) for value in obj)
    return obj


def _load(f):
    name = _source_name(f)
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open(f, "rb") as file:
            data = file.read()
    if not data:
        raise CheckpointError(f"{name} is empty")
    if data.startswith(_ZIP_MAGIC):
        return _load_torch_zip(data, name)
    if len(data) >= 9 and data[8:9] == b"{":
        return _load_safetensors(data, name)
    if data[:2] == b"\x80\x02":
        raise CheckpointError(
            f"{name} is a legacy (pre-1.6, non-zip) PyTorch checkpoint, which cygrad does not "
            "support; re-save it with a current torch.save (the zip format)")
    raise CheckpointError(f"{name} is neither a safetensors file nor a PyTorch zip checkpoint")


# ----- safetensors ----------------------------------------------------------------------------

def _load_safetensors(data, name):
    header_length = int.from_bytes(data[:8], "little")
    if header_length > len(data) - 8:
        raise CheckpointError(f"{name}: corrupt safetensors file: the header length "
                              f"({header_length} bytes) exceeds the file size ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + header_length])
        arrays = _safetensors_numpy().load(data)
    except Exception as e:   # json's and safetensors' errors for a damaged header or payload
        raise CheckpointError(f"{name}: corrupt safetensors file: {e}") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{name}: corrupt safetensors file: the header is not a JSON object")
    metadata = header.get(_SAFETENSORS_RESERVED) or {}
    structure = metadata.get(_STRUCTURE_KEY) if isinstance(metadata, dict) else None
    if structure is None:
        # written by another tool (e.g. safetensors.torch.save_file): a flat dict of tensors
        return {key: _tensor_from_array(array, f"{name}: tensor {key!r}")
                for key, array in arrays.items()}
    try:
        structure = json.loads(structure)
        if structure.get("version") != FORMAT_VERSION:
            raise CheckpointError(f"{name} was written by a newer cygrad (format version "
                                  f"{structure.get('version')!r}); upgrade cygrad to read it")
        return _Decoder(arrays, name).decode(structure["root"])
    except CheckpointError:
        raise
    except Exception as e:   # a damaged description: wrong node shapes, missing fields
        raise CheckpointError(f"{name}: corrupt cygrad structure metadata: "
                              f"{type(e).__name__}: {e}") from e


def _tensor_from_array(array, what, requires_grad=False):
    """A cygrad tensor owning a copy of array (or array itself when it is owned, aligned and
    contiguous already); `what` names the tensor in the error for a dtype cygrad lacks."""
    if array.dtype not in _SUPPORTED_NUMPY_DTYPES:
        raise CheckpointError(f"{what} has dtype {array.dtype}, which cygrad does not support "
                              f"{_SUPPORTED}")
    return _core._from_array(np.require(array, requirements="CAWO"), requires_grad)


_SUPPORTED_NUMPY_DTYPES = tuple(d.numpy_dtype for d in (_core.float32, _core.float64, _core.int64,
                                                        _core.int32, _core.bool_))
_SUPPORTED = "(float32, float64, int64, int32, bool)"


class _Decoder:
    """Rebuilds a structure from its JSON description and the file's arrays."""

    def __init__(self, arrays, name):
        self.arrays = arrays
        self.name = name
        self._tensors = {}   # entry name -> tensor, so a tensor saved once loads as one object

    def decode(self, node):
        if isinstance(node, dict) and "tensor" in node:   # + dtype (and requires_grad)
            return self._tensor(node)
        if not isinstance(node, dict) or len(node) != 1:
            raise CheckpointError(f"{self.name}: corrupt cygrad structure metadata: bad node "
                                  f"{node!r:.80}")
        (kind, value), = node.items()
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            if type(value) is not {"bool": bool, "int": int, "str": str}[kind]:
                raise CheckpointError(f"{self.name}: corrupt cygrad structure metadata: "
                                      f"{kind} node holds {value!r:.80}")
            return value
        if kind == "float":
            return float(value)   # finite numbers, or 'nan' / 'inf' / '-inf'
        if kind == "list":
            return [self.decode(v) for v in value]
        if kind == "tuple":
            return tuple(self.decode(v) for v in value)
        if kind in ("dict", "odict"):
            container = OrderedDict() if kind == "odict" else {}
            for key, item in value:
                container[self.decode(key)] = self.decode(item)
            return container
        raise CheckpointError(f"{self.name}: corrupt cygrad structure metadata: unknown node "
                              f"kind {kind!r:.80}")

    def _tensor(self, node):
        key = node["tensor"]
        tensor = self._tensors.get(key)
        if tensor is not None:
            return tensor
        if key not in self.arrays:
            raise CheckpointError(f"{self.name}: corrupt checkpoint: tensor {key!r} is described "
                                  "but not stored")
        dtype = _core._dtype_by_name(node["dtype"])
        array = self.arrays[key]
        if array.dtype != dtype.numpy_dtype:
            raise CheckpointError(f"{self.name}: corrupt checkpoint: tensor {key!r} is stored as "
                                  f"{array.dtype} but described as {dtype.name}")
        tensor = _tensor_from_array(array, f"{self.name}: tensor {key!r}",
                                    node.get("requires_grad", False) is True)
        self._tensors[key] = tensor
        return tensor


# ----- PyTorch zip checkpoints ----------------------------------------------------------------

def _load_torch_zip(data, name):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except Exception as e:   # zipfile's errors for a damaged directory vary (BadZipFile, ...)
        raise CheckpointError(f"{name} is not a readable zip archive (truncated or corrupt): "
                              f"{e}") from e
    # torch writes every record under one top-level folder named after the file
    pickles = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(pickles) != 1:
        if any(n.endswith("/constants.pkl") for n in names):
            raise CheckpointError(f"{name} is a TorchScript archive (torch.jit.save), not a "
                                  "torch.save checkpoint; cygrad cannot load it")
        raise CheckpointError(f"{name} is a zip archive but not a PyTorch checkpoint "
                              "(no <archive>/data.pkl record)")
    prefix = pickles[0][:-len("data.pkl")]
    try:
        byteorder = archive.read(prefix + "byteorder") if prefix + "byteorder" in names \
            else b"little"   # torch's default for files written before the record existed
        if byteorder not in (b"little", b"big"):
            raise CheckpointError("corrupt PyTorch checkpoint: unknown byte order "
                                  f"{byteorder!r:.40}")
        unpickler = _RestrictedUnpickler(io.BytesIO(archive.read(pickles[0])), archive, prefix,
                                         byteorder.decode())
        return _Finisher().finish(unpickler.load())
    except CheckpointError as e:   # cygrad's own message; say which file
        raise type(e)(f"{name}: {e}") from None
    except Exception as e:   # any failure of a damaged pickle or archive, reported as such
        raise CheckpointError(f"{name}: corrupt PyTorch checkpoint: {type(e).__name__}: "
                              f"{e}") from e


class _Inert:
    """Base of everything the restricted unpickler hands to the pickle machine: slotted, and a
    pickle BUILD on it (which could otherwise set attributes) is refused."""
    __slots__ = ()

    def __setstate__(self, state):
        raise UnpicklingError(f"refusing to set state on {self!r}: a checkpoint may only contain "
                              "tensors and plain containers")


class _StorageType(_Inert):
    """Stands for torch.FloatStorage etc.: names the element type of a storage record."""
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype   # a numpy dtype, or None when cygrad has no such element type

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage(_Inert):
    """One storage record of the archive, as a flat numpy array in native byte order."""
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


class _LoadedTensor(_Inert):
    """A tensor rebuilt from a storage; turned into a cygrad tensor once the pickle is done."""
    __slots__ = ("array", "requires_grad")

    def __init__(self, array, requires_grad):
        self.array = array
        self.requires_grad = requires_grad

    def __repr__(self):
        return "a tensor"


class _UnsupportedDtype(_Inert):
    """Stands for a torch dtype cygrad does not have (torch.float16, ...)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


class _Rebuild(_Inert):
    """One of torch._utils' rebuild functions, mapped to cygrad's own implementation."""
    __slots__ = ("qualname", "function")

    def __init__(self, qualname, function):
        self.qualname = qualname
        self.function = function

    def __call__(self, *args):
        return self.function(*args)

    def __repr__(self):
        return self.qualname


# torch storage classes -> numpy element type (None: cygrad has no such dtype)
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
    "IntStorage": np.int32, "BoolStorage": np.bool_, "UntypedStorage": np.uint8,
    "HalfStorage": None, "BFloat16Storage": None, "ByteStorage": None, "CharStorage": None,
    "ShortStorage": None, "ComplexFloatStorage": None, "ComplexDoubleStorage": None,
}
_TORCH_DTYPES = {
    "float32": _core.float32, "float": _core.float32, "float64": _core.float64,
    "double": _core.float64, "int64": _core.int64, "long": _core.int64, "int32": _core.int32,
    "int": _core.int32, "bool": _core.bool_,
}
_UNSUPPORTED_TORCH_DTYPES = (
    "float16", "half", "bfloat16", "uint8", "int8", "int16", "short", "uint16", "uint32",
    "uint64", "complex32", "chalf", "complex64", "cfloat", "complex128", "cdouble",
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
)
_ITEMSIZE_OF_UNSUPPORTED_STORAGE = {
    "HalfStorage": 2, "BFloat16Storage": 2, "ByteStorage": 1, "CharStorage": 1, "ShortStorage": 2,
    "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16,
}


def _index(value, what):
    """value as a non-negative int, or a clear error (bool is not accepted as an int here)."""
    if type(value) is not int or value < 0:
        raise CheckpointError(f"corrupt PyTorch checkpoint: {what} is {value!r:.40}")
    return value


def _view(storage, offset, size, stride, dtype):
    """A contiguous, owned copy of the strided view a tensor is of its storage; every index is
    checked against the storage's length before numpy is asked for the view."""
    if not isinstance(storage, _Storage):
        raise CheckpointError(f"corrupt PyTorch checkpoint: a tensor is built on {storage!r:.60}, "
                              "not on a storage")
    if not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride):
        raise CheckpointError("corrupt PyTorch checkpoint: a tensor's size and stride do not match")
    offset = _index(offset, "a storage offset")
    size = tuple(_index(s, "a tensor size") for s in size)
    stride = tuple(_index(s, "a tensor stride") for s in stride)
    flat = storage.array if dtype is None else storage.array.view(dtype)
    if 0 in size:
        return np.empty(size, dtype=flat.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= flat.size:
        raise CheckpointError(f"corrupt PyTorch checkpoint: a tensor reaches element {last} of a "
                              f"storage of {flat.size} elements")
    view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size,
                                           strides=tuple(s * flat.itemsize for s in stride),
                                           writeable=False)
    return np.array(view, order="C")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    # backward hooks are not serialized by torch (an empty OrderedDict) and metadata holds flags
    # of tensor kinds cygrad does not have (conj/neg bits), so both are ignored
    return _LoadedTensor(_view(storage, storage_offset, size, stride, None), requires_grad is True)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    # torch uses v3 (an untyped byte storage plus a dtype) for its newer dtypes only
    if not isinstance(dtype, _core.DType):
        raise CheckpointError(f"a tensor has dtype {dtype!r:.40}, which cygrad does not "
                              f"support {_SUPPORTED}")
    return _LoadedTensor(_view(storage, storage_offset, size, stride, dtype.numpy_dtype),
                         requires_grad is True)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    if not isinstance(data, _LoadedTensor):
        raise CheckpointError(f"corrupt PyTorch checkpoint: a Parameter wraps {data!r:.60}")
    data.requires_grad = requires_grad is True
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals of a tensor/state_dict pickle, each to an inert cygrad object."""

    def __init__(self, file, archive, prefix, byteorder):
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix
        self._swap = byteorder != sys.byteorder
        self._storages = {}   # record key -> _Storage (tensors on one storage share the record)

    def find_class(self, module, name):
        found = self._allowed(module, name)
        if found is None:
            raise UnpicklingError(f"refusing to load '{module}.{name}': a checkpoint may only "
                                  "contain tensors and plain containers")
        return found

    @staticmethod
    def _allowed(module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils":
            function = {"_rebuild_tensor_v2": _rebuild_tensor_v2,
                        "_rebuild_tensor_v3": _rebuild_tensor_v3,
                        "_rebuild_parameter": _rebuild_parameter,
                        "_rebuild_parameter_with_state": _rebuild_parameter}.get(name)
            return None if function is None else _Rebuild(f"{module}.{name}", function)
        if module == "torch":
            if name in _STORAGE_DTYPES:
                dtype = _STORAGE_DTYPES[name]
                return _StorageType(name, None if dtype is None else np.dtype(dtype))
            if name in _TORCH_DTYPES:
                return _TORCH_DTYPES[name]
            if name in _UNSUPPORTED_TORCH_DTYPES:
                return _UnsupportedDtype(name)
        return None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] in ("storage", b"storage")):
            raise CheckpointError(f"corrupt PyTorch checkpoint: unknown persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid   # location: every tensor loads on the CPU
        if isinstance(key, bytes):
            key = key.decode("ascii")
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str):
            raise CheckpointError(f"corrupt PyTorch checkpoint: bad storage reference {pid!r:.80}")
        if storage_type.dtype is None:
            raise CheckpointError(f"a tensor is stored as torch.{storage_type.name}, whose dtype "
                                  f"cygrad does not support {_SUPPORTED}")
        storage = self._storages.get(key)
        if storage is None:
            storage = _Storage(self._read_storage(storage_type.dtype, key,
                                                  _index(numel, "a storage size")))
            self._storages[key] = storage
        return storage

    def _read_storage(self, dtype, key, numel):
        record = f"{self._prefix}data/{key}"
        try:
            info = self._archive.getinfo(record)
        except KeyError:
            raise CheckpointError(f"corrupt PyTorch checkpoint: storage record {record!r} is "
                                  "missing") from None
        if info.file_size != numel * dtype.itemsize:   # checked before anything is read
            raise CheckpointError(f"corrupt PyTorch checkpoint: storage record {record!r} holds "
                                  f"{info.file_size} bytes, expected {numel} x {dtype.itemsize}")
        array = np.frombuffer(self._archive.read(record), dtype=dtype)
        if self._swap:
            array = array.byteswap()
        return array


class _Finisher:
    """Walks what the unpickler built: turns loaded tensors into cygrad tensors and accepts only
    plain containers and values (an inert marker that escaped into the result is refused)."""

    _LEAVES = (str, bytes, int, float, complex, type(None), _core.DType)

    def __init__(self):
        self._done = {}       # id -> finished object (shared objects stay shared)
        self._active = set()  # ids being finished (cycle detection)
        self._keep = []       # originals whose ids are in _done, kept alive while walking

    def finish(self, obj):
        if isinstance(obj, self._LEAVES):   # bool is an int
            return obj
        if id(obj) in self._done:
            return self._done[id(obj)]
        if id(obj) in self._active:
            raise CheckpointError("the checkpoint contains a reference cycle")
        self._active.add(id(obj))
        kind = type(obj)
        if kind is _LoadedTensor:
            result = _tensor_from_array(obj.array, "a tensor", obj.requires_grad)
        elif kind is dict or kind is OrderedDict:
            for key in obj:
                self._check_key(key)
            for key, value in obj.items():
                obj[key] = self.finish(value)
            if kind is OrderedDict:   # torch's state_dict carries a `_metadata` attribute
                for attr, value in vars(obj).items():
                    setattr(obj, attr, self.finish(value))
            result = obj
        elif kind is list:
            obj[:] = [self.finish(v) for v in obj]
            result = obj
        elif kind is tuple:
            result = tuple(self.finish(v) for v in obj)
        elif kind is set or kind is frozenset:
            for value in obj:
                self._check_key(value)
            result = obj
        else:
            raise CheckpointError(f"the checkpoint contains {obj!r:.60} (of type "
                                  f"{kind.__name__}) where only tensors and plain containers "
                                  "may be")
        self._active.discard(id(obj))
        self._done[id(obj)] = result
        self._keep.append(obj)
        return result

    def _check_key(self, key):
        if isinstance(key, tuple):
            for part in key:
                self._check_key(part)
        elif not isinstance(key, self._LEAVES):
            raise CheckpointError(f"the checkpoint has a dict key or set element of type "
                                  f"{type(key).__name__}")
