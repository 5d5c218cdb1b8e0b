"""Dashboard users: scrypt password hashes, roles and what each role may do."""

from __future__ import annotations

from roomctl.central.config import ROLES
from roomctl.passwords import hash_password, verify_password

__all__ = ["PERMISSIONS", "allowed", "hash_password", "verify_password"]
PERMISSIONS = {
    "view": "viewer",
    "ack": "caretaker",
    "command": "caretaker",
    "enrol": "admin",
    "cfg": "admin",
    "audit": "admin",
}


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` may do ``permission`` (roles are ordered viewer < caretaker < admin)."""
    need = PERMISSIONS.get(permission, "admin")
    return role in ROLES and ROLES.index(role) >= ROLES.index(need)
