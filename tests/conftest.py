import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def torch():
    """torch when installed; tests that compare against it skip cleanly otherwise."""
    return pytest.importorskip("torch")
