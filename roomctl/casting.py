"""Screen casting in the room core's terms: who shares, pending requests, approvals, layout.

Media never passes through here: browsers send WebRTC peer to peer to the display page, and
``roomctl.http.signalling`` relays their offers only for shares this module says are live.
Teachers (presenters) go live at once; students wait for approval; the room lock refuses new
requests. The snapshot part ``casting`` carries counts only; names stay in per-page views.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from roomctl.config.model import Config
from roomctl.core.errors import RoomctlError
from roomctl.core.events import CastSessionEnded, CastSessionStarted
from roomctl.core.tasks import cancel
from roomctl.roles import Role
from roomctl.room import Room

logger = logging.getLogger(__name__)

KINDS = ("screen", "camera")
PRESETS = ("slides", "video")
PENDING = "pending"
LIVE = "live"
# What each sender is asked for in a 3-4 tile layout: a Pi decodes four of these.
TILE_MAX = (960, 540)


class CastRefused(RoomctlError):
    """A cast operation was refused; ``reason`` is a stable key (``locked``, ``full``...)."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(message or reason)


@dataclass(frozen=True)
class Share:
    """One source: a live share on the display or a student's pending request."""

    share_id: str
    peer_id: str
    name: str
    role: str
    kind: str
    preset: str
    status: str
    requested_at: float
    since: float | None = None
    expires_at: float | None = None
    muted: bool = False
    audio: bool = False
    seen: float = 0.0  # time.monotonic() of the sharer's last keepalive
    peak_sources: int = 1


@dataclass(frozen=True)
class Layout:
    """How the display arranges live shares: tiles 0 = as many as are live."""

    tiles: int = 0
    main: str | None = None
    show_names: bool = True


