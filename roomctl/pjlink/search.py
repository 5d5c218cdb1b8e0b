"""PJLink class 2 over UDP: search (SRCH/ACKN, §3.2) and status notifications (§3.3).

Projectors answer a search and send notifications to UDP port 4352 of the controller, not to
the datagram's source port, so the controller binds 4352 itself (``bind`` is configurable so
tests use a free loopback port). A search gathers answers for a while: projectors wait a
random 0-10 s before answering to avoid collisions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from roomctl.core.errors import ProtocolError
from roomctl.pjlink import protocol as p

logger = logging.getLogger(__name__)

SEARCH = b"%2SRCH\r"


@dataclass(frozen=True)
class Found:
    """One search answer: the projector's address and MAC."""

    host: str
    mac: str


class _Receiver(asyncio.DatagramProtocol):
    """Hands each valid datagram to ``handle``; garbage is logged at debug level and dropped."""

    def __init__(self, handle: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._handle = handle

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self._handle(data, addr)
        except ProtocolError as err:
            logger.debug("ignored datagram from %s: %s", addr[0], err)


async def search(
    targets: tuple[tuple[str, int], ...] = (("255.255.255.255", p.PORT),),
    *,
    bind: tuple[str, int] = ("0.0.0.0", p.PORT),
    wait_s: float = 30.0,
    expected: int | None = None,
) -> list[Found]:
    """Send SRCH to ``targets`` and collect ACKN answers for ``wait_s`` (or ``expected``)."""
    found: dict[str, Found] = {}
    done = asyncio.Event()

    def handle(data: bytes, addr: tuple[str, int]) -> None:
        if data == SEARCH:
            return  # our own broadcast looping back
        mac = p.parse_ackn(data)
        found.setdefault(mac, Found(addr[0], mac))
        if expected is not None and len(found) >= expected:
            done.set()

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Receiver(handle), local_addr=bind, allow_broadcast=True
    )
    try:
        for target in targets:
            transport.sendto(SEARCH, target)
        try:
            async with asyncio.timeout(wait_s):
                await done.wait()
        except TimeoutError:
            pass
    finally:
        transport.close()
        await asyncio.sleep(0)  # let the loop release the port before a listener binds it
    return list(found.values())


class NotificationListener:
    """Receives status notifications and calls ``on_notify(host, notification)``."""

    def __init__(
        self,
        on_notify: Callable[[str, p.Notification], None],
        bind: tuple[str, int] = ("0.0.0.0", p.PORT),
    ) -> None:
        self._on_notify = on_notify
        self._bind = bind
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def port(self) -> int:
        """The bound UDP port (useful when binding port 0)."""
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    def _handle(self, data: bytes, addr: tuple[str, int]) -> None:
        self._on_notify(addr[0], p.parse_notification(data))

    async def start(self) -> None:
        """Bind the UDP socket."""
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self._handle), local_addr=self._bind
        )

    async def stop(self) -> None:
        """Close the socket; safe to call twice."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
