"""Find rooms on the segment by DNS-SD: used by ``roomctl discover`` and the central dashboard.

``browse()`` returns what answered within a timeout; ``RoomWatcher`` keeps browsing and
queues added / updated / removed events (a TXT change is an update, a goodbye a removal).
Everything read from the network is decoded leniently: a malformed answer is skipped, never
raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zeroconf import (
    DNSQuestionType,
    DNSText,
    InterfaceChoice,
    IPVersion,
    RecordUpdate,
    RecordUpdateListener,
    ServiceStateChange,
    Zeroconf,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from roomctl.discovery.records import ROOM_TYPE, decode_txt, parse_txt_wire

logger = logging.getLogger(__name__)

RESOLVE_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class FoundRoom:
    """One advertised room: its TXT fields, host, port and addresses."""

    service: str  # full instance name, e.g. "A101 Physics._roomctl._tcp.local."
    host: str  # e.g. "a101.local."
    port: int
    addresses: tuple[str, ...]
    txt: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The instance label (the room's display name)."""
        return self.service.removesuffix("." + ROOM_TYPE)

    @property
    def url(self) -> str:
        """The join address by mDNS host name."""
        return self._url(self.host.removesuffix("."))

    @property
    def address_urls(self) -> tuple[str, ...]:
        """The join address by each IP address (for clients without mDNS resolution)."""
        return tuple(self._url(a if ":" not in a else f"[{a}]") for a in self.addresses)

    def _url(self, host: str) -> str:
        scheme = "https" if self.txt.get("tls") == "1" else "http"
        default = 443 if scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        path = self.txt.get("path", "/")
        return f"{scheme}://{host}{port}{path if path.startswith('/') else '/' + path}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "service": self.service,
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "addresses": list(self.addresses),
            "url": self.url,
            "address_urls": list(self.address_urls),
            "txt": dict(self.txt),
        }


@dataclass(frozen=True)
class RoomEvent:
    """A change seen while browsing: ``added``, ``updated`` or ``removed``."""

    kind: str
    service: str
    room: FoundRoom | None  # None for ``removed``


def found_room(info: AsyncServiceInfo) -> FoundRoom | None:
    """A FoundRoom from a resolved ServiceInfo; None when the answer is incomplete."""
    if not info.server or not info.port:
        return None
    addresses = tuple(info.parsed_scoped_addresses())
    return FoundRoom(info.name, info.server, info.port, addresses, decode_txt(info.properties))


class _TxtListener(RecordUpdateListener):
    """Every room TXT record received, including a value the cache still holds.

    python-zeroconf's browser reports an update only for a record not already cached, so a
    TXT that flips back (idle -> in_use -> idle within the old record's flush grace) would
    be missed; the dashboard needs each flip.
    """

    def __init__(self, watcher: RoomWatcher) -> None:
        super().__init__()
        self.watcher = watcher

    def async_update_records(self, zc: Zeroconf, now: float, records: list[RecordUpdate]
                             ) -> None:
        """Hand fresh room TXT records to the watcher."""
        for update in records:
            record = update.new
            if (isinstance(record, DNSText) and not record.is_expired(now)
                    and record.name.lower().endswith(ROOM_TYPE)):
                self.watcher.txt_seen(record.name, record.text)


