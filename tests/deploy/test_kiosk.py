"""The kiosk watchdog against a stand-in executable at the process seam (not systemctl)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from roomctl.config.loader import parse_config
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.kiosk import WARNING_SOURCE, KioskSettings, KioskWatchdog
from roomctl.room import Room
from tests.support.real import async_wait_for

STAND_IN = """#!/bin/sh
# stand-in for "systemctl restart roomctl-kiosk.service": records each call and its arguments
echo "$(date +%s.%N) $*" >> "{log}"
exit {code}
"""


def stand_in(tmp_path: Path, code: int = 0) -> tuple[Path, Path]:
    log = tmp_path / "restarts.log"
    exe = tmp_path / "systemctl-stand-in"
    exe.write_text(STAND_IN.format(log=log, code=code))
    exe.chmod(0o755)
    return exe, log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def room() -> Room:
    return Room(parse_config({"room": {"id": "a101"}}), EventBus(), WarningsRegistry())


def settings(exe: Path, **extra: float) -> KioskSettings:
    timing = {"silence_s": 0.3, "check_s": 0.02, "backoff_max_s": 5.0, **extra}
    return KioskSettings(command=(str(exe), "restart", "roomctl-kiosk.service"), **timing)


async def test_heartbeats_keep_the_kiosk_alone(room: Room, tmp_path: Path) -> None:
    exe, log = stand_in(tmp_path)
    dog = KioskWatchdog(room, settings(exe))
    await dog.start()
    try:
        deadline = time.monotonic() + 0.9
        while time.monotonic() < deadline:  # three silence windows, each one interrupted
            room.display_heartbeat()
            await dog.check()
            await asyncio.sleep(0.02)
    finally:
        await dog.stop()
    assert calls(log) == []


async def test_silence_restarts_the_kiosk_and_warns(room: Room, tmp_path: Path) -> None:
    exe, log = stand_in(tmp_path)
    dog = KioskWatchdog(room, settings(exe))
    await dog.start()
    try:
        await async_wait_for(lambda: calls(log), 5, "a restart")
    finally:
        await dog.stop()
    assert calls(log)[0].split()[1:] == ["restart", "roomctl-kiosk.service"]
    assert [w.key for w in room.warnings.all()] == ["kiosk.restarted"]


async def test_restarts_back_off_then_reset_when_the_page_returns(
    room: Room, tmp_path: Path
) -> None:
    exe, log = stand_in(tmp_path)
    dog = KioskWatchdog(room, settings(exe, silence_s=0.15))
    await dog.start()
    try:
        await async_wait_for(lambda: len(calls(log)) >= 3, 10, "three restarts")
        stamps = [float(line.split()[0]) for line in calls(log)[:3]]
        assert stamps[2] - stamps[1] > 1.5 * (stamps[1] - stamps[0])  # 0.3 s, then 0.6 s
        assert dog.wait_s() >= 0.15 * 8

        def page_is_back() -> bool:
            room.display_heartbeat()  # a live page keeps beating while we wait
            return dog.restarts == 0

        await async_wait_for(page_is_back, 5, "reset on heartbeat")
    finally:
        await dog.stop()
    assert room.warnings.all() == []
    assert dog.total_restarts >= 3


async def test_backoff_is_capped(room: Room, tmp_path: Path) -> None:
    exe, _ = stand_in(tmp_path)
    dog = KioskWatchdog(room, settings(exe, silence_s=10, backoff_max_s=60))
    dog.restarts = 30
    assert dog.wait_s() == 60


async def test_a_failing_or_missing_command_never_kills_the_watchdog(
    room: Room, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exe, log = stand_in(tmp_path, code=3)
    dog = KioskWatchdog(room, settings(exe))
    await dog.start()
    try:
        await async_wait_for(lambda: calls(log), 5, "a failing restart")
        assert "exited with 3" in caplog.text
        dog.settings = settings(tmp_path / "no-such-program")
        before = dog.total_restarts
        await async_wait_for(lambda: dog.total_restarts > before, 5, "a restart attempt")
        assert "cannot run" in caplog.text
        assert dog._task is not None and not dog._task.done()
    finally:
        await dog.stop()


async def test_disabled_watchdog_starts_nothing(room: Room, tmp_path: Path) -> None:
    exe, _ = stand_in(tmp_path)
    dog = KioskWatchdog(room, KioskSettings(enabled=False, command=(str(exe),)))
    await dog.start()
    assert dog._task is None
    await dog.stop()
    assert WARNING_SOURCE == "kiosk"
