"""The performance-regression gate (`python -m cygrad.bench --gate`, run by .ci/run).

Two signals that a busy machine does not move, against benchmarks/baseline.json:

1. Time ratios (this module). For each GATED case, cygrad and the reference library are timed
   interleaved in this process, both on 1 thread (2-thread timings swing wildly when a
   neighbour takes a core), in CPU time (process_time: the time spent waiting for a core on a
   busy machine counts for neither side), and ratio = cygrad's median / the reference's. On a
   machine with a baseline entry a case fails when its ratio exceeds floor x (1 +
   RATIO_TOLERANCE), after one re-run of that case (both runs over).
   Ratios depend on the CPU (OpenBLAS and MKL pick kernels per CPU; AVX-512 changes both sides),
   so floors are kept per machine. A machine without an entry (a fresh CI runner) is gated only
   against sanity limits, SANITY_FACTOR x the largest floor any known machine has for the case:
   loose enough that a different CPU cannot fail it, tight enough to catch a kernel that fell
   off its fast path. The strict signal on such a machine is the next one.
2. Instruction counts of the C kernels under callgrind (cygrad.bench.counts): deterministic and
   CPU-independent; a case fails when its kernels' count grows by more than COUNT_TOLERANCE.
   Keyed by toolchain (compiler, libc); skipped, with the reason printed, where valgrind is
   missing or the toolchain has no entry.

`--update-baseline` measures both and rewrites this machine's and this toolchain's entries.
"""
from time import process_time

from cygrad.bench import baseline as baseline_file
from cygrad.bench import counts as counts_signal
from cygrad.bench.cases import CASES
from cygrad.bench.threads import numpy_threads_settable
from cygrad.bench.timing import BackgroundLoad

RATIO_TOLERANCE = 0.15   # a ratio may be 15% above its floor (interleaved medians move ~5% here)
COUNT_TOLERANCE = 0.03   # a case's kernels may run 3% more instructions
SANITY_FACTOR = 3.0      # on a machine without floors: 3x the largest known floor
MIN_KERNEL_IR = 10_000   # kernels below this many instructions are gated only through the total
GATE_THREADS = 1
SETTINGS = {"rounds": 11, "min_batch_s": 0.05, "warmup": 2}
# --update-baseline takes the least favourable of 5 interleaved measurements as the floor: on a
# shared machine a ratio moves 10-30% from run to run (neighbours' cache and memory traffic hit
# the two libraries unequally), and a quiet CI machine must not fail on that
UPDATE_RUNS = 5

# (case, reference library): the Python overhead of a training step and of a loss, elementwise
# kernels and vector math in cache (64K), GEMMs small to large and an MLP shape. No 4M-element
# case: on a shared machine a neighbour's memory traffic slows the memory-bound side alone (the
# ratio of tanh-4M moved 2x between runs here); the instruction counts cover those kernels.
GATED = (
    ("tiny-loop", "torch"),
    ("chain-64K-fwd-bwd", "torch"),
    ("sigmoid-64K-fwd-bwd", "torch"),
    ("tanh-64K-fwd-bwd", "torch"),
    ("gemm-256", "numpy"),
    ("gemm-1024", "numpy"),
    ("gemm-mlp1-fwd", "numpy"),
    ("xent-64x10-fwd-bwd", "torch"),
    ("mlp-step-b64", "torch"),
)


def gated_cases():
    return [(CASES[name], reference) for name, reference in GATED]


def measure_ratio(case, reference, libs, settings=SETTINGS, clock=process_time):
    """cygrad's median over the reference's, both timed interleaved on GATE_THREADS threads."""
    from cygrad.bench import time_case
    pair = {lib: libs[lib] for lib in ("cygrad", reference)}
    timings, _ = time_case(case, pair, GATE_THREADS, clock=clock, **settings)
    return timings["cygrad"].median / timings[reference].median


def skip_reason(reference, libs):
    if libs.get("cygrad") is None:
        return "cygrad not importable"
    if libs.get(reference) is None:
        return f"{reference} not installed"
    if reference == "numpy" and not numpy_threads_settable():
        return "threadpoolctl not installed: numpy's BLAS threads cannot be set to 1"
    return None


def known_floors(timing_entries):
    """{case: the largest floor any machine has}: the sanity limits' base."""
    floors = {}
    for entry in timing_entries.values():
        for name, c in entry.get("cases", {}).items():
            floors[name] = max(floors.get(name, 0.0), c["ratio"])
    return floors


