"""JSON from outside (HTTP, WebSocket, MQTT), refused before parsing when nested too deeply.

``json.loads`` recurses once per level; thousands of brackets drive it to the interpreter's
recursion limit, where anything else that runs at that depth (a garbage-collector finaliser,
a warning) fails too. Our messages nest a few levels, so depth is checked first, at C speed:
keep only the brackets, then strip innermost pairs once per allowed level; a valid document
that nests no deeper than that is left with nothing. Brackets inside strings are ignored only
when that quick look fails (stripping strings costs more than parsing).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

MAX_DEPTH = 32
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_INNERMOST = re.compile(rb"\[\]|\{\}")  # one scan removes one level, even in "{[]}"


class TooDeep(ValueError):
    """Nested deeper than ``MAX_DEPTH`` arrays or objects, or brackets that do not pair."""


@functools.cache
def _run_of(openers: int) -> re.Pattern[bytes]:
    return re.compile(rb"[\[{]{%d}" % openers)


def _pairs_within(brackets: bytes, levels: int) -> bool:
    """Whether ``levels`` rounds of removing innermost ``[]`` and ``{}`` pairs empty the string.

    A run of more than ``levels`` openers settles it at once (the usual hostile input)."""
    too_many = _run_of(levels + 1)
    for _ in range(levels):
        if not brackets:
            return True
        if too_many.search(brackets):
            return False
        brackets = _INNERMOST.sub(b"", brackets)
    return not brackets


def depth(data: bytes) -> int:
    """How deep arrays and objects nest in ``data`` (brackets inside strings do not count)."""
    deepest = level = 0
    for char in _STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        level += 1 if char in b"[{" else -1
        deepest = max(deepest, level)
    return deepest


def loads(data: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, raising ``TooDeep`` (a ValueError) instead of recursing deeply."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") > max_depth:
        quick = raw.translate(None, _NOT_BRACKETS)
        if not _pairs_within(quick, max_depth):
            exact = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
            if not _pairs_within(exact, max_depth):
                raise TooDeep(f"nested deeper than {max_depth} levels")
    return json.loads(data)
