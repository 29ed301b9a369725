"""Discovery feeding a crawl: shared by ``census crawl``, ``census demo`` and scheduled crawls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from census.discovery.cli import SourceOutcome, default_seeds_dir, discover
from census.discovery.http import HttpPolicy
from census.discovery.optout import OptOut
from census.discovery.plan import DiscoverOptions, plan_opt_out, plan_sources

__all__ = ["Discovered", "DiscoverySpec", "optout_hosts", "run_discovery"]


@dataclass(frozen=True, slots=True)
class DiscoverySpec:
    """The discovery a crawl starts with (empty: crawl the endpoints already stored)."""

    sources: tuple[str, ...] = ()
    registries: tuple[str, ...] = ()
    seed_files: tuple[str, ...] = ()
    testbed: str | None = None
    opt_out_files: tuple[str, ...] = ()
    smithery_key: str | None = None
    min_interval: float = 1.0

    @property
    def empty(self) -> bool:
        return not (self.sources or self.registries or self.seed_files or self.testbed)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DiscoverySpec:
        return cls(
            sources=tuple(config.get("sources", ())),
            registries=tuple(config.get("registries", ())),
            seed_files=tuple(config.get("seed_files", ())),
            testbed=config.get("testbed"),
            opt_out_files=tuple(config.get("opt_out_files", ())),
            min_interval=float(config.get("min_interval", 1.0)),
        )

    def as_config(self) -> dict[str, object]:
        """For storage in a schedule (never the Smithery key: it stays in the environment)."""
        return {
            "sources": list(self.sources),
            "registries": list(self.registries),
            "seed_files": list(self.seed_files),
            "testbed": self.testbed,
            "opt_out_files": list(self.opt_out_files),
            "min_interval": self.min_interval,
        }


@dataclass(frozen=True, slots=True)
class Discovered:
    outcomes: list[SourceOutcome]
    source_names: tuple[str, ...]
    optout_hosts: frozenset[str]


def _options(spec: DiscoverySpec, user_agent: str) -> DiscoverOptions:
    opt_out: list[Path] = [Path(p) for p in spec.opt_out_files]
    testbed = Path(spec.testbed) if spec.testbed else None
    if testbed is not None and (testbed / "optouts.txt").exists():
        opt_out.append(testbed / "optouts.txt")
    return DiscoverOptions(
        sources=spec.sources,
        registries=spec.registries,
        seed_files=tuple(Path(p) for p in spec.seed_files),
        testbed=testbed,
        opt_out_files=tuple(opt_out),
        seeds_dir=default_seeds_dir(),
        smithery_key=spec.smithery_key,
        min_interval=spec.min_interval,
        policy=HttpPolicy(user_agent=user_agent.replace(")", "; discovery)")),
    )


def optout_hosts(rules: OptOut) -> frozenset[str]:
    """Opted-out hosts and domains, checked again by the prober right before each probe."""
    return frozenset(domain.lower() for domain in rules.domains)


async def run_discovery(engine: Engine, spec: DiscoverySpec, user_agent: str) -> Discovered:
    """Read what the spec names (nothing when it is empty) and store it."""
    options = _options(spec, user_agent)
    rules = plan_opt_out(options)
    if spec.empty:
        return Discovered([], (), optout_hosts(rules))
    outcomes = await discover(plan_sources(options), rules, engine, None)
    return Discovered(outcomes, tuple(o.result.name for o in outcomes), optout_hosts(rules))
