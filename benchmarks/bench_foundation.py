"""Class start and idle cost of a real ``roomctl run`` process.

Run: ``.venv/bin/python -m benchmarks.bench_foundation [--clients 35] [--idle-seconds 60]``.

1. Class start: N clients (default 35) start within one second (staggered uniformly); each
   posts the QR token to /api/v1/join, opens the room WebSocket and waits for its first snapshot.
   Reports p50/p99 of the join POST and of join + first snapshot, and errors.
2. Idle: RSS and CPU of the process over ``--idle-seconds`` with the display's WebSocket
   connected (the kiosk) and nobody else.
Everything binds to 127.0.0.1; ``--mdns`` also advertises the room over mDNS on 127.0.0.1 (as
a real room does on its LAN; run it inside ``scripts/in-netns.sh``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.support.appliance import DISPLAY_KEY, start_appliance

HEADERS = {"X-Roomctl-Display-Key": DISPLAY_KEY}


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def one_client(base: str, token: str, i: int, delay: float) -> tuple[float, float]:
    await asyncio.sleep(delay)
    # unsafe=True: aiohttp keeps cookies for IP-address hosts only when told to
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        t0 = time.perf_counter()
        async with http.post(
            f"{base}/api/v1/join", json={"token": token, "name": f"Student {i}"}
        ) as r:
            r.raise_for_status()
        t1 = time.perf_counter()
        async with http.ws_connect(f"{base}/api/v1/ws") as ws:
            msg = await ws.receive_json(timeout=10)
            assert msg["type"] == "snapshot"
        return t1 - t0, time.perf_counter() - t0


async def class_start(base: str, clients: int) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/api/v1/pairing", headers=HEADERS) as r,
    ):
        # the QR token: with its grace window a minute turning mid-benchmark cannot fail joins
        token = (await r.json())["url"].split("?t=")[1]
    delays = sorted(random.uniform(0, 1.0) for _ in range(clients))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(one_client(base, token, i, d) for i, d in enumerate(delays)), return_exceptions=True
    )
    wall = time.perf_counter() - started
    ok = [r for r in results if isinstance(r, tuple)]
    errors = [r for r in results if not isinstance(r, tuple)]
    posts, fulls = [r[0] for r in ok], [r[1] for r in ok]
    print(f"class start: {len(ok)}/{clients} joined in {wall:.2f} s, {len(errors)} errors")
    if ok:
        print(f"  join POST        p50 {pct(posts, 50):6.1f} ms   p99 {pct(posts, 99):6.1f} ms")
        print(f"  join + snapshot  p50 {pct(fulls, 50):6.1f} ms   p99 {pct(fulls, 99):6.1f} ms")
    for err in errors[:3]:
        print(f"  error: {err!r}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def idle(base: str, pid: int, seconds: float) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{base}/api/v1/ws", headers=HEADERS) as ws,
    ):
        await ws.receive_json(timeout=10)
        await asyncio.sleep(3)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        samples = []
        while time.monotonic() - t0 < seconds:
            await ws.send_json({"type": "heartbeat"})
            await asyncio.sleep(5)
            samples.append(rss_mb(pid))
            while not ws.closed:
                try:
                    await ws.receive(timeout=0.01)
                except TimeoutError:
                    break
        cpu = cpu_seconds(pid) - cpu0
        elapsed = time.monotonic() - t0
    rss = statistics.median(samples)
    print(
        f"idle over {elapsed:.0f} s (display connected): RSS median {rss:.1f} MB, "
        f"max {max(samples):.1f} MB; CPU {100 * cpu / elapsed:.2f} % of a core"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=35)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--mdns", action="store_true", help="advertise on 127.0.0.1 meanwhile")
    args = parser.parse_args()
    mdns = {"enabled": True, "interfaces": ["127.0.0.1"]} if args.mdns else {"enabled": False}
    with tempfile.TemporaryDirectory() as tmp:
        app = start_appliance(Path(tmp), web={"display_hosts": []}, mdns=mdns)
        assert app.proc is not None
        try:
            asyncio.run(class_start(app.url, args.clients))
            asyncio.run(idle(app.url, app.proc.pid, args.idle_seconds))
        finally:
            app.stop()


if __name__ == "__main__":
    main()
