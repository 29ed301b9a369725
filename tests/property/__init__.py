"""Property-based tests (Hypothesis) of the hostile-input guarantees (issue 12)."""
