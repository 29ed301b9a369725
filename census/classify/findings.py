"""The finding codes of one observation: the endpoint-level codes observable by the prober,
merged with the tool-definition codes of :func:`census.findings.tool_findings_codes` (the
poisoning rules, ANSI escapes among them, live there)."""

from __future__ import annotations

from yarl import URL

from census.findings import tool_findings_codes
from census.records import ToolDefinition
from census.vocabulary import CorsClass, Finding, Tls

__all__ = ["MANY_TOOLS", "prober_findings"]

#: More tools than this is a finding (context cost, attack surface).
MANY_TOOLS = 30
#: Query parameter names containing these words are taken for credentials.
SECRET_WORDS = ("key", "token", "secret", "password", "auth", "sig")
_OPEN = frozenset({CorsClass.WILDCARD, CorsClass.REFLECT, CorsClass.REFLECT_CREDENTIALS})


def prober_findings(
    url: str,
    *,
    answered: bool,
    tls: Tls | None,
    tool_count: int | None,
    tools: tuple[ToolDefinition, ...],
    cors_class: CorsClass | None,
    origin_validated: bool | None,
) -> tuple[str, ...]:
    found: list[Finding] = []
    if _secret_in_url(url):
        found.append(Finding.SECRET_IN_URL)
    if answered and URL(url).scheme == "http":
        found.append(Finding.PLAIN_HTTP)
    if tls is Tls.INVALID:
        found.append(Finding.TLS_INVALID)
    if tool_count is not None and tool_count > MANY_TOOLS:
        found.append(Finding.MANY_TOOLS)
    if origin_validated is False:
        found.append(Finding.ORIGIN_NOT_VALIDATED)
    if cors_class in _OPEN:
        found.append(Finding.CORS_OPEN)
    # Tools are scanned only when listed; the rules are pure and capped (census.findings).
    return tuple(sorted({str(f) for f in found} | set(tool_findings_codes(tools))))


def _secret_in_url(url: str) -> bool:
    try:
        names = [name.lower() for name in URL(url).query]
    except ValueError:
        return False
    return any(word in name for name in names for word in SECRET_WORDS)
