"""census.net."""