class Casting:
    """The room's cast state and its operations; built with (config, room) like every service."""

    TICK_S = 0.5
    LIVENESS_S = 4.0  # a live share without a keepalive for this long has lost its network

    def __init__(
        self, config: Config, room: Room, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.room = room
        self.clock = clock
        self.shares: dict[str, Share] = {}
        self.layout = Layout(show_names=config.cast.show_names)
        self.streams: dict[str, dict[str, Any]] = {}  # display's decoder report per share
        self.warming_until = 0.0
        self.listeners: list[Callable[[str, Share], Any]] = []  # (event, share), e.g. "ended"
        self._task: asyncio.Task[None] | None = None
        self._ready_task: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Register with the room and start expiring requests and silent sharers."""
        self.room.add_snapshot_part("casting", self.snapshot)
        self.room.hooks["stop_all_shares"] = self.stop_all
        self._task = asyncio.create_task(self._tick_loop(), name="casting-tick")

    async def stop(self) -> None:
        """End every share and stop the clock."""
        self.stop_all()
        for task in (self._task, self._ready_task):
            await cancel(task)
        self._task = self._ready_task = None

    def route_tables(self) -> list[Any]:
        """The HTTP routes of casting (the appliance registers them)."""
        from roomctl.http.signalling import ROUTES

        return [ROUTES]

    def attach(self, app: Any) -> None:
        """Install the ``cast`` WebSocket handler and views on the web app."""
        from roomctl.http.signalling import attach

        attach(app, self)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.TICK_S)
            self.tick()

    def tick(self) -> None:
        """Expire old requests and drop live shares whose sharer went silent."""
        now, mono = self.clock(), time.monotonic()
        for share in list(self.shares.values()):
            if share.status == PENDING and share.expires_at and share.expires_at <= now:
                self._remove(share, "expired")
            elif share.status == LIVE and mono - share.seen > self.LIVENESS_S:
                self._remove(share, "lost")

    # -- reading --------------------------------------------------------------------------

    def live(self) -> list[Share]:
        """Live shares, the main source first, then oldest first."""
        shares = sorted(
            (s for s in self.shares.values() if s.status == LIVE), key=lambda s: s.since or 0.0
        )
        shares.sort(key=lambda s: s.share_id != self.layout.main)
        return shares

    def pending(self) -> list[Share]:
        """Pending requests, oldest first."""
        return sorted(
            (s for s in self.shares.values() if s.status == PENDING), key=lambda s: s.requested_at
        )

    def of_peer(self, peer_id: str) -> Share | None:
        """The share or request of one peer, if any."""
        return next((s for s in self.shares.values() if s.peer_id == peer_id), None)

    def tiles(self) -> int:
        """How many tiles the display shows now (1-4)."""
        count = len(self.live())
        wanted = self.layout.tiles or count
        return max(1, min(wanted, count or 1, self.config.cast.max_sources, 4))

    def on_display(self) -> list[Share]:
        """The shares the display shows, in tile order."""
        return self.live()[: self.tiles()]

    def tile_limit(self) -> tuple[int, int] | None:
        """The largest frame a sender should send now: 960x540 with 3 or more tiles."""
        return TILE_MAX if self.tiles() >= 3 else None

    def warming_s(self) -> int:
        """Seconds until the projector has warmed up (0 when ready)."""
        return max(0, round(self.warming_until - time.monotonic()))

    def snapshot(self) -> dict[str, Any]:
        """The ``casting`` part of the room snapshot: counts and ids, never names."""
        live = self.live()
        return {
            "active": len(live),
            "pending": len(self.pending()),
            "presenter": sum(1 for s in live if s.role == Role.PRESENTER),
            "participant": sum(1 for s in live if s.role == Role.PARTICIPANT),
            "camera": sum(1 for s in live if s.kind == "camera"),
            "tiles": self.tiles() if live else 0,
            "max_sources": self.config.cast.max_sources,
            "warming_s": self.warming_s(),
            "sources": [self._public(s) for s in live],
            "streams": [self.streams[s.share_id] for s in live if s.share_id in self.streams],
        }

    def _public(self, share: Share) -> dict[str, Any]:
        return {
            "share_id": share.share_id,
            "role": share.role,
            "kind": share.kind,
            "since": share.since,
            "muted": share.muted,
            "shown": share in self.on_display(),
        }

    # -- sharer operations ----------------------------------------------------------------

    def request(
        self,
        peer_id: str,
        name: str,
        role: str,
        kind: str = "screen",
        preset: str = "slides",
        audio: bool = False,
    ) -> Share:
        """A presenter goes live at once; a participant's request waits for approval."""
        existing = self.of_peer(peer_id)
        if existing is not None:
            return self.touch(existing.share_id) or existing
        if self.room.state.locked and role != Role.PRESENTER:
            raise CastRefused("locked", "the room is locked")
        if role not in (Role.PRESENTER, Role.PARTICIPANT):
            raise CastRefused("forbidden", "only people in the room can share")
        now = self.clock()
        share = Share(
            share_id="s" + secrets.token_hex(6),
            peer_id=peer_id,
            name=name,
            role=str(role),
            kind=kind,
            preset=preset,
            status=PENDING,
            requested_at=now,
            audio=audio,
            expires_at=now + self.config.cast.request_timeout_s,
            seen=time.monotonic(),
        )
        if role == Role.PRESENTER:
            self._check_room()
            share = self._go_live(share)
        else:
            self.shares[share.share_id] = share
            self.room.changed("casting")
        return share

    def touch(self, share_id: str) -> Share | None:
        """The sharer is still there (a keepalive)."""
        share = self.shares.get(share_id)
        if share is not None:
            share = self.shares[share_id] = replace(share, seen=time.monotonic())
        return share

    def withdraw(self, peer_id: str) -> None:
        """The sharer stopped, or a student withdrew the request."""
        share = self.of_peer(peer_id)
        if share is not None:
            self._remove(share, "withdrawn" if share.status == PENDING else "stopped")

    # -- teacher operations ---------------------------------------------------------------

    def approve(self, share_id: str) -> Share:
        """Put a pending student share on the display."""
        share = self._get(share_id)
        if share.status == LIVE:
            return share
        self._check_room()
        return self._go_live(share)

    def deny(self, share_id: str) -> None:
        """Refuse a request (or end a live share)."""
        self._remove(self._get(share_id), "denied")

    def stop_share(self, share_id: str) -> None:
        """End one share."""
        self._remove(self._get(share_id), "stopped")

    def stop_all(self) -> int:
        """End every share and request; returns how many there were."""
        shares = list(self.shares.values())
        for share in shares:
            self._remove(share, "stopped")
        return len(shares)

    def set_layout(self, tiles: int = 0, main: str | None = None, show_names: bool = True) -> None:
        """Choose how many tiles the display shows, the main source and names on or off."""
        if main is not None and main not in self.shares:
            raise CastRefused("unknown_share", "no such share")
        self.layout = Layout(max(0, min(tiles, 4)), main, show_names)
        self.room.changed("casting")

    def mute(self, share_id: str, muted: bool) -> None:
        """Mute or unmute the audio of one share on the display."""
        share = self._get(share_id)
        self.shares[share_id] = replace(share, muted=muted)
        self.room.changed("casting")

    def report(self, share_id: str, stats: dict[str, Any]) -> None:
        """The display's decoder figures for one stream (shown to the caretaker)."""
        if share_id in self.shares:
            self.streams[share_id] = {"share_id": share_id, **stats}

    # -- internals ------------------------------------------------------------------------

    def _get(self, share_id: str) -> Share:
        share = self.shares.get(share_id)
        if share is None:
            raise CastRefused("unknown_share", "no such share")
        return share

    def _check_room(self) -> None:
        if len(self.live()) >= min(self.config.cast.max_sources, 4):
            raise CastRefused("full", "the display already shows the most sources it can")

    def _go_live(self, share: Share) -> Share:
        first = not self.live()
        count = len(self.live()) + 1
        share = replace(
            share,
            status=LIVE,
            since=self.clock(),
            expires_at=None,
            seen=time.monotonic(),
            peak_sources=count,
        )
        self.shares[share.share_id] = share
        for other in self.live():
            self.shares[other.share_id] = replace(
                other, peak_sources=max(other.peak_sources, count)
            )
        self.room.bus.publish(
            CastSessionStarted(
                session_id=share.share_id, role=share.role, kind=share.kind, sources=count
            )
        )
        if first:
            self._ready_task = asyncio.create_task(self._make_ready(), name="casting-ready")
        self.room.changed("casting")
        self._notify("live", share)
        return share

    async def _make_ready(self) -> None:
        """Power the projector on for the first share; the sharer sees the warm-up time."""
        try:
            result = await self.room.ensure_display_ready()
        except Exception as err:  # a broken projector must not stop the share
            logger.warning("could not make the display ready: %s", err)
            return
        warming = float((result or {}).get("warming_s") or 0)
        if warming > 0:
            self.warming_until = time.monotonic() + warming
            self.room.changed("casting")

    def _remove(self, share: Share, why: str) -> None:
        if self.shares.pop(share.share_id, None) is None:
            return
        self.streams.pop(share.share_id, None)
        if self.layout.main == share.share_id:
            self.layout = replace(self.layout, main=None)
        if share.status == LIVE:
            self.room.bus.publish(
                CastSessionEnded(
                    session_id=share.share_id,
                    role=share.role,
                    kind=share.kind,
                    duration_s=round(self.clock() - (share.since or self.clock()), 1),
                    max_sources=share.peak_sources,
                )
            )
        logger.info("share %s ended: %s", share.share_id, why)
        self.room.changed("casting")
        self._notify(why, share)

    def _notify(self, event: str, share: Share) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, share)
            except Exception:
                logger.exception("cast listener failed")
