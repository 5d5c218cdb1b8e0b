"""The room's WebSocket: live snapshots to every page, and a validated message channel.

Each connection is bound to the caller's session (its peer id derives from the session id),
so a client cannot speak for another. Messages are size-limited, rate-limited and checked
against a schema; a bad message gets an error reply and the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from roomctl.core import jsonin
from roomctl.core.events import PairingRotated, RoomChanged
from roomctl.core.tasks import cancel
from roomctl.http.keys import ROLES, ROOM, SESSION, WS_HANDLERS
from roomctl.roles import Role
from roomctl.sessions import Session

logger = logging.getLogger(__name__)
STAFF_OR_DISPLAY = frozenset({Role.PRESENTER, Role.CARETAKER, Role.DISPLAY})

PROTOCOL_MAX = 256 * 1024  # above this aiohttp closes the socket
MESSAGE_MAX = 64 * 1024  # above this we reject the message and keep the socket
RATE_PER_S = 40.0
BURST = 80.0
COALESCE_S = 0.05
HEARTBEAT_S = 15.0
CLOSE_TIMEOUT_S = 2.0  # how long a close waits for the client's answer (a dead laptop has none)
PER_SESSION = 12  # open sockets per session: a few tabs each for room, control and casting


class Connection:
    """One open WebSocket and who holds it."""

    def __init__(self, ws: web.WebSocketResponse, session: Session | None, roles: frozenset[Role]):
        self.ws = ws
        self.session = session
        self.roles = roles
        sid = session.sid if session else f"anon-{id(ws)}"
        self.peer_id = "p" + hashlib.sha256(sid.encode()).hexdigest()[:12]
        self._tokens = BURST
        self._stamp = time.monotonic()

    def allow(self) -> bool:
        """Token-bucket rate limit of incoming messages."""
        now = time.monotonic()
        self._tokens = min(BURST, self._tokens + (now - self._stamp) * RATE_PER_S)
        self._stamp = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message; a closed socket is ignored."""
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(json.dumps(message, separators=(",", ":")))

    async def error(self, error: str, detail: str = "", ref: Any = None) -> None:
        """Tell the client its message was refused."""
        await self.send({"type": "error", "error": error, "detail": detail, "ref": ref})


