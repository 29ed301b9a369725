import pytest

from census.config import ProbeSettings
from census.net.client import ProbeClient
from census.probe.plan import probe, url_problem
from census.probe.rpc import ALLOWED_METHODS, ProbeRun, handshake_request, modern_request
from tests.net.servers import hostile_app, serve


@pytest.mark.parametrize(
    "method", ["tools/call", "resources/read", "prompts/get", "logging/setLevel"]
)
def test_methods_outside_the_allowlist_can_not_even_be_built(method: str) -> None:
    with pytest.raises(ValueError):
        modern_request(1, method)
    with pytest.raises(ValueError):
        handshake_request(1, method)


def test_the_allowlist_is_read_only() -> None:
    assert {
        "server/discover",
        "initialize",
        "notifications/initialized",
        "tools/list",
        "resources/list",
        "prompts/list",
        "ping",
    } == ALLOWED_METHODS


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["Authorization", "cookie", "Proxy-Authorization"])
async def test_credentials_are_refused_where_requests_are_sent(header: str) -> None:
    async with ProbeClient(ProbeSettings()) as client:
        run = ProbeRun(client, "https://mcp.example.com/mcp")
        with pytest.raises(ValueError):
            await run.send("x", "GET", headers={header: "secret"})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://mcp.example.com/mcp", None),
        ("http://127.0.0.1:8080/mcp", None),
        ("https://{tenant}.example.com/mcp", "invalid_url"),
        ("https://mcp.example.com/${PATH}", "invalid_url"),
        ("ftp://mcp.example.com/", "invalid_url"),
        ("https:///nohost", "invalid_url"),
        ("https://user:pw@mcp.example.com/", "invalid_url"),
        ("https://mcp.example.com:99999/", "invalid_url"),
    ],
)
def test_templated_or_malformed_urls_are_never_requested(url: str, problem: str | None) -> None:
    got = url_problem(url)
    assert (got.value if got else None) == problem


@pytest.mark.anyio
async def test_opted_out_and_invalid_targets_produce_evidence_without_a_request() -> None:
    async with serve(hostile_app()) as base:
        host = base.split("//")[1].split(":")[0]
        settings = ProbeSettings(allow_private=True, optout_hosts=frozenset({host}))
        async with ProbeClient(settings) as client:
            opted = await probe(f"{base}/echo", settings, client)
            invalid = await probe("https://{x}.example.com/mcp", settings, client)
    assert (opted.exchanges, opted.notes) == ((), {"skipped": "opted_out"})
    assert (invalid.exchanges, invalid.notes) == ((), {"skipped": "invalid_url"})


@pytest.mark.anyio
async def test_handshake_requests_carry_no_origin_and_name_census() -> None:
    async with serve(hostile_app()) as base:
        settings = ProbeSettings(allow_private=True)
        async with ProbeClient(settings) as client:
            evidence = await probe(f"{base}/echo", settings, client)
    main = [x for x in evidence.exchanges if x.step in ("discover", "initialize")]
    assert len(main) == 2
    for exchange in main:
        assert "Origin" not in exchange.request_headers
        assert exchange.request_headers["Accept"] == "application/json, text/event-stream"
    discover = next(x for x in main if x.step == "discover")
    assert discover.request_headers["MCP-Protocol-Version"] == "2026-07-28"
    assert discover.request_headers["Mcp-Method"] == "server/discover"
    initialize = next(x for x in main if x.step == "initialize")
    assert "MCP-Protocol-Version" not in initialize.request_headers
