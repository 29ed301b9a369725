"""Every command is documented in the README, with its name as users type it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from census.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands() -> list[str]:
    names = []
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            names.extend(f"{name} {subname}" for subname in sub)
        else:
            names.append(name)
    return sorted(names)


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented_in_the_readme(command: str) -> None:
    assert f"census {command}" in README


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_an_example_in_its_help(command: str) -> None:
    group = typer.main.get_command(app)
    node = group
    for part in command.split():
        node = node.commands[part]  # type: ignore[attr-defined]
    assert "Example:" in (node.help or ""), f"census {command} --help has no example"
