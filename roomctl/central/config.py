"""The dashboard's own TOML config: broker, store, web, registry, users, thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from roomctl.config.loader import read_toml
from roomctl.config.schema import described, parse, secret

ROLES = ("viewer", "caretaker", "admin")


@dataclass(frozen=True)
class BrokerConfig:
    """The central MQTT broker the dashboard subscribes to."""

    url: str = described("mqtt://127.0.0.1:1883", "mqtt://host:port or mqtts://host:port")
    client_id: str = described("roomctl-central-1", "unique per instance; keeps the session")
    share_group: str = described("ingest", "shared subscription group for events")
    session_expiry_s: int = 7 * 24 * 3600
    keepalive_s: int = 30
    username: str = ""
    password: str = secret("")
    ca_file: str = ""

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        if not self.url.startswith(("mqtt://", "mqtts://")):
            return [("url", "must start with mqtt:// or mqtts://")]
        return []


@dataclass(frozen=True)
class StoreConfig:
    """Where history lives: SQLite by default, PostgreSQL for large fleets."""

    url: str = described("sqlite:///var/lib/roomctl-central/central.db", "sqlite:///PATH or postgresql://…")
    batch_max: int = 500

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        if not self.url.startswith(("sqlite://", "postgresql://", "postgres://")):
            return [("url", "must start with sqlite:// or postgresql://")]
        return []


@dataclass(frozen=True)
class WebConfig:
    """The dashboard's HTTP listener."""

    host: str = "127.0.0.1"
    port: int = 8090
    session_hours: int = 12


@dataclass(frozen=True)
class UserConfig:
    """One dashboard user; ``password_hash`` comes from ``roomctl dashboard --hash-password``."""

    name: str
    role: str
    password_hash: str = secret("")

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        if self.role not in ROLES:
            return [("role", f"must be one of {', '.join(ROLES)}")]
        return []


@dataclass(frozen=True)
class RoomEntry:
    """IT's placement of one device; the device's own claim is never used."""

    device_id: str
    town: str
    school: str
    room: str


@dataclass(frozen=True)
class AlertConfig:
    """Thresholds behind the needs-attention list, also pushed to rooms as ``cfg``."""

    offline_after_min: int = 10
    lamp_pct_warn: int = 85
    filter_pct_warn: int = 90
    tz: str = "Europe/Helsinki"
    business_start: str = "07:30"
    business_end: str = "17:00"
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    nightly_off: str = described("22:00", "local time of the nightly projector off; empty: none")


EDITABLE_ALERTS = ("offline_after_min", "lamp_pct_warn", "filter_pct_warn", "business_start",
                   "business_end", "nightly_off")  # what /settings changes; saved in the store


def apply_settings(alerts: AlertConfig, saved: dict[str, Any]) -> tuple[AlertConfig, list[str]]:
    """``alerts`` with the saved dashboard settings over it, and the names it had to skip.

    A saved value of another type than the field's (a store edited by hand, a field changed
    between versions) is skipped, not applied, so a bad row never stops the dashboard."""
    values: dict[str, Any] = {}
    skipped: list[str] = []
    for name, value in saved.items():
        current = getattr(alerts, name, None)
        try:
            ok = name in EDITABLE_ALERTS and type(value) is type(current)
            ok = ok and setting_value(current, str(value)) == value
        except ValueError:
            ok = False
        if ok:
            values[name] = value
        else:
            skipped.append(name)
    return replace(alerts, **values), skipped


def setting_value(old: Any, text: str) -> Any:
    """Parse one settings field like its current value: a bounded int or an HH:MM time."""
    text = text.strip()
    if isinstance(old, int):
        value = int(text)
        if not 0 <= value <= 10_000:
            raise ValueError(text)
        return value
    if text and (len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit()
                 or int(text[:2]) > 23 or int(text[3:]) > 59):
        raise ValueError(text)
    return text


@dataclass(frozen=True)
class CentralConfig:
    """The whole dashboard config file."""

    broker: BrokerConfig = field(default_factory=BrokerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    web: WebConfig = field(default_factory=WebConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    users: tuple[UserConfig, ...] = ()
    rooms: tuple[RoomEntry, ...] = ()
    registry_file: str = described("", "optional extra TOML file of [[rooms]] entries")
    command_expiry_s: int = 120


@dataclass(frozen=True)
class RegistryFile:
    """A registry file kept apart from the main config (IT may generate it)."""

    rooms: tuple[RoomEntry, ...] = ()


def load_central_config(path: str | Path) -> CentralConfig:
    """Load and validate the dashboard config, naming file, key and problem."""
    path = Path(path)
    return parse(CentralConfig, read_toml(path), file=str(path))


def load_registry_file(path: str | Path) -> tuple[RoomEntry, ...]:
    """Read ``[[rooms]]`` entries from a separate registry file."""
    path = Path(path)
    return parse(RegistryFile, read_toml(path), file=str(path)).rooms
