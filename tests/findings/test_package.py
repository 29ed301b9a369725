"""The findings package: documented, complete exports, and pure (no I/O, no clock, no env)."""

from __future__ import annotations

import ast
from pathlib import Path

import census.findings as findings
from census.findings.checklist import CHECKS
from census.findings.poisoning import RULES
from census.findings.rugpull import ChangeKind
from census.findings.tier import Tier

PACKAGE = Path(findings.__file__).parent
DOC = (PACKAGE / "FINDINGS.md").read_text(encoding="utf-8")
# What a pure module may import: the standard library's pure parts, our records/vocabulary, its
# own package, and the offline public-suffix list.
ALLOWED_ROOTS = {
    "__future__",
    "base64",
    "binascii",
    "collections",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "hashlib",
    "json",
    "re",
    "typing",
    "unicodedata",
    "publicsuffixlist",
    "census",
}
ALLOWED_CENSUS = ("census.findings", "census.records", "census.vocabulary")
FORBIDDEN_NAMES = {"environ", "getenv", "now", "utcnow", "today", "open", "time"}


def test_all_names_every_public_member_and_nothing_else() -> None:
    exported = set(findings.__all__)
    assert exported == {n for n in exported if hasattr(findings, n)}
    assert len(exported) == len(findings.__all__)


# cli.py is the command-line layer (reads a file the user names); the rules never do I/O.
PURE = [p for p in PACKAGE.glob("*.py") if p.name != "cli.py"]


def test_the_modules_import_nothing_that_does_io() -> None:
    for path in PURE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in ALLOWED_ROOTS, f"{path.name} imports {name}"
                if name.startswith("census"):
                    assert name.startswith(ALLOWED_CENSUS), f"{path.name} imports {name}"


def test_the_modules_never_read_the_environment_or_the_clock() -> None:
    for path in PURE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr not in FORBIDDEN_NAMES, f"{path.name} uses .{node.attr}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in FORBIDDEN_NAMES, f"{path.name} calls {node.func.id}"


def test_the_findings_page_documents_every_rule_check_change_kind_and_tier() -> None:
    missing = [r.rule for r in RULES if f"`{r.rule}`" not in DOC]
    missing += [c.name for c in CHECKS if f"`{c.name}`" not in DOC]
    missing += [k.value for k in ChangeKind if f"`{k.value}`" not in DOC]
    missing += [t.value for t in Tier if f"| `{t.value}` |" not in DOC]
    missing += [str(r.code) for r in RULES if f"`{r.code}`" not in DOC]
    assert missing == []
