"""systemd's notify protocol (sd_notify) without a dependency, and the event-loop watchdog.

Messages are newline-separated ``KEY=value`` assignments sent as one datagram to the unix socket
named by ``NOTIFY_SOCKET`` (a leading ``@`` means the abstract namespace). Without that variable
every call is a no-op, so the same code runs under systemd, in a terminal and in tests.

The watchdog pings from a task on the event loop rather than a thread: a thread would keep
pinging while the loop is stuck, which is exactly the failure the watchdog exists to catch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

from roomctl.core.tasks import cancel

logger = logging.getLogger(__name__)


def _address(raw: str) -> str:
    return "\0" + raw[1:] if raw.startswith("@") else raw


def _clean(text: str) -> str:
    # a newline would start a new assignment, letting status text forge READY=1 or similar
    return " ".join(text.split())[:200]


class SdNotifier:
    """Sends sd_notify messages; does nothing when not started by systemd with a notify socket."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.socket_path = env.get("NOTIFY_SOCKET", "")
        self._watchdog_usec = env.get("WATCHDOG_USEC", "")
        self._watchdog_pid = env.get("WATCHDOG_PID", "")
        self._sock: socket.socket | None = None
        self._failed = False

    @property
    def enabled(self) -> bool:
        """Whether there is a notify socket to talk to."""
        return bool(self.socket_path)

    def watchdog_interval(self) -> float | None:
        """Seconds between pings (half of ``WATCHDOG_USEC``), or None without a watchdog."""
        if self._watchdog_pid and self._watchdog_pid != str(os.getpid()):
            return None  # the watchdog belongs to another process (e.g. our parent)
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        return usec / 2_000_000 if usec > 0 else None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` assignments in one datagram; False when it could not be sent."""
        if not self.enabled:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto("\n".join(assignments).encode(), _address(self.socket_path))
        except OSError as err:
            if not self._failed:
                logger.warning("cannot notify systemd at %s: %s", self.socket_path, err)
            self._failed = True
            return False
        if self._failed:
            logger.info("systemd notify socket reachable again")
        self._failed = False
        return True

    def ready(self, status: str = "") -> bool:
        """Tell systemd start-up is complete."""
        return self.send("READY=1", *([f"STATUS={_clean(status)}"] if status else []))

    def status(self, text: str) -> bool:
        """Set the one-line status shown by ``systemctl status``."""
        return self.send(f"STATUS={_clean(text)}")

    def ping(self) -> bool:
        """Reset the watchdog timer."""
        return self.send("WATCHDOG=1")

    def stopping(self, status: str = "") -> bool:
        """Tell systemd shutdown has begun."""
        return self.send("STOPPING=1", *([f"STATUS={_clean(status)}"] if status else []))

    def close(self) -> None:
        """Close the socket; a later send reopens it."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Watchdog:
    """A Service that pings systemd's watchdog from the event loop at half of WATCHDOG_USEC."""

    def __init__(self, notifier: SdNotifier, interval_s: float | None = None) -> None:
        self.notifier = notifier
        self.interval_s = interval_s if interval_s is not None else notifier.watchdog_interval()
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Whether the ping task is running."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start pinging if systemd asked for a watchdog; otherwise do nothing."""
        if self.active or not self.notifier.enabled or not self.interval_s:
            return
        self.notifier.ping()
        self._task = asyncio.create_task(self._run(self.interval_s), name="sd-watchdog")

    async def _run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.notifier.ping()

    async def stop(self) -> None:
        """Stop pinging; idempotent."""
        task, self._task = self._task, None
        await cancel(task)
