"""ULIDs: time-sortable ids for events and commands."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(ts: float | None = None) -> str:
    """A 26-character ULID for ``ts`` (seconds; now by default)."""
    ms = int((time.time() if ts is None else ts) * 1000)
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))
