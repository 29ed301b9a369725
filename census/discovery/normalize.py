"""Canonical endpoint URLs, registrable domains, platform hosts and secret redaction.

One endpoint row exists per canonical URL, so this module decides identity.  The canonical form
(``shared/docs/vocabulary.md``, *Identity*) changes nothing an HTTP server could tell apart:

* scheme and host lower-cased (IDN hosts in their ASCII ``xn--`` form, a trailing dot dropped);
* the default port (80 for http, 443 for https) dropped, any other port kept;
* the fragment dropped (never sent to a server); an empty query (``?``) dropped;
* a path of ``/`` dropped (``https://h/`` and ``https://h`` send the same request line), every
  other path kept verbatim, trailing slash included (``/mcp`` and ``/mcp/`` are different
  routes on real servers: Starlette answers one with a 307 to the other);
* the query kept in its original order, but the value of every secret-looking parameter
  replaced by ``REDACTED``;
* at most ``census.records.MAX_URL_BYTES`` (2,048) UTF-8 bytes (``url_too_long`` otherwise: an
  unbounded URL would be stored, indexed and printed at any length a catalogue chose);
* userinfo (``user:password@``, ``:password@``, ``user@``) removed: census never sends
  credentials, and the endpoint is the same one without them.  Both redactions set
  ``secret_in_url`` so the finding ``secret_in_url`` can be raised later without the secret
  ever being stored.

Rejections (see :mod:`census.discovery.reasons`) are decided here too, on the raw text, before
anything is stored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from publicsuffixlist import PublicSuffixList

from census.discovery.reasons import DiscoveryReason
from census.net.addresses import is_public
from census.records import MAX_URL_BYTES
from census.vocabulary import FailureReason, Transport

__all__ = [
    "KNOWN_PLATFORM_SUFFIXES",
    "PLATFORM_MIN_ENDPOINTS",
    "REDACTED",
    "NormalizedUrl",
    "is_known_platform",
    "normalize_url",
    "redact_raw",
    "registrable_domain",
    "transport_hint",
]

REDACTED = "REDACTED"

#: A host listing at least this many distinct endpoints is a platform host (one host serving
#: many tenants' servers, e.g. pipeworx.io with 1,311); the store applies the rule over all
#: endpoints, the known list below flags the well-known ones even when only one is listed.
PLATFORM_MIN_ENDPOINTS = 5

#: Hosting platforms and gateways whose hosts serve other people's servers (registries
#: reference §5.2); a host equal to or under one of these is a platform host.
KNOWN_PLATFORM_SUFFIXES: tuple[str, ...] = (
    "server.smithery.ai",
    "run.tools",
    "workers.dev",
    "pages.dev",
    "vercel.app",
    "netlify.app",
    "onrender.com",
    "up.railway.app",
    "herokuapp.com",
    "fly.dev",
    "deno.dev",
    "modal.run",
    "replit.app",
    "glitch.me",
    "a.run.app",
    "azurewebsites.net",
    "supabase.co",
    "apify.com",
    "apify.actor",
    "pipeworx.io",
    "alpic.live",
    "ngrok.io",
    "ngrok.app",
    "ngrok-free.app",
    "ngrok-free.dev",
    "trycloudflare.com",
)

# Placeholders left in URLs by documentation and templating ({var}, ${VAR}, <YOUR_KEY>,
# [YOUR_TOKEN]) and their percent-encoded forms.
_TEMPLATE = re.compile(r"[{}<>]|\$\{|\[[A-Za-z_ -]+\]|%7[BbDd]|%3[CcEe]")
# Query parameter names whose values are credentials.
_SECRET_NAME = re.compile(
    r"(^|[_\-.])(api[_\-.]?key|apikey|key|token|access[_\-.]?token|auth|authorization|secret|"
    r"client[_\-.]?secret|password|passwd|pass|pwd|sig|signature|jwt|bearer|session|sessionid|"
    r"credential|credentials|code)($|[_\-.])|token|secret|apikey|api_key|password",
    re.IGNORECASE,
)
# A value that looks like a credential whatever its parameter is called: long, opaque, mixed
# letters and digits.  UUIDs are excluded: in real registry URLs they are tenant or storefront
# identifiers (``?storefrontId=9e55…``), and redacting one would break the endpoint.
_OPAQUE_VALUE = re.compile(
    r"^(?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)"
    r"(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_\-.~+/=]{32,}$"
)
_NON_PUBLIC_SUFFIXES = (".local", ".internal", ".lan", ".home.arpa", ".localdomain", ".invalid")
_PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org")
_HOST_CHARS = re.compile(r"^[a-z0-9._-]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_QUERY_SEPARATORS = re.compile(r"([&;])")
# Longer raw text is refused before parsing (parsing and redacting are linear, but a source
# may list megabytes on one line).
_MAX_RAW_LENGTH = 8 * MAX_URL_BYTES


@dataclass(frozen=True, slots=True)
class NormalizedUrl:
    """The outcome of normalizing one listed URL.

    ``url`` is the canonical form (secrets redacted) when it could be built, else the raw text
    with secrets redacted as far as it could be parsed; ``rejected`` is a rejection reason or
    ``None`` for an acceptable public endpoint URL.
    """

    url: str
    host: str
    registrable_domain: str | None
    secret_in_url: bool
    rejected: str | None = None

    @property
    def accepted(self) -> bool:
        return self.rejected is None


@cache
def _psl() -> PublicSuffixList:
    # The bundled list: offline, and the same answer on every machine for one census version.
    return PublicSuffixList()


def registrable_domain(host: str) -> str | None:
    """The registrable domain (public suffix + one label) of a host; ``None`` for IPs/suffixes."""
    host = host.lower().rstrip(".")
    if not host or _is_ip(host):
        return None
    result: str | None = _psl().privatesuffix(host)
    return result


def is_known_platform(host: str) -> bool:
    """True when the host is (under) a known multi-tenant hosting platform or gateway."""
    host = host.lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in KNOWN_PLATFORM_SUFFIXES)


def transport_hint(declared: object, url: str) -> str | None:
    """Map a declared transport (``streamable-http``, ``sse``, ``http``, …) to the vocabulary.

    Without a usable declaration, a path ending in ``/sse`` hints the legacy SSE transport and
    anything else stays unknown (the prober decides).
    """
    if isinstance(declared, str):
        word = declared.strip().lower().replace("_", "-")
        if word in {"streamable-http", "streamablehttp", "http", "streamable"}:
            return Transport.STREAMABLE_HTTP.value
        if word == "sse":
            return Transport.SSE.value
    path = urlsplit(url).path if "://" in url else ""
    if path.rstrip("/").endswith("/sse"):
        return Transport.SSE.value
    return None


def normalize_url(raw: str) -> NormalizedUrl:
    """Canonicalize one listed URL and decide whether discovery accepts it."""
    text = raw.strip()
    if len(text) > _MAX_RAW_LENGTH:
        # Not even parsed: a megabyte "URL" is a catalogue defect, and only a redacted prefix
        # of it is worth keeping as an example.
        shown = _shorten(_redact_unparsed(text[:MAX_URL_BYTES]))
        return NormalizedUrl(shown, "", None, _has_secret(text), DiscoveryReason.URL_TOO_LONG)
    if not text or any(c.isspace() or not c.isprintable() for c in text) or "://" not in text:
        return NormalizedUrl(_shorten(text), "", None, False, FailureReason.INVALID_URL.value)
    templated = bool(_TEMPLATE.search(text))
    try:
        parts = urlsplit(text)
        port = parts.port
        parsed_host = parts.hostname or ""
    except ValueError:
        why = DiscoveryReason.TEMPLATED_URL if templated else FailureReason.INVALID_URL
        return NormalizedUrl(_redact_unparsed(text), "", None, _has_secret(text), why.value)
    scheme = parts.scheme.lower()
    query, query_secret = _redact_query(parts.query)
    secret = query_secret or bool(parts.username or parts.password)
    host = _ascii_host(parsed_host)
    url = _assemble(scheme, host, port, parts.path, query) if host is not None else text
    shown_host = host or ""
    reason = _rejection(scheme, shown_host, port, templated)
    if reason is None and _too_long(url):
        reason = DiscoveryReason.URL_TOO_LONG.value
        url = _shorten(url)
    if reason is not None and reason != FailureReason.INVALID_URL:
        return NormalizedUrl(url, shown_host, registrable_domain(shown_host), secret, reason)
    if reason is not None:
        return NormalizedUrl(url, shown_host, None, secret, reason)
    return NormalizedUrl(url, shown_host, registrable_domain(shown_host), secret)


def _too_long(url: str) -> bool:
    return len(url) > MAX_URL_BYTES or len(url.encode("utf-8", "surrogatepass")) > MAX_URL_BYTES


def _shorten(url: str) -> str:
    """A rejected URL as kept for examples: at most 200 characters (it is printed)."""
    return url if len(url) <= 200 else url[:199] + "…"


def _rejection(scheme: str, host: str, port: int | None, templated: bool) -> str | None:
    if templated:
        return DiscoveryReason.TEMPLATED_URL.value
    if scheme not in _DEFAULT_PORTS or not host or port == 0:
        return FailureReason.INVALID_URL.value
    if _is_ip(host):
        address = ipaddress.ip_address(host)
        if address.is_loopback or address.is_unspecified:
            return DiscoveryReason.LOCALHOST.value
        if not is_public(address):
            return FailureReason.PRIVATE_ADDRESS.value
        return None
    if not _HOST_CHARS.match(host) or ".." in host or host.startswith(("-", ".")):
        return FailureReason.INVALID_URL.value
    if host == "localhost" or host.endswith(".localhost"):
        return DiscoveryReason.LOCALHOST.value
    if "." not in host or host.endswith(_NON_PUBLIC_SUFFIXES):
        return DiscoveryReason.NON_PUBLIC_HOST.value
    if any(host == d or host.endswith("." + d) for d in _PLACEHOLDER_DOMAINS):
        return DiscoveryReason.PLACEHOLDER_HOST.value
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _ascii_host(host: str) -> str | None:
    host = host.rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _assemble(scheme: str, host: str, port: int | None, path: str, query: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        shown = f"{shown}:{port}"
    if path == "/":
        path = ""
    return f"{scheme}://{shown}{path}" + (f"?{query}" if query else "")


def _redact_query(query: str) -> tuple[str, bool]:
    """Replace secret values in a query string, keeping order; report whether one was real."""
    if not query:
        return "", False
    out: list[str] = []
    secret = False
    # Both separators: servers built on older CGI conventions (and Python's own parse_qs
    # before 3.10) split `a=1;token=…` into two parameters, so `;` hides a secret as well as `&`.
    for index, pair in enumerate(_QUERY_SEPARATORS.split(query)):
        if index % 2:
            out.append(pair)  # the separator itself, kept as it was
            continue
        name, sep, value = pair.partition("=")
        decoded = unquote(value)
        if value and (_SECRET_NAME.search(unquote(name)) or _OPAQUE_VALUE.match(decoded)):
            out.append(f"{name}={REDACTED}")
            # A placeholder ({api_key}) is not a leaked secret; the URL is rejected as templated.
            secret = secret or not _TEMPLATE.search(value)
        else:
            out.append(name + sep + value)
    return "".join(out), secret


def _has_secret(text: str) -> bool:
    _, _, rest = text.partition("?")
    return _redact_query(rest.partition("#")[0])[1]


def _redact_unparsed(text: str) -> str:
    head, sep, rest = text.partition("?")
    if not sep:
        return text
    query = rest.partition("#")[0]
    return f"{head}?{_redact_query(query)[0]}"


_SECRET_KEY = re.compile(
    r"^(authorization|x-api-key|api[_-]?key|apikey|token|access[_-]?token|secret|"
    r"client[_-]?secret|password|passwd|cookie|bearer)$",
    re.IGNORECASE,
)


def redact_raw(value: Any) -> Any:
    """A copy of a source entry with every secret replaced by ``REDACTED``.

    Secrets are: URLs carrying credentials (as :func:`normalize_url` redacts them), values of
    secret-named keys (``Authorization``, ``api_key``, …) and ``value``/``default`` of header
    definitions marked ``isSecret`` — unless they are placeholders such as
    ``Bearer {smithery_api_key}`` or ``${APIFY_API_KEY}``, which are kept as documentation.
    """
    if isinstance(value, Mapping):
        secret_header = value.get("isSecret") is True or value.get("is_secret") is True
        out: dict[str, Any] = {}
        for key, item in value.items():
            named_secret = isinstance(key, str) and _SECRET_KEY.match(key) is not None
            field_secret = secret_header and key in {"value", "default"}
            if isinstance(item, str) and (named_secret or field_secret):
                out[str(key)] = item if _is_placeholder(item) else REDACTED
            else:
                out[str(key)] = redact_raw(item)
        return out
    if isinstance(value, list | tuple):
        return [redact_raw(item) for item in value]
    if isinstance(value, str) and "://" in value and ("?" in value or "@" in value):
        return _redact_url_text(value)
    return value


def _is_placeholder(text: str) -> bool:
    stripped = re.sub(r"^(bearer|basic|token|apikey)\s+", "", text.strip(), flags=re.IGNORECASE)
    return not stripped or bool(_TEMPLATE.search(stripped)) or stripped.isupper()


def _redact_url_text(text: str) -> str:
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return _redact_unparsed(text)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]
    query, _ = _redact_query(parts.query)
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    return rebuilt + (f"#{parts.fragment}" if parts.fragment else "")
