"""The seam between coordinators and drivers: device state, capabilities, the Driver ABC.

Drivers speak one protocol to one device and know nothing of aiohttp, MQTT or the room.
Coordinators (``roomctl.coordinator``) own polling, locking and availability on top.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Power(enum.StrEnum):
    """Power states every driver maps its device's states onto."""

    OFF = "off"
    WARMING = "warming"
    ON = "on"
    COOLING = "cooling"
    ERROR = "error"
    UNKNOWN = "unknown"


class Capability(enum.StrEnum):
    """What a device can do; the UI generates its buttons from these."""

    POWER = "power"
    INPUT = "input"
    BLANK = "blank"  # AV mute / picture blank
    FREEZE = "freeze"
    VOLUME = "volume"
    MUTE = "mute"  # audio mute
    LAMP = "lamp"
    FILTER = "filter"
    ERRORS = "errors"
    INFO = "info"  # model / name / serial
    BRIGHTNESS = "brightness"
    READINGS = "readings"  # sensor values (CO2, PM2.5, ...)
    POWER_DRAW = "power_draw"


@dataclass(frozen=True)
class DeviceState:
    """The last known state of a device; None means "not reported by this device"."""

    power: Power = Power.UNKNOWN
    input: str | None = None
    blank: bool | None = None
    freeze: bool | None = None
    volume: int | None = None
    mute: bool | None = None
    lamp_hours: int | None = None
    filter_hours: int | None = None
    errors: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None
    name: str | None = None
    brightness: int | None = None
    readings: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (enums as strings, mappings as dicts)."""
        return {
            "power": str(self.power),
            "input": self.input,
            "blank": self.blank,
            "freeze": self.freeze,
            "volume": self.volume,
            "mute": self.mute,
            "lamp_hours": self.lamp_hours,
            "filter_hours": self.filter_hours,
            "errors": dict(self.errors),
            "model": self.model,
            "name": self.name,
            "brightness": self.brightness,
            "readings": dict(self.readings),
        }


@dataclass(frozen=True)
class Capabilities:
    """A device's declared capabilities and the inputs it offers (names as shown to users)."""

    features: frozenset[Capability] = frozenset()
    inputs: tuple[str, ...] = ()
    volume_range: tuple[int, int] = (0, 100)
    rated_lamp_hours: int | None = None
    rated_filter_hours: int | None = None
    warmup_s: float = 0.0
    cooldown_s: float = 0.0

    def has(self, cap: Capability) -> bool:
        """Whether the device declares ``cap``."""
        return cap in self.features


class Driver(ABC):
    """One device, one protocol. Constructors do no I/O; ``connect`` starts it.

    Commands (``command``): ``power`` (on: bool), ``input`` (input: str), ``blank`` (on: bool),
    ``freeze`` (on: bool), ``volume`` (level: int), ``mute`` (on: bool),
    ``brightness`` (level: int). Drivers raise the ``roomctl.core.errors.DeviceError`` family.
    """

    capabilities: Capabilities = Capabilities()

    @abstractmethod
    async def connect(self) -> None:
        """Open the transport and authenticate; raise Unavailable/AuthenticationFailed."""

    @abstractmethod
    async def close(self) -> None:
        """Release the transport; safe to call twice."""

    @abstractmethod
    async def poll(self) -> DeviceState:
        """Query the device and return its current state."""

    @abstractmethod
    async def command(self, name: str, **args: Any) -> None:
        """Run one command; raise CommandRejected for unknown names or bad arguments."""
