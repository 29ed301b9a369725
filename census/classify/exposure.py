"""Browser exposure (`cors_class`, `origin_validated`) and `rate_limit_class`."""

from __future__ import annotations

from census.classify.evidence import last
from census.net.headers import RATE_LIMIT_HEADERS
from census.records import Evidence
from census.vocabulary import CorsClass, RateLimitClass

__all__ = ["RATE_LIMIT_HEADERS", "classify_cors", "classify_origin", "classify_rate_limit"]


def classify_cors(evidence: Evidence) -> CorsClass | None:
    """From the preflight with a random foreign Origin (None when it got no answer)."""
    preflight = last(evidence, "cors:preflight")
    if preflight is None or preflight.status is None:
        return None
    origin = preflight.request_headers.get("Origin", "")
    allowed = preflight.response_headers.get("access-control-allow-origin", "").strip()
    if preflight.status >= 400 or not allowed:
        return CorsClass.NONE
    if allowed == "*":
        return CorsClass.WILDCARD
    if allowed == origin:
        credentials = preflight.response_headers.get("access-control-allow-credentials", "")
        if credentials.strip().lower() == "true":
            return CorsClass.REFLECT_CREDENTIALS
        return CorsClass.REFLECT
    return CorsClass.RESTRICTED


def classify_origin(evidence: Evidence) -> bool | None:
    """True when a request with a foreign Origin was refused with 403, False when accepted."""
    check = last(evidence, "cors:origin")
    if check is None or check.status is None:
        return None
    if check.status == 403:
        return True
    if 200 <= check.status < 300:
        return False
    return None


def classify_rate_limit(evidence: Evidence) -> RateLimitClass | None:
    """enforced (a 429 seen), advertised (limit headers or Retry-After), none_observed, or
    None when no HTTP answer arrived at all."""
    answered = False
    advertised = False
    for exchange in evidence.exchanges:
        answers = [(r.get("status"), r.get("headers") or {}) for r in exchange.retried]
        if exchange.status is not None:
            answers.append((exchange.status, exchange.response_headers))
        elif exchange.error == "protocol_error":
            answered = True  # malformed HTTP is still an answer (e.g. a header flood)
        for status, headers in answers:
            answered = True
            if status == 429:
                return RateLimitClass.ENFORCED
            if RATE_LIMIT_HEADERS.intersection(headers):
                advertised = True
    if not answered:
        return None
    return RateLimitClass.ADVERTISED if advertised else RateLimitClass.NONE_OBSERVED
