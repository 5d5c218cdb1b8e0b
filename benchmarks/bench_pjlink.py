"""PJLink operations per second and latency: our client vs pypjlink2 on the same emulator.

Run: ``.venv/bin/python -m benchmarks.bench_pjlink [N]``. Everything is on 127.0.0.1; the
emulator (password set, so each new connection pays the MD5 handshake) runs on the event
loop, pypjlink2 (blocking) in a worker thread, so both hit the same server the same way.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from pypjlink import Projector

from roomctl.emulators.pjlink import Emulator, ProjectorModel
from roomctl.pjlink.client import PjlinkClient

PASSWORD = "JBMIAProjectorLink"


def pypjlink_power(port: int) -> str:
    """One pypjlink2 call as Home Assistant made it: connect, authenticate, query, close."""
    with Projector.from_address("127.0.0.1", port, timeout=5) as proj:
        proj.authenticate(PASSWORD)
        return str(proj.get_power())


ROUNDS = 5  # cases alternate in rounds so background load hits them alike


async def timed(op: Callable[[], Awaitable[object]], n: int, into: list[float]) -> float:
    """Run ``op`` ``n`` times, appending latencies; returns the elapsed time."""
    start = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        await op()
        into.append(time.perf_counter() - t0)
    return time.perf_counter() - start


def report(name: str, latencies: list[float], total: float) -> float:
    """Print one case's figures; returns its rate."""
    latencies.sort()
    rate = len(latencies) / total
    median = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    print(
        f"{name:<44} {len(latencies):>6} ops {rate:>8.0f}/s median {median:.3f} ms p95 {p95:.3f} ms"
    )
    return rate


async def main(n: int) -> None:
    """Run every case against one emulator and print the ratios."""
    async with Emulator(ProjectorModel(password=PASSWORD)) as emu:
        reused = PjlinkClient("127.0.0.1", emu.port, PASSWORD)
        fresh = PjlinkClient("127.0.0.1", emu.port, PASSWORD, idle_s=0.0)
        cases: dict[str, Callable[[], Awaitable[object]]] = {
            "roomctl PjlinkClient POWR ? (reused conn)": reused.power,
            "roomctl PjlinkClient POWR ? (conn per call)": fresh.power,
            "pypjlink2 get_power (conn per call)": lambda: asyncio.to_thread(
                pypjlink_power, emu.port
            ),
        }
        lat: dict[str, list[float]] = {name: [] for name in cases}
        total = dict.fromkeys(cases, 0.0)
        for _ in range(ROUNDS):
            for name, op in cases.items():
                total[name] += await timed(op, n // ROUNDS, lat[name])
        rates = [report(name, lat[name], total[name]) for name in cases]
        await reused.close()
        await fresh.close()
        print(f"reused connection vs pypjlink2: {rates[0] / rates[2]:.1f}x the rate")
        print(f"connection per call vs pypjlink2: {rates[1] / rates[2]:.1f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
