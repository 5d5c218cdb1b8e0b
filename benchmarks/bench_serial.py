"""Serial command overhead over a pty: the profile driver against a raw pyserial round trip.

The family emulator runs in its own process (``serve()``), so the figures include a real
pty hop each way. Run: ``.venv/bin/python -m benchmarks.bench_serial [N]``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import replace

import serial

from roomctl.drivers.profile import ProfileDeviceConfig, ProfileDriver
from roomctl.profiles import codec, loader

CASES = (("epson/escvp21", b":"), ("nec/binary-serial", None), ("lg/ka-serial", b"x"))


def start_emulator(pid: str) -> tuple[subprocess.Popen[str], str]:
    """The emulator in a child process; returns it and the pty path it printed."""
    code = (
        "import sys, types; from roomctl.emulators.profile import serve;"
        f"sys.exit(serve(types.SimpleNamespace(profile={pid!r}, tcp=None, pty=True,"
        " password='', fault=None)))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().rsplit(" ", 1)[1].strip()


def raw_round_trips(path: str, request: bytes, size: int, end: bytes | None, n: int) -> list[float]:
    """Blocking pyserial: write, read the reply; the floor any driver sits on."""
    out = []
    with serial.serial_for_url(path, timeout=2) as port:
        for _ in range(n):
            t0 = time.perf_counter()
            port.write(request)
            reply = port.read_until(end) if end else port.read(size)
            out.append(time.perf_counter() - t0)
            assert reply, "no reply"
    return out


async def driver_round_trips(pid: str, path: str, n: int) -> list[float]:
    """The profile driver's ``request("power_query")``: encode, pace, write, split, decode."""
    profile = loader.get(pid)
    profile = replace(profile, timing=replace(profile.timing, gap_s=0.0))
    driver = ProfileDriver(ProfileDeviceConfig(type=pid, url=path), profile)
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            await driver.request("power_query")
            out.append(time.perf_counter() - t0)
    finally:
        await driver.close()
    return out


def summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    rate = len(ms) / (sum(ms) / 1000)
    return f"median {statistics.median(ms):6.3f} ms  p95 {p95:6.3f} ms  {rate:7.0f} ops/s"


def main() -> None:
    """Print one raw and one driver line per family."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print(f"power_query round trips over a pty, n={n}, Python {sys.version.split()[0]}")
    for pid, end in CASES:
        proc, path = start_emulator(pid)
        try:
            profile = loader.get(pid)
            request = codec.encode(profile, "power_query")
            size = 22 if pid.startswith("nec") else 0
            raw = raw_round_trips(path, request, size, end, n)
            drv = asyncio.run(driver_round_trips(pid, path, n))
        finally:
            proc.send_signal(2)
            proc.wait(10)
        overhead = (statistics.median(drv) - statistics.median(raw)) * 1000
        print(f"{pid:20} raw pyserial  {summary(raw)}")
        print(f"{pid:20} driver        {summary(drv)}  overhead {overhead:+.3f} ms")


if __name__ == "__main__":
    main()
