"""`python -m bench.render`: how long one four-year transcript takes to render, per PESC version.

The hot path's budget is under a millisecond (a transcript is rendered on every request that
returns one). A timing depends on the machine and its load, so it is measured here and read by
a person, never asserted by the test suite.

    python -m bench.render              # median of 200 renders per version, in milliseconds
    python -m bench.render --runs 1000 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime

from gateway.pesc import TRANSCRIPT_VERSIONS, Party, render_transcript
from tests.pesc.factories import RecordFactory

BUDGET_MS = 1.0


def measure(runs: int) -> dict[str, float]:
    """Median milliseconds of `runs` renders of a 32-course graduate, per version."""
    record = RecordFactory(seed=1).four_year_student()
    medians = {}
    for version in TRANSCRIPT_VERSIONS:
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            render_transcript(
                record,
                version=version,
                document_id="GW-2025-000001",
                created_at=datetime(2025, 6, 1, tzinfo=UTC),
                destination=Party(name="CFNC"),
                request_tracking_id="REQ-42",
            )
            timings.append(time.perf_counter() - started)
        medians[version] = statistics.median(timings) * 1000
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="renders per version (200)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    medians = measure(max(1, args.runs))
    if args.json:
        print(json.dumps({"budget_ms": BUDGET_MS, "median_ms": medians}))
    else:
        for version, median in medians.items():
            print(f"HighSchoolTranscript {version}: median {median:.3f} ms (budget {BUDGET_MS} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
