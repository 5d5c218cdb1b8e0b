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


def pick_language(requested: str | None, cookie: str | None, default: str, accept: str = "") -> str:
    """The visitor's language: an explicit choice, their cookie, their browser's, the room's."""
    for candidate in (requested, cookie, *browser_languages(accept), default):
        if candidate in LANGUAGES:
            return str(candidate)
    return FALLBACK


def browser_languages(accept: str) -> list[str]:
    """Language codes of an Accept-Language header, most wanted first (q=0 means "not")."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if q > 0 and tag:
            ranked.append((-q, i, tag.split("-")[0].lower()))
    return [code for _q, _i, code in sorted(ranked)]
