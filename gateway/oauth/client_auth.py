"""Client authentication at the token, revocation and introspection endpoints.

`client_secret_basic` (RFC 6749 §2.3.1: id and secret form-urlencoded, then HTTP Basic) and
`client_secret_post` (both in the form body). Using both at once is an error (§2.3).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote_plus

from gateway.audit import Actor, AuditBuffer, AuditEvent
from gateway.crypto.client_secrets import ARGON2ID, StoredSecret, dummy_argon2id, verify_any
from gateway.input_guard import fields_storable
from gateway.lockout import Lockout
from gateway.metrics import AUTH_FAILURES
from gateway.oauth.cache import CachedCredential, CredentialCache
from gateway.oauth.errors import InvalidClient, InvalidRequest
from gateway.offload import Offload
from gateway.storable import is_storable

FORM_TYPE = "application/x-www-form-urlencoded"
# A real argon2id hash of a random secret nobody knows, with the parameters of imported ones.
_DUMMY = StoredSecret(ARGON2ID, dummy_argon2id(), None)


@dataclass(frozen=True)
class ClientAttempt:
    client_id: str
    secret: str
    method: str  # client_secret_basic or client_secret_post


def parse_form(content_type: str | None, body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; a repeated parameter is an error (§3.2)."""
    if not body:
        return {}
    if (content_type or "").split(";")[0].strip().lower() != FORM_TYPE:
        raise InvalidRequest(f"Send the request body as {FORM_TYPE}.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("The request body is not valid form data.") from exc
    if not fields_storable(pairs):
        raise InvalidRequest("Remove the NUL character from the form.")
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequest(f"Parameter {name!r} is repeated.")
        form[name] = value
    return form


def extract(authorization: str | None, form: dict[str, str]) -> ClientAttempt:
    """Which client claims to be calling, and with what secret."""
    in_body = "client_secret" in form
    if authorization is not None:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            raise InvalidClient("Use HTTP Basic or client_secret_post.")
        if in_body:
            raise InvalidRequest("Use one client authentication method, not two.")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidClient("Malformed Basic credentials.") from exc
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise InvalidClient("Malformed Basic credentials.")
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        if not (is_storable(client_id) and is_storable(secret)):
            raise InvalidRequest("Remove the NUL character from the Basic credentials.")
        if form.get("client_id", client_id) != client_id:
            raise InvalidRequest("client_id in the body differs from the authenticated client.")
        return ClientAttempt(client_id, secret, "client_secret_basic")
    if in_body:
        if not form.get("client_id"):
            raise InvalidRequest("client_id is required with client_secret.")
        return ClientAttempt(form["client_id"], form["client_secret"], "client_secret_post")
    raise InvalidClient("Client authentication is required.")


class ClientAuthenticator:
    """Checks a ClientAttempt against the cached credentials, with lockout and audit.

    A wrong secret costs one argon2id verification whatever the client id: an unknown id or a
    generated (SHA-256) credential is also checked against a dummy argon2id hash, so that the
    time to refuse says nothing about which client ids exist or how their secrets are stored.
    Slow verifications go through `Offload` (threads, bounded); the correct secret of a
    generated credential stays fast.
    """

    def __init__(
        self,
        cache: CredentialCache,
        lockout: Lockout,
        audit: AuditBuffer,
        slow_hashes: Offload,
    ) -> None:
        self._cache = cache
        self._lockout = lockout
        self._audit = audit
        self._slow = slow_hashes

    async def _matches(
        self, attempt: ClientAttempt, credential: CachedCredential | None, now: datetime
    ) -> bool:
        secrets = credential.secrets if credential is not None else ()
        if any(s.hash_kind == ARGON2ID for s in secrets):
            return await self._slow.run(verify_any, attempt.secret, secrets, now)
        if verify_any(attempt.secret, secrets, now):
            return True
        await self._slow.run(verify_any, attempt.secret, (_DUMMY,), now)  # same work as argon2
        return False

    async def authenticate(
        self, attempt: ClientAttempt, actor: Actor, action: str
    ) -> CachedCredential:
        """The credential, or InvalidClient. Every outcome is audited; never the secret."""
        address = actor.source_addr or "unknown"
        async with self._lockout.turn(address):
            return await self._authenticate(attempt, actor, action, address)

    async def _authenticate(
        self, attempt: ClientAttempt, actor: Actor, action: str, address: str
    ) -> CachedCredential:
        now = datetime.now(UTC)
        credential = await self._cache.lookup(attempt.client_id)
        district_id = credential.district_id if credential else None

        def fail(reason: str, outcome: str = "failure") -> InvalidClient:
            AUTH_FAILURES.labels(reason).inc()
            self._audit.add(
                AuditEvent(
                    actor,
                    action,
                    outcome,
                    district_id,
                    attempt.client_id,
                    {"reason": reason, "method": attempt.method},
                )
            )
            return InvalidClient()

        if self._lockout.locked_for(attempt.client_id, address, now):
            raise fail("locked", "denied")
        matched = await self._matches(attempt, credential, now)
        if not matched and credential is not None:
            # The cache may trail a rotation by a few milliseconds: read this one credential
            # again before calling the secret wrong (the failure path writes anyway), and
            # check once more only if its secrets changed.
            await self._cache.refresh_client(attempt.client_id)
            fresh = self._cache.get(attempt.client_id)
            if fresh is not None and fresh.secrets != credential.secrets:
                matched = await self._matches(attempt, fresh, now)
            credential = fresh
        if not matched:
            await self._lockout.failure(attempt.client_id, address)
            raise fail("unknown_client" if credential is None else "bad_secret")
        if credential is None:  # matched a secret, then vanished: revoked meanwhile
            raise fail("revoked", "denied")
        if not credential.usable(now):
            reason = (
                "revoked"
                if credential.status != "active"
                else ("consumer_disabled" if not credential.consumer_active else "expired")
            )
            raise fail(reason, "denied")
        await self._lockout.success(attempt.client_id, address)
        return credential
