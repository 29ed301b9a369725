"""The three probers ``census bench`` compares, each a function of one shape::

    async def run_<side>(job: Job, emit: Emit) -> None

``job`` names the URLs, the testbed's hosts file and CA bundle and the concurrency; ``emit(url,
row, extra)`` receives one result per URL (``row`` in vocabulary columns, ``None`` for the bare
loop).  All three run ``job.concurrency`` worker tasks over the same URL list, on the same event
loop, with the same per-step timeouts, so the differences measured are the probers' own.

* census — ``ProbeClient`` + ``probe_and_classify``, exactly what a crawl worker calls (without
  the crawl's per-host limiter, which none of the other sides has).
* sdk — the official ``mcp`` client in ``mode="auto"``, what a user would write: connect, list
  tools page by page; legacy HTTP+SSE as a fallback when Streamable HTTP is refused with
  400/404/405.  The only help it gets is a transport that resolves the testbed's names from its
  hosts file (httpx cannot use our resolver) and the testbed's CA.
* bare — aiohttp sending the same requests census sent for each URL (replayed from census's
  evidence), reading each body up to the cap, parsing nothing: the practical floor.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import anyio

__all__ = [
    "SIDES",
    "Emit",
    "Job",
    "run_bare",
    "run_census",
    "run_sdk",
    "sdk_available",
    "warm_up",
]

#: emit(url, vocabulary row or None, side-specific extra data such as the requests sent)
Emit = Callable[[str, dict[str, Any] | None, dict[str, Any] | None], None]

#: Per-step limits shared by every side (census's ProbeSettings defaults).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 8.0
STEP_DEADLINE = 10.0
TARGET_DEADLINE = 60.0
MAX_BODY = 1 << 20
MAX_PAGES = 20


@dataclass(frozen=True, slots=True)
class Job:
    """What one side probes: read by the side's child process from ``job.json``."""

    urls: tuple[str, ...]
    hosts_file: Path
    ca_bundle: Path
    optouts_file: Path | None = None
    concurrency: int = 200
    #: census's recorded requests per URL (the bare loop replays them).
    replay_file: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "urls": list(self.urls),
                "hosts_file": str(self.hosts_file),
                "ca_bundle": str(self.ca_bundle),
                "optouts_file": str(self.optouts_file) if self.optouts_file else None,
                "concurrency": self.concurrency,
                "replay_file": str(self.replay_file) if self.replay_file else None,
                "extra": self.extra,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(
            urls=tuple(data["urls"]),
            hosts_file=Path(data["hosts_file"]),
            ca_bundle=Path(data["ca_bundle"]),
            optouts_file=Path(data["optouts_file"]) if data.get("optouts_file") else None,
            concurrency=int(data["concurrency"]),
            replay_file=Path(data["replay_file"]) if data.get("replay_file") else None,
            extra=dict(data.get("extra") or {}),
        )


#: Workers started per second: a thousand probers opening two connections each in the same
#: instant overflow the single-process testbed's accept queues (64 per host) and turn live
#: endpoints into connect timeouts (measured at 100k endpoints, concurrency 1000).
RAMP_PER_S = 500.0


async def _pool(items: list[Any], concurrency: int, one: Callable[[Any], Awaitable[None]]) -> None:
    """``concurrency`` workers draining one shared iterator (no task per item: 100k URLs),
    started at :data:`RAMP_PER_S` so every side meets the same gentle ramp."""
    source: Iterator[Any] = iter(items)

    async def worker() -> None:
        for item in source:
            await one(item)

    async with anyio.create_task_group() as tg:
        for i in range(max(1, min(concurrency, len(items)))):
            if i and i % 50 == 0:
                await anyio.sleep(50 / RAMP_PER_S)  # pacing the start, not waiting for a state
            tg.start_soon(worker)


# --- census ------------------------------------------------------------------------------------


async def run_census(job: Job, emit: Emit) -> None:
    """The census prober, as the crawl worker runs it; emits its requests for the bare loop."""
    from census.classify import observation_row
    from census.net.client import ProbeClient
    from census.probe.oneoff import build_settings
    from census.probe.plan import probe_and_classify

    settings = build_settings(
        allow_private=True,
        hosts_file=job.hosts_file,
        ca_bundle=job.ca_bundle,
        optouts=job.optouts_file,
    )
    # The pool must hold two connections per probe in flight (a legacy SSE stream + its POST).
    settings = replace(settings, pool_limit=max(settings.pool_limit, 2 * job.concurrency + 16))
    async with ProbeClient(settings) as client:

        async def one(url: str) -> None:
            evidence, observation = await probe_and_classify(url, settings, client)
            requests = [
                [x.method, x.url, x.request_headers, x.request_body, x.step]
                for x in evidence.exchanges
            ]
            emit(url, observation_row(observation), {"requests": requests})

        await _pool(list(job.urls), job.concurrency, one)


