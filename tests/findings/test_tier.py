"""Maintenance tier 1/2/3/X from registry metadata, and the impersonation finding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from census.findings.tier import (
    NamespaceKind,
    ServerMeta,
    Tier,
    impersonation,
    maintenance_tier,
    server_meta_from_registry,
)
from census.vocabulary import Finding
from tests.findings.corpus import REGISTRIES

NOW = datetime(2026, 11, 21, tzinfo=UTC)
FRESH = NOW - timedelta(days=10)
REPO = "https://github.com/acme/acme-mcp"


@pytest.mark.parametrize(
    ("meta", "tier", "kind"),
    [
        (ServerMeta("com.acme/mcp", None, None, FRESH, ("acme.com",)), Tier.ONE, "domain"),
        (ServerMeta("com.acme.mcp/tools", None, None, FRESH, ("acme.com",)), Tier.ONE, "domain"),
        (ServerMeta("com.acme/mcp", None, REPO, FRESH, ("vercel.app",)), Tier.TWO, "domain"),
        (ServerMeta("com.acme/mcp", None, None, None, ()), Tier.TWO, "domain"),
        (ServerMeta("io.github.jdoe/acme", None, REPO, FRESH, ("acme.com",)), Tier.THREE, "github"),
        (ServerMeta("io.github.jdoe/acme", None, None, FRESH, ("x.dev",)), Tier.X, "github"),
        (
            ServerMeta("io.github.stripe/agent", None, None, FRESH, ("stripe.com",)),
            Tier.ONE,
            "github",
        ),
        (ServerMeta("io.github.stripe/agent", None, None, FRESH, ("x.dev",)), Tier.TWO, "github"),
        (
            ServerMeta("com.acme/mcp", None, REPO, NOW - timedelta(days=91), ("acme.com",)),
            Tier.X,
            "domain",
        ),
        (
            ServerMeta("com.acme/mcp", None, REPO, NOW - timedelta(days=90), ("acme.com",)),
            Tier.ONE,
            "domain",
        ),
    ],
)
def test_tiers_follow_namespace_hosting_repository_and_age(
    meta: ServerMeta, tier: Tier, kind: str
) -> None:
    result = maintenance_tier(meta, now=NOW)
    assert result.tier is tier, result.basis
    assert result.namespace_kind is NamespaceKind(kind)


def test_a_server_without_a_registry_namespace_has_no_tier() -> None:
    result = maintenance_tier(ServerMeta("acme-mcp"), now=NOW)
    assert result.tier is None and result.namespace_kind is None


def test_days_since_update_and_the_proven_domain_are_reported() -> None:
    result = maintenance_tier(
        ServerMeta("uk.co.acme.mcp/x", None, None, NOW - timedelta(days=3), ("acme.co.uk",)),
        now=NOW,
    )
    assert (result.namespace_domain, result.days_since_update) == ("acme.co.uk", 3)
    assert result.hosted_by_publisher and result.tier is Tier.ONE


def test_registry_items_of_both_schemas_are_read() -> None:
    current = {
        "server": {
            "name": "com.acme/mcp",
            "title": "Acme",
            "repository": {"url": REPO, "source": "github"},
            "remotes": [
                {"type": "streamable-http", "url": "https://mcp.acme.com/mcp"},
                {"type": "sse", "url": "https://user:pw@sse.acme.com/sse?key=x"},
            ],
        },
        "_meta": {
            "io.modelcontextprotocol.registry/official": {
                "publishedAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-11-01T12:00:00.5Z",
            }
        },
    }
    meta = server_meta_from_registry(current)
    assert meta == ServerMeta(
        "com.acme/mcp", "Acme", REPO, datetime(2026, 11, 1, 12, 0, 0, 500000, UTC), ("acme.com",)
    )
    seed = {
        "name": "io.github.jdoe/tool",
        "repository": {"url": REPO},
        "version_detail": {"version": "1.0", "release_date": "2025-05-16T18:56:57Z"},
        "remotes": [{"transport_type": "sse", "url": "http://localhost:3000/sse"}],
    }
    meta = server_meta_from_registry(seed)
    assert meta.updated_at == datetime(2025, 5, 16, 18, 56, 57, tzinfo=UTC)
    assert meta.endpoint_domains == ()
    assert maintenance_tier(meta, now=NOW).tier is Tier.X


@pytest.mark.parametrize(
    ("meta", "brand"),
    [
        (ServerMeta("io.github.jdoe/postmark-mcp"), "Postmark"),
        (ServerMeta("io.github.jdoe/PostmarkMCP"), "Postmark"),
        (ServerMeta("io.github.jdoe/mailer", "Postmark MCP Server"), "Postmark"),
        (ServerMeta("com.postmark-mcp/mailer"), "Postmark"),
        (ServerMeta("com.acme/payments", "Official Stripe Server"), "Stripe"),
        (ServerMeta("io.github.jdoe/hugging-face-mcp"), "Hugging Face"),
    ],
)
def test_a_name_or_title_claiming_a_brand_it_does_not_own_is_impersonation(
    meta: ServerMeta, brand: str
) -> None:
    found = impersonation(meta)
    assert found is not None and found.code is Finding.IMPERSONATION and found.brand == brand


@pytest.mark.parametrize(
    "meta",
    [
        ServerMeta("com.postmarkapp/mcp", "Postmark"),
        ServerMeta("io.github.activecampaign/postmark-mcp"),
        ServerMeta("io.github.jdoe/postmark-mcp", endpoint_domains=("postmarkapp.com",)),
        ServerMeta("io.github.jdoe/postmark-invoice-sync"),
        ServerMeta("io.github.jdoe/unofficial-postmark-mcp"),
        ServerMeta("io.github.jdoe/mcp-server", "Send mail via Postmark"),
        ServerMeta("ai.waystation/slack", "Slack"),
        ServerMeta("net.todoist/mcp", endpoint_domains=("todoist.net",)),
        ServerMeta("io.github.jdoe/square-root"),
    ],
)
def test_owned_qualified_or_descriptive_names_are_not_impersonation(meta: ServerMeta) -> None:
    assert impersonation(meta) is None


def _latest_items() -> list[dict[str, object]]:
    path = REGISTRIES / "joelverhagen-mcp-insights_servers_2025-12-18.json"
    items: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    official = "io.modelcontextprotocol.registry/official"
    return [i for i in items if i.get("_meta", {}).get(official, {}).get("isLatest")]  # type: ignore[attr-defined]


@pytest.mark.skipif(not REGISTRIES.is_dir(), reason="shared registry data not on this machine")
def test_no_registry_server_with_a_remote_endpoint_is_flagged_as_impersonation() -> None:
    metas = [server_meta_from_registry(i) for i in _latest_items()]
    remote = [m for m in metas if m.endpoint_domains]
    assert len(remote) > 400
    assert [m.name for m in remote if impersonation(m)] == []
    # Community packages named after a brand do exist (figma-context-mcp, gmail-mcp): few.
    assert sum(1 for m in metas if impersonation(m)) <= len(metas) * 0.02


@pytest.mark.skipif(not REGISTRIES.is_dir(), reason="shared registry data not on this machine")
def test_every_latest_registry_server_gets_a_tier() -> None:
    snapshot = datetime(2025, 12, 18, tzinfo=UTC)
    tiers = [maintenance_tier(server_meta_from_registry(i), now=snapshot) for i in _latest_items()]
    assert all(t.tier is not None for t in tiers)
    assert {t.tier for t in tiers} == set(Tier)


def test_the_export_row_has_exactly_the_tier_columns() -> None:
    from census.findings.tier import TIER_COLUMNS

    row = maintenance_tier(
        ServerMeta("com.acme/mcp", None, REPO, FRESH, ("acme.com",)), now=NOW
    ).as_row()
    assert tuple(row) == TIER_COLUMNS
    assert row["maintenance_tier"] == "1" and row["hosted_by_publisher"] == "true"
    assert row["namespace_domain"] == "acme.com" and row["days_since_update"] == 10
