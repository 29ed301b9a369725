"""`auth_class` and the OAuth details, from the wall's challenge and the metadata fetched.

none           an MCP request without credentials succeeded
oauth          PRM found (header or well-known) naming an AS whose metadata was fetched
               and whose `issuer` equals the AS URL exactly (RFC 8414 §3.3)
oauth_partial  OAuth evidence (resource_metadata in the challenge, a PRM document, or
               2025-03-26 AS metadata at the origin) but the chain is broken
api_key        challenge scheme ApiKey, or headers/body naming an API key, no OAuth evidence
bearer         a Bearer challenge, no OAuth evidence
other_auth     401/403 with none of the above
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from census.classify.challenge import parse_challenges
from census.classify.evidence import STORED_BODY_CHARS, last, steps
from census.classify.wire import json_body
from census.records import Evidence, Exchange
from census.vocabulary import AuthClass

__all__ = ["Auth", "classify_auth"]

_API_KEY = re.compile(r"api[\s_-]?key|x-api-key", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Auth:
    auth_class: AuthClass | None = None
    oauth_issuer: str | None = None
    oauth_dcr: bool | None = None
    oauth_cimd: bool | None = None
    oauth_pkce_s256: bool | None = None


def _document(exchanges: list[Exchange]) -> dict[str, Any] | None:
    for exchange in exchanges:
        if exchange.status == 200:
            body = json_body(exchange)
            if isinstance(body, dict):
                return body
    return None


def _same_resource(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def _prm_for(evidence: Evidence) -> dict[str, Any] | None:
    """The first protected-resource metadata document that describes *this* endpoint.

    RFC 9728 §3.3: a client must check that ``resource`` is the resource it asked about.  On a
    platform host the root well-known document describes another resource (the one at "/"), so
    it is no evidence about an endpoint at "/sse".  A document without ``resource`` is kept (it
    is OAuth evidence, and its brokenness shows in the chain).
    """
    for exchange in steps(evidence, "auth:prm"):
        document = _document([exchange])
        if document is None:
            continue
        resource = document.get("resource")
        if not isinstance(resource, str) or _same_resource(resource, evidence.url):
            return document
    return None


def classify_auth(evidence: Evidence, mcp_confirmed: bool) -> Auth:
    if mcp_confirmed:
        return Auth(AuthClass.NONE)
    wall = next(
        (
            x
            for x in (last(evidence, "initialize"), last(evidence, "discover"))
            if x is not None and x.status in (401, 403)
        ),
        None,
    )
    if wall is None:
        return Auth()
    challenges = parse_challenges(wall.response_headers.get("www-authenticate"))
    schemes = {c.scheme for c in challenges}
    named_prm = any("resource_metadata" in c.params for c in challenges)
    prm = _prm_for(evidence)
    as_doc = _document(steps(evidence, "auth:as"))
    legacy_as = _document(steps(evidence, "auth:as_legacy"))
    if prm is not None or named_prm or legacy_as is not None:
        return _oauth(prm, as_doc, legacy_as)
    if "apikey" in schemes or _names_api_key(wall):
        return Auth(AuthClass.API_KEY)
    if "bearer" in schemes:
        return Auth(AuthClass.BEARER)
    return Auth(AuthClass.OTHER_AUTH)


def _names_api_key(wall: Exchange) -> bool:
    header_text = " ".join(f"{k}: {v}" for k, v in wall.response_headers.items())
    # Only the stored prefix is searched, so the stored evidence gives the same answer.
    body = (wall.body or "")[:STORED_BODY_CHARS]
    return bool(_API_KEY.search(body) or _API_KEY.search(header_text))


def _oauth(
    prm: dict[str, Any] | None, as_doc: dict[str, Any] | None, legacy_as: dict[str, Any] | None
) -> Auth:
    servers = prm.get("authorization_servers") if prm else None
    issuer_url = servers[0] if isinstance(servers, list) and servers else None
    document = as_doc if prm is not None else legacy_as
    if document is None:
        return Auth(AuthClass.OAUTH_PARTIAL)
    details = _details(document)
    consistent = (
        prm is not None and isinstance(issuer_url, str) and document.get("issuer") == issuer_url
    )
    return Auth(AuthClass.OAUTH if consistent else AuthClass.OAUTH_PARTIAL, *details)


def _details(document: dict[str, Any]) -> tuple[str | None, bool, bool, bool]:
    issuer = document.get("issuer")
    methods = document.get("code_challenge_methods_supported")
    return (
        issuer if isinstance(issuer, str) else None,
        isinstance(document.get("registration_endpoint"), str),
        document.get("client_id_metadata_document_supported") is True,
        isinstance(methods, list) and "S256" in methods,
    )
