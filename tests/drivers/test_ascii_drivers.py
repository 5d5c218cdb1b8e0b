"""The generic profile driver against the BenQ, Optoma and Casio emulators (real ptys, TCP)."""

from __future__ import annotations

import pytest

from roomctl.core.errors import CommandRejected, NotReady, ProtocolError, Unavailable
from roomctl.drivers.base import Power
from roomctl.drivers.profile import ProfileDeviceConfig, ProfileDriver, make_transport
from roomctl.emulators import profile as emu_mod
from roomctl.profiles import loader
from roomctl.transports.tcp import TcpTransport
from tests.drivers.conftest import Rig, fault_then_recovery
from tests.support.real import async_wait_for

# None of these protocols says "warming up" in a way the driver can read: BenQ answers
# *Block item# (NotReady), Optoma F (CommandRejected) and Casio nothing at all (Unavailable).
NOT_YET = (NotReady, CommandRejected, Unavailable)


async def _poll_power(driver: ProfileDriver, want: Power) -> bool:
    try:
        return (await driver.poll()).power is want
    except NOT_YET:
        return False


async def _input_taken(driver: ProfileDriver, name: str) -> bool:
    try:
        await driver.command("input", input=name)
        state = await driver.poll()
    except NOT_YET:
        return False
    return state.power is Power.ON and state.input == name


async def _power_cycle(driver: ProfileDriver, input_name: str) -> None:
    await driver.connect()
    assert (await driver.poll()).power is Power.OFF
    await driver.command("power", on=True)
    await async_wait_for(lambda: _input_taken(driver, input_name), timeout=5, what="input")
    await driver.command("power", on=False)
    await async_wait_for(lambda: _poll_power(driver, Power.OFF), timeout=5, what="power off")


@pytest.mark.parametrize(
    ("pid", "pty", "input_name"),
    [
        ("benq/ascii", True, "hdmi2"),
        ("benq/ascii", False, "video"),  # the native LAN port: no prompt
        ("optoma/ascii", True, "hdmi1"),
        ("optoma/ascii", True, "hdmi2"),
        ("casio/ascii", True, "hdmi"),
    ],
)
async def test_power_cycle_and_input(rig: Rig, pid: str, pty: bool, input_name: str) -> None:
    _, driver = await rig.start(pid, pty=pty)
    await _power_cycle(driver, input_name)


def test_benq_lan_port_defaults_to_8000() -> None:
    profile = loader.get("benq/ascii")
    transport = make_transport(ProfileDeviceConfig(type="benq/ascii", host="10.0.0.9"), profile)
    assert isinstance(transport, TcpTransport) and transport.port == 8000


async def test_benq_refusals_lamp_and_model(rig: Rig) -> None:
    emulator, driver = await rig.start("benq/ascii", pty=True)
    emulator.projector.lamp_hours = 2871
    await driver.connect()
    with pytest.raises(NotReady):  # *Block item# while off
        await driver.command("blank", on=True)
    state = await driver.poll()
    assert state.lamp_hours == 2871 and state.model == "EMU-1000"
    await driver.command("power", on=True)
    await async_wait_for(lambda: _input_taken(driver, "hdmi1"), timeout=5, what="input")
    with pytest.raises(CommandRejected):  # *Unsupported item#: this model has no RGB2
        await driver.command("input", input="computer2")
    await driver.command("mute", on=True)
    with pytest.raises(CommandRejected):  # *Illegal format#: already muted (MX613ST p.57)
        await driver.command("mute", on=True)
    await driver.command("blank", on=True)
    await driver.command("volume", step=2)
    state = await driver.poll()
    assert state.blank is True and state.volume == 12 and emulator.projector.mute


async def test_optoma_lamp_hours_and_pushed_errors(rig: Rig) -> None:
    emulator, driver = await rig.start("optoma/ascii", pty=True)
    emulator.projector.lamp_hours = 812
    await driver.connect()
    assert (await driver.poll()).lamp_hours == 812
    emulator.projector.error = "fan"
    await driver.poll()  # INFO6 comes in front of the next reply
    assert driver.pushed["power"] == "error"
    # Optoma has no error query: the announced fault is what the caretaker sees, and it stays
    assert (await driver.poll()).errors == {"announced": "fan lock"}
    assert (await driver.poll()).errors == {"announced": "fan lock"}
    emulator.projector.error = ""
    await driver.command("power", on=True)  # INFO1, a clean start, clears it
    assert (await driver.poll()).errors == {}


@pytest.mark.parametrize(("set_id", "answers"), [("01", True), ("00", True), ("02", False)])
async def test_optoma_set_id(rig: Rig, set_id: str, answers: bool) -> None:
    _, driver = await rig.start("optoma/ascii", pty=True, set_id=set_id)
    if answers:
        assert (await driver.poll()).power is Power.OFF
    else:
        with pytest.raises(Unavailable):  # another projector's ID: ours says nothing
            await driver.poll()


async def test_casio_volume_and_blank_read_back(rig: Rig) -> None:
    emulator, driver = await rig.start("casio/ascii", pty=True)
    await driver.connect()
    await driver.command("power", on=True)
    await async_wait_for(lambda: _input_taken(driver, "video"), timeout=5, what="input")
    await driver.command("volume", level=15)
    await driver.command("blank", on=True)
    state = await driver.poll()
    assert state.volume == 15 and state.blank is True and emulator.projector.blank


@pytest.mark.parametrize(
    ("pid", "pty", "fault", "error"),
    [
        ("benq/ascii", True, "garbage", ProtocolError),
        ("benq/ascii", True, "bad_checksum", ProtocolError),
        ("benq/ascii", False, "busy", NotReady),
        ("benq/ascii", False, "disconnect", Unavailable),
        ("benq/ascii", False, "slow", Unavailable),
        ("optoma/ascii", True, "no_reply", Unavailable),
        ("optoma/ascii", True, "bad_checksum", ProtocolError),
        ("optoma/ascii", True, "busy", CommandRejected),  # Optoma's only refusal is F
        ("casio/ascii", True, "busy", Unavailable),  # a busy Casio takes no command
        ("casio/ascii", True, "bad_checksum", ProtocolError),
        # Garbage holding neither ")" nor "?" never ends a Casio reply: it reads as silence.
        ("casio/ascii", True, "garbage", Unavailable),
    ],
)
async def test_fault_paths(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, pid: str, pty: bool, fault: str, error: type
) -> None:
    monkeypatch.setattr(emu_mod, "SLOW_S", 1.0)
    await fault_then_recovery(rig, pid, pty, fault, error)
