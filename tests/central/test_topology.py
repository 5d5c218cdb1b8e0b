"""Deployment shapes: a simulator in its own process, and a school broker bridged to the centre."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from roomctl.central.config import RoomEntry
from roomctl.central.service import CentralService
from roomctl.central.simroom import SimRoom
from roomctl.central.simulator import Simulator
from roomctl.central.web import cfg_body
from tests.central.conftest import central_config
from tests.central.mqtt_helpers import Publisher
from tests.support.real import async_wait_for, free_port


@contextlib.asynccontextmanager
async def dashboard(broker: Any, tmp_path: Path, rooms: tuple[str, ...]) -> AsyncIterator[
        CentralService]:
    """A running service whose registry places ``rooms`` in one school."""
    entries = tuple(RoomEntry(d, "Vantaa", "Koulu C", str(i)) for i, d in enumerate(rooms))
    svc = CentralService(central_config(broker, f"sqlite://{tmp_path}/t.db", rooms=entries))
    await svc.start()
    await async_wait_for(svc.connected.is_set, 10)
    try:
        yield svc
    finally:
        await svc.stop()


async def test_command_and_cfg_round_trip_to_a_simulator_process(mosquitto: Any, tmp_path: Path
                                                                 ) -> None:
    rooms = ("rc-proc00000", "rc-proc00001")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "roomctl", "simulate", "--rooms", "2", "--broker", mosquitto.url,
        "--prefix", "rc-proc", "--speed", "1", "--no-outages",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.strip() == b"ready", line
        async with dashboard(mosquitto, tmp_path, rooms) as svc:
            await async_wait_for(lambda: all(svc.fleet.devices.get(d) for d in rooms), 10)
            ids = await svc.command(rooms, "projector.power", {"on": True}, "test:kaisa")

            async def results() -> list[str]:
                return sorted(c[6] for c in await svc.store.commands() if c[0] in ids)

            await async_wait_for(lambda: _eq(results(), ["ok", "ok"]), 10, "cmd_result ok")
            await async_wait_for(lambda: all(svc.fleet.status(d, time.time()) != "idle"
                                             for d in rooms), 10, "projector on in state")
            version = await svc.push_cfg(rooms, cfg_body(svc.fleet.cfg), "test:ivo")
            await async_wait_for(lambda: all((svc.fleet.devices[d].state or {}).get(
                "cfg_version") == version for d in rooms), 10, "cfg applied and reported")
            bogus = await svc.command(rooms[:1], "no.such", {}, "test:kaisa")
            await async_wait_for(lambda: _eq(_status(svc, bogus[0]), "rejected"), 10)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
        cleaner = Publisher(mosquitto)  # the shared broker keeps retained messages: clear them
        for d in rooms:
            for kind in ("status", "state", "cfg"):
                cleaner.publish(f"roomctl/v1/dev/{d}/{kind}", b"", retain=True)
        cleaner.close()
    assert proc.returncode == 0


async def _eq(value: Any, expected: Any) -> bool:
    return (await value) == expected


async def _status(svc: CentralService, cmd_id: str) -> str:
    return next(c[6] for c in await svc.store.commands() if c[0] == cmd_id)


async def test_simulated_outage_is_seen_through_the_will(mosquitto: Any, tmp_path: Path) -> None:
    sim = Simulator(mosquitto.url, 1, speed=1, outages=False, prefix="rc-outg")
    room = "rc-outg00000"
    async with dashboard(mosquitto, tmp_path, (room,)) as svc:
        await sim.start()
        try:
            await async_wait_for(lambda: svc.fleet.status(room, time.time()) == "idle", 10)
            await sim._outage(sim.rooms[room], sim.now())
            await async_wait_for(lambda: svc.fleet.status(room, time.time()) == "offline", 10)
            assert (svc.fleet.devices[room].status or {}).get("reason") == "lost"
            await sim._recover(sim.rooms[room], sim.now())
            await async_wait_for(lambda: svc.fleet.status(room, time.time()) == "idle", 10)
        finally:
            await sim.stop()
        await async_wait_for(lambda: (svc.fleet.devices[room].status or {}).get("reason")
                             == "shutdown", 10, f"shutdown status, got {svc.fleet.devices[room]}")
        cleaner = Publisher(mosquitto)
        for kind in ("status", "state"):
            cleaner.publish(f"roomctl/v1/dev/{room}/{kind}", b"", retain=True)
        cleaner.close()


class CuttableProxy:
    """A TCP forwarder on loopback that can be cut (all connections dropped, no new ones)."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Accept and forward."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def cut(self) -> None:
        """Drop every connection and stop listening."""
        assert self._server is not None
        self._server.close()
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()


async def test_school_bridge_keeps_events_across_a_cut(mosquitto_factory: Any, tmp_path: Path
                                                       ) -> None:
    central = mosquitto_factory(name="central")
    proxy = CuttableProxy(central.port)
    await proxy.start()
    school = mosquitto_factory(name="school", extra=(
        f"connection school-c\naddress 127.0.0.1:{proxy.port}\n"
        "topic roomctl/v1/dev/# both 1\ncleansession false\nrestart_timeout 1 2\n"
        "keepalive_interval 5\nmax_queued_messages 10000\n"))
    rooms = ("rc-brdg00000", "rc-brdg00001")
    sim = Simulator(school.url, 2, speed=1, outages=False, prefix="rc-brdg")
    async with dashboard(central, tmp_path, rooms) as svc:
        await sim.start()
        try:
            await async_wait_for(lambda: all(svc.fleet.devices.get(d) for d in rooms), 15,
                                 "rooms seen through the bridge")
            sim.act(rooms[0], SimRoom.help_request)
            await async_wait_for(lambda: svc.stats["events_new"] == 1, 10)
            await proxy.cut()
            for _ in range(5):
                for d in rooms:
                    sim.act(d, SimRoom.start_cast)
                    sim.act(d, SimRoom.stop_cast)
            expected = 1 + 5 * 2 * 2 + 2  # casts start+end per room, plus power on once each
            assert svc.stats["events_new"] == 1  # nothing got through the cut
            await proxy.start()
            await async_wait_for(lambda: svc.stats["events_new"] == expected, 20,
                                 "queued events after the bridge came back")
            for d in rooms:
                assert await svc.store.gaps(d) == []
            ids = await svc.command(rooms[1:], "projector.power", {"on": False}, "test")
            await async_wait_for(lambda: _eq(_status(svc, ids[0]), "ok"), 10, "cmd via bridge")
        finally:
            await sim.stop()
            await proxy.cut()
