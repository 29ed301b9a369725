"""census.findings: security findings as pure functions (no I/O, no clock, no environment).

* :mod:`poisoning` — tool-definition rules (hidden instructions, invisible Unicode, ANSI escapes,
  encoded blobs, cross-tool shadowing, exfiltration hints, oversized definitions), each a finding
  code with a severity and a documented rationale: :func:`scan_tools`, :func:`tool_findings_codes`.
* :mod:`rugpull` — run-to-run changes of one endpoint: :func:`diff_tools` (rug pulls),
  :func:`diff_observations` (rug pull, server identity change, protocol/auth/TLS downgrades).
* :mod:`checklist` — the seed article's checklist per endpoint: :func:`checklist`.
* :mod:`tier` — maintenance tier 1/2/3/X from registry metadata and the impersonation finding:
  :func:`maintenance_tier`, :func:`impersonation`, :func:`server_meta_from_registry`.
* :mod:`merge` — findings only the crawl knows (a secret redacted by discovery):
  :func:`with_endpoint_findings`.
* :mod:`text` — evidence snippets with secrets redacted and controls escaped.
"""

from census.findings.checklist import (
    CHECKLIST_COLUMNS,
    CHECKS,
    Check,
    Checklist,
    CheckSummary,
    CheckValue,
    checklist,
    compliance,
)
from census.findings.merge import with_endpoint_findings
from census.findings.poisoning import (
    RULES,
    Rule,
    Severity,
    ToolFinding,
    scan_tool,
    scan_tools,
    tool_findings_codes,
)
from census.findings.rugpull import (
    ChangeKind,
    EndpointChange,
    ToolChange,
    ToolDiff,
    definition_hash,
    diff_codes,
    diff_observations,
    diff_tools,
    tool_set_hash,
)
from census.findings.text import redact_secrets, visible
from census.findings.tier import (
    TIER_COLUMNS,
    Impersonation,
    NamespaceKind,
    ServerMeta,
    Tier,
    TierResult,
    impersonation,
    maintenance_tier,
    server_meta_from_registry,
)

__all__ = [
    "CHECKLIST_COLUMNS",
    "CHECKS",
    "RULES",
    "TIER_COLUMNS",
    "ChangeKind",
    "Check",
    "CheckSummary",
    "CheckValue",
    "Checklist",
    "EndpointChange",
    "Impersonation",
    "NamespaceKind",
    "Rule",
    "ServerMeta",
    "Severity",
    "Tier",
    "TierResult",
    "ToolChange",
    "ToolDiff",
    "ToolFinding",
    "checklist",
    "compliance",
    "definition_hash",
    "diff_codes",
    "diff_observations",
    "diff_tools",
    "impersonation",
    "maintenance_tier",
    "redact_secrets",
    "scan_tool",
    "scan_tools",
    "server_meta_from_registry",
    "tool_findings_codes",
    "tool_set_hash",
    "visible",
    "with_endpoint_findings",
]
