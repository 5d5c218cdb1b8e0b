"""Weekly usage reports per room and school: the tables behind the charts and the CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from roomctl.central import analytics as a
from roomctl.central.fleet import Fleet
from roomctl.central.store import Store

WEEK = 7 * 86400


@dataclass(frozen=True)
class RoomWeek:
    """One room's usage in one week."""

    week_start: float
    device_id: str
    in_use_h: float
    projector_h: float
    long_shares: int


def week_starts(now: float, weeks: int, tz: str) -> list[float]:
    """Local Monday 00:00 of the last ``weeks`` weeks, oldest first."""
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    return [(monday - timedelta(weeks=i)).timestamp() for i in range(weeks - 1, -1, -1)]


def _clip(intervals: list[a.Interval], start: float, end: float) -> list[a.Interval]:
    return [(max(x, start), min(y, end)) for x, y in intervals if y > start and x < end]


@dataclass(frozen=True)
class Report:
    """Usage of a set of rooms over some weeks."""

    starts: list[float]
    rows: list[RoomWeek]
    heat: list[list[float]]


async def build(store: Store, fleet: Fleet, devices: list[str], now: float, weeks: int = 4
                ) -> Report:
    """Compute the weekly rows and the heatmap for ``devices``."""
    starts = week_starts(now, weeks, fleet.cfg.tz)
    begin, end = starts[0], min(now, starts[-1] + WEEK)
    # A week earlier, so a projector switched on before the period is seen as on.
    rows = await store.events_between(begin - WEEK, end, a.USAGE_TYPES)
    wanted = set(devices)
    u = a.usage([r for r in rows if r[0] in wanted], begin, end)
    out = []
    for s in starts:
        e = s + WEEK
        for d in devices:
            proj = _clip(u.projector.get(d, []), s, e)
            use = _clip(a.in_use(u, d), s, e)
            shares = sum(1 for x, y in u.cast.get(d, []) if s <= y < e and y - x >= a.SHARE_MIN_S)
            out.append(RoomWeek(s, d, a.seconds(use) / 3600, a.seconds(proj) / 3600, shares))
    return Report(starts, out, a.heatmap(u, devices, fleet.cfg.tz))


def to_csv(report: Report, fleet: Fleet, tz: str) -> str:
    """One line per room and week."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["week_start", "town", "school", "room", "device_id", "hours_in_use",
                     "projector_on_hours", "shares_over_5min"])
    zone = ZoneInfo(tz)
    for r in report.rows:
        town, school, room = fleet.places.get(r.device_id, ("", "", ""))
        writer.writerow([datetime.fromtimestamp(r.week_start, zone).date().isoformat(), town,
                         school, room, r.device_id, f"{r.in_use_h:.2f}", f"{r.projector_h:.2f}",
                         r.long_shares])
    return buf.getvalue()
