"""The Smithery adapter against a loopback server in Smithery's API shape."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from census.discovery.http import HttpPolicy
from census.discovery.pipeline import collect
from census.discovery.smithery import SmitherySource
from census.errors import ConfigError
from tests.discovery.mirrors import serve

pytestmark = pytest.mark.anyio

KEY = "test-key-123"
FAST = HttpPolicy(min_interval=0.0, backoff_base=0.01)
SERVERS: list[dict[str, Any]] = [
    # list items as Smithery returns them (registries reference §2.1)
    {"qualifiedName": "exa", "displayName": "Exa", "remote": True, "isDeployed": True},
    {
        "qualifiedName": "@acme/tool",
        "remote": True,
        "deploymentUrl": "https://tool--acme.run.tools",
    },
    {"qualifiedName": "local-only", "remote": False},
    {"qualifiedName": "stdio-only", "remote": True},
]
DETAILS = {
    "exa": {"qualifiedName": "exa", "deploymentUrl": "https://exa.run.tools"},
    "stdio-only": {"qualifiedName": "stdio-only", "connections": [{"type": "stdio"}]},
}


def smithery_app(seen: list[str]) -> web.Application:
    async def servers(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"error": "unauthorized"}, status=401)
        page, size = int(request.query["page"]), int(request.query["pageSize"])
        chunk = SERVERS[(page - 1) * 2 : page * 2]
        return web.json_response(
            {
                "servers": chunk,
                "pagination": {
                    "currentPage": page,
                    "pageSize": size,
                    "totalPages": 2,
                    "totalCount": len(SERVERS),
                },
            }
        )

    async def detail(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        return web.json_response(DETAILS[request.match_info["name"]])

    app = web.Application()
    app.router.add_get("/servers", servers)
    app.router.add_get("/servers/{name:.+}", detail)
    return app


async def test_smithery_yields_deployment_urls_from_list_items_and_details() -> None:
    seen: list[str] = []
    async with serve(smithery_app(seen)) as base:
        result = await collect(SmitherySource(api_key=KEY, base_url=base, policy=FAST))
    assert [c.url for c in result.candidates] == [
        "https://exa.run.tools",
        "https://tool--acme.run.tools",
    ]
    assert all(c.platform_host for c in result.candidates)
    assert result.entries == 4 and result.complete
    assert result.log.skipped == {"no_remote": 2}
    assert "/servers/exa" in seen and "/servers/@acme/tool" not in seen
    assert KEY not in str([c.raw for c in result.candidates])


def test_a_missing_smithery_key_is_a_clear_message_not_an_empty_result() -> None:
    with pytest.raises(ConfigError, match="SMITHERY_MCP_API_KEY"):
        SmitherySource(api_key="")


async def test_a_refused_key_ends_the_read_with_the_reason() -> None:
    async with serve(smithery_app([])) as base:
        result = await collect(SmitherySource(api_key="wrong", base_url=base, policy=FAST))
    assert not result.complete
    assert "refused the API key (HTTP 401)" in (result.error or "")
