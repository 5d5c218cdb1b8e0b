"""HTML pages: templates from web/pages with message keys filled in the visitor's language.

Templates use ``{{t:key}}`` for a translated string, ``{{v:name}}`` for an escaped value and
``{{raw:name}}`` for trusted markup. No inline script: each page loads /static/js/<page>.js,
and the strings its script needs travel in a JSON data block.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from typing import Any

from aiohttp import web

from roomctl.http.auth import DISPLAY_COOKIE, display_key_ok
from roomctl.http.keys import CONFIG, ROLES, ROOM, SESSION
from roomctl.i18n import LANGUAGES, catalogue, pick_language, translate
from roomctl.pairing import Verdict
from roomctl.resources import web_dir
from roomctl.roles import IN_ROOM, Role

LANG_COOKIE = "roomctl_lang"
PLACEHOLDER = re.compile(r"\{\{(t|v|raw):([a-zA-Z0-9_.]+)\}\}")
# Extra modules a page loads when they exist (casting adds its parts here).
PAGE_MODULES = {
    "display": ("cast-display.js",),
    "room": ("cast-room.js",),
    "control": ("cast-control.js",),
}


@cache
def extra_scripts(page: str) -> str:
    """``<script type="module">`` tags of the page's optional modules that are shipped."""
    js = web_dir() / "static" / "js"
    return "".join(
        f'<script type="module" src="/static/js/{name}"></script>'
        for name in PAGE_MODULES.get(page, ())
        if (js / name).exists()
    )


@cache
def catalogue_json(lang: str) -> str:
    """The page's catalogue as JSON for its inline data block (same for every page load)."""
    return json.dumps(catalogue(lang), ensure_ascii=False).replace("</", "<\\/")


@cache
def template(name: str) -> str:
    """The raw text of web/pages/<name>.html."""
    return (web_dir() / "pages" / f"{name}.html").read_text(encoding="utf-8")


def fill(text: str, lang: str, values: dict[str, Any]) -> str:
    """Replace the placeholders of ``text``."""

    def one(match: re.Match[str]) -> str:
        kind, key = match.group(1), match.group(2)
        if kind == "t":
            return html.escape(translate(lang, key))
        value = values.get(key, "")
        return str(value) if kind == "raw" else html.escape(str(value))

    return PLACEHOLDER.sub(one, text)


def language_of(request: web.Request) -> str:
    """The visitor's language; the room display ignores its browser's (a kiosk's is en-US)."""
    default = request.app[CONFIG].room.language
    accept = "" if request.path == "/display" else request.headers.get("Accept-Language", "")
    return pick_language(
        request.query.get("lang"), request.cookies.get(LANG_COOKIE), default, accept
    )


def _lang_links(request: web.Request, lang: str) -> str:
    names = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
    items = []
    for code in LANGUAGES:
        current = ' aria-current="true"' if code == lang else ""
        items.append(
            # relative to this page: the path itself (``//host``, ``/\\host``) would link off-site
            f'<li><a href="?lang={code}" lang="{code}" '
            f'hreflang="{code}"{current}>{names[code]}</a></li>'
        )
    return "".join(items)


def render(request: web.Request, page: str, *, status: int = 200, **values: Any) -> web.Response:
    """Render ``page`` inside the layout, in the visitor's language."""
    lang = language_of(request)
    room = request.app[ROOM]
    base = {
        "lang": lang,
        "page": page,
        "room_name": room.config.room.name or room.config.room.id,
        "room_id": room.config.room.id,
        "lang_links": _lang_links(request, lang),
        "extra_scripts": extra_scripts(page),
        "i18n_json": catalogue_json(lang),
        **values,
    }
    base["title"] = translate(lang, f"{page}.title")
    body = fill(template(page), lang, base)
    text = fill(template("_layout"), lang, {**base, "body": body})
    resp = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    if "lang" in request.query and request.query["lang"] in LANGUAGES:
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Strict", path="/")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def render_error(request: web.Request, status: int, reason: str) -> web.Response:
    """A friendly error page; the message key is ``error.<reason>`` or ``error.<status>``."""
    lang = language_of(request)
    key = f"error.{reason}" if f"error.{reason}" in catalogue("en") else f"error.{status}"
    if key not in catalogue("en"):
        key = "error.generic"
    return render(request, "error", status=status, message=translate(lang, key), status_code=status)


def roles(request: web.Request) -> frozenset[Role]:
    """The caller's roles (set by the auth middleware)."""
    value: frozenset[Role] = request.get(ROLES, frozenset({Role.PUBLIC}))
    return value


async def handle_get_display(request: web.Request) -> web.Response:
    """The room display: code and QR only for the display itself."""
    key = request.query.get("display_key", "")
    key_ok = display_key_ok(request, key)
    is_display = key_ok or Role.DISPLAY in roles(request)
    resp = render(request, "display", is_display="1" if is_display else "0")
    if key_ok:  # a remote display presents its key once; the cookie carries it afterwards
        resp.set_cookie(
            DISPLAY_COOKIE, key, httponly=True, samesite="Strict", secure=request.secure, path="/"
        )
    return resp


async def handle_get_join(request: web.Request) -> web.StreamResponse:
    """The join page: type the code, or arrive from the QR with its token."""
    token = request.query.get("t", "")
    session = request.get(SESSION)
    if session is not None and session.role in IN_ROOM and not token:
        raise web.HTTPSeeOther("/room")
    if token:
        verdict = request.app[ROOM].pairing.check_token(token)
        if verdict is not Verdict.OK:
            stale = verdict is Verdict.STALE
            message = translate(
                language_of(request), "error.stale" if stale else "error.invalid_token"
            )
            status = 410 if stale else 403
            return render(request, "error", status=status, status_code=status, message=message)
    return render(request, "join", token=token, has_token="1" if token else "0")


async def handle_get_room(request: web.Request) -> web.StreamResponse:
    """The participant's page."""
    session = request.get(SESSION)
    if session is None or session.role not in IN_ROOM:
        raise web.HTTPSeeOther("/")
    request.app[ROOM].admit(session)
    links = "".join(
        f'<li><a href="{html.escape(link.url)}" rel="noopener" target="_blank">'
        f"{html.escape(link.title)}</a></li>"
        for link in request.app[CONFIG].links
    )
    return render(request, "room", name=session.name, role=str(session.role), links=links)


async def handle_get_control(request: web.Request) -> web.StreamResponse:
    """The teacher's page; a participant sees the PIN form."""
    session = request.get(SESSION)
    if session is None or session.role not in IN_ROOM:
        raise web.HTTPSeeOther("/")
    request.app[ROOM].admit(session)
    return render(request, "control", is_presenter="1" if session.role == Role.PRESENTER else "0")


async def handle_get_status(request: web.Request) -> web.StreamResponse:
    """The caretaker's page; others see the login form."""
    if Role.CARETAKER not in roles(request):
        return render(request, "login")
    return render(request, "status")


def add_pages(app: web.Application) -> None:
    """Register the pages and the static assets."""
    app.router.add_get("/", handle_get_join)
    app.router.add_get("/display", handle_get_display)
    app.router.add_get("/room", handle_get_room)
    app.router.add_get("/control", handle_get_control)
    app.router.add_get("/status", handle_get_status)
    app.router.add_static("/static", web_dir() / "static", append_version=False)
