"""Interleaved timing: the libraries of one case take turns, round after round.

On a small, noisy machine, timing library A for ten seconds and then library B for ten seconds
puts any slow spell (another process, frequency change) on one library only. Here every round
times one batch of each library, in a rotating order, and the summary is the median (and the
minimum) over rounds -- never the mean, which one preempted batch would drag.
"""
import gc
import os
import statistics
from dataclasses import dataclass
from time import perf_counter, process_time


@dataclass
class Timing:
    number: int          # calls per batch
    samples: list        # seconds per call, one per round

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def min(self):
        return min(self.samples)


def time_batch(fn, number, clock=perf_counter):
    """Seconds for `number` back-to-back calls of fn. gc stays on (it is part of the real cost),
    but starts each batch empty. `clock` is perf_counter except in the gate's own tests."""
    gc.collect()
    start = clock()
    for _ in range(number):
        fn()
    return clock() - start


def calibrate(fn, min_batch_s, max_number=1_000_000, clock=perf_counter):
    """A call count whose batch lasts at least min_batch_s (aiming about 20% past it)."""
    number = 1
    while True:
        elapsed = time_batch(fn, number, clock)
        if elapsed >= min_batch_s or number >= max_number:
            return number
        # aim a little past the target, at least doubling
        guess = int(number * 1.2 * min_batch_s / max(elapsed, 1e-9))
        number = min(max_number, max(2 * number, guess))


def time_interleaved(fns, rounds=15, min_batch_s=0.2, warmup=2, clock=perf_counter):
    """Times each callable of `fns` ({label: fn}) in `rounds` interleaved rounds.

    Returns {label: Timing}. Every callable is first called `warmup` times (caches, allocator,
    lazy imports), then calibrated to a batch size, then the rounds run with the order rotated
    each round so no library always goes first."""
    labels = list(fns)
    for label in labels:
        for _ in range(warmup):
            fns[label]()
    # Everything alive now (modules, inputs) is frozen out of the collector's reach: each batch's
    # gc.collect() then scans only what the timed calls left, not torch's ~170,000 objects
    # (hundreds of ms a batch otherwise).
    gc.collect()
    gc.freeze()
    try:
        numbers = {label: calibrate(fns[label], min_batch_s, clock=clock) for label in labels}
        samples = {label: [] for label in labels}
        for r in range(rounds):
            k = r % len(labels)
            for label in labels[k:] + labels[:k]:
                samples[label].append(time_batch(fns[label], numbers[label], clock)
                                      / numbers[label])
    finally:
        gc.unfreeze()
    return {label: Timing(numbers[label], samples[label]) for label in labels}


def _machine_busy_s():
    """CPU seconds all processes have spent (user, nice, system, irq, softirq, steal), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class BackgroundLoad:
    """How many CPUs other processes kept busy while the block ran (None off Linux):
        with BackgroundLoad() as load: ...;  load.cpus
    On a 2-core machine, one busy neighbour halves torch's thread pool; the report flags it."""

    def __enter__(self):
        self._start = (_machine_busy_s(), process_time(), perf_counter())
        self.cpus = None
        return self

    def __exit__(self, *exc):
        busy0, own0, wall0 = self._start
        busy1, own1, wall1 = _machine_busy_s(), process_time(), perf_counter()
        if busy0 is not None and busy1 is not None and wall1 > wall0:
            self.cpus = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))
        return False
