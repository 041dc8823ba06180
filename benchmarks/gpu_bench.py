"""cygrad on CUDA (CuPy backend) against torch on CUDA, in the same run, on the same GPU.

    python benchmarks/gpu_bench.py                 # prints a Markdown table for RESULTS-gpu.md
    python benchmarks/gpu_bench.py --rounds 5      # quicker
    python benchmarks/gpu_bench.py --json out.json

Cases: one SGD-momentum training step of the MLP 784-256-128-10 with cross-entropy (the CPU
benchmark's model, python -m cygrad.bench) at batch 64, 512 and 4096, and a float32 4096 x 4096
GEMM. The libraries take turns round after round (a slow spell hits both), each round times a
batch of calls ended by a device synchronization, and the table reports medians (and minimums) of
the per-call times. Targets (issue 7): the batch-4096 step within 1.2x of torch, GEMM within 1.05x.

Needs CuPy with a GPU for cygrad and a CUDA build of torch; a side that cannot run is reported as
n/a rather than failing the whole run.
"""
import argparse
import gc
import json
import platform
import statistics
import sys
import time

import numpy as np

from cygrad.bench.cases import mlp_inputs, mlp_model  # the CPU benchmark's model and data


def mlp_step(T, batch):
    """A closure running one training step on the GPU, and its first loss (for a sanity check)."""
    x_np, y_np, layers = mlp_inputs(batch)
    nn = T.nn
    model = mlp_model(T, layers).to("cuda")
    optimizer = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x, y = T.tensor(x_np).to("cuda"), T.tensor(y_np).to("cuda")

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    first = step().item()
    return step, first


def gemm(T, n=4096):
    rng = np.random.default_rng(1)
    a = T.tensor(rng.standard_normal((n, n), dtype=np.float32)).to("cuda")
    b = T.tensor(rng.standard_normal((n, n), dtype=np.float32)).to("cuda")
    return (lambda: a @ b), float((a @ b)[0, 0].item())


CASES = {
    "mlp-step-b64": lambda T: mlp_step(T, 64),
    "mlp-step-b512": lambda T: mlp_step(T, 512),
    "mlp-step-b4096": lambda T: mlp_step(T, 4096),
    "gemm-4096-f32": gemm,
}


def libraries():
    """{name: (module, synchronize)} for the sides that can run here, and why the others cannot."""
    found, missing = {}, {}
    try:
        import cygrad
        if cygrad.cuda.is_available():
            found["cygrad"] = (cygrad, cygrad.cuda.synchronize)
        else:
            from cygrad.backends import cuda
            missing["cygrad"] = cuda.unavailable_reason()
    except ImportError as e:
        missing["cygrad"] = str(e)
    try:
        import torch
        if torch.cuda.is_available():
            found["torch"] = (torch, torch.cuda.synchronize)
        else:
            missing["torch"] = "torch has no CUDA here"
    except ImportError as e:
        missing["torch"] = str(e)
    return found, missing


def time_calls(fn, synchronize, number):
    """Seconds per call over `number` calls, the queue drained before and after."""
    synchronize()
    gc.collect()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    synchronize()
    return (time.perf_counter() - start) / number


def calibrate(fn, synchronize, min_batch_s):
    number = 1
    while True:
        if time_calls(fn, synchronize, number) * number >= min_batch_s or number >= 100_000:
            return number
        number *= 2


def run_case(name, libs, rounds, min_batch_s):
    closures, firsts = {}, {}
    for lib, (T, synchronize) in libs.items():
        fn, first = CASES[name](T)
        for _ in range(3):   # warm-up: kernel compilation (CuPy caches it), cuBLAS handles, pools
            fn()
        synchronize()
        closures[lib], firsts[lib] = (fn, synchronize, calibrate(fn, synchronize, min_batch_s)), first
    samples = {lib: [] for lib in closures}
    order = list(closures)
    for r in range(rounds):
        for lib in order[r % len(order):] + order[:r % len(order)]:   # rotating order
            fn, synchronize, number = closures[lib]
            samples[lib].append(time_calls(fn, synchronize, number))
    return {lib: {"median_s": statistics.median(s), "min_s": min(s), "first": firsts[lib]}
            for lib, s in samples.items()}


def fmt(seconds):
    if seconds is None:
        return "n/a"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--min-batch", type=float, default=0.05, help="seconds per timed batch")
    parser.add_argument("--filter", default="", help="only the cases whose name contains this")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    libs, missing = libraries()
    device = "n/a"
    if "torch" in libs:
        device = libs["torch"][0].cuda.get_device_name()
    elif "cygrad" in libs:
        device = libs["cygrad"][0].cuda.get_device_name()
    print(f"cygrad vs torch on CUDA, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: median of "
          f"{args.rounds} interleaved rounds, each ended by a device synchronization")
    print(f"GPU: {device}; host: {platform.processor() or platform.machine()}, python {sys.version.split()[0]}")
    for lib, reason in missing.items():
        print(f"{lib}: not run ({reason})")
    versions = []
    if "cygrad" in libs:
        import cupy
        versions.append(f"cygrad {libs['cygrad'][0].__version__} (CuPy {cupy.__version__})")
    if "torch" in libs:
        versions.append(f"torch {libs['torch'][0].__version__}")
    print("versions: " + ", ".join(versions))
    print()
    print("| case | cygrad | torch | cygrad/torch | of minimums |")
    print("|---|--:|--:|--:|--:|")
    results = {}
    for name in CASES:
        if args.filter not in name or not libs:
            continue
        result = run_case(name, libs, args.rounds, args.min_batch)
        results[name] = result
        ours, theirs = result.get("cygrad"), result.get("torch")
        ratio = minimum_ratio = "n/a"
        if ours and theirs:
            ratio = f"{ours['median_s'] / theirs['median_s']:.2f}×"
            minimum_ratio = f"{ours['min_s'] / theirs['min_s']:.2f}×"
            if name.startswith("mlp") and abs(ours["first"] - theirs["first"]) > 1e-3 * abs(theirs["first"]):
                print(f"warning: {name}: first losses differ ({ours['first']} vs {theirs['first']})")
        print(f"| {name} | {fmt(ours and ours['median_s'])} | {fmt(theirs and theirs['median_s'])} | "
              f"{ratio} | {minimum_ratio} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": device, "versions": versions, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
