"""The dashboard's live view of the estate: placement, tile status and needs-attention list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from roomctl.central.analytics import forecast_days
from roomctl.central.config import AlertConfig
from roomctl.central.store import DeviceRow

STATUSES = ("offline", "attention", "casting", "in_use", "idle")
Place = tuple[str, str, str]  # town, school, room


@dataclass(frozen=True)
class Alert:
    """One needs-attention item; ``key`` tells apart repeats of the same kind."""

    device_id: str
    kind: str
    key: str
    since: float
    params: dict[str, Any] = field(default_factory=dict)
    acked_by: str = ""


def _pct(used: Any, rated: Any) -> float | None:
    if isinstance(used, int | float) and isinstance(rated, int | float) and rated > 0:
        return 100.0 * used / rated
    return None


def after_hours(cfg: AlertConfig, now: float) -> bool:
    """Whether ``now`` is outside the business hours of the estate."""
    local = datetime.fromtimestamp(now, ZoneInfo(cfg.tz))
    if local.weekday() not in cfg.business_days:
        return True
    hhmm = local.strftime("%H:%M")
    return not cfg.business_start <= hhmm < cfg.business_end


def _wear_alert(dev: DeviceRow, part: str, warn: int, daily_h: float) -> Alert | None:
    projector = (dev.state or {}).get("projector") or {}
    used, rated = projector.get(f"{part}_hours"), projector.get(f"{part}_rated")
    pct = _pct(used, rated)
    if pct is None or pct < warn:
        return None
    days = forecast_days(float(used or 0), float(rated or 0), daily_h)
    return Alert(dev.device_id, part, part, dev.since,
                 {"pct": round(pct), "days": None if days is None else round(days)})


def device_alerts(
    dev: DeviceRow, cfg: AlertConfig, now: float, daily_h: float, help_ids: list[tuple[str, float]]
) -> list[Alert]:
    """Every alert of one device, unacknowledged form."""
    out: list[Alert] = []
    if not dev.online and now - dev.since >= cfg.offline_after_min * 60:
        out.append(Alert(dev.device_id, "offline", str(int(dev.since)), dev.since,
                         {"minutes": int((now - dev.since) // 60)}))
    projector = (dev.state or {}).get("projector") or {}
    errors = projector.get("errors") or []
    if errors:
        codes = ", ".join(str(e.get("code", e) if isinstance(e, dict) else e) for e in errors)
        out.append(Alert(dev.device_id, "projector_error", codes, dev.last_seen, {"codes": codes}))
    for part, warn in (("lamp", cfg.lamp_pct_warn), ("filter", cfg.filter_pct_warn)):
        alert = _wear_alert(dev, part, warn, daily_h)
        if alert:
            out.append(alert)
    if dev.online and projector.get("power") == "on" and after_hours(cfg, now):
        day = datetime.fromtimestamp(now, ZoneInfo(cfg.tz)).date().isoformat()
        out.append(Alert(dev.device_id, "after_hours", day, dev.last_seen))
    out += [Alert(dev.device_id, "help", eid, ts) for eid, ts in help_ids]
    return out


class Fleet:
    """Devices, registry, acknowledgements and open help requests, kept in memory."""

    def __init__(self, cfg: AlertConfig) -> None:
        self.cfg = cfg
        self.devices: dict[str, DeviceRow] = {}
        self.places: dict[str, Place] = {}
        self.acks: dict[tuple[str, str, str], str] = {}
        self.help: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.daily_h: dict[str, float] = {}
        self.cfg_pushed: dict[str, int] = {}

    def device(self, device_id: str, now: float) -> DeviceRow:
        """The row of a device, created on first sight."""
        dev = self.devices.get(device_id)
        if dev is None:
            dev = self.devices[device_id] = DeviceRow(device_id, now, now, since=now)
        return dev

    def apply_status(self, device_id: str, data: dict[str, Any], now: float) -> DeviceRow:
        """A birth or Will; a Will older than the last birth (conn_seq) is ignored."""
        dev = self.device(device_id, now)
        online = bool(data.get("online"))
        last = dev.status or {}
        stale = (not online and last.get("online") and isinstance(data.get("conn_seq"), int)
                 and isinstance(last.get("conn_seq"), int)
                 and data["conn_seq"] < last["conn_seq"])
        if stale:
            return dev
        if online != dev.online or dev.status is None:
            dev.since = now
        dev.online, dev.status, dev.last_seen = online, data, now
        return dev

    def apply_state(self, device_id: str, data: dict[str, Any], now: float) -> DeviceRow:
        """A state snapshot; a state implies the device is online."""
        dev = self.device(device_id, now)
        dev.state, dev.last_seen = data, now
        if not dev.online and dev.status is None:
            dev.online, dev.since = True, now
        return dev

    def alerts(self, device_id: str, now: float) -> list[Alert]:
        """Alerts of one device with acknowledgements filled in."""
        dev = self.devices.get(device_id)
        if dev is None:
            return []
        raw = device_alerts(dev, self.cfg, now, self.daily_h.get(device_id, 0.0),
                            self.help.get(device_id, []))
        return [Alert(a.device_id, a.kind, a.key, a.since, a.params,
                      self.acks.get((a.device_id, a.kind, a.key), "")) for a in raw]

    def all_alerts(self, now: float) -> list[Alert]:
        """Every alert of placed devices, unacknowledged first, oldest first."""
        out = [a for d in self.places if d in self.devices for a in self.alerts(d, now)]
        return sorted(out, key=lambda a: (bool(a.acked_by), a.since))

    def status(self, device_id: str, now: float) -> str:
        """Tile status: offline, attention, casting, in_use or idle."""
        dev = self.devices.get(device_id)
        if dev is None or not dev.online:
            return "offline"
        if any(not a.acked_by for a in self.alerts(device_id, now)):
            return "attention"
        state = dev.state or {}
        if state.get("mode") == "casting" or (state.get("cast") or {}).get("active"):
            return "casting"
        if state.get("mode") == "in_use" or (state.get("projector") or {}).get("power") == "on":
            return "in_use"
        return "idle"

    def tree(self) -> dict[str, dict[str, list[tuple[str, str]]]]:
        """town → school → [(room, device_id)], sorted."""
        out: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
        for device_id, (town, school, room) in self.places.items():
            out[town][school].append((room, device_id))
        return {t: {s: sorted(r) for s, r in sorted(v.items())} for t, v in sorted(out.items())}

    def school_devices(self, school: str) -> list[str]:
        """Device ids placed in a school."""
        return sorted(d for d, p in self.places.items() if p[1] == school)

    def unknown(self) -> list[DeviceRow]:
        """Devices seen on the broker but not placed by IT (the enrolment list)."""
        return sorted((d for k, d in self.devices.items() if k not in self.places),
                      key=lambda d: d.first_seen)
