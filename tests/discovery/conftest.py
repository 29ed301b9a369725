"""Fixtures for discovery tests: the anyio backend and paths to real data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "discovery"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
