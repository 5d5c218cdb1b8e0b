"""The PJLink driver under its coordinator against the emulator over real TCP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from roomctl.config.schema import effective
from roomctl.coordinator import Coordinator, Timing
from roomctl.core.bus import EventBus
from roomctl.core.errors import CommandRejected, ConfigError
from roomctl.core.events import DeviceAvailability, ProjectorError, ProjectorPower
from roomctl.drivers.base import Capability, Power
from roomctl.drivers.pjlink import PjlinkConfig, PjlinkDriver, create
from roomctl.emulators.pjlink import Emulator, ProjectorModel
from tests.support.real import async_wait_for

FAST = Timing(
    poll_s=0.05,
    busy_poll_s=0.03,
    backoff_initial_s=0.02,
    backoff_max_s=0.1,
    auth_retry_s=0.1,
    command_timeout_s=2.0,
    not_ready_give_up_s=5.0,
)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    model = ProjectorModel(password="pw", warmup_s=0.4, cooldown_s=0.3, lamp_hours=2900)
    emulator = Emulator(model, slow_s=0.6)
    await emulator.start()
    yield emulator
    await emulator.stop()


def make(emu: Emulator, bus: EventBus, password: str = "pw", **extra: object) -> Coordinator:
    table = {
        "type": "pjlink",
        "host": "127.0.0.1",
        "port": emu.port,
        "password": password,
        "timeout_s": 0.3,
        "warmup_s": 0.4,
        "cooldown_s": 0.3,
        "rated_lamp_hours": 3000,
        "input": "HDMI 2",
        **extra,
    }
    driver = create(table)
    return Coordinator("proj", driver, bus, role="main_display", timing=FAST, ready_input="HDMI 2")


async def test_driver_learns_the_projector_and_follows_power(emu: Emulator) -> None:
    bus = EventBus()
    powers = bus.subscribe(ProjectorPower)
    coord = make(emu, bus)
    await coord.start()
    try:
        await async_wait_for(lambda: coord.available, 5, "available")
        snap = coord.snapshot()
        assert snap["state"]["model"] == "Emulated PJ-2000"
        assert snap["state"]["lamp_hours"] == 2900 and snap["state"]["filter_hours"] == 300
        assert snap["capabilities"]["inputs"] == ["Computer", "HDMI 1", "HDMI 2", "LAN"]
        assert {"freeze", "volume", "filter", "lamp", "power"} <= set(
            snap["capabilities"]["features"]
        )
        ready = await coord.make_ready()
        assert ready["power"] == "warming" and ready["warming_s"] >= 0
        assert coord.snapshot()["lockout"]["reason"] == "warming"
        off = coord.enqueue("power", on=False)  # must wait until the warm-up ends
        await asyncio.wait_for(off, 5)
        assert emu.model.input == "32"  # selected after the warm-up, before the power-off
        await async_wait_for(lambda: coord.state.power is Power.OFF, 5, "off after cool-down")
        seen = []
        while (e := powers.get_nowait()) is not None:
            assert isinstance(e, ProjectorPower)
            seen.append(e.power)
        assert seen == ["off", "warming", "on", "cooling", "off"]
        assert emu.connections == 1  # one connection reused throughout
    finally:
        await coord.stop()


async def test_commands_on_a_running_projector(emu: Emulator) -> None:
    emu.model.power_target, emu.model.power_since = "1", 1.0  # already on
    coord = make(emu, EventBus())
    await coord.start()
    try:
        await async_wait_for(lambda: coord.state.power is Power.ON, 5)
        await coord.command("input", input="31")
        await coord.command("blank", on=True)
        await coord.command("freeze", on=True)
        await coord.command("volume", step=-2)
        await async_wait_for(lambda: coord.state.blank and coord.state.freeze, 5)
        assert coord.state.input == "HDMI 1" and emu.model.volume == 8
        for name, args in (("input", {"input": "S-Video"}), ("warp", {}), ("volume", {"step": 99})):
            with pytest.raises(CommandRejected):
                await coord.command(name, **args)
        assert coord.available
    finally:
        await coord.stop()


async def test_projector_errors_are_events(emu: Emulator) -> None:
    bus = EventBus()
    sub = bus.subscribe(ProjectorError)
    coord = make(emu, bus)
    await coord.start()
    try:
        await async_wait_for(lambda: coord.available, 5)
        emu.set_errors("000200")
        await async_wait_for(lambda: coord.state.errors, 5)
        event = await asyncio.wait_for(sub.get(), 1)
        assert isinstance(event, ProjectorError) and (event.code, event.detail) == (
            "cover",
            "error",
        )
    finally:
        await coord.stop()


@pytest.mark.parametrize("fault", ["no_reply", "garbage", "disconnect", "slow"])
async def test_fault_makes_it_unavailable_then_it_recovers(
    emu: Emulator, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="roomctl.coordinator")
    bus = EventBus()
    sub = bus.subscribe(DeviceAvailability)
    coord = make(emu, bus)
    await coord.start()
    try:
        await async_wait_for(lambda: coord.available, 5)
        emu.fault = fault
        await async_wait_for(lambda: not coord.available, 5, "unavailable")
        assert coord.snapshot()["last_error"]
        commands_before = emu.commands
        await async_wait_for(lambda: emu.commands > commands_before + 2, 5, "retries")
        emu.fault = "none"
        await async_wait_for(lambda: coord.available, 5, "recovered")
        msgs = [r.getMessage() for r in caplog.records if r.name == "roomctl.coordinator"]
        assert (
            sum("unavailable" in m for m in msgs) == 1 and sum("recovered" in m for m in msgs) == 1
        )
        flags = []
        while (e := sub.get_nowait()) is not None:
            assert isinstance(e, DeviceAvailability)
            flags.append(e.available)
        assert flags == [True, False, True]
    finally:
        await coord.stop()


async def test_busy_projector_is_not_an_outage(emu: Emulator) -> None:
    coord = make(emu, EventBus())
    await coord.start()
    try:
        await async_wait_for(lambda: coord.available, 5)
        emu.fault = "busy"
        command = coord.enqueue("power", on=True)
        await asyncio.sleep(0.2)
        assert coord.available and not command.done()  # retried, not failed
        emu.fault = "none"
        await asyncio.wait_for(command, 5)
    finally:
        await coord.stop()


async def test_wrong_password_needs_attention(emu: Emulator) -> None:
    coord = make(emu, EventBus(), password="wrong")
    await coord.start()
    try:
        await async_wait_for(lambda: coord.needs_attention, 5)
        assert not coord.available and "wrong" not in coord.last_error
    finally:
        await coord.stop()


async def test_emulator_gone_then_back() -> None:
    emu = Emulator(ProjectorModel())
    await emu.start()
    port = emu.port
    coord = make(emu, EventBus(), password="")
    await coord.start()
    try:
        await async_wait_for(lambda: coord.available, 5)
        await emu.stop()
        await async_wait_for(lambda: not coord.available, 5, "unavailable when gone")
        emu = Emulator(ProjectorModel(), port=port)
        await emu.start()
        await async_wait_for(lambda: coord.available, 5, "back")
    finally:
        await coord.stop()
        await emu.stop()


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        create(
            {"type": "pjlink", "host": "", "port": 99999, "pasword": "x", "inputs": {"HDMI": "99"}},
            type("Ctx", (), {"path": "devices[1]", "file": "room.toml"})(),
        )
    text = str(info.value)
    for part in (
        "room.toml: devices[1].pasword: unknown key",
        "did you mean 'password'",
        "devices[1].host",
        "devices[1].port",
        "devices[1].inputs.HDMI",
    ):
        assert part in text
    driver = PjlinkDriver(PjlinkConfig(host="127.0.0.1", password="secret"))
    assert effective(driver.config)["password"] == "********"
    assert Capability.POWER in driver.capabilities.features


async def test_projector_answering_err4_to_everything_stays_available() -> None:
    class FaultyModel(ProjectorModel):
        """Sony-like: ERR4 to every command while a fault is present."""

    emu = Emulator(FaultyModel())
    original = emu.handle

    def err4(line: str) -> str | None:
        reply = original(line)
        return reply[:6] + "=ERR4" if reply and not reply.endswith("ERR1") else reply

    emu.handle = err4  # type: ignore[method-assign]
    await emu.start()
    coord = make(emu, EventBus(), password="")
    await coord.start()
    try:
        await async_wait_for(lambda: coord.available, 5)
        assert coord.state.power is Power.ERROR
    finally:
        await coord.stop()
        await emu.stop()
