import json
import socket
from dataclasses import replace

import anyio
import pytest

from census.config import ProbeSettings
from census.net.client import ProbeClient
from tests.net.servers import hostile_app, serve

SETTINGS = ProbeSettings(allow_private=True, step_deadline=1.5, read_timeout=1.0)


@pytest.mark.anyio
async def test_an_endless_body_is_cut_at_the_wire_cap_and_reported_too_large() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        x = await client.send("t", "POST", f"{base}/big", json_body={})
    assert (x.status, x.error, x.body_truncated) == (200, "body_too_large", True)
    assert len(x.body or "") <= SETTINGS.max_evidence_body


@pytest.mark.anyio
async def test_a_gzip_bomb_is_inflated_only_up_to_the_decoded_cap() -> None:
    settings = replace(SETTINGS, max_decoded_bytes=512 << 10)
    async with serve(hostile_app()) as base, ProbeClient(settings) as client:
        x = await client.send("t", "POST", f"{base}/bomb", json_body={}, keep_body=1 << 20)
    assert x.error == "body_too_large"
    assert len(x.body or "") <= 512 << 10


@pytest.mark.anyio
async def test_a_trickling_body_hits_the_step_deadline_and_keeps_its_status() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        with anyio.fail_after(5):
            x = await client.send("t", "POST", f"{base}/trickle", json_body={})
    assert (x.status, x.error) == (200, "timeout")


@pytest.mark.anyio
async def test_an_endless_sse_stream_is_left_at_the_first_message_answering_the_request() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        with anyio.fail_after(5):
            x = await client.send("t", "POST", f"{base}/sse", json_body={"id": 7}, rpc_id=7)
    assert (x.status, x.error) == (200, None)
    assert '"id": 7' in (x.body or "")
    assert x.timings_ms["total"] < 1000


@pytest.mark.anyio
async def test_a_503_with_retry_after_is_retried_once_and_counted() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        x = await client.send("t", "GET", f"{base}/flaky")
    assert (x.status, x.attempts) == (200, 2)
    assert [r["status"] for r in x.retried] == [503]


@pytest.mark.anyio
async def test_redirects_are_recorded_not_followed() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        x = await client.send("t", "POST", f"{base}/redirect", json_body={})
    assert (x.status, x.response_headers["location"]) == (307, "/elsewhere")


@pytest.mark.anyio
async def test_a_header_flood_is_a_protocol_error() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        x = await client.send("t", "GET", f"{base}/headers")
    assert x.error == "protocol_error"


@pytest.mark.anyio
async def test_invalid_utf8_in_a_body_is_a_protocol_error() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        x = await client.send("t", "GET", f"{base}/bad-utf8")
    assert (x.status, x.error) == (200, "protocol_error")


@pytest.mark.anyio
async def test_requests_name_census_in_the_user_agent_and_carry_no_credentials() -> None:
    async with serve(hostile_app()) as base, ProbeClient(SETTINGS) as client:
        x = await client.send("t", "POST", f"{base}/echo", json_body={"a": 1})
    seen = json.loads(x.body or "{}")
    assert seen["headers"]["User-Agent"].startswith("census/")
    assert "Authorization" not in seen["headers"] and "Cookie" not in seen["headers"]
    assert json.loads(seen["body"]) == {"a": 1}


@pytest.mark.anyio
async def test_a_closed_port_is_connect_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with ProbeClient(SETTINGS) as client:
        x = await client.send("t", "GET", f"http://127.0.0.1:{port}/")
    assert (x.status, x.error) == (None, "connect_refused")


@pytest.mark.anyio
async def test_private_literals_are_refused_without_a_packet_sent() -> None:
    async with ProbeClient(ProbeSettings()) as client:
        x = await client.send("t", "GET", "http://169.254.169.254/latest/meta-data")
    assert (x.status, x.error) == (None, "private_address")


@pytest.mark.anyio
async def test_names_missing_from_the_hosts_file_are_dns_errors(tmp_path: object) -> None:
    from pathlib import Path

    hosts = Path(str(tmp_path)) / "hosts"
    hosts.write_text("127.0.0.1 listed.test\n")
    async with ProbeClient(ProbeSettings(hosts_file=hosts)) as client:
        x = await client.send("t", "GET", "http://unlisted.test/")
    assert (x.status, x.error) == (None, "dns_error")
