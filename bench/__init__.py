"""Benchmarks: run by hand, results in RESULTS.md."""
