"""Our own failures (configuration, database, usage).  Remote misbehaviour is never an exception
here: it becomes an Observation with a FailureReason.

    CensusError                  one clear line for the user, non-zero exit
    ├── ConfigError              bad settings, malformed URL or file given by the user
    ├── UsageError               a command used in a way that cannot work
    └── DatabaseError            the database cannot be used
        ├── DatabaseUnreachable  connection refused / timed out / unknown host
        ├── DatabaseDenied       authentication or permission failure
        └── SchemaMismatch       the database is newer than this code, or not migrated
"""

from __future__ import annotations

__all__ = [
    "CensusError",
    "ConfigError",
    "DatabaseDenied",
    "DatabaseError",
    "DatabaseUnreachable",
    "SchemaMismatch",
    "UsageError",
]


class CensusError(Exception):
    """Base of every error census reports to its user as one line."""

    exit_code = 1


class ConfigError(CensusError):
    exit_code = 2


class UsageError(CensusError):
    exit_code = 2


class DatabaseError(CensusError):
    exit_code = 3


class DatabaseUnreachable(DatabaseError):
    pass


class DatabaseDenied(DatabaseError):
    pass


class SchemaMismatch(DatabaseError):
    pass
