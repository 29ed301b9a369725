"""CLI commands of census.testbed (registered by census.cli): ``census testbed serve``."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

testbed_app = typer.Typer(
    name="testbed",
    help="The simulated MCP internet on loopback (endpoints with planted ground truth).",
    no_args_is_help=True,
)


async def _serve(endpoints: int, seed: int, mix: str, out: Path) -> None:
    from census.testbed.runner import TestbedSpec, running

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running(TestbedSpec(endpoints=endpoints, seed=seed, mix=mix), out) as tb:

        def next_epoch() -> None:
            # SIGUSR1: the rug-pull endpoints (changes.csv) serve their changed definitions.
            tb.set_epoch(tb.epoch + 1)
            typer.echo(f"testbed: epoch {tb.epoch}", err=True)

        loop.add_signal_handler(signal.SIGUSR1, next_epoch)
        typer.echo(
            f"testbed: {len(tb.manifest)} endpoints on {len(tb.world.hosts)} hosts "
            f"(mix {mix}, seed {seed}), started in {tb.startup_seconds:.2f} s\n"
            f"  manifest   {out / 'manifest.csv'}\n"
            f"  hosts      {tb.hosts_file}\n"
            f"  CA bundle  {tb.ca_bundle}\n"
            f"  seeds      {tb.seeds_file}\n"
            f"  registries {out / 'registries.json'} (mirrors at {tb.registry_base})\n"
            f"Crawl it with:  census crawl --testbed {out}\n"
            f"Discover with:  census discover --testbed {out}\n"
            f"Rug pulls:      kill -USR1 {os.getpid()} (epoch 2; see changes.csv)\n"
            "Stop with Ctrl-C (the request log is written to requests.jsonl)."
        )
        await stop.wait()
    typer.echo(f"testbed stopped; request log in {out / 'requests.jsonl'}")


@testbed_app.command("serve")
def serve(
    out: Annotated[Path, typer.Option("--out", help="Directory for manifest, hosts, CA, seeds.")],
    endpoints: Annotated[int, typer.Option("--endpoints", "-n", help="How many endpoints.")] = 2000,
    seed: Annotated[
        int, typer.Option("--seed", help="Generation seed (same seed, same world).")
    ] = 1,
    mix: Annotated[
        str, typer.Option("--mix", help="uniform | realistic | hostile | findings | flapping.")
    ] = "uniform",
) -> None:
    """Serve a simulated MCP internet in the foreground until Ctrl-C / SIGTERM.

    Example: census testbed serve --endpoints 2000 --seed 1 --mix uniform --out /tmp/tb
    """
    if mix not in ("uniform", "realistic", "hostile", "findings", "flapping"):
        raise typer.BadParameter(
            "mix must be uniform, realistic, hostile, findings or flapping", param_hint="--mix"
        )
    if endpoints < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--endpoints")
    try:
        import uvloop

        uvloop.run(_serve(endpoints, seed, mix, out))
    except ImportError:
        asyncio.run(_serve(endpoints, seed, mix, out))


def register(app: typer.Typer) -> None:
    """Add this package's commands to the top-level app."""
    app.add_typer(testbed_app, name="testbed")
