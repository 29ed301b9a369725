"""CLI commands of census.findings (registered by census.cli): ``census findings rules`` and
``census findings scan`` (the offline tool-definition scanner, on a saved ``tools/list`` answer).

The only module of the package that reads files; the rules themselves stay pure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from census.errors import ConfigError
from census.safe_text import json_line, printable

__all__ = ["MAX_FILE_BYTES", "register", "tools_from_json"]

#: Largest tools file read (a server's whole tools/list, all pages).
MAX_FILE_BYTES = 64 * 1024 * 1024

findings_app = typer.Typer(
    name="findings",
    help="Security findings: the tool-poisoning rules and an offline scanner.",
    no_args_is_help=True,
)


def tools_from_json(data: Any) -> list[dict[str, Any]]:
    """The tool objects of a saved answer: a JSON-RPC response (``result.tools``), a result
    (``tools``), or a bare list; anything that is not an object is skipped."""
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]
    if isinstance(data, dict):
        data = data.get("tools", [])
    return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []


@findings_app.command("rules")
def rules_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per rule.")] = False,
) -> None:
    """List the tool-definition rules: code, rule, severity, rationale.

    Example: census findings rules
    """
    from census.findings.poisoning import RULES

    for rule in RULES:
        if as_json:
            row = {"code": str(rule.code), "rule": rule.rule, "severity": str(rule.severity)}
            typer.echo(json.dumps(row | {"rationale": rule.rationale}))
        else:
            typer.echo(f"{rule.code:22} {rule.rule:24} {rule.severity:7} {rule.rationale}")


@findings_app.command("scan")
def scan_command(
    path: Annotated[Path, typer.Argument(help="A saved tools/list answer (JSON).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per finding.")] = False,
) -> None:
    """Scan one server's tool definitions offline and print the findings.

    Example: census findings scan tools.json --json
    """
    from census.classify.inventory import tool_definition
    from census.findings.poisoning import scan_tools

    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise typer.BadParameter(f"larger than {MAX_FILE_BYTES} bytes", param_hint="PATH")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise typer.BadParameter(f"not JSON ({exc})", param_hint="PATH") from exc
    tools = [tool_definition(t) for t in tools_from_json(data)]
    found = scan_tools(tools)
    for f in found:
        row = {
            "code": str(f.code),
            "rule": f.rule,
            "severity": str(f.severity),
            "tool": f.tool,
            "location": f.location,
            "evidence": f.evidence,
        }
        # Tool texts are the server's: escaped so they cannot drive the reader's terminal.
        typer.echo(json_line(row) if as_json else "\t".join(map(printable, row.values())))
    if not as_json:
        typer.echo(f"{len(tools)} tools, {len(found)} findings", err=True)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the top-level app."""
    app.add_typer(findings_app, name="findings")
