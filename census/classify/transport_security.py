"""`tls` and `tls_days_left` from the connection facts the prober kept."""

from __future__ import annotations

from yarl import URL

from census.records import Evidence
from census.vocabulary import Tls

__all__ = ["classify_tls"]


def classify_tls(evidence: Evidence) -> tuple[Tls | None, int | None]:
    """valid (verified), invalid (verification failed but a certificate was seen), none (plain
    http that answered or was tried), or empty when no certificate was ever seen."""
    if evidence.notes.get("skipped"):
        return None, None
    try:
        scheme = URL(evidence.url).scheme
    except ValueError:
        return None, None
    if scheme == "http":
        return Tls.NONE, None
    days = evidence.tls.get("days_left")
    days_left = days if isinstance(days, int) else None
    if evidence.tls.get("verified") is True:
        return Tls.VALID, days_left
    if evidence.tls.get("verified") is False and "issuer" in evidence.tls:
        return Tls.INVALID, days_left
    return None, None
