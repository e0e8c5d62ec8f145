"""What the admin API accepts: field specs, and the pure checks that apply them.

One spec per body or query string serves twice: `parse_body`/`parse_query` enforce it, and
`json_schema`/`query_parameters` describe it in /openapi.json, so the document cannot drift
from what the server accepts. Nothing here does I/O; the repositories in `gateway.control`
still check meaning (an LEA code's shape, a URL's scheme) and may raise ValidationFailed too.

Bodies are strict: `application/json` only, one JSON object, no unknown or duplicate members,
JSON types checked (an integer is not a numeric string; `true` is not an integer). Every
problem is reported at once, keyed by the field's name, as a 422 (`ValidationFailed`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from gateway.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from gateway.input_guard import UnstorableText, json_storable

FieldType = Literal["string", "integer", "boolean"]
Spec = Mapping[str, "Field"]

BODY_LIMIT = 64 * 1024  # bytes; the largest body (an outgoing connection) is well under 8 KiB
MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class Field:
    """One member of a body, or one query parameter."""

    type: FieldType
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()
    nullable: bool = False
    default: Any = None
    format: str | None = None  # documentation only (date-time, email, ...)
    # A regular expression the whole value must match, as JSON Schema reads `pattern` (ECMA
    # 262: searched, so anchor it with ^ and $), and what to say when it does not. It states
    # the shape the repository checks (after its own stripping), so that a client, or a
    # generator of test data, knows it before it sends.
    pattern: str | None = None
    pattern_problem: str = "Not in the expected form"
    write_only: bool = False  # a secret: accepted, never returned
    description: str = ""
    example: Any = None


def string(max_length: int = 200, **options: Any) -> Field:
    """A string member; a required one must not be empty (minLength 1), unless it says
    otherwise, since "required" that accepts "" would document nothing."""
    if options.get("required") and "min_length" not in options:
        options["min_length"] = 1
    return Field("string", max_length=max_length, **options)


def integer(minimum: int, maximum: int, **options: Any) -> Field:
    return Field("integer", minimum=minimum, maximum=maximum, **options)


# --- checking values -----------------------------------------------------------------------


def _type_problem(field: Field, value: Any) -> str | None:
    if field.type == "string" and not isinstance(value, str):
        return "Must be a string"
    # bool is a subclass of int in Python; JSON keeps them apart, and so do we.
    if field.type == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return "Must be an integer"
    if field.type == "boolean" and not isinstance(value, bool):
        return "Must be true or false"
    return None


def _range_problem(field: Field, value: Any) -> str | None:
    if field.min_length is not None and isinstance(value, str) and len(value) < field.min_length:
        return (
            "Must not be empty"
            if field.min_length == 1
            else f"At least {field.min_length} characters"
        )
    if field.max_length is not None and isinstance(value, str) and len(value) > field.max_length:
        return f"At most {field.max_length} characters"
    if field.enum and value not in field.enum:
        return "One of: " + ", ".join(field.enum)
    if field.pattern is not None and isinstance(value, str) and not _matches(field.pattern, value):
        return field.pattern_problem
    low, high = field.minimum, field.maximum
    if isinstance(value, int) and low is not None and high is not None and not low <= value <= high:
        return f"An integer from {low} to {high}"
    return None


def _matches(pattern: str, value: str) -> bool:
    """`pattern` found in `value` as ECMA 262 finds it: there `$` is the end of the text,
    where Python's also matches before a final newline."""
    found = re.search(pattern, value)
    return found is not None and (not pattern.endswith("$") or found.end() == len(value))


def value_problem(field: Field, value: Any) -> str | None:
    """Why `value` does not fit `field`, or None when it does."""
    if value is None:
        return None if field.nullable else "Must not be null"
    return _type_problem(field, value) or _range_problem(field, value)


def check_object(data: Any, spec: Spec) -> dict[str, Any]:
    """The members of `data` checked against `spec`, with defaults filled in."""
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    errors = {name: "Unknown field" for name in data if name not in spec}
    clean: dict[str, Any] = {}
    for name, field in spec.items():
        if name not in data:
            if field.required:
                errors[name] = "Required"
            clean[name] = field.default
            continue
        problem = value_problem(field, data[name])
        if problem:
            errors[name] = problem
        clean[name] = data[name]
    if errors:
        raise ValidationFailed(errors)
    return clean


# --- bodies -------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 §4 leaves duplicate names undefined; two parsers may pick different values.
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise BadRequest("The JSON body repeats a member name.")
    return dict(pairs)


