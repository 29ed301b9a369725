"""The official SDK client (mcp 2.3.0, auto mode) against the testbed: it connects to the healthy
profiles of every era it supports and fails on the others."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
import httpcore2
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from census.testbed import Testbed, TestbedSpec, running


class _HostsBackend(httpcore2.AsyncNetworkBackend):
    """Connects through the testbed's hosts file (TLS still verifies the real host name)."""

    def __init__(self, tb: Testbed) -> None:
        self._tb = tb
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        ip = self._tb.resolve(host)
        if ip is None:
            raise httpcore2.ConnectError(f"{host} does not resolve")
        return await self._inner.connect_tcp(ip, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


def _http_client(tb: Testbed, **kw: Any) -> httpx2.AsyncClient:
    ctx = ssl.create_default_context(cafile=str(tb.ca_bundle))
    transport = httpx2.AsyncHTTPTransport(verify=ctx)
    transport._pool = httpcore2.AsyncConnectionPool(
        ssl_context=ctx, network_backend=_HostsBackend(tb)
    )
    timeout = kw.get("timeout") or httpx2.Timeout(10.0, read=15.0)
    return httpx2.AsyncClient(
        transport=transport, timeout=timeout, headers=kw.get("headers"), auth=kw.get("auth")
    )


def _transport(tb: Testbed, row: dict[str, str]) -> Any:
    if row["era"] == "legacy_sse":

        def factory(headers: Any = None, timeout: Any = None, auth: Any = None) -> Any:
            return _http_client(tb, headers=headers, timeout=timeout, auth=auth)

        return sse_client(row["url"], httpx_client_factory=factory, sse_read_timeout=15)
    return streamable_http_client(row["url"], http_client=_http_client(tb))


async def _tool_names(client: Client) -> list[str]:
    names, cursor = [], None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor)
        names += [t.name for t in page.tools]
        cursor = page.next_cursor
        if not cursor:
            break
    return names


def _pick(tb: Testbed, **want: str) -> list[dict[str, str]]:
    rows = [r for r in tb.manifest if all(r[k] == v for k, v in want.items())]
    assert rows, want
    return rows[:2]


@pytest.mark.anyio
async def test_sdk_client_in_auto_mode_connects_to_healthy_endpoints_of_every_era(
    tmp_path: Path,
) -> None:
    async with running(TestbedSpec(endpoints=300, seed=3, mix="uniform"), tmp_path) as tb:
        cases = []
        for era, session in (
            ("modern", ""),
            ("dual", "stateful"),
            ("dual", "stateless"),
            ("handshake", "stateful"),
            ("handshake", "stateless"),
            ("legacy_sse", ""),
        ):
            cases += _pick(tb, status="healthy", era=era, session=session, auth_class="none")
        cases += _pick(tb, profile="healthy_sse_mode")
        for row in cases:
            with anyio.fail_after(30):
                async with Client(_transport(tb, row), mode="auto") as client:
                    names = await _tool_names(client)
                    assert client.protocol_version == row["protocol_version"], row["url"]
                    assert client.server_info is not None
                    assert client.server_info.name == row["server_name"]
            assert len(names) == int(row["tool_count"]), row["url"]
        logged = {r.endpoint for r in tb.request_log}
        assert {row["url"] for row in cases} <= logged


@pytest.mark.anyio
async def test_sdk_client_fails_on_auth_walls_and_non_mcp_endpoints(tmp_path: Path) -> None:
    async with running(TestbedSpec(endpoints=300, seed=3, mix="uniform"), tmp_path) as tb:
        failing = (
            _pick(tb, profile="auth_oauth")
            + _pick(tb, profile="auth_bearer")
            + _pick(tb, profile="http_404")
            + _pick(tb, profile="html_login")
            + _pick(tb, profile="http_5xx")
        )
        for row in failing:
            with anyio.fail_after(30), pytest.raises((MCPError, ExceptionGroup)) as info:
                async with Client(_transport(tb, row), mode="auto") as client:
                    await client.list_tools()
            leaf: BaseException = info.value
            while isinstance(leaf, BaseExceptionGroup) and len(leaf.exceptions) == 1:
                leaf = leaf.exceptions[0]
            # The server's answer (an MCPError from the SDK), not a timeout, ends the attempt.
            assert isinstance(leaf, MCPError), (row["url"], repr(leaf))
