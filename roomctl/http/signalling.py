"""WebRTC signalling on the room's WebSocket: ``cast.*`` messages, checked and relayed.

Every message is validated against its JSON Schema. The appliance relays an offer to the
display only for a share the room core says is live, and a preview offer only to a teacher's
panel, so a denied or unapproved student cannot push media to the projector. Peer ids come
from the connection (bound to the session), never from the message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from roomctl.casting import LIVE, Casting, CastRefused, Share
from roomctl.http.cast_messages import TEACHER_ONLY, check
from roomctl.http.keys import WS_HANDLERS
from roomctl.http.routes import RouteTable
from roomctl.http.ws import HUB, Connection
from roomctl.roles import IN_ROOM, Role

logger = logging.getLogger(__name__)

CASTING = web.AppKey("casting", Casting)
ROUTES = RouteTable()


class Signalling:
    """The ``cast`` WebSocket handler: validates, checks roles and shares, relays."""

    def __init__(self, app: web.Application, casting: Casting) -> None:
        self.app = app
        self.casting = casting
        self.pages: dict[Connection, set[str]] = {}  # a page may be sender and panel
        self.display: Connection | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        casting.listeners.append(self._on_share_event)

    # -- routing helpers ------------------------------------------------------------------

    def senders(self, share: Share) -> list[Connection]:
        """The sharer's casting pages."""
        return [
            c for c in self.app[HUB].by_peer(share.peer_id) if "sender" in self.pages.get(c, ())
        ]

    def panels(self, peer_id: str | None = None) -> list[Connection]:
        """Teachers' control panels (of one peer when given)."""
        return [
            c
            for c, pages in self.pages.items()
            if "panel" in pages and Role.PRESENTER in c.roles and peer_id in (None, c.peer_id)
        ]

    async def _send_all(self, conns: list[Connection], msg: dict[str, Any]) -> None:
        for conn in conns:
            await conn.send(msg)

    # -- the handler ----------------------------------------------------------------------

    async def __call__(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Handle one ``cast.*`` message."""
        kind = msg.get("type", "")
        problem = check(msg)
        if problem == "unknown_type":
            await conn.error("unknown_type", kind[:40])
            return
        if problem is not None:
            await conn.error("invalid_message", problem, ref=kind)
            return
        if kind in TEACHER_ONLY and Role.PRESENTER not in conn.roles:
            await conn.error("forbidden", "teacher only", ref=kind)
            return
        handler = getattr(self, "handle_" + kind[5:])
        try:
            await handler(conn, msg)
        except CastRefused as err:
            await conn.error(err.reason, str(err), ref=msg.get("share_id", kind))

    async def on_close(self, conn: Connection) -> None:
        """A socket closed: a display leaves, a sharer's last page ends the share."""
        pages = self.pages.pop(conn, set())
        if conn is self.display:
            self.display = None
        if "sender" not in pages:
            return
        share = self.casting.of_peer(conn.peer_id)
        if share is not None and not self.senders(share):
            self.casting.withdraw(conn.peer_id)

    async def handle_hello(self, conn: Connection, msg: dict[str, Any]) -> None:
        """A page says what it is; a display asks every live sharer for a fresh offer."""
        page = msg["page"]
        allowed = {
            "display": Role.DISPLAY in conn.roles,
            "panel": Role.PRESENTER in conn.roles,
            "sender": bool(conn.session) and bool(conn.roles & IN_ROOM),
        }
        if not allowed[page]:
            await conn.error("forbidden", f"not a {page}", ref="cast.hello")
            return
        self.pages.setdefault(conn, set()).add(page)
        if page == "display":
            self.display = conn
            for share in self.casting.live():
                await self._send_all(self.senders(share), _renegotiate(share, "display"))
        elif page == "sender":
            mine = self.casting.of_peer(conn.peer_id)
            if mine is not None:
                await conn.send(_status(mine, mine.status))

    # -- sharer ---------------------------------------------------------------------------

    async def handle_request(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Ask to share (a presenter goes live at once)."""
        if conn.session is None or not conn.roles & IN_ROOM:
            raise CastRefused("forbidden", "join the room first")
        self.pages.setdefault(conn, set()).add("sender")
        share = self.casting.request(
            conn.peer_id,
            conn.session.name,
            str(conn.session.role),
            msg["kind"],
            msg["preset"],
            msg["audio"],
        )
        if share.status != LIVE:
            await conn.send(_status(share, share.status))

    async def handle_withdraw(self, conn: Connection, msg: dict[str, Any]) -> None:
        """The sharer stops sharing or withdraws the request."""
        self.casting.withdraw(conn.peer_id)

    async def handle_keepalive(self, conn: Connection, msg: dict[str, Any]) -> None:
        """The sharer is still there."""
        share = self.casting.of_peer(conn.peer_id)
        if share is None or share.share_id != msg["share_id"]:
            raise CastRefused("unknown_share", "no such share")
        self.casting.touch(share.share_id)

    def _own(self, conn: Connection, share_id: str) -> Share:
        share = self.casting.shares.get(share_id)
        if share is None or share.peer_id != conn.peer_id:
            raise CastRefused("unknown_share", "not your share")
        return share

    async def handle_offer(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Relay a sharer's offer to the display (live shares only) or to a teacher's panel."""
        share = self._own(conn, msg["share_id"])
        targets = self._targets(share, msg)
        out = {**msg, "from": conn.peer_id, "name": share.name}
        await self._send_all(targets, out)

    def _targets(self, share: Share, msg: dict[str, Any]) -> list[Connection]:
        if msg["target"] == "display":
            if share.status != LIVE:
                logger.info("refused an offer for unapproved share %s", share.share_id)
                raise CastRefused("not_approved", "the teacher has not approved this share")
            if self.display is None:
                raise CastRefused("no_display", "the display is not connected")
            return [self.display]
        panels = self.panels(msg.get("panel"))
        if not panels:
            raise CastRefused("no_panel", "no teacher panel asked for a preview")
        return panels

    async def handle_answer(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Relay the display's or a panel's answer to the sharer."""
        share = self._receiving(conn, msg["share_id"])
        await self._send_all(self.senders(share), {**msg, "from": conn.peer_id})

    def _receiving(self, conn: Connection, share_id: str) -> Share:
        share = self.casting.shares.get(share_id)
        is_display = conn is self.display and share is not None and share.status == LIVE
        if share is None or not (is_display or conn in self.panels()):
            raise CastRefused("unknown_share", "not a receiver of this share")
        return share

    async def handle_ice(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Relay one ICE candidate between a sharer and a receiver."""
        if msg["target"] == "sender":
            share = self._receiving(conn, msg["share_id"])
            await self._send_all(self.senders(share), {**msg, "from": conn.peer_id})
            return
        share = self._own(conn, msg["share_id"])
        await self._send_all(self._targets(share, msg), {**msg, "from": conn.peer_id})

    async def handle_ask(self, conn: Connection, msg: dict[str, Any]) -> None:
        """The display asks a sender for a frame size and codec order it can decode."""
        share = self._receiving(conn, msg["share_id"])
        await self._send_all(self.senders(share), msg)

    async def handle_stats(self, conn: Connection, msg: dict[str, Any]) -> None:
        """The display's per-stream decoder figures, into the room snapshot."""
        if conn is not self.display:
            raise CastRefused("forbidden", "display only")
        for stream in msg["streams"]:
            self.casting.report(
                stream["share_id"], {k: v for k, v in stream.items() if k != "share_id"}
            )

    # -- teacher --------------------------------------------------------------------------

    async def handle_approve(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Approve a request: the share goes to the display."""
        self.casting.approve(msg["share_id"])

    async def handle_deny(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Deny a request."""
        self.casting.deny(msg["share_id"])

    async def handle_stop(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Stop one share."""
        self.casting.stop_share(msg["share_id"])

    async def handle_stop_all(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Stop every share."""
        self.casting.stop_all()

    async def handle_layout(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Tiles, main source, names."""
        self.casting.set_layout(msg["tiles"], msg["main"], msg["show_names"])

    async def handle_mute(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Mute one share's audio on the display."""
        self.casting.mute(msg["share_id"], msg["muted"])

    async def handle_preview(self, conn: Connection, msg: dict[str, Any]) -> None:
        """A teacher's panel asks the sharer for a low-resolution preview."""
        share = self.casting.shares.get(msg["share_id"])
        if share is None:
            raise CastRefused("unknown_share", "no such share")
        self.pages.setdefault(conn, set()).add("panel")
        await self._send_all(self.senders(share), _renegotiate(share, "preview", conn.peer_id))

    # -- room core events -----------------------------------------------------------------

    def _on_share_event(self, event: str, share: Share) -> None:
        task = asyncio.get_running_loop().create_task(self._tell(event, share))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell(self, event: str, share: Share) -> None:
        await self._send_all(self.senders(share), _status(share, event))
        if event != "live":
            closed = {"type": "cast.closed", "share_id": share.share_id, "reason": event}
            receivers = self.panels() + ([self.display] if self.display else [])
            await self._send_all(receivers, closed)

    # -- per-connection view --------------------------------------------------------------

    def view(self, conn: Connection) -> dict[str, Any]:
        """The ``cast`` part of a connection's snapshot message."""
        c = self.casting
        out: dict[str, Any] = {
            "ice_servers": [dict(s) for s in c.config.cast.ice_servers],
            "tiles": c.tiles(),
            "show_names": c.layout.show_names,
            "main": c.layout.main,
            "locked": c.room.state.locked,
        }
        mine = c.of_peer(conn.peer_id)
        if mine is not None:
            limit = c.tile_limit()
            out["me"] = {
                "share_id": mine.share_id,
                "status": mine.status,
                "kind": mine.kind,
                "warming_s": c.warming_s(),
                "max": list(limit) if limit else None,
            }
        if Role.DISPLAY in conn.roles or Role.PRESENTER in conn.roles:
            names = c.layout.show_names or Role.PRESENTER in conn.roles
            out["sources"] = [_source(s, names, s in c.on_display()) for s in c.live()]
        if Role.PRESENTER in conn.roles:
            now = c.clock()
            out["requests"] = [
                {**_source(s, True, False), "expires_in": round((s.expires_at or now) - now)}
                for s in c.pending()
            ]
        return {"cast": out}


def _source(share: Share, with_name: bool, shown: bool) -> dict[str, Any]:
    return {
        "share_id": share.share_id,
        "peer_id": share.peer_id,
        "kind": share.kind,
        "role": share.role,
        "preset": share.preset,
        "muted": share.muted,
        "audio": share.audio,
        "since": share.since,
        "shown": shown,
        "name": share.name if with_name else "",
    }


def _status(share: Share, status: str) -> dict[str, Any]:
    return {
        "type": "cast.status",
        "share_id": share.share_id,
        "status": status,
        "kind": share.kind,
        "preset": share.preset,
    }


def _renegotiate(share: Share, target: str, panel: str | None = None) -> dict[str, Any]:
    msg = {"type": "cast.renegotiate", "share_id": share.share_id, "target": target}
    return {**msg, "panel": panel} if panel else msg


@ROUTES.route(
    "GET",
    "/api/v1/cast",
    Role.PRESENTER,
    Role.CARETAKER,
    Role.DISPLAY,
    summary="Casting state (counts, decoder figures; no names)",
    tags=("cast",),
)
async def handle_get_cast(request: web.Request) -> web.Response:
    """The casting part of the room snapshot."""
    return web.json_response(request.app[CASTING].snapshot())


@ROUTES.route(
    "POST",
    "/api/v1/cast/stop-all",
    Role.PRESENTER,
    Role.CARETAKER,
    summary="Stop every screen share",
    tags=("cast",),
)
async def handle_post_cast_stop_all(request: web.Request) -> web.Response:
    """End every share and request."""
    return web.json_response({"stopped": request.app[CASTING].stop_all()})


def attach(app: web.Application, casting: Casting) -> None:
    """Install the handler, its view and the casting key on ``app``."""
    signalling = Signalling(app, casting)
    app[CASTING] = casting
    app[WS_HANDLERS]["cast"] = signalling
    app[HUB].views.append(signalling.view)
