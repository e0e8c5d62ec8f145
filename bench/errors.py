"""The harness's one exception: a step that could not be done, with a message for the reader."""

from __future__ import annotations


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and what to look at."""
