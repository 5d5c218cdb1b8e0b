"""Where the shipped data lives: ``web/`` and ``firmware_profiles/``.

In a wheel they are the resource packages ``roomctl._web`` and ``roomctl._profiles``; in a
source checkout (editable install, tests) they are the top-level folders beside the package.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _locate(package: str, folder: str) -> Path:
    source = _SOURCE_ROOT / folder
    if (source / ".roomctl-data").exists():
        return source
    try:
        return Path(str(importlib.resources.files(package)))
    except ModuleNotFoundError:
        return source


@cache
def web_dir() -> Path:
    """The folder of pages and static assets."""
    return _locate("roomctl._web", "web")


@cache
def profiles_dir() -> Path:
    """The folder of shipped firmware profiles."""
    return _locate("roomctl._profiles", "firmware_profiles")
