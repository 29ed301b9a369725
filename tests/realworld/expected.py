# ruff: noqa: E501 (one row per line: the table reads as a table)
"""The expected value of every census column for each implementation and configuration.

Established from raw HTTP exchanges (tests/realworld/raw.py, no census code); the exchanges of
each row are written down in expected/<id>.md (regenerate them with
`CENSUS_REALWORLD_RECORD=1 uv run pytest tests/realworld`).  The ecosystem matrix in the README
is generated from this table (tests/realworld/matrix.py).
"""

from __future__ import annotations

from typing import Any

COLUMNS = (
    "status",
    "failure_reason",
    "era",
    "transport",
    "protocol_version",
    "session",
    "server_name",
    "auth_class",
    "cors_class",
    "origin_validated",
    "tool_count",
)

#: A row per servers.SPECS id; the values in COLUMNS order.
# fmt: off
_ROWS: dict[str, tuple[Any, ...]] = {
    # FastMCP 1.0 inside mcp 1.x: DNS-rebinding protection on for a 127.0.0.1 host (Origin 403)
    "python-sdk_1.30.0-default": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateful", "py-mcp", "none", "none", True, 2),
    "python-sdk_1.30.0-stateless-json": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateless", "py-mcp", "none", "none", True, 2),
    "python-sdk_1.30.0-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "py-mcp", "none", "none", True, 2),
    # transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
    "python-sdk_1.30.0-rebinding-off": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateful", "py-mcp", "none", "none", False, 2),
    # dual era; same DNS-rebinding default as 1.x
    "python-sdk_2.3.0-default": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateful", "py-mcp", "none", "none", True, 2),
    "python-sdk_2.3.0-stateless-json": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateless", "py-mcp", "none", "none", True, 2),
    "python-sdk_2.3.0-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "py-mcp", "none", "none", True, 2),
    "python-sdk_2.3.0-rebinding-off": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateful", "py-mcp", "none", "none", False, 2),
    # host_origin_protection off by default: foreign Origin accepted
    "fastmcp-py_4.2.3-default": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateful", "py-fastmcp", "none", "none", False, 3),
    "fastmcp-py_4.2.3-stateless-json": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateless", "py-fastmcp", "none", "none", False, 3),
    "fastmcp-py_4.2.3-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "py-fastmcp", "none", "none", False, 3),
    # RemoteAuthProvider: PRM served, the named AS has no RFC 8414 document
    "fastmcp-py_4.2.3-remote-auth": ("auth_required", None, None, None, None, None, None, "oauth_partial", "none", None, None),
    # http_app(host_origin_protection=True)
    "fastmcp-py_4.2.3-origin-protection": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateful", "py-fastmcp", "none", "none", True, 3),
    # stateless Streamable HTTP at /gradio_api/mcp/
    "gradio_6.31.0-default": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateless", "Gradio App", "none", "none", False, 1),
    "gradio_6.31.0-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "Gradio App", "none", "none", False, 1),
    # 2025-03-26 era; the README's express wiring, no Origin check
    "ts-sdk_1.12.1-default": ("healthy", None, "handshake", "streamable_http", "2025-03-26", "stateful", "ts-sdk-1-12", "none", "none", False, 2),
    "ts-sdk_1.12.1-stateless-json": ("healthy", None, "handshake", "streamable_http", "2025-03-26", "stateless", "ts-sdk-1-12", "none", "none", False, 2),
    "ts-sdk_1.12.1-sse": ("healthy", None, "legacy_sse", "sse", "2025-03-26", None, "ts-sdk-1-12", "none", "none", False, 2),
    # mcpAuthRouter() + requireBearerAuth(): no resource_metadata link, the path-inserted PRM 404,
    # the root PRM names the origin as resource, RFC 8414 document with DCR and PKCE S256
    "ts-sdk_1.12.1-oauth-as": ("auth_required", None, None, None, None, None, None, "oauth", "none", None, None),
    # createMcpExpressApp(): Host-header validation only; a foreign Origin passes
    "ts-sdk_1.24.3-default": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateful", "ts-sdk-1-24", "none", "none", False, 2),
    "ts-sdk_1.24.3-stateless-json": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateless", "ts-sdk-1-24", "none", "none", False, 2),
    "ts-sdk_1.24.3-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "ts-sdk-1-24", "none", "none", False, 2),
    # the transport's enableDnsRebindingProtection + allowedOrigins (plain express app)
    "ts-sdk_1.24.3-rebinding-on": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateful", "ts-sdk-1-24", "none", "none", True, 2),
    # mcpAuthMetadataRouter + requireBearerAuth: PRM and AS metadata at the origin
    "ts-sdk_1.24.3-oauth-rs": ("auth_required", None, None, None, None, None, None, "oauth", "none", None, None),
    # createMcpHandler() bare: 2026-07-28 + stateless 2025 fallback, validation-free
    "ts-sdk_2.4.0-handler": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateless", "ts-sdk-2", "none", "none", False, 2),
    # the same behind localhostHostValidation/localhostOriginValidation
    "ts-sdk_2.4.0-handler-guarded": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateless", "ts-sdk-2", "none", "none", True, 2),
    # answers server/discover 400 -32000 (built on the 1.x SDK): handshake only; CORS *
    "fastmcp-ts_4.20.16-default": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateful", "ts-fastmcp", "none", "wildcard", False, 3),
    "fastmcp-ts_4.20.16-stateless-json": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateless", "ts-fastmcp", "none", "wildcard", False, 3),
    "fastmcp-ts_4.20.16-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "ts-fastmcp", "none", "wildcard", False, 3),
    "mcp-handler_2.4.0-default": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateless", "mcp-typescript server on vercel", "none", "none", False, 2),
    # withMcpAuth + protectedResourceHandler; the named AS has no RFC 8414 document
    "mcp-handler_2.4.0-oauth-rs": ("auth_required", None, None, None, None, None, None, "oauth_partial", "none", None, None),
    "supergateway_4.0.0-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "mcp-servers/everything", "none", "none", False, 13),
    # stateless by default; CORS off by default
    "supergateway_4.0.0-streamable-http": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateless", "mcp-servers/everything", "none", "none", False, 13),
    # --cors with no value: every origin
    "supergateway_4.0.0-streamable-http-cors": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateless", "mcp-servers/everything", "none", "wildcard", False, 13),
    "supergateway_4.0.0-streamable-http-stateful": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateful", "mcp-servers/everything", "none", "none", False, 13),
    # built on SDK 2.x: dual era; CORS * by default
    "mcp-proxy_6.7.19-default": ("healthy", None, "dual", "streamable_http", "2026-07-28", "stateful", "mcp-servers/everything", "none", "wildcard", False, 13),
    "mcp-proxy_6.7.19-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "mcp-servers/everything", "none", "wildcard", False, 13),
    # --apiKey: 401, Bearer challenge whose description names the API key
    "mcp-proxy_6.7.19-api-key": ("auth_required", None, None, None, None, None, None, "api_key", "wildcard", None, None),
    # its own express app: cors({origin: '*'})
    "server-everything_2026.8.31-streamable-http": ("healthy", None, "handshake", "streamable_http", "2025-11-25", "stateful", "mcp-servers/everything", "none", "wildcard", False, 13),
    "server-everything_2026.8.31-sse": ("healthy", None, "legacy_sse", "sse", "2025-11-25", None, "mcp-servers/everything", "none", "wildcard", False, 13),
}
# fmt: on

EXPECTED: dict[str, dict[str, Any]] = {
    k: dict(zip(COLUMNS, v, strict=True)) for k, v in _ROWS.items()
}

#: Spec ids whose census verdict is known to be wrong on some cell: the reason, with the
#: evidence (the census test of that id is xfail(strict=True), so a fix shows up as XPASS).
CENSUS_BUGS: dict[str, str] = {
    "ts-sdk_1.12.1-oauth-as": (
        "census says auth_class=bearer, the exchanges say oauth (issue 14, defect 3a): census "
        "fetches GET /.well-known/oauth-protected-resource/mcp -> 404, then the root "
        "GET /.well-known/oauth-protected-resource -> 200 "
        '{"resource":"http://127.0.0.1:PORT/","authorization_servers":["http://127.0.0.1:PORT/"]} '
        "and GET /.well-known/oauth-authorization-server -> 200 (issuer, registration_endpoint, "
        "code_challenge_methods_supported [S256]), yet discards the root document because its "
        "resource is the origin, which is the identifier the suffix was inserted into "
        "(RFC 9728 3.1, 3.3)"
    ),
}
