"""Registry mirrors on loopback listing the testbed's endpoints in each real source's shape.

Shapes follow ``shared/docs/registries-reference.md``: the official registry API (``/v0.1/servers``
with ``limit``, opaque ``cursor``, ``updated_since``, ``version=latest``, every version listed,
deleted/deprecated statuses), a GitHub-registry-like API (``mcp.cursor.<b64>`` cursors, latest
only), a Docker-catalogue-like folder of ``servers/<name>/server.yaml``, an awesome-list Markdown
table, and a Smithery-like paged API that requires ``Authorization: Bearer <key>``.  Entries are
duplicated across sources, some are stale (dead endpoints, deprecated versions) and some carry
templated or localhost URLs that discovery must reject.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from aiohttp import web

from census.testbed.model import World
from census.testbed.plants import listed_url

__all__ = ["Mirrors", "build_mirrors"]

# libyaml's emitter when present: the pure-Python one costs seconds for 1,000 files.
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_EPOCH = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)


@dataclass(slots=True)
class Mirrors:
    official: list[dict[str, Any]] = field(default_factory=list)  # every version, sorted
    github: list[dict[str, Any]] = field(default_factory=list)
    docker: dict[str, dict[str, Any]] = field(default_factory=dict)
    awesome: str = ""
    smithery: list[dict[str, Any]] = field(default_factory=list)
    smithery_key: str = ""


def _ts(rng: random.Random) -> str:
    when = _EPOCH + dt.timedelta(seconds=rng.randint(0, 300 * 86400))
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _transport(era: str) -> str:
    return "sse" if era == "legacy_sse" else "streamable-http"


def build_mirrors(world: World) -> Mirrors:
    """Decide deterministically which endpoint each source lists, and how."""
    rng = random.Random(f"census-testbed-registries:{world.seed}:{world.mix}")
    m = Mirrors(smithery_key=f"smk-testbed-{world.seed}")
    awesome_rows = []
    for ep in world.endpoints:
        slug = f"{ep.host.split('.')[0]}-{ep.index}"
        name = (
            f"io.github.testbed/{slug}"
            if rng.random() < 0.5
            else (".".join(reversed(ep.host.split(".")[-2:])) + f"/{slug}")
        )
        # Secret-bearing endpoints are listed with their credential (query or userinfo), as
        # real registries sometimes do; the census must redact it before storing anything.
        url = listed_url(ep)
        remote = {"type": _transport(ep.profile.era), "url": url}
        if (ep.platform and ep.host.startswith("server.smithery.ai")) or rng.random() < 0.08:
            m.smithery.append(
                {
                    "qualifiedName": slug,
                    "displayName": slug,
                    "remote": True,
                    "deploymentUrl": url,
                    "useCount": rng.randint(0, 5000),
                    "verified": rng.random() < 0.3,
                }
            )
        if rng.random() < 0.7 or ep.profile.behaviour == "invalid_url" or ep.profile.secret:
            versions = rng.choice([1, 1, 1, 2, 3])
            status = rng.choices(["active", "deprecated", "deleted"], [90, 6, 4])[0]
            if ep.profile.secret:
                status = "active"  # every planted secret reaches discovery
            for v in range(versions):
                latest = v == versions - 1
                remotes = [remote]
                if not latest and rng.random() < 0.3:
                    remotes = [{"type": "sse", "url": ep.url.rsplit("/", 1)[0] + "/sse-old"}]
                server: dict[str, Any] = {
                    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/"
                    "server.schema.json",
                    "name": name,
                    "description": f"Testbed server {slug}",
                    "version": f"1.{v}.0",
                    "remotes": remotes,
                }
                if rng.random() < 0.02:
                    server["remotes"] = [
                        *remotes,
                        {"type": "streamable-http", "url": "http://localhost:3000/mcp"},
                    ]
                if rng.random() < 0.02:
                    server["remotes"] = [
                        *remotes,
                        {
                            "type": "streamable-http",
                            "url": "https://{tenant}.testbed-saas.example/mcp",
                            "variables": {
                                "tenant": {"description": "Your tenant", "isRequired": True}
                            },
                        },
                    ]
                meta = {
                    "status": status if latest else "active",
                    "publishedAt": _ts(rng),
                    "updatedAt": _ts(rng),
                    "isLatest": latest,
                }
                m.official.append(
                    {"server": server, "_meta": {"io.modelcontextprotocol.registry/official": meta}}
                )
                if latest and status == "active" and rng.random() < 0.15:
                    m.github.append(
                        {
                            "server": server,
                            "_meta": {"io.modelcontextprotocol.registry/official": meta},
                        }
                    )
        if rng.random() < 0.05:
            dname = slug.lower()
            m.docker[dname] = {
                "name": dname,
                "type": "remote",
                "meta": {"category": "testbed", "tags": ["remote"]},
                "about": {"title": slug, "description": f"Testbed server {slug}"},
                "remote": {"transport_type": _transport(ep.profile.era), "url": url},
            }
        if rng.random() < 0.05:
            auth = {"none": "Open"}.get(
                ep.profile.auth, "OAuth2.1" if ep.profile.auth.startswith("oauth") else "API Key"
            )
            awesome_rows.append(f"| {slug} | Testbed | `{url}` | {auth} | testbed |")
    m.official.sort(key=lambda item: (item["server"]["name"], item["server"]["version"]))
    m.awesome = (
        "# Awesome Remote MCP Servers (census testbed mirror)\n\n"
        "| Name | Category | URL | Authentication | Maintainer |\n"
        "|------|----------|-----|----------------|------------|\n" + "\n".join(awesome_rows) + "\n"
    )
    return m


def write_docker(mirrors: Mirrors, directory: Path) -> None:
    for name, doc in mirrors.docker.items():
        folder = directory / "servers" / name
        folder.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(doc, Dumper=_DUMPER, sort_keys=False)
        (folder / "server.yaml").write_text(text, "utf-8")


def _cursor(offset: int, prefix: str = "") -> str:
    return prefix + base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(cursor: str | None, prefix: str = "") -> int | None:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor.removeprefix(prefix).encode()).decode()
        return int(raw.removeprefix("o:"))
    except (ValueError, UnicodeDecodeError):
        return None


def _limit(request: web.Request) -> int | None:
    try:
        limit = int(request.query.get("limit", "30"))
    except ValueError:
        return None
    return limit if 1 <= limit <= 100 else None


def _meta(item: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = item["_meta"]["io.modelcontextprotocol.registry/official"]
    return meta


def mirror_app(m: Mirrors) -> web.Application:
    """The aiohttp app serving every API mirror under its own prefix."""

    async def official_list(request: web.Request) -> web.Response:
        limit, offset = _limit(request), _offset(request.query.get("cursor"))
        if limit is None or offset is None:
            return web.json_response({"title": "Bad Request", "status": 400}, status=400)
        items = m.official
        since = request.query.get("updated_since")
        include_deleted = request.query.get("include_deleted") == "true" or since is not None
        if since:
            items = [i for i in items if _meta(i)["updatedAt"] > since]
        if not include_deleted:
            items = [i for i in items if _meta(i)["status"] != "deleted"]
        version = request.query.get("version")
        if version == "latest":
            items = [i for i in items if _meta(i)["isLatest"]]
        elif version:
            items = [i for i in items if i["server"]["version"] == version]
        chunk = items[offset : offset + limit]
        meta: dict[str, Any] = {"count": len(chunk)}
        if offset + limit < len(items):
            meta["nextCursor"] = _cursor(offset + limit)
        return web.json_response({"servers": chunk, "metadata": meta})

    async def official_versions(request: web.Request) -> web.Response:
        name = unquote(request.match_info["name"])
        rows = [i for i in m.official if i["server"]["name"] == name]
        if not rows:
            return web.json_response({"title": "Not Found", "status": 404}, status=404)
        wanted = request.match_info.get("version")
        if wanted is None:
            return web.json_response({"servers": rows[::-1], "metadata": {"count": len(rows)}})
        for row in rows:
            if (wanted == "latest" and _meta(row)["isLatest"]) or row["server"][
                "version"
            ] == wanted:
                return web.json_response(row)
        return web.json_response({"title": "Not Found", "status": 404}, status=404)

    async def github_list(request: web.Request) -> web.Response:
        limit = min(_limit(request) or 30, 100)
        offset = _offset(request.query.get("cursor"), "mcp.cursor.")
        if offset is None:
            return web.json_response({"message": "Invalid cursor parameter"}, status=400)
        chunk = m.github[offset : offset + limit]
        meta: dict[str, Any] = {"count": len(chunk)}
        if offset + limit < len(m.github):
            meta["nextCursor"] = _cursor(offset + limit, "mcp.cursor.")
        return web.json_response({"servers": chunk, "metadata": meta})

    async def awesome(_request: web.Request) -> web.Response:
        return web.Response(text=m.awesome, content_type="text/markdown")

    def _authorized(request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {m.smithery_key}"

    async def smithery_list(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        try:
            page = max(1, int(request.query.get("page", "1")))
            size = min(100, max(1, int(request.query.get("pageSize", "10"))))
        except ValueError:
            return web.json_response({"error": "Bad Request"}, status=400)
        rows = m.smithery[(page - 1) * size : page * size]
        summaries = [{k: v for k, v in r.items() if k != "deploymentUrl"} for r in rows]
        total_pages = max(1, -(-len(m.smithery) // size))
        return web.json_response(
            {
                "servers": summaries,
                "pagination": {
                    "currentPage": page,
                    "pageSize": size,
                    "totalPages": total_pages,
                    "totalCount": len(m.smithery),
                },
            }
        )

    async def smithery_detail(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        name = unquote(request.match_info["name"])
        for row in m.smithery:
            if row["qualifiedName"] == name:
                detail = {
                    **row,
                    "connections": [
                        {"type": "http", "deploymentUrl": row["deploymentUrl"], "configSchema": {}}
                    ],
                }
                return web.json_response(detail)
        return web.json_response({"error": "Not Found"}, status=404)

    app = web.Application()
    app.router.add_get("/official/v0.1/servers", official_list)
    app.router.add_get("/official/v0.1/servers/{name:.+}/versions", official_versions)
    app.router.add_get("/official/v0.1/servers/{name:.+}/versions/{version}", official_versions)
    app.router.add_get("/github/v0.1/servers", github_list)
    app.router.add_get("/awesome/README.md", awesome)
    app.router.add_get("/smithery/servers", smithery_list)
    app.router.add_get("/smithery/servers/{name}", smithery_detail)
    return app


def registries_json(base: str, docker_dir: Path, m: Mirrors) -> dict[str, str]:
    return {
        "official": f"{base}/official",
        "github": f"{base}/github",
        "docker": str(docker_dir),
        "awesome": f"{base}/awesome/README.md",
        "smithery": f"{base}/smithery",
        "smithery_key": m.smithery_key,
    }


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True)
