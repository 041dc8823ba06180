"""Thread counts: every library of a case runs on the same number of threads.

cygrad and torch are set through their `set_num_threads`; numpy's BLAS (OpenBLAS or MKL) through
threadpoolctl, an optional import: without it numpy keeps its BLAS's own thread count, which the
header then says (and the regression gate skips the cases it would compare with numpy).
"""
import os
from contextlib import contextmanager

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None


def available_cpus():
    """The CPUs this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def numpy_threads_settable():
    return threadpoolctl is not None


@contextmanager
def library_threads(libs, n):
    """Runs the block with every library of `libs` ({name: module or None}) on n threads, and
    puts the previous counts back afterwards."""
    restore = []
    for name in ("cygrad", "torch"):
        module = libs.get(name)
        if module is not None:
            restore.append((module.set_num_threads, module.get_num_threads()))
            module.set_num_threads(n)
    limits = None
    if libs.get("numpy") is not None and threadpoolctl is not None:
        limits = threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    try:
        yield
    finally:
        if limits is not None:
            limits.restore_original_limits()
        for setter, previous in restore:
            setter(previous)


def numpy_blas():
    """numpy's BLAS as 'openblas 0.3.31 (Haswell, pthreads, 2 threads)', from threadpoolctl when
    installed, else from numpy's build configuration (without the run-time details)."""
    if threadpoolctl is not None:
        import numpy  # noqa: F401  (loads the BLAS so that threadpoolctl can see it)
        pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            details = ", ".join(str(v) for v in (p.get("architecture"), p.get("threading_layer"))
                                if v)
            return (f"{p.get('internal_api')} {p.get('version')} "
                    f"({details + ', ' if details else ''}{p.get('num_threads')} threads)")
    try:
        import numpy
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (threads not settable: no threadpoolctl)"
    except Exception:  # show_config's layout is not a stable API
        return "unknown BLAS"
