"""census: a research-grade census of public Model Context Protocol (MCP) endpoints."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("census")
except PackageNotFoundError:  # running from a source tree without metadata
    __version__ = "0.0.0"

#: Stamped on every observation; bump when what the prober sends or a classification rule
#: changes meaning (2026.11.2: discover and initialize sent in turn, not raced).
METHODOLOGY_VERSION = "2026.11.2"

__all__ = ["METHODOLOGY_VERSION", "__version__"]
