"""schema v1: sources, endpoints, listings, crawl runs, observations, evidence, tools.

The run-scoped tables are partitioned by LIST (run_id); partitions are created per run by
census.store.runs.  The vocabulary CHECK constraints are written out literally here (a migration
is a snapshot); tests/store/test_vocabulary_db.py proves they equal census.vocabulary.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 20:05:28.051642
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column(
            "config", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("methodology_version", sa.Text(), nullable=False),
        sa.Column("census_version", sa.Text(), nullable=False),
        sa.Column(
            "counts", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "timings", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("endpoint_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'complete', 'stopped', 'failed')",
            name=op.f("ck_crawl_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_table(
        "endpoints",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("registrable_domain", sa.Text(), nullable=True),
        sa.Column("platform_host", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("secret_in_url", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("still_listed", sa.Boolean(), server_default="true", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("url", name=op.f("uq_endpoints_url")),
    )
    op.create_index(op.f("ix_endpoints_host"), "endpoints", ["host"], unique=False)
    op.create_index(
        op.f("ix_endpoints_registrable_domain"), "endpoints", ["registrable_domain"], unique=False
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "tool_definitions",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("input_schema", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("canonical_json", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("tokenizer", sa.Text(), nullable=False),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_tool_definitions")),
    )
    op.create_index(op.f("ix_tool_definitions_name"), "tool_definitions", ["name"], unique=False)
    op.create_table(
        "evidence",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint("size_bytes <= 1048576", name=op.f("ck_evidence_size_cap")),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["endpoints.id"], name=op.f("fk_evidence_endpoint_id_endpoints")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_evidence_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "endpoint_id", name=op.f("pk_evidence")),
        postgresql_partition_by="LIST (run_id)",
    )
    op.create_table(
        "listings",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "raw", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("server_name", sa.Text(), nullable=True),
        sa.Column("server_version", sa.Text(), nullable=True),
        sa.Column("repository", sa.Text(), nullable=True),
        sa.Column("transport_hint", sa.Text(), nullable=True),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("still_listed", sa.Boolean(), server_default="true", nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_listings_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_listings_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "endpoint_id", name=op.f("pk_listings")),
    )
    op.create_index(op.f("ix_listings_endpoint_id"), "listings", ["endpoint_id"], unique=False)
    op.create_table(
        "observation_tools",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tool_sha256", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_observation_tools_endpoint_id_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_observation_tools_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tool_sha256"],
            ["tool_definitions.sha256"],
            name=op.f("fk_observation_tools_tool_sha256_tool_definitions"),
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "endpoint_id", "position", name=op.f("pk_observation_tools")
        ),
        postgresql_partition_by="LIST (run_id)",
    )
    op.create_index(
        op.f("ix_observation_tools_tool_sha256"), "observation_tools", ["tool_sha256"], unique=False
    )
    op.create_table(
        "observations",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("probed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("methodology_version", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("era", sa.Text(), nullable=True),
        sa.Column("transport", sa.Text(), nullable=True),
        sa.Column("protocol_version", sa.Text(), nullable=True),
        sa.Column("session", sa.Text(), nullable=True),
        sa.Column("server_name", sa.Text(), nullable=True),
        sa.Column("server_version", sa.Text(), nullable=True),
        sa.Column("auth_class", sa.Text(), nullable=True),
        sa.Column("oauth_issuer", sa.Text(), nullable=True),
        sa.Column("oauth_dcr", sa.Boolean(), nullable=True),
        sa.Column("oauth_cimd", sa.Boolean(), nullable=True),
        sa.Column("oauth_pkce_s256", sa.Boolean(), nullable=True),
        sa.Column("cors_class", sa.Text(), nullable=True),
        sa.Column("origin_validated", sa.Boolean(), nullable=True),
        sa.Column("rate_limit_class", sa.Text(), nullable=True),
        sa.Column("tool_count", sa.Integer(), nullable=True),
        sa.Column("resource_count", sa.Integer(), nullable=True),
        sa.Column("prompt_count", sa.Integer(), nullable=True),
        sa.Column("tool_tokens", sa.Integer(), nullable=True),
        sa.Column("tls", sa.Text(), nullable=True),
        sa.Column("tls_days_left", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("findings", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.CheckConstraint(
            "auth_class IN ('none', 'oauth', 'oauth_partial', 'bearer', 'api_key', 'other_auth')",
            name=op.f("ck_observations_auth_class"),
        ),
        sa.CheckConstraint(
            "cors_class IN ('none', 'restricted', 'wildcard', 'reflect', 'reflect_credentials')",
            name=op.f("ck_observations_cors_class"),
        ),
        sa.CheckConstraint(
            "era IN ('modern', 'handshake', 'dual', 'legacy_sse')", name=op.f("ck_observations_era")
        ),
        sa.CheckConstraint(
            "failure_reason IN ('dns_error', 'connect_refused', 'connect_timeout', 'tls_error', 'timeout', 'connection_reset', 'body_too_large', 'http_5xx', 'http_429', 'http_404', 'http_4xx', 'not_json', 'not_jsonrpc', 'protocol_error', 'list_failed', 'redirect_refused', 'private_address', 'opted_out', 'invalid_url')",
            name=op.f("ck_observations_failure_reason"),
        ),
        sa.CheckConstraint(
            "findings <@ ARRAY['secret_in_url', 'plain_http', 'many_tools', 'origin_not_validated', 'cors_open', 'tls_invalid', 'tool_leak', 'hidden_instructions', 'invisible_unicode', 'ansi_escape', 'encoded_blob', 'tool_shadowing', 'exfiltration_hint', 'oversized_definition', 'rug_pull']::text[]",
            name=op.f("ck_observations_findings"),
        ),
        sa.CheckConstraint(
            "rate_limit_class IN ('enforced', 'advertised', 'none_observed')",
            name=op.f("ck_observations_rate_limit_class"),
        ),
        sa.CheckConstraint(
            "session IN ('stateful', 'stateless')", name=op.f("ck_observations_session")
        ),
        sa.CheckConstraint(
            "status <> 'healthy' OR failure_reason IS NULL",
            name=op.f("ck_observations_healthy_no_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('healthy', 'degraded', 'auth_required', 'not_mcp', 'http_error', 'unreachable', 'skipped')",
            name=op.f("ck_observations_status"),
        ),
        sa.CheckConstraint("tls IN ('valid', 'invalid', 'none')", name=op.f("ck_observations_tls")),
        sa.CheckConstraint(
            "transport IN ('streamable_http', 'sse')", name=op.f("ck_observations_transport")
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["endpoints.id"], name=op.f("fk_observations_endpoint_id_endpoints")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_observations_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "endpoint_id", name=op.f("pk_observations")),
        postgresql_partition_by="LIST (run_id)",
    )
    op.create_table(
        "source_reads",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("remote_urls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("new_endpoints", sa.Integer(), server_default="0", nullable=False),
        sa.Column("duplicates", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "rejected", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_source_reads_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_reads")),
    )
    op.create_index(op.f("ix_source_reads_source_id"), "source_reads", ["source_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_source_reads_source_id"), table_name="source_reads")
    op.drop_table("source_reads")
    op.drop_table("observations")
    op.drop_index(op.f("ix_observation_tools_tool_sha256"), table_name="observation_tools")
    op.drop_table("observation_tools")
    op.drop_index(op.f("ix_listings_endpoint_id"), table_name="listings")
    op.drop_table("listings")
    op.drop_table("evidence")
    op.drop_index(op.f("ix_tool_definitions_name"), table_name="tool_definitions")
    op.drop_table("tool_definitions")
    op.drop_table("sources")
    op.drop_index(op.f("ix_endpoints_registrable_domain"), table_name="endpoints")
    op.drop_index(op.f("ix_endpoints_host"), table_name="endpoints")
    op.drop_table("endpoints")
    op.drop_table("crawl_runs")
