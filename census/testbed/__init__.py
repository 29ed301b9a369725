"""census.testbed: the simulated MCP internet (virtual endpoints with planted ground truth).

Public API::

    from census.testbed import TestbedSpec, running
    async with running(TestbedSpec(endpoints=2000, seed=1, mix="uniform"), out_dir) as tb:
        ...  # tb.manifest, tb.urls, tb.hosts_file, tb.ca_bundle, tb.registries, tb.request_log,
        ...  # tb.politeness(), tb.row(url), tb.rows(profile), tb.resolve(host)
        ...  # --mix findings: tb.changes, tb.secrets(), tb.set_epoch(2) (rug pulls on)
"""

from census.testbed.expect import MANIFEST_COLUMNS
from census.testbed.politeness import PolitenessReport, politeness_report
from census.testbed.runner import Testbed, TestbedSpec, running
from census.testbed.server import RequestRecord

__all__ = [
    "MANIFEST_COLUMNS",
    "PolitenessReport",
    "RequestRecord",
    "Testbed",
    "TestbedSpec",
    "politeness_report",
    "running",
]
