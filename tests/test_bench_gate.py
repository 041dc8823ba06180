"""The regression gate (cygrad.bench.gate, cygrad.bench.counts): an injected 1.3x slowdown fails
it, an unchanged build passes.

No verdict here can flip on a noisy machine. The exact tests run the gate's real machinery
(calibration, interleaved rounds, medians, limits, the re-run) on a virtual clock that only the
cases advance. The real-clock test times a real case's cygrad callable against itself in CPU
time, the slowed side spinning after each call for 0.3x that call's own CPU time: the factor
holds call by call whatever else the machine runs, and 1.3 sits far from the 1.15 limit.
"""
import json
from time import process_time

import cygrad
from cygrad.bench import CASES, baseline, counts, gate
from cygrad.bench.cases import Case

FLOOR = 0.8   # the virtual cases: cygrad 0.8 ms a call, the reference 1 ms


class VirtualClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds

    def wait_until(self, t):
        self.now = max(self.now, t)


def spin_until(t):
    while process_time() < t:
        pass


def slowed(fn, factor, clock, wait_until):
    """fn taking `factor` times as long: after each call, waits (factor - 1) x that call's time."""
    def run():
        start = clock()
        result = fn()
        wait_until(start + factor * (clock() - start))
        return result
    return run


class FakeLibrary:
    """What the gate's thread setting needs from a library."""
    threads = 2

    def set_num_threads(self, n):
        self.threads = n

    def get_num_threads(self):
        return self.threads


def virtual_case(clock, slow_factor=None, slow_measurements=None):
    """cygrad 0.8 ms and torch 1 ms a call on `clock`; cygrad slowed by slow_factor in the first
    `slow_measurements` measurements (all of them when None)."""
    measurements = []

    def setup(lib, module):
        cost = FLOOR * 1e-3 if lib == "cygrad" else 1e-3

        def run():
            clock.advance(cost)
        if lib == "cygrad":
            measurements.append(1)
            slow_now = slow_measurements is None or len(measurements) <= slow_measurements
            if slow_factor and slow_now:
                return slowed(run, slow_factor, clock, clock.wait_until)
        return run
    return Case(name="virtual", setup=setup)


LIBS = {"cygrad": FakeLibrary(), "torch": FakeLibrary()}
SETTINGS = {"rounds": 5, "min_batch_s": 0.01, "warmup": 1}
ENTRY = {"cases": {"virtual": {"reference": "torch", "ratio": FLOOR}}}


def check(case, entry=ENTRY, known=None, clock=None):
    return gate.check_timing([(case, "torch")], LIBS, entry, known or {}, SETTINGS, clock)


def test_unchanged_build_passes():
    clock = VirtualClock()
    ok, [row] = check(virtual_case(clock), clock=clock)
    assert ok and row["verdict"] == "ok" and abs(row["ratio"] - FLOOR) < 1e-9
    assert row["rerun"] is None


def test_slowdown_of_1_3x_fails_after_one_rerun():
    clock = VirtualClock()
    ok, [row] = check(virtual_case(clock, slow_factor=1.3), clock=clock)
    assert not ok and row["verdict"] == "FAIL"
    assert abs(row["ratio"] - 1.3 * FLOOR) < 1e-9 and abs(row["rerun"] - 1.3 * FLOOR) < 1e-9


def test_slowdown_in_one_measurement_only_passes_on_rerun():
    clock = VirtualClock()
    ok, [row] = check(virtual_case(clock, slow_factor=1.3, slow_measurements=1), clock=clock)
    assert ok and row["verdict"] == "ok on re-run"


def test_slowdown_within_tolerance_passes():
    clock = VirtualClock()
    ok, [row] = check(virtual_case(clock, slow_factor=1.1), clock=clock)
    assert ok and row["verdict"] == "ok"


def test_machine_without_floors_is_held_to_sanity_limits_only():
    clock = VirtualClock()
    known = {"virtual": FLOOR}   # another machine's floor
    ok, [row] = check(virtual_case(clock, slow_factor=1.3), entry=None, known=known, clock=clock)
    assert ok and row["limit"] == gate.SANITY_FACTOR * FLOOR
    ok, [row] = check(virtual_case(clock, slow_factor=4.0), entry=None, known=known, clock=clock)
    assert not ok and row["verdict"] == "FAIL"
    ok, [row] = check(virtual_case(clock), entry=None, clock=clock)
    assert ok and row["verdict"].startswith("not gated")


def test_update_measures_the_floor():
    clock = VirtualClock()
    floors = gate.timing_floors([(virtual_case(clock), "torch")], LIBS, SETTINGS, clock)
    assert floors["virtual"]["reference"] == "torch"
    assert abs(floors["virtual"]["ratio"] - FLOOR) < 1e-4
    assert len(floors["virtual"]["runs"]) == gate.UPDATE_RUNS


