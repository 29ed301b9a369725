"""Authorization discovery, read-only: the challenge, RFC 9728 protected-resource metadata, and
RFC 8414 / OIDC authorization-server metadata.  Never registers, never sends a credential."""

from __future__ import annotations

from typing import Any

from yarl import URL

from census.classify.challenge import parse_challenges
from census.classify.wire import json_body
from census.probe.rpc import ProbeRun
from census.records import Exchange

__all__ = ["as_metadata_urls", "discover_auth", "prm_urls"]

_JSON = {"Accept": "application/json"}


def prm_urls(resource_url: str, header_url: str | None) -> list[str]:
    """Protected-resource metadata locations, in the spec's order (header, path, root)."""
    url = URL(resource_url)
    origin = url.origin()
    path = url.path.rstrip("/")
    urls = [header_url] if header_url else []
    if path:
        urls.append(str(origin.with_path(f"/.well-known/oauth-protected-resource{path}")))
    urls.append(str(origin.with_path("/.well-known/oauth-protected-resource")))
    return list(dict.fromkeys(urls))


def as_metadata_urls(issuer: str) -> list[str]:
    """RFC 8414 then OIDC discovery URLs for an issuer (2025-11-25 order)."""
    url = URL(issuer)
    origin = url.origin()
    path = url.path.rstrip("/")
    if path:
        return [
            str(origin.with_path(f"/.well-known/oauth-authorization-server{path}")),
            str(origin.with_path(f"/.well-known/openid-configuration{path}")),
            str(origin.with_path(f"{path}/.well-known/openid-configuration")),
        ]
    return [
        str(origin.with_path("/.well-known/oauth-authorization-server")),
        str(origin.with_path("/.well-known/openid-configuration")),
    ]


async def _first_json(run: ProbeRun, step: str, urls: list[str]) -> dict[str, Any] | None:
    for url in urls:
        exchange = await run.send(step, "GET", url, headers=_JSON)
        document = _document(exchange)
        if document is not None:
            return document
        # Any 4xx (CDNs answer 401/403 on well-known paths) means "not here": keep going.
    return None


def _document(exchange: Exchange) -> dict[str, Any] | None:
    if exchange.status != 200:
        return None
    body = json_body(exchange)
    return body if isinstance(body, dict) else None


async def discover_auth(run: ProbeRun, wall: Exchange) -> None:
    """Follow the OAuth chain from a 401/403 answer as far as it goes."""
    header_url: str | None = None
    for challenge in parse_challenges(wall.response_headers.get("www-authenticate")):
        header_url = header_url or challenge.params.get("resource_metadata") or None
    if header_url is not None:
        try:
            URL(header_url).origin()
        except ValueError:
            header_url = None
    prm = await _first_json(run, "auth:prm", prm_urls(run.url, header_url))
    servers = prm.get("authorization_servers") if prm else None
    if isinstance(servers, list) and servers and isinstance(servers[0], str):
        try:
            urls = as_metadata_urls(servers[0])
        except ValueError:
            return
        await _first_json(run, "auth:as", urls)
    elif prm is None:
        # 2025-03-26: AS metadata at the MCP server's origin, path discarded.
        origin = URL(run.url).origin()
        await _first_json(
            run,
            "auth:as_legacy",
            [str(origin.with_path("/.well-known/oauth-authorization-server"))],
        )
