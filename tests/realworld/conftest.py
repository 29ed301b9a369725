"""The realworld suite's setup: install the pinned implementations once (a no-op when done)."""

from __future__ import annotations

import shutil

import pytest

from tests.realworld.install import install


@pytest.fixture(scope="session", autouse=True)
def realworld_installed() -> None:
    missing = [tool for tool in ("node", "npm", "uv") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the realworld servers need {', '.join(missing)} on PATH")
    install()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
