"""Shared fixtures.

Reference-data tests read ``../shared/reference/`` (relative to the repository root), which
exists in CI and developer sandboxes but not in a user's fresh clone: they skip cleanly there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Path to ``../shared/reference``; skips the test where it is absent."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip("../shared/reference not available")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO_ROOT / "examples"


# Property tests: no per-example deadline (CI machines are shared and timing varies) and a
# derandomised search, so a run is reproducible and CI cannot fail on a lucky draw.
from hypothesis import settings  # noqa: E402

settings.register_profile("fourp1000", deadline=None, derandomize=True)
settings.load_profile("fourp1000")
