"""The warnings registry: problems shown on the caretaker page instead of crashing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Warning_:
    """One warning: a stable key, a source (e.g. ``devices[1]``) and a readable message."""

    source: str
    key: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


class WarningsRegistry:
    """Warnings keyed by source; adding the same source again replaces the old one."""

    def __init__(self) -> None:
        self._items: dict[str, Warning_] = {}

    def add(self, source: str, key: str, message: str, **params: Any) -> None:
        """Record a warning and log it once."""
        if source not in self._items or self._items[source].message != message:
            logger.warning("%s: %s", source, message)
        self._items[source] = Warning_(source, key, message, dict(params))

    def clear(self, source: str) -> None:
        """Drop the warning of ``source`` if any."""
        self._items.pop(source, None)

    def all(self) -> list[Warning_]:
        """Every current warning, in insertion order."""
        return list(self._items.values())
