"""census.testbed."""
