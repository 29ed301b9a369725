"""census.discovery: find MCP endpoint URLs in registries, catalogues, lists, seeds and domains.

One module per source, each a frozen dataclass of the same shape (:class:`Source`):
:mod:`official_registry` (also GitHub's and any same-API registry), :mod:`docker_catalog`,
:mod:`smithery`, :mod:`awesome_list`, :mod:`seed_file`, :mod:`domains`.  :mod:`normalize`
decides endpoint identity (canonical URL, registrable domain, platform hosts, rejections,
redaction), :mod:`optout` the opt-out rules, :mod:`pipeline` reads one source to the end, and
:mod:`plan` turns command-line choices into sources.  All network access goes through
:mod:`census.discovery.http`.  Discovery never imports the store: ``census discover``
(:mod:`census.discovery.cli`) hands each :class:`SourceResult` to
``census.store.discovery.record_source_read``.
"""

from census.discovery.awesome_list import AwesomeListSource, awesome_list_source, parse_markdown
from census.discovery.docker_catalog import DockerCatalogSource
from census.discovery.domains import DomainsSource, domains_source
from census.discovery.http import Fetched, Fetcher, HttpPolicy
from census.discovery.normalize import (
    NormalizedUrl,
    is_known_platform,
    normalize_url,
    redact_raw,
    registrable_domain,
)
from census.discovery.official_registry import RegistrySource
from census.discovery.optout import OptOut, load_opt_out, parse_opt_out
from census.discovery.pipeline import SourceResult, collect
from census.discovery.plan import DiscoverOptions, plan_opt_out, plan_sources
from census.discovery.reasons import REJECTION_REASONS, DiscoveryReason
from census.discovery.seed_file import SeedFileSource, seed_file_source
from census.discovery.smithery import SmitherySource
from census.discovery.source import ReadLog, Source, make_candidate

__all__ = [
    "REJECTION_REASONS",
    "AwesomeListSource",
    "DiscoverOptions",
    "DiscoveryReason",
    "DockerCatalogSource",
    "DomainsSource",
    "Fetched",
    "Fetcher",
    "HttpPolicy",
    "NormalizedUrl",
    "OptOut",
    "ReadLog",
    "RegistrySource",
    "SeedFileSource",
    "SmitherySource",
    "Source",
    "SourceResult",
    "awesome_list_source",
    "collect",
    "domains_source",
    "is_known_platform",
    "load_opt_out",
    "make_candidate",
    "normalize_url",
    "parse_markdown",
    "parse_opt_out",
    "plan_opt_out",
    "plan_sources",
    "redact_raw",
    "registrable_domain",
    "seed_file_source",
]
