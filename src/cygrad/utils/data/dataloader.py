"""DataLoader: batches of a dataset, optionally shuffled by cygrad's default generator (so
cygrad.manual_seed makes the order reproducible)."""
import numpy as np

from cygrad import _core
from cygrad.random import numpy_generator


def default_collate(samples):
    """A batch from a list of samples: tensors are stacked along a new first dimension, numbers
    become a tensor, and tuples/lists/dicts are collated element by element."""
    first = samples[0]
    if isinstance(first, _core.TensorBase):
        return _core.stack(list(samples), 0).detach()
    if isinstance(first, (bool, int, float)):
        from cygrad.creation import tensor
        return tensor(samples, dtype=_core.float64 if isinstance(first, float) and not isinstance(first, bool) else None)
    if isinstance(first, np.ndarray):
        return _core._from_array(np.stack(samples))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(column)) for column in zip(*samples)) \
            if isinstance(first, tuple) else [default_collate(list(column)) for column in zip(*samples)]
    return samples


class DataLoader:
    """Iterates over a dataset in batches of batch_size (the last one smaller unless drop_last)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, num_workers=0, **_ignored):
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator = generator

    def _order(self):
        count = len(self.dataset)
        if self.shuffle:
            return numpy_generator(self.generator).permutation(count).tolist()
        return list(range(count))

    def __iter__(self):
        order = self._order()
        if self.batch_size is None:
            for index in order:
                yield self.dataset[index]
            return
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        count = len(self.dataset)
        if self.batch_size is None:
            return count
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
