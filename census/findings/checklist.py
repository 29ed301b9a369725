"""The seed article's production checklist, per endpoint, for the checks visible from outside.

The article ("MCP Production Deployment Minefield", 15 checks) mostly asks about the operator's
own setup (bind address, sticky sessions, env-var hygiene, lock files): those cannot be seen
from the internet and are not listed at all.  The checks below can be, and each is answered
``true``, ``false`` or ``not_scored`` from one observation.  ``not_scored`` means the census did
not establish the answer (not determinable, not applicable, or unobservable without an unsafe
probe); it is never guessed and never counts against the endpoint.

The checklist is scored only for endpoints that speak MCP or wall it (status ``healthy``,
``degraded`` or ``auth_required``); for any other status every check is ``not_scored``.
``score`` = 100 × passed / scored, rounded to one decimal; ``None`` when nothing was scored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from census.records import Observation
from census.vocabulary import AuthClass, CorsClass, Finding, RateLimitClass, Status, Tls, Transport

__all__ = [
    "CHECKLIST_COLUMNS",
    "CHECKS",
    "MAX_TOOLS",
    "Check",
    "CheckSummary",
    "CheckValue",
    "Checklist",
    "checklist",
    "compliance",
]

#: The article's "reasonable reference ceiling" of tools per server.
MAX_TOOLS = 30
_SCORED_STATUSES = frozenset({Status.HEALTHY, Status.DEGRADED, Status.AUTH_REQUIRED})
_OPEN_CORS = frozenset({CorsClass.WILDCARD, CorsClass.REFLECT, CorsClass.REFLECT_CREDENTIALS})


class CheckValue(StrEnum):
    TRUE = "true"
    FALSE = "false"
    NOT_SCORED = "not_scored"


@dataclass(frozen=True, slots=True)
class Check:
    """One checklist item: its column name, the article's wording and the census rule."""

    name: str
    article: str
    rule: str

    @property
    def column(self) -> str:
        return f"check_{self.name}"


CHECKS: Final[tuple[Check, ...]] = (
    Check(
        "streamable_http",
        "Streamable HTTP confirmed / SSE disabled",
        "true: transport streamable_http; false: sse (the deprecated HTTP+SSE transport); "
        "not_scored: transport unknown (e.g. behind an auth wall).",
    ),
    Check(
        "auth_present",
        "Bearer token in place: not zero-auth",
        "true: auth_class is any walled class (oauth, oauth_partial, bearer, api_key, "
        "other_auth); false: none (an MCP request without credentials succeeded).",
    ),
    Check(
        "tool_count_within_30",
        "Tool count audit: under 30 tools per server",
        "true: tool_count <= 30; false: more; not_scored: tools not listed.",
    ),
    Check(
        "cors_not_open",
        "(Bloomberry/YellowMCP: CORS fully open)",
        "true: cors_class none or restricted; false: wildcard, reflect, reflect_credentials.",
    ),
    Check(
        "rate_limiting",
        "(Bloomberry: implementing rate limiting)",
        "true: rate_limit_class enforced or advertised; not_scored: none_observed, because "
        "absence cannot be shown without burst-testing, which the census refuses to do.",
    ),
    Check(
        "tls_valid",
        "(transport security)",
        "true: tls valid; false: invalid or none (plain http).",
    ),
    Check(
        "origin_validated",
        "(MCP spec: servers MUST validate Origin against DNS rebinding)",
        "true/false: origin_validated; not_scored when unknown (an auth wall hides it).",
    ),
    Check(
        "oauth_metadata_complete",
        "OAuth 2.1 with metadata (RFC 9728 / RFC 8414)",
        "Only for OAuth walls. true: auth_class oauth (protected-resource metadata names an "
        "authorization server whose metadata has the matching issuer) and PKCE S256 advertised; "
        "false: oauth_partial, or oauth without S256; not_scored: other classes.",
    ),
    Check(
        "no_secret_in_url",
        "Token not in URI query string (a hard MCP spec requirement)",
        "true: the listed URL carries no credential; false: a secret was found (and redacted) "
        "in its query string or userinfo.",
    ),
)

