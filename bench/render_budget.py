"""`python -m bench.render_budget`: the time to render a four-year student's transcript, per
PESC version (median of 200), against the hot path's budget of 1 ms. A timing, so it lives
here and not in the test suite, where a loaded machine would fail it (issue 13, point 8)."""

from __future__ import annotations

import statistics
import sys
import time

from gateway.pesc import TRANSCRIPT_VERSIONS
from tests.pesc.factories import RecordFactory
from tests.pesc.test_hs_transcript import render

BUDGET_SECONDS = 0.001


def main() -> int:
    record = RecordFactory(seed=7).four_year_student()
    worst = 0.0
    for version in TRANSCRIPT_VERSIONS:
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            render(record, version)
            timings.append(time.perf_counter() - started)
        median = statistics.median(timings)
        worst = max(worst, median)
        print(f"PESC {version}: median {median * 1000:.3f} ms (budget {BUDGET_SECONDS * 1000} ms)")
    return 0 if worst < BUDGET_SECONDS * 5 else 1


if __name__ == "__main__":
    sys.exit(main())
