"""The ``[mdns]`` and ``[airplay]`` config sections (owned by discovery)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class MdnsConfig:
    """DNS-SD advertisement of the room on its network segment."""

    enabled: bool = True
    interfaces: tuple[str, ...] = ()  # empty: all LAN interfaces; the demo sets ("127.0.0.1",)
    hostname: str = ""  # e.g. "a101" -> a101.local; default from the room id

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        name = self.hostname.removesuffix(".").removesuffix(".local")
        if name and not re.match(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", name):
            return [("hostname", "use one DNS label: letters, digits and '-', e.g. a101")]
        return []


@dataclass(frozen=True)
class AirplayConfig:
    """Native mirroring from Apple devices through a supervised UxPlay."""

    enabled: bool = False
    binary: str = "uxplay"
    session_minutes: int = 45  # without a PIN-capable UxPlay: how long the teacher's switch lasts
    extra_args: tuple[str, ...] = ()  # e.g. ["-rpi"] on a Raspberry Pi, ["-vs", "0"] headless

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks."""
        if not 1 <= self.session_minutes <= 240:
            return [("session_minutes", "must be between 1 and 240")]
        return []
