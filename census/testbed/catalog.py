"""The profile catalogue: every kind of endpoint the testbed can plant, with its expected verdict.

Each entry is a builder ``(rng, name, version) -> Profile``.  Its docstring states the rule behind
the manifest row it produces (computed by :func:`census.testbed.expect.expected_row`); general
rules shared by all entries are in ``census/testbed/RULES.md``.  The mixes choose among entries:
``uniform`` cycles through all of them evenly, ``realistic`` weights them by published ecosystem
shares (``shared/docs/prior-work.md``), ``hostile`` favours the hostile ones.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from census.testbed import hostile as hx
from census.testbed.model import Profile
from census.testbed.plants import PLANTS, RUG_PULLS

__all__ = [
    "BYSTANDER",
    "CATALOG",
    "FINDINGS_CATALOG",
    "FLAPPING_CATALOG",
    "HOSTILE_CATALOG",
    "Entry",
    "build_profile",
    "by_name",
]

Builder = Callable[[random.Random, str, str], Profile]


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    build: Builder
    realistic: float  # relative weight in --mix realistic
    hostile: bool = False
    host_level: bool = False  # needs a host of its own (TLS / network behaviour)
    served: bool = True  # False: never contacted (policy rows, unresolvable names)


def _tools(rng: random.Random) -> int:
    # Lognormal around a median of 5 tools, mean ~13 (prior-work.md "tools mean 13.4, median 5").
    return min(150, int(math.exp(rng.gauss(math.log(5), 1.25))))


#: The catalogue entry being built: _base stamps its name (saves a dataclasses.replace per
#: endpoint, which is measurable at 20k endpoints).
_building = [""]


def _base(rng: random.Random, name: str, version: str, **kw: Any) -> Profile:
    """A working MCP server with randomised, era-consistent details."""
    era = kw.pop("era", rng.choice(["modern", "handshake", "dual", "legacy_sse"]))
    if era == "legacy_sse":
        latest = "2024-11-05"
    elif era == "modern":
        latest = "2026-07-28"
    else:
        latest = rng.choice(["2025-11-25", "2025-11-25", "2025-06-18", "2025-03-26"])
    response: Literal["json", "sse"] = "json" if rng.random() < 0.5 else "sse"
    fields: dict[str, Any] = dict(
        name=_building[0],
        era=era,
        latest_version=latest,
        response=response,
        crlf=rng.random() < 0.6,
        priming=response == "sse" and rng.random() < 0.5,
        notify_first=response == "sse" and rng.random() < 0.3,
        stateful=rng.random() < 0.6,
        cors=rng.choice(["none", "none", "refused", "restricted", "wildcard", "reflect"]),
        origin_check=rng.random() < 0.4,
        rate=rng.choice(["none", "none", "none", "ietf", "draft", "x", "retry_after"]),
        tools=_tools(rng),
        resources=rng.choice([None, None, 0, rng.randint(1, 40)]),
        prompts=rng.choice([None, None, 0, rng.randint(1, 12)]),
        page_size=rng.choice([10, 20, 50, 100]),
        tls=rng.choice(["valid", "valid", "valid", "plain"]),
        latency_ms=rng.randint(5, 300),
        server_name=name,
        server_version=version,
        sdk1_errors=rng.random() < 0.5,
    )
    fields.update(kw)  # one construction: dataclasses.replace is slow at 20k endpoints
    return Profile(**fields)


# --- working MCP servers -------------------------------------------------------------------


def healthy_modern(rng: random.Random, name: str, version: str) -> Profile:
    """2026-07-28 only: server/discover answers, initialize gets 404/-32601.

    → status healthy, era modern, transport streamable_http, protocol_version 2026-07-28,
    session empty (no sessions in the modern era), auth none, listings counted per capability.
    """
    return _base(rng, name, version, era="modern")


def healthy_handshake_stateful(rng: random.Random, name: str, version: str) -> Profile:
    """initialize only, Mcp-Session-Id issued → healthy, era handshake, session stateful,
    protocol_version = the server's latest handshake revision."""
    return _base(rng, name, version, era="handshake", stateful=True)


def healthy_handshake_stateless(rng: random.Random, name: str, version: str) -> Profile:
    """initialize only, no session id; a GET opens an SSE stream that never sends anything
    (bounded) → healthy, era handshake, session stateless."""
    return _base(rng, name, version, era="handshake", stateful=False)


