"""JSON Schemas (draft 2020-12) of every v1 message; ``defs.json`` holds shared definitions."""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from typing import Any

NAMES = ("status", "meta", "state", "event", "metrics", "cmd", "cmd_result", "cfg", "defs")
BASE_URI = "https://roomctl.invalid/schemas/v1/"


@cache
def load(name: str) -> dict[str, Any]:
    """The schema ``name`` (one of ``NAMES``) as a dict."""
    if name not in NAMES:
        raise KeyError(name)
    text = importlib.resources.files(__name__).joinpath(f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
