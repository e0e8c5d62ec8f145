"""What went wrong talking to a vendor, as plain data: a kind, a sentence, retry or not.

Pure functions only: an exception raised by httpx, or a status code and body, in; a
`Failure` out. The client raises `VendorFailure(failure)`; the probe shows the reason; the
worker's retry policy reads `retryable`.

Kinds (`Failure.kind`), and the reason the console shows for each:

    dns           DNS          the host name does not resolve
    tls           TLS          the TLS handshake failed (certificate, protocol)
    refused       refused      nothing listens on that address and port
    timeout       timeout      no answer within the timeout
    network       network      the connection broke some other way
    auth          401 from the auth server   key/secret or user name/password refused
    token         unexpected response        the token endpoint answered, but not with a token
    unauthorized  unexpected response        the upload endpoint refused a fresh token (401/403)
    not_found     404 from the upload server  the connection test found no such Upload Path
    method        405 from the upload server  the Upload Path does not take POST
    http_4xx      unexpected response        the upload endpoint refused the document
    http_5xx      unexpected response        the vendor failed (retried)
    unexpected    unexpected response        a redirect, or an answer that makes no sense

Transient kinds are retried: dns, refused, timeout, network, http_5xx, and a 5xx from the
token endpoint. A TLS failure or any 4xx is not: trying again sends the same thing to the
same refusal (the one exception, an expired token, is handled by the client before this).
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx

from gateway.errors import GatewayError

REASONS: Final[dict[str, str]] = {
    "dns": "DNS",
    "tls": "TLS",
    "refused": "refused",
    "timeout": "timeout",
    "network": "network",
    "auth": "401 from the auth server",
    "token": "unexpected response",
    "unauthorized": "unexpected response",
    "not_found": "404 from the upload server",
    "method": "405 from the upload server",
    "http_4xx": "unexpected response",
    "http_5xx": "unexpected response",
    "unexpected": "unexpected response",
}
# An OAuth error code is a short ASCII token (RFC 6749 §5.2); anything else a vendor puts
# there is not repeated into our database or logs.
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Failure:
    kind: str
    message: str
    retryable: bool = False
    status: int | None = None
    # Seconds the vendor asked us to wait (Retry-After on a 503), if any.
    retry_after: float | None = None

    @property
    def reason(self) -> str:
        """The short label the console shows after "Connection failed"."""
        return REASONS.get(self.kind, "unexpected response")


class VendorFailure(GatewayError):
    """A vendor call failed; `failure` says how (never carries a secret or a token)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and members of exception groups."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend((current.__cause__, current.__context__))
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)


def classify_exception(exc: BaseException, what: str) -> Failure:
    """A transport error (httpx, or the overall deadline) while calling `what` (a host:port).

    httpx wraps the OS error (anyio: `OSError("All connection attempts failed")` caused by the
    real ConnectionRefusedError), so the chain of causes is searched, most specific first.
    """
    chain = list(_causes(exc))
    if any(isinstance(e, socket.gaierror) for e in chain):
        return Failure("dns", f"DNS: the name of {what} does not resolve", retryable=True)
    if any(isinstance(e, ssl.SSLError | ssl.CertificateError) for e in chain):
        detail = next(e for e in chain if isinstance(e, ssl.SSLError | ssl.CertificateError))
        return Failure("tls", f"TLS: handshake with {what} failed ({_ssl_reason(detail)})")
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return Failure("refused", f"Connection refused by {what}", retryable=True)
    if any(isinstance(e, httpx.TimeoutException | TimeoutError) for e in chain):
        return Failure("timeout", f"Timeout: {what} did not answer in time", retryable=True)
    return Failure(
        "network",
        f"Network error talking to {what} ({type(exc).__name__})",
        retryable=True,
    )


def _ssl_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "verify_message", None)
    return str(reason) if reason else type(exc).__name__


def _oauth_error(body: Any) -> str | None:
    if isinstance(body, dict):
        code = body.get("error")
        if isinstance(code, str) and _ERROR_CODE.match(code):
            return code
    return None


def classify_token_answer(status: int, body: Any) -> Failure:
    """A token endpoint answered `status` without a usable token (RFC 6749 §5.2 errors)."""
    code = _oauth_error(body)
    suffix = f" ({code})" if code else ""
    if status == 401 or code in ("invalid_client", "invalid_grant", "unauthorized_client"):
        if code == "invalid_client":
            who = "the consumer key or secret was refused"
        elif code == "invalid_grant":
            who = "the user name or password was refused"
        else:
            who = "the consumer key/secret or the user name/password was refused"
        return Failure("auth", f"{status} from the auth server: {who}{suffix}", status=status)
    if status >= 500:
        return Failure(
            "http_5xx",
            f"Unexpected response: the auth server answered {status}{suffix}",
            retryable=True,
            status=status,
        )
    if 200 <= status < 300:
        return Failure("token", "Unexpected response: the auth server's answer has no access_token")
    if status in (404, 405):
        return Failure(
            "token",
            f"Unexpected response: the auth server answered {status}: check the Auth Path",
            status=status,
        )
    return Failure(
        "token", f"Unexpected response: the auth server answered {status}{suffix}", status=status
    )


