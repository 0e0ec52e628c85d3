"""Logging in with a token (URL or form) and out again."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect

from app.auth import SESSION_COOKIE, client_address, session_cookie
from app.htmx import render
from app.state import app_state
from app.store import tokens


class LoginPage(msgspec.Struct, frozen=True):
    """Context of the login form."""

    next: str = "/"
    error: str | None = None


class LoginForm(msgspec.Struct, frozen=True):
    """What the login form posts."""

    token: str = ""
    next: str = "/"


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect a login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _login(request: Request[Any, Any, Any], raw: str, target: str, link_only: bool = False) -> Response[Any]:
    state = app_state(request)
    client = client_address(request.scope)
    wait = state.login_limiter.retry_after(client)
    if wait:
        page = LoginPage(target, f"Too many failed login attempts. Try again in {wait} seconds.")
        response = render(request, "templates/login.html", "templates/login.html", page, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    started = await tokens.start_login(state.db, raw.strip(), state.settings.session_hours, link_only)
    if started is None:
        state.login_limiter.record_failure(client)
        page = LoginPage(target, "That token is not valid: it may be mistyped, revoked, expired or already used.")
        return render(request, "templates/login.html", "templates/login.html", page, status_code=401)
    session_id, _ = started
    redirect: Response[Any] = Redirect(path=target, status_code=303)
    redirect.set_cookie(session_cookie(session_id, state.settings.session_hours * 3600, state.settings.cookie_secure))
    return redirect


@get("/login", cache=False)
async def login_page(
    request: Request[Any, Any, Any], token: FromQuery[str | None] = None, next: FromQuery[str | None] = None
) -> Response[Any]:
    """The login form; with `?token=` (the single-use link `mc serve` prints) it logs in at once."""
    target = safe_next(next)
    if token and not token.startswith(tokens.LOGIN_LINK_PREFIX):
        # A lasting token in an address ends up in browser history and proxy logs: only links that work once.
        page = LoginPage(target, "Lasting tokens are not taken in a link: paste yours into the form below.")
        return render(request, "templates/login.html", "templates/login.html", page, status_code=400)
    if token:
        return await _login(request, token, target, link_only=True)
    return render(request, "templates/login.html", "templates/login.html", LoginPage(target))


@post("/login", cache=False)
async def login_submit(
    request: Request[Any, Any, Any],
    data: URLEncodedBody[LoginForm],
) -> Response[Any]:
    """Exchange a pasted token for a login cookie."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        return Response({"detail": "Cross-site login refused."}, status_code=403, media_type=MediaType.JSON)
    if not data.token.strip():
        page = LoginPage(safe_next(data.next), "Paste a token to log in.")
        return render(request, "templates/login.html", "templates/login.html", page, status_code=400)
    return await _login(request, data.token, safe_next(data.next))


@post("/logout", cache=False)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """End this login server-side and forget the cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        await tokens.end_login(app_state(request).db, session_id)
    response: Response[Any] = Redirect(path="/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [login_page, login_submit, logout]
