"""The one seam between discovery and the network: :class:`Fetcher.get`.

Every discovery request goes through :meth:`Fetcher.get`, so moving discovery onto
``census.net``'s client later is a change to this module only.  A fetch never raises for remote
misbehaviour: a refused connection, a timeout, an oversized body or a 500 are values in
:class:`Fetched` (``error`` is a :class:`census.vocabulary.FailureReason` value).

Politeness lives here too: requests of one fetcher start at least ``min_interval`` seconds
apart, and 429/503 (and other transient answers) are retried with tenacity, honouring
``Retry-After`` up to a cap.
"""

from __future__ import annotations

import email.utils
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp
import anyio
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from census import __version__
from census.net.resolver import AddressRefused, VettingResolver
from census.vocabulary import FailureReason

__all__ = ["RETRY_STATUSES", "Fetched", "Fetcher", "HttpPolicy"]

#: Answers worth asking again: rate limiting and transient server trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Transport failures worth a retry (a dead name or a TLS failure will not heal in seconds).
RETRY_ERRORS = frozenset(
    {FailureReason.TIMEOUT, FailureReason.CONNECT_TIMEOUT, FailureReason.CONNECTION_RESET}
)


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """How discovery talks to one source (defaults are the polite production values)."""

    user_agent: str = f"census/{__version__} (MCP endpoint census, discovery)"
    #: Deadline of one request, connect to last body byte.
    timeout: float = 30.0
    connect_timeout: float = 10.0
    #: Bodies beyond this are cut off and reported as ``body_too_large``.
    max_body: int = 16 * 1024 * 1024
    #: Seconds between request starts (1.0 = the official registry's 1 request/s).
    min_interval: float = 1.0
    #: Tries per request for RETRY_STATUSES / RETRY_ERRORS (1 = no retry).
    attempts: int = 5
    #: Exponential backoff when no Retry-After is given: base * 2**n, capped.
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    #: The longest Retry-After honoured; a longer one is waited for only this long.
    max_retry_after: float = 120.0
    #: name → address (a testbed hosts file); names absent from it do not resolve.
    hosts: Mapping[str, str] | None = None
    #: Extra CA bundle (the testbed's ca.pem).
    ca_file: Path | None = None
    #: Whether names may resolve to private addresses (only for hosts-file testbeds).
    allow_private: bool = False
    follow_redirects: bool = True


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one (possibly retried) GET brought back."""

    url: str
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # a FailureReason value when no usable answer arrived
    detail: str | None = None
    attempts: int = 1
    #: Earlier attempts' outcomes, e.g. ("429 retry-after=1", "500") — reported as incidents.
    retried: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def describe(self) -> str:
        """A short human account of the outcome, for read reports."""
        if self.error is not None:
            what = self.error + (f" ({self.detail})" if self.detail else "")
        else:
            what = f"HTTP {self.status}"
        if self.attempts > 1:
            what += f" after {self.attempts} attempts"
        return what


class Fetcher:
    """An aiohttp session with a pace, retries and capped reads (use as an async context)."""

    def __init__(self, policy: HttpPolicy) -> None:
        self.policy = policy
        self._session: aiohttp.ClientSession | None = None
        self._lock = anyio.Lock()
        self._next_start = 0.0

    async def __aenter__(self) -> Self:
        policy = self.policy
        context = ssl.create_default_context()
        if policy.ca_file is not None:
            context.load_verify_locations(cafile=str(policy.ca_file))
        resolver = VettingResolver(policy.hosts, allow_private=policy.allow_private)
        connector = aiohttp.TCPConnector(resolver=resolver, ssl=context, limit=8)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": policy.user_agent},
            timeout=aiohttp.ClientTimeout(
                total=policy.timeout, sock_connect=policy.connect_timeout
            ),
            auto_decompress=True,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        read_body: bool = True,
        attempts: int | None = None,
        follow_redirects: bool | None = None,
    ) -> Fetched:
        """GET ``url`` politely; never raises for what the remote side does."""
        history: list[str] = []

        async def once() -> Fetched:
            await self._pace()
            result = await self._once(url, headers, read_body, follow_redirects)
            history.append(_incident(result))
            return result

        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(1, attempts or self.policy.attempts)),
            wait=self._wait,
            retry=retry_if_result(_retryable),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            sleep=anyio.sleep,
            reraise=True,
        )
        result: Fetched = await retrying(once)
        return replace(result, attempts=len(history), retried=tuple(history[:-1]))

    async def _pace(self) -> None:
        # Requests of one fetcher start at least min_interval apart (the source's rate limit).
        async with self._lock:
            now = time.monotonic()
            delay = self._next_start - now
            if delay > 0:
                await anyio.sleep(delay)
            self._next_start = max(now, self._next_start) + self.policy.min_interval

    def _wait(self, state: RetryCallState) -> float:
        policy = self.policy
        backoff = min(policy.backoff_max, policy.backoff_base * 2.0 ** (state.attempt_number - 1))
        if state.outcome is None or state.outcome.failed:
            return backoff
        result: Fetched | None = state.outcome.result()
        after = _retry_after(result.headers.get("Retry-After")) if result else None
        if after is not None:
            return min(after, policy.max_retry_after)
        return backoff

    async def _once(
        self,
        url: str,
        headers: Mapping[str, str] | None,
        read_body: bool,
        follow_redirects: bool | None,
    ) -> Fetched:
        assert self._session is not None, "Fetcher used outside `async with`"
        follow = self.policy.follow_redirects if follow_redirects is None else follow_redirects
        try:
            with anyio.fail_after(self.policy.timeout + 1):
                async with self._session.get(
                    url, headers=dict(headers or {}), allow_redirects=follow, max_redirects=5
                ) as response:
                    answer_headers = dict(response.headers)
                    body = b""
                    if read_body:
                        body = await _read_capped(response, self.policy.max_body)
                        if len(body) > self.policy.max_body:
                            return Fetched(
                                url,
                                response.status,
                                answer_headers,
                                body[: self.policy.max_body],
                                FailureReason.BODY_TOO_LARGE.value,
                                f"more than {self.policy.max_body} bytes",
                            )
                    return Fetched(url, response.status, answer_headers, body)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            reason, detail = _failure(exc)
            return Fetched(url, error=reason, detail=detail)


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The body, or its first ``cap + 1`` bytes when it is larger (never more in memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            break
    return b"".join(chunks)[: cap + 1]


def _retryable(result: Fetched | None) -> bool:
    if result is None:
        return False
    if result.error is not None:
        return result.error in RETRY_ERRORS
    return result.status in RETRY_STATUSES


def _incident(result: Fetched) -> str:
    if result.error is not None:
        return result.error
    after = result.headers.get("Retry-After")
    return f"{result.status}" + (f" retry-after={after}" if after else "")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _failure(exc: BaseException) -> tuple[str, str]:
    """Translate an aiohttp/OS error into a FailureReason value (the one place discovery does)."""
    detail = f"{type(exc).__name__}: {exc}"[:200]
    chain: list[BaseException] = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 5:
        chain.append(chain[-1].__cause__)
    os_error = getattr(exc, "os_error", None)
    if isinstance(os_error, BaseException):
        chain.append(os_error)
    if any(isinstance(e, AddressRefused) for e in chain):
        return FailureReason.PRIVATE_ADDRESS.value, detail
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return FailureReason.INVALID_URL.value, detail
    if isinstance(exc, aiohttp.TooManyRedirects):
        return FailureReason.REDIRECT_REFUSED.value, detail
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FailureReason.DNS_ERROR.value, detail
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return FailureReason.TLS_ERROR.value, detail
    if isinstance(exc, aiohttp.ClientConnectorError):
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return FailureReason.CONNECT_REFUSED.value, detail
        if any(isinstance(e, TimeoutError) for e in chain):
            return FailureReason.CONNECT_TIMEOUT.value, detail
        if any(isinstance(e, ssl.SSLError) for e in chain):
            return FailureReason.TLS_ERROR.value, detail
        return FailureReason.CONNECT_REFUSED.value, detail
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return FailureReason.CONNECT_TIMEOUT.value, detail
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return FailureReason.TIMEOUT.value, detail
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return FailureReason.PROTOCOL_ERROR.value, detail
    return FailureReason.CONNECTION_RESET.value, detail
