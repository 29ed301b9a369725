"""Canonical URLs, rejections, registrable domains, platform hosts and redaction."""

from __future__ import annotations

import pytest

from census.discovery.normalize import (
    is_known_platform,
    normalize_url,
    redact_raw,
    registrable_domain,
    transport_hint,
)
from census.discovery.reasons import REJECTION_REASONS, DiscoveryReason
from census.records import MAX_URL_BYTES
from census.vocabulary import FailureReason
from tests.discovery.conftest import SHARED_DATA


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://MCP.Example-Host.COM/mcp", "https://mcp.example-host.com/mcp"),
        ("https://h.io:443/mcp", "https://h.io/mcp"),
        ("http://h.io:80/sse", "http://h.io/sse"),
        ("https://h.io:8443/mcp", "https://h.io:8443/mcp"),
        ("https://h.io/", "https://h.io"),
        ("https://h.io", "https://h.io"),
        ("https://h.io/mcp/", "https://h.io/mcp/"),  # a different route than /mcp
        ("https://h.io/Path/MCP", "https://h.io/Path/MCP"),  # paths are case-sensitive
        ("https://h.io/mcp#section", "https://h.io/mcp"),
        ("https://h.io/mcp?", "https://h.io/mcp"),
        ("https://h.io.//mcp", "https://h.io//mcp"),
        ("https://mcp.apify.com/?tools=a/b,c/d", "https://mcp.apify.com?tools=a/b,c/d"),
        ("https://huggingface.co/mcp?login", "https://huggingface.co/mcp?login"),
        ("  https://h.io/mcp\n", "https://h.io/mcp"),
        ("https://bücher.de/mcp", "https://xn--bcher-kva.de/mcp"),
        ("https://[2606:4700::1]:8443/mcp", "https://[2606:4700::1]:8443/mcp"),
    ],
)
def test_canonical_urls_change_nothing_a_server_could_tell_apart(raw: str, canonical: str) -> None:
    result = normalize_url(raw)
    assert result.rejected is None
    assert result.url == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://{api_host}/mcp", DiscoveryReason.TEMPLATED_URL),
        ("https://mcp.biel.ai/v2/{project_slug}/mcp", DiscoveryReason.TEMPLATED_URL),
        ("https://{HAPI_FQDN}:{HAPI_PORT}/mcp", DiscoveryReason.TEMPLATED_URL),
        ("https://mcp.amap.com/sse?key=<YOUR_TOKEN>", DiscoveryReason.TEMPLATED_URL),
        ("https://support.foqal.io/api/mcp/[YOUR_GENERATED_TOKEN]", DiscoveryReason.TEMPLATED_URL),
        ("https://h.io/mcp/${TOKEN}", DiscoveryReason.TEMPLATED_URL),
        ("https://h.io/mcp/%7Btoken%7D", DiscoveryReason.TEMPLATED_URL),
        ("http://localhost:5008/sse", DiscoveryReason.LOCALHOST),
        ("http://api.localhost/mcp", DiscoveryReason.LOCALHOST),
        ("http://127.0.0.1:8000/mcp", DiscoveryReason.LOCALHOST),
        ("http://[::1]/mcp", DiscoveryReason.LOCALHOST),
        ("http://0.0.0.0:3000/mcp", DiscoveryReason.LOCALHOST),
        ("http://10.0.0.5/mcp", FailureReason.PRIVATE_ADDRESS),
        ("http://192.168.1.10:8080/mcp", FailureReason.PRIVATE_ADDRESS),
        ("http://169.254.169.254/latest", FailureReason.PRIVATE_ADDRESS),
        ("http://100.64.1.1/mcp", FailureReason.PRIVATE_ADDRESS),
        ("http://mcp-server:8080/mcp", DiscoveryReason.NON_PUBLIC_HOST),
        ("http://printer.local/mcp", DiscoveryReason.NON_PUBLIC_HOST),
        ("https://svc.internal/mcp", DiscoveryReason.NON_PUBLIC_HOST),
        ("https://example.com/mcp", DiscoveryReason.PLACEHOLDER_HOST),
        ("https://your-gateway.example.com/t/org/mcp/sse", DiscoveryReason.PLACEHOLDER_HOST),
        ("ftp://h.io/mcp", FailureReason.INVALID_URL),
        ("mcp.example-host.com/mcp", FailureReason.INVALID_URL),
        ("https://h.io:99999/mcp", FailureReason.INVALID_URL),
        ("https:///mcp", FailureReason.INVALID_URL),
        ("https://h .io/mcp", FailureReason.INVALID_URL),
        ("", FailureReason.INVALID_URL),
    ],
)
def test_unusable_urls_are_rejected_with_the_most_precise_reason(raw: str, reason: str) -> None:
    result = normalize_url(raw)
    assert result.rejected == reason
    assert result.rejected in REJECTION_REASONS


