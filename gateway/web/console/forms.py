"""A console form shown again after a refused submission, with what was typed kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Refused:
    """A form shown again after a refused submission: a message for each refused field, what
    was typed (so nothing is lost), and the status: 422 invalid, 409 a clash."""

    errors: dict[str, str]
    entered: dict[str, str]
    status: int = 422


def form_state(refused: Refused | None, defaults: dict[str, str] | None = None) -> dict[str, Any]:
    """The template's `status`, `errors` and `values`: a first showing, or a refused one."""
    if refused is None:
        return {"status": 200, "errors": {}, "values": defaults or {}}
    return {"status": refused.status, "errors": refused.errors, "values": refused.entered}