def check_timing(gated, libs, entry, known, settings=SETTINGS, clock=process_time):
    """Gates each (case, reference): against this machine's floor in `entry` (None: no entry),
    else against SANITY_FACTOR x known[case]. Returns (ok, rows); a row is a dict with case,
    reference, floor, limit, ratio, rerun, verdict."""
    rows = []
    for case, reference in gated:
        row = {"case": case.name, "reference": reference, "floor": None, "limit": None,
               "ratio": None, "rerun": None}
        rows.append(row)
        reason = skip_reason(reference, libs)
        if reason:
            row["verdict"] = f"skipped: {reason}"
            continue
        mine = (entry or {}).get("cases", {}).get(case.name)
        if mine is not None and mine["reference"] == reference:
            row["floor"] = mine["ratio"]
            row["limit"] = mine["ratio"] * (1 + RATIO_TOLERANCE)
        elif case.name in known:
            row["limit"] = SANITY_FACTOR * known[case.name]
        row["ratio"] = measure_ratio(case, reference, libs, settings, clock)
        if row["limit"] is None:
            row["verdict"] = "not gated: no floor on any machine"
        elif row["ratio"] <= row["limit"]:
            row["verdict"] = "ok"
        else:
            # the second opinion takes twice the rounds: a more precise median
            rerun_settings = {**settings, "rounds": 2 * settings["rounds"]}
            row["rerun"] = measure_ratio(case, reference, libs, rerun_settings, clock)
            row["verdict"] = "ok on re-run" if row["rerun"] <= row["limit"] else "FAIL"
    return all(r["verdict"] != "FAIL" for r in rows), rows


def timing_floors(gated, libs, settings=SETTINGS, clock=process_time, runs=UPDATE_RUNS):
    """{case: {"reference", "ratio", "runs"}} for --update-baseline: the largest (least
    favourable) of `runs` interleaved measurements per case (cases whose reference is
    unavailable are left out)."""
    floors = {}
    for case, reference in gated:
        if skip_reason(reference, libs):
            continue
        ratios = [measure_ratio(case, reference, libs, settings, clock) for _ in range(runs)]
        floors[case.name] = {"reference": reference, "ratio": round(max(ratios), 4),
                             "runs": [round(r, 4) for r in ratios]}
    return floors


# ---- reports ----

def _fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


def timing_lines(key, entry, rows):
    lines = ["signal 1: time ratios, cygrad's median / the reference's, both on 1 thread, "
             f"interleaved ({SETTINGS['rounds']} rounds)",
             f"machine: {key}"]
    if entry is not None:
        lines.append(f"  floors measured on this machine {entry.get('date')} (commit "
                     f"{entry.get('commit')}); a case fails above floor x "
                     f"{1 + RATIO_TOLERANCE:.2f} after one re-run")
    else:
        lines.append(f"  no floors for this machine in the baseline: gated only against sanity "
                     f"limits ({SANITY_FACTOR:g}x the largest floor of the known machines); "
                     f"the instruction counts are the strict signal here")
    head = ("case", "reference", "floor", "limit", "ratio", "re-run", "verdict")
    table = [head] + [(r["case"], r["reference"], _fmt(r["floor"]), _fmt(r["limit"]),
                       _fmt(r["ratio"]), _fmt(r["rerun"]), r["verdict"]) for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(len(head))]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(t, widths)) for t in table]
    return lines


def counts_lines(key, entry, rows, skipped):
    lines = ["signal 2: instructions executed in cygrad's C kernels under callgrind, 1 thread",
             f"toolchain: {key}"]
    if entry is not None:
        lines.append(f"  counts taken {entry.get('date')} (commit {entry.get('commit')}); a case "
                     f"fails when its count, or one of its kernels' (>= {MIN_KERNEL_IR} "
                     f"instructions), grows by more than {COUNT_TOLERANCE:.0%}")
    for path, reason in skipped.items():
        lines.append(f"  {path} path skipped: {reason}")
    head = ("path", "case", "kernel", "baseline", "now", "change", "verdict")
    table = [head] + [(p, c, k, _fmt(b, ","), _fmt(n, ","),
                       "-" if ch is None else f"{ch:+.2%}", v)
                      for p, c, k, b, n, ch, v in rows]
    widths = [max(len(t[i]) for t in table) for i in range(len(head))]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(t, widths)) for t in table]
    return lines


# ---- the two commands ----

