"""Who is in the room: participants with their role and display name (never leaves the room)."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field, replace

from roomctl.roles import Role

MAX_NAME = 40


def clean_name(raw: str) -> str:
    """A display name without control characters, trimmed to ``MAX_NAME``."""
    text = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:MAX_NAME]


@dataclass(frozen=True)
class Participant:
    """One person in the room."""

    sid: str
    name: str
    role: Role
    joined_at: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.monotonic)


class Roster:
    """Participants keyed by session id, with the lesson's peak count."""

    def __init__(self) -> None:
        self._people: dict[str, Participant] = {}
        self.peak = 0

    def upsert(self, person: Participant) -> bool:
        """Add or refresh ``person``; True when they are new."""
        is_new = person.sid not in self._people
        self._people[person.sid] = person
        self.peak = max(self.peak, self.count())
        return is_new

    def get(self, sid: str) -> Participant | None:
        """The participant with session ``sid``."""
        return self._people.get(sid)

    def touch(self, sid: str) -> None:
        """Mark ``sid`` as seen now."""
        if sid in self._people:
            self._people[sid] = replace(self._people[sid], last_seen=time.monotonic())

    def set_role(self, sid: str, role: Role) -> None:
        """Change the role of ``sid``."""
        if sid in self._people:
            self._people[sid] = replace(self._people[sid], role=role)

    def remove(self, sid: str) -> Participant | None:
        """Remove ``sid``; returns who left."""
        return self._people.pop(sid, None)

    def expire(self, idle_s: float) -> list[Participant]:
        """Remove participants not seen for ``idle_s``; returns them."""
        cutoff = time.monotonic() - idle_s
        gone = [p for p in self._people.values() if p.last_seen < cutoff]
        for p in gone:
            del self._people[p.sid]
        return gone

    def clear(self) -> None:
        """Everyone leaves (end of lesson)."""
        self._people.clear()
        self.peak = 0

    def people(self) -> list[Participant]:
        """Everyone, in join order."""
        return sorted(self._people.values(), key=lambda p: p.joined_at)

    def count(self, role: Role | None = None) -> int:
        """How many (with ``role``)."""
        return sum(1 for p in self._people.values() if role is None or p.role == role)

    def has_presenter(self) -> bool:
        """Whether a teacher is in the room."""
        return any(p.role == Role.PRESENTER for p in self._people.values())
