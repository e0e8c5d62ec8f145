"""The one-time display of a new secret (the *Information to Share*): what a consumer needs to
reach the gateway, with copy buttons. Shown on the POST response that made the secret, and
never again: only the secret's hash is kept."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.control.credentials import IssuedSecret
from gateway.request_context import services
from gateway.urls import etranscripts_url, token_url
from gateway.web.pages import render


def share_page(
    request: Request,
    issued: IssuedSecret,
    *,
    title: str,
    save_url: str,
    cancel_url: str | None = None,
    note: str | None = None,
) -> Response:
    """The one-time display of a secret: rendered on the POST response itself, never stored,
    never redirected to (render() marks it Cache-Control: no-store)."""
    base = services(request).settings.base_url.rstrip("/")
    return render(
        request,
        "admin/share.html",
        title=title,
        issued=issued,
        save_url=save_url,
        cancel_url=cancel_url,
        note=note,
        # An operator credential (admin API) has no district, so no eTranscripts URL.
        etranscripts_url=etranscripts_url(base, issued.district) if issued.district else None,
        token_url=token_url(base),
    )
