"""Benchmarks: scripts that print their figures and the conditions of the run (see RESULTS.md)."""
