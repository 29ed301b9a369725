"""census.report's public names: complete, importable, and cheap for `census report`."""

from __future__ import annotations

import subprocess
import sys

import census.report


def test_every_public_name_is_listed_in_all_and_resolves() -> None:
    for name in census.report.__all__:
        assert getattr(census.report, name) is not None, name
    public = {
        n for n in dir(census.report) if not n.startswith("_") and n not in ("TYPE_CHECKING", "Any")
    }
    submodules = {
        "build",
        "model",
        "queries",
        "render",
        "run",
        "safety",
        "schema",
        "cli",
        "diff",
        "export",
        "security",
        "derived",
        "stats",
        "comparisons",
    }
    assert public - submodules <= set(census.report.__all__)


def test_the_report_command_does_not_load_pandas_or_matplotlib() -> None:
    code = (
        "import sys, census.report.cli, census.report; "
        "print('pandas' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
