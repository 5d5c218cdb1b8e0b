"""Where the shipped data lives: ``web/`` and ``firmware_profiles/``.

In a wheel they are the resource packages ``roomctl._web`` and ``roomctl._profiles``; in a
source checkout (editable install, tests) they are the top-level folders beside the package.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _locate(package: str, folder: str) -> Path:
    source = _SOURCE_ROOT / folder
    if (source / ".roomctl-data").exists():
        return source
    # the data folders have no __init__.py: namespace packages, whose search path is the folder
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return source
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def web_dir() -> Path:
    """The folder of pages and static assets."""
    return _locate("roomctl._web", "web")


@cache
def profiles_dir() -> Path:
    """The folder of shipped firmware profiles."""
    return _locate("roomctl._profiles", "firmware_profiles")
