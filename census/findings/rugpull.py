"""Run-to-run changes of one endpoint: tool rug pulls, server identity changes, downgrades.

A **rug pull** is a tool, listed under the same name in both runs, whose definition hash changed:
SHA-256 of the canonical JSON of ``{name, description, inputSchema}`` (sorted keys, compact,
NFC text).  Only those three fields count (the issue's definition); changes of annotations,
title or output schema are reported as ``metadata_changed`` without a finding, and added,
removed or renamed tools are reported as such (a new tool is scanned by the poisoning rules on
its own).  Each change is classified: description changed, schema changed, schema *widened* (a
new property, a relaxed ``required``, ``additionalProperties`` opened: the sidenote-parameter
trick), poisoning introduced (a finding code absent before).

Endpoint changes compare two observations of the same URL and only when both runs established
the value (an outage is never a verdict): ``server_identity_changed`` (``serverInfo.name``
differs), ``protocol_downgrade`` (the newest era or protocol revision went back),
``auth_downgrade`` (weaker class: oauth > oauth_partial > bearer/api_key/other_auth > none),
``tls_downgrade`` (valid > invalid > none).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from census.findings.poisoning import tool_findings_codes
from census.findings.text import MAX_CANONICAL, visible
from census.records import Observation, ToolDefinition
from census.vocabulary import AuthClass, Era, Finding, Status, Tls

__all__ = [
    "ChangeKind",
    "EndpointChange",
    "ToolChange",
    "ToolDiff",
    "definition_hash",
    "diff_codes",
    "diff_observations",
    "diff_tools",
    "tool_set_hash",
]


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    DESCRIPTION_CHANGED = "description_changed"
    SCHEMA_CHANGED = "schema_changed"
    SCHEMA_WIDENED = "schema_widened"
    METADATA_CHANGED = "metadata_changed"
    POISONING_INTRODUCED = "poisoning_introduced"


#: Kinds that make a change a rug pull.
RUG_PULL_KINDS = frozenset(
    {ChangeKind.DESCRIPTION_CHANGED, ChangeKind.SCHEMA_CHANGED, ChangeKind.SCHEMA_WIDENED}
)


@dataclass(frozen=True, slots=True)
class ToolChange:
    """How one tool differs between two runs (``tool`` shown safely, see ``text.visible``).

    ``before``/``after`` are definition hashes (``None`` when absent in that run);
    ``introduced`` lists poisoning finding codes the new definition has and the old had not.
    """

    tool: str
    kinds: tuple[ChangeKind, ...]
    before: str | None
    after: str | None
    introduced: tuple[str, ...] = ()
    renamed_from: str | None = None

    @property
    def rug_pull(self) -> bool:
        return any(kind in RUG_PULL_KINDS for kind in self.kinds)


@dataclass(frozen=True, slots=True)
class ToolDiff:
    """Every tool change of one endpoint between two runs, sorted by tool name."""

    changes: tuple[ToolChange, ...] = ()

    @property
    def rug_pull(self) -> bool:
        return any(change.rug_pull for change in self.changes)

    @property
    def rug_pulled_tools(self) -> tuple[str, ...]:
        return tuple(c.tool for c in self.changes if c.rug_pull)


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """One finding about an endpoint between two runs: ``field`` went from ``before`` to
    ``after`` (values as exported; ``rug_pull`` carries the changed tool names)."""

    code: Finding
    field: str
    before: str | None
    after: str | None


def _parsed(tool: ToolDefinition) -> dict[str, Any]:
    if len(tool.canonical_json) <= MAX_CANONICAL:
        try:
            data = json.loads(tool.canonical_json)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return data
    return {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(str(k)): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def _hash(value: Any) -> str:
    try:
        text = json.dumps(_nfc(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (RecursionError, ValueError):
        # Nesting deeper than the interpreter allows: hash the Python representation instead,
        # still deterministic for equal values (a hostile schema must not crash a diff).
        text = repr(value)[:MAX_CANONICAL]
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def definition_hash(tool: ToolDefinition) -> str:
    """SHA-256 of ``{name, description, inputSchema}`` in canonical JSON: the rug-pull identity.

    A missing description and ``null`` hash alike, as do key order and Unicode normal form.
    """
    return _hash(
        {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}
    )


def _content_hash(tool: ToolDefinition) -> str:
    # Without the name: finds a tool that was only renamed.
    return _hash({"description": tool.description, "inputSchema": tool.input_schema})


def _metadata(tool: ToolDefinition) -> dict[str, Any]:
    return {
        k: v for k, v in _parsed(tool).items() if k not in ("name", "description", "inputSchema")
    }


def tool_set_hash(tools: Sequence[ToolDefinition]) -> str:
    """One hash for a server's whole tool list (sorted definition hashes): equal lists, equal
    hash, whatever the listing order."""
    return _hash(sorted(definition_hash(t) for t in tools))


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _schema_widened(before: Any, after: Any) -> bool:
    """A new top-level property, a relaxed ``required`` or ``additionalProperties`` opened."""
    old, new = _object(before), _object(after)
    added = set(_object(new.get("properties"))) - set(_object(old.get("properties")))
    relaxed = _names(old.get("required")) - _names(new.get("required"))
    opened = (
        old.get("additionalProperties") is False and new.get("additionalProperties") is not False
    )
    return bool(added or relaxed or opened)


def _compare(name: str, old: ToolDefinition, new: ToolDefinition) -> ToolChange | None:
    kinds: list[ChangeKind] = []
    if (old.description or None) != (new.description or None):
        kinds.append(ChangeKind.DESCRIPTION_CHANGED)
    if _hash(old.input_schema) != _hash(new.input_schema):
        kinds.append(ChangeKind.SCHEMA_CHANGED)
        if _schema_widened(old.input_schema, new.input_schema):
            kinds.append(ChangeKind.SCHEMA_WIDENED)
    if _hash(_metadata(old)) != _hash(_metadata(new)):
        kinds.append(ChangeKind.METADATA_CHANGED)
    introduced: tuple[str, ...] = ()
    if kinds:
        introduced = tuple(
            sorted(set(tool_findings_codes([new])) - set(tool_findings_codes([old])))
        )
        if introduced:
            kinds.append(ChangeKind.POISONING_INTRODUCED)
    if not kinds:
        return None
    return ToolChange(
        visible(name), tuple(kinds), definition_hash(old), definition_hash(new), introduced
    )


def diff_tools(before: Sequence[ToolDefinition], after: Sequence[ToolDefinition]) -> ToolDiff:
    """What changed in a server's tools between two runs (tools identified by name; the first
    of duplicate names wins, as a client would keep one)."""
    old = {t.name: t for t in reversed(before)}
    new = {t.name: t for t in reversed(after)}
    changes: list[ToolChange] = []
    for name in sorted(old.keys() & new.keys()):
        change = _compare(name, old[name], new[name])
        if change is not None:
            changes.append(change)
    removed = {n: old[n] for n in old.keys() - new.keys()}
    added = {n: new[n] for n in new.keys() - old.keys()}
    # A removed and an added tool with identical description and schema: a rename.
    by_content = {_content_hash(t): n for n, t in sorted(removed.items())}
    for name, tool in sorted(added.items()):
        source = by_content.pop(_content_hash(tool), None)
        if source is not None and source in removed:
            del removed[source]
            changes.append(
                ToolChange(
                    visible(name),
                    (ChangeKind.RENAMED,),
                    definition_hash(old[source]),
                    definition_hash(tool),
                    renamed_from=visible(source),
                )
            )
        else:
            changes.append(
                ToolChange(visible(name), (ChangeKind.ADDED,), None, definition_hash(tool))
            )
    for name, tool in sorted(removed.items()):
        changes.append(
            ToolChange(visible(name), (ChangeKind.REMOVED,), definition_hash(tool), None)
        )
    return ToolDiff(tuple(sorted(changes, key=lambda c: c.tool)))


# --- endpoint changes -----------------------------------------------------------------------

_ERA_RANK = {Era.LEGACY_SSE: 1, Era.HANDSHAKE: 2, Era.DUAL: 3, Era.MODERN: 3}
_AUTH_RANK = {
    AuthClass.NONE: 0,
    AuthClass.OTHER_AUTH: 1,
    AuthClass.API_KEY: 1,
    AuthClass.BEARER: 1,
    AuthClass.OAUTH_PARTIAL: 2,
    AuthClass.OAUTH: 3,
}
_TLS_RANK = {Tls.NONE: 0, Tls.INVALID: 1, Tls.VALID: 2}
_MCP = frozenset({Status.HEALTHY, Status.DEGRADED})
_ANSWERED = frozenset({Status.HEALTHY, Status.DEGRADED, Status.AUTH_REQUIRED})


def _revision(version: str | None) -> str | None:
    # Only dated revisions compare; a server's free-form version string never makes a downgrade.
    if version is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
        return version
    return None


def diff_observations(before: Observation, after: Observation) -> tuple[EndpointChange, ...]:
    """The findings between two observations of one endpoint (``before`` from the earlier run).

    Tools are compared only when both runs listed them (``tool_count`` known in both).
    """
    out: list[EndpointChange] = []
    mcp = before.status in _MCP and after.status in _MCP
    if mcp and before.tool_count is not None and after.tool_count is not None:
        diff = diff_tools(before.tools, after.tools)
        if diff.rug_pull:
            tools = ";".join(diff.rug_pulled_tools)
            out.append(EndpointChange(Finding.RUG_PULL, "tools", None, tools))
    if mcp and before.server_name and after.server_name and before.server_name != after.server_name:
        out.append(
            EndpointChange(
                Finding.SERVER_IDENTITY_CHANGED,
                "server_name",
                visible(before.server_name),
                visible(after.server_name),
            )
        )
    if mcp and before.era is not None and after.era is not None:
        if _ERA_RANK[after.era] < _ERA_RANK[before.era]:
            out.append(EndpointChange(Finding.PROTOCOL_DOWNGRADE, "era", before.era, after.era))
        else:
            old_v, new_v = _revision(before.protocol_version), _revision(after.protocol_version)
            if old_v and new_v and new_v < old_v:
                out.append(
                    EndpointChange(Finding.PROTOCOL_DOWNGRADE, "protocol_version", old_v, new_v)
                )
    answered = before.status in _ANSWERED and after.status in _ANSWERED
    old_auth, new_auth = before.auth_class, after.auth_class
    weaker = (
        old_auth is not None
        and new_auth is not None
        and _AUTH_RANK[new_auth] < _AUTH_RANK[old_auth]
    )
    if answered and weaker:
        out.append(EndpointChange(Finding.AUTH_DOWNGRADE, "auth_class", old_auth, new_auth))
    if (
        before.tls is not None
        and after.tls is not None
        and _TLS_RANK[after.tls] < _TLS_RANK[before.tls]
    ):
        out.append(EndpointChange(Finding.TLS_DOWNGRADE, "tls", before.tls, after.tls))
    return tuple(out)


def diff_codes(before: Observation, after: Observation) -> tuple[str, ...]:
    """The distinct finding codes of :func:`diff_observations`, sorted (for the later run's
    ``findings`` column or ``census diff``)."""
    return tuple(sorted({str(c.code) for c in diff_observations(before, after)}))
