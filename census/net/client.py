"""The one HTTP engine: a session factory, capped reads, an SSE reader, deadlines, retries.

One :class:`ProbeClient` is created per process/worker and shared by every probe: one aiohttp
session, one connector (pool limits, the vetting resolver, DNS cache) and one SSLContext.  Each
call to :meth:`ProbeClient.send` is one step: a total deadline (anyio), bounded wire and decoded
bytes, no automatic redirects or decompression, and failures returned as data (an Exchange with
``error`` set), never raised.
"""

from __future__ import annotations

import codecs
import json
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import aiohttp
import anyio
from yarl import URL

from census.config import ProbeSettings
from census.net.body import DecodeError, make_decoder
from census.net.errors import NetFailure, failure_of
from census.net.headers import RATE_LIMIT_HEADERS, ascii_int
from census.net.politeness import HostLimiter
from census.net.resolver import VettingResolver, load_hosts_file, vet_literal
from census.net.sse import SSEEvent, SSEParser
from census.net.tlsinfo import describe_peer
from census.records import Exchange
from census.vocabulary import FailureReason

__all__ = ["KEPT_HEADERS", "ProbeClient", "SSEStream", "without_userinfo"]

#: Response headers kept in evidence (lower-case); everything a classifier reads.
KEPT_HEADERS = RATE_LIMIT_HEADERS | frozenset(
    {
        "content-type",
        "content-encoding",
        "content-length",
        "location",
        "www-authenticate",
        "mcp-session-id",
        "mcp-protocol-version",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
        "vary",
        "server",
        "allow",
    }
)
_MAX_HEADER_VALUE = 2048
_RETRY_STATUSES = frozenset({429, 502, 503})
_CHUNK = 16 << 10
#: Pause before retrying a connection reset (the only transport failure retried).
_RESET_PAUSE = 0.05


@dataclass(slots=True)
class _Timing:
    marks: dict[str, float] = field(default_factory=dict)


#: The timing marks of the request in flight in this task (a contextvar, not an aiohttp
#: TraceConfig: tracing builds a dozen signal objects per request whether or not they are used).
_TIMING: ContextVar[_Timing | None] = ContextVar("census_request_timing", default=None)


def _mark(name: str) -> None:
    timing = _TIMING.get()
    if timing is not None:
        timing.marks[name] = time.perf_counter()


class _TimedConnector(aiohttp.TCPConnector):
    """Marks DNS and connect (TCP + TLS) phases of new connections for the request's timings."""

    async def _resolve_host(self, *args: Any, **kwargs: Any) -> Any:
        _mark("dns_start")
        try:
            return await super()._resolve_host(*args, **kwargs)
        finally:
            _mark("dns_end")

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        _mark("conn_start")
        connection = await super()._create_connection(*args, **kwargs)
        _mark("conn_end")
        return connection