def healthy_dual(rng: random.Random, name: str, version: str) -> Profile:
    """Both discover and initialize work (every SDK 2.x server) → era dual,
    protocol_version 2026-07-28, session from the initialize (stateful/stateless)."""
    return _base(rng, name, version, era="dual")


def healthy_legacy_sse(rng: random.Random, name: str, version: str) -> Profile:
    """2024-11-05 HTTP+SSE: POST → 405 (Allow: GET, HEAD); GET → `endpoint` event; answers on
    the stream → healthy, era legacy_sse, transport sse, protocol_version 2024-11-05, session
    empty (no Mcp-Session-Id in this transport)."""
    return _base(rng, name, version, era="legacy_sse")


def healthy_sse_mode(rng: random.Random, name: str, version: str) -> Profile:
    """Streamable HTTP answering in SSE with priming event, comment, a notification before the
    response and \\r\\n framing → healthy (the framing never changes the verdict)."""
    return _base(
        rng,
        name,
        version,
        era=rng.choice(["handshake", "dual"]),
        response="sse",
        priming=True,
        notify_first=True,
        crlf=True,
    )


def healthy_big_inventory(rng: random.Random, name: str, version: str) -> Profile:
    """31–150 tools over several cursor pages, resources and prompts → healthy, tool_count the
    total over all pages, finding many_tools (> 30 tools)."""
    return _base(
        rng,
        name,
        version,
        tools=rng.randint(31, 150),
        resources=rng.randint(1, 30),
        prompts=rng.randint(1, 10),
        page_size=rng.choice([10, 25]),
    )


def healthy_empty(rng: random.Random, name: str, version: str) -> Profile:
    """Tools capability with zero tools, resources and prompts with zero items → healthy,
    counts 0 (not empty: the listing was made and returned nothing)."""
    return _base(rng, name, version, tools=0, resources=0, prompts=0)


def healthy_cors(kind: str) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(rng, name, version, cors=kind)

    build.__doc__ = (
        f"Preflight with a foreign Origin answered per CORS kind {kind!r} → cors_class "
        f"{'none' if kind == 'refused' else kind}; findings cors_open for wildcard/reflect*."
    )
    return build


def healthy_origin(check: bool) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(rng, name, version, origin_check=check)

    build.__doc__ = (
        f"POST with a foreign Origin {'refused with 403' if check else 'accepted'} → "
        f"origin_validated {str(check).lower()}"
        + ("" if check else "; finding origin_not_validated")
    )
    return build


def healthy_rate(kind: str) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(rng, name, version, rate=kind)

    build.__doc__ = (
        f"Rate-limit behaviour {kind!r}: header families (ietf RateLimit/RateLimit-Policy, draft "
        "RateLimit-*, x X-RateLimit-*, retry_after Retry-After) → advertised; enforced = every "
        "third MCP request in a 60 s window gets 429 + Retry-After: 1 → enforced (healthy "
        "assuming the prober honours Retry-After and retries once)."
    )
    return build


def healthy_tls_plain(rng: random.Random, name: str, version: str) -> Profile:
    """Plain http → tls none, finding plain_http."""
    return _base(rng, name, version, tls="plain")


def healthy_oddities(rng: random.Random, name: str, version: str) -> Profile:
    """Real-world oddities a correct prober must pass: 406 for Accept */*, SDK 1.x error ids,
    400 "Missing session ID" carrying an Mcp-Session-Id, -32601 in HTTP 200 for unadvertised
    lists → healthy."""
    return _base(
        rng, name, version, era="handshake", stateful=True, sdk1_errors=True, accept_strict=True
    )


def slash_redirect(rng: random.Random, name: str, version: str) -> Profile:
    """The URL ends in `/`; POST gets 307 → the same path without the slash (Starlette
    redirect_slashes), where a working server answers → expectations of that server."""
    return _base(rng, name, version, behaviour="slash_redirect")


# --- auth walls ----------------------------------------------------------------------------


def auth(kind: str) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(
            rng,
            name,
            version,
            auth=kind,
            oauth_dcr=rng.random() < 0.5,
            oauth_cimd=rng.random() < 0.5,
            oauth_pkce=rng.random() < 0.75,
        )

    build.__doc__ = (
        f"Auth wall {kind!r} in front of every era → status auth_required, failure_reason "
        "empty, era/transport/session/protocol/inventory empty (not determinable behind the "
        "wall); auth_class per RULES.md; oauth_* details from the fetched AS metadata."
    )
    return build


