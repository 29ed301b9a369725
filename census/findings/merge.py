"""Findings the prober cannot see, added to an observation by the stage that knows them."""

from __future__ import annotations

from dataclasses import replace

from census.records import Observation
from census.vocabulary import Finding

__all__ = ["with_endpoint_findings"]


def with_endpoint_findings(observation: Observation, *, secret_in_url: bool) -> Observation:
    """``observation`` with the endpoint row's own findings merged into ``findings``.

    ``secret_in_url``: discovery redacted a credential from the listed URL (query or userinfo)
    before storing it, so the prober only ever saw the redacted URL and cannot raise the code.
    """
    if not secret_in_url or Finding.SECRET_IN_URL in observation.findings:
        return observation
    codes = sorted({*observation.findings, str(Finding.SECRET_IN_URL)})
    return replace(observation, findings=tuple(codes))
