"""census.discovery."""
