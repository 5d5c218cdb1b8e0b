"""Discovery figures: advertiser start, TXT-change and goodbye latency as a browser sees them,
and ``browse()`` over many rooms. Runs itself inside a private network namespace (root).

    .venv/bin/python -m benchmarks.discovery [ROOMS]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time

from roomctl.config.model import Config
from roomctl.config.schema import parse
from roomctl.core.bus import EventBus
from roomctl.core.warnings import WarningsRegistry
from roomctl.discovery import advertiser
from roomctl.discovery.advertiser import Advertiser
from roomctl.discovery.browser import RoomWatcher, browse
from roomctl.roles import Role
from roomctl.room import Room
from roomctl.roster import Participant

SETUP = "ip link set lo up; ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo; "


def make(room_id: str) -> tuple[Config, Room]:
    """A room advertised on loopback only."""
    config = parse(Config, {"room": {"id": room_id, "name": f"Room {room_id}"},
                            "mdns": {"interfaces": ["127.0.0.1"]}})
    return config, Room(config, EventBus(), WarningsRegistry())


def ms(values: list[float]) -> str:
    """Median and max in milliseconds."""
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


async def next_event(watcher: RoomWatcher, kind: str) -> float:
    """Seconds until the watcher reports an event of ``kind``."""
    t0 = time.monotonic()
    while (await asyncio.wait_for(watcher.events.get(), 10)).kind != kind:
        pass
    return time.monotonic() - t0


async def txt_and_goodbye(rounds: int) -> None:
    """Start time, TXT change latency and goodbye latency for one room."""
    starts, changes, goodbyes = [], [], []
    for r in range(rounds):
        config, room = make(f"B{r}")
        watcher = RoomWatcher(["127.0.0.1"])
        await watcher.start()
        adv = Advertiser(config, room)
        t0 = time.monotonic()
        await adv.start()
        starts.append(time.monotonic() - t0)
        await next_event(watcher, "added")
        for i in range(6):  # idle -> in_use -> idle ...: every change alters the TXT
            if i % 2 == 0:
                room.roster.upsert(Participant("s", "x", Role.PARTICIPANT))
            else:
                room.roster.clear()
            room.changed("participants")
            changes.append(await next_event(watcher, "updated"))
            await asyncio.sleep(1.0)  # a change a second or so, as in a lesson's first minute
        t0 = time.monotonic()
        await adv.stop()
        await next_event(watcher, "removed")
        goodbyes.append(time.monotonic() - t0)
        await watcher.stop()
    print(f"advertiser start (conflict check + probe), {rounds} rooms: {ms(starts)}")
    limits = f"coalescing {advertiser.COALESCE_S} s, <= 1 per {advertiser.MIN_UPDATE_INTERVAL_S} s"
    print(f"TXT change seen by a browser ({limits}), {len(changes)} changes: {ms(changes)}")
    print(f"goodbye seen by a browser, {rounds} stops: {ms(goodbyes)}")


async def many_rooms(count: int) -> None:
    """How long ``browse()`` needs to list ``count`` rooms."""
    rooms = [make(f"C{i}") for i in range(count)]
    advs = [Advertiser(c, r) for c, r in rooms]
    t0 = time.monotonic()
    await asyncio.gather(*(a.start() for a in advs))
    print(f"{count} advertisers started concurrently in {time.monotonic() - t0:.2f} s")
    for timeout in (0.5, 1.0, 2.0):
        await asyncio.sleep(2.0)  # RFC 6762 §6: a record is multicast at most once a second
        found = await browse(timeout, ["127.0.0.1"])
        print(f"browse(timeout={timeout} s) listed {len(found)}/{count} rooms")
    await asyncio.gather(*(a.stop() for a in advs))


def main() -> int:
    """Re-run inside a private namespace, then measure."""
    if os.environ.get("ROOMCTL_BENCH_NETNS") != "1":
        env = {**os.environ, "ROOMCTL_BENCH_NETNS": "1"}
        cmd = SETUP + 'exec "$@"'
        argv = ["unshare", "-n", "--", "bash", "-c", cmd, "bash", sys.executable, "-m",
                "benchmarks.discovery", *sys.argv[1:]]
        return subprocess.call(argv, env=env)
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    asyncio.run(txt_and_goodbye(5))
    asyncio.run(many_rooms(count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
