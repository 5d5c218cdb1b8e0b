"""Pure DNS-SD record contents for a room: names, TXT fields and ports. No I/O, no zeroconf.

The TXT keys are a small public schema (``v``) read by ``roomctl discover``, the central
dashboard and IT tools; they carry counts and states, never participants' names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roomctl.config.model import Config

ROOM_TYPE = "_roomctl._tcp.local."
HTTPS_TYPE = "_https._tcp.local."
HTTP_TYPE = "_http._tcp.local."
TXT_SCHEMA = "1"
STATES = ("idle", "in_use", "casting")
DISPLAY_ROLES = frozenset({"main_display", "display"})
# RFC 6763 §4.1.1: an instance name is at most 63 bytes of UTF-8.
MAX_INSTANCE_BYTES = 63


@dataclass(frozen=True)
class Endpoint:
    """Where the web UI listens: scheme, port and the mDNS service type to advertise it as."""

    scheme: str
    port: int
    service_type: str


def _label(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")


def hostname(config: Config) -> str:
    """The mDNS host name with the ``.local.`` suffix, e.g. ``a101.local.``."""
    wanted = config.mdns.hostname.strip().removesuffix(".").removesuffix(".local")
    return f"{_label(wanted) or _label(config.room.id) or 'roomctl'}.local."


def instance_name(config: Config) -> str:
    """The service instance label: the room's name (or id), cut to 63 bytes."""
    raw = (config.room.name or config.room.id).replace(".", " ").strip() or "roomctl"
    return raw.encode()[:MAX_INSTANCE_BYTES].decode("utf-8", "ignore")


def endpoint(config: Config) -> Endpoint:
    """The web UI endpoint: HTTPS when a certificate is configured."""
    if config.web.tls_cert:
        return Endpoint("https", config.web.tls_port, HTTPS_TYPE)
    return Endpoint("http", config.web.port, HTTP_TYPE)


def device_id(config: Config, extra: Mapping[str, Any]) -> str:
    """The appliance's device id: the generated one, the configured one, else the room id."""
    return str(extra.get("device_id") or config.mqtt.device_id or config.room.id)


def display_count(devices: Mapping[str, Any], roles: Mapping[str, str]) -> int:
    """How many devices are displays, by the snapshot's ``role`` or the coordinator's."""
    count = 0
    for dev_id, snap in devices.items():
        role = snap.get("role") if isinstance(snap, Mapping) else None
        if (role or roles.get(dev_id, "")) in DISPLAY_ROLES:
            count += 1
    return count


def state_of(mode: str) -> str:
    """Map ``Room.mode()`` onto the advertised states (maintenance/error read as idle)."""
    return mode if mode in STATES else "idle"


def room_txt(config: Config, snapshot: Mapping[str, Any], roles: Mapping[str, str],
             dev_id: str) -> dict[str, str]:
    """The TXT record of ``_roomctl._tcp`` for the room's current snapshot."""
    return {
        "v": TXT_SCHEMA,
        "id": dev_id,
        "room": config.room.id,
        "name": config.room.name or config.room.id,
        "site": config.room.site,
        "path": "/",
        "tls": "1" if config.web.tls_cert else "0",
        "displays": str(display_count(snapshot.get("devices", {}), roles)),
        "state": state_of(str(snapshot.get("mode", "idle"))),
    }


def web_txt(config: Config) -> dict[str, str]:
    """The TXT record of the web UI service (``path`` as in RFC 6763 §7 conventions)."""
    return {"path": "/", "room": config.room.id}


def decode_txt(properties: Mapping[bytes, bytes | None]) -> dict[str, str]:
    """TXT bytes from the wire as text; undecodable bytes are replaced, never raised."""
    return {
        k.decode("utf-8", "replace"): (v or b"").decode("utf-8", "replace")
        for k, v in properties.items()
    }


def parse_txt_wire(data: bytes) -> dict[str, str]:
    """A TXT record's RDATA (length-prefixed strings, RFC 6763 §6) as a dict; lenient."""
    out: dict[str, str] = {}
    i = 0
    while i < len(data):
        length = data[i]
        item = data[i + 1 : i + 1 + length]
        i += 1 + length
        key, _, value = item.partition(b"=")
        text_key = key.decode("utf-8", "replace").lower()
        if text_key and text_key not in out:  # §6.4: only the first of a repeated key counts
            out[text_key] = value.decode("utf-8", "replace")
    return out
