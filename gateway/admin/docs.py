"""Building blocks for the admin API's part of /openapi.json.

Each resource module documents its own routes with these (`paths()` beside `routes()`), request
bodies straight from the specs that validate them. The pieces refer to the `Problem` schema and
the `bearer` security scheme (scope `admin`) of the document in `gateway.api.openapi`.
"""

from __future__ import annotations

from typing import Any

from gateway.admin.schemas import Spec, json_schema, query_parameters

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
# Examples only: a running gateway bases every problem `type` on its own GATEWAY_BASE_URL.
PROBLEM_TYPES = "https://etranscripts.example.gov/problems"
_VALIDATION_PROBLEM = {
    "allOf": [
        _PROBLEM,
        {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "object",
                    "description": "Field (or query parameter) name → what is wrong with it.",
                    "additionalProperties": {"type": "string"},
                }
            },
        },
    ]
}
_NO_STORE_HEADER = {
    "Cache-Control": {
        "description": "The answer carries a one-time secret.",
        "schema": {"type": "string", "const": "no-store"},
    }
}


def _problem_example(status: int, slug: str, title: str, detail: str, **extra: Any) -> Any:
    return {
        "type": f"{PROBLEM_TYPES}/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


def problem(
    description: str, example: dict[str, Any] | None = None, schema: Any = _PROBLEM
) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/problem+json": content}}


def not_found(what: str) -> dict[str, Any]:
    return problem(
        f"No such {what}.", _problem_example(404, "not-found", "Not found", f"no {what} 999")
    )


def conflict(description: str, detail: str) -> dict[str, Any]:
    return problem(description, _problem_example(409, "conflict", "Conflict", detail))


def invalid(errors: dict[str, str]) -> dict[str, Any]:
    example = _problem_example(
        422, "validation-failed", "Validation failed", "Some fields are invalid.", errors=errors
    )
    return problem(
        "Fields or query parameters that are missing, unknown, of the wrong JSON type or out of "
        "range; `errors` names each one.",
        example,
        _VALIDATION_PROBLEM,
    )


_COMMON = {
    "401": problem(
        "No, or an invalid, access token (RFC 6750): get one at /oauth2/token with an operator "
        "credential.",
        _problem_example(
            401,
            "missing-token",
            "Access token required",
            "Send an access token: Authorization: Bearer <token>.",
        ),
    ),
    "403": problem(
        "The token does not carry the `admin` scope of an operator credential.",
        _problem_example(
            403, "insufficient-scope", "Insufficient scope", "This route needs the 'admin' scope."
        ),
    ),
}
_BODY_ERRORS = {
    "400": problem("The body is not a JSON object, or repeats a member."),
    "413": problem("The body is larger than 64 KiB."),
    "415": problem("The body is not application/json."),
}


def ok(
    description: str, schema: dict[str, Any], example: Any, *, secret: bool = False
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema, "example": example}},
    }
    if secret:
        answer["headers"] = dict(_NO_STORE_HEADER)
    return answer


def created(
    description: str, schema: dict[str, Any], example: Any, *, secret: bool = False
) -> dict[str, Any]:
    answer = ok(description, schema, example, secret=secret)
    location = {"description": "The new resource.", "schema": {"type": "string"}}
    answer["headers"] = {**answer.get("headers", {}), "Location": location}
    return answer


def operation(
    operation_id: str,
    tag: str,
    summary: str,
    responses: dict[str, Any],
    *,
    description: str = "",
    query: Spec | None = None,
    body: tuple[Spec, Any] | None = None,
    body_optional: bool = False,
) -> dict[str, Any]:
    """One operation; every one needs an operator token, so 401 and 403 are always listed."""
    op: dict[str, Any] = {
        "tags": [tag],
        "operationId": operation_id,
        "summary": summary,
        "security": [{"bearer": ["admin"]}],
        "responses": {**responses, **_COMMON},
    }
    if description:
        op["description"] = description
    if query:
        op["parameters"] = query_parameters(query)
    if body is not None:
        spec, example = body
        content = {"application/json": {"schema": json_schema(spec), "example": example}}
        op["requestBody"] = {"required": not body_optional, "content": content}
        op["responses"] = {**_BODY_ERRORS, **op["responses"]}
    return op


def path_param(name: str, description: str, example: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
        "example": example,
    }
