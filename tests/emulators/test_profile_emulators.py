"""The family emulators answer the manuals' byte sequences (no roomctl codec involved)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time

import pytest

from roomctl.emulators.base import Projector
from roomctl.emulators.profile import ProfileEmulator
from tests.support.real import wait_for


async def _exchange(port: int, send: bytes, size: int, greeting: int = 0) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        hello = await asyncio.wait_for(reader.readexactly(greeting), 2) if greeting else b""
        writer.write(send)
        await writer.drain()
        return hello, await asyncio.wait_for(reader.readexactly(size), 2)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("pid", "send", "reply"),
    [
        ("nec/binary-tcp", "02 00 00 00 00 02", "22 00 01 23 00 46"),  # NEC power on
        ("samsung/mdc", "AA 11 FF 01 01 12", "AA FF FF 03 41 11 01 54"),  # Samsung "112"
        ("samsung/mdc", "AA 14 01 01 21 37", "AA FF 01 03 41 14 21 79"),
    ],
)
async def test_binary_emulators_answer_manual_bytes(pid: str, send: str, reply: str) -> None:
    emu = ProfileEmulator(pid, projector=Projector(warmup_s=0))
    port = await emu.start_tcp()
    try:
        if pid == "samsung/mdc" and send.startswith("AA 14"):
            await _exchange(port, bytes.fromhex("AA 11 01 01 01 14"), 8)  # power on first
        _, got = await _exchange(port, bytes.fromhex(send), len(bytes.fromhex(reply)))
        assert got == bytes.fromhex(reply)
    finally:
        await emu.stop()


async def test_ntcontrol_greeting_and_manual_digest() -> None:
    emu = ProfileEmulator("panasonic/ntcontrol", password="panasonic")
    port = await emu.start_tcp()
    try:
        line = b"dbdd2dabd3d4d68c5dd970ec0c29fa6400QPW\r"  # the manual's example line
        hello, got = await _exchange(port, line, 6, greeting=len(b"NTCONTROL 1 23181e1e\r"))
        assert hello == b"NTCONTROL 1 23181e1e\r" and got == b"00000\r"
        _, refused = await _exchange(port, b"0" * 32 + b"00QPW\r", 5, greeting=len(hello))
        assert refused == b"ERRA\r"
    finally:
        await emu.stop()


async def test_adcp_challenge_and_escvpnet_hello() -> None:
    adcp = ProfileEmulator("sony/adcp", password="Projector")
    port = await adcp.start_tcp()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        challenge = (await reader.readline()).strip()
        digest = hashlib.sha256(challenge + b"Projector").hexdigest().encode()
        writer.write(digest + b"\r\n" + b"power_status ?\r\n")
        assert await reader.readline() == b"OK\r\n"
        assert await reader.readline() == b'"standby"\r\n'
        writer.close()
    finally:
        await adcp.stop()
    epson = ProfileEmulator("epson/escvpnet")
    port = await epson.start_tcp()
    try:
        hello = b"ESC/VP.net\x10\x03\x00\x00\x00\x00"
        _, got = await _exchange(port, hello, 16)
        assert got[:10] == b"ESC/VP.net" and got[14] == 0x20
    finally:
        await epson.stop()


async def test_epson_over_a_pty_warms_up_and_cools_down() -> None:
    clock = [0.0]
    projector = Projector(warmup_s=40, cooldown_s=10, clock=lambda: clock[0])
    emu = ProfileEmulator("epson/escvp21", projector=projector)
    path = await emu.start_pty()
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:

        async def ask(line: bytes) -> bytes:
            os.write(fd, line)
            out = b""
            while not out.endswith(b":"):
                out += await asyncio.to_thread(os.read, fd, 64)
            return out

        assert await ask(b"PWR?\r") == b"PWR=04\r:"
        assert await ask(b"PWR ON\r") == b":"
        assert await ask(b"PWR?\r") == b"PWR=02\r:"
        assert await ask(b"PWR OFF\r") == b"ERR\r:"  # not during start-up
        clock[0] = 41
        assert await ask(b"PWR?\r") == b"PWR=01\r:"
        assert await ask(b"LAMP?\r") == b"LAMP=1234\r:"
        assert await ask(b"PWR OFF\r") == b":"
        assert await ask(b"PWR?\r") == b"PWR=03\r:"
    finally:
        os.close(fd)
        await emu.stop()


@pytest.mark.parametrize("fault", ["no_reply", "garbage", "disconnect", "busy", "bad_checksum"])
async def test_faults_change_the_wire(fault: str) -> None:
    emu = ProfileEmulator("nec/binary-tcp", fault=fault)
    port = await emu.start_tcp()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(bytes.fromhex("02 00 00 00 00 02"))
        try:
            got = await asyncio.wait_for(reader.read(64), 0.3)
        except TimeoutError:
            got = None
        writer.close()
    finally:
        await emu.stop()
    good = bytes.fromhex("22 00 01 23 00 46")
    expected = {
        "no_reply": None,
        "disconnect": good[:3],
        "busy": bytes.fromhex("A2 00 01 23 02 07 00 CF"),
        "bad_checksum": good[:-1] + bytes([good[-1] ^ 0x5A]),
    }
    if fault == "garbage":
        assert got and got != good
    else:
        assert got == expected[fault]


def test_serve_prints_the_pty_path_and_runs_until_interrupted() -> None:
    code = (
        "import sys, types; from roomctl.emulators.profile import serve;"
        "sys.exit(serve(types.SimpleNamespace(profile='lg/ka-serial', tcp=None, pty=True,"
        " password='', fault=None)))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "lg/ka-serial emulator on pty /dev/pts/" in line
        path = line.rsplit(" ", 1)[1].strip()
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        os.write(fd, b"ka 01 ff\r")
        deadline = time.monotonic() + 5
        out = b""
        while not out.endswith(b"x") and time.monotonic() < deadline:
            out += os.read(fd, 64)
        os.close(fd)
        assert out == b"a 01 OK00x"
    finally:
        proc.send_signal(2)
        wait_for(lambda: proc.poll() is not None, 10, "emulator exit")
    assert proc.returncode == 0


def test_serve_refuses_unknown_profiles() -> None:
    from types import SimpleNamespace

    from roomctl.emulators.profile import serve

    args = SimpleNamespace(profile="acme/x", tcp=None, pty=False, password="", fault=None)
    assert serve(args) == 2


def test_every_shipped_family_has_an_emulator_built_apart_from_the_codec() -> None:
    code = (
        "import sys; from roomctl.emulators.families import families; "
        "from roomctl.emulators import pjlink; names = families(); "
        "print(sorted(names)); print(any(m.startswith('roomctl.profiles') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    emulated, codec_loaded = out.stdout.splitlines()
    from roomctl.profiles import loader

    vendor_families = sorted(p for p in loader.load_all() if not p.startswith("pjlink/"))
    assert emulated == str(vendor_families)  # PJLink has its own, roomctl.emulators.pjlink
    assert codec_loaded == "False"  # a wrong profile must not pass against its own codec
