"""census.probe."""
