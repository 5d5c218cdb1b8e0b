"""BenQ, Optoma and Casio emulators answer their manuals' byte sequences (no roomctl codec)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable

import pytest

from roomctl.emulators.base import Projector
from roomctl.emulators.profile import GARBAGE, ProfileEmulator
from tests.emulators.conftest import Clock
from tests.support.real import async_wait_for


class PtyClient:
    """The far end of an emulator's pty, read on the event loop."""

    def __init__(self, emulator: ProfileEmulator, path: str) -> None:
        self.emulator = emulator
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.buf = b""
        asyncio.get_running_loop().add_reader(self.fd, self._on_data)

    def _on_data(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self.buf += os.read(self.fd, 4096)

    async def ask(self, data: bytes, done: Callable[[bytes], bool]) -> bytes:
        """Send ``data``; return all received since the last answer once ``done`` holds.

        Nothing is thrown away between calls, so a reply that should not have come shows up
        in front of the next one.
        """
        os.write(self.fd, data)
        await async_wait_for(lambda: done(self.buf), timeout=2, what=f"reply to {data!r}")
        out, self.buf = self.buf, b""
        return out

    async def tell(self, data: bytes, requests: int) -> None:
        """Send ``data`` and wait until the emulator has taken ``requests`` more requests."""
        want = self.emulator.requests + requests
        os.write(self.fd, data)
        await async_wait_for(lambda: self.emulator.requests >= want, timeout=2, what="taken")

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)


def _ends(*suffixes: bytes) -> Callable[[bytes], bool]:
    return lambda buf: buf.endswith(suffixes)


@pytest.fixture
async def pty(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[PtyClient]:
    projector = Projector(warmup_s=30, cooldown_s=60, clock=clock)
    emulator = ProfileEmulator(request.param, projector=projector)
    client = PtyClient(emulator, await emulator.start_pty())
    yield client
    client.close()
    await emulator.stop()


PROMPT = _ends(b">")


@pytest.mark.parametrize("pty", ["benq/ascii"], indirect=True)
async def test_benq_serial_echo_replies_and_prompt(pty: PtyClient, clock: Clock) -> None:
    # MX613ST p.57: <CR>*key=value#<CR>; echo, then the answer, then the serial prompt.
    assert await pty.ask(b"\r*pow=?#\r", PROMPT) == b"*pow=?#\r\n*POW=OFF#\r\n>"
    assert await pty.ask(b"\r*ltim=?#\r", PROMPT) == b"*ltim=?#\r\n*LTIM=1234#\r\n>"
    assert await pty.ask(b"\r*sour=hdmi#\r", PROMPT) == b"*sour=hdmi#\r\n*Block item#\r\n>"
    assert await pty.ask(b"\r*po=?#\r", PROMPT) == b"*po=?#\r\n*Illegal format#\r\n>"
    assert await pty.ask(b"\r*pow=on#\r", PROMPT) == b"*pow=on#\r\n*POW=ON#\r\n>"
    assert await pty.ask(b"\r*sour=hdmi2#\r", PROMPT) == b"*sour=hdmi2#\r\n*Block item#\r\n>"
    assert await pty.ask(b"\r*pow=off#\r", PROMPT) == b"*pow=off#\r\n*Block item#\r\n>"
    clock.now = 31  # warm-up over
    assert await pty.ask(b"\r*sour=hdmi2#\r", PROMPT) == b"*sour=hdmi2#\r\n*SOUR=HDMI2#\r\n>"
    assert await pty.ask(b"\r*SOUR=?#\r", PROMPT) == b"*SOUR=?#\r\n*SOUR=HDMI2#\r\n>"
    unsupported = b"*sour=RGB2#\r\n*Unsupported item#\r\n>"
    assert await pty.ask(b"\r*sour=RGB2#\r", PROMPT) == unsupported
    assert await pty.ask(b"\r*mute=on#\r", PROMPT) == b"*mute=on#\r\n*MUTE=ON#\r\n>"
    # p.57 item 1: muting an already muted projector is an illegal format.
    assert await pty.ask(b"\r*mute=on#\r", PROMPT) == b"*mute=on#\r\n*Illegal format#\r\n>"
    assert await pty.ask(b"\r*vol=+#\r", PROMPT) == b"*vol=+#\r\n*VOL=+#\r\n>"
    assert await pty.ask(b"\r*vol=?#\r", PROMPT) == b"*vol=?#\r\n*VOL=11#\r\n>"


async def test_benq_lan_port_needs_no_cr_and_prints_no_prompt() -> None:
    emulator = ProfileEmulator("benq/ascii", projector=Projector(warmup_s=0))
    port = await emulator.start_tcp()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"*pow=?#")  # "works whether it starts and ends with <CR>" (LW500 p.10)
        first = await asyncio.wait_for(reader.readuntil(b"OFF#\r\n"), 2)
        assert first == b"*pow=?#\r\n*POW=OFF#\r\n"
        writer.write(b"\r*modelname=?#\r\r*pow=?#\r")
        got = await asyncio.wait_for(reader.readuntil(b"*POW=OFF#\r\n"), 2)
        assert got == b"*modelname=?#\r\n*MODELNAME=EMU-1000#\r\n*pow=?#\r\n*POW=OFF#\r\n"
        writer.close()
    finally:
        await emulator.stop()


