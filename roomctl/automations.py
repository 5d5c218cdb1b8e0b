"""Power automations: the main display goes off when the room is idle and at the daily off time.

Idle means no screen share and no participant, read from ``room.snapshot()`` (the
"participants" and "casting" parts may be absent, which counts as none). The centre may
override the local ``[power]`` settings through its retained config
(``room.state.extra["central_cfg"]``): an ``idle_min`` schedule entry replaces the idle time,
and ``projector.off`` entries with ``at = "HH:MM"`` (or a ``"M H * * DOW"`` cron) add off times.
Time of day is the room's time zone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from roomctl.core.errors import DeviceError
from roomctl.core.tasks import cancel

if TYPE_CHECKING:
    from roomctl.config.model import Config
    from roomctl.room import Room

logger = logging.getLogger(__name__)

HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
CRON = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* (\*|[0-7](?:[-,][0-7])*)$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ON_STATES = ("on", "warming")


@dataclass(frozen=True)
class OffTime:
    """A time of day (minutes after midnight) on some weekdays (0 = Monday)."""

    minute: int
    weekdays: frozenset[int] = frozenset(range(7))


@dataclass(frozen=True)
class PowerRules:
    """The effective rules after central overrides."""

    idle_min: int
    only_outside_business_hours: bool
    off_times: tuple[OffTime, ...]
    business_hours: Mapping[int, tuple[int, int]]  # weekday → (start, end) minutes


def parse_hhmm(text: str) -> int | None:
    """``"18:00"`` → 1080, or None."""
    match = HHMM.match(text.strip())
    return int(match.group(1)) * 60 + int(match.group(2)) if match else None


def parse_weekdays(spec: str) -> frozenset[int]:
    """Cron day-of-week (``*``, ``1-5``, ``0,6``; 0 and 7 are Sunday) → Monday-based days."""
    if spec == "*":
        return frozenset(range(7))
    days: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        days.update(range(int(lo), int(hi or lo) + 1))
    return frozenset((d - 1) % 7 for d in days)


def _day_names(names: Any) -> frozenset[int]:
    """``["mon", "tue"]`` or ``"mon-fri"`` → weekday numbers; unknown names are ignored."""
    if isinstance(names, str):
        first, _, last = names.lower().partition("-")
        if first in DAYS and (last or first) in DAYS:
            return frozenset(range(DAYS.index(first), DAYS.index(last or first) + 1))
        return frozenset()
    if isinstance(names, list | tuple) and names:
        return frozenset().union(*(_day_names(n) for n in names))
    return frozenset(range(7))


def _schedule_off_time(entry: Mapping[str, Any]) -> OffTime | None:
    minute = parse_hhmm(str(entry.get("at") or ""))
    if minute is not None:
        return OffTime(minute, _day_names(entry.get("days") or ()))
    match = CRON.match(str(entry.get("cron") or "").strip())
    if match and int(match.group(1)) < 60 and int(match.group(2)) < 24:
        minute = int(match.group(2)) * 60 + int(match.group(1))
        return OffTime(minute, parse_weekdays(match.group(3)))
    return None


def _business_hours(spec: Any) -> dict[int, tuple[int, int]]:
    """Local ``"07:30-17:00"`` (every weekday) or central ``{"mon-fri": ["07:30", "17:00"]}``."""
    if isinstance(spec, str):
        start, _, end = spec.partition("-")
        span = (parse_hhmm(start), parse_hhmm(end))
        return {d: (span[0], span[1]) for d in range(5)} if None not in span else {}  # type: ignore[misc]
    hours: dict[int, tuple[int, int]] = {}
    for days, times in (spec or {}).items() if isinstance(spec, Mapping) else ():
        start_m, end_m = (parse_hhmm(str(t)) for t in [*times, "", ""][:2])
        if start_m is not None and end_m is not None:
            hours.update({d: (start_m, end_m) for d in _day_names(days)})
    return hours


def effective_rules(room: Room) -> PowerRules:
    """The local ``[power]`` settings with the centre's overrides applied."""
    power = room.config.power
    central = room.state.extra.get("central_cfg") or {}
    idle_min, outside_only = power.idle_off_min, False
    off_times = [OffTime(m)] if (m := parse_hhmm(power.daily_off or "")) is not None else []
    for entry in central.get("schedules") or ():
        if not isinstance(entry, Mapping) or entry.get("action") != "projector.off":
            continue
        if isinstance(entry.get("idle_min"), int) and entry["idle_min"] > 0:
            idle_min = entry["idle_min"]
            outside_only = bool(entry.get("only_outside_business_hours"))
        elif (off := _schedule_off_time(entry)) is not None:
            off_times.append(off)
    hours = _business_hours(central.get("business_hours") or power.business_hours)
    return PowerRules(idle_min, outside_only, tuple(off_times), hours)


