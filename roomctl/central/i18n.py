"""The dashboard's message catalogues (web/central/i18n), same convention as the appliance."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from roomctl.i18n import pick_language
from roomctl.resources import web_dir

LANGUAGES = ("fi", "sv", "en")
FALLBACK = "en"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Keys → texts of one language."""
    path = web_dir() / "central" / "i18n" / f"{lang if lang in LANGUAGES else FALLBACK}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translate(lang: str, key: str, **params: Any) -> str:
    """The text of ``key`` with ``params``, falling back to English, then to the key."""
    text = catalogue(lang).get(key) or catalogue(FALLBACK).get(key) or key
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def pick(requested: str | None, cookie: str | None, accept: str) -> str:
    """The visitor's language: ?lang=, then the cookie, then Accept-Language, then English."""
    return pick_language(requested, cookie, FALLBACK, accept)
