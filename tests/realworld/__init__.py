"""Real MCP server implementations (PyPI and npm, pinned) as a second test world."""
