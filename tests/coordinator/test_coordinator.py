"""Coordinator behaviour against a scripted driver (a fake at the Driver seam).

The same coordinator runs against the real PJLink driver and emulator over TCP in
tests/devices/test_pjlink_driver.py; here the driver is scripted to reach each branch fast.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from roomctl.coordinator import Coordinator, Timing
from roomctl.core.bus import EventBus
from roomctl.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    NotReady,
    ProtocolError,
    Unavailable,
)
from roomctl.core.events import (
    DeviceAvailability,
    LampThreshold,
    ProjectorError,
    ProjectorErrorCleared,
    ProjectorPower,
)
from roomctl.drivers.base import Capabilities, Capability, DeviceState, Driver, Power
from tests.support.real import async_wait_for

FAST = Timing(
    poll_s=0.05,
    busy_poll_s=0.02,
    backoff_initial_s=0.01,
    backoff_max_s=0.05,
    auth_retry_s=0.05,
    command_timeout_s=1.0,
    not_ready_give_up_s=2.0,
)


class ScriptedDriver(Driver):
    """A fake driver: a projector state machine in memory plus injectable failures."""

    def __init__(self, warmup_s: float = 0.3, reports_transitions: bool = True) -> None:
        self.capabilities = Capabilities(
            features=frozenset({Capability.POWER, Capability.INPUT, Capability.LAMP}),
            inputs=("HDMI1", "HDMI2"),
            rated_lamp_hours=1000,
            warmup_s=warmup_s,
            cooldown_s=warmup_s,
        )
        self.reports_transitions = reports_transitions
        self.power = Power.OFF
        self.until = 0.0
        self.input = "HDMI1"
        self.lamp = 10
        self.errors: dict[str, str] = {}
        self.fail: Exception | None = None
        self.busy_commands = 0
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.connects = 0

    async def connect(self) -> None:
        self.connects += 1
        if self.fail:
            raise self.fail

    async def close(self) -> None:
        pass

    def _settle(self) -> None:
        if self.power in (Power.WARMING, Power.COOLING) and time.monotonic() >= self.until:
            self.power = Power.ON if self.power is Power.WARMING else Power.OFF

    async def poll(self) -> DeviceState:
        if self.fail:
            raise self.fail
        self._settle()
        power = self.power
        if not self.reports_transitions and power in (Power.WARMING, Power.COOLING):
            power = Power.ON if power is Power.WARMING else Power.OFF
        return DeviceState(
            power=power, input=self.input, lamp_hours=self.lamp, errors=dict(self.errors)
        )

    async def command(self, name: str, **args: Any) -> None:
        if self.fail:
            raise self.fail
        if self.busy_commands:
            self.busy_commands -= 1
            raise NotReady("busy", retry_after_s=0.01)
        self._settle()
        if name == "power":
            if self.power in (Power.WARMING, Power.COOLING):
                raise NotReady("in transition")
            target = Power.WARMING if args["on"] else Power.COOLING
            if (self.power is Power.ON) != bool(args["on"]):
                self.power, self.until = target, time.monotonic() + self.capabilities.warmup_s
        elif name == "input":
            if args["input"] not in self.capabilities.inputs:
                raise CommandRejected("no such input")
            self.input = args["input"]
        else:
            raise CommandRejected(f"unknown command {name}")
        self.log.append((name, args))


async def started(driver: ScriptedDriver, bus: EventBus | None = None) -> Coordinator:
    coord = Coordinator(
        "proj", driver, bus or EventBus(), role="main_display", timing=FAST, ready_input="HDMI2"
    )
    await coord.start()
    await async_wait_for(lambda: coord.available, 5, "first poll")
    return coord


async def test_first_poll_makes_device_available_with_state() -> None:
    bus = EventBus()
    sub = bus.subscribe(DeviceAvailability)
    coord = await started(ScriptedDriver(), bus)
    try:
        snap = coord.snapshot()
        assert snap["available"] is True
        assert snap["state"]["power"] == "off"
        assert snap["state"]["input"] == "HDMI1"
        assert snap["capabilities"]["inputs"] == ["HDMI1", "HDMI2"]
        assert snap["lockout"] is None
        event = sub.get_nowait()
        assert isinstance(event, DeviceAvailability) and event.available
    finally:
        await coord.stop()


async def test_commands_run_in_fifo_order() -> None:
    driver = ScriptedDriver()
    coord = await started(driver)
    try:
        futures = [coord.enqueue("input", input=n) for n in ("HDMI2", "HDMI1", "HDMI2")]
        await asyncio.gather(*futures)
        assert [a["input"] for _, a in driver.log] == ["HDMI2", "HDMI1", "HDMI2"]
        with pytest.raises(CommandRejected):
            await coord.command("input", input="VGA9")
        assert coord.available  # a refused command is not an outage
    finally:
        await coord.stop()


@pytest.mark.parametrize("reports", [True, False], ids=["reports-warming", "on-off-only"])
async def test_power_off_during_warmup_waits_and_snapshot_says_why(reports: bool) -> None:
    bus = EventBus()
    sub = bus.subscribe(ProjectorPower)
    driver = ScriptedDriver(warmup_s=0.6, reports_transitions=reports)
    coord = await started(driver, bus)
    try:
        await coord.command("power", on=True)
        lock = coord.snapshot()["lockout"]
        assert lock is not None and lock["reason"] == "warming"
        assert 0 <= lock["seconds_left"] <= 1
        assert coord.snapshot()["state"]["power"] == "warming"
        off = coord.enqueue("power", on=False)
        await asyncio.sleep(0.2)  # well inside the warm-up: the off must still be queued
        assert not off.done() and coord.snapshot()["queued"] == 1
        assert coord.snapshot()["pending"] == ["power"]
        await asyncio.wait_for(off, 5)
        assert time.monotonic() >= driver.until - 0.6  # it ran only after the warm-up ended
        assert [a["on"] for n, a in driver.log if n == "power"] == [True, False]
        powers = []
        while (e := sub.get_nowait()) is not None:
            assert isinstance(e, ProjectorPower)
            powers.append(e.power)
        assert powers[:4] == ["off", "warming", "on", "cooling"], powers
    finally:
        await coord.stop()


async def test_power_on_during_warmup_is_already_happening() -> None:
    driver = ScriptedDriver(warmup_s=0.5)
    coord = await started(driver)
    try:
        await coord.command("power", on=True)
        await asyncio.wait_for(coord.command("power", on=True), 0.3)
        assert len(driver.log) == 1
    finally:
        await coord.stop()


async def test_make_ready_powers_on_then_selects_input_after_warmup() -> None:
    driver = ScriptedDriver(warmup_s=0.3)
    coord = await started(driver)
    try:
        ready = await coord.make_ready()
        assert ready["power"] == "warming" and ready["input"] == "HDMI2"
        await async_wait_for(lambda: coord.state.input == "HDMI2", 5, "input selected")
        assert [n for n, _ in driver.log] == ["power", "input"]
        assert coord.state.power is Power.ON
    finally:
        await coord.stop()


async def test_busy_command_is_retried() -> None:
    driver = ScriptedDriver()
    coord = await started(driver)
    try:
        driver.busy_commands = 3
        await asyncio.wait_for(coord.command("input", input="HDMI2"), 5)
        assert driver.input == "HDMI2" and driver.busy_commands == 0
    finally:
        await coord.stop()


@pytest.mark.parametrize(
    "error", [Unavailable("no route"), ProtocolError("garbage"), ValueError("driver bug")]
)
async def test_failure_streak_logs_once_and_recovers(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus()
    sub = bus.subscribe(DeviceAvailability)
    driver = ScriptedDriver()
    coord = await started(driver, bus)
    caplog.set_level(logging.INFO, logger="roomctl.coordinator")
    try:
        driver.fail = error
        await async_wait_for(lambda: not coord.available, 5, "unavailable")
        await async_wait_for(lambda: driver.connects >= 5, 5, "reconnect attempts")
        assert coord.snapshot()["last_error"]
        assert not coord.needs_attention
        with pytest.raises(Unavailable):
            await asyncio.wait_for(coord.command("input", input="HDMI2"), 1)
        driver.fail = None
        await async_wait_for(lambda: coord.available, 5, "recovery")
        lines = [r.getMessage() for r in caplog.records if r.name == "roomctl.coordinator"]
        assert sum("unavailable" in line for line in lines) == 1, lines
        assert sum("recovered" in line for line in lines) == 1, lines
        seen = []
        while (e := sub.get_nowait()) is not None:
            assert isinstance(e, DeviceAvailability)
            seen.append(e.available)
        assert seen == [True, False, True]
    finally:
        await coord.stop()


async def test_wrong_password_needs_a_person() -> None:
    driver = ScriptedDriver()
    driver.fail = AuthenticationFailed("password refused")
    coord = Coordinator("proj", driver, EventBus(), timing=FAST)
    await coord.start()
    try:
        await async_wait_for(lambda: coord.needs_attention, 5, "needs attention")
        snap = coord.snapshot()
        assert not snap["available"] and "password" in snap["last_error"]
        with pytest.raises(AuthenticationFailed):
            await coord.command("power", on=True)
        driver.fail = None
        await async_wait_for(lambda: coord.available, 5, "recovery after fixing")
        assert not coord.needs_attention
    finally:
        await coord.stop()


async def test_error_and_lamp_events() -> None:
    bus = EventBus()
    sub = bus.subscribe(ProjectorError, ProjectorErrorCleared, LampThreshold)
    driver = ScriptedDriver()
    coord = await started(driver, bus)
    try:
        driver.errors = {"fan": "error"}
        driver.lamp = 950
        await async_wait_for(lambda: coord.state.lamp_hours == 950, 5)
        driver.errors = {}
        driver.lamp = 960
        await async_wait_for(lambda: coord.state.lamp_hours == 960, 5)
        events = []
        while (e := sub.get_nowait()) is not None:
            events.append(e)
        assert [type(e).__name__ for e in events] == [
            "ProjectorError",
            "LampThreshold",
            "ProjectorErrorCleared",
        ]
        assert isinstance(events[1], LampThreshold) and events[1].hours == 950
    finally:
        await coord.stop()


async def test_stop_fails_queued_commands() -> None:
    driver = ScriptedDriver(warmup_s=5)
    coord = await started(driver)
    await coord.command("power", on=True)
    off = coord.enqueue("power", on=False)
    await coord.stop()
    with pytest.raises(Unavailable):
        await off