CR = _ends(b"\r")


@pytest.mark.parametrize("pty", ["optoma/ascii"], indirect=True)
async def test_optoma_ids_pass_fail_reads_and_info(pty: PtyClient, clock: Clock) -> None:
    # HD66 p.49: "~0000 1" = 7E 30 30 30 30 20 31 0D; P or F; INFO1 while warming (HD75 p.50).
    power_on = bytes.fromhex("7E 30 30 30 30 20 31 0D")
    assert await pty.ask(power_on, _ends(b"INFO1\r")) == b"P\rINFO1\r"
    assert await pty.ask(b"~00124 1\r", CR) == b"OK1\r"
    assert await pty.ask(b"~0012 1\r", CR) == b"F\r"  # no input change while warming
    # Another projector's ID gets no answer: only the reply to the next (our) command comes.
    assert await pty.ask(b"~0712 1\r~01108 1\r", CR) == b"OK1234\r"
    clock.now = 31
    assert await pty.ask(b"~0112 15\r", CR) == b"P\r"
    assert await pty.ask(b"~00121 1\r", CR) == b"OK8\r"  # read code of HDMI2 (W320UST p.102)
    assert await pty.ask(b"~0002 1\r", CR) == b"P\r"
    assert await pty.ask(b"~00150 1\r", CR) == b"Ok1123408C10A1\r"
    assert await pty.ask(b"~0099 9\r", CR) == b"F\r"
    assert await pty.ask(b"~0000 0\r", _ends(b"INFO2\r")) == b"P\rINFO2\r"
    clock.now = 100  # cooled down: standby is announced before the next reply
    assert await pty.ask(b"~00124 1\r", _ends(b"OK0\r")) == b"INFO0\rOK0\r"


@pytest.mark.parametrize("pty", ["optoma/ascii"], indirect=True)
async def test_optoma_announces_a_lamp_failure_once(pty: PtyClient) -> None:
    assert await pty.ask(b"~00124 1\r", CR) == b"OK0\r"
    pty.emulator.projector.error = "lamp"
    assert await pty.ask(b"~00124 1\r", _ends(b"OK0\r")) == b"INFO4\rOK0\r"
    assert await pty.ask(b"~00124 1\r", CR) == b"OK0\r"


CLOSE = _ends(b")", b"?")


