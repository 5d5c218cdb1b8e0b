"""``roomctl discover``: list the rooms advertised on this network segment."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from typing import Any

from roomctl.discovery.browser import FoundRoom, RoomEvent, RoomWatcher, browse


def register(subparsers: Any) -> None:
    """Add the ``discover`` subcommand."""
    parser = subparsers.add_parser("discover", help="list rooms advertised over mDNS/DNS-SD")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="S",
                        help="seconds to listen (default 3; with --watch 0 means forever)")
    parser.add_argument("--interface", action="append", default=[], metavar="IP",
                        help="browse only on this local address (repeatable)")
    parser.add_argument("--watch", action="store_true",
                        help="keep listening and print each added, updated or removed room")
    parser.set_defaults(func=handle_discover)


def handle_discover(args: argparse.Namespace) -> int:
    """Run the browse (or watch) and print the result."""
    if args.timeout < 0:
        print("roomctl discover: --timeout must be >= 0", file=sys.stderr)
        return 2
    if args.watch:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_watch(args.interface, args.timeout, args.json))
        return 0
    rooms = asyncio.run(browse(args.timeout, args.interface))
    print(json.dumps([r.to_dict() for r in rooms], indent=2) if args.json else table(rooms))
    return 0


def table(rooms: list[FoundRoom]) -> str:
    """A plain-text table of rooms: name, room id, state, site, join URL."""
    if not rooms:
        return "no rooms found"
    rows = [("NAME", "ROOM", "STATE", "SITE", "URL")]
    rows += [(r.name, r.txt.get("room", ""), r.txt.get("state", "?"), r.txt.get("site", ""),
              r.url) for r in rooms]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    )


def event_line(event: RoomEvent, as_json: bool) -> str:
    """One printed line for a watch event."""
    if as_json:
        room = event.room.to_dict() if event.room else None
        return json.dumps({"event": event.kind, "service": event.service, "room": room})
    state = event.room.txt.get("state", "?") if event.room else "-"
    return f"{event.kind:8} {event.service} state={state}"


async def _watch(interfaces: list[str], timeout: float, as_json: bool) -> None:
    watcher = RoomWatcher(interfaces)
    await watcher.start()
    deadline = time.monotonic() + timeout if timeout else None
    try:
        while deadline is None or time.monotonic() < deadline:
            left = None if deadline is None else deadline - time.monotonic()
            try:
                event = await asyncio.wait_for(watcher.events.get(), left)
            except TimeoutError:
                break
            print(event_line(event, as_json), flush=True)
    finally:
        await watcher.stop()
