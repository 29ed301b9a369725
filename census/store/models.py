"""SQLAlchemy 2 typed models of the census schema.

The schema itself is created only by alembic (``migrations/``); these models describe it for
queries and for ``alembic check``.  The run-scoped tables (observations, evidence,
observation_tools) are ``PARTITION BY LIST (run_id)``: each crawl run gets its own partitions
(created by :func:`census.store.runs.create_run`), so dropping or archiving a run is a
``DETACH``/``DROP`` of three small tables instead of a large ``DELETE``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from census.vocabulary import CLOSED_COLUMNS, Finding, RunStatus, ShardState

__all__ = [
    "EVIDENCE_MAX_BYTES",
    "NAMING_CONVENTION",
    "Base",
    "CrawlConfirmation",
    "CrawlRun",
    "CrawlSchedule",
    "CrawlShard",
    "Endpoint",
    "EvidenceRow",
    "Listing",
    "ObservationRow",
    "ObservationTool",
    "Source",
    "SourceRead",
    "ToolDefinitionRow",
]

#: Constraint names are derived, never left to the server, so migrations can name them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Evidence of one probe is capped (the prober caps each body; this caps the whole document).
EVIDENCE_MAX_BYTES = 1_048_576

TZ = DateTime(timezone=True)


def _in_check(column: str, values: type[StrEnum]) -> str:
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"


def _subset_check(column: str, values: type[StrEnum]) -> str:
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} <@ ARRAY[{listed}]::text[]"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    """A discovery source (a registry, a catalogue, a list, a seed file, a domain list)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class SourceRead(Base):
    """One read of a source: when, and what it yielded."""

    __tablename__ = "source_reads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(TZ)
    since: Mapped[datetime | None] = mapped_column(TZ)
    entries: Mapped[int] = mapped_column(Integer, server_default="0")
    remote_urls: Mapped[int] = mapped_column(Integer, server_default="0")
    new_endpoints: Mapped[int] = mapped_column(Integer, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)


class Endpoint(Base):
    """One canonical endpoint URL, however many sources list it."""

    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    host: Mapped[str] = mapped_column(Text, index=True)
    registrable_domain: Mapped[str | None] = mapped_column(Text, index=True)
    platform_host: Mapped[bool] = mapped_column(Boolean, server_default="false")
    secret_in_url: Mapped[bool] = mapped_column(Boolean, server_default="false")
    first_seen: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    still_listed: Mapped[bool] = mapped_column(Boolean, server_default="true")


class Listing(Base):
    """A source listing an endpoint, with the raw entry as provenance."""

    __tablename__ = "listings"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    server_name: Mapped[str | None] = mapped_column(Text)
    server_version: Mapped[str | None] = mapped_column(Text)
    repository: Mapped[str | None] = mapped_column(Text)
    transport_hint: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    still_listed: Mapped[bool] = mapped_column(Boolean, server_default="true")


RUN_STATUSES = tuple(s.value for s in RunStatus)

#: The ``attempts`` rule (census.vocabulary.VERDICT_RULE) as a CHECK constraint.
ATTEMPTS_CHECK = (
    "(attempts = 1 AND confirmed IS NULL AND flapping IS NULL)"
    " OR (attempts = 2 AND confirmed IS NOT NULL AND flapping = (NOT confirmed))"
)


