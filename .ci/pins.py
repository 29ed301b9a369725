"""The pins in requirements.lock and in pyproject.toml's constraint-dependencies, compared or
written.  `python3 .ci/pins.py write` copies the lock's pins into pyproject.toml; `check` exits 1
when they differ.  Also imported by tests/test_lock.py."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"constraint-dependencies = \[(.*?)\]", re.S)


def lock_pins(text: str | None = None) -> list[str]:
    """`name==version[ ; marker]` for every requirement line of requirements.lock."""
    text = (ROOT / "requirements.lock").read_text() if text is None else text
    pins = []
    for line in text.splitlines():
        if not line or line[0].isspace() or line.startswith("#"):
            continue
        spec = line.rstrip("\\").strip()
        name, _, rest = spec.partition("==")
        version, _, marker = rest.partition(";")
        pin = f"{name.strip().lower()}=={version.strip()}"
        pins.append(f"{pin} ; {marker.strip()}" if marker.strip() else pin)
    return sorted(pins)


def constraint_pins(text: str | None = None) -> list[str]:
    text = (ROOT / "pyproject.toml").read_text() if text is None else text
    match = BLOCK.search(text)
    return sorted(re.findall(r'"([^"]+)"', match.group(1))) if match else []


def write() -> None:
    pyproject = ROOT / "pyproject.toml"
    body = "".join(f'    "{pin}",\n' for pin in lock_pins())
    text = BLOCK.sub(lambda _: f"constraint-dependencies = [\n{body}]", pyproject.read_text(), 1)
    pyproject.write_text(text)
    print(f"pinned {len(lock_pins())} packages")


if __name__ == "__main__":
    if sys.argv[1:] == ["write"]:
        write()
    elif sys.argv[1:] == ["check"]:
        sys.exit(0 if lock_pins() == constraint_pins() else 1)
    else:
        sys.exit("usage: pins.py write|check")
