"""What the TLS layer showed: version, issuer, expiry (days left) of the peer certificate."""

from __future__ import annotations

import functools
import ssl
import time
from typing import Any

import aiohttp
import anyio

__all__ = ["describe_cert", "describe_peer", "inspect_certificate"]


def describe_peer(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """TLS facts of the connection a response came on ({} for plain http)."""
    # A short body is read with the headers and the connection goes back to the pool at once,
    # so `response.connection` is often None here; the protocol keeps its transport.
    connection = response.connection
    protocol = (
        connection.protocol if connection is not None else getattr(response, "_protocol", None)
    )
    transport = getattr(protocol, "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return {}
    cert = ssl_object.getpeercert() or {}
    return {"verified": True, "version": ssl_object.version(), **describe_cert(cert)}


def describe_cert(cert: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """Issuer, notAfter and days left from a getpeercert() dict."""
    out: dict[str, Any] = {}
    issuer = dict(pair for rdn in cert.get("issuer", ()) for pair in rdn)
    if issuer:
        out["issuer"] = issuer.get("organizationName") or issuer.get("commonName")
    not_after = cert.get("notAfter")
    if isinstance(not_after, str):
        expires = ssl.cert_time_to_seconds(not_after)
        out["not_after"] = not_after
        out["days_left"] = int((expires - (time.time() if now is None else now)) // 86400)
    return out


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    # Built once: loading a trust store per look costs tens of milliseconds.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def inspect_certificate(client: Any, url: str, *, verify: bool) -> dict[str, Any]:
    """Certificate facts from a bare TLS handshake (no HTTP is sent).

    ``verify=False``: after verification failed, a non-verifying context used for this look
    only, so an expired or mismatched certificate still yields issuer and days left.
    ``verify=True``: for servers whose HTTP answer was unreadable (the connection's own TLS
    facts were lost with it), the shared verifying context.
    """
    import asyncio

    from cryptography import x509
    from yarl import URL

    target = URL(url)
    host, port = target.host or "", target.port or 443
    try:
        client.vet(url)
        answers = await client.resolver.resolve(host, port)
        context = client.ssl_context if verify else _unverified_context()
        with anyio.fail_after(client.settings.connect_timeout):
            _reader, writer = await asyncio.open_connection(
                answers[0]["host"], port, ssl=context, server_hostname=host
            )
    except Exception as exc:
        return {"inspect_error": type(exc).__name__}
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        version = ssl_object.version() if ssl_object is not None else None
    finally:
        writer.close()
    if not der:
        return {}
    cert = x509.load_der_x509_certificate(der)
    issuer = cert.issuer.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME) or (
        cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    )
    expires = cert.not_valid_after_utc.timestamp()
    return {
        "verified": verify,
        "version": version,
        "issuer": str(issuer[0].value) if issuer else None,
        "not_after": cert.not_valid_after_utc.isoformat(),
        "days_left": int((expires - time.time()) // 86400),
    }