#: Export columns: one per check, then the summary.
CHECKLIST_COLUMNS: Final[tuple[str, ...]] = (
    *(c.column for c in CHECKS),
    "checklist_passed",
    "checklist_scored",
    "checklist_score",
)


@dataclass(frozen=True, slots=True)
class Checklist:
    """The checklist of one observation: ``values`` in :data:`CHECKS` order."""

    values: tuple[tuple[str, CheckValue], ...]

    def __getitem__(self, name: str) -> CheckValue:
        for key, value in self.values:
            if key == name:
                return value
        raise KeyError(name)

    @property
    def passed(self) -> int:
        return sum(1 for _, v in self.values if v is CheckValue.TRUE)

    @property
    def scored(self) -> int:
        return sum(1 for _, v in self.values if v is not CheckValue.NOT_SCORED)

    @property
    def score(self) -> float | None:
        return round(100 * self.passed / self.scored, 1) if self.scored else None

    def as_row(self) -> dict[str, str | int | float | None]:
        """Export cells keyed by :data:`CHECKLIST_COLUMNS`."""
        row: dict[str, str | int | float | None] = {f"check_{k}": str(v) for k, v in self.values}
        row.update(
            checklist_passed=self.passed, checklist_scored=self.scored, checklist_score=self.score
        )
        return row


def _bool(value: bool | None) -> CheckValue:
    if value is None:
        return CheckValue.NOT_SCORED
    return CheckValue.TRUE if value else CheckValue.FALSE


def _oauth_complete(obs: Observation) -> bool | None:
    if obs.auth_class is AuthClass.OAUTH:
        return obs.oauth_pkce_s256 is True
    if obs.auth_class is AuthClass.OAUTH_PARTIAL:
        return False
    return None


def _secret_in_url(obs: Observation) -> bool:
    # Discovery redacts the secret and records the finding; the canonical URL shows REDACTED.
    return Finding.SECRET_IN_URL in obs.findings or "REDACTED" in obs.url


def checklist(obs: Observation) -> Checklist:
    """The checklist of one observation (see the module docstring for the rules)."""
    if obs.status not in _SCORED_STATUSES:
        return Checklist(tuple((c.name, CheckValue.NOT_SCORED) for c in CHECKS))
    transport = None if obs.transport is None else obs.transport is Transport.STREAMABLE_HTTP
    auth = None if obs.auth_class is None else obs.auth_class is not AuthClass.NONE
    tools = None if obs.tool_count is None else obs.tool_count <= MAX_TOOLS
    cors = None if obs.cors_class is None else obs.cors_class not in _OPEN_CORS
    rate = (
        True
        if obs.rate_limit_class in (RateLimitClass.ENFORCED, RateLimitClass.ADVERTISED)
        else None
    )
    tls = None if obs.tls is None else obs.tls is Tls.VALID
    answers = {
        "streamable_http": transport,
        "auth_present": auth,
        "tool_count_within_30": tools,
        "cors_not_open": cors,
        "rate_limiting": rate,
        "tls_valid": tls,
        "origin_validated": obs.origin_validated,
        "oauth_metadata_complete": _oauth_complete(obs),
        "no_secret_in_url": not _secret_in_url(obs),
    }
    return Checklist(tuple((c.name, _bool(answers[c.name])) for c in CHECKS))


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """One row of "checklist compliance across the ecosystem": how many endpoints passed,
    failed, or were not scored on one check; ``pass_rate`` = passed / (passed + failed) in
    percent (one decimal), ``None`` when no endpoint was scored on it."""

    check: str
    passed: int
    failed: int
    not_scored: int

    @property
    def pass_rate(self) -> float | None:
        scored = self.passed + self.failed
        return round(100 * self.passed / scored, 1) if scored else None


def compliance(checklists: Iterable[Checklist]) -> tuple[CheckSummary, ...]:
    """The compliance table over many endpoints, in :data:`CHECKS` order."""
    counts = {c.name: [0, 0, 0] for c in CHECKS}
    for item in checklists:
        for name, value in item.values:
            index = 0 if value is CheckValue.TRUE else 1 if value is CheckValue.FALSE else 2
            counts[name][index] += 1
    return tuple(CheckSummary(name, *counts[name]) for name in counts)
