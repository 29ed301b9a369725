"""census.findings."""
