"""census.store: the schema (models + alembic), the database selection, repository functions."""

from census.store.engine import DatabaseTarget, make_engine, resolve_database

__all__ = ["DatabaseTarget", "make_engine", "resolve_database"]
