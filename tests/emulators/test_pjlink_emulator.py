"""The PJLink emulator proves itself against independent third-party clients.

pypjlink2 (blocking, class 1, strict asserts) runs in a worker thread; aiopjlink (asyncio,
class 1 and 2) runs on the loop. Neither shares code with roomctl.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
from aiopjlink import PJLink
from aiopjlink.projector import PJLinkERR2, PJLinkERR3, PJLinkPassword
from pypjlink import Projector

from roomctl.emulators.pjlink import Emulator, ProjectorModel
from tests.support.real import async_wait_for

PASSWORD = "JBMIAProjectorLink"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(ProjectorModel(password=PASSWORD, warmup_s=0.2, cooldown_s=0.2))
    await emu.start()
    yield emu
    await emu.stop()


def pypjlink_session(port: int, password: str) -> dict[str, object]:
    """A class 1 session with pypjlink2 (blocking; run in a thread)."""
    with Projector.from_address("127.0.0.1", port, timeout=3) as proj:
        if not proj.authenticate(password):
            return {"auth": False}
        out: dict[str, object] = {"auth": True, "power": proj.get_power()}
        proj.set_power("on")
        out["warming"] = proj.get_power()
        out["name"] = proj.get_name()
        out["maker"] = proj.get_manufacturer()
        out["product"] = proj.get_product_name()
        out["inputs"] = proj.get_inputs()
        out["lamps"] = proj.get_lamps()
        out["errors"] = proj.get_errors()
        out["class"] = proj.get_class() if hasattr(proj, "get_class") else None
        return out


async def test_pypjlink2_class1_session(emulator: Emulator) -> None:
    out = await asyncio.to_thread(pypjlink_session, emulator.port, PASSWORD)
    assert out["auth"] is True
    assert out["power"] == "off" and out["warming"] == "warm-up"
    assert out["name"] == "Room projector" and out["maker"] == "Emulated"
    assert ("DIGITAL", 1) in out["inputs"]  # type: ignore[operator]
    assert out["lamps"] == [(1200, True)]
    assert out["errors"] == {
        "fan": "ok",
        "lamp": "ok",
        "temperature": "ok",
        "cover": "ok",
        "filter": "ok",
        "other": "ok",
    }
    assert emulator.model.power_target == "1"


async def test_pypjlink2_sees_a_wrong_password(emulator: Emulator) -> None:
    out = await asyncio.to_thread(pypjlink_session, emulator.port, "wrong")
    assert out == {"auth": False}


async def test_aiopjlink_class1_and_class2(emulator: Emulator) -> None:
    async with PJLink("127.0.0.1", emulator.port, password=PASSWORD, timeout=3) as link:
        assert str(await link.power.get()) != ""
        await link.power.turn_on()
        with pytest.raises(PJLinkERR3):  # input switching waits for the warm-up
            await link.sources.set("3", "2")
        await async_wait_for(lambda: emulator.model.power() == "1", 3, "warm-up")
        await link.sources.set("3", "2")
        assert await link.sources.get() == (link.sources.Mode.DIGITAL, "2")
        with pytest.raises(PJLinkERR2):
            await link.sources.set("2", "9")
        names = await link.sources.available_with_names()
        assert (link.sources.Mode.DIGITAL, "1", "HDMI 1") in names
        await link.mute.video(True)
        assert (await link.mute.status()) == (True, False)
        assert await link.info.serial_number() == "EMU0001"
        assert await link.info.software_version() == "1.0"
        assert await link.filter.hours() == 300
        await link.freeze.set(True)
        assert await link.freeze.get() is True
        await link.speaker.turn_up()
        assert emulator.model.volume == 11


async def test_aiopjlink_wrong_password(emulator: Emulator) -> None:
    with pytest.raises(PJLinkPassword):
        async with PJLink("127.0.0.1", emulator.port, password="nope", timeout=3):
            pass


async def test_spec_digest_is_accepted_on_the_wire(emulator: Emulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
    greeting = await reader.readuntil(b"\r")
    salt = greeting[9:17].decode()
    digest = hashlib.md5((salt + PASSWORD).encode()).hexdigest()
    writer.write(digest.encode() + b"%1POWR ?\r")
    assert await reader.readuntil(b"\r") == b"%1POWR=0\r"
    writer.write(b"%1CLSS ?\r")  # later commands go without the digest
    assert await reader.readuntil(b"\r") == b"%1CLSS=2\r"
    writer.write(b"%1FREZ ?\r")  # a class 2 command sent as class 1
    assert await reader.readuntil(b"\r") == b"%1FREZ=ERR1\r"
    writer.close()


async def test_class1_model_refuses_class2_commands() -> None:
    async with Emulator(ProjectorModel(pjlink_class=1)) as emu:
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        assert await reader.readuntil(b"\r") == b"PJLINK 0\r"
        writer.write(b"%2SNUM ?\r")
        assert await reader.readuntil(b"\r") == b"%2SNUM=ERR1\r"
        writer.close()


async def test_idle_connection_is_closed() -> None:
    async with Emulator(idle_s=0.2) as emu:
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        await reader.readuntil(b"\r")
        assert await asyncio.wait_for(reader.read(), 3) == b""  # closed by the emulator
        writer.close()


class _Collect(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.datagrams.append(data)


async def test_search_answers_to_the_controllers_port_and_notifies() -> None:
    loop = asyncio.get_running_loop()
    controller, collected = await loop.create_datagram_endpoint(
        _Collect, local_addr=("127.0.0.1", 0)
    )
    port = controller.get_extra_info("sockname")[1]
    emu = Emulator(ProjectorModel(warmup_s=0.1), udp_port=0, notify_port=port)
    await emu.start()
    try:
        # the search goes out from another socket: the answer must still reach ``port``
        sender, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        assert emu.udp_port
        sender.sendto(b"%2SRCH\r", ("127.0.0.1", emu.udp_port))
        await async_wait_for(lambda: collected.datagrams, 3, "ACKN")
        assert collected.datagrams[0] == b"%2ACKN=02:00:00:00:43:52\r"
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        await reader.readuntil(b"\r")
        writer.write(b"%1POWR 1\r")
        assert await reader.readuntil(b"\r") == b"%1POWR=OK\r"
        emu.set_errors("000020")
        await async_wait_for(lambda: len(collected.datagrams) >= 3, 3, "notifications")
        assert collected.datagrams[1:3] == [b"%2POWR=1\r", b"%2ERST=000020\r"]
        writer.close()
        sender.close()
    finally:
        controller.close()
        await emu.stop()


async def test_roomctl_emulate_prints_its_address_and_serves() -> None:
    import re
    import sys

    from roomctl.pjlink.client import PjlinkClient

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "roomctl",
        "emulate",
        "--profile",
        "pjlink/class1",
        "--tcp",
        "0",
        "--password",
        "pw",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        match = re.search(r"PJLink class 1 emulator on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        client = PjlinkClient("127.0.0.1", int(match.group(1)), "pw", timeout_s=2)
        assert await client.pjlink_class() == "1"
        await client.close()
    finally:
        proc.terminate()
        await proc.wait()


def test_roomctl_emulate_refuses_non_loopback_and_pty() -> None:
    from roomctl.cli import main

    assert main(["emulate", "--profile", "pjlink", "--host", "0.0.0.0"]) == 2
    assert main(["emulate", "--profile", "pjlink", "--pty"]) == 2
    assert main(["emulate", "--profile", "pjlink", "--fault", "melt"]) == 2
