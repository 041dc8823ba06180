"""The default random generator: numpy's PCG64, reseeded by cygrad.manual_seed.

cygrad's random streams are reproducible under manual_seed but are not torch's streams (torch's
Mersenne Twister transforms are not part of its API contract)."""
import numpy as np

# torch's default CPU seed, so that an unseeded program is reproducible as in torch
DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers (torch.Generator)."""

    def __init__(self, device="cpu"):
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self.numpy = np.random.Generator(np.random.PCG64(seed & (2**128 - 1)))
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        return self.manual_seed(np.random.SeedSequence().entropy % 2**63)._seed


default_generator = Generator()


def manual_seed(seed):
    """Seeds the default generator; every random function's stream restarts from it."""
    return default_generator.manual_seed(seed)


def initial_seed():
    return default_generator.initial_seed()


def seed():
    return default_generator.seed()


def numpy_generator(generator=None):
    return (generator or default_generator).numpy
