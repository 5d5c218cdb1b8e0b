"""The real UxPlay binary, headless (no video or audio sink), supervised by the AirPlay service
inside a private network namespace with its own D-Bus and avahi-daemon (UxPlay registers its
services through avahi). A raw RTSP client stands in for the Mac: it reaches UxPlay's real
socket and sends a real SETUP request, which is what marks a source as active.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomctl import airplay
from roomctl.airplay import Airplay
from roomctl.core.events import CastSessionEnded, CastSessionStarted
from tests.airplay.test_airplay import make_room
from tests.discovery.netns import Netns
from tests.support.real import async_wait_for, require_binary

PORT = 7100  # UxPlay's base port inside the private namespace (-p 7100: 7100..7102)
CLIENT = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"SETUP rtsp://127.0.0.1/1 RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n")
print("sent", flush=True)
sys.stdin.readline()
s.close()
"""


@pytest.fixture
def netns(tmp_path: Path) -> Iterator[Netns]:
    ns = Netns()
    ns.start_avahi(tmp_path)
    yield ns
    ns.close()


def wrapper(ns: Netns, tmp_path: Path) -> str:
    """An executable that runs the real uxplay inside the namespace (nsenter execs, no fork)."""
    uxplay = require_binary("uxplay")
    script = tmp_path / "uxplay-in-netns"
    argv = " ".join(ns.argv(["env", f"DBUS_SYSTEM_BUS_ADDRESS={ns.env['DBUS_SYSTEM_BUS_ADDRESS']}",
                             uxplay]))
    script.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
    script.chmod(0o755)
    return str(script)


async def browse(ns: Netns, service_type: str) -> list[list[str]]:
    """Resolved avahi-browse entries of ``service_type`` in the namespace (off the loop)."""
    argv = ["avahi-browse", "-rpt", "--no-db-lookup", service_type]
    out = (await asyncio.to_thread(ns.run, argv, 20)).stdout
    return [line.split(";") for line in out.splitlines() if line.startswith("=")]


async def test_real_uxplay_is_supervised_advertised_and_reports_a_source(
        netns: Netns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(airplay, "BACKOFF_S", (0.1,))
    args = ["-vs", "0", "-as", "0", "-p", str(PORT)]
    room = make_room(wrapper(netns, tmp_path), extra_args=args)
    events = room.bus.subscribe(CastSessionStarted, CastSessionEnded)
    service = Airplay(room.config, room)
    await service.start()
    assert service.abilities.version == "1.62" and not service.abilities.pin
    assert not service.running and await browse(netns, "_airplay._tcp") == []

    await service.enable(5)
    await async_wait_for(lambda: browse(netns, "_airplay._tcp"), 20, "UxPlay's advertisement")
    # avahi-browse -p: =;interface;protocol;name;type;domain;host;address;port;txt
    assert (await browse(netns, "_airplay._tcp"))[0][3] == "A101\\032Physics"
    raop = (await browse(netns, "_raop._tcp"))[0][8]

    client = netns.popen([sys.executable, "-c", CLIENT, raop], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    await async_wait_for(lambda: service.status()["source_active"], 15, "the source to show")
    assert isinstance(events.get_nowait(), CastSessionStarted)
    assert room.snapshot()["airplay"]["source_active"] is True
    assert client.stdin is not None
    client.stdin.write("\n")
    client.stdin.flush()
    await async_wait_for(lambda: not service.status()["source_active"], 15, "the source to go")
    assert isinstance(events.get_nowait(), CastSessionEnded)

    # 1.62 may die of SIGPIPE when a client vanishes mid-request: then it is restarted already
    await async_wait_for(lambda: service.running and service._proc, 15, "uxplay running")
    restarts = service.restarts
    assert service._proc is not None
    os.kill(service._proc.pid, signal.SIGKILL)  # a crash
    await async_wait_for(lambda: service.restarts == restarts + 1 and service.running, 15,
                         "a restart")

    await service.disable()
    assert not service.running
    async def gone() -> bool:
        return await browse(netns, "_airplay._tcp") == []

    await async_wait_for(gone, 20, "the goodbye")
    await service.stop()
