"""What the admin API returns, as JSON Schema (2020-12, for /openapi.json), with one example
each. Field lists here match the projections in each resource module; a test compares them.

These are inlined into the paths rather than added to `components.schemas`, which belongs to
the consumer API's document (`gateway.api.openapi`).
"""

from __future__ import annotations

from typing import Any

from gateway.control.vendors import MASK

_TEXT = {"type": "string"}
_OPT_TEXT = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_OPT_TIME = {"type": ["string", "null"], "format": "date-time"}
_BOOL = {"type": "boolean"}
_OPT_BOOL = {"type": ["boolean", "null"]}
_INT = {"type": "integer"}


def obj(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def listing(item: dict[str, Any]) -> dict[str, Any]:
    return obj({"items": {"type": "array", "items": item}})


DISTRICT = obj(
    {
        "lea_code": _TEXT,
        "name": _TEXT,
        "kind": {"type": "string", "enum": ["lea", "charter"]},
        "status": {"type": "string", "enum": ["active", "suspended"]},
        "store": {"type": "string", "description": "The data store holding its records."},
        "created_at": _TIME,
        "updated_at": _TIME,
    }
)
DISTRICT_LISTED = obj({**DISTRICT["properties"], "active_credentials": _INT})
DISTRICT_EXAMPLE = {
    "lea_code": "920",
    "name": "Wake County Schools",
    "kind": "lea",
    "status": "active",
    "store": "main",
    "created_at": "2026-01-05T14:03:11.201934+00:00",
    "updated_at": "2026-01-05T14:03:11.201934+00:00",
}

CONSUMER = obj(
    {
        "name": _TEXT,
        "description": _TEXT,
        "status": {"type": "string", "enum": ["active", "disabled"]},
        "created_at": _TIME,
    }
)
CONSUMER_LISTED = obj({**CONSUMER["properties"], "active_credentials": _INT})
CONSUMER_EXAMPLE = {
    "name": "CFNC",
    "description": "College Foundation of North Carolina",
    "status": "active",
    "created_at": "2026-01-05T14:05:40.000000+00:00",
}

CREDENTIAL = obj(
    {
        "client_id": _TEXT,
        "kind": {"type": "string", "enum": ["consumer", "operator"]},
        "name": {"type": "string", "description": "The label operators recognise."},
        "district": _OPT_TEXT,
        "consumer": _OPT_TEXT,
        "scopes": {"type": "array", "items": _TEXT},
        "status": {"type": "string", "enum": ["active", "revoked", "expired"]},
        "imported": _BOOL,
        "weak_secret": _BOOL,
        "expires_at": _OPT_TIME,
        "created_at": _TIME,
        "created_by": _TEXT,
        "last_used_at": _OPT_TIME,
        "tokens_issued": {"type": ["integer", "null"]},
        "revoked_at": _OPT_TIME,
        "usable_secrets": {
            "type": "integer",
            "description": "Secrets accepted now: 2 during a rotation's overlap.",
        },
        "overlap_ends": _OPT_TIME,
    },
    "A key/secret pair. Never its secret or hash.",
)
CREDENTIAL_EXAMPLE = {
    "client_id": "cfnc-920-3fa2c1d0",
    "kind": "consumer",
    "name": "CFNC production",
    "district": "920",
    "consumer": "CFNC",
    "scopes": ["etranscripts"],
    "status": "active",
    "imported": False,
    "weak_secret": False,
    "expires_at": None,
    "created_at": "2026-01-05T14:07:02.118000+00:00",
    "created_by": "operator:operator-8c1e02aa",
    "last_used_at": "2026-02-01T09:12:44.000000+00:00",
    "tokens_issued": 1841,
    "revoked_at": None,
    "usable_secrets": 1,
    "overlap_ends": None,
}

SHARE = obj(
    {
        "client_id": _TEXT,
        "client_secret": {
            "type": "string",
            "description": "Shown in this answer only; it cannot be recovered later.",
        },
        "token_url": {"type": "string", "format": "uri"},
        "etranscripts_url": {"type": ["string", "null"], "format": "uri"},
        "district": _OPT_TEXT,
        "consumer": _OPT_TEXT,
        "name": _TEXT,
        "expires_at": _OPT_TIME,
    },
    "The Information to Share with the consumer.",
)
SHARE_EXAMPLE = {
    "client_id": "cfnc-920-3fa2c1d0",
    "client_secret": "etgs_pV0dQ4yWb1mN7sKc2XhT9aLr6uEf3gJz8oYiHn5wC0v",
    "token_url": "https://etranscripts.dpi.nc.gov/oauth2/token",
    "etranscripts_url": "https://etranscripts.dpi.nc.gov/api/v1/districts/920/etranscripts",
    "district": "920",
    "consumer": "CFNC",
    "name": "CFNC production",
    "expires_at": None,
}
ROTATED = obj(
    {
        **{k: v for k, v in SHARE["properties"].items() if k != "name"},
        "overlap_seconds": _INT,
    },
    "The new secret, shown once; the previous secrets work for overlap_seconds more.",
)
ROTATED_EXAMPLE = {
    **{k: v for k, v in SHARE_EXAMPLE.items() if k != "name"},
    "overlap_seconds": 86400,
}
IMPORTED = obj(
    {
        "client_id": _TEXT,
        "district": _TEXT,
        "consumer": _TEXT,
        "name": _TEXT,
        "weak_secret": {
            "type": "boolean",
            "description": "Short or repetitive: rotate it soon (the consumer gets a strong one).",
        },
        "token_url": {"type": "string", "format": "uri"},
        "etranscripts_url": {"type": "string", "format": "uri"},
    }
)
IMPORTED_EXAMPLE = {
    "client_id": "cfnc-920-legacy",
    "district": "920",
    "consumer": "CFNC",
    "name": "From the previous gateway",
    "weak_secret": True,
    "token_url": SHARE_EXAMPLE["token_url"],
    "etranscripts_url": SHARE_EXAMPLE["etranscripts_url"],
}

_MASKED = {"type": "string", "const": MASK, "description": "Write-only: always masked."}
OUTGOING = obj(
    {
        "connection_id": {"type": "string", "format": "uuid"},
        "district": _TEXT,
        "name": _TEXT,
        "auth_server": _TEXT,
        "auth_path": _TEXT,
        "auth_url": _TEXT,
        "upload_server": _TEXT,
        "upload_port": _INT,
        "upload_path": _TEXT,
        "upload_url": _TEXT,
        "consumer_key": _TEXT,
        "consumer_secret": _MASKED,
        "username": _TEXT,
        "password": _MASKED,
        "grant_type": {"type": "string", "enum": ["password", "client_credentials"]},
        "last_test_at": _OPT_TIME,
        "last_test_ok": _OPT_BOOL,
        "last_test_message": _OPT_TEXT,
        "created_at": _TIME,
        "updated_at": _TIME,
        "status": {
            "type": "string",
            "enum": ["active", "retired"],
            "description": "retired: kept with its batches and reports; no new batch uses it.",
        },
        "retired_at": _OPT_TIME,
        "batches": {"type": "integer", "description": "Batches released through it."},
        "batch_refusal": {
            "type": ["string", "null"],
            "description": "Why a batch cannot be queued through it now, and how to fix that; "
            "null when it can (its latest test is valid and it was not changed since).",
        },
    },
    "An outgoing vendor connection; its secrets are encrypted at rest and shown masked.",
)
OUTGOING_EXAMPLE = {
    "connection_id": "0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10",
    "district": "920",
    "name": "Parchment",
    "auth_server": "https://auth.vendor.example",
    "auth_path": "/oauth/token",
    "auth_url": "https://auth.vendor.example/oauth/token",
    "upload_server": "https://upload.vendor.example",
    "upload_port": 443,
    "upload_path": "/api/v1/transcripts",
    "upload_url": "https://upload.vendor.example:443/api/v1/transcripts",
    "consumer_key": "gateway-nc",
    "consumer_secret": MASK,
    "username": "ncdpi-920",
    "password": MASK,
    "grant_type": "password",
    "last_test_at": None,
    "last_test_ok": None,
    "last_test_message": None,
    "created_at": "2026-01-06T10:00:00+00:00",
    "updated_at": "2026-01-06T10:00:00+00:00",
    "status": "active",
    "retired_at": None,
    "batches": 0,
    "batch_refusal": "Batches are sent only through a connection whose latest test is valid, "
    "and 'Parchment' cannot be used: it has never been tested. Test it (the Test button on its "
    "page, `gateway vendor test 0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10`, or POST "
    "/admin/api/v1/outgoing/0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10/test), then queue the batch "
    "once the test says “Your connection is valid”.",
}
OUTGOING_INPUT_EXAMPLE = {
    "name": "Parchment",
    "auth_server": "https://auth.vendor.example",
    "auth_path": "/oauth/token",
    "upload_server": "https://upload.vendor.example",
    "upload_port": 443,
    "upload_path": "/api/v1/transcripts",
    "consumer_key": "gateway-nc",
    "consumer_secret": "vendor-issued-secret",
    "username": "ncdpi-920",
    "password": "vendor-account-password",
    "grant_type": "password",
}

USER = obj(
    {
        "email": {"type": "string", "format": "email"},
        "role": {"type": "string", "enum": ["operator", "district"]},
        "district": _OPT_TEXT,
        "status": {"type": "string", "enum": ["active", "disabled"]},
        "has_password": _BOOL,
        "created_at": _TIME,
        "last_login_at": _OPT_TIME,
    }
)
USER_EXAMPLE = {
    "email": "registrar@wcpss.net",
    "role": "district",
    "district": "920",
    "status": "active",
    "has_password": False,
    "created_at": "2026-01-07T08:30:00+00:00",
    "last_login_at": None,
}
_INVITE_URL = {
    "type": "string",
    "format": "uri",
    "description": "One-time set-password link, valid 3 days. Shown in this answer only.",
}
USER_INVITED = obj({**USER["properties"], "invite_url": _INVITE_URL})
USER_INVITED_EXAMPLE = {
    **USER_EXAMPLE,
    "invite_url": "https://etranscripts.dpi.nc.gov/invite/q9XcT2mV7bLk4sNw8eRf1aYh6uJd3gPz0oKi5xCvB2n",
}
INVITE = obj({"email": {"type": "string", "format": "email"}, "invite_url": _INVITE_URL})

AUDIT_EVENT = obj(
    {
        "audit_id": _INT,
        "occurred_at": _TIME,
        "actor_type": {
            "type": "string",
            "enum": ["operator", "cli", "consumer", "district_user", "system", "anonymous"],
        },
        "actor": {"type": "string", "description": "For the admin API: the operator's client id."},
        "action": _TEXT,
        "outcome": {"type": "string", "enum": ["success", "failure", "denied"]},
        "district": _OPT_TEXT,
        "target": _OPT_TEXT,
        "source_addr": _OPT_TEXT,
        "request_id": _OPT_TEXT,
        "detail": {"type": "object", "description": "Never a secret, a token or a student record."},
    }
)
AUDIT_EVENT_EXAMPLE = {
    "audit_id": 90412,
    "occurred_at": "2026-02-01T09:15:02.441000+00:00",
    "actor_type": "operator",
    "actor": "operator-8c1e02aa",
    "action": "credential.issue",
    "outcome": "success",
    "district": "920",
    "target": "cfnc-920-3fa2c1d0",
    "source_addr": "10.20.0.14",
    "request_id": "4c6b0f0e2a7d4d0c9a1f6b1e3d2c5a77",
    "detail": {"consumer": "CFNC", "label": "CFNC production"},
}
AUDIT_PAGE = obj(
    {
        "items": {"type": "array", "items": AUDIT_EVENT},
        "limit": _INT,
        "next_before": {
            "type": ["integer", "null"],
            "description": "The `before` of the next (older) page; null on the last page.",
        },
    }
)
AUDIT_PAGE_EXAMPLE = {
    "items": [AUDIT_EVENT_EXAMPLE],
    "limit": 100,
    "next_before": None,
}
