"""census.classify."""
