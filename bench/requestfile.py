"""Prepared requests, written to a file that `lua/requests.lua` replays round-robin.

A scenario returns a list of `Request`s; the harness writes them here, one per line, with
tab-separated fields:

    METHOD <TAB> PATH <TAB> BODY <TAB> Name: value <TAB> Name: value ...

BODY may be empty. No field may contain a tab or a line break (refused, not escaped: bodies
are small forms or empty, and headers never need either).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Request:
    """One HTTP request as wrk will send it (the Host header is added by wrk)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""

    def line(self) -> str:
        fields = [self.method, self.path, self.body]
        fields += [f"{name}: {value}" for name, value in self.headers.items()]
        for value in fields:
            if any(c in value for c in "\t\r\n"):
                raise ValueError(f"a request field holds a tab or line break: {value[:40]!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"request path must start with '/': {self.path!r}")
        return "\t".join(fields)


def write_requests(path: Path, requests: Sequence[Request]) -> Path:
    """Write `requests` to `path` (one line each); refuses an empty list."""
    if not requests:
        raise ValueError("a scenario must prepare at least one request")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r.line() + "\n" for r in requests), encoding="utf-8")
    return path
