"""Roles: who may do what. Every API route declares the roles it accepts."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A caller's role. ``public`` means no session is needed."""

    PUBLIC = "public"
    PARTICIPANT = "participant"  # a student
    PRESENTER = "presenter"  # the teacher
    CARETAKER = "caretaker"
    DISPLAY = "display"  # the room display (kiosk on loopback or a configured display key)
    CENTRAL = "central"  # the central service, over MQTT only


# Roles that count as being in the room (joined through pairing).
IN_ROOM = frozenset({Role.PARTICIPANT, Role.PRESENTER})
STAFF = frozenset({Role.PRESENTER, Role.CARETAKER})
