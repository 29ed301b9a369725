"""Why discovery refuses a listed URL: the precise, discovery-only rejection reasons.

A rejected :class:`census.records.Candidate` carries one value in ``rejected``: either a
:class:`census.vocabulary.FailureReason` where the vocabulary already has the word
(``invalid_url``, ``private_address``, ``opted_out``), or one of the :class:`DiscoveryReason`
values below.  Rejections are catalogue defects worth counting (``source_reads.rejected``), never
endpoints: nothing rejected is stored as an endpoint or probed.

================== ==========================================================================
value              when
================== ==========================================================================
templated_url      the URL still holds a placeholder: ``{var}``, ``${VAR}``, ``<YOUR_KEY>``,
                   ``[YOUR_TOKEN]`` or their percent-encoded forms
localhost          the host is ``localhost``/``*.localhost``, ``0.0.0.0`` or a loopback IP
non_public_host    the host can never be public: a single label (``mcp-server``), or a
                   private-use suffix (``.local``, ``.internal``, ``.lan``, ``.home.arpa``,
                   ``.localdomain``, ``.invalid``)
placeholder_host   a documentation host (``example.com``/``.net``/``.org`` and their
                   subdomains) copied from a README
deleted            the registry marks the entry ``deleted`` (a tombstone: the listing ends)
url_too_long       the canonical URL is longer than 2,048 UTF-8 bytes
                   (``census.records.MAX_URL_BYTES``)
================== ==========================================================================

``invalid_url`` (vocabulary) covers unparseable URLs, schemes other than http/https and bad
ports; ``private_address`` covers IP literals outside the public unicast space (RFC 1918,
link-local, CGNAT, …); ``opted_out`` covers URLs matching the opt-out list.
"""

from __future__ import annotations

from enum import StrEnum

from census.vocabulary import FailureReason

__all__ = ["REJECTION_REASONS", "DiscoveryReason"]


class DiscoveryReason(StrEnum):
    """Rejection reasons that exist only at discovery (see the module table)."""

    TEMPLATED_URL = "templated_url"
    LOCALHOST = "localhost"
    NON_PUBLIC_HOST = "non_public_host"
    PLACEHOLDER_HOST = "placeholder_host"
    DELETED = "deleted"
    URL_TOO_LONG = "url_too_long"


#: Every value a rejected candidate may carry.
REJECTION_REASONS: frozenset[str] = frozenset(
    {
        *(r.value for r in DiscoveryReason),
        FailureReason.INVALID_URL.value,
        FailureReason.PRIVATE_ADDRESS.value,
        FailureReason.OPTED_OUT.value,
    }
)
