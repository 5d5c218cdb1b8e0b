"""Password and PIN hashes for the config: scrypt, self-describing, constant-time checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# scrypt cost: about 30 ms and 16 MiB on a Pi 4; enough for PINs behind a rate limit.
N, R, P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None, n: int = N) -> str:
    """``scrypt$N$r$p$salt$hash`` for ``password`` (tests may lower the cost ``n``)."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, dklen=32)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded``; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        got = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def looks_like_hash(encoded: str) -> bool:
    """Whether ``encoded`` has the shape of a hash made by ``hash_password``."""
    parts = encoded.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(x.isdigit() for x in parts[1:4])
