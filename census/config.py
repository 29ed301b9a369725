"""Settings: every default in one place, built once in ``census.cli`` and passed down as values.

Stages never read ``os.environ``; :func:`load_settings` is the only function that does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from census import __version__

__all__ = ["DEFAULT_CONTACT_URL", "Settings", "load_settings"]

#: Where operators of probed servers learn what census is and how to opt out.
DEFAULT_CONTACT_URL = "https://github.com/census-mcp/census#politeness"


@dataclass(frozen=True, slots=True)
class Settings:
    """Process-wide settings.  Each field documents its environment variable."""

    #: DATABASE_URL — a PostgreSQL URL; ``None`` starts the embedded server.
    database_url: str | None = None
    #: CENSUS_HOME — where the embedded database and other state live.
    home: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("census")))
    #: CENSUS_CONTACT_URL — named in the User-Agent so operators can reach us / opt out.
    contact_url: str = DEFAULT_CONTACT_URL

    @property
    def user_agent(self) -> str:
        return f"census/{__version__} (+{self.contact_url}; MCP endpoint census, read-only)"

    @property
    def embedded_dir(self) -> Path:
        return self.home / "pgdata"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (the only place census reads it)."""
    env = os.environ if environ is None else environ
    kwargs: dict[str, object] = {}
    if env.get("DATABASE_URL"):
        kwargs["database_url"] = env["DATABASE_URL"]
    if env.get("CENSUS_HOME"):
        kwargs["home"] = Path(env["CENSUS_HOME"]).expanduser()
    if env.get("CENSUS_CONTACT_URL"):
        kwargs["contact_url"] = env["CENSUS_CONTACT_URL"]
    return Settings(**kwargs)  # type: ignore[arg-type]


# --- probe / net defaults (owned by census.probe and census.net) -------------------------------


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Every knob of the prober, with its default.  Built once (cli or crawl) and passed down."""

    #: Named in every request so operators can identify and contact us.
    user_agent: str = (
        f"census/{__version__} (+{DEFAULT_CONTACT_URL}; MCP endpoint census, read-only)"
    )
    #: Allow private/loopback/link-local/CGNAT/metadata targets (tests, local checks only).
    allow_private: bool = False
    #: A hosts file ("ADDRESS NAME…" per line): listed names resolve only there, others fail.
    hosts_file: Path | None = None
    #: A PEM CA bundle that replaces the system trust store (the testbed's CA).
    ca_bundle: Path | None = None
    #: TCP+TLS connect timeout, seconds (aiohttp's own per-phase timeout).
    connect_timeout: float = 5.0
    #: Longest silence between two reads, seconds.
    read_timeout: float = 8.0
    #: Total deadline for one request/response step, seconds (trickling servers hit this).
    step_deadline: float = 10.0
    #: Total deadline for one whole target, seconds.
    target_deadline: float = 60.0
    #: Bytes read off the wire per list page (compressed); more is truncated -> body_too_large.
    max_wire_bytes: int = 1 << 20
    #: Bytes kept after decompression per list page (gzip/deflate/br inflated in bounded steps).
    max_decoded_bytes: int = 2 << 20
    #: Wire and decoded cap for every other answer (handshakes, metadata, CORS): they are small,
    #: and thousands of concurrent probes must not each hold megabytes of a hostile body.
    max_answer_bytes: int = 256 << 10
    #: Total bytes of response headers accepted (aiohttp caps each line at 8 KiB only).
    max_header_bytes: int = 32 << 10
    #: Characters kept of a body cut short (an answer that timed out or overran its cap) and of
    #: a legacy event stream.  Complete bodies are kept whole for classification and cut only
    #: when stored (census.classify.evidence.stored_form, 16 KiB).
    max_evidence_body: int = 16 << 10
    #: Pages followed per list method (cursor pagination), and items per list — counted across
    #: pages and within one page; past it the listing is incomplete (list_failed), none stored.
    max_pages: int = 20
    max_items: int = 1000
    #: Same-origin redirect hops followed per step (/mcp <-> /mcp/ only).
    max_redirects: int = 1
    #: Attempts for transient failures before any response (reset, 502/503); 1 = no retry.
    max_attempts: int = 2
    #: Longest Retry-After honoured between attempts, seconds (longer -> give up, record it).
    max_retry_after: float = 2.0
    #: Polite rate-limit budget: extra read-only requests on healthy endpoints, and their spacing.
    ratelimit_requests: int = 3
    ratelimit_spacing: float = 0.25
    #: Send an OPTIONS preflight and a foreign-Origin POST (CORS / Origin validation).
    check_cors: bool = True
    #: How long to wait for the legacy HTTP+SSE `endpoint` event, seconds.
    sse_endpoint_wait: float = 5.0
    #: Hosts (and their subdomains) whose operators opted out: never contacted.
    optout_hosts: frozenset[str] = frozenset()
    #: Seconds an idle connection is kept for reuse: long enough for one probe's back-to-back
    #: requests, short enough that thousands of finished probes hold no TLS buffers.
    keepalive_timeout: float = 2.0
    #: Connection pool: total and per-host simultaneous connections.
    pool_limit: int = 512
    pool_limit_per_host: int = 16
