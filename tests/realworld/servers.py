"""The real implementations and the configurations their users deploy, started as subprocesses.

Each server prints ``PORT <n>`` when it listens (the Node CLIs through servers/loopback.mjs,
preloaded, from the 'listening' event itself); `running` reads lines until that one, with a
deadline, and kills the process group at exit.  Every server listens on 127.0.0.1 only (the
preload makes a CLI's host-less listen() bind loopback too).
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.realworld.install import CACHE, NODE_ROOT, venv_python

HERE = Path(__file__).resolve().parent
SERVERS = HERE / "servers"
READY_DEADLINE = 90.0  # seconds; gradio's first import on a cold machine is the slowest


@dataclass(frozen=True)
class Spec:
    """One implementation in one configuration."""

    implementation: str  # as the matrix names it, with the version
    config: str
    runtime: str  # a venv name of install.py, "project" (this project's venv) or "node"
    argv: tuple[str, ...]  # after the interpreter
    path: str  # the MCP endpoint's path
    ready: str = r"PORT (\d+)"  # a regex on an output line; group 1 is the port when it has one
    needs_port: bool = False  # the server takes its port from REALWORLD_PORT
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.implementation}-{self.config}".replace(" ", "_").replace("/", "_")


def _node_cli(package_bin: str, *args: str) -> tuple[str, ...]:
    return ("--import", str(SERVERS / "loopback.mjs"), f"node_modules/{package_bin}", *args)


EVERYTHING_STDIO = "node node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio"

SPECS: tuple[Spec, ...] = (
    # The official Python SDK.
    Spec("python-sdk 1.30.0", "default", "mcp1", ("py_mcp.py", "default"), "/mcp"),
    Spec("python-sdk 1.30.0", "stateless-json", "mcp1", ("py_mcp.py", "stateless-json"), "/mcp"),
    Spec("python-sdk 1.30.0", "sse", "mcp1", ("py_mcp.py", "sse"), "/sse"),
    Spec("python-sdk 1.30.0", "rebinding-off", "mcp1", ("py_mcp.py", "rebinding-off"), "/mcp"),
    Spec("python-sdk 2.3.0", "default", "project", ("py_mcp.py", "default"), "/mcp"),
    Spec("python-sdk 2.3.0", "stateless-json", "project", ("py_mcp.py", "stateless-json"), "/mcp"),
    Spec("python-sdk 2.3.0", "sse", "project", ("py_mcp.py", "sse"), "/sse"),
    Spec("python-sdk 2.3.0", "rebinding-off", "project", ("py_mcp.py", "rebinding-off"), "/mcp"),
    # FastMCP (Python).
    Spec("fastmcp-py 4.2.3", "default", "fastmcp", ("py_fastmcp.py", "default"), "/mcp"),
    Spec(
        "fastmcp-py 4.2.3", "stateless-json", "fastmcp", ("py_fastmcp.py", "stateless-json"), "/mcp"
    ),
    Spec("fastmcp-py 4.2.3", "sse", "fastmcp", ("py_fastmcp.py", "sse"), "/sse"),
    Spec("fastmcp-py 4.2.3", "remote-auth", "fastmcp", ("py_fastmcp.py", "remote-auth"), "/mcp"),
    Spec(
        "fastmcp-py 4.2.3",
        "origin-protection",
        "fastmcp",
        ("py_fastmcp.py", "origin-protection"),
        "/mcp",
    ),
    # Gradio.
    Spec(
        "gradio 6.31.0",
        "default",
        "gradio",
        ("py_gradio.py", "default"),
        "/gradio_api/mcp/",
        needs_port=True,
        env={"GRADIO_ANALYTICS_ENABLED": "False"},
    ),
    Spec(
        "gradio 6.31.0",
        "sse",
        "gradio",
        ("py_gradio.py", "default"),
        "/gradio_api/mcp/sse",
        needs_port=True,
        env={"GRADIO_ANALYTICS_ENABLED": "False"},
    ),
    # The official TypeScript SDK, three eras.
    Spec("ts-sdk 1.12.1", "default", "node", ("ts_sdk1.mjs", "sdk-1-12", "default"), "/mcp"),
    Spec(
        "ts-sdk 1.12.1",
        "stateless-json",
        "node",
        ("ts_sdk1.mjs", "sdk-1-12", "stateless-json"),
        "/mcp",
    ),
    Spec("ts-sdk 1.12.1", "sse", "node", ("ts_sdk1.mjs", "sdk-1-12", "sse"), "/sse"),
    Spec(
        "ts-sdk 1.12.1",
        "oauth-as",
        "node",
        ("ts_sdk1.mjs", "sdk-1-12", "oauth-as"),
        "/mcp",
        needs_port=True,
    ),
    Spec("ts-sdk 1.24.3", "default", "node", ("ts_sdk1.mjs", "sdk-1-24", "default"), "/mcp"),
    Spec(
        "ts-sdk 1.24.3",
        "stateless-json",
        "node",
        ("ts_sdk1.mjs", "sdk-1-24", "stateless-json"),
        "/mcp",
    ),
    Spec("ts-sdk 1.24.3", "sse", "node", ("ts_sdk1.mjs", "sdk-1-24", "sse"), "/sse"),
    Spec(
        "ts-sdk 1.24.3",
        "rebinding-on",
        "node",
        ("ts_sdk1.mjs", "sdk-1-24", "rebinding-on"),
        "/mcp",
    ),
    Spec(
        "ts-sdk 1.24.3",
        "oauth-rs",
        "node",
        ("ts_sdk1.mjs", "sdk-1-24", "protected"),
        "/mcp",
        needs_port=True,
    ),
    Spec("ts-sdk 2.4.0", "handler", "node", ("ts_v2.mjs", "handler"), "/mcp"),
    Spec("ts-sdk 2.4.0", "handler-guarded", "node", ("ts_v2.mjs", "handler-guarded"), "/mcp"),
    # FastMCP (TypeScript).
    Spec(
        "fastmcp-ts 4.20.16",
        "default",
        "node",
        ("ts_fastmcp.mjs", "default"),
        "/mcp",
        needs_port=True,
    ),
    Spec(
        "fastmcp-ts 4.20.16",
        "stateless-json",
        "node",
        ("ts_fastmcp.mjs", "stateless-json"),
        "/mcp",
        needs_port=True,
    ),
    Spec(
        "fastmcp-ts 4.20.16", "sse", "node", ("ts_fastmcp.mjs", "default"), "/sse", needs_port=True
    ),
    # Vercel's mcp-handler.
    Spec(
        "mcp-handler 2.4.0",
        "default",
        "node",
        ("ts_mcp_handler.mjs", "default"),
        "/api/mcp",
        needs_port=True,
    ),
    Spec(
        "mcp-handler 2.4.0",
        "oauth-rs",
        "node",
        ("ts_mcp_handler.mjs", "protected"),
        "/api/mcp",
        needs_port=True,
    ),
    # supergateway: server-everything over stdio, exposed as SSE and as Streamable HTTP.
    Spec(
        "supergateway 4.0.0",
        "sse",
        "node-cli",
        _node_cli(
            "supergateway/dist/index.js",
            "--stdio",
            EVERYTHING_STDIO,
            "--outputTransport",
            "sse",
            "--port",
            "{port}",
        ),
        "/sse",
        needs_port=True,
    ),
    Spec(
        "supergateway 4.0.0",
        "streamable-http",
        "node-cli",
        _node_cli(
            "supergateway/dist/index.js",
            "--stdio",
            EVERYTHING_STDIO,
            "--outputTransport",
            "streamableHttp",
            "--port",
            "{port}",
        ),
        "/mcp",
        needs_port=True,
    ),
    Spec(
        "supergateway 4.0.0",
        "streamable-http-cors",
        "node-cli",
        _node_cli(
            "supergateway/dist/index.js",
            "--stdio",
            EVERYTHING_STDIO,
            "--outputTransport",
            "streamableHttp",
            "--cors",
            "--port",
            "{port}",
        ),
        "/mcp",
        needs_port=True,
    ),
    Spec(
        "supergateway 4.0.0",
        "streamable-http-stateful",
        "node-cli",
        _node_cli(
            "supergateway/dist/index.js",
            "--stdio",
            EVERYTHING_STDIO,
            "--outputTransport",
            "streamableHttp",
            "--stateful",
            "--port",
            "{port}",
        ),
        "/mcp",
        needs_port=True,
    ),
    # mcp-proxy (punkpeye): the same stdio server, as Streamable HTTP and SSE.
    Spec(
        "mcp-proxy 6.7.19",
        "default",
        "node-cli",
        _node_cli(
            "mcp-proxy/dist/bin/mcp-proxy.mjs",
            "--port",
            "{port}",
            "--host",
            "127.0.0.1",
            "--",
            *EVERYTHING_STDIO.split(),
        ),
        "/mcp",
        needs_port=True,
    ),
    Spec(
        "mcp-proxy 6.7.19",
        "sse",
        "node-cli",
        _node_cli(
            "mcp-proxy/dist/bin/mcp-proxy.mjs",
            "--port",
            "{port}",
            "--host",
            "127.0.0.1",
            "--",
            *EVERYTHING_STDIO.split(),
        ),
        "/sse",
        needs_port=True,
    ),
    Spec(
        "mcp-proxy 6.7.19",
        "api-key",
        "node-cli",
        _node_cli(
            "mcp-proxy/dist/bin/mcp-proxy.mjs",
            "--port",
            "{port}",
            "--host",
            "127.0.0.1",
            "--apiKey",
            "census-test-key",
            "--",
            *EVERYTHING_STDIO.split(),
        ),
        "/mcp",
        needs_port=True,
    ),
    # The official reference server, over its own HTTP transports.
    Spec(
        "server-everything 2026.8.31",
        "streamable-http",
        "node-cli",
        _node_cli("@modelcontextprotocol/server-everything/dist/index.js", "streamableHttp"),
        "/mcp",
        needs_port=True,
    ),
    Spec(
        "server-everything 2026.8.31",
        "sse",
        "node-cli",
        _node_cli("@modelcontextprotocol/server-everything/dist/index.js", "sse"),
        "/sse",
        needs_port=True,
    ),
)


def free_port() -> int:
    # For CLIs that take a port number: asked of the OS, then handed over.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Running:
    spec: Spec
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.spec.path}"


def _command(spec: Spec, port: int) -> tuple[list[str], Path]:
    argv = [a.replace("{port}", str(port)) for a in spec.argv]
    if spec.runtime == "node-cli":
        return ["node", *argv], NODE_ROOT
    if spec.runtime == "node":
        return ["node", str(SERVERS / argv[0]), *argv[1:]], NODE_ROOT
    python = sys.executable if spec.runtime == "project" else str(venv_python(spec.runtime))
    return [python, str(SERVERS / argv[0]), *argv[1:]], CACHE


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


@contextmanager
def running(spec: Spec) -> Iterator[Running]:
    port = free_port() if spec.needs_port else 0
    command, cwd = _command(spec, port)
    env = {**os.environ, **spec.env, "REALWORLD_NODE_ROOT": str(NODE_ROOT)}
    env.update({"REALWORLD_PORT": str(port), "PORT": str(port)} if port else {})
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        ready = re.compile(spec.ready)
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + READY_DEADLINE
        buffer = b""
        found = None
        while found is None:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise RuntimeError(f"{spec.id} not ready in {READY_DEADLINE}s: {seen[-10:]}")
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"{spec.id} exited ({proc.wait()}): {seen[-10:]}")
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                seen.append(text)
                found = found or ready.search(text)
        selector.close()
        if found.groups() and found.group(1):
            port = int(found.group(1))
        # The rest of its output is read and dropped, so a server that logs every request never
        # blocks on a full pipe.
        threading.Thread(target=_drain, args=(proc.stdout.fileno(),), daemon=True).start()
        yield Running(spec, port)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