@pytest.mark.parametrize(
    ("raw", "canonical", "secret"),
    [
        ("https://h.io/mcp?api_key=sk_live_abc123", "https://h.io/mcp?api_key=REDACTED", True),
        ("https://h.io/mcp?token=t0k3n&x=1", "https://h.io/mcp?token=REDACTED&x=1", True),
        (
            "https://h.io/mcp?apiKey=k&profile=web",
            "https://h.io/mcp?apiKey=REDACTED&profile=web",
            True,
        ),
        (
            "https://h.io/mcp?c=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "https://h.io/mcp?c=REDACTED",
            True,
        ),
        ("https://user:pw@h.io/mcp", "https://h.io/mcp", True),
        ("https://:pw@h.io/mcp", "https://h.io/mcp", True),  # a password without a user
        ("https://tok3n@h.io/mcp", "https://h.io/mcp", True),  # a bare token as the user
        (  # `;` separates parameters too (CGI, older Python): the secret after it is redacted
            "https://h.io/mcp?a=1;token=abc&b=2",
            "https://h.io/mcp?a=1;token=REDACTED&b=2",
            True,
        ),
        ("https://h.io/mcp?x=1;api_key=k", "https://h.io/mcp?x=1;api_key=REDACTED", True),
        ("https://h.io/mcp?profile=web-search", "https://h.io/mcp?profile=web-search", False),
        ("https://h.io/mcp?ref=mcp-registry", "https://h.io/mcp?ref=mcp-registry", False),
        (  # a UUID identifier is part of the endpoint, not a credential (a real registry URL)
            "https://h.io/mcp?storefrontId=9e55112e-b1c9-4f8f-8531-e9aed2158066",
            "https://h.io/mcp?storefrontId=9e55112e-b1c9-4f8f-8531-e9aed2158066",
            False,
        ),
        (
            "https://h.io/mcp?src=mcpregistry_domain_v1_1",
            "https://h.io/mcp?src=mcpregistry_domain_v1_1",
            False,
        ),
    ],
)
def test_secrets_are_redacted_and_their_presence_recorded(
    raw: str, canonical: str, secret: bool
) -> None:
    result = normalize_url(raw)
    assert result.url == canonical
    assert result.secret_in_url is secret
    assert result.rejected is None


def test_a_templated_secret_is_redacted_but_not_counted_as_a_leaked_secret() -> None:
    result = normalize_url("https://mcp.cardog.io/mcp?api_key={api_key}")
    assert result.rejected == DiscoveryReason.TEMPLATED_URL
    assert result.url == "https://mcp.cardog.io/mcp?api_key=REDACTED"
    assert not result.secret_in_url


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("mcp.example-host.co.uk", "example-host.co.uk"),
        ("foo.vercel.app", "foo.vercel.app"),  # a private-section public suffix
        ("api.mcp.github.com", "github.com"),
        ("sh.inference.ac", "inference.ac"),
        ("MCP.Linear.App.", "linear.app"),
        ("203.0.113.9", None),
        ("com", None),
    ],
)
def test_registrable_domains_come_from_the_bundled_public_suffix_list(
    host: str, domain: str | None
) -> None:
    assert registrable_domain(host) == domain


@pytest.mark.parametrize(
    ("host", "platform"),
    [
        ("server.smithery.ai", True),
        ("exa.run.tools", True),
        ("my-app.up.railway.app", True),
        ("pipeworx.io", True),
        ("x.trycloudflare.com", True),
        ("mcp.linear.app", False),
        ("notworkers.dev.example-host.com", False),
    ],
)
def test_known_platform_hosts_are_recognised(host: str, platform: bool) -> None:
    assert is_known_platform(host) is platform


@pytest.mark.parametrize(
    ("declared", "url", "hint"),
    [
        ("streamable-http", "https://h.io/x", "streamable_http"),
        ("streamableHttp", "https://h.io/x", "streamable_http"),
        ("http", "https://h.io/x", "streamable_http"),
        ("sse", "https://h.io/x", "sse"),
        ("", "https://h.io/sse", "sse"),
        (None, "https://h.io/mcp", None),
    ],
)
def test_transport_hints_map_every_spelling_to_the_vocabulary(
    declared: object, url: str, hint: str | None
) -> None:
    assert transport_hint(declared, url) == hint