class RoomWatcher:
    """Browses ``_roomctl._tcp`` until stopped; ``events`` queues the changes."""

    def __init__(self, interfaces: Sequence[str] = (), zc: AsyncZeroconf | None = None) -> None:
        self._interfaces = list(interfaces)
        self._zc = zc
        self._own_zc = zc is None
        self._browser: AsyncServiceBrowser | None = None
        self._changes: asyncio.Queue[tuple[str, ServiceStateChange]] = asyncio.Queue()
        self.events: asyncio.Queue[RoomEvent] = asyncio.Queue()
        self.rooms: dict[str, FoundRoom] = {}
        self._task: asyncio.Task[None] | None = None
        self._listener = _TxtListener(self)
        self._latest_txt: dict[str, dict[str, str]] = {}  # in arrival order: the truth
        self._resolving: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Start browsing."""
        if self._zc is None:
            choice = self._interfaces or InterfaceChoice.All
            self._zc = AsyncZeroconf(interfaces=choice, ip_version=IPVersion.V4Only)
        self._task = asyncio.create_task(self._resolve_loop(), name="mdns-browse")
        self._zc.zeroconf.async_add_listener(self._listener, None)
        # QM, not zeroconf's default QU first query: a unicast reply to port 5353 reaches only
        # one of the sockets sharing it (avahi, another responder), so it is often lost
        self._browser = AsyncServiceBrowser(
            self._zc.zeroconf, ROOM_TYPE, handlers=[self._on_change],
            question_type=DNSQuestionType.QM,
        )

    async def stop(self) -> None:
        """Stop browsing and close what this watcher opened; idempotent."""
        if self._zc is not None:
            self._zc.zeroconf.async_remove_listener(self._listener)
        browser, self._browser = self._browser, None
        if browser is not None:
            await browser.async_cancel()
        tasks = [t for t in (self._task, *self._resolving.values()) if t is not None]
        self._task, self._resolving = None, {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        zc, self._zc = self._zc, None
        if zc is not None and self._own_zc:
            await zc.async_close()

    def txt_seen(self, name: str, raw: bytes) -> None:
        """A TXT record for ``name`` arrived: report it when it changes a known room."""
        txt = parse_txt_wire(raw)
        self._latest_txt[name] = txt
        room = self.rooms.get(name)
        if room is not None and txt != room.txt:
            self.rooms[name] = replace(room, txt=txt)
            self.events.put_nowait(RoomEvent("updated", name, self.rooms[name]))

    def _on_change(self, zeroconf: Zeroconf, service_type: str, name: str,
                   state_change: ServiceStateChange) -> None:
        self._changes.put_nowait((name, state_change))

    async def _resolve_loop(self) -> None:
        while True:
            name, change = await self._changes.get()
            if change is ServiceStateChange.Removed:
                pending = self._resolving.pop(name, None)
                if pending is not None:
                    pending.cancel()
                self._latest_txt.pop(name, None)
                if self.rooms.pop(name, None) is not None:
                    self.events.put_nowait(RoomEvent("removed", name, None))
            elif name not in self._resolving:  # rooms resolve side by side, not in a queue
                self._resolving[name] = asyncio.create_task(self._resolve_one(name))

    async def _resolve_one(self, name: str) -> None:
        try:
            room = await self._resolve(name)
            if room is not None and name in self._latest_txt:
                # the cache may still hold the TXT this one replaced; the wire order is right
                room = replace(room, txt=self._latest_txt[name])
            if room is not None and self.rooms.get(name) != room:
                kind = "updated" if name in self.rooms else "added"
                self.rooms[name] = room
                self.events.put_nowait(RoomEvent(kind, name, room))
        finally:
            if self._resolving.get(name) is asyncio.current_task():
                del self._resolving[name]

    async def _resolve(self, name: str) -> FoundRoom | None:
        assert self._zc is not None
        info = AsyncServiceInfo(ROOM_TYPE, name)
        try:
            zc = self._zc.zeroconf
            if not await info.async_request(zc, RESOLVE_TIMEOUT_MS, DNSQuestionType.QM):
                return None
            return found_room(info)
        except Exception as err:  # a malformed answer from the network must not end browsing
            logger.debug("could not resolve %s: %s", name, err)
            return None


async def browse(timeout: float = 3.0, interfaces: Sequence[str] = (),
                 zc: AsyncZeroconf | None = None) -> list[FoundRoom]:
    """Rooms that answered within ``timeout`` seconds, sorted by name."""
    watcher = RoomWatcher(interfaces, zc)
    await watcher.start()
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watcher.events.get(), left)
    finally:
        await watcher.stop()
    return sorted(watcher.rooms.values(), key=lambda r: (r.name.lower(), r.service))
