"""ViewSonic, Sony binary and Hitachi 9715 emulators answer the manuals' bytes (no roomctl codec).

Serial families are spoken to over a real pty, Hitachi 9715 over real TCP on 127.0.0.1.
Silence is shown without sleeping: a second command's answer arriving first proves the
first one got none.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Callable

import pytest

from roomctl.emulators.base import Projector
from roomctl.emulators.binary_families import SonyBinary
from roomctl.emulators.profile import ProfileEmulator
from tests.emulators.conftest import Clock
from tests.support.real import async_wait_for

h = bytes.fromhex
Serve = Callable[..., ProfileEmulator]


class Line:
    """The far end of a pty, where a USB serial adapter would be."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.buf = b""
        asyncio.get_running_loop().add_reader(self.fd, self._on_data)

    def _on_data(self) -> None:
        with contextlib.suppress(OSError):  # EIO once the emulator closed its side
            self.buf += os.read(self.fd, 4096)

    async def ask(self, send: str, size: int) -> str:
        """Send hex bytes; the first ``size`` bytes that come back, as spaced hex."""
        os.write(self.fd, h(send))
        await async_wait_for(lambda: len(self.buf) >= size, timeout=3, what=f"reply to {send}")
        out, self.buf = self.buf[:size], self.buf[size:]
        return out.hex(" ").upper()

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    started: list[ProfileEmulator] = []

    def make(pid: str, clock: Clock, fault: str = "none", password: str = "") -> ProfileEmulator:
        projector = Projector(warmup_s=30, cooldown_s=60, clock=clock)
        emulator = ProfileEmulator(pid, projector=projector, fault=fault, password=password)
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        await emulator.stop()


async def _line(emulator: ProfileEmulator) -> Line:
    return Line(await emulator.start_pty())


# ---------------------------------------------------------------- ViewSonic
VS_STATUS = "07 14 00 05 00 34 00 00 11 26 84"  # LS625W-S p. 71, projector status read
VS_ACK = "03 14 00 00 00 14"
VS_POWER_ON = "06 14 00 04 00 34 11 00 00 5D"


async def test_viewsonic_power_cycle_and_source_over_a_pty(serve: Serve, clock: Clock) -> None:
    line = await _line(serve("viewsonic/binary", clock))
    try:
        assert await line.ask(VS_STATUS, 9) == "05 14 00 03 00 00 00 00 17"  # power down
        assert await line.ask("06 14 00 04 00 34 11 00 00 5D", 6) == VS_ACK  # power on
        assert await line.ask(VS_STATUS, 9) == "05 14 00 03 00 00 00 01 18"  # warm up
        power_read = "07 14 00 05 00 34 00 00 11 00 5E"
        assert await line.ask(power_read, 9) == "05 14 00 03 00 00 00 01 18"
        clock.now = 31
        assert await line.ask(VS_STATUS, 9) == "05 14 00 03 00 00 00 02 19"  # on
        # PJD5111 p. 54: input source composite, then read source
        assert await line.ask("06 14 00 04 00 34 13 01 05 65", 6) == VS_ACK
        assert await line.ask("07 14 00 05 00 34 00 00 13 01 61", 9) == (
            "05 14 00 03 00 00 00 05 1C"
        )
        assert await line.ask("06 14 00 04 00 34 11 01 00 5E", 6) == VS_ACK  # power off
        assert await line.ask(VS_STATUS, 9) == "05 14 00 03 00 00 00 03 1A"  # cool down
    finally:
        line.close()


async def test_viewsonic_ignores_refused_commands_and_bad_checksums(
    serve: Serve, clock: Clock
) -> None:
    emulator = serve("viewsonic/binary", clock)
    line = await _line(emulator)
    try:
        # While off the source write is refused: the status reply is the first thing back.
        assert await line.ask("06 14 00 04 00 34 13 01 05 65" + VS_STATUS, 9) == (
            "05 14 00 03 00 00 00 00 17"
        )
        # A power-on packet with a wrong checksum is not carried out either.
        got = await line.ask("06 14 00 04 00 34 11 00 00 5C" + VS_STATUS, 9)
        assert got == "05 14 00 03 00 00 00 00 17"
        assert emulator.projector.power() == "off" and emulator.projector.input == "hdmi1"
    finally:
        line.close()


