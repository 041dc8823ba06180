"""cygrad.Size: a tensor's shape, a tuple of ints (torch.Size)."""


class Size(tuple):
    def numel(self):
        count = 1
        for dim in self:
            count *= dim
        return count

    def __repr__(self):
        return f"cygrad.Size({list(self)})"

    def __getitem__(self, key):
        item = super().__getitem__(key)
        return Size(item) if isinstance(key, slice) else item
