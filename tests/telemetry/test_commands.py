"""Commands and central config over a real broker, with a real PJLink emulator as the display."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from roomctl.coordinator import Coordinator, Timing
from roomctl.drivers.pjlink import PjlinkConfig, PjlinkDriver
from roomctl.emulators.pjlink import Emulator, ProjectorModel
from roomctl.telemetry.payloads import iso
from tests.support.real import async_wait_for
from tests.telemetry.conftest import DEV, wait_json
from tests.telemetry.schemas import validate

BASE = f"roomctl/v1/dev/{DEV}"


def command(name: str, cmd_id: str, args: dict[str, Any] | None = None, ttl: float = 60) -> bytes:
    """A command body as the central control service sends it."""
    import time

    body = {
        "v": 1,
        "cmd_id": cmd_id,
        "name": name,
        "args": args or {},
        "issued_at": iso(time.time()),
        "expires_at": iso(time.time() + ttl),
        "by": "test:it",
    }
    validate("cmd", body)
    return json.dumps(body).encode()


class Centre:
    """The central control service's client: publishes commands and config."""

    def __init__(self, broker: Any) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="svc-control", protocol=mqtt.MQTTv5
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, name: str, payload: bytes, retain: bool = False) -> None:
        """Publish on ``cmd/{name}`` (or ``cfg`` when name is "cfg") and wait for PUBACK."""
        topic = f"{BASE}/cfg" if name == "cfg" else f"{BASE}/cmd/{name}"
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
async def projector() -> AsyncIterator[Emulator]:
    """A PJLink emulator on loopback with instant warm-up."""
    emulator = Emulator(ProjectorModel(warmup_s=0.05, cooldown_s=0.05))
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def centre(mosquitto: Any) -> Any:
    """The centre's client on the shared broker."""
    c = Centre(mosquitto)
    yield c
    c.stop()


async def attach_projector(app: Any, emulator: Emulator) -> Coordinator:
    """Attach a real coordinator + PJLink driver for the emulator as the main display."""
    driver = PjlinkDriver(PjlinkConfig(host="127.0.0.1", port=emulator.port))
    timing = Timing(poll_s=0.1, busy_poll_s=0.05, backoff_initial_s=0.05)
    coord = Coordinator("proj", driver, app.room.bus, role="main_display", timing=timing)
    await coord.start()
    app.room.add_device(coord)
    return coord


async def result(watcher: Any, cmd_id: str | None, status: str | None = None) -> dict[str, Any]:
    """The cmd_result for ``cmd_id`` (validated)."""
    body = await wait_json(watcher, "/cmd_result", lambda b: b["cmd_id"] == cmd_id)
    validate("cmd_result", body)
    if status:
        assert body["status"] == status, body
    return body


async def test_projector_power_reaches_the_projector(
    mosquitto: Any, appliance_factory: Any, watcher_factory: Any, centre: Any, projector: Emulator
) -> None:
    watcher = watcher_factory(mosquitto, f"{BASE}/#")
    app = await appliance_factory(mosquitto.url)
    coord = await attach_projector(app, projector)
    try:
        await async_wait_for(lambda: app.service.connected and coord.available, what="ready")
        centre.send("projector.power", command("projector.power", "c-1", {"on": True}))
        await result(watcher, "c-1", "ok")
        assert projector.model.power_target == "1"
        state = await wait_json(
            watcher, "/state", lambda b: (b["projector"] or {}).get("power") == "on"
        )
        validate("state", state)
        assert state["projector"]["lamp_hours"] == projector.model.lamp_hours
    finally:
        await coord.stop()