# ---------------------------------------------------------------- Sony
SONY_POWER = "A9 01 02 01 00 00 03 9A"  # VPL-F500X p. 22, status power get
SONY_ACK = "A9 00 00 03 00 00 03 9A"
SONY_POWER_ON = "A9 17 2E 00 00 00 3F 9A"  # VPL-EX3 p. 13
SONY_NOT_APPLICABLE = "A9 01 0A 03 00 00 0B 9A"  # VPL-CX76 p. 28 table 3


async def test_sony_frames_acks_and_naks_over_a_pty(serve: Serve, clock: Clock) -> None:
    emulator = serve("sony/binary-serial", clock)
    line = await _line(emulator)
    try:
        assert await line.ask(SONY_POWER, 8) == "A9 01 02 02 00 00 03 9A"  # standby
        hdmi = "A9 00 01 00 00 04 05 9A"
        assert await line.ask(hdmi, 8) == SONY_NOT_APPLICABLE  # input while in standby
        assert await line.ask("A9 17 2E 00 00 00 3F 9A", 8) == SONY_ACK  # power on (EX3 p. 13)
        assert await line.ask(SONY_POWER, 8) == "A9 01 02 02 00 01 03 9A"  # start up
        assert await line.ask("A9 17 2F 00 00 00 3F 9A", 8) == SONY_NOT_APPLICABLE
        clock.now = 31
        assert await line.ask(SONY_POWER, 8) == "A9 01 02 02 00 03 03 9A"  # power on
        assert await line.ask(hdmi, 8) == SONY_ACK
        assert await line.ask("A9 00 01 01 00 00 01 9A", 8) == "A9 00 01 02 00 04 07 9A"
        assert await line.ask("A9 01 13 01 00 00 13 9A", 8) == "A9 01 13 02 04 D2 D7 9A"  # 1234 h
        emulator.projector.error = "fan"
        assert await line.ask("A9 01 01 01 00 00 01 9A", 8) == "A9 01 01 02 00 02 03 9A"
        undefined, bad_checksum = "A9 01 99 01 00 00 99 9A", "A9 01 02 01 00 00 00 9A"
        assert await line.ask(undefined, 8) == "A9 01 01 03 00 00 03 9A"
        assert await line.ask(bad_checksum, 8) == "A9 F0 10 03 00 00 F3 9A"
    finally:
        line.close()


async def test_sony_may_say_nothing_when_the_power_turns_on(serve: Serve, clock: Clock) -> None:
    emulator = serve("sony/binary-serial", clock)
    assert isinstance(emulator.family, SonyBinary)
    emulator.family.quiet_power_on = True
    line = await _line(emulator)
    try:
        # No ACK for the power on: the status reply (start up) is the first frame back.
        assert await line.ask("A9 17 2E 00 00 00 3F 9A" + SONY_POWER, 8) == (
            "A9 01 02 02 00 01 03 9A"
        )
        assert await line.ask("A9 17 2E 00 00 00 3F 9A", 8) == SONY_ACK  # sent again: ACK
    finally:
        line.close()


# ---------------------------------------------------------------- Hitachi TCP 9715
def _wrap(command: str, cid: int) -> bytes:
    """The manual's 9715 packet: 02 0D + command + checksum (sum to zero) + connection ID."""
    packet = h("02 0D") + h(command)
    return packet + bytes([-sum(packet) & 0xFF, cid])


HITACHI_ON = "BE EF 03 06 00 BA D2 01 00 00 60 01 00"  # CP-TW series table
HITACHI_POWER = "BE EF 03 06 00 19 D3 02 00 00 60 00 00"
HITACHI_LAMP = "BE EF 03 06 00 C2 FF 02 00 90 10 00 00"


Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _tcp(emulator: ProfileEmulator) -> Streams:
    return await asyncio.open_connection("127.0.0.1", await emulator.start_tcp())


async def _ask(streams: Streams, data: bytes, size: int) -> str:
    reader, writer = streams
    writer.write(data)
    await writer.drain()
    return (await asyncio.wait_for(reader.readexactly(size), 3)).hex(" ").upper()


