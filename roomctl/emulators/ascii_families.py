"""Emulator families for the BenQ, Optoma and Casio ASCII protocols (from the manuals).

Like ``families``, this imports nothing from ``roomctl.profiles``.
"""

from __future__ import annotations

from collections.abc import Callable

from roomctl.emulators.families import Family, Projector

MAKERS: dict[str, Callable[[Projector], Family]] = {}