@pytest.mark.parametrize("pty", ["casio/ascii"], indirect=True)
async def test_casio_reads_writes_and_busy_transitions(pty: PtyClient, clock: Clock) -> None:
    # XJ-S400U p.85: (CMD?) -> (range,current); writes are not answered; ? when unrecognised.
    assert await pty.ask(b"(PWR?)", CLOSE) == b"(0-1,0)"
    assert await pty.ask(b"(VOL?)", CLOSE) == b"?"  # only PWR and light time while off
    assert await pty.ask(b"(XYZ?)", CLOSE) == b"?"
    # The write is not answered and the read during the warm-up process is not taken.
    await pty.tell(b"(PWR1)(PWR?)", requests=2)
    clock.now = 31
    assert await pty.ask(b"(PWR?)", CLOSE) == b"(0-1,1)"
    assert await pty.ask(b"(VOL15)(VOL?)", CLOSE) == b"(0-30,15)"  # the manual's example value
    assert await pty.ask(b"(VOL99)(VOL?)", CLOSE) == b"(0-30,15)"  # out of range: ignored
    assert await pty.ask(b"(SRC7)(SRC?)", CLOSE) == b"(0-13,7)"
    assert await pty.ask(b"(BLK1)(BLK?)", CLOSE) == b"(0-1,1)"
    await pty.tell(b"(PWR0)(PWR?)", requests=2)  # cooling: nothing taken
    clock.now = 100
    assert await pty.ask(b"(PWR?)", CLOSE) == b"(0-1,0)"


async def _exchange(port: int, send: bytes, size: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(send)
        return await asyncio.wait_for(reader.readexactly(size), 2)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("pid", "fault", "send", "expect"),
    [
        ("benq/ascii", "busy", b"\r*pow=?#\r", b"*pow=?#\r\n*Block item#\r\n"),
        ("benq/ascii", "garbage", b"\r*pow=?#\r", GARBAGE),
        ("optoma/ascii", "busy", b"~00124 1\r", b"F\r"),
        ("optoma/ascii", "garbage", b"~00124 1\r", GARBAGE),
        ("casio/ascii", "garbage", b"(PWR?)", GARBAGE),
    ],
)
async def test_faults_change_the_wire(pid: str, fault: str, send: bytes, expect: bytes) -> None:
    emulator = ProfileEmulator(pid, fault=fault)
    port = await emulator.start_tcp()
    try:
        assert await _exchange(port, send, len(expect)) == expect
    finally:
        await emulator.stop()


@pytest.mark.parametrize(
    ("pid", "send", "good"),
    [
        ("benq/ascii", b"\r*pow=?#\r", b"*pow=?#\r\n*POW=OFF#\r\n"),
        ("optoma/ascii", b"~00124 1\r", b"OK0\r"),
        ("casio/ascii", b"(PWR?)", b"(0-1,0)"),
    ],
)
async def test_bad_checksum_damages_the_reply_line(pid: str, send: bytes, good: bytes) -> None:
    emulator = ProfileEmulator(pid)
    port = await emulator.start_tcp()
    try:
        assert await _exchange(port, send, len(good)) == good
        emulator.fault = "bad_checksum"
        got = await _exchange(port, send, len(good))
    finally:
        await emulator.stop()
    # The line layout survives (a reader still sees a whole reply) but it is no longer text.
    assert got != good and max(got) >= 0x80
    assert [b for b in got if b in b"\r\n()"] == [b for b in good if b in b"\r\n()"]


async def test_busy_casio_takes_nothing_and_says_nothing() -> None:
    emulator = ProfileEmulator("casio/ascii", fault="busy")
    port = await emulator.start_tcp()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"(PWR1)(PWR?)")
        await async_wait_for(lambda: emulator.requests == 2, timeout=2, what="requests taken")
        emulator.fault = "none"
        writer.write(b"(PWR?)")
        # Only this read is answered, and the power-on sent while busy was not carried out.
        assert await asyncio.wait_for(reader.readexactly(7), 2) == b"(0-1,0)"
        writer.close()
    finally:
        await emulator.stop()
