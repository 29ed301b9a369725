"""`python -m census` runs the CLI."""

from census.cli import main

main()
