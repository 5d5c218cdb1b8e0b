"""A typed in-process event bus: the room core publishes, adapters subscribe.

Publishing never blocks and never awaits: each subscriber has its own bounded queue, and a
subscriber that falls behind loses its oldest events (counted in ``dropped``) rather than
slowing the room down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import ClassVar

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base class of bus events. ``name`` is the stable dotted name used by telemetry."""

    name: ClassVar[str] = "event"


class Subscription:
    """A subscriber's queue of events, iterable with ``async for``."""

    def __init__(self, bus: EventBus, types: tuple[type[Event], ...], maxsize: int) -> None:
        self._bus = bus
        self._types = types
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def wants(self, event: Event) -> bool:
        """Whether this subscription listens to ``event``'s type."""
        return not self._types or isinstance(event, self._types)

    def offer(self, event: Event) -> None:
        """Queue ``event``; drop the oldest one when full."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        """Wait for the next event."""
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        """The next event if one is queued, else None."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        """Stop receiving events."""
        self._bus.unsubscribe(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class EventBus:
    """Fan-out of events to subscriptions and synchronous listeners."""

    _subs: list[Subscription] = field(default_factory=list)
    _listeners: list[tuple[tuple[type[Event], ...], Callable[[Event], None]]] = field(
        default_factory=list
    )

    def subscribe(self, *types: type[Event], maxsize: int = 1000) -> Subscription:
        """A queue receiving every later event of ``types`` (all events when none given)."""
        sub = Subscription(self, types, maxsize)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscription; a no-op when already removed."""
        if sub in self._subs:
            self._subs.remove(sub)

    def listen(self, callback: Callable[[Event], None], *types: type[Event]) -> Callable[[], None]:
        """Call ``callback`` synchronously for each event; returns a function that stops it."""
        entry = (types, callback)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every interested subscriber without blocking."""
        for sub in list(self._subs):
            if sub.wants(event):
                sub.offer(event)
        for types, callback in list(self._listeners):
            if not types or isinstance(event, types):
                try:
                    callback(event)
                except Exception:
                    logger.exception("event listener failed on %s", event.name)
