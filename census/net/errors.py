"""Translate aiohttp/OS/SSL errors into the census vocabulary, once, at the network boundary.

    NetFailure                       raised by census.net for "no (complete) HTTP answer"
      .reason: FailureReason         dns_error, connect_refused, connect_timeout, tls_error,
                                     timeout, connection_reset, private_address, invalid_url,
                                     protocol_error
      .detail: str                   the original error, for evidence

Remote misbehaviour is data: callers turn a NetFailure into an Exchange with ``error`` set.
"""

from __future__ import annotations

import errno
import ssl

import aiohttp

from census.net.resolver import AddressRefused
from census.vocabulary import FailureReason

__all__ = ["NetFailure", "failure_of"]


class NetFailure(Exception):
    """No complete HTTP answer; ``reason`` is a FailureReason."""

    def __init__(self, reason: FailureReason, detail: str, *, pre_response: bool = True) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        #: True when nothing of a response arrived (only then is a retry safe).
        self.pre_response = pre_response


def failure_of(exc: BaseException) -> NetFailure:
    """Map any exception raised while talking to a server to a NetFailure."""
    if isinstance(exc, NetFailure):
        return exc
    detail = f"{type(exc).__name__}: {exc}"[:300]
    reason = _reason(exc)
    return NetFailure(reason, detail, pre_response=_pre_response(exc))


def _reason(exc: BaseException) -> FailureReason:
    if isinstance(exc, AddressRefused):
        return FailureReason.PRIVATE_ADDRESS
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        if isinstance(exc.os_error, AddressRefused):
            return FailureReason.PRIVATE_ADDRESS
        return FailureReason.DNS_ERROR
    if isinstance(
        exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError | ssl.SSLError
    ):
        return FailureReason.TLS_ERROR
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return FailureReason.CONNECT_TIMEOUT
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, ssl.SSLError):
            return FailureReason.TLS_ERROR
        if isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED:
            return FailureReason.CONNECT_REFUSED
        if isinstance(os_error, TimeoutError):
            return FailureReason.CONNECT_TIMEOUT
        if isinstance(os_error, ConnectionResetError | BrokenPipeError) or os_error.errno in (
            errno.ECONNRESET,
            errno.EPIPE,
        ):
            # TCP was accepted; a reset while connecting over TLS is the handshake failing.
            return (
                FailureReason.TLS_ERROR
                if exc.args and getattr(exc.args[0], "is_ssl", False)
                else FailureReason.CONNECTION_RESET
            )
        return FailureReason.CONNECT_REFUSED
    if isinstance(exc, TimeoutError | aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return FailureReason.TIMEOUT
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return FailureReason.INVALID_URL
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientPayloadError
        | ConnectionResetError
        | BrokenPipeError,
    ):
        return FailureReason.CONNECTION_RESET
    if isinstance(exc, aiohttp.ClientOSError):
        return FailureReason.CONNECTION_RESET
    if isinstance(exc, aiohttp.ClientResponseError):
        # Malformed status line or headers: something answered, but not HTTP we can read.
        return FailureReason.PROTOCOL_ERROR
    return FailureReason.PROTOCOL_ERROR


def _pre_response(exc: BaseException) -> bool:
    return isinstance(
        exc, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError | ConnectionResetError
    )
