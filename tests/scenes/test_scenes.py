"""Scenes run device commands in order and report failed steps without stopping."""

from __future__ import annotations

from typing import Any

import pytest

from roomctl.config.model import Config, RoomConfig
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.drivers import miio as drv
from roomctl.room import Room
from roomctl.scenes import Scenes, parse_scene
from tests.miio.helpers import coordinated, driver, emulated
from tests.support.real import async_wait_for


def make_room(scenes: dict[str, Any]) -> Room:
    return Room(Config(room=RoomConfig(id="a101"), scenes=scenes), EventBus(), WarningsRegistry())


END_OF_DAY = [
    {"device": "speakers", "command": "power", "on": False},
    {"device": "ghost", "command": "power", "on": False},
    {"device": "camera", "command": "power", "on": False},
    {"wait_s": 0.05},
    {"device": "lamp", "command": "brightness", "level": 30},
    {"device": "lamp", "command": "power", "on": False},
]


async def test_steps_run_in_order_and_failures_do_not_stop_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drv, "DEADLINE_SLACK_S", 0.3)
    room = make_room({"end_of_day": END_OF_DAY})
    scenes = Scenes(room)
    async with (
        emulated("plug", "127.0.0.30") as speakers,
        emulated("yeelight", "127.0.0.31") as lamp,
        coordinated("speakers", driver("127.0.0.30"), room.bus) as c1,
        coordinated("lamp", driver("127.0.0.31", role="lamp"), room.bus, role="lamp") as c2,
        coordinated("camera", driver("127.0.0.32"), room.bus) as c3,  # nothing answers there
    ):
        for c in (c1, c2, c3):
            room.add_device(c)
        await async_wait_for(lambda: c1.available and c2.available and c3.last_error)
        await scenes.start()
        summary = await room.run_scene("end_of_day")
    results = summary["steps"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4, 5]
    assert [r["ok"] for r in results] == [True, False, False, True, True, True]
    assert results[1]["error"] == "unknown_device"
    assert results[2]["error"] == "unavailable"
    assert results[3]["command"] == "wait" and results[3]["duration_s"] >= 0.05
    assert summary["ok"] is False
    assert speakers.device.power is False
    assert (lamp.device.power, lamp.device.brightness) == (False, 30)
    sent = sorted((t, m) for t, m in speakers.stats.methods + lamp.stats.methods if "set" in m)
    assert [m for _, m in sent] == ["set_power", "set_bright", "set_power"]
    assert any(w.key == "scene.unknown_device" for w in room.warnings.all())


async def test_a_rejected_step_is_reported() -> None:
    room = make_room({"dim": [{"device": "plug", "command": "brightness", "level": 10}]})
    scenes = Scenes(room)
    async with (
        emulated("plug", "127.0.0.33"),
        coordinated("plug", driver("127.0.0.33"), room.bus) as c,
    ):
        room.add_device(c)
        await async_wait_for(lambda: c.available)
        (result,) = await scenes.run("dim")
    assert not result.ok and result.error == "command_rejected"
    assert "brightness" in result.detail


async def test_bad_scene_is_disabled_with_a_warning_and_others_work() -> None:
    room = make_room(
        {
            "broken": [{"device": "plug"}],
            "pause": [{"wait_s": 0}],
            "worse": [{"wait_s": -1}],
        }
    )
    scenes = Scenes(room)
    assert scenes.names() == ["pause"]
    warned = {w.source: w.message for w in room.warnings.all()}
    assert "command" in warned["scenes.broken"] and "step 1" in warned["scenes.broken"]
    assert "wait_s" in warned["scenes.worse"]
    assert [r.ok for r in await scenes.run("pause")] == [True]
    with pytest.raises(KeyError):
        await scenes.run("broken")


def test_parse_accepts_a_table_with_steps() -> None:
    steps = parse_scene({"steps": [{"device": "p", "command": "power", "on": True}]})
    assert steps[0].args == {"on": True}
    for bad in ("power", [1], [{"wait_s": True}], [{"wait_s": 1, "device": "p"}]):
        with pytest.raises(ValueError):
            parse_scene(bad)


async def test_stop_withdraws_the_hook() -> None:
    room = make_room({})
    scenes = Scenes(room)
    await scenes.start()
    assert "run_scene" in room.hooks
    await scenes.stop()
    await scenes.stop()
    assert "run_scene" not in room.hooks