class ProbeClient:
    """Shared HTTP machinery for every probe in a process.  Use ``async with``."""

    def __init__(self, settings: ProbeSettings, limiter: HostLimiter | None = None) -> None:
        self.settings = settings
        #: Per-host politeness shared by every probe through this client (None: no limit).
        self.limiter = limiter
        hosts = load_hosts_file(settings.hosts_file) if settings.hosts_file else None
        self.resolver = VettingResolver(hosts, allow_private=settings.allow_private)
        self.ssl_context = _ssl_context(settings)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ProbeClient:
        connector = _TimedConnector(
            resolver=self.resolver,
            ssl=self.ssl_context,
            limit=self.settings.pool_limit,
            limit_per_host=self.settings.pool_limit_per_host,
            ttl_dns_cache=300,
            keepalive_timeout=self.settings.keepalive_timeout,
            enable_cleanup_closed=True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=_timeout(self.settings, None),
            auto_decompress=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            max_line_size=8190,
            max_field_size=8190,
            headers={"User-Agent": self.settings.user_agent},
            skip_auto_headers=("Accept-Encoding",),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("ProbeClient used outside `async with`")
        return self._session

    def vet(self, url: str) -> None:
        """Refuse an IP-literal URL outside policy (names are vetted by the resolver)."""
        host = _url(url).raw_host or ""
        vet_literal(
            host,
            allow_private=self.settings.allow_private,
            allowed=self.resolver.hosts_addresses,
        )

    async def send(
        self,
        step: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        rpc_id: int | str | None = None,
        keep_body: int | None = None,
        tls_info: dict[str, Any] | None = None,
        deadline: float | None = None,
        large: bool = False,
    ) -> Exchange:
        """One request and its (capped) answer, as an Exchange; never raises for remote faults.

        ``rpc_id`` makes an SSE answer stop at the first JSON-RPC message answering it.
        The body is kept whole (within the read caps) for classification; storage cuts it
        (census.classify.evidence.stored_form).  ``keep_body`` caps it here instead.
        ``large`` allows the list-page caps (``max_wire_bytes``/``max_decoded_bytes``) instead
        of ``max_answer_bytes``.
        """
        url, stripped = without_userinfo(url)
        request_headers = {"Accept-Encoding": "gzip, deflate, br", **(headers or {})}
        attempts = 0
        retried: list[dict[str, Any]] = []
        started = time.perf_counter()
        limit = self.settings.max_attempts
        try:
            self.vet(url)
            # A plain loop, not tenacity: this runs for every request of every probe, and
            # building a tenacity retrier per call cost ~7% of a probe's CPU (py-spy).
            while True:
                attempts += 1
                try:
                    async with self.polite(url):  # each attempt holds the host's slot
                        result = await self._once(
                            method,
                            url,
                            request_headers,
                            json_body,
                            rpc_id,
                            tls_info,
                            deadline or self.settings.step_deadline,
                            large,
                        )
                except Exception as exc:
                    if attempts >= limit or not _transient(exc):
                        raise
                    await anyio.sleep(_RESET_PAUSE)  # a reset: a moment before the one retry
                    continue
                if (
                    result.status in _RETRY_STATUSES
                    and attempts < limit
                    and _retry_after_ok(
                        result.status, result.headers, self.settings.max_retry_after
                    )
                ):
                    retried.append({"status": result.status, "headers": result.headers})
                    wait = _retry_after_seconds(result.headers) or 0.0
                    await anyio.sleep(min(wait, self.settings.max_retry_after))  # Retry-After
                    continue
                break
        except Exception as exc:
            failure = failure_of(exc)
            return Exchange(
                step=step,
                method=method,
                url=url,
                request_headers=dict(request_headers),
                request_body=json_body,
                error=str(failure.reason),
                error_detail=failure.detail,
                timings_ms={"total": _ms(time.perf_counter() - started)},
                attempts=max(attempts, 1),
                retried=tuple(retried),
                userinfo_stripped=stripped,
            )
        cap = len(result.text) if keep_body is None else keep_body
        if result.error is not None:
            # A cut-short body is never parsed again: keep only a prefix as evidence.
            cap = min(cap, self.settings.max_evidence_body)
        return Exchange(
            step=step,
            method=method,
            url=url,
            request_headers=dict(request_headers),
            request_body=json_body,
            status=result.status,
            response_headers=result.headers,
            body=result.text[:cap],
            body_truncated=result.truncated or len(result.text) > cap,
            error=result.error,
            error_detail=result.error_detail,
            timings_ms={**result.timings, "total": _ms(time.perf_counter() - started)},
            attempts=attempts,
            retried=tuple(retried),
            userinfo_stripped=stripped,
        )

    def polite(self, url: str) -> AbstractAsyncContextManager[None]:
        """The per-host slot a request to ``url`` must hold (nothing without a limiter)."""
        if self.limiter is None:
            return nullcontext()
        return self.limiter.slot(_url(url).raw_host or "")

    async def _once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        rpc_id: int | str | None,
        tls_info: dict[str, Any] | None,
        deadline: float,
        large: bool,
    ) -> _Result:
        """One attempt.  Headers must arrive within the deadline (else the attempt fails); the
        body gets what is left of it, and a body cut short keeps the status it came with."""
        timing = _Timing()
        token = _TIMING.set(timing)
        t0 = time.perf_counter()
        data = None if json_body is None else json.dumps(json_body, separators=(",", ":"))
        # The step deadline is aiohttp's own per-request total timer (headers and body): an
        # anyio cancel scope per request cost several times more CPU (py-spy).  It raises
        # TimeoutError for the headers (the attempt fails) and inside _read_body for the body
        # (a body cut short keeps the status it came with).
        try:
            response = await self.session.request(
                method,
                _url(url),
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=_timeout(self.settings, deadline),
            )
        finally:
            _TIMING.reset(token)
        try:
            t_headers = time.perf_counter()
            kept = _kept_headers(response)
            if tls_info is not None and not tls_info:
                tls_info.update(describe_peer(response))
            text, truncated = "", False
            error: str | None
            if _header_bytes(response) > self.settings.max_header_bytes:
                # A header flood is not HTTP we accept: keep the status, skip the body.
                truncated, error = True, str(FailureReason.PROTOCOL_ERROR)
            else:
                text, truncated, error = await _read_body(
                    response, *self._caps(large), sse_rpc_id=rpc_id
                )
            if error == str(FailureReason.TIMEOUT):
                truncated = True
            if error is None and truncated and not _is_sse(kept):
                error = str(FailureReason.BODY_TOO_LARGE)
            if error is None and truncated and _is_sse(kept) and rpc_id is not None:
                error = str(FailureReason.BODY_TOO_LARGE)
        finally:
            response.close()
        timings = _phase_ms(timing, t0, t_headers)
        return _Result(
            response.status,
            kept,
            text,
            truncated,
            error,
            None if error is None else f"body stopped: {error}",
            timings,
        )

    def _caps(self, large: bool) -> tuple[int, int]:
        """(wire, decoded) byte caps for one answer."""
        s = self.settings
        if large:
            return s.max_wire_bytes, s.max_decoded_bytes
        return min(s.max_wire_bytes, s.max_answer_bytes), min(
            s.max_decoded_bytes, s.max_answer_bytes
        )

    @asynccontextmanager
    async def open_sse(
        self, step: str, url: str, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[SSEStream]:
        """A GET event stream kept open while the caller POSTs (the 2024-11-05 transport).

        The stream records what it read; ``stream.exchange()`` is its evidence.
        """
        stream = SSEStream(self, step, url, {"Accept": "text/event-stream", **(headers or {})})
        try:
            yield stream
        finally:
            await stream.close()


class SSEStream:
    """A bounded reader of one GET text/event-stream (legacy HTTP+SSE)."""

    def __init__(self, client: ProbeClient, step: str, url: str, headers: dict[str, str]) -> None:
        self._client = client
        self.step = step
        self.url, self.userinfo_stripped = without_userinfo(url)
        self.headers = headers
        self._response: aiohttp.ClientResponse | None = None
        self._parser = SSEParser()
        self._raw: list[str] = []
        self._read = 0
        self._decoder = make_decoder(None)
        self.status: int | None = None
        self.response_headers: dict[str, str] = {}
        self.error: str | None = None
        self.error_detail: str | None = None
        self._started = time.perf_counter()
        self.truncated = False
        self._backlog: list[SSEEvent] = []
        self.retried: list[dict[str, Any]] = []
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")

    async def connect(self) -> bool:
        """Open the stream; False (with ``error`` set) when no stream could be opened.

        Like :meth:`ProbeClient.send`, a 429/502/503 with a short Retry-After is retried once.
        """
        settings = self._client.settings
        for attempt in range(1, settings.max_attempts + 1):
            try:
                self._client.vet(self.url)
                # The slot paces the stream's start; the open stream itself is not held in
                # it (a host's probes run one at a time, so at most one stream + one POST).
                async with self._client.polite(self.url):
                    with anyio.fail_after(settings.step_deadline):
                        response = await self._client.session.request(
                            "GET", self.url, headers=self.headers, allow_redirects=False
                        )
            except Exception as exc:
                failure = failure_of(exc)
                self.error, self.error_detail = str(failure.reason), failure.detail
                return False
            headers = _kept_headers(response)
            if (
                response.status in _RETRY_STATUSES
                and attempt < settings.max_attempts
                and _retry_after_ok(response.status, headers, settings.max_retry_after)
            ):
                self.retried.append({"status": response.status, "headers": headers})
                response.close()
                await anyio.sleep(_retry_after_seconds(headers) or 0.05)  # honour Retry-After
                continue
            break
        self._response = response
        self.status = response.status
        self.response_headers = headers
        self._decoder = make_decoder(response.headers.get("Content-Encoding"))
        return True

    async def next_event(self, timeout: float) -> SSEEvent | None:
        """The next event within ``timeout`` seconds, or None (end, cap, error or silence)."""
        if self._response is None:
            return None
        if self._backlog:
            return self._backlog.pop(0)
        settings = self._client.settings
        try:
            with anyio.fail_after(timeout):
                while self._read < settings.max_wire_bytes:
                    chunk = await self._response.content.readany()
                    if not chunk:
                        return None
                    self._read += len(chunk)
                    text = self._utf8.decode(self._decoder.feed(chunk, settings.max_decoded_bytes))
                    self._raw.append(text)
                    events = self._parser.feed(text)
                    if events:
                        self._backlog = events[1:]
                        return events[0]
                self.truncated = True
                return None
        except Exception as exc:
            failure = failure_of(exc)
            if self.error is None:
                self.error, self.error_detail = str(failure.reason), failure.detail
            return None

    async def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def exchange(self) -> Exchange:
        body = "".join(self._raw)
        cap = self._client.settings.max_evidence_body
        return Exchange(
            step=self.step,
            method="GET",
            url=self.url,
            request_headers=dict(self.headers),
            status=self.status,
            response_headers=self.response_headers,
            body=body[:cap] if self.status is not None else None,
            body_truncated=self.truncated or len(body) > cap,
            error=self.error,
            error_detail=self.error_detail,
            timings_ms={"total": _ms(time.perf_counter() - self._started)},
            retried=tuple(self.retried),
            userinfo_stripped=self.userinfo_stripped,
        )


@dataclass(slots=True)
class _Result:
    status: int
    headers: dict[str, str]
    text: str
    truncated: bool
    error: str | None
    error_detail: str | None
    timings: dict[str, float]


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, NetFailure | TimeoutError):
        return False
    failure = failure_of(exc)
    # Only failures before any response byte, and only resets: a refused or timed-out connect
    # will not improve within our budget, and retrying a deadline is retrying a trickle.
    return failure.pre_response and failure.reason is FailureReason.CONNECTION_RESET


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    # ASCII delta-seconds only: "²".isdigit() is True but float("²") raises, which once
    # turned a 503 into skipped/invalid_url.
    seconds = ascii_int(headers.get("retry-after"))
    return None if seconds is None else float(seconds)


