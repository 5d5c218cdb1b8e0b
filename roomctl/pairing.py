"""Pairing: the rotating code and QR token that prove someone is in the room.

The 6-digit code is an HOTP value (RFC 4226, dynamic truncation) of the time window, keyed
by a key derived from the room secret and a rotation epoch. The QR carries a longer token
(128 bits of MAC plus the window number) so a photo of an old QR stops working. Rotating on
demand bumps the epoch, which invalidates every earlier code and token at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


def hotp(key: bytes, counter: int, digits: int = 6) -> str:
    """RFC 4226 HOTP with HMAC-SHA-1 and dynamic truncation."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def derive_key(secret: bytes, purpose: str, epoch: int) -> bytes:
    """A purpose-specific key, so the code key never doubles as the token or cookie key."""
    return hmac.new(secret, f"roomctl/{purpose}/{epoch}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Verdict(StrEnum):
    """Outcome of checking a code or token."""

    OK = "ok"
    STALE = "stale"  # it was valid once: the code has changed, scan or type again
    INVALID = "invalid"


@dataclass(frozen=True)
class PairingInfo:
    """What the display shows for the current window."""

    code: str
    token: str
    window: int
    seconds_left: float
    period_s: int


class Pairing:
    """Codes and tokens for a room; pure apart from the clock, which is injectable."""

    TOKEN_BYTES = 16  # 128 bits of MAC in the QR token

    def __init__(
        self,
        secret: bytes,
        *,
        period_s: int = 60,
        grace_windows: int = 1,
        digits: int = 6,
        epoch: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self.period_s = period_s
        self.grace_windows = grace_windows
        self.digits = digits
        self.clock = clock
        self.epoch = epoch
        self._rotated_at_window = -1

    def window(self, at: float | None = None) -> int:
        """The time window number at ``at`` (now by default)."""
        return int((self.clock() if at is None else at) // self.period_s)

    def code_for(self, window: int, epoch: int | None = None) -> str:
        """The typed code of ``window``."""
        key = derive_key(self._secret, "code", self.epoch if epoch is None else epoch)
        return hotp(key, window, self.digits)

    def token_for(self, window: int, epoch: int | None = None) -> str:
        """The QR token of ``window``: ``<window>.<mac>``."""
        key = derive_key(self._secret, "token", self.epoch if epoch is None else epoch)
        mac = hmac.new(key, str(window).encode(), hashlib.sha256).digest()[: self.TOKEN_BYTES]
        return f"{window}.{_b64(mac)}"

    def current(self) -> PairingInfo:
        """The code and token to show now."""
        now = self.clock()
        w = self.window(now)
        left = (w + 1) * self.period_s - now
        return PairingInfo(self.code_for(w), self.token_for(w), w, left, self.period_s)

    def rotate(self) -> None:
        """Invalidate every earlier code and token now (a new epoch, no grace)."""
        self.epoch += 1
        self._rotated_at_window = self.window()

    def _accepted_windows(self) -> list[int]:
        w = self.window()
        oldest = max(w - self.grace_windows, self._rotated_at_window)
        return list(range(w, oldest - 1, -1))

    def check_code(self, code: str) -> Verdict:
        """Typed codes: only the current window is a success; the previous one is stale.

        Accepting a single window keeps the guessing arithmetic at one valid code per try
        (see README, "Pairing security").
        """
        code = code.strip().replace(" ", "")
        if len(code) != self.digits or not code.isdigit():
            return Verdict.INVALID
        w = self.window()
        if hmac.compare_digest(code, self.code_for(w)):
            return Verdict.OK
        earlier = [(w - i, self.epoch) for i in (1, 2)] + [
            (w, self.epoch - 1),
            (w - 1, self.epoch - 1),
        ]
        if any(hmac.compare_digest(code, self.code_for(x, e)) for x, e in earlier if e >= 0):
            return Verdict.STALE
        return Verdict.INVALID

    def check_token(self, token: str) -> Verdict:
        """QR tokens: the current and the grace windows succeed; older ones are stale."""
        window_text, _, mac = token.partition(".")
        if not window_text.isdigit() or not mac or len(token) > 64:
            return Verdict.INVALID
        window = int(window_text)
        if hmac.compare_digest(token, self.token_for(window)):
            return Verdict.OK if window in self._accepted_windows() else Verdict.STALE
        if self.epoch > 0 and hmac.compare_digest(token, self.token_for(window, self.epoch - 1)):
            return Verdict.STALE
        return Verdict.INVALID


class RateLimiter:
    """Counts failures per key in a sliding time span; ``retry_after`` says when to come back."""

    def __init__(self, limit: int, span_s: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.span_s = span_s
        self.clock = clock
        self._hits: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        cutoff = self.clock() - self.span_s
        hits = [t for t in self._hits.get(key, []) if t > cutoff]
        if hits:
            self._hits[key] = hits
        else:
            self._hits.pop(key, None)
        return hits

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        hits = self._recent(key)
        if len(hits) < self.limit:
            return 0.0
        return max(0.0, hits[-self.limit] + self.span_s - self.clock())

    def hit(self, key: str) -> None:
        """Record one failure for ``key``."""
        self._recent(key)
        self._hits.setdefault(key, []).append(self.clock())
        if len(self._hits) > 10_000:  # bound memory under a flood of distinct keys
            self._hits.pop(next(iter(self._hits)))
