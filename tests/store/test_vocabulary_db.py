"""The database's CHECK constraints equal the Python vocabulary, value for value."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
import sqlalchemy as sa

from census.vocabulary import CLOSED_COLUMNS, Finding, RunStatus, ShardState


def _check_definitions(engine: sa.Engine, table: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = CAST(:t AS regclass) AND contype = 'c'"
            ),
            {"t": table},
        ).all()
    return {name: definition for name, definition in rows}


def _quoted_values(definition: str) -> set[str]:
    return set(re.findall(r"'([^']*)'::text", definition))


@pytest.mark.parametrize("column", sorted(CLOSED_COLUMNS))
def test_closed_column_constraint_lists_exactly_the_vocabulary(
    engine: sa.Engine, column: str
) -> None:
    definitions = _check_definitions(engine, "observations")
    definition = definitions[f"ck_observations_{column}"]
    assert _quoted_values(definition) == {v.value for v in CLOSED_COLUMNS[column]}


def test_findings_constraint_lists_exactly_the_finding_codes(engine: sa.Engine) -> None:
    definition = _check_definitions(engine, "observations")["ck_observations_findings"]
    assert _quoted_values(definition) == {f.value for f in Finding}


def test_every_closed_column_of_the_vocabulary_is_constrained(engine: sa.Engine) -> None:
    names = set(_check_definitions(engine, "observations"))
    assert {f"ck_observations_{c}" for c in CLOSED_COLUMNS} <= names


@pytest.mark.parametrize(
    ("table", "column", "values"),
    [("crawl_runs", "status", RunStatus), ("crawl_shards", "state", ShardState)],
)
def test_run_and_shard_states_are_the_vocabulary(
    engine: sa.Engine, table: str, column: str, values: type[StrEnum]
) -> None:
    definition = _check_definitions(engine, table)[f"ck_{table}_{column}"]
    assert _quoted_values(definition) == {v.value for v in values}
