"""crawl queue: procrastinate's schema (in its own PostgreSQL schema), crawl shards, schedules.

procrastinate's tables and functions live in the schema ``procrastinate`` so they never mix with
ours and downgrade is one ``DROP SCHEMA``; census's procrastinate connector puts that schema on
its search_path.  The SQL applied is the schema shipped with the pinned procrastinate version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 20:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS procrastinate")
    op.execute("SET LOCAL search_path TO procrastinate, public")
    # exec_driver_sql: the schema text contains '%' signs that are not parameters.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    op.execute("SET LOCAL search_path TO public")
    op.create_table(
        "crawl_shards",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("shard_no", sa.Integer(), nullable=False),
        sa.Column("host_key", sa.Text(), nullable=False),
        sa.Column("endpoint_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'done')", name=op.f("ck_crawl_shards_state")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_crawl_shards_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "shard_no", name=op.f("pk_crawl_shards")),
    )
    op.create_index(
        op.f("ix_observations_run_id_status"), "observations", ["run_id", "status"], unique=False
    )
    op.create_table(
        "crawl_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cron", sa.Text(), nullable=False),
        sa.Column(
            "config", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_schedules")),
    )


def downgrade() -> None:
    op.drop_table("crawl_schedules")
    op.drop_index(op.f("ix_observations_run_id_status"), table_name="observations")
    op.drop_table("crawl_shards")
    op.execute("DROP SCHEMA IF EXISTS procrastinate CASCADE")
