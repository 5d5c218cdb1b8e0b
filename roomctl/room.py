"""The room core: the one owner of the room's state (participants, roles, pairing, devices,
shares), publishing typed events on the bus. Web, MQTT, mDNS and the kiosk are adapters that
read ``snapshot()`` and call the operations here; none of them keeps room state of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from roomctl.config.model import Config
from roomctl.core.bus import EventBus
from roomctl.core.events import DisplayMessage, HelpRequested, RoomChanged
from roomctl.core.warnings import WarningsRegistry

logger = logging.getLogger(__name__)


class DeviceHandle(Protocol):
    """What the room needs of a device coordinator (``roomctl.coordinator.Coordinator``)."""

    device_id: str
    role: str  # "main_display" | "display" | "plug" | "sensor" | "lamp" | ...

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state: state, capabilities, available, last_error, lockout."""

    async def command(self, name: str, **args: Any) -> None:
        """Queue one command and wait for its result."""

    async def make_ready(self) -> dict[str, Any]:
        """Power on and select the configured input; returns e.g. {"warming_s": 23}."""


@dataclass(frozen=True)
class Message:
    """A message on the display: an announcement, the identify banner, a notice."""

    text: str
    kind: str
    until: float  # time.time()


@dataclass
class RoomState:
    """Mutable room state owned by Room; everything else reads snapshots."""

    messages: list[Message] = field(default_factory=list)
    locked: bool = False
    maintenance: bool = False
    display_heartbeat: float = 0.0  # time.monotonic() of the display page's last heartbeat
    extra: dict[str, Any] = field(default_factory=dict)


class Room:
    """The room core. Constructed with the config, the bus and the warnings registry."""

    def __init__(self, config: Config, bus: EventBus, warnings: WarningsRegistry) -> None:
        self.config = config
        self.bus = bus
        self.warnings = warnings
        self.state = RoomState()
        self.devices: dict[str, DeviceHandle] = {}
        self._snapshot_parts: dict[str, Callable[[], Any]] = {}

    # -- extension points used by other services ---------------------------------------

    def add_device(self, device: DeviceHandle) -> None:
        """Attach a device coordinator (the device layer calls this)."""
        self.devices[device.device_id] = device
        self.changed("devices")

    def add_snapshot_part(self, name: str, provider: Callable[[], Any]) -> None:
        """Add a named section to ``snapshot()`` (e.g. casting, airplay, environment)."""
        self._snapshot_parts[name] = provider

    def changed(self, what: str) -> None:
        """Tell adapters that part of the snapshot changed."""
        self.bus.publish(RoomChanged(what=what))

    # -- operations ----------------------------------------------------------------------

    def main_display(self) -> DeviceHandle | None:
        """The device with role ``main_display`` (or the first display), if any."""
        for dev in self.devices.values():
            if dev.role == "main_display":
                return dev
        return next((d for d in self.devices.values() if d.role == "display"), None)

    async def ensure_display_ready(self) -> dict[str, Any]:
        """Power on the main display and select its input; {} when there is none."""
        display = self.main_display()
        if display is None:
            return {}
        return await display.make_ready()

    async def device_command(self, device_id: str, name: str, **args: Any) -> None:
        """Send one command to a device; KeyError when the device is unknown."""
        await self.devices[device_id].command(name, **args)

    def show_message(self, text: str, seconds: float = 30.0, kind: str = "announcement") -> None:
        """Show ``text`` on the display for ``seconds``."""
        until = time.time() + max(1.0, min(seconds, 3600.0))
        self.state.messages = [m for m in self.state.messages if m.kind != kind]
        self.state.messages.append(Message(text=text[:500], kind=kind, until=until))
        self.bus.publish(DisplayMessage(text=text[:500], seconds=seconds, kind=kind))
        self.changed("messages")

    def request_help(self, topic: str = "general") -> None:
        """The teacher asked for help (``help.request``)."""
        self.bus.publish(HelpRequested(topic=topic))

    def display_heartbeat(self) -> None:
        """The display page is alive (the kiosk watchdog reads ``state.display_heartbeat``)."""
        self.state.display_heartbeat = time.monotonic()

    # -- reading ---------------------------------------------------------------------------

    def mode(self) -> str:
        """idle | in_use | casting | maintenance | error (the telemetry ``state.mode``)."""
        if self.state.maintenance:
            return "maintenance"
        parts = {name: fn() for name, fn in self._snapshot_parts.items() if name == "casting"}
        if parts.get("casting", {}).get("active"):
            return "casting"
        if self.state.extra.get("participants_total"):
            return "in_use"
        return "idle"

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready, name-free view of the whole room (safe to leave the room)."""
        now = time.time()
        snap: dict[str, Any] = {
            "room": {
                "id": self.config.room.id,
                "name": self.config.room.name,
                "site": self.config.room.site,
                "language": self.config.room.language,
            },
            "mode": self.mode(),
            "locked": self.state.locked,
            "devices": {i: d.snapshot() for i, d in self.devices.items()},
            "messages": [
                {"text": m.text, "kind": m.kind, "seconds_left": round(m.until - now)}
                for m in self.state.messages
                if m.until > now
            ],
            "warnings": [
                {"source": w.source, "key": w.key, "message": w.message}
                for w in self.warnings.all()
            ],
        }
        for name, provider in self._snapshot_parts.items():
            snap[name] = provider()
        return snap

