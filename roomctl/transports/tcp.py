"""TCP transport over asyncio streams."""

from __future__ import annotations

import asyncio
import contextlib

from roomctl.core.errors import Unavailable
from roomctl.transports.base import Transport


class TcpTransport(Transport):
    """One TCP connection to ``host:port``."""

    def __init__(self, host: str, port: int, connect_timeout: float = 3.0) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def is_open(self) -> bool:
        """Whether the connection is up."""
        return self._writer is not None and not self._writer.is_closing()

    async def open(self) -> None:
        """Connect within ``connect_timeout``."""
        try:
            async with asyncio.timeout(self.connect_timeout):
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, TimeoutError) as err:
            raise Unavailable(f"cannot connect to {self.host}:{self.port}: {err}") from None

    async def close(self) -> None:
        """Close the connection."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    async def write(self, data: bytes) -> None:
        """Send ``data`` and wait for the buffer to drain."""
        if self._writer is None:
            raise Unavailable("not connected")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, ConnectionError) as err:
            raise Unavailable(f"connection lost: {err}") from None

    async def read(self, timeout: float) -> bytes:
        """Some bytes within ``timeout``."""
        if self._reader is None:
            raise Unavailable("not connected")
        try:
            async with asyncio.timeout(timeout):
                data = await self._reader.read(4096)
        except TimeoutError:
            raise Unavailable(f"no reply within {timeout} s") from None
        except (OSError, ConnectionError) as err:
            raise Unavailable(f"connection lost: {err}") from None
        if not data:
            await self.close()
            raise Unavailable("the device closed the connection")
        return data

    def discard_input(self) -> bytes:
        """Drop what the stream has buffered; return it."""
        buffered = getattr(self._reader, "_buffer", None)
        if not isinstance(buffered, bytearray):
            return b""
        dropped = bytes(buffered)
        buffered.clear()
        return dropped
