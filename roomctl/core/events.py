"""The room's event types. Telemetry maps these to ``evt/{category}`` messages.

Events carry roles and counts, never participant names: they may leave the room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from roomctl.core.bus import Event


@dataclass(frozen=True, kw_only=True)
class RoomChanged(Event):
    """Something in the room snapshot changed; adapters re-read ``Room.snapshot()``."""

    name: ClassVar[str] = "room.changed"
    what: str = ""


@dataclass(frozen=True, kw_only=True)
class ParticipantJoined(Event):
    """A participant joined through pairing (``pairing.join``)."""

    name: ClassVar[str] = "pairing.join"
    role: str
    via: str = "code"


@dataclass(frozen=True, kw_only=True)
class ParticipantLeft(Event):
    """A participant left or their session expired."""

    name: ClassVar[str] = "pairing.leave"
    role: str


@dataclass(frozen=True, kw_only=True)
class PairingFailed(Event):
    """A join attempt was refused (``pairing.fail``)."""

    name: ClassVar[str] = "pairing.fail"
    reason: str


@dataclass(frozen=True, kw_only=True)
class PairingRotated(Event):
    """The pairing code moved to a new time window (or was rotated on demand)."""

    name: ClassVar[str] = "pairing.rotated"
    window: int


@dataclass(frozen=True, kw_only=True)
class DeviceStateChanged(Event):
    """A device coordinator has a new state (any field)."""

    name: ClassVar[str] = "device.state"
    device_id: str
    state: Any  # roomctl.drivers.base.DeviceState


@dataclass(frozen=True, kw_only=True)
class ProjectorPower(Event):
    """The main display's power state changed (``projector.power``)."""

    name: ClassVar[str] = "projector.power"
    device_id: str
    power: str
    previous: str


@dataclass(frozen=True, kw_only=True)
class ProjectorInput(Event):
    """The main display's input changed (``projector.input``)."""

    name: ClassVar[str] = "projector.input"
    device_id: str
    input: str


@dataclass(frozen=True, kw_only=True)
class ProjectorError(Event):
    """A device reports an error condition (``projector.error``)."""

    name: ClassVar[str] = "projector.error"
    device_id: str
    code: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class ProjectorErrorCleared(Event):
    """A device's error condition cleared (``projector.error_cleared``)."""

    name: ClassVar[str] = "projector.error_cleared"
    device_id: str
    code: str


@dataclass(frozen=True, kw_only=True)
class LampThreshold(Event):
    """Lamp or filter hours crossed the warning threshold (``projector.lamp_threshold``)."""

    name: ClassVar[str] = "projector.lamp_threshold"
    device_id: str
    part: str  # "lamp" | "filter"
    hours: int
    rated_hours: int


@dataclass(frozen=True, kw_only=True)
class DeviceAvailability(Event):
    """A device became unavailable or recovered."""

    name: ClassVar[str] = "device.availability"
    device_id: str
    available: bool
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class CastSessionStarted(Event):
    """A screen share started (``cast.session_start``); role only, never the name."""

    name: ClassVar[str] = "cast.session_start"
    session_id: str
    role: str
    kind: str = "screen"  # screen | camera | airplay
    sources: int = 1


@dataclass(frozen=True, kw_only=True)
class CastSessionEnded(Event):
    """A screen share ended (``cast.session_end``)."""

    name: ClassVar[str] = "cast.session_end"
    session_id: str
    role: str
    duration_s: float
    max_sources: int = 1
    kind: str = "screen"


@dataclass(frozen=True, kw_only=True)
class HelpRequested(Event):
    """The teacher pressed "Call for help" (``help.request``)."""

    name: ClassVar[str] = "help.request"
    topic: str = "general"


@dataclass(frozen=True, kw_only=True)
class DisplayMessage(Event):
    """Show a message on the room display (announcement, identify banner, notices)."""

    name: ClassVar[str] = "display.message"
    text: str
    seconds: float = 30.0
    kind: str = "announcement"  # announcement | identify | notice


@dataclass(frozen=True, kw_only=True)
class SystemBoot(Event):
    """The appliance started (``system.boot``)."""

    name: ClassVar[str] = "system.boot"
    version: str
    boot_id: str


@dataclass(frozen=True, kw_only=True)
class UsageDaily(Event):
    """The day's usage summary (``usage.daily``)."""

    name: ClassVar[str] = "usage.daily"
    day: str
    projector_on_s: float
    cast_s: float
    sessions_over_5min: int
    peak_participants: int


@dataclass(frozen=True, kw_only=True)
class SensorThreshold(Event):
    """A room sensor crossed a threshold, e.g. CO2 sustained high (``environment.co2_high``)."""

    name: ClassVar[str] = "environment.threshold"
    device_id: str
    reading: str
    value: float
    threshold: float
    active: bool


@dataclass(frozen=True, kw_only=True)
class WarningRaised(Event):
    """A warning appeared in the warnings registry (a disabled device, a bad config key)."""

    name: ClassVar[str] = "system.warning"
    key: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
