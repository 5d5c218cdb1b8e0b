"""Serial (through pyserial's serial_for_url) over a real pty, and TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import threading
import tty
from collections.abc import Iterator

import pytest

from roomctl.core.errors import Unavailable
from roomctl.transports.serial import SerialSettings, SerialTransport
from roomctl.transports.tcp import TcpTransport
from tests.support.real import free_port


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    for fd in (master, slave):
        os.close(fd)


async def _read_exactly(transport: SerialTransport | TcpTransport, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += await transport.read(2.0)
    return data


async def test_serial_round_trip_over_a_pty(pty_pair: tuple[int, str]) -> None:
    master, path = pty_pair
    port = SerialTransport(path, SerialSettings(38400, 8, "E", 1))
    await port.open()
    try:
        assert port.is_open
        await port.write(b"\xa9\x17\x2e\x00\x00\x00\x3f\x9a")
        got = await asyncio.to_thread(os.read, master, 64)
        assert got == b"\xa9\x17\x2e\x00\x00\x00\x3f\x9a"
        os.write(master, b"stale")
        await _read_exactly(port, 5)
        os.write(master, b"reply\r")
        assert await _read_exactly(port, 6) == b"reply\r"
        with pytest.raises(Unavailable, match="no reply"):
            await port.read(0.05)
    finally:
        await port.close()
    assert not port.is_open
    await port.close()  # twice is fine


async def test_serial_reads_do_not_block_the_loop(pty_pair: tuple[int, str]) -> None:
    _, path = pty_pair
    port = SerialTransport(path)
    await port.open()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    try:
        with pytest.raises(Unavailable):
            await port.read(0.2)
    finally:
        task.cancel()
        await port.close()
    assert ticks >= 10  # the loop kept running while the reader thread waited


async def test_serial_open_failure_is_unavailable(tmp_path: object) -> None:
    with pytest.raises(Unavailable, match="cannot open"):
        await SerialTransport("/dev/roomctl-no-such-port").open()
    with pytest.raises(Unavailable):
        await SerialTransport("socket://127.0.0.1:1").open()


async def test_serial_socket_url_round_trip() -> None:
    received: list[bytes] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(100)
        received.append(data)
        writer.write(data.upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port_no = server.sockets[0].getsockname()[1]
    port = SerialTransport(f"socket://127.0.0.1:{port_no}")
    await port.open()
    try:
        await port.write(b"pow=?\r")
        assert await _read_exactly(port, 6) == b"POW=?\r"
    finally:
        await port.close()
        server.close()
        await server.wait_closed()
    assert received == [b"pow=?\r"]
    assert threading.active_count() < 50


async def test_tcp_transport_timeouts_and_peer_close() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tcp = TcpTransport("127.0.0.1", port)
    await tcp.open()
    try:
        with pytest.raises(Unavailable, match="no reply"):
            await tcp.read(0.05)
        await tcp.write(b"hi")
        assert await tcp.read(1.0) == b"ok"
        with pytest.raises(Unavailable, match="closed"):
            await tcp.read(1.0)
        assert not tcp.is_open
    finally:
        await tcp.close()
        server.close()
        await server.wait_closed()
    with pytest.raises(Unavailable, match="cannot connect"):
        await TcpTransport("127.0.0.1", free_port()).open()
