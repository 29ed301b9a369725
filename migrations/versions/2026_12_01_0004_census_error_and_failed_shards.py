"""census_error and failed shards: census's own failures are observations; shards can fail.

``failure_reason`` gains ``census_error`` (an endpoint census's own code failed on: observed as
``skipped``, never lost); ``crawl_shards.state`` gains ``failed`` (a shard that failed after its
retries; its run is marked ``failed`` and ``census crawl --resume`` queues it again).  The run
statuses are unchanged but now come from ``census.vocabulary.RunStatus``.  The CHECK constraints
are rewritten with the whole lists (a migration is a snapshot; tests/store/test_vocabulary_db.py
proves they equal census.vocabulary).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS_V1 = (
    "dns_error", "connect_refused", "connect_timeout", "tls_error", "timeout",
    "connection_reset", "body_too_large", "http_5xx", "http_429", "http_404", "http_4xx",
    "not_json", "not_jsonrpc", "protocol_error", "list_failed", "redirect_refused",
    "private_address", "opted_out", "invalid_url",
)  # fmt: skip
REASONS_ADDED = ("census_error",)
SHARD_STATES_V1 = ("queued", "done")
SHARD_STATES_ADDED = ("failed",)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _reasons(values: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_observations_failure_reason"), "observations", type_="check")
    op.create_check_constraint(
        op.f("ck_observations_failure_reason"), "observations", _in("failure_reason", values)
    )


def _shard_states(values: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_crawl_shards_state"), "crawl_shards", type_="check")
    op.create_check_constraint(op.f("ck_crawl_shards_state"), "crawl_shards", _in("state", values))


def upgrade() -> None:
    _reasons(REASONS_V1 + REASONS_ADDED)
    _shard_states(SHARD_STATES_V1 + SHARD_STATES_ADDED)


def downgrade() -> None:
    # Rows using the added values would violate the old constraints: fold them back first.
    op.execute("UPDATE crawl_shards SET state = 'queued' WHERE state = 'failed'")
    op.execute(
        "UPDATE observations SET failure_reason = NULL WHERE failure_reason = 'census_error'"
    )
    _shard_states(SHARD_STATES_V1)
    _reasons(REASONS_V1)