def _retry_after_ok(status: int, headers: Mapping[str, str], cap: float) -> bool:
    """Retry a 429 only when told how long to wait (and it is short); 502/503 also without."""
    seconds = _retry_after_seconds(headers)
    if "retry-after" in headers and seconds is None:
        return False  # an HTTP-date: too far to wait within a probe
    if seconds is None:
        return status != 429
    return seconds <= cap


async def _read_body(
    response: aiohttp.ClientResponse,
    max_wire: int,
    max_decoded: int,
    *,
    sse_rpc_id: int | str | None,
) -> tuple[str, bool, str | None]:
    """Read a body within the wire and decoded caps; for SSE, stop at the awaited message."""
    decoder = make_decoder(response.headers.get("Content-Encoding"))
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    lenient = codecs.getincrementaldecoder("utf-8")("replace")
    bad_utf8 = False
    sse = "text/event-stream" in response.headers.get("Content-Type", "").lower()
    parser = SSEParser() if sse and sse_rpc_id is not None else None
    parts: list[str] = []
    decoded = 0
    wire = 0
    try:
        while True:
            chunk = await response.content.read(_CHUNK)
            if not chunk:
                error = str(FailureReason.PROTOCOL_ERROR) if bad_utf8 else None
                return "".join(parts), False, error
            wire += len(chunk)
            room = max_decoded - decoded
            out = decoder.feed(chunk, room)
            decoded += len(out)
            if not bad_utf8:
                try:
                    text = utf8.decode(out)
                except UnicodeDecodeError:
                    # Invalid UTF-8 is a protocol error (JSON text must be UTF-8); keep a
                    # readable rendering of the whole body for evidence.
                    bad_utf8 = True
                    text = lenient.decode(b"".join(p.encode() for p in parts) + out)
                    parts = []
            else:
                text = lenient.decode(out)
            parts.append(text)
            if parser is not None and _answers(parser.feed(text), sse_rpc_id):
                return (
                    "".join(parts),
                    False,
                    str(FailureReason.PROTOCOL_ERROR) if bad_utf8 else None,
                )
            if wire >= max_wire or decoded >= max_decoded:
                return "".join(parts), True, None
    except DecodeError:
        # A body that lies about its encoding: the server answered, but not readably.
        return "".join(parts), False, str(FailureReason.PROTOCOL_ERROR)
    except Exception as exc:
        failure = failure_of(exc)
        return "".join(parts), True, str(failure.reason)


