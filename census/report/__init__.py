"""census.report."""
