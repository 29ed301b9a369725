"""The schema comes only from alembic: upgrade, downgrade, one head, no drift from the models."""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from census.store.engine import make_engine
from census.store.migrate import alembic_config, downgrade, schema_status, upgrade
from census.store.models import Base

PARTITIONED = {"observations", "evidence", "observation_tools"}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_migrations_have_exactly_one_head_and_date_prefixed_files() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        filename = revision.path.rsplit("/", 1)[-1]
        assert re.match(r"\d{4}_\d{2}_\d{2}_\w+\.py$", filename), filename


def test_upgrade_on_an_empty_database_creates_every_model_table(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert schema_status(engine, "test").current is None
        status = upgrade(engine, "test")
        assert status.up_to_date
        assert _tables(engine) == set(Base.metadata.tables)
        with engine.connect() as conn:
            partitioned = set(
                conn.execute(
                    sa.text(
                        "SELECT c.relname FROM pg_partitioned_table p"
                        " JOIN pg_class c ON c.oid = p.partrelid"
                    )
                ).scalars()
            )
        assert partitioned == PARTITIONED
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models_with_no_drift(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_to_base_then_upgrade_round_trips(engine: sa.Engine) -> None:
    assert downgrade(engine, "test", "base").current is None
    assert _tables(engine) == set()
    assert upgrade(engine, "test").up_to_date
    assert _tables(engine) == set(Base.metadata.tables)
