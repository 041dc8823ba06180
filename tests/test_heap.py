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


def _run(extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", STEPS], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1])


def test_a_training_step_reuses_freed_buffers_without_page_faults():
    applied, faults_per_step = _run({})
    assert applied == 1
    # the buffers are 2 x 512 pages: returned to the kernel, each step would fault them all in
    assert faults_per_step < 50


def test_the_users_malloc_settings_win():
    applied, faults_per_step = _run({"MALLOC_TOP_PAD_": "131072"})  # glibc's default pad
    assert applied == 0
    assert faults_per_step > 100  # glibc's own policy, churn included: what the setting avoids
