"""The JSON API under /api/v1: thin handlers that call the room core."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

from aiohttp import web

from roomctl.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    DeviceError,
    NotReady,
    Unavailable,
)
from roomctl.http.auth import require_session
from roomctl.http.keys import CONFIG, ROLES, ROOM, SESSION
from roomctl.http.middleware import json_body
from roomctl.http.routes import RouteTable, obj, string
from roomctl.qr import qr_svg
from roomctl.roles import Role
from roomctl.sessions import COOKIE_NAME, Session

logger = logging.getLogger(__name__)
API = RouteTable()
P, T, C, D, ANY = Role.PARTICIPANT, Role.PRESENTER, Role.CARETAKER, Role.DISPLAY, Role.PUBLIC

JOIN = obj(("name",), name=string(80), code=string(12), token=string(80))
PIN = obj(("pin",), pin=string(32))
PASSWORD = obj(("password",), password=string(200))
LOCK = obj(("locked",), locked={"type": "boolean"})
MESSAGE = obj(
    ("text",),
    text=string(500, minLength=1),
    seconds={"type": "number", "minimum": 1, "maximum": 3600},
)
DEVICE_COMMAND = obj(
    ("name",),
    name={"enum": ["power", "input", "blank", "freeze", "volume", "mute", "brightness"]},
    args={"type": "object", "maxProperties": 4},
)
HELP = obj(topic=string(40))
AIRPLAY = obj(
    ("enabled",),
    enabled={"type": "boolean"},
    minutes={"type": "number", "minimum": 1, "maximum": 240},
)


def client_of(request: web.Request) -> str:
    """The rate-limit key of the caller: its IPv4 address, or its IPv6 /64.

    One laptop can take any number of addresses in its /64 (SLAAC privacy addresses), so a
    per-address limit keyed on the full IPv6 address would not limit it at all."""
    return client_key(request.remote or "unknown")


def client_key(remote: str) -> str:
    """``remote`` as a rate-limit key (see ``client_of``)."""
    try:
        address = ipaddress.ip_address(remote.split("%")[0])
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def set_session_cookie(request: web.Request, resp: web.Response, session: Session) -> None:
    """Store ``session`` in a signed, HttpOnly, SameSite=Strict cookie (Secure under HTTPS)."""
    value = request.app[ROOM].sessions.encode(session)
    max_age = max(60, int(session.exp - session.iat))
    resp.set_cookie(
        COOKIE_NAME, value, max_age=max_age, httponly=True, samesite="Strict",
        secure=request.secure, path="/",
    )  # fmt: skip


def join_url(request: web.Request, token: str = "") -> str:
    """The join address (the configured public URL, else this server's own)."""
    base = request.app[CONFIG].web.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    return f"{base}/?t={token}" if token else f"{base}/"


@API.route("GET", "/api/v1/health", ANY, summary="Liveness", tags=("system",))
async def handle_get_health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@API.route("POST", "/api/v1/join", ANY, summary="Join with the code or QR token", body=JOIN)
async def handle_post_join(request: web.Request) -> web.Response:
    data = await json_body(request, JOIN)
    room = request.app[ROOM]
    session = room.join(
        name=data["name"], client=client_of(request),
        code=data.get("code", ""), token=data.get("token", ""),
    )  # fmt: skip
    resp = web.json_response({"role": str(session.role), "name": session.name, "next": "/room"})
    set_session_cookie(request, resp, session)
    return resp


@API.route("GET", "/api/v1/me", P, T, C, D, summary="Who am I", tags=("session",))
async def handle_get_me(request: web.Request) -> web.Response:
    session = request[SESSION]
    roles = sorted(str(r) for r in request[ROLES] if r != Role.PUBLIC)
    if session is None:
        return web.json_response({"roles": roles})
    return web.json_response({"role": str(session.role), "name": session.name, "roles": roles})


@API.route("POST", "/api/v1/presenter", P, T, summary="Become presenter with the PIN", body=PIN)
async def handle_post_presenter(request: web.Request) -> web.Response:
    data = await json_body(request, PIN)
    session = request.app[ROOM].become_presenter(
        require_session(request), data["pin"], client_of(request)
    )
    resp = web.json_response({"role": str(session.role)})
    set_session_cookie(request, resp, session)
    return resp


@API.route(
    "POST", "/api/v1/login", ANY, summary="Caretaker login", body=PASSWORD, tags=("session",)
)
async def handle_post_login(request: web.Request) -> web.Response:
    data = await json_body(request, PASSWORD)
    session = request.app[ROOM].caretaker_login(data["password"], client_of(request))
    resp = web.json_response({"role": str(session.role), "next": "/status"})
    set_session_cookie(request, resp, session)
    return resp


@API.route(
    "POST", "/api/v1/logout", P, T, C, summary="Leave the room or log out", tags=("session",)
)
async def handle_post_logout(request: web.Request) -> web.Response:
    session = require_session(request)
    request.app[ROOM].logout(session)
    resp = web.json_response({"ok": True})
    resp.del_cookie(COOKIE_NAME, path="/")
    return resp


@API.route("GET", "/api/v1/room", P, T, C, D, summary="Room snapshot (no names)")
async def handle_get_room(request: web.Request) -> web.Response:
    room = request.app[ROOM]
    staff = request[ROLES] & {Role.PRESENTER, Role.CARETAKER, Role.DISPLAY}
    return web.json_response(room.snapshot() if staff else room.participant_view())


@API.route("GET", "/api/v1/participants", T, summary="Who is in the room (teacher only)")
async def handle_get_participants(request: web.Request) -> web.Response:
    return web.json_response({"participants": request.app[ROOM].people()})


@API.route("GET", "/api/v1/links", P, T, summary="The school's services (digital desktop)")
async def handle_get_links(request: web.Request) -> web.Response:
    links = [{"title": link.title, "url": link.url} for link in request.app[CONFIG].links]
    return web.json_response({"links": links})


def pairing_view(request: web.Request) -> dict[str, Any]:
    """The code, QR target and countdown, for the display only."""
    info = request.app[ROOM].pairing_info()
    return {
        "code": info.code,
        "url": join_url(request, info.token),
        "join_address": join_url(request),
        "seconds_left": round(info.seconds_left, 1),
        "period_s": info.period_s,
        "window": info.window,
    }


@API.route("GET", "/api/v1/pairing", D, summary="Current code and QR target (display only)")
async def handle_get_pairing(request: web.Request) -> web.Response:
    return web.json_response(pairing_view(request))


@API.route("GET", "/api/v1/pairing/qr.svg", D, summary="Current QR code as SVG (display only)")
async def handle_get_pairing_qr(request: web.Request) -> web.Response:
    svg = qr_svg(pairing_view(request)["url"])
    return web.Response(
        text=svg, content_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@API.route("POST", "/api/v1/pairing/rotate", T, C, summary="New code now")
async def handle_post_pairing_rotate(request: web.Request) -> web.Response:
    request.app[ROOM].rotate_pairing()
    return web.json_response({"ok": True})


@API.route("POST", "/api/v1/room/lock", T, summary="Lock or unlock the room", body=LOCK)
async def handle_post_room_lock(request: web.Request) -> web.Response:
    data = await json_body(request, LOCK)
    request.app[ROOM].set_locked(bool(data["locked"]))
    return web.json_response({"locked": request.app[ROOM].state.locked})


@API.route("POST", "/api/v1/room/end-lesson", T, summary="End the lesson: everyone out")
async def handle_post_end_lesson(request: web.Request) -> web.Response:
    request.app[ROOM].end_lesson()
    return web.json_response({"ok": True})


@API.route("POST", "/api/v1/help", T, summary="Call for help", body=HELP)
async def handle_post_help(request: web.Request) -> web.Response:
    data = await json_body(request, HELP)
    request.app[ROOM].request_help(data.get("topic", "general"))
    return web.json_response({"ok": True})


@API.route("POST", "/api/v1/messages", T, C, summary="Message on the display", body=MESSAGE)
async def handle_post_message(request: web.Request) -> web.Response:
    data = await json_body(request, MESSAGE)
    request.app[ROOM].show_message(data["text"], float(data.get("seconds", 30)))
    return web.json_response({"ok": True})


@API.route(
    "POST", "/api/v1/devices/{device_id}/commands", T, C,
    summary="Send a command to a device", body=DEVICE_COMMAND, tags=("devices",),
)  # fmt: skip
async def handle_post_device_command(request: web.Request) -> web.Response:
    """Run the command; answer 202 when the device makes it wait (a warm-up lockout, say)."""
    data = await json_body(request, DEVICE_COMMAND)
    room = request.app[ROOM]
    device_id = request.match_info["device_id"]
    if device_id not in room.devices:
        raise web.HTTPNotFound(reason="unknown_device")
    task = asyncio.ensure_future(
        room.device_command(device_id, data["name"], **data.get("args", {}))
    )
    PENDING.add(task)
    task.add_done_callback(_finished)
    done, _ = await asyncio.wait({task}, timeout=COMMAND_WAIT_S)
    snapshot = room.devices[device_id].snapshot()
    if not done:
        return web.json_response({"ok": True, "queued": True, "device": snapshot}, status=202)
    err = task.exception()
    if err is None:
        return web.json_response({"ok": True, "device": snapshot})
    if not isinstance(err, DeviceError):
        raise err
    status = next((c for cls, c in DEVICE_ERROR_STATUS.items() if isinstance(err, cls)), 409)
    body = {"error": type(err).__name__, "message": str(err), "device": snapshot}
    return web.json_response(body, status=status)


COMMAND_WAIT_S = 3.0
PENDING: set[asyncio.Future[None]] = set()  # commands still running after their reply
DEVICE_ERROR_STATUS: dict[type[DeviceError], int] = {
    CommandRejected: 400,
    NotReady: 409,
    AuthenticationFailed: 502,
    Unavailable: 503,
}


def _finished(task: asyncio.Future[None]) -> None:
    PENDING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.info("device command failed after its reply: %s", task.exception())


@API.route(
    "GET", "/api/v1/status", C, summary="Caretaker status: devices, warnings", tags=("status",)
)
async def handle_get_status(request: web.Request) -> web.Response:
    return web.json_response(request.app[ROOM].snapshot())


@API.route("POST", "/api/v1/scenes/{name}", T, C, summary="Run a scene", tags=("devices",))
async def handle_post_scene(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in request.app[CONFIG].scenes:
        raise web.HTTPNotFound(reason="unknown_scene")
    result = await request.app[ROOM].run_scene(name)
    return web.json_response({"ok": True, "result": result})


@API.route(
    "POST", "/api/v1/airplay", T, summary="Allow AirPlay for the lesson, or end it", body=AIRPLAY
)
async def handle_post_airplay(request: web.Request) -> web.Response:
    data = await json_body(request, AIRPLAY)
    room = request.app[ROOM]
    if "airplay_enable" not in room.hooks:
        raise web.HTTPNotFound(reason="airplay_unavailable")
    try:
        if data["enabled"]:
            status = await room.call_hook("airplay_enable", data.get("minutes"))
        else:
            status = await room.call_hook("airplay_disable")
    except CommandRejected as err:
        return web.json_response({"error": "airplay_unavailable", "message": str(err)}, status=409)
    return web.json_response(status)
