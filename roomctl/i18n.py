"""Message catalogues (fi, sv, en): every UI string is a key with parameters."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

from roomctl.resources import web_dir

logger = logging.getLogger(__name__)
LANGUAGES = ("fi", "sv", "en")
FALLBACK = "en"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The catalogue of ``lang`` (English for an unknown language)."""
    if lang not in LANGUAGES:
        lang = FALLBACK
    path = web_dir() / "i18n" / f"{lang}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translate(lang: str, key: str, **params: Any) -> str:
    """The text of ``key`` in ``lang``, falling back to English, then to the key itself."""
    text = catalogue(lang).get(key) or catalogue(FALLBACK).get(key)
    if text is None:
        logger.debug("missing message key %s", key)
        return key
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def pick_language(requested: str | None, cookie: str | None, default: str) -> str:
    """The visitor's language: an explicit choice, then their cookie, then the room's."""
    for candidate in (requested, cookie, default):
        if candidate in LANGUAGES:
            return str(candidate)
    return FALLBACK