async def test_refusals_say_why(
    mosquitto: Any, appliance_factory: Any, watcher_factory: Any, centre: Any
) -> None:
    watcher = watcher_factory(mosquitto, f"{BASE}/cmd_result")
    app = await appliance_factory(mosquitto.url)
    await async_wait_for(lambda: app.service.connected, what="connected")
    centre.send(
        "display.message", command("display.message", "m-1", {"text": "Fire drill"}, ttl=-5)
    )
    assert "past" in (await result(watcher, "m-1", "expired"))["detail"]
    centre.send(
        "projector.explode",
        command("display.message", "u-1").replace(b'"display.message"', b'"projector.explode"'),
    )
    await result(watcher, "u-1", "rejected")
    centre.send("display.message", b"\xff not json")
    assert (await result(watcher, None, "rejected"))["detail"] == "not JSON"
    centre.send("display.message", command("display.message", "m-2", {"text": 5}))
    await result(watcher, "m-2", "rejected")
    centre.send("projector.power", command("projector.power", "p-1", {"on": True}))
    assert "no main display" in (await result(watcher, "p-1", "rejected"))["detail"]
    centre.send("scene.run", command("scene.run", "s-1", {"name": "lecture"}))
    await result(watcher, "s-1", "unsupported")


async def test_duplicates_are_refused_even_after_a_restart(
    mosquitto: Any, appliance_factory: Any, watcher_factory: Any, centre: Any
) -> None:
    watcher = watcher_factory(mosquitto, f"{BASE}/cmd_result")
    app = await appliance_factory(mosquitto.url)
    await async_wait_for(lambda: app.service.connected, what="connected")
    body = command("display.message", "d-1", {"text": "Hello room", "seconds": 5})
    centre.send("display.message", body)
    await result(watcher, "d-1", "ok")
    assert [m.text for m in app.room.state.messages] == ["Hello room"]
    # A retained command reaches a live subscriber as a normal one, but is stale on resubscribe.
    centre.send("display.message", command("display.message", "r-1", {"text": "x"}), retain=True)
    await result(watcher, "r-1", "ok")
    watcher.clear()
    await app.restart()
    await async_wait_for(lambda: app.service.connected, what="reconnected")
    await result(watcher, "r-1", "rejected")
    centre.send("display.message", b"", retain=True)  # clear the retained command again
    centre.send("display.message", body)
    await result(watcher, "d-1", "duplicate")
    centre.send("appliance.identify", command("appliance.identify", "i-1"))
    await result(watcher, "i-1", "ok")
    assert any(m.kind == "identify" and "a101" in m.text for m in app.room.state.messages)


async def test_central_config_is_applied_persisted_and_reported(
    mosquitto: Any, appliance_factory: Any, watcher_factory: Any, centre: Any
) -> None:
    watcher = watcher_factory(mosquitto, f"{BASE}/#")
    app = await appliance_factory(mosquitto.url)
    cfg = {
        "v": 1,
        "cfg_version": 17,
        "tz": "Europe/Helsinki",
        "business_hours": {"mon-fri": ["07:30", "17:00"]},
        "schedules": [{"id": "nightly-off", "cron": "0 22 * * *", "action": "projector.off"}],
        "thresholds": {"lamp_pct_warn": 85},
        "telemetry": {"state_refresh_s": 600},
    }
    validate("cfg", cfg)
    centre.send("cfg", json.dumps(cfg).encode(), retain=True)
    state = await wait_json(watcher, "/state", lambda b: b["cfg_version"] == 17)
    validate("state", state)
    assert app.room.state.extra["central_cfg"]["schedules"][0]["id"] == "nightly-off"
    assert app.service.refresh_s == 600
    bad = {**cfg, "cfg_version": 18, "business_hours": {"mon": ["7:30"]}, "colour": "red"}
    centre.send("cfg", json.dumps(bad).encode(), retain=True)
    rejected = await async_wait_for(lambda: watcher.events("system.cfg_rejected"), what="refusal")
    assert "colour" in rejected[0]["data"]["problems"]  # type: ignore[index]
    assert app.room.state.extra["central_cfg"]["cfg_version"] == 17  # nothing half-applied
    centre.send("cfg", b"", retain=True)  # the broker forgets it; the appliance must not
    await app.restart()
    assert app.room.state.extra["central_cfg"]["cfg_version"] == 17
    await wait_json(
        watcher, "/state", lambda b: b["cfg_version"] == 17 and b["boot_id"] == app.service.boot_id
    )
