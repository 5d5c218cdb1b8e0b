"""Incoming ``cmd/{name}`` and ``cfg`` messages: parsing (pure) and the command table.

Everything from the network is untrusted: parsing never raises anything but the refusals
returned here, and a command only reaches the room through the table below.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from roomctl.config.schema import parse
from roomctl.core import jsonin
from roomctl.core.errors import (
    CommandRejected,
    ConfigError,
    DeviceError,
    PermissionDenied,
    RoomctlError,
)
from roomctl.telemetry.payloads import parse_iso

logger = logging.getLogger(__name__)
CMD_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_PAYLOAD = 16 * 1024
MAX_HORIZON_S = 86400.0  # a command may not claim to stay valid longer than this
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Command:
    """A well-formed, unexpired command."""

    cmd_id: str
    name: str
    args: Mapping[str, Any]
    expires_at: float
    by: str = ""


@dataclass(frozen=True)
class Refusal:
    """Why a command was not run: status ``rejected``/``expired``/``duplicate``/``unsupported``."""

    cmd_id: str | None
    name: str
    status: str
    detail: str


def _decode(payload: bytes) -> dict[str, Any] | str:
    if len(payload) > MAX_PAYLOAD:
        return "payload too large"
    try:
        body = jsonin.loads(payload.decode("utf-8"))
    except jsonin.TooDeep:
        return "nested too deeply"
    except (UnicodeDecodeError, ValueError):
        return "not JSON"
    return body if isinstance(body, dict) else "not a JSON object"


def parse_command(name: str, payload: bytes, now: float) -> Command | Refusal:
    """Validate one incoming command; never raises."""
    body = _decode(payload)
    if isinstance(body, str):
        return Refusal(None, name, "rejected", body)
    cmd_id = body.get("cmd_id")
    if not isinstance(cmd_id, str) or not CMD_ID.match(cmd_id):
        return Refusal(None, name, "rejected", "cmd_id missing or malformed")
    problem = _check_fields(name, body)
    if problem:
        return Refusal(cmd_id, name, "rejected", problem)
    try:
        expires = parse_iso(body.get("expires_at"))
    except (TypeError, ValueError, AttributeError, OverflowError):
        return Refusal(cmd_id, name, "rejected", "expires_at missing or malformed")
    if expires <= now:
        return Refusal(cmd_id, name, "expired", "expires_at is in the past")
    if expires > now + MAX_HORIZON_S:
        return Refusal(cmd_id, name, "rejected", "expires_at too far ahead")
    return Command(cmd_id, name, dict(body.get("args") or {}), expires, str(body.get("by", "")))


def _check_fields(name: str, body: Mapping[str, Any]) -> str:
    if "name" in body and body["name"] != name:
        return "name does not match the topic"
    if not isinstance(body.get("args", {}), dict | type(None)):
        return "args must be an object"
    if not isinstance(body.get("by", ""), str) or len(body.get("by", "")) > 128:
        return "by must be a short string"
    return ""


# -- the command table -------------------------------------------------------------------

Handler = Callable[[Any, Mapping[str, Any]], Awaitable[Any]]


class Unsupported(Exception):
    """The room core does not offer this operation (yet)."""


def _arg(args: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = args.get(key)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise CommandRejected(f"args.{key} is missing or has the wrong type")
    return value


async def _call_room(room: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call an optional Room operation, sync or async; Unsupported when the room lacks it."""
    func = getattr(room, method, None)
    if func is None:
        raise Unsupported(method)
    result = func(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


async def _display_command(room: Any, name: str, **args: Any) -> None:
    display = room.main_display()
    if display is None:
        raise CommandRejected("this room has no main display")
    await room.device_command(display.device_id, name, **args)


async def _projector_power(room: Any, args: Mapping[str, Any]) -> Any:
    await _display_command(room, "power", on=_arg(args, "on", bool))


async def _projector_input(room: Any, args: Mapping[str, Any]) -> Any:
    text = _arg(args, "input", str)
    if not 0 < len(text) <= 32:
        raise CommandRejected("args.input must be 1..32 characters")
    await _display_command(room, "input", input=text)


def _seconds(args: Mapping[str, Any], default: float) -> float:
    value = args.get("seconds", default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 3600:
        raise CommandRejected("args.seconds must be a number between 1 and 3600")
    return float(value)


async def _display_message(room: Any, args: Mapping[str, Any]) -> Any:
    text = _arg(args, "text", str).strip()
    if not 0 < len(text) <= 500:
        raise CommandRejected("args.text must be 1..500 characters")
    room.show_message(text, _seconds(args, 30.0))


async def _identify(room: Any, args: Mapping[str, Any]) -> Any:
    label = " ".join(p for p in (room.config.room.id, room.config.room.name) if p)
    room.show_message(f"roomctl {label}".strip(), _seconds(args, 60.0), kind="identify")


async def _scene_run(room: Any, args: Mapping[str, Any]) -> Any:
    return await _call_room(room, "run_scene", _arg(args, "name", str))


COMMANDS: dict[str, Handler] = {
    "projector.power": _projector_power,
    "projector.input": _projector_input,
    "display.message": _display_message,
    "room.stop_all_shares": lambda room, args: _call_room(room, "stop_all_shares"),
    "pairing.rotate": lambda room, args: _call_room(room, "rotate_pairing"),
    "appliance.identify": _identify,
    "scene.run": _scene_run,
}


async def execute(room: Any, command: Command, timeout_s: float = 30.0) -> tuple[str, Any]:
    """Run a parsed command; returns ``(status, detail)`` for ``cmd_result``."""
    handler = COMMANDS.get(command.name)
    if handler is None:
        return "rejected", "unknown command"
    try:
        async with asyncio.timeout(timeout_s):
            result = await handler(room, command.args)
    except Unsupported as err:
        return "unsupported", f"this appliance has no {err}"
    except PermissionDenied as err:  # the room has no provider for this operation
        return "unsupported", str(err)[:200]
    except CommandRejected as err:
        return "rejected", str(err)[:200]
    except DeviceError as err:
        return "error", f"{type(err).__name__}: {str(err)[:200]}"
    except TimeoutError:
        return "error", "timed out"
    except KeyError:
        return "error", "device not found"
    except RoomctlError as err:
        return "error", f"{type(err).__name__}: {str(err)[:200]}"
    except Exception:
        logger.exception("command %s failed", command.name)
        return "error", "internal error"
    return "ok", result if isinstance(result, dict | int | float | str) else None


# -- central config (retained ``cfg``) -----------------------------------------------------


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled action, executed locally by the room."""

    id: str
    action: str
    cron: str = ""
    at: str = ""
    days: tuple[str, ...] = ()
    idle_min: int = 0
    only_outside_business_hours: bool = False


@dataclass(frozen=True)
class TelemetryIntervals:
    """Telemetry cadence set by the centre; 0 keeps the local value."""

    state_refresh_s: int = 0
    metrics_s: int = 0

    def validate(self) -> list[tuple[str, str]]:
        """Bounds that keep a typo from flooding the broker."""
        problems = []
        if self.state_refresh_s and not 10 <= self.state_refresh_s <= 86400:
            problems.append(("state_refresh_s", "must be 0 or 10..86400"))
        if self.metrics_s and not 5 <= self.metrics_s <= 86400:
            problems.append(("metrics_s", "must be 0 or 5..86400"))
        return problems


@dataclass(frozen=True)
class CentralConfig:
    """The desired config the centre publishes retained on ``cfg``."""

    cfg_version: int
    v: int = 1
    tz: str = ""
    business_hours: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    schedules: tuple[ScheduleEntry, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)
    telemetry: TelemetryIntervals = field(default_factory=TelemetryIntervals)

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        problems = []
        if self.cfg_version < 0:
            problems.append(("cfg_version", "must not be negative"))
        for day, span in self.business_hours.items():
            if len(span) != 2 or not all(HHMM.match(t) for t in span):
                problems.append((f"business_hours.{day}", 'use ["HH:MM", "HH:MM"]'))
        return problems


def parse_cfg(payload: bytes) -> tuple[CentralConfig, dict[str, Any]] | str:
    """The validated central config and its plain dict, or every problem as one string."""
    body = _decode(payload)
    if isinstance(body, str):
        return body
    try:
        return parse(CentralConfig, body, path="cfg"), body
    except ConfigError as err:
        return "; ".join(str(i) for i in err.issues)