# --- HTTP answers without MCP ---------------------------------------------------------------


def http(behaviour: str, doc: str) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(rng, name, version, behaviour=behaviour, rate="none")

    build.__doc__ = doc
    return build


def host_level(behaviour: str, tls: str, doc: str) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(rng, name, version, behaviour=behaviour, tls=tls)

    build.__doc__ = doc
    return build


def degraded(behaviour: str, doc: str) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        era = rng.choice(["handshake", "dual", "modern"])
        tools = rng.randint(1, 20)
        return _base(rng, name, version, era=era, tools=tools, rate="none", behaviour=behaviour)

    build.__doc__ = doc
    return build


def hostile(behaviour: str, doc: str, **kw: Any) -> Builder:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        era = rng.choice(["handshake", "dual"])
        return _base(
            rng, name, version, era=era, rate="none", tls="valid", behaviour=behaviour, **kw
        )

    build.__doc__ = doc
    return build


# --- planted security findings (the ``findings`` mix; census/testbed/plants.py) ------------


def planted(**kw: Any) -> Builder:
    """A healthy server whose only findings are the planted ones: valid TLS, Origin validated,
    CORS closed, no auth unless ``kw`` says so, 2-20 tools (so no plain_http,
    origin_not_validated, cors_open or many_tools muddies the manifest's ``findings``)."""

    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(
            rng,
            name,
            version,
            tls="valid",
            origin_check=True,
            cors=rng.choice(["none", "refused", "restricted"]),
            tools=rng.randint(2, 20),
            **kw,
        )

    what = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    build.__doc__ = (
        f"Planted finding ({what}) on an otherwise finding-free healthy server → findings "
        "exactly the planted codes (RULES.md 'Planted findings')."
    )
    return build


def _findings_entries() -> tuple[Entry, ...]:
    out = [Entry(f"poison_{kind}", planted(toolset=kind), 0) for kind in PLANTS]
    out.append(Entry("clean_tricky", planted(toolset="clean"), 0))
    out.append(Entry("clean_generated", planted(), 0))
    start = {"auth_downgrade": {"auth": "oauth"}, "era_downgrade": {"era": "dual"}}
    out.extend(
        Entry(f"rug_{kind}", planted(rug_pull=kind, **start.get(kind, {})), 0) for kind in RUG_PULLS
    )
    out.append(Entry("secret_query", planted(secret="query"), 0))
    out.append(Entry("secret_userinfo", planted(secret="userinfo"), 0))
    return tuple(out)