class CrawlRun(Base):
    """One crawl: its configuration, methodology, progress counts and timings."""

    __tablename__ = "crawl_runs"
    __table_args__ = (CheckConstraint(_in_check("status", RunStatus), name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    methodology_version: Mapped[str] = mapped_column(Text)
    census_version: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    timings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    endpoint_total: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(TZ)
    finished_at: Mapped[datetime | None] = mapped_column(TZ)


class CrawlShard(Base):
    """A unit of crawl work: the endpoints of one host (or several small hosts), one queue job."""

    __tablename__ = "crawl_shards"
    __table_args__ = (CheckConstraint(_in_check("state", ShardState), name="state"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True
    )
    shard_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_key: Mapped[str] = mapped_column(Text)
    endpoint_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    state: Mapped[str] = mapped_column(Text, server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    finished_at: Mapped[datetime | None] = mapped_column(TZ)


class CrawlConfirmation(Base):
    """The second probes of one shard's confirmable endpoints: one queue job, due at
    ``not_before`` (census.crawl.confirm).  A control table like ``crawl_shards``: it goes with
    its run (``ON DELETE CASCADE``)."""

    __tablename__ = "crawl_confirmations"
    __table_args__ = (CheckConstraint(_in_check("state", ShardState), name="state"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True
    )
    shard_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    not_before: Mapped[datetime] = mapped_column(TZ)
    state: Mapped[str] = mapped_column(Text, server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    finished_at: Mapped[datetime | None] = mapped_column(TZ)


class CrawlSchedule(Base):
    """A recurring crawl: a cron expression and the crawl request it starts."""

    __tablename__ = "crawl_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cron: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class ObservationRow(Base):
    """One endpoint in one run: a typed column for every column of the vocabulary."""

    __tablename__ = "observations"
    __table_args__ = (
        *(
            CheckConstraint(_in_check(column, values), name=column)
            for column, values in CLOSED_COLUMNS.items()
        ),
        CheckConstraint(_subset_check("findings", Finding), name="findings"),
        Index("ix_observations_run_id_status", "run_id", "status"),
        # A healthy endpoint has no failure reason (the vocabulary's rule).
        CheckConstraint("status <> 'healthy' OR failure_reason IS NULL", name="healthy_no_reason"),
        # Probed once: nothing to agree on; probed twice: confirmed xor flapping.
        CheckConstraint(ATTEMPTS_CHECK, name="attempts"),
        {"postgresql_partition_by": "LIST (run_id)"},
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), primary_key=True)
    probed_at: Mapped[datetime] = mapped_column(TZ)
    methodology_version: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    era: Mapped[str | None] = mapped_column(Text)
    transport: Mapped[str | None] = mapped_column(Text)
    protocol_version: Mapped[str | None] = mapped_column(Text)
    session: Mapped[str | None] = mapped_column(Text)
    server_name: Mapped[str | None] = mapped_column(Text)
    server_version: Mapped[str | None] = mapped_column(Text)
    auth_class: Mapped[str | None] = mapped_column(Text)
    oauth_issuer: Mapped[str | None] = mapped_column(Text)
    oauth_dcr: Mapped[bool | None] = mapped_column(Boolean)
    oauth_cimd: Mapped[bool | None] = mapped_column(Boolean)
    oauth_pkce_s256: Mapped[bool | None] = mapped_column(Boolean)
    cors_class: Mapped[str | None] = mapped_column(Text)
    origin_validated: Mapped[bool | None] = mapped_column(Boolean)
    rate_limit_class: Mapped[str | None] = mapped_column(Text)
    tool_count: Mapped[int | None] = mapped_column(Integer)
    resource_count: Mapped[int | None] = mapped_column(Integer)
    prompt_count: Mapped[int | None] = mapped_column(Integer)
    tool_tokens: Mapped[int | None] = mapped_column(Integer)
    tls: Mapped[str | None] = mapped_column(Text)
    tls_days_left: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Double)
    findings: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    # Confirmation within a run (census.vocabulary.VERDICT_RULE; constraint ``attempts``).
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    confirmed: Mapped[bool | None] = mapped_column(Boolean)
    flapping: Mapped[bool | None] = mapped_column(Boolean)


class EvidenceRow(Base):
    """The raw evidence of one probe, kept apart so analytic scans of observations stay narrow."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(f"size_bytes <= {EVIDENCE_MAX_BYTES}", name="size_cap"),
        {"postgresql_partition_by": "LIST (run_id)"},
    )

    # No foreign key to observations: a key between two partitioned tables pins each run's
    # partitions to each other and blocks dropping a run partition by partition.
    run_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), primary_key=True)
    #: 1 for the first probe, 2 for the confirmation (census.crawl.confirm): both are kept.
    attempt: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="1")
    size_bytes: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class ToolDefinitionRow(Base):
    """A tool definition, content-addressed by the SHA-256 of its canonical JSON."""

    __tablename__ = "tool_definitions"

    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    input_schema: Mapped[Any] = mapped_column(JSONB)
    canonical_json: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer)
    tokenizer: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class ObservationTool(Base):
    """Which tool definitions one observation listed, in listing order."""

    __tablename__ = "observation_tools"
    __table_args__ = ({"postgresql_partition_by": "LIST (run_id)"},)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tool_sha256: Mapped[str] = mapped_column(ForeignKey("tool_definitions.sha256"), index=True)
