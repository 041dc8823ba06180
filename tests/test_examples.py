"""The example programs run as written, and print torch's numbers when their import is switched
to torch (numbers compared to 1e-4 relative: float32 matmuls may round differently)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def run(source, folder, *args):
    """Runs an example's source in `folder` (examples may write files there, e.g. a loss plot),
    with command-line arguments `args` (a device)."""
    env = dict(os.environ)
    if env.get("PYTHONPATH"):  # relative entries (PYTHONPATH=src in a checkout) must survive the cwd change
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep))
    result = subprocess.run([sys.executable, "-c", source, *args], capture_output=True, text=True, env=env,
                            timeout=300, cwd=folder)
    assert result.returncode == 0, result.stderr
    return result.stdout


def numbers_and_words(output):
    return [float(n) for n in NUMBER.findall(output)], NUMBER.sub("#", output)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_prints_torchs_numbers(path, torch, tmp_path):
    source = path.read_text()
    assert "import cygrad as torch" in source
    ours = run(source, tmp_path)
    theirs = run(source.replace("import cygrad as torch", "import torch"), tmp_path)
    our_numbers, our_text = numbers_and_words(ours)
    their_numbers, their_text = numbers_and_words(theirs)
    assert our_text == their_text
    assert our_numbers == pytest.approx(their_numbers, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_without_torch(path, tmp_path, device):
    """On the CPU, and with the device argument on a GPU, where it prints the CPU's numbers."""
    on_cpu = run(path.read_text(), tmp_path)
    assert on_cpu.strip()
    if device != "cpu":
        cpu_numbers, cpu_text = numbers_and_words(on_cpu)
        gpu_numbers, gpu_text = numbers_and_words(run(path.read_text(), tmp_path, device))
        assert gpu_text == cpu_text
        assert gpu_numbers == pytest.approx(cpu_numbers, rel=1e-4, abs=1e-5)
