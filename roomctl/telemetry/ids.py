"""Identifiers: time-sortable event ids (ULID), boot ids, the device id and the connect counter.

Everything here that touches the disk is called from the telemetry I/O thread, never the loop.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from pathlib import Path

from roomctl.core.errors import ConfigError, ConfigIssue
from roomctl.statedir import atomic_write
from roomctl.telemetry.config import DEVICE_ID

logger = logging.getLogger(__name__)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def ulid_ms(value: str) -> int:
    """The millisecond timestamp inside a ULID."""
    number = 0
    for char in value:
        number = number * 32 + _CROCKFORD.index(char)
    return number >> 80


def new_boot_id() -> str:
    """A random id for this process lifetime."""
    return uuid.uuid4().hex


def new_device_id() -> str:
    """A fresh ``rc-<12 hex>`` device id (the same shape ``roomctl firstboot`` writes)."""
    return f"rc-{secrets.token_hex(6)}"


def load_or_create_device_id(folder: Path, configured: str = "") -> str:
    """The configured device id, else the appliance's ``<state>/device_id`` (written by
    ``roomctl firstboot``), else an older ``identity.json`` in ``folder``, else a new one
    stored in ``<state>/device_id`` so every part of the appliance uses the same id."""
    if configured:
        return configured
    shared = folder.parent / "device_id"
    for path, read in ((shared, _read_plain), (folder / "identity.json", _read_json)):
        if path.exists():
            try:
                stored = read(path)
            except (ValueError, KeyError, TypeError, OSError) as err:
                issue = ConfigIssue("mqtt.device_id", f"unreadable: {err}", str(path))
                raise ConfigError([issue]) from None
            if DEVICE_ID.match(stored):
                return stored
            raise ConfigError([ConfigIssue("mqtt.device_id", "stored id is malformed", str(path))])
    shared.parent.mkdir(parents=True, exist_ok=True)
    device_id = new_device_id()
    atomic_write(shared, f"{device_id}\n".encode(), 0o644)
    logger.info("generated device id %s", device_id)
    return device_id


def _read_plain(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def _read_json(path: Path) -> str:
    value = json.loads(path.read_text(encoding="utf-8"))["device_id"]
    if not isinstance(value, str):
        raise TypeError("device_id is not a string")
    return value


class ConnectCounter:
    """``conn_seq``: increments on every CONNECT and survives restarts (like Sparkplug bdSeq)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.value = 0

    def load(self) -> int:
        """Read the stored value (0 when absent or unreadable)."""
        try:
            self.value = int(self.path.read_text(encoding="utf-8").strip() or 0)
        except (OSError, ValueError):
            self.value = 0
        return self.value

    def next(self) -> int:
        """Increment, persist and return the new value."""
        self.value += 1
        try:
            atomic_write(self.path, f"{self.value}\n".encode(), 0o644)
        except OSError as err:
            logger.warning("cannot persist conn_seq: %s", err)
        return self.value
