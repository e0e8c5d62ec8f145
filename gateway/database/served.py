"""The address a running `gateway dev` serves, recorded in its home for the other commands.

`gateway dev --port 18431` binds its socket, then writes `HOME/served.json`; `gateway credential
issue` run against the same home (and without GATEWAY_BASE_URL) reads it back, so the token and
eTranscripts URLs it prints are the ones that answer. The file is rewritten on every start;
in production GATEWAY_BASE_URL is the address and this file is never read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

FILE = "served.json"


def base_url_for(host: str, port: int) -> str:
    """The URL of a socket bound to host:port; a wildcard address is reached on loopback."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def record_base_url(home: Path, base_url: str) -> Path:
    """Write HOME/served.json atomically (readable by this user only, like the rest of HOME)."""
    path = Path(home).expanduser().absolute() / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"base_url": base_url, "pid": os.getpid()}, handle)
        handle.write("\n")
    tmp.replace(path)
    return path


def recorded_base_url(home: Path) -> str | None:
    """The base URL `gateway dev` last recorded in `home`, or None (missing or not a URL)."""
    try:
        data = json.loads((Path(home).expanduser() / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("base_url") if isinstance(data, dict) else None
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value.rstrip("/")
