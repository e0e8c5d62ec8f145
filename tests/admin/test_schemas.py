"""The pure checks behind every admin API body and query string (no server, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.admin.schemas import (
    Field,
    _matches,
    fields_named,
    integer,
    json_schema,
    parse_body,
    parse_moment,
    parse_optional_body,
    parse_query,
    query_parameters,
    renamed,
    string,
)
from gateway.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

SPEC = {
    "name": string(10, required=True),
    "port": integer(1, 65535, required=True),
    "kind": Field("string", enum=("lea", "charter"), default="lea"),
    "note": string(20, nullable=True),
    "flag": Field("boolean", default=False),
}
JSON = "application/json"


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def errors_of(call: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        call()  # type: ignore[operator]
    return caught.value.errors


def test_a_valid_body_gets_its_defaults() -> None:
    parsed = parse_body(JSON, body({"name": "Wake", "port": 443}), SPEC)
    assert parsed == {"name": "Wake", "port": 443, "kind": "lea", "note": None, "flag": False}


def test_charset_parameter_is_fine_but_other_media_types_are_415() -> None:
    assert parse_body("application/json; charset=utf-8", body({"name": "a", "port": 1}), SPEC)
    for media in ("application/x-www-form-urlencoded", "text/plain", None):
        with pytest.raises(UnsupportedMediaType):
            parse_body(media, body({"name": "a", "port": 1}), SPEC)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe{}",
        b"[1, 2]",
        b'"a string"',
        b'{"name": "a", "name": "b", "port": 1}',
        b'{"name": "a", "port": NaN}',
    ],
)
def test_anything_but_one_json_object_with_unique_members_is_400(raw: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_body(JSON, raw, SPEC)
    assert not isinstance(caught.value, ValidationFailed)


def test_an_oversized_body_is_413() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_body(JSON, body({"name": "x" * 70_000}), SPEC)


def test_every_field_problem_is_reported_at_once() -> None:
    errors = errors_of(
        lambda: parse_body(
            JSON,
            body({"name": "x" * 11, "port": "443", "kind": "state", "extra": 1, "flag": 1}),
            SPEC,
        )
    )
    assert errors == {
        "extra": "Unknown field",
        "name": "At most 10 characters",
        "port": "Must be an integer",
        "kind": "One of: lea, charter",
        "flag": "Must be true or false",
    }


def test_required_fields_null_and_ranges() -> None:
    assert errors_of(lambda: parse_body(JSON, body({}), SPEC)) == {
        "name": "Required",
        "port": "Required",
    }
    errors = errors_of(lambda: parse_body(JSON, body({"name": None, "port": 0}), SPEC))
    assert errors == {"name": "Must not be null", "port": "An integer from 1 to 65535"}
    # JSON true is not the integer 1, even though Python's bool is an int.
    assert errors_of(lambda: parse_body(JSON, body({"name": "a", "port": True}), SPEC)) == {
        "port": "Must be an integer"
    }
    assert parse_body(JSON, body({"name": "a", "port": 1, "note": None}), SPEC)["note"] is None


def test_an_empty_required_string_is_refused_as_its_minlength_says() -> None:
    assert errors_of(lambda: parse_body(JSON, body({"name": "", "port": 1}), SPEC)) == {
        "name": "Must not be empty"
    }
    longer = {"code": string(10, required=True, min_length=3)}
    assert errors_of(lambda: parse_body(JSON, body({"code": "ab"}), longer)) == {
        "code": "At least 3 characters"
    }
    # An optional string may be empty: only "required" implies minLength 1.
    assert parse_body(JSON, body({"name": "a", "port": 1, "note": ""}), SPEC)["note"] == ""


def test_an_optional_body_may_be_left_out_but_not_be_wrong() -> None:
    spec = {"overlap": integer(0, 10, default=5)}
    assert parse_optional_body(None, b"", spec) == {"overlap": 5}
    assert parse_optional_body(JSON, body({"overlap": 0}), spec) == {"overlap": 0}
    assert errors_of(lambda: parse_optional_body(JSON, body({"x": 1}), {})) == {
        "x": "Unknown field"
    }


def test_query_strings_convert_integers_and_refuse_unknown_or_repeated_names() -> None:
    spec = {"q": string(5), "limit": integer(1, 100, default=20)}
    assert parse_query({}, spec) == {"q": None, "limit": 20}
    assert parse_query({"q": [""], "limit": ["7"]}, spec) == {"q": None, "limit": 7}
    errors = errors_of(lambda: parse_query({"qq": ["a"], "limit": ["ten"], "q": ["a", "b"]}, spec))
    assert errors == {
        "qq": "Unknown parameter",
        "q": "Give this parameter once",
        "limit": "Must be an integer",
    }
    assert errors_of(lambda: parse_query({"limit": ["1000"]}, spec)) == {
        "limit": "An integer from 1 to 100"
    }


def test_moments_are_utc_unless_they_say_otherwise() -> None:
    assert parse_moment("2027-06-30") == datetime(2027, 6, 30, tzinfo=UTC)
    # "Through that day": an expiry or an `until` date includes the whole day.
    assert parse_moment("2027-06-30", end_of_day=True) == datetime(2027, 7, 1, tzinfo=UTC)
    assert parse_moment("2027-06-30T12:00:00") == datetime(2027, 6, 30, 12, tzinfo=UTC)
    eastern = parse_moment("2027-06-30T12:00:00-04:00")
    assert eastern.utcoffset() == timedelta(hours=-4)
    assert eastern == datetime(2027, 6, 30, 16, tzinfo=UTC)
    with pytest.raises(ValueError, match="Invalid"):
        parse_moment("30/06/2027")


def test_repository_errors_are_renamed_to_the_apis_field_names() -> None:
    assert renamed({"lea": "bad", "name": "bad too"}, {"lea": "lea_code"}) == {
        "lea_code": "bad",
        "name": "bad too",
    }
    with pytest.raises(ValidationFailed) as caught, fields_named({"expires": "expires_at"}):
        raise ValidationFailed({"expires": "in the past"})
    assert caught.value.errors == {"expires_at": "in the past"}


def test_the_documented_schema_is_the_enforced_spec() -> None:
    schema = json_schema(
        {**SPEC, "secret": string(50, write_only=True), "port": integer(1, 9, required=True)}
    )
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "port"]
    # A required string documents (and enforces, below) that it may not be empty.
    assert schema["properties"]["name"] == {"type": "string", "minLength": 1, "maxLength": 10}
    assert schema["properties"]["port"] == {"type": "integer", "minimum": 1, "maximum": 9}
    assert schema["properties"]["note"]["type"] == ["string", "null"]
    assert schema["properties"]["kind"] == {
        "type": "string",
        "enum": ["lea", "charter"],
        "default": "lea",
    }
    assert schema["properties"]["secret"]["writeOnly"] is True
    [param] = query_parameters({"q": string(5, description="Search")})
    assert param == {
        "name": "q",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "maxLength": 5, "description": "Search"},
        "description": "Search",
    }


def test_a_pattern_is_documented_and_enforced_with_its_own_words() -> None:
    spec = {
        "code": string(10, required=True, pattern=r"^\s*[0-9A-Z]{3}\s*$", pattern_problem="3 caps")
    }
    assert json_schema(spec)["properties"]["code"]["pattern"] == r"^\s*[0-9A-Z]{3}\s*$"
    assert parse_body(JSON, body({"code": " 92F "}), spec) == {"code": " 92F "}
    assert errors_of(lambda: parse_body(JSON, body({"code": "9-2"}), spec)) == {"code": "3 caps"}
    # As JSON Schema reads `$` (the end of the text), not as Python's re (also before a final
    # newline): a value a client's validator refuses, the server refuses too.
    strict = {"code": string(10, required=True, pattern="^[A-Z]{3}$")}
    assert errors_of(lambda: parse_body(JSON, body({"code": "ABC\n"}), strict)) == {
        "code": "Not in the expected form"
    }


@pytest.mark.parametrize(
    ("spec", "field", "typed", "normalised_ok"),
    [
        ("districts", "lea_code", [" 92f ", "920", "ABCDEFGHIJ"], ["92", "9-2", "ABCDEFGHIJK"]),
        (
            "users",
            "email",
            [" Registrar@WCPSS.net "],
            ["registrar", "a@b@c", "a b@c", "¢@v\x87", "a@v"],
        ),
        (
            "outgoing",
            "auth_server",
            ["https://auth.vendor.example", " HTTPS://a.example:8443/ ", "https://[::1]:8080"],
            ["ftp://a.example", "https://a.example/path", "https://user@a.example", "https:a"],
        ),
        (
            "outgoing",
            "upload_path",
            ["send-library-api/v1/pesc", "/v1/transcripts", "/"],
            ["/a b", "/é", "   "],
        ),
    ],
)
def test_the_documented_patterns_accept_what_the_repository_accepts(
    spec: str, field: str, typed: list[str], normalised_ok: list[str]
) -> None:
    """Each pattern against the repository's own check, on values it accepts and refuses."""
    from gateway.admin import districts, outgoing, users
    from gateway.control import districts as d
    from gateway.control import users as u
    from gateway.control import vendors as v

    specs = {"districts": districts.ADD, "users": users.ADD, "outgoing": outgoing.ADD}
    pattern = specs[spec][field].pattern
    assert pattern is not None
    repository = {
        "districts": lambda x: d.LEA_CODE.match(x.strip().upper()) is not None,
        "users": lambda x: u.ADDRESS.match(x.strip().lower()) is not None,
        "outgoing": (
            (lambda x: v._check_server(field, x.strip().rstrip("/"), True) is None)
            if field.endswith("server")
            else (lambda x: bool(x.strip()) and v._PATH.match(v.normalise_path(x)) is not None)
        ),
    }[spec]
    for value in typed:
        assert repository(value) and _matches(pattern, value), value
    for value in normalised_ok:
        assert not repository(value) and not _matches(pattern, value), value
