"""Pure decoding of the v1 telemetry topics and payloads; garbage raises ProtocolError."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from roomctl.core import jsonin
from roomctl.core.errors import ProtocolError

PREFIX = "roomctl/v1/dev/"
DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
KINDS = ("status", "meta", "state", "evt", "cmd_result", "metrics")
MAX_SEQ = 2**63 - 1  # the store's BIGINT; a larger seq would fail the whole batch's write


@dataclass(frozen=True)
class Topic:
    """A parsed device topic."""

    device_id: str
    kind: str
    category: str = ""


@dataclass(frozen=True)
class Event:
    """One event from ``evt/{category}``."""

    device_id: str
    event_id: str
    boot_id: str
    seq: int
    ts: float
    category: str
    type: str
    data: dict[str, Any]


def parse_topic(topic: str) -> Topic:
    """Split ``roomctl/v1/dev/{id}/{kind}[/{category}]``."""
    if not topic.startswith(PREFIX):
        raise ProtocolError(f"not a device topic: {topic!r}")
    parts = topic[len(PREFIX) :].split("/")
    if not DEVICE_ID.match(parts[0]) or len(parts) < 2 or parts[1] not in KINDS:
        raise ProtocolError(f"bad device topic: {topic!r}")
    if parts[1] == "evt":
        if len(parts) != 3 or not parts[2]:
            raise ProtocolError(f"bad event topic: {topic!r}")
        return Topic(parts[0], "evt", parts[2])
    if len(parts) != 2:
        raise ProtocolError(f"bad device topic: {topic!r}")
    return Topic(parts[0], parts[1])


def load_json(payload: bytes) -> dict[str, Any]:
    """A JSON object from a payload, or ProtocolError."""
    try:
        data = jsonin.loads(payload)
    except jsonin.TooDeep:
        raise ProtocolError("payload is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError(f"payload is not JSON: {err}") from None
    if not isinstance(data, dict):
        raise ProtocolError("payload is not a JSON object")
    if data.get("v", 1) != 1:
        raise ProtocolError(f"unsupported schema version {data.get('v')!r}")
    return data


def parse_ts(value: Any) -> float:
    """Epoch seconds from an RFC 3339 timestamp."""
    if not isinstance(value, str):
        raise ProtocolError(f"timestamp is not a string: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProtocolError(f"bad timestamp {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso(ts: float) -> str:
    """RFC 3339 UTC with milliseconds, as the devices write it."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _field(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProtocolError(f"field {key!r} missing or not {kind.__name__}")
    if isinstance(value, str):
        _storable(key, value)
    return value


def _storable(key: str, value: str) -> str:
    """A string both stores can hold: no NUL (PostgreSQL) and no lone surrogate (UTF-8)."""
    if "\x00" in value or _has_surrogate(value):
        raise ProtocolError(f"field {key!r} has characters that cannot be stored")
    return value


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _seq(data: dict[str, Any]) -> int:
    value: int = _field(data, "seq", int)
    if not 0 <= value <= MAX_SEQ:
        raise ProtocolError(f"seq out of range: {value}")
    return value


def decode_event(topic: Topic, payload: bytes) -> Event:
    """An Event from an ``evt/*`` message."""
    data = load_json(payload)
    body = data.get("data") or {}
    if not isinstance(body, dict):
        raise ProtocolError("event data is not an object")
    event_type = _field(data, "type", str)
    return Event(
        device_id=topic.device_id,
        event_id=_field(data, "id", str)[:64],
        boot_id=_storable("boot_id", str(data.get("boot_id", "")))[:64],
        seq=_seq(data),
        ts=parse_ts(data.get("ts")),
        category=topic.category[:32],
        type=event_type[:64],
        data=body,
    )


def decode_status(payload: bytes) -> dict[str, Any]:
    """A ``status`` payload (birth or Will); an empty payload means decommissioned."""
    data = load_json(payload)
    _field(data, "online", bool)
    return data


def decode_state(payload: bytes) -> dict[str, Any]:
    """A ``state`` snapshot; only the fields the dashboard relies on are checked."""
    data = load_json(payload)
    for key in ("projector", "cast", "health"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise ProtocolError(f"state.{key} is not an object")
    if "seq" in data:
        _seq(data)
    if isinstance(data.get("boot_id"), str):
        _storable("boot_id", data["boot_id"])
    return data


def decode_cmd_result(payload: bytes) -> dict[str, Any]:
    """A ``cmd_result`` payload."""
    data = load_json(payload)
    _field(data, "cmd_id", str)
    _field(data, "status", str)
    if isinstance(data.get("detail"), str):
        _storable("detail", data["detail"])
    return data