CATALOG: tuple[Entry, ...] = (
    Entry("healthy_modern", healthy_modern, 5),
    Entry("healthy_handshake_stateful", healthy_handshake_stateful, 12),
    Entry("healthy_handshake_stateless", healthy_handshake_stateless, 6),
    Entry("healthy_dual", healthy_dual, 6),
    Entry("healthy_legacy_sse", healthy_legacy_sse, 5),
    Entry("healthy_sse_mode", healthy_sse_mode, 2),
    Entry("healthy_big_inventory", healthy_big_inventory, 1.5),
    Entry("healthy_empty", healthy_empty, 1),
    Entry("cors_none", healthy_cors("none"), 0.5),
    Entry("cors_refused", healthy_cors("refused"), 0.3),
    Entry("cors_restricted", healthy_cors("restricted"), 0.3),
    Entry("cors_wildcard", healthy_cors("wildcard"), 4),
    Entry("cors_reflect", healthy_cors("reflect"), 0.5),
    Entry("cors_reflect_credentials", healthy_cors("reflect_credentials"), 0.5),
    Entry("origin_validated", healthy_origin(True), 0.5),
    Entry("origin_not_validated", healthy_origin(False), 0.5),
    Entry("rate_ietf", healthy_rate("ietf"), 0.3),
    Entry("rate_draft", healthy_rate("draft"), 0.3),
    Entry("rate_x", healthy_rate("x"), 0.5),
    Entry("rate_retry_after", healthy_rate("retry_after"), 0.2),
    Entry("rate_enforced", healthy_rate("enforced"), 0.3),
    Entry("tls_plain", healthy_tls_plain, 0.5),
    Entry("oddities", healthy_oddities, 1),
    Entry("slash_redirect", slash_redirect, 0.5),
    Entry("auth_oauth", auth("oauth"), 6),
    Entry("auth_oauth_wellknown", auth("oauth_wellknown"), 2),
    Entry("auth_oauth_prm_404", auth("oauth_prm_404"), 1),
    Entry("auth_oauth_issuer_mismatch", auth("oauth_issuer_mismatch"), 0.5),
    Entry("auth_oauth_as_missing", auth("oauth_as_missing"), 0.5),
    Entry("auth_oauth_no_as", auth("oauth_no_as"), 0.3),
    Entry("auth_bearer", auth("bearer"), 3),
    Entry("auth_api_key_challenge", auth("api_key_challenge"), 1),
    Entry("auth_api_key_body", auth("api_key_body"), 1),
    Entry("auth_api_key_403", auth("api_key_403"), 1),
    Entry("auth_fastapi_403", auth("fastapi_403"), 0.5),
    Entry("auth_basic", auth("basic"), 0.5),
    Entry("auth_other", auth("other"), 0.5),
    Entry(
        "http_5xx",
        http("http_5xx", "Every request → 502/503 HTML → http_error, http_5xx."),
        4,
    ),
    Entry(
        "http_429",
        http("always_429", "Every request → 429 + Retry-After → http_error, http_429, enforced."),
        0.5,
    ),
    Entry("http_404", http("http_404", "404 page for every method → not_mcp, http_404."), 4),
    Entry(
        "html_login",
        http("html_login", "200 text/html login page → not_mcp, not_json."),
        3,
    ),
    Entry(
        "json_api",
        http("json_api", "200 application/json that is not JSON-RPC → not_mcp, not_jsonrpc."),
        1,
    ),
    Entry(
        "no_sse_405",
        http("no_sse_405", "POST and GET → 405 without SSE or JSON-RPC → not_mcp, http_4xx."),
        1,
    ),
    Entry(
        "host_421",
        http(
            "host_421",
            "SDK DNS-rebinding guard on a public host: 421 'Invalid Host header' → not_mcp, "
            "http_4xx (live but misconfigured; 421 is not an MCP signal).",
        ),
        0.5,
    ),
    Entry(
        "redirect_private",
        http(
            "redirect_private",
            "307 to http://10.x/mcp → not_mcp, private_address (the target is refused by policy).",
        ),
        0.3,
    ),
    Entry(
        "redirect_cross_origin",
        http(
            "redirect_cross_origin",
            "302 to another origin → not_mcp, redirect_refused (never follow off-origin).",
        ),
        0.3,
    ),
    Entry(
        "list_error",
        degraded(
            "list_error",
            "MCP confirmed; tools/list answers a JSON-RPC -32603 error in HTTP 200 → degraded, "
            "list_failed, tool_count empty.",
        ),
        2,
    ),
    Entry(
        "session_broken",
        degraded(
            "session_broken",
            "Stateful handshake; the session is forgotten right after initialize (tools/list "
            "→ 404 Session not found) → degraded, list_failed.  (Modern era has no session: "
            "forced to handshake.)",
        ),
        0.5,
    ),
    Entry(
        "refused",
        host_level("refused", "valid", "Nothing listens → unreachable, connect_refused."),
        8,
        host_level=True,
    ),
    Entry(
        "blackhole",
        host_level("blackhole", "plain", "Accepts, never answers → unreachable, timeout."),
        3,
        host_level=True,
    ),
    Entry(
        "connect_timeout",
        host_level(
            "connect_timeout",
            "plain",
            "Listener whose accept queue is full: SYNs dropped → unreachable, connect_timeout.",
        ),
        1,
        host_level=True,
    ),
    Entry(
        "reset",
        host_level("reset", "plain", "RST on the first bytes → unreachable, connection_reset."),
        2,
        host_level=True,
    ),
    Entry(
        "dns",
        host_level("dns", "valid", "Name absent from the hosts file → unreachable, dns_error."),
        8,
        host_level=True,
        served=False,
    ),
    Entry(
        "tls_handshake_fail",
        host_level(
            "tls_handshake_fail",
            "handshake_fail",
            "TLS alert during the handshake → unreachable, tls_error, tls empty (no certificate).",
        ),
        1,
        host_level=True,
    ),
    Entry(
        "tls_expired",
        host_level("tls_invalid", "expired", "Expired cert → unreachable, tls_error, tls invalid."),
        1.5,
        host_level=True,
    ),
    Entry(
        "tls_wrong_host",
        host_level(
            "tls_invalid",
            "wrong_host",
            "Cert for another name → unreachable, tls_error, tls invalid.",
        ),
        1,
        host_level=True,
    ),
    Entry(
        "tls_self_signed",
        host_level(
            "tls_invalid",
            "self_signed",
            "Self-signed cert outside the CA bundle → unreachable, tls_error, tls invalid.",
        ),
        1,
        host_level=True,
    ),
    Entry(
        "private_address",
        host_level(
            "private_address",
            "valid",
            "The hosts file maps the name to 10/8, 192.168/16 or 169.254/16 → skipped, "
            "private_address (never contacted).",
        ),
        0.3,
        host_level=True,
        served=False,
    ),
    Entry(
        "opted_out",
        host_level(
            "opted_out",
            "valid",
            "Host listed in optouts.txt (a working server, so a request proves a violation) → "
            "skipped, opted_out.",
        ),
        0.3,
        host_level=True,
    ),
    Entry(
        "invalid_url",
        host_level(
            "invalid_url",
            "valid",
            "Templated or malformed URL in the seeds → skipped, invalid_url.",
        ),
        0.3,
        host_level=True,
        served=False,
    ),
    # --- hostile ---------------------------------------------------------------------------
    Entry(
        "gzip_bomb",
        hostile(
            "gzip_bomb", "Every POST → 200 gzip bomb (64 MiB of zeros) → not_mcp, body_too_large."
        ),
        0,
        hostile=True,
    ),
    Entry(
        "endless_body",
        hostile(
            "endless_body", "Every POST → endless JSON body (capped) → not_mcp, body_too_large."
        ),
        0,
        hostile=True,
    ),
    Entry(
        "endless_sse",
        hostile(
            "endless_sse",
            "Every POST → SSE with only comments, never a message (capped) → not_mcp, timeout.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "slow_drip",
        hostile(
            "slow_drip",
            "Every POST → one byte per second (capped) → not_mcp, timeout.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "huge_json",
        hostile(
            "huge_json",
            "MCP confirmed; tools/list → 50 MB JSON → degraded, body_too_large.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "deep_json",
        hostile(
            "deep_json",
            "MCP confirmed; tools/list → 10,000-deep nested JSON → degraded, protocol_error.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "invalid_utf8",
        hostile(
            "invalid_utf8",
            "MCP confirmed; tools/list body holds invalid UTF-8 → degraded, protocol_error.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "nul_ansi",
        hostile(
            "nul_ansi",
            "Tool names/descriptions carry NUL and ANSI escapes (valid JSON) → healthy, findings "
            "ansi_escape.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "endless_cursor",
        hostile(
            "endless_cursor",
            "100k tools behind endless nextCursor → degraded, list_failed, tool_count `*` "
            "(depends on the prober's page cap).",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "cursor_loop",
        hostile(
            "cursor_loop",
            "nextCursor cycles A→B→A → degraded, list_failed, tool_count `*`.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "huge_headers",
        hostile(
            "huge_headers",
            "Every answer carries 64 KiB of headers → not_mcp, protocol_error.",
        ),
        0,
        hostile=True,
    ),
    Entry(
        "redirect_loop",
        hostile(
            "redirect_loop",
            "307 ping-pong between two paths → not_mcp, redirect_refused.",
        ),
        0,
        hostile=True,
    ),
)

# --- issue 12: every hostile class a server can cause (census/testbed/hostile.py) ----------


def hostile12(behaviour: str, doc: str, **kw: Any) -> Builder:
    """A working server (valid TLS, no rate-limit headers, era handshake or dual unless ``kw``
    says otherwise) whose one hostile trait is ``behaviour``."""

    def build(rng: random.Random, name: str, version: str) -> Profile:
        fields: dict[str, Any] = dict(era=rng.choice(["handshake", "dual"]), rate="none")
        fields.update(kw)
        return _base(rng, name, version, tls="valid", behaviour=behaviour, **fields)

    build.__doc__ = doc
    return build


def _named(behaviour: str, doc: str, make: Callable[[str, str], tuple[str, str]]) -> Builder:
    """A working server whose serverInfo (name, version) is ``make(name, version)``."""

    def build(rng: random.Random, name: str, version: str) -> Profile:
        server_name, server_version = make(name, version)
        return _base(
            rng,
            name,
            version,
            era=rng.choice(["handshake", "dual"]),
            rate="none",
            tls="valid",
            behaviour=behaviour,
            server_name=server_name,
            server_version=server_version,
        )

    build.__doc__ = doc
    return build


def bystander(rng: random.Random, name: str, version: str) -> Profile:
    """A healthy server on the same host (so in the same shard) as a hostile one: its row must
    come out exactly as if its neighbour were well-behaved."""
    return _base(rng, name, version, tls="valid")


def _e(name: str, build: Builder) -> Entry:
    return Entry(name, build, 0, hostile=True)


_OAUTH = dict(auth="oauth")
#: Issue 12's hostile entries: the ``hostile`` mix places each beside a healthy
#: :data:`BYSTANDER` on the same host.  A catalogue of their own, so ``uniform`` and
#: ``realistic`` worlds stay what they were.  Verdicts: RULES.md "Issue 12: hostile answers".
HOSTILE_CATALOG: tuple[Entry, ...] = (
    # Deliverable 2: everything a server can send is storable.
    _e("schema_nan", hostile12("schema_nan", "A tool schema with NaN → healthy, tool stored.")),
    _e(
        "schema_infinity",
        hostile12("schema_infinity", "Infinity and -Infinity in a tool schema → healthy."),
    ),
    _e(
        "schema_overflow",
        hostile12("schema_overflow", "1e999999 (a float overflow) in a tool schema → healthy."),
    ),
    _e(
        "schema_huge_int",
        hostile12(
            "schema_huge_int", "2**64, -10**30 and a 401-digit integer in a schema → healthy."
        ),
    ),
    _e(
        "schema_nul",
        hostile12("schema_nul", "\\u0000 in a tool name, description, key and default → healthy."),
    ),
    _e(
        "schema_lone_surrogate",
        hostile12(
            "schema_lone_surrogate",
            "A lone surrogate (JSON escape \\ud800) in a description, key and enum → healthy.",
        ),
    ),
    _e(
        "schema_deep_100",
        hostile12("schema_deep_100", "A tool schema nested 100 objects deep → healthy."),
    ),
    _e(
        "schema_deep_100k",
        hostile12(
            "schema_deep_100k",
            "tools/list whose schema is 100,000 arrays deep (unparsable) → degraded, "
            "protocol_error, tool_count empty.",
        ),
    ),
    _e(
        "header_invalid_utf8",
        hostile12(
            "header_invalid_utf8",
            "Every MCP answer carries a header whose value is not UTF-8 → healthy.",
        ),
    ),
    _e(
        "long_server_info",
        _named(
            "long_server_info",
            "serverInfo name and version of 3,000 characters each → healthy, stated as sent.",
            lambda n, v: ((n + "-" + "long-name-" * 300)[:3000], (v + "+" + "build." * 500)[:3000]),
        ),
    ),
    _e(
        "long_url_path",
        hostile12("long_url_path", "A working server at a ~3,300-character URL path → healthy."),
    ),
    # Deliverable 3: parsers that cannot be crashed.
    _e(
        "retry_after_503_nonascii",
        hostile12(
            "retry_after_503_nonascii",
            "Every request → 503 with Retry-After: ² → http_error, http_5xx, rate advertised.",
        ),
    ),
    _e(
        "retry_after_503_digits",
        hostile12(
            "retry_after_503_digits",
            "Every request → 503 with a 5,000-digit Retry-After → http_error, http_5xx, "
            "rate advertised.",
        ),
    ),
    _e(
        "retry_after_429_nonascii",
        hostile12(
            "retry_after_429_nonascii",
            "Every request → 429 with Retry-After: ² → http_error, http_429, rate enforced.",
        ),
    ),
    _e(
        "sse_retry_nonascii",
        hostile12(
            "sse_retry_nonascii",
            "SSE answers whose priming event says retry: ² → healthy.",
            response="sse",
            priming=True,
        ),
    ),
    _e(
        "sse_retry_digits",
        hostile12(
            "sse_retry_digits",
            "SSE answers whose priming event's retry has 5,000 digits → healthy.",
            response="sse",
            priming=True,
        ),
    ),
    _e(
        "legacy_endpoint_invalid_url",
        hostile12(
            "legacy_endpoint_invalid_url",
            "HTTP+SSE whose endpoint event is not a valid URL (unclosed IPv6 bracket) → an MCP "
            "signal whose session cannot start: degraded, protocol_error, no era.",
            era="legacy_sse",
        ),
    ),
    _e(
        "legacy_endpoint_bad_port",
        hostile12(
            "legacy_endpoint_bad_port",
            "HTTP+SSE whose endpoint event names port 99999 → degraded, protocol_error, no era.",
            era="legacy_sse",
        ),
    ),
    _e(
        "legacy_deep_json",
        hostile12(
            "legacy_deep_json",
            "HTTP+SSE whose tools/list reply on the stream is 100,000 arrays deep → degraded, "
            "protocol_error, tool_count empty.",
            era="legacy_sse",
        ),
    ),
    _e(
        "huge_description",
        hostile12(
            "huge_description",
            "One tool with a 1,000,000-character description (~1 MB body, under the wire cap) "
            "→ healthy, every tool counted, finding oversized_definition.",
            tools=3,
        ),
    ),
    _e(
        "server_name_lone_surrogate",
        _named(
            "server_name_lone_surrogate",
            "serverInfo.name carries a lone surrogate → healthy; server_name `*` (its stored "
            "form is the sanitiser's escape).",
            lambda n, v: (hx.surrogate_name(n), v),
        ),
    ),
    _e(
        "server_name_terminal_escapes",
        _named(
            "server_name_terminal_escapes",
            "serverInfo.name carries OSC 52 (clipboard write) and CSI 2J (clear screen) → "
            "healthy, server_name as sent (stripped only on output).",
            lambda n, v: (f"{n}\x1b]52;c;Y2Vuc3Vz\x07\x1b[2J\x1b[H", v),
        ),
    ),
    _e(
        "server_name_markup",
        _named(
            "server_name_markup",
            "serverInfo.name is HTML and Markdown → healthy, server_name as sent (escaped only "
            "in reports).",
            lambda n, v: (f"<script>alert('{n}')</script> | **{n}** [x](javascript:1)", v),
        ),
    ),
    # Deliverable 4: verdicts that match the evidence.
    _e(
        "huge_initialize",
        hostile12(
            "huge_initialize",
            "initialize and server/discover results with 40 KiB of instructions (over the "
            "16 KiB evidence cap, under the read cap) → healthy.",
        ),
    ),
    _e(
        "huge_as_metadata",
        hostile12(
            "huge_as_metadata",
            "OAuth wall whose AS metadata is ~55 KiB (2,500 scopes before the registration "
            "and PKCE keys) → auth_required, oauth, details from the whole document.",
            **_OAUTH,
        ),
    ),
    _e(
        "stall_listing",
        hostile12(
            "stall_listing",
            "Tools list at full speed; resources and prompts (19 pages of 10 each) hold back "
            "every page after the first 2 s: no step times out but the 60 s target deadline "
            "passes mid-listing → degraded, timeout; tool_count stated, resource_count `*` "
            "(which list the deadline cuts depends on the prober's pace), prompt_count empty; "
            "CORS and Origin never reached (empty).",
            resources=hx.STALL_PAGES * hx.STALL_PAGE_SIZE,
            prompts=hx.STALL_PAGES * hx.STALL_PAGE_SIZE,
            page_size=hx.STALL_PAGE_SIZE,
        ),
    ),
    _e(
        "id_mismatch_list",
        hostile12(
            "id_mismatch_list",
            "tools/list answers carry another JSON-RPC id → not counted: degraded, "
            "protocol_error, tool_count empty.",
        ),
    ),
    _e(
        "id_mismatch_all",
        hostile12(
            "id_mismatch_all",
            "Every JSON-RPC answer carries another id → MCP never confirmed: not_mcp, "
            "protocol_error.",
            era="handshake",
        ),
    ),
    _e(
        "protocol_version_crlf",
        hostile12(
            "protocol_version_crlf",
            "initialize answers protocolVersion '<version>\\r\\nX-Injected: 1' → era "
            "handshake, degraded, protocol_error, protocol_version stored escaped, no lists.",
            era="handshake",
        ),
    ),
    _e(
        "huge_page",
        hostile12(
            "huge_page",
            "One tools/list page of 5,000 tools (over the 1,000-item list cap) → degraded, "
            "list_failed, tool_count `*`.",
        ),
    ),
    # Deliverable 5: no credential ever leaves census.
    _e(
        "redirect_userinfo",
        hostile12(
            "redirect_userinfo",
            "POST → 307 to the same path without its slash, the Location carrying "
            "user:password@ → userinfo stripped (same origin), the server behind answers: "
            "healthy.",
        ),
    ),
    _e(
        "prm_userinfo",
        hostile12(
            "prm_userinfo",
            "OAuth wall whose resource_metadata URL carries user:password@ → auth_required, "
            "oauth (the metadata is also at the path-inserted well-known URL).",
            **_OAUTH,
        ),
    ),
    Entry(
        "private_address_v6_forms",
        host_level(
            "private_address",
            "valid",
            "The hosts file maps the name to ::10.a.b.c (IPv4-compatible), ::ffff:0:10.a.b.c "
            "or fec0::/10 (site-local), which Python's is_global calls global → skipped, "
            "private_address (never contacted; a name of its own, so no bystander).",
        ),
        0,
        hostile=True,
        host_level=True,
        served=False,
    ),
    _e(
        "legacy_endpoint_userinfo",
        hostile12(
            "legacy_endpoint_userinfo",
            "HTTP+SSE whose endpoint event is same-origin with user:password@ → userinfo "
            "stripped: healthy.",
            era="legacy_sse",
        ),
    ),
)
#: The healthy neighbour of every :data:`HOSTILE_CATALOG` endpoint in the ``hostile`` mix.
BYSTANDER = Entry("healthy_bystander", bystander, 0)


#: The planted-findings entries (poisoned, shadowing and clean tools, rug pulls, secrets): a
#: catalogue of their own, used only by ``--mix findings``, so the other mixes' worlds stay
#: exactly what they were before findings were planted.
FINDINGS_CATALOG: tuple[Entry, ...] = _findings_entries()


def _flapping(behaviour: str, doc: str) -> Entry:
    def build(rng: random.Random, name: str, version: str) -> Profile:
        return _base(rng, name, version, behaviour=behaviour, auth="none", tls="valid")

    build.__doc__ = doc
    return Entry(behaviour, build, 0, host_level=True)


#: Flapping endpoints (census.testbed.flapping: state by visit), a catalogue of their own used
#: only by ``--mix flapping``: one probe of them disagrees with their truth by design, which is
#: the truth after census's confirmation probe.
FLAPPING_CATALOG: tuple[Entry, ...] = (
    _flapping("flap_down_up", "Down on the first visit, up after → healthy, flapping."),
    _flapping("flap_up_down", "Up on the first visit, down after → healthy, probed once."),
    _flapping("flap_down_down", "Down on every visit → unreachable, confirmed."),
    _flapping("flap_5xx_up", "503 on the first visit, up after → healthy, flapping."),
)

_BY_NAME = {
    e.name: e for e in (*CATALOG, *FINDINGS_CATALOG, *HOSTILE_CATALOG, *FLAPPING_CATALOG, BYSTANDER)
}


def by_name(name: str) -> Entry:
    return _BY_NAME[name]


def build_profile(entry: Entry, rng: random.Random, name: str, version: str) -> Profile:
    """Build the profile of one endpoint from a catalogue entry."""
    _building[0] = entry.name
    prof = entry.build(rng, name, version)
    if prof.behaviour == "session_broken":
        prof = replace(prof, era="handshake", stateful=True, latest_version="2025-11-25")
    if prof.behaviour in {
        "list_error",
        "huge_json",
        "deep_json",
        "invalid_utf8",
        "schema_deep_100k",
        "legacy_deep_json",
        "id_mismatch_list",
        "huge_page",
        *hx.TOOL_PLANTS,
    }:
        prof = replace(prof, tools=max(prof.tools or 0, 1))
    if prof.behaviour in {"endless_cursor", "cursor_loop", "nul_ansi"}:
        prof = replace(prof, tools=max(prof.tools or 0, 5), page_size=10)
    return prof
