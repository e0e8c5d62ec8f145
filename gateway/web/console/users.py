"""Console: web users. The console never handles a user's password: a new user gets a one-time
set-password link (shown once, on the POST response; only its hash is stored), and an
operator can issue a fresh link for a user who lost theirs. Disable ends every session."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import users
from gateway.errors import BadRequest, Conflict, NotFound, ValidationFailed
from gateway.request_context import services
from gateway.web.auth import SessionUser
from gateway.web.console.endpoint import console_page
from gateway.web.console.forms import Refused, form_state
from gateway.web.console.request import actor_for, claim_form, control_db, done, notice, values
from gateway.web.pages import field, form, render

ROLES = [("district", "District staff (read-only, one district)"), ("operator", "State operator")]
LABELS = {"email": "Email", "role": "Role", "district": "District (LEA code)"}


async def user_list(request: Request, user: SessionUser) -> Response:
    return await _list_page(request)


async def _list_page(request: Request, refused: Refused | None = None) -> Response:
    async with control_db(request) as conn:
        rows = await users.list_users(conn)
    return render(
        request,
        "admin/users.html",
        **form_state(refused, {"role": "district"}),
        users=rows,
        roles=ROLES,
        labels=LABELS,
        notice=notice(request),
    )


def _invite_page(request: Request, email: str, token: str) -> Response:
    """The link is shown once, on the POST response (no-store): like a secret."""
    link = f"{services(request).settings.base_url.rstrip('/')}/invite/{token}"
    days = users.INVITE_LIFETIME.days
    return render(request, "admin/invite.html", email=email, link=link, days=days)


async def user_add(request: Request, user: SessionUser) -> Response:
    data = await form(request)
    entered = values(data, "email", "role", "district")
    entered["district"] = entered["district"].strip().upper()
    actor = actor_for(request, user)
    try:
        async with control_db(request) as conn, conn.transaction():
            if not await claim_form(request, conn, data):  # a reload of the link's page
                return done("/admin/users", "user-already-invited")
            # One transaction: no account is left behind without its link.
            added = await users.add(
                conn,
                email=entered["email"],
                role=entered["role"],
                lea_code=entered["district"] or None,
                password=None,
                actor=actor,
                off_loop=services(request).slow_hashes.run,
            )
            token = await users.create_invite(conn, added["email"], actor)
    except ValidationFailed as exc:
        return await _list_page(request, Refused(exc.errors, entered))
    except NotFound:
        return await _list_page(request, Refused({"district": "No such district"}, entered))
    except Conflict:
        return await _list_page(
            request, Refused({"email": "A user with this email exists"}, entered, 409)
        )
    return _invite_page(request, added["email"], token)


async def user_invite(request: Request, user: SessionUser) -> Response:
    """A fresh set-password link for a user who lost theirs (or never used it)."""
    data = await form(request)
    email = field(data, "email")
    async with control_db(request) as conn, conn.transaction():
        if not await claim_form(request, conn, data):  # a reload of the link's page
            return done("/admin/users", "user-already-invited")
        target = await users.get(conn, email)
        if target["status"] != "active":
            raise Conflict("This account is disabled; enable it first.")
        token = await users.create_invite(conn, target["email"], actor_for(request, user))
    return _invite_page(request, target["email"], token)


async def user_disable_confirm(request: Request, user: SessionUser) -> Response:
    email = request.query_params.get("email", "")
    async with control_db(request) as conn:
        target = await users.get(conn, email)
    _refuse_self(user.web_user.email, target["email"])
    return render(
        request,
        "admin/confirm.html",
        title=f"Disable {target['email']}?",
        lines=[
            "They are signed out everywhere at once and can no longer sign in.",
            "You can enable the account again later.",
        ],
        action="/admin/users/disable",
        button="Disable user",
        back="/admin/users",
        fields={"email": target["email"]},
    )


def _refuse_self(own: str, target: str) -> None:
    # An operator who locks themselves out needs another operator (or the CLI) to get back.
    if own == target:
        raise BadRequest("You cannot disable your own account.")


async def user_set_status(request: Request, user: SessionUser) -> Response:
    email = field(await form(request), "email")
    status = "disabled" if request.url.path.endswith("/disable") else "active"
    if status == "disabled":
        _refuse_self(user.web_user.email, email.strip().lower())
    async with control_db(request) as conn:
        await users.set_status(conn, email, status, actor_for(request, user))
    return done("/admin/users", f"user-{status}")


def routes() -> list[Route]:
    return [
        console_page("/admin/users", user_list),
        console_page("/admin/users", user_add, ["POST"]),
        console_page("/admin/users/invite", user_invite, ["POST"]),
        console_page("/admin/users/disable", user_disable_confirm),
        console_page("/admin/users/disable", user_set_status, ["POST"]),
        console_page("/admin/users/enable", user_set_status, ["POST"]),
    ]
