"""A minimal appliance for the mDNS tests: a real Room and a real Advertiser, driven over stdin.

Run inside the test's network namespace as ``python -m tests.discovery.appliance_helper
CONFIG_JSON``. Commands, one per line: ``participants N``, ``clear``, ``casting 0|1``,
``display ID``, ``stop``. Prints JSON lines: ``{"ready": service_name}`` and ``{"stopped": true}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from roomctl.config.model import Config
from roomctl.config.schema import parse
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.discovery import advertiser
from roomctl.roles import Role
from roomctl.room import Room
from roomctl.roster import Participant


class StandInDisplay:
    """Stand-in at the Room's DeviceHandle seam: only its role matters to the advertiser."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.role = "display"

    def snapshot(self) -> dict[str, Any]:
        """A minimal device snapshot."""
        return {"state": {"power": "on"}, "available": True}

    async def command(self, name: str, **args: Any) -> None:
        """Not used by discovery."""

    async def make_ready(self) -> dict[str, Any]:
        """Not used by discovery."""
        return {}


def emit(item: dict[str, Any]) -> None:
    """One JSON line to the test."""
    print(json.dumps(item), flush=True)


async def main(raw: dict[str, Any]) -> None:
    """Advertise until told to stop."""
    advertiser.COALESCE_S = raw.pop("coalesce_s", 0.05)
    advertiser.ADDRESS_POLL_S = raw.pop("address_poll_s", 0.2)
    advertiser.MIN_UPDATE_INTERVAL_S = raw.pop("min_update_interval_s", 0.9)
    advertiser.CONFLICT_CHECK_MS = raw.pop("conflict_check_ms", advertiser.CONFLICT_CHECK_MS)
    config = parse(Config, raw)
    room = Room(config, EventBus(), WarningsRegistry())
    casting = {"active": False}
    room.add_snapshot_part("casting", lambda: dict(casting))
    adv = advertiser.Advertiser(config, room)
    await adv.start()
    emit({"ready": adv.service_name})
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "participants":
            for i in range(int(arg)):
                room.roster.upsert(Participant(f"sid{i}", f"Student {i}", Role.PARTICIPANT))
            room.changed("participants")
        elif cmd == "clear":
            room.roster.clear()
            room.changed("participants")
        elif cmd == "casting":
            casting["active"] = arg == "1"
            room.changed("casting")
        elif cmd == "display":
            room.add_device(StandInDisplay(arg))
        elif cmd == "stop":
            break
    await adv.stop()
    emit({"stopped": True, "announcements": adv.announcements})


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
