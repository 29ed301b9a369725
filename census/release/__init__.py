"""census.release: a dated, citable data release of one complete crawl run.

    from census.release import build_release
    release = build_release(engine, "latest", Path("releases"))   # releases/census-<date>-run<ID>/

The folder holds the run's observations, endpoints, tools and listings as CSV and Parquet, a
Frictionless Data Package descriptor (``datapackage.json``), the headline with its intervals
(``summary.json``), the methodology generated from the vocabulary (``METHODOLOGY.md``),
``CITATION.cff`` and the SHA-256 of every file (``SHA256SUMS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from census.release.build import RELEASE_TABLES, Release, build_release, release_name

__all__ = ["RELEASE_TABLES", "Release", "build_release", "release_name"]


def __getattr__(name: str) -> Any:
    # Lazy: every `census` command imports the release CLI, and the builder pulls in pandas
    # and pyarrow (seconds of start-up) that only `census release` needs.
    if name in __all__:
        from census.release import build

        return getattr(build, name)
    raise AttributeError(name)
