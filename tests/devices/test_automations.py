"""Idle and daily power-off against a real coordinator on the PJLink emulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from roomctl.automations import Automations, effective_rules, parse_weekdays
from roomctl.config.model import Config, PowerConfig, RoomConfig
from roomctl.coordinator import Timing
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.devices import DeviceManager
from roomctl.emulators.pjlink import Emulator, ProjectorModel
from roomctl.room import Room
from tests.support.real import async_wait_for

FAST = Timing(poll_s=0.05, busy_poll_s=0.03, backoff_initial_s=0.02, command_timeout_s=2.0)
TZ = ZoneInfo("Europe/Helsinki")


def at(hhmm: str, day: int = 2) -> float:
    """Monday 30 Nov 2026 plus ``day`` days (default: Wednesday) at ``hhmm`` in Helsinki."""
    h, m = map(int, hhmm.split(":"))
    monday = dt.datetime(2026, 11, 30, h, m, tzinfo=TZ)
    return (monday + dt.timedelta(days=day)).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    model = ProjectorModel(warmup_s=0.0, cooldown_s=0.0, power_target="1", power_since=1.0)
    async with Emulator(model) as emu:
        config = Config(
            room=RoomConfig(id="a101", timezone="Europe/Helsinki"),
            power=PowerConfig(idle_off_min=20, daily_off="18:00"),
            devices=(
                {
                    "type": "pjlink",
                    "host": "127.0.0.1",
                    "port": emu.port,
                    "warmup_s": 0,
                    "cooldown_s": 0,
                },
            ),
        )
        room = Room(config, EventBus(), WarningsRegistry())
        manager = DeviceManager(room.config, room, timing=FAST)
        await manager.start()
        main = room.main_display()
        assert main is not None
        await async_wait_for(lambda: main.snapshot()["state"]["power"] == "on", 5)
        room.state.extra["emulator"] = emu
        yield room
        await manager.stop()


def power(room: Room) -> str:
    main = room.main_display()
    assert main is not None
    return str(main.snapshot()["state"]["power"])


async def test_idle_room_switches_the_display_off(room: Room) -> None:
    clock = Clock(at("10:00"))
    auto = Automations(room.config, room, clock=clock)
    room.add_snapshot_part("participants", lambda: {"total": 2})
    assert await auto.tick() is None
    clock.now += 3600  # people present: never idle
    assert await auto.tick() is None
    room.add_snapshot_part("participants", lambda: {"total": 0})
    room.add_snapshot_part("casting", lambda: {"active": True})
    clock.now += 3600
    assert await auto.tick() is None  # a share is running
    room.add_snapshot_part("casting", lambda: {"active": False})
    assert await auto.tick() is None  # the idle streak starts now
    clock.now += 19 * 60
    assert await auto.tick() is None
    clock.now += 60
    assert await auto.tick() == "auto_idle"
    await async_wait_for(lambda: power(room) == "off", 5)
    assert room.state.extra["emulator"].model.power_target == "0"


async def test_daily_off_time(room: Room) -> None:
    clock = Clock(at("17:59"))
    auto = Automations(room.config, room, clock=clock)
    room.add_snapshot_part("participants", lambda: {"total": 3})  # in use: only the schedule acts
    assert await auto.tick() is None
    clock.now = at("18:00")
    assert await auto.tick() == "schedule"
    await async_wait_for(lambda: power(room) == "off", 5)


async def test_central_overrides(room: Room) -> None:
    room.state.extra["central_cfg"] = {
        "business_hours": {"mon-fri": ["07:30", "17:00"]},
        "schedules": [
            {"id": "nightly", "cron": "0 22 * * 1-5", "action": "projector.off"},
            {
                "id": "idle",
                "idle_min": 5,
                "action": "projector.off",
                "only_outside_business_hours": True,
            },
            {"id": "junk", "cron": "every day", "action": "projector.off"},
        ],
    }
    rules = effective_rules(room)
    assert rules.idle_min == 5 and [o.minute for o in rules.off_times] == [18 * 60, 22 * 60]
    assert rules.off_times[1].weekdays == frozenset(range(5))
    clock = Clock(at("10:00"))
    auto = Automations(room.config, room, clock=clock)
    await auto.tick()
    clock.now += 600
    assert await auto.tick() is None  # idle, but inside business hours
    clock.now = at("17:30")
    assert await auto.tick() == "auto_idle"


def test_weekday_parsing_and_disabled_idle() -> None:
    assert parse_weekdays("0,6") == frozenset({6, 5})
    assert parse_weekdays("*") == frozenset(range(7))
    config = Config(room=RoomConfig(id="a"), power=PowerConfig(idle_off_min=0, daily_off=""))
    rules = effective_rules(Room(config, EventBus(), WarningsRegistry()))
    assert rules.idle_min == 0 and rules.off_times == ()
    assert replace(rules, idle_min=1).idle_min == 1


async def test_daily_off_runs_the_end_of_day_scene_first(room: Room) -> None:
    from roomctl.scenes import Scenes

    steps = ({"device": "main_display", "command": "blank", "on": True},)
    room.config = replace(room.config, scenes={"end_of_day": steps})
    scenes = Scenes(room)
    await scenes.start()
    clock = Clock(at("17:59"))
    auto = Automations(room.config, room, clock=clock)
    assert await auto.tick() is None
    clock.now = at("18:00")
    assert await auto.tick() == "schedule"
    assert auto.actions[-2:] == ["scene:end_of_day", "schedule"]
    assert room.state.extra["emulator"].model.video_mute
    await scenes.stop()
