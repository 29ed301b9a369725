"""alembic environment: runs migrations on the connection census hands over (or on the URL in
the config / DATABASE_URL when a developer runs `alembic` directly)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from census.store.engine import normalize_url
from census.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL (or use `census db upgrade`, which knows the database)")
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
