"""The regression gate's strict signal: instruction counts of cygrad's C kernels under callgrind.

Why counts: a busy or different machine does not move them. valgrind emulates one x86-64 CPU (AVX2
at most, never AVX-512) on any host, so the counts depend only on the code and the toolchain that
built it (compiler, glibc's libm), not on the CPU or on other processes.

What is counted: a fixed workload, the cygrad side of a few benchmark cases (COUNT_CASES, with the
cases' seeded inputs), on 1 thread, once per SIMD path valgrind can run (PATHS). For each case it
is the instructions executed inside the calls from the Cython layer (functions named `__pyx...`)
into the C kernels (`cg_...`), callees such as libm included: callgrind's inclusive cost of those
call edges. Python, numpy and the Cython layer itself are not counted, so a change there moves
nothing here (the timing signal sees it).

How: `python -m cygrad.bench.counts --child PATH` runs under `valgrind --tool=callgrind
--instr-atstart=no`; it prepares every case (and calls each once, to warm up) uninstrumented, then
asks callgrind through `callgrind_control` to switch instrumentation on and to dump the counters
after each case: one dump file per case, named by the case. Both paths run as two processes at
once. A case whose result is wrong fails the run (a fast wrong kernel must not pass).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

PATHS = ("avx2", "scalar")
COUNT_CASES = (
    "chain-64K-fwd-bwd", "exp-64K-fwd-bwd", "tanh-64K-fwd-bwd", "sigmoid-64K-fwd-bwd",
    "relu-64K-fwd-bwd", "gemm-128", "gemm-mlp1-fwd", "gemm-mlp1-dx", "gemm-mlp1-dw",
    "xent-512x1000-fwd-bwd", "mlp-step-b64",
)
CHILD_TIMEOUT_S = 600

# exit codes of the child
WRONG_RESULT, NO_CONTROL, NO_SIMD_PATH = 3, 4, 5


class CountsUnavailable(Exception):
    """The counts cannot be taken here (no valgrind, no callgrind_control, no such SIMD path):
    the gate says why and skips the signal."""


class CountsFailed(Exception):
    """The workload failed under valgrind (a wrong result, a crash): the gate fails."""


# ---- the child: runs under valgrind ----

def _control(*args):
    """Runs `callgrind_control ARGS <our pid>` without blocking in a system call: valgrind
    serves the request between basic blocks, so this process keeps running Python until the
    command returns (a process blocked in waitpid would need ptrace to be woken)."""
    proc = subprocess.Popen(["callgrind_control", *args, str(os.getpid())],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            return False
    return proc.returncode == 0


def child(path):
    import numpy as np

    import cygrad
    from cygrad.bench.cases import CASES, as_numpy

    try:
        cygrad._core.set_simd_path(path)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return NO_SIMD_PATH
    cygrad.set_num_threads(1)
    runs = []
    for name in COUNT_CASES:
        case = CASES[name]
        run = case.setup("cygrad", cygrad)
        run()  # warm-up, uninstrumented: lazy initialisation and first-step branches
        runs.append((case, run, case.reference()))
    if not (_control("--instr=on") and _control("--dump=setup")):
        print("callgrind_control could not reach this process", file=sys.stderr)
        return NO_CONTROL
    results = []
    for case, run, _ in runs:
        results.append(run())
        if not _control(f"--dump={case.name}"):
            return NO_CONTROL
    for (case, _, reference), result in zip(runs, results):
        try:
            np.testing.assert_allclose(as_numpy(result), reference, **case.tolerance)
        except AssertionError as e:
            print(f"{case.name} on the {path} path: wrong result\n{e}", file=sys.stderr)
            return WRONG_RESULT
    return 0


# ---- the parent: runs valgrind, reads its dumps ----

def valgrind_version():
    """'valgrind-3.19.0', or raises CountsUnavailable saying what is missing."""
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            raise CountsUnavailable(f"{tool} not found (Debian: apt-get install valgrind)")
    out = subprocess.run(["valgrind", "--version"], capture_output=True, text=True)
    return out.stdout.strip()


def parse_callgrind(path):
    """(dump name, {kernel: [Ir, calls]}) from one callgrind output file: the inclusive cost of
    every call from a Cython function (`__pyx...`/`__Pyx...`) to a kernel (`cg_...`)."""
    names = {}                 # compressed "(id)" -> function name
    trigger, n_positions, ir_index = "", 1, 1
    caller = callee = None
    pending_calls = None       # the calls= count whose cost line comes next
    kernels = defaultdict(lambda: [0, 0])

    def function(spec):
        m = re.match(r"\((\d+)\)(?: (.*))?$", spec)
        if m is None:
            return spec
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names[m.group(1)]

    with open(path) as f:
        for line in f:
            if pending_calls is not None:
                fields = line.split()
                if caller.startswith(("__pyx", "__Pyx")) and callee.startswith("cg_"):
                    kernels[callee][0] += int(fields[ir_index])
                    kernels[callee][1] += pending_calls
                pending_calls = None
            elif line.startswith("fn="):
                caller = function(line[3:].rstrip("\n"))
            elif line.startswith("cfn="):
                callee = function(line[4:].rstrip("\n"))
            elif line.startswith("calls="):
                pending_calls = int(line[6:].split()[0])
            elif line.startswith("positions:"):
                n_positions = len(line.split()) - 1
            elif line.startswith("events:"):
                ir_index = n_positions + line.split()[1:].index("Ir")
            elif line.startswith("desc: Trigger:"):
                trigger = line.split(":", 2)[2].strip()
    name = trigger[len("dump "):] if trigger.startswith("dump ") else trigger
    return name, dict(kernels)


def _child_env(path):
    import cygrad
    env = dict(os.environ)
    # the child runs in a scratch directory: point it at the cygrad this process imported
    here = os.path.dirname(os.path.dirname(os.path.abspath(cygrad.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [env.get("PYTHONPATH")])])
    env.pop("CYGRAD_SIMD", None)   # the child picks its path itself (valgrind's CPU has no AVX-512)
    env.update(PYTHONHASHSEED="0",          # same allocation pattern every run
               LD_BIND_NOW="1",             # no lazy symbol binding inside the first kernel call
               # every block of 16 KiB or more gets its own mmap, so large arrays start at the
               # same offset in a page whatever the heap holds (kernels that peel for alignment
               # then run the same instructions on any machine, whatever its paths and env)
               GLIBC_TUNABLES="glibc.malloc.mmap_threshold=16384",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


def _start(path, workdir):
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--dump-instr=no",
           "--dump-line=no", f"--callgrind-out-file={os.path.join(workdir, path)}.out",
           sys.executable, "-m", "cygrad.bench.counts", "--child", path]
    return subprocess.Popen(cmd, env=_child_env(path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=workdir)


def _collect(path, proc, workdir):
    try:
        _, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise CountsFailed(f"{path}: the workload took over {CHILD_TIMEOUT_S} s under valgrind")
    # valgrind's own lines start with ==pid==; the rest is the child's message
    message = "\n".join(l for l in err.splitlines() if not l.startswith("==")).strip()
    if proc.returncode == NO_SIMD_PATH:
        raise CountsUnavailable(f"{path}: not available under valgrind here ({message})")
    if proc.returncode == NO_CONTROL:
        raise CountsUnavailable(f"{path}: callgrind_control could not reach the workload")
    if proc.returncode != 0:
        raise CountsFailed(f"{path}: the workload failed under valgrind (exit {proc.returncode})"
                           f":\n{message or err[-2000:]}")
    items = {}
    for name in sorted(os.listdir(workdir)):
        if name.startswith(f"{path}.out."):
            dump, kernels = parse_callgrind(os.path.join(workdir, name))
            if dump in COUNT_CASES:
                items[dump] = {k: v[0] for k, v in sorted(kernels.items())}
    missing = [c for c in COUNT_CASES if c not in items]
    if missing:
        raise CountsFailed(f"{path}: no callgrind dump for {', '.join(missing)}")
    return {c: items[c] for c in COUNT_CASES}   # in the workload's order


def measure(paths=PATHS):
    """{path: {case: {kernel: instructions}}} for each path valgrind can run, and {path: reason}
    for the others. The paths run as concurrent processes. Raises CountsUnavailable when valgrind
    is missing, CountsFailed when the workload fails."""
    valgrind_version()
    counts, skipped = {}, {}
    with tempfile.TemporaryDirectory(prefix="cygrad-counts-") as tmp:
        workdirs = {p: os.path.join(tmp, p) for p in paths}
        procs = {}
        for p in paths:
            os.mkdir(workdirs[p])
            procs[p] = _start(p, workdirs[p])
        for p in paths:
            try:
                counts[p] = _collect(p, procs[p], workdirs[p])
            except CountsUnavailable as e:
                skipped[p] = str(e)
    return counts, skipped


# ---- comparing with the baseline ----

def compare(baseline_paths, current, tolerance, min_kernel_ir):
    """Rows (path, case, kernel or '(case total)', baseline, now, change, verdict) for every
    case total and every kernel that changed; a verdict is 'ok', 'FAIL', 'new' or 'gone'.
    A case fails when its total grows by more than `tolerance`, or one of its kernels with at
    least `min_kernel_ir` instructions in the baseline does (smaller ones are a few calls'
    fixed overhead, where a handful of instructions is not a regression)."""
    rows = []
    for path, items in current.items():
        base_items = baseline_paths.get(path, {}).get("cases", {})
        for case, kernels in items.items():
            base = base_items.get(case)
            if base is None:
                rows.append((path, case, "(case total)", None, sum(kernels.values()), None, "new"))
                continue
            total, base_total = sum(kernels.values()), sum(base.values())
            change = total / base_total - 1 if base_total else 0.0
            rows.append((path, case, "(case total)", base_total, total, change,
                         "FAIL" if change > tolerance else "ok"))
            for kernel in sorted(set(kernels) | set(base)):
                now, before = kernels.get(kernel), base.get(kernel)
                if now == before:
                    continue
                if before is None:
                    rows.append((path, case, kernel, None, now, None, "new"))
                elif now is None:
                    rows.append((path, case, kernel, before, None, None, "gone"))
                else:
                    change = now / before - 1
                    grew = change > tolerance and before >= min_kernel_ir
                    rows.append((path, case, kernel, before, now, change, "FAIL" if grew else "ok"))
    return rows


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--child":
        return child(argv[1])
    print("usage: python -m cygrad.bench.counts --child PATH (run by the gate under valgrind; "
          "use python -m cygrad.bench --gate)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
