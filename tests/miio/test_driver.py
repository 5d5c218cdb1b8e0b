"""The miio driver, through the real coordinator, against emulators on distinct loopback hosts."""

from __future__ import annotations

import threading

import pytest

from roomctl.config.schema import effective
from roomctl.core.bus import EventBus
from roomctl.core.errors import AuthenticationFailed, CommandRejected, ConfigError, ProtocolError
from roomctl.core.events import DeviceAvailability
from roomctl.drivers import miio as drv
from roomctl.drivers.base import Capability, Power
from tests.miio.helpers import OTHER_TOKEN, TOKEN, coordinated, driver, emulated
from tests.support.real import async_wait_for


@pytest.fixture(autouse=True)
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the per-call slack small so failures show within a second."""
    monkeypatch.setattr(drv, "DEADLINE_SLACK_S", 0.3)


async def test_plug_power_and_draw_through_the_coordinator() -> None:
    async with (
        emulated("plug", "127.0.0.2") as device,
        coordinated("plug1", driver("127.0.0.2")) as c,
    ):
        await async_wait_for(lambda: c.available, what="plug available")
        assert c.state.power is Power.ON and c.state.readings["power_w"] == pytest.approx(12.5)
        assert c.state.model == "chuangmi.plug.v3"  # detected through miIO.info
        assert c.capabilities.has(Capability.POWER) and c.capabilities.has(Capability.POWER_DRAW)
        await c.command("power", on=False)
        assert device.device.power is False
        await async_wait_for(lambda: c.state.readings["power_w"] == 0.0, what="draw read back")
        assert c.state.power is Power.OFF


async def test_power_strip_with_configured_model() -> None:
    drv_ = driver("127.0.0.3", model="zimi.powerstrip.v2")
    async with emulated("powerstrip", "127.0.0.3"), coordinated("strip", drv_) as c:
        await async_wait_for(lambda: c.available)
        await c.command("power", on=False)
        await async_wait_for(lambda: c.state.power is Power.OFF)
        with pytest.raises(CommandRejected):
            await c.command("brightness", level=10)


@pytest.mark.parametrize("model", ["cgllc.airmonitor.s1", "cgllc.airmonitor.b1"])
async def test_air_monitor_readings(model: str) -> None:
    async with emulated("airmonitor", "127.0.0.4", model=model) as device:
        device.device.air.update(co2=1234.0, pm25=14.0, humidity=41.0)
        async with coordinated("air", driver("127.0.0.4", role="sensor"), role="sensor") as c:
            await async_wait_for(lambda: c.state.readings, what="readings")
            readings = c.state.readings
            assert 1225 <= readings["co2_ppm"] <= 1240
            assert {"pm25_ug_m3", "tvoc", "temperature_c", "humidity_pct"} <= readings.keys()
            assert c.capabilities.features == {Capability.READINGS, Capability.INFO}
            with pytest.raises(CommandRejected):
                await c.command("power", on=False)


async def test_yeelight_power_and_brightness() -> None:
    async with (
        emulated("yeelight", "127.0.0.5") as device,
        coordinated("lamp", driver("127.0.0.5", role="lamp"), role="lamp") as c,
    ):
        await async_wait_for(lambda: c.available)
        await c.command("brightness", level=42)
        await async_wait_for(lambda: c.state.brightness == 42, what="brightness read back")
        await c.command("power", on=False)
        await async_wait_for(lambda: c.state.power is Power.OFF)
        assert device.device.brightness == 42
        for bad in (0, 101, "50", True):
            with pytest.raises(CommandRejected):
                await c.command("brightness", level=bad)


async def test_wrong_token_needs_a_person() -> None:
    bus = EventBus()
    events = bus.subscribe(DeviceAvailability)
    async with (
        emulated("plug", "127.0.0.6") as device,
        coordinated("plug", driver("127.0.0.6", token=OTHER_TOKEN), bus) as c,
    ):
        await async_wait_for(lambda: c.needs_attention, what="needs a person")
        assert not c.available and "token" in c.last_error
        assert OTHER_TOKEN not in c.last_error and TOKEN not in c.last_error
        with pytest.raises(AuthenticationFailed):
            await c.command("power", on=True)
        assert device.stats.dropped >= 1 and device.stats.commands == 0
    event = events.get_nowait()
    assert isinstance(event, DeviceAvailability) and not event.available


async def test_driver_alone_reports_authentication_failed() -> None:
    async with emulated("plug", "127.0.0.6"):
        d = driver("127.0.0.6", token=OTHER_TOKEN, model="chuangmi.plug.m1")
        with pytest.raises(AuthenticationFailed):
            await d.connect()
        await d.close()


async def test_device_that_stops_answering_recovers() -> None:
    bus = EventBus()
    events = bus.subscribe(DeviceAvailability)
    drv_ = driver("127.0.0.7", model="chuangmi.plug.m1")
    async with (
        emulated("plug", "127.0.0.7", model="chuangmi.plug.m1") as device,
        coordinated("plug", drv_, bus) as c,
    ):
        await async_wait_for(lambda: c.available)
        device.answering = False
        await async_wait_for(lambda: not c.available, what="unavailable")
        assert not c.needs_attention and "127.0.0.7" in c.last_error
        device.answering = True
        await async_wait_for(lambda: c.available, timeout=15, what="recovered")
    seen = []
    while (e := events.get_nowait()) is not None:
        assert isinstance(e, DeviceAvailability)
        seen.append(e.available)
    assert seen == [True, False, True]


async def test_garbage_replies_are_protocol_errors() -> None:
    async with emulated("plug", "127.0.0.8") as device:
        device.fault = "garbage"
        d = driver("127.0.0.8", model="chuangmi.plug.m1")
        with pytest.raises(ProtocolError):
            await d.connect()
        await d.close()


async def test_calls_run_off_the_event_loop_thread() -> None:
    seen: list[str] = []
    async with emulated("plug", "127.0.0.9"):
        d = driver("127.0.0.9", model="chuangmi.plug.m1")
        await d.connect()
        await d._call(lambda: seen.append(threading.current_thread().name))
        await d.close()
    assert seen and seen[0].startswith("miio-127.0.0.9")


def test_config_errors_name_the_keys() -> None:
    with pytest.raises(ConfigError) as info:
        drv.create({"type": "miio", "host": "", "token": "xyz", "model": "acme.oven", "rol": "x"})
    paths = {issue.path for issue in info.value.issues}
    assert {"host", "token", "model", "rol"} <= paths
    assert any("did you mean 'role'" in issue.hint for issue in info.value.issues)


def test_token_is_masked() -> None:
    d = driver("127.0.0.2")
    assert TOKEN not in repr(d.config)
    assert effective(d.config)["token"] == "********"
    assert effective({"type": "miio", "token": TOKEN})["token"] == "********"


def test_missing_python_miio_disables_only_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(drv, "_lib", None)
    monkeypatch.setattr(drv.importlib, "import_module", broken)
    with pytest.raises(ConfigError) as info:
        drv.create({"type": "miio", "host": "127.0.0.2", "token": TOKEN})
    assert "python-miio" in str(info.value) and info.value.issues[0].path == "type"
