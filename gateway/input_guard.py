"""Characters PostgreSQL cannot store are refused at the edge, once, for every text input.

A NUL (U+0000) in any text that reaches SQL made Postgres refuse the statement: a 500 for the
caller, and (in the audit buffer) a poisoned batch (issue 12). The rule is checked once per
request, before any handler runs, for the decoded path, every query parameter and every header;
and by the three body parsers (`gateway.oauth.client_auth.parse_form`, `gateway.web.pages.form`,
`gateway.admin.schemas.decode_json`) for form fields and JSON strings. A refusal is a 400:
`invalid_request` (RFC 6749 §5.2) on the OAuth endpoints, a problem document elsewhere.
Lone surrogates cannot arrive through the path, query or forms (they are decoded as UTF-8 with
replacement); JSON's `\\ud800` escapes can, and are refused too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from gateway.errors import BadRequest, ProblemError
from gateway.storable import is_storable

OAUTH_PREFIX = "/oauth2/"


class UnstorableText(BadRequest):
    slug = "unstorable-text"
    title = "Unsupported characters"


def refusal(scope: Scope, where: str) -> ProblemError:
    """The 400 for an unstorable character in `where` (e.g. "the path")."""
    detail = f"Remove the NUL or unpaired surrogate character from {where}."
    if str(scope.get("path", "")).startswith(OAUTH_PREFIX):
        from gateway.oauth.errors import InvalidRequest

        return InvalidRequest(detail)
    return UnstorableText(detail)


def _where(scope: Scope) -> str | None:
    """Which part of the request head carries an unstorable character, if any."""
    if not is_storable(scope.get("path", "")):
        return "the path"
    query = scope.get("query_string", b"")
    if query:
        # Decoded as Starlette's QueryParams decodes it.
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if not (is_storable(name) and is_storable(value)):
                return "the query string"
    for _, value in scope.get("headers", ()):
        if b"\x00" in value:
            return "a header"
    return None


def check_head(scope: Scope) -> ProblemError | None:
    """The refusal for this request's path, query and headers, or None if they are storable."""
    where = _where(scope)
    return refusal(scope, where) if where else None


def fields_storable(pairs: Iterable[tuple[str, Any]]) -> bool:
    """Whether every name and every text value of a parsed form is storable."""
    return all(
        is_storable(name) and (not isinstance(value, str) or is_storable(value))
        for name, value in pairs
    )


def json_storable(value: Any) -> bool:
    """Whether every string (member names too) of a parsed JSON value is storable."""
    if isinstance(value, str):
        return is_storable(value)
    if isinstance(value, dict):
        return all(is_storable(k) and json_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(json_storable(v) for v in value)
    return True
