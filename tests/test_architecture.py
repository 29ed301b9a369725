"""The import rules of shared/docs/architecture.md, held by walking every module's imports.

`*/cli.py` modules are the command-line layer: like `census/cli.py` they may combine stages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "census"
BASE = {"census", "census.vocabulary", "census.records", "census.config", "census.errors"}
#: Pure helpers that live in a stage package but do no I/O, so any stage may use them.
#: the SSE frame parser (classify re-parses stored bodies) and the header names both read;
#: the one public-address rule (discovery, the resolver and the classifier share it)
PURE_HELPERS = {"census.net.sse", "census.net.headers", "census.net.addresses"}
IO_LIBRARIES = {"aiohttp", "psycopg", "sqlalchemy", "procrastinate", "socket", "ssl"}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


RULES: dict[str, set[str]] = {
    # stage -> stages of ours it must never import
    "vocabulary": {
        "net",
        "probe",
        "classify",
        "discovery",
        "store",
        "crawl",
        "report",
        "findings",
        "testbed",
    },
    "records": {
        "net",
        "probe",
        "classify",
        "discovery",
        "store",
        "crawl",
        "report",
        "findings",
        "testbed",
    },
    "net": {"probe", "classify", "discovery", "store", "crawl", "report", "findings", "testbed"},
    "discovery": {"store", "probe", "classify", "crawl", "report"},
    "probe": {"store", "discovery", "crawl", "report"},
    "classify": {"store", "net", "discovery", "crawl", "report", "probe"},
    "findings": {"store", "net", "discovery", "crawl", "report", "probe"},
    "report": {"net", "probe", "discovery", "crawl", "testbed"},
    "store": {"net", "probe", "classify", "discovery", "crawl", "report", "testbed"},
    # A release is built from stored runs through the report layer, never by probing.
    "release": {"net", "probe", "classify", "discovery", "crawl", "testbed"},
    # The domain sweep is a discovery source: it finds candidates and stores them, never probes
    # or classifies them (its benchmark alone serves the simulated sweep world).
    "sweep": {"probe", "classify", "crawl", "report"},
}


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: str(v))
def test_module_respects_the_import_direction(module: str, path: Path) -> None:
    if path.name == "cli.py":
        return  # the command-line layer combines stages by design
    stage = _stage(module)
    forbidden = RULES.get(stage or "", set())
    ours = {n for n in _imports(path) if n.startswith("census.") and n not in PURE_HELPERS}
    bad = sorted(n for n in ours if _stage(n) in forbidden)
    assert not bad, f"{module} imports {bad}"
    if stage in ("classify", "findings"):
        io = sorted(n for n in _imports(path) if n.split(".")[0] in IO_LIBRARIES)
        assert not io, f"{module} is pure but imports {io}"
    if stage not in ("report", "bench"):
        assert not any(n.split(".")[0] == "pandas" for n in _imports(path)), module
