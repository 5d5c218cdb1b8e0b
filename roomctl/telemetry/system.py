"""Health figures of the appliance itself: CPU temperature, load, memory, disk, clock sync.

Reads /proc and /sys; called on the telemetry I/O thread. Missing sources give None.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from pathlib import Path
from typing import Any

THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")
MEMINFO = Path("/proc/meminfo")
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
_TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised


def cpu_temp_c(path: Path = THERMAL) -> float | None:
    """The SoC temperature in °C, or None where there is no thermal zone."""
    try:
        return round(int(path.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


def memory(path: Path = MEMINFO) -> dict[str, Any]:
    """Total and available memory in MB."""
    values: dict[str, int] = {}
    try:
        for line in path.read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                values[key] = int(rest.split()[0]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    total, avail = values.get("MemTotal"), values.get("MemAvailable")
    used = round(100.0 * (total - avail) / total, 1) if total and avail is not None else None
    return {"mem_total_mb": total, "mem_avail_mb": avail, "mem_used_pct": used}


def disk(path: Path) -> dict[str, Any]:
    """Free space and use of the file system holding ``path``."""
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return {"disk_free_mb": None, "disk_used_pct": None}
    used = round(100.0 * usage.used / usage.total, 1) if usage.total else None
    return {"disk_free_mb": usage.free // (1024 * 1024), "disk_used_pct": used}


def load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def kernel_clock_synced() -> bool | None:
    """What adjtimex(2) says about clock sync; None when the kernel cannot be asked."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex; modes=0 only reads
        return int(libc.adjtimex(buf)) not in (-1, _TIME_ERROR)
    except (OSError, AttributeError):
        return None


def clock_synced() -> bool:
    """Whether the wall clock is NTP-synchronised (a Pi has no RTC; before sync ts is a guess)."""
    return TIMESYNC_FLAG.exists() or bool(kernel_clock_synced())


def sample(state_dir: Path) -> dict[str, Any]:
    """One metrics sample (without the outbox depth, which the caller adds)."""
    return {
        "cpu_temp_c": cpu_temp_c(),
        "load": load(),
        **memory(),
        **disk(state_dir),
    }
