"""Shared fixtures.

Reference-data tests read ``../shared/reference/`` (relative to the repository root; the
``FOURP1000_REFERENCE_DIR`` environment variable points elsewhere). The folder exists in CI
and developer sandboxes but not in a user's fresh clone, so by default those tests skip
where it is absent. With ``FOURP1000_REQUIRE_REFERENCE=1`` (set by ``.ci/run`` wherever the
folder exists) they fail instead: a moved or mistyped folder cannot silently turn the
validation tests into skips.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = Path(os.environ.get("FOURP1000_REFERENCE_DIR") or REPO_ROOT.parent / "shared" / "reference")
REQUIRE_REFERENCE = "FOURP1000_REQUIRE_REFERENCE"


def reference_path() -> Path:
    """:data:`REFERENCE_DIR`; skips the calling test where it is absent, or fails it when
    ``FOURP1000_REQUIRE_REFERENCE`` is set (to anything but ``0``)."""
    if not REFERENCE_DIR.is_dir():
        message = f"reference data not found at {REFERENCE_DIR}"
        if os.environ.get(REQUIRE_REFERENCE, "0") not in ("", "0"):
            pytest.fail(f"{message}, and {REQUIRE_REFERENCE} is set", pytrace=False)
        pytest.skip(message)
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Path to the reference data (see :func:`reference_path`)."""
    return reference_path()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO_ROOT / "examples"


# Property tests: no per-example deadline (CI machines are shared and timing varies) and a
# derandomised search, so a run is reproducible and CI cannot fail on a lucky draw.
from hypothesis import settings  # noqa: E402

settings.register_profile("fourp1000", deadline=None, derandomize=True)
settings.load_profile("fourp1000")
