"""The benchmark harness: `bench/run` measures the gateway against floors of the same run.

Start at `harness.py` (the run, step by step) and `scenarios.py` (what is measured); see
README.md for how to read the figures.
"""
