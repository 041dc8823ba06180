"""Interleaved timing: the libraries of one case take turns, round after round.

On a small, noisy machine, timing library A for ten seconds and then library B for ten seconds
puts any slow spell (another process, frequency change) on one library only. Here every round
times one batch of each library, in a rotating order, and the summary is the median (and the
minimum) over rounds -- never the mean, which one preempted batch would drag.
"""
import gc
import os
import statistics
import threading
from dataclasses import dataclass
from time import perf_counter, process_time, sleep

try:
    from time import clock_gettime_ns
except ImportError:  # Windows
    clock_gettime_ns = None


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


def _thread_cpu_clock(tid):
    """Linux's CPU-time clock id of thread `tid` of this process (MAKE_THREAD_CPUCLOCK in the
    kernel's posix-timers.h: per-thread, scheduler clock); readable for any thread of the
    calling process."""
    return ((~tid) << 3) | 4 | 2


def _other_threads_cpu_ns():
    """CPU nanoseconds used so far by this process's threads other than the calling one, or None
    where that cannot be read (not Linux)."""
    if clock_gettime_ns is None:
        return None
    own = threading.get_native_id()
    total = 0
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except (OSError, AttributeError):
        return None
    for tid in tids:
        if tid == own:
            continue
        try:
            total += clock_gettime_ns(_thread_cpu_clock(tid))
        except OSError:  # the thread ended between listdir and the read
            continue
    return total


def wait_for_idle_threads(window_s=0.005, busy_fraction=0.1, timeout_s=0.5):
    """Returns once the process's other threads used under `busy_fraction` of a CPU for a whole
    `window_s` (or after `timeout_s`).

    Thread pools keep spinning after a call in the hope of another one: OpenBLAS's workers for
    about 0.1 s, torch's OpenMP workers for about 10 ms, cygrad's for 200 us. A library timed
    while another's workers still spin shares its cores with them (OpenBLAS's leftover spin
    halved cygrad's 2-thread sgemm on this 2-core machine), which measures the previous library,
    not this one. So every batch starts with the other pools asleep, as in a program that uses
    one library."""
    deadline = perf_counter() + timeout_s
    before = _other_threads_cpu_ns()
    while before is not None and perf_counter() < deadline:
        sleep(window_s)
        after = _other_threads_cpu_ns()
        if after is None or after - before < busy_fraction * window_s * 1e9:
            return
        before = after


def time_interleaved(fns, rounds=15, min_batch_s=0.2, warmup=2, clock=perf_counter):
    """Times each callable of `fns` ({label: fn}) in `rounds` interleaved rounds.

    Returns {label: Timing}. Every callable is first called `warmup` times (caches, allocator,
    lazy imports), then calibrated to a batch size, then the rounds run with the order rotated
    each round so no library always goes first. Every batch waits for the other libraries'
    thread pools to stop spinning first (wait_for_idle_threads)."""
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
        numbers = {}
        for label in labels:
            wait_for_idle_threads()
            numbers[label] = calibrate(fns[label], min_batch_s, clock=clock)
        samples = {label: [] for label in labels}
        for r in range(rounds):
            k = r % len(labels)
            for label in labels[k:] + labels[:k]:
                wait_for_idle_threads()
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
