"""Which bus events leave the room as ``evt/...`` messages, and with which fields.

A table, not code: each forwarded event class lists the fields copied into ``data``. Classes
not listed (room.changed, device.state, display.message, ...) never leave the room as events.
"""

from __future__ import annotations

import re
from typing import Any

from roomctl.core import events as ev
from roomctl.core.bus import Event

FIELDS: dict[type[Event], tuple[str, ...]] = {
    ev.ProjectorPower: ("device_id", "power", "previous"),
    ev.ProjectorInput: ("device_id", "input"),
    ev.ProjectorError: ("device_id", "code", "detail"),
    ev.ProjectorErrorCleared: ("device_id", "code"),
    ev.LampThreshold: ("device_id", "part", "hours", "rated_hours"),
    ev.DeviceAvailability: ("device_id", "available", "error"),
    ev.CastSessionStarted: ("session_id", "role", "kind", "sources"),
    ev.CastSessionEnded: ("session_id", "role", "duration_s", "max_sources", "kind"),
    ev.ParticipantJoined: ("role", "via"),
    ev.ParticipantLeft: ("role",),
    ev.PairingFailed: ("reason",),
    ev.HelpRequested: ("topic",),
    ev.UsageDaily: ("day", "projector_on_s", "cast_s", "sessions_over_5min", "peak_participants"),
    ev.SensorThreshold: ("device_id", "reading", "value", "threshold", "active"),
    ev.WarningRaised: ("key",),
}

# Event types kept longest when the outbox must drop rows.
PRECIOUS = frozenset({"usage.daily", "system.outbox_overflow", "system.boot"})

# A short machine token; anything else (free text) is replaced so it cannot leave the room.
_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,48}$")
_TOKEN_FIELDS = frozenset({"role", "via", "reason", "topic", "kind", "part", "reading", "key"})


def _clean(key: str, value: Any) -> Any:
    if key in _TOKEN_FIELDS:
        return value if isinstance(value, str) and _TOKEN.match(value) else "other"
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, float):
        return round(value, 3)
    return value


def event_data(event: Event) -> tuple[str, dict[str, Any]] | None:
    """``(type, data)`` of a forwarded event, or None when the event stays in the room."""
    fields = FIELDS.get(type(event))
    if fields is None:
        return None
    data = {key: _clean(key, getattr(event, key)) for key in fields}
    if isinstance(event, ev.ProjectorPower):
        data["on"] = event.power in ("on", "warming")
    if isinstance(event, ev.LampThreshold) and event.rated_hours:
        data["pct"] = round(100.0 * event.hours / event.rated_hours, 1)
    return event.name, data


def forwarded_types() -> tuple[type[Event], ...]:
    """The bus event classes telemetry subscribes to."""
    return tuple(FIELDS)
