"""The teacher's device controls through the real app, the device layer and a PJLink emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from roomctl.config.loader import parse_config
from roomctl.coordinator import Timing
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.devices import DeviceManager
from roomctl.emulators.pjlink import Emulator, ProjectorModel
from roomctl.http import api
from roomctl.http.app import make_app
from roomctl.room import Room
from tests.http.conftest import join, room_config
from tests.support.appliance import CARETAKER_PASSWORD, TEACHER_PIN
from tests.support.real import async_wait_for

FAST = Timing(poll_s=0.2, busy_poll_s=0.05, backoff_initial_s=0.05, backoff_max_s=0.2)


@pytest.fixture
async def setup(aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    monkeypatch.setattr(api, "COMMAND_WAIT_S", 0.3)
    emulator = Emulator(ProjectorModel(warmup_s=1.5, cooldown_s=0.5))
    await emulator.start()
    devices = [
        {"id": "projector", "type": "pjlink", "host": "127.0.0.1", "port": emulator.port,
         "role": "main_display", "input": "HDMI 1"},
        {"id": "broken", "type": "pjlink", "host": "127.0.0.1", "port": 99999},
    ]  # fmt: skip
    room = Room(parse_config(room_config(devices=devices)), EventBus(), WarningsRegistry())
    manager = DeviceManager(room.config, room, timing=FAST)
    await manager.start()
    client = await aiohttp_client(make_app(room))
    yield client, room, emulator
    await manager.stop()
    await emulator.stop()


async def test_bad_device_is_a_warning_and_the_good_one_works(setup: Any) -> None:
    client, room, _ = setup
    assert list(room.devices) == ["projector"]
    await client.post("/api/v1/login", json={"password": CARETAKER_PASSWORD})
    status = await (await client.get("/api/v1/status")).json()
    warning = next(w for w in status["warnings"] if w["source"] == "devices[1]")
    assert "port" in warning["message"]


async def test_teacher_powers_on_and_sees_the_warm_up(setup: Any) -> None:
    client, room, emulator = setup
    await join(client, room, "Teacher")
    assert (await client.post("/api/v1/presenter", json={"pin": TEACHER_PIN})).status == 200
    await async_wait_for(lambda: room.devices["projector"].snapshot()["available"], 5)
    resp = await client.post(
        "/api/v1/devices/projector/commands", json={"name": "power", "args": {"on": True}}
    )
    assert resp.status in (200, 202)
    await async_wait_for(
        lambda: room.devices["projector"].snapshot()["state"]["power"] == "warming", 5
    )
    lockout = room.devices["projector"].snapshot()["lockout"]
    assert lockout["reason"] == "warming" and lockout["seconds_left"] > 0
    off = await client.post(
        "/api/v1/devices/projector/commands", json={"name": "power", "args": {"on": False}}
    )
    assert off.status == 202  # waits for the warm-up to end; the page shows why
    assert (await off.json())["device"]["lockout"]["reason"] == "warming"
    await async_wait_for(lambda: emulator.model.power_target == "0", 10)


async def test_students_cannot_touch_devices_and_bad_commands_are_400(setup: Any) -> None:
    client, room, _ = setup
    await join(client, room, "Student")
    resp = await client.post(
        "/api/v1/devices/projector/commands", json={"name": "power", "args": {"on": True}}
    )
    assert resp.status == 403
    await client.post("/api/v1/presenter", json={"pin": TEACHER_PIN})
    assert (
        await client.post("/api/v1/devices/projector/commands", json={"name": "selfdestruct"})
    ).status == 400
    assert (
        await client.post("/api/v1/devices/nope/commands", json={"name": "power"})
    ).status == 404


async def test_teacher_runs_a_scene_and_a_failed_step_does_not_stop_the_rest(
    aiohttp_client: Any,
) -> None:
    from roomctl.scenes import Scenes

    scenes = {"lesson": [{"device": "missing", "command": "power", "on": True}, {"wait_s": 0}]}
    room = Room(parse_config(room_config(scenes=scenes)), EventBus(), WarningsRegistry())
    runner = Scenes(room)
    await runner.start()
    client = await aiohttp_client(make_app(room))
    await join(client, room, "Teacher")
    await client.post("/api/v1/presenter", json={"pin": TEACHER_PIN})
    resp = await client.post("/api/v1/scenes/lesson", json={})
    assert resp.status == 200
    steps = (await resp.json())["result"]["steps"]
    assert [s["ok"] for s in steps] == [False, True]
    assert (await client.post("/api/v1/scenes/nope", json={})).status == 404
    await runner.stop()
