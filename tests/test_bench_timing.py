"""The benchmark's timing helpers: a batch starts only once other thread pools stop spinning."""
import sys
import threading
from time import perf_counter, sleep

import pytest

from cygrad.bench import timing

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="per-thread CPU clocks are read the Linux way")


def _spin_in_thread(seconds):
    """A thread that burns CPU for `seconds`, as a BLAS pool's worker does after a call."""
    started = threading.Event()

    def spin():
        started.set()
        end = perf_counter() + seconds
        while perf_counter() < end:
            pass

    thread = threading.Thread(target=spin)
    thread.start()
    started.wait()
    return thread


def test_other_threads_cpu_time_grows_while_one_spins():
    before = timing._other_threads_cpu_ns()
    thread = _spin_in_thread(0.2)
    sleep(0.1)  # a thread's CPU time is counted while it lives: read it before the join
    grown = timing._other_threads_cpu_ns() - before
    thread.join()
    assert grown >= 0.03e9


def test_waits_until_a_spinning_thread_stops():
    spin_s = 0.15
    start = perf_counter()
    thread = _spin_in_thread(spin_s)
    timing.wait_for_idle_threads(timeout_s=2.0)
    waited = perf_counter() - start
    assert not thread.is_alive() or waited >= spin_s * 0.9
    thread.join()
    assert waited >= spin_s * 0.9


def test_returns_at_once_when_nothing_spins():
    start = perf_counter()
    timing.wait_for_idle_threads(window_s=0.005, timeout_s=2.0)
    assert perf_counter() - start < 1.0
