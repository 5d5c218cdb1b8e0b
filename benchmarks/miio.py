"""miio figures: status round trips through python-miio directly and through our driver.

Run: ``.venv/bin/python -m benchmarks.miio``. Loopback only (the emulator on 127.0.0.50..51);
bounded to ``ROUNDS`` polls per case.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import warnings
from collections.abc import Callable

from roomctl.drivers.miio import create
from roomctl.emulators.miio import MiioEmulator, running

TOKEN = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8"
ROUNDS = 300
CASES = (
    ("plug", "127.0.0.50", "chuangmi.plug.v3"),
    ("airmonitor", "127.0.0.51", "cgllc.airmonitor.s1"),
)


def _report(label: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    rate = len(ms) / (sum(ms) / 1000)
    print(f"{label:38s} median {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms  {rate:7.0f}/s")


def _timed(fn: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def direct(kind: str, host: str, model: str) -> None:
    """python-miio's blocking status() against the emulator on its own thread."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import miio
    cls = miio.ChuangmiPlug if kind == "plug" else miio.AirQualityMonitor
    with running(kind, host, TOKEN, model=model):
        device = cls(host, TOKEN, model=model)
        device.status()  # handshake outside the measurement
        _report(f"python-miio {model} status()", _timed(device.status))


async def through_driver(kind: str, host: str, model: str) -> None:
    """Our driver's poll(): the executor hop and state mapping on top of python-miio."""
    emulator = MiioEmulator(kind, host, TOKEN, model=model)
    await emulator.start()
    driver = create({"type": "miio", "host": host, "token": TOKEN, "model": model})
    await driver.connect()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        await driver.poll()
        samples.append(time.perf_counter() - start)
    await driver.close()
    await emulator.stop()
    _report(f"MiioDriver.poll() {model}", samples)


def main() -> None:
    """Print the figures."""
    for case in CASES:
        direct(*case)
        asyncio.run(through_driver(*case))


if __name__ == "__main__":
    main()
