"""The generic profile driver against the family emulators over real ptys and real TCP."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from roomctl.core.bus import EventBus
from roomctl.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    ConfigError,
    NotReady,
    ProfileError,
    ProtocolError,
    Unavailable,
)
from roomctl.drivers.base import Capability, Power
from roomctl.drivers.profile import ProfileDeviceConfig, ProfileDriver, create
from roomctl.emulators import profile as emu_mod
from roomctl.emulators.base import Projector
from roomctl.emulators.profile import ProfileEmulator
from roomctl.profiles import loader
from tests.drivers.conftest import FAST, Rig, fault_then_recovery, power_cycle, power_is
from tests.support.real import async_wait_for


@pytest.mark.parametrize(
    ("pid", "pty", "input_name"),
    [
        ("epson/escvp21", True, "hdmi2"),
        ("nec/binary-serial", True, "computer"),
        ("hitachi/serial", True, "hdmi1"),
        ("lg/ka-serial", True, "hdmi2"),
        ("panasonic/serial", True, "video"),
        ("nec/binary-tcp", False, "hdmi1"),
        ("samsung/mdc", False, "hdmi2"),
        ("sony/adcp", False, "hdmi2"),
    ],
)
async def test_power_cycle_and_input(rig: Rig, pid: str, pty: bool, input_name: str) -> None:
    _, driver = await rig.start(pid, pty=pty)
    await power_cycle(driver, input_name)


async def test_epson_reports_warming_blank_lamp_and_errors_over_pty(rig: Rig) -> None:
    emulator, driver = await rig.start("epson/escvp21", pty=True)
    await driver.connect()
    assert driver.capabilities.has(Capability.BLANK) and "hdmi1" in driver.capabilities.inputs
    await driver.command("power", on=True)
    assert (await driver.poll()).power is Power.WARMING
    with pytest.raises(NotReady):
        await driver.command("power", on=False)  # ERR while warming up
    await async_wait_for(lambda: power_is(driver, Power.ON), timeout=5)
    await driver.command("blank", on=True)
    emulator.projector.error = "lamp"
    state = await driver.poll()
    assert state.blank is True and state.lamp_hours == 1234
    assert state.errors == {"06": "lamp error"} and state.model == "EMU-1000"


@pytest.mark.parametrize(
    ("pid", "password"),
    [("epson/escvpnet", "monitor1"), ("panasonic/ntcontrol", "panasonic"), ("sony/adcp", "Pro")],
)
async def test_tcp_handshakes_with_password(rig: Rig, pid: str, password: str) -> None:
    _, driver = await rig.start(pid, pty=False, password=password)
    await driver.connect()
    await driver.command("power", on=True)
    assert (await driver.poll()).power in (Power.WARMING, Power.ON)


@pytest.mark.parametrize("pid", ["epson/escvpnet", "panasonic/ntcontrol", "sony/adcp"])
async def test_wrong_password_is_authentication_failed(rig: Rig, pid: str) -> None:
    _, driver = await rig.start(pid, pty=False, password="right")
    driver.config = replace(driver.config, password="wrong")
    with pytest.raises(AuthenticationFailed):
        await driver.connect()
        await driver.poll()


@pytest.mark.parametrize(
    ("pid", "pty", "fault", "error"),
    [
        ("epson/escvp21", True, "garbage", ProtocolError),
        ("nec/binary-serial", True, "bad_checksum", ProtocolError),
        ("samsung/mdc", False, "bad_checksum", ProtocolError),
        ("lg/ka-serial", True, "busy", NotReady),
        ("nec/binary-tcp", False, "busy", NotReady),
        ("hitachi/serial", True, "busy", NotReady),
        ("epson/escvp21", True, "no_reply", Unavailable),
        ("samsung/mdc", False, "disconnect", Unavailable),
        ("sony/adcp", False, "slow", Unavailable),
    ],
)
async def test_fault_paths(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, pid: str, pty: bool, fault: str, error: type
) -> None:
    monkeypatch.setattr(emu_mod, "SLOW_S", 1.0)
    await fault_then_recovery(rig, pid, pty, fault, error)


async def test_unknown_input_and_command_are_rejected(rig: Rig) -> None:
    _, driver = await rig.start("samsung/mdc", pty=False)
    with pytest.raises(CommandRejected):
        await driver.command("input", input="scart")
    with pytest.raises(CommandRejected):
        await driver.command("freeze", on=True)


def _ctx(path: str = "devices[3]") -> Any:
    return type("Ctx", (), {"path": path, "file": "roomctl.toml", "index": 3})()


def test_create_validates_config_and_profile() -> None:
    driver = create({"type": "epson/escvp21", "url": "/dev/ttyUSB0", "input": "hdmi1"}, _ctx())
    assert driver.profile.id == "epson/escvp21" and driver.transport.__class__.__name__ == (
        "SerialTransport"
    )
    with pytest.raises(ConfigError) as info:
        create({"type": "epson/escvp21", "url": "/dev/ttyUSB0", "baud": 9600}, _ctx())
    assert info.value.issues[0].path == "devices[3].baud"
    with pytest.raises(ConfigError):
        create({"type": "epson/escvp21"}, _ctx())  # neither url nor host
    with pytest.raises(ProfileError) as perr:
        create({"type": "epson/nosuch", "host": "127.0.0.1"}, _ctx())
    assert perr.value.key == "devices[3].type"
    with pytest.raises(ProfileError) as ierr:
        create({"type": "samsung/mdc", "host": "127.0.0.1", "input": "scart"}, _ctx())
    assert ierr.value.key == "devices[3].input"


async def test_socket_url_reaches_a_tcp_serial_gateway(rig: Rig) -> None:
    emulator = ProfileEmulator("lg/ka-serial", projector=Projector(warmup_s=0.0))
    rig.emulators.append(emulator)
    port = await emulator.start_tcp()
    profile = loader.get("lg/ka-serial")
    config = ProfileDeviceConfig(type="lg/ka-serial", url=f"socket://127.0.0.1:{port}")
    driver = ProfileDriver(config, replace(profile, timing=replace(profile.timing, **FAST)))
    rig.drivers.append(driver)
    await driver.connect()
    await driver.command("power", on=True)
    assert (await driver.poll()).power is Power.ON


async def test_driven_through_the_coordinator(rig: Rig) -> None:
    from roomctl.coordinator import Coordinator, Timing

    emulator, driver = await rig.start("nec/binary-tcp", pty=False)
    timing = Timing(poll_s=0.05, busy_poll_s=0.05, backoff_initial_s=0.05, backoff_max_s=0.1)
    coordinator = Coordinator("projector", driver, EventBus(), ready_input="hdmi1", timing=timing)
    await coordinator.start()
    try:
        await async_wait_for(lambda: coordinator.available, timeout=5, what="available")
        await coordinator.make_ready()
        await async_wait_for(
            lambda: coordinator.snapshot()["state"]["input"] == "hdmi1", timeout=5, what="ready"
        )
        emulator.fault = "garbage"
        await async_wait_for(lambda: not coordinator.available, timeout=5, what="unavailable")
        emulator.fault = "none"
        await async_wait_for(lambda: coordinator.available, timeout=5, what="recovered")
    finally:
        await coordinator.stop()
