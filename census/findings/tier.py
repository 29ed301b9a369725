"""Maintenance tier per server (the seed article's Tier 1 / 2 / 3 / X) and impersonation.

Computed from registry metadata only (the official registry's ``{server, _meta}`` item, or the
pre-launch seed's flat shape).  The registry proves a publisher's *namespace*: ``com.example/…``
by a DNS or HTTP challenge on ``example.com``, ``io.github.<account>/…`` by GitHub login.  Rules,
first match wins:

* **X** (unmaintained): the latest version was updated more than 90 days before the reference
  date; or a community namespace with no repository listed (nothing public shows maintenance).
* **1** (run by the company itself): a domain namespace whose registrable domain also serves an
  endpoint of the server; or the verified GitHub organisation of a known brand (``brands.py``)
  whose domain serves the endpoint.
* **2** (published by the company, hosted elsewhere): a domain namespace, or a known brand's
  GitHub organisation, with endpoints elsewhere (or none listed).
* **3** (community): any other namespace (``io.github.<user>``), with a repository listed.

No update date means staleness is not judged (``days_since_update`` empty).  No registry name
means no tier.  The reference date is passed in (``now``): functions here never read the clock.

**Impersonation**: a server that *claims* a brand — after dropping filler words (mcp, server,
official, remote, api, …) nothing but the brand's name is left, or the word "official" appears
with it — while neither the publisher (namespace domain or verified GitHub organisation) nor any
endpoint's registrable domain belongs to that brand: the ``postmark-mcp`` pattern.  What can
claim: for community namespaces (``io.github.*``) the name after ``/`` and the title; for a
verified domain namespace the domain's own first label (``com.postmark-mcp/…``) and a title
with "official" — the verified domain already tells who publishes ``ai.waystation/slack``.
"unofficial", "community", "fork" or "wrapper" disclaim the claim.
``io.github.jdoe/stripe-mcp`` claims Stripe; ``io.github.jdoe/stripe-invoice-sync`` does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from publicsuffixlist import PublicSuffixList

from census.findings.brands import BRANDS, Brand
from census.findings.text import visible
from census.vocabulary import Finding

__all__ = [
    "STALE_AFTER_DAYS",
    "TIER_COLUMNS",
    "Impersonation",
    "NamespaceKind",
    "ServerMeta",
    "Tier",
    "TierResult",
    "impersonation",
    "maintenance_tier",
    "server_meta_from_registry",
]

#: The article: "Last commit over 90 days ago" → Tier X.
STALE_AFTER_DAYS = 90
_OFFICIAL_META = "io.modelcontextprotocol.registry/official"


class Tier(StrEnum):
    ONE = "1"
    TWO = "2"
    THREE = "3"
    X = "x"


class NamespaceKind(StrEnum):
    DOMAIN = "domain"  # reverse-DNS, proven by a DNS/HTTP challenge
    GITHUB = "github"  # io.github.<account>, proven by GitHub login
    OTHER = "other"  # anything else (no dot, unparsable)


@dataclass(frozen=True, slots=True)
class ServerMeta:
    """What the tier and impersonation rules read about one registry server.

    ``endpoint_domains``: registrable domains of its remote endpoint URLs.
    """

    name: str
    title: str | None = None
    repository_url: str | None = None
    updated_at: datetime | None = None
    endpoint_domains: tuple[str, ...] = ()


#: Export columns of a :class:`TierResult` (see :meth:`TierResult.as_row`).
TIER_COLUMNS = (
    "maintenance_tier",
    "tier_basis",
    "namespace_kind",
    "namespace_domain",
    "hosted_by_publisher",
    "repository_listed",
    "days_since_update",
)


@dataclass(frozen=True, slots=True)
class TierResult:
    tier: Tier | None
    namespace_kind: NamespaceKind | None
    namespace_domain: str | None  # the proven domain (domain kind) or github account
    hosted_by_publisher: bool
    repository_listed: bool
    days_since_update: int | None
    basis: str  # the rule that decided, in words

    def as_row(self) -> dict[str, str | int | None]:
        """Export cells keyed by :data:`TIER_COLUMNS` (booleans as ``true``/``false``)."""
        return {
            "maintenance_tier": None if self.tier is None else str(self.tier),
            "tier_basis": self.basis,
            "namespace_kind": None if self.namespace_kind is None else str(self.namespace_kind),
            "namespace_domain": self.namespace_domain,
            "hosted_by_publisher": str(self.hosted_by_publisher).lower(),
            "repository_listed": str(self.repository_listed).lower(),
            "days_since_update": self.days_since_update,
        }


@dataclass(frozen=True, slots=True)
class Impersonation:
    code: Finding
    brand: str
    claimed_by: str  # "name" or "title"
    evidence: str  # the claiming text, shown safely


@cache
def _psl() -> PublicSuffixList:
    # The bundled list (offline, the same as discovery's registrable_domain).
    return PublicSuffixList()


def _registrable(host: str) -> str | None:
    host = host.lower().strip(".")
    if not host or not re.fullmatch(r"[a-z0-9.-]+", host):
        return None
    result: str | None = _psl().privatesuffix(host)
    return result


def _namespace(name: str) -> tuple[NamespaceKind | None, str | None]:
    if "/" not in name:
        return None, None
    namespace = name.split("/", 1)[0].lower()
    if namespace.startswith("io.github."):
        account = namespace.removeprefix("io.github.")
        return NamespaceKind.GITHUB, account or None
    labels = namespace.split(".")
    if len(labels) < 2 or not all(labels):
        return NamespaceKind.OTHER, None
    domain = _registrable(".".join(reversed(labels)))
    return (NamespaceKind.DOMAIN, domain) if domain else (NamespaceKind.OTHER, None)


def _brand_of_org(account: str | None) -> Brand | None:
    if account is None:
        return None
    return next((b for b in BRANDS if account in b.github_orgs), None)


def maintenance_tier(
    meta: ServerMeta, *, now: datetime, stale_after_days: int = STALE_AFTER_DAYS
) -> TierResult:
    """The maintenance tier of one server (rules in the module docstring)."""
    kind, proven = _namespace(meta.name)
    days = None if meta.updated_at is None else (now - meta.updated_at).days
    repository = bool(meta.repository_url and meta.repository_url.strip())
    domains = {d.lower() for d in meta.endpoint_domains}
    brand = _brand_of_org(proven) if kind is NamespaceKind.GITHUB else None
    if kind is NamespaceKind.DOMAIN:
        hosted = proven in domains
    elif brand is not None:
        hosted = bool(domains & brand.domains)
    else:
        hosted = False

    def result(tier: Tier | None, basis: str) -> TierResult:
        return TierResult(tier, kind, proven, hosted, repository, days, basis)

    if kind is None:
        return result(None, "no registry namespace")
    if days is not None and days > stale_after_days:
        return result(Tier.X, f"last update {days} days ago (> {stale_after_days})")
    if kind is NamespaceKind.DOMAIN:
        if hosted:
            return result(Tier.ONE, f"verified domain {proven} serves the endpoint")
        return result(Tier.TWO, f"verified domain {proven}, endpoint hosted elsewhere")
    if brand is not None:
        if hosted:
            return result(Tier.ONE, f"{brand.name}'s GitHub organisation, served from its domain")
        return result(Tier.TWO, f"{brand.name}'s GitHub organisation, endpoint hosted elsewhere")
    if not repository:
        return result(Tier.X, "community namespace without a listed repository")
    return result(Tier.THREE, "community namespace with a repository")


# --- impersonation --------------------------------------------------------------------------

_FILLERS = frozenset(
    {
        *("mcp", "server", "servers", "official", "remote", "api", "apis", "hosted", "cloud"),
        *("connector", "connectors", "integration", "tool", "tools", "the", "app", "service"),
        *("plugin", "bridge", "gateway", "model", "context", "protocol", "sse", "http"),
        *("streamable", "v1", "v2", "v3", "ai", "for", "by", "agent"),
    }
)
_DISCLAIMERS = frozenset(
    {"unofficial", "community", "fork", "clone", "wrapper", "alternative", "proxy"}
)


def _tokens(text: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)  # PostmarkMCP → Postmark MCP
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def _claims(
    text: str, brand: Brand, *, official_only: bool = False, needs_filler: bool = False
) -> bool:
    tokens = _tokens(text)
    if not tokens or _DISCLAIMERS & set(tokens):
        return False
    core = tuple(t for t in tokens if t not in _FILLERS)
    for alias in brand.aliases:
        if needs_filler and len(tokens) == len(alias):
            continue  # a bare brand label (todoist.net) is more likely the brand's own domain
        if core == alias and not official_only:
            return True
        if "official" in tokens and _contains(core, alias):
            return True
    return False


def _contains(tokens: tuple[str, ...], alias: tuple[str, ...]) -> bool:
    n = len(alias)
    return any(tokens[i : i + n] == alias for i in range(len(tokens) - n + 1))


def _owned(meta: ServerMeta, brand: Brand) -> bool:
    kind, proven = _namespace(meta.name)
    if kind is NamespaceKind.DOMAIN and proven in brand.domains:
        return True
    if kind is NamespaceKind.GITHUB and proven in brand.github_orgs:
        return True
    return any(d.lower() in brand.domains for d in meta.endpoint_domains)


def impersonation(meta: ServerMeta, brands: Iterable[Brand] = BRANDS) -> Impersonation | None:
    """The impersonation finding of one server, or ``None`` (rules in the module docstring)."""
    kind, proven = _namespace(meta.name)
    short = meta.name.split("/", 1)[-1]
    claims: list[tuple[str, str]] = [("title", meta.title or "")]
    if kind is NamespaceKind.DOMAIN and proven:
        # A verified domain qualifies the short name ("ai.waystation/slack" is WayStation's
        # Slack connector); the domain itself can still claim a brand (postmark-mcp.com).
        claims.append(("namespace", proven.split(".", 1)[0]))
    else:
        claims.append(("name", short))
    for brand in brands:
        for field, text in claims:
            official_only = field == "title" and kind is NamespaceKind.DOMAIN
            needs_filler = field == "namespace"
            if not text or not _claims(
                text, brand, official_only=official_only, needs_filler=needs_filler
            ):
                continue
            if not _owned(meta, brand):
                return Impersonation(Finding.IMPERSONATION, brand.name, field, visible(text)[:120])
    return None


# --- registry items -------------------------------------------------------------------------


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _host(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    m = re.match(r"(?i)^[a-z][a-z0-9+.-]*://(?:[^/@?#]*@)?([^/:?#\[\]]+)", url.strip())
    return m.group(1).lower() if m else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def server_meta_from_registry(item: Mapping[str, Any]) -> ServerMeta:
    """A :class:`ServerMeta` from an official-registry list item (``{server, _meta}``) or a flat
    server object (the pre-launch seed: ``version_detail.release_date``)."""
    server = _mapping(item.get("server")) or item
    official = _mapping(_mapping(item.get("_meta")).get(_OFFICIAL_META))
    detail = _mapping(server.get("version_detail"))
    updated = _date(official.get("updatedAt")) or _date(official.get("publishedAt"))
    updated = updated or _date(detail.get("release_date"))
    repo_url = _mapping(server.get("repository")).get("url")
    domains: list[str] = []
    remotes = server.get("remotes")
    for remote in remotes if isinstance(remotes, list) else []:
        host = _host(_mapping(remote).get("url"))
        domain = _registrable(host) if host else None
        if domain and domain not in domains:
            domains.append(domain)
    name = server.get("name")
    title = server.get("title")
    return ServerMeta(
        name=name if isinstance(name, str) else "",
        title=title if isinstance(title, str) else None,
        repository_url=repo_url if isinstance(repo_url, str) else None,
        updated_at=updated,
        endpoint_domains=tuple(domains),
    )
