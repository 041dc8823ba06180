"""What a result needs around it: the machine header and the table."""
import os
import platform
import sys


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_info(libs):
    """The facts a reader needs to judge a timing: CPU, SIMD path, threads and versions.
    `libs` maps library names to imported modules (None where not importable)."""
    import numpy

    cygrad, torch = libs.get("cygrad"), libs.get("torch")
    info = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "cygrad": getattr(cygrad, "__version__", "n/a"),
        "simd_path": "n/a",
        "simd_best": "n/a",
        # cygrad's kernels are single-threaded (SIMD only); torch uses its intra-op thread pool
        "cygrad_threads": 1,
        "torch": torch.__version__ if torch is not None else "torch not installed",
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        # other work on a small machine shows up in the timings (torch's thread pool most)
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if cygrad is not None:
        info["simd_path"] = cygrad._core.simd_path()
        info["simd_best"] = cygrad._core.best_simd_path()
    return info


def header_lines(info):
    torch_threads = "n/a" if info["torch_threads"] is None else info["torch_threads"]
    return [
        f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs ({info['platform']})",
        f"cygrad SIMD path: {info['simd_path']} (best on this CPU: {info['simd_best']})",
        f"threads: cygrad {info['cygrad_threads']}, torch {torch_threads}"
        + (f"; load average before the run: {info['load_average_1min']:.2f}"
           if info["load_average_1min"] is not None else ""),
        f"versions: python {info['python']}, numpy {info['numpy']}, cygrad {info['cygrad']}, "
        + (f"torch {info['torch']}" if info["torch_threads"] is not None else info["torch"]),
    ]


def format_seconds(s):
    if s is None:
        return "n/a"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if s >= scale:
            return f"{s / scale:.3g} {unit}" if s / scale < 100 else f"{s / scale:.0f} {unit}"
    return f"{s / 1e-9:.3g} ns"


def ratio(result, stat="median"):
    c, t = result[stat].get("cygrad"), result[stat].get("torch")
    return None if c is None or t is None else c / t


def table_lines(results, libs=("cygrad", "torch", "numpy")):
    """A Markdown table: case | one median per library | cygrad/torch of the medians, and of the
    minimums (the undisturbed estimate when something else ran on the machine)."""
    head = ["case", *libs, "cygrad/torch", "of minimums"]
    rows = []
    for r in results:
        cells = [f"{r['case']} (per {r['unit']})"]
        cells += [format_seconds(r["median"].get(lib)) for lib in libs]
        for stat in ("median", "min"):
            q = ratio(r, stat)
            cells.append("n/a" if q is None else f"{q:.2f}×")
        rows.append(cells)
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    rule = "|" + "|".join("-" * (w + 1) + ("-" if i == 0 else ":")
                          for i, w in enumerate(widths)) + "|"
    return [line(head), rule, *(line(row) for row in rows)]


def load_notes(results, info, threshold=0.2):
    """A line for each case during which other processes kept the machine noticeably busy."""
    notes = []
    for r in results:
        busy = r.get("other_cpus_busy")
        if busy is not None and busy >= threshold:
            notes.append(f"note: other processes kept {busy:.1f} of {info['logical_cpus']} CPUs "
                         f"busy during {r['case']}: prefer the minimums, or rerun when the "
                         f"machine is quiet (torch's thread pool suffers most).")
    return notes


def progress(message):
    """One quiet progress line, only for a person watching a terminal."""
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)
