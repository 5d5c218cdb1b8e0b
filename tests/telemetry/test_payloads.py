"""Pure parts: ids, the event table, state privacy, usage rollup, command and cfg parsing."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomctl.core import events as ev
from roomctl.telemetry import commands, homeassistant, payloads
from roomctl.telemetry.ids import ulid, ulid_ms
from roomctl.telemetry.mapping import FIELDS, event_data
from roomctl.telemetry.topics import Topics
from roomctl.telemetry.usage import UsageTracker
from tests.telemetry.schemas import validate

DEV, BOOT = "rc-0000a101", "0" * 32


def test_ulids_sort_by_time() -> None:
    ids = [ulid(1_700_000_000_000 + i) for i in range(50)]
    assert ids == sorted(ids) and ulid_ms(ids[7]) == 1_700_000_000_007


SAMPLES: list[ev.Event] = [
    ev.ProjectorPower(device_id="p", power="on", previous="off"),
    ev.ProjectorInput(device_id="p", input="HDMI 1"),
    ev.ProjectorError(device_id="p", code="lamp", detail="lamp failure"),
    ev.ProjectorErrorCleared(device_id="p", code="lamp"),
    ev.LampThreshold(device_id="p", part="lamp", hours=3600, rated_hours=4000),
    ev.DeviceAvailability(device_id="p", available=False, error="timeout"),
    ev.CastSessionStarted(session_id="s", role="presenter"),
    ev.CastSessionEnded(session_id="s", role="presenter", duration_s=301.5, max_sources=2),
    ev.ParticipantJoined(role="participant"),
    ev.ParticipantLeft(role="participant"),
    ev.PairingFailed(reason="bad_code"),
    ev.HelpRequested(topic="Please come, Maija Virtanen is stuck"),
    ev.UsageDaily(
        day="2025-09-01", projector_on_s=1.0, cast_s=2.0, sessions_over_5min=1, peak_participants=3
    ),
    ev.SensorThreshold(device_id="co2", reading="co2", value=1200, threshold=1000, active=True),
    ev.WarningRaised(key="device.disabled", message="devices[0]: boom"),
]


def test_every_forwarded_event_matches_the_schema() -> None:
    assert {type(e) for e in SAMPLES} == set(FIELDS)
    at = payloads.stamp(False)
    for i, event in enumerate(SAMPLES, 1):
        mapped = event_data(event)
        assert mapped is not None
        validate("event", payloads.envelope(DEV, BOOT, i, ulid(), at, *mapped))
    assert event_data(ev.RoomChanged(what="x")) is None
    assert event_data(ev.DisplayMessage(text="secret note")) is None


def test_free_text_never_leaves_the_room() -> None:
    _, data = event_data(ev.HelpRequested(topic="Please come, Maija Virtanen is stuck"))  # type: ignore[misc]
    assert data == {"topic": "other"}
    _, data = event_data(ev.WarningRaised(key="k", message="Maija"))  # type: ignore[misc]
    assert "Maija" not in json.dumps(data)


def snapshot_with_names() -> dict[str, Any]:
    """A room snapshot shaped like Room.snapshot(), plus fields that must not leak."""
    return {
        "room": {"id": "a101", "name": "A101"},
        "mode": "in_use",
        "locked": False,
        "participants": {"total": 2, "presenter": 1, "names": ["Maija Virtanen", "Olli"]},
        "people": [{"name": "Maija Virtanen"}],
        "messages": [{"text": "Maija, please stay after class", "kind": "announcement"}],
        "casting": {"active": True, "sources": 1, "presenter_name": "Maija Virtanen"},
        "warnings": [{"source": "devices[0]", "key": "device.disabled", "message": "x"}],
        "devices": {
            "p": {
                "state": {"power": "on", "name": "Maija's projector", "errors": {}},
                "available": True,
                "capabilities": {},
            }
        },
    }


def state_head() -> dict[str, Any]:
    return {
        "v": 1,
        "dev": DEV,
        "boot_id": BOOT,
        "seq": 1,
        "ts": payloads.iso(time.time()),
        "mono_ms": 5,
    }


def test_state_is_a_whitelist() -> None:
    snap = snapshot_with_names()
    head = state_head()
    body = payloads.state(
        snap,
        extra={},
        display=snap["devices"]["p"],
        head=head,
        health={"outbox_depth": 0, "clk_sync": True},
        cfg_version=None,
    )
    validate("state", body)
    text = json.dumps(body)
    assert "Maija" not in text and "Olli" not in text
    assert body["participants"] == 2 and body["mode"] == "in_use"
    assert body["cast"] == {"active": True, "sources": 1}


def test_mode_error_when_the_display_is_faulty() -> None:
    assert payloads.derive_mode("idle", {"power": "error", "errors": []}) == "error"
    assert payloads.derive_mode("casting", {"power": "on", "errors": ["lamp"]}) == "casting"
    assert payloads.derive_mode("weird", None) == "idle"


def test_usage_day_rolls_over_at_local_midnight() -> None:
    tracker = UsageTracker("Europe/Helsinki")
    t0 = 1_756_700_000.0  # 2025-09-01 07:13 local
    tracker.feed(ev.ProjectorPower(device_id="p", power="on", previous="off"), t0)
    tracker.feed(ev.ParticipantJoined(role="participant"), t0)
    tracker.feed(ev.ParticipantJoined(role="presenter"), t0)
    tracker.feed(ev.CastSessionStarted(session_id="s", role="presenter"), t0 + 60)
    tracker.feed(ev.CastSessionEnded(session_id="s", role="presenter", duration_s=600), t0 + 660)
    tracker.feed(ev.CastSessionStarted(session_id="q", role="presenter"), t0 + 700)
    tracker.feed(ev.CastSessionEnded(session_id="q", role="presenter", duration_s=60), t0 + 760)
    tracker.feed(ev.ProjectorPower(device_id="p", power="off", previous="on"), t0 + 3600)
    assert tracker.tick(t0 + 7200) == []
    restored = UsageTracker("Europe/Helsinki")
    restored.restore(json.loads(json.dumps(tracker.dump())))
    days = restored.tick(t0 + 86400)
    assert len(days) == 1
    day = days[0]
    assert (day.day, day.projector_on_s, day.cast_s) == ("2025-09-01", 3600.0, 660.0)
    assert (day.sessions_over_5min, day.peak_participants) == (1, 2)


def test_usage_splits_an_interval_at_midnight() -> None:
    tracker = UsageTracker("UTC")
    midnight = 1_756_771_200.0  # 2025-09-02T00:00Z
    tracker.feed(ev.ProjectorPower(device_id="p", power="on", previous="off"), midnight - 100)
    (day,) = tracker.tick(midnight + 50)
    assert day.projector_on_s == 100.0
    tracker.feed(ev.ProjectorPower(device_id="p", power="off", previous="on"), midnight + 50)
    (nxt,) = tracker.tick(midnight + 86400)
    assert nxt.projector_on_s == 50.0


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=300))
def test_garbage_commands_are_refused_not_raised(data: bytes) -> None:
    result = commands.parse_command("display.message", data, time.time())
    assert isinstance(result, commands.Refusal | commands.Command)


VALUES = st.one_of(st.none(), st.integers(), st.text(max_size=10), st.just("2999-01-01T00:00Z"))


@FAST
@given(st.dictionaries(st.sampled_from(["cmd_id", "expires_at", "args", "by", "name"]), VALUES))
def test_odd_json_commands_are_refused_not_raised(body: dict[str, Any]) -> None:
    commands.parse_command("display.message", json.dumps(body).encode(), time.time())
    assert isinstance(commands.parse_cfg(json.dumps(body).encode()), str | tuple)


def test_cfg_errors_name_the_key() -> None:
    problems = commands.parse_cfg(b'{"cfg_version": "x", "telemetry": {"metrics_s": 1}}')
    assert isinstance(problems, str)
    assert "cfg.cfg_version" in problems and "cfg.telemetry.metrics_s" in problems


def test_home_assistant_discovery_points_at_our_topics() -> None:
    body = homeassistant.discovery(Topics(DEV), "A101", "roomctl 0.1.0")
    assert body["avty"][0]["t"] == f"roomctl/v1/dev/{DEV}/status"
    assert {c["stat_t"] for c in body["cmps"].values()} == {f"roomctl/v1/dev/{DEV}/state"}
    assert homeassistant.discovery_topic(DEV) == f"homeassistant/device/{DEV}/config"


def test_state_carries_room_air_as_numbers_only() -> None:
    snap = snapshot_with_names()
    snap["environment"] = {
        "readings": {"co2_ppm": 1234.56, "temperature_c": 22.04, "note": "stuffy"},
        "sensors": {"air": {"name": "Maija's sensor"}},
        "co2_high": True,
    }
    snap["airplay"] = {"active": True, "pin": "4321"}
    head = state_head()
    health = {"outbox_depth": 0, "clk_sync": True}
    body = payloads.state(snap, extra={}, display=None, head=head, health=health, cfg_version=None)
    validate("state", body)
    assert body["environment"] == {"co2_ppm": 1234.6, "temperature_c": 22.0, "co2_high": True}
    text = json.dumps(body)
    assert "stuffy" not in text and "Maija" not in text and "4321" not in text
    snap.pop("environment")
    assert (
        payloads.state(snap, extra={}, display=None, head=head, health={}, cfg_version=None)[
            "environment"
        ]
        is None
    )
