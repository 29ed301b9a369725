import pytest

from census.classify import classify
from census.classify.challenge import Challenge, parse_challenges
from census.records import Evidence
from tests.classify.factories import DISCOVER_OK, ev, x

AS = "https://auth.example.com/tenant"
PRM = {"resource": "https://mcp.example.com/mcp", "authorization_servers": [AS]}
AS_DOC = {
    "issuer": AS,
    "authorization_endpoint": f"{AS}/authorize",
    "token_endpoint": f"{AS}/token",
    "registration_endpoint": f"{AS}/register",
    "code_challenge_methods_supported": ["S256"],
    "client_id_metadata_document_supported": True,
}
CHALLENGE = {
    "www-authenticate": 'Bearer error="invalid_token", '
    'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
}


def wall(status: int = 401, headers: dict[str, str] | None = None, body: str = "{}") -> tuple:
    return (x("discover", status, body, headers), x("initialize", status, body, headers))


CASES: list[tuple[str, Evidence, dict[str, object]]] = [
    (
        "complete chain",
        ev(
            *wall(401, CHALLENGE),
            x("auth:prm", 200, PRM, method="GET"),
            x("auth:as", 200, AS_DOC, method="GET"),
        ),
        dict(
            auth_class="oauth",
            oauth_issuer=AS,
            oauth_dcr=True,
            oauth_cimd=True,
            oauth_pkce_s256=True,
        ),
    ),
    (
        "PRM found at a well-known URL after CDN 403s",
        ev(
            *wall(401, {"www-authenticate": "Bearer"}),
            x("auth:prm", 403, "no", method="GET"),
            x("auth:prm", 200, PRM, method="GET"),
            x("auth:as", 404, "", method="GET"),
            x(
                "auth:as",
                200,
                {
                    **AS_DOC,
                    "registration_endpoint": None,
                    "code_challenge_methods_supported": ["plain"],
                },
                method="GET",
            ),
        ),
        dict(auth_class="oauth", oauth_dcr=False, oauth_pkce_s256=False),
    ),
    (
        "issuer mismatch reports the claimed issuer",
        ev(
            *wall(401, CHALLENGE),
            x("auth:prm", 200, PRM, method="GET"),
            x("auth:as", 200, {**AS_DOC, "issuer": AS + "-other"}, method="GET"),
        ),
        dict(auth_class="oauth_partial", oauth_issuer=AS + "-other"),
    ),
    (
        "challenge names metadata that is not there",
        ev(
            *wall(401, CHALLENGE),
            x("auth:prm", 404, "", method="GET"),
            x("auth:prm", 404, "", method="GET"),
            x("auth:as_legacy", 404, "", method="GET"),
        ),
        dict(auth_class="oauth_partial", oauth_issuer=None, oauth_dcr=None),
    ),
    (
        "PRM without authorization servers",
        ev(*wall(401, CHALLENGE), x("auth:prm", 200, {"resource": "x"}, method="GET")),
        dict(auth_class="oauth_partial"),
    ),
    (
        "AS metadata missing",
        ev(
            *wall(401, CHALLENGE),
            x("auth:prm", 200, PRM, method="GET"),
            x("auth:as", 404, "", method="GET"),
            x("auth:as", 404, "", method="GET"),
        ),
        dict(auth_class="oauth_partial", oauth_pkce_s256=None),
    ),
    (
        "bare Bearer challenge",
        ev(*wall(401, {"www-authenticate": 'Bearer realm="x"'})),
        dict(auth_class="bearer"),
    ),
    ("ApiKey scheme", ev(*wall(401, {"www-authenticate": "ApiKey"})), dict(auth_class="api_key")),
    (
        "body names an API key",
        ev(*wall(401, None, '{"error":"Provide X-API-Key header"}')),
        dict(auth_class="api_key"),
    ),
    (
        "FastAPI 403 naming a key",
        ev(*wall(403, None, '{"detail":"Missing API key"}')),
        dict(auth_class="api_key"),
    ),
    (
        "FastAPI 403 not naming a key",
        ev(*wall(403, None, '{"detail":"Not authenticated"}')),
        dict(auth_class="other_auth"),
    ),
    (
        "Basic",
        ev(*wall(401, {"www-authenticate": 'Basic realm="r"'})),
        dict(auth_class="other_auth"),
    ),
    ("nothing at all", ev(*wall(401, None, "")), dict(auth_class="other_auth")),
    (
        "open server",
        ev(x("discover", 200, DISCOVER_OK), x("initialize", 404, "")),
        dict(auth_class="none", oauth_issuer=None),
    ),
]


@pytest.mark.parametrize(
    ("evidence", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_auth_class_follows_the_vocabulary(evidence: Evidence, expected: dict[str, object]) -> None:
    observation = classify(evidence)
    got = {k: getattr(observation, k) for k in expected}
    got = {k: (v.value if hasattr(v, "value") else v) for k, v in got.items()}
    assert got == expected


@pytest.mark.parametrize(
    ("header", "challenges"),
    [
        (
            'Bearer error="invalid_token", resource_metadata="https://h/.well-known/x"',
            [
                Challenge(
                    "bearer",
                    {"error": "invalid_token", "resource_metadata": "https://h/.well-known/x"},
                )
            ],
        ),
        (
            'Basic realm="a, b", Bearer scope="read write"',
            [Challenge("basic", {"realm": "a, b"}), Challenge("bearer", {"scope": "read write"})],
        ),
        ("ApiKey", [Challenge("apikey")]),
        ("BEARER realm=unquoted", [Challenge("bearer", {"realm": "unquoted"})]),
        ('Bearer realm="esc\\"aped"', [Challenge("bearer", {"realm": 'esc"aped'})]),
        ("", []),
    ],
)
def test_every_challenge_in_www_authenticate_is_parsed(
    header: str, challenges: list[Challenge]
) -> None:
    assert parse_challenges(header) == challenges
