"""The ``[mdns]`` and ``[airplay]`` config sections (owned by discovery)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MdnsConfig:
    """DNS-SD advertisement of the room on its network segment."""

    enabled: bool = True
    interfaces: tuple[str, ...] = ()  # empty: all LAN interfaces; the demo sets ("127.0.0.1",)
    hostname: str = ""  # e.g. "a101" -> a101.local; default from the room id


@dataclass(frozen=True)
class AirplayConfig:
    """Native mirroring from Apple devices through a supervised UxPlay."""

    enabled: bool = False
    binary: str = "uxplay"
    session_minutes: int = 45  # without a PIN-capable UxPlay: how long the teacher's switch lasts
    extra_args: tuple[str, ...] = ()
