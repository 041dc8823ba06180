"""nn.Parameter: a tensor that a Module registers as one of its parameters."""
from cygrad import _core
from cygrad.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with requires_grad=True by default, sharing `data`'s storage."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from cygrad.creation import empty
            data = empty(0)
        return _core._make_subclass(cls, data.detach(), requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        raise TypeError("cygrad tensors are saved with cygrad.save (safetensors), not pickled")
