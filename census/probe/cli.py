"""CLI commands of census.probe (registered by census.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the top-level app."""

    @app.command("probe")
    def probe_command(
        urls: Annotated[list[str], typer.Argument(help="Endpoint URLs to probe.")],
        as_json: Annotated[
            bool,
            typer.Option("--json", help="One JSON object per line, keyed by vocabulary columns."),
        ] = False,
        allow_private: Annotated[
            bool,
            typer.Option("--allow-private", help="Allow private/loopback addresses (local use)."),
        ] = False,
        hosts_file: Annotated[
            Path | None,
            typer.Option("--hosts-file", help="Resolve names only through this hosts file."),
        ] = None,
        ca_bundle: Annotated[
            Path | None,
            typer.Option("--ca-bundle", help="Trust this PEM CA bundle, not the system store."),
        ] = None,
        optouts: Annotated[
            Path | None,
            typer.Option("--optouts", help="Hosts (one per line) that opted out: never contacted."),
        ] = None,
        evidence_dir: Annotated[
            Path | None,
            typer.Option("--evidence-dir", help="Also write each endpoint's evidence JSON here."),
        ] = None,
    ) -> None:
        """Probe MCP endpoints once and print what they are.

        Example: census probe https://mcp.example.com/mcp --json
        """
        from census.probe.oneoff import run_oneoff

        run_oneoff(
            urls,
            as_json=as_json,
            allow_private=allow_private,
            hosts_file=hosts_file,
            ca_bundle=ca_bundle,
            optouts=optouts,
            evidence_dir=evidence_dir,
        )
