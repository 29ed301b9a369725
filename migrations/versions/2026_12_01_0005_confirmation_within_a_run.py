"""Confirmation within a run: a second probe of transient-looking failures (issue 13).

``observations`` gains ``attempts`` (1 or 2), ``confirmed`` and ``flapping`` (empty when probed
once; otherwise exactly one is true — constraint ``attempts``, census.vocabulary.VERDICT_RULE).
``evidence`` gains ``attempt`` in its primary key, so both probes' evidence is kept in the run's
own evidence partition (dropping a run stays three ``DROP TABLE``s).  ``crawl_runs.status``
gains ``confirming``; ``crawl_confirmations`` holds one row per shard whose confirmable
endpoints are probed again (a control table like ``crawl_shards``, deleted with its run).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_STATUSES_V1 = ("pending", "running", "complete", "stopped", "failed")
RUN_STATUSES_ADDED = ("confirming",)
SHARD_STATES = ("queued", "done", "failed")
ATTEMPTS_CHECK = (
    "(attempts = 1 AND confirmed IS NULL AND flapping IS NULL)"
    " OR (attempts = 2 AND confirmed IS NOT NULL AND flapping = (NOT confirmed))"
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _run_statuses(values: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_crawl_runs_status"), "crawl_runs", type_="check")
    op.create_check_constraint(op.f("ck_crawl_runs_status"), "crawl_runs", _in("status", values))


def upgrade() -> None:
    _run_statuses(RUN_STATUSES_V1 + RUN_STATUSES_ADDED)
    op.add_column(
        "observations",
        sa.Column("attempts", sa.SmallInteger(), server_default="1", nullable=False),
    )
    op.add_column("observations", sa.Column("confirmed", sa.Boolean(), nullable=True))
    op.add_column("observations", sa.Column("flapping", sa.Boolean(), nullable=True))
    op.create_check_constraint(op.f("ck_observations_attempts"), "observations", ATTEMPTS_CHECK)
    op.add_column(
        "evidence", sa.Column("attempt", sa.SmallInteger(), server_default="1", nullable=False)
    )
    op.drop_constraint(op.f("pk_evidence"), "evidence", type_="primary")
    op.create_primary_key(op.f("pk_evidence"), "evidence", ["run_id", "endpoint_id", "attempt"])
    op.create_table(
        "crawl_confirmations",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("shard_no", sa.Integer(), nullable=False),
        sa.Column("endpoint_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("state", SHARD_STATES), name=op.f("ck_crawl_confirmations_state")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_crawl_confirmations_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "shard_no", name=op.f("pk_crawl_confirmations")),
    )


def downgrade() -> None:
    op.drop_table("crawl_confirmations")
    # The second attempts' evidence has no place in the old key: it goes (the observation that
    # stands is kept, without its attempt columns).
    op.execute("DELETE FROM evidence WHERE attempt <> 1")
    op.drop_constraint(op.f("pk_evidence"), "evidence", type_="primary")
    op.create_primary_key(op.f("pk_evidence"), "evidence", ["run_id", "endpoint_id"])
    op.drop_column("evidence", "attempt")
    op.drop_constraint(op.f("ck_observations_attempts"), "observations", type_="check")
    op.drop_column("observations", "flapping")
    op.drop_column("observations", "confirmed")
    op.drop_column("observations", "attempts")
    op.execute("UPDATE crawl_runs SET status = 'stopped' WHERE status = 'confirming'")
    _run_statuses(RUN_STATUSES_V1)
