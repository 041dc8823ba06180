"""Large buffers freed by one training step are reused by the next without new page faults
(csrc/heap.c), and the user's own malloc settings are left alone."""
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's heap only")

# a cross-entropy step over 512 x 1000 logits: two 2 MB buffers allocated and freed per step
STEPS = """
import resource, numpy as np, cygrad
import cygrad._core as core
rng = np.random.default_rng(0)
logits = cygrad.from_numpy(rng.standard_normal((512, 1000), dtype=np.float32)).requires_grad_()
labels = cygrad.from_numpy(rng.integers(0, 1000, 512))
def step():
    logits.grad = None
    cygrad.nn.functional.cross_entropy(logits, labels).backward()
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(core._heap_keeps_freed_top, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50)
"""


# Another library's buffers take the free space at the heap's top (as torch's do when it runs
# beside cygrad); then a step allocates and frees a 3 MB tensor. Below the mmap threshold the
# buffer comes from the heap and is reused; above it, it is a fresh mmap every step.
STEPS_WITH_THE_TOP_TAKEN = """
import ctypes, resource, numpy as np, cygrad
import cygrad._core as core

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
others = []
while libc.mallinfo2().keepcost > (1 << 20):  # keepcost: the free space at the heap's top
    others.append(libc.malloc(min(16 << 20, libc.mallinfo2().keepcost - (512 << 10))))
x = cygrad.ones(3 << 18)  # 3 MB: under the 4 MB from which numpy asks for huge pages
for _ in range(3):
    y = x * 2
    del y
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    y = x * 2
    del y
print(core._heap_keeps_freed_top, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def _run(extra_env, program=STEPS):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]), float(out[1])


def test_a_training_step_reuses_freed_buffers_without_page_faults():
    applied, faults_per_step = _run({})
    assert applied == 1
    # the buffers are 2 x 512 pages: returned to the kernel, each step would fault them all in
    assert faults_per_step < 50


def _glibc_version():
    """(major, minor) of glibc, (0, 0) elsewhere."""
    library, version = platform.libc_ver()
    parts = version.split(".")
    return (int(parts[0]), int(parts[1])) if library == "glibc" and len(parts) >= 2 else (0, 0)


@pytest.mark.skipif(_glibc_version() < (2, 33), reason="mallinfo2 is glibc 2.33+")
def test_large_buffers_are_reused_when_the_heaps_top_is_taken():
    applied, faults_per_step = _run({}, STEPS_WITH_THE_TOP_TAKEN)
    assert applied == 1
    # a fresh mmap of the 3 MB result would fault in its 768 pages every step
    assert faults_per_step < 50


def test_the_users_malloc_settings_win():
    applied, faults_per_step = _run({"MALLOC_TOP_PAD_": "131072"})  # glibc's default pad
    assert applied == 0
    assert faults_per_step > 100  # glibc's own policy, churn included: what the setting avoids