# --- sdk ---------------------------------------------------------------------------------------


def sdk_available() -> bool:
    """True when the official SDK (``mcp``, a dev dependency) can be imported."""
    import importlib.util

    try:
        return all(
            importlib.util.find_spec(name) is not None
            for name in ("mcp", "mcp.client.sse", "mcp.client.streamable_http", "httpx2")
        )
    except ImportError:  # a parent package is missing
        return False


def _hosts(path: Path) -> dict[str, str]:
    from census.net.resolver import load_hosts_file

    return load_hosts_file(path)


def _sdk_transport_class() -> Any:
    import httpx2

    class HostsFileTransport(httpx2.AsyncBaseTransport):
        """Resolve names from the testbed's hosts file: the URL goes to the 127.x address, while
        SNI, certificate checks and the Host header keep the name.  Names absent from the file
        (or mapped outside loopback) fail like a DNS error: nothing leaves this machine."""

        def __init__(self, hosts: dict[str, str], verify: ssl.SSLContext) -> None:
            self._hosts = hosts
            self._inner = httpx2.AsyncHTTPTransport(verify=verify)

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            name = (request.url.host or "").lower()
            address = self._hosts.get(name)
            if address is None or not address.startswith("127."):
                raise httpx2.ConnectError(f"[Errno -2] Name or service not known: {name}")
            request.url = request.url.copy_with(host=address)
            request.extensions = {**request.extensions, "sni_hostname": name}
            return await self._inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self._inner.aclose()

    return HostsFileTransport


def _sdk_status(exc: BaseException, http_statuses: list[int]) -> tuple[str, int | None]:
    """What a user's prober concludes from a failed connect: (status, deciding HTTP status).

    The SDK folds HTTP rejections into one MCPError ("Server returned an error response"), so
    the prober records the statuses it saw with an httpx response hook (what a user would add).
    """
    import httpx2

    from census.vocabulary import Status

    for code in http_statuses:
        if code in (401, 403):
            return Status.AUTH_REQUIRED.value, code
    for code in http_statuses:
        if code == 429 or code >= 500:
            return Status.HTTP_ERROR.value, code
    rejected = next((c for c in http_statuses if c >= 400), None)
    if rejected is not None:
        return Status.NOT_MCP.value, rejected
    stack: list[BaseException] = [exc]
    while stack:  # exception groups from the SDK's task groups: look at every leaf
        e = stack.pop()
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        elif isinstance(e, httpx2.TransportError | TimeoutError | OSError):
            return Status.UNREACHABLE.value, None
        elif e.__cause__ is not None:
            stack.append(e.__cause__)
    return Status.NOT_MCP.value, None


