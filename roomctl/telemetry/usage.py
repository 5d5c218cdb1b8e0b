"""``usage.daily``: the day's projector-on time, casting time, lessons and peak participants.

A pure tracker fed with bus events and wall-clock times; the service persists its state so a
restart keeps the day's totals. A rollup like this keeps reports right even if raw events
are lost. A "session" counts when casting lasted over five minutes, so a projector test or a
quick check does not count as a lesson (the threshold Mersive uses for meetings).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from roomctl.core import events as ev
from roomctl.core.bus import Event

SESSION_MIN_S = 300.0
ON_STATES = frozenset({"on", "warming"})


@dataclass
class Day:
    """Running totals of one local calendar day."""

    day: str
    projector_on_s: float = 0.0
    cast_s: float = 0.0
    sessions_over_5min: int = 0
    peak_participants: int = 0
    on_since: dict[str, float] = field(default_factory=dict)  # device id -> wall time
    casting: list[str] = field(default_factory=list)  # active session ids
    cast_since: float | None = None
    participants: int = 0
    last_seen: float = 0.0


class UsageTracker:
    """Accumulates one day at a time and hands back finished days."""

    def __init__(self, tz: str) -> None:
        self.tz = ZoneInfo(tz)
        self.today: Day | None = None

    def local_day(self, now: float) -> str:
        """The local calendar date of ``now``."""
        return datetime.fromtimestamp(now, self.tz).date().isoformat()

    def _midnight_after(self, day: str) -> float:
        start = datetime.combine(datetime.fromisoformat(day).date(), time(), self.tz)
        return (start + timedelta(days=1)).timestamp()

    def _ensure(self, now: float) -> list[ev.UsageDaily]:
        """Roll the day over if ``now`` is past midnight; finished days are returned."""
        done = []
        if self.today is None:
            self.today = Day(self.local_day(now))
        while self.local_day(now) != self.today.day:
            boundary = self._midnight_after(self.today.day)
            if boundary > now:  # the clock went backwards; keep counting today
                break
            done.append(self._close(self.today, boundary))
            self.today = self._carry(self.today, boundary)
        self.today.last_seen = now
        return done

    def _close(self, day: Day, at: float) -> ev.UsageDaily:
        on = day.projector_on_s + sum(max(0.0, at - t) for t in day.on_since.values())
        cast = day.cast_s + (max(0.0, at - day.cast_since) if day.cast_since else 0.0)
        return ev.UsageDaily(
            day=day.day,
            projector_on_s=round(on, 1),
            cast_s=round(cast, 1),
            sessions_over_5min=day.sessions_over_5min,
            peak_participants=day.peak_participants,
        )

    def _carry(self, day: Day, at: float) -> Day:
        return Day(
            self.local_day(at),
            peak_participants=day.participants,
            on_since={d: at for d in day.on_since},
            casting=list(day.casting),
            cast_since=at if day.casting else None,
            participants=day.participants,
        )

    def tick(self, now: float) -> list[ev.UsageDaily]:
        """Call regularly: returns the days that ended."""
        return self._ensure(now)

    def feed(self, event: Event, now: float) -> list[ev.UsageDaily]:
        """Account for one bus event; returns any days that ended first."""
        done = self._ensure(now)
        day = self.today
        assert day is not None
        if isinstance(event, ev.ProjectorPower):
            self._power(day, event.device_id, event.power in ON_STATES, now)
        elif isinstance(event, ev.CastSessionStarted) and event.session_id not in day.casting:
            day.casting.append(event.session_id)
            day.cast_since = day.cast_since or now
        elif isinstance(event, ev.CastSessionEnded):
            self._cast_end(day, event, now)
        elif isinstance(event, ev.ParticipantJoined):
            self.participants(day.participants + 1)
        elif isinstance(event, ev.ParticipantLeft):
            self.participants(max(0, day.participants - 1))
        return done

    def _power(self, day: Day, device_id: str, on: bool, now: float) -> None:
        if on:
            day.on_since.setdefault(device_id, now)
        elif device_id in day.on_since:
            day.projector_on_s += max(0.0, now - day.on_since.pop(device_id))

    def _cast_end(self, day: Day, event: ev.CastSessionEnded, now: float) -> None:
        if event.duration_s > SESSION_MIN_S:
            day.sessions_over_5min += 1
        if event.session_id in day.casting:
            day.casting.remove(event.session_id)
        if not day.casting and day.cast_since is not None:
            day.cast_s += max(0.0, now - day.cast_since)
            day.cast_since = None

    def participants(self, count: int) -> None:
        """The current participant count (from events or the room snapshot)."""
        if self.today is not None:
            self.today.participants = count
            self.today.peak_participants = max(self.today.peak_participants, count)

    def dump(self) -> dict[str, Any] | None:
        """JSON-ready state for persistence."""
        return asdict(self.today) if self.today else None

    def restore(self, data: Any) -> None:
        """Resume from ``dump()``; intervals open at the last save are closed at that time."""
        if not isinstance(data, dict):
            return
        try:
            day = Day(**data)
        except TypeError:
            return
        cut = day.last_seen
        for device_id in list(day.on_since):
            self._power(day, device_id, False, cut)
        if day.cast_since is not None:
            day.cast_s += max(0.0, cut - day.cast_since)
        day.casting, day.cast_since, day.participants = [], None, 0
        self.today = day
