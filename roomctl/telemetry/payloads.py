"""Pure builders of every outgoing payload. No I/O; the JSON Schemas in ``schemas/`` match these.

Whitelists, not blacklists: each builder copies only named fields, so nothing new (a
participant's name, a typed message) can leak into telemetry by being added to a snapshot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from roomctl.telemetry.topics import SCHEMA_VERSION

V = SCHEMA_VERSION
MODES = ("idle", "in_use", "casting", "maintenance", "error")


@dataclass(frozen=True)
class Stamp:
    """When something happened: wall clock, monotonic clock and whether the wall clock is synced."""

    ts: str
    mono_ms: int
    clk_sync: bool


def iso(epoch: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2025-09-01T08:05:12.004Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: Any) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp; ValueError when malformed."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return value.timestamp()


def stamp(clk_sync: bool, now: float | None = None) -> Stamp:
    """A stamp for the present moment."""
    wall = time.time() if now is None else now
    return Stamp(iso(wall), int(time.monotonic() * 1000), clk_sync)


def status_birth(dev: str, boot_id: str, conn_seq: int, at: Stamp, sw: str) -> dict[str, Any]:
    """The retained ``status`` published right after each CONNACK."""
    return {
        "v": V,
        "online": True,
        "dev": dev,
        "boot_id": boot_id,
        "conn_seq": conn_seq,
        "ts": at.ts,
        "clk_sync": at.clk_sync,
        "sw": sw,
    }


def status_offline(
    dev: str, boot_id: str, conn_seq: int, reason: str, at: Stamp | None = None
) -> dict[str, Any]:
    """The Will (``lost``, fixed at CONNECT) or the explicit ``shutdown`` before a clean stop."""
    body: dict[str, Any] = {
        "v": V,
        "online": False,
        "reason": reason,
        "dev": dev,
        "boot_id": boot_id,
        "conn_seq": conn_seq,
    }
    if at is not None:
        body["ts"] = at.ts
    return body


def envelope(
    dev: str,
    boot_id: str,
    seq: int,
    event_id: str,
    at: Stamp,
    event_type: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The ``evt/{category}`` envelope."""
    return {
        "v": V,
        "id": event_id,
        "dev": dev,
        "boot_id": boot_id,
        "seq": seq,
        "ts": at.ts,
        "mono_ms": at.mono_ms,
        "clk_sync": at.clk_sync,
        "type": event_type,
        "data": data,
    }


def cmd_result(
    cmd_id: str | None, name: str, status: str, at: Stamp, detail: Any
) -> dict[str, Any]:
    """The answer to one command."""
    return {"v": V, "cmd_id": cmd_id, "name": name, "status": status, "ts": at.ts, "detail": detail}


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short(value: Any) -> str | None:
    return str(value)[:64] if value is not None else None


def projector_part(display: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``projector`` section from the main display's coordinator snapshot."""
    if display is None:
        return None
    st, caps = _dict(display.get("state")), _dict(display.get("capabilities"))
    errors = _dict(st.get("errors"))
    return {
        "reachable": bool(display.get("available", False)),
        "power": str(st.get("power") or "unknown"),
        "input": _short(st.get("input")),
        "lamp_hours": _int_or_none(st.get("lamp_hours")),
        "lamp_rated": _int_or_none(caps.get("rated_lamp_hours")),
        "filter_hours": _int_or_none(st.get("filter_hours")),
        "filter_rated": _int_or_none(caps.get("rated_filter_hours")),
        "errors": sorted(str(code)[:32] for code in errors),
        "model": _short(st.get("model")),
    }


def participant_count(snapshot: dict[str, Any], extra: dict[str, Any]) -> int:
    """How many participants are paired, from whatever shape the room reports (never names)."""
    part = snapshot.get("participants")
    if isinstance(part, bool):
        part = None
    if isinstance(part, int):
        return part
    if isinstance(part, dict):
        for key in ("count", "total"):
            if isinstance(part.get(key), int):
                return int(part[key])
        return len(part.get("list", ())) if isinstance(part.get("list"), list) else 0
    if isinstance(part, list):
        return len(part)
    return int(extra.get("participants_total") or 0)


def cast_part(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Counts only from the ``casting`` snapshot part."""
    cast = _dict(snapshot.get("casting"))
    counts = {
        key: int(value)
        for key, value in cast.items()
        if isinstance(value, int) and not isinstance(value, bool) and key != "active"
    }
    return {"active": bool(cast.get("active", False)), **counts}


ENVIRONMENT_READINGS = ("co2_ppm", "pm25_ug_m3", "tvoc", "temperature_c", "humidity_pct")


def environment_part(snapshot: dict[str, Any]) -> dict[str, Any] | None:
    """Room air readings as numbers only (the ``environment`` part), or None without a sensor."""
    env = _dict(snapshot.get("environment"))
    readings = _dict(env.get("readings"))
    numbers = {
        key: round(float(readings[key]), 1)
        for key in ENVIRONMENT_READINGS
        if isinstance(readings.get(key), int | float) and not isinstance(readings.get(key), bool)
    }
    if not numbers:
        return None
    return {**numbers, "co2_high": bool(env.get("co2_high", False))}


def derive_mode(room_mode: str, projector: dict[str, Any] | None) -> str:
    """The room's mode, raised to ``error`` when idle/in use with a faulty main display."""
    faulty = projector is not None and (projector["power"] == "error" or bool(projector["errors"]))
    if room_mode in ("idle", "in_use") and faulty:
        return "error"
    return room_mode if room_mode in MODES else "idle"


def state(
    snapshot: dict[str, Any],
    *,
    extra: dict[str, Any],
    display: dict[str, Any] | None,
    head: dict[str, Any],
    health: dict[str, Any],
    cfg_version: int | None,
) -> dict[str, Any]:
    """The retained ``state`` snapshot; ``head`` holds v/dev/boot_id/seq/ts/mono_ms."""
    projector = projector_part(display)
    warnings = snapshot.get("warnings")
    warnings = warnings if isinstance(warnings, list) else []
    return {
        **head,
        "mode": derive_mode(str(snapshot.get("mode", "idle")), projector),
        "projector": projector,
        "cast": cast_part(snapshot),
        "participants": participant_count(snapshot, extra),
        "locked": bool(snapshot.get("locked", False)),
        "warnings": sorted({str(w.get("key", ""))[:64] for w in warnings if isinstance(w, dict)}),
        "cfg_version": cfg_version,
        "health": health,
        "environment": environment_part(snapshot),
    }


def meta(
    dev: str, boot_id: str, room: dict[str, Any], devices: dict[str, Any], versions: dict[str, str]
) -> dict[str, Any]:
    """The retained ``meta``: versions, the claimed room, devices and their capabilities."""
    listed = []
    for device_id, snap in sorted(devices.items()):
        features = _dict(snap.get("capabilities")).get("features", [])
        features = features if isinstance(features, list) else []
        listed.append(
            {
                "id": str(device_id),
                "role": str(snap.get("role", "")),
                "capabilities": sorted(str(f) for f in features),
            }
        )
    return {
        "v": V,
        "schema": SCHEMA_VERSION,
        "dev": dev,
        "boot_id": boot_id,
        "room": {key: str(room.get(key, "")) for key in ("id", "name", "site")},
        "devices": listed,
        "versions": versions,
    }
