"""Install the real implementations the realworld tests run, once, into tests/realworld/.cache.

    python -m tests.realworld.install        # what .ci/run and the tests' setup call

Python servers get one virtual environment per requirements file (requirements/*.txt, exact
versions; `mcp` 2.x is this project's own pinned dependency and needs none); Node servers are
installed from package.json (exact versions) with `npm install --no-package-lock`, because a
lockfile would record the registry's download addresses.  Transitive versions are fixed by a
cut-off date (uv's --exclude-newer, npm's --before), so a later release cannot change what is
tested.  A stamp holding the hash of those inputs makes a second run a no-op.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
NODE_ROOT = CACHE / "npm"
REQUIREMENTS = HERE / "requirements"
PACKAGE_JSON = HERE / "package.json"
CUTOFF = "2026-12-01"  # nothing released after this date is installed
VENVS = ("mcp1", "fastmcp", "gradio")


def venv_python(name: str) -> Path:
    return CACHE / f"venv-{name}" / "bin" / "python"


def _digest(*paths: Path) -> str:
    h = hashlib.sha256(CUTOFF.encode())
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def _step(name: str, inputs: list[Path], commands: list[list[str]], cwd: Path) -> None:
    stamp = CACHE / f"{name}.stamp"
    digest = _digest(*inputs)
    if stamp.exists() and stamp.read_text() == digest:
        return
    started = time.monotonic()
    for command in commands:
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    stamp.write_text(digest)
    print(f"realworld: installed {name} in {time.monotonic() - started:.0f}s", file=sys.stderr)


def install() -> None:
    CACHE.mkdir(exist_ok=True)
    python = str(
        Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    for name in VENVS:
        requirements = REQUIREMENTS / f"{name}.txt"
        venv = CACHE / f"venv-{name}"
        # --no-config: this project's own [tool.uv] constraints (mcp==2.3.0 …) must not apply.
        _step(
            name,
            [requirements],
            [
                ["uv", "venv", "--no-config", "--quiet", "--clear", "--python", python, str(venv)],
                [
                    "uv",
                    "pip",
                    "install",
                    "--no-config",
                    "--quiet",
                    "--exclude-newer",
                    CUTOFF,
                    "--python",
                    str(venv / "bin" / "python"),
                    "-r",
                    str(requirements),
                ],
            ],
            CACHE,
        )
    NODE_ROOT.mkdir(exist_ok=True)
    shutil.copyfile(PACKAGE_JSON, NODE_ROOT / "package.json")
    # --legacy-peer-deps: mcp-handler names Next.js as a peer; these tests mount it without Next.
    _step(
        "npm",
        [PACKAGE_JSON],
        [
            [
                "npm",
                "install",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--legacy-peer-deps",
                "--ignore-scripts",
                f"--before={CUTOFF}",
                "--loglevel=error",
            ],
        ],
        NODE_ROOT,
    )


if __name__ == "__main__":
    install()
