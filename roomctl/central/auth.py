"""Dashboard users: scrypt password hashes, roles and what each role may do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from roomctl.central.config import ROLES

# scrypt cost: n=2**14, r=8 is the interactive-login figure from the scrypt paper (~16 MiB).
N, R, P = 2**14, 8, 1
PERMISSIONS = {
    "view": "viewer",
    "ack": "caretaker",
    "command": "caretaker",
    "enrol": "admin",
    "cfg": "admin",
    "audit": "admin",
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str, *, n: int = N) -> str:
    """``scrypt$n$r$p$salt$hash`` for a password."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, dklen=32)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` may do ``permission`` (roles are ordered viewer < caretaker < admin)."""
    need = PERMISSIONS.get(permission, "admin")
    return role in ROLES and ROLES.index(role) >= ROLES.index(need)
