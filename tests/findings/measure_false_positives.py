"""Measure the poisoning rules' false positives on real, honest text available offline.

    uv run python -m tests.findings.measure_false_positives            # full shared data
    uv run python -m tests.findings.measure_false_positives --write-fixture

Corpora: every distinct registry entry of ``../shared/data/registries/`` as a pseudo tool (see
``corpus.py``) and the simulated internet's clean tool lists (``census.testbed.inventory.tools``
for 200 seeds).  Every hit on these corpora counts as a false positive (none of them is planted);
hits are printed so a reader can judge them.  ``--write-fixture`` refreshes the small slice that
the always-run test reads (``tests/fixtures/findings/registry_texts.json``).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from census.findings.poisoning import RULES, scan_tools
from census.records import ToolDefinition
from census.testbed import inventory
from census.testbed.plants import CLEAN_TOOLS
from tests.findings.corpus import FIXTURE, registry_entries, tool_definition

#: Entries whose text contains one of these go into the fixture first: the hard cases.
_RISKY = re.compile(
    r"https?://|@|\.env|\btool|\bmust\b|ignore|important|\bsend|token|ssh|base64|secret|<|bcc",
    re.IGNORECASE,
)
FIXTURE_SIZE = 250


def clean_testbed_servers(seeds: Iterable[int] = range(200)) -> list[list[ToolDefinition]]:
    """The testbed's clean tool lists (one list per server), as the classifier would build them,
    and its planted clean set (honest near misses of every rule, ``plants.CLEAN_TOOLS``)."""
    generated = [
        [tool_definition(dict(t)) for t in inventory.tools(seed, 1 + seed % 40)] for seed in seeds
    ]
    return [*generated, [tool_definition(dict(t)) for t in CLEAN_TOOLS]]


def measure(servers: list[list[ToolDefinition]]) -> tuple[int, int, Counter[str], list[str]]:
    """(servers, tools, hits per rule, hit lines) over servers given as tool lists."""
    per_rule: Counter[str] = Counter()
    lines: list[str] = []
    tools = 0
    for server in servers:
        tools += len(server)
        for finding in scan_tools(server):
            per_rule[finding.rule] += 1
            lines.append(f"{finding.rule}\t{finding.tool}\t{finding.location}\t{finding.evidence}")
    return len(servers), tools, per_rule, lines


def _report(label: str, servers: list[list[ToolDefinition]]) -> None:
    count, tools, per_rule, lines = measure(servers)
    flagged = sum(per_rule.values())
    print(f"{label}: {tools} tool definitions, {count} servers, {flagged} findings")
    rate = flagged / max(tools, 1)
    # With no hit, the rule of three gives the 95% upper bound of the rate: 3 / n.
    bound = 3 / max(tools, 1) if flagged == 0 else None
    shown = f"{rate:.4%}" + (f" (95% upper bound {bound:.3%})" if bound is not None else "")
    print(f"  false-positive rate per tool: {shown}")
    for rule in RULES:
        print(f"  {rule.rule:26} {per_rule.get(rule.rule, 0)}")
    for line in lines:
        print("  HIT", line)


def _write_fixture(entries: list[dict[str, Any]]) -> None:
    risky = [e for e in entries if _RISKY.search(json.dumps(e, ensure_ascii=False))]
    rest = [e for e in entries if e not in risky]
    chosen = risky[: FIXTURE_SIZE * 3 // 4]
    chosen += rest[:: max(1, len(rest) // (FIXTURE_SIZE - len(chosen)))][
        : FIXTURE_SIZE - len(chosen)
    ]
    payload = {
        "about": (
            "A slice of ../shared/data/registries/ (official MCP Registry metadata, CC0 1.0 per "
            "modelcontextprotocol/registry docs/terms.md §10; Docker catalogue entries, MIT, "
            "docker/mcp-registry), each entry reshaped as a pseudo tool by "
            "tests/findings/corpus.py. Regenerate: "
            "uv run python -m tests.findings.measure_false_positives --write-fixture"
        ),
        "entries": chosen,
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    # One entry per line: small, and diffs stay readable.
    lines = ",\n".join(json.dumps(e, ensure_ascii=False, sort_keys=True) for e in chosen)
    about = json.dumps(payload["about"], ensure_ascii=False)
    FIXTURE.write_text(f'{{"about": {about},\n"entries": [\n{lines}\n]}}\n', encoding="utf-8")
    print(f"wrote {len(chosen)} entries to {FIXTURE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write-fixture", action="store_true")
    args = parser.parse_args()
    entries = list(registry_entries())
    if args.write_fixture:
        _write_fixture(entries)
        return
    _report("registry texts", [[tool_definition(e)] for e in entries])
    _report("testbed clean tools", clean_testbed_servers())


if __name__ == "__main__":
    main()
