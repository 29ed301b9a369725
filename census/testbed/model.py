"""The testbed's data model: a declarative :class:`Profile` per endpoint and the generated world.

A profile says *how* one virtual endpoint behaves (era, response mode, auth, CORS, rate limits,
inventory, TLS, latency, or one failure / hostile behaviour).  Every field is plain data, so the
same profile drives both the HTTP handlers (``census.testbed.server``) and the ground truth
(``census.testbed.expect``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "HANDSHAKE_VERSIONS",
    "MODERN_VERSION",
    "Endpoint",
    "HostEntry",
    "Profile",
    "World",
]

MODERN_VERSION = "2026-07-28"
#: Handshake-era revisions, oldest first (2024-11-05 is the HTTP+SSE transport's revision).
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")

EraName = Literal["modern", "handshake", "dual", "legacy_sse"]
AuthKind = Literal[
    "none",
    "oauth",  # PRM named in WWW-Authenticate, consistent AS metadata
    "oauth_wellknown",  # no resource_metadata in the challenge; PRM at the path-inserted URL
    "oauth_prm_404",  # challenge names a PRM URL that 404s, no PRM anywhere
    "oauth_issuer_mismatch",  # AS metadata's issuer differs from the URL it came from
    "oauth_as_missing",  # PRM names an AS whose metadata 404s
    "oauth_no_as",  # PRM without authorization_servers
    "bearer",  # Bearer challenge, no metadata anywhere
    "api_key_challenge",  # 401 WWW-Authenticate: ApiKey
    "api_key_body",  # 401 without challenge, body names X-API-Key
    "api_key_403",  # FastAPI-style 403 {"detail": "Missing API key"}
    "fastapi_403",  # 403 {"detail": "Not authenticated"}: names no key -> other_auth
    "basic",  # 401 Basic realm
    "other",  # 401, no challenge, empty body
]
CorsKind = Literal["none", "refused", "restricted", "wildcard", "reflect", "reflect_credentials"]
RateKind = Literal["none", "ietf", "draft", "x", "retry_after", "enforced", "always_429"]
TlsKind = Literal["valid", "expired", "wrong_host", "self_signed", "handshake_fail", "plain"]


@dataclass(frozen=True, slots=True)
class Profile:
    """How one virtual endpoint behaves.  ``behaviour`` empty = a working MCP server."""

    name: str
    behaviour: str = ""
    era: EraName = "handshake"
    latest_version: str = "2025-11-25"
    response: Literal["json", "sse"] = "json"
    crlf: bool = True  # SSE line endings \r\n (Python SDK) or \n (TypeScript SDK)
    priming: bool = False  # 2025-11-25 priming event (id + empty data) before the answer
    notify_first: bool = False  # a notifications/message frame before the response
    stateful: bool = True
    auth: AuthKind = "none"
    oauth_dcr: bool = True
    oauth_cimd: bool = False
    oauth_pkce: bool = True
    cors: CorsKind = "none"
    origin_check: bool = False  # a foreign Origin gets 403 "Invalid Origin header"
    rate: RateKind = "none"
    tools: int | None = 3  # None = capability not advertised
    resources: int | None = None
    prompts: int | None = None
    page_size: int = 50
    tls: TlsKind = "valid"
    latency_ms: int = 10
    server_name: str = "testbed-server"
    server_version: str = "1.0.0"
    sdk1_errors: bool = False  # transport errors use "id":"server-error" (SDK 1.x fingerprint)
    accept_strict: bool = True  # 406 unless Accept lists both types (SSE mode) / json (JSON mode)
    host_check: bool = False  # 421 for any public Host (mis-deployed SDK DNS-rebinding guard)
    # Planted security findings (census/testbed/plants.py; RULES.md "Planted findings"):
    toolset: str = ""  # a planted tool joins the generated ones ("" = generated tools only)
    rug_pull: str = ""  # how the tools / server identity change from epoch 2 on ("" = never)
    secret: Literal["", "query", "userinfo"] = ""  # registries list the URL with a credential
    epoch: int = 1  # which epoch the endpoint serves (the testbed switches rug pulls to 2)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint of the world: where it lives and how it behaves."""

    index: int
    url: str
    host: str
    path: str
    scheme: str
    profile: Profile
    seed: int  # per-endpoint seed for its inventory and session ids
    platform: bool = False  # lives on a shared platform host


@dataclass(frozen=True, slots=True)
class HostEntry:
    """One host name and how the network treats it.

    ``ip`` None = absent from the hosts file (does not resolve).  ``listen`` is what sits on the
    host's address: "http" (the virtual-host server, TLS or plain per ``tls``), "refused" (nothing),
    "blackhole", "reset", "connect_timeout", or "none" for addresses the census must never touch.
    """

    name: str
    ip: str | None
    tls: TlsKind
    listen: str = "http"


@dataclass(slots=True)
class World:
    """A generated simulated internet (deterministic for a given spec)."""

    seed: int
    mix: str
    endpoints: list[Endpoint] = field(default_factory=list)
    hosts: dict[str, HostEntry] = field(default_factory=dict)
    optouts: list[str] = field(default_factory=list)
