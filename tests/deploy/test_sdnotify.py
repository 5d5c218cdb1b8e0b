"""sd_notify against a real NOTIFY_SOCKET datagram socket, and the event-loop watchdog."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomctl.core.sdnotify import SdNotifier, Watchdog
from tests.support.real import async_wait_for, wait_for


class NotifySocket:
    """A datagram socket playing systemd's side; a thread stamps each message on arrival."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def texts(self) -> list[str]:
        """Every message received so far."""
        return [text for _, text in self.messages]

    def close(self) -> None:
        """Stop receiving."""
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[NotifySocket]:
    """systemd's notify socket at a file path."""
    server = NotifySocket(str(tmp_path / "notify"))
    yield server
    server.close()


def notifier(address: str, usec: int | None = None, pid: int | None = None) -> SdNotifier:
    env = {"NOTIFY_SOCKET": address}
    if usec is not None:
        env["WATCHDOG_USEC"] = str(usec)
    if pid is not None:
        env["WATCHDOG_PID"] = str(pid)
    return SdNotifier(env)


def test_ready_status_stopping_arrive_as_datagrams(systemd: NotifySocket) -> None:
    sd = notifier(systemd.address)
    assert sd.ready("serving on :443")
    assert sd.status("2 devices, 1 unavailable")
    assert sd.ping()
    assert sd.stopping("shutting down")
    wait_for(lambda: len(systemd.messages) == 4, 5, "four datagrams")
    assert systemd.texts() == [
        "READY=1\nSTATUS=serving on :443",
        "STATUS=2 devices, 1 unavailable",
        "WATCHDOG=1",
        "STOPPING=1\nSTATUS=shutting down",
    ]


def test_abstract_socket_address() -> None:
    server = NotifySocket(f"@roomctl-test-{uuid.uuid4().hex}")
    try:
        assert notifier(server.address).ready()
        wait_for(lambda: server.texts() == ["READY=1"], 5, "READY over an abstract socket")
    finally:
        server.close()


def test_status_cannot_inject_assignments(systemd: NotifySocket) -> None:
    notifier(systemd.address).status("ok\nREADY=1\nMAINPID=1")
    wait_for(lambda: systemd.messages, 5)
    assert systemd.texts() == ["STATUS=ok READY=1 MAINPID=1"]


def test_without_notify_socket_everything_is_a_no_op() -> None:
    sd = SdNotifier({})
    assert not sd.enabled
    assert not sd.ready() and not sd.ping() and not sd.stopping()
    assert sd.watchdog_interval() is None


def test_missing_socket_returns_false_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "later"
    sd = notifier(str(path))
    assert not sd.ready()
    server = NotifySocket(str(path))
    try:
        assert sd.ready()
    finally:
        server.close()


def test_watchdog_interval_is_half_and_respects_watchdog_pid() -> None:
    assert notifier("/x", usec=30_000_000).watchdog_interval() == 15.0
    assert notifier("/x", usec=30_000_000, pid=os.getpid()).watchdog_interval() == 15.0
    assert notifier("/x", usec=30_000_000, pid=os.getpid() + 1).watchdog_interval() is None
    assert notifier("/x", usec=0).watchdog_interval() is None
    assert SdNotifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "junk"}).watchdog_interval() is None


async def test_watchdog_pings_from_the_loop(systemd: NotifySocket) -> None:
    dog = Watchdog(notifier(systemd.address, usec=100_000))  # pings every 50 ms
    assert dog.interval_s == 0.05
    await dog.start()
    try:
        await async_wait_for(lambda: systemd.texts().count("WATCHDOG=1") >= 4, 5, "pings")
    finally:
        await dog.stop()
    assert not dog.active
    count = len(systemd.messages)
    await asyncio.sleep(0.2)  # nothing may arrive after stop: a fixed window is the point here
    assert len(systemd.messages) == count


async def test_a_stuck_loop_stops_the_pings(systemd: NotifySocket) -> None:
    dog = Watchdog(notifier(systemd.address, usec=100_000))
    await dog.start()
    try:
        await async_wait_for(lambda: len(systemd.messages) >= 2, 5, "first pings")
        stuck_at = time.monotonic()
        time.sleep(0.5)  # noqa: ASYNC251 (a stuck loop on purpose; a thread would keep pinging)
        resumed = time.monotonic()
        await async_wait_for(lambda: systemd.messages[-1][0] > resumed, 5, "pings resume")
    finally:
        await dog.stop()
    during = [t for t, _ in systemd.messages if stuck_at + 0.01 < t < resumed - 0.01]
    assert during == []


async def test_watchdog_does_nothing_without_systemd() -> None:
    dog = Watchdog(SdNotifier({}))
    await dog.start()
    assert not dog.active
    await dog.stop()
