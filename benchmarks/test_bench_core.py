"""The cygrad.bench cases under pytest-benchmark: one group per case and thread count, cygrad,
torch and numpy side by side.

    pytest benchmarks/                                  # timings (one library after the other)
    pytest benchmarks/ --benchmark-disable -q           # smoke test: each case runs once, checked

The cases themselves live in cygrad.bench.cases (shared with `python -m cygrad.bench`, which
interleaves the libraries and is the one to quote numbers from on a noisy machine). Every result
is checked against the case's float64 reference, so a fast wrong answer fails. torch's cases skip
when torch is not installed. The thread-sweep cases (sgemm) are timed on 1 thread and on the CPUs
available; the smoke test runs them once, on the CPUs available (the threaded path).
"""
import functools

import numpy as np
import pytest

from cygrad.bench import CASES, as_numpy, load_libraries, row_threads
from cygrad.bench.threads import available_cpus, library_threads

LIBS = load_libraries()
THREADS = available_cpus()


@functools.lru_cache(maxsize=4)
def _reference(name):
    return CASES[name].reference()


def _params(smoke):
    for name, case in CASES.items():
        # a smoke run checks each case once: the sweep's largest thread count (the threaded path)
        counts = row_threads(case, THREADS)[-1:] if smoke else row_threads(case, THREADS)
        for threads in counts:
            suffix = f"-{threads}t" if case.thread_sweep else ""
            for lib in case.libs:
                yield pytest.param(name, lib, threads, id=f"{name}{suffix}-{lib}",
                                   marks=pytest.mark.benchmark(group=f"{name}{suffix}"))


def pytest_generate_tests(metafunc):
    if metafunc.function is test_case:
        smoke = metafunc.config.getoption("benchmark_disable", False)
        metafunc.parametrize("name, lib, threads", list(_params(smoke)))


def test_case(benchmark, name, lib, threads):
    module = LIBS[lib]
    if module is None:
        pytest.skip(f"{lib} is not installed")
    case = CASES[name]
    with library_threads({lib: module}, threads):
        fn = case.setup(lib, module)
        benchmark.extra_info.update(per=case.per, unit=case.unit, threads=threads)
        result = benchmark(fn)
    np.testing.assert_allclose(as_numpy(result), _reference(name), **case.tolerance)


def test_every_case_has_a_tolerance_and_reference():
    for name, case in CASES.items():
        assert case.tolerance is not None and case.reference is not None, name
