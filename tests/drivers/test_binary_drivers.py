"""The generic profile driver against the ViewSonic, Sony binary and Hitachi 9715 emulators.

Serial families run over a real pty, Hitachi 9715 over real TCP on 127.0.0.1. The Sony
profile asks for 38400 8E1; a pty has no parity bit on its "wire", so even parity is a line
setting this rig cannot show (only that the driver asks for it). Worse, Linux refuses
(EINVAL) a tcsetattr whose only change is PARENB, so *re*opening a pty at 8E1 fails: tests
in which the driver reconnects drive the Sony pty at 8N1 (``_no_parity``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from roomctl.core.errors import AuthenticationFailed, NotReady, ProtocolError, Unavailable
from roomctl.drivers.base import Power
from roomctl.drivers.profile import ProfileDriver
from roomctl.emulators import profile as emu_mod
from roomctl.emulators.binary_families import SonyBinary
from roomctl.transports.serial import SerialTransport
from tests.drivers.conftest import Rig, fault_then_recovery, power_cycle, power_is
from tests.support.real import async_wait_for


def _no_parity(driver: ProfileDriver) -> None:
    transport = driver.transport
    assert isinstance(transport, SerialTransport)
    driver.transport = SerialTransport(transport.url, replace(transport.settings, parity="N"))


@pytest.mark.parametrize(
    ("pid", "pty", "input_name"),
    [
        ("viewsonic/binary", True, "video"),
        ("sony/binary-serial", True, "hdmi1"),
        ("hitachi/tcp9715", False, "hdmi1"),
    ],
)
async def test_power_cycle_and_input(rig: Rig, pid: str, pty: bool, input_name: str) -> None:
    _, driver = await rig.start(pid, pty=pty)
    await power_cycle(driver, input_name)


async def test_sony_asks_for_8e1_and_reports_warming_lamp_and_errors(rig: Rig) -> None:
    emulator, driver = await rig.start("sony/binary-serial", pty=True)
    assert isinstance(driver.transport, SerialTransport)
    settings = driver.transport.settings
    assert (settings.baudrate, settings.bytesize, settings.parity) == (38400, 8, "E")
    await driver.connect()
    with pytest.raises(NotReady):
        await driver.command("input", input="hdmi1")  # NAK 01 0A while in standby
    await driver.command("power", on=True)
    assert (await driver.poll()).power is Power.WARMING
    with pytest.raises(NotReady):
        await driver.command("power", on=False)  # not applicable during start-up
    await async_wait_for(lambda: power_is(driver, Power.ON), timeout=5, what="power on")
    await driver.command("blank", on=True)
    emulator.projector.error = "temperature"
    emulator.projector.lamp_hours = 2345
    state = await driver.poll()
    assert state.blank is True and state.lamp_hours == 2345
    assert state.errors == {"0008": "temperature error"}


async def test_sony_silent_power_on_is_sent_again(rig: Rig) -> None:
    emulator, driver = await rig.start("sony/binary-serial", pty=True)
    assert isinstance(emulator.family, SonyBinary)
    emulator.family.quiet_power_on = True
    _no_parity(driver)  # the retry reconnects
    # The profile's retries = 1 is what carries a power-on the projector did not answer.
    driver.profile = replace(driver.profile, timing=replace(driver.profile.timing, retries=1))
    await driver.connect()
    before = emulator.requests
    await driver.command("power", on=True)
    assert emulator.requests - before == 2
    assert (await driver.poll()).power in (Power.WARMING, Power.ON)


async def test_hitachi_9715_reports_lamp_filter_and_errors(rig: Rig) -> None:
    emulator, driver = await rig.start("hitachi/tcp9715", pty=False)
    await driver.connect()
    emulator.projector.error = "lamp"
    emulator.projector.filter_hours = 4321
    state = await driver.poll()
    assert state.power is Power.OFF and state.lamp_hours == 1234
    assert state.filter_hours == 4321 and state.errors == {"03": "lamp"}


async def test_hitachi_9715_password(rig: Rig) -> None:
    emulator, driver = await rig.start("hitachi/tcp9715", pty=False, password="secret")
    await driver.connect()
    await driver.command("power", on=True)
    assert emulator.projector.power() == "warming"
    wrong = replace(driver.config, password="guess")
    intruder = ProfileDriver(wrong, driver.profile)
    rig.drivers.append(intruder)
    with pytest.raises(AuthenticationFailed):
        await intruder.connect()
        await intruder.poll()


@pytest.mark.parametrize(
    ("pid", "pty", "fault", "error"),
    [
        ("viewsonic/binary", True, "bad_checksum", ProtocolError),
        ("viewsonic/binary", True, "garbage", ProtocolError),
        ("viewsonic/binary", True, "busy", Unavailable),  # no busy reply: silence
        ("sony/binary-serial", True, "bad_checksum", ProtocolError),
        ("sony/binary-serial", True, "busy", NotReady),
        ("sony/binary-serial", True, "no_reply", Unavailable),
        ("hitachi/tcp9715", False, "busy", NotReady),
        ("hitachi/tcp9715", False, "bad_checksum", ProtocolError),
        ("hitachi/tcp9715", False, "disconnect", Unavailable),
        ("hitachi/tcp9715", False, "slow", Unavailable),
    ],
)
async def test_fault_paths(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, pid: str, pty: bool, fault: str, error: type
) -> None:
    monkeypatch.setattr(emu_mod, "SLOW_S", 1.0)
    prepare = _no_parity if pid == "sony/binary-serial" else None  # an Unavailable reconnects
    await fault_then_recovery(rig, pid, pty, fault, error, prepare)
