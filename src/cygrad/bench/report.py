"""What a result needs around it: the machine header and the table."""
import os
import platform
import sys

from cygrad.bench.threads import available_cpus, numpy_blas, numpy_threads_settable


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_family_model():
    """'family 25, model 1' from /proc/cpuinfo (tells CPU generations apart when the model name
    is as vague as 'AMD EPYC'), or '' where unknown."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("cpu family", "model") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip():
                    break
    except OSError:
        return ""
    if len(fields) < 2:
        return ""
    return f"family {fields['cpu family']}, model {fields['model']}"


def machine_info(libs, threads=None):
    """The facts a reader needs to judge a timing: CPU, SIMD path, threads and versions.
    `libs` maps library names to imported modules (None where not importable); `threads` is the
    run's thread count."""
    import numpy

    cygrad, torch = libs.get("cygrad"), libs.get("torch")
    info = {
        "cpu": cpu_model(),
        "cpu_family_model": cpu_family_model(),
        "logical_cpus": os.cpu_count(),
        "available_cpus": available_cpus(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numpy_blas": numpy_blas(),
        "numpy_threads_settable": numpy_threads_settable(),
        # OpenBLAS reads these at load: they change its kernels (see the brief in RESULTS.md)
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
        "cygrad": getattr(cygrad, "__version__", "n/a"),
        "simd_path": "n/a",
        "simd_best": "n/a",
        "threads": threads,
        "torch": torch.__version__ if torch is not None else "torch not installed",
        # other work on a small machine shows up in the timings (torch's thread pool most)
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if cygrad is not None:
        info["simd_path"] = cygrad._core.simd_path()
        info["simd_best"] = cygrad._core.best_simd_path()
    return info


def header_lines(info):
    cpu = info["cpu"] + (f" ({info['cpu_family_model']})" if info.get("cpu_family_model") else "")
    numpy_threads = ("numpy's BLAS through threadpoolctl" if info["numpy_threads_settable"]
                     else "numpy's BLAS on its own default (threadpoolctl not installed)")
    lines = [
        f"machine: {cpu}, {info['logical_cpus']} logical CPUs, {info['available_cpus']} "
        f"available ({info['platform']})",
        f"cygrad SIMD path: {info['simd_path']} (best on this CPU: {info['simd_best']})",
        f"threads: every library on {info['threads']}"
        + (" (sgemm cases on 1 as well; the threads column)" if info["threads"] != 1 else "")
        + f"; {numpy_threads}"
        + (f"; load average before the run: {info['load_average_1min']:.2f}"
           if info["load_average_1min"] is not None else ""),
        f"versions: python {info['python']}, numpy {info['numpy']} with {info['numpy_blas']}, "
        f"cygrad {info['cygrad']}, torch {info['torch'].removeprefix('torch ')}",
    ]
    if info["openblas_env"]:
        lines.append("OpenBLAS settings from the environment: "
                     + ", ".join(f"{k}={v}" for k, v in sorted(info["openblas_env"].items())))
    return lines


def format_seconds(s):
    if s is None:
        return "n/a"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if s >= scale:
            return f"{s / scale:.3g} {unit}" if s / scale < 100 else f"{s / scale:.0f} {unit}"
    return f"{s / 1e-9:.3g} ns"


def ratio(result, stat="median", reference="torch"):
    c, t = result[stat].get("cygrad"), result[stat].get(reference)
    return None if c is None or t is None else c / t


def _markdown(head, rows):
    """Rows of cells as a Markdown table: the first column left-aligned, the rest right."""
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    rule = "|" + "|".join("-" * (w + 1) + ("-" if i == 0 else ":")
                          for i, w in enumerate(widths)) + "|"
    return [line(head), rule, *(line(row) for row in rows)]


def _times(q):
    return "n/a" if q is None else f"{q:.2f}×"


def table_lines(results, libs=("cygrad", "torch", "numpy")):
    """A Markdown table: case | threads | one median per library | cygrad/torch of the medians,
    and of the minimums (the undisturbed estimate when something else ran on the machine) |
    cygrad/numpy of the medians."""
    head = ["case", "threads", *libs, "cygrad/torch", "of minimums", "cygrad/numpy"]
    rows = []
    for r in results:
        cells = [f"{r['case']} (per {r['unit']})", str(r.get("threads", ""))]
        cells += [format_seconds(r["median"].get(lib)) for lib in libs]
        cells += [_times(ratio(r)), _times(ratio(r, "min")), _times(ratio(r, reference="numpy"))]
        rows.append(cells)
    return _markdown(head, rows)


def gflops_lines(results, libs=("cygrad", "torch", "numpy")):
    """The cases that count flops (sgemm) as GF/s from the medians; [] when there are none."""
    rows = [[r["case"], str(r["threads"]),
             *("n/a" if r["gflops"].get(lib) is None else f"{r['gflops'][lib]:.1f}"
               for lib in libs)]
            for r in results if r.get("gflops")]
    return _markdown(["sgemm", "threads", *(f"{lib} GF/s" for lib in libs)], rows) if rows else []


def load_notes(results, info, threshold=0.2):
    """A line saying during which cases other processes kept the machine noticeably busy."""
    busy = [r for r in results if (r.get("other_cpus_busy") or 0) >= threshold]
    if not busy:
        return []
    worst = max(r["other_cpus_busy"] for r in busy)
    where = (", ".join(f"{r['case']} [{r['threads']}t]" for r in busy) if len(busy) <= 4
             else f"{len(busy)} of {len(results)} rows")
    return [f"note: other processes kept up to {worst:.1f} of {info['logical_cpus']} CPUs busy "
            f"during {where}: prefer the minimums, or rerun when the machine is quiet "
            f"(multi-threaded timings suffer most; `other_cpus_busy` per row in --json)."]


def progress(message):
    """One quiet progress line, only for a person watching a terminal."""
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)