def _answers(events: list[SSEEvent], rpc_id: int | str | None) -> bool:
    for event in events:
        if not event.data:
            continue  # 2025-11-25 priming events carry no data
        try:
            message = json.loads(event.data)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit
            continue
        if (
            isinstance(message, dict)
            and type(message.get("id")) is type(rpc_id)  # `true` does not answer id 1
            and message.get("id") == rpc_id
            and ("result" in message or "error" in message)
        ):
            return True
    return False


def _header_bytes(response: aiohttp.ClientResponse) -> int:
    return sum(len(name) + len(value) + 4 for name, value in response.raw_headers)


def _is_sse(headers: Mapping[str, str]) -> bool:
    return "text/event-stream" in headers.get("content-type", "").lower()


def _kept_headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        if key in KEPT_HEADERS:
            # Repeated headers (several challenges) are joined, as RFC 9110 allows.
            kept[key] = f"{kept[key]}, {value}" if key in kept else value
            kept[key] = kept[key][:_MAX_HEADER_VALUE]
    return kept


def without_userinfo(url: str) -> tuple[str, bool]:
    """The URL a request may be sent to, and whether credentials were removed from it.

    The one credential chokepoint: every request census makes goes through
    :meth:`ProbeClient.send` or :class:`SSEStream`, and both call this first.  aiohttp turns URL
    userinfo into an ``Authorization: Basic`` header on its own, and URLs census did not choose
    (a redirect's ``Location``, a legacy SSE ``endpoint`` event, a ``resource_metadata`` link)
    may carry some: they are removed here, never sent, and the Exchange says so.
    """
    if "@" not in url:
        return url, False  # the common case, without parsing
    try:
        parsed = _url(url)
    except ValueError:
        return url, False  # unparseable: the request itself fails as invalid_url
    if parsed.raw_user is None and parsed.raw_password is None:
        return url, False  # an `@` in the path or query, or an empty `@host`
    return str(parsed.with_user(None)), True


@lru_cache(maxsize=4096)
def _url(url: str) -> URL:
    """Parsed once: a probe sends several requests to one URL, each vetted and paced by host."""
    return URL(url)


def _phase_ms(timing: _Timing, t0: float, t_headers: float) -> dict[str, float]:
    marks = timing.marks
    out = {"first_byte": _ms(t_headers - t0)}
    if "dns_start" in marks and "dns_end" in marks:
        out["dns"] = _ms(marks["dns_end"] - marks["dns_start"])
    if "conn_start" in marks and "conn_end" in marks:
        # aiohttp reports TCP connect and TLS handshake as one phase.
        out["connect_tls"] = _ms(marks["conn_end"] - marks["conn_start"])
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def _timeout(settings: ProbeSettings, total: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's timers: ``total`` is the step deadline (None: the session default)."""
    return aiohttp.ClientTimeout(
        total=total,
        # sock_connect, not connect: aiohttp's `connect` also counts waiting for a pooled
        # connection, which is our own queue, not the server's slowness.
        sock_connect=settings.connect_timeout,
        sock_read=settings.read_timeout,
    )


def _ssl_context(settings: ProbeSettings) -> ssl.SSLContext:
    if settings.ca_bundle is not None:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    return ssl.create_default_context()