class Hub:
    """All open connections; pushes coalesced snapshots when the room changes."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.connections: set[Connection] = set()
        self._task: asyncio.Task[None] | None = None
        self.views: list[Any] = []  # extra per-connection view providers (conn) -> dict
        self._closing: set[asyncio.Task[bool]] = set()

    def by_peer(self, peer_id: str) -> list[Connection]:
        """Connections of one peer (a session may have several tabs)."""
        return [c for c in self.connections if c.peer_id == peer_id]

    def with_role(self, role: Role) -> list[Connection]:
        """Connections holding ``role``."""
        return [c for c in self.connections if role in c.roles]

    async def start(self) -> None:
        """Begin forwarding room changes."""
        self._task = asyncio.create_task(self._forward(), name="ws-hub")

    async def stop(self) -> None:
        """Close every socket with GOING_AWAY, all at once: a dead client costs one timeout."""
        await cancel(self._task)
        closing = [
            conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutdown")
            for conn in list(self.connections)
        ]
        await asyncio.gather(*closing, return_exceptions=True)

    async def _forward(self) -> None:
        room = self.app[ROOM]
        with room.bus.subscribe(RoomChanged, PairingRotated) as sub:
            while True:
                await sub.get()
                await asyncio.sleep(COALESCE_S)
                while sub.get_nowait() is not None:
                    pass
                await self.broadcast()

    async def broadcast(self) -> None:
        """Send every connection its view of the room now; close those whose session ended."""
        base = self.app[ROOM].snapshot()
        live = [c for c in list(self.connections) if not self.dropped(c)]
        await asyncio.gather(*(c.send(self.view(c, base)) for c in live))

    def dropped(self, conn: Connection) -> bool:
        """Close ``conn`` when its session has ended (end of lesson, expiry); True if so."""
        session, signer = conn.session, self.app[ROOM].sessions
        if session is None or (session.gen == signer.generation and session.exp >= signer.clock()):
            return False
        # an open socket must not outlive its cookie: it would keep the role and see names
        self.connections.discard(conn)
        task = asyncio.create_task(conn.ws.close(code=WSCloseCode.POLICY_VIOLATION))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return True

    def view(self, conn: Connection, base: dict[str, Any] | None = None) -> dict[str, Any]:
        """What ``conn`` may see: the snapshot, plus the code for the display, names for staff."""
        room = self.app[ROOM]
        snap = base or room.snapshot()
        if not conn.roles & STAFF_OR_DISPLAY:
            snap = room.participant_view(snap)
        msg: dict[str, Any] = {"type": "snapshot", "room": snap}
        if Role.DISPLAY in conn.roles:
            info = room.pairing_info()
            msg["pairing"] = {
                "code": info.code,
                "token": info.token,
                "seconds_left": round(info.seconds_left, 1),
                "period_s": info.period_s,
            }
        if Role.PRESENTER in conn.roles:
            msg["participants"] = room.people()
        if conn.session:
            msg["me"] = {
                "peer_id": conn.peer_id,
                "role": str(conn.session.role),
                "name": conn.session.name,
            }
        for provider in self.views:
            msg.update(provider(conn))
        return msg


HUB = web.AppKey("ws_hub", Hub)


async def handle_get_ws(request: web.Request) -> web.WebSocketResponse:
    """Open the live channel (any session or the display)."""
    roles: frozenset[Role] = request[ROLES]
    if roles == {Role.PUBLIC}:
        raise web.HTTPUnauthorized(reason="login_required")
    ws = web.WebSocketResponse(
        heartbeat=HEARTBEAT_S, max_msg_size=PROTOCOL_MAX, timeout=CLOSE_TIMEOUT_S
    )
    hub = request.app[HUB]
    conn = Connection(ws, request.get(SESSION), roles)
    if conn.session and len(hub.by_peer(conn.peer_id)) >= PER_SESSION:
        # one cookie opening sockets without end would use up the appliance's file handles
        raise web.HTTPTooManyRequests(reason="too_many_connections")
    await ws.prepare(request)
    room = request.app[ROOM]
    if conn.session:
        room.admit(conn.session)
    hub.connections.add(conn)
    try:
        await conn.send(hub.view(conn))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await _dispatch(request.app, conn, msg.data)
            elif msg.type == WSMsgType.BINARY:
                await conn.error("binary_not_supported")
    finally:
        hub.connections.discard(conn)
        for handler in request.app[WS_HANDLERS].values():
            closer = getattr(handler, "on_close", None)
            if closer is not None:
                await closer(conn)
    return ws


async def _dispatch(app: web.Application, conn: Connection, text: str) -> None:
    if app[HUB].dropped(conn):
        return
    if len(text) > MESSAGE_MAX:
        await conn.error("too_large", f"messages are limited to {MESSAGE_MAX} bytes")
        return
    if not conn.allow():
        await conn.error("rate_limited")
        return
    try:
        msg = jsonin.loads(text)
    except ValueError:  # jsonin.TooDeep too: deeply nested input must not end the socket
        await conn.error("malformed_json")
        return
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        await conn.error("invalid_message", "expected an object with a type")
        return
    kind = msg["type"]
    if kind == "heartbeat":
        if Role.DISPLAY in conn.roles:
            app[ROOM].display_heartbeat()
        if conn.session:
            app[ROOM].roster.touch(conn.session.sid)
        await conn.send({"type": "heartbeat_ack"})
        return
    handler = app[WS_HANDLERS].get(kind.split(".")[0]) or app[WS_HANDLERS].get(kind)
    if handler is None:
        await conn.error("unknown_type", kind[:40])
        return
    try:
        await handler(conn, msg)
    except Exception:
        logger.exception("ws handler for %s failed", kind[:40])
        await conn.error("internal_error")