def run_gate(path, libs, info, signals=("timing", "counts"), out=print):
    """Runs the gate and prints its report; returns the exit status (0 pass, 1 fail)."""
    data = baseline_file.load(path)
    failures = []
    out(f"cygrad regression gate against {path}")
    if "timing" in signals:
        key = baseline_file.machine_key(info)
        entry = data["timing"].get(key)
        with BackgroundLoad() as load:
            ok, rows = check_timing(gated_cases(), libs, entry, known_floors(data["timing"]))
        for line in timing_lines(key, entry, rows):
            out(line)
        if not ok and load.cpus is not None and load.cpus >= 0.5:
            out(f"  note: other processes kept {load.cpus:.1f} CPUs busy meanwhile; on a busy "
                f"machine a ratio can move 10-30%: run the gate again when it is quiet")
        failures += [f"time ratio of {r['case']}" for r in rows if r["verdict"] == "FAIL"]
    if "counts" in signals:
        key = baseline_file.toolchain_key(baseline_file.toolchain())
        entry = data["counts"].get(key)
        try:
            current, skipped = counts_signal.measure()
        except counts_signal.CountsUnavailable as e:
            out(f"signal 2: instruction counts skipped: {e}")
        except counts_signal.CountsFailed as e:
            out(f"signal 2: instruction counts FAILED: {e}")
            failures.append("instruction-count workload")
        else:
            if entry is None:
                known = ", ".join(data["counts"]) or "none"
                out(f"signal 2: instruction counts not gated: the baseline has no entry for the "
                    f"toolchain {key} (it has: {known}); counts now: " + ", ".join(
                        f"{p} {sum(sum(k.values()) for k in c.values()):,}"
                        for p, c in current.items()))
                for p, reason in skipped.items():
                    out(f"  {p} path skipped: {reason}")
            else:
                rows = counts_signal.compare(entry["paths"], current, COUNT_TOLERANCE,
                                             MIN_KERNEL_IR)
                for line in counts_lines(key, entry, rows, skipped):
                    out(line)
                failures += [f"instructions of {p}/{c}" + ("" if k == "(case total)" else f"/{k}")
                             for p, c, k, *_, v in rows if v == "FAIL"]
    if failures:
        out(f"gate: FAIL ({len(failures)}): {', '.join(failures)}")
        out("  A FAIL is a slowdown against the committed baseline. If it is intended (a new "
            "kernel, a trade-off), run `python -m cygrad.bench --update-baseline` on the "
            "development machine and commit benchmarks/baseline.json with the change.")
        return 1
    out("gate: PASS")
    return 0


def update_baseline(path, libs, info, signals=("timing", "counts"), out=print):
    """Measures both signals and rewrites this machine's and this toolchain's entries of the
    baseline at path (other machines' entries are kept). Counts are taken twice and must agree.
    Returns the exit status."""
    data = baseline_file.load(path)
    if "timing" in signals:
        key = baseline_file.machine_key(info)
        out(f"timing floors for {key}: {UPDATE_RUNS} interleaved runs per case")
        with BackgroundLoad() as load:
            floors = timing_floors(gated_cases(), libs)
        if load.cpus is not None and load.cpus >= 0.5:
            out(f"  warning: other processes kept {load.cpus:.1f} CPUs busy meanwhile; floors "
                f"taken on a busy machine can sit off the quiet ones: rerun when it is quiet")
        data["timing"][key] = {**baseline_file.stamp(), "machine": info,
                               "settings": {**SETTINGS, "threads": GATE_THREADS},
                               "cases": floors}
        for name, f in floors.items():
            out(f"  {name} vs {f['reference']}: {f['ratio']:.3f} (runs {f['runs']})")
    if "counts" in signals:
        tc = baseline_file.toolchain()
        key = baseline_file.toolchain_key(tc)
        out(f"instruction counts for {key}: the workload twice per path")
        try:
            first, skipped = counts_signal.measure()
            second, _ = counts_signal.measure()
        except (counts_signal.CountsUnavailable, counts_signal.CountsFailed) as e:
            out(f"  counts not updated: {e}")
            return 1
        if first != second:
            diff = counts_signal.compare({p: {"cases": c} for p, c in first.items()}, second,
                                         0.0, 0)
            out("  counts not updated: two runs disagree, so they cannot gate:")
            for path_, case, kernel, before, now, *_ in diff:
                if before != now:
                    out(f"    {path_} {case} {kernel}: {before} then {now}")
            return 1
        for p, reason in skipped.items():
            out(f"  {p} path skipped: {reason}")
        data["counts"][key] = {**baseline_file.stamp(), "toolchain": tc,
                               "valgrind": counts_signal.valgrind_version(),
                               "paths": {p: {"cases": c} for p, c in first.items()}}
        for p, c in first.items():
            out(f"  {p}: {sum(sum(k.values()) for k in c.values()):,} instructions "
                f"in {len(c)} cases (two runs agree)")
    baseline_file.save(path, data)
    out(f"wrote {path}: review the diff and commit it")
    return 0
