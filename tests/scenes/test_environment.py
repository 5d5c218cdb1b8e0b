"""The CO2 notice: sustained high CO2 shows it and publishes SensorThreshold; a drop clears it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from roomctl import environment as env
from roomctl.config.model import Config, EnvironmentConfig, RoomConfig
from roomctl.core.bus import EventBus
from roomctl.core.events import DeviceStateChanged, SensorThreshold
from roomctl.core.warnings import WarningsRegistry
from roomctl.drivers.base import DeviceState, Power
from roomctl.room import Room
from tests.miio.helpers import coordinated, driver, emulated
from tests.support.real import async_wait_for


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_room(threshold: int = 1000, sustain_min: int = 5) -> Room:
    config = Config(
        room=RoomConfig(id="a101"),
        environment=EnvironmentConfig(co2_threshold_ppm=threshold, co2_sustain_min=sustain_min),
    )
    return Room(config, EventBus(), WarningsRegistry())


def air(co2: float, **more: float) -> DeviceState:
    return DeviceState(power=Power.ON, readings={"co2_ppm": co2, "humidity_pct": 40.0, **more})


def notices(room: Room) -> list[str]:
    return [m["text"] for m in room.snapshot()["messages"] if m["kind"] == "notice"]


@pytest.fixture
async def clocked() -> AsyncIterator[tuple[Room, env.Environment, Clock]]:
    room = make_room()
    clock = Clock()
    service = env.Environment(room, clock=clock)
    await service.start()
    yield room, service, clock
    await service.stop()


async def test_notice_only_after_the_sustain_time(clocked: tuple) -> None:
    room, _, clock = clocked
    events = room.bus.subscribe(SensorThreshold)
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1200)))
    clock.now += 4 * 60
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1210)))
    assert notices(room) == [] and events.get_nowait() is None
    clock.now += 61
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1190)))
    assert notices(room) == [env.NOTICE]
    event = events.get_nowait()
    assert isinstance(event, SensorThreshold) and event.active
    assert (event.device_id, event.reading, event.value, event.threshold) == (
        "air",
        "co2_ppm",
        1190,
        1000,
    )
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1300)))
    assert events.get_nowait() is None  # one event per crossing, not per reading
    assert room.snapshot()["environment"]["co2_high"] is True


async def test_a_dip_restarts_the_sustain_timer(clocked: tuple) -> None:
    room, service, clock = clocked
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1100)))
    clock.now += 4 * 60
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(800)))  # a window opened
    clock.now += 60
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1100)))
    clock.now += 4 * 60
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1100)))
    assert notices(room) == [] and not service.co2_high


async def test_drop_clears_the_notice_with_a_margin(clocked: tuple) -> None:
    room, service, clock = clocked
    events = room.bus.subscribe(SensorThreshold)
    room.show_message("announcement.hello", 60)  # someone else's message stays
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1500)))
    clock.now += 5 * 60
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(1500)))
    assert notices(room) == [env.NOTICE]
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(990)))  # within the margin
    assert notices(room) == [env.NOTICE]
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(700)))
    assert notices(room) == [] and not service.co2_high
    kinds = [m["kind"] for m in room.snapshot()["messages"]]
    assert kinds == ["announcement"]
    states = [e.active for e in iter(events.get_nowait, None) if isinstance(e, SensorThreshold)]
    assert states == [True, False]


async def test_snapshot_part_has_numbers_only(clocked: tuple) -> None:
    room, _, _ = clocked
    assert room.snapshot()["environment"]["readings"] == {}
    plug = DeviceState(power=Power.ON, readings={"power_w": 12.0})
    room.bus.publish(DeviceStateChanged(device_id="plug", state=plug))
    room.bus.publish(DeviceStateChanged(device_id="air", state=air(650, pm25_ug_m3=7.0)))
    part = room.snapshot()["environment"]
    assert part["readings"] == {"co2_ppm": 650, "humidity_pct": 40.0, "pm25_ug_m3": 7.0}
    assert list(part["sensors"]) == ["air"]  # a plug's power draw is not room air
    assert part["co2_threshold_ppm"] == 1000 and part["co2_high"] is False
    numbers = [v for v in part["readings"].values()]
    assert all(isinstance(v, float) for v in numbers)


async def test_steady_value_triggers_without_new_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "MINUTE_S", 0.01)
    room = make_room()
    service = env.Environment(room)
    await service.start()
    try:
        room.bus.publish(DeviceStateChanged(device_id="air", state=air(1400)))
        await async_wait_for(lambda: service.co2_high, timeout=5, what="timer re-check")
        assert notices(room) == [env.NOTICE]
    finally:
        await service.stop()


async def test_end_to_end_from_the_air_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "MINUTE_S", 0.01)  # 5 "minutes" = 50 ms
    room = make_room()
    service = env.Environment(room)
    await service.start()
    drv = driver("127.0.0.20", role="sensor")
    try:
        async with (
            emulated("airmonitor", "127.0.0.20") as device,
            coordinated("air", drv, room.bus, role="sensor"),
        ):
            await async_wait_for(lambda: room.snapshot()["environment"]["readings"])
            assert not service.co2_high and notices(room) == []
            device.device.air["co2"] = 1650.0
            await async_wait_for(lambda: notices(room) == [env.NOTICE], what="notice shown")
            assert room.snapshot()["environment"]["readings"]["co2_ppm"] > 1600
            device.device.air["co2"] = 620.0
            await async_wait_for(lambda: notices(room) == [], what="notice cleared")
    finally:
        await service.stop()
