"""Usage analytics from raw events: sessions, hours in use, heatmaps, forecasts (pure)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from roomctl.central.payloads import parse_ts
from roomctl.core.errors import ProtocolError

SHARE_MIN_S = 300  # a share under five minutes is a test or a mistake, not a lesson
USAGE_TYPES = ("projector.power", "cast.session_end")

Interval = tuple[float, float]


@dataclass(frozen=True)
class Usage:
    """Per-device usage inside one period."""

    projector: dict[str, list[Interval]]
    cast: dict[str, list[Interval]]
    long_shares: dict[str, int]


def _data(text: Any) -> dict[str, Any]:
    value = json.loads(text) if isinstance(text, str) else text
    return value if isinstance(value, dict) else {}


def _projector_intervals(ons: list[tuple[float, bool]], end: float) -> list[Interval]:
    out: list[Interval] = []
    started: float | None = None
    for ts, on in ons:
        if on and started is None:
            started = ts
        elif not on and started is not None:
            out.append((started, ts))
            started = None
    if started is not None:
        out.append((started, end))
    return out


def usage(rows: Iterable[Sequence[Any]], start: float, end: float) -> Usage:
    """Usage from (device_id, ts, type, data) rows sorted by ts."""
    power: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    cast: dict[str, list[Interval]] = defaultdict(list)
    shares: dict[str, int] = defaultdict(int)
    for device_id, ts, kind, text in rows:
        data = _data(text)
        if kind == "projector.power":
            power[device_id].append((ts, bool(data.get("on"))))
        elif kind == "cast.session_end":
            duration = float(data.get("duration_s") or 0)
            try:
                began = parse_ts(data["started"]) if "started" in data else ts - duration
            except ProtocolError:
                began = ts - duration
            cast[device_id].append((max(began, start), min(ts, end)))
            shares[device_id] += duration >= SHARE_MIN_S
    projector = {d: _projector_intervals(p, end) for d, p in power.items()}
    return Usage(projector, dict(cast), dict(shares))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals, sorted."""
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif b > a:
            out.append((a, b))
    return out


def seconds(intervals: Iterable[Interval]) -> float:
    """Total length of (merged) intervals."""
    return sum(b - a for a, b in merge(intervals))


def in_use(u: Usage, device_id: str) -> list[Interval]:
    """A room is in use while its projector is on or someone casts."""
    return merge([*u.projector.get(device_id, []), *u.cast.get(device_id, [])])


def heatmap(u: Usage, device_ids: Iterable[str], tz: str) -> list[list[float]]:
    """Minutes in use per weekday (0 = Monday) × hour, summed over the rooms."""
    grid = [[0.0] * 24 for _ in range(7)]
    zone = ZoneInfo(tz)
    for device_id in device_ids:
        for a, b in in_use(u, device_id):
            t = a
            while t < b:
                local = datetime.fromtimestamp(t, zone)
                slot_end = (local.replace(minute=0, second=0, microsecond=0)
                            + timedelta(hours=1)).timestamp()
                stop = min(b, slot_end)
                grid[local.weekday()][local.hour] += (stop - t) / 60
                t = stop
    return grid


def forecast_days(used_h: float, rated_h: float, daily_h: float) -> float | None:
    """Days until ``used_h`` reaches ``rated_h`` at ``daily_h`` a day (AMX RMS style)."""
    if rated_h <= 0 or daily_h <= 0:
        return None
    return max(rated_h - used_h, 0.0) / daily_h
