"""GET /openapi.json: the OpenAPI 3.1 description of the consumer API and the OAuth endpoints
(and, added by `gateway.admin`, the admin API). Written by hand, as data: the document is a
contract with consumers, so it changes only when we mean it to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway import __version__
from gateway.ferpa import STUDENT_ID
from gateway.pesc import DEFAULT_TRANSCRIPT_VERSION, TRANSCRIPT_VERSIONS

PathsHook = Callable[[], dict[str, Any]]

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_OAUTH_ERROR = {"$ref": "#/components/schemas/OAuthError"}


def _problem(description: str, example: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": _PROBLEM}
    if example:
        content["example"] = example
    return {"description": description, "content": {"application/problem+json": content}}


def _resource_metadata_path(operation_id: str) -> dict[str, Any]:
    return {
        "get": {
            "tags": ["OAuth 2.0"],
            "operationId": operation_id,
            "security": [],  # public (Redocly security-defined)
            "summary": "Protected resource metadata (RFC 9728): `resource` is the `aud` of"
            " every access token",
            "responses": {
                "200": {
                    "description": "Metadata: resource, authorization_servers, jwks_uri,"
                    " scopes_supported, bearer_methods_supported.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }


def _oauth_error(description: str, error: str, example_description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": _OAUTH_ERROR,
                "example": {"error": error, "error_description": example_description},
            }
        },
    }


# RFC 6749 §5.2 form of a 503 (the argon2 queue is full, a store is down); Retry-After says
# when to come back.
_OAUTH_UNAVAILABLE = {
    **_oauth_error(
        "temporarily_unavailable: too many client authentications at once, or a data store"
        " is down; see Retry-After.",
        "temporarily_unavailable",
        "Too many sign-in checks at once; try again shortly.",
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
}

_CLIENT_AUTH_FORM = {
    "type": "object",
    "properties": {
        "client_id": {"type": "string", "description": "With client_secret_post only."},
        "client_secret": {"type": "string", "description": "With client_secret_post only."},
    },
}

_TRANSCRIPT_PARAMS = [
    {
        "name": "lea",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9A-Z]{3,10}$"},
        "description": "The district's LEA code; must be the district of the access token.",
        "example": "920",
    },
    {
        "name": "student_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": STUDENT_ID.pattern},
        "description": "The state student identifier (NC: the 10-digit UID).",
        "example": "1234567890",
    },
    {
        "name": "birth_date",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "Optional identity check; a mismatch is the same 404 as an unknown student.",
    },
    {
        "name": "last_name",
        "in": "query",
        "schema": {"type": "string", "maxLength": 100},
        "description": "Optional identity check, case- and accent-insensitive.",
    },
    {
        "name": "pesc_version",
        "in": "query",
        "schema": {
            "type": "string",
            "enum": list(TRANSCRIPT_VERSIONS),
            "default": DEFAULT_TRANSCRIPT_VERSION,
        },
        "description": "PESC High School Transcript version of the XML answer.",
    },
    {
        "name": "recipient",
        "in": "query",
        "schema": {"type": "string", "maxLength": 200},
        "description": "Who receives the transcript (default: the consumer). Recorded in the disclosure log.",
    },
    {
        "name": "purpose",
        "in": "query",
        "schema": {
            "type": "string",
            "maxLength": 200,
            "default": "Enrollment at another institution",
        },
    },
    {
        "name": "legal_basis",
        "in": "query",
        "schema": {"type": "string", "enum": ["99.31(a)(2)", "99.30"], "default": "99.31(a)(2)"},
        "description": "FERPA basis of the disclosure: enrollment elsewhere, or written consent.",
    },
    {
        "name": "request_tracking_id",
        "in": "query",
        "schema": {"type": "string", "maxLength": 35},
        "description": "Echoed as TransmissionData/RequestTrackingID and recorded.",
    },
]


def _client_form(
    required: list[str], properties: dict[str, Any], example: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A form body of the OAuth endpoints: their own fields beside client_secret_post's."""
    media: dict[str, Any] = {
        "schema": {
            "allOf": [
                _CLIENT_AUTH_FORM,
                {"type": "object", "required": required, "properties": properties},
            ]
        }
    }
    if example is not None:
        media["example"] = example
    return {"required": True, "content": {"application/x-www-form-urlencoded": media}}


