"""Benchmarks of the pipeline (issue 8): `python -m benchmarks [--quick]` writes `benchmarks/results.md`."""
