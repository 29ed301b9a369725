"""Era, transport, version, session and server identity from the handshake exchanges.

A handshake answered with a ``protocolVersion`` census cannot echo (CR/LF or other controls,
non-ASCII, over 64 characters: :func:`census.classify.wire.valid_version`) still confirms the
era, but is a protocol error (``version_invalid``); the version is stored escaped.  An HTTP+SSE
``endpoint`` event is an MCP signal even when the session it names could not be established
(``legacy_signal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from census.classify.evidence import last
from census.classify.wire import (
    MODERN_VERSION,
    discover_result,
    escaped_version,
    initialize_result,
    is_modern_error,
    valid_version,
)
from census.records import Evidence, Exchange
from census.vocabulary import Era, Session, Transport

__all__ = ["Protocol", "classify_protocol"]


@dataclass(frozen=True, slots=True)
class Protocol:
    era: Era | None = None
    transport: Transport | None = None
    protocol_version: str | None = None
    session: Session | None = None
    server_name: str | None = None
    server_version: str | None = None
    #: the exchange of the first MCP answer (latency), and the era whose lists count
    answer: Exchange | None = None
    listing_era: str | None = None
    modern_signal: bool = False
    #: the confirming answer's protocolVersion is not one census can echo (stored escaped)
    version_invalid: bool = False
    #: an HTTP+SSE `endpoint` event arrived (valid or not), whatever came of it
    legacy_signal: bool = False


def _server_info(info: Any) -> tuple[str | None, str | None]:
    if not isinstance(info, dict):
        return None, None
    name, version = info.get("name"), info.get("version")
    return (
        name if isinstance(name, str) else None,
        version if isinstance(version, str) and version else None,
    )


def classify_protocol(evidence: Evidence) -> Protocol:
    disc = last(evidence, "discover")
    init = last(evidence, "initialize:retry", "initialize")
    legacy = last(evidence, "legacy_sse:initialize")
    modern = discover_result(disc) if disc else None
    handshake = initialize_result(init) if init else None
    old = initialize_result(legacy) if legacy else None
    signal = any(x is not None and is_modern_error(x) for x in (disc, init))
    if modern is not None:
        meta = modern.get("_meta")
        info = meta.get("io.modelcontextprotocol/serverInfo") if isinstance(meta, dict) else None
        name, version = _server_info(info)
        if handshake is not None and init is not None:
            hs_name, hs_version = _server_info(handshake.get("serverInfo"))
            return Protocol(
                Era.DUAL,
                Transport.STREAMABLE_HTTP,
                MODERN_VERSION,
                _session(init),
                name or hs_name,
                version or hs_version,
                disc,
                "modern",
                True,
                not valid_version(str(handshake["protocolVersion"])),
            )
        return Protocol(
            Era.MODERN,
            Transport.STREAMABLE_HTTP,
            MODERN_VERSION,
            None,
            name,
            version,
            disc,
            "modern",
            True,
        )
    if handshake is not None and init is not None:
        name, version = _server_info(handshake.get("serverInfo"))
        protocol_version = str(handshake["protocolVersion"])
        return Protocol(
            Era.HANDSHAKE,
            Transport.STREAMABLE_HTTP,
            escaped_version(protocol_version),
            _session(init),
            name,
            version,
            init,
            "handshake",
            signal,
            not valid_version(protocol_version),
        )
    legacy_signal = bool(
        evidence.notes.get("legacy_sse_endpoint")
        or evidence.notes.get("legacy_sse_endpoint_invalid")
    )
    if old is not None and legacy is not None:
        name, version = _server_info(old.get("serverInfo"))
        protocol_version = str(old["protocolVersion"])
        return Protocol(
            Era.LEGACY_SSE,
            Transport.SSE,
            escaped_version(protocol_version),
            None,
            name,
            version,
            legacy,
            "legacy_sse",
            False,
            not valid_version(protocol_version),
            True,
        )
    return Protocol(modern_signal=signal, legacy_signal=legacy_signal)


def _session(init: Exchange) -> Session:
    # Only a successful initialize establishes a session (a 4xx may carry an id too).
    return Session.STATEFUL if init.response_headers.get("mcp-session-id") else Session.STATELESS