def test_real_case_on_cpu_time():
    """relu-1K-fwd-bwd's cygrad callable against itself (floor 1.0), timed in CPU time."""
    real = CASES["relu-1K-fwd-bwd"]

    def case(factor=None):
        def setup(lib, module):
            run = real.setup("cygrad", cygrad)
            if lib == "cygrad" and factor:
                return slowed(run, factor, process_time, spin_until)
            return run
        return Case(name=real.name, setup=setup)

    libs = {"cygrad": cygrad, "torch": FakeLibrary()}   # the "reference" is cygrad itself
    entry = {"cases": {real.name: {"reference": "torch", "ratio": 1.0}}}
    ok, [row] = gate.check_timing([(case(), "torch")], libs, entry, {}, SETTINGS, process_time)
    assert ok, row
    ok, [row] = gate.check_timing([(case(1.3), "torch")], libs, entry, {}, SETTINGS, process_time)
    assert not ok and row["verdict"] == "FAIL" and row["ratio"] >= 1.25, row


# ---- instruction counts ----

BASE = {"avx2": {"cases": {"gemm-128": {"cg_gemm_f32": 1_000_000, "cg_simd_get": 20},
                           "relu-64K-fwd-bwd": {"cg_relu_fwd_f32": 60_000,
                                                "cg_relu_bwd_f32": 60_000}}}}


def scaled(factor, only=None):
    return {path: {case: {k: int(v * factor) if only in (None, k) else v
                          for k, v in kernels.items()}
                   for case, kernels in entry["cases"].items()}
            for path, entry in BASE.items()}


def verdicts(rows):
    return {(case, kernel): verdict for _, case, kernel, *_, verdict in rows}


def test_counts_unchanged_pass():
    rows = counts.compare(BASE, scaled(1.0), gate.COUNT_TOLERANCE, gate.MIN_KERNEL_IR)
    assert set(verdicts(rows).values()) == {"ok"}
    assert all(kernel == "(case total)" for _, _, kernel, *_ in rows)   # nothing changed


def test_counts_grown_1_3x_fail():
    rows = counts.compare(BASE, scaled(1.3), gate.COUNT_TOLERANCE, gate.MIN_KERNEL_IR)
    v = verdicts(rows)
    assert v[("gemm-128", "(case total)")] == "FAIL" and v[("gemm-128", "cg_gemm_f32")] == "FAIL"
    # one kernel of a case, diluted in the case's total, still fails on its own
    rows = counts.compare(BASE, scaled(1.3, only="cg_relu_bwd_f32"), gate.COUNT_TOLERANCE,
                          gate.MIN_KERNEL_IR)
    assert verdicts(rows)[("relu-64K-fwd-bwd", "cg_relu_bwd_f32")] == "FAIL"


def test_counts_small_kernel_and_improvement_pass():
    # 20 -> 26 instructions of call overhead is no regression; fewer instructions never fail
    for current in (scaled(1.3, only="cg_simd_get"), scaled(0.7)):
        rows = counts.compare(BASE, current, gate.COUNT_TOLERANCE, gate.MIN_KERNEL_IR)
        assert "FAIL" not in verdicts(rows).values()


def test_gate_command_on_counts(tmp_path, monkeypatch):
    """run_gate end to end for the counts signal, with the measurement replaced by counts 1.0x
    and 1.3x the committed ones."""
    path = tmp_path / "baseline.json"
    key = baseline.toolchain_key(baseline.toolchain())
    path.write_text(json.dumps({"timing": {}, "counts": {key: {"paths": BASE}}}))
    lines = []
    for factor, status in ((1.0, 0), (1.3, 1)):
        monkeypatch.setattr(counts, "measure", lambda f=factor: (scaled(f), {}))
        lines.clear()
        assert gate.run_gate(str(path), {}, {}, signals=("counts",), out=lines.append) == status
    assert lines[-2].startswith("gate: FAIL") and "--update-baseline" in lines[-1]


def test_gate_skips_counts_without_valgrind(tmp_path, monkeypatch):
    def missing():
        raise counts.CountsUnavailable("valgrind not found")
    monkeypatch.setattr(counts, "measure", missing)
    lines = []
    assert gate.run_gate(str(tmp_path / "none.json"), {}, {}, ("counts",), lines.append) == 0
    assert any("skipped: valgrind not found" in line for line in lines)


CALLGRIND_OUT = """# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
desc: Trigger: dump gemm-128

ob=(1) /x/_core.so
fl=(1) ???
fn=(1) __pyx_f_6cygrad_5_core__matmul
0 50
cfn=(2) cg_gemm_f32
calls=2 0
0 1000
cfn=(3) cg_simd_get
calls=1 0
0 7

fn=(2)
0 900
cob=(2) /lib/libm.so.6
cfn=(4) expf
calls=10 0
0 100

fn=(5) GOMP_parallel
cfn=(2)
calls=1 0
0 400
"""


def test_parse_callgrind(tmp_path):
    """Only calls from the Cython layer into cg_ kernels count, callees included."""
    f = tmp_path / "out"
    f.write_text(CALLGRIND_OUT)
    name, kernels = counts.parse_callgrind(str(f))
    assert name == "gemm-128"
    assert kernels == {"cg_gemm_f32": [1000, 2], "cg_simd_get": [7, 1]}
