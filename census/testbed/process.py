"""A simulated internet in a child process: ``census testbed serve`` as users run it.

The child has a core of its own, and a hostile profile's faults stay in its process.  Used by
``census demo``, ``census bench`` and the tests that want the testbed out of their event loop.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

__all__ = ["ServedTestbed", "served"]

#: The line ``census testbed serve`` prints once every endpoint is served.
READY_PREFIX = "Crawl it with"


class ServedTestbed:
    """A running ``census testbed serve`` child; ``stop()`` ends it and reads the request log."""

    __test__ = False

    def __init__(
        self,
        out_dir: Path,
        endpoints: int,
        seed: int,
        mix: str = "uniform",
        start_deadline: float = 600.0,
    ) -> None:
        self.out_dir = out_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "census", "testbed", "serve", "--endpoints", str(endpoints),
             "--seed", str(seed), "--mix", mix, "--out", str(out_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.request_log: list[SimpleNamespace] = []
        banner: list[str] = []
        assert self.proc.stdout is not None
        # A child that neither serves nor dies within the deadline is killed (ends the loop).
        watchdog = threading.Timer(start_deadline, self.proc.kill)
        watchdog.start()
        try:
            for line in self.proc.stdout:  # blocks on the child's own progress, no polling
                banner.append(line)
                if line.startswith(READY_PREFIX):
                    break
        finally:
            watchdog.cancel()
        if not banner or not banner[-1].startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError("the simulated internet did not start:\n" + "".join(banner[-20:]))
        # Keep draining the child's output (into testbed.log): a pipe nobody reads fills up at
        # 64 KiB and the testbed would block on its next log line and stop serving.
        self._drain = threading.Thread(target=self._copy_output, daemon=True)
        self._drain.start()
        with (out_dir / "manifest.csv").open(newline="") as f:
            self.manifest = list(csv.DictReader(f))

    def _copy_output(self) -> None:
        assert self.proc.stdout is not None
        with (self.out_dir / "testbed.log").open("a") as log:
            for line in self.proc.stdout:
                log.write(line)

    @property
    def urls(self) -> list[str]:
        return [row["url"] for row in self.manifest]

    @property
    def hosts_file(self) -> Path:
        return self.out_dir / "hosts"

    @property
    def ca_bundle(self) -> Path:
        return self.out_dir / "ca.pem"

    def signal(self, sig: signal.Signals) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self) -> list[SimpleNamespace]:
        """End the child (SIGTERM, then SIGKILL after 60 s) and return its request log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "_drain"):
            self._drain.join(10)
        log = self.out_dir / "requests.jsonl"
        if log.exists() and not self.request_log:
            self.request_log = [
                SimpleNamespace(**json.loads(line)) for line in log.read_text().splitlines() if line
            ]
        return self.request_log


@contextmanager
def served(
    out_dir: Path, endpoints: int, seed: int, mix: str = "uniform"
) -> Iterator[ServedTestbed]:
    """Serve a simulated internet in a child process for the duration of the block."""
    testbed = ServedTestbed(out_dir, endpoints, seed, mix)
    try:
        yield testbed
    finally:
        testbed.stop()
