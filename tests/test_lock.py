"""Dependencies are pinned twice (constraint-dependencies for uv, hash-locked requirements.lock)
and the two agree, cover every declared dependency, and match what is installed."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.markers import Marker

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("pins", ROOT / ".ci" / "pins.py")
assert _spec and _spec.loader
pins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pins)


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_constraint_dependencies_equal_the_hash_locked_requirements() -> None:
    assert pins.lock_pins() == pins.constraint_pins()
    text = (ROOT / "requirements.lock").read_text()
    blocks = [b for b in re.split(r"\n(?=\S)", text) if "==" in b]
    assert blocks and all("--hash=sha256:" in block for block in blocks)


def test_every_declared_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = project["project"]["dependencies"] + project["dependency-groups"]["dev"]
    locked = {_name(pin) for pin in pins.lock_pins()}
    missing = {_name(req) for req in declared} - locked
    assert not missing, f"not in requirements.lock (run `bash .ci/lock`): {sorted(missing)}"


def test_installed_versions_are_the_pinned_ones() -> None:
    wrong = []
    for pin in pins.lock_pins():
        spec, _, marker = pin.partition(" ; ")
        if marker and not Marker(marker).evaluate():
            continue
        name, _, pinned = spec.partition("==")
        try:
            installed = version(name)
        except PackageNotFoundError:
            wrong.append(f"{name} not installed")
            continue
        if installed != pinned:
            wrong.append(f"{name} {installed} != {pinned}")
    assert not wrong


def test_no_tracked_file_names_a_package_registry_or_a_machine_path() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    pattern = r"pythonhosted\.org|pypi\.org|/simple/|/root/|/work/|/home/[a-z]"
    result = subprocess.run(
        ["git", "grep", "-I", "-l", "-E", pattern, "--", ".", ":!tests/test_lock.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.stdout == "", f"files naming a registry or machine path:\n{result.stdout}"
