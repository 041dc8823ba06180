"""benchmarks/baseline.json: the regression gate's committed floors.

Only `python -m cygrad.bench --update-baseline` writes it (on purpose, by a person who then
reviews and commits the diff); CI only reads it. Each signal is keyed by what its numbers depend
on, and an update replaces only the entries of the machine / toolchain it ran on:

    {"timing": {MACHINE KEY: {"date", "commit", "machine": {...}, "settings": {...},
                              "cases": {case: {"reference": lib, "ratio": r, "runs": [...]}}}},
     "counts": {TOOLCHAIN KEY: {"date", "commit", "toolchain": {...}, "valgrind": version,
                                "paths": {path: {"cases": {case: {kernel: instructions}}}}}}}

Time ratios depend on the CPU (the machine key: CPU model, family/model, SIMD path); instruction
counts on the code the compiler made and on glibc's libm (the toolchain key), not on the CPU.
"""
import datetime
import json
import os
import platform
import subprocess

DEFAULT_PATH = os.path.join("benchmarks", "baseline.json")


def machine_key(info):
    """'AMD EPYC (family 25, model 1) | avx2' from report.machine_info."""
    cpu = info["cpu"] + (f" ({info['cpu_family_model']})" if info.get("cpu_family_model") else "")
    return f"{cpu} | {info['simd_path']}"


def toolchain():
    """The compiler that built cygrad's _core (from the library's .comment strings) and glibc."""
    from cygrad import _core
    with open(_core.__file__, "rb") as f:
        data = f.read()
    compilers = set()
    for marker in (b"GCC: (", b"clang version "):   # the compilers' .comment strings
        at = data.find(marker)
        while at >= 0:
            end = data.find(b"\0", at)
            compilers.add(data[at:end].decode(errors="replace"))
            at = data.find(marker, end)
    compilers = sorted(compilers)
    libc, version = platform.libc_ver()
    return {"compiler": "; ".join(compilers) or "unknown compiler",
            "libc": f"{libc} {version}".strip() or "unknown libc"}


def toolchain_key(tc):
    return f"{tc['compiler']} | {tc['libc']}"


def load(path):
    """The baseline at path, or an empty one when the file does not exist."""
    if not os.path.exists(path):
        return {"timing": {}, "counts": {}}
    with open(path) as f:
        data = json.load(f)
    data.setdefault("timing", {})
    data.setdefault("counts", {})
    return data


def save(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def stamp():
    """Date and the checkout's commit (None outside a git checkout) for a new entry."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit}
