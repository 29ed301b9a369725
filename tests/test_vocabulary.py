"""The vocabulary is defined once; the README documents every value of every closed column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import census.vocabulary as vocabulary
from census.records import Observation
from census.vocabulary import CLOSED_COLUMNS, COLUMNS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("column", sorted(CLOSED_COLUMNS))
def test_readme_documents_every_value_of_each_closed_column(column: str) -> None:
    section = README[README.index("## Vocabulary") :]
    missing = [v.value for v in CLOSED_COLUMNS[column] if f"`{v.value}`" not in section]
    assert not missing, f"{column}: README's vocabulary section lacks {missing}"


def test_observation_record_has_a_field_for_every_probe_column() -> None:
    assigned_later = {"run_id", "sources"}  # known only when the crawl stores the observation
    fields = set(Observation.__dataclass_fields__)
    assert set(COLUMNS) - assigned_later <= fields


def test_values_are_lower_case_identifiers() -> None:
    for enum in CLOSED_COLUMNS.values():
        for value in enum:
            assert re.fullmatch(r"[a-z0-9_]+", value.value), value


def test_all_names_every_public_vocabulary_member() -> None:
    public = {
        name
        for name, obj in vars(vocabulary).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == vocabulary.__name__
    }
    assert public <= set(vocabulary.__all__)


def test_readme_documents_every_finding_code() -> None:
    from census.vocabulary import Finding

    section = README[README.index("## Vocabulary") :]
    missing = [f.value for f in Finding if f"`{f.value}`" not in section]
    assert not missing, f"README's vocabulary section lacks finding codes {missing}"