def room_in_use(snapshot: Mapping[str, Any]) -> bool:
    """Whether anyone is paired or sharing."""
    participants = snapshot.get("participants") or {}
    casting = snapshot.get("casting") or {}
    return bool(participants.get("total")) or bool(casting.get("active"))


class Automations:
    """Checks the rules every ``tick_s`` seconds and switches the main display off."""

    def __init__(
        self,
        config: Config,
        room: Room,
        *,
        clock: Callable[[], float] = time.time,
        tick_s: float = 30.0,
    ) -> None:
        self.config = config
        self.room = room
        self.clock = clock
        self.tick_s = tick_s
        self._idle_since: float | None = None
        self._idle_done = False  # one idle power-off per idle streak
        self._last_tick: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.actions: list[str] = []  # "auto_idle" / "schedule" taken so far (for status)

    async def start(self) -> None:
        """Start the periodic check."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="automations")

    async def stop(self) -> None:
        """Stop the periodic check."""
        task, self._task = self._task, None
        await cancel(task)

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a bad override or snapshot part must not stop the automations
                logger.exception("power automation check failed")
            await asyncio.sleep(self.tick_s)

    async def tick(self) -> str | None:
        """Check the rules once; returns the reason when the display was switched off."""
        now = self.clock()
        last, self._last_tick = self._last_tick, now
        rules = effective_rules(self.room)
        snapshot = self.room.snapshot()
        if room_in_use(snapshot):
            self._idle_since, self._idle_done = None, False
        elif self._idle_since is None:
            self._idle_since = now
        if last is not None and any(self._crossed(rules, last, now)):
            await self._end_of_day_scene()
            return await self._switch_off("schedule")
        if self._idle_due(rules, now):
            self._idle_done = True
            return await self._switch_off("auto_idle")
        return None

    def _idle_due(self, rules: PowerRules, now: float) -> bool:
        if self._idle_since is None or self._idle_done or rules.idle_min <= 0:
            return False
        if now - self._idle_since < rules.idle_min * 60:
            return False
        return not (rules.only_outside_business_hours and self._in_business_hours(rules, now))

    def _local(self, when: float) -> dt.datetime:
        try:
            zone: dt.tzinfo = ZoneInfo(self.room.config.room.timezone)
        except (ValueError, KeyError, OSError):
            zone = dt.UTC
        return dt.datetime.fromtimestamp(when, zone)

    def _in_business_hours(self, rules: PowerRules, now: float) -> bool:
        local = self._local(now)
        span = rules.business_hours.get(local.weekday())
        minute = local.hour * 60 + local.minute
        return span is not None and span[0] <= minute < span[1]

    def _crossed(self, rules: PowerRules, last: float, now: float) -> Iterator[bool]:
        """Whether an off time lies in (last, now]; at most two days are looked at."""
        start, end = self._local(last), self._local(now)
        for off in rules.off_times:
            for day in {start.date(), end.date()}:
                at = dt.datetime.combine(
                    day, dt.time(off.minute // 60, off.minute % 60), start.tzinfo
                )
                yield at.weekday() in off.weekdays and start < at <= end

    async def _end_of_day_scene(self) -> None:
        """Run the ``end_of_day`` scene (if configured) before the display goes off."""
        if "end_of_day" not in self.room.config.scenes or "run_scene" not in self.room.hooks:
            return
        try:
            await self.room.run_scene("end_of_day")
            self.actions.append("scene:end_of_day")
        except Exception:
            logger.exception("the end_of_day scene failed")

    async def _switch_off(self, reason: str) -> str | None:
        display = self.room.main_display()
        if display is None:
            return None
        state = display.snapshot().get("state") or {}
        if state.get("power") not in ON_STATES:
            return None
        logger.info("switching %s off (%s)", display.device_id, reason)
        try:
            await display.command("power", on=False)
        except DeviceError as err:
            logger.warning("automatic power-off of %s failed: %s", display.device_id, err)
            return None
        self.actions.append(reason)
        return reason