def test_raw_entries_lose_their_secrets_but_keep_placeholders() -> None:
    raw = {
        "remote": {
            "url": "https://h.io/mcp?token=abcdef123456",
            "headers": {"Authorization": "Bearer real-token-value", "X-Other": "keep"},
        },
        "headers": [
            {"name": "Authorization", "value": "Bearer {smithery_api_key}", "isSecret": True},
            {"name": "X-Key", "value": "live-secret", "isSecret": True},
        ],
        "env": {"api_key": "${APIFY_API_KEY}"},
        "link": "https://bob:hunter2@h.io/x",
    }
    clean = redact_raw(raw)
    assert clean["remote"]["url"] == "https://h.io/mcp?token=REDACTED"
    assert clean["remote"]["headers"] == {"Authorization": "REDACTED", "X-Other": "keep"}
    assert clean["headers"][0]["value"] == "Bearer {smithery_api_key}"
    assert clean["headers"][1]["value"] == "REDACTED"
    assert clean["env"]["api_key"] == "${APIFY_API_KEY}"
    assert clean["link"] == "https://h.io/x"
    assert raw["remote"]["headers"]["Authorization"] == "Bearer real-token-value"  # a copy


def test_the_package_exports_every_public_name_it_lists() -> None:
    import census.discovery as discovery

    assert sorted(discovery.__all__) == sorted(set(discovery.__all__))
    for name in discovery.__all__:
        assert hasattr(discovery, name), name


UNIVERSE = SHARED_DATA / "universe" / "siliroid-unreached_OFFICIAL-REMOTES_2026-07-28.json"


@pytest.mark.skipif(not UNIVERSE.exists(), reason="../shared/data is not beside the repository")
def test_every_remote_url_of_the_2026_registry_is_accepted_or_rejected_for_a_known_reason() -> None:
    import json
    from collections import Counter

    urls = [e["url"] for e in json.loads(UNIVERSE.read_text())["endpoints"]]
    results = [normalize_url(u) for u in urls]
    reasons = Counter(r.rejected for r in results if r.rejected)
    assert set(reasons) <= REJECTION_REASONS
    # The data's own account: ~170 unexpanded placeholders and a few localhost URLs.
    assert 160 <= reasons["templated_url"] <= 190
    accepted = {r.url for r in results if r.accepted}
    # Only host case and a bare "/" path merge: 10,542 listed spellings, 3 fewer endpoints.
    assert len({r.url for r in results}) == len(urls) - 3
    assert all(u.startswith(("https://", "http://")) for u in accepted)
    assert not any("REDACTED" in u for u in accepted)  # no real secrets in 2026 registry URLs


def test_a_canonical_url_over_2048_bytes_is_rejected_as_too_long() -> None:
    fits = "https://h.io/" + "a" * (MAX_URL_BYTES - len("https://h.io/"))
    assert normalize_url(fits).rejected is None
    result = normalize_url(fits + "a")
    assert result.rejected == DiscoveryReason.URL_TOO_LONG
    assert len(result.url) <= 200  # kept only as a short example
    # Counted in UTF-8 bytes: the unique index on endpoint URLs limits bytes.
    assert normalize_url("https://h.io/" + "é" * 1100).rejected == DiscoveryReason.URL_TOO_LONG


def test_a_megabyte_url_is_rejected_unparsed_with_its_secret_redacted() -> None:
    result = normalize_url("https://h.io/mcp?token=s3cret&pad=" + "x" * 1_000_000)
    assert result.rejected == DiscoveryReason.URL_TOO_LONG
    assert "s3cret" not in result.url and result.secret_in_url


@pytest.mark.parametrize(
    "raw", ["https://h.io/a\x00b", "https://h.io/\x1b[2J", "https://h.io/\u202e"]
)
def test_a_url_with_control_characters_is_invalid(raw: str) -> None:
    assert normalize_url(raw).rejected == FailureReason.INVALID_URL


@pytest.mark.parametrize(
    "host", ["[::10.0.0.1]", "[::ffff:0:10.0.0.1]", "[fec0::1]", "[::ffff:169.254.169.254]"]
)
def test_private_ipv6_forms_is_global_misses_are_rejected(host: str) -> None:
    assert normalize_url(f"https://{host}/mcp").rejected == FailureReason.PRIVATE_ADDRESS