def classify_upload_status(status: int, retry_after: str | None = None) -> Failure | None:
    """None for a 2xx (delivered); otherwise why the upload did not deliver."""
    if 200 <= status < 300:
        return None
    if status in (401, 403):
        return Failure(
            "unauthorized",
            f"Unexpected response: the upload endpoint answered {status} to a fresh token",
            status=status,
        )
    if status == 429:
        # Rate limited: the vendor wants the same document later, not never (RFC 6585 §4).
        return Failure(
            "rate_limited",
            "The upload endpoint asked us to slow down (429)",
            retryable=True,
            status=status,
            retry_after=_seconds(retry_after),
        )
    if status >= 500:
        return Failure(
            "http_5xx",
            f"The upload endpoint answered {status}",
            retryable=True,
            status=status,
            retry_after=_seconds(retry_after),
        )
    if 400 <= status < 500:
        return Failure(
            "http_4xx", f"The upload endpoint refused the document ({status})", status=status
        )
    # 1xx/3xx: redirects are not followed, so that a bearer token never goes to a second host.
    return Failure(
        "unexpected", f"Unexpected response: the upload endpoint answered {status}", status=status
    )


def _seconds(value: str | None) -> float | None:
    """Retry-After as delay-seconds (RFC 9110 §10.2.3); an HTTP-date is ignored."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def allows_post(allow: str | None) -> bool | None:
    """Whether an Allow header (RFC 9110 §10.2.1) lists POST; None when there is none."""
    if allow is None:
        return None
    return "POST" in {method.strip().upper() for method in allow.split(",")}


def probe_upload_status(status: int, allow: str | None = None) -> Failure | None:
    """The connection test's rule for the upload endpoint, asked with an authenticated OPTIONS
    (RFC 9110 §9.3.7: safe, it stores nothing). None means valid: the answer shows that the
    path exists, that it takes POST, and that our fresh token is accepted. docs/connection-test.md
    explains each case; in short:

        2xx        valid, unless its Allow header lists methods without POST
        405        valid only if its Allow header (which a 405 must carry, RFC 9110 §15.5.6)
                   lists POST: the server does not answer OPTIONS, but takes uploads there
        401, 403   the upload endpoint refused the token the auth server just granted
        404, 410   no such Upload Path on that server
        3xx        a redirect (never followed: a bearer token must not go to a second host)
        5xx        the vendor is failing
        other      an answer that does not show the path takes uploads
    """
    post = allows_post(allow)
    if 200 <= status < 300:
        if post is False:
            return Failure(
                "method",
                f"The upload path does not accept POST (OPTIONS answered {status}, Allow: "
                f"{_methods(allow)}): check the Upload Path",
                status=status,
            )
        return None
    if status == 405:
        if post:
            return None
        listed = f", Allow: {_methods(allow)}" if allow is not None else ""
        return Failure(
            "method",
            f"The upload path does not accept POST (405{listed}): check the Upload Path",
            status=status,
        )
    if status in (401, 403):
        return Failure(
            "unauthorized",
            f"The upload endpoint answered {status} to the token the auth server just granted: "
            "ask the vendor whether this account may upload",
            status=status,
        )
    if status in (404, 410):
        return Failure(
            "not_found",
            f"The upload path was not found ({status}): check the Upload Path (and Port)",
            status=status,
        )
    if 300 <= status < 400:
        return Failure(
            "unexpected",
            f"Unexpected response: the upload endpoint redirects ({status}); "
            "use the address it redirects to",
            status=status,
        )
    if status >= 500:
        return Failure(
            "http_5xx",
            f"Unexpected response: the upload endpoint answered {status} (the vendor is failing)",
            status=status,
        )
    return Failure(
        "unexpected",
        f"Unexpected response: the upload endpoint answered {status} to OPTIONS",
        status=status,
    )


def _methods(allow: str | None) -> str:
    """An Allow header as shown: method tokens only, never more than a line."""
    tokens = [m.strip().upper() for m in (allow or "").split(",") if m.strip()]
    shown = [t for t in tokens if re.fullmatch(r"[A-Z]{1,20}", t)][:10]
    return ", ".join(shown) or "none"
