"""Text that PostgreSQL can store.

PostgreSQL `text` cannot hold U+0000, and neither its UTF-8 encoding nor `jsonb` takes a lone
surrogate (U+D800-U+DFFF, which JSON's `\\ud800` escapes and Python strings can carry). The
edge refuses such input (`gateway.input_guard`); what we write ourselves from other sources
(the audit log) is made storable instead, with U+FFFD in place of each such character.
"""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def is_storable(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


def storable(value: str, limit: int | None = None) -> str:
    """`value` with unstorable characters replaced, cut to `limit` characters if given."""
    cleaned = _UNSTORABLE.sub(REPLACEMENT, value)
    return cleaned if limit is None or len(cleaned) <= limit else cleaned[:limit] + "…"


def storable_json(value: Any, limit: int | None = None) -> Any:
    """A JSON-ready value with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value, limit)
    if isinstance(value, dict):
        return {storable(str(k), limit): storable_json(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v, limit) for v in value]
    return value
