"""Every secret and token the test run handles, and every log line it produced.

Helpers that issue credentials or fetch tokens call `remember()`. The last test of the run
(tests/zz_last) asserts that none of them ever appeared in a log line.
"""

from __future__ import annotations

import io
import threading

SEEN: set[str] = set()
LOG = io.StringIO()
_LOCK = threading.Lock()


def remember(*values: str | None) -> None:
    for value in values:
        if value:
            SEEN.add(value)


class Tee(io.TextIOBase):
    """A log stream that keeps everything (thread-safe: servers in threads log too)."""

    def write(self, text: str) -> int:
        with _LOCK:
            LOG.write(text)
        return len(text)

    def flush(self) -> None:
        return None


def captured() -> str:
    with _LOCK:
        return LOG.getvalue()
