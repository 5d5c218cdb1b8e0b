"""The appliance's configuration model: one frozen dataclass per TOML section."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from roomctl.config.schema import described, secret
from roomctl.discovery.config import AirplayConfig, MdnsConfig
from roomctl.telemetry.config import MqttConfig

Language = Literal["fi", "sv", "en"]
ROOM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class RoomConfig:
    """Who this room is."""

    id: str
    name: str = ""
    site: str = ""
    language: Language = "fi"
    timezone: str = "Europe/Helsinki"

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        problems = []
        if self.id and not ROOM_ID.match(self.id):
            problems.append(("id", "use letters, digits, '-' or '_' (at most 32)"))
        try:
            # also warms zoneinfo's cache, so no service reads the zone file on the event loop
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            problems.append(
                ("timezone", f"unknown time zone {self.timezone!r} (e.g. Europe/Helsinki)")
            )
        return problems


@dataclass(frozen=True)
class WebConfig:
    """The appliance's web server."""

    bind: tuple[str, ...] = ("127.0.0.1",)
    port: int = 8080
    tls_port: int = 8443
    tls_cert: str = ""
    tls_key: str = ""
    public_url: str = described("", "join address shown on the display, e.g. https://a101.koulu.fi")
    display_keys: tuple[str, ...] = secret(())
    # peers trusted as the room display (the kiosk on the Pi itself); [] trusts only keys
    display_hosts: tuple[str, ...] = ("127.0.0.1", "::1")
    max_request_kb: int = 64
    RENAMED: ClassVar[dict[str, str]] = {
        "host": "bind",
        "address": "bind",
        "cert": "tls_cert",
        "key": "tls_key",
    }

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        problems = []
        if not 0 < self.port < 65536:
            problems.append(("port", "must be between 1 and 65535"))
        if bool(self.tls_cert) != bool(self.tls_key):
            problems.append(("tls_cert", "tls_cert and tls_key go together"))
        return problems


@dataclass(frozen=True)
class PairingConfig:
    """The rotating code and QR on the display."""

    period_s: int = 60
    grace_windows: int = 1
    digits: int = 6
    # wrong codes allowed per client address within per_client_window_s (README: the arithmetic)
    per_client_attempts: int = 1
    per_client_window_s: int = 60
    per_room_attempts: int = 10
    per_room_window_s: int = 60

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        problems = []
        if not 5 <= self.period_s <= 3600:
            problems.append(("period_s", "must be between 5 and 3600"))
        if not 0 <= self.grace_windows <= 2:
            problems.append(("grace_windows", "must be 0, 1 or 2"))
        if not 6 <= self.digits <= 8:
            problems.append(("digits", "must be between 6 and 8"))
        if self.per_client_window_s < self.period_s:
            problems.append(
                (
                    "per_client_window_s",
                    "must be at least period_s, or a client gets extra guesses per code",
                )
            )
        if self.per_client_attempts < 1 or self.per_room_attempts < 1:
            problems.append(("per_client_attempts", "limits must be at least 1"))
        return problems


@dataclass(frozen=True)
class RolesConfig:
    """Who may present and who may see the caretaker page."""

    teacher_pin_hash: str = secret("")
    caretaker_password_hash: str = secret("")
    policy: Literal["pin", "first_joiner_is_presenter"] = "pin"
    session_idle_min: int = 120
    session_end_of_day: str = "22:00"

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", self.session_end_of_day):
            return [("session_end_of_day", "use HH:MM")]
        return []


@dataclass(frozen=True)
class LinkConfig:
    """A school service shown on the participant's page (the room's digital desktop)."""

    title: str
    url: str

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        if not self.url.startswith(("https://", "http://")):
            return [("url", "must start with https:// or http://")]
        return []


@dataclass(frozen=True)
class PowerConfig:
    """When the room's displays switch themselves off."""

    idle_off_min: int = 20
    daily_off: str = "18:00"
    business_hours: str = "07:30-17:00"


@dataclass(frozen=True)
class CastConfig:
    """Browser casting (WebRTC)."""

    max_sources: int = 4
    request_timeout_s: int = 120
    ice_servers: tuple[Mapping[str, Any], ...] = ()
    show_names: bool = True


@dataclass(frozen=True)
class EnvironmentConfig:
    """Room air quality thresholds."""

    co2_threshold_ppm: int = 1000
    co2_sustain_min: float = 5.0


@dataclass(frozen=True)
class LoggingConfig:
    """Log output."""

    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class Config:
    """The whole appliance configuration."""

    room: RoomConfig
    web: WebConfig = field(default_factory=WebConfig)
    pairing: PairingConfig = field(default_factory=PairingConfig)
    roles: RolesConfig = field(default_factory=RolesConfig)
    links: tuple[LinkConfig, ...] = ()
    devices: tuple[Mapping[str, Any], ...] = ()  # validated per device by the device layer
    scenes: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    mdns: MdnsConfig = field(default_factory=MdnsConfig)
    airplay: AirplayConfig = field(default_factory=AirplayConfig)
    power: PowerConfig = field(default_factory=PowerConfig)
    cast: CastConfig = field(default_factory=CastConfig)
    environment: EnvironmentConfig = field(default_factory=EnvironmentConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    state_dir: str = "/var/lib/roomctl"
    RENAMED: ClassVar[dict[str, str]] = {"device": "devices", "link": "links", "telemetry": "mqtt"}