async def run_sdk(job: Job, emit: Emit) -> None:
    """The official SDK client in auto mode, one ``Client`` (and httpx client) per endpoint."""
    import httpx2
    from mcp import Client
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    from census.vocabulary import Status, Transport

    hosts = _hosts(job.hosts_file)
    # One SSLContext for the process: building one per client costs ~25 ms (CA parsing).
    verify = ssl.create_default_context(cafile=str(job.ca_bundle))
    transport_class = _sdk_transport_class()
    step_timeout = httpx2.Timeout(CONNECT_TIMEOUT, read=READ_TIMEOUT)

    async def list_all(client: Any) -> int:
        count, cursor = 0, None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            count += len(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return count

    async def session(transport: Any, kind: str) -> dict[str, Any]:
        row: dict[str, Any] = {"transport": kind}
        async with Client(transport, read_timeout_seconds=STEP_DEADLINE) as client:
            info = client.server_info
            row["protocol_version"] = client.protocol_version
            row["server_name"] = info.name if info else None
            row["server_version"] = info.version if info else None
            try:
                with anyio.fail_after(STEP_DEADLINE * 2):
                    row["tool_count"] = await list_all(client)
                row["status"] = Status.HEALTHY.value
            except Exception:
                row["status"] = Status.DEGRADED.value
        return row

    async def one(url: str) -> None:
        statuses: list[int] = []

        async def seen(response: httpx2.Response) -> None:
            statuses.append(response.status_code)

        def http_client(
            headers: dict[str, str] | None = None,
            timeout: httpx2.Timeout | None = None,
            auth: httpx2.Auth | None = None,
        ) -> httpx2.AsyncClient:
            return httpx2.AsyncClient(
                transport=transport_class(hosts, verify),
                timeout=timeout or step_timeout,
                headers=headers,
                auth=auth,
                event_hooks={"response": [seen]},
            )

        row: dict[str, Any]
        try:
            with anyio.fail_after(TARGET_DEADLINE):
                try:
                    async with http_client() as hc:
                        row = await session(
                            streamable_http_client(url, http_client=hc),
                            Transport.STREAMABLE_HTTP.value,
                        )
                except Exception as exc:
                    _status, code = _sdk_status(exc, statuses)
                    if code not in (400, 404, 405):
                        raise
                    # What a careful user adds: the 2024-11-05 HTTP+SSE transport.
                    statuses.clear()
                    row = await session(
                        sse_client(
                            url,
                            timeout=CONNECT_TIMEOUT,
                            sse_read_timeout=READ_TIMEOUT,
                            httpx_client_factory=http_client,
                        ),
                        Transport.SSE.value,
                    )
        except Exception as exc:
            row = {"status": _sdk_status(exc, statuses)[0]}
        emit(url, row, None)

    await _pool(list(job.urls), job.concurrency, one)


# --- bare --------------------------------------------------------------------------------------


def _replays(path: Path) -> dict[str, list[list[Any]]]:
    plans: dict[str, list[list[Any]]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            if item.get("extra"):
                plans[item["url"]] = item["extra"].get("requests", [])
    return plans


class _HostsResolver(aiohttp.abc.AbstractResolver):
    """Names from the hosts file only (the bare loop vets nothing else)."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self._hosts = hosts

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[Any]:
        import socket

        address = self._hosts.get(host.lower())
        if address is None or not address.startswith("127."):
            raise OSError(f"Name or service not known: {host}")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        return None


@asynccontextmanager
async def _bare_session(job: Job) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(
        resolver=_HostsResolver(_hosts(job.hosts_file)),
        ssl=ssl.create_default_context(cafile=str(job.ca_bundle)),
        limit=2 * job.concurrency + 16,
        limit_per_host=16,
        keepalive_timeout=2.0,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=STEP_DEADLINE, sock_connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT
        ),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    try:
        yield session
    finally:
        await session.close()


async def _send(session: aiohttp.ClientSession, request: list[Any]) -> int | None:
    method, url, headers, body = request[0], request[1], request[2], request[3]
    data = None if body is None else json.dumps(body).encode()
    try:
        with anyio.fail_after(STEP_DEADLINE):  # the same total deadline per step as census
            async with session.request(
                method, url, headers=headers, data=data, allow_redirects=False
            ) as resp:
                if resp.content_type == "text/event-stream":
                    await resp.content.readany()  # first chunk only: a stream never ends
                else:
                    read = 0
                    while read < MAX_BODY:
                        chunk = await resp.content.read(64 << 10)
                        if not chunk:
                            break
                        read += len(chunk)
                return resp.status
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
        return None


async def run_bare(job: Job, emit: Emit) -> None:
    """Replay census's requests per URL with aiohttp, reading (not parsing) every answer."""
    if job.replay_file is None:
        raise ValueError("the bare loop replays census's requests: run the census side first")
    plans = _replays(job.replay_file)
    async with _bare_session(job) as session:

        async def one(url: str) -> None:
            # "SSE" entries record events read on an open stream, not requests.
            requests = [r for r in plans.get(url, []) if r[0] != "SSE"]
            statuses: list[int | None] = []
            with anyio.move_on_after(TARGET_DEADLINE):
                for request in requests:
                    statuses.append(await _send(session, request))
            emit(url, None, {"requests": len(statuses)})

        await _pool(list(job.urls), job.concurrency, one)


def warm_up(side: str) -> None:
    """One-time process set-up of a side, done before its clock starts (imports; census loads
    its tokenizer lazily on the first tool list)."""
    if side == "census":
        import census.classify
        import census.net.client
        import census.probe.plan
        from census.classify.inventory import tool_definition

        tool_definition({"name": "warm-up", "description": "loads the tokenizer tables"})
        _ = (census.classify, census.net.client, census.probe.plan)
    elif side == "sdk":
        import httpx2
        import mcp
        import mcp.client.sse
        import mcp.client.streamable_http

        _ = (httpx2, mcp)


SIDES: dict[str, Callable[[Job, Emit], Awaitable[None]]] = {
    "census": run_census,
    "sdk": run_sdk,
    "bare": run_bare,
}
