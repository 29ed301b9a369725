"""Start and stop a whole testbed: the async context manager tests use and the CLI wraps.

    async with running(TestbedSpec(endpoints=2000, seed=1, mix="uniform"), out_dir) as tb:
        tb.manifest, tb.urls, tb.hosts_file, tb.ca_bundle, tb.registries, tb.request_log

Files written into ``out_dir`` (the interface other stages read): ``manifest.csv``, ``hosts``,
``ca.pem``, ``seeds.txt``, ``optouts.txt``, ``registries.json``, ``docker/servers/*/server.yaml``,
``testbed.json``, ``changes.csv`` (what changes at epoch 2: rug pulls and their decoys), and
``requests.jsonl`` at shutdown.  ``tb.set_epoch(2)`` switches the rug-pull endpoints to their
changed definitions at the same URLs (``census testbed serve``: SIGUSR1).
"""

from __future__ import annotations

import contextlib
import csv
import json
import resource
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from census.testbed import registries as reg
from census.testbed.expect import (
    CHANGE_COLUMNS,
    MANIFEST_COLUMNS,
    expected_change,
    expected_row,
)
from census.testbed.generate import generate, loopback_ip
from census.testbed.model import World
from census.testbed.pki import TestbedCA
from census.testbed.politeness import PolitenessReport, politeness_report
from census.testbed.server import RequestRecord, VirtualInternet

__all__ = ["Testbed", "TestbedSpec", "running"]

_MIXES = ("uniform", "realistic", "hostile", "findings", "flapping")


@dataclass(frozen=True, slots=True)
class TestbedSpec:
    """What to simulate."""

    __test__ = False  # not a pytest test class despite the name

    endpoints: int = 200
    seed: int = 1
    mix: str = "uniform"

    def __post_init__(self) -> None:
        if self.mix not in _MIXES:
            raise ValueError(f"mix must be one of {', '.join(_MIXES)}, not {self.mix!r}")
        if self.endpoints < 1:
            raise ValueError("endpoints must be at least 1")


@dataclass(slots=True)
class Testbed:
    """A running testbed (valid inside ``running``)."""

    __test__ = False

    spec: TestbedSpec
    out_dir: Path
    world: World
    manifest: list[dict[str, str]]
    tls_port: int
    plain_port: int
    registry_base: str
    registries: dict[str, str]
    startup_seconds: float
    _internet: VirtualInternet = field(repr=False)
    changes: list[dict[str, str]] = field(default_factory=list)  # changes.csv rows
    epoch: int = 1

    def set_epoch(self, epoch: int) -> None:
        """Serve the rug-pull endpoints as they are in ``epoch`` (2: changed; same URLs)."""
        self._internet.set_epoch(epoch)
        self.epoch = epoch

    def secrets(self) -> dict[str, str]:
        """The planted credential of every secret-bearing endpoint, by manifest URL."""
        from census.testbed.plants import secret_value

        return {ep.url: secret_value(ep) for ep in self.world.endpoints if ep.profile.secret}

    @property
    def hosts_file(self) -> Path:
        return self.out_dir / "hosts"

    @property
    def ca_bundle(self) -> Path:
        return self.out_dir / "ca.pem"

    @property
    def seeds_file(self) -> Path:
        return self.out_dir / "seeds.txt"

    @property
    def urls(self) -> list[str]:
        return [row["url"] for row in self.manifest]

    @property
    def request_log(self) -> list[RequestRecord]:
        return list(self._internet.log)

    def politeness(self) -> PolitenessReport:
        """What the log proves about the census's manners so far (see politeness.py)."""
        return politeness_report(self._internet.log, self.world.optouts)

    def row(self, url: str) -> dict[str, str]:
        return next(r for r in self.manifest if r["url"] == url)

    def rows(self, profile: str) -> list[dict[str, str]]:
        return [r for r in self.manifest if r["profile"] == profile]

    def resolve(self, host: str) -> str | None:
        """The address the hosts file gives ``host`` (None = does not resolve)."""
        entry = self.world.hosts.get(host)
        return entry.ip if entry else None


