"""Schema migrations through alembic, configured in code so no ini file is needed at run time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicCommandError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from census.errors import SchemaMismatch, UsageError
from census.store.engine import connect_error

__all__ = ["SchemaStatus", "alembic_config", "downgrade", "schema_status", "upgrade"]


def _script_location() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "migrations", here.parent.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise SchemaMismatch("the migrations folder is missing from this installation of census")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    return config


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: str | None  # revision stamped in the database (None: empty database)
    head: str
    pending: tuple[str, ...]  # revisions upgrade would apply, oldest first

    @property
    def up_to_date(self) -> bool:
        return not self.pending and self.current == self.head


def schema_status(engine: Engine, where: str) -> SchemaStatus:
    """Where the database stands against this code's migrations."""
    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    head = heads[0]
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise connect_error(exc, where) from exc
    if current is not None and not _known(script, current):
        raise SchemaMismatch(
            f"the database at {where} is at schema revision {current!r}, which this version of "
            "census does not know: it is newer than the code (upgrade census)"
        )
    pending = tuple(
        rev.revision
        for rev in reversed(list(script.iterate_revisions(head, current)))
        if rev.revision != current
    )
    return SchemaStatus(current=current, head=head, pending=pending)


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except AlembicCommandError:  # an unknown revision id
        return False


def upgrade(engine: Engine, where: str, revision: str = "head") -> SchemaStatus:
    """Apply pending migrations; returns the new status."""
    schema_status(engine, where)  # refuses a database newer than the code
    _run(engine, where, lambda config: command.upgrade(config, revision))
    return schema_status(engine, where)


def downgrade(engine: Engine, where: str, revision: str) -> SchemaStatus:
    _run(engine, where, lambda config: command.downgrade(config, revision))
    return schema_status(engine, where)


def _run(engine: Engine, where: str, action: object) -> None:
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            action(config)  # type: ignore[operator]
    except DBAPIError as exc:
        raise connect_error(exc, where) from exc
    except AlembicCommandError as exc:  # e.g. an unknown revision: the user's argument
        raise UsageError(f"cannot migrate the database at {where}: {exc}") from exc
