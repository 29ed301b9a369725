"""census.classify: pure functions Evidence -> Observation, re-runnable over stored evidence.

Each column family has its own module (protocol, status, auth, exposure, inventory,
transport_security, findings); :func:`classify` combines them and stamps
:data:`census.METHODOLOGY_VERSION`.  No I/O happens here.
"""

from __future__ import annotations

from census.classify.observe import classify, observation_row

__all__ = ["classify", "observation_row"]
