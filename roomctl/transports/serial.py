"""Serial transport through pyserial's ``serial_for_url``.

``/dev/ttyUSB0``, ``rfc2217://host:port`` and ``socket://host:port`` all work. pyserial is
blocking, so a dedicated reader thread per port does the blocking reads (with a short timeout
so it can stop) and hands bytes to the event loop; open, write and close run in a worker
thread. Nothing blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

from roomctl.core.errors import Unavailable
from roomctl.transports.base import Transport

logger = logging.getLogger(__name__)
READ_SLICE_S = 0.05
_Queue = asyncio.Queue[bytes | None]


@dataclass(frozen=True)
class SerialSettings:
    """Line parameters; names follow pyserial."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    flow_control: str = "none"


class SerialTransport(Transport):
    """One serial port (or serial-over-IP gateway) at ``url``."""

    def __init__(self, url: str, settings: SerialSettings = SerialSettings()) -> None:
        self.url = url
        self.settings = settings
        self._port: Any = None
        self._queue: asyncio.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def is_open(self) -> bool:
        """Whether the port is open and its reader alive."""
        return self._port is not None and self._thread is not None and self._thread.is_alive()

    def _make_port(self) -> Any:
        import serial  # pyserial; imported here so a missing library disables only serial

        s = self.settings
        port = serial.serial_for_url(
            self.url,
            do_not_open=True,
            baudrate=s.baudrate,
            bytesize=s.bytesize,
            parity=s.parity,
            stopbits=s.stopbits,
            rtscts=s.flow_control == "rtscts",
            xonxoff=s.flow_control == "xonxoff",
            dsrdtr=s.flow_control == "dsrdtr",
            timeout=READ_SLICE_S,
            write_timeout=2.0,
        )
        port.open()
        return port

    async def open(self) -> None:
        """Open the port in a worker thread and start the reader thread."""
        try:
            self._port = await asyncio.to_thread(self._make_port)
        except (OSError, ValueError) as err:  # serial.SerialException is an OSError
            raise Unavailable(f"cannot open {self.url}: {err}") from None
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._read_loop, args=(loop, self._queue), name=f"serial {self.url}", daemon=True
        )
        self._thread.start()

    def _read_loop(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        port = self._port
        try:
            while not self._stop.is_set():
                data = port.read(max(1, port.in_waiting))
                if data:
                    loop.call_soon_threadsafe(queue.put_nowait, data)
        except (OSError, ValueError, TypeError, AttributeError) as err:
            # AttributeError/TypeError: pyserial raises these when closed under a read.
            if not self._stop.is_set():
                logger.debug("serial %s read failed: %s", self.url, err)
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            loop.call_soon_threadsafe(queue.put_nowait, None)

    async def close(self) -> None:
        """Stop the reader and close the port."""
        port, self._port = self._port, None
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, 1.0)
        if port is not None:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(port.close)

    async def write(self, data: bytes) -> None:
        """Write ``data`` in a worker thread (flow control may hold it)."""
        port = self._port
        if port is None or not self.is_open:
            raise Unavailable(f"{self.url} is not open")
        try:
            await asyncio.to_thread(port.write, data)
        except (OSError, ValueError) as err:
            raise Unavailable(f"write to {self.url} failed: {err}") from None

    async def read(self, timeout: float) -> bytes:
        """Bytes the reader thread has received, waiting up to ``timeout``."""
        if self._queue is None:
            raise Unavailable(f"{self.url} is not open")
        try:
            async with asyncio.timeout(timeout):
                data = await self._queue.get()
        except TimeoutError:
            raise Unavailable(f"no reply within {timeout} s") from None
        if data is None:
            raise Unavailable(f"{self.url} closed")
        return data

    def discard_input(self) -> bytes:
        """Drop bytes already handed to the loop; return them."""
        dropped = bytearray()
        if self._queue is None:
            return b""
        while not self._queue.empty():
            chunk = self._queue.get_nowait()
            if chunk is None:
                self._queue.put_nowait(None)  # keep the "closed" marker
                break
            dropped += chunk
        return bytes(dropped)