async def test_hitachi_9715_wrapper_and_connection_id(serve: Serve, clock: Clock) -> None:
    emulator = serve("hitachi/tcp9715", clock)
    link = await _tcp(emulator)
    try:
        assert _wrap(HITACHI_ON, 1) == h("02 0D BE EF 03 06 00 BA D2 01 00 00 60 01 00 4D 01")
        assert await _ask(link, _wrap(HITACHI_POWER, 0x2A), 4) == "1D 00 00 2A"  # off
        assert await _ask(link, _wrap(HITACHI_ON, 0x2A), 2) == "06 2A"
        assert await _ask(link, _wrap(HITACHI_POWER, 7), 4) == "1F 00 00 07"  # warm-up
        clock.now = 31
        assert await _ask(link, _wrap(HITACHI_POWER, 7), 4) == "1D 01 00 07"
        assert await _ask(link, _wrap(HITACHI_LAMP, 9), 4) == "1D D2 04 09"  # 1234 h LE
        broken = bytearray(_wrap(HITACHI_POWER, 5))
        broken[15] ^= 0x01
        assert await _ask(link, bytes(broken), 2) == "15 05"  # wrapper checksum wrong
    finally:
        link[1].close()


async def test_hitachi_9715_md5_challenge(serve: Serve, clock: Clock) -> None:
    emulator = serve("hitachi/tcp9715", clock, password="password")
    port = await emulator.start_tcp()
    for digest, want in (("0" * 32, "1F 04 00 01"), ("", "1D 00 00 01")):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            random = await asyncio.wait_for(reader.readexactly(8), 3)
            right = hashlib.md5(random + b"password").hexdigest()
            prefix = (digest or right).encode()
            assert await _ask((reader, writer), prefix + _wrap(HITACHI_POWER, 1), 4) == want
            # Later commands on an authenticated connection may leave the digest out.
            later = await _ask((reader, writer), _wrap(HITACHI_POWER, 2), 4)
            assert later == ("1F 04 00 02" if digest else "1D 00 00 02")
        finally:
            writer.close()


# ---------------------------------------------------------------- faults change the wire
@pytest.mark.parametrize(
    ("pid", "fault", "send", "size", "want"),
    [
        # ACK 03 14 00 00 00 14 with its checksum made wrong
        ("viewsonic/binary", "bad_checksum", VS_POWER_ON, 6, "03 14 00 00 00 4E"),
        # ACK A9 00 00 03 00 00 03 9A with a wrong OR checksum, end code intact
        ("sony/binary-serial", "bad_checksum", SONY_POWER_ON, 8, "A9 00 00 03 00 00 59 9A"),
        ("sony/binary-serial", "busy", SONY_POWER, 8, SONY_NOT_APPLICABLE),
        ("sony/binary-serial", "garbage", SONY_POWER, 4, "FF 00 FE 23"),
    ],
)
async def test_serial_faults_change_the_wire(
    serve: Serve, clock: Clock, pid: str, fault: str, send: str, size: int, want: str
) -> None:
    line = await _line(serve(pid, clock, fault=fault))
    try:
        assert await line.ask(send, size) == want
    finally:
        line.close()


async def test_viewsonic_busy_is_silence(serve: Serve, clock: Clock) -> None:
    emulator = serve("viewsonic/binary", clock, fault="busy")
    line = await _line(emulator)
    try:
        os.write(line.fd, h(VS_STATUS))
        await async_wait_for(lambda: emulator.requests == 1, timeout=3, what="request seen")
        emulator.fault = "none"
        assert await line.ask(VS_STATUS, 9) == "05 14 00 03 00 00 00 00 17"
        assert line.buf == b""  # the busy packet got no answer at all
    finally:
        line.close()


@pytest.mark.parametrize(
    ("fault", "want"),
    [("busy", "1F 00 00 03"), ("bad_checksum", "7F 00 00 03"), ("disconnect", "1D 00")],
)
async def test_hitachi_9715_faults_change_the_wire(
    serve: Serve, clock: Clock, fault: str, want: str
) -> None:
    reader, writer = await _tcp(serve("hitachi/tcp9715", clock, fault=fault))
    try:
        writer.write(_wrap(HITACHI_POWER, 3))
        got = await asyncio.wait_for(reader.read(64), 3)
        assert got.hex(" ").upper() == want
        if fault == "disconnect":
            assert await asyncio.wait_for(reader.read(64), 3) == b""  # then the line drops
    finally:
        writer.close()
