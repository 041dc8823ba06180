"""The cygrad.bench cases under pytest-benchmark: one group per case, cygrad and torch side by side.

    pytest benchmarks/                                  # timings (one library after the other)
    pytest benchmarks/ --benchmark-disable -q           # smoke test: each case runs once, checked

The cases themselves live in cygrad.bench.cases (shared with `python -m cygrad.bench`, which
interleaves the libraries and is the one to quote numbers from on a noisy machine). torch's
cases skip when torch is not installed.
"""
import numpy as np
import pytest

from cygrad.bench import CASES, as_numpy, load_libraries

LIBS = load_libraries()

# float32 results against float64 references (the chain's gradients have many near-zero entries)
TOLERANCE = {"tiny-loop": dict(rtol=1e-5, atol=1e-6),
             "chain-1M-fwd": dict(rtol=1e-4, atol=0),
             "chain-1M-fwd-bwd": dict(rtol=1e-4, atol=1e-6),
             "index-rows-fwd-bwd": dict(rtol=1e-5, atol=1e-5),
             "activations-1M-fwd-bwd": dict(rtol=1e-4, atol=1e-10),
             "mlp-step-b64": dict(rtol=1e-5, atol=0),
             "mlp-step-b512": dict(rtol=1e-5, atol=0)}


def _params():
    for name, case in CASES.items():
        for lib in case.libs:
            yield pytest.param(name, lib, id=f"{name}-{lib}",
                               marks=pytest.mark.benchmark(group=name))


@pytest.mark.parametrize("name, lib", list(_params()))
def test_case(benchmark, name, lib):
    module = LIBS[lib]
    if module is None:
        pytest.skip(f"{lib} is not installed")
    case = CASES[name]
    fn = case.setup(lib, module)
    benchmark.extra_info.update(per=case.per, unit=case.unit)
    result = benchmark(fn)
    np.testing.assert_allclose(as_numpy(result), case.reference(), **TOLERANCE[name])


def test_every_case_has_a_tolerance_and_reference():
    for name, case in CASES.items():
        assert name in TOLERANCE and case.reference is not None, name
