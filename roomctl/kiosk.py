"""The kiosk watchdog: restart the HDMI kiosk unit when the display page stops its heartbeat.

The display page in Chromium sends a heartbeat that the room records in
``room.state.display_heartbeat`` (``time.monotonic()``; 0 means never). When it has been silent
for ``silence_s`` the watchdog runs the restart command (``systemctl restart
roomctl-kiosk.service``). A restart also brings Chromium back to full screen after a projector
power-cycle, which labwc/cage setups are known to lose. Repeated restarts back off so a display
that cannot come up is not restarted in a tight loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from roomctl.core.tasks import cancel

logger = logging.getLogger(__name__)

WARNING_SOURCE = "kiosk"
RESTART_COMMAND = ("systemctl", "restart", "--no-block", "roomctl-kiosk.service")


@dataclass(frozen=True)
class KioskSettings:
    """Timing and command of the kiosk watchdog."""

    enabled: bool = True
    silence_s: float = 45.0  # Chromium plus cage need ~20 s to come up on a Pi 4
    check_s: float = 5.0
    backoff_max_s: float = 900.0
    command: tuple[str, ...] = RESTART_COMMAND
    command_timeout_s: float = 30.0


class _State(Protocol):
    display_heartbeat: float


class _Warnings(Protocol):
    def add(self, source: str, key: str, message: str, **params: object) -> None: ...
    def clear(self, source: str) -> None: ...


class _Room(Protocol):
    @property
    def state(self) -> _State: ...
    @property
    def warnings(self) -> _Warnings: ...


class KioskWatchdog:
    """A Service restarting the kiosk when ``room.state.display_heartbeat`` goes silent."""

    def __init__(
        self,
        room: _Room,
        settings: KioskSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.room = room
        self.settings = settings or KioskSettings()
        self.clock = clock
        self.restarts = 0  # restarts since the display was last heard
        self.total_restarts = 0
        self._since = 0.0  # start of the current silence window
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin watching; the first window starts now, so boot gets ``silence_s`` of grace."""
        if self._task is None and self.settings.enabled:
            self._since = self.clock()
            self._task = asyncio.create_task(self._run(), name="kiosk-watchdog")

    async def stop(self) -> None:
        """Stop watching; idempotent."""
        task, self._task = self._task, None
        await cancel(task)

    def wait_s(self) -> float:
        """Silence tolerated before the next restart: ``silence_s``, doubling per failed restart."""
        doubled = self.settings.silence_s * 2 ** min(self.restarts, 16)
        return min(doubled, max(self.settings.backoff_max_s, self.settings.silence_s))

    async def check(self) -> bool:
        """One check; True when it restarted the kiosk."""
        heard = self.room.state.display_heartbeat
        if heard > self._since:
            self._since = heard
            if self.restarts:
                logger.info("display page is back after %d kiosk restart(s)", self.restarts)
                self.room.warnings.clear(WARNING_SOURCE)
                self.restarts = 0
            return False
        if self.clock() - self._since < self.wait_s():
            return False
        await self._restart()
        return True

    async def _restart(self) -> None:
        silent = self.clock() - self._since
        log = logger.warning if self.restarts == 0 else logger.debug
        log("display page silent for %.0f s; restarting the kiosk", silent)
        self.restarts += 1
        self.total_restarts += 1
        self.room.warnings.add(
            WARNING_SOURCE,
            "kiosk.restarted",
            "the display page stopped answering; the kiosk was restarted",
            restarts=self.restarts,
        )
        await self._run_command()
        self._since = self.clock()

    async def _run_command(self) -> None:
        cmd = self.settings.command
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL
            )
        except OSError as err:
            logger.warning("cannot run %s: %s", cmd[0], err)
            return
        try:
            async with asyncio.timeout(self.settings.command_timeout_s):
                code = await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            code = -1
        if code != 0:
            logger.warning("kiosk restart command %s exited with %s", " ".join(cmd), code)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.check_s)
            try:
                await self.check()
            except Exception:  # the watchdog must outlive any single bad check
                logger.exception("kiosk watchdog check failed")