def _tls_lookup(world: World) -> Callable[[str], str | None]:
    def lookup(name: str) -> str | None:
        entry = world.hosts.get(name)
        return entry.tls if entry else None

    return lookup


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _reserve_ports() -> tuple[int, int]:
    """OS-chosen ports on the first testbed address (reused on every other address)."""
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind((loopback_ip(0), 0))
            ports.append(s.getsockname()[1])
    return ports[0], ports[1]


def _write_files(
    tb_dir: Path, world: World, manifest: list[dict[str, str]], changes: list[dict[str, str]]
) -> None:
    with (tb_dir / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(manifest)
    with (tb_dir / "changes.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CHANGE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(changes)
    hosts = [f"{h.ip} {h.name}" for h in world.hosts.values() if h.ip is not None]
    (tb_dir / "hosts").write_text(
        "# census testbed: names absent from this file do not resolve\n" + "\n".join(hosts) + "\n"
    )
    (tb_dir / "seeds.txt").write_text("\n".join(ep.url for ep in world.endpoints) + "\n")
    (tb_dir / "optouts.txt").write_text("\n".join(world.optouts) + ("\n" if world.optouts else ""))


@contextlib.asynccontextmanager
async def running(spec: TestbedSpec, out_dir: Path) -> AsyncIterator[Testbed]:
    """Generate, write and serve a testbed; everything is stopped and the log written on exit."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _raise_nofile()
    last_error: OSError | None = None
    for _attempt in range(5):
        tls_port, plain_port = _reserve_ports()
        world = generate(spec.endpoints, spec.seed, spec.mix, tls_port, plain_port)
        ca = TestbedCA(out_dir, _tls_lookup(world))
        internet = VirtualInternet(world, ca.server_context)
        try:
            await internet.start(tls_port, plain_port)
            break
        except OSError as exc:  # a port taken on some address: choose new ports
            last_error = exc
            await internet.stop()
    else:
        raise RuntimeError(f"could not bind the testbed's addresses: {last_error}")
    mirrors = reg.build_mirrors(world)
    docker_dir = out_dir / "docker"
    shutil.rmtree(docker_dir, ignore_errors=True)
    reg.write_docker(mirrors, docker_dir)
    mirror_runner = web.AppRunner(reg.mirror_app(mirrors), access_log=None, handle_signals=False)
    await mirror_runner.setup()
    mirror_sock = socket.socket()
    mirror_sock.bind(("127.0.0.1", 0))
    mirror_port = mirror_sock.getsockname()[1]
    try:
        await web.SockSite(mirror_runner, mirror_sock).start()
        base = f"http://127.0.0.1:{mirror_port}"
        registries = reg.registries_json(base, docker_dir, mirrors)
        manifest = [expected_row(ep) for ep in world.endpoints]
        changes = [
            change
            for ep, row in zip(world.endpoints, manifest, strict=True)
            if (change := expected_change(ep, row)) is not None
        ]
        ca.write_bundle(out_dir / "ca.pem")
        _write_files(out_dir, world, manifest, changes)
        (out_dir / "registries.json").write_text(reg.dumps(registries))
        elapsed = time.perf_counter() - started
        meta = {
            "seed": spec.seed,
            "mix": spec.mix,
            "endpoints": len(world.endpoints),
            "hosts": len(world.hosts),
            "allow_private": True,
            "allow_private_note": "only loopback (127.0.0.0/8) is allowed; other private "
            "ranges in the hosts file must still be refused",
            "tls_port": tls_port,
            "plain_port": plain_port,
            "optouts": "optouts.txt",
            "statuses": _count(manifest, "status"),
            "startup_seconds": round(elapsed, 3),
        }
        (out_dir / "testbed.json").write_text(json.dumps(meta, indent=2))
        tb = Testbed(
            spec,
            out_dir,
            world,
            manifest,
            tls_port,
            plain_port,
            base,
            registries,
            elapsed,
            internet,
            changes,
        )
        yield tb
    finally:
        await mirror_runner.cleanup()
        await internet.stop()
        with (out_dir / "requests.jsonl").open("w", encoding="utf-8") as f:
            for record in internet.log:
                f.write(record.to_json() + "\n")
        shutil.rmtree(out_dir / ".certs", ignore_errors=True)


def _count(rows: list[dict[str, str]], column: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[row[column]] = out.get(row[column], 0) + 1
    return dict(sorted(out.items()))
