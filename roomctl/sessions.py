"""Signed session cookies: self-contained, so a reload or a restart does not ask again.

The payload (session id, role, display name, expiry, generation) is HMAC-SHA256 signed with
a key derived from the room secret. Bumping the generation ends every session at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from roomctl.pairing import derive_key
from roomctl.roles import Role

COOKIE_NAME = "roomctl_session"


@dataclass(frozen=True)
class Session:
    """An authenticated visitor."""

    sid: str
    role: Role
    name: str
    exp: float
    gen: int
    iat: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_sid() -> str:
    """A random session id (128 bits)."""
    return secrets.token_urlsafe(16)


class SessionSigner:
    """Encodes and verifies session cookies."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = derive_key(secret, "session", 0)
        self.clock = clock
        self.generation = 0
        self.revoked: dict[str, float] = {}  # sid -> its expiry: logged out before it ran out

    def encode(self, session: Session) -> str:
        """The cookie value for ``session``."""
        payload = asdict(session)
        payload["role"] = str(session.role)
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        mac = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        return f"{body}.{mac}"

    def decode(self, value: str) -> Session | None:
        """The session in ``value``, or None when tampered with, expired or ended."""
        body, _, mac = value.partition(".")
        if not body or not mac or len(value) > 2048:
            return None
        expected = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            data = json.loads(_unb64(body))
            session = Session(
                sid=str(data["sid"]),
                role=Role(data["role"]),
                name=str(data["name"]),
                exp=float(data["exp"]),
                gen=int(data["gen"]),
                iat=float(data["iat"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if session.exp < self.clock() or session.gen != self.generation:
            return None
        if session.sid in self.revoked:
            return None
        return session

    def revoke(self, session: Session) -> None:
        """End one session now (logout), even if a copy of its cookie is still around."""
        now = self.clock()
        self.revoked = {sid: exp for sid, exp in self.revoked.items() if exp > now}
        self.revoked[session.sid] = session.exp
