"""Precision on real, honest text: no rule fires on registry descriptions or the testbed's clean
tools.  The full measurement (and its printed rate) is ``python -m
tests.findings.measure_false_positives``; this test holds its result."""

from __future__ import annotations

import pytest

from census.findings.poisoning import scan_tools
from census.testbed import inventory
from tests.findings.corpus import REGISTRIES, fixture_entries, registry_entries, tool_definition


def test_the_fixture_slice_of_registry_texts_raises_no_finding() -> None:
    entries = fixture_entries()
    assert len(entries) >= 200
    hits = [
        (e["name"], f.rule, f.evidence) for e in entries for f in scan_tools([tool_definition(e)])
    ]
    assert hits == []


def test_the_testbed_clean_tool_lists_raise_no_finding() -> None:
    hits = []
    for seed in range(200):
        listed = [tool_definition(dict(t)) for t in inventory.tools(seed, 1 + seed % 40)]
        hits += [(seed, f.rule, f.evidence) for f in scan_tools(listed)]
    assert hits == []


@pytest.mark.skipif(not REGISTRIES.is_dir(), reason="shared registry data not on this machine")
def test_every_registry_text_in_the_shared_data_raises_no_finding() -> None:
    entries = list(registry_entries())
    assert len(entries) > 1_000
    hits = [
        (e["name"], f.rule, f.evidence) for e in entries for f in scan_tools([tool_definition(e)])
    ]
    assert hits == []
