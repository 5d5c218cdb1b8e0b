"""The PJLink client against the emulator over real TCP and UDP on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomctl.core.errors import AuthenticationFailed, DeviceError, ProtocolError, Unavailable
from roomctl.drivers.base import Power
from roomctl.emulators.pjlink import Emulator, ProjectorModel
from roomctl.pjlink import protocol as p
from roomctl.pjlink.client import PjlinkClient
from roomctl.pjlink.search import NotificationListener, search
from tests.support.real import async_wait_for, free_port


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(ProjectorModel(password="secret", warmup_s=0.2, cooldown_s=0.2), slow_s=0.5)
    await emulator.start()
    yield emulator
    await emulator.stop()


def client_for(emu: Emulator, password: str = "secret", **kw: float) -> PjlinkClient:
    return PjlinkClient("127.0.0.1", emu.port, password, timeout_s=kw.pop("timeout_s", 0.3), **kw)


async def test_authenticated_session_reuses_one_connection(emu: Emulator) -> None:
    client = client_for(emu)
    try:
        assert await client.power() is Power.OFF
        assert await client.pjlink_class() == "2"
        assert await client.inputs("2") == ("11", "31", "32", "52")
        assert await client.input_name("31") == "HDMI 1"
        assert await client.lamps() == ((1200, False),)
        assert await client.errors() == {}
        assert await client.name() == "Room projector"
        assert (await client.manufacturer(), await client.product()) == ("Emulated", "PJ-2000")
        assert await client.info() == "roomctl emulator"
        assert (await client.serial_number(), await client.software_version()) == ("EMU0001", "1.0")
        assert await client.filter_hours() == 300
        assert await client.lamp_models() == "ELPLP96" and await client.filter_models() == "ELPAF60"
        assert await client.recommended_resolution() == "1920x1080"
        assert await client.input_resolution() == "-"
        await client.set_power(True)
        assert await client.power() is Power.WARMING
        with pytest.raises(p.UnavailableTime):
            await client.set_input("32")
        await async_wait_for(client.power, 3, "on")
        await async_wait_for(lambda: emu.model.power() == "1", 3)
        await client.set_input("32")
        assert await client.input() == "32"
        await client.set_av_mute("31")
        assert await client.av_mute() == (True, True)
        await client.set_freeze(True)
        assert await client.freeze() is True
        await client.speaker_volume(False)
        await client.microphone_volume(True)
        assert (emu.model.volume, emu.model.microphone) == (9, 6)
        with pytest.raises(p.OutOfParameter):
            await client.set_input("29")
        assert client.connections == 1 and emu.connections == 1
    finally:
        await client.close()


async def test_concurrent_requests_go_one_at_a_time(emu: Emulator) -> None:
    client = client_for(emu)
    try:
        results = await asyncio.gather(*(client.request(b) for b in ["POWR", "CLSS", "NAME"] * 5))
        assert results == ["0", "2", "Room projector"] * 5
    finally:
        await client.close()


async def test_wrong_or_missing_password(emu: Emulator) -> None:
    for password in ("wrong", ""):
        client = client_for(emu, password)
        with pytest.raises(AuthenticationFailed):
            await client.power()
        await client.close()
    assert "secret" not in repr(client_for(emu))


async def test_old_connection_is_replaced_and_dropped_one_reopened() -> None:
    async with Emulator(idle_s=0.2) as emu:
        client = PjlinkClient("127.0.0.1", emu.port, timeout_s=1.0, idle_s=0.05)
        await client.power()
        await asyncio.sleep(0.1)  # older than the client's idle limit: it opens a new one
        await client.power()
        assert client.connections == 2
        client.idle_s = 60  # now the emulator drops it first (its 30 s rule, shortened)
        await async_wait_for(lambda: emu.connections == 2 and not emu._tasks, 3, "emulator close")
        assert await client.power() is Power.OFF  # reopened transparently
        assert client.connections == 3
        await client.close()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("no_reply", Unavailable),
        ("slow", Unavailable),
        ("garbage", ProtocolError),
        ("disconnect", ProtocolError),
        ("busy", p.UnavailableTime),
    ],
)
async def test_faults_map_to_error_types(emu: Emulator, fault: str, error: type[Exception]) -> None:
    client = client_for(emu)
    try:
        assert await client.power() is Power.OFF
        emu.fault = fault
        with pytest.raises(error):
            await client.power()
        emu.fault = "none"
        assert await client.power() is Power.OFF  # recovers on the next request
    finally:
        await client.close()


async def test_search_and_notifications_on_loopback() -> None:
    controller_port = free_port(kind=2)  # SOCK_DGRAM
    emu = Emulator(udp_port=0, notify_port=controller_port)
    await emu.start()
    try:
        assert emu.udp_port
        found = await search(
            (("127.0.0.1", emu.udp_port),),
            bind=("127.0.0.1", controller_port),
            wait_s=3,
            expected=1,
        )
        assert [(f.host, f.mac) for f in found] == [("127.0.0.1", "02:00:00:00:43:52")]
        seen: list[tuple[str, p.Notification]] = []
        listener = NotificationListener(
            lambda h, n: seen.append((h, n)), ("127.0.0.1", controller_port)
        )
        await listener.start()
        client = PjlinkClient("127.0.0.1", emu.port, timeout_s=1)
        await client.set_power(True)
        emu.link_up()
        emu.notify("%2BOGUS=1")  # dropped, not raised
        await async_wait_for(lambda: len(seen) >= 2, 3, "notifications")
        assert [n for _, n in seen] == [
            p.Notification("POWR", "1"),
            p.Notification("LKUP", emu.model.mac),
        ]
        await client.close()
        await listener.stop()
    finally:
        await emu.stop()


async def _exchange_with_raw_server(greeting: bytes, reply: bytes) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        if not greeting.endswith(b"\r"):
            writer.close()  # the client would only wait for the rest until its timeout
            return
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r")
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PjlinkClient("127.0.0.1", port, "pw", timeout_s=0.2)
    try:
        await client.power()
        await client.errors()
    finally:
        await client.close()
        server.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    greeting=st.sampled_from([b"PJLINK 0\r", b"PJLINK 1 498e4a67\r"]) | st.binary(max_size=30),
    reply=st.binary(max_size=300)
    | st.builds(lambda b: b"%1POWR=" + b + b"\r", st.binary(max_size=140)),
)
def test_fuzz_client_against_garbage_over_tcp(greeting: bytes, reply: bytes) -> None:
    # ProtocolError, Unavailable, or a well-formed ERRn: never anything else
    with contextlib.suppress(DeviceError):
        asyncio.run(_exchange_with_raw_server(greeting, reply))
