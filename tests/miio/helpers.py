"""Shared pieces for miio tests: tokens, fast timings, a driver+coordinator on an emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from roomctl.coordinator import Coordinator, Timing
from roomctl.core.bus import EventBus
from roomctl.drivers.miio import MiioDriver, create
from roomctl.emulators.miio import MiioEmulator

TOKEN = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8"
OTHER_TOKEN = "00112233445566778899aabbccddeeff"
FAST = Timing(
    poll_s=0.1,
    busy_poll_s=0.05,
    backoff_initial_s=0.05,
    backoff_max_s=0.2,
    auth_retry_s=0.2,
    command_timeout_s=5.0,
)


def driver(host: str, token: str = TOKEN, **extra: Any) -> MiioDriver:
    """A miio driver with timeouts short enough for tests."""
    mapping = {"type": "miio", "host": host, "token": token, "timeout_s": 0.25, "retries": 0}
    return create({**mapping, **extra})


@asynccontextmanager
async def emulated(kind: str, host: str, **kw: Any) -> AsyncIterator[MiioEmulator]:
    """An emulator on this event loop, stopped afterwards."""
    emulator = MiioEmulator(kind, host, TOKEN, **kw)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@asynccontextmanager
async def coordinated(
    device_id: str, drv: MiioDriver, bus: EventBus | None = None, role: str = "plug"
) -> AsyncIterator[Coordinator]:
    """A running coordinator around ``drv``."""
    coord = Coordinator(device_id, drv, bus or EventBus(), role=role, timing=FAST)
    await coord.start()
    try:
        yield coord
    finally:
        await coord.stop()
