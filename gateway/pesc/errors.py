"""Errors raised for PESC documents that a client sends, under the gateway's one tree.

    gateway.errors.BadRequest
    ├── MalformedDocument           not XML, not well-formed, a DOCTYPE, the wrong root   400
    └── ValidationFailed
        └── InvalidDocument         well-formed but breaks the schema or a required part  422
    gateway.errors.PayloadTooLarge
    └── DocumentTooLarge            over the size bound the caller gave                   413

Every message names what is wrong and, where the parser knows it, the line and the element,
so that a sending institution can fix its document from the problem detail alone.
"""

from __future__ import annotations

from gateway.errors import BadRequest, PayloadTooLarge, ValidationFailed


class MalformedDocument(BadRequest):
    """The body is not a PESC document this gateway will read (not XML, DOCTYPE, wrong root)."""


class InvalidDocument(ValidationFailed):
    """A well-formed document that breaks its schema; `errors` maps "line N" to a message."""

    def __init__(self, errors: dict[str, str], detail: str) -> None:
        super().__init__(errors, detail)


class DocumentTooLarge(PayloadTooLarge):
    """A document over the size bound, refused before any parsing."""
