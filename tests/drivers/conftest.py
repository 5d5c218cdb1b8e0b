"""A rig that wires family emulators to profile drivers over real ptys and real TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from roomctl.core.errors import CommandRejected, NotReady, ProtocolError, Unavailable
from roomctl.drivers.base import Power
from roomctl.drivers.profile import ProfileDeviceConfig, ProfileDriver
from roomctl.emulators.base import Projector
from roomctl.emulators.profile import ProfileEmulator
from roomctl.profiles import loader
from tests.support.real import async_wait_for

FAST = {"gap_s": 0.0, "reply_timeout_s": 0.5, "retries": 0}


class Rig:
    """Starts emulators and drivers wired to them; stops everything at the end."""

    def __init__(self) -> None:
        self.emulators: list[ProfileEmulator] = []
        self.drivers: list[ProfileDriver] = []

    async def start(
        self, pid: str, *, pty: bool, password: str = "", fault: str = "none", **cfg: Any
    ) -> tuple[ProfileEmulator, ProfileDriver]:
        # Flat panels (no warming state in their protocol) switch at once.
        delay = 0.0 if pid in ("lg/ka-serial", "samsung/mdc") else 0.3
        projector = Projector(warmup_s=delay, cooldown_s=delay)
        emulator = ProfileEmulator(pid, password=password, fault=fault, projector=projector)
        self.emulators.append(emulator)
        if pty:
            where: dict[str, Any] = {"url": await emulator.start_pty()}
        else:
            where = {"host": "127.0.0.1", "port": await emulator.start_tcp()}
        profile = loader.get(pid)
        profile = replace(profile, timing=replace(profile.timing, **FAST))
        config = ProfileDeviceConfig(type=pid, password=password, **where, **cfg)
        driver = ProfileDriver(config, profile)
        self.drivers.append(driver)
        return emulator, driver

    async def stop(self) -> None:
        for driver in self.drivers:
            await driver.close()
        for emulator in self.emulators:
            await emulator.stop()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = Rig()
    yield r
    await r.stop()


async def power_is(driver: ProfileDriver, want: Power) -> bool:
    """Whether a poll reports ``want``; False while the device refuses commands."""
    try:
        return (await driver.poll()).power is want
    except NotReady:  # Hitachi accepts no command during warm-up
        return False


async def power_cycle(driver: ProfileDriver, input_name: str) -> None:
    """Connect, power on, select ``input_name``, power off, checking each step by polling."""
    await driver.connect()
    assert (await driver.poll()).power is Power.OFF
    await driver.command("power", on=True)
    await async_wait_for(lambda: power_is(driver, Power.ON), timeout=5, what="power on")
    await driver.command("input", input=input_name)
    state = await driver.poll()
    assert state.power is Power.ON and state.input == input_name
    await driver.command("power", on=False)
    await async_wait_for(lambda: power_is(driver, Power.OFF), timeout=5, what="power off")


async def fault_then_recovery(
    rig: Rig, pid: str, pty: bool, fault: str, error: type[Exception], prepare: Any = None
) -> None:
    """A device with ``fault`` raises ``error``; once it is well, the driver recovers alone."""
    emulator, driver = await rig.start(pid, pty=pty, fault=fault)
    if prepare is not None:
        prepare(driver)
    with pytest.raises(error):
        await driver.connect()
        await driver.poll()
    emulator.fault = "none"  # the device recovers: so does the driver, without a restart
    await async_wait_for(lambda: _healthy(driver), timeout=5, what="recovery")


async def _healthy(driver: ProfileDriver) -> bool:
    try:
        return (await driver.poll()).power is Power.OFF
    except (Unavailable, ProtocolError, NotReady, CommandRejected):
        return False
