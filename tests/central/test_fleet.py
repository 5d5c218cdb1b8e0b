"""Tile status and the needs-attention rules (pure)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from roomctl.central.config import AlertConfig
from roomctl.central.fleet import Fleet
from tests.central.mqtt_helpers import state

TZ = ZoneInfo("Europe/Helsinki")
TUESDAY_10 = datetime(2025, 9, 2, 10, 0, tzinfo=TZ).timestamp()
TUESDAY_21 = datetime(2025, 9, 2, 21, 0, tzinfo=TZ).timestamp()
SATURDAY_10 = datetime(2025, 9, 6, 10, 0, tzinfo=TZ).timestamp()


def fleet_with(dev: str, now: float, **projector: object) -> Fleet:
    """A fleet with one online device in the given projector state."""
    fleet = Fleet(AlertConfig())
    fleet.places[dev] = ("T", "S", "1")
    fleet.apply_status(dev, {"online": True, "conn_seq": 1}, now)
    fleet.apply_state(dev, state(dev, 1, **projector), now)
    return fleet


def kinds(fleet: Fleet, dev: str, now: float) -> list[str]:
    """Alert kinds of a device."""
    return [a.kind for a in fleet.alerts(dev, now)]


def test_left_on_after_hours_and_at_weekends() -> None:
    for now, expected in ((TUESDAY_10, []), (TUESDAY_21, ["after_hours"]),
                          (SATURDAY_10, ["after_hours"])):
        fleet = fleet_with("rc-1", now, power="on")
        assert kinds(fleet, "rc-1", now) == expected
        assert fleet.status("rc-1", now) == ("in_use" if not expected else "attention")


def test_lamp_forecast_from_average_daily_use() -> None:
    fleet = fleet_with("rc-1", TUESDAY_10, lamp_hours=3600, lamp_rated=4000)
    fleet.daily_h["rc-1"] = 4.0
    (alert,) = fleet.alerts("rc-1", TUESDAY_10)
    assert (alert.kind, alert.params) == ("lamp", {"pct": 90, "days": 100})
    fleet.daily_h.clear()
    assert fleet.alerts("rc-1", TUESDAY_10)[0].params["days"] is None


def test_offline_only_after_n_minutes_and_acknowledge() -> None:
    fleet = fleet_with("rc-1", TUESDAY_10)
    fleet.apply_status("rc-1", {"online": False, "conn_seq": 1}, TUESDAY_10)
    assert kinds(fleet, "rc-1", TUESDAY_10 + 9 * 60) == []
    (alert,) = fleet.alerts("rc-1", TUESDAY_10 + 11 * 60)
    assert alert.kind == "offline" and fleet.status("rc-1", TUESDAY_10) == "offline"
    fleet.help["rc-1"].append(("ev1", TUESDAY_10))
    fleet.apply_status("rc-1", {"online": True, "conn_seq": 2}, TUESDAY_10)
    assert fleet.status("rc-1", TUESDAY_10) == "attention"
    fleet.acks[("rc-1", "help", "ev1")] = "kaisa"
    assert fleet.status("rc-1", TUESDAY_10) == "idle"
    assert fleet.all_alerts(TUESDAY_10)[0].acked_by == "kaisa"


def test_projector_error_and_stale_will() -> None:
    fleet = fleet_with("rc-1", TUESDAY_10, errors=[{"code": "E-12"}])
    assert fleet.alerts("rc-1", TUESDAY_10)[0].params == {"codes": "E-12"}
    fleet.apply_status("rc-1", {"online": True, "conn_seq": 5}, TUESDAY_10)
    fleet.apply_status("rc-1", {"online": False, "conn_seq": 4}, TUESDAY_10)
    assert fleet.devices["rc-1"].online
