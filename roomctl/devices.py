"""The device layer: builds one coordinator per ``[[devices]]`` entry and attaches it to the room.

A device whose table or profile is bad, or whose driver cannot be imported, is disabled with a
warning naming the key and the problem; the other devices and the appliance keep running.
Every driver accepts the common keys ``type``, ``id``, ``role``, ``name``, ``input`` and
``poll_s`` besides its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from roomctl.coordinator import Coordinator, Timing
from roomctl.core.errors import ConfigError, ConfigIssue, ProfileError
from roomctl.drivers.base import Driver
from roomctl.drivers.registry import factory_path

if TYPE_CHECKING:
    from roomctl.config.model import Config
    from roomctl.room import Room

logger = logging.getLogger(__name__)

WARNING_KEY = "device_disabled"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class DriverContext:
    """What a driver factory gets besides its table: where its errors point."""

    path: str  # "devices[2]", the prefix of every key path in its errors
    file: str = ""  # the configuration file, for messages
    index: int = 0


class DeviceDisabled(Exception):
    """One device cannot run; carries the config issues, the first naming the key at fault."""

    def __init__(self, issues: tuple[ConfigIssue, ...] | list[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        self.key = self.issues[0].path if self.issues else ""
        super().__init__("; ".join(str(i) for i in self.issues))

    @classmethod
    def at(cls, key: str, message: str, file: str = "") -> DeviceDisabled:
        """One issue at ``key``."""
        return cls([ConfigIssue(key, message, file)])


def load_factory(device_type: str) -> Callable[[Mapping[str, Any], DriverContext], Driver]:
    """The ``create`` function for ``device_type``, imported only now."""
    module_name, _, func = factory_path(device_type).partition(":")
    module = importlib.import_module(module_name)
    factory: Callable[[Mapping[str, Any], DriverContext], Driver] = getattr(module, func)
    return factory


@dataclass(frozen=True)
class _Entry:
    index: int
    table: Mapping[str, Any]
    driver: Driver
    role: str


def device_id(table: Mapping[str, Any], index: int, roles: list[str], role: str = "") -> str:
    """The configured ``id``, else the role when only one device has it, else ``role-N``."""
    given = table.get("id")
    if isinstance(given, str) and given:
        return given
    role = role or str(table.get("role") or "device")
    return role if roles.count(role) == 1 else f"{role}-{index}"


def make_entry(table: Any, index: int, file: str) -> _Entry:
    """Validate ``devices[index]`` and build its driver; raises DeviceDisabled."""
    path = f"devices[{index}]"
    if not isinstance(table, Mapping):
        raise DeviceDisabled.at(path, f"expected a table, got {type(table).__name__}", file)
    device_type = table.get("type")
    if not isinstance(device_type, str) or not device_type:
        raise DeviceDisabled.at(f"{path}.type", "required key is missing", file)
    driver = _make_driver(device_type, table, DriverContext(path, file, index))
    config = getattr(driver, "config", None)
    role = str(getattr(config, "role", None) or table.get("role") or "display")
    return _Entry(index, table, driver, role)


def coordinator_for(entry: _Entry, dev_id: str, room: Room, timing: Timing) -> Coordinator:
    """The coordinator of one built device."""
    config = getattr(entry.driver, "config", None)
    # the driver's own interval first: a profile driver falls back to its profile's [timing]
    poll_s = getattr(entry.driver, "poll_s", None) or getattr(config, "poll_s", None)
    poll_s = poll_s or entry.table.get("poll_s") or timing.poll_s
    ready_input = getattr(config, "input", None) or entry.table.get("input") or None
    return Coordinator(
        dev_id,
        entry.driver,
        room.bus,
        role=entry.role,
        ready_input=str(ready_input) if ready_input else None,
        timing=dataclasses.replace(timing, poll_s=float(poll_s)),
        on_change=lambda: room.changed("devices"),
    )


def _make_driver(device_type: str, table: Mapping[str, Any], ctx: DriverContext) -> Driver:
    try:
        factory = load_factory(device_type)
    except Exception as err:  # a broken driver install may raise anything at import time
        key = f"{ctx.path}.type"
        problem = f"no driver for {device_type!r} ({type(err).__name__}: {err})"
        raise DeviceDisabled.at(key, problem, ctx.file) from None
    try:
        return factory(table, ctx)
    except ConfigError as err:
        raise DeviceDisabled(err.issues or [ConfigIssue(ctx.path, str(err), ctx.file)]) from None
    except ProfileError as err:
        key = err.key if err.key.startswith(ctx.path) else f"{ctx.path}.type"
        message = err.message if err.key.startswith(ctx.path) else str(err)
        raise DeviceDisabled.at(key, message, ctx.file) from None


def build_entries(
    tables: tuple[Any, ...], file: str = ""
) -> tuple[dict[str, _Entry], dict[int, DeviceDisabled]]:
    """Drivers by device id, and the problem of each device that cannot run."""
    built, problems = [], {}
    for index, table in enumerate(tables):
        try:
            built.append(make_entry(table, index, file))
        except DeviceDisabled as err:
            problems[index] = err
    roles = [e.role for e in built]
    entries: dict[str, _Entry] = {}
    for entry in built:
        dev_id = device_id(entry.table, entry.index, roles, entry.role)
        key = f"devices[{entry.index}].id"
        if dev_id in entries:
            problems[entry.index] = DeviceDisabled.at(key, f"{dev_id!r} is already used", file)
        elif not _ID.match(dev_id):
            problems[entry.index] = DeviceDisabled.at(key, "use letters, digits, '-' or '_'", file)
        else:
            entries[dev_id] = entry
    return entries, dict(sorted(problems.items()))


def check_devices(config: Config, file: str = "") -> list[ConfigIssue]:
    """Every issue in ``[[devices]]`` (for ``roomctl check-config``); does no I/O."""
    _, problems = build_entries(config.devices, file)
    return [issue for err in problems.values() for issue in err.issues]


class DeviceManager:
    """The device layer as a Service: build, attach and run every configured device.

    Built like every optional service as ``DeviceManager(config, room)``.
    """

    def __init__(
        self,
        config: Config,
        room: Room,
        *,
        file: str = "",
        timing: Timing | None = None,
        notify_bind: tuple[str, int] | None = None,
    ) -> None:
        self.config = config
        self.room = room
        self.file = file
        self.timing = timing or Timing()
        self.notify_bind = notify_bind  # e.g. ("0.0.0.0", 4352): hear PJLink class 2 notices
        self.coordinators: dict[str, Coordinator] = {}
        self.disabled: dict[str, str] = {}  # "devices[i]" → message
        self._listener: Any = None

    def build(self) -> None:
        """Build coordinators for every device that can run; warn about the others."""
        self._apply(*build_entries(self.config.devices, self.file))

    def _apply(self, entries: dict[str, _Entry], problems: dict[int, DeviceDisabled]) -> None:
        for index, err in problems.items():
            self._disable(f"devices[{index}]", err)
        for dev_id, entry in entries.items():
            self.room.warnings.clear(f"devices[{entry.index}]")
            self.coordinators[dev_id] = coordinator_for(entry, dev_id, self.room, self.timing)

    def _disable(self, source: str, err: DeviceDisabled) -> None:
        self.disabled[source] = str(err)
        text = f"{err} (device disabled)"
        self.room.warnings.add(source, WARNING_KEY, text, config_key=err.key)

    async def start(self) -> None:
        """Build (once), attach every coordinator to the room and start polling."""
        if not self.coordinators and not self.disabled:
            # drivers read firmware profiles from disk: do that off the event loop
            self._apply(*await asyncio.to_thread(build_entries, self.config.devices, self.file))
        for coord in self.coordinators.values():
            self.room.add_device(coord)
            await coord.start()
        if self.notify_bind and self._listener is None:
            await self._listen(self.notify_bind)

    async def _listen(self, bind: tuple[str, int]) -> None:
        """Poll a PJLink device at once when it sends a status notification."""
        from roomctl.pjlink.search import NotificationListener

        def on_notify(host: str, _notice: object) -> None:
            for coord in self.coordinators.values():
                if getattr(getattr(coord.driver, "config", None), "host", None) == host:
                    coord.poll_soon()

        listener = NotificationListener(on_notify, bind)
        try:
            await listener.start()
        except OSError as err:  # port 4352 taken: polling still works, only slower to notice
            self.room.warnings.add(
                "devices.notifications",
                "pjlink_notify_unavailable",
                f"cannot listen for PJLink notifications: {err}",
            )
            return
        self._listener = listener

    async def stop(self) -> None:
        """Stop every coordinator and the notification listener; idempotent."""
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        for coord in self.coordinators.values():
            await coord.stop()
