"""The shape of every long-lived part of the appliance, supervised by ``roomctl.app``."""

from __future__ import annotations

from typing import Protocol


class Service(Protocol):
    """Constructors do no I/O; ``start`` begins work, ``stop`` ends it and is idempotent."""

    async def start(self) -> None:
        """Start background work; return once the service is usable."""

    async def stop(self) -> None:
        """Stop background work and release resources."""
