"""Domain discovery against a loopback server answering for several host names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from census.discovery.domains import DomainsSource, domains_source, parse_domains
from census.discovery.http import HttpPolicy
from census.discovery.pipeline import collect
from census.errors import ConfigError
from tests.discovery.mirrors import serve

pytestmark = pytest.mark.anyio

Handler = Callable[[web.Request], web.StreamResponse]
SIBLING = "census-sibling"


def world(port_holder: list[int]) -> web.Application:
    """carded.io: AI catalog; legacy.io: old mcp.json; plain.io: /mcp answers 405 plus a card;
    wild.io: wildcard DNS, every name answers 401; catchall.io: every path answers 400;
    quiet.io: nothing at all."""

    async def handle(request: web.Request) -> web.StreamResponse:
        host = request.host.split(":")[0]
        path = request.path
        origin = f"http://{{}}:{port_holder[0]}"
        if host == "carded.io" and path == "/.well-known/ai-catalog.json":
            return web.json_response(
                {
                    "entries": [
                        {
                            "type": "application/mcp-server-card+json",
                            "data": {
                                "name": "io.carded/one",
                                "version": "1.0",
                                "remotes": [
                                    {
                                        "type": "streamable-http",
                                        "url": origin.format("mcp.carded.io") + "/mcp",
                                    }
                                ],
                            },
                        },
                        {
                            "type": "application/mcp-server-card+json",
                            "url": origin.format("carded.io") + "/cards/two.json",
                        },
                        {
                            "type": "application/a2a-agent-card+json",
                            "url": "http://elsewhere.io/a2a",
                        },
                    ]
                }
            )
        if host == "carded.io" and path == "/cards/two.json":
            return web.json_response(
                {
                    "name": "io.carded/two",
                    "remotes": [{"type": "sse", "url": origin.format("carded.io") + "/two/sse"}],
                }
            )
        if host == "legacy.io" and path == "/.well-known/mcp.json":
            return web.json_response(
                {"name": "Legacy", "endpoint": origin.format("legacy.io") + "/rpc"}
            )
        if host == "mcp.plain.io" and path == "/mcp":
            return web.Response(status=405, headers={"Allow": "POST"})
        if host == "mcp.plain.io" and path == "/mcp/server-card":
            return web.json_response({"name": "io.plain/server", "version": "2.1.0"})
        if host.endswith("wild.io") and host != "wild.io":
            return web.json_response({"error": "unauthorized"}, status=401)
        if host == "catchall.io":
            return web.json_response({"error": "bad request"}, status=400)
        return web.Response(status=404, text="not found")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


NAMES = [
    "carded.io",
    "mcp.carded.io",
    "legacy.io",
    "plain.io",
    "mcp.plain.io",
    "wild.io",
    "mcp.wild.io",
    f"{SIBLING}.wild.io",
    "catchall.io",
    "quiet.io",
]


async def test_domains_yield_card_and_conventional_endpoints_but_not_wildcards() -> None:
    port: list[int] = []
    async with serve(world(port)) as base:
        port.append(int(base.rsplit(":", 1)[1]))
        policy = HttpPolicy(
            min_interval=0.0,
            attempts=1,
            hosts=dict.fromkeys(NAMES, "127.0.0.1"),
            allow_private=True,
        )
        source = DomainsSource(
            ("carded.io", "legacy.io", "plain.io", "wild.io", "catchall.io", "quiet.io"),
            "test",
            policy=policy,
            scheme="http",
            port=port[0],
            sibling_label=lambda: SIBLING,
        )
        result = await collect(source)
    p = port[0]
    found = {c.url: c for c in result.candidates}
    assert set(found) == {
        f"http://mcp.carded.io:{p}/mcp",
        f"http://carded.io:{p}/two/sse",
        f"http://legacy.io:{p}/rpc",
        f"http://mcp.plain.io:{p}/mcp",
    }
    assert found[f"http://mcp.carded.io:{p}/mcp"].raw["found_by"] == "ai-catalog"
    assert found[f"http://carded.io:{p}/two/sse"].transport_hint == "sse"
    plain = found[f"http://mcp.plain.io:{p}/mcp"]
    assert (plain.raw["found_by"], plain.server_name, plain.server_version) == (
        "convention",
        "io.plain/server",
        "2.1.0",
    )
    assert result.entries == 6
    assert result.log.skipped["nothing_found"] == 3  # wild.io, catchall.io, quiet.io


def test_domain_lists_are_validated(tmp_path: Path) -> None:
    assert parse_domains("# c\nAcme.io\nacme.io\n\nbeta.dev.\n") == ("acme.io", "beta.dev")
    bad = tmp_path / "d.txt"
    bad.write_text("acme.io\nhttps://x.io/mcp\n")
    with pytest.raises(ConfigError, match=r"d.txt:2: not a domain name"):
        domains_source(bad)
    with pytest.raises(ConfigError, match="not a public domain"):
        parse_domains("localhost.localdomain\n")
