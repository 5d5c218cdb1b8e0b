"""Who is calling: the session cookie, the display's address or key, and role checks."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from aiohttp import web

from roomctl.http.keys import CONFIG, ROLES, ROOM, SESSION
from roomctl.http.routes import route_of
from roomctl.roles import Role
from roomctl.sessions import COOKIE_NAME, Session

DISPLAY_COOKIE = "roomctl_display"
DISPLAY_HEADER = "X-Roomctl-Display-Key"


def is_display_host(request: web.Request) -> bool:
    """Whether the peer is a configured display host (the kiosk on the Pi)."""
    peer = request.remote or ""
    hosts = request.app[CONFIG].web.display_hosts
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(addr == ipaddress.ip_address(h) for h in hosts)


def display_key_ok(request: web.Request, key: str | None) -> bool:
    """Whether ``key`` is one of the configured display keys."""
    if not key:
        return False
    keys = request.app[CONFIG].web.display_keys
    return any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def session_of(request: web.Request) -> Session | None:
    """The caller's valid session, if any."""
    value = request.cookies.get(COOKIE_NAME)
    return request.app[ROOM].sessions.decode(value) if value else None


def roles_of(request: web.Request) -> frozenset[Role]:
    """Every role the caller holds (a loopback kiosk is the display; a session adds its role)."""
    roles = {Role.PUBLIC}
    session = session_of(request)
    if session:
        roles.add(session.role)
    key = request.headers.get(DISPLAY_HEADER) or request.cookies.get(DISPLAY_COOKIE)
    if is_display_host(request) or display_key_ok(request, key):
        roles.add(Role.DISPLAY)
    return frozenset(roles)


def foreign_origin(request: web.Request) -> bool:
    """Whether a browser sent this state-changing request or WebSocket from another origin.

    SameSite=Strict keeps cookies from other sites, but rooms of one school share a site
    (``a101.koulu.example``, ``a102.koulu.example``): only the origin tells them apart.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") and request.path != "/api/v1/ws":
        return False
    origin = request.headers.get("Origin")
    return origin is not None and origin != f"{request.scheme}://{request.host}"


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Attach the caller's session and roles; refuse a route the roles do not allow."""
    if foreign_origin(request):
        raise web.HTTPForbidden(reason="cross_origin")
    request[SESSION] = session_of(request)
    request[ROLES] = roles_of(request)
    declared = route_of(getattr(handler, "__wrapped__", handler)) or route_of(handler)
    roles: frozenset[Role] = request[ROLES]
    if declared is not None and not (declared.roles & roles):
        if roles == {Role.PUBLIC}:
            raise web.HTTPUnauthorized(reason="login_required")
        raise web.HTTPForbidden(reason="role_required")
    return await handler(request)


def require_session(request: web.Request) -> Session:
    """The caller's session; 401 when there is none."""
    session: Session | None = request.get(SESSION)
    if session is None:
        raise web.HTTPUnauthorized(reason="login_required")
    return session
