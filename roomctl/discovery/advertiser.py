"""DNS-SD advertisement of the room with python-zeroconf: the appliance and its web UI.

The advertiser is an adapter: it reads ``room.snapshot()`` and ``room.mode()`` and keeps no
room state of its own. Room changes arrive as ``RoomChanged`` events and are coalesced, so a
burst of joins costs one TXT announcement. Addresses are polled because zeroconf does not
watch netlink; when they change, zeroconf is reopened so it also joins the multicast group on
a new interface, and the old records get their goodbye.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import ifaddr
from zeroconf import DNSQuestionType, InterfaceChoice, IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from roomctl.config.model import Config
from roomctl.core.bus import Subscription
from roomctl.core.events import RoomChanged
from roomctl.discovery import records

if TYPE_CHECKING:
    from roomctl.room import Room

logger = logging.getLogger(__name__)

COALESCE_S = 0.5  # tests patch these down
ADDRESS_POLL_S = 10.0
CONFLICT_CHECK_MS = 500
# RFC 6762 §6: multicast a record at most once per second; python-zeroconf receivers also drop
# a packet identical to one seen in the last 800 ms, which would hide a quick flip back.
MIN_UPDATE_INTERVAL_S = 1.0


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def interface_addresses(interfaces: Sequence[str]) -> list[str]:
    """IPv4 addresses for ``[mdns] interfaces`` (addresses or names); empty: every LAN one."""
    found: list[str] = [i for i in interfaces if _is_ip(i) and ":" not in i]
    names = {i for i in interfaces if not _is_ip(i)}
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6: the room is advertised over IPv4 only (see docs/DISCOVERY.md)
            wanted = adapter.name in names if interfaces else not ip.ip.startswith("127.")
            if wanted and ip.ip not in found:
                found.append(ip.ip)
    return found


async def register(zc: AsyncZeroconf, info: ServiceInfo) -> None:
    """Probe for and register ``info``; its announcements go on in the background."""
    await zc.async_register_service(info, allow_name_change=True)


class Advertiser:
    """Advertises ``_roomctl._tcp`` and the web UI while the appliance runs."""

    def __init__(
        self,
        config: Config,
        room: Room,
        addresses: Callable[[], list[str]] | None = None,
    ) -> None:
        self.config = config
        self.room = room
        self._addresses = addresses or (lambda: interface_addresses(config.mdns.interfaces))
        self._zc: AsyncZeroconf | None = None
        self._infos: list[ServiceInfo] = []
        self._current: list[str] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._room_name = ""
        self.announcements = 0  # TXT updates sent, for tests and benchmarks

    @property
    def service_name(self) -> str:
        """The full ``_roomctl._tcp`` instance name as registered (after any conflict rename)."""
        return self._room_name

    async def start(self) -> None:
        """Register the services and follow room changes and address changes."""
        if not self.config.mdns.enabled:
            logger.info("mDNS advertisement disabled by [mdns] enabled = false")
            return
        await self._reopen(self._addresses())
        sub = self.room.bus.subscribe(RoomChanged, maxsize=100)
        self._tasks = [
            asyncio.create_task(self._follow_room(sub), name="mdns-room"),
            asyncio.create_task(self._follow_addresses(), name="mdns-addresses"),
        ]

    async def stop(self) -> None:
        """Send goodbye packets and close; idempotent."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    def txt(self) -> dict[str, str]:
        """The room's TXT record right now."""
        roles = {dev_id: dev.role for dev_id, dev in self.room.devices.items()}
        dev_id = records.device_id(self.config, self.room.state.extra)
        return records.room_txt(self.config, self.room.snapshot(), roles, dev_id)

    def _build_infos(self, addresses: list[str]) -> list[ServiceInfo]:
        web = records.endpoint(self.config)
        room_name = self._room_name or f"{records.instance_name(self.config)}.{records.ROOM_TYPE}"
        label = room_name.removesuffix("." + records.ROOM_TYPE)
        return [
            self._info(records.ROOM_TYPE, room_name, self.txt(), addresses),
            self._info(web.service_type, f"{label}.{web.service_type}",
                       records.web_txt(self.config), addresses),
        ]

    def _info(self, type_: str, name: str, txt: dict[str, str], addresses: list[str]
              ) -> ServiceInfo:
        port = records.endpoint(self.config).port
        server = records.hostname(self.config)
        return ServiceInfo(type_, name, port=port, properties=txt, server=server,
                           parsed_addresses=addresses)

    async def _open(self, addresses: list[str]) -> None:
        self._current = addresses
        if not addresses:
            logger.warning("no address on the mDNS interfaces yet; advertising when one appears")
            return
        interfaces = addresses if self.config.mdns.interfaces else InterfaceChoice.All
        self._zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        if not self._room_name:
            self._room_name = await self._unique_name()
        self._infos = self._build_infos(addresses)
        zc = self._zc
        # each registration probes (~0.75 s) before it announces; the two need not queue
        await asyncio.gather(*(register(zc, info) for info in self._infos))
        self._room_name = self._infos[0].name
        logger.info("advertising %s as %s on %s", self._room_name,
                    records.hostname(self.config), ", ".join(addresses) or "no address")

    async def _unique_name(self) -> str:
        """Our instance name, suffixed with the room id when another room already holds it.

        python-zeroconf renames only on a conflict already in its cache, and a freshly started
        responder has an empty cache, so ask the segment first.
        """
        assert self._zc is not None
        label = records.instance_name(self.config)
        name = f"{label}.{records.ROOM_TYPE}"
        other = AsyncServiceInfo(records.ROOM_TYPE, name)
        # QM: a unicast answer to port 5353 may land on another socket sharing the port
        if not await other.async_request(self._zc.zeroconf, CONFLICT_CHECK_MS, DNSQuestionType.QM):
            return name
        if records.decode_txt(other.properties).get("room") == self.config.room.id:
            return name  # our own records, still cached by the segment after a restart
        suffix = f" ({self.config.room.id})"
        cut = label.encode()[: records.MAX_INSTANCE_BYTES - len(suffix.encode())]
        logger.warning("another room is advertised as %r; using %r", label, label + suffix)
        return f"{cut.decode('utf-8', 'ignore')}{suffix}.{records.ROOM_TYPE}"

    async def _close(self) -> None:
        zc, self._zc = self._zc, None
        if zc is None:
            return
        await zc.async_unregister_all_services()  # the goodbye: TTL 0 for every record
        await zc.async_close()

    async def _follow_room(self, sub: Subscription) -> None:
        last = 0.0
        with sub:
            while True:
                await sub.get()
                wait = max(COALESCE_S, last + MIN_UPDATE_INTERVAL_S - time.monotonic())
                await asyncio.sleep(wait)  # coalesce a burst of changes into one update
                while sub.get_nowait() is not None:
                    pass
                if await self._update_txt():
                    last = time.monotonic()

    async def _update_txt(self) -> bool:
        if self._zc is None or not self._infos:
            return False
        txt = self.txt()
        if records.decode_txt(self._infos[0].properties) == txt:
            return False
        self._infos[0] = self._info(records.ROOM_TYPE, self._room_name, txt, self._current)
        await self._zc.async_update_service(self._infos[0])
        self.announcements += 1
        logger.debug("mDNS TXT updated: state=%s", txt["state"])
        return True

    async def _follow_addresses(self) -> None:
        while True:
            await asyncio.sleep(ADDRESS_POLL_S)
            addresses = await asyncio.to_thread(self._addresses)
            if sorted(addresses) != sorted(self._current):
                logger.info("addresses changed to %s: re-announcing", ", ".join(addresses))
                await self._reopen(addresses)

    async def _reopen(self, addresses: list[str]) -> None:
        """(Re)start the responder on ``addresses``; a failure is a warning, retried on change."""
        await self._close()
        try:
            await self._open(addresses)
        except OSError as err:  # e.g. the address went away between the poll and the bind
            await self._close()
            self._current = addresses
            self.room.warnings.add("mdns", "mdns.failed", f"mDNS advertisement failed: {err}")
            return
        self.room.warnings.clear("mdns")
