"""cygrad's benchmarks: cygrad against torch (and numpy where it applies), libraries interleaved.

    python -m cygrad.bench [--quick] [--filter WORD] [--threads N] [--json PATH] [--plot PATH]
    python -m cygrad.bench --gate               # the regression gate (.ci/run runs it)
    python -m cygrad.bench --update-baseline    # rewrites benchmarks/baseline.json, on purpose

The cases live in cygrad.bench.cases (also used by benchmarks/ under pytest-benchmark), the
timing in cygrad.bench.timing, thread counts in cygrad.bench.threads, the header and tables in
cygrad.bench.report, the bar chart in cygrad.bench.plot. The regression gate: cygrad.bench.gate
(same-run time ratios), cygrad.bench.counts (callgrind instruction counts), cygrad.bench.baseline
(the committed floors). torch is optional: without it the torch column reads n/a.
`python -m cygrad.bench.statements` times the tiny loop statement by statement (where the
per-step overhead goes).
"""
import importlib
from time import perf_counter

from cygrad.bench.cases import CASES, LIBRARIES, Case, as_numpy, case, select
from cygrad.bench.report import header_lines, load_notes, machine_info, progress, ratio, \
    table_lines
from cygrad.bench.threads import available_cpus, library_threads
from cygrad.bench.timing import BackgroundLoad, Timing, time_interleaved

__all__ = ["CASES", "LIBRARIES", "Case", "as_numpy", "case", "select", "load_libraries",
           "run_cases", "time_case", "row_threads", "BackgroundLoad", "Timing",
           "time_interleaved", "machine_info", "header_lines", "table_lines", "load_notes",
           "ratio"]

FULL = {"rounds": 11, "min_batch_s": 0.1, "warmup": 2}
QUICK = {"rounds": 3, "min_batch_s": 0.01, "warmup": 1}


def load_libraries(names=LIBRARIES):
    """{name: module}, with None for a library that is not installed."""
    libs = {}
    for name in names:
        try:
            libs[name] = importlib.import_module(name)
        except ImportError:
            libs[name] = None
    return libs


def row_threads(case, threads):
    """The thread counts a case is timed at: the run's, and 1 too for the thread-sweep cases."""
    return sorted({threads, 1}) if case.thread_sweep else [threads]


def time_case(case, libs, threads, rounds, min_batch_s, warmup=2, clock=perf_counter):
    """Times one case interleaved across `libs` ({name: module}; the libraries it applies to),
    every library on `threads` threads. Returns ({lib: Timing}, CPUs kept busy by others)."""
    with library_threads(libs, threads):
        fns = {lib: case.setup(lib, module) for lib, module in libs.items()
               if lib in case.libs and module is not None}
        with BackgroundLoad() as load:
            timings = time_interleaved(fns, rounds=rounds, min_batch_s=min_batch_s,
                                       warmup=warmup, clock=clock)
    return timings, load.cpus


def run_cases(cases, libs, rounds=FULL["rounds"], min_batch_s=FULL["min_batch_s"],
              warmup=FULL["warmup"], threads=None):
    """Times every case with every library it applies to, at `threads` threads (default: the
    CPUs this process may use) and, for thread-sweep cases, at 1 too. Returns one dict per
    (case, threads) with the per-unit median and minimum per library (seconds), GF/s where the
    case counts flops, and the raw per-call samples."""
    threads = threads or available_cpus()
    rows = [(c, t) for c in cases for t in row_threads(c, threads)]
    results = []
    for i, (c, t) in enumerate(rows, 1):
        names = [lib for lib in c.libs if libs.get(lib) is not None]
        progress(f"[cygrad.bench {i}/{len(rows)}] {c.name}, {t} thread{'s' * (t > 1)}: "
                 f"{', '.join(names)} x {rounds} rounds")
        timings, busy = time_case(c, libs, t, rounds, min_batch_s, warmup)
        median = {lib: tm.median / c.per for lib, tm in timings.items()}
        results.append({
            "case": c.name,
            "doc": c.doc,
            "unit": c.unit,
            "per": c.per,
            "threads": t,
            "median": median,
            "min": {lib: tm.min / c.per for lib, tm in timings.items()},
            "gflops": {lib: c.flops / m / 1e9 for lib, m in median.items()} if c.flops else None,
            "other_cpus_busy": busy,
            "calls_per_batch": {lib: tm.number for lib, tm in timings.items()},
            "samples_per_call": {lib: tm.samples for lib, tm in timings.items()},
        })
        del timings  # free the large inputs before the next case
    return results
