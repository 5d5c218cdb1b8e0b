"""Emulator families for ViewSonic binary, Sony binary serial and Hitachi TCP 9715 (manuals).

Like ``families``, this imports nothing from ``roomctl.profiles``.
"""

from __future__ import annotations

from collections.abc import Callable

from roomctl.emulators.families import Family, Projector

MAKERS: dict[str, Callable[[Projector], Family]] = {}
