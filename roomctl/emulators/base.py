"""What every family emulator shares: the projector state machine, the session, the family.

Like the families, this imports nothing from ``roomctl.profiles``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Projector:
    """A projector's state: power with warm-up/cool-down, input, picture, lamp and errors."""

    warmup_s: float = 3.0
    cooldown_s: float = 3.0
    clock: Callable[[], float] = time.monotonic
    lamp_hours: int = 1234
    filter_hours: int = 321
    input: str = "hdmi1"
    blank: bool = False
    freeze: bool = False
    volume: int = 10
    mute: bool = False
    error: str = ""  # "" = none; a family-neutral name ("lamp", "fan", "temperature")
    model: str = "EMU-1000"
    _power: str = "off"
    _since: float = field(default=0.0)

    def power(self) -> str:
        """off, warming, on or cooling, advancing timed transitions."""
        elapsed = self.clock() - self._since
        if self._power == "warming" and elapsed >= self.warmup_s:
            self._power = "on"
        elif self._power == "cooling" and elapsed >= self.cooldown_s:
            self._power = "off"
        return self._power

    def set_power(self, on: bool) -> bool:
        """Start warming or cooling; False when the request is not allowed now."""
        state = self.power()
        if state in ("warming", "cooling"):
            return (state == "warming") == on  # repeating the same request is fine
        if on and state == "off":
            self._power, self._since = "warming", self.clock()
        elif not on and state == "on":
            self._power, self._since = "cooling", self.clock()
        return True


@dataclass
class Session:
    """Per-connection state: handshake progress and the password check."""

    password: str = ""
    greeted: bool = False
    authenticated: bool = False
    random: str = "23181e1e"
    close_after_reply: bool = False


class Family(ABC):
    """One protocol family's request splitting and answering."""

    binary = False

    def __init__(self, projector: Projector) -> None:
        self.p = projector

    def greeting(self, session: Session) -> bytes:
        """Bytes sent when a client connects."""
        return b""

    @abstractmethod
    def split(self, buf: bytes) -> tuple[bytes | None, bytes]:
        """One complete request off the front of ``buf``."""

    def is_handshake(self, request: bytes, session: Session) -> bool:
        """Whether ``request`` belongs to the session set-up (faults leave it alone)."""
        return False

    @abstractmethod
    def answer(self, request: bytes, session: Session) -> bytes | None:
        """The reply to one request (None: say nothing)."""

    @abstractmethod
    def busy(self, request: bytes) -> bytes:
        """The family's "not now" reply."""

    def corrupt(self, reply: bytes) -> bytes:
        """``reply`` with a wrong checksum (text families: a damaged line)."""
        return reply[:-1] + bytes([reply[-1] ^ 0x5A]) if reply else reply


def split_at(buf: bytes, end: bytes) -> tuple[bytes | None, bytes]:
    i = buf.find(end)
    return (None, buf) if i < 0 else (buf[: i + len(end)], buf[i + len(end) :])


def sum8(data: bytes) -> int:
    return sum(data) & 0xFF