def _no_constants(name: str) -> Any:
    raise BadRequest(f"{name} is not JSON.")


def decode_json(content_type: str | None, raw: bytes) -> Any:
    """The parsed body; 415 for another media type, 400 for anything that is not JSON."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != MEDIA_TYPE:
        raise UnsupportedMediaType("Send the body as application/json.")
    if len(raw) > BODY_LIMIT:
        raise PayloadTooLarge(f"The body is larger than {BODY_LIMIT // 1024} KiB.")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest("The body is not valid UTF-8 JSON.") from None
    if not json_storable(value):
        raise UnstorableText("Remove the NUL or unpaired surrogate character from the body.")
    return value


def parse_body(content_type: str | None, raw: bytes, spec: Spec) -> dict[str, Any]:
    return check_object(decode_json(content_type, raw), spec)


def parse_optional_body(content_type: str | None, raw: bytes, spec: Spec) -> dict[str, Any]:
    """For actions whose body may be left out (suspend, rotate with the default overlap)."""
    if not raw.strip():
        return check_object({}, spec)
    return parse_body(content_type, raw, spec)


# --- query strings ------------------------------------------------------------------------


def _query_value(field: Field, text: str) -> Any:
    if field.type == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if field.type != "integer":
        return text
    try:
        return int(text)
    except ValueError:
        return text  # value_problem then says "Must be an integer"


def parse_query(params: Mapping[str, list[str]], spec: Spec) -> dict[str, Any]:
    """Query parameters by name (each a list, as a query string may repeat one). An empty
    value counts as absent, so that scripts can always send every parameter."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for name, values in params.items():
        present = [v for v in values if v != ""]
        if name not in spec:
            errors[name] = "Unknown parameter"
        elif len(present) > 1:
            errors[name] = "Give this parameter once"
        elif present:
            data[name] = _query_value(spec[name], present[0])
    try:
        clean = check_object(data, spec)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return clean


# --- dates --------------------------------------------------------------------------------


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date-time (UTC when no offset is given) or a bare date: the start of that
    day, or with `end_of_day` the start of the next, so that a date means "through that day".
    Raises ValueError."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        day += timedelta(days=1) if end_of_day else timedelta(0)
        return datetime.combine(day, time(0), tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def moment_field(
    clean: dict[str, Any], name: str, errors: dict[str, str], *, end_of_day: bool = False
) -> datetime | None:
    """Parse `clean[name]` in place as a moment; a problem goes into `errors`."""
    text = clean.get(name)
    if text is None:
        return None
    try:
        return parse_moment(text, end_of_day=end_of_day)
    except ValueError:
        errors[name] = "An ISO 8601 date (YYYY-MM-DD) or date-time"
        return None


# --- errors from the repositories -----------------------------------------------------------


def renamed(errors: Mapping[str, str], names: Mapping[str, str]) -> dict[str, str]:
    """Repository error keys as the API's field names (the CLI says `--expires`, we say
    `expires_at`)."""
    return {names.get(key, key): message for key, message in errors.items()}


@contextmanager
def fields_named(names: Mapping[str, str]) -> Iterator[None]:
    try:
        yield
    except ValidationFailed as exc:
        raise ValidationFailed(renamed(exc.errors, names), exc.detail) from None


# --- documentation --------------------------------------------------------------------------

_SCHEMA_KEYS: tuple[tuple[str, Callable[[Field], Any]], ...] = (
    ("minLength", lambda f: f.min_length),
    ("maxLength", lambda f: f.max_length),
    ("minimum", lambda f: f.minimum),
    ("maximum", lambda f: f.maximum),
    ("format", lambda f: f.format),
    ("pattern", lambda f: f.pattern),
    ("default", lambda f: f.default),
    ("description", lambda f: f.description or None),
    ("examples", lambda f: None if f.example is None else [f.example]),
)


def field_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [field.type, "null"] if field.nullable else field.type}
    if field.enum:
        schema["enum"] = [*field.enum, *([None] if field.nullable else [])]
    for key, read in _SCHEMA_KEYS:
        value = read(field)
        if value is not None:
            schema[key] = value
    if field.write_only:
        schema["writeOnly"] = True
    return schema


def json_schema(spec: Spec) -> dict[str, Any]:
    """The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a body spec."""
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: field_schema(field) for name, field in spec.items()},
    }
    required = [name for name, field in spec.items() if field.required]
    if required:
        schema["required"] = required
    return schema


def query_parameters(spec: Spec) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": field.required,
            "schema": field_schema(field),
            **({"description": field.description} if field.description else {}),
        }
        for name, field in spec.items()
    ]
