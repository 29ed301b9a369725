"""Evidence text is safe to store, export and print: secrets redacted, controls escaped."""

from __future__ import annotations

import pytest

from census.findings.text import fold, redact_secrets, shown, snippet, visible


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key sk-proj-AbCdEfGhIjKlMnOpQrSt1234", "AbCdEfGhIjKlMnOp"),
        ("token ghp_0123456789abcdefghijABCDEFGHIJ", "0123456789abcdefghij"),
        ("xoxb-123456789012-abcdefghij", "123456789012-abcdefghij"),
        ("AWS AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl", "eyJzdWIiOiIxMjM0In0"),
        ("https://bob:hunter2@host.test/x", "hunter2"),
        ("https://host.test/mcp?api_key=abc123def456ghi789", "abc123def456ghi789"),
        ("password: s3cretPassw0rd!!", "s3cretPassw0rd"),
        ("opaque Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDc", "Zx9Yw8Vu7Ts6Rq5Po4Nm3"),
    ],
)
def test_credential_shapes_are_redacted(text: str, secret: str) -> None:
    redacted = redact_secrets(text)
    assert secret not in redacted and "REDACTED" in redacted


@pytest.mark.parametrize(
    "text",
    ["Lists the 20 most recent issues.", "Use page_token to continue.", "version 2025-11-25"],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_secrets(text) == text


def test_controls_and_invisible_characters_are_shown_as_code_points() -> None:
    assert visible("a\x1b[31mb\u200bc\x00d\ne") == "a<U+001B>[31mb<U+200B>c<U+0000>d e"


def test_folding_removes_invisibles_and_normalises_width_and_case() -> None:
    assert fold("Ｉｇ\u200bnore  THIS") == "ignore this"


def test_shown_caps_remote_text() -> None:
    assert len(shown("x" * 10_000)) == 120


def test_a_snippet_keeps_the_match_and_marks_cuts() -> None:
    text = "word " * 50 + "<important>" + " tail" * 50
    start = text.index("<important>")
    shot = snippet(text, start, start + len("<important>"))
    assert "<important>" in shot and shot.startswith("…") and shot.endswith("…")
    assert len(shot) <= 162
