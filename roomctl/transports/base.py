"""The byte-stream seam between drivers and the wire: serial ports and TCP sockets."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Transport(ABC):
    """A byte stream to one device. Constructors do no I/O; ``open`` connects."""

    @abstractmethod
    async def open(self) -> None:
        """Connect; raise Unavailable when the device cannot be reached."""

    @abstractmethod
    async def close(self) -> None:
        """Disconnect; safe to call twice."""

    @abstractmethod
    async def write(self, data: bytes) -> None:
        """Send ``data``; raise Unavailable when the link is gone."""

    @abstractmethod
    async def read(self, timeout: float) -> bytes:
        """At least one byte; raise Unavailable on timeout or when the link is gone."""

    @abstractmethod
    def discard_input(self) -> bytes:
        """Drop bytes received but not yet read (stale replies, power-on noise); return them.

        The caller may still look in them for what the device sent by itself."""

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether the link is up."""
