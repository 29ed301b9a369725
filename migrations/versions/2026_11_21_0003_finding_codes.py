"""finding codes: the security-findings codes (identity changes, downgrades, impersonation).

The findings CHECK constraint is rewritten with the whole list (a migration is a snapshot;
tests/store/test_vocabulary_db.py proves it equals census.vocabulary.Finding).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 20:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

V1 = (
    "secret_in_url", "plain_http", "many_tools", "origin_not_validated", "cors_open",
    "tls_invalid", "tool_leak", "hidden_instructions", "invisible_unicode", "ansi_escape",
    "encoded_blob", "tool_shadowing", "exfiltration_hint", "oversized_definition", "rug_pull",
)  # fmt: skip
ADDED = (
    "server_identity_changed", "protocol_downgrade", "auth_downgrade", "tls_downgrade",
    "impersonation",
)  # fmt: skip


def _check(codes: Sequence[str]) -> str:
    return "findings <@ ARRAY[" + ", ".join(f"'{c}'" for c in codes) + "]::text[]"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_observations_findings"), "observations", type_="check")
    op.create_check_constraint(op.f("ck_observations_findings"), "observations", _check(V1 + ADDED))


def downgrade() -> None:
    op.drop_constraint(op.f("ck_observations_findings"), "observations", type_="check")
    op.create_check_constraint(op.f("ck_observations_findings"), "observations", _check(V1))
