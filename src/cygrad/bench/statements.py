"""Per-statement breakdown of the tiny loop: where does one training step spend its time?

    python -m cygrad.bench.statements [--runs N]

Runs the tutorial loop (cygrad.bench.cases.tiny_loop) with a perf_counter_ns() reading between
statements, cygrad and torch alternating run by run, and prints the median time of each
statement (timer overhead subtracted). The loop body is split as finely as Python allows:

    t = x * w; u = t - y; l = u ** 2; l.backward();
    no_grad().__enter__(); g = w.grad; s = 0.01 * g; w -= s; no_grad().__exit__();
    w.grad (read); .zero_(); del l, u, t (frees the step's graph)

The sum of the medians is close to, not exactly, the per-step median of the whole loop.
"""
import argparse
import statistics
from time import perf_counter_ns

from cygrad.bench import load_libraries
from cygrad.bench.cases import TINY_EPOCHS, TINY_LR, TINY_XS, TINY_YS

STATEMENTS = (
    "x * w", "- y", "** 2", "l.backward()",
    "no_grad() enter", "w.grad (1st read)", "0.01 * grad", "w -= ...", "no_grad() exit",
    "w.grad (2nd read)", ".zero_()", "del l (free graph)",
)


def timer_overhead_ns(n=20001):
    gaps = []
    for _ in range(n):
        a = perf_counter_ns()
        b = perf_counter_ns()
        gaps.append(b - a)
    return statistics.median(gaps)


def instrumented_run(T, out):
    """One full tiny-loop run; appends the raw ns of each statement of each step to out[i]."""
    Tensor, no_grad, clock = T.Tensor, T.no_grad, perf_counter_ns
    w = Tensor([1.0])
    w.requires_grad = True
    for _ in range(TINY_EPOCHS):
        for x, y in zip(TINY_XS, TINY_YS):
            c0 = clock(); t = x * w
            c1 = clock(); u = t - y
            c2 = clock(); l = u ** 2
            c3 = clock(); l.backward()
            c4 = clock(); ctx = no_grad(); ctx.__enter__()
            c5 = clock(); g = w.grad
            c6 = clock(); s = TINY_LR * g
            c7 = clock(); w -= s
            c8 = clock(); ctx.__exit__(None, None, None)
            c9 = clock(); g2 = w.grad
            c10 = clock(); g2.zero_()
            c11 = clock(); del l, u, t
            c12 = clock()
            del g, s, g2, ctx
            marks = (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12)
            for i in range(len(STATEMENTS)):
                out[i].append(marks[i + 1] - marks[i])


def breakdown(libs, runs=200):
    """{lib: [median ns per statement]} with the timer overhead subtracted."""
    raw = {lib: [[] for _ in STATEMENTS] for lib in libs}
    for lib, T in libs.items():          # warm up
        instrumented_run(T, [[] for _ in STATEMENTS])
    for _ in range(runs):
        for lib, T in libs.items():
            instrumented_run(T, raw[lib])
    overhead = timer_overhead_ns()
    return {lib: [max(statistics.median(v) - overhead, 0) for v in per] for lib, per in raw.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cygrad.bench.statements", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="tiny-loop runs per library")
    args = parser.parse_args(argv)
    libs = {k: v for k, v in load_libraries(("cygrad", "torch")).items() if v is not None}
    result = breakdown(libs, args.runs)
    names = list(result)
    head = ["statement", *(f"{lib} µs" for lib in names)]
    head += ["cygrad/torch"] if len(names) == 2 else []
    rows = []
    totals = {lib: sum(v) for lib, v in result.items()}
    for i, stmt in enumerate(STATEMENTS):
        row = [stmt] + [f"{result[lib][i] / 1e3:.2f}" for lib in names]
        if len(names) == 2:
            t = result["torch"][i]
            row.append(f"{result['cygrad'][i] / t:.2f}×" if t else "n/a")
        rows.append(row)
    total = ["sum (per step)"] + [f"{totals[lib] / 1e3:.2f}" for lib in names]
    if len(names) == 2:
        total.append(f"{totals['cygrad'] / totals['torch']:.2f}×")
    rows.append(total)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))))
    print("\nshare of cygrad's step:", ", ".join(
        f"{STATEMENTS[i]} {100 * v / totals['cygrad']:.0f}%"
        for i, v in sorted(enumerate(result["cygrad"]), key=lambda p: -p[1])[:5]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
