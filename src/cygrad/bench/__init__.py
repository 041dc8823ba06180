"""cygrad's benchmarks: cygrad against torch (and numpy where it applies), libraries interleaved.

    python -m cygrad.bench [--quick] [--filter WORD] [--json PATH]

The cases live in cygrad.bench.cases (also used by benchmarks/ under pytest-benchmark), the
timing in cygrad.bench.timing, the header and table in cygrad.bench.report. torch is optional:
without it the torch column reads n/a. `python -m cygrad.bench.statements` times the tiny loop
statement by statement (where the per-step overhead goes).
"""
import importlib

from cygrad.bench.cases import CASES, LIBRARIES, Case, as_numpy, case, select
from cygrad.bench.report import header_lines, load_notes, machine_info, progress, ratio, \
    table_lines
from cygrad.bench.timing import BackgroundLoad, Timing, time_interleaved

__all__ = ["CASES", "LIBRARIES", "Case", "as_numpy", "case", "select", "load_libraries",
           "run_cases", "BackgroundLoad", "Timing", "time_interleaved", "machine_info",
           "header_lines", "table_lines", "load_notes", "ratio"]

FULL = {"rounds": 21, "min_batch_s": 0.2}
QUICK = {"rounds": 5, "min_batch_s": 0.02}


def load_libraries(names=LIBRARIES):
    """{name: module}, with None for a library that is not installed."""
    libs = {}
    for name in names:
        try:
            libs[name] = importlib.import_module(name)
        except ImportError:
            libs[name] = None
    return libs


def run_cases(cases, libs, rounds=FULL["rounds"], min_batch_s=FULL["min_batch_s"]):
    """Times every case with every library it applies to; returns one dict per case with the
    per-unit median and minimum per library (seconds) and the raw per-call samples."""
    results = []
    for c in cases:
        fns = {lib: c.setup(lib, module) for lib, module in libs.items()
               if lib in c.libs and module is not None}
        progress(f"[cygrad.bench] {c.name}: {', '.join(fns)} x {rounds} rounds")
        with BackgroundLoad() as load:
            timings = time_interleaved(fns, rounds=rounds, min_batch_s=min_batch_s)
        results.append({
            "case": c.name,
            "doc": c.doc,
            "unit": c.unit,
            "per": c.per,
            "median": {lib: t.median / c.per for lib, t in timings.items()},
            "min": {lib: t.min / c.per for lib, t in timings.items()},
            "other_cpus_busy": load.cpus,
            "calls_per_batch": {lib: t.number for lib, t in timings.items()},
            "samples_per_call": {lib: t.samples for lib, t in timings.items()},
        })
        del fns, timings  # free the 1M-element inputs before the next case
    return results