def document(issuer: str, extra_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a gateway whose public address is `issuer`."""
    paths: dict[str, Any] = {
        "/oauth2/token": {
            "post": {
                "tags": ["OAuth 2.0"],
                "operationId": "issueToken",
                "summary": "Exchange client credentials for an access token (RFC 6749 §4.4)",
                "security": [{"clientBasic": []}, {}],
                "requestBody": _client_form(
                    ["grant_type"],
                    {
                        "grant_type": {
                            "type": "string",
                            "const": "client_credentials",
                        },
                        "scope": {"type": "string", "example": "etranscripts"},
                    },
                    example={"grant_type": "client_credentials"},
                ),
                "responses": {
                    "200": {
                        "description": "An RFC 9068 JWT access token (ES256, typ at+jwt).",
                        "headers": {
                            "Cache-Control": {"schema": {"type": "string", "const": "no-store"}}
                        },
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/TokenResponse"},
                                "example": {
                                    "access_token": "eyJhbGciOiJFUzI1NiIs...",
                                    "token_type": "Bearer",
                                    "expires_in": 900,
                                    "scope": "etranscripts",
                                },
                            }
                        },
                    },
                    "400": _oauth_error(
                        "invalid_request, unsupported_grant_type, invalid_scope or unauthorized_client "
                        "(the credential's district is suspended).",
                        "unsupported_grant_type",
                        "Only client_credentials is supported.",
                    ),
                    "401": _oauth_error(
                        "invalid_client: unknown client, wrong secret, revoked or expired "
                        "credential, or a lockout after repeated failures. Carries WWW-Authenticate: Basic.",
                        "invalid_client",
                        "Client authentication failed.",
                    ),
                    "413": _oauth_error(
                        "The form is larger than 16 KiB.",
                        "invalid_request",
                        "The request body is larger than 16 KiB.",
                    ),
                    "503": _OAUTH_UNAVAILABLE,
                    "429": _oauth_error(
                        "Too many token requests from this client; see Retry-After."
                        " `slow_down` is the token endpoint's code for it (RFC 8628 §3.5).",
                        "slow_down",
                        "Too many token requests; retry later.",
                    ),
                },
            }
        },
        "/oauth2/revoke": {
            "post": {
                "tags": ["OAuth 2.0"],
                "operationId": "revokeToken",
                "summary": "Revoke one of your own access tokens (RFC 7009)",
                "security": [{"clientBasic": []}, {}],
                "requestBody": _client_form(
                    ["token"],
                    {
                        "token": {"type": "string", "minLength": 1},
                        "token_type_hint": {"type": "string"},
                    },
                ),
                "responses": {
                    "200": {"description": "Revoked (or not a token: RFC 7009 §2.2)."},
                    "400": _oauth_error(
                        "Not your token, or no token.",
                        "unauthorized_client",
                        "The token was not issued to this client.",
                    ),
                    "401": _oauth_error(
                        "Client authentication failed.",
                        "invalid_client",
                        "Client authentication failed.",
                    ),
                    "503": _OAUTH_UNAVAILABLE,
                },
            }
        },
        "/oauth2/introspect": {
            "post": {
                "tags": ["OAuth 2.0"],
                "operationId": "introspectToken",
                "summary": "Is this token active? (RFC 7662; your own tokens only)",
                "security": [{"clientBasic": []}, {}],
                "requestBody": _client_form(
                    ["token"], {"token": {"type": "string", "minLength": 1}}
                ),
                "responses": {
                    "200": {
                        "description": "Introspection result.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Introspection"},
                                "examples": {
                                    "active": {
                                        "value": {
                                            "active": True,
                                            "client_id": "cfnc-920-3fa2c1d0",
                                            "scope": "etranscripts",
                                            "district": "920",
                                            "exp": 1767225600,
                                        }
                                    },
                                    "inactive": {"value": {"active": False}},
                                },
                            }
                        },
                    },
                    "401": _oauth_error(
                        "Client authentication failed.",
                        "invalid_client",
                        "Client authentication failed.",
                    ),
                    "503": _OAUTH_UNAVAILABLE,
                },
            }
        },
        "/.well-known/oauth-authorization-server": {
            "get": {
                "tags": ["OAuth 2.0"],
                "operationId": "getAuthorizationServerMetadata",
                "summary": "Authorization server metadata (RFC 8414)",
                "security": [],  # public (Redocly security-defined)
                "responses": {
                    "200": {
                        "description": "Metadata.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/.well-known/oauth-protected-resource": _resource_metadata_path(
            "getProtectedResourceMetadata"
        ),
        # RFC 9728 §3.1: the metadata of the resource `{issuer}/api`, at its own well-known path.
        "/.well-known/oauth-protected-resource/api": _resource_metadata_path(
            "getApiProtectedResourceMetadata"
        ),
        "/.well-known/jwks.json": {
            "get": {
                "tags": ["OAuth 2.0"],
                "operationId": "getJwks",
                "summary": "Public keys that verify access tokens (kept during rotation)",
                "security": [],  # public (Redocly security-defined)
                "responses": {
                    "200": {
                        "description": "A JWK Set.",
                        "content": {
                            "application/jwk-set+json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "keys": {"type": "array", "items": {"type": "object"}}
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
        "/api/v1/districts/{lea}/etranscripts/{student_id}": {
            "get": {
                "tags": ["eTranscripts"],
                "operationId": "getTranscript",
                "summary": "A student's transcript (PESC High School Transcript, or JSON)",
                "description": "Answers from the district's own data store. The disclosure is recorded "
                "(34 CFR 99.32) in the same transaction as the read; no record, no transcript. "
                "`Repr-Digest` carries the SHA-256 that the disclosure log holds.",
                "security": [{"bearer": ["etranscripts"]}],
                "parameters": _TRANSCRIPT_PARAMS,
                "responses": {
                    "200": {
                        "description": "The transcript.",
                        "headers": {
                            "X-Document-ID": {"schema": {"type": "string"}},
                            "Repr-Digest": {"schema": {"type": "string"}},
                        },
                        "content": {
                            "application/xml": {
                                "schema": {"type": "string"},
                                "example": '<hst:HighSchoolTranscript xmlns:hst="urn:org:pesc:message:HighSchoolTranscript:v1.3.0">...</hst:HighSchoolTranscript>',
                            },
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Transcript"}
                            },
                        },
                    },
                    "400": _problem("A parameter is malformed."),
                    "401": _problem(
                        "No, or an invalid, access token (RFC 6750).",
                        {
                            "type": f"{issuer}/problems/invalid-token",
                            "title": "Invalid access token",
                            "status": 401,
                            "detail": "The access token is not valid: token expired.",
                        },
                    ),
                    "403": _problem(
                        "The token's district is not this district, or the district is suspended."
                    ),
                    "404": _problem(
                        "No such student in this district (or the identity check failed).",
                        {
                            "type": f"{issuer}/problems/not-found",
                            "title": "Not found",
                            "status": 404,
                            "detail": "No transcript is available for this student.",
                        },
                    ),
                    "406": _problem("Accept allows neither application/xml nor application/json."),
                    "409": _problem(
                        "A hold stops the release; the request is recorded.",
                        {
                            "type": f"{issuer}/problems/transcript-on-hold",
                            "title": "Transcript on hold",
                            "status": 409,
                            "detail": "The district holds this transcript (Financial hold).",
                            "hold_types": ["Financial"],
                        },
                    ),
                },
            }
        },
        "/api/v1/districts/{lea}/etranscripts": {
            "post": {
                "tags": ["eTranscripts"],
                "operationId": "answerTranscriptRequest",
                "summary": "Answer a PESC TranscriptRequest 1.4.0",
                "description": "Matches the requested student (state id, school id, or birth date and names), "
                "honours ReleaseAuthorizedIndicator, and answers with the transcript, or with a "
                "TranscriptResponse 1.4.0 whose status is NoRecord, MultipleMatch, Hold or Canceled "
                "(release not authorized). DTDs and entities are refused; at most 1 MiB.",
                "security": [{"bearer": ["etranscripts"]}],
                "parameters": [_TRANSCRIPT_PARAMS[0], _TRANSCRIPT_PARAMS[4]],
                "requestBody": {
                    "required": True,
                    "content": {"application/xml": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": {
                        "description": "A HighSchoolTranscript, or a TranscriptResponse.",
                        "content": {"application/xml": {"schema": {"type": "string"}}},
                    },
                    "400": _problem("Not well-formed XML, a DOCTYPE, or not a TranscriptRequest."),
                    "401": _problem("No, or an invalid, access token."),
                    "403": _problem("Wrong district for this token, or district suspended."),
                    "413": _problem("Larger than the configured bound."),
                    "415": _problem("Not application/xml."),
                    "422": _problem(
                        "Invalid against the TranscriptRequest 1.4.0 schema; names line and element."
                    ),
                },
            }
        },
        "/healthz": {
            "get": {
                "tags": ["Operations"],
                "operationId": "getHealth",
                "summary": "The process is up",
                "security": [],  # public (Redocly security-defined)
                "responses": {"200": {"description": "OK"}},
            }
        },
        "/readyz": {
            "get": {
                "tags": ["Operations"],
                "operationId": "getReadiness",
                "summary": "Every data store answers",
                "security": [],  # public (Redocly security-defined)
                "responses": {"200": {"description": "Ready"}, "503": {"description": "Not ready"}},
            }
        },
        "/problems/{slug}": {
            "get": {
                "tags": ["Operations"],
                "operationId": "getProblemType",
                "summary": "What a problem `type` URI means",
                "security": [],  # public (Redocly security-defined)
                "description": "Every problem document's `type` is this URL (RFC 9457 §3.1.1).",
                "parameters": [
                    {
                        "name": "slug",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                        "example": "not-found",
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The type's title and status.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["type", "title", "status", "description"],
                                    "properties": {
                                        "type": {"type": "string", "format": "uri"},
                                        "title": {"type": "string"},
                                        "status": {"type": "integer"},
                                        "description": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "404": _problem("No such problem type."),
                },
            }
        },
    }
    paths.update(extra_paths or {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "eTranscript gateway",
            "version": __version__,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            "description": "The state-operated eTranscript gateway. A consumer (such as CFNC) holds one "
            "client credential per district; it exchanges it for an access token at "
            "/oauth2/token and fetches that district's students' transcripts. Access tokens "
            f"are ES256 JWTs (RFC 9068) whose audience (`aud`) is `{issuer}/api`, as published "
            "in the protected resource metadata at /.well-known/oauth-protected-resource "
            "(RFC 9728); verify them with the keys at /.well-known/jwks.json.",
        },
        "servers": [{"url": issuer}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "clientBasic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "client_secret_basic: client id and secret (RFC 6749 §2.3.1).",
                },
                "bearer": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": f"{issuer}/oauth2/token",
                            "scopes": {
                                "etranscripts": "Read the credential's district's transcripts",
                                "admin": "Operate the gateway (operator credentials only)",
                            },
                        }
                    },
                },
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "description": "RFC 9457 problem details",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string", "format": "uri"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                    },
                    "additionalProperties": True,
                },
                "OAuthError": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "string",
                            "enum": [
                                "invalid_request",
                                "invalid_client",
                                "invalid_grant",
                                "unauthorized_client",
                                "unsupported_grant_type",
                                "invalid_scope",
                                "slow_down",
                                "temporarily_unavailable",
                                "server_error",
                            ],
                        },
                        "error_description": {"type": "string"},
                    },
                },
                "TokenResponse": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"type": "string", "const": "Bearer"},
                        "expires_in": {"type": "integer"},
                        "scope": {"type": "string"},
                    },
                },
                "Introspection": {
                    "type": "object",
                    "required": ["active"],
                    "properties": {
                        "active": {"type": "boolean"},
                        "client_id": {"type": "string"},
                        "scope": {"type": "string"},
                        "district": {"type": "string"},
                        "exp": {"type": "integer"},
                        "iat": {"type": "integer"},
                        "sub": {"type": "string"},
                        "aud": {"type": "string"},
                        "iss": {"type": "string"},
                        "jti": {"type": "string"},
                        "token_type": {"type": "string"},
                    },
                },
                "Transcript": {
                    "type": "object",
                    "description": "See gateway/pesc/transcript_json.py for every field.",
                    "required": ["format", "document", "district", "student", "academic_records"],
                    "properties": {
                        "format": {"type": "string", "const": "etranscript-gateway/transcript/v1"},
                        "document": {"type": "object"},
                        "district": {"type": "object"},
                        "student": {"type": "object"},
                        "graduation": {"type": ["object", "null"]},
                        "gpa": {"type": ["object", "null"]},
                        "academic_records": {"type": "array", "items": {"type": "object"}},
                        "tests": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }


def routes(issuer: str, extra: list[PathsHook]) -> list[Route]:
    async def openapi(_: Request) -> Response:
        more: dict[str, Any] = {}
        for hook in extra:
            more.update(hook())
        return JSONResponse(
            document(issuer, more), headers={"Cache-Control": "public, max-age=300"}
        )

    return [Route("/openapi.json", openapi, methods=["GET"])]
