"""The room core's mode, the one summary every adapter (telemetry, mDNS, dashboard) reports."""

from __future__ import annotations

from roomctl.config.loader import parse_config
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.room import Room


def test_mode_follows_people_shares_and_airplay() -> None:
    room = Room(parse_config({"room": {"id": "M1"}}), EventBus(), WarningsRegistry())
    assert room.mode() == "idle"
    session = room.join(name="Aino", client="c1", code=room.pairing_info().code)
    assert room.mode() == "in_use"
    airplay = {"source_active": False}
    room.add_snapshot_part("airplay", lambda: airplay)
    assert room.mode() == "in_use"
    airplay["source_active"] = True  # a Mac mirroring through UxPlay counts as casting
    assert room.mode() == "casting"
    airplay["source_active"] = False
    room.add_snapshot_part("casting", lambda: {"active": 1})
    assert room.mode() == "casting"
    room.add_snapshot_part("casting", lambda: {"active": 0})
    room.leave(session.sid)
    assert room.mode() == "idle"
    snap = room.snapshot()
    assert "Aino" not in str(snap)  # the snapshot may leave the room: never names
